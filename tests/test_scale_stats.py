"""The fast paths of the statistics engine give the numbers of the plain computations.

Each fast path (bootstrap medians from a band histogram, signed-rank statistics from
merged sorted runs, the next Walsh order statistic, day numbers by integer division) is
checked for equality, not closeness, against the obvious computation it replaced: same
seed, same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.cohort import _epoch_days
from pipeline.stats import bootstrap
from pipeline.stats.signed_rank import _standardized
from pipeline.stats.walsh import walsh_averages, walsh_median


def _days_per_28_changes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Heavily tied values like the migraine-day changes of a real study."""
    before = rng.integers(0, 20, n) * 28 / rng.integers(14, 29, n)
    after = rng.integers(0, 20, n) * 28 / rng.integers(14, 29, n)
    return after - before


def _plain_resampling(values, n_resamples, seed, chunk_elements):
    """Index matrix per block of resamples, then row means and ``np.median``."""
    rng = np.random.default_rng(seed)
    n = values.size
    rows = max(1, chunk_elements // n)
    means, medians = [], []
    for start in range(0, n_resamples, rows):
        block = values[rng.integers(0, n, size=(min(rows, n_resamples - start), n))]
        means.append(block.mean(axis=1))
        medians.append(np.median(block, axis=1))
    return np.concatenate(means), np.concatenate(medians)


CASES = [
    ("ties", 2, 4_000_000),
    ("ties", 3, 4_000_000),
    ("ties", 1_001, 4_000_000),
    ("ties", 20_000, 4_000_000),
    ("ties", 20_001, 50_000),
    ("normal", 999, 4_000_000),
    ("normal", 30_000, 100_000),
    ("integers", 5_000, 4_000_000),
]


@pytest.mark.parametrize(("kind", "n", "chunk"), CASES)
def test_bootstrap_distributions_equal_plain_resampling(kind, n, chunk):
    rng = np.random.default_rng(n)
    values = {
        "ties": lambda: _days_per_28_changes(rng, n),
        "normal": lambda: rng.normal(-1, 3, n),
        "integers": lambda: rng.integers(-5, 6, n).astype(float),
    }[kind]()
    got = bootstrap._resample_estimates(
        values, ("mean", "median"), 301, np.random.default_rng(42), chunk
    )
    means, medians = _plain_resampling(values, 301, 42, chunk)
    assert np.array_equal(got["mean"], means)
    assert np.array_equal(got["median"], medians)


def test_band_median_rows_outside_the_band_fall_back_to_numpy(monkeypatch):
    rng = np.random.default_rng(3)
    values = _days_per_28_changes(rng, 4_000)
    indices = rng.integers(0, values.size, size=(200, values.size))
    block = values[indices]
    for width in (0.0, 0.3, 1.0, 5.0):  # from every row outside the band to almost none
        monkeypatch.setattr(bootstrap, "BAND_SD", width)
        median = bootstrap._BandMedian(values)
        assert np.array_equal(median(block, indices), np.median(block, axis=1))


def test_bootstrap_change_of_50000_pairs_equals_the_plain_bca():
    rng = np.random.default_rng(5)
    before = rng.integers(0, 20, 50_000) * 28 / rng.integers(14, 29, 50_000)
    after = before + rng.normal(-1, 3, 50_000).round(1)
    fast = bootstrap.bootstrap_change(before, after, n_resamples=400, seed=9)
    diffs = after - before
    means, medians = _plain_resampling(diffs, 400, 9, bootstrap.CHUNK_ELEMENTS)
    for name, estimates in (("mean", means), ("median", medians)):
        low, high, _, _ = bootstrap._bca_limits(diffs, estimates, name, 0.95, [])
        assert (fast[f"{name}_ci_low"], fast[f"{name}_ci_high"]) == (low, high)


def _ranked_statistic(x: np.ndarray, shift: float, correct: bool = True) -> float:
    """R's standardized signed-rank statistic by ranking ``|x - shift|`` from scratch."""
    moved = x - shift
    moved = moved[moved != 0]
    n = moved.size
    ranks = stats.rankdata(np.abs(moved))
    centred = ranks[moved > 0].sum() - n * (n + 1) / 4
    _, ties = np.unique(np.abs(moved), return_counts=True)
    variance = n * (n + 1) * (2 * n + 1) / 24 - (ties**3 - ties).sum() / 48
    correction = np.sign(centred) * 0.5 if correct else 0.0
    return float((centred - correction) / np.sqrt(variance))


@pytest.mark.parametrize("kind", ["ties", "normal", "halves"])
def test_signed_rank_statistic_at_any_shift_equals_ranking_from_scratch(kind):
    rng = np.random.default_rng(11)
    x = {
        "ties": lambda: _days_per_28_changes(rng, 3_000),
        "normal": lambda: rng.normal(0.5, 2, 2_001),
        "halves": lambda: rng.integers(-8, 9, 1_500) / 2,
    }[kind]()
    ordered = np.sort(x)
    shifts = [*rng.choice(x, 10), *rng.uniform(x.min(), x.max(), 10), 0.0, 0.25, x.min()]
    for shift in shifts:
        for correct in (True, False):
            assert _standardized(ordered, float(shift), correct) == _ranked_statistic(
                x, float(shift), correct
            ), shift


@pytest.mark.parametrize(
    "values",
    [
        np.repeat([-1.0, 0.0, 2.0], [700, 100, 700]),  # middle averages equal
        np.repeat([-3.0, -1.0, 1.0, 4.0], [400, 350, 350, 399]),
        np.r_[np.zeros(1000), np.ones(1000)],  # even total, the two middle averages differ
        np.random.default_rng(2).integers(-6, 7, 2_400).astype(float),
        np.random.default_rng(3).normal(size=2_001),
    ],
)
def test_walsh_median_by_selection_equals_listing(values):
    listed = np.median(walsh_averages(values))
    assert walsh_median(values, list_limit=1_000) == listed


@pytest.mark.parametrize("unit", ["ns", "us", "ms", "s", "D"])
def test_epoch_days_equal_numpy_day_casting(unit):
    rng = np.random.default_rng(4)
    seconds = rng.integers(-(10**9), 10**9, 2_000)
    dates = seconds.astype("datetime64[s]").astype(f"datetime64[{unit}]")
    dates[::13] = np.datetime64("NaT")
    expected = dates.astype("datetime64[D]").astype(np.int64)
    assert np.array_equal(_epoch_days(pd.Series(dates)), expected)
