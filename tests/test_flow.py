"""The Prefect flow under the session's test harness, and the command line's exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.study_copies import comparable_results, copy_sample

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _task_states(flow_run_id) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    with get_client(sync_client=True) as client:
        # limit and sort explicitly: this server rejects the client's nulls (422)
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            limit=200,
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
        )
    return {
        run.name.rsplit("-", 1)[0]: run.state.name
        for run in runs
        if not run.name.startswith("ingest")
    }


def test_unchanged_rerun_skips_cached_stages_and_gives_the_same_results(tmp_path):
    from flows.study_flow import outcome_study

    study = copy_sample(tmp_path)
    first = outcome_study(config_path=str(study), return_state=True)
    assert first.is_completed(), first.message
    second = outcome_study(config_path=str(study), return_state=True)
    assert second.is_completed(), second.message

    assert _task_states(first.state_details.flow_run_id) == {
        "clean": "Completed", "outcomes": "Completed", "analyse": "Completed", "report": "Completed",
    }  # fmt: skip
    assert _task_states(second.state_details.flow_run_id) == {
        "clean": "Cached", "outcomes": "Cached", "analyse": "Cached", "report": "Completed",
    }  # fmt: skip

    runs = sorted(p for p in (tmp_path / "reports").iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 2
    one, two = (json.loads((run / "results.json").read_text(encoding="utf-8")) for run in runs)
    assert all(i["reused"] for i in two["run"]["inputs"])
    assert one["run"]["id"] != two["run"]["id"]
    assert comparable_results(one) == comparable_results(two)
    assert (tmp_path / "reports" / "latest").resolve() == runs[1].resolve()


def test_changed_input_reruns_the_stages(tmp_path):
    from flows.study_flow import outcome_study

    study = copy_sample(tmp_path)
    assert outcome_study(config_path=str(study), return_state=True).is_completed()
    coverage = tmp_path / "raw" / "coverage" / "coverage.csv"
    lines = coverage.read_text(encoding="utf-8").splitlines()
    coverage.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one client fewer
    again = outcome_study(config_path=str(study), return_state=True)
    assert again.is_completed(), again.message
    assert _task_states(again.state_details.flow_run_id)["clean"] == "Completed"
    results = json.loads(
        (tmp_path / "reports" / "latest" / "results.json").read_text(encoding="utf-8")
    )
    reused = {i["path"]: i["reused"] for i in results["run"]["inputs"]}
    assert reused["coverage/coverage.csv"] is False
    assert sum(reused.values()) == len(reused) - 1


def _cli(
    *args: str, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    from prefect.settings import PREFECT_API_URL

    environment = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value() or "", **(env or {})}
    environment.pop("OUTCOME_STUDY_SALT", None) if "OUTCOME_STUDY_SALT" not in (env or {}) else None
    script = Path(sys.executable).with_name("outcome-study")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=environment, cwd=cwd, timeout=600
    )


def _one_line_error(process: subprocess.CompletedProcess) -> str:
    lines = [
        line for line in process.stderr.splitlines() if line.startswith("outcome-study: error:")
    ]
    assert len(lines) == 1, process.stderr
    assert "Traceback" not in process.stderr + process.stdout
    return lines[0]


def test_cli_run_writes_the_report_and_strict_exits_1(tmp_path):
    study = copy_sample(tmp_path)
    out = tmp_path / "out"
    done = _cli("run", "--config", str(study), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert {
        "results.json",
        "report.html",
        "report.pdf",
        "tables.xlsx",
        "patient_outcomes.csv",
        "quarantine.csv",
    } <= {p.name for p in out.iterdir()}
    assert "quarantined" in done.stdout
    strict = _cli("run", "--config", str(study), "--out", str(tmp_path / "out2"), "--strict")
    assert strict.returncode == 1, strict.stderr


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    study = copy_sample(tmp_path)
    diary = tmp_path / "raw" / "diaries" / "daily_site_a.csv"
    lines = diary.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    drop = header.index("date")
    diary.write_text(
        "\n".join(",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines)
        + "\n",
        encoding="utf-8",
    )
    failed = _cli("run", "--config", str(study))
    assert failed.returncode == 2
    message = _one_line_error(failed)
    assert "diaries/daily_site_a.csv" in message and "column 'date'" in message


def test_cli_missing_key_on_real_data_exits_2(tmp_path):
    study = copy_sample(tmp_path, demo=False)
    failed = _cli("run", "--config", str(study))
    assert failed.returncode == 2
    assert "OUTCOME_STUDY_SALT" in _one_line_error(failed)
    key = "k3y-" * 10
    done = _cli("run", "--config", str(study), env={"OUTCOME_STUDY_SALT": key})
    assert done.returncode == 0, done.stderr
    written = "".join(
        p.read_text(errors="replace")
        for p in (tmp_path / "reports" / "latest").glob("*.*")
        if p.suffix in (".json", ".csv", ".html")
    )
    assert key not in written and key not in done.stdout + done.stderr


def test_cli_bad_config_exits_2(tmp_path):
    broken = tmp_path / "study.toml"
    broken.write_text(
        '[windows]\nprimary = "week_99"\n[[sources]]\nadapter = "sessions"\npath = "x/*.csv"\n',
        encoding="utf-8",
    )
    failed = _cli("run", "--config", str(broken))
    assert failed.returncode == 2
    assert "primary window 'week_99'" in _one_line_error(failed)


def test_cli_validate_exit_statuses(tmp_path):
    clean = tmp_path / "clean.csv"
    clean.write_text("patient_id,date,headache\nA,2025-01-01,yes\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id,date,headache\nA,2025-01-01,maybe\n", encoding="utf-8")
    unreadable = tmp_path / "binary.csv"
    unreadable.write_bytes(b"\x00\x01\x02junk")
    assert _cli("validate", str(clean), "--adapter", "diary_daily").returncode == 0
    problems = _cli("validate", str(bad), "--adapter", "diary_daily")
    assert (
        problems.returncode == 1
        and "unknown_vocabulary" in problems.stdout
        and "row      1" in problems.stdout
    )
    broken = _cli("validate", str(unreadable), "--adapter", "diary_daily")
    assert broken.returncode == 2 and "binary content" in _one_line_error(broken)


def test_cli_report_rerenders_without_recomputing(tmp_path):
    study = copy_sample(tmp_path)
    assert _cli("run", "--config", str(study)).returncode == 0
    latest = tmp_path / "reports" / "latest"
    before = json.loads((latest / "results.json").read_text(encoding="utf-8"))
    (latest / "report.html").unlink()
    processed = {
        p: p.stat().st_mtime_ns for p in (tmp_path / "processed").rglob("*") if p.is_file()
    }
    again = _cli("report", "--config", str(study))
    assert again.returncode == 0, again.stderr
    assert (latest / "report.html").is_file()
    assert json.loads((latest / "results.json").read_text(encoding="utf-8")) == before
    # nothing was recomputed: every processed file is untouched
    assert {
        p: p.stat().st_mtime_ns for p in (tmp_path / "processed").rglob("*") if p.is_file()
    } == processed


def test_run_folder_manifest_lists_every_file_with_its_hash(tmp_path):
    from pipeline import store
    from pipeline.config import load_config
    from pipeline.privacy import resolve_key
    from pipeline.stages import run_study

    config = load_config(copy_sample(tmp_path))
    outcome = run_study(config, resolve_key(config.study.salt_env, True, {}))
    folder = Path(outcome["report_dir"])
    manifest = store.read_json(folder / "manifest.json")
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert set(manifest["files"]) == on_disk
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == store.file_sha256(folder / name)
    assert manifest["run"] == store.read_json(folder / "results.json")["run"]["id"]
