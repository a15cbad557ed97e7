"""Scale-out: outcomes by patient partition and the flow on a Dask cluster give the
same results as one process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline import stages
from pipeline.outcomes import PATIENT_OUTCOME_COLUMNS
from tests.study_copies import comparable_results, copy_sample


@pytest.fixture()
def processed_copy(report_study, tmp_path):
    """The session study's configuration pointing at a private copy of its processed folder."""
    processed = tmp_path / "processed"
    shutil.copytree(report_study.config.processed_dir, processed)
    return report_study.config.with_paths(processed=processed)


def test_patient_partitions_reproduce_the_whole_study_row_for_row(processed_copy):
    config = processed_copy
    whole = stages.outcomes_stage(config)
    whole_frames, _ = stages.load_outcomes(config.processed_dir)
    for n in (2, 5):
        plan = stages.plan_patient_partitions(config, n)
        assert len(plan) == n
        assert all(a.first <= a.last < b.first for a, b in zip(plan, plan[1:], strict=False))
        parts = [stages.write_patient_partition(config, p, i) for i, p in enumerate(plan)]
        assert all(Path(part).is_dir() for part in parts)

        assert stages.outcomes_stage(config, parts) == whole
        frames, _ = stages.load_outcomes(config.processed_dir)
        for name, frame in whole_frames.items():
            pd.testing.assert_frame_equal(frames[name], frame, check_exact=True, obj=name)
        assert not (config.processed_dir / stages.PARTS_FOLDER).exists()  # parts cleared


def test_a_partition_without_questionnaires_keeps_the_instrument_columns(processed_copy):
    config = processed_copy
    whole = stages.patient_tables(config)["patient_outcomes"]
    instruments = [c for c in whole.columns if c not in PATIENT_OUTCOME_COLUMNS]
    assert instruments  # the simulated study has questionnaires
    no_scores = whole.groupby("patient_id")[instruments].count().sum(axis=1) == 0
    client = no_scores.index[no_scores.to_numpy()][0]
    plan = stages.plan_patient_partitions(config, 1)[0]
    alone = stages.PatientPartition(client, client, plan.instruments)

    outcomes = stages.patient_tables(config, alone)["patient_outcomes"]
    assert list(outcomes.columns) == list(whole.columns)
    assert set(outcomes["patient_id"]) == {client}
    assert outcomes[instruments].isna().all().all()


def test_more_partitions_than_clients_gives_one_per_client(processed_copy):
    clients = stages.plan_patient_partitions(processed_copy, 10**6)
    assert all(p.first == p.last for p in clients)
    status = stages.patient_tables(processed_copy)["flow_status"]
    assert [p.first for p in clients] == status["patient_id"].tolist()


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_flow_on_a_two_worker_dask_cluster_matches_the_single_process_run(tmp_path):
    from distributed import LocalCluster
    from prefect.settings import PREFECT_API_URL

    # the CLI, the cluster's workers and this test all report to the harness's server
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}

    def run(study: Path, *options: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "flows.cli", "run", "--config", str(study), *options],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        latest = study.parent.parent / "reports" / "latest" / "results.json"
        return json.loads(latest.read_text(encoding="utf-8"))

    single = run(copy_sample(tmp_path / "single"))
    saved = dict(os.environ)
    os.environ.update(env)  # the workers inherit the API address at spawn
    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster:
            distributed = run(
                copy_sample(tmp_path / "dask"), "--dask-address", cluster.scheduler_address
            )
            prefixes = set(cluster.scheduler.task_prefixes)
    finally:
        os.environ.clear()
        os.environ.update(saved)

    assert {"ingest_job_task", "outcomes_partition_task"} <= prefixes  # the work ran on the cluster
    assert comparable_results(distributed) == comparable_results(single)
