"""The report's figures: chosen from the results, drawn, saved as PNG and SVG, embedded.

Figures are drawn on explicit Agg canvases (``FigureCanvasAgg``) and never through
pyplot, so rendering is non-interactive, nothing is registered in a global figure
manager (there is nothing left to close), and importing this module does not switch
the backend of an analyst's notebook. Output is deterministic: fixed sizes, DejaVu Sans
(shipped with matplotlib), text stored as paths in SVG, ``svg.hashsalt`` fixed and no
dates in the metadata.

Every figure exists in every report: when there is nothing to draw, a placeholder says
why. No figure's drawing cost grows with the number of clients (see
:mod:`pipeline.report.plots`).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from pipeline import store
from pipeline.claims import outcome_label
from pipeline.config import StudyConfig
from pipeline.outcomes import MIN_DAYS_PER_WEEK
from pipeline.report import plots
from pipeline.report.fmt import finite, number, window_label

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "svg.fonttype": "path",
    "svg.hashsalt": "outcome-study",
    "path.simplify": True,
}
PNG_DPI = 130
PNG_METADATA = {"Software": "outcome-study (matplotlib)"}
SVG_METADATA = {"Date": None, "Creator": "outcome-study (matplotlib)"}
FIGURES_DIR = "figures"


@dataclass(frozen=True)
class RenderedFigure:
    """One figure of the report, saved in both formats.

    Attributes
    ----------
    name : str
        File stem (``figures/<name>.png`` and ``.svg``).
    title, caption, alt : str
        Heading, the sentence under it, and the text alternative (plain text).
    png, svg : bytes
        The saved images.
    """

    name: str
    title: str
    caption: str
    alt: str
    png: bytes
    svg: bytes

    def data_uri(self, kind: Literal["svg", "png"]) -> str:
        """The image as a ``data:`` URI (base64), for self-contained HTML and the PDF."""
        mime, content = ("image/svg+xml", self.svg) if kind == "svg" else ("image/png", self.png)
        return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


@dataclass(frozen=True)
class FigureSpec:
    """A figure before drawing: its texts and how to draw it."""

    name: str
    title: str
    caption: str
    alt: str
    draw: Callable[[], Figure]


NO_PAIRS = "No client was evaluable at baseline and in the primary window."


def _placeholder_spec(name: str, title: str, caption: str, alt: str, message: str) -> FigureSpec:
    """A figure that says, in its own frame, why there is nothing to draw."""
    return FigureSpec(name, title, caption, alt, lambda: plots.placeholder(title, message))


def save(fig: Figure) -> tuple[bytes, bytes]:
    """PNG and SVG bytes of a figure (deterministic for the same figure)."""
    FigureCanvasAgg(fig)
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)
    fig.savefig(svg, format="svg", metadata=SVG_METADATA)
    fig.clear()
    return png.getvalue(), svg.getvalue()


def _windows(results: dict[str, Any]) -> dict[str, Any]:
    return (results.get("methods") or {}).get("windows") or {}


def _primary(results: dict[str, Any], config: StudyConfig) -> str:
    return (results.get("methods") or {}).get("primary_window") or config.windows.primary


def _confidence(results: dict[str, Any], config: StudyConfig) -> float:
    value = (results.get("methods") or {}).get("confidence")
    return float(value) if finite(value) else config.analysis.confidence


def primary_pairs(
    results: dict[str, Any], frames: dict[str, pd.DataFrame], config: StudyConfig
) -> pd.DataFrame:
    """Baseline and primary-window migraine days per 28 days, clients evaluable in both.

    Returns
    -------
    pandas.DataFrame
        ``before``, ``after``, ``change`` (after - before; negative = fewer days).
    """
    responders = frames.get("responders")
    if responders is None or responders.empty:
        return pd.DataFrame({"before": [], "after": [], "change": []}, dtype=float)
    rows = responders[responders["window"] == _primary(results, config)]
    pairs = pd.DataFrame(
        {
            "before": rows["baseline_migraine_days_28"].to_numpy(dtype=float),
            "after": rows["migraine_days_28"].to_numpy(dtype=float),
        }
    )
    pairs = pairs[np.isfinite(pairs["before"]) & np.isfinite(pairs["after"])]
    return pairs.assign(change=pairs["after"] - pairs["before"]).reset_index(drop=True)


def forest_rows(results: dict[str, Any], primary: str) -> pd.DataFrame:
    """Claims with a d_z, sign-aligned so that a change in the claimed direction is positive.

    For a ``decrease`` claim d_z and its interval are negated (and the bounds swapped).
    Labels name the outcome (and the window when it is not ``primary``).
    """
    rows = []
    for claim in results.get("claims") or []:
        if not all(finite(claim.get(k)) for k in ("dz", "dz_ci_low", "dz_ci_high")):
            continue
        sign = -1.0 if claim.get("direction") == "decrease" else 1.0
        low, high = sorted((sign * claim["dz_ci_low"], sign * claim["dz_ci_high"]))
        proxy = " (proxy)" if claim.get("proxy") else ""
        window = (
            "" if claim.get("window") == primary else f", {window_label(str(claim.get('window')))}"
        )
        rows.append(
            {
                "label": f"{outcome_label(str(claim.get('outcome_used') or claim['outcome']))}{proxy}{window}",
                "value": sign * claim["dz"],
                "low": low,
                "high": high,
                "verdict": claim.get("verdict"),
            }
        )
    return pd.DataFrame(rows, columns=["label", "value", "low", "high", "verdict"])


def _slope_spec(results, pairs, config) -> FigureSpec:
    primary = _primary(results, config)
    windows = _windows(results)
    labels = (
        window_label("baseline", windows.get("baseline")),
        window_label(primary, windows.get(primary)),
    )
    title = "Migraine days per 28 days: baseline and primary window, per client"
    n = len(pairs)
    limit = plots.MAX_CLIENT_LINES
    sampled = (
        f" A random sample of {limit} of the {n} clients is drawn (seed fixed); the means use all {n}."
        if n > limit
        else ""
    )
    caption = (
        f"Clients evaluable at baseline and in {labels[1]} (n = {n}). Blue lines: fewer migraine "
        f"days, orange: more, grey: unchanged. The black line joins the means.{sampled}"
    )
    if n == 0:
        return _placeholder_spec(
            "before_after",
            title,
            caption,
            "No clients to show.",
            NO_PAIRS,
        )
    alt = (
        f"Slope chart of migraine days per 28 days for {n} clients: mean {number(pairs['before'].mean())} "
        f"at baseline and {number(pairs['after'].mean())} in {labels[1]}."
    )
    return FigureSpec(
        "before_after", title, caption, alt,
        lambda: plots.slope_chart(pairs["before"].to_numpy(), pairs["after"].to_numpy(), labels, config.analysis.seed),
    )  # fmt: skip


def _histogram_spec(results, pairs, config) -> FigureSpec:
    primary = _primary(results, config)
    label = window_label(primary)
    placebo = (results.get("placebo") or {}).get("benchmark_change")
    placebo = float(placebo) if finite(placebo) else None
    title = f"Distribution of the change in migraine days per 28 days ({label} - baseline)"
    caption = (
        "One bar per whole day of change; negative = fewer migraine days. Grey line: no change; "
        "black: mean change; dashed: mean change in the placebo arms of migraine prevention trials."
    )
    if pairs.empty:
        return _placeholder_spec(
            "change_distribution",
            title,
            caption,
            "No clients to show.",
            NO_PAIRS,
        )
    alt = (
        f"Histogram of the change for {len(pairs)} clients; mean {number(pairs['change'].mean())}, "
        f"median {number(pairs['change'].median())}."
    )
    return FigureSpec(
        "change_distribution",
        title,
        caption,
        alt,
        lambda: plots.change_histogram(pairs["change"].to_numpy(), placebo, label),
    )


def _trajectory_spec(results, config) -> FigureSpec:
    rows = pd.DataFrame(
        results.get("trajectory") or [], columns=["week", "n", "mean", "sd", "ci_low", "ci_high"]
    )
    rows = rows.dropna(subset=["mean"])
    confidence = _confidence(results, config)
    title = "Migraine days per week, relative to the first therapy session"
    caption = (
        f"Mean over clients with at least {MIN_DAYS_PER_WEEK} recorded days that week, with its {round(100 * confidence)}% "
        "confidence band. Week 0 starts on the day of the first session; shaded weeks are before it. "
        "Clients differ from week to week (dropout), so the curve is not one fixed group."
    )
    if rows.empty:
        return _placeholder_spec(
            "trajectory",
            title,
            caption,
            "No weekly data.",
            "No week had clients with enough recorded diary days.",
        )
    before = rows.loc[rows["week"] < 0, "mean"].mean()
    after = rows.loc[rows["week"] >= rows["week"].max() - 3, "mean"].mean()
    alt = f"Line chart over {len(rows)} weeks: mean {number(before)} migraine days per week before the first session and {number(after)} in the last four weeks shown."
    return FigureSpec(
        "trajectory", title, caption, alt, lambda: plots.trajectory_chart(rows, confidence)
    )


def _forest_spec(results, config) -> FigureSpec:
    rows = forest_rows(results, _primary(results, config))
    title = "Standardised effect per claim (Cohen's d_z), improvement to the right"
    caption = (
        "d_z = mean change / SD of the changes, with its confidence interval, sign-aligned so that a change "
        "in the direction the clinic claims (fewer days, less pain or stress, better sleep or "
        "functioning) is positive. Colour = verdict. The side-effect claim has no d_z."
    )
    if rows.empty:
        return _placeholder_spec(
            "effects",
            title,
            caption,
            "No effect sizes.",
            "No claim had enough data for an effect size.",
        )
    alt = "Forest plot: " + "; ".join(
        f"{r.label} {number(r.value)} ({number(r.low)} to {number(r.high)})"
        for r in rows.itertuples()
    )
    return FigureSpec("effects", title, caption, alt, lambda: plots.forest_plot(rows))


def _responder_spec(results, config) -> FigureSpec:
    rows = pd.DataFrame(results.get("responders") or [])
    placebo = results.get("placebo") or {}
    rate = placebo.get("benchmark_rate")
    rate = float(rate) if finite(rate) else None
    windows = [w for w in _windows(results) if w != "baseline"] or list(config.windows.followup)
    title = "Responders: clients with at least 50%, 75% or 100% fewer migraine days"
    source = placebo.get("source") or "the study configuration"
    caption = (
        "Share of clients (evaluable at baseline and in the window, baseline above zero) whose "
        "monthly migraine days fell by at least the threshold. Dashed line: placebo responder rate "
        f"(at least 50% fewer days) in migraine prevention trials. Source: {source}"
    )
    if rows.empty or "proportion" not in rows:
        return _placeholder_spec(
            "responders",
            title,
            caption,
            "No responder data.",
            "No client could be classed as responder or not.",
        )
    rows = rows[rows["window"].isin(windows)]
    alt = "Responder rates: " + "; ".join(
        f"{r.window} at {r.threshold}%: {100 * r.proportion:.0f}%"
        for r in rows.itertuples()
        if finite(r.proportion)
    )
    return FigureSpec(
        "responders",
        title,
        caption,
        alt,
        lambda: plots.responder_chart(rows, windows, rate, _confidence(results, config)),
    )


def figure_specs(
    results: dict[str, Any], frames: dict[str, pd.DataFrame], config: StudyConfig
) -> list[FigureSpec]:
    """The report's figures in report order, with their texts, not yet drawn."""
    pairs = primary_pairs(results, frames, config)
    return [
        _slope_spec(results, pairs, config),
        _histogram_spec(results, pairs, config),
        _trajectory_spec(results, config),
        _forest_spec(results, config),
        _responder_spec(results, config),
    ]


def build_figures(
    results: dict[str, Any], frames: dict[str, pd.DataFrame], config: StudyConfig
) -> list[RenderedFigure]:
    """Draw and save every figure of the report.

    Parameters
    ----------
    results : dict
        The results (results.json content).
    frames : dict of str to pandas.DataFrame
        Report frames; ``responders`` gives the per-client primary-window pairs.
    config : StudyConfig
        Fallback windows and confidence; ``analysis.seed`` seeds any sampling.

    Returns
    -------
    list of RenderedFigure
        In report order: ``before_after``, ``change_distribution``, ``trajectory``,
        ``effects``, ``responders``.
    """
    rendered = []
    with matplotlib.rc_context(STYLE):
        for spec in figure_specs(results, frames, config):
            png, svg = save(spec.draw())
            rendered.append(RenderedFigure(spec.name, spec.title, spec.caption, spec.alt, png, svg))
    return rendered


def write_figures(folder: Path, figures: list[RenderedFigure]) -> list[Path]:
    """Write ``figures/<name>.png`` and ``.svg`` for every figure (atomically)."""
    target = Path(folder) / FIGURES_DIR
    written = []
    for figure in figures:
        written.append(store.write_bytes_atomic(target / f"{figure.name}.png", figure.png))
        written.append(store.write_bytes_atomic(target / f"{figure.name}.svg", figure.svg))
    return written
