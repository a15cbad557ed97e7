"""Shared fixtures of the test suite.

- ``prefect_harness``: the single Prefect test harness (temporary server and SQLite
  database) for the whole pytest run. Tests that talk to Prefect request it; nothing
  else may start another harness.
- ``report_study``: a 60-client synthetic study run end to end once per session
  (simulate -> ingest -> ... -> report), for the report tests.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Tests never touch the project's .prefect: one throw-away PREFECT_HOME for the whole run
# (set before anything imports prefect; subprocesses started by tests inherit it).
_PREFECT_HOME = tempfile.mkdtemp(prefix="outcome-study-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)

STARTUP_SECONDS = 180
"""Longest wait for the harness's temporary Prefect server to start."""


@pytest.fixture(scope="session")
def prefect_harness():
    """Run Prefect against a temporary local server and database for the whole session."""
    import flows  # noqa: F401, I001  (Prefect offline defaults: before prefect is imported)
    from prefect.testing.utilities import prefect_test_harness

    # generous start-up limit: under a loaded parallel run (xdist) 30 s is not always enough
    with prefect_test_harness(server_startup_timeout=STARTUP_SECONDS):
        yield


@dataclass(frozen=True)
class ReportStudy:
    """A study run end to end: its configuration, report folder and results."""

    config: Any
    folder: Path
    results: dict[str, Any]
    files: list[str]


@pytest.fixture(scope="session")
def report_study(tmp_path_factory) -> ReportStudy:
    """Simulate 60 clients (seed 7), run every stage and write the report once."""
    from pipeline import store
    from pipeline.config import load_config
    from pipeline.privacy import resolve_key
    from pipeline.simulate import simulate_study
    from pipeline.stages import run_study

    root = tmp_path_factory.mktemp("report_study") / "study"
    simulate_study(root, 60, 7)
    config = load_config(root / "study.toml")
    key = resolve_key(config.study.salt_env, True, {})
    outcome = run_study(config, key)
    folder = Path(outcome["report_dir"]).resolve()
    return ReportStudy(config, folder, store.read_json(folder / "results.json"), outcome["files"])


def pytest_collection_modifyitems(config, items):
    """Keep every test that uses Prefect on one xdist worker (``--dist loadgroup``).

    So a parallel run still starts exactly one ``prefect_test_harness``.
    """
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("prefect"))
