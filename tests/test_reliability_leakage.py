"""No identifier out, no live markup out: a hostile copy of the sample, run end to end.

Names, emails and phone numbers are planted in every kind of text field of every input
(free text, vocabulary fields, ids, dates, unknown columns, an attack log's preamble),
next to HTML, script and spreadsheet-formula strings. After a real run (the CLI, the
Prefect flow, a real study key) none of the identifiers, nor the key, appears in the
processed folder, the report folder (HTML, PDF text, XLSX cells, CSV, JSON, SVG), the
command's output, the Prefect logs or the Prefect artifacts; and nothing planted is
live in the HTML or the workbook.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.study_copies import copy_sample
from tests.test_report_readers import pdf_pages_text

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

PLANTED_NAMES = ("Rosalind Featherstonehaugh", "Bartholomew Quigley")
PLANTED_EMAILS = ("rosalind.f@example.org", "bart.quigley@example.com")
PLANTED_PHONES = ("+44 7700 900461", "07700 900982")
HOSTILE = (
    "<script>alert('x')</script>",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|'/c calc'!A0",
    "@SUM(1+1)",
    "<img src=x onerror=alert(1)>",
)
KEY = "leak-test-key-" + "9f3c" * 8


def _rewrite_csv(path: Path, change, encoding: str = "utf-8", delimiter: str = ",") -> None:
    """Apply ``change(row_number, row_dict) -> row_dict`` to every data row of a CSV file."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig" if bom else encoding)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = [change(i, dict(row)) for i, row in enumerate(reader, start=1)]
    fields = list(rows[0])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding))


def _plant(raw: Path) -> None:
    name, name2 = PLANTED_NAMES
    email, email2 = PLANTED_EMAILS
    phone, phone2 = PLANTED_PHONES
    hostile = " ".join(HOSTILE)

    def sessions(i, row):
        if i % 7 == 0:  # free text: service (still a therapy), adverse-event text
            row["service"] = f"{row['service']} {hostile} for {name}"
            row["adverse_event"] = f"headache, told {email} / {phone}"
        if i == 5:
            row["status"] = name2  # vocabulary field
        if i == 6:
            row["date"] = email2  # date field
        if i == 8:
            row["start_time"] = phone2  # time field
        return {**row, "notes": f"{name} {hostile}"}  # a column the pipeline does not know

    for path in sorted((raw / "sessions").glob("*.csv")):
        _rewrite_csv(path, sessions)

    def diary(i, row):
        if i % 11 == 0:
            row["acute_medication"] = f"Sumatriptan 50mg; {hostile}; {name2}"
        if i == 3:
            row["headache"] = name
        if i == 4:
            row["date"] = email
        if i == 9:
            row["patient_id"] = name2  # an id that is a name: pseudonymised like any id
        return {**row, "comment": f"{email2} {phone}"}

    _rewrite_csv(raw / "diaries" / "daily_site_a.csv", diary)
    for path in sorted((raw / "attacks").glob("*.csv"))[:3]:
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[1] = f"Name: {name}, {email}, {phone}"
        header = next(i for i, line in enumerate(lines) if line.startswith("#"))
        columns = next(csv.reader([lines[header]]))
        body = list(csv.reader(io.StringIO("\n".join(lines[header + 1 :]))))
        if body:
            body[0][columns.index("Notes")] = f"{hostile} {name2} {phone2}"
            body[0][columns.index("Triggers")] = f"{email2}"
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([columns, *body])
        path.write_text("\n".join(lines[:header]) + "\n" + out.getvalue(), encoding="utf-8")


def _identifiers(raw: Path) -> set[str]:
    """Every name, email and phone in the inputs (the sample's own and the planted ones)."""
    found = {*PLANTED_NAMES, *PLANTED_EMAILS, *(p.replace(" ", "")[-9:] for p in PLANTED_PHONES)}
    for path in sorted((raw / "sessions").glob("*.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))):
            for column in ("client_name", "practitioner", "email"):
                value = (row.get(column) or "").strip()
                if value:
                    found.add(value)
            digits = "".join(c for c in row.get("phone", "") if c.isdigit())
            if len(digits) >= 9:
                found.add(digits[-9:])
    for row in csv.DictReader(
        io.StringIO((raw / "patients" / "patients.csv").read_text(encoding="utf-8"))
    ):
        if row.get("email", "").strip():
            found.add(row["email"].strip())
    found = {value for value in found if len(value) >= 5 and value not in HOSTILE}
    return {value.lower() for value in found}


def _texts(folder: Path) -> list[str]:
    """The text content of every file under a folder, read the way a person would."""
    texts: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            texts.append(" ".join(table.column_names))
            for column in table.columns:
                texts.extend(str(v) for v in column.to_pylist() if isinstance(v, str))
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            texts.extend(
                str(v)
                for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)
                for v in row
                if v is not None
            )
        elif path.suffix == ".pdf":
            texts.extend(pdf_pages_text(path.read_bytes()))
        elif path.suffix == ".png":
            continue
        else:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def _assert_clean(texts: list[str], identifiers: set[str], where: str) -> None:
    blob = "\n".join(texts).lower()
    leaked = sorted(i for i in identifiers if i in blob)
    assert leaked == [], f"identifiers in {where}: {leaked[:5]}"
    assert KEY.lower() not in blob, f"the study key appears in {where}"


def test_no_identifier_or_live_markup_reaches_any_output(tmp_path):
    from prefect.settings import PREFECT_API_URL

    study = copy_sample(tmp_path, demo=False)
    raw = tmp_path / "raw"
    _plant(raw)
    identifiers = _identifiers(raw)
    assert len(identifiers) > 50  # the sample's own clients, practitioners, emails, phones
    with pytest.raises(AssertionError, match="identifiers in"):  # the detector does detect
        _assert_clean(_texts(raw), identifiers, "the raw exports")

    api = PREFECT_API_URL.value()
    env = {**os.environ, "PREFECT_API_URL": api, "OUTCOME_STUDY_SALT": KEY}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("outcome-study")), "run", "--config", str(study)],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    report = (tmp_path / "reports" / "latest").resolve()
    results = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert results["data_quality"]["rows_quarantined"] > 40  # the planted junk was quarantined
    _assert_clean(_texts(tmp_path / "processed"), identifiers, "data/processed")
    _assert_clean(_texts(report), identifiers, "the report folder")
    _assert_clean([done.stdout, done.stderr], identifiers, "the command's output")
    logs = httpx.post(
        f"{api}/logs/filter", json={"limit": 200, "offset": 0, "sort": "TIMESTAMP_ASC"}, timeout=30
    )
    messages = [entry["message"] for entry in logs.json()]
    offset = 200
    while len(messages) == offset:
        more = httpx.post(
            f"{api}/logs/filter",
            json={"limit": 200, "offset": offset, "sort": "TIMESTAMP_ASC"},
            timeout=30,
        )
        messages += [entry["message"] for entry in more.json()]
        offset += 200
    assert any("rows read" in m for m in messages)
    _assert_clean(messages, identifiers, "the Prefect logs")
    artifacts = httpx.post(
        f"{api}/artifacts/filter",
        json={"limit": 200, "offset": 0, "sort": "CREATED_DESC"},
        timeout=30,
    )
    contents = [
        json.dumps(a.get("data")) + json.dumps(a.get("description")) for a in artifacts.json()
    ]
    assert contents
    _assert_clean(contents, identifiers, "the Prefect artifacts")

    # nothing planted is live: no script or handler in the page, no formula in the workbook
    html = (report / "report.html").read_text(encoding="utf-8").lower()
    assert "<script" not in html and "onerror=" not in html and "alert(" not in html
    book = openpyxl.load_workbook(report / "tables.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not cell.value.lstrip().startswith(("=", "+", "@")), (
                        sheet.title,
                        cell.value,
                    )
