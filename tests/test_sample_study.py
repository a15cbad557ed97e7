"""The bundled sample (data/raw/sample): the pipeline finds exactly the planted problems.

The simulator records every problem it plants in truth.json (file, 1-based row,
column, kind). Ingest must quarantine exactly those rows, remove exactly the planted
duplicates, and keep the participant-flow arithmetic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline import ingest, stages
from pipeline.config import load_config
from pipeline.privacy import resolve_key

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"
KIND_TO_REASONS = {
    "out_of_range": {"out_of_range"},
    "bad_date": {"bad_date", "bad_datetime"},
    "unknown_vocabulary": {"unknown_vocabulary", "unknown_status"},
    "missing_required": {"missing_required"},
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    processed = tmp_path_factory.mktemp("processed")
    config = load_config(SAMPLE / "study.toml").with_paths(processed=processed)
    key = resolve_key(config.study.salt_env, config.study.demo, {})
    summary = stages.clean_stage(config, ingest.ingest(config, key))
    flow = stages.outcomes_stage(config)["participant_flow"]
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    quarantine = pd.read_parquet(processed / "quarantine.parquet")
    display = {
        f.path.relative_to(SAMPLE).as_posix(): f.display for f in ingest.discover(config, key)
    }
    return summary, flow, truth, quarantine, display


def test_quarantine_holds_exactly_the_planted_problems(sample):
    _, _, truth, quarantine, display = sample
    planted = {
        (display[path], item["row"]): item["kind"]
        for path, items in truth["problems"].items()
        for item in items
        if item["kind"] in KIND_TO_REASONS
    }
    found = dict(
        zip(
            zip(quarantine["source_file"], quarantine["source_row"], strict=True),
            quarantine["reason"],
            strict=True,
        )
    )
    assert set(found) == set(planted)
    for row, kind in planted.items():
        assert found[row] in KIND_TO_REASONS[kind], (row, kind, found[row])


def test_planted_duplicates_are_removed_and_counted(sample):
    summary, _, truth, _, display = sample
    planted = pd.Series(
        [
            display[path]
            for path, items in truth["problems"].items()
            for item in items
            if item["kind"] == "duplicate"
        ]
    ).value_counts()
    removed = {
        i["path"]: i["duplicates_removed"] for i in summary["inputs"] if i["duplicates_removed"]
    }
    assert removed == planted.to_dict()


def test_row_accounting_balances_per_file_and_in_total(sample):
    summary, *_ = sample
    for item in summary["inputs"]:
        assert (
            item["rows_read"]
            == item["rows_accepted"] + item["rows_quarantined"] + item["duplicates_removed"]
        )
    dq = summary["data_quality"]
    assert dq["rows_read"] == sum(i["rows_read"] for i in summary["inputs"])
    assert (
        dq["rows_read"] == dq["rows_accepted"] + dq["rows_quarantined"] + dq["duplicates_removed"]
    )
    assert sum(dq["by_reason"].values()) == dq["rows_quarantined"]


def test_participant_flow_steps_subtract_their_exclusions(sample):
    _, flow, truth, _, _ = sample
    steps = flow["steps"]
    assert steps[0]["n"] == truth["counts"]["clients"]
    for previous, step in zip(steps, steps[1:], strict=False):
        assert step["n"] == previous["n"] - sum(step["excluded"].values()), step["step"]
    assert sum(flow["excluded"].values()) == steps[0]["n"] - steps[-1]["n"]
    assert flow["excluded"]["sessions only: no diary"] == truth["counts"]["sessions_only_clients"]
    assert (
        flow["excluded"]["attack log without diary coverage"]
        == truth["counts"]["attack_logs_without_coverage"]
    )
