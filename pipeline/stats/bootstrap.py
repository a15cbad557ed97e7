"""Bias-corrected and accelerated (BCa) bootstrap intervals for the mean and median change.

A robustness view next to the t interval (mean) and the Hodges-Lehmann interval: no
normality assumption, and the median is the typical client's change.

Method (Efron and Tibshirani 1993, ch. 14): B resamples of the n values are drawn with
replacement as one index matrix (``Generator.integers(0, n, size=(B, n))``, in chunks of
rows when B x n is large, never one resample at a time). Their means and medians are the
numbers ``block.mean(axis=1)`` and ``np.median(block, axis=1)`` give, computed on
cache-sized pieces of each chunk; the medians come from counts below and a histogram
inside a narrow band of values around the sample median (see ``_BandMedian``), not from
partitioning every resample. With theta the estimate and theta*_b the resample
estimates:

* bias correction ``z0 = Phi^-1((#{theta*_b < theta} + #{theta*_b <= theta}) / (2B))``
  (ties with theta count half, which matters for the median of integer counts);
* acceleration ``a = sum(u^3) / (6 (sum u^2)^1.5)`` with ``u_i = mean(theta_(.)) -
  theta_(i)`` from the jackknife; the leave-one-out means and medians have closed forms,
  so no loop over clients; ``a`` is set to 0 (with a note) when the jackknife values do
  not vary;
* limits = the ``Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q)))`` percentiles of theta*, for
  ``z_q`` the alpha/2 and 1 - alpha/2 normal quantiles (linear interpolation).

With the same seed and B x n within one chunk, the resamples are those of
``scipy.stats.bootstrap(..., method="BCa", rng=numpy.random.default_rng(seed))``, and so
are the limits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import special

from pipeline.stats._util import (
    DEFAULT_SEED,
    NAN,
    add_note,
    as_float_array,
    check_confidence,
)

CHUNK_ELEMENTS = 4_000_000
"""Largest resample block drawn at once (resamples x n); bounds memory (~64 MB)."""

CACHE_ELEMENTS = 1 << 17
"""Resampled values estimated at once (~1 MB): the block stays in the CPU cache between the
passes over it (mean, median). Only the work is split; the draws are those of the block."""

BAND_SD = 5.0
"""Half-width, in standard deviations of a resample median's rank, of the value band the
median bootstrap histograms; a row whose median falls outside it (a chance of about
1e-6) is partitioned instead, so the width changes the speed, never the result."""

_STATISTICS: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "median": np.median}


def _jackknife(sorted_values: np.ndarray, statistic: str) -> np.ndarray:
    """Leave-one-out estimates (closed form) for the mean or median of sorted values."""
    n = sorted_values.size
    if statistic == "mean":
        return (sorted_values.sum() - sorted_values) / (n - 1)
    # Leaving out sorted position k shifts the values above k down by one place.
    m = n - 1
    left, right = (m - 1) // 2, m // 2  # median positions among the n - 1 left
    k = np.arange(n)

    def kept(position: int) -> np.ndarray:
        return np.where(position < k, sorted_values[position], sorted_values[position + 1])

    return (kept(left) + kept(right)) / 2


class _BandMedian:
    """Row medians of resample blocks of one vector, equal to ``np.median(block, axis=1)``.

    A resample median lies, with overwhelming probability, among the sorted values within
    ``BAND_SD`` standard deviations (``sqrt(n) / 2`` ranks) of the sample median. Each row
    is therefore reduced to two counts (values below the band, values inside it) and a
    histogram of its few values inside the band, from which its middle order statistics
    are read; a row whose middle falls outside the band (or any row, for tiny n) is
    partitioned as before. The medians are the same numbers ``np.median`` gives.
    """

    def __init__(self, values: np.ndarray) -> None:
        ordered = np.sort(values)
        n = ordered.size
        self.middle = np.array([(n - 1) // 2, n // 2])
        half_width = int(np.ceil(BAND_SD * np.sqrt(n) / 2)) + 1
        self.low = ordered[max(self.middle[0] - half_width, 0)]
        self.high = ordered[min(self.middle[1] + half_width, n - 1)]
        self.levels = np.unique(ordered[(ordered >= self.low) & (ordered <= self.high)])
        # histogram bin of each value (meaningful for the values inside the band)
        self.level_of = np.searchsorted(self.levels, values)

    def __call__(self, block: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Medians of the rows of ``block = values[indices]``."""
        rows = block.shape[0]
        below = np.count_nonzero(block < self.low, axis=1)
        inside = (block >= self.low) & (block <= self.high)
        n_inside = np.count_nonzero(inside, axis=1)
        # 0-based ranks of the two middle values among each row's values inside the band
        wanted = self.middle[None, :] - below[:, None]
        fits = (wanted[:, 0] >= 0) & (wanted[:, 1] < n_inside)
        medians = np.empty(rows)
        if fits.any():
            m = self.levels.size
            bins = np.repeat(np.arange(rows) * m, n_inside) + self.level_of[indices[inside]]
            counts = np.bincount(bins, minlength=rows * m).reshape(rows, m)
            cumulative = np.cumsum(counts[fits], axis=1)
            picked = [
                self.levels[np.count_nonzero(cumulative <= wanted[fits, j, None], axis=1)]
                for j in (0, 1)
            ]
            medians[fits] = (picked[0] + picked[1]) / 2
        if not fits.all():
            medians[~fits] = np.median(block[~fits], axis=1)
        return medians


def _row_means(block: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return block.mean(axis=1)


def _resample_estimates(
    values: np.ndarray,
    statistics: Sequence[str],
    n_resamples: int,
    rng: np.random.Generator,
    chunk_elements: int,
) -> dict[str, np.ndarray]:
    """Bootstrap distributions of several statistics from one shared set of resamples."""
    n = values.size
    rows = max(1, chunk_elements // n)
    make = {"mean": lambda: _row_means, "median": lambda: _BandMedian(values)}
    estimators = {name: make[name]() for name in statistics}
    cached = max(1, CACHE_ELEMENTS // n)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in statistics}
    for start in range(0, n_resamples, rows):  # blocks of resamples, not one at a time
        drawn = rng.integers(0, n, size=(min(rows, n_resamples - start), n))
        for first in range(0, drawn.shape[0], cached):  # estimated in cache-sized pieces
            indices = drawn[first : first + cached]
            block = values[indices]
            for name, estimate in estimators.items():
                parts[name].append(estimate(block, indices))
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def _bca_limits(
    values: np.ndarray, estimates: np.ndarray, statistic: str, confidence: float, notes: list
) -> tuple[float, float, float, float]:
    """BCa limits from a bootstrap distribution; returns (low, high, z0, acceleration)."""
    theta = float(_STATISTICS[statistic](values))
    share = (np.count_nonzero(estimates < theta) + np.count_nonzero(estimates <= theta)) / (
        2 * estimates.size
    )
    z0 = float(special.ndtri(share))
    if not np.isfinite(z0):
        add_note(notes, f"bootstrap {statistic}: every resample on one side, BCa undefined")
        return NAN, NAN, z0, NAN
    jack = _jackknife(np.sort(values), statistic)
    spread = jack.mean() - jack
    scale = float((spread**2).sum())
    if scale > 0:
        acceleration = float((spread**3).sum() / (6 * scale**1.5))
    else:
        acceleration = 0.0
        add_note(notes, f"bootstrap {statistic}: jackknife values equal, acceleration set to 0")
    alpha = 1 - confidence
    z = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
    shares = special.ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z)))
    if not np.isfinite(shares).all():
        add_note(notes, f"bootstrap {statistic}: BCa percentiles undefined")
        return NAN, NAN, z0, acceleration
    low, high = np.percentile(estimates, shares * 100)
    return float(low), float(high), z0, acceleration


def bootstrap_bca(
    values: Sequence[float],
    statistic: str = "mean",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> dict:
    """BCa bootstrap confidence interval for the mean or median of a vector.

    Parameters
    ----------
    values : array-like of float
        Observations (e.g. changes follow-up - baseline); NaN values are dropped.
    statistic : {"mean", "median"}
        The estimate to interval.
    confidence : float
        Two-sided level.
    n_resamples : int
        Number of bootstrap resamples B.
    seed : int, numpy.random.Generator or None
        Seed of ``numpy.random.default_rng`` (default: study.toml's ``[analysis] seed``
        default), or a Generator to draw from.
    chunk_elements : int
        Largest block of resampled values drawn at once (memory bound).

    Returns
    -------
    dict
        ``statistic``, ``n``, ``estimate``, ``ci_low``, ``ci_high``, ``confidence``,
        ``n_resamples``, ``z0`` (bias correction), ``acceleration``, ``notes``. NaN
        interval with a note for fewer than 2 values; zero width for constant values.
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(_STATISTICS)}, got {statistic!r}")
    return _bootstrap(values, (statistic,), confidence, n_resamples, seed, chunk_elements)[
        statistic
    ]


def _bootstrap(
    values: Sequence[float],
    statistics: Sequence[str],
    confidence: float,
    n_resamples: int,
    seed: int | np.random.Generator | None,
    chunk_elements: int,
) -> dict[str, dict]:
    confidence = check_confidence(confidence)
    if n_resamples < 1:
        raise ValueError("n_resamples must be at least 1")
    x = as_float_array(values)
    x = x[np.isfinite(x)]
    results = {}
    for name in statistics:
        results[name] = {
            "statistic": name,
            "n": int(x.size),
            "estimate": float(_STATISTICS[name](x)) if x.size else NAN,
            "ci_low": NAN,
            "ci_high": NAN,
            "confidence": confidence,
            "n_resamples": int(n_resamples),
            "z0": NAN,
            "acceleration": NAN,
            "notes": [],
        }
    if x.size < 2:
        for result in results.values():
            add_note(
                result["notes"], f"fewer than 2 values: bootstrap {result['statistic']} not run"
            )
        return results
    if np.ptp(x) == 0:
        for result in results.values():
            result.update(ci_low=result["estimate"], ci_high=result["estimate"])
            add_note(result["notes"], "all values equal: bootstrap interval has zero width")
        return results
    rng = np.random.default_rng(seed)
    estimates = _resample_estimates(x, statistics, n_resamples, rng, chunk_elements)
    for name, result in results.items():
        with np.errstate(all="ignore"):
            low, high, z0, acceleration = _bca_limits(
                x, estimates[name], name, confidence, result["notes"]
            )
        result.update(ci_low=low, ci_high=high, z0=z0, acceleration=acceleration)
    return results


def bootstrap_change(
    before: Sequence[float],
    after: Sequence[float],
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int | np.random.Generator | None = DEFAULT_SEED,
    chunk_elements: int = CHUNK_ELEMENTS,
) -> dict:
    """BCa bootstrap intervals of the mean and the median change (after - before).

    Parameters
    ----------
    before, after : array-like of float
        Paired baseline and follow-up values; pairs with NaN are dropped and counted.
    confidence, n_resamples, seed, chunk_elements
        As for :func:`bootstrap_bca`; the mean and the median share one set of resamples.

    Returns
    -------
    dict
        ``n``, ``n_missing``, ``mean_change``, ``mean_ci_low``, ``mean_ci_high``,
        ``median_change``, ``median_ci_low``, ``median_ci_high``, ``confidence``,
        ``n_resamples``, ``notes``. Negative changes mean fewer migraine days.
    """
    b, a = as_float_array(before), as_float_array(after)
    if b.shape != a.shape:
        raise ValueError(f"before and after differ in length: {b.size} and {a.size}")
    complete = np.isfinite(a) & np.isfinite(b)
    diffs = a[complete] - b[complete]
    both = _bootstrap(diffs, ("mean", "median"), confidence, n_resamples, seed, chunk_elements)
    notes: list[str] = []
    for result in both.values():
        for note in result["notes"]:
            add_note(notes, note)
    return {
        "n": int(diffs.size),
        "n_missing": int((~complete).sum()),
        "mean_change": both["mean"]["estimate"],
        "mean_ci_low": both["mean"]["ci_low"],
        "mean_ci_high": both["mean"]["ci_high"],
        "median_change": both["median"]["estimate"],
        "median_ci_low": both["median"]["ci_low"],
        "median_ci_high": both["median"]["ci_high"],
        "confidence": both["mean"]["confidence"],
        "n_resamples": both["mean"]["n_resamples"],
        "notes": notes,
    }
