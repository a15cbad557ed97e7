"""From the raw folder to the canonical tables in the processed folder.

Two steps, so that the per-file work can run in parallel (one task per file):

1. :func:`ingest_file` reads one export, cleans it and writes its accepted and
   quarantined rows as Parquet partitions under ``processed/ingest/<adapter>/``. A file
   whose sha256 and settings match the manifest is not read again.
2. :func:`consolidate` combines the partitions: removes duplicate records across
   files, links sessions to diaries, assembles diary days, balances the row accounting
   and writes the canonical tables (``sessions.parquet``, ``diary_days.parquet``, ...,
   ``quarantine.parquet``) and ``ingest_summary.json``.

:func:`discover`, :func:`ingest_file` and :func:`finish_ingest` are what a flow maps;
:func:`ingest` runs them in sequence.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import store
from pipeline.clean import (
    QUARANTINE_COLUMNS,
    accounting,
    clean_table,
    clean_tables,
    drop_duplicates,
    empty_quarantine,
)
from pipeline.config import SourceSection, StudyConfig
from pipeline.diary import build_diary_days
from pipeline.errors import ConfigError, InputError
from pipeline.fields import normalise_id
from pipeline.linkage import link_sessions
from pipeline.privacy import PseudonymKey, pseudonymise
from pipeline.sources import ADAPTERS
from pipeline.sources.io import read_export

#: Canonical tables written by :func:`consolidate` (file stem -> adapter or derived).
TABLES = (
    "sessions", "diary_daily", "attacks", "coverage", "questionnaires", "patient_links",
    "diary_days", "quarantine",
)  # fmt: skip
_ADAPTER_TABLE = {
    "sessions": "sessions",
    "diary_daily": "diary_daily",
    "diary_attacks": "attacks",
    "coverage": "coverage",
    "questionnaires": "questionnaires",
    "patients": "patient_links",
}
SUMMARY_NAME = "ingest_summary.json"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class InputFile:
    """One export matched by a ``[[sources]]`` glob.

    Attributes
    ----------
    source_index : int
        Position of its ``[[sources]]`` table in study.toml.
    path : Path
    display : str
        Path relative to the raw folder (POSIX), used in every message and output.
    """

    source_index: int
    path: Path
    display: str

    def adapter(self, config: StudyConfig) -> str:
        return config.sources[self.source_index].adapter


def _ignored(path: Path) -> bool:
    """Hidden files, editor and Excel lock files, partial downloads."""
    name = path.name
    return name.startswith((".", "~$")) or name.endswith((".tmp", ".part", ".crdownload"))


def _displays(relatives: list[Path], source: SourceSection, key: PseudonymKey) -> list[str]:
    """How files are named in outputs and logs: their paths relative to the raw folder.

    An attack log is named after its client, so its name is pseudonymised
    (``attacks/MIG-017.csv`` -> ``attacks/P-1a2b....csv``).
    """
    if not ADAPTERS[source.adapter].id_from_file_name:
        return [relative.as_posix() for relative in relatives]
    stems = pseudonymise(normalise_id(pd.Series([r.stem for r in relatives], dtype="str")), key)
    return [
        (relative.parent / f"{stem}{relative.suffix}").as_posix()
        for relative, stem in zip(relatives, stems, strict=True)
    ]


def discover(config: StudyConfig, key: PseudonymKey) -> list[InputFile]:
    """The input files, in a stable order (by source, then path).

    Raises
    ------
    InputError
        The raw folder does not exist, or no source matches any file.
    ConfigError
        One file is matched by two ``[[sources]]`` tables.
    """
    raw = config.raw_dir
    if not raw.is_dir():
        raise InputError(str(raw), "raw folder not found (set [paths] raw or --raw)")
    claimed: dict[Path, int] = {}
    files: list[InputFile] = []
    for index, source in enumerate(config.sources):
        paths = sorted(p for p in raw.glob(source.path) if p.is_file() and not _ignored(p))
        for path in paths:
            if path in claimed:
                raise ConfigError(
                    f"{path.relative_to(raw).as_posix()} is matched by [[sources]] #{claimed[path] + 1} "
                    f"and #{index + 1}; make the path globs exclusive"
                )
            claimed[path] = index
        displays = _displays([p.relative_to(raw) for p in paths], source, key)
        files.extend(InputFile(index, p, d) for p, d in zip(paths, displays, strict=True))
    if not files:
        raise InputError(str(raw), "no input file matches any [[sources]] path")
    return files


def settings_fingerprint(config: StudyConfig, source_index: int, key: PseudonymKey) -> str:
    """sha256 of everything, besides the file's bytes, that shapes its cleaned rows."""
    relevant = {
        "source": config.sources[source_index].model_dump(mode="json"),
        "vocabulary": config.vocabulary.model_dump(mode="json"),
        "medications": config.medications.model_dump(mode="json"),
        "therapy_pattern": config.study.therapy_pattern,
        "groups": list(config.study.groups),
        "instruments": config.analysis.model_dump(mode="json")["instruments"],
        "key": key.fingerprint,
        "code": store.code_fingerprint(),
    }
    return store.text_sha256(json.dumps(relevant, sort_keys=True))


@dataclass(frozen=True)
class IngestJob:
    """Files of one source to read and clean together (they changed since the manifest).

    Attributes
    ----------
    source_index : int
    files : tuple of InputFile
    shas : tuple of str
        Each file's sha256 (hex), computed when the job was planned.
    settings : str
        :func:`settings_fingerprint` of the source.
    """

    source_index: int
    files: tuple[InputFile, ...]
    shas: tuple[str, ...]
    settings: str


#: A job holds files up to about this many bytes (bigger files get a job of their own).
JOB_BYTES = 64 * 2**20


def plan_ingest(
    config: StudyConfig, key: PseudonymKey, files: list[InputFile], manifest: dict[str, dict]
) -> tuple[list[dict[str, Any]], list[IngestJob]]:
    """Split the inputs into unchanged files (manifest entries reused) and jobs to run.

    A file is unchanged when its sha256 and the settings it was read with match the
    manifest and its partitions still exist; it is not read again. Changed files of one
    source are grouped into jobs of about :data:`JOB_BYTES`, so many small exports
    (one attack log per client) are cleaned in one vectorised pass.

    Returns
    -------
    reused : list of dict
        Manifest entries of unchanged files (``reused`` True).
    jobs : list of IngestJob
    """
    processed = config.processed_dir
    reused: list[dict[str, Any]] = []
    pending: dict[int, list[tuple[InputFile, str, int]]] = {}
    settings = {i: settings_fingerprint(config, i, key) for i in {f.source_index for f in files}}
    for file in files:
        sha = store.file_sha256(file.path)
        previous = manifest.get(file.display)
        if (
            previous
            and previous.get("sha256") == sha
            and previous.get("settings") == settings[file.source_index]
            and all((processed / previous[part]).is_file() for part in ("accepted", "quarantine"))
        ):
            reused.append({**previous, "reused": True})
        else:
            pending.setdefault(file.source_index, []).append((file, sha, file.path.stat().st_size))
    jobs: list[IngestJob] = []
    for index, group in pending.items():
        chunk: list[tuple[InputFile, str, int]] = []
        chunk_bytes = 0
        for item in group:
            if chunk and chunk_bytes + item[2] > JOB_BYTES:
                jobs.append(_job(index, chunk, settings[index]))
                chunk, chunk_bytes = [], 0
            chunk.append(item)
            chunk_bytes += item[2]
        jobs.append(_job(index, chunk, settings[index]))
    return reused, jobs


def _job(index: int, chunk: list[tuple[InputFile, str, int]], settings: str) -> IngestJob:
    return IngestJob(index, tuple(f for f, _, _ in chunk), tuple(s for _, s, _ in chunk), settings)


def _read(file: InputFile, config: StudyConfig):
    source = config.sources[file.source_index]
    return read_export(
        file.path,
        file.display,
        renames=source.columns,
        header_marker=ADAPTERS[source.adapter].header_marker,
        encoding=source.encoding,
        separator=source.delimiter,
        sheet=source.sheet,
        date_format=source.date_format,
        datetime_format=source.datetime_format,
    )


def run_job(job: IngestJob, config: StudyConfig, key: PseudonymKey) -> list[dict[str, Any]]:
    """Read and clean a job's files and write their rows as Parquet partitions.

    Files with the same columns are cleaned together and share one accepted and one
    quarantine partition under ``processed/ingest/<adapter>/``; every row keeps its
    ``source_file``, so each file's manifest entry can point at the shared partition.

    Returns
    -------
    list of dict
        One manifest entry per file: ``path, source_index, adapter, sha256, settings,
        accepted, quarantine`` (partition paths relative to the processed folder),
        ``rows_read``, ``encoding``, ``separator``, ``ingested_at``, ``reused`` (False).

    Raises
    ------
    InputError
        A file cannot be read, lacks a required column, or no value of a date column
        fits the configured format.
    """
    source = config.sources[job.source_index]
    spec = ADAPTERS[source.adapter]
    processed = config.processed_dir
    tables = [_read(file, config) for file in job.files]
    by_columns: dict[tuple[str, ...], list[int]] = {}
    for position, table in enumerate(tables):
        by_columns.setdefault(table.columns, []).append(position)
    entries: list[dict[str, Any]] = [{} for _ in job.files]
    for positions in by_columns.values():
        cleaned = clean_tables(
            [(tables[i], job.files[i].display) for i in positions], spec, source, config, key
        )
        identity = "\n".join(f"{job.files[i].display}\x1f{job.shas[i]}" for i in positions)
        name = store.text_sha256(f"{identity}\x1f{job.settings}")[:24]
        accepted_rel = f"ingest/{spec.name}/{name}.parquet"
        quarantine_rel = f"ingest/{spec.name}/{name}.quarantine.parquet"
        store.write_parquet_atomic(processed / accepted_rel, cleaned.accepted)
        store.write_parquet_atomic(processed / quarantine_rel, cleaned.quarantine)
        for i in positions:
            entries[i] = {
                "path": job.files[i].display,
                "source_index": job.source_index,
                "adapter": spec.name,
                "sha256": job.shas[i],
                "settings": job.settings,
                "accepted": accepted_rel,
                "quarantine": quarantine_rel,
                "rows_read": tables[i].rows_read,
                "encoding": tables[i].encoding,
                "separator": tables[i].separator,
                "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "reused": False,
            }
    return entries


def finish_ingest(config: StudyConfig, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the manifest for this set of inputs and delete partitions no longer used.

    Files that disappeared from the raw folder, or changed, leave no rows behind.

    Returns
    -------
    list of dict
        The entries, in input order (by source, then path).
    """
    processed = config.processed_dir
    entries = sorted(entries, key=lambda e: (e["source_index"], e["path"]))
    store.write_manifest(
        processed, {e["path"]: {k: v for k, v in e.items() if k != "reused"} for e in entries}
    )
    in_use = {e[k] for e in entries for k in ("accepted", "quarantine")}
    for partition in (
        (processed / "ingest").rglob("*.parquet") if (processed / "ingest").is_dir() else ()
    ):
        if partition.relative_to(processed).as_posix() not in in_use:
            partition.unlink(missing_ok=True)
    return entries


def ingest(
    config: StudyConfig, key: PseudonymKey, progress: Progress | None = None
) -> list[dict[str, Any]]:
    """Discover, ingest every changed file (reusing unchanged ones) and write the manifest."""
    files = discover(config, key)
    manifest = store.read_manifest(config.processed_dir)["files"]
    entries, jobs = plan_ingest(config, key, files, manifest)
    if progress:
        progress(
            f"{len(files)} input files: {len(entries)} unchanged, {len(files) - len(entries)} to read"
        )
    for number, job in enumerate(jobs, start=1):
        done = run_job(job, config, key)
        entries.extend(done)
        if progress:
            rows = sum(e["rows_read"] for e in done)
            progress(
                f"[{number}/{len(jobs)}] {config.sources[job.source_index].adapter}: {len(done)} files, {rows} rows"
            )
    return finish_ingest(config, entries)


# --------------------------------------------------------------------------- consolidate
def _load(processed: Path, entries: list[dict[str, Any]], part: str) -> list[pd.DataFrame]:
    """Each partition the entries point at, once, restricted to those entries' files.

    A partition may hold rows of a file that changed since (its new rows live in a newer
    partition): only rows of files whose entry points here are kept.
    """
    files_of: dict[str, set[str]] = {}
    for entry in entries:
        files_of.setdefault(entry[part], set()).add(entry["path"])
    frames = []
    for relative, files in files_of.items():
        frame = store.read_parquet(processed / relative)
        keep = frame["source_file"].isin(files)
        frames.append(frame if keep.all() else frame[keep].reset_index(drop=True))
    return frames


def _concat(frames: list[pd.DataFrame], empty: pd.DataFrame | None = None) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if frames:
        return pd.concat(frames, ignore_index=True)
    return empty if empty is not None else pd.DataFrame()


def _empty_canonical(adapter: str) -> pd.DataFrame:
    """A zero-row frame with the adapter's canonical columns and dtypes."""
    model = ADAPTERS[adapter].model
    schema = model.to_schema()
    columns = {
        name: pd.Series([], dtype=str(column.dtype) if column.dtype is not None else "object")
        for name, column in schema.columns.items()
    }
    if adapter in ("sessions", "patients"):
        columns.update(
            {c: pd.Series([], dtype="str") for c in ("link_email", "link_phone", "link_name")}
        )
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class Consolidated:
    """The canonical tables and the data-quality summary of one set of inputs."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]


def consolidate(config: StudyConfig, entries: list[dict[str, Any]]) -> Consolidated:
    """Combine ingested partitions into the canonical tables (in memory).

    Returns
    -------
    Consolidated
        ``tables``: the frames named in :data:`TABLES`; ``summary``: ``inputs`` (per-file
        accounting), ``data_quality`` (totals, ``by_reason``, ``by_adapter``, duplicates,
        conflicts, linkage and diary counts).
    """
    processed = config.processed_dir
    accepted: dict[str, pd.DataFrame] = {}
    quarantine_parts: list[pd.DataFrame] = []
    duplicates = pd.Series(dtype="int64")
    for adapter in ADAPTERS:
        mine = [e for e in entries if e["adapter"] == adapter]
        kept_accepted = _load(processed, mine, "accepted")
        kept_quarantine = _load(processed, mine, "quarantine")
        kept, removed = drop_duplicates(kept_accepted + kept_quarantine)
        duplicates = duplicates.add(removed, fill_value=0)
        accepted[adapter] = _concat(kept[: len(kept_accepted)], _empty_canonical(adapter))
        quarantine_parts.extend(kept[len(kept_accepted) :])
    quarantine = _concat(quarantine_parts, empty_quarantine())[list(QUARANTINE_COLUMNS)]

    per_file_accepted = pd.concat(
        [f["source_file"] for f in accepted.values() if len(f)] or [pd.Series(dtype="str")]
    ).value_counts()
    rows = accounting(
        rows_read=pd.Series({e["path"]: e["rows_read"] for e in entries}, dtype="int64"),
        accepted=per_file_accepted,
        quarantined=quarantine["source_file"].value_counts(),
        duplicates=duplicates,
    )

    sessions, link_counts = link_sessions(accepted["sessions"], accepted["patients"])
    diary_days, diary_stats = build_diary_days(
        accepted["diary_daily"], accepted["diary_attacks"], accepted["coverage"]
    )
    tables = {
        "sessions": sessions,
        "diary_daily": accepted["diary_daily"],
        "attacks": accepted["diary_attacks"],
        "coverage": accepted["coverage"],
        "questionnaires": accepted["questionnaires"],
        "patient_links": accepted["patients"],
        "diary_days": diary_days,
        "quarantine": quarantine.drop(columns="row_key"),
    }
    summary = _summary(config, entries, rows, quarantine, link_counts, diary_stats.as_dict())
    return Consolidated(tables=tables, summary=summary)


def _summary(
    config: StudyConfig,
    entries: list[dict[str, Any]],
    rows: pd.DataFrame,
    quarantine: pd.DataFrame,
    link_counts: dict[str, int],
    diary_counts: dict[str, int],
) -> dict[str, Any]:
    inputs = [
        {
            "path": e["path"],
            "sha256": e["sha256"],
            "adapter": e["adapter"],
            "encoding": e["encoding"],
            "separator": e["separator"],
            "reused": bool(e.get("reused", False)),
            **{k: int(v) for k, v in rows.loc[e["path"]].items()},
        }
        for e in entries
    ]
    totals = {k: int(v) for k, v in rows.sum().items()}
    by_adapter = {
        adapter: {
            k: int(v)
            for k, v in rows.loc[[e["path"] for e in entries if e["adapter"] == adapter]]
            .sum()
            .items()
        }
        for adapter in ADAPTERS
        if any(e["adapter"] == adapter for e in entries)
    }
    by_reason = quarantine["reason"].value_counts().sort_index()
    used = {e["source_index"] for e in entries}
    sources_without_files = [
        f"#{i + 1} {s.adapter} '{s.path}'" for i, s in enumerate(config.sources) if i not in used
    ]
    return {
        "inputs": inputs,
        "data_quality": {
            **totals,
            "by_reason": {k: int(v) for k, v in by_reason.items()},
            "by_adapter": by_adapter,
            "linkage": link_counts,
            "diary": diary_counts,
            "sources_without_files": sources_without_files,
        },
    }


def write_tables(config: StudyConfig, result: Consolidated) -> dict[str, Path]:
    """Write the canonical tables and the summary to the processed folder (atomically).

    Returns
    -------
    dict
        Table name -> written path.
    """
    processed = config.processed_dir
    written = {
        name: store.write_parquet_atomic(processed / f"{name}.parquet", frame)
        for name, frame in result.tables.items()
    }
    written["summary"] = store.write_json_atomic(processed / SUMMARY_NAME, result.summary)
    return written


def load_tables(processed: Path, names: tuple[str, ...] = TABLES) -> dict[str, pd.DataFrame]:
    """Read canonical tables back from a processed folder (for later stages and notebooks).

    Raises
    ------
    InputError
        A table is missing: the ingest stage has not run on this folder.
    """
    tables = {}
    for name in names:
        path = Path(processed) / f"{name}.parquet"
        if not path.is_file():
            raise InputError(str(path), "missing: run the ingest stage first (outcome-study run)")
        tables[name] = store.read_parquet(path)
    return tables


# ------------------------------------------------------------------------------ validate
def validate_file(
    path: Path, adapter: str, config: StudyConfig | None = None, examples: int = 10
) -> dict[str, Any]:
    """Check one export without writing anything (the ``validate`` command).

    The file is read with the settings of the ``[[sources]]`` table in ``config`` that
    matches it (or the first one for ``adapter``; defaults without a config). Ids are
    pseudonymised with a throw-away random key, so examples show no real ids.

    Parameters
    ----------
    path : Path
    adapter : str
        One of :data:`pipeline.config.ADAPTERS`.
    config : StudyConfig, optional
    examples : int
        How many quarantined rows to return as examples.

    Returns
    -------
    dict
        ``file, adapter, encoding, separator, rows_read, rows_accepted,
        rows_quarantined, duplicates_removed, by_reason, examples`` (``source_row``,
        ``reason``, ``message``).

    Raises
    ------
    ConfigError
        Unknown adapter.
    InputError
        The file cannot be read as a table or lacks a required column.
    """
    import os

    from pipeline.config import SourceSection

    if adapter not in ADAPTERS:
        raise ConfigError(f"unknown adapter '{adapter}'; choose one of {', '.join(ADAPTERS)}")
    path = Path(path)
    if config is None:
        from pipeline.config import StudyConfig as _Config

        config = _Config(sources=(SourceSection(adapter=adapter, path=path.name),))
    candidates = [i for i, s in enumerate(config.sources) if s.adapter == adapter]
    matching = [
        i
        for i in candidates
        if path.resolve() in {p.resolve() for p in config.raw_dir.glob(config.sources[i].path)}
    ]
    if matching or candidates:
        source = config.sources[(matching or candidates)[0]]
    else:
        source = SourceSection(adapter=adapter, path=path.name)
        config = config.model_copy(update={"sources": (*config.sources, source)})
    key = PseudonymKey(secret=os.urandom(32), demo=False)
    spec = ADAPTERS[adapter]
    table = read_export(
        path, path.name, renames=source.columns, header_marker=spec.header_marker,
        encoding=source.encoding, separator=source.delimiter, sheet=source.sheet,
        date_format=source.date_format, datetime_format=source.datetime_format,
    )  # fmt: skip
    cleaned = clean_table(table, spec, source, config, key, path.name)
    (accepted, quarantine), removed = drop_duplicates([cleaned.accepted, cleaned.quarantine])
    return {
        "file": str(path),
        "adapter": adapter,
        "encoding": table.encoding,
        "separator": table.separator,
        "rows_read": cleaned.rows_read,
        "rows_accepted": len(accepted),
        "rows_quarantined": len(quarantine),
        "duplicates_removed": int(removed.sum()),
        "by_reason": {
            k: int(v) for k, v in quarantine["reason"].value_counts().sort_index().items()
        },
        "examples": quarantine.head(examples)[["source_row", "reason", "message"]].to_dict(
            "records"
        ),
    }
