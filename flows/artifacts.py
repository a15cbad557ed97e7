"""Prefect artifacts of a run: a Markdown summary and a table of the claim verdicts.

Called inside the flow's report task. The content comes from
:mod:`pipeline.report.summary` (pure, tested without Prefect); this module only hands
it to Prefect under stable keys, so every run adds a new version of the same two
artifacts. Results hold no names, e-mail addresses or phone numbers, and no raw text
from the inputs is added here. (Importing this module runs ``flows/__init__.py`` first,
which sets Prefect's offline defaults before prefect is imported.)
"""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from pipeline.report.summary import summary_markdown, verdict_records

DEFAULT_PREFIX = "outcome-study"


def artifact_key(prefix: str, name: str) -> str:
    """A Prefect artifact key: lowercase letters, digits and single dashes.

    Parameters
    ----------
    prefix : str
        Any text (e.g. a study name); other characters become dashes.
    name : str
        The artifact's own name (``summary``, ``verdicts``).
    """
    key = re.sub(r"[^a-z0-9]+", "-", f"{prefix}-{name}".lower()).strip("-")
    return key or name


def artifact_keys(key_prefix: str = DEFAULT_PREFIX) -> dict[str, str]:
    """The keys :func:`publish_artifacts` uses: ``summary`` and ``verdicts``."""
    return {name: artifact_key(key_prefix, name) for name in ("summary", "verdicts")}


def publish_artifacts(results: dict[str, Any], key_prefix: str = DEFAULT_PREFIX) -> None:
    """Create the run's Markdown summary and verdict-table artifacts.

    Parameters
    ----------
    results : dict
        results.json content of the run.
    key_prefix : str
        Start of the artifact keys (normalised to lowercase and dashes), e.g.
        ``outcome-study-summary`` and ``outcome-study-verdicts``. Keep it stable across
        runs: each run then adds a version of the same artifacts.
    """
    keys = artifact_keys(key_prefix)
    create_markdown_artifact(
        markdown=summary_markdown(results),
        key=keys["summary"],
        description="Outcome study: verdicts, participant flow and key numbers of the run",
    )
    create_table_artifact(
        table=verdict_records(results),
        key=keys["verdicts"],
        description="Outcome study: one row per claim with its verdict",
    )
