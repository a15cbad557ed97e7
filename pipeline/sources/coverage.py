"""``coverage``: ``patient_id, diary_start, diary_end``: the days an attack-log client kept
the app. An attack log has no headache-free days, so coverage decides which days were
recorded; without it the client's windows are not evaluable.
"""

from __future__ import annotations

import pandas as pd

from pipeline.schema import Coverage
from pipeline.sources.base import AdapterSpec, RowBatch

#: Longest plausible coverage of one row (a typo in a year would otherwise add decades of
#: headache-free "recorded" days).
MAX_COVERAGE_DAYS = 3 * 366


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical coverage columns.

    Quarantined: an end before its start (``inverted_range``), and a range longer than
    :data:`MAX_COVERAGE_DAYS` days (``out_of_range``): every covered day counts as a
    recorded diary day, so an implausible range would silently inflate compliance.
    """
    start = batch.date("diary_start")
    end = batch.date("diary_end")
    inverted = (end < start).to_numpy(dtype=bool)
    batch.problems.add(inverted, "diary_end", "inverted_range", "diary_end lies before diary_start")
    too_long = ((end - start).dt.days >= MAX_COVERAGE_DAYS).to_numpy(dtype=bool)
    batch.problems.add(
        too_long, "diary_end", "out_of_range", f"coverage longer than {MAX_COVERAGE_DAYS} days"
    )
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
