"""Pandera models of the canonical tables written to data/processed.

Every canonical table carries its provenance: ``source_file`` (path relative to the raw
folder), ``source_row`` (1-based data row in that file) and ``row_key`` (a keyed hash of
the raw values, used to find the same record in two overlapping exports).

Conventions
-----------
- ``patient_id`` is always a pseudonym (``P-`` + 16 hex digits), never the clinic's id.
- Dates are ``datetime64[ns]`` at midnight (calendar days, no time zone).
- Optional yes/no fields are pandas nullable ``boolean`` (``<NA>`` = not recorded).
- Scores and amounts are float64 with NaN for "not recorded".
- No table holds a name, email, phone number or free text.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

PSEUDONYM_PATTERN = r"^P-[0-9a-f]{16}$"
PRACTITIONER_PATTERN = r"^S-[0-9a-f]{16}$"


class _Provenance(pa.DataFrameModel):
    source_file: Series[str]
    source_row: Series[int] = pa.Field(ge=1)
    row_key: Series[int]

    class Config:
        strict = False
        coerce = False


class Sessions(_Provenance):
    """``sessions``: one row per appointment."""

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    date: Series[pd.Timestamp]
    start_minute: Series[float] = pa.Field(ge=0, lt=24 * 60, nullable=True)
    is_therapy: Series[bool]
    attended: Series[bool]
    status: Series[str]
    duration_min: Series[float] = pa.Field(gt=0, le=24 * 60, nullable=True)
    practitioner: Series[str] = pa.Field(str_matches=PRACTITIONER_PATTERN, nullable=True)
    adverse_event: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    ae_resolved_hours: Series[float] = pa.Field(ge=0, le=24 * 60, nullable=True)
    group: Series[str] = pa.Field(nullable=True)


class DiaryDaily(_Provenance):
    """``diary_daily``: one row per client per diary day from a daily form."""

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    date: Series[pd.Timestamp]
    headache: Series[bool]
    migraine: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    peak_pain: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    pain_hours: Series[float] = pa.Field(ge=0, le=24, nullable=True)
    acute_medication: Series[bool]
    migraine_specific_medication: Series[bool]
    aura: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    nausea: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    photophobia: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    phonophobia: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    stress: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    sleep_quality: Series[float] = pa.Field(ge=0, le=10, nullable=True)


class Attacks(_Provenance):
    """``attacks``: one row per attack from a Migraine Buddy style log.

    ``end`` is NaT for an attack still ``Ongoing`` at export; ``duration_hours`` is then NaN.
    """

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    start: Series[pd.Timestamp]
    end: Series[pd.Timestamp] = pa.Field(nullable=True)
    duration_hours: Series[float] = pa.Field(ge=0, le=24 * 31, nullable=True)
    ongoing: Series[bool]
    peak_pain: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    acute_medication: Series[bool]
    migraine_specific_medication: Series[bool]
    aura: Series[bool]
    nausea: Series[bool]
    photophobia: Series[bool]
    phonophobia: Series[bool]


class Coverage(_Provenance):
    """``coverage``: the days an attack-log client kept the app (inclusive range)."""

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    diary_start: Series[pd.Timestamp]
    diary_end: Series[pd.Timestamp]


class Questionnaires(_Provenance):
    """``questionnaires``: one row per completed questionnaire."""

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    date: Series[pd.Timestamp]
    instrument: Series[str]
    score: Series[float]


class DiaryDays(pa.DataFrameModel):
    """``diary_days``: one row per client per recorded day, all diary sources merged.

    A row present means the day was recorded (a daily form was kept, or the day lies in
    an attack-log client's coverage). ``source`` is ``daily``, ``attacks`` or ``both``.
    """

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    date: Series[pd.Timestamp]
    headache: Series[bool]
    migraine: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    peak_pain: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    pain_hours: Series[float] = pa.Field(ge=0, le=24, nullable=True)
    acute_medication: Series[bool]
    migraine_specific_medication: Series[bool]
    aura: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    nausea: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    photophobia: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    phonophobia: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    stress: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    sleep_quality: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    source: Series[str] = pa.Field(isin=["daily", "attacks", "both"])

    class Config:
        strict = False
        coerce = False
        unique = ["patient_id", "date"]


class PatientLinks(_Provenance):
    """``patient_links``: diary id -> practice-system id and keyed contact hashes.

    ``link_email``, ``link_phone``, ``link_name`` are keyed hashes (never the values).
    """

    patient_id: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN)
    client_pid: Series[str] = pa.Field(str_matches=PSEUDONYM_PATTERN, nullable=True)
    link_email: Series[str] = pa.Field(nullable=True)
    link_phone: Series[str] = pa.Field(nullable=True)
    link_name: Series[str] = pa.Field(nullable=True)
