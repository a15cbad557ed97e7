"""Copies of the bundled sample study with their own processed and reports folders."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "raw" / "sample"


def copy_sample(root: Path, demo: bool = True) -> Path:
    """Copy data/raw/sample to ``root/raw``; its study.toml writes to ``root/processed``
    and ``root/reports``. Returns the copied study.toml.

    Parameters
    ----------
    demo : bool
        False turns the copy into a "real" study (the pseudonym key becomes required).
    """
    raw = root / "raw"
    shutil.copytree(SAMPLE, raw)
    study = raw / "study.toml"
    text = study.read_text(encoding="utf-8")
    text = re.sub(r'processed = ".*"', 'processed = "../processed"', text)
    text = re.sub(r'reports = ".*"', 'reports = "../reports"', text)
    if not demo:
        text = re.sub(r"demo = true.*", "demo = false", text)
    study.write_text(text, encoding="utf-8")
    return study


def comparable_results(results: dict) -> dict:
    """results.json without what legitimately differs between two runs of one study
    (run id and times, and whether an input was reused from an earlier run)."""
    run = {
        k: v
        for k, v in results["run"].items()
        if k not in ("id", "started_at", "finished_at", "inputs")
    }
    inputs = [{k: v for k, v in i.items() if k != "reused"} for i in results["run"]["inputs"]]
    return {**results, "run": {**run, "inputs": inputs}}


def simulated_outcomes(folder: Path, n: int, seed: int, settings=None):
    """Simulate a study into ``folder`` and run it through ingest, clean and outcomes
    (the real stages, from files on disk). Returns its configuration."""
    from pipeline import ingest, stages
    from pipeline.config import load_config
    from pipeline.privacy import resolve_key
    from pipeline.simulate import simulate_study

    simulate_study(folder, n, seed, settings)
    config = load_config(folder / "study.toml")
    key = resolve_key(config.study.salt_env, config.study.demo, {})
    stages.clean_stage(config, ingest.ingest(config, key))
    stages.outcomes_stage(config)
    return config
