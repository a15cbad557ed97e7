"""Sections that depend on the results: comparison, regression to the mean, demo flag, no data."""

from __future__ import annotations

import copy

import pytest

from pipeline.report.context import report_context
from pipeline.report.figures import build_figures
from pipeline.report.html import render_html
from pipeline.report.summary import summary_markdown
from pipeline.report.xlsx import workbook_sheets
from pipeline.stages import report_frames
from tests.test_report_readers import parse_html

COMPARISON = {
    "outcome": "migraine_days",
    "window": "weeks_9_12",
    "reference": "waitlist",
    "rows": [
        {
            "group": "therapy",
            "estimate": -1.234,
            "se": 0.5,
            "ci_low": -2.216,
            "ci_high": -0.252,
            "p": 0.0213,
            "n": 40,
            "n_group": 21,
            "n_reference": 19,
        },
    ],  # fmt: skip
    "n": 40,
    "df_resid": 37.0,
    "pre_slope": 0.61,
    "notes": [],
}
RTM = {
    "computed": True, "n": 48, "mean_baseline": 7.3, "mean_followup": 4.2, "mu": 4.0,
    "rho": 0.55, "rho_estimated": True, "sigma": 3.0, "cutoff": None, "selected": "above",
    "expected_rtm_change": -1.485, "expected_rtm_change_cutoff": None,
    "observed_change": -3.1, "change_beyond_rtm": -1.615, "change_beyond_rtm_cutoff": None,
    "notes": ["rho estimated among the enrolled clients"], "source": "Population survey X",
}  # fmt: skip


@pytest.fixture(scope="module")
def frames(report_study):
    return report_frames(report_study.config.processed_dir)


@pytest.fixture(scope="module")
def figures(report_study, frames):
    return build_figures(report_study.results, frames, report_study.config)


def html_for(results, frames, config, figures) -> str:
    return render_html(report_context(results, frames, config, figures, "svg"))


def test_comparison_section_only_with_groups(report_study, frames, figures):
    without = html_for(report_study.results, frames, report_study.config, figures)
    assert report_study.results["comparison"] is None
    assert 'id="comparison"' not in without and "What the comparison group adds" not in without
    assert "comparison" not in workbook_sheets(report_study.results, frames)
    results = {**copy.deepcopy(report_study.results), "comparison": COMPARISON}
    text = html_for(results, frames, report_study.config, figures)
    assert 'id="comparison"' in text and "What the comparison group adds" in text
    assert "-1.23 (-2.22 to -0.25)" in text and "waitlist" in text
    sheet = workbook_sheets(results, frames)["comparison"]
    assert sheet["estimate"].tolist() == [-1.234]


def test_regression_to_the_mean_computed_or_explained(report_study, frames, figures):
    note = "set [regression_to_mean] population_mean in study.toml to estimate it"
    missing = {"computed": False, "notes": [note]}
    results = {**copy.deepcopy(report_study.results), "regression_to_mean": missing}
    text = html_for(results, frames, report_study.config, figures)
    assert 'id="rtm-not-computed"' in text and note in text
    assert 'id="regression-to-mean"' not in text and "It was\nnot estimated" in text
    results = {**copy.deepcopy(report_study.results), "regression_to_mean": RTM}
    text = html_for(results, frames, report_study.config, figures)
    assert 'id="rtm-not-computed"' not in text and 'id="regression-to-mean"' in text
    assert "-1.49" in text and "-1.61" in text and "Population survey X" in text


def test_no_demo_warning_for_a_real_study_key(report_study, frames, figures):
    results = copy.deepcopy(report_study.results)
    results["run"]["pseudonym_key"] = "study key 0123abcd"
    results["study"]["demo"] = False
    text = html_for(results, frames, report_study.config, figures)
    assert 'id="demo-warning"' not in text and "<strong>DEMO DATA.</strong>" not in text
    assert "DEMO DATA" not in summary_markdown(results)
    about = dict(workbook_sheets(results, frames)["about"].itertuples(index=False))
    assert about["demo data"] == "no"
    results["study"]["demo"] = True
    assert 'id="demo-warning"' in html_for(results, frames, report_study.config, figures)


def test_every_figure_has_a_placeholder_without_data(report_study, frames):
    results = copy.deepcopy(report_study.results)
    results["trajectory"] = []
    results["responders"] = []
    for claim in results["claims"]:
        claim["dz"] = None
    empty = {**frames, "responders": frames["responders"].iloc[0:0]}
    placeholders = build_figures(results, empty, report_study.config)
    assert len(placeholders) == 5
    assert all(f.png.startswith(b"\x89PNG") and b"<svg" in f.svg for f in placeholders)
    assert [f.alt for f in placeholders] == [
        "No clients to show.", "No clients to show.", "No weekly data.", "No effect sizes.",
        "No responder data.",
    ]  # fmt: skip
    page = parse_html(html_for(results, empty, report_study.config, placeholders))
    assert len(page.images) == 5 and [r["id"] for r in page.rows] == [
        c["id"] for c in results["claims"]
    ]


def test_a_run_without_quarantined_rows(report_study, frames, tmp_path):
    from pipeline.report import write_report

    results = copy.deepcopy(report_study.results)
    results["data_quality"]["by_reason"] = {}
    clean = {**frames, "quarantine": frames["quarantine"].iloc[0:0]}
    written = write_report(results, clean, report_study.config, tmp_path)
    assert len(written) == 16 and all(p.is_file() for p in written)
    lines = (tmp_path / "quarantine.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["source_file,source_row,adapter,reason,column,message,values"]
    sheets = workbook_sheets(results, clean)
    assert sheets["quarantine summary"].empty
