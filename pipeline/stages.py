"""The study's stages as units of work over folders: what a flow task (or a test) calls.

Each stage reads its inputs from the processed folder, calls the pure functions of
the pipeline and writes its outputs back atomically, returning only a small summary.
This module is the one place that knows the file layout of the processed folder
(besides the per-file ingest partitions in :mod:`pipeline.ingest`)::

    processed/
      manifest.json, ingest/...          ingest (per input file)
      sessions.parquet, diary_days.parquet, ..., quarantine.parquet,
      ingest_summary.json                clean
      patient_outcomes.parquet, responders.parquet, trajectory.parquet,
      sessions_summary.parquet, outcomes_summary.json      outcomes
      analysis.json                      analyse (statistics and claim verdicts)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import cohort, ingest, outcomes, store
from pipeline.config import StudyConfig
from pipeline.errors import InputError

OUTCOME_TABLES = ("patient_outcomes", "responders", "trajectory", "sessions_summary")
OUTCOMES_SUMMARY = "outcomes_summary.json"
ANALYSIS_NAME = "analysis.json"
Progress = Callable[[str], None]


def clean_stage(config: StudyConfig, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Consolidate ingested partitions into the canonical tables.

    Parameters
    ----------
    config : StudyConfig
    entries : list of dict
        Manifest entries from :func:`pipeline.ingest.ingest_file` for this run's inputs.

    Returns
    -------
    dict
        The ingest summary (``inputs``, ``data_quality``), also written to
        ``processed/ingest_summary.json``.
    """
    result = ingest.consolidate(config, entries)
    ingest.write_tables(config, result)
    return result.summary


NOT_ANALYSED = ("source_file", "source_row", "row_key", "source")
"""Provenance columns of the canonical tables: the outcomes stage does not read them."""


def _read_canonical(
    processed: Path,
    name: str,
    columns: list[str] | None = None,
    client_codes: bool = False,
    clients: PatientPartition | None = None,
) -> pd.DataFrame:
    """A canonical table without its provenance columns (or only ``columns``).

    ``client_codes`` reads ``patient_id`` as a categorical column (Parquet's dictionary):
    millions of diary rows then hold a code each instead of a string, and every client
    lookup in :mod:`pipeline.cohort` costs one hash per client, not per row.
    ``clients`` keeps only the rows of one patient partition.

    Raises
    ------
    InputError
        The table is missing: the ingest stage has not run on this folder.
    """
    path = Path(processed) / f"{name}.parquet"
    if not path.is_file():
        raise InputError(str(path), "missing: run the ingest stage first (outcome-study run)")
    if columns is None:
        columns = [c for c in pq.read_schema(path).names if c not in NOT_ANALYSED]
    return pd.read_parquet(
        path, engine="pyarrow", columns=columns,
        read_dictionary=["patient_id"] if client_codes else None,
        filters=clients.filters() if clients is not None else None,
    )  # fmt: skip


CLIENT_TABLES = ("sessions", "diary_days", "attacks", "coverage")
"""The tables whose clients the participant flow counts (questionnaire-only: not seen)."""
PARTS_FOLDER = ".outcome-parts"
ADVERSE_EVENT_COLUMNS = ["is_therapy", "attended", "adverse_event", "ae_resolved_hours"]
PER_CLIENT_TABLES = ("patient_outcomes", "trajectory", "sessions_summary", "flow_status")
"""What a patient partition computes: tables with rows of its own clients only."""


@dataclass(frozen=True)
class PatientPartition:
    """The clients whose pseudonym lies in ``first .. last`` (inclusive, string order).

    Outcomes are per client, so disjoint partitions can be computed apart (on Dask
    workers) and concatenated in partition order: the result equals the whole-study
    computation row for row.
    """

    first: str
    last: str
    instruments: tuple[str, ...]
    """The study's questionnaire instruments, so every partition has the same columns."""

    def filters(self) -> list[tuple[str, str, str]]:
        """A Parquet row filter (pyarrow DNF) for these clients."""
        return [("patient_id", ">=", self.first), ("patient_id", "<=", self.last)]


def plan_patient_partitions(config: StudyConfig, n: int) -> list[PatientPartition]:
    """Split the study's clients into at most ``n`` partitions of about equal size.

    Reads only the ``patient_id`` columns (and the questionnaire instruments); clears
    partitions an earlier interrupted run left behind.

    Parameters
    ----------
    config : StudyConfig
    n : int
        Partitions wanted (>= 1); fewer when the study has fewer clients.
    """
    processed = config.processed_dir
    ids = pa.chunked_array(
        [
            pc.unique(pq.read_table(processed / f"{name}.parquet", columns=["patient_id"])
                      .column("patient_id").combine_chunks())
            for name in CLIENT_TABLES
        ]
    )  # fmt: skip
    clients = np.sort(pc.unique(ids.combine_chunks()).to_numpy(zero_copy_only=False))
    instruments = pc.unique(
        pq.read_table(processed / "questionnaires.parquet", columns=["instrument"])
        .column("instrument")
        .combine_chunks()
    ).to_pylist()
    shutil.rmtree(processed / PARTS_FOLDER, ignore_errors=True)
    return [
        PatientPartition(str(chunk[0]), str(chunk[-1]), tuple(sorted(instruments)))
        for chunk in np.array_split(clients, max(1, min(n, len(clients))))
        if len(chunk)
    ]


def patient_tables(
    config: StudyConfig, clients: PatientPartition | None = None
) -> dict[str, pd.DataFrame]:
    """The per-client outcome tables of all clients, or of one patient partition.

    Returns
    -------
    dict of DataFrame
        :data:`PER_CLIENT_TABLES`: ``patient_outcomes``
        (:func:`pipeline.outcomes.patient_outcomes`), ``trajectory``, ``sessions_summary``
        and ``flow_status`` (:func:`pipeline.cohort.flow_status`), each sorted by client.
    """
    processed = config.processed_dir

    def read(name, columns=None, client_codes=False):
        return _read_canonical(processed, name, columns, client_codes, clients)

    sessions = read("sessions")
    diary_days = read("diary_days", client_codes=True)
    per_window = outcomes.patient_outcomes(
        diary_days, sessions, config, read("questionnaires"),
        list(clients.instruments) if clients is not None else None,
    )  # fmt: skip
    attacks = read("attacks", ["patient_id"], client_codes=True)
    coverage = read("coverage", ["patient_id"], client_codes=True)
    return {
        "patient_outcomes": per_window,
        "trajectory": outcomes.weekly_trajectory(diary_days, sessions, config),
        "sessions_summary": outcomes.sessions_summary(sessions),
        "flow_status": cohort.flow_status(
            sessions, diary_days, config, attacks, coverage, per_window
        ),
    }


def write_patient_partition(config: StudyConfig, clients: PatientPartition, number: int) -> str:
    """Compute one patient partition and park its tables in the processed folder.

    What a Dask worker runs: it returns a folder path, not the tables, so nothing large
    travels back to the flow. The folder is hidden and removed by
    :func:`outcomes_stage` once the partitions are combined.

    Returns
    -------
    str
        The partition's folder.
    """
    folder = config.processed_dir / PARTS_FOLDER / f"{number:04d}"
    for name, frame in patient_tables(config, clients).items():
        store.write_parquet_atomic(folder / f"{name}.parquet", frame)
    return str(folder)


def outcomes_stage(config: StudyConfig, parts: list[str] | None = None) -> dict[str, Any]:
    """Endpoints per client x window, responders, trajectories, participant flow.

    Reads the canonical tables (or combines the patient partitions in ``parts``),
    writes :data:`OUTCOME_TABLES` as Parquet and ``outcomes_summary.json``
    (participant flow, responder counts, adverse events).

    Parameters
    ----------
    config : StudyConfig
    parts : list of str, optional
        Folders from :func:`write_patient_partition`, in partition order. None (or
        empty): compute every client here.

    Returns
    -------
    dict
        ``participant_flow``, ``responders`` (per-window counts), ``adverse_events``
        (counts per claim limit), ``clients`` (rows in patient_outcomes / n windows).
    """
    processed = config.processed_dir
    if not parts:
        tables = patient_tables(config)
    else:
        tables = {
            name: pd.concat(
                [pd.read_parquet(Path(part) / f"{name}.parquet") for part in parts],
                ignore_index=True,
            )
            for name in PER_CLIENT_TABLES
        }
    per_window = tables["patient_outcomes"]
    responders = outcomes.responders(per_window, config)
    sessions = _read_canonical(processed, "sessions", ADVERSE_EVENT_COLUMNS)
    limits = sorted(
        {c.max_reaction_hours for c in config.claims if c.test == "adverse_events"} or {24.0}
    )
    summary = {
        "participant_flow": cohort.flow_summary(tables["flow_status"], config),
        "responders": responders.summary.to_dict("records"),
        "adverse_events": [outcomes.adverse_event_summary(sessions, hours) for hours in limits],
        "clients": int(per_window["patient_id"].nunique()),
    }
    frames = {
        "patient_outcomes": per_window,
        "responders": responders.per_patient,
        "trajectory": tables["trajectory"],
        "sessions_summary": tables["sessions_summary"],
    }
    for name, frame in frames.items():
        store.write_parquet_atomic(processed / f"{name}.parquet", frame)
    store.write_json_atomic(processed / OUTCOMES_SUMMARY, summary)
    shutil.rmtree(processed / PARTS_FOLDER, ignore_errors=True)
    return summary


def load_outcomes(processed: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The outcome tables and summary written by :func:`outcomes_stage`."""
    frames = {
        name: store.read_parquet(Path(processed) / f"{name}.parquet") for name in OUTCOME_TABLES
    }
    return frames, store.read_json(Path(processed) / OUTCOMES_SUMMARY)


def analysis_stage(config: StudyConfig) -> dict[str, Any]:
    """Statistics and claim verdicts from the outcome tables; writes ``analysis.json``.

    Returns
    -------
    dict
        The analysis (see :func:`pipeline.analysis.analyse`) plus ``data_quality`` and
        ``study`` (name, demo flag).
    """
    from pipeline.analysis import analyse

    processed = config.processed_dir
    frames, summary = load_outcomes(processed)
    ingest_summary = store.read_json(processed / ingest.SUMMARY_NAME)
    analysis = {
        "study": {"name": config.study.name, "demo": config.study.demo},
        "data_quality": ingest_summary["data_quality"],
        **analyse(
            frames["patient_outcomes"], frames["responders"], frames["trajectory"], summary, config
        ),
    }
    store.write_json_atomic(processed / ANALYSIS_NAME, analysis)
    return store.read_json(processed / ANALYSIS_NAME)


def report_frames(processed: Path) -> dict[str, pd.DataFrame]:
    """The tables a report shows, read from the processed folder."""
    frames, _ = load_outcomes(processed)
    frames["quarantine"] = store.read_parquet(Path(processed) / "quarantine.parquet")
    return frames


def report_stage(
    config: StudyConfig, run: dict[str, Any], out: Path | None = None
) -> dict[str, Any]:
    """Write results.json and the report of one run.

    Parameters
    ----------
    config : StudyConfig
    run : dict
        Run metadata: ``id``, ``started_at``, ``code_version``, ``config_sha256``,
        ``inputs`` (``finished_at`` is added here).
    out : Path, optional
        Report folder. Default: ``<reports>/<run id>/``, published as ``<reports>/latest``
        once complete (a reader never sees a half-written run folder).

    Returns
    -------
    dict
        ``report_dir`` (str) and ``files`` (names written).
    """
    from pipeline.report import write_report

    processed = config.processed_dir
    analysis = store.read_json(processed / ANALYSIS_NAME)
    results = {"run": {**run, "finished_at": store.now_iso()}, **analysis}
    frames = report_frames(processed)
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        files = write_report(results, frames, config, folder)
        files.append(write_run_manifest(folder, run["id"], files))
    else:
        with store.run_folder(config.reports_dir, run["id"]) as folder:
            files = write_report(results, frames, config, folder)
            files.append(write_run_manifest(folder, run["id"], files))
        folder = store.publish_run(config.reports_dir, run["id"])
    return {"report_dir": str(folder), "files": sorted(p.name for p in files)}


RUN_MANIFEST = "manifest.json"


def write_run_manifest(folder: Path, run_id: str, files: list[Path]) -> Path:
    """``manifest.json`` of a run folder: every file written, with its size and sha256.

    Lets anyone check that a report folder (copied, archived, mailed) is complete and
    unaltered.
    """
    entries = {
        Path(path).relative_to(folder).as_posix(): {
            "bytes": Path(path).stat().st_size,
            "sha256": store.file_sha256(Path(path)),
        }
        for path in sorted(files)
    }
    return store.write_json_atomic(folder / RUN_MANIFEST, {"run": run_id, "files": entries})


def run_study(
    config: StudyConfig, key: Any, out: Path | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Every stage in sequence without Prefect (tests, benchmarks, notebooks).

    The Prefect flow in ``flows/study_flow.py`` calls the same stage functions.
    """
    say = progress or (lambda message: None)
    with store.folder_lock(config.processed_dir, wait_message=say):
        store.sweep_leftovers(config.processed_dir)
        store.sweep_leftovers(config.reports_dir, min_age_seconds=store.STALE_REPORT_SECONDS)
        entries = ingest.ingest(config, key, progress)
        summary = clean_stage(config, entries)
        say("clean: done")
        outcomes_stage(config)
        say("outcomes: done")
        analysis_stage(config)
        say("analysis: done")
        run = {
            "id": store.new_run_id(),
            "started_at": store.now_iso(),
            "code_version": store.code_version(),
            "config_sha256": config.analysis_fingerprint(),
            "pseudonym_key": "demo" if key.demo else "study key " + key.fingerprint,
            "inputs": summary["inputs"],
        }
        return report_stage(config, run, out)
