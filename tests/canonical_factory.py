"""Build valid canonical tables from compact scenario specs (test helper).

Days are integer offsets from ``ANCHOR`` (day 0); a client whose first attended therapy
session is on day 0 has the same day numbers as the study's day offsets, so a test reads
like its scenario::

    sessions(course("A", [0, 7, 14]), visit("A", -7, status="cancelled"))
    diary_days(diary("A", range(-28, 84), migraine=[-20, -3], triptan=[10]))

Client labels such as ``"A"`` become stable pseudonyms with :func:`pid`. Every builder
returns a frame validated by the pandera model of ``pipeline.schema``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.config import StudyConfig

ANCHOR = pd.Timestamp("2024-03-04")
DEFAULTS = StudyConfig()
FEATURES = ("aura", "nausea", "photophobia", "phonophobia")
THERAPY = "Craniosacral Therapy 60 min"
MASSAGE = "Sports Massage 45 min"


def pid(label: str) -> str:
    """Stable pseudonym (``P-`` + 16 hex digits) for a readable client label."""
    if re.match(schema.PSEUDONYM_PATTERN, label):
        return label
    return "P-" + hashlib.sha256(label.encode()).hexdigest()[:16]


def on(day: int, anchor: pd.Timestamp = ANCHOR) -> pd.Timestamp:
    """Calendar date of day offset ``day`` from ``anchor``."""
    return anchor + pd.Timedelta(days=int(day))


def _dates(days: Iterable[int], anchor: pd.Timestamp) -> pd.Series:
    return pd.Series(
        anchor + pd.to_timedelta(np.asarray(list(days), dtype=np.int64), unit="D"),
        dtype="datetime64[ns]",
    )


def _with_provenance(frame: pd.DataFrame, source_file: str) -> pd.DataFrame:
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    return frame.assign(
        source_file=pd.Series([source_file] * len(frame), dtype="str"),
        source_row=np.arange(1, len(frame) + 1, dtype=np.int64),
        row_key=(hashes >> np.uint64(1)).astype(np.int64),  # non-negative int64 key
    )


def _flatten(items: Iterable) -> list:
    out = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list | tuple) else [item])
    return out


# --------------------------------------------------------------------------- sessions


def visit(
    patient: str,
    day: int,
    *,
    status: str = "completed",
    service: str = THERAPY,
    duration: float | None = None,
    reaction: bool | None = None,
    resolved_hours: float | None = None,
    group: str | None = None,
    anchor: pd.Timestamp = ANCHOR,
) -> dict:
    """One appointment on day ``day``; therapy / attended follow the default config.

    ``duration`` defaults to the ``NN min`` in the service name; ``reaction`` is the
    ``adverse_event`` flag (None = not recorded).
    """
    config = DEFAULTS
    minutes = re.search(r"(\d+)\s*min", service)
    return {
        "patient_id": pid(patient),
        "date": on(day, anchor),
        "start_minute": 9 * 60.0,
        "is_therapy": bool(re.search(config.study.therapy_pattern, service)),
        "attended": status.lower() in config.vocabulary.attended,
        "status": status,
        "duration_min": duration if duration is not None else float(minutes.group(1)),
        "practitioner": "S-" + "0" * 16,
        "adverse_event": reaction,
        "ae_resolved_hours": np.nan if resolved_hours is None else float(resolved_hours),
        "group": group,
    }


def course(patient: str, days: Iterable[int], **options) -> list[dict]:
    """Several appointments with the same options (see :func:`visit`)."""
    return [visit(patient, day, **options) for day in days]


def sessions(*visits: dict | list[dict]) -> pd.DataFrame:
    """Validated canonical ``sessions`` from :func:`visit` / :func:`course` rows."""
    rows = _flatten(visits)
    frame = pd.DataFrame(
        rows,
        columns=[
            "patient_id", "date", "start_minute", "is_therapy", "attended", "status",
            "duration_min", "practitioner", "adverse_event", "ae_resolved_hours", "group",
        ],
    )  # fmt: skip
    frame = frame.astype(
        {
            "patient_id": "str",
            "date": "datetime64[ns]",
            "start_minute": "float64",
            "is_therapy": "bool",
            "attended": "bool",
            "status": "str",
            "duration_min": "float64",
            "practitioner": "str",
            "adverse_event": "boolean",
            "ae_resolved_hours": "float64",
            "group": "str",
        }
    )
    return schema.Sessions.validate(_with_provenance(frame, "sessions/test.csv"))


# --------------------------------------------------------------------------- diaries


def diary(
    patient: str,
    days: Iterable[int],
    *,
    headache: Iterable[int] = (),
    migraine: Iterable[int] = (),
    not_migraine: Iterable[int] = (),
    pain: Mapping[int, float] | None = None,
    hours: Mapping[int, float] | None = None,
    features: Mapping[int, Iterable[str]] | None = None,
    acute: Iterable[int] = (),
    triptan: Iterable[int] = (),
    stress: float | Mapping[int, float] | None = None,
    sleep: float | Mapping[int, float] | None = None,
    source: str = "daily",
    anchor: pd.Timestamp = ANCHOR,
) -> pd.DataFrame:
    """Recorded diary days of one client (unvalidated piece for :func:`diary_days`).

    Parameters
    ----------
    days : iterable of int
        The recorded days (a row each). Every day named below must be among them.
    headache : days with ``headache`` True (False on the other recorded days).
    migraine, not_migraine : days with ``migraine`` reported True / False (else <NA>).
    pain : day -> ``peak_pain`` (0-10); hours : day -> ``pain_hours``.
    features : day -> names among aura, nausea, photophobia, phonophobia set True (the
        others <NA> that day; every feature is <NA> on days not listed).
    acute : days with ``acute_medication``; triptan : days with
        ``migraine_specific_medication`` only (acute_medication left as given by ``acute``).
    stress, sleep : one value for every recorded day, or day -> value (else NaN).
    """
    days = sorted(set(int(d) for d in days))
    recorded = set(days)
    pain, hours, features = dict(pain or {}), dict(hours or {}), dict(features or {})
    named = [*headache, *migraine, *not_migraine, *pain, *hours, *features, *acute, *triptan]
    for mapping in (stress, sleep):
        if isinstance(mapping, Mapping):
            named.extend(mapping)
    missing = sorted(set(named) - recorded)
    if missing:
        raise ValueError(f"days {missing} are named but not recorded for client {patient}")

    def flags(chosen: Iterable[int]) -> np.ndarray:
        return np.isin(days, list(chosen))

    def values(spec: float | Mapping[int, float] | None) -> list[float]:
        if spec is None:
            return [np.nan] * len(days)
        if isinstance(spec, Mapping):
            return [float(spec.get(d, np.nan)) for d in days]
        return [float(spec)] * len(days)

    reported = pd.array([pd.NA] * len(days), dtype="boolean")
    reported[flags(migraine)] = True
    reported[flags(not_migraine)] = False
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series([pid(patient)] * len(days), dtype="str"),
            "date": _dates(days, anchor),
            "headache": flags(headache),
            "migraine": reported,
            "peak_pain": values(pain),
            "pain_hours": values(hours),
            "acute_medication": flags(acute),
            "migraine_specific_medication": flags(triptan),
            "stress": values(stress),
            "sleep_quality": values(sleep),
            "source": pd.Series([source] * len(days), dtype="str"),
        }
    )
    for feature in FEATURES:
        present = pd.array([pd.NA] * len(days), dtype="boolean")
        present[flags([d for d, names in features.items() if feature in set(names)])] = True
        frame[feature] = present
    return frame


def diary_days(*pieces: pd.DataFrame) -> pd.DataFrame:
    """Validated canonical ``diary_days`` from :func:`diary` pieces (none = empty table)."""
    frame = pd.concat(pieces, ignore_index=True) if pieces else diary("empty", [])
    return schema.DiaryDays.validate(frame)


# --------------------------------------------------------------------------- attack logs


def attack(
    patient: str,
    day: int,
    hours: float,
    *,
    start_hour: float = 8.0,
    pain: float = 6.0,
    triptan: bool = False,
    anchor: pd.Timestamp = ANCHOR,
) -> dict:
    """One logged attack starting on day ``day`` at ``start_hour`` and lasting ``hours``."""
    start = on(day, anchor) + pd.Timedelta(hours=start_hour)
    return {
        "patient_id": pid(patient),
        "start": start,
        "end": start + pd.Timedelta(hours=hours),
        "duration_hours": float(hours),
        "ongoing": False,
        "peak_pain": float(pain),
        "acute_medication": triptan,
        "migraine_specific_medication": triptan,
        "aura": False,
        "nausea": True,
        "photophobia": False,
        "phonophobia": False,
    }


def attacks(*rows: dict | list[dict]) -> pd.DataFrame:
    """Validated canonical ``attacks`` from :func:`attack` rows."""
    frame = pd.DataFrame(_flatten(rows)).astype(
        {"patient_id": "str", "start": "datetime64[ns]", "end": "datetime64[ns]"}
    )
    return schema.Attacks.validate(_with_provenance(frame, "attacks/test.csv"))


def covered(patient: str, first_day: int, last_day: int, anchor: pd.Timestamp = ANCHOR) -> dict:
    """An attack-log client's coverage, days ``first_day..last_day`` inclusive."""
    return {
        "patient_id": pid(patient),
        "diary_start": on(first_day, anchor),
        "diary_end": on(last_day, anchor),
    }


def coverage(*rows: dict) -> pd.DataFrame:
    """Validated canonical ``coverage`` from :func:`covered` rows."""
    frame = pd.DataFrame(list(rows), columns=["patient_id", "diary_start", "diary_end"]).astype(
        {"patient_id": "str", "diary_start": "datetime64[ns]", "diary_end": "datetime64[ns]"}
    )
    return schema.Coverage.validate(_with_provenance(frame, "coverage/test.csv"))


# --------------------------------------------------------------------------- questionnaires


def answered(
    patient: str, day: int, instrument: str, value: float, anchor: pd.Timestamp = ANCHOR
) -> dict:
    """One completed questionnaire on day ``day``."""
    return {
        "patient_id": pid(patient),
        "date": on(day, anchor),
        "instrument": instrument,
        "score": float(value),
    }


def questionnaires(*rows: dict) -> pd.DataFrame:
    """Validated canonical ``questionnaires`` from :func:`answered` rows."""
    frame = pd.DataFrame(list(rows), columns=["patient_id", "date", "instrument", "score"]).astype(
        {"patient_id": "str", "date": "datetime64[ns]", "instrument": "str", "score": "float64"}
    )
    return schema.Questionnaires.validate(_with_provenance(frame, "questionnaires/test.csv"))
