"""Each adapter on small hand-written exports: exact counts and reasons."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.ingest import validate_file
from tests.ingest_helpers import by_file, run_ingest, write_study

DIARY_HEADER = (
    "patient_id,date,headache,migraine,peak_pain,pain_hours,acute_medication,stress,sleep_quality\n"
)


def quarantine_of(result, path: str) -> pd.DataFrame:
    q = result.tables["quarantine"]
    return q[q["source_file"] == path].sort_values("source_row").reset_index(drop=True)


def test_diary_daily_problems_are_quarantined_with_exact_reasons(tmp_path):
    study = write_study(
        tmp_path,
        {
            "diaries/d.csv": DIARY_HEADER
            + "MIG-1,2025-02-01,yes,yes,7,5,Sumatriptan 50mg,3,6\n"  # 1 ok
            + "MIG-1,2025-02-30,no,,,,,2,7\n"  # 2 impossible date
            + "MIG-1,2025-02-03,maybe,,,,,2,7\n"  # 3 unknown yes/no word
            + "MIG-1,2025-02-04,no,,12,,,2,7\n"  # 4 pain above 10
            + "MIG-1,2025-02-05,no,,,,,-1,7\n"  # 5 stress below 0
            + "MIG-1,2025-02-06,,,,,,2,7\n"  # 6 headache missing
            + "MIG-1,2025-02-07,n,,,,,2,7\n"  # 7 ok
            + "MIG-1,2025-02-07,n,,,,,2,7\n"  # 8 exact duplicate of 7
            + ",2025-02-08,n,,,,,2,7\n"  # 9 id missing
            + "MIG-1,2025-02-09,no,,,25,,2,7\n"  # 10 pain hours above 24
        },
    )
    _, result = run_ingest(study)
    counts = by_file(result)["diaries/d.csv"]
    assert counts["rows_read"] == 10
    assert counts["rows_accepted"] == 2
    assert counts["rows_quarantined"] == 7
    assert counts["duplicates_removed"] == 1
    q = quarantine_of(result, "diaries/d.csv")
    assert q["source_row"].tolist() == [2, 3, 4, 5, 6, 9, 10]
    assert q["reason"].tolist() == [
        "bad_date", "unknown_vocabulary", "out_of_range", "out_of_range", "missing_required",
        "missing_required", "out_of_range",
    ]  # fmt: skip
    assert q["column"].tolist() == [
        "date", "headache", "peak_pain", "stress", "headache", "patient_id", "pain_hours",
    ]  # fmt: skip
    assert "'2025-02-30' is not a date in the format %Y-%m-%d" in q.loc[0, "message"]
    assert "12 is above the maximum 10" in q.loc[2, "message"]
    dq = result.summary["data_quality"]
    assert dq["by_reason"] == {
        "bad_date": 1, "missing_required": 2, "out_of_range": 3, "unknown_vocabulary": 1,
    }  # fmt: skip
    assert (
        dq["rows_read"] == dq["rows_accepted"] + dq["rows_quarantined"] + dq["duplicates_removed"]
    )
    accepted = result.tables["diary_daily"].sort_values("date")
    assert accepted["migraine_specific_medication"].tolist() == [True, False]
    assert accepted["headache"].tolist() == [True, False]


def test_encodings_and_separators_are_detected(tmp_path):
    bom = "\ufeffpatient_id,date,headache\nA,2025-01-01,yes\n".encode()
    cp1252 = "patient_id;date;headache;acute_medication\nBär;2025-01-01;ja;Paracetamol – Zäpfchen\n"
    study = write_study(
        tmp_path,
        {
            "diaries/bom.csv": bom,
            "diaries/cp.csv": cp1252.encode("cp1252"),
            "diaries/tab.csv": "patient_id\tdate\theadache\nC\t2025-01-02\tno\n",
        },
        extra_toml='[study]\ndemo = true\n[vocabulary]\nyes = ["yes", "ja"]\n',
    )
    _, result = run_ingest(study)
    info = by_file(result)
    assert (info["diaries/bom.csv"]["encoding"], info["diaries/bom.csv"]["separator"]) == (
        "utf-8-sig",
        ",",
    )
    assert (info["diaries/cp.csv"]["encoding"], info["diaries/cp.csv"]["separator"]) == (
        "cp1252",
        ";",
    )
    assert info["diaries/tab.csv"]["separator"] == "\t"
    assert all(item["rows_accepted"] == 1 for item in info.values())
    diary = result.tables["diary_daily"].set_index("source_file")
    assert bool(diary.loc["diaries/cp.csv", "acute_medication"]) is True


def test_missing_required_column_names_file_and_column(tmp_path):
    study = write_study(tmp_path, {"diaries/nodate.csv": "patient_id,headache\nA,yes\n"})
    with pytest.raises(InputError) as caught:
        run_ingest(study)
    assert "diaries/nodate.csv" in str(caught.value)
    assert "column 'date'" in str(caught.value)


def test_date_format_mismatch_is_a_clear_error_with_a_hint(tmp_path):
    rows = "".join(f"A,0{d}/03/2025,no\n" for d in range(1, 5))
    study = write_study(tmp_path, {"diaries/eu.csv": "patient_id,date,headache\n" + rows})
    with pytest.raises(InputError) as caught:
        run_ingest(study)
    message = str(caught.value)
    assert "format %Y-%m-%d" in message and "look like %d/%m/%Y" in message


def test_renamed_columns_and_pain_scale_three(tmp_path):
    study = write_study(
        tmp_path,
        {
            "diaries/b.csv": "Client ID;Datum;Headache?;Worst pain (0-3)\nB1;01.02.2025;yes;3\nB1;02.02.2025;yes;4\n"
        },
        sources={
            "diary_daily": 'path = "diaries/*"\ndate_format = "%d.%m.%Y"\npain_scale = 3\n'
            'columns = { "Client ID" = "patient_id", "Datum" = "date", "Headache?" = "headache", '
            '"Worst pain (0-3)" = "peak_pain" }'
        },
    )
    _, result = run_ingest(study)
    diary = result.tables["diary_daily"]
    assert diary["peak_pain"].tolist() == [pytest.approx(10.0)]
    q = result.tables["quarantine"]
    assert q["reason"].tolist() == ["out_of_range"] and q["source_row"].tolist() == [2]


MIGRAINE_BUDDY = (
    "Migraine Buddy export\n"
    "Name: Jane Example\n"
    "Exported: 01/04/2025\n"
    "\n"
    "#,Started,Lasted,Pain Level,Pain Position,Symptoms,Auras,Premonitory Symptoms,"
    "Helpful Medication,Somewhat Helpful Medication,Unhelpful Medication,Unsure Medication,Triggers,Notes\n"
    '1,03/02/2025 22:00,"06h\n00m",7,Left,"Nausea, Sensitivity to light",,,Rizatriptan (Maxalt) 10mg,,,,Stress,call Jane\n'
    "2,05/02/2025 09:00,45m,4,,,,,,,Ibuprofen,,,\n"
    "3,05/02/2025 18:00,1d 02h 00m,6,,Sensitivity to noise,Visual,,,,,,,\n"
    "4,10/02/2025 08:00,Ongoing,5,,,,,,,,,,\n"
    "5,11/02/2025 08:00,soon,5,,,,,,,,,,\n"
)


def test_migraine_buddy_log_with_preamble_and_multi_day_attacks(tmp_path):
    study = write_study(
        tmp_path,
        {
            "attacks/MIG-7.csv": MIGRAINE_BUDDY,
            "coverage/c.csv": "patient_id,diary_start,diary_end\nMIG-7,2025-02-01,2025-02-14\n",
        },
    )
    _, result = run_ingest(study)
    attacks = result.tables["attacks"].sort_values("start").reset_index(drop=True)
    assert len(attacks) == 4
    assert attacks["duration_hours"].tolist()[:3] == [6.0, 0.75, 26.0]
    assert attacks["ongoing"].tolist() == [False, False, False, True]
    assert attacks["migraine_specific_medication"].tolist() == [True, False, False, False]
    assert attacks["nausea"].tolist() == [True, False, False, False]
    assert attacks["aura"].tolist() == [False, False, True, False]
    q = result.tables["quarantine"]
    assert q["reason"].tolist() == ["bad_duration"] and q["source_row"].tolist() == [5]

    days = result.tables["diary_days"].set_index("date")
    assert len(days) == 14  # coverage decides the recorded days
    headache_days = days.index[days["headache"]].strftime("%d").tolist()
    # attack 1 crosses midnight (3rd-4th); attacks 2+3 share the 5th, 3 runs into the 6th
    assert headache_days == ["03", "04", "05", "06", "10"]
    assert days.loc["2025-02-03", "pain_hours"] == pytest.approx(2.0)
    assert days.loc["2025-02-04", "pain_hours"] == pytest.approx(4.0)
    assert days.loc["2025-02-05", "pain_hours"] == pytest.approx(0.75 + 6.0)
    assert days.loc["2025-02-06", "pain_hours"] == pytest.approx(20.0)
    assert days.loc["2025-02-05", "peak_pain"] == 6
    assert bool(days.loc["2025-02-05", "acute_medication"]) is True
    assert bool(days.loc["2025-02-05", "phonophobia"]) is True
    # the client's name in the preamble and the notes never reach any table
    for frame in result.tables.values():
        assert not frame.astype(str).apply(lambda c: c.str.contains("Jane")).any().any()


def test_attack_log_without_coverage_records_no_days(tmp_path):
    study = write_study(tmp_path, {"attacks/MIG-8.csv": MIGRAINE_BUDDY})
    _, result = run_ingest(study)
    assert result.tables["diary_days"].empty
    assert result.summary["data_quality"]["diary"]["attack_clients_without_coverage"] == 1


def test_xlsx_questionnaires(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["patient_id", "date", "instrument", "score"])
    sheet.append(["MIG-1", dt.datetime(2025, 1, 10), "HIT-6", 64])
    sheet.append(["MIG-1", dt.datetime(2025, 4, 10), "hit 6", 55])
    sheet.append(["MIG-1", dt.datetime(2025, 4, 10), "PSS-10", 41])
    sheet.append(["MIG-1", "sometime", "PSS-10", 20])
    sheet.append(["MIG-1", dt.datetime(2025, 4, 11), "Quality of Life", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    study = write_study(tmp_path, {"questionnaires/q.xlsx": buffer.getvalue()})
    _, result = run_ingest(study)
    q = result.tables["questionnaires"].sort_values("date")
    assert q["instrument"].tolist() == ["HIT-6", "HIT-6"]
    assert q["score"].tolist() == [64.0, 55.0]
    assert q["date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-10", "2025-04-10"]
    bad = result.tables["quarantine"].sort_values("source_row")
    assert list(zip(bad["source_row"], bad["reason"], strict=True)) == [
        (3, "out_of_range"), (4, "bad_date"), (5, "unknown_instrument"),
    ]  # fmt: skip
    assert by_file(result)["questionnaires/q.xlsx"]["encoding"] == "xlsx"


SESSIONS_HEADER = (
    "client_id,client_name,email,phone,date,start_time,service,status,duration_min,"
    "practitioner,adverse_event,ae_resolved_hours\n"
)


def test_sessions_statuses_services_and_adverse_events(tmp_path):
    study = write_study(
        tmp_path,
        {
            "sessions/s.csv": SESSIONS_HEADER
            + "C1,Ann Example,ann@example.org,+44 7700 900001,03/03/2025,09:00,Craniosacral Therapy 60 min,Cancelled,,Pat Healer,,\n"
            + "C1,Ann Example,ann@example.org,+44 7700 900001,10/03/2025,09:00,Craniosacral Therapy 60 min,Completed,,Pat Healer,mild headache,5\n"
            + "C1,Ann Example,ann@example.org,+44 7700 900001,17/03/2025,09:00,Cranial Massage 45 min,Arrived,50,Pat Healer,none,\n"
            + "C1,Ann Example,ann@example.org,+44 7700 900001,20/03/2025,09:00,Deep Tissue Massage 60 min,No Show,,Pat Healer,,\n"
            + "C1,Ann Example,ann@example.org,+44 7700 900001,24/03/2025,25:00,Craniosacral Therapy 60 min,Completed,,Pat Healer,,\n"
            + "C1,Ann Example,ann@example.org,+44 7700 900001,31/03/2025,09:00,Craniosacral Therapy 60 min,Postponed,,Pat Healer,,\n"
        },
    )
    _, result = run_ingest(study)
    sessions = result.tables["sessions"].sort_values("date").reset_index(drop=True)
    assert sessions["attended"].tolist() == [False, True, True, False]
    assert sessions["is_therapy"].tolist() == [True, True, True, False]
    assert sessions["duration_min"].tolist() == [60.0, 60.0, 50.0, 60.0]
    assert sessions["adverse_event"].tolist() == [False, True, False, False]
    assert sessions["ae_resolved_hours"].tolist()[1] == 5.0
    assert sessions["practitioner"].str.fullmatch(r"S-[0-9a-f]{16}").all()
    assert sessions["patient_id"].nunique() == 1
    assert not {"service", "client_name", "email", "phone", "link_email"} & set(sessions.columns)
    q = result.tables["quarantine"].sort_values("source_row")
    assert list(zip(q["source_row"], q["reason"], strict=True)) == [
        (5, "bad_time"),
        (6, "unknown_status"),
    ]
    # identifiers never appear in the quarantine's values or messages
    text = " ".join(q["values"]) + " ".join(q["message"])
    assert "Ann" not in text and "example.org" not in text and "7700" not in text


def test_duplicates_across_overlapping_exports_are_counted_per_file(tmp_path):
    first = SESSIONS_HEADER + "".join(
        f"C1,A B,,,{d:02d}/03/2025,09:00,Craniosacral Therapy 60 min,Completed,,,,\n"
        for d in (3, 10, 17)
    )
    second = SESSIONS_HEADER + "".join(
        f"C1,A B,,,{d:02d}/03/2025,09:00,Craniosacral Therapy 60 min,Completed,,,,\n"
        for d in (10, 17, 24)
    )
    study = write_study(tmp_path, {"sessions/a.csv": first, "sessions/b.csv": second})
    _, result = run_ingest(study)
    info = by_file(result)
    assert info["sessions/a.csv"]["duplicates_removed"] == 0
    assert info["sessions/b.csv"]["duplicates_removed"] == 2
    assert len(result.tables["sessions"]) == 4
    assert result.summary["data_quality"]["duplicates_removed"] == 2


def test_conflicting_diary_rows_merge_and_are_counted(tmp_path):
    study = write_study(
        tmp_path,
        {
            "diaries/d.csv": DIARY_HEADER
            + "A,2025-02-01,no,,,,,4,6\n"
            + "A,2025-02-01,yes,yes,6,3,,2,8\n"
            + "A,2025-02-02,no,,,,,4,6\n"
        },
    )
    _, result = run_ingest(study)
    days = result.tables["diary_days"].set_index("date")
    assert len(days) == 2
    merged = days.loc["2025-02-01"]
    assert bool(merged["headache"]) and bool(merged["migraine"]) and merged["peak_pain"] == 6
    assert merged["stress"] == 3.0 and merged["sleep_quality"] == 7.0
    assert result.summary["data_quality"]["diary"] == {
        "conflict_days": 1, "conflict_rows": 2, "attack_days": 0,
        "attack_days_outside_coverage": 0, "attack_clients_without_coverage": 0,
    }  # fmt: skip
    assert by_file(result)["diaries/d.csv"]["rows_accepted"] == 3


def test_coverage_and_patients_rules(tmp_path):
    study = write_study(
        tmp_path,
        {
            "coverage/c.csv": "patient_id,diary_start,diary_end\nA,2025-01-01,2025-02-01\nB,2025-03-01,2025-02-01\n",
            "patients/p.csv": "patient_id,client_id,email,phone\nA,C9,,\nB,,,\nC,, Zed@Example.org ,\n",
            "sessions/s.csv": SESSIONS_HEADER
            + "C9,,,,03/03/2025,09:00,Craniosacral Therapy 60 min,Completed,,,,\n"
            + "C7,,zed@example.org,,03/03/2025,09:00,Craniosacral Therapy 60 min,Completed,,,,\n"
            + "C5,,,,03/03/2025,09:00,Craniosacral Therapy 60 min,Completed,,,,\n",
        },
    )
    _, result = run_ingest(study)
    q = result.tables["quarantine"].sort_values(["source_file", "source_row"])
    assert list(zip(q["source_file"], q["source_row"], q["reason"], strict=True)) == [
        ("coverage/c.csv", 2, "inverted_range"),
        ("patients/p.csv", 2, "no_link_field"),
    ]
    assert result.summary["data_quality"]["linkage"] == {
        "by_client_id": 1, "by_email": 1, "by_phone": 0, "by_name": 0, "by_shared_id": 1,
        "ambiguous_links": 0,
    }  # fmt: skip
    links = result.tables["patient_links"]
    session_ids = set(result.tables["sessions"]["patient_id"])
    assert set(links["patient_id"]) <= session_ids  # A and C are linked to their sessions
    assert len(session_ids) == 3


def test_ragged_rows_are_quarantined_not_dropped(tmp_path):
    study = write_study(
        tmp_path,
        {
            "diaries/r.csv": "patient_id,date,headache\nA,2025-01-01,yes\nA,2025-01-02,no,oops\nA,2025-01-03\n"
        },
    )
    _, result = run_ingest(study)
    counts = by_file(result)["diaries/r.csv"]
    assert (counts["rows_read"], counts["rows_accepted"], counts["rows_quarantined"]) == (3, 1, 2)
    q = result.tables["quarantine"].sort_values("source_row")
    assert q["reason"].tolist() == ["malformed_row", "missing_required"]
    assert "row has 4 fields, the header has 3" in q["message"].iloc[0]


def test_validate_file_reports_without_writing(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(
        DIARY_HEADER + "A,2025-01-01,yes,,,,,3,5\nA,2025-01-02,yes,,11,,,3,5\n", encoding="utf-8"
    )
    report = validate_file(path, "diary_daily")
    assert (report["rows_read"], report["rows_accepted"], report["rows_quarantined"]) == (2, 1, 1)
    assert report["by_reason"] == {"out_of_range": 1}
    assert report["examples"][0]["source_row"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]


def test_identical_attacks_of_two_clients_are_not_duplicates(tmp_path):
    log = "#,Started,Lasted,Pain Level\n1,03/02/2025 08:00,02h 00m,5\n"
    coverage = (
        "patient_id,diary_start,diary_end\nc3,2025-02-01,2025-02-05\nc4,2025-02-01,2025-02-05\n"
    )
    study = write_study(
        tmp_path, {"attacks/c3.csv": log, "attacks/c4.csv": log, "coverage/c.csv": coverage}
    )
    _, result = run_ingest(study)
    assert result.summary["data_quality"]["duplicates_removed"] == 0
    assert result.tables["attacks"]["patient_id"].nunique() == 2


def test_implausibly_long_coverage_is_quarantined(tmp_path):
    coverage = (
        "patient_id,diary_start,diary_end\nA,2025-01-01,2025-04-01\nB,0001-01-01,9999-12-31\n"
    )
    study = write_study(tmp_path, {"coverage/c.csv": coverage})
    _, result = run_ingest(study)
    q = result.tables["quarantine"]
    assert list(zip(q["source_row"], q["reason"], strict=True)) == [(2, "out_of_range")]
    assert "coverage longer than" in q["message"].iloc[0]
