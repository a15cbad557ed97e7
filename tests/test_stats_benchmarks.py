"""Placebo benchmark, regression to the mean and power against R and simulation.

R 4.2.2 calls are written beside each pinned value.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from pipeline.stats import paired_t_power, placebo_benchmark, power_analysis, regression_to_mean

# Any warning reaching the console from the code under test fails the test.
pytestmark = pytest.mark.filterwarnings("error")

REL = 1e-6

CHANGES = [-3.2, -1.0, -4.5, 0.5, -2.8, -6.0, -1.5, -2.2, 0.0, -3.9, -5.1, -0.7, -2.6, -4.0, -1.9]
RESPONDERS = [1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 1, np.nan, 0]  # NaN: status undefined


def test_placebo_benchmark_matches_r():
    r = placebo_benchmark(CHANGES, RESPONDERS)
    # t.test(ch, mu = -1.8)
    assert r["t"] == pytest.approx(-1.62797813790493, rel=REL)
    assert r["df"] == 14
    assert r["p_t"] == pytest.approx(0.125817411205315, rel=REL)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(
        (-3.638513690979, -1.54815297568767), rel=REL
    )
    assert r["difference"] == pytest.approx(np.mean(CHANGES) + 1.8, rel=1e-12)
    # binom.test(6, 15, p = 0.27)
    assert (r["responders"], r["n_responder_evaluable"]) == (6, 15)
    assert r["p_binom"] == pytest.approx(0.254156560295262, rel=REL)
    assert (r["rate_ci_low"], r["rate_ci_high"]) == pytest.approx(
        (0.163364323859513, 0.677130233793718), rel=REL
    )
    assert r["benchmark_change"] == -1.8 and r["benchmark_rate"] == 0.27  # config defaults


def test_placebo_benchmark_other_reference_and_missing_responders():
    # binom.test(40, 90, p = 0.27)$p.value
    r = placebo_benchmark([-2.0, -1.0, -3.0], [1] * 40 + [0] * 50, benchmark_rate=0.27)
    assert r["p_binom"] == pytest.approx(0.000481082736016687, rel=REL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = placebo_benchmark([-1.0])
    assert math.isnan(r["p_t"]) and math.isnan(r["p_binom"]) and len(r["notes"]) == 2


@pytest.mark.parametrize(
    ("effect", "power_at_20", "n_required"),
    [
        # power.t.test(n = 20, delta = e, sd = 1, type = "paired", strict = TRUE)$power
        # power.t.test(delta = e, sd = 1, power = 0.8, type = "paired", strict = TRUE,
        #              tol = 1e-12)$n
        (0.05, 0.0551906694575243, 3141.46547407369),
        (0.5, 0.564504418439084, 33.3671289533192),
        (1.0, 0.988591294779182, 9.93784993781867),
        (3.0, 1.0, 3.14402470762875),
    ],
)
def test_power_matches_r(effect, power_at_20, n_required):
    r = power_analysis(sd_diff=2.0, minimal_important_change=-2 * effect, n=20)
    assert r["dz_mic"] == pytest.approx(effect, rel=1e-12)
    assert r["power_at_n"] == pytest.approx(power_at_20, rel=REL)
    assert r["n_required_exact"] == pytest.approx(n_required, rel=REL)
    assert r["n_required"] == math.ceil(n_required)


def test_power_degenerate_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        no_sd = power_analysis(0.0, 1.5, n=30)
        no_change = power_analysis(2.0, 0.0, n=30)
        tiny_n = power_analysis(2.0, 1.5, n=1)
    assert math.isnan(no_sd["n_required"]) and no_sd["notes"]
    assert math.isnan(no_change["power_at_n"]) and no_change["notes"]
    assert math.isnan(tiny_n["power_at_n"]) and tiny_n["n_required"] > 2
    assert paired_t_power(0.5, 34, 0.05) > 0.8 > paired_t_power(0.5, 33, 0.05)


BASELINE = [9.5, 12.0, 8.0, 14.5, 10.0, 11.5, 13.0, 9.0, 15.0, 10.5, 12.5, 8.5]
FOLLOWUP = [8.0, 10.5, 8.5, 11.0, 9.5, 9.0, 12.5, 9.5, 12.0, 10.0, 10.0, 7.0]


def test_regression_to_mean_matches_r():
    r = regression_to_mean(BASELINE, FOLLOWUP, mu=6.0, sigma=3.0, cutoff=8.0)
    # rho <- cor(b, f)
    assert r["rho"] == pytest.approx(0.832065718488687, rel=REL) and r["rho_estimated"]
    # -(1 - rho) * (mean(b) - 6)
    assert r["expected_rtm_change"] == pytest.approx(-0.867660454475117, rel=REL)
    # z <- (8 - 6) / 3; -3 * (1 - rho) * dnorm(z) / (1 - pnorm(z))
    assert r["expected_rtm_change_cutoff"] == pytest.approx(-0.637400278940703, rel=REL)
    # mean(f - b)
    assert r["observed_change"] == pytest.approx(-1.375, rel=REL)
    assert r["change_beyond_rtm"] == pytest.approx(-1.375 + 0.867660454475117, rel=REL)
    below = regression_to_mean(BASELINE, FOLLOWUP, mu=6.0, sigma=3.0, cutoff=8.0, selected="below")
    # 3 * (1 - rho) * dnorm(z) / pnorm(z)
    assert below["expected_rtm_change_cutoff"] == pytest.approx(0.215300611628285, rel=REL)


def test_regression_to_mean_given_rho_and_defaults():
    r = regression_to_mean(BASELINE, FOLLOWUP, mu=10.0, rho=0.5)
    assert r["expected_rtm_change"] == pytest.approx(-0.5 * (np.mean(BASELINE) - 10.0))
    assert not r["rho_estimated"] and math.isnan(r["expected_rtm_change_cutoff"])
    # sd(b) when no sigma is given
    assert r["sigma"] == pytest.approx(2.29953882069401, rel=REL)
    assert regression_to_mean(BASELINE, FOLLOWUP, mu=10.0, rho=1.0)["expected_rtm_change"] == 0


def test_cutoff_form_predicts_simulated_regression_to_the_mean():
    rng = np.random.default_rng(21)
    mu, sigma, rho, cutoff = 6.0, 3.0, 0.6, 8.0
    population = rng.normal(mu, sigma, 400_000)
    later = mu + rho * (population - mu) + rng.normal(0, sigma * math.sqrt(1 - rho**2), 400_000)
    enrolled = population > cutoff  # nobody is treated: every change is RTM
    before, after = population[enrolled], later[enrolled]
    r = regression_to_mean(before, after, mu=mu, rho=rho, sigma=sigma, cutoff=cutoff)
    assert r["expected_rtm_change_cutoff"] == pytest.approx(r["observed_change"], rel=0.02)
    assert r["expected_rtm_change"] == pytest.approx(r["observed_change"], rel=0.02)
    assert abs(r["change_beyond_rtm"]) < 0.03
    # rho estimated among the enrolled is lowered by the selection: RTM is overstated
    estimated = regression_to_mean(before, after, mu=mu, sigma=sigma, cutoff=cutoff)
    assert estimated["rho"] < rho - 0.1
    assert estimated["expected_rtm_change"] < r["observed_change"]
    assert any("range restriction" in note for note in estimated["notes"])


def test_regression_to_mean_degenerate_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = regression_to_mean([], [], mu=6.0, cutoff=8.0)
        constant = regression_to_mean([8.0, 8.0, 8.0], [7.0, 6.0, 5.0], mu=6.0)
    assert r["n"] == 0 and math.isnan(r["expected_rtm_change"]) and r["notes"]
    assert math.isnan(constant["rho"]) and constant["notes"]


def test_power_for_a_large_standardised_effect_does_not_fail():
    # d_z = 1 / 0.2757 = 3.63: statsmodels' tail is NaN at large n; the power is 1.
    # R: power.t.test(delta = 1, sd = 0.27571012541405915, type = "paired", strict = TRUE,
    #                 power = 0.8)$n -> 2.844506419 ; same with n = 40 -> $power = 1
    result = power_analysis(0.27571012541405915, 1.0, n=40, alpha=0.05, power=0.8)
    assert result["n_required_exact"] == pytest.approx(2.844506419, rel=1e-6)
    assert result["n_required"] == 3
    assert result["power_at_n"] == pytest.approx(1.0, abs=1e-12)
    assert result["notes"] == []
