"""A real Prefect server: serve the scheduled deployment, trigger a run, leave nothing behind.

Starts ``prefect server start`` on a free 127.0.0.1 port with a temporary PREFECT_HOME,
runs ``outcome-study serve`` against it, triggers a run of the deployment through the
REST API, waits for Completed, checks the report, and stops both processes (and their
children), asserting that no process survives.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.study_copies import copy_sample

pytestmark = [pytest.mark.server, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "w")
    return subprocess.Popen(
        args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(process: subprocess.Popen) -> list[int]:
    """Stop a process and its children (SIGINT, then SIGKILL); return the pids involved."""
    try:
        family = [process.pid] + [
            c.pid for c in psutil.Process(process.pid).children(recursive=True)
        ]
    except psutil.NoSuchProcess:
        family = [process.pid]
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    for pid in family:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)
    return family


def _wait_for(predicate, timeout: float, what: str, logs: list[Path]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def test_serve_a_deployment_and_trigger_a_run_on_a_real_server(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
    }
    study = copy_sample(tmp_path)
    logs = [tmp_path / "server.log", tmp_path / "serve.log"]
    server = _start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        logs[0],
    )
    serving = None
    pids: list[int] = []
    try:

        def healthy():
            try:
                return httpx.get(f"{api}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_for(healthy, 120, "the Prefect server", logs)
        serving = _start(
            [str(BIN / "outcome-study"), "serve", "--config", str(study), "--cron", "0 2 * * *"],
            env,
            logs[1],
        )

        def deployment():
            try:
                found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            except (httpx.HTTPError, ValueError):
                return None
            if not isinstance(found, list):
                return None
            return next((d for d in found if d.get("name") == "scheduled"), None)

        registered = _wait_for(deployment, 120, "the deployment", logs)
        schedules = registered.get("schedules") or []
        assert schedules and schedules[0]["schedule"]["cron"] == "0 2 * * *"
        assert registered["parameters"]["config_path"] == str(study.resolve())

        run = httpx.post(
            f"{api}/deployments/{registered['id']}/create_flow_run", json={}, timeout=10
        ).json()

        def finished():
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]
            return (
                state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None
            )

        state = _wait_for(finished, 300, "the triggered run", logs)
        assert state["type"] == "COMPLETED", state

        latest = tmp_path / "reports" / "latest"
        results = json.loads((latest / "results.json").read_text(encoding="utf-8"))
        assert {c["id"] for c in results["claims"]} >= {"migraine_frequency", "side_effects"}
        assert (latest / "report.html").stat().st_size > 10_000
    finally:
        if serving is not None:
            pids += _stop(serving)
        pids += _stop(server)
    survivors = [
        pid
        for pid in pids
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]
    assert survivors == []
    with socket.socket() as sock:  # nothing listens on the port any more
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
        sock.bind(("127.0.0.1", port))
