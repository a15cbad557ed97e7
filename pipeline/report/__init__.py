"""The exported report: results.json, CSV tables, HTML, PDF, Excel and figures.

Public API
----------
write_report(results, frames, config, folder) -> list[Path]
    Everything a run writes into its report folder.
rerender(folder, config) -> list[Path]
    HTML, PDF, Excel and figures again from ``folder/results.json`` and the processed
    tables, without recomputing (the ``outcome-study report`` command).

Modules: ``figures`` / ``plots`` (charts), ``context`` / ``quality`` / ``layout`` /
``fmt`` (what the template shows), ``html`` and ``templates/`` (the page), ``pdf``
(WeasyPrint, offline), ``xlsx`` (workbook), ``tables`` (tidy tables), ``text`` (safe
text for spreadsheets, figures and Markdown), ``summary`` (Markdown for Prefect
artifacts). Every file is written atomically through :mod:`pipeline.store`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import store
from pipeline.config import StudyConfig
from pipeline.errors import InputError
from pipeline.report.context import report_context
from pipeline.report.figures import build_figures, write_figures
from pipeline.report.html import render_html
from pipeline.report.pdf import render_pdf
from pipeline.report.tables import patient_outcomes_output, quarantine_output
from pipeline.report.text import neutralise_frame
from pipeline.report.xlsx import write_workbook

RESULTS_NAME = "results.json"
HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
XLSX_NAME = "tables.xlsx"
PATIENT_OUTCOMES_NAME = "patient_outcomes.csv"
QUARANTINE_NAME = "quarantine.csv"

__all__ = ["rerender", "render_documents", "write_report"]


def render_documents(
    results: dict[str, Any], frames: dict[str, pd.DataFrame], config: StudyConfig, folder: Path
) -> list[Path]:
    """Write report.html, report.pdf, tables.xlsx and ``figures/`` into ``folder``.

    The HTML embeds the figures as SVG, the PDF as PNG (same content otherwise).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    figures = build_figures(results, frames, config)
    html = render_html(report_context(results, frames, config, figures, "svg"))
    printable = render_html(report_context(results, frames, config, figures, "png"))
    written = write_figures(folder, figures)
    written.append(store.write_text_atomic(folder / HTML_NAME, html))
    written.append(store.write_bytes_atomic(folder / PDF_NAME, render_pdf(printable)))
    written.append(write_workbook(folder / XLSX_NAME, results, frames))
    return written


def write_report(
    results: dict[str, Any], frames: dict[str, pd.DataFrame], config: StudyConfig, folder: Path
) -> list[Path]:
    """Write a run's report folder.

    Parameters
    ----------
    results : dict
        ``{"run": {...}, **analysis}``: written unchanged as results.json.
    frames : dict of str to pandas.DataFrame
        ``patient_outcomes``, ``responders``, ``trajectory``, ``sessions_summary``,
        ``quarantine`` (see :mod:`pipeline.outcomes`; quarantine is free of identifiers).
    config : StudyConfig
        The study (fallbacks for the report and the sampling seed).
    folder : Path
        An existing folder.

    Returns
    -------
    list of Path
        results.json, patient_outcomes.csv (contract columns first, ISO dates),
        quarantine.csv, report.html (self-contained), report.pdf, tables.xlsx and
        figures/*.png, figures/*.svg. Text cells of the CSV files and the workbook
        that could start a spreadsheet formula carry a leading apostrophe.
    """
    folder = Path(folder)
    written = [
        store.write_json_atomic(folder / RESULTS_NAME, results),
        store.write_csv_atomic(
            folder / PATIENT_OUTCOMES_NAME,
            neutralise_frame(patient_outcomes_output(frames["patient_outcomes"])),
        ),
        store.write_csv_atomic(
            folder / QUARANTINE_NAME, neutralise_frame(quarantine_output(frames["quarantine"]))
        ),
    ]
    return written + render_documents(results, frames, config, folder)


def _read_results(folder: Path) -> dict[str, Any]:
    path = Path(folder) / RESULTS_NAME
    try:
        results = store.read_json(path)
    except FileNotFoundError:
        raise InputError(
            path, "no results.json here: run the study first (outcome-study run)"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(path, f"results.json cannot be read ({type(exc).__name__})") from None
    if (
        not isinstance(results, dict)
        or not isinstance(results.get("run"), dict)
        or "claims" not in results
    ):
        raise InputError(path, "this is not the results.json of an outcome-study run")
    return results


def _read_frames(
    results: dict[str, Any], config: StudyConfig, source: Path
) -> dict[str, pd.DataFrame]:
    from pipeline.stages import ANALYSIS_NAME, report_frames

    processed = config.processed_dir
    try:
        frames = report_frames(processed)
        analysis = store.read_json(processed / ANALYSIS_NAME)
    except (OSError, ValueError) as exc:
        raise InputError(
            processed,
            f"the processed tables cannot be read ({type(exc).__name__}): run the study first",
        ) from None
    if any(results.get(key) != value for key, value in analysis.items()):
        raise InputError(
            source,
            f"results.json belongs to a different run than the processed tables in {processed}; "
            "re-render the latest run or run the study again",
        )
    return frames


def rerender(folder: Path, config: StudyConfig) -> list[Path]:
    """Re-render report.html, report.pdf, tables.xlsx and figures without recomputing.

    Parameters
    ----------
    folder : Path
        A run's report folder holding results.json (e.g. ``<reports>/latest``).
    config : StudyConfig
        The study; its processed folder supplies the per-client tables, which must
        come from the same run as results.json.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    InputError
        results.json is missing, unreadable or not a run's results; the processed
        tables are missing or belong to another run.
    """
    folder = Path(folder)
    results = _read_results(folder)
    frames = _read_frames(results, config, folder / RESULTS_NAME)
    return render_documents(results, frames, config, folder)
