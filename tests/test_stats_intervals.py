"""Proportions, multiplicity, bootstrap and mean intervals against R (and scipy).

R 4.2.2 calls are written beside each pinned value.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipeline.stats import (
    adjust_pvalues,
    bootstrap_bca,
    bootstrap_change,
    clopper_pearson_ci,
    grouped_mean_ci,
    mean_ci,
    proportion_summary,
    proportion_table,
    signed_rank_test,
    wilson_ci,
)
from pipeline.stats.bootstrap import _jackknife

# Any warning reaching the console from the code under test fails the test.
pytestmark = pytest.mark.filterwarnings("error")

REL = 1e-6

# (x, n): prop.test(x, n, correct = FALSE)$conf.int, binom.test(x, n)$conf.int
PROPORTIONS = [
    (7, 23, (0.15604024453214, 0.508657562687592), (0.1321028796981, 0.529191666008507)),
    (0, 15, (0.0, 0.203883301035849), (0.0, 0.218019360910534)),
    (15, 15, (0.796116698964151, 1.0), (0.781980639089466, 1.0)),
    (1, 40, (0.00442683150268139, 0.128813689634741), (0.000632744932049419, 0.131585858482766)),
    (180, 600, (0.264699453217042, 0.337845227188438), (0.263560547563134, 0.338421634117742)),
]


@pytest.mark.parametrize(("k", "n", "wilson", "exact"), PROPORTIONS)
def test_proportion_intervals_match_r(k, n, wilson, exact):
    r = proportion_summary(k, n)
    assert (r["wilson_low"], r["wilson_high"]) == pytest.approx(wilson, rel=REL, abs=1e-15)
    assert (r["cp_low"], r["cp_high"]) == pytest.approx(exact, rel=REL, abs=1e-15)
    assert r["proportion"] == k / n


def test_proportion_intervals_at_other_levels_and_vectorised():
    # prop.test(7, 23, conf.level = 0.9, correct = FALSE)$conf.int
    assert wilson_ci(7, 23, 0.9) == pytest.approx((0.174249078145929, 0.475631889511025), rel=REL)
    # binom.test(7, 23, conf.level = 0.9)$conf.int
    assert clopper_pearson_ci(7, 23, 0.9) == pytest.approx(
        (0.152479687429677, 0.496435083714063), rel=REL
    )
    low, high = wilson_ci(np.array([k for k, *_ in PROPORTIONS]), [n for _, n, *_ in PROPORTIONS])
    assert low == pytest.approx([w[0] for *_, w, _ in PROPORTIONS], rel=REL, abs=1e-15)
    assert high == pytest.approx([w[1] for *_, w, _ in PROPORTIONS], rel=REL)


def test_empty_proportion_is_nan_with_note():
    r = proportion_summary(0, 0)
    assert math.isnan(r["proportion"]) and math.isnan(r["wilson_low"])
    assert math.isnan(r["cp_high"]) and r["notes"]


def test_proportion_table_matches_r_and_the_scalar_version():
    counts = pd.Series([3, 7, 0, 0], index=["w1", "w2", "w3", "w4"])
    table = proportion_table(counts, [5, 23, 15, 0])
    assert list(table.index) == ["w1", "w2", "w3", "w4"]
    # binom.test(3, 5)$conf.int
    assert (table.cp_low.w1, table.cp_high.w1) == pytest.approx(
        (0.146632799634673, 0.947255049473683), rel=REL
    )
    # prop.test(3, 5, correct = FALSE)$conf.int
    assert (table.wilson_low.w1, table.wilson_high.w1) == pytest.approx(
        (0.230724281276013, 0.882379225767352), rel=REL
    )
    scalar = proportion_summary(7, 23)
    assert table.loc["w2", ["wilson_low", "cp_high"]].tolist() == [
        scalar["wilson_low"],
        scalar["cp_high"],
    ]
    assert table.loc["w3", "cp_low"] == 0 and table.loc["w3", "proportion"] == 0
    assert table.loc["w4", ["proportion", "wilson_low", "cp_high"]].isna().all()
    with pytest.raises(ValueError):
        proportion_table([4], [3])


P_WITH_NA = [0.01, 0.04, np.nan, 0.03, 0.005, 0.2, 0.04]


def test_holm_and_bh_match_r_with_missing():
    # p.adjust(c(0.01, 0.04, NA, 0.03, 0.005, 0.2, 0.04), "holm")
    holm = [0.05, 0.12, np.nan, 0.12, 0.03, 0.2, 0.12]
    # p.adjust(c(0.01, 0.04, NA, 0.03, 0.005, 0.2, 0.04), "BH")
    bh = [0.03, 0.048, np.nan, 0.048, 0.03, 0.2, 0.048]
    assert adjust_pvalues(P_WITH_NA) == pytest.approx(holm, rel=REL, nan_ok=True)
    assert adjust_pvalues(P_WITH_NA, "bh") == pytest.approx(bh, rel=REL, nan_ok=True)


def test_holm_and_bh_match_r():
    p = pd.Series([0.001, 0.012, 0.02, 0.044, 0.3, 0.8], index=list("abcdef"))
    # p.adjust(c(0.001, 0.012, 0.02, 0.044, 0.3, 0.8), "holm")
    holm = adjust_pvalues(p)
    assert holm.tolist() == pytest.approx([0.006, 0.06, 0.08, 0.132, 0.6, 0.8], rel=REL)
    assert list(holm.index) == list("abcdef")
    # p.adjust(c(0.001, 0.012, 0.02, 0.044, 0.3, 0.8), "BH")
    bh = adjust_pvalues(p, "BH")
    assert bh.tolist() == pytest.approx([0.006, 0.036, 0.04, 0.066, 0.36, 0.8], rel=REL)


def test_multiplicity_edge_cases():
    assert adjust_pvalues([]).size == 0
    assert np.isnan(adjust_pvalues([np.nan, np.nan])).all()
    with pytest.raises(ValueError, match="unknown"):
        adjust_pvalues([0.1], "bonferroni-ish")


def test_mean_ci_matches_r():
    x = [3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9]
    # t.test(x)$conf.int
    r = mean_ci(x)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(
        (2.96286616652209, 5.31213383347791), rel=REL
    )
    # t.test(x, conf.level = 0.8)$conf.int
    r = mean_ci(x, 0.8)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((3.43463250801001, 4.84036749199), rel=REL)
    assert math.isnan(mean_ci([2.0])["ci_low"]) and mean_ci([2.0])["mean"] == 2.0


def test_grouped_mean_ci_equals_per_group_mean_ci():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "week": rng.integers(-4, 12, 3000),
            "arm": rng.choice(["a", "b"], 3000),
            "value": rng.normal(5, 2, 3000),
        }
    )
    frame.loc[rng.choice(3000, 200, replace=False), "value"] = np.nan
    frame.loc[len(frame)] = {"week": 99, "arm": "a", "value": 1.0}  # a group of one
    table = grouped_mean_ci(frame, ["week", "arm"], "value", 0.9)
    assert len(table) == frame.groupby(["week", "arm"]).ngroups
    for row in table.sample(8, random_state=1).itertuples():
        subset = frame.loc[(frame.week == row.week) & (frame.arm == row.arm), "value"]
        single = mean_ci(subset, 0.9)
        assert row.n == single["n"]
        assert (row.mean, row.ci_low, row.ci_high) == pytest.approx(
            (single["mean"], single["ci_low"], single["ci_high"]), rel=1e-12
        )
    lone = table[table.week == 99].iloc[0]
    assert lone.n == 1 and math.isnan(lone.ci_low)


@pytest.mark.parametrize(("statistic", "function"), [("mean", np.mean), ("median", np.median)])
def test_bca_equals_scipy_on_the_same_resamples(statistic, function):
    values = np.random.default_rng(5).normal(-1.5, 3, 37)
    ours = bootstrap_bca(values, statistic, 0.9, n_resamples=999, seed=12)
    reference = stats.bootstrap(
        (values,),
        function,
        n_resamples=999,
        method="BCa",
        confidence_level=0.9,
        rng=np.random.default_rng(12),
    ).confidence_interval
    assert (ours["ci_low"], ours["ci_high"]) == pytest.approx(
        (reference.low, reference.high), rel=1e-12
    )


def test_jackknife_closed_forms_equal_leave_one_out():
    rng = np.random.default_rng(6)
    for n in (2, 3, 10, 11):
        values = np.sort(rng.integers(0, 6, n).astype(float))
        for statistic, function in (("mean", np.mean), ("median", np.median)):
            brute = [function(np.delete(values, i)) for i in range(n)]
            assert _jackknife(values, statistic) == pytest.approx(brute, rel=1e-12)


def test_bootstrap_is_seeded_and_chunking_keeps_distribution():
    rng = np.random.default_rng(7)
    before = rng.poisson(9, 400).astype(float)
    after = before + rng.normal(-2, 3, 400)
    first = bootstrap_change(before, after, n_resamples=1000, seed=3)
    assert first == bootstrap_change(before, after, n_resamples=1000, seed=3)
    chunked = bootstrap_change(before, after, n_resamples=1000, seed=3, chunk_elements=5000)
    # different blocks draw different resamples, but the same interval within MC error
    assert chunked["mean_ci_low"] == pytest.approx(first["mean_ci_low"], abs=0.1)
    t_interval = mean_ci(after - before)
    assert first["mean_ci_low"] == pytest.approx(t_interval["ci_low"], abs=0.1)
    assert first["mean_ci_high"] == pytest.approx(t_interval["ci_high"], abs=0.1)
    assert first["median_ci_low"] < first["median_change"] < first["median_ci_high"]


def test_bca_covers_the_mean_of_skewed_data():
    rng = np.random.default_rng(8)
    covered = []
    for _ in range(300):
        sample = rng.exponential(2.0, 40) - 2.0  # true mean 0
        r = bootstrap_bca(sample, "mean", n_resamples=500, seed=rng)
        covered.append(r["ci_low"] <= 0.0 <= r["ci_high"])
    assert 0.90 <= np.mean(covered) <= 0.98


def test_bootstrap_degenerate_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = bootstrap_change([1.0], [3.0])
        constant = bootstrap_change([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
        empty = bootstrap_bca([], "median")
    assert math.isnan(single["mean_ci_low"]) and single["notes"]
    assert constant["median_ci_low"] == constant["median_ci_high"] == 1.0 and constant["notes"]
    assert math.isnan(empty["estimate"]) and empty["notes"]


def test_exact_signed_rank_p_values_equal_scipy():
    rng = np.random.default_rng(10)
    for n in (1, 2, 5, 13, 30, 49):
        d = rng.normal(0.3, 1, n)
        ours = signed_rank_test(d)
        assert ours["wilcoxon_exact"]
        reference = stats.wilcoxon(d, method="exact")
        assert ours["p_wilcoxon"] == pytest.approx(reference.pvalue, rel=1e-12)
