"""What every source adapter shares: its declaration and the per-file parsing context.

An adapter declares its columns (required, optional; which are direct identifiers or
free text that must never be written out) and a ``normalise`` function that turns the
raw text of one file into the canonical typed columns. While parsing it records every
problem through :class:`RowBatch`, which turns parse failures into quarantine reasons
with readable, redacted messages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipeline import fields
from pipeline.config import SourceSection, StudyConfig
from pipeline.errors import InputError
from pipeline.privacy import PseudonymKey, pseudonymise, safe_preview

#: Quarantine reason codes and what they mean (documented in docs/DATA_QUALITY.md).
REASONS = {
    "missing_required": "a required value is empty",
    "bad_date": "a date does not match the configured format or does not exist",
    "bad_datetime": "a date-time does not match the configured format",
    "bad_number": "a number cannot be read",
    "bad_time": "a clock time is not HH:MM",
    "bad_duration": "a duration is not like '06h 00m', '45m' or 'Ongoing'",
    "bad_id": "a client id is longer than 64 characters",
    "out_of_range": "a number lies outside its allowed range",
    "unknown_vocabulary": "a yes/no word is not in the study's vocabulary",
    "unknown_status": "an appointment status is not in the study's vocabulary",
    "unknown_instrument": "a questionnaire instrument is not configured",
    "unknown_group": "a comparison-group label is not configured",
    "inverted_range": "an end date lies before its start date",
    "no_link_field": "a linkage row has no client id, email, phone or name",
    "malformed_row": "the row has more fields than the header",
    "invalid_value": "a value fails a schema check",
}

MAX_ID_LENGTH = 64
Detail = Callable[[np.ndarray], "np.ndarray | pd.Series"]
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%d/%m/%y")
DATETIME_FORMATS = tuple(f"{d} %H:%M" for d in DATE_FORMATS) + (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)


class Problems:
    """Collects per-row problems as (row position, column, reason, message)."""

    def __init__(self, n_rows: int):
        self.n_rows = n_rows
        self._parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, column: str, reason: str, detail: str | Detail) -> None:
        """Record ``reason`` for the rows where ``mask`` is True.

        Parameters
        ----------
        mask : numpy.ndarray of bool
            Rows with the problem (positions in the file's frame).
        column : str
            Canonical column concerned.
        reason : str
            A key of :data:`REASONS`.
        detail : str or callable
            Readable explanation: one text for every row, or a function of the row
            positions returning one text per position (computed only for bad rows).
        """
        if reason not in REASONS:
            raise ValueError(f"unknown quarantine reason {reason!r}")
        positions = np.flatnonzero(mask)
        if not len(positions):
            return
        if callable(detail):
            text = np.asarray(detail(positions), dtype=object)
        else:
            text = np.full(len(positions), detail, dtype=object)
        self._parts.append(
            pd.DataFrame(
                {
                    "pos": positions,
                    "column": column,
                    "reason": reason,
                    "message": pd.Series(text, dtype="str").radd(f"{column}: ").to_numpy(),
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        """All problems, first problem per (row, column) only, in the order recorded."""
        if not self._parts:
            return pd.DataFrame(
                {"pos": pd.Series([], dtype="int64"), "column": [], "reason": [], "message": []}
            )
        out = pd.concat(self._parts, ignore_index=True)
        return out.drop_duplicates(["pos", "column"], keep="first")


@dataclass
class RowBatch:
    """The rows of one file, with helpers that parse a column and record its problems.

    Attributes
    ----------
    raw : pandas.DataFrame
        Known columns of the file as text (absent optional columns are not there).
    source : SourceSection
    config : StudyConfig
    key : PseudonymKey
    files : numpy.ndarray of str
        Each row's file (display path), for messages about a whole file.
    problems : Problems
    """

    raw: pd.DataFrame
    source: SourceSection
    config: StudyConfig
    key: PseudonymKey
    files: np.ndarray
    problems: Problems = field(init=False)

    def __post_init__(self) -> None:
        self.problems = Problems(len(self.raw))

    # -- access ---------------------------------------------------------------------
    def has(self, column: str) -> bool:
        return column in self.raw.columns

    def text(self, column: str) -> pd.Series:
        """Raw text of a column ("" for every row when the column is absent)."""
        if self.has(column):
            return self.raw[column]
        return pd.Series("", index=self.raw.index, dtype="str")

    def preview(self, column: str, positions: np.ndarray | None = None) -> pd.Series:
        """Redacted text of a column's values (at ``positions`` only), safe for messages."""
        text = self.text(column)
        if positions is not None:
            text = text.iloc[positions]
        return safe_preview(text, allowed_words=self._expected_words)

    @functools.cached_property
    def _expected_words(self) -> tuple[str, ...]:
        vocabulary, medications = self.config.vocabulary, self.config.medications
        symptoms = [w for words in vocabulary.symptoms.values() for w in words]
        drugs = [n for names in medications.migraine_specific.values() for n in names]
        return (
            *vocabulary.yes, *vocabulary.no, *vocabulary.attended, *vocabulary.not_attended,
            *symptoms, *drugs, *self.config.analysis.instruments,
        )  # fmt: skip

    def blank(self, column: str) -> np.ndarray:
        return fields.blank(self.text(column))

    # -- parsing with problem recording ----------------------------------------------
    def require(self, column: str) -> np.ndarray:
        """Record ``missing_required`` where the column is blank; return that mask."""
        missing = self.blank(column)
        self.problems.add(missing, column, "missing_required", "required value is empty")
        return missing

    def quoted(self, column: str, rest: str) -> Detail:
        """Message for bad rows: the redacted value in quotes, then ``rest``."""
        return lambda positions: ("'" + self.preview(column, positions) + "' " + rest).to_numpy()

    def patient_id(self, column: str = "patient_id") -> pd.Series:
        """Pseudonym of a required client-id column (NaN where blank or too long)."""
        missing = self.require(column)
        text = self.text(column)
        too_long = text.str.strip().str.len().gt(MAX_ID_LENGTH).to_numpy() & ~missing
        self.problems.add(too_long, column, "bad_id", f"id longer than {MAX_ID_LENGTH} characters")
        ids = fields.normalise_id(text).mask(pd.Series(missing | too_long, index=text.index))
        return pseudonymise(ids, self.key)

    def _check_format(
        self,
        column: str,
        parsed: fields.Parsed,
        configured: str,
        candidates: tuple[str, ...],
        parse,
    ) -> None:
        """Stop with a clear error when, in some file, *no* value fits the configured format.

        Applies to files with 3 or more values in the column: a configuration mistake,
        not bad rows. The message suggests a format the values fit.
        """
        present = ~self.blank(column)
        tally = pd.DataFrame({"file": self.files, "present": present, "bad": parsed.bad & present})
        per_file = tally.groupby("file", sort=True)[["present", "bad"]].sum()
        wrong = per_file[(per_file["present"] >= 3) & (per_file["bad"] == per_file["present"])]
        if wrong.empty:
            return
        display = str(wrong.index[0])
        sample = self.text(column)[present & (self.files == display)]
        share = {f: float((~parse(sample, f).bad).mean()) for f in candidates}
        best = max(share, key=share.__getitem__)
        hint = f"; the values look like {best}" if share[best] > 0.5 else ""
        raise InputError(
            display,
            f"none of the values matches the configured format {configured} "
            f"(set date_format / datetime_format for this source in study.toml){hint}",
            column=column,
        )

    def date(self, column: str, required: bool = True) -> pd.Series:
        """Dates in the source's ``date_format``.

        Raises
        ------
        InputError
            Not one of 3 or more values matches the format (a configuration mistake,
            not bad rows); the message suggests a format that fits.
        """
        if required:
            self.require(column)
        parsed = fields.parse_date(self.text(column), self.source.date_format)
        self._check_format(column, parsed, self.source.date_format, DATE_FORMATS, fields.parse_date)
        self.problems.add(
            parsed.bad,
            column,
            "bad_date",
            self.quoted(column, f"is not a date in the format {self.source.date_format}"),
        )
        return parsed.values

    def datetime(self, column: str, required: bool = True) -> pd.Series:
        """Date-times in the source's ``datetime_format``."""
        if required:
            self.require(column)
        parsed = fields.parse_datetime(self.text(column), self.source.datetime_format)
        self._check_format(
            column, parsed, self.source.datetime_format, DATETIME_FORMATS, fields.parse_datetime
        )
        self.problems.add(
            parsed.bad,
            column,
            "bad_datetime",
            self.quoted(column, f"is not a date-time in the format {self.source.datetime_format}"),
        )
        return parsed.values

    def number(self, column: str, required: bool = False) -> pd.Series:
        """Decimal numbers (range checks are the schema's)."""
        if required:
            self.require(column)
        parsed = fields.parse_number(self.text(column))
        self.problems.add(parsed.bad, column, "bad_number", self.quoted(column, "is not a number"))
        return parsed.values

    def yes_no(self, column: str, required: bool = False) -> pd.Series:
        """Nullable booleans from the study's yes/no vocabulary."""
        if required:
            self.require(column)
        vocabulary = self.config.vocabulary
        parsed = fields.parse_yes_no(self.text(column), vocabulary.yes, vocabulary.no)
        self.problems.add(
            parsed.bad,
            column,
            "unknown_vocabulary",
            self.quoted(column, "is not a yes/no word of the study's vocabulary"),
        )
        return parsed.values

    def pain(self, column: str) -> pd.Series:
        """Pain on 0-10; a source declaring ``pain_scale = 3`` is rescaled (x 10/3)."""
        values = self.number(column)
        return values * (10.0 / 3.0) if self.source.pain_scale == 3 else values

    def medication(self, *columns: str) -> fields.ParsedMedication:
        """Acute / migraine-specific flags from one or more medication columns (union)."""
        specific = [
            n for names in self.config.medications.migraine_specific.values() for n in names
        ]
        parts = [
            fields.parse_medication(self.text(c), specific, yes=self.config.vocabulary.yes)
            for c in columns
        ]
        acute = np.logical_or.reduce([p.acute for p in parts])
        migraine_specific = np.logical_or.reduce([p.migraine_specific for p in parts])
        return fields.ParsedMedication(acute, migraine_specific, np.zeros(len(self.raw), bool))


Normaliser = Callable[[RowBatch], pd.DataFrame]


@dataclass(frozen=True)
class AdapterSpec:
    """Declaration of one export format.

    Attributes
    ----------
    name : str
        Adapter name used in study.toml (``diary_daily``, ``sessions``, ...).
    required, optional : tuple of str
        Canonical column names. A missing required column stops the run (exit 2).
    identifiers : tuple of str
        Direct identifiers (names, emails, phones): read for linkage only.
    private_text : tuple of str
        Known free-text columns that are parsed into flags but never written out.
    model : pandera DataFrameModel
        Schema of the canonical rows this adapter produces.
    normalise : callable
        ``RowBatch -> DataFrame`` of canonical typed columns, row-aligned with the file.
    header_marker : str, optional
        First cell of the header row when preamble lines may precede it.
    id_from_file_name : bool
        The client id is the file name stem unless a ``patient_id`` column exists.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    model: type[pa.DataFrameModel]
    normalise: Normaliser
    identifiers: tuple[str, ...] = ()
    private_text: tuple[str, ...] = ()
    header_marker: str | None = None
    id_from_file_name: bool = False

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional

    @property
    def shown_in_quarantine(self) -> tuple[str, ...]:
        """Columns whose (redacted) values a quarantine entry may show."""
        hidden = set(self.identifiers) | set(self.private_text)
        return tuple(c for c in self.known if c not in hidden)

    def missing_columns(self, columns: pd.Index) -> list[str]:
        """Required columns missing from a file's header."""
        return [c for c in self.required if c not in columns]

    def batch(
        self,
        raw: pd.DataFrame,
        source: SourceSection,
        config: StudyConfig,
        key: PseudonymKey,
        files: np.ndarray,
    ) -> RowBatch:
        """The parsing context for the known columns of one or more files' rows.

        ``files`` gives each row's file (display path).
        """
        present = [c for c in self.known if c in raw.columns]
        return RowBatch(raw[present], source, config, key, np.asarray(files, dtype=object))
