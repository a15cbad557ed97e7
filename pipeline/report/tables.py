"""The report's tables as tidy DataFrames of raw numbers (tables.xlsx, HTML, CSV).

Pure functions of ``results`` (the dict written to results.json) or of the report
frames. Formatting for reading happens in :mod:`pipeline.report.context`; the workbook
gets these numbers unrounded. Changes are follow-up - baseline (negative = fewer
migraine days, less pain, less stress; for sleep quality, positive = better).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.claims import outcome_label
from pipeline.outcomes import patient_outcomes_for_output

CLAIM_COLUMNS = (
    "id", "claim", "outcome", "outcome_used", "proxy", "window", "direction", "test",
    "estimate_measure", "n", "estimate", "ci_low", "ci_high", "p", "p_adjusted", "dz",
    "dz_ci_low", "dz_ci_high", "minimal_important_change", "placebo_benchmark", "verdict",
    "reason",
)  # fmt: skip
QUARANTINE_COLUMNS = (
    "source_file",
    "source_row",
    "adapter",
    "reason",
    "column",
    "message",
    "values",
)
QUARANTINE_SUMMARY_COLUMNS = (
    "adapter", "source_file", "reason", "column", "rows", "first_source_row", "example_message",
)  # fmt: skip


def is_adverse(claim: dict[str, Any]) -> bool:
    """Whether a claim entry is the side-effect claim (judged on reactions, not a change)."""
    return claim.get("test") == "adverse_events"


def estimate_measure(claim: dict[str, Any]) -> str:
    """What a claim's estimate measures, in words (units included)."""
    if is_adverse(claim):
        return "share of reactions (known resolution time) that resolved within the limit"
    return f"mean change in {outcome_label(str(claim.get('outcome_used') or claim['outcome']))}"


def claim_row(claim: dict[str, Any]) -> dict[str, Any]:
    """One claim as a flat row of :data:`CLAIM_COLUMNS` (raw numbers).

    For the side-effect claim the estimate is the share of reactions with a known
    resolution time that resolved within the claim's limit, with its Wilson interval.
    """
    row = {column: claim.get(column) for column in CLAIM_COLUMNS}
    row["estimate_measure"] = estimate_measure(claim)
    row["placebo_benchmark"] = claim.get("benchmark")
    row["proxy"] = bool(claim.get("proxy"))
    if is_adverse(claim):
        share = claim.get("resolved_share") or {}
        row.update(
            estimate=share.get("proportion"),
            ci_low=share.get("wilson_low"),
            ci_high=share.get("wilson_high"),
        )
    return row


def claims_table(results: dict[str, Any]) -> pd.DataFrame:
    """One row per claim, in claims.toml order (:data:`CLAIM_COLUMNS`)."""
    rows = [claim_row(c) for c in results.get("claims") or []]
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def outcomes_table(results: dict[str, Any]) -> pd.DataFrame:
    """The paired battery: one row per outcome x follow-up window (notes joined by ``;``)."""
    rows = [
        {
            **{k: v for k, v in entry.items() if k != "notes"},
            "notes": "; ".join(entry.get("notes") or []),
        }
        for entry in results.get("outcomes") or []
    ]
    return pd.DataFrame(rows)


def flow_table(results: dict[str, Any]) -> pd.DataFrame:
    """Participant flow, long format: a row per step, then a row per exclusion reason.

    Columns ``step``, ``label``, ``n`` (clients remaining after the step), ``reason``
    and ``excluded`` (clients excluded at the step for that reason).
    """
    rows = []
    for step in (results.get("participant_flow") or {}).get("steps") or []:
        rows.append(
            {
                "step": step["step"],
                "label": step["label"],
                "n": step["n"],
                "reason": None,
                "excluded": None,
            }
        )
        rows += [
            {"step": step["step"], "label": None, "n": None, "reason": reason, "excluded": count}
            for reason, count in (step.get("excluded") or {}).items()
        ]
    return pd.DataFrame(rows, columns=["step", "label", "n", "reason", "excluded"])


def responders_table(results: dict[str, Any]) -> pd.DataFrame:
    """Responder rates per follow-up window and threshold (% reduction), with intervals."""
    return pd.DataFrame(results.get("responders") or [])


def models_table(results: dict[str, Any]) -> pd.DataFrame:
    """Longitudinal models of migraine days, each follow-up window vs baseline.

    Rows from the Poisson GEE (``estimate`` = rate ratio, 1 = no change, below 1 =
    fewer migraine days) and the random-intercept model (``estimate`` = difference in
    migraine days per 28 days, negative = fewer).
    """
    longitudinal = results.get("longitudinal") or {}
    measures = {
        "gee": ("Poisson GEE", "rate ratio vs baseline", "rate_ratio"),
        "mixed": (
            "random-intercept mixed model",
            "difference in days per 28 vs baseline",
            "estimate",
        ),
    }
    rows = []
    for key, (model, measure, column) in measures.items():
        for row in (longitudinal.get(key) or {}).get("rows") or []:
            rows.append(
                {
                    "model": model,
                    "measure": measure,
                    "window": row.get("window"),
                    "estimate": row.get(column),
                    "ci_low": row.get("ci_low"),
                    "ci_high": row.get("ci_high"),
                    "p": row.get("p"),
                    "se": row.get("se"),
                }
            )
    return pd.DataFrame(
        rows, columns=["model", "measure", "window", "estimate", "ci_low", "ci_high", "p", "se"]
    )


def power_table(results: dict[str, Any]) -> pd.DataFrame:
    """Clients needed to detect each claim's minimal important change, and the power had."""
    rows = [{k: v for k, v in r.items() if k != "notes"} for r in results.get("power") or []]
    return pd.DataFrame(rows)


def comparison_table(results: dict[str, Any]) -> pd.DataFrame:
    """ANCOVA rows (adjusted difference vs the reference group); empty without groups."""
    comparison = results.get("comparison") or {}
    return pd.DataFrame(comparison.get("rows") or [])


def inputs_table(results: dict[str, Any]) -> pd.DataFrame:
    """One row per input file of the run: adapter, row counts, sha256."""
    columns = [
        "path", "adapter", "encoding", "separator", "reused", "rows_read", "rows_accepted",
        "rows_quarantined", "duplicates_removed", "sha256",
    ]  # fmt: skip
    inputs = (results.get("run") or {}).get("inputs") or []
    frame = pd.DataFrame(inputs)
    return frame.reindex(columns=[c for c in columns if c in frame.columns] or columns)


def inputs_by_adapter(inputs: pd.DataFrame) -> pd.DataFrame:
    """Input files and row counts summed per adapter (the inputs table aggregated)."""
    counts = ["rows_read", "rows_accepted", "rows_quarantined", "duplicates_removed"]
    if inputs.empty:
        return pd.DataFrame(columns=["adapter", "files", *counts])
    grouped = inputs.groupby("adapter", sort=True)
    summary = grouped[[c for c in counts if c in inputs.columns]].sum()
    summary.insert(0, "files", grouped.size())
    return summary.reset_index()


def data_quality_table(results: dict[str, Any]) -> pd.DataFrame:
    """Data-quality counts as ``section, item, value`` rows (totals, reasons, linkage, ...)."""
    quality = results.get("data_quality") or {}
    rows = [
        ("rows", key, quality.get(key))
        for key in ("rows_read", "rows_accepted", "rows_quarantined", "duplicates_removed")
    ]
    for section, key in (
        ("quarantined by reason", "by_reason"),
        ("linkage", "linkage"),
        ("diary", "diary"),
    ):
        rows += [(section, item, value) for item, value in (quality.get(key) or {}).items()]
    rows += [("adverse events", k, v) for k, v in (results.get("adverse_events") or {}).items()]
    rows += [
        ("sources without files", str(s), None) for s in quality.get("sources_without_files") or []
    ]
    return pd.DataFrame(rows, columns=["section", "item", "value"])


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows counted per adapter, file, reason and column.

    Parameters
    ----------
    quarantine : pandas.DataFrame
        The quarantine table (``source_file, source_row, adapter, reason, column,
        message, values``), free of direct identifiers.

    Returns
    -------
    pandas.DataFrame
        :data:`QUARANTINE_SUMMARY_COLUMNS`, most rows first: ``rows`` quarantined,
        ``first_source_row`` (1-based data row) and the first row's message as example.
    """
    if quarantine.empty:
        return pd.DataFrame(columns=list(QUARANTINE_SUMMARY_COLUMNS))
    keys = ["adapter", "source_file", "reason", "column"]
    ordered = quarantine.sort_values(["source_file", "source_row"], kind="stable")
    summary = (
        ordered.groupby(keys, dropna=False, sort=True)
        .agg(
            rows=("source_row", "size"),
            first_source_row=("source_row", "min"),
            example_message=("message", "first"),
        )
        .reset_index()
        .sort_values(
            ["rows", "adapter", "source_file"], ascending=[False, True, True], kind="stable"
        )
    )
    return summary[list(QUARANTINE_SUMMARY_COLUMNS)].reset_index(drop=True)


def patient_outcomes_output(patient_outcomes: pd.DataFrame) -> pd.DataFrame:
    """patient_outcomes.csv: the contract's columns first, dates as ISO ``YYYY-MM-DD``."""
    frame = patient_outcomes_for_output(patient_outcomes)
    dates = {
        name: frame[name].dt.strftime("%Y-%m-%d")
        for name in frame.columns
        if pd.api.types.is_datetime64_any_dtype(frame[name])
    }
    return frame.assign(**dates)


def quarantine_output(quarantine: pd.DataFrame) -> pd.DataFrame:
    """quarantine.csv: the contract's columns first, then any others."""
    first = [c for c in QUARANTINE_COLUMNS if c in quarantine.columns]
    return quarantine[first + [c for c in quarantine.columns if c not in first]]
