"""Index dates, study windows, diary compliance and the participant flow.

Day convention
--------------
The index date of a client is their first *attended* therapy session (a session with
``is_therapy & attended``; cancelled, no-show or rescheduled bookings never count). Every
date is turned into an integer day offset ``day = date - index_date`` in calendar days:
day 0 is the index date, day -1 the day before it. Windows are inclusive ``[first, last]``
day ranges from ``StudyConfig.windows`` (baseline first, then the follow-up windows by
first day). Clients who never attended a therapy session have no index date, so no days,
no windows and no outcomes; the participant flow says why they were left out.

Everything here is vectorised: client ids are coded once and only the distinct ids are
looked up (a categorical ``patient_id``, as the outcomes stage reads the diary, costs no
hashing at all), days are integer arrays, and per client x window tallies are
``np.bincount`` over a flat cell number ``client_position * n_windows + window_position``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import StudyConfig, WindowsSection

GRID_COLUMNS = (
    "patient_id",
    "window",
    "window_start",
    "window_end",
    "index_date",
    "days_in_window",
)

FLOW_STEPS = (
    "seen",
    "linked",
    "treated",
    "baseline_evaluable",
    "primary_evaluable",
    "analysed",
)

SESSIONS_ONLY = "sessions only: no diary"
DIARY_ONLY = "diary only: no sessions"
NO_ATTENDED_THERAPY = "no attended therapy session (only cancelled / no-show)"
ONLY_OTHER_SERVICES = "only other services"
ATTACKS_WITHOUT_COVERAGE = "attack log without diary coverage"
NO_BASELINE_DAYS = "no diary days in baseline"
NO_PRIMARY_DAYS = "no diary days in primary window (dropped out)"


def window_table(windows: WindowsSection) -> pd.DataFrame:
    """The study windows as a table, in analysis order.

    Parameters
    ----------
    windows : WindowsSection
        ``StudyConfig.windows``.

    Returns
    -------
    DataFrame
        One row per window, baseline first, then follow-up windows by first day:
        ``window`` (name), ``first_day``, ``last_day`` (inclusive day offsets from the
        index date, int64), ``days_in_window`` (``last_day - first_day + 1``).
    """
    names = list(windows.all)
    first = np.array([windows.all[name][0] for name in names], dtype=np.int64)
    last = np.array([windows.all[name][1] for name in names], dtype=np.int64)
    return pd.DataFrame(
        {
            "window": pd.Series(names, dtype="str"),
            "first_day": first,
            "last_day": last,
            "days_in_window": last - first + 1,
        }
    )


def index_dates(sessions: pd.DataFrame) -> pd.DataFrame:
    """Index date of each client: the date of their first attended therapy session.

    A client whose first booked therapy session was cancelled (or a no-show) gets the
    next attended one. Clients with no attended therapy session have no index date and
    no row.

    Parameters
    ----------
    sessions : DataFrame
        Canonical ``sessions`` table (``schema.Sessions``).

    Returns
    -------
    DataFrame
        ``patient_id``, ``index_date`` (calendar date), one row per client, sorted by
        ``patient_id``.
    """
    attended = sessions.loc[sessions["is_therapy"] & sessions["attended"], ["patient_id", "date"]]
    first = attended.groupby("patient_id", sort=True)["date"].min()
    return pd.DataFrame(
        {"patient_id": first.index.astype("str"), "index_date": first.to_numpy()},
    ).reset_index(drop=True)


_TICKS = ("D", "h", "m", "s", "ms", "us", "ns")


def _epoch_days(dates: pd.Series) -> np.ndarray:
    """Calendar day number (days since 1970-01-01, int64) of each date.

    The same numbers as ``astype("datetime64[D]")`` (floor to the day; NaT keeps its
    integer), by integer division of the clock ticks, which is several times faster.
    """
    values = dates.to_numpy()
    unit, count = np.datetime_data(values.dtype) if values.dtype.kind == "M" else ("", 0)
    if unit not in _TICKS:
        return values.astype("datetime64[D]").astype(np.int64)
    ticks = values.view(np.int64)
    days = ticks // (np.timedelta64(1, "D") // np.timedelta64(count, unit))
    missing = np.isnat(values)
    if missing.any():
        days[missing] = ticks[missing]
    return days


def _client_positions(ids: pd.Series, clients: pd.Series | pd.Index) -> np.ndarray:
    """Position of each id in ``clients`` (-1 when absent or missing), as int64.

    The ids are coded first (a categorical column's own codes, else ``pd.factorize``: one
    hash pass), so only the distinct ids are looked up in ``clients``: a diary of
    millions of rows costs one lookup per client, not per row.

    Parameters
    ----------
    ids : Series
        Client ids, one per row (text or categorical).
    clients : Series or Index
        Unique client ids.

    Returns
    -------
    ndarray of int64
        Aligned with ``ids``.
    """
    if isinstance(ids.dtype, pd.CategoricalDtype):
        codes, distinct = ids.cat.codes.to_numpy(), ids.cat.categories
    else:
        codes, distinct = pd.factorize(ids)
    found = np.append(pd.Index(clients).get_indexer(distinct).astype(np.int64), -1)
    return found[codes]  # code -1 (missing id) picks the trailing -1


def _client_ids(frame: pd.DataFrame | None) -> pd.Index:
    """Distinct ``patient_id`` values of a table (text), in order of first appearance."""
    if frame is None or not len(frame):
        return pd.Index([], dtype="str", name="patient_id")
    distinct = pd.Index(frame["patient_id"].unique()).dropna().astype("str")
    return distinct.rename("patient_id")


def locate(
    frame: pd.DataFrame, index: pd.DataFrame, date_column: str = "date"
) -> tuple[np.ndarray, np.ndarray]:
    """Position of each row's client in ``index`` and the row's day offset.

    Parameters
    ----------
    frame : DataFrame
        Any table with ``patient_id`` and a date column.
    index : DataFrame
        Output of :func:`index_dates` (unique ``patient_id``).
    date_column : str
        The date to convert.

    Returns
    -------
    position : ndarray of int64
        Row number of the client in ``index``; -1 when the client has no index date.
    day : ndarray of int64
        ``date - index_date`` in days (0 on the index date, negative before); 0 where
        ``position`` is -1 (meaningless there).
    """
    position = _client_positions(frame["patient_id"], index["patient_id"])
    found = position >= 0
    index_day = _epoch_days(index["index_date"])
    day = np.zeros(len(frame), dtype=np.int64)
    if len(index):
        day = np.where(found, _epoch_days(frame[date_column]) - index_day[position], 0)
    return position, day


def add_day_offsets(
    frame: pd.DataFrame, index: pd.DataFrame, date_column: str = "date"
) -> pd.DataFrame:
    """Add ``index_date`` and the day offset ``day`` to each row of a client table.

    Parameters
    ----------
    frame : DataFrame
        Any table with ``patient_id`` and a date column (diary days, sessions,
        questionnaires).
    index : DataFrame
        Output of :func:`index_dates`.
    date_column : str
        The date to convert.

    Returns
    -------
    DataFrame
        The rows of clients that have an index date (others are dropped), in their
        original order, with ``index_date`` and ``day`` (int64, ``date - index_date`` in
        days; day 0 = index date, day -1 = the day before) appended.
    """
    position, day = locate(frame, index, date_column)
    keep = position >= 0
    return frame.loc[keep].assign(
        index_date=index["index_date"].to_numpy()[position[keep]],
        day=day[keep],
    )


@dataclass(frozen=True)
class WindowAssignment:
    """Rows of a client table placed into the cells of a client x period grid.

    Built by :func:`assign_windows` (periods = study windows); ``pipeline.outcomes`` also
    builds one for weekly trajectories (periods = weeks).

    Attributes
    ----------
    grid : DataFrame
        One row per cell. From :func:`assign_windows`: one row per client with an index
        date x window, clients in ``index`` order and windows in :func:`window_table`
        order, with the columns ``GRID_COLUMNS``: ``window_start`` / ``window_end`` are
        calendar dates (inclusive), ``days_in_window`` the window length in days.
    rows : ndarray of int64
        Positions (0-based, in the assigned frame) of rows that fall inside a window. A
        row inside two overlapping windows appears twice.
    cells : ndarray of int64
        For each entry of ``rows``, the row number in ``grid`` it belongs to.
    """

    grid: pd.DataFrame
    rows: np.ndarray
    cells: np.ndarray

    def count(self, flags: np.ndarray | None = None) -> np.ndarray:
        """Per grid row: number of assigned rows (where ``flags`` is True, if given).

        ``flags`` is a boolean array aligned with the assigned frame. Returns int64.
        """
        cells = self.cells
        if flags is not None:
            cells = cells[np.asarray(flags, dtype=bool)[self.rows]]
        return np.bincount(cells, minlength=len(self.grid)).astype(np.int64)

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Per grid row: mean of the non-NaN ``values`` of its rows (NaN when none).

        ``values`` is a float array aligned with the assigned frame.
        """
        picked = np.asarray(values, dtype=np.float64)[self.rows]
        valid = ~np.isnan(picked)
        total = np.bincount(self.cells[valid], weights=picked[valid], minlength=len(self.grid))
        n = np.bincount(self.cells[valid], minlength=len(self.grid))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / n, np.nan)


def _grid(index: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    n_windows = len(windows)
    n_clients = len(index)
    first = np.tile(windows["first_day"].to_numpy(), n_clients)
    last = np.tile(windows["last_day"].to_numpy(), n_clients)
    index_date = index["index_date"].repeat(n_windows).reset_index(drop=True)
    return pd.DataFrame(
        {
            "patient_id": index["patient_id"].repeat(n_windows).reset_index(drop=True),
            "window": pd.Series(np.tile(windows["window"].to_numpy(), n_clients), dtype="str"),
            "window_start": index_date + pd.to_timedelta(first, unit="D"),
            "window_end": index_date + pd.to_timedelta(last, unit="D"),
            "index_date": index_date,
            "days_in_window": np.tile(windows["days_in_window"].to_numpy(), n_clients),
        }
    )


def assign_windows(
    frame: pd.DataFrame,
    index: pd.DataFrame,
    windows: WindowsSection,
    date_column: str = "date",
) -> WindowAssignment:
    """Place the rows of a client table into the study windows.

    Parameters
    ----------
    frame : DataFrame
        A table with ``patient_id`` and a date column (e.g. canonical ``diary_days``,
        or attended therapy sessions).
    index : DataFrame
        Output of :func:`index_dates`; clients missing from it are ignored.
    windows : WindowsSection
        ``StudyConfig.windows``; bounds are inclusive day offsets.
    date_column : str
        The date that decides the window.

    Returns
    -------
    WindowAssignment
        The client x window grid (every client with an index date gets every window,
        even an empty one) and the rows of ``frame`` in each cell.
    """
    table = window_table(windows)
    position, day = locate(frame, index, date_column)
    found = position >= 0
    n_windows = len(table)
    rows, cells = [], []
    for w, (first, last) in enumerate(zip(table["first_day"], table["last_day"], strict=True)):
        hit = np.flatnonzero(found & (day >= first) & (day <= last))
        rows.append(hit)
        cells.append(position[hit] * n_windows + w)
    return WindowAssignment(
        grid=_grid(index, table),
        rows=np.concatenate(rows).astype(np.int64),
        cells=np.concatenate(cells).astype(np.int64),
    )


def diary_compliance(diary: WindowAssignment, min_recorded_days: int) -> pd.DataFrame:
    """Recorded diary days per client x window and whether the window is evaluable.

    Parameters
    ----------
    diary : WindowAssignment
        ``assign_windows(diary_days, index, config.windows)``; canonical ``diary_days``
        holds one row per client per recorded day, so rows = recorded days.
    min_recorded_days : int
        ``config.windows.min_recorded_days``.

    Returns
    -------
    DataFrame
        ``GRID_COLUMNS`` + ``days_recorded`` (int64, recorded days inside the window) and
        ``evaluable`` (bool, ``days_recorded >= min_recorded_days``).
    """
    days_recorded = diary.count()
    return diary.grid.assign(
        days_recorded=days_recorded, evaluable=days_recorded >= min_recorded_days
    )


def _code_ids(*groups: pd.Index | pd.Series) -> tuple[pd.Index, list[np.ndarray]]:
    """Code the client ids of several groups in one hash pass.

    Returns the distinct ids (sorted) and, per group, the code (position in them) of each
    of its ids.
    """
    values = pd.concat([pd.Series(g, dtype="str") for g in groups], ignore_index=True)
    codes, ids = pd.factorize(values, sort=True)
    return pd.Index(ids, dtype="str", name="patient_id"), np.split(
        codes, np.cumsum([len(g) for g in groups])[:-1]
    )


def _exclusion_rules(min_recorded_days: int) -> tuple[tuple[str, str], ...]:
    """(step, reason) pairs in priority order: a client gets the first that applies."""
    n = min_recorded_days
    return (
        ("linked", SESSIONS_ONLY),
        ("linked", DIARY_ONLY),
        ("treated", ONLY_OTHER_SERVICES),
        ("treated", NO_ATTENDED_THERAPY),
        ("baseline_evaluable", ATTACKS_WITHOUT_COVERAGE),
        ("baseline_evaluable", NO_BASELINE_DAYS),
        ("baseline_evaluable", f"fewer than {n} baseline days recorded"),
        ("primary_evaluable", NO_PRIMARY_DAYS),
        ("primary_evaluable", f"fewer than {n} days recorded in primary window"),
    )


def flow_status(
    sessions: pd.DataFrame,
    diary_days: pd.DataFrame,
    config: StudyConfig,
    attacks: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    compliance: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Where each client leaves the participant flow, and why (at most one reason).

    Rules, checked in this order (the first that applies is the client's reason):

    1. ``linked``: in the session exports but in no diary (``diary_days``, ``attacks``
       or ``coverage``): "sessions only: no diary"; in a diary but in no session
       export: "diary only: no sessions".
    2. ``treated``: no therapy booking at all: "only other services"; therapy booked but
       never attended: "no attended therapy session (only cancelled / no-show)".
    3. ``baseline_evaluable`` (fewer than ``min_recorded_days`` recorded baseline days):
       the client kept an attack log but has no coverage rows, so the log yields no
       recorded days: "attack log without diary coverage"; else no baseline day recorded:
       "no diary days in baseline"; else "fewer than N baseline days recorded".
    4. ``primary_evaluable`` (same rule in ``windows.primary``): "no diary days in primary
       window (dropped out)", else "fewer than N days recorded in primary window".

    Clients left are ``analysed``: evaluable in baseline and the primary window.
    Questionnaire-only clients are not counted as seen.

    Parameters
    ----------
    sessions, diary_days : DataFrame
        Canonical ``sessions`` and ``diary_days`` tables.
    config : StudyConfig
        Windows, primary window and ``min_recorded_days``.
    attacks, coverage : DataFrame, optional
        Canonical ``attacks`` and ``coverage`` tables (None = none kept).
    compliance : DataFrame, optional
        :func:`diary_compliance` of ``diary_days`` when the caller has it already (the
        output of :func:`pipeline.outcomes.patient_outcomes` holds its ``patient_id``,
        ``window`` and ``days_recorded``); computed from ``diary_days`` when None.

    Returns
    -------
    DataFrame
        One row per client seen, sorted by ``patient_id``: ``patient_id``,
        ``in_sessions``, ``in_diaries`` (bool), ``baseline_days``, ``primary_days``
        (recorded days, int64; 0 without index date), ``excluded_at`` (step name from
        ``FLOW_STEPS``, NaN when analysed) and ``reason`` (NaN when analysed).
    """
    if compliance is None:
        compliance = diary_compliance(
            assign_windows(diary_days, index_dates(sessions), config.windows),
            config.windows.min_recorded_days,
        )
    grid = compliance.loc[compliance["window"] == "baseline"]  # one row per treated client
    primary_rows = compliance.loc[compliance["window"] == config.windows.primary]
    ids, (sess, diary, attack, cover, booked, base, prim) = _code_ids(
        _client_ids(sessions),
        _client_ids(diary_days),
        _client_ids(attacks),
        _client_ids(coverage),
        _client_ids(sessions.loc[sessions["is_therapy"]]),
        grid["patient_id"],
        primary_rows["patient_id"],
    )

    def member(codes: np.ndarray) -> np.ndarray:
        found = np.zeros(len(ids), dtype=bool)
        found[codes] = True
        return found

    def recorded(codes: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
        days = np.zeros(len(ids), dtype=np.int64)
        days[codes] = rows["days_recorded"].to_numpy(dtype=np.int64)
        return days

    seen = np.flatnonzero(member(sess) | member(diary) | member(attack) | member(cover))
    clients = ids[seen]
    s = member(sess)[seen]
    d = (member(diary) | member(attack) | member(cover))[seen]
    therapy_booked = member(booked)[seen]
    treated = member(base)[seen]
    attack_log = member(attack)[seen]
    covered = member(cover)[seen]
    baseline = recorded(base, grid)[seen]
    primary = recorded(prim, primary_rows)[seen]
    n = config.windows.min_recorded_days

    rules = _exclusion_rules(n)
    conditions = [  # one per rule, in the order of _exclusion_rules
        np.asarray(condition)
        for condition in (
            s & ~d,
            d & ~s,
            ~therapy_booked,
            ~treated,
            (baseline < n) & attack_log & ~covered,
            baseline == 0,
            baseline < n,
            primary == 0,
            primary < n,
        )
    ]
    return pd.DataFrame(
        {
            "patient_id": pd.Series(clients.to_numpy(), dtype="str"),
            "in_sessions": s,
            "in_diaries": d,
            "baseline_days": baseline.astype(np.int64),
            "primary_days": primary.astype(np.int64),
            "excluded_at": pd.Series(
                np.select(conditions, [step for step, _ in rules], default=None), dtype="str"
            ),
            "reason": pd.Series(
                np.select(conditions, [reason for _, reason in rules], default=None), dtype="str"
            ),
        }
    )


def participant_flow(
    sessions: pd.DataFrame,
    diary_days: pd.DataFrame,
    config: StudyConfig,
    attacks: pd.DataFrame | None = None,
    coverage: pd.DataFrame | None = None,
    compliance: pd.DataFrame | None = None,
) -> dict:
    """CONSORT-style participant flow for ``results.json`` (``participant_flow``).

    Each client is excluded at exactly one step with exactly one reason; the rules are
    those of :func:`flow_status`. For every step, ``n`` = previous step's ``n`` minus the
    sum of the step's ``excluded`` counts.

    Parameters
    ----------
    sessions, diary_days : DataFrame
        Canonical ``sessions`` and ``diary_days`` tables.
    config : StudyConfig
        Windows, primary window and ``min_recorded_days``.
    attacks, coverage : DataFrame, optional
        Canonical ``attacks`` and ``coverage`` tables (None = none kept).
    compliance : DataFrame, optional
        :func:`diary_compliance` of ``diary_days`` when the caller has it already (the
        output of :func:`pipeline.outcomes.patient_outcomes` holds its ``patient_id``,
        ``window`` and ``days_recorded``); computed from ``diary_days`` when None.

    Returns
    -------
    dict
        JSON-serialisable::

            {
              "clients_in_sessions": int,   # distinct clients in the session exports
              "clients_in_diaries": int,    # ... in diary_days, attacks or coverage
              "primary_window": str,
              "min_recorded_days": int,
              "steps": [                    # in FLOW_STEPS order
                {"step": "seen", "label": str, "n": int, "excluded": {}},
                {"step": "linked", ..., "excluded": {reason: count, ...}},
                ...,
                {"step": "analysed", ..., "excluded": {}},
              ],
              "excluded": {reason: count, ...},   # every reason of every step
            }

        Every reason of a step is listed, with 0 when no client had it.
    """
    status = flow_status(sessions, diary_days, config, attacks, coverage, compliance)
    return flow_summary(status, config)


def flow_summary(status: pd.DataFrame, config: StudyConfig) -> dict:
    """The participant flow of :func:`participant_flow` from per-client statuses.

    Parameters
    ----------
    status : DataFrame
        :func:`flow_status` rows; the statuses of disjoint groups of clients (patient
        partitions) may be concatenated first.
    config : StudyConfig
        Windows, primary window and ``min_recorded_days``.

    Returns
    -------
    dict
        As :func:`participant_flow`.
    """
    n = config.windows.min_recorded_days
    primary = config.windows.primary
    first, last = config.windows.followup[primary]
    b_first, b_last = config.windows.baseline
    labels = {
        "seen": "Clients seen in the session exports or the diaries",
        "linked": "Linked: clients with both sessions and a diary",
        "treated": "With at least one attended therapy session (index date)",
        "baseline_evaluable": (
            f"Evaluable baseline: at least {n} diary days recorded in days {b_first} to {b_last}"
        ),
        "primary_evaluable": (
            f"Evaluable primary window ({primary}): at least {n} diary days recorded in "
            f"days {first} to {last}"
        ),
        "analysed": "Analysed: evaluable at baseline and in the primary window",
    }
    step_of = {step: i for i, step in enumerate(FLOW_STEPS)}
    excluded_at = (
        status["excluded_at"].map(step_of).fillna(len(FLOW_STEPS)).to_numpy(dtype=np.int64)
    )
    reason_counts = status.groupby(["excluded_at", "reason"]).size()
    rules = _exclusion_rules(n)
    steps = [
        {
            "step": step,
            "label": labels[step],
            "n": int((excluded_at > i).sum()),
            "excluded": {
                reason: int(reason_counts.get((step, reason), 0))
                for rule_step, reason in rules
                if rule_step == step
            },
        }
        for i, step in enumerate(FLOW_STEPS)
    ]
    return {
        "clients_in_sessions": int(status["in_sessions"].sum()),
        "clients_in_diaries": int(status["in_diaries"].sum()),
        "primary_window": primary,
        "min_recorded_days": int(n),
        "steps": steps,
        "excluded": {r: c for s in steps for r, c in s["excluded"].items()},
    }
