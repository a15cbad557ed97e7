"""Shared helpers of the statistics engine: input coercion, JSON-safe numbers, notes.

Every public function of :mod:`pipeline.stats` returns plain Python numbers (``float``,
``int``, ``bool``) and a ``notes`` list of short strings that say why a quantity is NaN
or how a result was obtained. Warnings raised by numpy, scipy or statsmodels inside a
computation are caught here and turned into notes, so nothing reaches the console.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd

from pipeline.config import AnalysisSection

NAN = float("nan")
DEFAULT_SEED: int = AnalysisSection.model_fields["seed"].default
"""Default bootstrap seed: the ``[analysis] seed`` default of study.toml."""


def as_float_array(values: object) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array; None, ``pd.NA`` and NaN become NaN.

    Parameters
    ----------
    values : array-like
        Numbers (list, numpy array, pandas Series, nullable pandas dtypes).

    Returns
    -------
    numpy.ndarray
        One-dimensional float64 array (a view when no conversion was needed).

    Raises
    ------
    ValueError
        A value is not a number (text, for instance): a caller's error, not data.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(np.float64, copy=False).ravel()
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if len(series) == 0:
        return np.empty(0, dtype=np.float64)
    try:
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"expected numbers, got values such as {series.iloc[0]!r}") from exc


def check_confidence(confidence: float) -> float:
    """Validate a confidence level in (0, 1) and return it as a float."""
    confidence = float(confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    return confidence


def num(value: object) -> float:
    """A plain Python float (NaN for None); numpy scalars become floats."""
    if value is None:
        return NAN
    return float(value)  # type: ignore[arg-type]


def add_note(notes: list[str], note: str) -> None:
    """Append ``note`` to ``notes`` unless it is already there."""
    if note not in notes:
        notes.append(note)


@contextlib.contextmanager
def warnings_as_notes(notes: list[str], context: str) -> Iterator[None]:
    """Run a block with warnings recorded into ``notes`` instead of being shown.

    Floating-point errors are silenced inside the block (callers check degenerate
    inputs explicitly before computing); any warning still raised (scipy precision
    warnings, statsmodels convergence warnings) is kept as ``"<context>: <message>"``.
    """
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        yield
    for item in caught:
        message = str(item.message).strip().splitlines()
        add_note(notes, f"{context}: {message[0] if message else item.category.__name__}")


def signif(value: float, digits: int) -> float:
    """Round to ``digits`` significant digits (R's ``signif``)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))
