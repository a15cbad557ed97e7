"""ANCOVA, the Poisson GEE and the mixed model against R, statsmodels and planted effects.

R 4.2.2 calls are written beside each pinned value; the data frames are typed in R
exactly as below.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipeline.stats import ancova, gee_rate_ratios, mixed_rate_differences
from pipeline.stats.random_intercept import fit_random_intercept

# Any warning reaching the console from the code under test fails the test.
pytestmark = pytest.mark.filterwarnings("error")

REL = 1e-6

# R:
# d <- data.frame(group = rep(c("waitlist", "cranial", "sham"), each = 6),
#   pre = c(8.0, 11.5, 6.2, 9.8, 12.4, 7.1, 9.3, 10.7, 13.2, 6.8, 8.9, 11.1,
#           7.7, 10.2, 12.9, 9.0, 6.5, 11.8),
#   post = c(7.4, 11.9, 5.1, 9.0, 12.8, 7.5, 6.1, 8.0, 10.4, 5.9, 6.2, 8.8,
#            7.0, 9.1, 11.3, 8.6, 5.2, 10.0))
# d$group <- relevel(factor(d$group), ref = "waitlist")
# fit <- lm(post ~ pre + group, data = d)
ANCOVA_DATA = pd.DataFrame(
    {
        "group": ["waitlist"] * 6 + ["cranial"] * 6 + ["sham"] * 6,
        "pre": [8.0, 11.5, 6.2, 9.8, 12.4, 7.1, 9.3, 10.7, 13.2, 6.8, 8.9, 11.1,
                7.7, 10.2, 12.9, 9.0, 6.5, 11.8],
        "post": [7.4, 11.9, 5.1, 9.0, 12.8, 7.5, 6.1, 8.0, 10.4, 5.9, 6.2, 8.8,
                 7.0, 9.1, 11.3, 8.6, 5.2, 10.0],
    }
)  # fmt: skip


def test_ancova_matches_r_lm():
    table = ancova(ANCOVA_DATA, "pre", "post", "group", "waitlist").set_index("group")
    assert list(table.index) == ["cranial", "sham"]
    # summary(fit)$coefficients["groupcranial", ]; confint(fit)["groupcranial", ]
    cranial = table.loc["cranial"]
    assert cranial.estimate == pytest.approx(-2.1755317044218, rel=REL)
    assert cranial.se == pytest.approx(0.4088555865889866, rel=REL)
    assert cranial.p == pytest.approx(1.07971916847064e-04, rel=REL)
    assert (cranial.ci_low, cranial.ci_high) == pytest.approx(
        (-3.05243972381868, -1.2986236850249169), rel=REL
    )
    # summary(fit)$coefficients["groupsham", ]; confint(fit)["groupsham", ]
    sham = table.loc["sham"]
    assert sham.estimate == pytest.approx(-0.907829656741516, rel=REL)
    assert sham.se == pytest.approx(0.4058071102480149, rel=REL)
    assert sham.p == pytest.approx(4.20642621653153e-02, rel=REL)
    assert (sham.ci_low, sham.ci_high) == pytest.approx(
        (-1.77819934466385, -0.0374599688191811), rel=REL
    )
    # coef(fit)["pre"]
    assert table.attrs["pre_slope"] == pytest.approx(0.950638045306163, rel=REL)
    assert table.attrs["n"] == 18 and (table.n == 18).all()
    assert table.n_group.tolist() == [6, 6] and (table.n_reference == 6).all()


def test_ancova_other_level_and_missing_rows():
    data = pd.concat(
        [ANCOVA_DATA, pd.DataFrame({"group": ["sham", None], "pre": [np.nan, 9.0], "post": 1.0})]
    )
    table = ancova(data, "pre", "post", "group", "waitlist", confidence=0.9)
    # confint(fit, level = 0.9)["groupcranial", ]
    assert (table.ci_low[0], table.ci_high[0]) == pytest.approx(
        (-2.895653193149172, -1.45541021569443), rel=REL
    )
    assert table.attrs["n"] == 18


@pytest.mark.parametrize(
    ("data", "reference", "note"),
    [
        (ANCOVA_DATA, "control", "reference group"),
        (ANCOVA_DATA[ANCOVA_DATA.group == "waitlist"], "waitlist", "only the reference"),
        (ANCOVA_DATA.iloc[[0, 1, 6]], "waitlist", "parameters"),
        (ANCOVA_DATA.assign(pre=5.0), "waitlist", "baseline values are all equal"),
    ],
)
def test_ancova_degenerate_inputs_give_empty_table_with_note(data, reference, note):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = ancova(data, "pre", "post", "group", reference)
    assert table.empty and list(table.columns[:6]) == [
        "group", "estimate", "se", "ci_low", "ci_high", "p",
    ]  # fmt: skip
    assert any(note in text for text in table.attrs["notes"])


# Long data, 16 clients x 4 windows; a window is evaluable with >= 14 recorded days. R:
# days <- c(12, 13, 28, 27, 17, ...); cnt <- c(2, 2, 3, 5, 18, ...)   (as typed below)
# d <- data.frame(id = rep(1:16, each = 4), window = factor(rep(c("baseline",
#   "weeks_1_4", "weeks_5_8", "weeks_9_12"), 16)), cnt = cnt, days = days)
# d <- d[d$days >= 14, ]
DAYS = [
    12, 13, 28, 27, 17, 19, 16, 14, 26, 23, 13, 15, 21, 27, 28, 15, 22, 12, 14, 15, 19, 17,
    24, 19, 17, 27, 22, 23, 24, 17, 27, 12, 17, 14, 12, 28, 13, 19, 25, 23, 26, 12, 20, 12,
    15, 26, 13, 21, 12, 17, 27, 17, 17, 13, 25, 14, 20, 12, 12, 26, 12, 19, 19, 14,
]  # fmt: skip
COUNTS = [
    2, 2, 3, 5, 18, 10, 4, 9, 6, 4, 2, 1, 6, 11, 6, 6, 10, 7, 5, 6, 17, 6, 15, 13, 12, 15,
    7, 6, 3, 3, 4, 3, 6, 4, 1, 11, 4, 7, 6, 4, 3, 0, 2, 4, 4, 7, 0, 5, 0, 1, 0, 0, 4, 1, 0,
    1, 1, 1, 2, 1, 7, 8, 7, 1,
]  # fmt: skip
WINDOWS = ["baseline", "weeks_1_4", "weeks_5_8", "weeks_9_12"]
LONG = pd.DataFrame(
    {
        "patient_id": np.repeat([f"c{i:02d}" for i in range(1, 17)], 4),
        "window": WINDOWS * 16,
        "migraine_days": COUNTS,
        "days_recorded": DAYS,
        "evaluable": np.array(DAYS) >= 14,
    }
)


def test_gee_matches_r_glm_with_cluster_sandwich():
    table = gee_rate_ratios(LONG)
    assert table.window.tolist() == WINDOWS[1:]
    # fit <- glm(cnt ~ window, family = poisson, offset = log(days), data = d); coef(fit)[-1]
    log_rr = [-0.100379798757726, -0.554246390600127, -0.383025053122003]
    # X <- model.matrix(fit); mu <- fitted(fit); bread <- solve(crossprod(X, X * mu))
    # meat <- crossprod(rowsum(X * (d$cnt - mu), d$id)); sqrt(diag(bread %*% meat %*% bread))[-1]
    se = [0.194006042537325, 0.218094851159204, 0.172837037477191]
    assert table.log_rate_ratio.tolist() == pytest.approx(log_rr, rel=REL)
    assert table.rate_ratio.tolist() == pytest.approx(np.exp(log_rr).tolist(), rel=REL)
    assert table.se.tolist() == pytest.approx(se, rel=REL)
    z = 1.959963984540054  # qnorm(0.975)
    assert table.ci_low.tolist() == pytest.approx(np.exp(np.subtract(log_rr, z * np.array(se))))
    assert table.attrs["n_rows"] == 49 and table.attrs["n_patients"] == 16


def test_gee_equals_statsmodels_gee_independence():
    rows = LONG[LONG.evaluable]
    design = np.column_stack([np.ones(len(rows))] + [rows.window == w for w in WINDOWS[1:]])
    reference = sm.GEE(
        rows.migraine_days.to_numpy(float),
        design.astype(float),
        groups=pd.factorize(rows.patient_id)[0],
        family=sm.families.Poisson(),
        offset=np.log(rows.days_recorded.to_numpy(float)),
        cov_struct=sm.cov_struct.Independence(),
    ).fit()
    table = gee_rate_ratios(LONG)
    assert table.log_rate_ratio.to_numpy() == pytest.approx(reference.params[1:], rel=1e-8)
    assert table.se.to_numpy() == pytest.approx(reference.bse[1:], rel=1e-8)


def test_mixed_model_matches_r_nlme():
    # d$rate <- d$cnt * 28 / d$days
    # m <- nlme::lme(rate ~ window, random = ~ 1 | id, data = d, method = "REML")
    estimate = [-2.64927519610952, -5.09946042833686, -3.95876620445349]  # fixef(m)[-1]
    se = [1.71474801416431, 1.68472352159830, 1.59852199801453]  # sqrt(diag(vcov(m)))[-1]
    fast = mixed_rate_differences(LONG)  # the default solver at every size
    assert "vectorised REML" in fast.method.iloc[0]
    assert fast.estimate.tolist() == pytest.approx(estimate, rel=1e-6)
    assert fast.se.tolist() == pytest.approx(se, rel=1e-6)
    # VarCorr(m): intercept variance 23.7011456103994, residual 15.3260553107295
    assert fast.attrs["tau2"] == pytest.approx(23.7011456103994, rel=1e-5)
    assert fast.attrs["sigma2"] == pytest.approx(15.3260553107295, rel=1e-5)
    mixedlm = mixed_rate_differences(LONG, mixedlm_max_patients=10_000)
    assert mixedlm.method.iloc[0].startswith("statsmodels MixedLM")
    assert mixedlm.estimate.tolist() == pytest.approx(estimate, rel=1e-5)
    # MixedLM takes its standard errors from the Hessian of the REML criterion, nlme
    # from sigma^2 (X'V^-1 X)^-1: asymptotically equal, here 0.2 % apart.
    assert mixedlm.se.tolist() == pytest.approx(se, rel=5e-3)


def _simulate_long(n_patients: int, seed: int, ratios=(1.0, 0.9, 0.75, 0.6)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    patient = np.repeat(np.arange(n_patients), 4)
    window = np.tile(np.arange(4), n_patients)
    frailty = rng.gamma(2.0, 0.5, n_patients)[patient]  # overdispersion between clients
    days = rng.integers(8, 29, patient.size)
    counts = rng.poisson(0.3 * frailty * np.asarray(ratios)[window] * days)
    return pd.DataFrame(
        {
            "patient_id": patient,
            "window": pd.Categorical.from_codes(window, WINDOWS),
            "migraine_days": counts,
            "days_recorded": days,
            "evaluable": days >= 14,
        }
    )


def test_gee_recovers_planted_rate_ratios_with_nominal_coverage():
    planted = np.array([0.9, 0.75, 0.6])
    covered = []
    for seed in range(40):
        table = gee_rate_ratios(_simulate_long(150, seed))
        covered.append((table.ci_low <= planted) & (planted <= table.ci_high))
    assert 0.88 <= np.mean(covered) <= 0.99


def test_models_at_100000_clients_are_fast_and_recover_planted_effects():
    data = _simulate_long(100_000, 99)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rates = gee_rate_ratios(data)
        mixed = mixed_rate_differences(data)
    elapsed = time.perf_counter() - start
    assert elapsed < 20, f"took {elapsed:.1f} s"
    assert rates.rate_ratio.tolist() == pytest.approx([0.9, 0.75, 0.6], abs=0.01)
    # mean rate at baseline = 0.3 * E(frailty) * 28 = 8.4 days per 28
    assert mixed.estimate.tolist() == pytest.approx([-0.84, -2.1, -3.36], abs=0.06)
    assert "vectorised REML" in mixed.method.iloc[0]


def test_vectorised_reml_equals_mixedlm_on_simulated_data():
    data = _simulate_long(400, 5)
    ours = mixed_rate_differences(data)
    reference = mixed_rate_differences(data)
    assert ours.estimate.to_numpy() == pytest.approx(reference.estimate.to_numpy(), rel=1e-4)
    assert ours.se.to_numpy() == pytest.approx(reference.se.to_numpy(), rel=5e-3)


def test_random_intercept_without_between_client_variance():
    rng = np.random.default_rng(12)
    groups = np.repeat(np.arange(300), 3)
    design = np.column_stack([np.ones(900), np.tile([0.0, 1.0, 0.0], 300)])
    y = 2.0 + 0.5 * design[:, 1] + rng.normal(0, 1, 900)
    fit = fit_random_intercept(y, design, groups)
    ols = sm.OLS(y, design).fit()
    assert fit["tau2"] < 0.05
    assert fit["params"] == pytest.approx(ols.params, abs=0.01)


@pytest.mark.parametrize(
    ("frame", "note"),
    [
        (LONG[LONG.window != "baseline"], "no evaluable 'baseline'"),
        (LONG[LONG.window == "baseline"], "no evaluable follow-up"),
        (LONG[LONG.patient_id == "c02"], "fewer than 2 clients"),
        (LONG.assign(evaluable=False), "no evaluable 'baseline'"),
    ],
)
def test_longitudinal_degenerate_inputs(frame, note):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rates = gee_rate_ratios(frame)
        mixed = mixed_rate_differences(frame)
    assert rates.empty and mixed.empty
    assert any(note in text for text in rates.attrs["notes"])
    assert any(note in text for text in mixed.attrs["notes"])


def test_window_without_counted_days_gets_zero_ratio_and_note():
    frame = LONG.copy()
    frame.loc[frame.window == "weeks_9_12", "migraine_days"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = gee_rate_ratios(frame).set_index("window")
    assert table.loc["weeks_9_12", "rate_ratio"] == 0 and math.isnan(table.loc["weeks_9_12", "p"])
    # the other windows are unaffected: same coefficients as in R (see above)
    assert table.loc["weeks_1_4", "log_rate_ratio"] == pytest.approx(-0.100379798757726, rel=REL)
    assert any("weeks_9_12" in text for text in table.attrs["notes"])
