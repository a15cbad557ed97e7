"""Run one pipeline stage on a study (a child process of run_benchmarks.py).

Usage: ``python benchmarks/stage.py STAGES STUDY_TOML`` with STAGES one of ingest, clean,
outcomes, analysis, report, or several joined by commas (run in order, one process). Stages read and write the study's processed folder, so
running them in order reproduces a whole run; each in its own process gives its own
wall time, CPU time and peak memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import ingest, stages, store
from pipeline.config import load_config
from pipeline.privacy import resolve_key

STAGES = ("ingest", "clean", "outcomes", "analysis", "report")


def run(stage: str, study: Path) -> None:
    """Run ``stage`` of the study at ``study`` (its study.toml)."""
    config = load_config(study)
    key = resolve_key(config.study.salt_env, config.study.demo)
    processed = config.processed_dir
    if stage == "ingest":
        ingest.ingest(config, key)
    elif stage == "clean":
        stages.clean_stage(config, list(store.read_manifest(processed)["files"].values()))
    elif stage == "outcomes":
        stages.outcomes_stage(config)
    elif stage == "analysis":
        stages.analysis_stage(config)
    elif stage == "report":
        summary = store.read_json(processed / ingest.SUMMARY_NAME)
        run_info = {
            "id": store.new_run_id(),
            "started_at": store.now_iso(),
            "code_version": store.code_version(),
            "config_sha256": config.analysis_fingerprint(),
            "pseudonym_key": "demo",
            "inputs": summary["inputs"],
        }
        stages.report_stage(config, run_info)
    else:
        raise SystemExit(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")


if __name__ == "__main__":
    for name in sys.argv[1].split(","):
        run(name, Path(sys.argv[2]))
