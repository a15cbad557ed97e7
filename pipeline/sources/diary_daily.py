"""``diary_daily``: one row per client per diary day from a paper or online daily form.

A row present means the diary was kept that day, even with no headache.
"""

from __future__ import annotations

import pandas as pd

from pipeline.schema import DiaryDaily
from pipeline.sources.base import AdapterSpec, RowBatch

FEATURES = ("aura", "nausea", "photophobia", "phonophobia")


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical diary-day columns (see :class:`pipeline.schema.DiaryDaily`).

    ``peak_pain`` is on 0-10 (a declared 0-3 scale is rescaled); ``pain_hours`` in hours;
    ``acute_medication`` is True for any drug name or yes word; the migraine-specific flag
    for triptans, gepants, ditans and ergots named in the study's medication lists.
    """
    medication = batch.medication("acute_medication")
    headache = batch.yes_no("headache", required=True)
    return pd.DataFrame(
        {
            "patient_id": batch.patient_id(),
            "date": batch.date("date"),
            "headache": headache.fillna(False).astype(bool),
            "migraine": batch.yes_no("migraine"),
            "peak_pain": batch.pain("peak_pain"),
            "pain_hours": batch.number("pain_hours"),
            "acute_medication": medication.acute,
            "migraine_specific_medication": medication.migraine_specific,
            **{feature: batch.yes_no(feature) for feature in FEATURES},
            "stress": batch.number("stress"),
            "sleep_quality": batch.number("sleep_quality"),
        },
        index=batch.raw.index,
    )


SPEC = AdapterSpec(
    name="diary_daily",
    required=("patient_id", "date", "headache"),
    optional=(
        "migraine",
        "peak_pain",
        "pain_hours",
        "acute_medication",
        *FEATURES,
        "stress",
        "sleep_quality",
    ),  # fmt: skip
    model=DiaryDaily,
    normalise=normalise,
)
