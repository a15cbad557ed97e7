"""What the report template shows: ``results`` turned into formatted, plain-text values.

:func:`report_context` is pure apart from reading installed package versions. Every
string it returns is plain text, escaped by the template (Jinja2 autoescape). Numbers
are formatted by :mod:`pipeline.report.fmt`; change = follow-up - baseline (negative =
fewer migraine days, less pain, less stress; for sleep quality positive = better).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.claims import outcome_label
from pipeline.config import AnalysisSection, StudyConfig, WindowsSection
from pipeline.report import quality, tables
from pipeline.report.figures import RenderedFigure
from pipeline.report.fmt import (
    MISSING,
    estimate_ci,
    finite,
    integer,
    interval,
    number,
    p_value,
    percent,
    percent_ci,
    window_label,
)
from pipeline.report.layout import table

VERDICT_LABELS = {
    "supported": "Supported",
    "not_supported": "Not supported",
    "inconclusive": "Inconclusive",
    "insufficient_data": "Insufficient data",
}
DEMO_KEY = "demo"


def is_demo(results: dict[str, Any]) -> bool:
    """Whether the results come from synthetic demo data or the public demo pseudonym key."""
    return (results.get("run") or {}).get("pseudonym_key") == DEMO_KEY or bool(
        (results.get("study") or {}).get("demo")
    )


def _methods(results: dict[str, Any]) -> dict[str, Any]:
    return results.get("methods") or {}


def _level(results: dict[str, Any], config: StudyConfig | None) -> int:
    confidence = _methods(results).get("confidence")
    if not finite(confidence):
        confidence = (config.analysis if config else AnalysisSection()).confidence
    return round(100 * confidence)


def _window(results: dict[str, Any], name: str, days: bool = True) -> str:
    return window_label(name, (_methods(results).get("windows") or {}).get(name) if days else None)


def _primary(results: dict[str, Any], config: StudyConfig | None) -> str:
    primary = _methods(results).get("primary_window")
    return primary or (config.windows if config else WindowsSection()).primary


def verdict_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per claim for the verdict table (plain text, in claims.toml order)."""
    rows = []
    for claim in results.get("claims") or []:
        row = tables.claim_row(claim)
        used = str(row["outcome_used"] or row["outcome"])
        outcome = outcome_label(used)
        if row["proxy"]:
            outcome += f" (proxy for {outcome_label(str(row['outcome']))})"
        if tables.is_adverse(claim):
            outcome = "reactions after attended sessions"
            estimate = (
                percent_ci(row["estimate"], row["ci_low"], row["ci_high"]) + " resolved in time"
            )
            window = str(claim.get("window") or "")
            p_adjusted = "not in family"
        else:
            estimate = estimate_ci(row["estimate"], row["ci_low"], row["ci_high"])
            window = _window(results, str(row["window"]))
            p_adjusted = p_value(row["p_adjusted"])
        verdict = str(row["verdict"])
        rows.append(
            {
                "id": str(row["id"]),
                "claim": str(row["claim"]),
                "outcome": outcome,
                "proxy": row["proxy"],
                "window": window,
                "n": integer(row["n"]),
                "estimate": estimate,
                "p_adjusted": p_adjusted,
                "verdict": verdict,
                "verdict_class": verdict if verdict in VERDICT_LABELS else "unknown",
                "verdict_label": VERDICT_LABELS.get(verdict, verdict),
                "reason": str(row["reason"] or ""),
            }
        )
    return rows


def primary_migraine(
    results: dict[str, Any], config: StudyConfig | None = None
) -> dict[str, Any] | None:
    """The primary-window change in monthly migraine days (the study's key number).

    Returns
    -------
    dict or None
        ``n``, ``estimate``, ``ci_low``, ``ci_high`` (days per 28 days, follow-up -
        baseline), ``window``; None when the battery has no such entry.
    """
    primary = _primary(results, config)
    for entry in results.get("outcomes") or []:
        if entry.get("outcome") == "migraine_days" and entry.get("window") == primary:
            return {
                "n": entry.get("n"),
                "estimate": entry.get("mean_change"),
                "ci_low": entry.get("ci_low"),
                "ci_high": entry.get("ci_high"),
                "window": primary,
            }
    return None


def headline(results: dict[str, Any], config: StudyConfig | None = None) -> str:
    """One sentence with the primary migraine-day change and the placebo reference."""
    key = primary_migraine(results, config)
    if key is None or not finite(key["estimate"]):
        return "No client had migraine-day data at baseline and in the primary window."
    placebo = (results.get("placebo") or {}).get("benchmark_change")
    reference = (
        f" Placebo arms of migraine prevention trials show about {number(placebo, 1)} days."
        if finite(placebo)
        else ""
    )
    return (
        f"Among {integer(key['n'])} clients with enough diary days at baseline and in "
        f"{_window(results, key['window'])}, monthly migraine days changed by "
        f"{number(key['estimate'])} ({_level(results, config)}% CI "
        f"{interval(key['ci_low'], key['ci_high'])}).{reference}"
    )


def flow_steps(results: dict[str, Any]) -> list[dict[str, Any]]:
    """CONSORT-style steps: label, clients remaining, exclusions with a count above zero."""
    steps = []
    for step in (results.get("participant_flow") or {}).get("steps") or []:
        excluded = [(str(r), integer(c)) for r, c in (step.get("excluded") or {}).items() if c]
        total = sum(int(c) for c in (step.get("excluded") or {}).values())
        steps.append(
            {
                "label": str(step.get("label") or step.get("step")),
                "n": integer(step.get("n")),
                "excluded": excluded,
                "excluded_total": integer(total),
            }
        )
    return steps


def outcomes_section(results: dict[str, Any]) -> Any:
    """The paired battery for every outcome and follow-up window."""
    rows = [
        [outcome_label(str(e["outcome"])), _window(results, str(e["window"]), False), integer(e.get("n")),
         number(e.get("baseline_mean")), number(e.get("followup_mean")),
         estimate_ci(e.get("mean_change"), e.get("ci_low"), e.get("ci_high")), number(e.get("dz")),
         p_value(e.get("p_t")), p_value(e.get("p_wilcoxon")), number(e.get("hodges_lehmann")),
         p_value(e.get("p_adjusted")) if finite(e.get("p_adjusted")) else ""]
        for e in results.get("outcomes") or []
    ]  # fmt: skip
    heads = ["Outcome", "Window", "n", "Baseline", "Follow-up", "Change (CI)", "d_z", "p (t)",
             "p (Wilcoxon)", "Hodges-Lehmann", "Adjusted p"]  # fmt: skip
    return table(heads, rows, {2, 3, 4, 5, 6, 7, 8, 9, 10})


def responders_section(results: dict[str, Any]) -> Any:
    """Responder rates per window and threshold with Wilson and Clopper-Pearson intervals."""
    rows = [
        [_window(results, str(r["window"]), False), f"{r['threshold']}%", f"{integer(r.get('k'))} / {integer(r.get('n'))}",
         percent(r.get("proportion")), f"{percent(r.get('wilson_low'))} to {percent(r.get('wilson_high'))}",
         f"{percent(r.get('cp_low'))} to {percent(r.get('cp_high'))}", integer(r.get("n_zero_baseline"))]
        for r in results.get("responders") or []
    ]  # fmt: skip
    heads = ["Window", "Reduction of at least", "Responders", "Rate", "Wilson CI",
             "Clopper-Pearson CI", "Zero baseline (not classed)"]  # fmt: skip
    return table(heads, rows, {2, 3, 4, 5, 6})


def placebo_section(results: dict[str, Any]) -> dict[str, Any]:
    """Observed change and responder rate against the placebo response of trials."""
    p = results.get("placebo") or {}
    return {
        "available": finite(p.get("mean_change")) or finite(p.get("responder_rate")),
        "n": integer(p.get("n")),
        "change": estimate_ci(p.get("mean_change"), p.get("ci_low"), p.get("ci_high")),
        "benchmark_change": number(p.get("benchmark_change"), 1),
        "difference": number(p.get("difference")),
        "p_t": p_value(p.get("p_t")),
        "responders": f"{integer(p.get('responders'))} of {integer(p.get('n_responder_evaluable'))}",
        "rate": percent_ci(p.get("responder_rate"), p.get("rate_ci_low"), p.get("rate_ci_high")),
        "benchmark_rate": percent(p.get("benchmark_rate"), 0),
        "p_binom": p_value(p.get("p_binom")),
        "source": str(p.get("source") or ""),
        "notes": [str(n) for n in p.get("notes") or []],
    }


def rtm_section(results: dict[str, Any]) -> dict[str, Any]:
    """Expected regression to the mean (Barnett et al. 2005) or why it was not computed."""
    rtm = results.get("regression_to_mean") or {}
    if not rtm.get("computed"):
        return {"computed": False, "notes": [str(n) for n in rtm.get("notes") or []]}
    rows = [
        ["Clients", integer(rtm.get("n"))],
        ["Mean at baseline (days per 28)", number(rtm.get("mean_baseline"))],
        ["Population mean (from study.toml)", number(rtm.get("mu"))],
        ["Baseline to follow-up correlation" + (" (estimated)" if rtm.get("rho_estimated") else ""), number(rtm.get("rho"))],
        ["Expected change from regression to the mean", number(rtm.get("expected_rtm_change"))],
        ["Observed change", number(rtm.get("observed_change"))],
        ["Observed change beyond regression to the mean", number(rtm.get("change_beyond_rtm"))],
    ]  # fmt: skip
    if finite(rtm.get("expected_rtm_change_cutoff")):
        rows += [
            [f"Expected change with enrolment above {number(rtm.get('cutoff'), 1)} days", number(rtm.get("expected_rtm_change_cutoff"))],
            ["Observed change beyond it", number(rtm.get("change_beyond_rtm_cutoff"))],
        ]  # fmt: skip
    return {
        "computed": True,
        "table": table(["Quantity", "Value"], rows, {1}),
        "source": str(rtm.get("source") or ""),
        "notes": [str(n) for n in rtm.get("notes") or []],
    }


def models_section(results: dict[str, Any]) -> dict[str, Any]:
    """GEE rate ratios and mixed-model differences of migraine days by window."""
    longitudinal = results.get("longitudinal") or {}
    gee = longitudinal.get("gee") or {}
    mixed = longitudinal.get("mixed") or {}

    def rows(model: dict[str, Any], column: str) -> list[list[str]]:
        return [
            [_window(results, str(r.get("window")), False), estimate_ci(r.get(column), r.get("ci_low"), r.get("ci_high")), p_value(r.get("p"))]
            for r in model.get("rows") or []
        ]  # fmt: skip

    def about(model: dict[str, Any]) -> str:
        parts = [
            f"{integer(model.get('n_patients'))} clients, {integer(model.get('n_rows'))} client-windows"
        ]
        return "; ".join(parts + [str(n) for n in model.get("notes") or []])

    return {
        "gee": table(["Window vs baseline", "Rate ratio (CI)", "p"], rows(gee, "rate_ratio"), {1, 2}, about(gee)),
        "gee_method": str(gee.get("method") or ""),
        "mixed": table(["Window vs baseline", "Difference in days per 28 (CI)", "p"], rows(mixed, "estimate"), {1, 2}, about(mixed)),
    }  # fmt: skip


def comparison_section(results: dict[str, Any]) -> dict[str, Any] | None:
    """ANCOVA of primary-window migraine days on group, adjusted for baseline; None without groups."""
    comparison = results.get("comparison")
    if not comparison:
        return None
    rows = [
        [str(r.get("group")), estimate_ci(r.get("estimate"), r.get("ci_low"), r.get("ci_high")),
         p_value(r.get("p")), integer(r.get("n_group")), integer(r.get("n_reference"))]
        for r in comparison.get("rows") or []
    ]  # fmt: skip
    heads = ["Group", "Adjusted difference vs reference (CI)", "p", "n group", "n reference"]
    return {
        "reference": str(comparison.get("reference") or ""),
        "window": _window(results, str(comparison.get("window") or "")),
        "table": table(
            heads, rows, {1, 2, 3, 4}, "; ".join(str(n) for n in comparison.get("notes") or [])
        ),
    }


def power_section(results: dict[str, Any]) -> Any:
    """Clients needed for each claim's minimal important change, and the power had."""
    rows = [
        [str(r.get("claim")), outcome_label(str(r.get("outcome"))), number(r.get("minimal_important_change"), 1),
         number(r.get("sd_diff")), number(r.get("dz_mic")), integer(r.get("n_required")), integer(r.get("n")),
         percent(r.get("power_at_n"), 0)]
        for r in results.get("power") or []
    ]  # fmt: skip
    heads = ["Claim", "Outcome", "Minimal important change", "SD of change", "d_z to detect",
             "Clients needed", "Clients analysed", "Power"]  # fmt: skip
    return table(heads, rows, {2, 3, 4, 5, 6, 7})


def methods_section(results: dict[str, Any]) -> dict[str, Any]:
    """Windows and the definitions and tests used, as label/text pairs."""
    methods = _methods(results)
    windows = [
        [window_label(name), f"{b[0]} to {b[1]}"]
        for name, b in (methods.get("windows") or {}).items()
    ]
    labels = {
        "migraine_day": "Migraine day", "headache_day": "Headache day", "proration": "Scaling",
        "change": "Change", "responder": "Responder", "primary_test": "Primary test",
        "sensitivity_tests": "Sensitivity analyses", "effect_size": "Effect size",
        "multiplicity": "Multiplicity", "longitudinal": "Longitudinal models",
        "placebo_source": "Placebo benchmark",
    }  # fmt: skip
    items = [
        (label, str(methods[key]))
        for key, label in labels.items()
        if methods.get(key) not in (None, "")
    ]
    items += [
        ("Primary window", window_label(str(methods.get("primary_window") or MISSING))),
        (
            "Evaluable window",
            f"at least {integer(methods.get('min_recorded_days'))} diary days recorded",
        ),
        ("Significance level", number(methods.get("alpha"), 3)),
        ("Confidence level", percent(methods.get("confidence"), 0)),
    ]
    return {
        "windows": table(["Window", "Days relative to the first session"], windows),
        "items": items,
    }


def limitations_facts(results: dict[str, Any]) -> dict[str, Any]:
    """Numbers the limitations section quotes (analysed, dropout, family size, power)."""
    steps = {s["step"]: s for s in (results.get("participant_flow") or {}).get("steps") or []}
    treated = (steps.get("treated") or {}).get("n")
    dropped = sum((steps.get("primary_evaluable") or {}).get("excluded", {}).values())
    baseline_n = (steps.get("baseline_evaluable") or {}).get("n")
    family = [c for c in results.get("claims") or [] if finite(c.get("p_adjusted"))]
    underpowered = [
        str(r.get("claim")) for r in results.get("power") or []
        if finite(r.get("n_required")) and finite(r.get("n")) and r["n"] < r["n_required"]
    ]  # fmt: skip
    return {
        "treated": integer(treated),
        "analysed": integer((steps.get("analysed") or {}).get("n")),
        "dropped": integer(dropped),
        "dropped_share": percent(dropped / baseline_n, 0)
        if finite(baseline_n) and baseline_n
        else MISSING,
        "family_size": len(family),
        "multiplicity": str(_methods(results).get("multiplicity") or ""),
        "underpowered": underpowered,
        "proxies": [str(c.get("id")) for c in results.get("claims") or [] if c.get("proxy")],
    }


def report_context(
    results: dict[str, Any],
    frames: dict[str, pd.DataFrame],
    config: StudyConfig,
    figures: list[RenderedFigure],
    image_kind: str,
) -> dict[str, Any]:
    """Everything the template needs, as plain text and :class:`~pipeline.report.layout.Table`.

    Parameters
    ----------
    results : dict
        results.json content (``run`` plus the analysis).
    frames : dict of str to pandas.DataFrame
        Report frames (``quarantine`` and ``sessions_summary`` are used here).
    config : StudyConfig
        Fallbacks for values older results may lack (study name, primary window, level).
    figures : list of RenderedFigure
        Rendered figures, embedded as ``data:`` URIs.
    image_kind : {"svg", "png"}
        Image format embedded (SVG for the HTML, PNG for the PDF).
    """
    run = results.get("run") or {}
    study = results.get("study") or {}
    verdicts = verdict_rows(results)
    return {
        "study_name": str(study.get("name") or config.study.name),
        "run": {k: str(run.get(k) or MISSING) for k in ("id", "started_at", "finished_at")},
        "demo": is_demo(results),
        "headline": headline(results, config),
        "clients_analysed": integer(results.get("clients_analysed")),
        "level": _level(results, config),
        "baseline_window": _window(results, "baseline"),
        "verdicts": verdicts,
        "verdict_counts": {
            label: sum(v["verdict"] == key for v in verdicts)
            for key, label in VERDICT_LABELS.items()
        },
        "flow": flow_steps(results),
        "figures": {
            f.name: {
                "title": f.title,
                "caption": f.caption,
                "alt": f.alt,
                "src": f.data_uri(image_kind),
            }
            for f in figures
        },
        "outcomes": outcomes_section(results),
        "responders": responders_section(results),
        "placebo": placebo_section(results),
        "rtm": rtm_section(results),
        "models": models_section(results),
        "comparison": comparison_section(results),
        "power": power_section(results),
        "quality": quality.data_quality_section(results, frames),
        "methods": methods_section(results),
        "provenance": quality.provenance_section(results),
        "limits": limitations_facts(results),
    }
