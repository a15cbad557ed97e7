"""Verdicts on simulated studies whose truth is known: no effect, and a strong one.

Each study goes through the real stages (files -> ingest -> clean -> outcomes ->
analysis). With no planted effect the frequency claim must not come out supported, even
when clients enrol after a bad month (regression to the mean makes the naive change
look like a benefit: the placebo benchmark is what keeps it from being called one).
"""

from __future__ import annotations

import pytest

from pipeline import stages
from pipeline.simulate import SimulationSettings
from tests.study_copies import simulated_outcomes

pytestmark = pytest.mark.slow


def _verdicts(
    tmp_path, settings: SimulationSettings, n: int = 300, seed: int = 21
) -> dict[str, dict]:
    config = simulated_outcomes(tmp_path / "study", n, seed, settings)
    analysis = stages.analysis_stage(config)
    return {claim["id"]: claim for claim in analysis["claims"]}


def test_no_effect_is_not_supported(tmp_path):
    settings = SimulationSettings(
        effect_migraine_days=0.0, effect_peak_pain=0.0, regression_to_mean=False
    )
    verdicts = _verdicts(tmp_path, settings)
    assert verdicts["migraine_frequency"]["verdict"] != "supported", verdicts["migraine_frequency"][
        "reason"
    ]
    assert verdicts["headache_frequency"]["verdict"] != "supported", verdicts["headache_frequency"][
        "reason"
    ]
    assert abs(verdicts["migraine_frequency"]["estimate"]) < 1.0  # no effect, no enrolment bias


def test_no_effect_with_regression_to_the_mean_is_still_not_supported(tmp_path):
    settings = SimulationSettings(
        effect_migraine_days=0.0, effect_peak_pain=0.0, regression_to_mean=True
    )
    frequency = _verdicts(tmp_path, settings)["migraine_frequency"]
    assert frequency["estimate"] < -0.5  # the naive before/after change looks like a benefit
    assert frequency["verdict"] != "supported", frequency["reason"]


def test_a_strong_effect_is_supported(tmp_path):
    settings = SimulationSettings(effect_migraine_days=-4.0, regression_to_mean=False)
    frequency = _verdicts(tmp_path, settings)["migraine_frequency"]
    assert frequency["verdict"] == "supported", frequency["reason"]
    assert frequency["ci_high"] < frequency["benchmark"] == -1.8
