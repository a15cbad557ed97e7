"""``rerender``: the report again from results.json and the processed tables alone."""

from __future__ import annotations

import json
import shutil

import openpyxl
import pytest

from pipeline.errors import InputError
from pipeline.report import rerender

RENDERED = ("report.html", "report.pdf", "tables.xlsx")


def sheet_values(path):
    book = openpyxl.load_workbook(path)
    return {
        name: [list(row) for row in book[name].iter_rows(values_only=True)]
        for name in book.sheetnames
    }


@pytest.fixture
def run_copy(report_study, tmp_path):
    """A copy of the study's report folder, safe to change."""
    return shutil.copytree(report_study.folder, tmp_path / "run")


def test_rerender_reproduces_the_report(report_study, run_copy):
    for name in RENDERED:
        (run_copy / name).unlink()
    shutil.rmtree(run_copy / "figures")
    written = rerender(run_copy, report_study.config)
    names = {p.relative_to(run_copy).as_posix() for p in written}
    assert set(RENDERED) <= names
    assert {f"figures/{p.name}" for p in (report_study.folder / "figures").iterdir()} <= names
    assert all(p.is_file() for p in written)
    original = report_study.folder
    assert (run_copy / "report.html").read_bytes() == (original / "report.html").read_bytes()
    for figure in (original / "figures").glob("*.svg"):
        assert (run_copy / "figures" / figure.name).read_bytes() == figure.read_bytes()
    assert sheet_values(run_copy / "tables.xlsx") == sheet_values(original / "tables.xlsx")
    assert (run_copy / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert json.loads((run_copy / "results.json").read_text()) == report_study.results


def test_rerender_without_results_json_is_an_input_error(report_study, tmp_path):
    with pytest.raises(InputError) as error:
        rerender(tmp_path, report_study.config)
    message = str(error.value)
    assert "results.json" in message and "\n" not in message


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", '{"run": {}}', ""])
def test_rerender_of_unreadable_results_is_an_input_error(report_study, tmp_path, content):
    (tmp_path / "results.json").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match="results.json"):
        rerender(tmp_path, report_study.config)
    assert not (tmp_path / "report.html").exists()


def test_rerender_refuses_results_of_another_run(report_study, run_copy):
    results = json.loads((run_copy / "results.json").read_text())
    results["claims"][0]["verdict"] = (
        "supported" if results["claims"][0]["verdict"] != "supported" else "inconclusive"
    )
    (run_copy / "results.json").write_text(json.dumps(results), encoding="utf-8")
    before = (run_copy / "report.html").read_bytes()
    with pytest.raises(InputError, match="different run"):
        rerender(run_copy, report_study.config)
    assert (run_copy / "report.html").read_bytes() == before
