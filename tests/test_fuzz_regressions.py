"""Inputs the fuzzers of tests/test_fuzz_inputs.py broke the ingest with, one test each.

Every test feeds the failing input (reduced by hand) through the same contract check as
the fuzzers (:func:`tests.fuzz_builders.check_validate_contract`: accepted or
quarantined rows with balanced accounting, or a one-line InputError naming the file; no
other exception, no hang, no planted identifier in any output) and then asserts what the
fixed code must do with it.
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.ingest import validate_file
from pipeline.privacy import PseudonymKey, row_keys, safe_preview
from pipeline.sources import ADAPTERS
from tests.fuzz_builders import COLUMNS, check_validate_contract, replace_zip_member


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


DIARY = [["patient_id", "date", "headache"], ["A", dt.datetime(2025, 1, 1), "yes"]]


# ------------------------------------------------------------------------------ reading
def test_empty_header_cell_next_to_a_column_named_like_its_label(tmp_path):
    # was ValueError "cannot reindex on an axis with duplicate labels": the empty 4th
    # header cell was labelled __unnamed_3, the name the 5th cell already had
    path = tmp_path / "d.csv"
    path.write_bytes(b"patient_id,date,headache,,__unnamed_3\nA,2025-01-01,yes,,\n")
    outcome = check_validate_contract(path, "diary_daily")
    assert (outcome.error, outcome.rows_accepted) == (None, 1)


def test_xlsx_cell_at_the_last_row_and_column_is_read_at_once(tmp_path):
    # was a hang: read-only openpyxl padded every row to XFD and yielded all 1,048,576
    # rows (~17 billion cells); now the far cell is one malformed row
    book = openpyxl.load_workbook(io.BytesIO(_xlsx(DIARY)))
    book.active.cell(row=1_048_576, column=16_384, value="z")
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "far.xlsx"
    path.write_bytes(buffer.getvalue())
    outcome = check_validate_contract(path, "diary_daily", cpu_seconds=20)
    assert (outcome.rows_read, outcome.rows_accepted, outcome.rows_quarantined) == (2, 1, 1)


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/styles.xml"])
def test_xlsx_with_a_broken_xml_part_is_a_clean_error(tmp_path, part):
    # was xml.etree.ElementTree.ParseError escaping openpyxl.load_workbook
    data = _xlsx(DIARY)
    original = zipfile.ZipFile(io.BytesIO(data)).read(part)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(replace_zip_member(data, part, original[: len(original) // 2]))
    outcome = check_validate_contract(path, "diary_daily")
    assert outcome.error is not None
    assert "broken.xlsx: not a readable XLSX workbook" in outcome.error


def test_xlsx_with_a_broken_content_types_part_still_reads_its_intact_sheet(tmp_path):
    # the sheet and workbook parts are whole: the rows are what the sheet holds
    data = _xlsx(DIARY)
    part = "[Content_Types].xml"
    original = zipfile.ZipFile(io.BytesIO(data)).read(part)
    path = tmp_path / "broken.xlsx"
    path.write_bytes(replace_zip_member(data, part, original[: len(original) // 2]))
    outcome = check_validate_contract(path, "diary_daily")
    assert (outcome.error, outcome.rows_read, outcome.rows_accepted) == (None, 1, 1)


def test_attack_log_with_cr_line_endings_and_a_preamble_is_read(tmp_path):
    # was "no header row starting with '#'": preamble lines were split on LF only
    lines = ["Migraine Buddy export", "Name: someone", "#;Started;Lasted", "1;2025-02-03 22:00;2h"]
    path = tmp_path / "MIG-7.csv"
    path.write_bytes(("\r".join([*lines, "2;2025-02-05 09:00;45m"]) + "\r").encode())
    outcome = check_validate_contract(path, "diary_attacks")
    assert (outcome.error, outcome.rows_accepted) == (None, 2)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_header_only_exports_give_no_rows(tmp_path, adapter, form):
    # sessions was RuntimeError "canonical column 'status' fails dtype": on zero rows
    # .str.split().str.join() returns object dtype
    header = [c.header for c in COLUMNS[adapter]]
    path = tmp_path / f"MIG-7.{form}"
    path.write_bytes(_xlsx([header]) if form == "xlsx" else ",".join(header).encode() + b"\r\n")
    outcome = check_validate_contract(path, adapter)
    assert (outcome.error, outcome.rows_read) == (None, 0)


# ------------------------------------------------------------------------ error messages
def test_a_huge_header_cell_named_twice_gives_a_short_one_line_error(tmp_path):
    # was a 100 KB "one-line" message quoting the whole cell
    huge = "y" * 100_001
    path = tmp_path / "c.csv"
    path.write_text(f"patient_id,diary_start,diary_end,{huge},{huge}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        validate_file(path, "coverage")
    message = str(caught.value)
    assert message == (
        "c.csv, column '[redacted: 100001 chars]': header cells 4 and 5 name the same column"
    )


def test_a_name_in_a_repeated_header_cell_is_not_shown(tmp_path):
    # the header of a misplaced line can hold a client's name: it was quoted verbatim
    path = tmp_path / "c.csv"
    path.write_text(
        "Rosalind Featherstonehaugh,patient_id,diary_start,diary_end,rosalind featherstonehaugh\n"
    )
    with pytest.raises(InputError) as caught:
        validate_file(path, "coverage")
    assert "rosalind" not in str(caught.value).lower()
    assert "header cells 1 and 5 name the same column" in str(caught.value)


def test_a_known_column_named_twice_is_still_named(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("patient_id,Diary Start,diary_end, diary_start \n")
    with pytest.raises(InputError) as caught:
        validate_file(path, "coverage")
    assert str(caught.value) == (
        "c.csv, column 'diary_start': header cells 2 and 4 name the same column"
    )


REFUSED = {
    "empty": ("diary_daily", b""),
    "whitespace": ("diary_daily", b" \r\n\t\n"),
    "bom only": ("diary_daily", b"\xef\xbb\xbf"),
    "binary": ("diary_daily", b"\x00\x01\x02patient_id\n"),
    "bad utf-8 after a bom": ("diary_daily", b"\xef\xbb\xbfpatient_id,date\n\xff\n"),
    "odd utf-16": ("diary_daily", b"\xff\xfep\x00a"),
    "missing column": ("sessions", b"client_id,date,service\nC1,2025-01-01,x\n"),
    "no # marker": ("diary_attacks", b"x\ny\n" * 6 + b"#,Started\n"),
    "not a workbook": ("coverage", b"PK\x03\x04xl/" + b"\x00" * 40),
    "dates in another format": ("questionnaires", b"patient_id,date,instrument,score\n"
                                + b"A,01/02/2025,MIDAS,3\n" * 3),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_every_input_error_is_one_line_naming_the_file(tmp_path, case):
    adapter, data = REFUSED[case]
    path = tmp_path / "export 1.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        validate_file(path, adapter)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message and len(message.splitlines()) == 1
    assert message.startswith(("export 1.csv: ", "export 1.csv, column '"))


# ------------------------------------------------------------------------------ privacy
def test_names_made_of_two_letter_words_are_redacted():
    # "Bo Li" was shown: only words of 3+ letters had to be expected words
    shown = safe_preview(pd.Series(["Bo Li", "Jo Ng", "06h 00m", "n/a", "5 mg", "10 am", "3rd"]))
    assert shown.tolist() == [
        "[redacted: 5 chars]", "[redacted: 5 chars]", "06h 00m", "n/a", "5 mg", "10 am", "3rd",
    ]  # fmt: skip


def test_a_two_letter_name_in_a_date_column_stays_out_of_quarantine(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"patient_id;diary_start;diary_end\rBo Li;Bo Li;\x0b")
    outcome = check_validate_contract(path, "coverage")  # asserts no planted identifier
    assert (outcome.rows_read, outcome.rows_quarantined) == (1, 1)
    report = validate_file(path, "coverage")
    assert "'[redacted: 5 chars]' is not a date" in report["examples"][0]["message"]


# ------------------------------------------------------------------------------ parsing
def test_an_absurd_attack_duration_is_quarantined_not_an_overflow(tmp_path):
    # was OutOfBoundsTimedelta computing end = start + 1e29 hours
    path = tmp_path / "MIG-7.csv"
    path.write_text(
        "#,Started,Lasted\n1,2025-02-03 22:00,99999999999999999999999999999h\n"
        "2,2025-02-04 22:00,745h\n3,2025-02-05 22:00,744h\n"
    )
    outcome = check_validate_contract(path, "diary_attacks")
    assert (outcome.rows_accepted, outcome.rows_quarantined) == (1, 2)
    reasons = [e["reason"] for e in validate_file(path, "diary_attacks")["examples"]]
    assert reasons == ["out_of_range", "out_of_range"]


# ---------------------------------------------------------------------------- row keys
KEY = PseudonymKey(secret=b"k" * 32, demo=False)


def test_row_keys_compare_trimmed_values_column_by_column():
    frame = pd.DataFrame(
        {"a": ["x", " x ", "1", "x", None], "b": ["1", "1", "x", "1 ", ""]}, dtype="str"
    )
    keys = row_keys(frame, KEY)
    assert keys[0] == keys[1] == keys[3]  # surrounding spaces do not count
    assert keys[0] != keys[2]  # the same values in the other columns are another record
    assert row_keys(frame[["b", "a"]], KEY).tolist() == keys.tolist()  # column order
    assert (
        row_keys(frame.iloc[4:], KEY)[0]
        == row_keys(pd.DataFrame({"a": [""], "b": [""]}, dtype="str"), KEY)[0]
    )  # missing = empty
    assert row_keys(frame, PseudonymKey(b"z" * 32, False))[0] != keys[0]  # keyed
    assert row_keys(frame.iloc[:0], KEY).dtype == np.int64


def test_row_keys_of_a_very_wide_file_cost_no_pandas_call_per_column():
    # a 10,000-column header took ~3 s of row hashing (one strip per column); the cost
    # now grows with the cells, not with pandas calls per column
    wide = pd.DataFrame(
        [[f"v{j}" for j in range(20_000)]] * 2, columns=[f"c{j}" for j in range(20_000)]
    ).astype("str")
    started = time.process_time()
    keys = row_keys(wide, KEY)
    assert time.process_time() - started < 2.5  # was ~5.5 s of CPU
    assert keys[0] == keys[1]
