"""The report's charts, drawn on matplotlib Figures (no pyplot, no global figure state).

Each function takes plain arrays or small tables and returns a
:class:`matplotlib.figure.Figure` of fixed size; :mod:`pipeline.report.figures` styles,
saves and embeds them. The cost of drawing never grows with the number of clients:
per-client lines are sampled above :data:`MAX_CLIENT_LINES` (one LineCollection), and
distributions are binned. Text that comes from data goes through
:func:`pipeline.report.text.plain_label`.

Change = follow-up - baseline; negative means fewer migraine days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from pipeline.report.fmt import window_label
from pipeline.report.text import plain_label

SIZE = (7.2, 4.0)
"""Figure size in inches (all charts)."""
MAX_CLIENT_LINES = 200
"""Above this many clients the slope chart draws a random sample of this many."""

FEWER, MORE, SAME, MEAN = "#0072B2", "#D55E00", "#999999", "#111111"
PLACEBO = "#CC79A7"
VERDICT_COLOURS = {
    "supported": "#1a7f37",
    "not_supported": "#b42318",
    "inconclusive": "#b54708",
    "insufficient_data": "#667085",
}


def _figure(size: tuple[float, float] = SIZE) -> Figure:
    return Figure(figsize=size, layout="constrained")


def placeholder(title: str, message: str) -> Figure:
    """A chart-sized figure that says why there is nothing to draw."""
    fig = _figure()
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(plain_label(title, 90), loc="left")
    ax.text(0.5, 0.5, plain_label(message, 120), ha="center", va="center", wrap=True)
    return fig


def sample_pairs(pairs: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """At most ``limit`` rows of ``pairs``: all of them, or a seeded random sample."""
    return pairs if len(pairs) <= limit else pairs.sample(n=limit, random_state=seed)


def slope_chart(
    before: np.ndarray,
    after: np.ndarray,
    labels: tuple[str, str],
    seed: int,
    limit: int = MAX_CLIENT_LINES,
) -> Figure:
    """Per-client migraine days per 28 days at baseline and in the follow-up window.

    Parameters
    ----------
    before, after : numpy.ndarray
        Paired values per client (days per 28 days); clients evaluable in both windows.
    labels : tuple of str
        Axis labels of the two windows.
    seed : int
        Seed of the sample drawn when there are more than ``limit`` clients.
    limit : int
        Most client lines drawn; the mean line always uses every client.
    """
    pairs = pd.DataFrame({"before": before, "after": after})
    shown = sample_pairs(pairs, limit, seed)
    b, a = shown["before"].to_numpy(), shown["after"].to_numpy()
    change = a - b
    colours = np.where(change < 0, FEWER, np.where(change > 0, MORE, SAME))
    segments = np.stack(
        [np.column_stack([np.zeros_like(b), b]), np.column_stack([np.ones_like(a), a])], axis=1
    )
    fig = _figure()
    ax = fig.add_subplot()
    alpha = 0.6 if len(shown) <= 50 else 0.35
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=0.9, alpha=alpha))
    means = [pairs["before"].mean(), pairs["after"].mean()]
    ax.plot([0, 1], means, color=MEAN, linewidth=3, marker="o", zorder=3)
    top = float(np.nanmax([pairs["before"].max(), pairs["after"].max(), 1.0]))
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(0, top * 1.05 + 0.5)
    ax.set_xticks([0, 1], [plain_label(labels[0]), plain_label(labels[1])])
    ax.set_ylabel("Migraine days per 28 days")
    shown_text = (
        f"all {len(pairs)} clients"
        if len(shown) == len(pairs)
        else (f"random sample of {len(shown)} of {len(pairs)} clients")
    )
    ax.set_title(f"Each line is one client ({shown_text})", loc="left", fontsize=9)
    handles = [
        Line2D([], [], color=FEWER, label="fewer days"),
        Line2D([], [], color=MORE, label="more days"),
        Line2D([], [], color=SAME, label="no change"),
        Line2D([], [], color=MEAN, linewidth=3, marker="o", label=f"mean of all {len(pairs)}"),
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8, frameon=False)
    return fig


def change_histogram(change: np.ndarray, placebo_change: float | None, window: str) -> Figure:
    """Distribution of the per-client change in migraine days per 28 days.

    Bins are one day wide, so the number of bars depends on the range of changes
    (at most 57), never on the number of clients.

    Parameters
    ----------
    change : numpy.ndarray
        Follow-up - baseline per client (negative = fewer migraine days).
    placebo_change : float or None
        Placebo-arm change of prevention trials, drawn as a reference line.
    window : str
        Label of the follow-up window.
    """
    values = change[np.isfinite(change)]
    low = np.floor(min(values.min(), 0.0, placebo_change if placebo_change is not None else 0.0))
    high = np.ceil(max(values.max(), 0.0)) + 1
    edges = np.arange(low, high + 1)
    fig = _figure()
    ax = fig.add_subplot()
    ax.hist(values, bins=edges, color=FEWER, alpha=0.75, edgecolor="white")
    ax.axvline(0, color=SAME, linewidth=1.2, label="no change")
    mean = float(values.mean())
    ax.axvline(mean, color=MEAN, linewidth=2, label=f"mean change {mean:.2f}")
    if placebo_change is not None and np.isfinite(placebo_change):
        ax.axvline(
            placebo_change, color=PLACEBO, linewidth=2, linestyle="--",
            label=f"placebo response {placebo_change:.1f}",
        )  # fmt: skip
    ax.set_xlabel(
        f"Change in migraine days per 28 days ({plain_label(window)} - baseline); negative = fewer"
    )
    ax.set_ylabel("Clients")
    ax.set_title(f"{len(values)} clients", loc="left", fontsize=9)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def trajectory_chart(rows: pd.DataFrame, confidence: float) -> Figure:
    """Mean migraine days per week relative to the first session, with a CI band.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per week: ``week`` (0 = the week starting on the first session,
        negative = before it), ``n``, ``mean``, ``ci_low``, ``ci_high``.
    confidence : float
        Level of the band, for the legend.
    """
    rows = rows.sort_values("week")
    week = rows["week"].to_numpy(dtype=float)
    fig = _figure()
    ax = fig.add_subplot()
    if (week < 0).any():
        ax.axvspan(
            week.min() - 0.5, -0.5, color=SAME, alpha=0.15, linewidth=0, label="baseline weeks"
        )
    ax.fill_between(
        week, rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float),
        color=FEWER, alpha=0.2, linewidth=0, label=f"{round(100 * confidence)}% CI",
    )  # fmt: skip
    ax.plot(
        week,
        rows["mean"].to_numpy(dtype=float),
        color=FEWER,
        marker="o",
        markersize=3.5,
        label="mean",
    )
    ax.axvline(0, color=MEAN, linestyle="--", linewidth=1, label="week 0: first session")
    ax.set_xlabel("Week relative to the first therapy session")
    ax.set_ylabel("Migraine days per week")
    ax.set_ylim(bottom=0)
    ax.set_xticks(week[:: max(1, int(np.ceil(len(week) / 16)))])
    n = rows["n"].to_numpy()
    ax.set_title(f"Clients per week: {int(n.min())} to {int(n.max())}", loc="left", fontsize=9)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    return fig


def forest_plot(rows: pd.DataFrame) -> Figure:
    """Standardised effect (d_z) per claim, sign-aligned so that improvement is positive.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per claim, top to bottom: ``label``, ``value`` (aligned d_z),
        ``low``, ``high`` (aligned interval) and ``verdict``.
    """
    fig = _figure()
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    colours = rows["verdict"].map(VERDICT_COLOURS).fillna(SAME).tolist()
    ax.hlines(
        y,
        rows["low"].to_numpy(dtype=float),
        rows["high"].to_numpy(dtype=float),
        colors=colours,
        linewidth=2,
    )
    ax.scatter(rows["value"].to_numpy(dtype=float), y, color=colours, s=36, zorder=3)
    ax.axvline(0, color=MEAN, linewidth=1)
    ax.set_yticks(y, [plain_label(label, 48) for label in rows["label"]])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("Cohen's d_z, sign-aligned: right of 0 = change in the claimed direction")
    ax.annotate(
        "worse \u2190",
        xy=(0.0, 1.0),
        xycoords="axes fraction",
        ha="left",
        va="bottom",
        fontsize=8,
        color=MORE,
    )
    ax.annotate(
        "\u2192 improvement",
        xy=(1.0, 1.0),
        xycoords="axes fraction",
        ha="right",
        va="bottom",
        fontsize=8,
        color=FEWER,
    )
    present = [v for v in VERDICT_COLOURS if v in set(rows["verdict"])]
    handles = [
        Line2D([], [], color=VERDICT_COLOURS[v], marker="o", linewidth=2, label=v.replace("_", " "))
        for v in present
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    return fig


def responder_chart(
    rows: pd.DataFrame, windows: list[str], benchmark_rate: float | None, confidence: float
) -> Figure:
    """Responder rates per follow-up window and threshold, with the placebo reference.

    Parameters
    ----------
    rows : pandas.DataFrame
        ``window``, ``threshold`` (% reduction), ``proportion``, ``wilson_low``,
        ``wilson_high``.
    windows : list of str
        Window names in time order (x axis); labels are made from them.
    benchmark_rate : float or None
        Placebo responder rate (>= 50% reduction) of prevention trials.
    confidence : float
        Level of the Wilson intervals, for the axis label.
    """
    fig = _figure()
    ax = fig.add_subplot()
    position = {w: i for i, w in enumerate(windows)}
    thresholds = sorted(rows["threshold"].unique())
    offsets = np.linspace(-0.18, 0.18, len(thresholds)) if len(thresholds) > 1 else [0.0]
    markers = ["o", "s", "D", "^", "v"]
    colours = [FEWER, "#009E73", "#E69F00", "#56B4E9", MEAN]
    for i, (threshold, offset) in enumerate(zip(thresholds, offsets, strict=True)):
        part = rows[rows["threshold"] == threshold]
        x = part["window"].map(position).to_numpy(dtype=float) + offset
        p = part["proportion"].to_numpy(dtype=float)
        err = np.vstack(
            [
                p - part["wilson_low"].to_numpy(dtype=float),
                part["wilson_high"].to_numpy(dtype=float) - p,
            ]
        )
        ax.errorbar(
            x, p, yerr=err, fmt=markers[i % len(markers)], color=colours[i % len(colours)],
            capsize=3, linewidth=1.2,
            label=f"\u2265{threshold:g}% fewer migraine days",
        )  # fmt: skip
    if benchmark_rate is not None and np.isfinite(benchmark_rate):
        ax.axhline(
            benchmark_rate, color=PLACEBO, linestyle="--", linewidth=1.5,
            label=f"placebo responders (\u226550%): {100 * benchmark_rate:.0f}%",
        )  # fmt: skip
    ax.set_xticks(range(len(windows)), [plain_label(window_label(w)) for w in windows])
    ax.set_xlim(-0.5, len(windows) - 0.5)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(f"Responders (Wilson {round(100 * confidence)}% CI)")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    return fig
