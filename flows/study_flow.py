"""The ``outcome_study`` Prefect flow: ingest -> clean -> outcomes -> analyse -> report.

Tasks are thin: each calls one function of :mod:`pipeline.ingest` or
:mod:`pipeline.stages` and passes paths or small values, so the flow runs the same on
Prefect's default thread runner and on a Dask cluster.

- Ingest runs one task per batch of changed files of a source (unchanged files are
  not read again), retried with backoff while a file is still being written (an
  export being copied into the inbox).
- Clean, outcomes and analyse are cached on a fingerprint of the inputs' sha256, the
  study configuration, the pseudonym key (its public fingerprint) and the code: an
  unchanged rerun skips them.
- A global concurrency limit of one (``outcome-study-writes``) and a lock on the
  processed folder make concurrent runs wait for each other instead of interleaving.
- Bad input ends the run as Failed with a one-line reason; no traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.context import get_run_context
from prefect.states import Completed, Failed
from prefect.tasks import exponential_backoff

import flows  # noqa: F401  (Prefect offline defaults)
from pipeline import ingest, stages, store
from pipeline.config import StudyConfig, load_config
from pipeline.errors import StudyError
from pipeline.privacy import resolve_key

CONCURRENCY_LIMIT = "outcome-study-writes"
LEASE_SECONDS = 60  # the server's minimum
SLOT_WAIT_SECONDS = 120
"""Longest wait for the concurrency slot before relying on the folder lock alone."""
"""The concurrency slot is renewed while a run lives; a killed run frees it this soon."""
STABLE_AFTER_SECONDS = 2.0
CLUSTER_PARTITIONS = 8
"""Patient partitions on an existing Dask cluster unless the caller says otherwise."""


class FileStillChanging(OSError):
    """An input file changed while it was being read (still being copied)."""


# ------------------------------------------------------------------------------- helpers
def _key_for(config: StudyConfig):
    return resolve_key(config.study.salt_env, config.study.demo)


def wait_until_stable(path: Path, settle: float = STABLE_AFTER_SECONDS) -> None:
    """Raise :class:`FileStillChanging` when a recently modified file is still growing."""
    before = path.stat()
    if time.time() - before.st_mtime > settle * 5:
        return
    time.sleep(settle)
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise FileStillChanging(f"{path.name} is still being written")


def _retry_on_io(task, task_run, state) -> bool:
    """Retry ingest only for I/O trouble, never for a deterministic input error."""
    try:
        state.result()
    except (OSError, TimeoutError):
        return True
    except Exception:
        return False
    return False


def stage_fingerprint(config: StudyConfig, entries: list[dict[str, Any]]) -> str:
    """Cache key of the computed stages: inputs, configuration, key and code."""
    parts = [config.analysis_fingerprint(), _key_for(config).fingerprint, store.code_fingerprint()]
    parts += sorted(f"{e['path']}:{e['sha256']}:{e['settings']}" for e in entries)
    return store.text_sha256("\n".join(parts))


CACHE_MARKERS = ".stage-cache"


def _marker(config: StudyConfig, stage: str) -> Path:
    return config.processed_dir / CACHE_MARKERS / f"{stage}.fingerprint"


def _cache_key(context, parameters) -> str:
    """Cache a computed stage on the fingerprint of its inputs, config, key and code."""
    return f"{context.task.name}-{parameters['fingerprint']}"


def _holds(config: StudyConfig, stage: str, fingerprint: str) -> bool:
    """The processed folder holds this stage's outputs for this fingerprint.

    A stage records the fingerprint it computed (:func:`_remember`). If the folder was
    wiped, or a run on other inputs wrote it since, the stage must run again even when
    Prefect has a cached result: the flow then refreshes the cache.
    """
    try:
        return _marker(config, stage).read_text(encoding="utf-8") == fingerprint
    except OSError:
        return False


def _stage(task_fn, config: StudyConfig, fingerprint: str):
    """The task, refreshing its cache when the processed folder does not hold its outputs."""
    return task_fn.with_options(refresh_cache=not _holds(config, task_fn.name, fingerprint))


CACHED_STAGES = ("clean", "outcomes", "analyse")


def _forget_from(config: StudyConfig, stage: str) -> None:
    """Before a stage rewrites its outputs: its marker and every later one are void."""
    for later in CACHED_STAGES[CACHED_STAGES.index(stage) :]:
        _marker(config, later).unlink(missing_ok=True)


def _remember(config: StudyConfig, stage: str, fingerprint: str) -> None:
    store.write_text_atomic(_marker(config, stage), fingerprint)


# --------------------------------------------------------------------------------- tasks
@task(
    name="ingest",
    retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_condition_fn=_retry_on_io,
    cache_policy=NO_CACHE,
)
def ingest_job_task(job: ingest.IngestJob, config: StudyConfig) -> list[dict]:
    """Read and clean a batch of changed files; an input error comes back as data."""
    for file in job.files:
        wait_until_stable(file.path)
    try:
        entries = ingest.run_job(job, config, _key_for(config))
    except StudyError as error:
        return [{"error": str(error)}]
    adapter = config.sources[job.source_index].adapter
    get_run_logger().info(
        "%s: %d files, %d rows read", adapter, len(entries), sum(e["rows_read"] for e in entries)
    )
    return entries


@task(name="clean", cache_key_fn=_cache_key, persist_result=True)
def clean_task(config: StudyConfig, entries: list[dict], fingerprint: str) -> dict:
    """Consolidate partitions into canonical tables; returns the data-quality summary."""
    _forget_from(config, "clean")
    summary = stages.clean_stage(config, entries)
    _remember(config, "clean", fingerprint)
    dq = summary["data_quality"]
    get_run_logger().info(
        "rows read %d = accepted %d + quarantined %d + duplicates %d",
        dq["rows_read"], dq["rows_accepted"], dq["rows_quarantined"], dq["duplicates_removed"],
    )  # fmt: skip
    return summary


@task(name="outcomes-partition", cache_policy=NO_CACHE)
def outcomes_partition_task(
    clients: stages.PatientPartition, number: int, config: StudyConfig
) -> str:
    """Per-client outcomes of one patient partition (a Dask worker's share)."""
    return stages.write_patient_partition(config, clients, number)


@task(name="outcomes", cache_key_fn=_cache_key, persist_result=True)
def outcomes_task(config: StudyConfig, fingerprint: str, parts: list[str] | None = None) -> dict:
    """Endpoints per client x window and the participant flow.

    ``parts``: patient partitions computed by :func:`outcomes_partition_task`, combined
    here; None computes every client in this task.
    """
    _forget_from(config, "outcomes")
    summary = stages.outcomes_stage(config, parts)
    _remember(config, "outcomes", fingerprint)
    steps = summary["participant_flow"]["steps"]
    get_run_logger().info("participant flow: %s", ", ".join(f"{s['step']} {s['n']}" for s in steps))
    return summary


@task(name="analyse", cache_key_fn=_cache_key, persist_result=True)
def analyse_task(config: StudyConfig, fingerprint: str) -> dict:
    """Statistics and claim verdicts; returns the verdicts (small)."""
    _forget_from(config, "analyse")
    analysis = stages.analysis_stage(config)
    _remember(config, "analyse", fingerprint)
    verdicts = {c["id"]: c["verdict"] for c in analysis["claims"]}
    get_run_logger().info("verdicts: %s", ", ".join(f"{k} {v}" for k, v in verdicts.items()))
    return verdicts


@task(name="report", cache_policy=NO_CACHE)
def report_task(config: StudyConfig, run: dict, out: str | None) -> dict:
    """results.json and the report files for this run."""
    from flows.artifacts import publish_artifacts

    written = stages.report_stage(config, run, Path(out) if out else None)
    publish_artifacts(store.read_json(Path(written["report_dir"]) / "results.json"))
    get_run_logger().info("report written to %s", written["report_dir"])
    return written


# ---------------------------------------------------------------------------------- flow
def _ensure_concurrency_limit() -> None:
    """Create the global concurrency limit (one writer) if the server lacks it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(CONCURRENCY_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=CONCURRENCY_LIMIT, limit=1)
                )
            except Exception:  # created meanwhile by a concurrent run
                client.read_global_concurrency_limit_by_name(CONCURRENCY_LIMIT)


def _run_id() -> str:
    context = get_run_context()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{str(context.flow_run.id)[:8]}"


@flow(name="outcome_study", log_prints=False, persist_result=False)
def outcome_study(
    config_path: str,
    raw: str | None = None,
    processed: str | None = None,
    out: str | None = None,
    partitions: int = 1,
):
    """Run the study on the exports in the raw folder and write a report.

    Parameters
    ----------
    config_path : str
        study.toml.
    raw, processed : str, optional
        Folders overriding study.toml.
    out : str, optional
        Report folder; default ``<reports>/<run-id>/`` with ``<reports>/latest`` switched
        to it when the run succeeds.
    partitions : int
        Patient partitions for the outcomes stage, computed as parallel tasks (on a
        Dask cluster, one per worker); 1 computes every client in one task. The results
        are the same either way.
    """
    logger = get_run_logger()
    started = dt.datetime.now(dt.UTC)
    try:
        config = load_config(config_path).with_paths(raw=raw, processed=processed)
        key = _key_for(config)
        if key.demo:
            logger.warning("demo study: ids are pseudonymised with the public demo key")
        files = ingest.discover(config, key)
    except StudyError as error:
        return Failed(message=str(error))
    logger.info("%d input files under %s", len(files), config.raw_dir)

    _ensure_concurrency_limit()
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(
                concurrency(
                    CONCURRENCY_LIMIT,
                    occupy=1,
                    strict=True,
                    lease_duration=LEASE_SECONDS,
                    timeout_seconds=SLOT_WAIT_SECONDS,
                )  # fmt: skip
            )
        except TimeoutError:
            logger.warning(
                "the Prefect concurrency slot %r is still held after %d s (a killed run's "
                "lease?); continuing: the folder lock still keeps runs apart",
                CONCURRENCY_LIMIT, SLOT_WAIT_SECONDS,
            )  # fmt: skip
        held.enter_context(store.folder_lock(config.processed_dir, wait_message=logger.info))
        swept = store.sweep_leftovers(config.processed_dir) + store.sweep_leftovers(
            config.reports_dir, min_age_seconds=store.STALE_REPORT_SECONDS
        )
        if swept:
            logger.info("removed %d temporary files left by an interrupted run", swept)
        manifest = store.read_manifest(config.processed_dir)["files"]
        entries, jobs = ingest.plan_ingest(config, key, files, manifest)
        logger.info(
            "%d files unchanged since the last run, %d to read",
            len(entries),
            len(files) - len(entries),
        )
        futures = ingest_job_task.map(jobs, config=unmapped(config))
        for job, future in zip(jobs, futures, strict=True):
            future.wait()
            state = future.state
            if not state.is_completed():
                return Failed(
                    message=f"{job.files[0].display}: could not be read ({state.message})"
                )
            entries.extend(future.result())
        errors = [e["error"] for e in entries if "error" in e]
        if errors:
            return Failed(message=errors[0])
        ingest.finish_ingest(config, entries)
        fingerprint = stage_fingerprint(config, entries)
        reused = {e["path"]: bool(e["reused"]) for e in entries}
        summary = _stage(clean_task, config, fingerprint)(config, entries, fingerprint)
        parts = None
        if partitions > 1 and not _holds(config, "outcomes", fingerprint):
            plan = stages.plan_patient_partitions(config, partitions)
            logger.info("outcomes in %d patient partitions", len(plan))
            futures = outcomes_partition_task.map(
                plan, range(len(plan)), config=unmapped(config)
            )  # fmt: skip
            parts = [future.result() for future in futures]
        _stage(outcomes_task, config, fingerprint)(config, fingerprint, parts)
        _stage(analyse_task, config, fingerprint)(config, fingerprint)
        run = {
            "id": _run_id(),
            "started_at": started.isoformat(timespec="seconds"),
            "code_version": store.code_version(),
            "config_sha256": config.analysis_fingerprint(),
            "pseudonym_key": "demo" if key.demo else "study key " + key.fingerprint,
            # accounting from the clean stage, "reused" from this run's ingest
            "inputs": [{**i, "reused": reused[i["path"]]} for i in summary["inputs"]],
        }
        written = report_task(config, run, out)
    dq = summary["data_quality"]
    return Completed(
        message=f"report in {written['report_dir']}",
        data={
            "report_dir": written["report_dir"],
            **{
                k: dq[k]
                for k in ("rows_read", "rows_accepted", "rows_quarantined", "duplicates_removed")
            },
        },
    )


def run_flow(
    config_path: Path,
    raw: Path | None = None,
    processed: Path | None = None,
    out: Path | None = None,
    workers: int = 0,
    dask_address: str | None = None,
    partitions: int | None = None,
) -> dict[str, Any]:
    """Run :func:`outcome_study` (optionally on Dask) and return its outcome as a dict.

    Parameters
    ----------
    config_path : Path
        study.toml.
    raw, processed, out : Path, optional
        As :func:`outcome_study`.
    workers : int
        Run on a local Dask cluster of this many worker processes (0: no Dask).
    dask_address : str, optional
        Run on the Dask scheduler at ``tcp://HOST:PORT``; its workers must see the
        project's folders at the same paths (a shared file system).
    partitions : int, optional
        Patient partitions of the outcomes stage; default ``workers``, or
        :data:`CLUSTER_PARTITIONS` on an existing cluster, else 1.

    Returns
    -------
    dict
        ``report_dir`` and row counts, or ``error`` (one line) when the run failed.
    """
    from flows.runners import task_runner_for

    runner = task_runner_for(workers=workers, address=dask_address)
    study_flow = outcome_study.with_options(task_runner=runner) if runner else outcome_study
    state = study_flow(
        config_path=str(Path(config_path).resolve()),
        raw=str(raw) if raw else None,
        processed=str(processed) if processed else None,
        out=str(out) if out else None,
        partitions=partitions or (workers or (CLUSTER_PARTITIONS if dask_address else 1)),
        return_state=True,
    )
    if state.is_failed() or state.is_crashed():
        return {"error": state.message or "the run failed"}
    return state.result(raise_on_failure=False)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(
        run_flow(
            Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("STUDY", "config/study.toml"))
        )
    )
