"""Data-quality and provenance sections of the report (formatted for the template).

Counts come from ``results`` (``data_quality``, ``run.inputs``, ``adverse_events``) and
from the report frames (``quarantine``, ``sessions_summary``). Tables that grow with
the number of input files or quarantine groups are aggregated or cut (see
:mod:`pipeline.report.layout`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
from typing import Any

import numpy as np
import pandas as pd

from pipeline.report import tables
from pipeline.report.fmt import MISSING, finite, integer, number
from pipeline.report.layout import MAX_HTML_ROWS, Table, limited, table

SOFTWARE = (
    "numpy", "pandas", "scipy", "statsmodels", "pandera", "prefect", "matplotlib",
    "weasyprint", "jinja2", "openpyxl", "pyarrow", "pydantic",
)  # fmt: skip
ROW_COUNTS = ("rows_read", "rows_accepted", "rows_quarantined", "duplicates_removed")
ROW_LABELS = ("Rows read", "Accepted", "Quarantined", "Duplicates removed")


def _words(key: str) -> str:
    return str(key).replace("_", " ")


def software_versions() -> list[tuple[str, str]]:
    """Python and the versions of the main packages installed at render time."""
    versions = [("python", platform.python_version())]
    for name in SOFTWARE:
        try:
            versions.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            versions.append((name, "not installed"))
    return versions


def inputs_digest(inputs: pd.DataFrame) -> str:
    """sha256 over the sorted ``path:sha256`` lines of every input file (one fingerprint)."""
    if inputs.empty or "sha256" not in inputs:
        return MISSING
    lines = sorted(inputs["path"].astype(str) + ":" + inputs["sha256"].astype(str))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _cell(value: Any) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return integer(value) if finite(value) else ""
    return "" if value is None else str(value)


def _count_cells(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[list[str]]:
    cells = frame.reindex(columns=list(columns))
    return [[_cell(v) for v in row] for row in cells.itertuples(index=False)]


def inputs_section(results: dict[str, Any]) -> dict[str, Any]:
    """Row counts per input file (or per adapter when there are many files)."""
    inputs = tables.inputs_table(results)
    heads = ["Input file", "Adapter", *ROW_LABELS]
    if len(inputs) <= MAX_HTML_ROWS:
        rows = _count_cells(inputs, ("path", "adapter", *ROW_COUNTS))
        return {"inputs": table(heads, rows, {2, 3, 4, 5}), "by_adapter": None}
    by_adapter = tables.inputs_by_adapter(inputs)
    rows = _count_cells(by_adapter, ("adapter", "files", *ROW_COUNTS))
    worst = inputs.sort_values(["rows_quarantined", "path"], ascending=[False, True], kind="stable")
    worst = worst[worst["rows_quarantined"] > 0].head(10)
    note = (
        f"{len(inputs):,} input files, summed per adapter; every file is listed in tables.xlsx "
        "(sheet inputs) and results.json."
    )
    return {
        "by_adapter": table(["Adapter", "Files", *ROW_LABELS], rows, {1, 2, 3, 4, 5}, note),
        "inputs": table(
            heads, _count_cells(worst, ("path", "adapter", *ROW_COUNTS)), {2, 3, 4, 5},
            "The input files with the most quarantined rows." if len(worst) else "",
        ),
    }  # fmt: skip


def quarantine_section(quarantine: pd.DataFrame) -> Table:
    """Quarantined rows grouped by adapter, file, reason and column, most first."""
    summary, note = limited(
        tables.quarantine_summary(quarantine), "groups", "tables.xlsx (sheet quarantine summary)"
    )
    rows = [
        [str(r.adapter), str(r.source_file), _words(r.reason), "" if pd.isna(r.column) else str(r.column),
         integer(r.rows), integer(r.first_source_row), "" if pd.isna(r.example_message) else str(r.example_message)]
        for r in summary.itertuples(index=False)
    ]  # fmt: skip
    heads = ["Adapter", "File", "Reason", "Column", "Rows", "First row", "Example"]
    return table(heads, rows, {4, 5}, note)


def sessions_section(sessions_summary: pd.DataFrame) -> Table:
    """Therapy sessions booked and attended, summed and per client (median, IQR)."""
    if sessions_summary is None or sessions_summary.empty:
        return table(["Measure", "Value"], [])
    attended = sessions_summary["sessions_attended"]
    treated = attended[attended > 0]
    q1, median, q3 = treated.quantile([0.25, 0.5, 0.75]).tolist() if len(treated) else [None] * 3
    interval = sessions_summary["median_interval_days"].median()
    rows = [
        ["Clients in the session exports", integer(len(sessions_summary))],
        ["Therapy sessions booked", integer(sessions_summary["sessions_booked"].sum())],
        ["Therapy sessions attended", integer(attended.sum())],
        ["Therapy bookings cancelled, missed or rescheduled", integer(sessions_summary["sessions_not_attended"].sum())],
        ["Clients with at least one attended session", integer(len(treated))],
        ["Sessions attended per client: median (IQR)", f"{number(median, 1)} ({number(q1, 1)} to {number(q3, 1)})"],
        ["Median days between sessions (median over clients)", number(interval, 1)],
        ["Sessions followed by a reaction", integer(sessions_summary["adverse_events"].sum())],
    ]  # fmt: skip
    return table(["Measure", "Value"], rows, {1})


def _pairs(mapping: dict[str, Any] | None) -> list[list[str]]:
    return [[_words(k), _cell(v)] for k, v in (mapping or {}).items()]


def data_quality_section(
    results: dict[str, Any], frames: dict[str, pd.DataFrame]
) -> dict[str, Any]:
    """Everything the data-quality section shows.

    Returns
    -------
    dict
        ``totals`` (Table), ``balanced`` (rows read = accepted + quarantined +
        duplicates), ``inputs`` / ``by_adapter`` (Tables), ``by_reason``,
        ``adapters``, ``quarantine``, ``linkage``, ``diary``, ``sessions``,
        ``adverse`` (Tables) and ``sources_without_files`` (list of str).
    """
    quality = results.get("data_quality") or {}
    totals = [quality.get(k) for k in ROW_COUNTS]
    balanced = all(isinstance(v, int) for v in totals) and totals[0] == sum(totals[1:])
    adapters = [
        [str(name), *(integer(counts.get(k)) for k in ROW_COUNTS)]
        for name, counts in (quality.get("by_adapter") or {}).items()
    ]
    adverse = results.get("adverse_events") or {}
    hours = adverse.get("max_hours")
    adverse_rows = [
        ["Attended therapy sessions", integer(adverse.get("sessions"))],
        ["Sessions with the reaction field filled in", integer(adverse.get("sessions_reaction_recorded"))],
        ["Sessions followed by a reaction", integer(adverse.get("sessions_with_reaction"))],
        ["Reactions with a known resolution time", integer(adverse.get("reactions_with_known_resolution"))],
        [f"Reactions resolved within {number(hours, 0)} h", integer(adverse.get("reactions_resolved_within"))],
    ]  # fmt: skip
    return {
        "totals": table(list(ROW_LABELS), [[integer(v) for v in totals]], {0, 1, 2, 3}),
        "balanced": balanced,
        **inputs_section(results),
        "adapters": table(["Adapter", *ROW_LABELS], adapters, {1, 2, 3, 4}),
        "by_reason": table(["Reason", "Rows"], _pairs(quality.get("by_reason")), {1}),
        "quarantine": quarantine_section(frames.get("quarantine", pd.DataFrame())),
        "linkage": table(["Linkage", "Clients"], _pairs(quality.get("linkage")), {1}),
        "diary": table(["Diary", "Count"], _pairs(quality.get("diary")), {1}),
        "sessions": sessions_section(frames.get("sessions_summary")),
        "adverse": table(
            ["Reactions after sessions", "Count"], adverse_rows if adverse else [], {1}
        ),
        "sources_without_files": [str(s) for s in quality.get("sources_without_files") or []],
    }


def provenance_section(results: dict[str, Any]) -> dict[str, Any]:
    """Run identity, configuration and code fingerprints, input hashes, software versions."""
    run = results.get("run") or {}
    inputs = tables.inputs_table(results)
    shown, note = limited(inputs, "input files", "tables.xlsx (sheet inputs) and results.json")
    hashes = [
        [str(r.path), str(r.sha256)]
        for r in shown.reindex(columns=["path", "sha256"]).itertuples(index=False)
    ]
    return {
        "run_id": str(run.get("id") or MISSING),
        "code_version": str(run.get("code_version") or MISSING),
        "config_sha256": str(run.get("config_sha256") or MISSING),
        "pseudonym_key": str(run.get("pseudonym_key") or MISSING),
        "inputs_digest": inputs_digest(inputs),
        "hashes": table(["Input file", "sha256"], hashes, note=note),
        "software": table(["Package", "Version"], [[n, v] for n, v in software_versions()]),
    }
