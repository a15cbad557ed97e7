"""tables.xlsx: the report's tables as unrounded numbers, one sheet per table.

Every text cell and heading passes :func:`pipeline.report.text.neutralise_frame`, so no
cell can start a formula; numbers stay numbers. The per-client sheet is capped at
:data:`MAX_PATIENT_ROWS` rows (whole clients) so writing the workbook takes the same
time whatever the study size; patient_outcomes.csv always holds every row, and the
``about`` sheet says when the cap applied.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import store
from pipeline.report import tables
from pipeline.report.context import is_demo
from pipeline.report.text import neutralise_frame

MAX_PATIENT_ROWS = 20_000
"""Most rows of the ``patient outcomes`` sheet (all rows are in patient_outcomes.csv)."""
MAX_SHEET_ROWS = 50_000
"""Most rows of any other data-dependent sheet (inputs, quarantine summary)."""
MAX_COLUMN_WIDTH = 60


def capped(frame: pd.DataFrame, limit: int, key: str | None = None) -> pd.DataFrame:
    """The first ``limit`` rows of ``frame``; with ``key``, only whole groups of that column."""
    if len(frame) <= limit:
        return frame
    if key is None:
        return frame.head(limit)
    keep = frame[key].iloc[:limit]
    whole = keep.iloc[-1] != frame[key].iloc[limit]
    head = frame.head(limit)
    return head if whole else head[head[key] != keep.iloc[-1]]


def about_sheet(results: dict[str, Any], notes: list[tuple[str, str]]) -> pd.DataFrame:
    """The ``about`` sheet: study, run, demo flag, and notes on each sheet."""
    run = results.get("run") or {}
    rows = [
        ("study", (results.get("study") or {}).get("name")),
        ("run id", run.get("id")),
        ("started at", run.get("started_at")),
        ("finished at", run.get("finished_at")),
        ("code version", run.get("code_version")),
        ("configuration sha256", run.get("config_sha256")),
        ("pseudonym key", run.get("pseudonym_key")),
        (
            "demo data",
            "YES: synthetic data, public demo pseudonym key" if is_demo(results) else "no",
        ),
        ("change", "follow-up - baseline; negative = fewer migraine days, less pain, less stress"),
        *notes,
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def workbook_sheets(
    results: dict[str, Any], frames: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Every sheet of tables.xlsx, in order, as DataFrames of raw values.

    Parameters
    ----------
    results : dict
        results.json content.
    frames : dict of str to pandas.DataFrame
        Report frames (``patient_outcomes``, ``quarantine``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``about``, ``claims``, ``outcomes``, ``patient outcomes``, ``participant flow``,
        ``responders``, ``models``, ``power``, ``comparison`` (only with groups),
        ``data quality``, ``inputs``, ``quarantine summary``.
    """
    patients = tables.patient_outcomes_output(frames["patient_outcomes"])
    patients_shown = capped(patients, MAX_PATIENT_ROWS, "patient_id")
    quarantine = tables.quarantine_summary(frames["quarantine"])
    inputs = tables.inputs_table(results)
    notes = [
        ("sheet patient outcomes", f"{len(patients_shown):,} of {len(patients):,} rows"
         + ("" if len(patients_shown) == len(patients) else "; every row is in patient_outcomes.csv")),
        ("sheet quarantine summary", "quarantined rows per adapter, file, reason and column; "
         "every row is in quarantine.csv"),
    ]  # fmt: skip
    sheets = {
        "about": about_sheet(results, notes),
        "claims": tables.claims_table(results),
        "outcomes": tables.outcomes_table(results),
        "patient outcomes": patients_shown,
        "participant flow": tables.flow_table(results),
        "responders": tables.responders_table(results),
        "models": tables.models_table(results),
        "power": tables.power_table(results),
        "comparison": tables.comparison_table(results),
        "data quality": tables.data_quality_table(results),
        "inputs": capped(inputs, MAX_SHEET_ROWS),
        "quarantine summary": capped(quarantine, MAX_SHEET_ROWS),
    }
    if results.get("comparison") is None:
        del sheets["comparison"]
    return sheets


def _excel_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Values openpyxl can store: nullable types to object, missing values to None."""
    converted = {}
    for name in frame.columns:
        column = frame[name]
        if isinstance(
            column.dtype, pd.BooleanDtype | pd.Int64Dtype
        ) or pd.api.types.is_string_dtype(column.dtype):
            column = column.astype(object).where(column.notna(), None)
        converted[name] = column
    return pd.DataFrame(converted, index=frame.index)


def workbook_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx file of the given sheets (safe text, bold frozen header row)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            safe = _excel_values(neutralise_frame(frame))
            safe.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes = "A2"
            sample = safe.head(200).astype(str)
            for i, column in enumerate(safe.columns, start=1):
                longest = max([len(str(column)), *sample.iloc[:, i - 1].str.len().tolist()])
                letter = sheet.cell(row=1, column=i).column_letter
                sheet.column_dimensions[letter].width = min(MAX_COLUMN_WIDTH, longest + 2)
    return buffer.getvalue()


def write_workbook(path: Path, results: dict[str, Any], frames: dict[str, pd.DataFrame]) -> Path:
    """Write tables.xlsx atomically (see :func:`workbook_sheets` for the sheets)."""
    return store.write_bytes_atomic(Path(path), workbook_bytes(workbook_sheets(results, frames)))
