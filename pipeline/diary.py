"""Diary days: daily forms and attack logs merged into one row per client per recorded day.

Rules (docs/DATA_QUALITY.md):

- A daily-form row means the day was recorded.
- An attack log records attacks only, so the client's ``coverage`` rows decide which
  days were recorded: every covered day is a diary day (headache-free unless an attack
  touches it). Attack days outside coverage are not used and are counted.
- An attack counts on every calendar day it touches (start day through the day its end
  falls on; an attack ending exactly at midnight does not touch the next day). Its
  hours are split across those days. An ``Ongoing`` attack or one without a duration
  counts on its start day only.
- Several records for one client and day (several attacks; two daily forms - a
  *conflict*; a daily form and an attack log) merge: headache, medication and symptom
  flags are true if any record says so (a missing flag stays missing only if every
  record leaves it missing), peak pain is the maximum, pain hours the sum of attack
  hours (capped at 24) or the maximum of form entries, stress and sleep quality the mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.int_keys import duplicated_keys

DAY = np.timedelta64(1, "D")
FLAGS = ("headache", "acute_medication", "migraine_specific_medication")
NULLABLE_FLAGS = ("migraine", "aura", "nausea", "photophobia", "phonophobia")
DIARY_DAY_COLUMNS = (
    "patient_id", "date", "headache", "migraine", "peak_pain", "pain_hours", "acute_medication",
    "migraine_specific_medication", "aura", "nausea", "photophobia", "phonophobia", "stress",
    "sleep_quality", "source",
)  # fmt: skip


@dataclass(frozen=True)
class DiaryStats:
    """Counts from assembling diary days (for the data-quality section)."""

    conflict_days: int
    conflict_rows: int
    attack_days: int
    attack_days_outside_coverage: int
    attack_clients_without_coverage: int

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


def expand_ranges(first: pd.Series, last: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every calendar day of inclusive day ranges, vectorised.

    Parameters
    ----------
    first, last : pandas.Series of datetime64
        Range bounds (midnight), ``last >= first``.

    Returns
    -------
    owner : numpy.ndarray of int
        Position of the range each day belongs to.
    day : numpy.ndarray of datetime64[D]
    """
    start = first.to_numpy().astype("datetime64[D]")
    count = (last.to_numpy().astype("datetime64[D]") - start).astype(np.int64) + 1
    count = np.maximum(count, 0)
    owner = np.repeat(np.arange(len(start)), count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    return owner, start[owner] + offset.astype("timedelta64[D]")


def attack_days(attacks: pd.DataFrame) -> pd.DataFrame:
    """One row per client per calendar day touched by an attack.

    Returns
    -------
    pandas.DataFrame
        ``patient_id, date, headache (True), peak_pain, pain_hours`` (hours of attack
        that day, capped at 24; NaN if any attack that day has no known end),
        medication flags and symptom flags (any attack that day).
    """
    start = attacks["start"]
    has_end = attacks["end"].notna() & (attacks["end"] > start)
    last = (attacks["end"] - pd.Timedelta(1, "ns")).where(has_end, start).dt.normalize()
    owner, day = expand_ranges(start.dt.normalize(), last)
    rows = attacks.iloc[owner].reset_index(drop=True)
    day_start = pd.Series(day.astype("datetime64[ns]"))
    overlap = rows["end"].clip(upper=day_start + pd.Timedelta(1, "D")) - rows["start"].clip(
        lower=day_start
    )
    rows = rows.assign(date=day_start, pain_hours=overlap.dt.total_seconds() / 3600.0)
    grouped = rows.groupby(["patient_id", "date"], sort=False)
    out = grouped.agg(
        peak_pain=("peak_pain", "max"),
        acute_medication=("acute_medication", "any"),
        migraine_specific_medication=("migraine_specific_medication", "any"),
        aura=("aura", "any"),
        nausea=("nausea", "any"),
        photophobia=("photophobia", "any"),
        phonophobia=("phonophobia", "any"),
    )
    out["pain_hours"] = grouped["pain_hours"].sum(min_count=1).clip(upper=24.0)
    out = out.reset_index()
    out["headache"] = True
    return out


def coverage_days(coverage: pd.DataFrame) -> pd.DataFrame:
    """Distinct (patient_id, date) covered by attack-log clients' coverage ranges."""
    owner, day = expand_ranges(coverage["diary_start"], coverage["diary_end"])
    days = pd.DataFrame(
        {
            "patient_id": coverage["patient_id"].to_numpy()[owner],
            "date": pd.Series(day.astype("datetime64[ns]")),
        }
    )
    return days.drop_duplicates(ignore_index=True)


def day_keys(records: pd.DataFrame) -> np.ndarray:
    """One int64 per row identifying its (client, day), ordered like (client, date).

    Hashing and sorting one integer column is several times cheaper than two columns,
    one of them text, over millions of diary rows.

    Parameters
    ----------
    records : pandas.DataFrame
        ``patient_id`` (no missing values) and ``date`` (datetime64, midnight).

    Returns
    -------
    numpy.ndarray of int64
        Equal for rows of the same client and day; sorting by it sorts by client id
        (string order), then date.
    """
    codes, _ = pd.factorize(records["patient_id"], sort=True)
    days = records["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    if not len(days):
        return days
    return (codes.astype(np.int64) << 32) | (days - days.min())


def merge_records(records: pd.DataFrame, keys: np.ndarray | None = None) -> pd.DataFrame:
    """Collapse several records of the same client and day by the rules above.

    Only keys that occur more than once are grouped (the common case costs nothing).

    Parameters
    ----------
    records : pandas.DataFrame
        Diary-day rows (``DIARY_DAY_COLUMNS``).
    keys : numpy.ndarray, optional
        :func:`day_keys` of ``records`` when the caller has them.

    Returns
    -------
    pandas.DataFrame
        Rows with a unique (client, day): untouched rows first, in their order, then the
        merged ones.
    """
    keys = day_keys(records) if keys is None else keys
    repeated = duplicated_keys(keys, keep=False)
    if not repeated.any():
        return records
    many = records[repeated]
    for column in NULLABLE_FLAGS:  # max of nullable booleans: True > False > <NA>
        many = many.assign(**{column: many[column].astype("boolean")})
    grouped = many.groupby(keys[repeated], sort=False)
    aggregation = {
        "patient_id": "first",
        "date": "first",
        **{c: "any" for c in FLAGS},
        **{c: "max" for c in NULLABLE_FLAGS},
        "peak_pain": "max",
        "pain_hours": "max",
        "stress": "mean",
        "sleep_quality": "mean",
        "source": "first",
    }
    merged = grouped.agg(aggregation)
    merged.loc[grouped["source"].nunique() > 1, "source"] = "both"
    merged = merged.reset_index(drop=True)[list(records.columns)]
    return pd.concat([records[~repeated], merged], ignore_index=True)


def build_diary_days(
    daily: pd.DataFrame, attacks: pd.DataFrame, coverage: pd.DataFrame
) -> tuple[pd.DataFrame, DiaryStats]:
    """Assemble the ``diary_days`` table (see :class:`pipeline.schema.DiaryDays`).

    Parameters
    ----------
    daily : pandas.DataFrame
        Accepted ``diary_daily`` rows.
    attacks : pandas.DataFrame
        Accepted ``diary_attacks`` rows.
    coverage : pandas.DataFrame
        Accepted ``coverage`` rows.

    Returns
    -------
    diary_days : pandas.DataFrame
        One row per client per recorded day, sorted by client and date.
    stats : DiaryStats
    """
    form_keys = day_keys(daily)
    conflicts = duplicated_keys(form_keys, keep=False)
    forms = daily.assign(source="daily")[list(DIARY_DAY_COLUMNS)]
    forms = merge_records(forms, form_keys)

    by_day = attack_days(attacks) if len(attacks) else pd.DataFrame(columns=["patient_id", "date"])
    covered = (
        coverage_days(coverage) if len(coverage) else pd.DataFrame(columns=["patient_id", "date"])
    )
    covered = covered.astype({"patient_id": "str", "date": "datetime64[ns]"})
    by_day = by_day.astype({"patient_id": "str", "date": "datetime64[ns]"})
    joined = covered.merge(by_day, on=["patient_id", "date"], how="left", indicator=False)
    joined = joined.assign(
        headache=joined["headache"].fillna(False).astype(bool) if "headache" in joined else False,
        migraine=pd.array([pd.NA] * len(joined), dtype="boolean"),
        stress=np.nan,
        sleep_quality=np.nan,
        source="attacks",
    )
    for column in (
        "acute_medication",
        "migraine_specific_medication",
        "aura",
        "nausea",
        "photophobia",
        "phonophobia",
    ):
        joined[column] = joined[column].fillna(False).astype(bool) if column in joined else False
    for column in ("peak_pain", "pain_hours"):
        if column not in joined:
            joined[column] = np.nan
    from_attacks = joined[list(DIARY_DAY_COLUMNS)]

    attack_keys = pd.MultiIndex.from_frame(by_day[["patient_id", "date"]])
    covered_keys = pd.MultiIndex.from_frame(covered[["patient_id", "date"]])
    outside = int((~attack_keys.isin(covered_keys)).sum())
    without_coverage = set(attacks["patient_id"].unique()) - set(coverage["patient_id"].unique())

    combined = pd.concat([forms, from_attacks.astype(forms.dtypes.to_dict())], ignore_index=True)
    combined = merge_records(combined)
    order = np.argsort(day_keys(combined), kind="stable")  # by client, then date
    combined = combined.take(order).reset_index(drop=True)
    stats = DiaryStats(
        conflict_days=int(pd.unique(form_keys[conflicts]).size),
        conflict_rows=int(conflicts.sum()),
        attack_days=len(by_day),
        attack_days_outside_coverage=outside,
        attack_clients_without_coverage=len(without_coverage),
    )
    return combined[list(DIARY_DAY_COLUMNS)], stats
