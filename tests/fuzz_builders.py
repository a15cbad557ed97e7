"""Valid and hostile export files for the ingest fuzzers, and the contract they must meet.

Builders
--------
Every adapter has a small *valid* export (:func:`valid_table`): a header and a few rows
whose values the adapter accepts with the default ``[[sources]]`` settings (ISO dates,
``%Y-%m-%d %H:%M`` date-times). :func:`hostile_file` starts from such a table and
corrupts it at three levels, each drawn by hypothesis:

- cells: planted identifiers (names, emails, phones), formula strings (``= + - @``),
  embedded line breaks and quotes (balanced and not), control characters, 100 KB+
  values, numbers and dates at the edge of what pandas can hold;
- table: a required column dropped, a header name repeated, a 10,000-column row or
  header, no data rows, ragged and blank rows, header spelling variants; attack logs
  get preamble variations (none, 10, 11, 12 lines, commas and quotes, a name) and may
  lose their ``#`` header marker;
- file: CSV with any separator, quoting, line ending (LF, CRLF, CR) and encoding
  (UTF-8 with or without BOM, cp1252, latin-1, UTF-16 with and without BOM), then bytes
  truncated, spliced with binary junk and NULs, or with invalid UTF-8 sequences; XLSX
  with typed, formula, error and junk cells, an empty first sheet, a huge shared
  string, a lying ``<dimension>``, a corrupt zip, a zip that is no workbook, a workbook
  with a broken XML part; and degenerate files (empty, whitespace, BOM only, header only).

:func:`valid_file` draws the same valid tables in every layout the contract supports
(separators, line endings, encodings, XLSX, attack-log preambles): they must lose no row.

Contract
--------
:func:`check_validate_contract` (``validate_file`` on one file) and
:func:`check_ingest_contract` (``ingest`` + ``consolidate`` of a study holding the file,
optionally beside a valid sibling) assert what every input must give: accepted and quarantined rows whose
accounting balances (``rows_read = accepted + quarantined + duplicates``; one
quarantine row per quarantined record, ``1 <= source_row <= rows_read``), or a clean
:class:`pipeline.errors.InputError` with a one-line reason starting with the file's
name; nothing else raised, no hang, and no planted identifier in the accepted rows or
in a quarantine message, value or error message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import signal
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipeline import ingest
from pipeline.errors import InputError
from pipeline.sources import ADAPTERS

# --------------------------------------------------------------------- planted identifiers
PLANTED_NAMES = ("Rosalind Featherstonehaugh", "Bartholomew Quigley", "Zoë Ångström", "Bo Li")
PLANTED_EMAILS = ("rosalind.f@example.org", "bart.quigley@example.com")
PLANTED_PHONES = ("+44 7700 900461", "07700 900982", "(020) 7946 0958")
PLANTED = PLANTED_NAMES + PLANTED_EMAILS + PLANTED_PHONES

#: Lower-case fragments whose presence in an output means an identifier leaked: whole
#: identifiers, name parts of 5+ letters and email local parts.
LEAK_TOKENS = tuple(
    sorted(
        {p.lower() for p in PLANTED_NAMES + PLANTED_EMAILS}
        | {part.lower() for name in PLANTED_NAMES for part in name.split() if len(part) >= 5}
        | {email.split("@")[0] for email in PLANTED_EMAILS}
    )
)
#: The last 9 digits of each planted phone number (how linkage normalises phones).
PHONE_TAILS = tuple(re.sub(r"\D", "", phone)[-9:] for phone in PLANTED_PHONES)


def find_leak(values: Iterable[object]) -> str | None:
    """The first value holding a planted identifier (or its phone digits), else None."""
    for value in values:
        text = str(value)
        low = text.lower()
        digits = re.sub(r"\D", "", text)
        if any(token in low for token in LEAK_TOKENS) or any(t in digits for t in PHONE_TAILS):
            return text[:200]
    return None


# ------------------------------------------------------------------------- valid values
ISO_DATES = st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31))
YES_NO = st.sampled_from(["yes", "no", "Y", "n", "TRUE", "false", "1", "0"])
CLIENT_IDS = st.sampled_from(["MIG-1", "MIG-2", "c17", "A", "Bo Li"])
SCORE_0_10 = st.one_of(st.integers(0, 10), st.sampled_from(["7,5", "2.5", "0"]))
MEDICATION = st.sampled_from(["", "Sumatriptan 50mg", "ibuprofen; naproxen", "no", "yes"])


def _datetime_text(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


STARTS = st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2026, 12, 31))
DURATIONS = st.sampled_from(["06h 00m", "45m", "1d 02h 00m", "Ongoing", "06h\n00m", "", "2h"])
SYMPTOMS = st.sampled_from(["", "Nausea, Sensitivity to light", "Sensitivity to noise", "aura"])
SERVICES = st.sampled_from(
    ["Craniosacral Therapy 60 min", "Deep Tissue Massage 45 min", "Cranial massage", "Intake"]
)
STATUSES = st.sampled_from(["Completed", "Cancelled", "No Show", "Arrived", "rescheduled"])
INSTRUMENT_RANGES = {"HIT-6": (36, 78), "hit 6": (36, 78), "MIDAS": (0, 270), "PSS-10": (0, 40)}


@dataclass(frozen=True)
class Column:
    """One column of a valid export: its header cell and a strategy for its values.

    ``values`` draws Python objects: text, int, float or date(time); CSV writes them as
    text, XLSX as typed cells.
    """

    header: str
    required: bool
    values: st.SearchStrategy


COLUMNS: dict[str, tuple[Column, ...]] = {
    "diary_daily": (
        Column("patient_id", True, CLIENT_IDS),
        Column("date", True, ISO_DATES),
        Column("headache", True, YES_NO),
        Column("migraine", False, st.one_of(st.just(""), YES_NO)),
        Column("peak_pain", False, SCORE_0_10),
        Column("pain_hours", False, st.integers(0, 24)),
        Column("acute_medication", False, MEDICATION),
        Column("nausea", False, st.one_of(st.just(""), YES_NO)),
        Column("stress", False, SCORE_0_10),
        Column("sleep_quality", False, SCORE_0_10),
    ),
    "diary_attacks": (
        Column("#", False, st.integers(1, 99)),  # the header marker: always written
        Column("Started", True, STARTS.map(_datetime_text)),
        Column("Lasted", False, DURATIONS),
        Column("Pain Level", False, st.integers(0, 10)),
        Column("Pain Position", False, st.sampled_from(["Left", "", "Both sides"])),
        Column("Symptoms", False, SYMPTOMS),
        Column("Auras", False, st.sampled_from(["", "Visual", "none"])),
        Column("Helpful Medication", False, MEDICATION),
        Column("Unsure Medication", False, MEDICATION),
        Column("Triggers", False, st.sampled_from(["", "Stress", "Weather"])),
        Column("Notes", False, st.sampled_from(["", "call Rosalind Featherstonehaugh", "ok"])),
    ),
    "sessions": (
        Column("client_id", True, CLIENT_IDS),
        Column("client_name", False, st.sampled_from(PLANTED_NAMES)),
        Column("email", False, st.sampled_from(PLANTED_EMAILS)),
        Column("phone", False, st.sampled_from(PLANTED_PHONES)),
        Column("date", True, ISO_DATES),
        Column("start_time", False, st.sampled_from(["09:00", "17:45", "8.30", ""])),
        Column("service", True, SERVICES),
        Column("status", True, STATUSES),
        Column("duration_min", False, st.sampled_from(["", "60", "45"])),
        Column("practitioner", False, st.sampled_from(["Pat Healer", "", "Bartholomew Quigley"])),
        Column("adverse_event", False, st.sampled_from(["", "none", "mild headache", "yes"])),
        Column("ae_resolved_hours", False, st.sampled_from(["", "4", "0.5"])),
        Column("notes", False, st.sampled_from(["", "phone 07700 900982", "fine"])),
    ),
    "questionnaires": (
        Column("patient_id", True, CLIENT_IDS),
        Column("date", True, ISO_DATES),
        Column("instrument", True, st.sampled_from(sorted(INSTRUMENT_RANGES))),
        Column("score", True, st.integers(36, 40)),
    ),
    "coverage": (
        Column("patient_id", True, CLIENT_IDS),
        Column("diary_start", True, ISO_DATES),
        Column("diary_end", True, ISO_DATES),
    ),
    "patients": (
        Column("patient_id", True, CLIENT_IDS),
        Column("client_id", False, st.sampled_from(["C1", "C2", ""])),
        Column("client_name", False, st.sampled_from(PLANTED_NAMES)),
        Column("email", False, st.sampled_from(PLANTED_EMAILS)),
        Column("phone", False, st.sampled_from(PLANTED_PHONES)),
    ),
}

#: Folder of each adapter in the one-file study of :func:`check_ingest_contract`.
FOLDERS = {
    "diary_daily": "diaries",
    "diary_attacks": "attacks",
    "sessions": "sessions",
    "questionnaires": "questionnaires",
    "coverage": "coverage",
    "patients": "patients",
}


@dataclass
class Table:
    """An export before serialisation: optional preamble lines, header, rows of cells."""

    header: list[str]
    rows: list[list[object]]
    preamble: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fix_row(adapter: str, columns: tuple[Column, ...], row: list[object]) -> list[object]:
    """Make a drawn row valid where columns depend on each other."""
    headers = [c.header for c in columns]
    if adapter == "coverage":
        start, end = row[headers.index("diary_start")], row[headers.index("diary_end")]
        row[headers.index("diary_start")], row[headers.index("diary_end")] = sorted((start, end))
    if adapter == "questionnaires":
        low, _ = INSTRUMENT_RANGES[str(row[headers.index("instrument")])]
        row[headers.index("score")] = low + int(row[headers.index("score")]) % 5
    if adapter == "patients" and "client_id" in headers and row[headers.index("client_id")] == "":
        row[headers.index("client_id")] = "C3"
    return row


@st.composite
def valid_table(draw, adapter: str, max_rows: int = 6) -> Table:
    """A valid export of ``adapter``: all required and some optional columns, 0..max rows."""
    catalog = COLUMNS[adapter]
    optional = [c for c in catalog if not c.required]
    chosen = set(draw(st.lists(st.sampled_from(optional), unique=True))) if optional else set()
    columns = tuple(c for c in catalog if c.required or c in chosen or c.header == "#")
    if adapter == "patients":  # a link row needs a client id or a contact field
        columns = columns if len(columns) > 1 else (catalog[0], catalog[1])
    n_rows = draw(st.integers(0, max_rows))
    rows = [_fix_row(adapter, columns, [draw(c.values) for c in columns]) for _ in range(n_rows)]
    return Table(header=[c.header for c in columns], rows=rows)


# ------------------------------------------------------------------------- hostile cells
FORMULAS = (
    "=1+1", "+1+1", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0",
    "+A1", "-A1*2", "=1/0",
)  # fmt: skip
EDGE_VALUES = (
    "", " ", "\t", "nan", "NaN", "inf", "-inf", "1e400", "-0", "99999999999999999999999",
    "0x1F", "7,5,5", "1_000", "0001-01-01", "9999-12-31", "2025-02-30", "2262-04-12",
    "1677-09-21", "31/12/2025", "2025-01-01 25:99", "99999999999999999999h", "1e30h",
    "100000d", "Ongoing", "maybe", "N/A", "-", "None", "null", "True", "x" * 65,
)  # fmt: skip
BREAKS = ('a"b', '"', '""', '"quoted"', "line\nbreak", "cr\rhere", "crlf\r\nin", 'x,"y', "a;b|c\td")
CONTROL = ("\x00", "a\x00b", "\x0b", "\x0c", "\u2028", "\x85", "\ufeff", "\x1f", "\ufffd")


@st.composite
def huge_value(draw) -> str:
    """A value of 100 KB or more (plain, digits, a planted name repeated, or a quote);
    at 300 KB the file takes the pandas C parser instead of the csv module."""
    unit = draw(st.sampled_from(["x", "9", "Rosalind Featherstonehaugh ", "a,b;", '"', "\n"]))
    size = draw(st.sampled_from([100_001, 100_001, 300_001]))
    return unit * (size // len(unit) + 1)


HOSTILE_CELLS = st.one_of(
    st.sampled_from(PLANTED),
    st.sampled_from(PLANTED).map(lambda p: f"see {p} ok"),
    st.sampled_from(FORMULAS),
    st.sampled_from(EDGE_VALUES),
    st.sampled_from(BREAKS),
    st.sampled_from(CONTROL),
    st.text(max_size=12),
    huge_value(),
)


@st.composite
def corrupt_cells(draw, table: Table) -> Table:
    """Replace a drawn share of the cells with hostile values."""
    if not table.rows or draw(st.integers(0, 3)) == 0:
        return table
    rate = draw(st.sampled_from([0.1, 0.3, 1.0]))
    rows = []
    for row in table.rows:
        cells = list(row)
        for i in range(len(cells)):
            if draw(st.floats(0, 1)) < rate:
                cells[i] = draw(HOSTILE_CELLS)
        rows.append(cells)
    table.rows = rows
    table.notes.append(f"cells x{rate}")
    return table


# ------------------------------------------------------------------ structural mutations
def _header_variant(name: str, how: int) -> str:
    return [name, name.upper(), f" {name} ", name.replace("_", " "), name.replace("_", "-")][how]


#: Table corruptions, the expensive 10,000-column header drawn less often than the rest.
MUTATIONS = (
    "drop_required", "duplicate_header", "wide_row", "no_rows", "ragged", "blank_rows",
    "header_spelling", "shuffle", "repeat_rows", "empty_header_cells",
) * 3 + ("wide_header",)  # fmt: skip


@st.composite
def mutate_structure(draw, adapter: str, table: Table) -> Table:
    """Apply 0..3 table-level corruptions."""
    required = [c.header for c in COLUMNS[adapter] if c.required]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(MUTATIONS))
        header, rows = table.header, table.rows
        if kind == "drop_required":
            present = [h for h in required if h in header]
            if present:
                i = header.index(draw(st.sampled_from(present)))
                header = header[:i] + header[i + 1 :]
                rows = [r[:i] + r[i + 1 :] for r in rows]
        elif kind == "duplicate_header" and header:
            name = draw(st.sampled_from(header))
            header = [*header, _header_variant(name, draw(st.integers(0, 2)))]
            rows = [[*r, draw(st.sampled_from(["", "x", "1"]))] for r in rows]
        elif kind == "wide_row":
            rows = [*rows, [draw(st.sampled_from(["x", "", "Bo Li"]))] * 10_000]
        elif kind == "wide_header":
            header = [*header, *(f"c{i}" for i in range(10_000 - len(header)))]
        elif kind == "no_rows":
            rows = []
        elif kind == "ragged" and rows:
            i = draw(st.integers(0, len(rows) - 1))
            cut = draw(st.integers(-3, 3))
            rows[i] = rows[i][:cut] if cut < 0 else [*rows[i], *(["extra"] * cut)]
        elif kind == "blank_rows":
            at = draw(st.integers(0, len(rows)))
            rows = [*rows[:at], [""] * len(header), [], *rows[at:]]
        elif kind == "header_spelling":
            how = draw(st.lists(st.integers(0, 4), min_size=len(header[:20]), max_size=20))
            header = [_header_variant(h, i) for h, i in zip(header, how, strict=False)] + header[
                20:
            ]
        elif kind == "shuffle" and len(header) <= 20:
            order = draw(st.permutations(range(len(header))))
            header = [header[i] for i in order]
            rows = [[r[i] if i < len(r) else "" for i in order] for r in rows]
        elif kind == "repeat_rows" and rows:
            rows = rows + rows[: draw(st.integers(1, len(rows)))]
        elif kind == "empty_header_cells":
            header = [*header, "", "", "__unnamed_" + str(len(header) + 1)]
        table.header, table.rows = header, rows
        table.notes.append(kind)
    return table


PREAMBLE_LINES = (
    "Migraine Buddy export",
    "Name: Rosalind Featherstonehaugh",
    "Email: rosalind.f@example.org",
    "",
    'Exported by "Migraine Buddy", version 7,2; build "x"',
    "Period,01/01/2025,31/03/2025",
    '"unbalanced, quote',
    "# not the header",
    "Phone: +44 7700 900461",
)


@st.composite
def attack_layout(draw, table: Table) -> Table:
    """Preamble lines (0, 1-9, 10, 11, 12) and, sometimes, no ``#`` header marker."""
    count = draw(st.sampled_from([0, 0, 0, 1, 3, 5, 9, 10, 10, 11, 12]))
    table.preamble = [draw(st.sampled_from(PREAMBLE_LINES)) for _ in range(count)]
    table.notes.append(f"preamble {count}")
    if table.header and table.header[0] == "#" and draw(st.integers(0, 7)) == 0:
        table.header = [draw(st.sampled_from(["", "No.", "Nr", "#1"])), *table.header[1:]]
        table.notes.append("no # marker")
    return table


# -------------------------------------------------------------------------------- CSV
def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return _datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _csv_line(cells: list[object], sep: str, quoting: str) -> str:
    out = []
    for value in cells:
        text = _cell_text(value)
        special = any(c in text for c in (sep, '"', "\n", "\r"))
        if quoting == "all" or (quoting == "minimal" and special):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return sep.join(out)


CSV_ENCODINGS = (
    "utf-8",
    "utf-8",
    "utf-8-sig",
    "cp1252",
    "latin-1",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
)


@st.composite
def csv_bytes(draw, table: Table) -> tuple[bytes, str]:
    """Serialise a table as CSV with a drawn dialect and encoding."""
    if draw(st.integers(0, 9)):  # mostly a separator the reader detects
        sep = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    else:  # one it cannot: the header is then a single column
        sep = draw(st.sampled_from([" ", ":", '"', "x", "#"]))
    quoting = draw(st.sampled_from(["minimal", "minimal", "all", "none"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(CSV_ENCODINGS))
    lines = [*table.preamble, _csv_line(table.header, sep, quoting)]
    lines += [_csv_line(r, sep, quoting) for r in table.rows]
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    data = text.encode(encoding, errors="replace")
    return data, f"csv sep={sep!r} quoting={quoting} newline={newline!r} {encoding}"


@st.composite
def corrupt_bytes(draw, data: bytes) -> tuple[bytes, list[str]]:
    """Apply 0..2 byte-level corruptions."""
    notes = []
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 1, 1, 1, 2, 2]))):
        kind = draw(st.sampled_from(["truncate", "splice", "nul", "bad_utf8", "flip", "bom"]))
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "splice":
            data = data[:at] + draw(st.binary(min_size=1, max_size=24)) + data[at:]
        elif kind == "nul":
            data = data[:at] + b"\x00" * draw(st.integers(1, 3)) + data[at:]
        elif kind == "bad_utf8":
            junk = draw(
                st.sampled_from(
                    [b"\xff", b"\xc3(", b"\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]
                )
            )
            data = data[:at] + junk + data[at:]
        elif kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif kind == "bom":
            data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])) + data
        notes.append(kind)
    return data, notes


# ------------------------------------------------------------------------------- XLSX
def _xlsx_value(value: object) -> object:
    """A cell value openpyxl can store (it refuses control characters)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _typed(value: object) -> object:
    """Text that looks like a number or a date becomes a typed cell, as Excel would."""
    if isinstance(value, str):
        if re.fullmatch(r"-?\d{1,9}", value):
            return int(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            with contextlib.suppress(ValueError):
                return dt.datetime.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value


def replace_zip_member(data: bytes, member: str, new: bytes | None) -> bytes:
    """The workbook zip with one member replaced (or removed when ``new`` is None)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != member:
                target.writestr(item, source.read(item.filename))
            elif new is not None:
                target.writestr(item, new)
    return out.getvalue()


XLSX_PARTS = (
    "xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/sharedStrings.xml", "xl/styles.xml",
    "[Content_Types].xml", "xl/_rels/workbook.xml.rels", "_rels/.rels",
)  # fmt: skip


def _share(draw, length: int) -> int:
    """A position in a workbook's bytes, drawn as a share of its length: the zip holds
    save times, so its length varies by a few bytes between runs and a drawn absolute
    position would not replay."""
    return length * draw(st.integers(0, 1000)) // 1000


@st.composite
def xlsx_bytes(draw, table: Table) -> tuple[bytes, str]:
    """Serialise a table as an XLSX workbook, with drawn Excel-specific hostilities."""
    book = openpyxl.Workbook()
    sheet = book.active
    notes = ["xlsx"]
    if draw(st.integers(0, 9)) == 0:
        book.create_sheet("Empty", 0)
        notes.append("empty first sheet")
    typed = draw(st.booleans())
    for line in table.preamble:
        sheet.append([_xlsx_value(line)])
    sheet.append([_xlsx_value(h) for h in table.header])
    for row in table.rows:
        sheet.append([_xlsx_value(_typed(v) if typed else _cell_text(v)) for v in row])
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["junk", "formula", "error", "date", "huge", "far"]))
        row = draw(st.integers(1, len(table.rows) + len(table.preamble) + 3))
        column = draw(st.integers(1, max(len(table.header), 1) + 3))
        if kind == "far":
            row, column = draw(st.sampled_from([(1_048_576, 1), (60_000, 3), (2, 16_384)]))
        value = {
            "junk": draw(st.sampled_from([*PLANTED, "x", 3.5, True, dt.time(10, 30)])),
            "formula": draw(st.sampled_from(["=1/0", "=SUM(A1:A3)", '="a"&"b"', "=NOW()"])),
            "error": draw(st.sampled_from(["#DIV/0!", "#N/A", "#VALUE!", "#REF!"])),
            "date": draw(st.sampled_from([dt.datetime(1900, 1, 1), dt.datetime(9999, 12, 31)])),
            "huge": "y" * 100_001,
            "far": "z",
        }[kind]
        sheet.cell(row=row, column=column, value=_xlsx_value(value))
        notes.append(f"{kind}@{row},{column}")
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    variant = draw(
        st.sampled_from(
            ["plain"] * 6
            + ["dimension_lie", "broken_part", "missing_part", "truncate", "not_workbook"]
        )
    )
    if variant == "dimension_lie":
        sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
        lie = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', sheet_xml)
        data = replace_zip_member(data, "xl/worksheets/sheet1.xml", lie)
    elif variant in ("broken_part", "missing_part"):
        part = draw(st.sampled_from(XLSX_PARTS))
        members = zipfile.ZipFile(io.BytesIO(data)).namelist()
        if part in members:
            original = zipfile.ZipFile(io.BytesIO(data)).read(part)
            cut = original[: _share(draw, len(original))] + draw(
                st.sampled_from([b"", b"<x", b"\x00\xff"])
            )
            data = replace_zip_member(data, part, cut if variant == "broken_part" else None)
        variant = f"{variant} {part}"
    elif variant == "truncate":
        data = data[: _share(draw, len(data))]
    elif variant == "not_workbook":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("xl/readme.txt", "not a workbook")
            archive.writestr("word/document.xml", "<w:document/>")
        data = out.getvalue()
    notes.append(variant)
    return data, " ".join(notes)


# -------------------------------------------------------------------------- whole files
DEGENERATE = (
    b"", b"   ", b"\n\n\r\n", b" \t \n ", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00", b"\x00" * 64,
    b"PK\x03\x04", b"PK\x03\x04xl/" + b"\x00" * 40, b",,,\n,,,\n", b"#\n", b"\xef\xbb\xbf\n\n",
)  # fmt: skip


@dataclass(frozen=True)
class ExportFile:
    """A file to feed the pipeline: its name, bytes and how it was made (for failures)."""

    name: str
    data: bytes
    how: str

    def __repr__(self) -> str:  # hypothesis prints this on failure: keep it short
        preview = self.data[:300]
        return f"ExportFile(name={self.name!r}, how={self.how!r}, size={len(self.data)}, head={preview!r})"


@st.composite
def hostile_file(draw, adapter: str, stem: str = "MIG-7") -> ExportFile:
    """A corrupted export of ``adapter`` (see the module docstring for what is drawn)."""
    shape = draw(st.sampled_from(["csv"] * 7 + ["xlsx"] * 2 + ["degenerate"]))
    if shape == "degenerate":
        kind = draw(st.sampled_from(["fixed", "header_only_bom", "random"]))
        if kind == "fixed":
            data = draw(st.sampled_from(DEGENERATE))
        elif kind == "header_only_bom":
            header = ",".join(c.header for c in COLUMNS[adapter] if c.required)
            data = (
                "\ufeff".encode() + header.encode() + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
            )
        else:
            data = draw(st.binary(max_size=200))
        suffix = draw(st.sampled_from([".csv", ".csv", ".xlsx", ".txt"]))
        return ExportFile(f"{stem}{suffix}", data, f"degenerate {kind}")
    table = draw(valid_table(adapter))
    table = draw(corrupt_cells(table))
    table = draw(mutate_structure(adapter, table))
    if adapter == "diary_attacks":
        table = draw(attack_layout(table))
    if shape == "xlsx":
        data, how = draw(xlsx_bytes(table))
        suffix = draw(st.sampled_from([".xlsx"] * 5 + [".csv"]))
    else:
        data, how = draw(csv_bytes(table))
        data, damage = draw(corrupt_bytes(data))
        how += " " + " ".join(damage)
        suffix = draw(st.sampled_from([".csv"] * 9 + [".xlsx"]))
    return ExportFile(f"{stem}{suffix}", data, f"{how} | {' '.join(table.notes)}")


# --------------------------------------------------------------------- valid variants
VALID_PREAMBLE = (
    "Migraine Buddy export",
    "Name: Rosalind Featherstonehaugh",
    "",
    'Exported by "Migraine Buddy", version 7,2',
    "Period: 01/01/2025 - 31/03/2025",
)


@st.composite
def valid_file(draw, adapter: str, stem: str = "MIG-7") -> tuple[ExportFile, int]:
    """A valid export in any supported layout, and how many data rows it has.

    CSV with ``,`` ``;`` tab or ``|``, LF / CRLF / CR line endings, UTF-8 with or without
    BOM, cp1252 or UTF-16 with BOM; or XLSX with text or typed cells. Attack logs get
    0-10 preamble lines. Every row must be accepted (or be an exact duplicate).
    """
    table = draw(valid_table(adapter))
    if adapter == "diary_attacks":
        count = draw(st.integers(0, 10))
        table.preamble = [draw(st.sampled_from(VALID_PREAMBLE)) for _ in range(count)]
    if draw(st.integers(0, 4)) == 0:
        book = openpyxl.Workbook()
        typed = draw(st.booleans())
        for line in table.preamble:
            book.active.append([line])
        book.active.append(table.header)
        for row in table.rows:
            book.active.append([_typed(v) if typed else _cell_text(v) for v in row])
        buffer = io.BytesIO()
        book.save(buffer)
        file = ExportFile(f"{stem}.xlsx", buffer.getvalue(), f"valid xlsx typed={typed}")
        return file, len(table.rows)
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    lines = [*table.preamble, _csv_line(table.header, sep, "minimal")]
    lines += [_csv_line(r, sep, "minimal") for r in table.rows]
    data = (newline.join(lines) + newline).encode(encoding)
    how = f"valid csv sep={sep!r} newline={newline!r} {encoding} preamble={len(table.preamble)}"
    return ExportFile(f"{stem}.csv", data, how), len(table.rows)


# ----------------------------------------------------------------------------- contract
class ExampleTimeout(BaseException):
    """One example used more CPU time than its limit (a hang). BaseException: no
    ``except Exception`` in the pipeline may turn it into an InputError."""


@contextlib.contextmanager
def time_limit(cpu_seconds: float) -> Iterator[None]:
    """Raise :class:`ExampleTimeout` once the process has used ``cpu_seconds`` of CPU.

    CPU time (``ITIMER_PROF``), not wall time: a slow example on a busy CI machine is
    not a hang, an endless loop is. pytest-timeout's wall-clock SIGALRM is left alone
    and still catches a process that hangs without computing.
    """

    def on_timer(signum, frame):
        raise ExampleTimeout(f"no result after {cpu_seconds} s of CPU time")

    previous = signal.signal(signal.SIGPROF, on_timer)
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def check_input_error(error: InputError, display: str) -> None:
    """An InputError is one line, names the file first and shows no planted identifier."""
    message = str(error)
    assert len(message.splitlines()) == 1 and "\n" not in message and "\r" not in message, message
    assert message.startswith((f"{display}:", f"{display},")), (display, message)
    assert len(message) <= 500, f"unreadably long error ({len(message)} chars): {message[:200]}"
    assert find_leak([message]) is None, f"identifier in error message: {message[:300]}"


@contextlib.contextmanager
def recording_clean_table() -> Iterator[list]:
    """Record what :func:`pipeline.ingest.validate_file` gets from ``clean_table``.

    A pass-through recorder (the real function runs unchanged), so a check can look at
    the accepted rows and full quarantine behind validate_file's summary.
    """
    calls: list = []
    original = ingest.clean_table

    def record(*args, **kwargs):
        cleaned = original(*args, **kwargs)
        calls.append(cleaned)
        return cleaned

    ingest.clean_table = record
    try:
        yield calls
    finally:
        ingest.clean_table = original


def _text_cells(frame: pd.DataFrame) -> list[str]:
    """Every text cell and column name of a frame (numbers and dates cannot hold names)."""
    texts = [str(c) for c in frame.columns]
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            texts.extend(values.dropna().astype(str).tolist())
    return texts


def check_rows(accepted: pd.DataFrame, quarantine: pd.DataFrame, rows_read: int) -> None:
    """Every data row of a file is accepted or quarantined exactly once (before dedup)."""
    numbers = sorted(accepted["source_row"].tolist() + quarantine["source_row"].tolist())
    assert numbers == list(range(1, rows_read + 1)), (rows_read, numbers[:20])
    assert quarantine["message"].map(lambda m: "\n" not in m and "\r" not in m).all()
    assert (quarantine["reason"].str.len() > 0).all()


@dataclass(frozen=True)
class Outcome:
    """What one checked file gave: an error message, or the accounting."""

    error: str | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    duplicates_removed: int = 0


def check_validate_contract(path: Path, adapter: str, cpu_seconds: float = 20.0) -> Outcome:
    """Run ``validate_file`` on one file and assert the ingest contract (module docstring)."""
    with time_limit(cpu_seconds), recording_clean_table() as calls:
        try:
            report = ingest.validate_file(path, adapter, examples=10**9)
        except InputError as error:
            check_input_error(error, path.name)
            return Outcome(error=str(error))
    read, accepted = report["rows_read"], report["rows_accepted"]
    quarantined, duplicates = report["rows_quarantined"], report["duplicates_removed"]
    assert read == accepted + quarantined + duplicates, report
    assert sum(report["by_reason"].values()) == quarantined
    examples = pd.DataFrame(report["examples"], columns=["source_row", "reason", "message"])
    assert len(examples) == quarantined
    assert examples["source_row"].between(1, read).all()
    assert not examples["source_row"].duplicated().any(), "two quarantine rows for one record"
    (cleaned,) = calls
    assert cleaned.rows_read == read
    check_rows(cleaned.accepted, cleaned.quarantine, read)
    assert cleaned.accepted["patient_id"].str.fullmatch(r"P-[0-9a-f]{16}").all()
    leak = find_leak(
        _text_cells(cleaned.accepted.drop(columns="source_file"))
        + cleaned.quarantine[["message", "values", "column", "reason"]].to_numpy().ravel().tolist()
    )
    assert leak is None, f"planted identifier reached the output: {leak!r}"
    return Outcome(None, read, accepted, quarantined, duplicates)


def check_ingest_contract(
    root: Path,
    adapter: str,
    name: str,
    data: bytes,
    sibling: tuple[str, bytes, int] | None = None,
    cpu_seconds: float = 60.0,
) -> Outcome:
    """Ingest and consolidate a study of one hostile file and assert the contract.

    ``sibling`` (name, bytes, number of rows) is a valid export of the same adapter
    ingested alongside: with the same columns both are cleaned in one batch, and the
    hostile file must not cost the valid one a row.
    """
    from pipeline.config import load_config
    from pipeline.privacy import resolve_key
    from tests.ingest_helpers import run_ingest, write_study

    folder = FOLDERS[adapter]
    files = {f"{folder}/{name}": data}
    if sibling:
        files[f"{folder}/{sibling[0]}"] = sibling[1]
    study = write_study(root, files, sources={adapter: f'path = "{folder}/*"'})
    config = load_config(study)
    found = ingest.discover(config, resolve_key(config.study.salt_env, True, {}))
    display = {f.path.name: f.display for f in found}
    with time_limit(cpu_seconds):
        try:
            _, result = run_ingest(study)
        except InputError as error:
            # the valid sibling is never the file blamed
            check_input_error(error, display[name])
            return Outcome(error=str(error))
    assert find_leak(display.values()) is None, display
    dq = result.summary["data_quality"]
    inputs = {item["path"]: item for item in result.summary["inputs"]}
    assert set(inputs) == set(display.values())
    for counts in (dq, *inputs.values()):
        assert counts["rows_read"] == (
            counts["rows_accepted"] + counts["rows_quarantined"] + counts["duplicates_removed"]
        ), counts
    if sibling:
        valid = inputs[display[sibling[0]]]
        assert (valid["rows_read"], valid["rows_quarantined"]) == (sibling[2], 0), valid
    quarantine = result.tables["quarantine"]
    table = {"diary_attacks": "attacks", "patients": "patient_links"}.get(adapter, adapter)
    assert len(result.tables[table]) == dq["rows_accepted"]
    assert len(quarantine) == dq["rows_quarantined"] == sum(dq["by_reason"].values())
    for path, rows in quarantine.groupby("source_file")["source_row"]:
        assert rows.between(1, inputs[path]["rows_read"]).all()
        assert not rows.duplicated().any(), f"two quarantine rows for one record of {path}"
    texts = [json.dumps(result.summary, default=str)]
    for frame in result.tables.values():
        texts.extend(_text_cells(frame))
    leak = find_leak(texts)
    assert leak is None, f"planted identifier reached the output: {leak!r}"
    return Outcome(
        None, dq["rows_read"], dq["rows_accepted"], dq["rows_quarantined"], dq["duplicates_removed"]
    )


__all__ = [
    "ADAPTERS", "COLUMNS", "FOLDERS", "ExportFile", "Outcome", "PLANTED", "Table",
    "check_ingest_contract", "check_input_error", "check_validate_contract", "find_leak",
    "hostile_file", "recording_clean_table", "replace_zip_member", "time_limit", "valid_file",
    "valid_table",
]  # fmt: skip
