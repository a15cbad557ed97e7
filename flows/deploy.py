"""Scheduled runs: serve the ``outcome_study`` flow as a deployment on a Prefect server.

``outcome-study serve`` registers a deployment with a cron schedule against the server
named by ``PREFECT_API_URL`` and keeps serving it (executing scheduled and manually
triggered runs) until stopped with Ctrl-C. Each run reads the exports then present in
the raw folder (the inbox) and writes ``reports/<run-id>/``, switching
``reports/latest`` when it completes.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from prefect import serve
from prefect.schedules import Cron
from prefect.settings import PREFECT_API_URL

import flows  # noqa: F401  (Prefect offline defaults)
from flows.study_flow import outcome_study
from pipeline.config import load_config
from pipeline.errors import ConfigError

DEPLOYMENT_DESCRIPTION = (
    "Ingest the clinic's exports from the raw folder, compute the migraine endpoints, "
    "test the therapy claims and write the report."
)


def server_url() -> str:
    """The Prefect API URL this process talks to; a clear error when none is running.

    Raises
    ------
    ConfigError
        ``PREFECT_API_URL`` is unset or the server does not answer its health check.
    """
    url = PREFECT_API_URL.value()
    if not url:
        raise ConfigError(
            "no Prefect server configured: start one with `prefect server start --host 127.0.0.1` "
            "and set PREFECT_API_URL=http://127.0.0.1:4200/api (README: Scheduled runs)"
        )
    try:
        httpx.get(f"{url.rstrip('/')}/health", timeout=5).raise_for_status()
    except httpx.HTTPError:
        raise ConfigError(f"the Prefect server at {url} does not answer; is it running?") from None
    return url


def local_timezone() -> str:
    """IANA name of the machine's time zone (schedules default to local time)."""
    import tzlocal

    return tzlocal.get_localzone_name()


def build_deployment(config_path: Path, cron: str | None = None, name: str = "scheduled"):
    """The runner deployment of ``outcome_study`` for a study.toml.

    Parameters
    ----------
    config_path : Path
        study.toml; its ``[schedule]`` gives the default cron and time zone.
    cron : str, optional
        Cron expression overriding ``[schedule] cron``.
    name : str
        Deployment name (``outcome_study/<name>``).
    """
    config_path = Path(config_path).resolve()
    config = load_config(config_path)
    schedule = Cron(
        cron or config.schedule.cron, timezone=config.schedule.timezone or local_timezone()
    )
    return outcome_study.to_deployment(
        name=name,
        schedules=[schedule],
        parameters={"config_path": str(config_path)},
        concurrency_limit=1,
        description=DEPLOYMENT_DESCRIPTION,
        tags=["outcome-study"],
    )


def serve_deployment(config_path: Path, cron: str | None = None, name: str = "scheduled") -> None:
    """Register the deployment and serve it until interrupted."""
    url = server_url()
    deployment = build_deployment(config_path, cron, name)
    print(f"serving outcome_study/{name} on {url} (Ctrl-C to stop)", flush=True)
    serve(deployment, print_starting_message=True)
