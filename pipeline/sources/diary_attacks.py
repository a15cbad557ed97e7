"""``diary_attacks``: one row per attack from a Migraine Buddy style app export.

One file per client; the client id is the file name stem unless a ``patient_id`` column
exists. Up to 10 preamble lines (which may hold the client's name: never read) precede
the header row, whose first cell is ``#``. ``Started`` is a date-time in the source's
``datetime_format``; ``Lasted`` a duration (``06h 00m``, ``45m``, ``1d 02h``, ``Ongoing``).
Symptoms and auras are comma lists matched against the study's symptom vocabulary;
the four medication columns are pooled. ``Notes`` and ``Triggers`` are never read out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import fields
from pipeline.schema import Attacks
from pipeline.sources.base import AdapterSpec, RowBatch

MAX_DURATION_HOURS = 24 * 31  # the Attacks schema's upper bound for duration_hours
MEDICATION_COLUMNS = (
    "helpful_medication",
    "somewhat_helpful_medication",
    "unhelpful_medication",
    "unsure_medication",
)


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical attack columns (see :class:`pipeline.schema.Attacks`).

    ``end`` = ``start`` + duration; NaT when the attack is ongoing or its duration is
    blank (it then counts on its start day only). ``aura`` is True when the Auras column
    names anything other than a no word, or a symptom is an aura word.
    """
    start = batch.datetime("started")
    duration = fields.parse_duration(batch.text("lasted"))
    batch.problems.add(
        duration.bad,
        "lasted",
        "bad_duration",
        batch.quoted("lasted", "is not a duration like '06h 00m', '45m' or 'Ongoing'"),
    )
    hours = duration.hours
    # An absurd duration ("99999999999999999999h") is quarantined by the schema's range
    # check on duration_hours (at most 31 days); it must not overflow the end time first.
    end = start + pd.to_timedelta(hours.where(hours <= MAX_DURATION_HOURS), unit="h")
    symptoms = batch.text("symptoms")
    vocabulary = batch.config.vocabulary.symptoms
    has_aura_entry = (
        ~batch.blank("auras")
        & ~batch.text("auras")
        .str.strip()
        .str.lower()
        .isin({w.lower() for w in (*batch.config.vocabulary.no, "none")})
        .to_numpy()
    )
    medication = batch.medication(*MEDICATION_COLUMNS)
    return pd.DataFrame(
        {
            "patient_id": batch.patient_id(),  # from the file name unless a column holds it
            "start": start,
            "end": end,
            "duration_hours": hours,
            "ongoing": duration.ongoing,
            "peak_pain": batch.pain("pain_level"),
            "acute_medication": medication.acute,
            "migraine_specific_medication": medication.migraine_specific,
            "aura": has_aura_entry | fields.contains_any(symptoms, vocabulary.get("aura", ())),
            "nausea": fields.contains_any(symptoms, vocabulary.get("nausea", ())),
            "photophobia": fields.contains_any(symptoms, vocabulary.get("photophobia", ())),
            "phonophobia": fields.contains_any(symptoms, vocabulary.get("phonophobia", ())),
        },
        index=batch.raw.index,
    ).astype({"aura": bool, "ongoing": np.bool_})


SPEC = AdapterSpec(
    name="diary_attacks",
    required=("started",),
    optional=(
        "patient_id",
        "#",
        "lasted",
        "pain_level",
        "pain_position",
        "symptoms",
        "auras",
        "premonitory_symptoms",
        *MEDICATION_COLUMNS,
        "triggers",
        "notes",
    ),  # fmt: skip
    private_text=("pain_position", "premonitory_symptoms", "triggers", "notes"),
    model=Attacks,
    normalise=normalise,
    header_marker="#",
    id_from_file_name=True,
)
