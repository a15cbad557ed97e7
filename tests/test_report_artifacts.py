"""Prefect artifacts of a run: a Markdown summary and a verdict table under stable keys.

Runs against the session's single Prefect test harness (``prefect_harness`` in
tests/conftest.py) and reads the artifacts back through the Prefect client.
"""

from __future__ import annotations

import json
import re

import pytest

from pipeline.report.summary import VERDICT_COLUMNS, summary_markdown, verdict_records


def test_artifact_keys_are_stable_lowercase_and_dashed():
    from flows.artifacts import artifact_key, artifact_keys

    assert artifact_keys() == {
        "summary": "outcome-study-summary",
        "verdicts": "outcome-study-verdicts",
    }
    assert artifact_key("Clinic A: Study #2 (2026)", "summary") == "clinic-a-study-2-2026-summary"
    for key in artifact_keys("  Weird__Prefix!! ").values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key)


def test_summary_and_table_content(report_study):
    results = report_study.results
    records = verdict_records(results)
    assert [r["claim_id"] for r in records] == [c["id"] for c in results["claims"]]
    assert [r["verdict"] for r in records] == [c["verdict"] for c in results["claims"]]
    assert all(list(r) == list(VERDICT_COLUMNS) for r in records)
    text = summary_markdown(results)
    assert text.startswith("# ") and "DEMO DATA" in text
    assert "## Verdicts" in text and "## Participant flow" in text
    assert f"{results['clients_analysed']} clients analysed" in text
    assert not re.search(r"P-[0-9a-f]{16}", text), "no client pseudonyms in the summary"


def _read_artifacts(keys: list[str]) -> list[dict]:
    """Artifacts with the given keys, newest first, from the server's REST endpoint.

    ``PrefectClient.read_artifacts`` of the pinned Prefect sends explicit nulls for the
    optional fields, which the pinned server rejects (422); the endpoint itself is used.
    """
    from prefect.client.orchestration import get_client

    body = {"artifacts": {"key": {"any_": keys}}, "sort": "CREATED_DESC", "limit": 50, "offset": 0}
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=body)
    return response.json()


def _table_rows(data) -> list[dict]:
    rows = json.loads(data) if isinstance(data, str) else data
    return rows


@pytest.mark.slow
def test_publish_artifacts_creates_versions_under_stable_keys(prefect_harness, report_study):
    from prefect import flow

    from flows.artifacts import artifact_keys, publish_artifacts

    prefix = "outcome-study-test"
    keys = artifact_keys(prefix)
    results = report_study.results

    @flow(name="publish-artifacts-test")
    def publish() -> None:
        publish_artifacts(results, key_prefix=prefix)

    publish()
    publish()

    artifacts = _read_artifacts(list(keys.values()))
    by_key = {key: [a for a in artifacts if a["key"] == key] for key in keys.values()}
    assert {key: len(found) for key, found in by_key.items()} == {key: 2 for key in keys.values()}

    summary = by_key[keys["summary"]][0]
    assert summary["type"] == "markdown" and summary["flow_run_id"]
    assert summary["data"] == summary_markdown(results)
    assert "DEMO DATA" in summary["data"]

    table = by_key[keys["verdicts"]][0]
    assert table["type"] == "table"
    rows = _table_rows(table["data"])
    assert len(rows) == len(results["claims"])
    assert [row["claim_id"] for row in rows] == [c["id"] for c in results["claims"]]
    assert [row["verdict"] for row in rows] == [c["verdict"] for c in results["claims"]]
