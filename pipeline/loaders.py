"""Loaders for analysts: everything a run wrote, read back by name.

Notebooks and ad-hoc scripts use these instead of knowing file names::

    from pipeline.loaders import load_study
    study = load_study("data/processed", "reports/latest")
    study.tables["diary_days"], study.outcomes["patient_outcomes"], study.results["claims"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import ingest, stages, store
from pipeline.errors import InputError


@dataclass(frozen=True)
class Study:
    """A processed study folder and (optionally) one run's report folder, loaded.

    Attributes
    ----------
    processed : Path
    tables : dict of DataFrame
        Canonical tables (:data:`pipeline.ingest.TABLES`): sessions, diary_daily,
        attacks, coverage, questionnaires, patient_links, diary_days, quarantine.
    outcomes : dict of DataFrame
        patient_outcomes, responders, trajectory, sessions_summary.
    outcomes_summary : dict
        Participant flow, responder counts, adverse-event counts.
    ingest_summary : dict
        Per-input accounting (``inputs``) and ``data_quality``.
    results : dict
        results.json of the report folder (empty when none was given).
    report : Path or None
    """

    processed: Path
    tables: dict[str, pd.DataFrame]
    outcomes: dict[str, pd.DataFrame]
    outcomes_summary: dict[str, Any]
    ingest_summary: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None


def load_results(report: str | Path) -> dict[str, Any]:
    """results.json of a run folder (e.g. ``reports/latest``).

    Raises
    ------
    InputError
        The folder holds no readable results.json.
    """
    path = Path(report) / "results.json"
    try:
        return store.read_json(path)
    except (OSError, ValueError):
        raise InputError(str(path), "missing or unreadable: run the study first") from None


def load_study(processed: str | Path, report: str | Path | None = None) -> Study:
    """Everything the pipeline wrote for a study.

    Parameters
    ----------
    processed : str or Path
        The processed folder (``[paths] processed`` of study.toml).
    report : str or Path, optional
        A run's report folder, e.g. ``reports/latest``, for its results.json.

    Raises
    ------
    InputError
        A table is missing: the study has not been run on this folder.
    """
    processed = Path(processed)
    outcome_frames, outcome_summary = (
        stages.load_outcomes(processed)
        if (processed / stages.OUTCOMES_SUMMARY).is_file()
        else ({}, {})
    )
    summary_path = processed / ingest.SUMMARY_NAME
    return Study(
        processed=processed,
        tables=ingest.load_tables(processed),
        outcomes=outcome_frames,
        outcomes_summary=outcome_summary,
        ingest_summary=store.read_json(summary_path) if summary_path.is_file() else {},
        results=load_results(report) if report is not None else {},
        report=Path(report) if report is not None else None,
    )
