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
import fcntl
import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


def write_json_atomic(path: Path, content: Any) -> Path:
    """Write JSON (UTF-8, indented, keys in insertion order) atomically."""
    text = json.dumps(content, indent=2, ensure_ascii=False, allow_nan=False, default=str)
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
