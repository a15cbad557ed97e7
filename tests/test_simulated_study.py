"""The pipeline recovers what the simulator planted, and shows regression to the mean as bias.

The studies go through the real pipeline (files on disk -> ingest -> clean -> outcomes
-> paired t), not through the simulator's in-memory shortcuts.
"""

from __future__ import annotations

import json

import pytest

from pipeline import outcomes, stages
from pipeline.simulate import SimulationSettings
from pipeline.stats import paired_summary
from tests.study_copies import simulated_outcomes


def _primary_change(tmp_path, settings: SimulationSettings, n: int, seed: int) -> tuple[dict, dict]:
    """Simulate, run ingest -> outcomes, and return the paired summary and truth.json."""
    folder = tmp_path / "study"
    config = simulated_outcomes(folder, n, seed, settings)
    frames, _ = stages.load_outcomes(config.processed_dir)
    pairs = outcomes.paired_values(
        frames["patient_outcomes"], "migraine_days", config.windows.primary
    )
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return paired_summary(pairs["before"], pairs["after"]), truth


@pytest.mark.slow
def test_planted_change_lies_in_the_ci_without_regression_to_the_mean(tmp_path):
    settings = SimulationSettings(regression_to_mean=False)
    summary, truth = _primary_change(tmp_path, settings, n=300, seed=11)
    planted = truth["planted_effects"]["migraine_days_per_28"]
    assert planted == -2.0
    assert truth["expected_change"]["migraine_days"] == pytest.approx(planted)
    assert summary["n"] >= 200
    assert summary["ci_low"] < planted < summary["ci_high"]


@pytest.mark.slow
def test_regression_to_the_mean_biases_the_change_downwards(tmp_path):
    settings = SimulationSettings(regression_to_mean=True)
    summary, truth = _primary_change(tmp_path, settings, n=300, seed=11)
    planted = truth["planted_effects"]["migraine_days_per_28"]
    expected = truth["expected_change"]["migraine_days"]  # planted + regression to the mean
    assert expected < planted - 0.5
    # the naive before/after estimate overstates the benefit: the planted value lies above the CI
    assert summary["ci_high"] < planted
    assert summary["ci_low"] < expected < summary["ci_high"]
