"""Writing export tables to disk: CSV (any encoding, separator, line ending), the attack-log
files, and a deterministic XLSX.

The CSV body goes through Arrow's writer (dictionary columns, no quoting: the simulated
values never contain the separator, a quote or a line break, and Arrow refuses them if
they do). Attack logs quote fields as spreadsheet apps do, since their lists contain
commas and a duration may hold a line break. The XLSX is an openpyxl workbook whose
sheet data is generated directly (openpyxl's cell-by-cell writer takes minutes for
hundreds of thousands of rows), zipped with fixed timestamps so the bytes depend on the
content only.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from openpyxl import Workbook

from pipeline.simulate.coded import Coded, join
from pipeline.simulate.table import Table

UTF8_BOM = b"\xef\xbb\xbf"
ZIP_TIMESTAMP = (2026, 1, 1, 0, 0, 0)
EXCEL_EPOCH = date(1899, 12, 30)


def _non_ascii(texts: Sequence[object]) -> set[str]:
    """Distinct non-ASCII characters in some texts."""
    return set(re.findall(r"[^\x00-\x7f]", "".join(map(str, texts))))


def csv_bytes(
    table: Table, delimiter: str = ",", eol: str = "\n", encoding: str = "utf-8", bom: bool = False
) -> bytes | pa.Buffer:
    """A table as CSV bytes: header row, then one line per row, no quoting.

    Parameters
    ----------
    table : Table
    delimiter, eol : str
        Field separator and line ending.
    encoding : str
        ``utf-8`` or a legacy code page such as ``cp1252``.
    bom : bool
        Start with the UTF-8 byte-order mark.

    Notes
    -----
    Arrow writes UTF-8; for another encoding each distinct non-ASCII character of the
    labels is re-encoded in place (a UTF-8 character's bytes never occur inside another's),
    which is far faster than decoding and encoding the whole text.
    """
    sink = pa.BufferOutputStream()
    sink.write((UTF8_BOM if bom else b"") + (delimiter.join(table.headers) + eol).encode())
    if table.n_rows:
        arrays = pa.table({f"c{i}": c.arrow() for i, c in enumerate(table.columns)})
        options = pacsv.WriteOptions(
            include_header=False, delimiter=delimiter, quoting_style="none", eol=eol
        )
        pacsv.write_csv(arrays, sink, options)
    data = sink.getvalue()
    if encoding.lower().replace("-", "").replace("_", "") == "utf8":
        return data
    data = data.to_pybytes()
    for char in _non_ascii([*table.headers, *(v for c in table.columns for v in c.labels)]):
        data = data.replace(char.encode("utf-8"), char.encode(encoding))
    return data


def write_csv(path: Path, table: Table, **options: object) -> None:
    """Write :func:`csv_bytes` to ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(csv_bytes(table, **options))


def quoted(texts: pa.Array, delimiter: str = ",") -> pa.Array:
    """Texts as CSV fields: quoted (quotes doubled) when they hold a delimiter, quote or
    line break."""
    needs = pc.match_substring_regex(texts, f'[{re.escape(delimiter)}"\\n\\r]')
    wrapped = join(['"', pc.replace_substring(texts, '"', '""'), '"'])
    return pc.if_else(needs, wrapped, texts)


def csv_records(table: Table, counts: np.ndarray) -> list[str]:
    """Rows of ``table`` as CSV lines, joined into one text per group of ``counts`` rows."""
    fields = [quoted(c.decoded()) for c in table.columns]
    lines = join(fields, ",")
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    grouped = pa.ListArray.from_arrays(offsets, lines)
    return pc.binary_join(grouped, "\n").to_pylist()


def write_attack_logs(
    folder: Path, names: Sequence[str], preambles: Sequence[str], table: Table, counts: np.ndarray
) -> None:
    """One attack-log file per client: preamble, ``#`` header row, the client's rows."""
    folder.mkdir(parents=True, exist_ok=True)
    header = ",".join(table.headers)
    bodies = csv_records(table, counts)
    for name, preamble, body in zip(names, preambles, bodies, strict=True):
        (folder / f"{name}.csv").write_bytes(f"{preamble}{header}\n{body}\n".encode())


def _cell_tail(value: object, date_style: int) -> str:
    """XML after ``<c r="B7`` for one value (numbers, real dates, inline text, empty)."""
    if value is None or value == "":
        return '"/>'
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        return f'" s="{date_style}"><v>{(day - EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return f'"><v>{value}</v></c>'
    return f'" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _template(sheet_name: str, headers: Sequence[str]) -> tuple[dict[str, bytes], int, str]:
    """An openpyxl workbook with the header and a date cell: its parts, the date style id
    and the name of the sheet part."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    sheet.append(list(headers))
    sheet.append([date(2025, 1, 1)])
    sheet["A2"].number_format = "yyyy-mm-dd"
    stamp = datetime(*ZIP_TIMESTAMP)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet_part = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    style = re.search(rb'<c r="A2" s="(\d+)"', parts[sheet_part])
    return parts, int(style.group(1)) if style else 0, sheet_part


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx(path: Path, table: Table, sheet_name: str) -> None:
    """Write a one-sheet XLSX: header row, then the table (dates as Excel dates).

    Labels that are ``date`` become date cells, numbers numeric cells, ``None`` or ``""``
    empty cells, anything else inline text.
    """
    parts, date_style, sheet_part = _template(sheet_name, table.headers)
    n = table.n_rows
    row_numbers = pc.cast(pa.array(np.arange(2, n + 2)), pa.string())
    pieces: list[pa.Array | str] = ['<row r="', row_numbers, '">']
    for index, column in enumerate(table.columns):
        tails = Coded(column.codes, [_cell_tail(v, date_style) for v in column.labels]).decoded()
        pieces += [f'<c r="{_column_letter(index)}', row_numbers, tails]
    pieces.append("</row>")
    header = "".join(
        f'<c r="{_column_letter(i)}1{_cell_tail(h, date_style)}'
        for i, h in enumerate(table.headers)
    )
    rows = join(pieces).to_pylist() if n else []
    xml = parts[sheet_part].decode()
    head, rest = xml.split("<sheetData>", 1)
    _, tail = rest.split("</sheetData>", 1)
    last = f"{_column_letter(len(table.headers) - 1)}{n + 1}"
    head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>', head)
    body = f'<sheetData><row r="1">{header}</row>{"".join(rows)}</sheetData>'
    parts[sheet_part] = (head + body + tail).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
