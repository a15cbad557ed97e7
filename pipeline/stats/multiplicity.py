"""Multiplicity adjustment across the claims' primary tests (R's ``p.adjust``).

* Holm (1979) step-down, the default: controls the family-wise error rate.
* Benjamini-Hochberg (1995) step-up (``"bh"``): controls the false discovery rate.

NaN p-values stay NaN and are left out of the family, as in R, where ``n`` defaults to
the number of non-missing p-values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipeline.stats._util import as_float_array

METHODS = {"holm": "holm", "bh": "bh", "fdr": "bh"}


def adjust_pvalues(
    pvalues: Sequence[float] | pd.Series, method: str = "holm"
) -> np.ndarray | pd.Series:
    """Adjust p-values for multiple testing, as R's ``p.adjust(p, method)``.

    Parameters
    ----------
    pvalues : array-like of float or pandas.Series
        Raw p-values in [0, 1]; NaN marks a test that could not be run.
    method : {"holm", "bh"}
        ``"holm"`` (family-wise error rate) or ``"bh"`` (Benjamini-Hochberg false
        discovery rate; ``"fdr"`` and ``"BH"`` are accepted as aliases).

    Returns
    -------
    numpy.ndarray or pandas.Series
        Adjusted p-values in the input order (a Series keeps its index); NaN where the
        input was NaN.
    """
    kind = METHODS.get(method.lower())
    if kind is None:
        raise ValueError(f"unknown multiplicity method {method!r}; use 'holm' or 'bh'")
    p = as_float_array(pvalues)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = present.size
    if m:
        values = p[present]
        if kind == "holm":
            order = np.argsort(values, kind="stable")
            steps = np.maximum.accumulate((m - np.arange(m)) * values[order])
        else:
            order = np.argsort(-values, kind="stable")
            steps = np.minimum.accumulate(m / np.arange(m, 0, -1) * values[order])
        result = np.empty(m)
        result[order] = np.minimum(steps, 1.0)
        adjusted[present] = result
    if isinstance(pvalues, pd.Series):
        return pd.Series(adjusted, index=pvalues.index, name=pvalues.name)
    return adjusted
