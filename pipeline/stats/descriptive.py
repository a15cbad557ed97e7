"""Means with t-based confidence intervals, and the one-sample t test.

The one-sample t test is the shared core of the paired t test (a one-sample test of the
differences against 0, R's ``t.test(after, before, paired = TRUE)``) and of the placebo
benchmark (a test of the changes against a reference change, ``t.test(x, mu = -1.8)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pipeline.stats._util import NAN, add_note, as_float_array, check_confidence, num


def t_interval(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised t-based confidence limits ``mean -/+ t(1 - alpha/2, n - 1) * sd / sqrt(n)``.

    Parameters
    ----------
    mean, sd, n : numpy.ndarray
        Per-group mean, standard deviation (n - 1 denominator) and count.
    confidence : float
        Two-sided confidence level, e.g. 0.95.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper limits; NaN where ``n < 2``.
    """
    mean, sd, n = (np.asarray(v, dtype=np.float64) for v in (mean, sd, n))
    with np.errstate(all="ignore"):
        df = np.where(n >= 2, n - 1, np.nan)
        quantile = stats.t.ppf(0.5 + confidence / 2, df)
        half = quantile * sd / np.sqrt(n)
    return mean - half, mean + half


def one_sample_t(values: Sequence[float], mu: float = 0.0, confidence: float = 0.95) -> dict:
    """One-sample t test of the mean against ``mu``, two-sided, as R's ``t.test(x, mu = mu)``.

    Parameters
    ----------
    values : array-like of float
        Observations (for a paired design: the differences follow-up - baseline).
        NaN values are dropped and counted.
    mu : float
        Hypothesised mean, in the units of ``values``.
    confidence : float
        Level of the confidence interval of the mean.

    Returns
    -------
    dict
        ``n``, ``n_missing``, ``mean``, ``sd`` (n - 1 denominator), ``se``, ``t`` (=
        (mean - mu) / se), ``df`` (n - 1), ``p`` (two-sided), ``ci_low``, ``ci_high`` (CI of
        the mean, not of mean - mu), ``mu``, ``confidence``, ``notes``. Quantities that
        cannot be computed are NaN and a note says why: fewer than 2 values, or data that
        are essentially constant (R's rule: se < 10 * machine epsilon * abs(mean)).
    """
    confidence = check_confidence(confidence)
    x = as_float_array(values)
    finite = np.isfinite(x)
    x = x[finite]
    n = int(x.size)
    notes: list[str] = []
    out = {
        "n": n,
        "n_missing": int((~finite).sum()),
        "mean": num(x.mean()) if n else NAN,
        "sd": num(x.std(ddof=1)) if n >= 2 else NAN,
        "se": NAN,
        "t": NAN,
        "df": float(n - 1) if n >= 2 else NAN,
        "p": NAN,
        "ci_low": NAN,
        "ci_high": NAN,
        "mu": float(mu),
        "confidence": confidence,
        "notes": notes,
    }
    if n < 2:
        add_note(notes, f"{'no values' if n == 0 else 'one value'}: t test not computed")
        return out
    se = out["sd"] / math.sqrt(n)
    out["se"] = se
    if se < 10 * np.finfo(float).eps * abs(out["mean"]) or se == 0:
        add_note(notes, "data are essentially constant: t test not computed")
        return out
    t_value = (out["mean"] - mu) / se
    low, high = t_interval(out["mean"], out["sd"], n, confidence)
    out.update(
        t=t_value,
        p=num(2 * stats.t.sf(abs(t_value), n - 1)),
        ci_low=num(low),
        ci_high=num(high),
    )
    return out


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> dict:
    """Mean of a vector with its t-based confidence interval (NaN values dropped).

    Parameters
    ----------
    values : array-like of float
        Observations in any unit; the interval is in the same unit.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    dict
        ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``. The interval is NaN with fewer
        than 2 values and has zero width when all values are equal.
    """
    confidence = check_confidence(confidence)
    x = as_float_array(values)
    x = x[np.isfinite(x)]
    n = x.size
    mean = num(x.mean()) if n else NAN
    sd = num(x.std(ddof=1)) if n >= 2 else NAN
    low, high = t_interval(mean, sd, n, confidence)
    return {"n": int(n), "mean": mean, "sd": sd, "ci_low": num(low), "ci_high": num(high)}


def grouped_mean_ci(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    value: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per-group mean with a t-based confidence interval, without a Python loop over groups.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long table with the grouping column(s) and the value column.
    by : str or sequence of str
        Grouping column(s), e.g. ``"week"`` for the weekly trajectory figure.
    value : str
        Numeric column; NaN values are ignored (not counted in ``n``).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per observed group, sorted by the group keys: the ``by`` columns, then
        ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high`` (NaN interval where n < 2).
    """
    confidence = check_confidence(confidence)
    keys = [by] if isinstance(by, str) else list(by)
    numeric = pd.to_numeric(frame[value], errors="raise").astype("float64")
    summary = (
        numeric.groupby([frame[k] for k in keys], observed=True, sort=True, dropna=True)
        .agg(["count", "mean", "std"])
        .rename(columns={"count": "n", "std": "sd"})
        .reset_index()
    )
    low, high = t_interval(summary["mean"], summary["sd"], summary["n"], confidence)
    summary["n"] = summary["n"].astype("int64")
    summary["ci_low"] = low
    summary["ci_high"] = high
    return summary[[*keys, "n", "mean", "sd", "ci_low", "ci_high"]]
