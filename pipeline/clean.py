"""Validate, quarantine, de-duplicate: every raw row is accounted for.

For one file, :func:`clean_table` parses the rows with the adapter, validates the typed
rows lazily against the adapter's pandera model (every failure collected in one pass),
and splits them into accepted canonical rows and quarantined rows. A row with any
problem is quarantined whole; the pipeline never patches a value.

Across files of one adapter, :func:`drop_duplicates` removes rows identical in every
column (the same record in two overlapping exports), keeping the first by file path and
row, and :func:`accounting` checks, per file and in total::

    rows_read = rows_accepted + rows_quarantined + duplicates_removed
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline.config import SourceSection, StudyConfig
from pipeline.errors import InputError
from pipeline.int_keys import duplicated_keys
from pipeline.privacy import PseudonymKey, keyed_hash, row_keys
from pipeline.sources.base import AdapterSpec, Problems, RowBatch
from pipeline.sources.io import RawTable, text_frame

QUARANTINE_COLUMNS = (
    "source_file", "source_row", "adapter", "reason", "column", "message", "values", "row_key",
)  # fmt: skip


@dataclass(frozen=True)
class CleanedFile:
    """One file after validation (before cross-file de-duplication).

    Attributes
    ----------
    accepted : pandas.DataFrame
        Canonical rows with provenance (``source_file``, ``source_row``, ``row_key``).
    quarantine : pandas.DataFrame
        Rejected rows, columns :data:`QUARANTINE_COLUMNS`.
    rows_read : int
    """

    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int


@functools.cache
def _empty_quarantine() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in QUARANTINE_COLUMNS})
    return frame.astype({"source_row": "int64", "row_key": "int64"})


def empty_quarantine() -> pd.DataFrame:
    """A quarantine table with no rows and the right columns."""
    return _empty_quarantine().copy()


_RANGE_CHECK = re.compile(
    r"(greater_than_or_equal_to|less_than_or_equal_to|greater_than|less_than)\((.+)\)"
)
_RANGE_WORDS = {
    "greater_than_or_equal_to": "below the minimum",
    "greater_than": "not above",
    "less_than_or_equal_to": "above the maximum",
    "less_than": "not below",
}


def _schema_problems(
    typed: pd.DataFrame, model: type[pa.DataFrameModel], problems: Problems
) -> None:
    """Validate lazily; record each cell that fails a check as a problem."""
    try:
        model.validate(typed, lazy=True)
        return
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    column_level = cases[cases["index"].isna()]
    if len(column_level):
        first = column_level.iloc[0]
        raise RuntimeError(
            f"internal error: canonical column {first['column']!r} fails {first['check']!r}"
        )
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        mask = np.zeros(len(typed), dtype=bool)
        mask[typed.index.get_indexer(group["index"].astype("int64"))] = True
        match = _RANGE_CHECK.fullmatch(str(check))
        if match:
            words = f" is {_RANGE_WORDS[match.group(1)]} {match.group(2)}"
            values = (
                pd.to_numeric(group["failure_case"], errors="coerce").map("{:g}".format).to_numpy()
            )
            order = np.argsort(
                typed.index.get_indexer(group["index"].astype("int64")), kind="stable"
            )
            messages = values[order] + words
            problems.add(mask, str(column), "out_of_range", lambda _, shown=messages: shown)
        elif str(check) == "not_nullable":
            problems.add(mask, str(column), "missing_required", "required value is empty")
        else:
            problems.add(mask, str(column), "invalid_value", f"fails the check {check}")


def _quarantine_values(
    batch: RowBatch, spec: AdapterSpec, typed: pd.DataFrame, positions: np.ndarray
) -> np.ndarray:
    """For the rows at ``positions``: JSON of the values a quarantine entry may show.

    Values are redacted (:func:`pipeline.privacy.safe_preview`), the client id is the
    pseudonym, and identifiers and free text are left out.
    """
    if not len(positions):
        return np.array([], dtype=object)
    shown = {
        column: batch.preview(column, positions).to_numpy()
        for column in spec.shown_in_quarantine
        if batch.has(column) and column not in ("patient_id", "client_id")
    }
    frame = pd.DataFrame(
        {"patient_id": typed["patient_id"].iloc[positions].fillna("").to_numpy(), **shown}
    )
    lines = frame.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    return np.asarray(lines, dtype=object)


def clean_tables(
    tables: list[tuple[RawTable, str]],
    spec: AdapterSpec,
    source: SourceSection,
    config: StudyConfig,
    key: PseudonymKey,
) -> CleanedFile:
    """Parse, validate and split the rows of one or more files into accepted and quarantined.

    Files of one source with the same columns are cleaned together (one vectorised pass
    over all their rows); every row keeps its own file and row number.

    Parameters
    ----------
    tables : list of (RawTable, str)
        Each file as text (from :func:`pipeline.sources.io.read_export`) and its display
        path relative to the raw folder (``source_file``). All must have the same columns.
    spec : AdapterSpec
        The adapter reading them.
    source : SourceSection
        Their ``[[sources]]`` settings (date formats, pain scale, ...).
    config : StudyConfig
    key : PseudonymKey
        Pseudonymises ids and keys the row hashes.

    Returns
    -------
    CleanedFile
        Accepted and quarantined rows of all the files; ``rows_read`` in total.

    Raises
    ------
    InputError
        A required column is missing from a file's header (the message names file and
        column), or no value of a date column of a file fits the configured format.
    """
    for table, display in tables:
        missing = spec.missing_columns(table.columns)
        if missing:
            raise InputError(
                display, "required column is missing from the header", column=missing[0]
            )
    counts = [len(table.source_row) for table, _ in tables]
    files = np.repeat(np.array([display for _, display in tables], dtype=object), counts)
    rows = [table.source_row for table, _ in tables]
    raw = text_frame([table for table, _ in tables])
    if spec.id_from_file_name and "patient_id" not in raw.columns:
        # the client id is the file name: part of every record's identity
        stems = np.array([table.stem for table, _ in tables], dtype=object)
        raw = raw.assign(patient_id=pd.array(np.repeat(stems, counts), dtype="str"))
    keys = row_keys(raw, key)
    batch = spec.batch(raw, source, config, key, files)
    typed = spec.normalise(batch)
    provenance = pd.DataFrame(
        {"source_file": files, "source_row": np.concatenate(rows), "row_key": keys},
        index=raw.index,
    ).astype({"source_file": "str", "source_row": "int64"})
    checked = pd.concat([typed, provenance], axis=1)
    _schema_problems(checked, spec.model, batch.problems)

    problems = batch.problems.frame()
    bad = np.zeros(len(raw), dtype=bool)
    bad[problems["pos"].to_numpy(dtype=np.int64)] = True
    accepted = checked[~bad].reset_index(drop=True)

    quarantine = _quarantine_rows(
        problems, provenance, spec, lambda at: _quarantine_values(batch, spec, typed, at)
    )
    malformed = [
        _malformed_rows(table, spec, display, key)
        for table, display in tables
        if not table.malformed.empty
    ]
    quarantine = pd.concat([quarantine, *malformed], ignore_index=True).sort_values(
        ["source_file", "source_row"], kind="stable", ignore_index=True
    )
    return CleanedFile(
        accepted=accepted,
        quarantine=quarantine,
        rows_read=sum(table.rows_read for table, _ in tables),
    )


def clean_table(
    table: RawTable, spec: AdapterSpec, source: SourceSection, config: StudyConfig,
    key: PseudonymKey, display: str,
) -> CleanedFile:  # fmt: skip
    """:func:`clean_tables` for a single file."""
    return clean_tables([(table, display)], spec, source, config, key)


def _quarantine_rows(
    problems: pd.DataFrame,
    provenance: pd.DataFrame,
    spec: AdapterSpec,
    values: Callable[[np.ndarray], np.ndarray],
) -> pd.DataFrame:
    """One quarantine entry per bad row; its reason is the problem in the leftmost column."""
    if problems.empty:
        return empty_quarantine()
    rank = {column: i for i, column in enumerate(spec.known)}
    ordered = problems.assign(rank=problems["column"].map(rank).fillna(len(rank)))
    ordered = ordered.sort_values(["pos", "rank"], kind="stable")
    per_row = ordered.groupby("pos", sort=True).agg(
        reason=("reason", "first"), column=("column", "first"), message=("message", "; ".join)
    )
    positions = per_row.index.to_numpy(dtype=np.int64)
    out = pd.DataFrame(
        {
            "source_file": provenance["source_file"].to_numpy()[positions],
            "source_row": provenance["source_row"].to_numpy()[positions],
            "adapter": spec.name,
            "reason": per_row["reason"].to_numpy(),
            "column": per_row["column"].to_numpy(),
            "message": per_row["message"].to_numpy(),
            "values": values(positions),
            "row_key": provenance["row_key"].to_numpy()[positions],
        }
    )
    return out.astype(
        {c: "str" for c in ("source_file", "adapter", "reason", "column", "message", "values")}
    )


def _malformed_rows(
    table: RawTable, spec: AdapterSpec, display: str, key: PseudonymKey
) -> pd.DataFrame:
    malformed = table.malformed
    if malformed.empty:
        return empty_quarantine()
    width = len(table.columns)
    rows = malformed["source_row"].astype("int64")
    # A malformed record cannot be compared field by field: key it by its position.
    position_keys = keyed_hash(display + "#" + rows.astype("str"), key, "malformed")
    return pd.DataFrame(
        {
            "source_file": display,
            "source_row": rows.to_numpy(),
            "adapter": spec.name,
            "reason": "malformed_row",
            "column": "",
            "message": "row has "
            + malformed["fields"].astype("str")
            + f" fields, the header has {width}",
            "values": "{}",
            "row_key": position_keys.map(lambda h: int(h[:15], 16)).astype("int64").to_numpy(),
        }
    ).astype(
        {c: "str" for c in ("source_file", "adapter", "reason", "column", "message", "values")}
    )


def drop_duplicates(frames: list[pd.DataFrame]) -> tuple[list[pd.DataFrame], pd.Series]:
    """Remove rows identical in every column across files of one adapter.

    Parameters
    ----------
    frames : list of pandas.DataFrame
        Accepted or quarantined rows (each with ``source_file``, ``source_row``,
        ``row_key``), all of the same adapter.

    Returns
    -------
    kept : list of pandas.DataFrame
        The frames without duplicates; the first occurrence (by source_file, then
        source_row) is kept, wherever it sits.
    removed : pandas.Series
        Number of rows removed per ``source_file``.
    """
    sizes = np.array([len(f) for f in frames], dtype=np.int64)
    if not sizes.sum():
        return frames, pd.Series(dtype="int64")
    files = pd.concat([f["source_file"].astype("str") for f in frames], ignore_index=True)
    rows = np.concatenate([f["source_row"].to_numpy(dtype=np.int64) for f in frames])
    keys = np.concatenate([f["row_key"].to_numpy(dtype=np.int64) for f in frames])
    file_codes, file_names = pd.factorize(files, sort=True)
    # first occurrence by file path, then row: one stable sort of one integer
    order = np.argsort((file_codes.astype(np.int64) << 32) | rows, kind="stable")
    duplicate = np.empty(len(keys), dtype=bool)
    duplicate[order] = duplicated_keys(keys[order], keep="first")
    removed = pd.Series(
        np.bincount(file_codes[duplicate], minlength=len(file_names)),
        index=pd.Index(file_names, name="source_file"),
    )
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    kept = [
        frame if not duplicate[a:b].any() else frame[~duplicate[a:b]].reset_index(drop=True)
        for frame, a, b in zip(frames, bounds[:-1], bounds[1:], strict=True)
    ]
    return kept, removed[removed > 0].astype("int64")


def accounting(
    rows_read: pd.Series, accepted: pd.Series, quarantined: pd.Series, duplicates: pd.Series
) -> pd.DataFrame:
    """Per-file row accounting; raises if any row is unaccounted for.

    Parameters
    ----------
    rows_read, accepted, quarantined, duplicates : pandas.Series
        Counts indexed by ``source_file`` (missing files count 0).

    Returns
    -------
    pandas.DataFrame
        Index ``source_file``; columns ``rows_read, rows_accepted, rows_quarantined,
        duplicates_removed``.
    """
    table = (
        pd.DataFrame(
            {
                "rows_read": rows_read,
                "rows_accepted": accepted,
                "rows_quarantined": quarantined,
                "duplicates_removed": duplicates,
            }
        )
        .fillna(0)
        .astype("int64")
    )
    balance = table["rows_read"] - table[
        ["rows_accepted", "rows_quarantined", "duplicates_removed"]
    ].sum(axis=1)
    if balance.ne(0).any():
        broken = balance[balance.ne(0)].index[0]
        raise RuntimeError(f"internal error: row accounting does not balance for {broken}")
    return table
