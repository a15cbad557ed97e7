"""Random and corrupted rows: row accounting always holds and nothing raises.

A file may stop the run with an InputError (exit 2, one line); anything else raised is
a bug.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import InputError
from tests.ingest_helpers import run_ingest, write_study

HEADER = ["patient_id", "date", "headache", "migraine", "peak_pain", "acute_medication", "stress"]
GOOD = {
    "patient_id": st.sampled_from(["A", "B", "MIG-7"]),
    "date": st.dates().map(lambda d: d.isoformat()),
    "headache": st.sampled_from(["yes", "no", "Y", "0"]),
    "migraine": st.sampled_from(["", "yes", "no"]),
    "peak_pain": st.integers(0, 10).map(str),
    "acute_medication": st.sampled_from(["", "Sumatriptan 50mg", "ibuprofen; naproxen"]),
    "stress": st.integers(0, 10).map(str),
}
JUNK = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["", "maybe", "2025-02-30", "-3", "999", "=1+1", '"', "a,b", "x;y", "\n", "\x00"]
    ),
)


@st.composite
def rows(draw):
    row = []
    for column in HEADER:
        value = draw(st.one_of(GOOD[column], JUNK)) if draw(st.booleans()) else draw(GOOD[column])
        row.append(value)
    extra = draw(st.integers(-2, 2))
    return row[: len(row) + extra] if extra < 0 else row + ["z"] * extra


def _csv_line(row: list[str], sep: str) -> str:
    return sep.join(
        '"' + v.replace('"', '""') + '"' if any(c in v for c in (sep, '"', "\n", "\r")) else v
        for v in row
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(rows(), max_size=25),
    duplicate=st.booleans(),
    sep=st.sampled_from([",", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    truncate=st.integers(0, 40),
)
def test_random_rows_keep_the_accounting(data, duplicate, sep, encoding, truncate):
    if duplicate and data:
        data = data + data[:3]
    text = "\n".join([sep.join(HEADER), *(_csv_line(r, sep) for r in data)]) + "\n"
    payload = text.encode(encoding, errors="replace")
    if truncate and len(payload) > truncate:
        payload = payload[: len(payload) - truncate]
    root = Path(tempfile.mkdtemp())
    try:
        study = write_study(root, {"diaries/d.csv": payload})
        try:
            _, result = run_ingest(study)
        except InputError as error:
            assert "\n" not in str(error) and str(error).startswith("diaries/d.csv")
            return
        dq = result.summary["data_quality"]
        assert (
            dq["rows_read"]
            == dq["rows_accepted"] + dq["rows_quarantined"] + dq["duplicates_removed"]
        )
        assert dq["rows_quarantined"] == len(result.tables["quarantine"])
        assert dq["rows_accepted"] == len(result.tables["diary_daily"])
        assert sum(dq["by_reason"].values()) == dq["rows_quarantined"]
        assert result.tables["quarantine"]["source_row"].between(1, max(dq["rows_read"], 1)).all()
    finally:
        shutil.rmtree(root, ignore_errors=True)
