"""Two runs at once on the same folders: both succeed (the second waits); nothing interleaves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import store
from tests.study_copies import copy_sample

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def _start(study: Path) -> subprocess.Popen:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    script = Path(sys.executable).with_name("outcome-study")
    return subprocess.Popen(
        [str(script), "run", "--config", str(study)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _task_spans(study: Path) -> list[tuple]:
    """(first task start, last task end) of each outcome_study run on this study."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort, TaskRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=200, sort=FlowRunSort.START_TIME_DESC)
        mine = [r for r in runs if r.parameters.get("config_path") == str(study.resolve())]
        spans = []
        for run in mine:
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                limit=200,
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            )
            spans.append((min(t.start_time for t in tasks), max(t.end_time for t in tasks)))
    assert len(spans) == 2
    return spans


def _without_run_metadata(results: dict) -> dict:
    run = {
        k: v
        for k, v in results["run"].items()
        if k not in ("id", "started_at", "finished_at", "inputs")
    }
    return {**results, "run": run}


def test_two_runs_at_once_both_succeed_without_interleaving(tmp_path):
    study = copy_sample(tmp_path)
    first, second = _start(study), _start(study)
    outputs = [process.communicate(timeout=900) for process in (first, second)]
    for process, (_, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err[-3000:]

    reports = tmp_path / "reports"
    runs = sorted(
        p
        for p in reports.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
    assert len(runs) == 2
    results = []
    for run in runs:
        manifest = store.read_json(run / "manifest.json")
        for name, entry in manifest["files"].items():  # every file is the one this run wrote
            assert store.file_sha256(run / name) == entry["sha256"], (run.name, name)
        results.append(json.loads((run / "results.json").read_text(encoding="utf-8")))
        assert results[-1]["run"]["id"] == run.name == manifest["run"]
    assert _without_run_metadata(results[0]) == _without_run_metadata(results[1])
    # the writing parts did not overlap: all tasks of one run ended before the other's began
    first_spans, second_spans = _task_spans(study)
    assert first_spans[1] <= second_spans[0] or second_spans[1] <= first_spans[0]
    assert (reports / "latest").resolve() in {r.resolve() for r in runs}
    leftovers = [p for p in (tmp_path / "processed").rglob(".*.tmp")]
    assert leftovers == []
