"""Crash safety: a run killed (SIGKILL) at any point leaves nothing half-written visible,
and the next run completes with the same results as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline import store
from tests.study_copies import comparable_results, copy_sample

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
TOOL = Path(__file__).resolve().parent / "tools" / "crashing_cli.py"


def _run(study: Path, kill_at: int, when: str) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    return subprocess.run(
        [sys.executable, str(TOOL), str(kill_at), when, "run", "--config", str(study)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def _release_stale_slot() -> None:
    """What the server's lease reaper does for a killed run's concurrency slot.

    (The harness's temporary server reaps leases only after the lease expires, if at
    all; the flow recreates the limit on its next run.)
    """
    from prefect.client.orchestration import get_client

    from flows.study_flow import CONCURRENCY_LIMIT

    with get_client(sync_client=True) as client:
        try:
            client.delete_global_concurrency_limit_by_name(CONCURRENCY_LIMIT)
        except Exception:  # already gone
            pass


def _visible(folder: Path):
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]


def _assert_nothing_half_written(root: Path) -> None:
    for path in _visible(root / "processed"):
        if path.suffix == ".parquet":
            pq.read_table(path)  # a truncated file would not parse
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
    reports = root / "reports"
    if not reports.is_dir():
        return
    for run in (p for p in reports.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest = store.read_json(run / "manifest.json")  # a visible run folder is complete
        for name, entry in manifest["files"].items():
            assert store.file_sha256(run / name) == entry["sha256"], (run.name, name)
    latest = reports / "latest"
    if latest.is_symlink():
        assert (latest / "manifest.json").is_file()


def test_killed_runs_leave_no_half_written_file_and_the_next_run_recovers(tmp_path):
    baseline_root = tmp_path / "baseline"
    baseline_study = copy_sample(baseline_root)
    counted = _run(baseline_study, 0, "count")
    assert counted.returncode == 0, counted.stderr
    total = int(re.search(r"renames: (\d+)", counted.stderr).group(1))
    assert total > 20
    baseline = json.loads(
        (baseline_root / "reports" / "latest" / "results.json").read_text(encoding="utf-8")
    )

    points = [
        (1, "before"),
        (total // 3, "after"),
        (2 * total // 3, "before"),
        (total - 1, "before"),
        (total, "after"),
    ]
    for kill_at, when in points:
        root = tmp_path / f"crash-{kill_at}-{when}"  # each from the same cold start
        study = copy_sample(root)
        crashed = _run(study, kill_at, when)
        assert crashed.returncode == -9, (kill_at, when, crashed.returncode, crashed.stderr[-2000:])
        _assert_nothing_half_written(root)
        _release_stale_slot()
        recovered = _run(study, 10**9, "after")
        assert recovered.returncode == 0, (kill_at, when, recovered.stderr[-3000:])
        _assert_nothing_half_written(root)
        results = json.loads(
            (root / "reports" / "latest" / "results.json").read_text(encoding="utf-8")
        )
        assert comparable_results(results) == comparable_results(baseline), (kill_at, when)
        leftovers = [p for p in (root / "processed").rglob(".*.tmp")]
        assert leftovers == []  # the recovering run swept what the killed one left
