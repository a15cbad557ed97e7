"""Task runners: Prefect's default threads, a local Dask cluster, or an existing one."""

from __future__ import annotations

from typing import Any


def task_runner_for(workers: int = 0, address: str | None = None) -> Any | None:
    """The task runner for a run, or None for Prefect's default (threads).

    Parameters
    ----------
    workers : int
        Start a local Dask cluster with this many worker processes (one thread each).
    address : str, optional
        Use the Dask scheduler at this address (``tcp://HOST:PORT``) instead.
    """
    if not workers and not address:
        return None
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        },
    )
