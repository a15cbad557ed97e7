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
import functools
import io
import re
import sys
import zipfile
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


@functools.cache
def _no_malformed() -> pd.DataFrame:
    """The empty ``malformed`` table, shared (read only): most files have no such rows,
    and a frame per file costs more than reading a small file."""
    return pd.DataFrame({"source_row": [], "fields": []}, dtype="int64")


Cells = pd.DataFrame | list[list[str]]
"""A file's data rows as text: a frame (large files) or records padded to the header's
width (small files, whose frames are built for many files at once)."""


@dataclass(frozen=True)
class RawTable:
    """An export as text, with provenance.

    Attributes
    ----------
    columns : tuple of str
        One name per header cell, by :func:`column_key` after renames.
    cells : DataFrame or list of list of str
        The data rows, one text value per column; see :func:`text_frame`.
    source_row : numpy.ndarray of int
        1-based data-row number of each row of ``cells``.
    malformed : pandas.DataFrame
        Records with more fields than the header: ``source_row``, ``fields``. They count
        as rows read and are quarantined.
    encoding, separator : str
        What was detected (or configured); separator is "" for XLSX.
    stem : str
        The file name without extension (an attack log's client id).
    """

    columns: tuple[str, ...]
    cells: Cells
    source_row: np.ndarray
    malformed: pd.DataFrame = field(default_factory=_no_malformed)
    encoding: str = "utf-8"
    separator: str = ","
    stem: str = ""

    @property
    def frame(self) -> pd.DataFrame:
        """The data rows as a frame of text columns (built on each access)."""
        return text_frame([self])

    @property
    def rows_read(self) -> int:
        return len(self.source_row) + len(self.malformed)


def text_frame(tables: Sequence[RawTable]) -> pd.DataFrame:
    """The data rows of several files with the same columns as one frame of text.

    Rows keep the files' order. Records of consecutive small files become one frame in
    one constructor call: building a frame per file costs more than parsing it.

    Parameters
    ----------
    tables : sequence of RawTable
        At least one; all with the same ``columns``.

    Returns
    -------
    pandas.DataFrame
        Columns named by ``columns``, dtype ``str``; a RangeIndex.
    """
    columns = list(tables[0].columns)
    pieces: list[pd.DataFrame] = []
    pending: list[list[str]] = []

    def flush() -> None:
        if pending:
            by_column = list(zip(*pending, strict=True)) or [()] * len(columns)
            pieces.append(
                pd.DataFrame(
                    {
                        name: pd.array(values, dtype="str")
                        for name, values in zip(columns, by_column, strict=True)
                    },
                    columns=columns,
                )
            )
            pending.clear()

    for table in tables:
        if isinstance(table.cells, pd.DataFrame):
            flush()
            frame = table.cells.set_axis(columns, axis=1)
            if not all(str(dtype) == "str" for dtype in frame.dtypes):
                frame = frame.astype("str")
            pieces.append(frame)
        else:
            pending.extend(table.cells)
    flush()
    if not pieces:
        return pd.DataFrame({name: pd.Series([], dtype="str") for name in columns}, columns=columns)
    return (
        pieces[0].reset_index(drop=True)
        if len(pieces) == 1
        else pd.concat(pieces, ignore_index=True)
    )


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


Parsed = tuple[list[str], Cells, np.ndarray, pd.DataFrame]
"""Header cells, data rows, their 1-based row numbers, and records too wide."""


def _parse_csv(body: str, separator: str) -> Parsed:
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
    except pd.errors.EmptyDataError:
        return [], [], np.array([], np.int64), _no_malformed()
    except (pd.errors.ParserError, ValueError, OverflowError):
        return _parse_csv_tolerant(body, separator)
    if not len(table):
        return [], [], np.array([], np.int64), _no_malformed()
    header = [str(v) for v in table.iloc[0].tolist()]
    frame = table.iloc[1:].reset_index(drop=True)
    return header, frame, np.arange(1, len(frame) + 1, dtype=np.int64), _no_malformed()


def _used_width(record: Sequence[str]) -> int:
    """Number of fields up to the last non-blank one (trailing empty cells do not count)."""
    for index in range(len(record) - 1, -1, -1):
        if str(record[index]).strip():
            return index + 1
    return 0


def _split_records(records: list[list[str]]) -> Parsed:
    """Header, records padded to the header's width, and records with too many fields.

    Blank records are not rows. A record wider than the header (after trailing blanks)
    is malformed: it is reported, not silently cut.
    """
    records = [r for r in records if _used_width(r)]
    if not records:
        return [], [], np.array([], np.int64), _no_malformed()
    header = [str(c) for c in records[0][: _used_width(records[0])]]
    rows, width = records[1:], len(header)
    lengths = np.fromiter((_used_width(r) for r in rows), dtype=np.int64, count=len(rows))
    numbers = np.arange(1, len(rows) + 1, dtype=np.int64)
    fits = lengths <= width
    kept = [
        [str(c) for c in r[:width]] + [""] * (width - min(len(r), width))
        for r, ok in zip(rows, fits, strict=True)
        if ok
    ]
    malformed = (
        pd.DataFrame({"source_row": numbers[~fits], "fields": lengths[~fits]})
        if not fits.all()
        else _no_malformed()
    )
    return header, kept, numbers[fits], malformed


def _parse_csv_tolerant(body: str, separator: str) -> Parsed:
    """Slower path for files with ragged rows: every record is kept or reported."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator, strict=False)
    return _split_records(list(reader))


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


MAX_XLSX_CELLS = 20_000_000
"""Largest sheet area (rows x columns spanned by its cells) read with the fast reader."""
_CELL_REFERENCE = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
"""A cell's reference attribute (``<c r="B7">``); row elements carry digits only."""
_SCAN_CHUNK = 1 << 20


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _largest_sheet_area(book: zipfile.ZipFile) -> int:
    """Rows x columns spanned by the cells of the workbook's largest worksheet.

    The fast reader (calamine) lays a sheet out as a dense grid from its first to its
    last cell, so one cell at XFD1048576 means 17 billion cells and the process aborts
    for want of memory. The cell references are scanned in the XML first (streamed, a
    chunk at a time) so such a sheet can be read by the sparse reader instead.
    """
    largest = 0
    for member in book.namelist():
        if not (member.startswith("xl/worksheets/") and member.endswith(".xml")):
            continue
        rows: set[int] = set()
        columns: set[bytes] = set()
        tail = b""
        with book.open(member) as stream:
            while chunk := stream.read(_SCAN_CHUNK):
                text = tail + chunk
                cut = max(0, len(text) - 256)  # a tag split by the chunk edge: next round
                boundary = text.rfind(b"<", cut)
                boundary = len(text) if boundary < 0 else boundary
                for letters, digits in _CELL_REFERENCE.findall(text, 0, boundary):
                    columns.add(letters)
                    rows.add(int(digits))
                tail = text[boundary:]
        if rows:
            numbers = [_column_number(c) for c in columns]
            area = (max(rows) - min(rows) + 1) * (max(numbers) - min(numbers) + 1)
            largest = max(largest, area)
    return largest


def _read_xlsx(
    data: bytes, display: str, sheet: str | int | None, date_format: str, datetime_format: str
) -> list[list[str]]:
    """The chosen sheet's rows as text cells.

    Read with calamine (Rust; ~40x faster than openpyxl on large sheets) unless the
    sheet's cells span more than :data:`MAX_XLSX_CELLS` (then with read-only openpyxl,
    which keeps only the cells present).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            area = _largest_sheet_area(book)
    except Exception as exc:  # not a zip, a corrupt member, a bad compression stream...
        raise InputError(display, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    if area > MAX_XLSX_CELLS:
        return _read_xlsx_sparse(data, display, sheet, date_format, datetime_format)
    from python_calamine import CalamineWorkbook  # local import: only XLSX inputs pay

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # CalamineError, a Rust panic (PanicException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise InputError(display, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        try:
            if sheet is None or isinstance(sheet, int):
                worksheet = book.get_sheet_by_index(sheet or 0)
            else:
                worksheet = book.get_sheet_by_name(sheet)
        except (IndexError, KeyError, ValueError):
            raise InputError(display, f"workbook has no sheet {sheet!r}") from None
        rows = worksheet.to_python(skip_empty_area=False)
    except InputError:
        raise
    except BaseException as exc:  # corrupt parts; a Rust panic
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise InputError(display, f"XLSX content cannot be read ({type(exc).__name__})") from None
    finally:
        book.close()
    return [[_cell_text(v, date_format, datetime_format) for v in row] for row in rows if row]


def _read_xlsx_sparse(
    data: bytes, display: str, sheet: str | int | None, date_format: str, datetime_format: str
) -> list[list[str]]:
    """:func:`_read_xlsx` with read-only openpyxl: slow, but memory follows the cells."""
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
        header, cells, source_row, malformed = _split_records(rows[start:])
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
        header, cells, source_row, malformed = _parse_csv(text[starts[start] :], used_separator)

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
    return RawTable(
        columns=tuple(named[i] for i in range(len(keys))),
        cells=cells,
        source_row=source_row,
        malformed=malformed if malformed.empty else malformed.astype("int64"),
        encoding=used_encoding,
        separator=used_separator,
        stem=path.stem,
    )
