"""Walsh averages: the pairwise means ``(x_i + x_j) / 2`` for ``i <= j``.

The Hodges-Lehmann estimate of a one-sample (paired) location shift is the median of
the n(n + 1)/2 Walsh averages. For small n they are listed and sorted. For large n
(100,000 clients make 5e9 averages) the wanted order statistic is selected without
listing them all: the sums ``x_i + x_j`` of a sorted vector form a matrix whose rows are
sorted, so the number of sums below a pivot is found in every row at once (a
``searchsorted``, checked on the computed sums, bisection where rounding leaves doubt);
random pivots shrink each row's window of candidates until few enough remain to list.
Floating-point addition is monotone, so the counts are exact. For an even number of
averages, the upper middle one is the lower one again or the next larger sum.
"""

from __future__ import annotations

import numpy as np

from pipeline.stats._util import NAN

LIST_LIMIT = 2_000_000
"""Up to this many Walsh averages are listed and sorted rather than selected."""


def walsh_averages(x: np.ndarray) -> np.ndarray:
    """All Walsh averages ``(x_i + x_j) / 2``, ``i <= j``, sorted ascending.

    Parameters
    ----------
    x : numpy.ndarray
        Values (for the signed-rank test: the non-zero paired differences).

    Returns
    -------
    numpy.ndarray
        n(n + 1)/2 values, computed as R's ``outer(x, x, "+") / 2``.
    """
    x = np.asarray(x, dtype=np.float64)
    i, j = np.triu_indices(x.size)
    return np.sort((x[i] + x[j]) / 2)


def walsh_median(x: np.ndarray, list_limit: int = LIST_LIMIT) -> float:
    """Median of the Walsh averages (the Hodges-Lehmann location estimate).

    Parameters
    ----------
    x : numpy.ndarray
        Values without NaN; empty input gives NaN.
    list_limit : int
        Above this many Walsh averages the median is found by selection (same result).

    Returns
    -------
    float
        The median of the n(n + 1)/2 Walsh averages, in the units of ``x``.
    """
    x = np.sort(np.asarray(x, dtype=np.float64))
    total = x.size * (x.size + 1) // 2
    if total == 0:
        return NAN
    wanted = sorted({(total - 1) // 2, total // 2})
    if total <= list_limit:
        averages = walsh_averages(x)
        picked = [averages[k] for k in wanted]
    else:
        low = _pair_sum_order_statistic(x, wanted[0], list_limit)
        picked = [low / 2]
        if len(wanted) == 2:  # the next order statistic: low again, or the next larger sum
            picked.append(_next_pair_sum(x, low, wanted[1]) / 2)
    return float(np.mean(picked))


def _next_pair_sum(x: np.ndarray, value: float, k: int) -> float:
    """The k-th smallest (0-based) pair sum of sorted ``x``, given that the (k-1)-th is ``value``.

    It is ``value`` itself when more than k sums are at most ``value``; otherwise the
    smallest sum above ``value``: in each row, the first column past ``value``.
    """
    rows = np.arange(x.size)
    first_above = _count_below(x, rows, rows, np.full(x.size, x.size), value, strict=False)
    if int((first_above - rows).sum()) > k:
        return float(value)
    has = first_above < x.size
    return float((x[rows[has]] + x[first_above[has]]).min())


def _count_below(
    x: np.ndarray, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray, pivot: float, strict: bool
) -> np.ndarray:
    """Per row i, the first column j in [lo, hi) with x_i + x_j >= pivot (> pivot if not strict).

    ``hi`` where none qualifies. The column where ``x_j`` crosses ``pivot - x_i`` is found by
    one ``searchsorted`` and checked on the computed sums at its two sides (the sums of a
    row are sorted, so that decides it); the few rows where rounding puts the true column
    elsewhere are settled by a vectorised bisection on the sums themselves.
    """
    row_values = x[rows]
    guess = np.searchsorted(x, pivot - row_values, side="left" if strict else "right")
    guess = np.clip(guess, lo, hi)
    last = x.size - 1

    def below(columns: np.ndarray) -> np.ndarray:
        sums = row_values + x[np.clip(columns, 0, last)]
        return sums < pivot if strict else sums <= pivot

    settled = ((guess == lo) | below(guess - 1)) & ((guess == hi) | ~below(guess))
    if settled.all():
        return guess
    unsettled = np.flatnonzero(~settled)
    result = guess.copy()
    result[unsettled] = _bisect_below(
        x, row_values[unsettled], lo[unsettled], hi[unsettled], pivot, strict
    )
    return result


def _bisect_below(
    x: np.ndarray,
    row_values: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    pivot: float,
    strict: bool,
) -> np.ndarray:
    """:func:`_count_below` by bisection on the sums (all rows at once)."""
    left, right = lo.copy(), hi.copy()
    last = x.size - 1
    while True:
        active = left < right
        if not active.any():
            return left
        middle = (left + right) // 2
        sums = row_values + x[np.minimum(middle, last)]
        below = sums < pivot if strict else sums <= pivot
        left = np.where(active & below, middle + 1, left)
        right = np.where(active & ~below, middle, right)


def _pair_sum_order_statistic(x: np.ndarray, k: int, list_limit: int) -> float:
    """The k-th smallest (0-based) of the sums ``x_i + x_j``, ``i <= j``, of sorted ``x``.

    Floyd-Rivest style: two pivots drawn from a random sample of the remaining candidates
    bracket the wanted rank, so each round keeps only a small slice of the candidates.
    """
    rows = np.arange(x.size)
    lo = rows.copy()  # row i holds the columns j >= i
    hi = np.full(x.size, x.size)
    below = 0  # sums known to be smaller than every remaining candidate
    rng = np.random.default_rng(0)  # pivots only steer the search; the result is exact
    while True:
        keep = hi > lo
        rows, lo, hi = rows[keep], lo[keep], hi[keep]
        sizes = hi - lo
        ends = np.cumsum(sizes)
        remaining = int(ends[-1])
        if remaining <= list_limit:
            row_of = np.repeat(np.arange(rows.size), sizes)
            cols = lo[row_of] + np.arange(remaining) - (ends - sizes)[row_of]
            sums = x[rows[row_of]] + x[cols]
            return float(np.partition(sums, k - below)[k - below])
        picks = rng.integers(remaining, size=_SAMPLE)
        at = np.searchsorted(ends, picks, side="right")
        sample = np.sort(x[rows[at]] + x[lo[at] + picks - (ends - sizes)[at]])
        share = (k - below + 0.5) / remaining
        spread = 3.0 / np.sqrt(_SAMPLE)
        pivots = (
            sample[int(np.clip(np.floor((share - spread) * _SAMPLE), 0, _SAMPLE - 1))],
            sample[int(np.clip(np.ceil((share + spread) * _SAMPLE), 0, _SAMPLE - 1))],
        )
        new_lo, new_hi, new_below = lo, hi, below
        for pivot in pivots:
            lt = _count_below(x, rows, lo, hi, pivot, strict=True)
            le = _count_below(x, rows, lt, hi, pivot, strict=False)
            n_lt = below + int((lt - lo).sum())
            n_le = below + int((le - lo).sum())
            if k < n_lt:
                new_hi = np.minimum(new_hi, lt)
                break
            if k < n_le:
                return float(pivot)
            new_lo, new_below = le, n_le
        lo, hi, below = new_lo, new_hi, new_below


_SAMPLE = 4001
