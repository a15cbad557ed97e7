"""Hostile text in results and frames: escaped in HTML, inert in spreadsheets and figures."""

from __future__ import annotations

import copy
import csv

import openpyxl
import pytest

from pipeline.report import write_report
from pipeline.report.html import stylesheet
from pipeline.stages import report_frames
from tests.test_report_readers import parse_html, pdf_pages_text, squash

HOSTILE = [
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x","y")',
    "+cmd|'/c calc'!A0",
    "@SUM(1)",
    "-2+3",
    "\t=1+1",
    "</style><script>alert(2)</script>",
    '" onmouseover="alert(3)',
    "<img src=x onerror=alert(4)>",
    'it\'s "quoted"\nand on two lines $\\frac{1}{$',
]
ATTRIBUTE_BREAKER = '" onmouseover="alert(5)" x="'


def dangerous(text: str) -> bool:
    """Text a spreadsheet could run: = + - @ first (after spaces), or tab/CR/LF first."""
    return text[:1] in ("\t", "\r", "\n") or text.lstrip()[:1] in ("=", "+", "-", "@")


@pytest.fixture(scope="module")
def hostile_report(report_study, tmp_path_factory):
    results = copy.deepcopy(report_study.results)
    results["study"]["name"] = HOSTILE[0] + HOSTILE[6]
    for i, claim in enumerate(results["claims"]):
        claim["claim"] = HOSTILE[i % len(HOSTILE)]
        claim["reason"] = HOSTILE[(i + 1) % len(HOSTILE)]
        claim["outcome_used"] = f"$\\frac{{{i}}}{{$ {HOSTILE[(i + 2) % len(HOSTILE)]}"
    results["claims"][0]["id"] = ATTRIBUTE_BREAKER
    results["claims"][1]["verdict"] = '"><script>alert(6)</script>'
    for step in results["participant_flow"]["steps"]:
        step["label"] = HOSTILE[1]
        step["excluded"] = {HOSTILE[0]: 1, HOSTILE[2]: 2}
    results["data_quality"]["by_reason"] = {h: 1 for h in HOSTILE}
    results["run"]["inputs"][0]["path"] = HOSTILE[1]
    results["placebo"]["source"] = HOSTILE[6]
    results["methods"]["migraine_day"] = HOSTILE[8]
    frames = report_frames(report_study.config.processed_dir)
    quarantine = frames["quarantine"].copy()
    for column, text in (
        ("source_file", HOSTILE[1]),
        ("column", HOSTILE[3]),
        ("message", HOSTILE[2]),
        ("values", HOSTILE[4]),
    ):
        quarantine[column] = text
    frames["quarantine"] = quarantine
    frames["patient_outcomes"] = frames["patient_outcomes"].assign(group=HOSTILE[5])
    folder = tmp_path_factory.mktemp("hostile")
    write_report(results, frames, report_study.config, folder)
    return folder, results


def test_html_has_no_live_markup_from_data(hostile_report):
    folder, results = hostile_report
    text = (folder / "report.html").read_text(encoding="utf-8")
    page = parse_html(text)
    assert "script" not in page.tags
    assert page.styles == [stylesheet()]
    assert all(value.startswith("data:") for _, _, value in page.references)
    assert [r["id"] for r in page.rows] == [c["id"] for c in results["claims"]]
    assert page.rows[0]["id"] == ATTRIBUTE_BREAKER
    assert page.rows[0]["cells"][0] == HOSTILE[0]
    assert page.rows[2]["cells"][0] == " ".join(HOSTILE[2].split())
    assert "<script>alert(1)</script>" not in text and "onerror=alert(4)>" not in text
    assert 'class="badge badge-unknown"' in text


def test_html_has_no_event_handler_attributes(hostile_report):
    folder, _ = hostile_report
    page = parse_html((folder / "report.html").read_text(encoding="utf-8"))
    assert page.handlers == []


def test_workbook_text_cannot_start_a_formula(hostile_report):
    folder, results = hostile_report
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    texts, formulas, numbers = [], [], []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(cell.coordinate)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                elif isinstance(cell.value, float) and cell.value < 0:
                    numbers.append(cell.value)
    assert formulas == []
    assert [t for t in texts if dangerous(t)] == []
    assert "'" + HOSTILE[1] in texts and "'" + HOSTILE[4] in texts and "'" + HOSTILE[5] in texts
    assert HOSTILE[0] in texts
    assert numbers, "negative numbers stay numbers"
    claims = book["claims"]
    header = [c.value for c in claims[1]]
    estimate = claims.cell(row=2, column=header.index("estimate") + 1).value
    assert isinstance(estimate, float) and estimate == pytest.approx(
        results["claims"][0]["estimate"]
    )


@pytest.mark.parametrize("name", ["quarantine.csv", "patient_outcomes.csv"])
def test_csv_text_cannot_start_a_formula(hostile_report, name):
    folder, _ = hostile_report
    with open(folder / name, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, cells = rows[0], [cell for row in rows[1:] for cell in row]
    assert cells and [c for c in cells if dangerous(c)] == []
    column = "group" if name == "patient_outcomes.csv" else "source_file"
    expected = "'" + (HOSTILE[5] if name == "patient_outcomes.csv" else HOSTILE[1])
    assert {row[header.index(column)] for row in rows[1:]} == {expected}


def test_pdf_shows_hostile_text_as_text(hostile_report):
    folder, _ = hostile_report
    pages = pdf_pages_text((folder / "report.pdf").read_bytes())
    text = squash("\n".join(pages))
    assert len(pages) >= 3
    assert squash(HOSTILE[0]) in text and squash(HOSTILE[1]) in text
