"""Helpers for ingest tests: a tiny study folder written from literal file contents."""

from __future__ import annotations

from pathlib import Path

from pipeline import ingest
from pipeline.config import load_config
from pipeline.privacy import resolve_key

SOURCES = {
    "sessions": 'path = "sessions/*"\ndate_format = "%d/%m/%Y"',
    "diary_daily": 'path = "diaries/*"',
    "diary_attacks": 'path = "attacks/*"\ndatetime_format = "%d/%m/%Y %H:%M"',
    "coverage": 'path = "coverage/*"',
    "questionnaires": 'path = "questionnaires/*"',
    "patients": 'path = "patients/*"',
}


def write_study(
    root: Path, files: dict[str, bytes | str], extra_toml: str = "", sources: dict | None = None
) -> Path:
    """Write ``root/study.toml`` (demo study, raw = root/raw) and the given raw files.

    Parameters
    ----------
    files : dict
        Path relative to the raw folder -> content (str is written as UTF-8).
    extra_toml : str
        Appended to study.toml before the sources (e.g. a [study] override).
    """
    raw = root / "raw"
    for relative, content in files.items():
        target = raw / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    blocks = [
        f'[[sources]]\nadapter = "{adapter}"\n{settings}'
        for adapter, settings in (sources or SOURCES).items()
    ]
    study = root / "study.toml"
    header = extra_toml or "[study]\ndemo = true\n"
    study.write_text(
        f'{header}\n[paths]\nraw = "raw"\nprocessed = "processed"\nreports = "reports"\n\n'
        + "\n\n".join(blocks)
        + "\n",
        encoding="utf-8",
    )
    return study


def run_ingest(study: Path, environ: dict[str, str] | None = None):
    """Ingest and consolidate a study; return (entries, consolidated)."""
    config = load_config(study)
    key = resolve_key(config.study.salt_env, config.study.demo, environ or {})
    entries = ingest.ingest(config, key)
    return entries, ingest.consolidate(config, entries)


def by_file(result) -> dict[str, dict]:
    """The per-file accounting of a consolidated result, keyed by path."""
    return {item["path"]: item for item in result.summary["inputs"]}
