"""Report cost does not grow with the number of clients or input files (issue 8).

Per-client charts sample above a threshold, distributions are binned, data-dependent
HTML tables are cut or aggregated, and the workbook's per-client sheet is capped.
Drawn elements and document sizes are compared instead of wall-clock times, which
would be flaky.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from pipeline.report import plots, xlsx
from pipeline.report.context import report_context
from pipeline.report.figures import build_figures
from pipeline.report.html import render_html
from pipeline.report.layout import MAX_HTML_ROWS
from pipeline.stages import report_frames
from tests.test_report_readers import parse_html


def synthetic_responders(n_clients: int, window: str, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    before = rng.uniform(2, 14, n_clients)
    after = np.clip(before + rng.normal(-2, 3, n_clients), 0, 28)
    return pd.DataFrame(
        {
            "patient_id": [f"P-{i:08d}" for i in range(n_clients)],
            "window": window,
            "baseline_migraine_days_28": before,
            "migraine_days_28": after,
            "change_migraine_days_28": after - before,
        }
    )


def test_slope_chart_draws_a_sample_but_means_of_everyone():
    rng = np.random.default_rng(3)
    before = rng.uniform(0, 20, 5000)
    after = rng.uniform(0, 20, 5000)
    fig = plots.slope_chart(before, after, ("baseline", "weeks 9-12"), seed=5)
    ax = fig.axes[0]
    segments = ax.collections[0].get_segments()
    assert len(segments) == plots.MAX_CLIENT_LINES
    shown = {(round(s[0][1], 9), round(s[1][1], 9)) for s in segments}
    assert shown <= {(round(b, 9), round(a, 9)) for b, a in zip(before, after, strict=True)}
    assert ax.lines[0].get_ydata() == pytest.approx([before.mean(), after.mean()])
    small = plots.slope_chart(before[:40], after[:40], ("baseline", "weeks 9-12"), seed=5)
    assert len(small.axes[0].collections[0].get_segments()) == 40


@pytest.fixture(scope="module")
def study_frames(report_study):
    return report_frames(report_study.config.processed_dir)


def test_figures_of_a_huge_study_are_no_bigger(report_study, study_frames):
    primary = report_study.results["methods"]["primary_window"]
    sizes = {}
    for n in (300, 30_000):
        frames = {**study_frames, "responders": synthetic_responders(n, primary)}
        figures = {
            f.name: f for f in build_figures(report_study.results, frames, report_study.config)
        }
        sizes[n] = {name: len(f.svg) for name, f in figures.items()}
        assert f"of the {n} clients" in figures["before_after"].caption
    for name in sizes[300]:
        assert sizes[30_000][name] < 1.3 * sizes[300][name], name


def _many_inputs(results: dict, n: int) -> dict:
    results = copy.deepcopy(results)
    template = results["run"]["inputs"][0]
    results["run"]["inputs"] = [
        {
            **template,
            "path": f"attacks/P-{i:08d}.csv",
            "adapter": "diary_attacks",
            "rows_quarantined": i % 3,
        }
        for i in range(n)
    ]
    return results


def _many_quarantine_groups(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": [f"attacks/P-{i:08d}.csv" for i in range(n)],
            "source_row": np.arange(n) % 50 + 1,
            "adapter": "diary_attacks",
            "reason": "out_of_range",
            "column": "peak_pain",
            "message": "peak_pain: 11 is above the maximum 10",
            "values": "{}",
        }
    )


def test_html_tables_are_cut_or_aggregated(report_study, study_frames):
    figures = build_figures(report_study.results, study_frames, report_study.config)
    lengths = {}
    for n in (30, 5_000):
        results = _many_inputs(report_study.results, n)
        frames = {**study_frames, "quarantine": _many_quarantine_groups(n)}
        html = render_html(report_context(results, frames, report_study.config, figures, "svg"))
        lengths[n] = len(html)
        page = parse_html(html)
        assert page.rows, "the verdict table is still there"
    assert lengths[5_000] < 1.05 * lengths[30]
    context = report_context(
        _many_inputs(report_study.results, 5_000),
        {**study_frames, "quarantine": _many_quarantine_groups(5_000)},
        report_study.config,
        figures,
        "svg",
    )
    quality = context["quality"]
    assert len(quality["inputs"].rows) <= MAX_HTML_ROWS
    assert quality["by_adapter"].rows[0][:2] == ["diary_attacks", "5,000"]
    assert (
        len(quality["quarantine"].rows) == MAX_HTML_ROWS and "5,000" in quality["quarantine"].note
    )
    assert len(context["provenance"]["hashes"].rows) == MAX_HTML_ROWS


def test_workbook_patient_sheet_is_capped_at_whole_clients(report_study, study_frames):
    outcomes = study_frames["patient_outcomes"]
    per_client = outcomes["patient_id"].value_counts().iloc[0]
    repeats = xlsx.MAX_PATIENT_ROWS // len(outcomes) + 2
    big = pd.concat(
        [outcomes.assign(patient_id=outcomes["patient_id"] + f"-{k}") for k in range(repeats)],
        ignore_index=True,
    )
    sheets = xlsx.workbook_sheets(report_study.results, {**study_frames, "patient_outcomes": big})
    shown = sheets["patient outcomes"]
    assert len(big) > xlsx.MAX_PATIENT_ROWS >= len(shown) > xlsx.MAX_PATIENT_ROWS - per_client
    counts = shown["patient_id"].value_counts()
    assert (counts == big["patient_id"].value_counts()[counts.index]).all(), "no client is cut"
    about = dict(sheets["about"].itertuples(index=False))
    assert f"of {len(big):,} rows" in about["sheet patient outcomes"]


def test_capped_keeps_whole_groups():
    frame = pd.DataFrame({"key": list("aaabbbccc"), "value": range(9)})
    assert xlsx.capped(frame, 5, "key")["key"].tolist() == list("aaa")
    assert xlsx.capped(frame, 6, "key")["key"].tolist() == list("aaabbb")
    assert xlsx.capped(frame, 4)["value"].tolist() == [0, 1, 2, 3]
    assert xlsx.capped(frame, 20, "key").equals(frame)
