"""Wilcoxon signed-rank test with the Hodges-Lehmann estimate and interval, as R does it.

Reproduces R's ``wilcox.test(after, before, paired = TRUE, conf.int = TRUE,
correct = TRUE)`` (R 4.x, ``stats:::wilcox.test.default``):

* zero differences are dropped first; n is the number of non-zero differences;
* V is the sum of the ranks of ``|d|`` (mid-ranks for ties) over the positive ``d``;
* exact null distribution when n < 50 and there are neither ties nor zeros; otherwise
  the normal approximation with the tie correction of the variance and a continuity
  correction of 0.5 towards the null;
* interval, exact case: order statistics of the sorted Walsh averages picked with
  R's ``qsignrank``; normal case: R's root-finding of the standardized statistic
  (with the same tie and continuity corrections, re-ranked at every trial shift) by
  Brent's method on [min(d), max(d)] to R's tolerance ``tol.root = 1e-4``, widening
  alpha as R does when the requested level cannot be reached.

The point estimate reported is the median of the Walsh averages of the non-zero
differences: R's estimate in the exact case, and the value R's root-finding approximates
(to about 1e-4) in the normal-approximation case.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, stats

from pipeline.stats._util import NAN, add_note, signif
from pipeline.stats.walsh import walsh_averages, walsh_median

EXACT_LIMIT = 50
"""R uses the exact distribution below this many non-zero differences (no ties)."""
TOL_ROOT = 1e-4
"""R's default ``tol.root`` for the interval's root-finding."""


@functools.lru_cache(maxsize=EXACT_LIMIT)
def _null_cumulative(n: int) -> np.ndarray:
    """Exact null distribution of V: ``cum[v]`` = number of the 2^n sign patterns with V <= v.

    Built by the subset-sum recursion over the ranks 1..n (a loop over n < 50, not data).
    """
    counts = np.zeros(n * (n + 1) // 2 + 1, dtype=np.int64)
    counts[0] = 1
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank]
    return np.cumsum(counts)


def _p_lower(v: float, n: int) -> float:
    """P(V <= v) under the null (R's ``psignrank(v, n)``)."""
    cum = _null_cumulative(n)
    v = math.floor(v + 1e-7)
    if v < 0:
        return 0.0
    return float(cum[min(v, cum.size - 1)] / 2.0**n)


def _p_upper(v: float, n: int) -> float:
    """P(V >= v) under the null (R's ``psignrank(v - 1, n, lower.tail = FALSE)``)."""
    cum = _null_cumulative(n)
    v = math.floor(v - 1 + 1e-7)
    if v < 0:
        return 1.0
    return float((2**n - int(cum[min(v, cum.size - 1)])) / 2.0**n)


def _quantile(p: float, n: int) -> int:
    """R's ``qsignrank(p, n)``: the smallest q with P(V <= q) >= p (with R's fuzz)."""
    cum = _null_cumulative(n) / 2.0**n
    eps = np.finfo(float).eps
    if p <= 0.5:
        return int(np.searchsorted(cum, p - 10 * eps, side="left"))
    upper = 1 - p + 10 * eps
    return int(cum.size - 1 - np.searchsorted(cum, upper, side="right"))


def _midranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mid-ranks of ``values`` (1-based, ties share the mean rank) and the tie-group sizes."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(starts) - 1
    sizes = np.bincount(group)
    mid = np.cumsum(sizes) - (sizes - 1) / 2.0
    ranks = np.empty(values.size)
    ranks[order] = mid[group]
    return ranks, sizes


def _standardized(ordered: np.ndarray, shift: float, correct: bool) -> float:
    """R's standardized signed-rank statistic of ``x - shift`` (zeros dropped, re-ranked).

    ``(V - n(n+1)/4 - c) / sigma`` with the tie-corrected sigma and the continuity
    correction ``c = sign(V - n(n+1)/4) / 2`` when ``correct``; NaN when sigma is 0.

    ``ordered`` is x sorted ascending. Then ``x - shift`` is sorted too, and its absolute
    values are two ascending runs (the negatives reversed, then the positives), which the
    stable sort inside :func:`_midranks` merges in linear time: re-ranking at every trial
    shift costs O(n), not O(n log n). Same values, same mid-ranks as ranking ``|x - shift|``.
    """
    moved = ordered - shift
    moved = moved[moved != 0]
    n = moved.size
    split = int(np.searchsorted(moved, 0.0))
    ranks, ties = _midranks(np.r_[-moved[:split][::-1], moved[split:]])
    centred = ranks[split:].sum() - n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - (ties**3 - ties).sum() / 48
    if variance <= 0:
        return NAN
    correction = np.sign(centred) * 0.5 if correct else 0.0
    return float((centred - correction) / math.sqrt(variance))


def _exact_interval(x: np.ndarray, confidence: float, notes: list[str]) -> tuple[float, ...]:
    """R's exact Hodges-Lehmann interval: order statistics of the Walsh averages."""
    n = x.size
    alpha = 1 - confidence
    averages = walsh_averages(x)
    upper_rank = max(_quantile(alpha / 2, n), 1)
    lower_rank = n * (n + 1) // 2 - upper_rank
    achieved = 2 * _p_lower(upper_rank - 1, n)
    level = confidence
    if achieved - alpha > alpha / 2:
        level = 1 - signif(achieved, 2)
        add_note(notes, f"Hodges-Lehmann interval: requested level not achievable, {level:g} used")
    return float(averages[upper_rank - 1]), float(averages[lower_rank]), level


def _normal_interval(
    x: np.ndarray, confidence: float, correct: bool, notes: list[str]
) -> tuple[float, ...]:
    """R's normal-approximation Hodges-Lehmann interval by root-finding (two-sided)."""
    alpha = 1 - confidence
    x = np.sort(x)
    low_end, high_end = float(x[0]), float(x[-1])
    at_low = _standardized(x, low_end, correct)
    at_high = _standardized(x, high_end, correct) if math.isfinite(at_low) else NAN
    if not math.isfinite(at_high):
        add_note(notes, "all non-zero differences are equal: Hodges-Lehmann interval not computed")
        return NAN, NAN, NAN
    for _ in range(64):  # R: double alpha until both ends bracket the quantiles
        if at_low - stats.norm.isf(alpha / 2) < 0 or at_high - stats.norm.ppf(alpha / 2) > 0:
            alpha *= 2
        else:
            break
    level = confidence
    if alpha >= 1 or 1 - confidence < alpha * 0.75:
        level = 1 - min(1.0, alpha)
        add_note(notes, f"Hodges-Lehmann interval: requested level not achievable, {level:g} used")
    if alpha >= 1:
        middle = float(np.median(x))
        return middle, middle, level

    def root(target: float) -> float:
        return optimize.brentq(
            lambda shift: _standardized(x, shift, correct) - target,
            low_end,
            high_end,
            xtol=TOL_ROOT,
            rtol=4 * np.finfo(float).eps,
            maxiter=1000,
        )

    try:
        return root(stats.norm.isf(alpha / 2)), root(stats.norm.ppf(alpha / 2)), level
    except (RuntimeError, ValueError) as exc:  # no bracket or no convergence
        add_note(notes, f"Hodges-Lehmann interval: root-finding failed ({exc})")
        return NAN, NAN, NAN


def signed_rank_test(diffs: np.ndarray, confidence: float = 0.95, correct: bool = True) -> dict:
    """Wilcoxon signed-rank test of ``diffs`` against 0 with the Hodges-Lehmann estimate.

    Parameters
    ----------
    diffs : numpy.ndarray
        Paired differences follow-up - baseline, without NaN.
    confidence : float
        Level of the Hodges-Lehmann interval.
    correct : bool
        Continuity correction in the normal approximation (R's ``correct = TRUE``).

    Returns
    -------
    dict
        ``wilcoxon_V`` (sum of positive ranks; 0 when every difference is 0, as R),
        ``p_wilcoxon`` (two-sided), ``wilcoxon_exact`` (bool), ``n_zero_diffs``,
        ``hodges_lehmann`` (median of the Walsh averages of the non-zero differences,
        same units as ``diffs``), ``hl_ci_low``, ``hl_ci_high``, ``hl_ci_level`` (the level
        actually achieved; R lowers it when the requested one is out of reach), ``notes``.
    """
    notes: list[str] = []
    zero = diffs == 0
    x = diffs[~zero]
    n = x.size
    out = {
        "wilcoxon_V": NAN,
        "p_wilcoxon": NAN,
        "wilcoxon_exact": False,
        "n_zero_diffs": int(zero.sum()),
        "hodges_lehmann": NAN,
        "hl_ci_low": NAN,
        "hl_ci_high": NAN,
        "hl_ci_level": NAN,
        "notes": notes,
    }
    if diffs.size == 0:
        add_note(notes, "no pairs: Wilcoxon test not computed")
        return out
    if n == 0:
        out["wilcoxon_V"] = 0.0
        add_note(notes, "all differences are zero: Wilcoxon p-value and Hodges-Lehmann undefined")
        return out
    ranks, ties = _midranks(np.abs(x))
    v = float(ranks[x > 0].sum())
    has_ties = bool((ties > 1).any())
    exact = n < EXACT_LIMIT and not has_ties and not zero.any()
    out.update(wilcoxon_V=v, wilcoxon_exact=exact, hodges_lehmann=walsh_median(x))
    if exact:
        tail = _p_upper(v, n) if v > n * (n + 1) / 4 else _p_lower(v, n)
        out["p_wilcoxon"] = min(2 * tail, 1.0)
        low, high, level = _exact_interval(x, confidence, notes)
    else:
        if n < EXACT_LIMIT:
            add_note(notes, "ties or zero differences: Wilcoxon uses the normal approximation")
        centred = v - n * (n + 1) / 4
        sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - (ties**3 - ties).sum() / 48)
        z = (centred - (np.sign(centred) * 0.5 if correct else 0.0)) / sigma
        out["p_wilcoxon"] = float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))
        low, high, level = _normal_interval(x, confidence, correct, notes)
    out.update(hl_ci_low=float(low), hl_ci_high=float(high), hl_ci_level=float(level))
    return out
