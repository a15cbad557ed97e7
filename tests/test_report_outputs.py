"""The report of a simulated study: every file exists and they all tell the same story.

The study (60 synthetic clients) is built once per session by the ``report_study``
fixture (tests/conftest.py) through ``pipeline.stages.run_study``, which calls
``pipeline.report.write_report``. Key numbers are read back from results.json,
patient_outcomes.csv, report.html, report.pdf and tables.xlsx and compared.
The PDF's text is read with :func:`tests.test_report_readers.pdf_pages_text` (glyph
codes mapped through each font's ToUnicode CMap: what makes text extractable).
"""

from __future__ import annotations

import csv
import json
import re
import struct
import xml.etree.ElementTree as ET

import numpy as np
import openpyxl
import pytest
from scipy import stats

from pipeline.report.figures import build_figures
from pipeline.report.html import content_security_policy, stylesheet
from pipeline.stages import report_frames
from tests.test_report_readers import parse_html, pdf_pages_text, squash

FIGURES = ("before_after", "change_distribution", "trajectory", "effects", "responders")
VERDICT_LABELS = {
    "supported": "Supported",
    "not_supported": "Not supported",
    "inconclusive": "Inconclusive",
    "insufficient_data": "Insufficient data",
}


# ------------------------------------------------------------------------------- helpers
NUMBER = r"(-?\d+\.\d+)"


def migraine_claim(results: dict) -> dict:
    return next(c for c in results["claims"] if c["outcome_used"] == "migraine_days")


def close(text_value: str, value: float, digits: int = 2) -> bool:
    return abs(float(text_value) - value) <= 0.5 * 10**-digits + 1e-12


@pytest.fixture(scope="module")
def study(report_study):
    return report_study


@pytest.fixture(scope="module")
def html_page(study):
    return parse_html((study.folder / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf_pages(study):
    return pdf_pages_text((study.folder / "report.pdf").read_bytes())


@pytest.fixture(scope="module")
def workbook(study):
    return openpyxl.load_workbook(study.folder / "tables.xlsx")


# --------------------------------------------------------------------------------- tests
def test_every_report_file_is_written(study):
    expected = {
        "results.json", "patient_outcomes.csv", "quarantine.csv", "report.html", "report.pdf",
        "tables.xlsx", "manifest.json", *(f"{name}.{ext}" for name in FIGURES for ext in ("png", "svg")),
    }  # fmt: skip
    assert set(study.files) == expected
    for name in FIGURES:
        png = (study.folder / "figures" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 300 and height > 200
        svg = ET.parse(study.folder / "figures" / f"{name}.svg").getroot()
        assert svg.tag.endswith("svg")


def test_results_json_is_the_run_plus_the_analysis(study):
    processed = json.loads((study.config.processed_dir / "analysis.json").read_text())
    results = study.results
    assert {k: v for k, v in results.items() if k != "run"} == processed
    run = results["run"]
    assert run["pseudonym_key"] == "demo"
    assert {"id", "started_at", "finished_at", "code_version", "config_sha256", "inputs"} <= set(
        run
    )


def test_patient_outcomes_csv_agrees_with_the_primary_result(study):
    with open(study.folder / "patient_outcomes.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    assert header[:10] == [
        "patient_id", "window", "days_recorded", "evaluable", "headache_days_28",
        "migraine_days_28", "peak_pain_mean", "acute_medication_days_28", "stress_mean",
        "sleep_quality_mean",
    ]  # fmt: skip
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[0]["window_start"])
    primary = study.results["methods"]["primary_window"]
    value = {
        (r["patient_id"], r["window"]): float(r["migraine_days_28"])
        for r in rows
        if r["evaluable"] == "True"
    }
    pairs = np.array(
        [
            (value[(p, "baseline")], value[(p, w)])
            for (p, w) in value
            if w == primary and (p, "baseline") in value
        ]
    )
    change = pairs[:, 1] - pairs[:, 0]
    n = len(change)
    low, high = stats.t.interval(
        0.95, n - 1, loc=change.mean(), scale=change.std(ddof=1) / np.sqrt(n)
    )
    claim = migraine_claim(study.results)
    assert claim["n"] == n
    assert claim["estimate"] == pytest.approx(change.mean(), rel=1e-9)
    assert (claim["ci_low"], claim["ci_high"]) == pytest.approx((low, high), rel=1e-9)


def test_html_verdict_table_agrees_with_results(study, html_page):
    claims = study.results["claims"]
    assert [r["id"] for r in html_page.rows] == [c["id"] for c in claims]
    assert [r["verdict"] for r in html_page.rows] == [c["verdict"] for c in claims]
    for row, claim in zip(html_page.rows, claims, strict=True):
        claim_text, _, n, estimate, _, verdict, reason = row["cells"]
        assert claim_text == claim["claim"]
        assert verdict == VERDICT_LABELS[claim["verdict"]]
        assert reason == claim["reason"]
        assert n == str(claim["n"])
    row = html_page.rows[[c["id"] for c in claims].index(migraine_claim(study.results)["id"])]
    numbers = re.fullmatch(rf"{NUMBER} \({NUMBER} to {NUMBER}\)", row["cells"][3])
    claim = migraine_claim(study.results)
    assert numbers, row["cells"][3]
    for text_value, key in zip(numbers.groups(), ("estimate", "ci_low", "ci_high"), strict=True):
        assert close(text_value, claim[key])


def test_html_is_self_contained_and_locked_down(study, html_page):
    assert "script" not in html_page.tags and "link" not in html_page.tags
    assert "iframe" not in html_page.tags and "object" not in html_page.tags
    images = [value for tag, name, value in html_page.references if tag == "img"]
    assert len(images) == len(FIGURES)
    assert all(value.startswith("data:image/svg+xml;base64,") for value in images)
    assert all(value.startswith("data:") for _, _, value in html_page.references)
    css = html_page.styles
    assert css == [stylesheet()]
    assert "url(" not in css[0] and "@import" not in css[0]
    policy = next(
        m["content"] for m in html_page.meta if m.get("http-equiv") == "Content-Security-Policy"
    )
    assert policy == content_security_policy(css[0])
    assert "script-src" not in policy and "default-src 'none'" in policy


def test_pdf_has_pages_text_and_the_same_numbers(study, pdf_pages):
    assert len(pdf_pages) >= 3
    text = squash("\n".join(pdf_pages))
    assert f"Page1of{len(pdf_pages)}" in text
    assert "DEMODATA" in squash(pdf_pages[0])
    claim = migraine_claim(study.results)
    found = re.search(rf"monthlymigrainedayschangedby{NUMBER}\(95%CI{NUMBER}to{NUMBER}\)", text)
    assert found, "headline with the primary change not found in the PDF text"
    for text_value, key in zip(found.groups(), ("estimate", "ci_low", "ci_high"), strict=True):
        assert close(text_value, claim[key])
    labels = [squash(label) for label in VERDICT_LABELS.values()]
    for claim in study.results["claims"]:
        start = text.index(squash(claim["claim"]))
        following = {label: text.find(label, start) for label in labels}
        first = min((pos, label) for label, pos in following.items() if pos >= 0)[1]
        assert first == squash(VERDICT_LABELS[claim["verdict"]]), claim["id"]
    for title in (
        "Participantflow",
        "Limitations",
        "Regressiontothemean",
        "Dataquality",
        "Methods",
    ):
        assert title in text


def test_workbook_agrees_with_results(study, workbook):
    assert {
        "claims",
        "outcomes",
        "patient outcomes",
        "participant flow",
        "quarantine summary",
    } <= set(workbook.sheetnames)
    sheet = workbook["claims"]
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    claims = study.results["claims"]
    assert [r["id"] for r in rows] == [c["id"] for c in claims]
    assert [r["verdict"] for r in rows] == [c["verdict"] for c in claims]
    migraine = next(r for r in rows if r["id"] == migraine_claim(study.results)["id"])
    claim = migraine_claim(study.results)
    for key in ("estimate", "ci_low", "ci_high", "p_adjusted", "dz"):
        assert migraine[key] == pytest.approx(claim[key], rel=1e-12), key
    assert migraine["n"] == claim["n"]
    with open(study.folder / "patient_outcomes.csv", newline="", encoding="utf-8") as handle:
        csv_rows = sum(1 for _ in handle) - 1
    assert workbook["patient outcomes"].max_row - 1 == csv_rows
    flow = workbook["participant flow"]
    analysed = [
        r
        for r in flow.iter_rows(min_row=2, values_only=True)
        if r[0] == "analysed" and r[2] is not None
    ]
    assert analysed[0][2] == study.results["clients_analysed"]


def test_quarantine_csv_and_summary_count_every_quarantined_row(study, workbook):
    with open(study.folder / "quarantine.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:7] == [
        "source_file",
        "source_row",
        "adapter",
        "reason",
        "column",
        "message",
        "values",
    ]
    assert len(rows) == study.results["data_quality"]["rows_quarantined"]
    sheet = workbook["quarantine summary"]
    header = [c.value for c in sheet[1]]
    counts = [r[header.index("rows")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert sum(counts) == len(rows)


def test_figures_are_deterministic(study):
    frames = report_frames(study.config.processed_dir)
    first = build_figures(study.results, frames, study.config)
    again = build_figures(study.results, frames, study.config)
    assert [f.name for f in first] == list(FIGURES)
    assert all(a.svg == b.svg and a.png == b.png for a, b in zip(first, again, strict=True))
    assert b"<dc:date>" not in first[0].svg
