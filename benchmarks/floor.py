"""The floor: the least any analysis of a study must do, as fast as plain pyarrow goes.

Read the session, linkage and daily-diary CSVs with pyarrow, find each client's first
attended therapy session, window the diary days, count migraine days per client in the
baseline and primary window, and run one paired t test. No validation, quarantine,
pseudonyms, attack logs or report: the pipeline's time is quoted as a ratio to this.

Usage: ``python benchmarks/floor.py STUDY_FOLDER`` (a study written by
``outcome-study simulate``); prints the wall time and the t statistic.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from scipy import stats

YES = pa.array(["yes", "y", "true", "1", "x", "t", "ja"])
ATTENDED = pa.array(["completed", "arrived", "attended"])


def read_csv(path: Path, delimiter: str = ",", encoding: str = "utf8") -> pa.Table:
    """A CSV file as a table (empty strings stay empty strings, not nulls)."""
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=False, auto_dict_encode=False),
    )


def day_number(values: pa.ChunkedArray, fmt: str) -> pa.ChunkedArray:
    """Days since 1970-01-01 (int32), null where the text is not a date."""
    parsed = pc.strptime(pc.cast(values, pa.string()), format=fmt, unit="s", error_is_null=True)
    return pc.cast(pc.cast(parsed, pa.date32()), pa.int32())


def text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_lower(pc.cast(values, pa.string()))


def floor(study: Path) -> float:
    """Paired t statistic of migraine days per 28 (primary window - baseline)."""
    sessions = pa.concat_tables([read_csv(p) for p in sorted((study / "sessions").glob("*.csv"))])
    therapy = pc.and_(
        pc.match_substring_regex(pc.cast(sessions["service"], pa.string()), "(?i)cranio|cranial"),
        pc.is_in(text(sessions["status"]), ATTENDED),
    )
    visits = pa.table(
        {
            "client_id": pc.cast(sessions["client_id"], pa.string()),
            "day": day_number(sessions["date"], "%d/%m/%Y"),
        }
    ).filter(therapy)
    links = read_csv(study / "patients" / "patients.csv")
    links = pa.table(
        {
            "client_id": pc.cast(links["client_id"], pa.string()),
            "patient_id": pc.cast(links["patient_id"], pa.string()),
        }
    )
    visits = visits.join(links, "client_id", join_type="left outer")
    visits = visits.set_column(
        visits.column_names.index("patient_id"),
        "patient_id",
        pc.coalesce(visits["patient_id"], visits["client_id"]),
    )
    first = (
        visits.group_by("patient_id")
        .aggregate([("day", "min")])
        .rename_columns(["patient_id", "index_day"])
    )

    site_a = read_csv(study / "diaries" / "daily_site_a.csv")
    site_b = read_csv(study / "diaries" / "daily_site_b.csv", delimiter=";", encoding="cp1252")
    diary = pa.concat_tables(
        [
            pa.table(
                {
                    "patient_id": pc.cast(site_a["patient_id"], pa.string()),
                    "day": day_number(site_a["date"], "%Y-%m-%d"),
                    "migraine": pc.is_in(text(site_a["migraine"]), YES),
                }
            ),
            pa.table(
                {
                    "patient_id": pc.cast(site_b["Client ID"], pa.string()),
                    "day": day_number(site_b["Datum"], "%d.%m.%Y"),
                    "migraine": pc.is_in(text(site_b["Headache?"]), YES),
                }
            ),
        ]
    ).join(first, "patient_id", join_type="inner")
    offset = pc.subtract(diary["day"], diary["index_day"])

    def per_28(first_day: int, last_day: int) -> pa.Table:
        inside = pc.and_(pc.greater_equal(offset, first_day), pc.less_equal(offset, last_day))
        window = (
            diary.filter(inside)
            .group_by("patient_id")
            .aggregate([("day", "count"), ("migraine", "sum")])
        )
        recorded = window["day_count"]
        rate = pc.divide(
            pc.multiply(pc.cast(window["migraine_sum"], pa.float64()), 28.0),
            pc.cast(recorded, pa.float64()),
        )
        return pa.table({"patient_id": window["patient_id"], "rate": rate}).filter(
            pc.greater_equal(recorded, 14)
        )

    paired = per_28(-28, -1).join(
        per_28(56, 83),
        "patient_id",
        left_suffix="_before",
        right_suffix="_after",
        join_type="inner",
    )
    before = paired["rate_before"].to_numpy()
    after = paired["rate_after"].to_numpy()
    return float(stats.ttest_rel(after, before).statistic) if len(before) > 1 else float(np.nan)


def main(argv: list[str]) -> int:
    study = Path(argv[1])
    started = time.perf_counter()
    t = floor(study)
    print(f"floor: {time.perf_counter() - started:.2f} s (t = {t:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
