"""Verdict rules (docs/VERDICTS.md) on hand-built results whose verdict is known."""

from __future__ import annotations

import math

import pytest

from pipeline.claims import evaluate_claims, resolve_tests
from pipeline.config import Claim, StudyConfig


def _config(*claims: Claim, **analysis) -> StudyConfig:
    return StudyConfig(claims=claims, analysis={"min_evaluable": 10, **analysis})


MIGRAINE = Claim(
    id="freq", claim="fewer migraines", outcome="migraine_days", minimal_important_change=1.5
)
PAIN = Claim(id="pain", claim="less pain", outcome="peak_pain", minimal_important_change=1.0)
SLEEP = Claim(
    id="sleep",
    claim="better sleep",
    outcome="sleep_quality",
    direction="increase",
    minimal_important_change=1.0,
)
FUNCTION = Claim(
    id="function", claim="better functioning", outcome="HIT-6", fallback_outcome="acute_medication_days",
    minimal_important_change=2.5, fallback_minimal_important_change=1.0,
)  # fmt: skip
SIDE = Claim(
    id="side",
    claim="mild, brief",
    outcome="adverse_events",
    test="adverse_events",
    minimal_important_change=0,
)


def _result(outcome, change, low, high, p, n=40, window="weeks_9_12"):
    return {"outcome": outcome, "window": window, "n": n, "mean_change": change, "ci_low": low,
            "ci_high": high, "p_t": p, "dz": change / 2, "dz_ci_low": low / 2, "dz_ci_high": high / 2}  # fmt: skip


def _verdict(config, results, adverse=None):
    verdicts, p_adjusted = evaluate_claims(config, results, adverse or {})
    return {v["id"]: v for v in verdicts}, p_adjusted


def test_supported_needs_direction_significance_and_the_placebo_benchmark():
    config = _config(MIGRAINE)
    beyond = _verdict(config, [_result("migraine_days", -3.0, -4.0, -2.0, 0.0001)])[0]["freq"]
    assert beyond["verdict"] == "supported"
    assert "beyond the placebo response of -1.8" in beyond["reason"]
    # significant and in the claimed direction, but the CI reaches into placebo territory
    within = _verdict(config, [_result("migraine_days", -2.5, -3.4, -1.6, 0.0001)])[0]["freq"]
    assert within["verdict"] == "inconclusive"
    assert "does not lie beyond the placebo response" in within["reason"]


def test_not_supported_when_the_interval_excludes_the_minimal_important_change():
    config = _config(PAIN)
    small = _verdict(config, [_result("peak_pain", -0.5, -0.8, -0.2, 0.001)])[0]["pain"]
    assert small["verdict"] == "not_supported"  # clearly there, clearly too small to matter
    wrong = _verdict(config, [_result("peak_pain", 0.4, -1.5, 2.3, 0.6)])[0]["pain"]
    assert wrong["verdict"] == "not_supported" and "other way" in wrong["reason"]
    wide = _verdict(config, [_result("peak_pain", -0.6, -1.5, 0.3, 0.2)])[0]["pain"]
    assert wide["verdict"] == "inconclusive"


def test_increase_claims_mirror_the_rules():
    config = _config(SLEEP)
    assert (
        _verdict(config, [_result("sleep_quality", 1.6, 1.1, 2.1, 1e-5)])[0]["sleep"]["verdict"]
        == "supported"
    )
    assert (
        _verdict(config, [_result("sleep_quality", 0.4, 0.2, 0.6, 1e-3)])[0]["sleep"]["verdict"]
        == "not_supported"
    )
    assert (
        _verdict(config, [_result("sleep_quality", -0.4, -0.9, 0.1, 0.1)])[0]["sleep"]["verdict"]
        == "not_supported"
    )


def test_insufficient_data_below_the_minimum_or_without_data():
    config = _config(MIGRAINE, PAIN)
    verdicts, _ = _verdict(config, [_result("migraine_days", -3.0, -4.0, -2.0, 1e-4, n=9)])
    assert (
        verdicts["freq"]["verdict"] == "insufficient_data"
        and "Only 9 clients" in verdicts["freq"]["reason"]
    )
    assert (
        verdicts["pain"]["verdict"] == "insufficient_data"
        and "No peak headache pain" in verdicts["pain"]["reason"]
    )


def test_holm_adjustment_across_the_claims_primary_tests():
    config = _config(MIGRAINE, PAIN, SLEEP)
    results = [
        _result("migraine_days", -3.0, -4.0, -2.0, 0.01),
        _result("peak_pain", -1.6, -2.9, -0.3, 0.02),
        _result("sleep_quality", 1.5, 0.2, 2.8, 0.04),
        _result("migraine_days", -1.0, -2.0, 0.0, 0.001, window="weeks_1_4"),  # not a claim test
    ]
    verdicts, p_adjusted = _verdict(config, results)
    # R: p.adjust(c(0.01, 0.02, 0.04), "holm") -> 0.03 0.04 0.04
    assert [verdicts[c]["p_adjusted"] for c in ("freq", "pain", "sleep")] == pytest.approx(
        [0.03, 0.04, 0.04]
    )
    assert ("migraine_days", "weeks_1_4") not in p_adjusted
    # R: p.adjust(c(0.01, 0.02, 0.04), "BH") -> 0.03 0.03 0.04
    bh, _ = _verdict(_config(MIGRAINE, PAIN, SLEEP, multiplicity="bh"), results)
    assert [bh[c]["p_adjusted"] for c in ("freq", "pain", "sleep")] == pytest.approx(
        [0.03, 0.03, 0.04]
    )


def test_fallback_outcome_is_used_and_named_as_a_proxy():
    config = _config(FUNCTION)
    tests = resolve_tests(config, [_result("acute_medication_days", -2.0, -3.0, -1.0, 1e-4)])
    assert tests[0].outcome == "acute_medication_days" and tests[0].proxy
    assert tests[0].minimal_important_change == 1.0
    verdict = _verdict(config, [_result("acute_medication_days", -2.0, -3.0, -1.0, 1e-4)])[0][
        "function"
    ]
    assert verdict["verdict"] == "supported" and verdict["proxy"] is True
    assert "proxy" in verdict["reason"]
    direct = _verdict(config, [_result("HIT-6", -5.0, -7.0, -3.0, 1e-4)])[0]["function"]
    assert direct["proxy"] is False and direct["outcome_used"] == "HIT-6"


def test_side_effect_claim_uses_the_resolved_share_interval():
    config = _config(SIDE)
    adverse = {"sessions": 400, "sessions_reaction_recorded": 400, "sessions_with_reaction": 60,
               "reactions_with_known_resolution": 60, "reactions_resolved_within": 59, "max_hours": 24.0}  # fmt: skip
    supported = _verdict(config, [], adverse)[0]["side"]
    # R: prop.test(59, 60, correct = FALSE)$conf.int -> 0.9114487027 0.9970518402 (low >= 0.9)
    assert supported["verdict"] == "supported"
    assert supported["resolved_share"]["wilson_low"] == pytest.approx(0.9114487027, rel=1e-6)
    adverse.update(reactions_resolved_within=40)
    assert _verdict(config, [], adverse)[0]["side"]["verdict"] == "not_supported"
    # R: prop.test(56, 60, correct = FALSE)$conf.int -> 0.8407464269 0.9737713013 (spans 0.9)
    adverse.update(reactions_resolved_within=56)
    assert _verdict(config, [], adverse)[0]["side"]["verdict"] == "inconclusive"
    adverse.update(sessions_reaction_recorded=0)
    none = _verdict(config, [], adverse)[0]["side"]
    assert none["verdict"] == "insufficient_data" and "record no reactions" in none["reason"]
    assert math.isclose(supported["reaction_share"]["proportion"], 60 / 400)
