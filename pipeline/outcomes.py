"""Per client x window endpoints, responders, weekly trajectories, sessions and reactions.

Day definitions (DESIGN.md; thresholds from ``StudyConfig.definitions``), one diary row =
one recorded calendar day of one client:

- **Migraine day**: a migraine was reported that day (``migraine`` is True), OR a
  headache (``headache`` True) lasting at least ``migraine_min_duration_hours`` hours
  (``pain_hours``; default 0.5 h = 30 min, the bound itself counts) with at least
  ``migraine_features_required`` of ``migraine_features`` present (aura, nausea,
  photophobia, phonophobia), OR a migraine-specific acute medication was taken
  (triptan, gepant, ditan, ergot: ``migraine_specific_medication``). A missing value
  (``<NA>``/NaN) never makes a day a migraine day: an unknown duration fails the duration
  rule and an unknown feature counts as absent.
- **Headache day**: ``headache`` True OR a migraine day, so ``headache_days >=
  migraine_days`` always (a triptan day without a headache entry is both).
- **Acute medication day**: ``acute_medication`` True OR a migraine-specific medication
  day (a triptan is an acute medication), so ``acute_medication_days >=
  migraine_specific_medication_days``.
- **Migraine-specific medication day**: ``migraine_specific_medication`` True.

Attacks crossing midnight are already materialised by ingest on every calendar day they
touch, so each such day counts once. Counts are over recorded days only and are scaled
to 28 days: ``x_28 = x * 28 / days_recorded`` (NaN when no day was recorded). Change is
always follow-up - baseline: negative means fewer migraine days.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from pipeline.cohort import (
    GRID_COLUMNS,
    WindowAssignment,
    assign_windows,
    diary_compliance,
    index_dates,
    locate,
    window_table,
)
from pipeline.config import DefinitionsSection, StudyConfig

DAYS_PER_MONTH = 28
DAYS_PER_WEEK = 7
MIN_DAYS_PER_WEEK = 4
# Absorbs float rounding (e.g. 30 min entered as minutes / 60) at the inclusive bounds.
_TOLERANCE = 1e-9

DAY_COUNTS = (
    "headache_days",
    "migraine_days",
    "acute_medication_days",
    "migraine_specific_medication_days",
)
DAY_FLAGS = {
    "headache_days": "headache_day",
    "migraine_days": "migraine_day",
    "acute_medication_days": "acute_medication_day",
    "migraine_specific_medication_days": "migraine_specific_medication_day",
}

PATIENT_OUTCOME_COLUMNS = (
    *GRID_COLUMNS,
    "days_recorded",
    "evaluable",
    *DAY_COUNTS,
    *(f"{count}_28" for count in DAY_COUNTS),
    "peak_pain_mean",
    "stress_mean",
    "sleep_quality_mean",
    "sessions_before",
    "sessions_in_window",
    "group",
)
"""Columns of :func:`patient_outcomes` before the questionnaire instrument columns."""

OUTCOME_COLUMNS = {
    "migraine_days": "migraine_days_28",
    "headache_days": "headache_days_28",
    "peak_pain": "peak_pain_mean",
    "acute_medication_days": "acute_medication_days_28",
    "migraine_specific_medication_days": "migraine_specific_medication_days_28",
    "stress": "stress_mean",
    "sleep_quality": "sleep_quality_mean",
}
"""Contract outcome name -> patient_outcomes column (instruments map to themselves)."""

CONTRACT_COLUMNS = (
    "patient_id",
    "window",
    "days_recorded",
    "evaluable",
    "headache_days_28",
    "migraine_days_28",
    "peak_pain_mean",
    "acute_medication_days_28",
    "stress_mean",
    "sleep_quality_mean",
)
"""Columns of ``patient_outcomes.csv`` required by the contract, in contract order."""


def _present(values: pd.Series) -> np.ndarray:
    """Boolean array: True where the (possibly nullable) yes/no value is True."""
    return values.to_numpy(dtype=bool, na_value=False)


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def day_flags(diary_days: pd.DataFrame, definitions: DefinitionsSection) -> dict[str, np.ndarray]:
    """Classify each recorded diary day (see the module docstring for the definitions).

    Parameters
    ----------
    diary_days : DataFrame
        Canonical ``diary_days`` (one row per client per recorded day).
    definitions : DefinitionsSection
        ``StudyConfig.definitions``: ``migraine_min_duration_hours`` (hours),
        ``migraine_features``, ``migraine_features_required``.

    Returns
    -------
    dict of str to ndarray of bool
        ``headache_day``, ``migraine_day``, ``acute_medication_day``,
        ``migraine_specific_medication_day``, aligned with the rows of ``diary_days``.
    """
    headache = _present(diary_days["headache"])
    specific = _present(diary_days["migraine_specific_medication"])
    long_enough = (
        _floats(diary_days["pain_hours"]) >= definitions.migraine_min_duration_hours - _TOLERANCE
    )
    n_features = np.zeros(len(diary_days), dtype=np.int64)
    for feature in definitions.migraine_features:
        n_features += _present(diary_days[feature])
    by_features = headache & long_enough & (n_features >= definitions.migraine_features_required)
    migraine = _present(diary_days["migraine"]) | by_features | specific
    return {
        "headache_day": headache | migraine,
        "migraine_day": migraine,
        "acute_medication_day": _present(diary_days["acute_medication"]) | specific,
        "migraine_specific_medication_day": specific,
    }


def classify_days(diary_days: pd.DataFrame, definitions: DefinitionsSection) -> pd.DataFrame:
    """``diary_days`` with the boolean day-classification columns of :func:`day_flags`.

    Parameters
    ----------
    diary_days : DataFrame
        Canonical ``diary_days``.
    definitions : DefinitionsSection
        ``StudyConfig.definitions``.

    Returns
    -------
    DataFrame
        A copy with ``headache_day``, ``migraine_day``, ``acute_medication_day`` and
        ``migraine_specific_medication_day`` (bool) appended.
    """
    return diary_days.assign(**day_flags(diary_days, definitions))


def _per_28(count: np.ndarray, days_recorded: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(days_recorded > 0, count * DAYS_PER_MONTH / days_recorded, np.nan)


def _attended_therapy(sessions: pd.DataFrame) -> pd.DataFrame:
    return sessions.loc[sessions["is_therapy"] & sessions["attended"]]


def _sessions_before(therapy: pd.DataFrame, index: pd.DataFrame, config: StudyConfig) -> np.ndarray:
    """Attended therapy sessions with day offset < each window's first day, grid order."""
    position, day = locate(therapy, index)
    found = position >= 0
    first_days = window_table(config.windows)["first_day"].to_numpy()
    counts = np.column_stack(
        [np.bincount(position[found & (day < first)], minlength=len(index)) for first in first_days]
    )
    return counts.reshape(-1).astype(np.int64)


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """True at the first element of each run of equal integer codes (sorted codes: groups)."""
    return np.diff(codes, prepend=codes[:1] - 1) != 0


def client_groups(sessions: pd.DataFrame) -> pd.Series:
    """Comparison-group label of each client (``sessions.group``).

    The label of the client's first attended therapy session; when that is missing, the
    first non-missing label of a later attended therapy session, else of any other
    booking (by date).

    Parameters
    ----------
    sessions : DataFrame
        Canonical ``sessions``.

    Returns
    -------
    Series of str
        Indexed by ``patient_id``; NaN for clients without a label.
    """
    codes, clients = pd.factorize(sessions["patient_id"], sort=True)
    other = ~(sessions["is_therapy"] & sessions["attended"]).to_numpy(dtype=bool)
    labelled = np.flatnonzero(sessions["group"].notna().to_numpy() & (codes >= 0))
    keys = (sessions["date"].to_numpy()[labelled], other[labelled], codes[labelled])
    ordered = labelled[np.lexsort(keys)]  # by client, attended therapy first, then date
    first = ordered[_run_starts(codes[ordered])]
    labels = np.full(len(clients), None, dtype=object)
    labels[codes[first]] = sessions["group"].to_numpy()[first]
    return pd.Series(labels, index=pd.Index(clients, name="patient_id"), name="group", dtype="str")


def _assign_questionnaires(
    questionnaires: pd.DataFrame, index: pd.DataFrame, config: StudyConfig
) -> pd.DataFrame:
    """Questionnaires kept for a window, one per client x window x instrument."""
    table = window_table(config.windows)
    position, day = locate(questionnaires, index)
    found = position >= 0
    first = table["first_day"].to_numpy()
    last = table["last_day"].to_numpy()
    # days from each questionnaire to each window (0 inside it); shape (n, n_windows)
    distance = np.maximum(np.maximum(first - day[:, None], day[:, None] - last), 0)
    n_windows = len(table)
    # nearest window; ties go to the later window (argmin over the reversed columns)
    nearest = n_windows - 1 - np.argmin(distance[:, ::-1], axis=1)
    nearest_distance = distance[np.arange(len(day)), nearest]
    keep = found & (nearest_distance <= config.definitions.questionnaire_tolerance_days)
    assigned = pd.DataFrame(
        {
            "patient_id": questionnaires["patient_id"].to_numpy()[keep],
            "window": table["window"].to_numpy()[nearest[keep]],
            "instrument": questionnaires["instrument"].to_numpy()[keep],
            "date": questionnaires["date"].to_numpy()[keep],
            "day": day[keep],
            "distance_days": nearest_distance[keep].astype(np.int64),
            "score": questionnaires["score"].to_numpy(dtype=np.float64)[keep],
            "cell": position[keep] * n_windows + nearest[keep],
            "order": np.flatnonzero(keep),
        }
    )
    # nearest first; ties: the later date; same date: the later input row
    assigned = assigned.sort_values(
        ["cell", "instrument", "distance_days", "date", "order"],
        ascending=[True, True, True, False, False],
        kind="stable",
    )
    return assigned.drop_duplicates(["cell", "instrument"], keep="first")


def questionnaire_scores(
    questionnaires: pd.DataFrame, sessions: pd.DataFrame, config: StudyConfig
) -> pd.DataFrame:
    """The questionnaire score that stands for each client x window x instrument.

    Rule: every questionnaire is first assigned to its nearest window, distance measured
    in days from the questionnaire date to the window (0 inside it, else days to the
    nearest edge); on a tie, the later window (in baseline, follow-up order) wins, so a
    questionnaire serves at most one window. It is dropped when that distance exceeds
    ``definitions.questionnaire_tolerance_days`` or the client has no index date. Among
    the questionnaires assigned to a client x window x instrument, the nearest is kept;
    ties go to the later date (closest to the index date for baseline, to the end of
    treatment for follow-up), then to the later input row.

    Parameters
    ----------
    questionnaires : DataFrame
        Canonical ``questionnaires`` (``patient_id, date, instrument, score``).
    sessions : DataFrame
        Canonical ``sessions`` (for the index dates).
    config : StudyConfig
        Windows and ``definitions.questionnaire_tolerance_days`` (days).

    Returns
    -------
    DataFrame
        ``patient_id, window, instrument, date, day`` (offset from the index date),
        ``distance_days`` (int64, 0 inside the window) and ``score``, sorted by client,
        window order and instrument.
    """
    assigned = _assign_questionnaires(questionnaires, index_dates(sessions), config)
    return assigned.drop(columns=["cell", "order"]).reset_index(drop=True)


def patient_outcomes(
    diary_days: pd.DataFrame,
    sessions: pd.DataFrame,
    config: StudyConfig,
    questionnaires: pd.DataFrame | None = None,
    instruments: list[str] | None = None,
) -> pd.DataFrame:
    """Endpoints per client x window (baseline and every follow-up window).

    Every client with an index date gets one row per window, also when nothing was
    recorded in it; clients who never attended a therapy session get none.

    Parameters
    ----------
    diary_days : DataFrame
        Canonical ``diary_days`` (a row = a recorded day).
    sessions : DataFrame
        Canonical ``sessions`` (index dates, session counts, ``group``).
    config : StudyConfig
        ``windows`` (inclusive day ranges, ``min_recorded_days``) and ``definitions``.
    questionnaires : DataFrame, optional
        Canonical ``questionnaires``; see :func:`questionnaire_scores` for which score
        stands for a window.
    instruments : list of str, optional
        The questionnaire columns to add (default: every instrument in
        ``questionnaires``). A patient partition passes the study's full list so every
        partition has the same columns.

    Returns
    -------
    DataFrame
        Rows sorted by ``patient_id`` then window order (baseline first), columns
        ``PATIENT_OUTCOME_COLUMNS``:

        - ``patient_id``, ``window``; ``window_start``, ``window_end`` (calendar dates,
          inclusive), ``index_date``, ``days_in_window`` (window length, days);
        - ``days_recorded`` (recorded diary days in the window), ``evaluable``
          (``days_recorded >= min_recorded_days``);
        - ``headache_days``, ``migraine_days``, ``acute_medication_days``,
          ``migraine_specific_medication_days``: raw counts of recorded days (int64);
        - the same with suffix ``_28``: ``count * 28 / days_recorded`` (days per 28
          days; NaN when ``days_recorded`` is 0);
        - ``peak_pain_mean``: mean ``peak_pain`` (0-10) over headache days with a pain
          value; ``stress_mean``, ``sleep_quality_mean`` (0-10, 10 = best sleep): mean
          over recorded days with a value (NaN when none);
        - ``sessions_before``: attended therapy sessions strictly before the window's
          first day; ``sessions_in_window``: attended therapy sessions inside it;
        - ``group``: :func:`client_groups` label (NaN when none);

        then one float column per questionnaire instrument (``instruments``, or every
        one found in ``questionnaires``; column name = instrument, sorted), NaN when no
        score stands for the window.

    Raises
    ------
    ValueError
        An instrument is named like one of the columns above.
    """
    index = index_dates(sessions)
    diary = assign_windows(diary_days, index, config.windows)
    frame = diary_compliance(diary, config.windows.min_recorded_days)
    recorded = frame["days_recorded"].to_numpy()
    flags = day_flags(diary_days, config.definitions)

    columns: dict[str, np.ndarray | pd.Series] = {}
    for count in DAY_COUNTS:
        columns[count] = diary.count(flags[DAY_FLAGS[count]])
    for count in DAY_COUNTS:
        columns[f"{count}_28"] = _per_28(columns[count], recorded)
    pain = np.where(flags["headache_day"], _floats(diary_days["peak_pain"]), np.nan)
    columns["peak_pain_mean"] = diary.mean(pain)
    columns["stress_mean"] = diary.mean(_floats(diary_days["stress"]))
    columns["sleep_quality_mean"] = diary.mean(_floats(diary_days["sleep_quality"]))

    therapy = _attended_therapy(sessions)
    columns["sessions_before"] = _sessions_before(therapy, index, config)
    columns["sessions_in_window"] = assign_windows(therapy, index, config.windows).count()
    groups = client_groups(sessions).reindex(index["patient_id"]).to_numpy()
    n_windows = len(window_table(config.windows))
    columns["group"] = pd.Series(np.repeat(groups, n_windows), dtype="str")  # grid order
    frame = frame.assign(**columns)
    return _add_instruments(frame, questionnaires, index, config, instruments)


def _add_instruments(
    frame: pd.DataFrame,
    questionnaires: pd.DataFrame | None,
    index: pd.DataFrame,
    config: StudyConfig,
    instruments: list[str] | None = None,
) -> pd.DataFrame:
    has_any = questionnaires is not None and not questionnaires.empty
    if instruments is None:
        instruments = questionnaires["instrument"].unique() if has_any else []
    instruments = sorted(instruments)
    clash = sorted(set(instruments) & set(PATIENT_OUTCOME_COLUMNS))
    if clash:
        raise ValueError(f"questionnaire instruments clash with outcome columns: {clash}")
    if not has_any:
        return frame.assign(**{instrument: np.nan for instrument in instruments})
    assigned = _assign_questionnaires(questionnaires, index, config)
    scores = {}
    for instrument in instruments:
        rows = assigned.loc[assigned["instrument"] == instrument]
        values = np.full(len(frame), np.nan)
        values[rows["cell"].to_numpy()] = rows["score"].to_numpy()
        scores[instrument] = values
    return frame.assign(**scores)


def instrument_columns(patient_outcomes: pd.DataFrame) -> list[str]:
    """Questionnaire instrument columns of a :func:`patient_outcomes` frame, in order."""
    return [c for c in patient_outcomes.columns if c not in PATIENT_OUTCOME_COLUMNS]


def available_outcomes(patient_outcomes: pd.DataFrame) -> list[str]:
    """Outcome names :func:`paired_values` accepts: ``OUTCOME_COLUMNS`` + instruments."""
    return [*OUTCOME_COLUMNS, *instrument_columns(patient_outcomes)]


def patient_outcomes_for_output(patient_outcomes: pd.DataFrame) -> pd.DataFrame:
    """Columns reordered for ``patient_outcomes.csv``.

    Parameters
    ----------
    patient_outcomes : DataFrame
        Output of :func:`patient_outcomes`.

    Returns
    -------
    DataFrame
        ``CONTRACT_COLUMNS`` in contract order, then every other column in its
        existing order. Rows unchanged.
    """
    rest = [c for c in patient_outcomes.columns if c not in CONTRACT_COLUMNS]
    return patient_outcomes[[*CONTRACT_COLUMNS, *rest]]


def _outcome_column(patient_outcomes: pd.DataFrame, outcome: str) -> tuple[str, bool]:
    """The column of ``outcome`` and whether it is a diary outcome (needs evaluable windows)."""
    if outcome in OUTCOME_COLUMNS:
        return OUTCOME_COLUMNS[outcome], True
    if outcome in instrument_columns(patient_outcomes):
        return outcome, False
    raise ValueError(f"unknown outcome '{outcome}'; known: {available_outcomes(patient_outcomes)}")


def paired_values(patient_outcomes: pd.DataFrame, outcome: str, window: str) -> pd.DataFrame:
    """Baseline and follow-up values of one outcome, one row per client, for paired tests.

    Diary outcomes (``OUTCOME_COLUMNS``) use clients evaluable both at baseline and in
    ``window``; questionnaire instruments use clients with a score in both, whatever
    their diary compliance. Pairs with a missing value on either side are dropped (e.g.
    ``peak_pain`` for a client without any headache day in one of the windows).

    Parameters
    ----------
    patient_outcomes : DataFrame
        Output of :func:`patient_outcomes`.
    outcome : str
        A contract outcome name (key of ``OUTCOME_COLUMNS``) or an instrument column.
    window : str
        A follow-up window name.

    Returns
    -------
    DataFrame
        ``patient_id``, ``before`` (baseline value), ``after`` (follow-up value), sorted
        by ``patient_id``; change = after - before (negative = fewer migraine days).

    Raises
    ------
    ValueError
        Unknown outcome, or ``window`` is baseline / not in the frame.
    """
    return paired_table(patient_outcomes, [outcome], [window])[(outcome, window)]


def paired_table(
    patient_outcomes: pd.DataFrame,
    outcome_names: list[str] | None = None,
    windows: list[str] | None = None,
) -> dict[tuple[str, str], pd.DataFrame]:
    """:func:`paired_values` for many outcomes x follow-up windows at once.

    The clients are coded once and each outcome is laid out as one client x window
    array, so every pair table is a slice of it (no merge per outcome and window).

    Parameters
    ----------
    patient_outcomes : DataFrame
        Output of :func:`patient_outcomes` (one row per client x window).
    outcome_names : list of str, optional
        Outcome names as for :func:`paired_values`; default :func:`available_outcomes`.
    windows : list of str, optional
        Follow-up windows; default every window of the frame but ``baseline``, in order
        of first appearance.

    Returns
    -------
    dict
        ``(outcome, window)`` -> the frame :func:`paired_values` returns for them
        (``patient_id``, ``before``, ``after``, sorted by ``patient_id``; change = after -
        before, negative = fewer migraine days).

    Raises
    ------
    ValueError
        Unknown outcome, or a window is baseline / not in the frame.
    """
    names = available_outcomes(patient_outcomes) if outcome_names is None else outcome_names
    columns = {name: _outcome_column(patient_outcomes, name) for name in names}
    followups = [w for w in pd.unique(patient_outcomes["window"]) if w != "baseline"]
    wanted = followups if windows is None else list(windows)
    for window in wanted:
        if window not in followups:
            raise ValueError(f"'{window}' is not a follow-up window; known: {sorted(followups)}")
    client_codes, clients = pd.factorize(patient_outcomes["patient_id"], sort=True)
    window_codes = pd.Index(["baseline", *wanted]).get_indexer(patient_outcomes["window"])
    rows = (client_codes >= 0) & (window_codes >= 0)
    n_windows = len(wanted) + 1
    cells = client_codes[rows] * n_windows + window_codes[rows]
    evaluable = _present(patient_outcomes["evaluable"])[rows]
    pairs = {}
    for name, (column, diary) in columns.items():
        values = _floats(patient_outcomes[column])[rows]
        if diary:
            values = np.where(evaluable, values, np.nan)
        grid = np.full(len(clients) * n_windows, np.nan)
        grid[cells] = values
        grid = grid.reshape(len(clients), n_windows)
        before = grid[:, 0]
        for position, window in enumerate(wanted, start=1):
            after = grid[:, position]
            both = np.flatnonzero(~np.isnan(before) & ~np.isnan(after))
            pairs[(name, window)] = pd.DataFrame(
                {"patient_id": clients.take(both), "before": before[both], "after": after[both]}
            )
    return pairs


class Responders(NamedTuple):
    """Result of :func:`responders`.

    Attributes
    ----------
    per_patient : DataFrame
        One row per client x follow-up window, clients evaluable at baseline and in the
        window: ``patient_id, window, baseline_migraine_days_28, migraine_days_28``,
        ``change_migraine_days_28`` (follow-up - baseline, days per 28 days; negative =
        fewer), ``percent_reduction`` (``100 * (baseline - follow-up) / baseline``; NaN
        for a zero baseline) and ``responder_<t>`` (nullable boolean, ``<NA>`` for a zero
        baseline) for each threshold ``t``.
    summary : DataFrame
        One row per follow-up window (config order): ``window``, ``n_evaluable`` (clients
        evaluable in both windows), ``n_zero_baseline`` (not classed), ``n_classed``
        (= n_evaluable - n_zero_baseline) and ``n_responder_<t>`` per threshold.
    """

    per_patient: pd.DataFrame
    summary: pd.DataFrame


def responders(patient_outcomes: pd.DataFrame, config: StudyConfig) -> Responders:
    """Responders: clients whose monthly migraine days fell by at least t percent.

    A client is classed in a follow-up window when evaluable both at baseline and in
    that window and their baseline ``migraine_days_28`` is above zero (a reduction from
    zero is undefined: such clients are ``<NA>`` and counted in ``n_zero_baseline``).
    Responder at threshold t (``definitions.responder_thresholds``, percent) when
    ``percent_reduction >= t``; ``responder_100`` means no migraine day in the window.
    Rates and their confidence intervals are left to ``pipeline.stats``.

    Parameters
    ----------
    patient_outcomes : DataFrame
        Output of :func:`patient_outcomes`.
    config : StudyConfig
        Follow-up windows and responder thresholds.

    Returns
    -------
    Responders
        ``per_patient`` and ``summary`` (counts) as described on :class:`Responders`.
    """
    thresholds = config.definitions.responder_thresholds
    evaluable = patient_outcomes.loc[
        patient_outcomes["evaluable"], ["patient_id", "window", "migraine_days_28"]
    ]
    baseline = evaluable.loc[evaluable["window"] == "baseline", ["patient_id", "migraine_days_28"]]
    paired = evaluable.loc[evaluable["window"] != "baseline"].merge(
        baseline.rename(columns={"migraine_days_28": "baseline_migraine_days_28"}),
        on="patient_id",
    )
    base = paired["baseline_migraine_days_28"].to_numpy()
    follow = paired["migraine_days_28"].to_numpy()
    zero = base == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = np.where(zero, np.nan, 100 * (base - follow) / base)
    per_patient = pd.DataFrame(
        {
            "patient_id": paired["patient_id"],
            "window": paired["window"],
            "baseline_migraine_days_28": base,
            "migraine_days_28": follow,
            "change_migraine_days_28": follow - base,
            "percent_reduction": reduction,
            **{
                f"responder_{t}": pd.Series(reduction >= t - _TOLERANCE, dtype="boolean").mask(zero)
                for t in thresholds
            },
        }
    )
    followups = [w for w in window_table(config.windows)["window"] if w != "baseline"]
    by_window = per_patient.groupby("window")
    summary = pd.DataFrame(
        {
            "n_evaluable": by_window.size(),
            "n_zero_baseline": pd.Series(zero).groupby(per_patient["window"].to_numpy()).sum(),
            **{f"n_responder_{t}": by_window[f"responder_{t}"].sum() for t in thresholds},
        }
    )
    summary = summary.reindex(followups, fill_value=0).astype(np.int64)
    summary.insert(2, "n_classed", summary["n_evaluable"] - summary["n_zero_baseline"])
    summary = summary.rename_axis("window").reset_index()
    order = window_table(config.windows)["window"].tolist()
    per_patient = per_patient.assign(
        _order=per_patient["window"].map({w: i for i, w in enumerate(order)})
    ).sort_values(["patient_id", "_order"], kind="stable")
    return Responders(per_patient.drop(columns="_order").reset_index(drop=True), summary)


def weekly_trajectory(
    diary_days: pd.DataFrame,
    sessions: pd.DataFrame,
    config: StudyConfig,
    min_days: int = MIN_DAYS_PER_WEEK,
) -> pd.DataFrame:
    """Migraine days per week relative to the index date, per client.

    Week ``w`` covers day offsets ``7w .. 7w + 6`` (week 0 starts on the index date,
    week -1 is days -7..-1), for ``w`` in ``definitions.trajectory_weeks`` (inclusive).

    Parameters
    ----------
    diary_days : DataFrame
        Canonical ``diary_days``.
    sessions : DataFrame
        Canonical ``sessions`` (for the index dates).
    config : StudyConfig
        ``definitions.trajectory_weeks`` and the migraine-day definition.
    min_days : int
        Fewest recorded days for a week's rate (default 4 of 7).

    Returns
    -------
    DataFrame
        One row per client with an index date x week, sorted by client then week:
        ``patient_id``, ``week`` (int64), ``first_day``, ``last_day`` (day offsets),
        ``days_recorded``, ``migraine_days`` (int64) and ``migraine_days_per_week``
        (``migraine_days * 7 / days_recorded``; NaN when fewer than ``min_days`` days
        were recorded).
    """
    index = index_dates(sessions)
    first_week, last_week = config.definitions.trajectory_weeks
    weeks = np.arange(first_week, last_week + 1, dtype=np.int64)
    position, day = locate(diary_days, index)
    week = np.floor_divide(day, DAYS_PER_WEEK)
    rows = np.flatnonzero((position >= 0) & (week >= first_week) & (week <= last_week))
    grid = pd.DataFrame(
        {
            "patient_id": index["patient_id"].repeat(len(weeks)).reset_index(drop=True),
            "week": np.tile(weeks, len(index)),
        }
    )
    tally = WindowAssignment(
        grid=grid, rows=rows, cells=position[rows] * len(weeks) + (week[rows] - first_week)
    )
    recorded = tally.count()
    migraine = tally.count(day_flags(diary_days, config.definitions)["migraine_day"])
    with np.errstate(invalid="ignore", divide="ignore"):
        per_week = np.where(recorded >= min_days, migraine * DAYS_PER_WEEK / recorded, np.nan)
    return grid.assign(
        first_day=grid["week"] * DAYS_PER_WEEK,
        last_day=grid["week"] * DAYS_PER_WEEK + DAYS_PER_WEEK - 1,
        days_recorded=recorded,
        migraine_days=migraine,
        migraine_days_per_week=per_week,
    )


def trajectory_summary(trajectory: pd.DataFrame) -> pd.DataFrame:
    """Per-week aggregate of :func:`weekly_trajectory` (confidence intervals: report).

    Parameters
    ----------
    trajectory : DataFrame
        Output of :func:`weekly_trajectory`.

    Returns
    -------
    DataFrame
        One row per week: ``week``, ``n`` (clients with a rate that week), ``mean`` and
        ``sd`` (sample SD, ddof = 1) of ``migraine_days_per_week`` (NaN when n is too
        small).
    """
    rate = trajectory.groupby("week", sort=True)["migraine_days_per_week"]
    return pd.DataFrame(
        {"n": rate.count().astype(np.int64), "mean": rate.mean(), "sd": rate.std(ddof=1)}
    ).reset_index()


def sessions_summary(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per-client summary of the session exports.

    Parameters
    ----------
    sessions : DataFrame
        Canonical ``sessions``.

    Returns
    -------
    DataFrame
        One row per client in ``sessions``, sorted by ``patient_id``. Therapy sessions
        are those with ``is_therapy``:

        - ``sessions_booked``: therapy bookings, any status; ``sessions_attended``:
          attended therapy sessions; ``sessions_not_attended``: therapy bookings
          cancelled, missed or rescheduled (booked - attended); ``other_services``:
          bookings of other services;
        - ``first_session``, ``last_session``: dates of the first (= index date) and
          last attended therapy session (NaT when none); ``last_session_day``: day
          offset of the last one (days after the index date);
        - ``median_interval_days``: median days between consecutive attended therapy
          sessions (NaN with fewer than two); ``mean_duration_min``: mean duration of
          attended therapy sessions (minutes);
        - ``adverse_events``: attended therapy sessions followed by a reaction;
          ``ae_resolved_hours_median``, ``ae_resolved_hours_max``: hours until those
          reactions resolved, over reactions with a known time (NaN when none).
    """
    codes, clients = pd.factorize(sessions["patient_id"], sort=True)
    n_clients = len(clients)
    therapy = sessions["is_therapy"].to_numpy(dtype=bool) & (codes >= 0)
    other = ~sessions["is_therapy"].to_numpy(dtype=bool) & (codes >= 0)
    rows = np.flatnonzero(therapy & sessions["attended"].to_numpy(dtype=bool))
    dates = sessions["date"].to_numpy()
    rows = rows[np.lexsort((dates[rows], codes[rows]))]  # by client, then date (stable)
    client, date = codes[rows], dates[rows]
    starts = _run_starts(client)
    ends = _run_starts(client[::-1])[::-1]
    reaction = sessions["adverse_event"].to_numpy(dtype=bool, na_value=False)[rows]
    gaps = np.floor_divide(np.diff(date, prepend=date[:1]), np.timedelta64(1, "D"))
    by_client = pd.DataFrame(
        {
            "client": client,
            "interval": np.where(starts, np.nan, gaps),
            "duration": _floats(sessions["duration_min"])[rows],
            "resolved": np.where(reaction, _floats(sessions["ae_resolved_hours"])[rows], np.nan),
        }
    ).groupby("client", sort=True)

    def per_client(values: pd.Series) -> np.ndarray:
        full = np.full(n_clients, np.nan)
        full[values.index.to_numpy()] = values.to_numpy()
        return full

    def counts(which: np.ndarray) -> np.ndarray:
        return np.bincount(which, minlength=n_clients).astype(np.int64)

    first = np.full(n_clients, np.datetime64("NaT"), dtype=dates.dtype)
    first[client[starts]] = date[starts]
    last = np.full(n_clients, np.datetime64("NaT"), dtype=dates.dtype)
    last[client[ends]] = date[ends]
    first, last = pd.Series(first), pd.Series(last)
    booked, attended = counts(codes[therapy]), counts(client)
    return pd.DataFrame(
        {
            "patient_id": pd.Series(clients, dtype="str"),
            "sessions_booked": booked,
            "sessions_attended": attended,
            "sessions_not_attended": booked - attended,
            "other_services": counts(codes[other]),
            "first_session": first,
            "last_session": last,
            "last_session_day": (last - first).dt.days.astype("Int64"),
            "median_interval_days": per_client(by_client["interval"].median()),
            "mean_duration_min": per_client(by_client["duration"].mean()),
            "adverse_events": counts(client[reaction]),
            "ae_resolved_hours_median": per_client(by_client["resolved"].median()),
            "ae_resolved_hours_max": per_client(by_client["resolved"].max()),
        }
    )


def adverse_event_summary(sessions: pd.DataFrame, max_hours: float) -> dict:
    """Reactions after attended therapy sessions, as counts (CIs: ``pipeline.stats``).

    Parameters
    ----------
    sessions : DataFrame
        Canonical ``sessions``; only attended therapy sessions are counted.
    max_hours : float
        Resolution limit in hours (a claim's ``max_reaction_hours``); a reaction
        resolved in exactly ``max_hours`` counts as within.

    Returns
    -------
    dict
        JSON-serialisable: ``sessions`` (attended therapy sessions),
        ``sessions_reaction_recorded`` (``adverse_event`` not missing),
        ``sessions_with_reaction``, ``reactions_with_known_resolution`` (reactions with
        ``ae_resolved_hours``), ``reactions_resolved_within`` (known time <= max_hours),
        ``max_hours``.
    """
    attended = _attended_therapy(sessions)
    reaction = attended["adverse_event"].to_numpy(dtype=bool, na_value=False)
    hours = _floats(attended["ae_resolved_hours"])[reaction]
    known = ~np.isnan(hours)
    return {
        "sessions": len(attended),
        "sessions_reaction_recorded": int(attended["adverse_event"].notna().sum()),
        "sessions_with_reaction": int(reaction.sum()),
        "reactions_with_known_resolution": int(known.sum()),
        "reactions_resolved_within": int((hours[known] <= max_hours + _TOLERANCE).sum()),
        "max_hours": float(max_hours),
    }
