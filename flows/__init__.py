"""The orchestration shell: Prefect flows, deployments and the ``outcome-study`` command.

Importing this package makes Prefect run offline from the project folder unless the
caller already configured it: ``PREFECT_HOME`` inside the project (git-ignored), server
analytics and SDK telemetry off. It must be imported before prefect.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _offline_defaults() -> None:
    home = PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()
    os.environ.setdefault("PREFECT_HOME", str(home / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")


_offline_defaults()
