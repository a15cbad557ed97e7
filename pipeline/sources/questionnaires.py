"""``questionnaires``: ``patient_id, date, instrument, score`` (HIT-6, MIDAS, PSS-10, ...).

Instrument names are matched to the study's configured instruments (name or alias,
ignoring case, spaces and hyphens); a score outside its instrument's range is
quarantined.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.schema import Questionnaires
from pipeline.sources.base import AdapterSpec, RowBatch


def _instrument_key(text: pd.Series | str) -> pd.Series | str:
    if isinstance(text, str):
        return re.sub(r"[^a-z0-9]", "", text.lower())
    return text.str.lower().str.replace(r"[^a-z0-9]", "", regex=True)


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical questionnaire columns (see :class:`pipeline.schema.Questionnaires`)."""
    instruments = batch.config.analysis.instruments
    lookup = {
        _instrument_key(alias): name
        for name, spec in instruments.items()
        for alias in (name, *spec.aliases)
    }
    missing = batch.require("instrument")
    instrument = _instrument_key(batch.text("instrument")).map(lookup).astype("str")
    unknown = instrument.isna().to_numpy() & ~missing
    batch.problems.add(
        unknown,
        "instrument",
        "unknown_instrument",
        batch.quoted("instrument", "is not a configured instrument ([analysis.instruments])"),
    )
    score = batch.number("score", required=True)
    low = instrument.map({n: s.range[0] for n, s in instruments.items()}).astype("float64")
    high = instrument.map({n: s.range[1] for n, s in instruments.items()}).astype("float64")
    outside = ((score < low) | (score > high)).to_numpy(dtype=bool)

    def detail(positions):
        bounds = (
            low.iloc[positions].map("{:g}".format) + "-" + high.iloc[positions].map("{:g}".format)
        )
        shown = batch.preview("score", positions)
        return ("'" + shown + "' is outside the instrument's range " + bounds.to_numpy()).to_numpy()

    batch.problems.add(outside, "score", "out_of_range", detail)
    return pd.DataFrame(
        {
            "patient_id": batch.patient_id(),
            "date": batch.date("date"),
            "instrument": instrument,
            "score": score.where(~pd.Series(np.asarray(outside), index=score.index)),
        },
        index=batch.raw.index,
    )


SPEC = AdapterSpec(
    name="questionnaires",
    required=("patient_id", "date", "instrument", "score"),
    optional=(),
    model=Questionnaires,
    normalise=normalise,
)
