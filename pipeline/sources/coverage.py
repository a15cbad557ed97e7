"""``coverage``: ``patient_id, diary_start, diary_end``: the days an attack-log client kept
the app. An attack log has no headache-free days, so coverage decides which days were
recorded; without it the client's windows are not evaluable.
"""

from __future__ import annotations

import pandas as pd

from pipeline.schema import Coverage
from pipeline.sources.base import AdapterSpec, RowBatch


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical coverage columns; an end before its start is quarantined."""
    start = batch.date("diary_start")
    end = batch.date("diary_end")
    inverted = (end < start).to_numpy(dtype=bool)
    batch.problems.add(inverted, "diary_end", "inverted_range", "diary_end lies before diary_start")
    return pd.DataFrame(
        {"patient_id": batch.patient_id(), "diary_start": start, "diary_end": end},
        index=batch.raw.index,
    )


SPEC = AdapterSpec(
    name="coverage",
    required=("patient_id", "diary_start", "diary_end"),
    optional=(),
    model=Coverage,
    normalise=normalise,
)
