"""Safe text for spreadsheets, figure labels and Markdown; offline PDF rendering; formatting."""

from __future__ import annotations

import http.server
import io
import threading

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pipeline.report import fmt
from pipeline.report.pdf import render_pdf
from pipeline.report.summary import summary_markdown
from pipeline.report.text import (
    FORMULA_PREFIX,
    markdown_text,
    neutralise_cell,
    neutralise_frame,
    plain_label,
)

# Text a spreadsheet program could run as a formula (or DDE command) when opened.
DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "+cmd|'/c calc'!A0",
    "@SUM(1)",
    "-2+3",
    "=1+1",
    "  =1+1",
    "\t=1+1",
    "\r=1+1",
    "\n@SUM(1)",
    "\u00a0=1+1",
    "\u3000-1",
    "\uff1d1+1",
    "\t",
    "\rplain",
]
HARMLESS = [
    "<script>alert(1)</script>",
    "</style>",
    "He said \"hi\" and 'bye'",
    "line\nbreak",
    "2+3",
    "a=b",
    "email@example",
    "",
]


def starts_a_formula(text: str) -> bool:
    """Independent statement of the rule: = + - @ first (after spaces) or tab/CR/LF first."""
    return text[:1] in ("\t", "\r", "\n") or text.lstrip()[:1] in (
        "=",
        "+",
        "-",
        "@",
        "＝",
        "＋",
        "－",
        "＠",
    )


@pytest.mark.parametrize("text", DANGEROUS)
def test_dangerous_cells_are_prefixed(text):
    safe = neutralise_cell(text)
    assert safe == FORMULA_PREFIX + text
    assert not starts_a_formula(safe)


@pytest.mark.parametrize("text", HARMLESS)
def test_harmless_text_is_unchanged(text):
    assert neutralise_cell(text) == text


@pytest.mark.parametrize("value", [-2.5, -3, 0, 1.5, True, None, pd.Timestamp("2025-01-02")])
def test_non_text_values_are_unchanged(value):
    assert neutralise_cell(value) is value


def test_neutralise_frame_covers_string_object_columns_and_headers():
    frame = pd.DataFrame(
        {
            "text": pd.Series(DANGEROUS + HARMLESS[:2], dtype="str"),
            "mixed": pd.Series([-1.5, "=2", None, *range(len(DANGEROUS) - 1)], dtype=object),
            "number": np.arange(len(DANGEROUS) + 2) - 5.0,
        }
    )
    frame = frame.rename(columns={"text": "=bad header"})
    safe = neutralise_frame(frame)
    assert list(safe.columns) == [FORMULA_PREFIX + "=bad header", "mixed", "number"]
    texts = [v for v in safe.to_numpy().ravel() if isinstance(v, str)]
    assert texts and not any(starts_a_formula(v) for v in texts)
    assert safe.iloc[0, 0] == FORMULA_PREFIX + DANGEROUS[0]
    assert safe.iloc[len(DANGEROUS), 0] == HARMLESS[0]
    assert safe["mixed"].iloc[0] == -1.5 and safe["mixed"].iloc[1] == "'=2"
    assert safe["mixed"].iloc[2] is None or pd.isna(safe["mixed"].iloc[2])
    pd.testing.assert_series_equal(safe["number"], frame["number"])
    assert frame.iloc[0, 0] == DANGEROUS[0], "the input frame is not modified"


def test_neutralise_frame_on_pyarrow_strings_matches_the_python_rule():
    values = DANGEROUS + HARMLESS
    frame = pd.DataFrame({"a": pd.Series(values, dtype="string[pyarrow]")})
    safe = neutralise_frame(frame)["a"].tolist()
    assert safe == [neutralise_cell(v) for v in values]


@pytest.mark.parametrize(
    "text", ["$x^2$", r"\$\frac{1}{", "cost $5", "$$", "a\x00b\nc", "<b>bold</b> $\\alpha"]
)
def test_plain_label_never_reaches_mathtext(text):
    fig = Figure(figsize=(3, 2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(plain_label(text))
    ax.set_yticks([0], [plain_label(text)])
    fig.savefig(io.BytesIO(), format="png")  # raises on a mathtext parse error
    assert "\n" not in plain_label(text)


def test_plain_label_is_shortened():
    label = plain_label("x" * 500, max_chars=40)
    assert len(label) == 40 and label.endswith("\u2026")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<script>alert(1)</script>", r"\<script\>alert\(1\)\</script\>"),
        ("a|b", r"a\|b"),
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        ("[link](http://x)", r"\[link\]\(http://x\)"),
        ("two\nlines", "two lines"),
        (None, ""),
    ],
)
def test_markdown_text_escapes(text, expected):
    assert markdown_text(text) == expected


def test_summary_markdown_keeps_one_cell_per_column_with_hostile_text():
    hostile = "A | B <script>alert(1)</script>\n# heading"
    results = {
        "run": {"id": "r1", "pseudonym_key": "demo"},
        "study": {"name": hostile, "demo": True},
        "claims": [
            {
                "id": "c",
                "claim": hostile,
                "outcome": "migraine_days",
                "test": "paired",
                "verdict": "inconclusive",
                "reason": hostile,
                "window": "weeks_9_12",
            },
        ],  # fmt: skip
        "participant_flow": {
            "steps": [{"step": "seen", "label": hostile, "n": 3, "excluded": {hostile: 1}}]
        },
    }
    text = summary_markdown(results)
    assert "<script>" not in text
    assert "DEMO DATA" in text
    blocks, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line.replace("\\|", ""))
        elif block:
            blocks.append(block)
            block = []
    assert len(blocks) == 3
    for block in blocks:
        assert len({line.count("|") for line in block}) == 1, block
    assert not any(line.startswith("# heading") for line in text.splitlines())


def test_formatting_of_numbers():
    assert fmt.number(-2.524) == "-2.52"
    assert fmt.number(-0.001) == "0.00"
    assert fmt.number(float("nan")) == fmt.MISSING
    assert fmt.number(None) == fmt.MISSING
    assert fmt.number(True) == fmt.MISSING
    assert fmt.estimate_ci(-2.52496, -3.4346, -1.6153) == "-2.52 (-3.43 to -1.62)"
    assert fmt.estimate_ci(1.0, None, 2.0) == "1.00"
    assert fmt.p_value(0.0004) == "< 0.001" and fmt.p_value(0.0123) == "0.012"
    assert fmt.percent_ci(0.3541, 0.2343, 0.4956) == "35.4% (23.4 to 49.6%)"
    assert fmt.integer(12345) == "12,345"
    assert fmt.window_label("weeks_9_12", [56, 83]) == "weeks 9-12 (days 56 to 83)"
    assert fmt.window_label("baseline") == "baseline"


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red; }")

    def log_message(self, *args):
        pass


def test_pdf_rendering_fetches_nothing_but_data_uris(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red; }")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        html = (
            f'<html><head><link rel="stylesheet" href="{base}/style.css">'
            f'<style>@import url("{base}/import.css");</style></head><body>'
            f'<img src="{base}/image.png"><img src="file://{secret}">'
            '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI0IiBoZWlnaHQ9IjQiLz4=">'
            "<p>Offline</p></body></html>"
        )
        pdf = render_pdf(html)
    finally:
        server.shutdown()
        server.server_close()
    assert pdf.startswith(b"%PDF-")
    assert _CountingHandler.requests == []
