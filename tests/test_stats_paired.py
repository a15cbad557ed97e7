"""paired_summary against R, on degenerate input, and in seeded simulations.

Reference values were computed with R 4.2.2 (``Rscript``); the R call is written beside
each pinned value. In R, the data sets below are typed exactly as here; ``d <- after -
before``; ``dzci(d)`` is the noncentral-t inversion in base R:

    dzci <- function(d, conf = 0.95) {
      n <- length(d); t <- mean(d) / (sd(d) / sqrt(n)); a <- 1 - conf
      f <- function(p) uniroot(function(ncp) pt(t, n - 1, ncp) - p,
                               c(t - 50, t + 50), tol = 1e-13)$root
      c(f(1 - a / 2), f(a / 2)) / sqrt(n) }
    walsh_median <- function(d) { d <- d[d != 0]; w <- outer(d, d, "+") / 2
      median(w[upper.tri(w, diag = TRUE)]) }
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from pipeline.stats import paired_summary, signed_rank_test, walsh_median
from pipeline.stats.walsh import walsh_averages

# Any warning reaching the console from the code under test fails the test.
pytestmark = pytest.mark.filterwarnings("error")

REL = 1e-6
CONTRACT_KEYS = (
    "n mean_before mean_after mean_diff sd_diff t df p_t ci_low ci_high dz wilcoxon_V "
    "p_wilcoxon hodges_lehmann hl_ci_low hl_ci_high p_sign shapiro_W shapiro_p"
).split()
EXTRA_KEYS = (
    "n_missing dz_ci_low dz_ci_high d_av wilcoxon_exact n_zero_diffs median_diff notes"
).split()

# R: datasets::sleep; before <- sleep$extra[sleep$group == 1]; after <- ...group == 2
SLEEP_BEFORE = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_AFTER = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]

# Ties and zeros (migraine days): 5 zero differences, tied |d|.
TIES_BEFORE = [8, 10, 6, 12, 9, 7, 14, 5, 11, 8, 10, 9, 13, 6, 7]
TIES_AFTER = [6, 10, 4, 9, 9, 8, 10, 5, 7, 8, 6, 7, 12, 3, 7]

# Small, no ties, no zeros: R uses the exact signed-rank distribution.
EXACT_BEFORE = [12.1, 9.4, 15.2, 7.8, 10.9, 13.3, 8.6, 11.7, 14.5, 9.9, 12.8, 10.2]
EXACT_AFTER = [10.4, 9.1, 11.9, 8.6, 8.2, 12.1, 6.0, 11.2, 10.7, 8.0, 13.4, 6.3]

# n = 60, no ties or zeros: normal approximation because n >= 50.
# R: set.seed(1); b <- round(rnorm(60, 10, 3), 3); a <- round(b + rnorm(60, -1, 2), 3)
LARGE_BEFORE = [
    8.121, 10.551, 7.493, 14.786, 10.989, 7.539, 11.462, 12.215, 11.727, 9.084, 14.535,
    11.17, 8.136, 3.356, 13.375, 9.865, 9.951, 12.832, 12.464, 11.782, 12.757, 12.346,
    10.224, 4.032, 11.859, 9.832, 9.533, 5.588, 8.566, 11.254, 14.076, 9.692, 11.163,
    9.839, 5.869, 8.755, 8.817, 9.822, 13.3, 12.29, 9.506, 9.24, 12.091, 11.67, 7.934,
    7.878, 11.094, 12.306, 9.663, 12.643, 11.194, 8.164, 11.023, 6.612, 14.299, 15.941,
    8.898, 6.868, 11.709, 9.595,
]  # fmt: skip
LARGE_AFTER = [
    11.924, 9.473, 7.872, 13.842, 8.502, 6.917, 6.852, 14.146, 11.034, 12.429, 14.486,
    8.75, 8.357, 0.488, 9.868, 9.448, 8.064, 11.834, 11.613, 9.603, 10.62, 11.076, 11.58,
    -0.015, 12.047, 9.498, 10.659, 3.98, 8.306, 10.788, 11.991, 11.108, 12.484, 10.239,
    8.043, 8.872, 5.264, 7.675, 9.851, 10.343, 7.265, 8.324, 9.269, 10.986, 5.625,
    10.413, 11.527, 13.126, 9.431, 15.007, 8.923, 6.241, 12.888, 4.311, 12.884, 14.155,
    7.258, 5.31, 11.697, 8.24,
]  # fmt: skip

# n = 80 integer counts with ties and zeros. R: set.seed(7); b <- rpois(80, 9); a <- rpois(80, 7)
COUNTS_BEFORE = [
    17, 8, 6, 5, 7, 11, 8, 15, 6, 9, 6, 7, 11, 5, 8, 5, 9, 3, 16, 7, 10, 7, 18, 13, 16, 5,
    10, 9, 15, 8, 10, 7, 6, 6, 8, 12, 9, 11, 12, 9, 11, 8, 11, 8, 13, 7, 5, 12, 13, 15, 9,
    11, 11, 10, 11, 8, 6, 6, 8, 7, 6, 9, 11, 10, 9, 10, 9, 9, 8, 8, 7, 10, 12, 10, 6, 9, 8,
    8, 10, 14,
]  # fmt: skip
COUNTS_AFTER = [
    10, 10, 5, 9, 6, 3, 4, 9, 6, 6, 6, 2, 11, 5, 8, 7, 7, 6, 9, 5, 6, 7, 7, 6, 8, 6, 12, 3,
    9, 5, 8, 6, 3, 9, 8, 8, 7, 9, 5, 10, 7, 7, 7, 5, 8, 6, 9, 4, 8, 4, 10, 9, 9, 7, 10, 8,
    10, 9, 9, 9, 8, 7, 5, 7, 5, 8, 5, 11, 3, 12, 4, 11, 5, 5, 5, 9, 7, 9, 14, 9,
]  # fmt: skip


def _check(result: dict, expected: dict, rel: float = REL) -> None:
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, rel=rel), key


def test_sleep_matches_r():
    r = paired_summary(SLEEP_BEFORE, SLEEP_AFTER)
    # t.test(after, before, paired = TRUE)
    _check(r, {"t": 4.06212768338204, "df": 9, "p_t": 0.00283289019738427})
    _check(r, {"ci_low": 0.700114236723018, "ci_high": 2.45988576327698, "mean_diff": 1.58})
    # wilcox.test(after, before, paired = TRUE, conf.int = TRUE, correct = TRUE)
    # (R warns: ties and zeroes, so the normal approximation)
    _check(r, {"wilcoxon_V": 45, "p_wilcoxon": 0.00909069801592506})
    assert r["wilcoxon_exact"] is False and r["n_zero_diffs"] == 1
    assert r["hl_ci_low"] == pytest.approx(1.05001799066454, abs=1e-3)  # $conf.int
    assert r["hl_ci_high"] == pytest.approx(2.94992079954078, abs=1e-3)
    assert r["hodges_lehmann"] == pytest.approx(1.4, rel=REL)  # walsh_median(d)
    assert r["hodges_lehmann"] == pytest.approx(1.40002084226989, abs=1e-3)  # $estimate
    # binom.test(sum(d > 0), sum(d != 0))$p.value
    _check(r, {"p_sign": 0.00390625})
    # shapiro.test(d)
    _check(r, {"shapiro_W": 0.829871331928794, "shapiro_p": 0.0333416086303078})
    # mean(d) / sd(d); dzci(d); mean(d) / ((sd(before) + sd(after)) / 2)
    _check(r, {"dz": 1.28455756259105, "dz_ci_low": 0.414627756380144})
    _check(r, {"dz_ci_high": 2.11801651397707, "d_av": 0.833496341312704})
    _check(r, {"sd_diff": 1.22999548327987, "median_diff": 1.3})


def test_ties_and_zeros_match_r():
    r = paired_summary(TIES_BEFORE, TIES_AFTER)
    # t.test(after, before, paired = TRUE)
    _check(r, {"t": -3.59486813709167, "df": 14, "p_t": 0.0029281481856736})
    _check(r, {"ci_low": -2.55459932598384, "ci_high": -0.645400674016161})
    # wilcox.test(after, before, paired = TRUE, conf.int = TRUE)
    _check(r, {"wilcoxon_V": 1.5, "p_wilcoxon": 0.00889027942619238})
    assert r["hl_ci_low"] == pytest.approx(-3.50002785235314, abs=1e-3)
    assert r["hl_ci_high"] == pytest.approx(-1.00001452434487, abs=1e-3)
    assert r["hodges_lehmann"] == pytest.approx(-2.5, rel=REL)  # walsh_median(d)
    assert r["n_zero_diffs"] == 5 and r["wilcoxon_exact"] is False
    # binom.test(1, 10)$p.value
    _check(r, {"p_sign": 0.021484375})
    # shapiro.test(d)
    _check(r, {"shapiro_W": 0.889873286057202, "shapiro_p": 0.0667639175814638})
    # mean(d) / sd(d); dzci(d); d_av
    _check(r, {"dz": -0.928190961784514, "dz_ci_low": -1.52682283136565})
    _check(r, {"dz_ci_high": -0.306892672496954, "d_av": -0.629072276329607})


def test_exact_wilcoxon_matches_r():
    r = paired_summary(EXACT_BEFORE, EXACT_AFTER)
    # t.test(after, before, paired = TRUE)
    _check(r, {"t": -3.65420530920723, "df": 11, "p_t": 0.0037927730722597})
    _check(r, {"ci_low": -2.73728928873155, "ci_high": -0.67937737793512})
    # wilcox.test(after, before, paired = TRUE, conf.int = TRUE)  (exact test)
    _check(r, {"wilcoxon_V": 7, "p_wilcoxon": 0.00927734375000001})
    _check(r, {"hl_ci_low": -2.85, "hl_ci_high": -0.55, "hodges_lehmann": -1.675})
    assert r["wilcoxon_exact"] is True and r["hl_ci_level"] == 0.95
    # binom.test(2, 12)$p.value; shapiro.test(d)
    _check(r, {"p_sign": 0.03857421875})
    _check(r, {"shapiro_W": 0.946267669763918, "shapiro_p": 0.58322019064296})
    # mean(d) / sd(d); dzci(d); d_av
    _check(r, {"dz": -1.05487820947248, "dz_ci_low": -1.75396597025256})
    _check(r, {"dz_ci_high": -0.326170818557454, "d_av": -0.734860343710393})


def test_exact_wilcoxon_upper_tail_and_level_match_r():
    # wilcox.test(before, after, paired = TRUE, conf.int = TRUE, conf.level = 0.9)
    r = paired_summary(EXACT_AFTER, EXACT_BEFORE, confidence=0.9)
    _check(r, {"wilcoxon_V": 71, "p_wilcoxon": 0.00927734375000001})
    _check(r, {"hl_ci_low": 0.850000000000001, "hl_ci_high": 2.65, "hodges_lehmann": 1.675})


def test_tiny_samples_match_r():
    # wilcox.test(c(1.1, 2.3, -0.4, 3.6, 0.9), conf.int = TRUE): exact, level kept
    r = signed_rank_test(np.array([1.1, 2.3, -0.4, 3.6, 0.9]))
    _check(r, {"wilcoxon_V": 14, "p_wilcoxon": 0.125, "hl_ci_low": -0.4, "hl_ci_high": 3.6})
    assert r["hl_ci_level"] == 0.95
    # wilcox.test(c(2, 2, 3, -1), conf.int = TRUE): "requested conf.level not achievable",
    # attr(, "conf.level") = 0.8
    r = signed_rank_test(np.array([2.0, 2.0, 3.0, -1.0]))
    _check(r, {"wilcoxon_V": 9, "p_wilcoxon": 0.197466073358019})
    assert r["hl_ci_low"] == pytest.approx(0.499974448834282, abs=1e-3)
    assert r["hl_ci_high"] == pytest.approx(2.50000794186915, abs=1e-3)
    assert r["hl_ci_level"] == pytest.approx(0.8, rel=REL)
    assert any("not achievable" in note for note in r["notes"])


@pytest.mark.parametrize(
    ("d", "v", "p", "ci", "level", "estimate"),
    [
        # suppressWarnings(wilcox.test(d, conf.int = TRUE)): statistic, p.value, conf.int,
        # attr(conf.int, "conf.level"), estimate
        ([2.0], 1, 1.0, (2.0, 2.0), 0.0, 2.0),
        ([2.0, -1.0], 2, 1.0, (-1.0, 2.0), 0.5, 0.5),
        ([1.5, 3.0, -0.5], 5, 0.5, (-0.5, 3.0), 0.75, 1.375),
        ([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0], 0, 0.03125, (-6.0, -1.0), 0.95, -3.5),
    ],
)
def test_exact_wilcoxon_on_very_small_samples_matches_r(d, v, p, ci, level, estimate):
    r = signed_rank_test(np.array(d))
    _check(r, {"wilcoxon_V": v, "p_wilcoxon": p, "hodges_lehmann": estimate})
    assert (r["hl_ci_low"], r["hl_ci_high"]) == pytest.approx(ci, rel=REL)
    assert r["hl_ci_level"] == pytest.approx(level, rel=REL, abs=1e-12)


def test_normal_approximation_without_ties_matches_r():
    r = paired_summary(LARGE_BEFORE, LARGE_AFTER)
    # t.test(a, b, paired = TRUE)
    _check(r, {"t": -3.28891245472169, "df": 59, "p_t": 0.00169888174448549})
    _check(r, {"ci_low": -1.24876672697607, "ci_high": -0.304033273023926})
    # wilcox.test(a, b, paired = TRUE, conf.int = TRUE): n = 60 >= 50, normal approx.
    _check(r, {"wilcoxon_V": 488, "p_wilcoxon": 0.00169107259372119})
    assert r["wilcoxon_exact"] is False and r["n_zero_diffs"] == 0
    assert r["hl_ci_low"] == pytest.approx(-1.32151212715543, abs=1e-3)
    assert r["hl_ci_high"] == pytest.approx(-0.347468018823699, abs=1e-3)
    assert r["hodges_lehmann"] == pytest.approx(-0.86775, rel=REL)  # walsh_median(d)
    assert r["hodges_lehmann"] == pytest.approx(-0.867896667018279, abs=1e-3)  # $estimate
    # binom.test(18, 60)$p.value; shapiro.test(d)
    _check(r, {"p_sign": 0.00267043628280707})
    _check(r, {"shapiro_W": 0.982391114207129, "shapiro_p": 0.537584151469351})
    # mean(d) / sd(d); dzci(d); d_av
    _check(r, {"dz": -0.424596772142375, "dz_ci_low": -0.687271293710589})
    _check(r, {"dz_ci_high": -0.158619280930812, "d_av": -0.274889643799964})


def test_normal_approximation_with_ties_matches_r():
    r = paired_summary(COUNTS_BEFORE, COUNTS_AFTER)
    # t.test(a, b, paired = TRUE)
    _check(r, {"t": -5.130185647701, "df": 79, "p_t": 2.01980245972128e-06})
    _check(r, {"ci_low": -2.82802544719533, "ci_high": -1.24697455280467})
    # wilcox.test(a, b, paired = TRUE, conf.int = TRUE)
    _check(r, {"wilcoxon_V": 508, "p_wilcoxon": 9.73076308976633e-06})
    assert r["hl_ci_low"] == pytest.approx(-3.00004946722889, abs=1e-3)
    assert r["hl_ci_high"] == pytest.approx(-1.49994936637569, abs=1e-3)
    assert r["hodges_lehmann"] == pytest.approx(-2.5, rel=REL)  # walsh_median(d)
    # binom.test(20, 71)$p.value; shapiro.test(d)
    _check(r, {"p_sign": 0.000303163413558494})
    _check(r, {"shapiro_W": 0.975112603873589, "shapiro_p": 0.120340183618811})
    # mean(d) / sd(d); dzci(d); d_av
    _check(r, {"dz": -0.573572192272662, "dz_ci_low": -0.808631110456834})
    _check(r, {"dz_ci_high": -0.335381736620581, "d_av": -0.748339458480076})


def test_contract_keys_and_plain_json_types():
    r = paired_summary(SLEEP_BEFORE, SLEEP_AFTER)
    assert set(CONTRACT_KEYS + EXTRA_KEYS) <= set(r)
    for key, value in r.items():
        if key == "notes":
            assert all(isinstance(note, str) for note in value)
        else:
            assert type(value) in (int, float, bool), key
    json.dumps(r)  # serialisable as is


def test_missing_pairs_are_dropped_and_counted():
    before = SLEEP_BEFORE + [np.nan, 3.0, None]
    after = SLEEP_AFTER + [1.0, np.nan, 2.0]
    r = paired_summary(before, after)
    assert r["n"] == 10 and r["n_missing"] == 3
    assert r["t"] == pytest.approx(4.06212768338204, rel=REL)  # as without the NaN pairs


def _quiet_summary(before, after) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any leaked warning fails the test
        return paired_summary(before, after)


@pytest.mark.parametrize(
    ("before", "after", "nan_keys", "note"),
    [
        ([], [], ["t", "p_wilcoxon", "p_sign", "shapiro_p", "dz", "mean_diff"], "no values"),
        ([3.0], [1.0], ["t", "p_t", "shapiro_W", "dz", "d_av"], "one value"),
        ([3.0, 4.0], [1.0, 3.0], ["shapiro_W", "shapiro_p"], "fewer than 3 pairs"),
        ([4.0, 6.0, 8.0], [4.0, 6.0, 8.0], ["t", "p_wilcoxon", "p_sign", "dz"], "all differences"),
        ([5.0] * 6, [7.0] * 6, ["t", "p_t", "dz", "shapiro_p", "hl_ci_low"], "constant"),
        ([np.nan, 2.0], [1.0, np.nan], ["t", "p_wilcoxon", "mean_before"], "missing value"),
    ],
)
def test_degenerate_inputs_give_nan_and_notes(before, after, nan_keys, note):
    r = _quiet_summary(before, after)
    for key in nan_keys:
        assert math.isnan(r[key]), key
    assert any(note in text for text in r["notes"]), r["notes"]
    assert set(CONTRACT_KEYS) <= set(r)


def test_all_zero_differences_follow_r():
    # wilcox.test(c(1, 2, 3), c(1, 2, 3), paired = TRUE): V = 0, p = NaN
    r = _quiet_summary([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert r["wilcoxon_V"] == 0 and math.isnan(r["p_wilcoxon"])
    assert r["n_zero_diffs"] == 3 and math.isnan(r["hodges_lehmann"])


def test_shapiro_skipped_above_r_limit():
    rng = np.random.default_rng(4)
    before = rng.normal(10, 3, 6000)
    r = _quiet_summary(before, before + rng.normal(-1, 2, 6000))
    assert math.isnan(r["shapiro_W"]) and any("5000" in note for note in r["notes"])
    assert r["p_t"] < 1e-10 and not math.isnan(r["hl_ci_low"])


def test_walsh_selection_equals_listing():
    rng = np.random.default_rng(8)
    for size, values in [
        (301, rng.normal(size=301)),
        (400, rng.integers(-6, 7, 400).astype(float)),
        (257, np.repeat([-1.5, 0.5, 2.0], [100, 100, 57])),
    ]:
        listed = np.median(walsh_averages(values))
        assert walsh_median(values) == pytest.approx(listed, rel=1e-15), size
        assert walsh_median(values, list_limit=50) == listed, size


def test_100000_pairs_give_consistent_estimates():
    rng = np.random.default_rng(9)
    before = rng.poisson(9, 100_000) * 28 / rng.integers(14, 29, 100_000)
    after = before + rng.normal(-1.0, 2.0, 100_000)
    r = _quiet_summary(before, after)
    assert r["hl_ci_low"] < r["hodges_lehmann"] < r["hl_ci_high"]
    assert r["hodges_lehmann"] == pytest.approx(-1.0, abs=0.03)
    assert r["ci_low"] < -1.0 + 0.03 and r["ci_high"] > -1.0 - 0.03


def _simulate(n_studies: int, n: int, effect: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    before = rng.normal(10, 3, (n_studies, n))
    after = 0.6 * before + 0.4 * 10 + effect + rng.normal(0, 2, (n_studies, n))
    return before, after


def test_paired_t_has_nominal_size_under_the_null():
    before, after = _simulate(2000, 20, 0.0, seed=101)
    p = np.array([paired_summary(b, a)["p_t"] for b, a in zip(before, after, strict=True)])
    assert 0.035 <= np.mean(p < 0.05) <= 0.065


def test_mean_change_interval_covers_the_planted_change():
    planted = -1.5  # E(after - before) = 0.6 * 10 + 4 - 1.5 - 10
    before, after = _simulate(2000, 15, planted, seed=202)
    results = [paired_summary(b, a) for b, a in zip(before, after, strict=True)]
    covered = np.mean([r["ci_low"] <= planted <= r["ci_high"] for r in results])
    assert 0.935 <= covered <= 0.965
