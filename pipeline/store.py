"""Where the pipeline reads and writes its own files: atomically, under a lock.

- Every file is written to a temporary name in the same folder, flushed to disk, then
  renamed over the target, so a reader (or a crashed run) never sees half a file.
- One run at a time may write a processed folder or a reports folder: :func:`folder_lock`
  takes an exclusive ``flock`` on a lock file there (a second run waits).
- The manifest of ingested files (``manifest.json`` in the processed folder) records each
  input's sha256 so an unchanged file is not parsed again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import pipeline

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
LOCK_NAME = ".outcome-study.lock"


# ------------------------------------------------------------------------- atomic writes
def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@functools.cache
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write a file through ``write(tmp_path)`` and rename it into place.

    Parameters
    ----------
    path : Path
        Final location; its folder is created if needed.
    write : callable
        Writes the complete content to the temporary path it is given.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())  # permissions as for any new file (mkstemp uses 0600)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write bytes atomically."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 text atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Plain JSON values: NaN/inf -> None, numpy scalars and arrays -> Python, dates -> ISO."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is pd.NaT or value is pd.NA or value is None:
        return None
    if isinstance(value, (pd.Timestamp, dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def write_json_atomic(path: Path, content: Any) -> Path:
    """Write JSON (UTF-8, indented, keys in insertion order) atomically; NaN becomes null."""
    text = json.dumps(to_jsonable(content), indent=2, ensure_ascii=False, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def write_parquet_atomic(path: Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as Parquet (pyarrow, no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_parquet(tmp, engine="pyarrow", index=False))


def write_csv_atomic(path: Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as UTF-8 CSV (no index) atomically."""
    return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, encoding="utf-8"))


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet table written by this module."""
    return pd.read_parquet(path, engine="pyarrow")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ locking
@contextlib.contextmanager
def folder_lock(folder: Path, wait_message: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for the duration of the block.

    A second process asking for the same lock waits until the first releases it (or
    dies: the kernel drops ``flock`` locks of a killed process).

    Parameters
    ----------
    folder : Path
        The folder to guard; created if missing.
    wait_message : callable, optional
        Called once with a sentence when the lock is busy and the caller has to wait.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if wait_message:
                wait_message(f"another run is writing {folder}; waiting for it to finish")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def sweep_leftovers(folder: Path, min_age_seconds: float = 0) -> int:
    """Remove hidden temporary files a killed run left in ``folder``.

    Atomic writes go through hidden ``.<name>.<random>.tmp`` files and report folders
    through ``.<run id>.partial``: a run killed mid-write leaves them behind (never a
    half-written visible file). Call it holding the folder's lock; where another
    process might still be writing (a shared reports folder), pass ``min_age_seconds``
    so only old leftovers go. Returns how many were removed.
    """
    import shutil

    folder = Path(folder)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - min_age_seconds
    removed = 0
    for leftover in [*folder.rglob(".*.tmp"), *folder.glob(".*.partial")]:
        try:
            if leftover.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        removed += 1
    return removed


STALE_REPORT_SECONDS = 3600
"""A partial report folder this old belongs to no running run (used by sweeps)."""


# ----------------------------------------------------------------------------- hashing
def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    """sha256 (hex) of UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """sha256 (hex) of the pipeline package's source files and templates.

    Any change to the analysis code changes it, which invalidates cached ingest
    partitions and cached flow stages.
    """
    root = Path(pipeline.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".j2", ".html", ".css", ".toml"}:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def code_version() -> str:
    """Package version plus a short code fingerprint, e.g. ``0.1.0+3f2a9c1b7d20``."""
    return f"{pipeline.__version__}+{code_fingerprint()[:12]}"


# ---------------------------------------------------------------------------- manifest
def read_manifest(processed: Path) -> dict[str, Any]:
    """The manifest of ingested files (empty when absent or unreadable)."""
    path = Path(processed) / MANIFEST_NAME
    try:
        manifest = read_json(path)
    except (OSError, ValueError):
        return {"version": MANIFEST_VERSION, "files": {}}
    if manifest.get("version") != MANIFEST_VERSION or not isinstance(manifest.get("files"), dict):
        return {"version": MANIFEST_VERSION, "files": {}}
    return manifest


def write_manifest(processed: Path, files: dict[str, dict[str, Any]]) -> Path:
    """Write the manifest atomically (files keyed by their path relative to raw)."""
    content = {
        "version": MANIFEST_VERSION,
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": dict(sorted(files.items())),
    }
    return write_json_atomic(Path(processed) / MANIFEST_NAME, content)


# --------------------------------------------------------------------------- run folders
def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_run_id(suffix: str | None = None) -> str:
    """A run id that sorts by time: ``YYYYMMDDTHHMMSSZ-<8 hex>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{suffix or os.urandom(4).hex()}"


@contextlib.contextmanager
def run_folder(reports: Path, run_id: str) -> Iterator[Path]:
    """A fresh folder to write a run's report into, renamed into place when complete.

    Inside the block files go to ``<reports>/.<run_id>.partial/``; on success the
    folder becomes ``<reports>/<run_id>/`` in one rename; on failure it is removed.
    """
    import shutil

    reports = Path(reports)
    reports.mkdir(parents=True, exist_ok=True)
    partial = reports / f".{run_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    os.replace(partial, reports / run_id)
    _fsync_dir(reports)


def publish_run(reports: Path, run_id: str, keep: int = 20) -> Path:
    """Point ``<reports>/latest`` at a finished run folder (atomic symlink swap).

    Older run folders beyond the ``keep`` most recent are removed.

    Returns
    -------
    Path
        ``<reports>/latest``.
    """
    import shutil

    reports = Path(reports)
    latest = reports / "latest"
    tmp = reports / f".latest.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(run_id, tmp)
    os.replace(tmp, latest)
    _fsync_dir(reports)
    runs = sorted(
        p
        for p in reports.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
    for old in runs[:-keep]:
        if old.name != run_id:
            shutil.rmtree(old, ignore_errors=True)
    return latest
