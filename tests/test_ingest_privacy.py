"""Pseudonyms and identifiers: names, emails and phones never reach the processed tables."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import ingest
from pipeline.config import load_config
from pipeline.errors import KeyMissingError
from pipeline.privacy import DEMO_KEY, resolve_key, safe_preview
from tests.ingest_helpers import run_ingest, write_study

NAMES = ("Rosalind Featherstonehaugh", "Bartholomew Quigley")
EMAILS = ("rosalind.f@example.org", "bart.quigley@example.com")
PHONES = ("+44 7700 900461", "07700 900982")
PLANTED = NAMES + EMAILS + PHONES


def _planted_files() -> dict[str, str]:
    """Every text field of every input carries a name, email or phone somewhere."""
    n0, n1 = NAMES
    e0, e1 = EMAILS
    p0, p1 = PHONES
    sessions = (
        "client_id,client_name,email,phone,date,start_time,service,status,duration_min,"
        "practitioner,adverse_event,ae_resolved_hours,notes\n"
        f"C1,{n0},{e0},{p0},03/03/2025,09:00,Craniosacral Therapy 60 min {n0},Completed,,{n1},headache ({e1}),4,{p1}\n"
        f"C1,{n0},{e0},{p0},10/03/2025,{p1},Craniosacral Therapy 60 min,{n1},,{n1},,,\n"
        f"{e1},{n1},{e1},{p1},{n0},09:00,Cranial massage {e0},Completed,,{n0},{n1},,\n"
    )
    diary = (
        "patient_id,date,headache,migraine,peak_pain,acute_medication,stress,notes\n"
        f"MIG-1,2025-02-01,yes,yes,7,Sumatriptan {n0},3,{e0}\n"
        f"MIG-1,{e0},{n1},{p0},{p1},{n1},{e1},\n"
        f"{n0},2025-02-03,no,,,,,{p0}\n"
    )
    attacks = (
        f"Migraine Buddy export\nName: {n0}\nEmail: {e0}\n\n"
        "#,Started,Lasted,Pain Level,Symptoms,Auras,Helpful Medication,Triggers,Notes\n"
        f"1,03/02/2025 22:00,{n1},7,{e0},{p0},{n0},{n1},{p1}\n"
        f"2,{p0},06h 00m,{e1},Nausea {n0},,,,\n"
    )
    return {
        "sessions/s.csv": sessions,
        "diaries/d.csv": diary,
        f"attacks/{n0}.csv": attacks,  # an attack log is named after its client
        "coverage/c.csv": f"patient_id,diary_start,diary_end\n{n0},2025-02-01,2025-02-20\n{n1},{e1},{p1}\n",
        "questionnaires/q.csv": f"patient_id,date,instrument,score\nMIG-1,2025-02-01,HIT-6,60\nMIG-1,2025-02-01,{n0},{p0}\n",
        "patients/p.csv": f"patient_id,client_id,client_name,email,phone\nMIG-1,C1,{n0},{e0},{p0}\nMIG-3,,{n1},{e1},{p1}\n",
    }


def _all_text(frame: pd.DataFrame) -> str:
    return "\n".join(
        frame.astype("str").fillna("").to_numpy().ravel().tolist() + list(map(str, frame.columns))
    )


def test_planted_identifiers_never_reach_processed_tables(tmp_path):
    study = write_study(tmp_path, _planted_files())
    config = load_config(study)
    key = resolve_key(config.study.salt_env, True, {})
    result = ingest.consolidate(config, ingest.ingest(config, key))
    ingest.write_tables(config, result)
    assert len(result.tables["quarantine"]) >= 6  # the planted junk was rejected, not patched
    # the attack log named after its client links to that client's coverage (20 days)
    assert result.tables["diary_days"]["patient_id"].value_counts().max() == 20
    texts = []
    for path in sorted(config.processed_dir.rglob("*")):
        if path.suffix == ".parquet":
            texts.append(_all_text(pd.read_parquet(path)))
        elif path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    blob = "\n".join(texts).lower()
    for planted in PLANTED:
        for token in [planted, *planted.split()]:
            if len(token) >= 5 and not token.isdigit() or token.startswith("+"):
                assert token.lower() not in blob, f"{token!r} leaked into processed data"
    digits = "".join(ch for ch in blob if ch.isdigit() or ch == "\n")
    for phone in PHONES:
        assert "".join(c for c in phone if c.isdigit())[-9:] not in digits


def test_missing_key_stops_a_real_study(tmp_path):
    study = write_study(
        tmp_path,
        {"diaries/a.csv": "patient_id,date,headache\nA,2025-01-01,no\n"},
        extra_toml="[study]\n",
    )
    with pytest.raises(KeyMissingError) as caught:
        run_ingest(study)
    assert "OUTCOME_STUDY_SALT" in str(caught.value)


def test_short_key_is_refused_and_key_never_shown():
    with pytest.raises(KeyMissingError) as caught:
        resolve_key("K", False, {"K": "short-secret"})
    assert "short-secret" not in str(caught.value)
    key = resolve_key("K", False, {"K": "s3cret-" * 5})
    assert "s3cret" not in repr(key) and key.demo is False


def test_demo_key_only_for_demo_studies():
    assert resolve_key("K", True, {}).secret == DEMO_KEY.encode()
    assert resolve_key("K", True, {"K": "z" * 20}).demo is False


def test_safe_preview_redacts_identifiers_but_keeps_ordinary_values():
    shown = safe_preview(
        pd.Series(
            ["2025-02-30", "31/12/2025", "maybe", "12", "-1", *PLANTED, "call 0770 0900", "=cmd|x"]
        )
    ).tolist()
    assert shown[:5] == ["2025-02-30", "31/12/2025", "maybe", "12", "-1"]
    assert all(value.startswith("[redacted") for value in shown[5:])
