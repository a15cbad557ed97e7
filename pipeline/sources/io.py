"""Reading an export file into a frame of raw text, whatever its encoding and layout.

Handles CSV and XLSX; UTF-8 with or without BOM, UTF-16 with BOM, cp1252 (detected);
``,`` ``;`` tab or ``|`` separators (detected from the header row); preamble lines
before a header that starts with a marker (attack logs); column renames from study.toml.
Column names are matched case-insensitively after trimming (spaces and hyphens count
as underscores). Nothing is parsed into types here: every value stays text.

A data row's number (``source_row``) is its 1-based position among the records after
the header row (blank lines are not records; a quoted field may span lines).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError

MAX_PREAMBLE_LINES = 10
SMALL_FILE_CHARS = 256 * 1024
SEPARATORS = (",", ";", "\t", "|")
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}


def column_key(name: object) -> str:
    """Canonical form of a column name: trimmed, lower case, spaces/hyphens -> ``_``."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


@dataclass(frozen=True)
class RawTable:
    """An export as text, with provenance.

    Attributes
    ----------
    frame : pandas.DataFrame
        One column per header cell, named by :func:`column_key` after renames; all text.
    source_row : numpy.ndarray of int
        1-based data-row number of each frame row.
    malformed : pandas.DataFrame
        Records with more fields than the header: ``source_row``, ``fields``. They count
        as rows read and are quarantined.
    encoding, separator : str
        What was detected (or configured); separator is "" for XLSX.
    stem : str
        The file name without extension (an attack log's client id).
    """

    frame: pd.DataFrame
    source_row: np.ndarray
    malformed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"source_row": [], "fields": []}, dtype="int64")
    )
    encoding: str = "utf-8"
    separator: str = ","
    stem: str = ""

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


def _decode(data: bytes, display: str, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                display, f"cannot be decoded as configured encoding {encoding} ({exc})"
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise InputError(
                display, "starts with a UTF-8 byte-order mark but is not valid UTF-8"
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError(
                display, "starts with a UTF-16 byte-order mark but is not valid UTF-16"
            ) from None
    if b"\x00" in data[:65536]:
        raise InputError(display, "binary content (NUL bytes): not a CSV or XLSX export")
    for candidate in ("utf-8", "cp1252"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


_LINE_END = re.compile(r"\r\n|\r|\n")


def _line_starts(text: str, count: int) -> list[int]:
    """Offsets at which the first ``count`` physical lines of ``text`` start.

    A line ends with LF, CRLF or a lone CR (old Mac exports), as for the CSV parser;
    with LF only, a CR-only file would be one line and its header never found.
    """
    starts = [0]
    for end in _LINE_END.finditer(text):
        if len(starts) == count or end.end() >= len(text):
            break
        starts.append(end.end())
    return starts


def _first_cell(line: str, separator: str) -> str:
    return line.split(separator, 1)[0].strip().strip('"').strip()


def _sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _header_index(lines: Sequence[str], marker: str | None, display: str) -> int:
    """Index (0-based, among physical lines) of the header row."""
    if marker is None:
        for index, line in enumerate(lines[: MAX_PREAMBLE_LINES + 1]):
            if line.strip():
                return index
        raise InputError(display, "empty file: no header row")
    for index, line in enumerate(lines[: MAX_PREAMBLE_LINES + 1]):
        if line.strip() and _first_cell(line, _sniff_separator(line)) == marker:
            return index
    raise InputError(
        display,
        f"no header row starting with '{marker}' within the first {MAX_PREAMBLE_LINES + 1} lines",
    )


def _parse_csv(body: str, separator: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Header, records padded to the header's width, and records with too many fields.

    Small files (one attack log per client) go through the csv module, whose fixed cost
    is a fraction of pandas'; large files through pandas' C parser, falling back to the
    csv module when rows are ragged.
    """
    if len(body) < SMALL_FILE_CHARS:
        return _parse_csv_tolerant(body, separator)
    try:
        table = pd.read_csv(
            io.StringIO(body),
            sep=separator,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
            quoting=csv.QUOTE_MINIMAL,
        )
        if not len(table):
            return [], pd.DataFrame(), pd.DataFrame({"source_row": [], "fields": []}, dtype="int64")
        header = [str(v) for v in table.iloc[0].tolist()]
        frame = table.iloc[1:].reset_index(drop=True)
        frame["__row__"] = np.arange(1, len(frame) + 1)
        return header, frame, pd.DataFrame({"source_row": [], "fields": []}, dtype="int64")
    except pd.errors.EmptyDataError:
        return [], pd.DataFrame(), pd.DataFrame({"source_row": [], "fields": []}, dtype="int64")
    except (pd.errors.ParserError, ValueError, OverflowError):
        return _parse_csv_tolerant(body, separator)


def _used_width(record: Sequence[str]) -> int:
    """Number of fields up to the last non-blank one (trailing empty cells do not count)."""
    for index in range(len(record) - 1, -1, -1):
        if str(record[index]).strip():
            return index + 1
    return 0


def _frame_from_records(records: list[list[str]]) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Header, records padded to the header's width, and records with too many fields.

    Blank records are not rows. A record wider than the header (after trailing blanks)
    is malformed: it is reported, not silently cut.
    """
    records = [r for r in records if _used_width(r)]
    if not records:
        return [], pd.DataFrame(), pd.DataFrame({"source_row": [], "fields": []}, dtype="int64")
    header = [str(c) for c in records[0][: _used_width(records[0])]]
    rows, width = records[1:], len(header)
    lengths = np.fromiter((_used_width(r) for r in rows), dtype=np.int64, count=len(rows))
    numbers = np.arange(1, len(rows) + 1)
    fits = lengths <= width
    kept = [
        [str(c) for c in r[:width]] + [""] * (width - min(len(r), width))
        for r, ok in zip(rows, fits, strict=True)
        if ok
    ]
    frame = pd.DataFrame(kept, columns=range(width), dtype="str")
    frame["__row__"] = numbers[fits]
    malformed = pd.DataFrame({"source_row": numbers[~fits], "fields": lengths[~fits]})
    return header, frame, malformed


def _parse_csv_tolerant(body: str, separator: str) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Slower path for files with ragged rows: every record is kept or reported."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator, strict=False)
    return _frame_from_records(list(reader))


def _cell_text(value: object, date_format: str, datetime_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(date_format if value.time() == time(0) else datetime_format)
    if isinstance(value, date):
        return value.strftime(date_format)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(
    data: bytes, display: str, sheet: str | int | None, date_format: str, datetime_format: str
):
    import openpyxl  # local import: only XLSX inputs pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a corrupt zip or XML part: BadZipFile, ParseError, KeyError...
        raise InputError(display, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        try:
            if sheet is None:
                worksheet = book.worksheets[0]
            elif isinstance(sheet, int):
                worksheet = book.worksheets[sheet]
            else:
                worksheet = book[sheet]
        except (IndexError, KeyError):
            raise InputError(display, f"workbook has no sheet {sheet!r}") from None
        try:
            # The sheet's <dimension> tag is not trusted: with it, read-only openpyxl pads
            # every row to the widest column and yields every row up to the last one, so a
            # single cell at XFD1048576 (or a lying tag) means ~17 billion cells. Without
            # it, rows are as wide as their own cells and missing rows come back empty.
            worksheet.reset_dimensions()
            return [
                [_cell_text(v, date_format, datetime_format) for v in row]
                for row in worksheet.iter_rows(values_only=True)
                if row
            ]
        except Exception as exc:  # openpyxl raises many types on corrupt parts
            raise InputError(
                display, f"XLSX content cannot be read ({type(exc).__name__})"
            ) from None
    finally:
        book.close()


def _shown_column_name(key: str, renames: dict[str, str]) -> str:
    """A header cell as an error message may quote it.

    A header cell can hold any text (100 KB, a client's name on a misplaced line), so it
    is shown like any raw value: redacted by :func:`pipeline.privacy.safe_preview` unless
    made of words of the adapters' column names or the study's renames.
    """
    from pipeline.privacy import safe_preview
    from pipeline.sources import ADAPTERS  # local: the adapters sit above this module

    words = (
        {c for spec in ADAPTERS.values() for c in spec.known} | set(renames) | set(renames.values())
    )
    if key in words:
        return key
    allowed = [w.replace("_", " ") for w in words]
    shown = str(safe_preview(pd.Series([key.replace("_", " ")]), allowed).iloc[0])
    return shown if shown.startswith("[redacted") else key


def _label_unnamed(keys: Sequence[str]) -> dict[int, str]:
    """Column position -> name; an empty header cell gets ``__unnamed_<position>``.

    The label must not collide with a header cell that already reads ``__unnamed_3``
    (duplicate column labels break every later step), so it is prefixed until unique.
    """
    taken = set(keys)
    named = {}
    for position, key in enumerate(keys):
        if not key:
            key = f"__unnamed_{position}"
            while key in taken:
                key = "_" + key
            taken.add(key)
        named[position] = key
    return named


def is_xlsx(path: Path, data: bytes) -> bool:
    """An XLSX workbook: by extension, or a ZIP container holding a workbook part."""
    return path.suffix.lower() in _XLSX_SUFFIXES or (
        data[:4] == b"PK\x03\x04" and b"xl/" in data[:4096]
    )


def read_export(
    path: Path,
    display: str,
    *,
    renames: dict[str, str] | None = None,
    header_marker: str | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    sheet: str | int | None = None,
    date_format: str = "%Y-%m-%d",
    datetime_format: str = "%Y-%m-%d %H:%M",
) -> RawTable:
    """Read one export file into text columns.

    Parameters
    ----------
    path : Path
        The file.
    display : str
        How to name the file in messages (its path relative to the raw folder).
    renames : dict, optional
        Source column name -> canonical name (study.toml ``columns``), matched like
        header cells (case-insensitive, trimmed).
    header_marker : str, optional
        The header row's first cell (``#`` for attack logs); up to 10 preamble lines
        may precede it. Without a marker the first non-blank line is the header.
    encoding, separator, sheet : optional
        Override detection / choose the XLSX sheet.
    date_format, datetime_format : str
        How XLSX date cells are rendered as text, so they parse like CSV values.

    Raises
    ------
    InputError
        The file cannot be read, decoded or parsed as a table, or two header cells name
        the same column.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            display, f"cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
    if not data.strip():
        raise InputError(display, "empty file: no header row")

    if is_xlsx(path, data):
        rows = _read_xlsx(data, display, sheet, date_format, datetime_format)
        first = rows[: MAX_PREAMBLE_LINES + 1]
        start = _header_index([",".join(r) for r in first], header_marker, display)
        header, frame, malformed = _frame_from_records(rows[start:])
        used_encoding, used_separator = "xlsx", ""
    else:
        text, used_encoding = _decode(data, display, encoding)
        text = text.lstrip("\ufeff")
        starts = _line_starts(text, MAX_PREAMBLE_LINES + 1)
        lines = [
            text[a:b].rstrip("\r\n") for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
        ]
        start = _header_index(lines, header_marker, display)
        used_separator = separator or _sniff_separator(lines[start])
        header, frame, malformed = _parse_csv(text[starts[start] :], used_separator)

    if not header:
        raise InputError(display, "empty file: no header row")
    keys = [column_key(h) for h in header]
    rename = {column_key(k): v for k, v in (renames or {}).items()}
    keys = [rename.get(k, k) for k in keys]
    seen: dict[str, int] = {}
    for position, key in enumerate(keys):
        if key and key in seen:
            raise InputError(
                display,
                f"header cells {seen[key] + 1} and {position + 1} name the same column",
                column=_shown_column_name(key, renames or {}),
            )
        seen[key] = position
    named = _label_unnamed(keys)
    source_row = (
        frame.pop("__row__").to_numpy(dtype=np.int64)
        if "__row__" in frame
        else np.array([], np.int64)
    )
    frame.columns = [named[i] for i in range(len(frame.columns))]
    if not all(str(dtype) == "str" for dtype in frame.dtypes):
        frame = frame.astype("str")
    return RawTable(
        frame=frame,
        source_row=source_row,
        malformed=malformed if malformed.empty else malformed.astype("int64"),
        encoding=used_encoding,
        separator=used_separator,
        stem=path.stem,
    )
