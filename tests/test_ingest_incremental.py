"""Incremental ingest: unchanged files are not parsed again; changed files replace their rows."""

from __future__ import annotations

import pandas as pd

from pipeline import ingest, store
from pipeline.config import load_config
from pipeline.privacy import resolve_key
from tests.ingest_helpers import run_ingest, write_study

HEADER = "patient_id,date,headache\n"


def _diary(days: range, headache: str = "no") -> str:
    return HEADER + "".join(f"A,2025-01-{d:02d},{headache}\n" for d in days)


def test_unchanged_file_is_reused_and_changed_file_replaces_its_rows(tmp_path):
    study = write_study(
        tmp_path, {"diaries/a.csv": _diary(range(1, 11)), "diaries/b.csv": _diary(range(11, 16))}
    )
    entries, result = run_ingest(study)
    assert [e["reused"] for e in entries] == [False, False]
    processed = tmp_path / "processed"
    partition = processed / entries[0]["accepted"]
    written_at = partition.stat().st_mtime_ns

    # second run: nothing changed -> both reused, partition untouched
    entries2, result2 = run_ingest(study)
    assert [e["reused"] for e in entries2] == [True, True]
    assert partition.stat().st_mtime_ns == written_at
    pd.testing.assert_frame_equal(result.tables["diary_days"], result2.tables["diary_days"])

    # change b: its rows are replaced, a is still reused
    (tmp_path / "raw/diaries/b.csv").write_text(_diary(range(11, 14), "yes"), encoding="utf-8")
    entries3, result3 = run_ingest(study)
    assert [e["reused"] for e in entries3] == [True, False]
    days = result3.tables["diary_days"]
    assert len(days) == 13
    assert days.loc[days["date"] >= "2025-01-11", "headache"].tolist() == [True, True, True]
    manifest = store.read_manifest(processed)
    assert manifest["files"]["diaries/b.csv"]["sha256"] == store.file_sha256(
        tmp_path / "raw/diaries/b.csv"
    )

    # remove a: its rows and partitions disappear
    (tmp_path / "raw/diaries/a.csv").unlink()
    entries4, result4 = run_ingest(study)
    assert [e["path"] for e in entries4] == ["diaries/b.csv"]
    assert len(result4.tables["diary_days"]) == 3
    assert not partition.exists()
    assert sorted(store.read_manifest(processed)["files"]) == ["diaries/b.csv"]


def test_settings_change_reingests(tmp_path):
    study = write_study(tmp_path, {"diaries/a.csv": _diary(range(1, 5))})
    run_ingest(study)
    text = study.read_text(encoding="utf-8").replace(
        "[study]\ndemo = true", '[study]\ndemo = true\n[vocabulary]\nno = ["no", "nope"]'
    )
    study.write_text(text, encoding="utf-8")
    entries, _ = run_ingest(study)
    assert [e["reused"] for e in entries] == [False]


def test_other_key_reingests_and_changes_pseudonyms(tmp_path):
    study = write_study(tmp_path, {"diaries/a.csv": _diary(range(1, 5))})
    _, demo = run_ingest(study)
    entries, keyed = run_ingest(study, environ={"OUTCOME_STUDY_SALT": "x" * 32})
    assert [e["reused"] for e in entries] == [False]
    assert set(demo.tables["diary_days"]["patient_id"]).isdisjoint(
        keyed.tables["diary_days"]["patient_id"]
    )


def test_written_tables_round_trip(tmp_path):
    study = write_study(tmp_path, {"diaries/a.csv": _diary(range(1, 5))})
    config = load_config(study)
    key = resolve_key(config.study.salt_env, True, {})
    result = ingest.consolidate(config, ingest.ingest(config, key))
    ingest.write_tables(config, result)
    loaded = ingest.load_tables(config.processed_dir)
    assert set(loaded) == set(ingest.TABLES)
    pd.testing.assert_frame_equal(
        loaded["diary_days"], result.tables["diary_days"], check_dtype=False
    )
    leftovers = [p.name for p in config.processed_dir.rglob("*.tmp")]
    assert leftovers == []
