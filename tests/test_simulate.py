"""Tests of the synthetic study generator (pipeline.simulate).

The sample-sized study is written once per module; the large-n checks of the planted
effect generate only the daily data in memory (``simulate_diary_days``). Expected values
are derived here from the model's definition, not read back from the generator.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from pipeline.config import DefinitionsSection, MedicationsSection, VocabularySection, load_config
from pipeline.simulate import SimulationSettings, simulate_diary_days, simulate_study
from pipeline.simulate.vocab import medication_labels

N_SAMPLE, SEED = 60, 2026
LARGE_N = 20_000
VOCABULARY = VocabularySection()
YES_NO = {w.lower() for w in (*VOCABULARY.yes, *VOCABULARY.no)}
YES = {w.lower() for w in VOCABULARY.yes}
SPECIFIC = [n for names in MedicationsSection().migraine_specific.values() for n in names]
SPECIFIC_RE = re.compile(r"\b(" + "|".join(map(re.escape, SPECIFIC)) + r")\b", re.IGNORECASE)
STATUSES = {w.lower() for w in (*VOCABULARY.attended, *VOCABULARY.not_attended)}
ATTENDED = {w.lower() for w in VOCABULARY.attended}
INSTRUMENT_RANGES = {"HIT-6": (36, 78), "PSS-10": (0, 40)}
VALIDATION_KINDS = {"out_of_range", "bad_date", "unknown_vocabulary", "missing_required"}
FEATURES = ("aura", "nausea", "photophobia", "phonophobia")
DIARY_FILES = ("diaries/daily_site_a.csv", "diaries/daily_site_b.csv")
SESSION_FILES = ("sessions/sessions_export_2025.csv", "sessions/sessions_export_overlap.csv")


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    summary = simulate_study(out, N_SAMPLE, SEED, processed="../processed", reports="../../reports")
    return out, summary


@pytest.fixture(scope="module")
def study(written) -> Path:
    return written[0]


@pytest.fixture(scope="module")
def truth(study) -> dict:
    return json.loads((study / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config(study):
    return load_config(study / "study.toml")


def _source(config, path: str):
    return next(s for s in config.sources if s.path == path or Path(path).match(s.path))


def read_csv(study: Path, config, path: str) -> tuple[list[str], list[list[str]]]:
    """Canonical header and records of a CSV export, decoded as the file is encoded."""
    raw = (study / path).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        text = raw[3:].decode("utf-8")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    renames = {k.strip().lower(): v for k, v in _source(config, path).columns.items()}
    header = [renames.get(h.strip().lower(), h.strip().lower()) for h in records[0]]
    return header, records[1:]


def read_attack_log(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    """Preamble lines, header and records of an attack-log file."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("#,"))
    records = list(csv.reader(io.StringIO("\n".join(lines[at:]), newline="")))
    return lines[:at], records[0], [r for r in records[1:] if r]


def read_questionnaires(study: Path) -> tuple[list[str], list[list]]:
    sheet = openpyxl.load_workbook(study / "questionnaires/questionnaires.xlsx").active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [str(h) for h in rows[0]], rows[1:]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_date(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- determinism
def _all_bytes(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    simulate_study(tmp_path / "a", 30, 7)
    simulate_study(tmp_path / "b", 30, 7)
    simulate_study(tmp_path / "c", 30, 8)
    first, second, other = (_all_bytes(tmp_path / x) for x in "abc")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    for name in (*DIARY_FILES, *SESSION_FILES, "questionnaires/questionnaires.xlsx", "truth.json"):
        assert first[name] != other[name], name


def test_an_occupied_folder_is_refused_unless_overwrite_is_asked(tmp_path):
    simulate_study(tmp_path, 12, 3)
    stale = tmp_path / "attacks" / "MIG-999.csv"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("left over from an earlier, larger study")
    with pytest.raises(FileExistsError):
        simulate_study(tmp_path, 12, 3)
    simulate_study(tmp_path, 12, 3, overwrite=True)
    assert not stale.exists() and (tmp_path / "truth.json").exists()


def test_summary_is_json_and_counts_what_was_written(written, truth):
    study, summary = written
    payload = json.loads(json.dumps(summary.to_dict()))
    assert payload["n_patients"] == N_SAMPLE and payload["seed"] == SEED
    for name in (*DIARY_FILES, *SESSION_FILES, "patients/patients.csv", "coverage/coverage.csv"):
        with (study / name).open("rb") as handle:
            lines = handle.read().count(b"\n")
        assert payload["files"][name] == lines - 1, name
    n_attacks = sum(len(read_attack_log(p)[2]) for p in (study / "attacks").glob("*.csv"))
    assert payload["files"]["attacks/*.csv"] == n_attacks
    kinds = Counter(p["kind"] for items in truth["problems"].values() for p in items)
    assert payload["planted_problems"] == {k: kinds.get(k, 0) for k in payload["planted_problems"]}


# --------------------------------------------------------------------------- formats
def test_session_exports_have_a_bom_and_the_contract_columns(study, config):
    for name in SESSION_FILES:
        raw = (study / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        header, rows = read_csv(study, config, name)
        assert header == [
            "client_id", "client_name", "email", "phone", "date", "start_time", "service",
            "status", "duration_min", "practitioner", "adverse_event", "ae_resolved_hours",
        ]  # fmt: skip
        assert all(len(r) == len(header) for r in rows)
        emails = {r[2] for r in rows}
        assert all(e.endswith(("@example.org", "@example.com", "@example.net")) for e in emails)
        assert all(re.fullmatch(r"(\+44 7700 900|07700 900)\d{3}", r[3]) for r in rows)
        assert any(r[8] == "" for r in rows)  # duration left to the service name


def test_site_b_is_cp1252_with_semicolons_and_its_own_names(study, config):
    raw = (study / DIARY_FILES[1]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    header = text.split("\r\n", 1)[0]
    assert "," not in header and header.split(";") == list(_source(config, DIARY_FILES[1]).columns)
    assert "\u00dcbelkeit" in header
    canonical, rows = read_csv(study, config, DIARY_FILES[1])
    assert "migraine" not in canonical and _source(config, DIARY_FILES[1]).pain_scale == 3
    assert all(len(r) == len(canonical) for r in rows)


def test_site_a_uses_the_canonical_columns_and_mixed_yes_no_words(study, config):
    raw = (study / DIARY_FILES[0]).read_bytes()
    raw.decode("utf-8")
    assert not raw.startswith(b"\xef\xbb\xbf")
    header, rows = read_csv(study, config, DIARY_FILES[0])
    assert header[:4] == ["patient_id", "date", "headache", "migraine"]
    words = {r[header.index("headache")] for r in rows}
    assert {"yes", "y", "1", "TRUE"} & words and len(words - {"", "maybe"}) >= 6
    assert any(";" in r[header.index("acute_medication")] for r in rows)


def test_attack_logs_have_a_preamble_a_hash_header_and_app_durations(study):
    files = sorted((study / "attacks").glob("*.csv"))
    assert files
    duration = re.compile(r"(\d+d )?(\d{2}h\s)?\d{1,2}m|Ongoing")
    crossing = newline = 0
    for path in files:
        preamble, header, rows = read_attack_log(path)
        assert 3 <= len(preamble) <= 6 and preamble[0] == "Migraine Buddy export"
        assert preamble[-1] == "" and any(line.startswith("Name: ") for line in preamble)
        assert header[:4] == ["#", "Started", "Lasted", "Pain Level"] and len(header) == 14
        assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
        for i, row in enumerate(rows):
            start = datetime.strptime(row[1], "%d/%m/%Y %H:%M")
            assert duration.fullmatch(row[2]), row[2]
            assert row[2] != "Ongoing" or i == len(rows) - 1
            newline += "\n" in row[2]
            crossing += row[2] != "Ongoing" and (start + _lasted(row[2])).date() > start.date()
    assert crossing > 0 and newline > 0


def _lasted(text: str) -> timedelta:
    parts = dict((unit, int(amount)) for amount, unit in re.findall(r"(\d+)([dhm])", text))
    return timedelta(days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0))


def test_questionnaires_are_a_readable_xlsx_with_real_dates(study, truth):
    header, rows = read_questionnaires(study)
    assert header == ["patient_id", "date", "instrument", "score"]
    assert len(rows) == truth["files"]["questionnaires/questionnaires.xlsx"]
    spoiled = {p["row"] for p in truth["problems"]["questionnaires/questionnaires.xlsx"]}
    clean = [r for i, r in enumerate(rows, start=1) if i not in spoiled]
    assert all(isinstance(r[1], datetime) for r in clean)
    assert {r[2] for r in clean} == {"HIT-6", "PSS-10"}


def test_study_toml_loads_and_reads_every_file(study, config):
    assert config.study.demo is True
    assert config.paths.raw == "." and config.paths.processed == "../processed"
    assert config.paths.reports == "../../reports"
    matched = set()
    for source in config.sources:
        files = {str(p.relative_to(study)) for p in study.glob(source.path)}
        assert files, source.path
        matched |= files
    data = {str(p.relative_to(study)) for p in study.rglob("*") if p.is_file()}
    assert data - matched == {"study.toml", "README.md", "truth.json"}


def test_truth_and_readme_hold_no_direct_identifiers(study, config, truth):
    header, rows = read_csv(study, config, SESSION_FILES[0])
    identifiers = {r[i] for r in rows for i in (1, 2, 3)} - {""}
    for name in ("truth.json", "README.md"):
        text = (study / name).read_text(encoding="utf-8")
        assert [x for x in identifiers if x in text] == []
        assert "@" not in text


# --------------------------------------------------------------------------- planted problems
def _daily_problems(header: list[str], rows: list[list[str]], source) -> set[tuple[int, str, str]]:
    found = set()
    col = {name: header.index(name) for name in header}
    scale = source.pain_scale
    for number, row in enumerate(rows, start=1):
        for name in ("patient_id", "date", "headache"):
            if row[col[name]].strip() == "":
                found.add((number, name, "missing_required"))
        if row[col["date"]] and not _is_date(row[col["date"]], source.date_format):
            found.add((number, "date", "bad_date"))
        for name in ("headache", "migraine", *FEATURES):
            value = row[col[name]] if name in col else ""
            if value and value.lower() not in YES_NO:
                found.add((number, name, "unknown_vocabulary"))
        for name, high in (
            ("peak_pain", scale),
            ("pain_hours", 24),
            ("stress", 10),
            ("sleep_quality", 10),
        ):
            value = row[col[name]]
            number_ = _number(value) if value else 0.0
            if number_ is None or not 0 <= number_ <= high:
                found.add((number, name, "out_of_range"))
    return found


def _session_problems(
    header: list[str], rows: list[list[str]], source
) -> set[tuple[int, str, str]]:
    found = set()
    col = {name: header.index(name) for name in header}
    for number, row in enumerate(rows, start=1):
        for name in ("client_id", "date", "service", "status"):
            if row[col[name]].strip() == "":
                found.add((number, name, "missing_required"))
        if row[col["date"]] and not _is_date(row[col["date"]], source.date_format):
            found.add((number, "date", "bad_date"))
        if row[col["status"]] and row[col["status"]].lower() not in STATUSES:
            found.add((number, "status", "unknown_vocabulary"))
        for name, low in (("ae_resolved_hours", 0), ("duration_min", 1)):
            value = row[col[name]]
            if value and (_number(value) is None or _number(value) < low):
                found.add((number, name, "out_of_range"))
        assert re.fullmatch(r"\d{2}:\d{2}", row[col["start_time"]])
    return found


def _questionnaire_problems(rows: list[list]) -> set[tuple[int, str, str]]:
    found = set()
    for number, (_, when, instrument, score) in enumerate(rows, start=1):
        if not isinstance(when, datetime):
            found.add((number, "date", "bad_date"))
        low, high = INSTRUMENT_RANGES[instrument]
        if score is None:
            found.add((number, "score", "missing_required"))
        elif not low <= score <= high:
            found.add((number, "score", "out_of_range"))
    return found


def _duplicates(rows: list, earlier: list = ()) -> set[int]:
    seen = {tuple(r) for r in earlier}
    out = set()
    for number, row in enumerate(rows, start=1):
        if tuple(row) in seen:
            out.add(number)
        seen.add(tuple(row))
    return out


def _truth_sets(truth: dict, name: str) -> tuple[set, set, set]:
    items = truth["problems"][name]
    validation = {
        (p["row"], p["column"], p["kind"]) for p in items if p["kind"] in VALIDATION_KINDS
    }
    duplicates = {p["row"] for p in items if p["kind"] == "duplicate"}
    conflicts = {p["row"] for p in items if p["kind"] == "conflict"}
    return validation, duplicates, conflicts


def test_planted_diary_problems_are_exactly_where_truth_says(study, config, truth):
    for name in DIARY_FILES:
        header, rows = read_csv(study, config, name)
        validation, duplicates, conflicts = _truth_sets(truth, name)
        assert _daily_problems(header, rows, _source(config, name)) == validation
        assert {k for _, _, k in validation} == VALIDATION_KINDS
        assert _duplicates(rows) == duplicates and duplicates
        spoiled = {row for row, _, _ in validation} | duplicates
        by_day = defaultdict(set)
        for number, row in enumerate(rows, start=1):
            if number not in spoiled:
                by_day[(row[0], row[1])].add(number)
        found = {n for numbers in by_day.values() if len(numbers) > 1 for n in numbers}
        assert found == conflicts and conflicts
        for row_number in conflicts:
            column = next(p["column"] for p in truth["problems"][name] if p["row"] == row_number)
            assert column in header


def test_planted_session_problems_are_exactly_where_truth_says(study, config, truth):
    _, first_rows = read_csv(study, config, SESSION_FILES[0])
    for name, earlier in zip(SESSION_FILES, ([], first_rows), strict=True):
        header, rows = read_csv(study, config, name)
        validation, duplicates, _ = _truth_sets(truth, name)
        assert _session_problems(header, rows, _source(config, name)) == validation
        assert {k for _, _, k in validation} == VALIDATION_KINDS
        assert _duplicates(rows, earlier) == duplicates
        if earlier:
            assert _duplicates(rows, earlier) - _duplicates(rows)  # rows shared by both exports


def test_planted_questionnaire_and_attack_problems_are_where_truth_says(study, truth):
    _, rows = read_questionnaires(study)
    validation, duplicates, _ = _truth_sets(truth, "questionnaires/questionnaires.xlsx")
    assert _questionnaire_problems(rows) == validation and validation
    assert _duplicates(rows) == duplicates and duplicates
    planted = {
        name: items for name, items in truth["problems"].items() if name.startswith("attacks/")
    }
    assert planted
    for path in sorted((study / "attacks").glob("*.csv")):
        _, header, rows = read_attack_log(path)
        level = header.index("Pain Level")
        found = {
            (n, "pain_level", "out_of_range")
            for n, r in enumerate(rows, 1)
            if not 0 <= int(r[level]) <= 10
        }
        expected = {
            (p["row"], p["column"], p["kind"]) for p in planted.get(f"attacks/{path.name}", [])
        }
        assert found == expected


# --------------------------------------------------------------------------- truth vs files
def _day_flags(
    header: list[str], row: list[str], definitions: DefinitionsSection
) -> tuple[bool, bool]:
    """(headache day, migraine day) of a daily-diary row by the DESIGN.md definition."""
    value = dict(zip(header, row, strict=True))
    headache = value["headache"].lower() in YES
    recorded_migraine = value.get("migraine", "").lower() in YES
    features = sum(value[f].lower() in YES for f in definitions.migraine_features)
    long_enough = (_number(value["pain_hours"]) or 0) >= definitions.migraine_min_duration_hours
    by_features = headache and long_enough and features >= definitions.migraine_features_required
    by_drug = bool(SPECIFIC_RE.search(value["acute_medication"]))
    return headache, recorded_migraine or by_features or by_drug


def test_truth_window_counts_follow_from_the_daily_files(study, config, truth):
    clients = truth["clients"]
    index = {
        p: date.fromisoformat(d) for p, d in zip(clients["patient_id"], clients["first_attended_session"], strict=True)
        if p and d and clients["diary"][clients["patient_id"].index(p)] in ("site_a", "site_b")
    }  # fmt: skip
    definitions = DefinitionsSection()
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    windows = config.windows.all
    for name in DIARY_FILES:
        header, rows = read_csv(study, config, name)
        validation, duplicates, conflicts = _truth_sets(truth, name)
        skip = {r for r, _, _ in validation} | duplicates
        seen_conflict_days = set()
        fmt = _source(config, name).date_format
        for number, row in enumerate(rows, start=1):
            if number in skip or row[0] not in index:
                continue
            day = (datetime.strptime(row[1], fmt).date() - index[row[0]]).days
            if number in conflicts:  # the conflicting copy differs in stress only
                if (row[0], day) in seen_conflict_days:
                    continue
                seen_conflict_days.add((row[0], day))
            headache, migraine = _day_flags(header, row, definitions)
            for window, (first, last) in windows.items():
                if first <= day <= last:
                    tally = counts[(row[0], window)]
                    tally[0] += 1
                    tally[1] += migraine
                    tally[2] += headache
    compared = 0
    for patient in index:
        i = clients["patient_id"].index(patient)
        for window in windows:
            expected = [
                clients[f"{window}_{k}"][i]
                for k in ("days_recorded", "migraine_days", "headache_days")
            ]
            assert counts[(patient, window)] == expected, (patient, window)
            compared += 1
    assert compared > 100


def test_attack_logs_touch_exactly_the_model_headache_days(study, truth):
    pop, days = simulate_diary_days(N_SAMPLE, SEED)
    definitions = DefinitionsSection()
    words = {k: [re.escape(w) for w in v] for k, v in VOCABULARY.symptoms.items()}
    for path in sorted((study / "attacks").glob("*.csv")):
        client = int(path.stem.split("-")[1]) - 1
        _, header, rows = read_attack_log(path)
        col = {h: i for i, h in enumerate(header)}
        touched_headache, touched_migraine = set(), set()
        for row in rows:
            start = datetime.strptime(row[col["Started"]], "%d/%m/%Y %H:%M")
            ongoing = row[col["Lasted"]] == "Ongoing"
            end = start if ongoing else start + _lasted(row[col["Lasted"]])
            text = f"{row[col['Symptoms']]}, {row[col['Auras']]}".lower()
            features = sum(
                any(re.search(rf"\b{w}\b", text) for w in words[f])
                or (f == "aura" and row[col["Auras"]] != "")
                for f in definitions.migraine_features
            )
            hours = (end - start).total_seconds() / 3600
            medication = " ".join(row[col[m]] for m in header if m.endswith("Medication"))
            migraine = bool(SPECIFIC_RE.search(medication)) or (
                not ongoing and features >= 1 and hours >= definitions.migraine_min_duration_hours
            )
            if ongoing:
                assert SPECIFIC_RE.search(medication)
            day = start.date()
            while day <= end.date():
                touched_headache.add(day)
                if migraine:
                    touched_migraine.add(day)
                day += timedelta(days=1)
        mine = days.client == client
        calendar = [
            date(1970, 1, 1) + timedelta(days=int(d))
            for d in pop.index_day[client] + days.day[mine]
        ]
        assert touched_headache == {
            c for c, h in zip(calendar, days.headache[mine], strict=True) if h
        }
        assert touched_migraine == {
            c for c, m in zip(calendar, days.migraine_day[mine], strict=True) if m
        }


def test_sessions_give_the_truth_index_dates_and_session_counts(study, config, truth):
    rows = []
    for name in SESSION_FILES:
        header, records = read_csv(study, config, name)
        validation, _, _ = _truth_sets(truth, name)
        bad = {r for r, _, _ in validation}
        rows += [r for n, r in enumerate(records, start=1) if n not in bad]
    unique = {tuple(r) for r in rows}
    pattern = re.compile(config.study.therapy_pattern)
    attended = defaultdict(list)
    booked_therapy = defaultdict(list)
    for r in unique:
        when = datetime.strptime(r[4], "%d/%m/%Y").date()
        if pattern.search(r[6]):
            booked_therapy[r[0]].append(when)
            if r[7].lower() in ATTENDED:
                attended[r[0]].append(when)
    clients = truth["clients"]
    for i, client_id in enumerate(clients["client_id"]):
        assert len(attended[client_id]) == clients["attended_therapy_sessions_valid"][i]
        if clients["treated"][i]:
            assert 6 <= clients["attended_therapy_sessions"][i] <= 8
            assert min(attended[client_id]).isoformat() == clients["first_attended_session"][i]
        else:
            assert clients["first_attended_session"][i] is None and not attended[client_id]
        if clients["first_booking_cancelled"][i]:
            assert min(booked_therapy[client_id]) < min(attended[client_id])
    assert any(clients["first_booking_cancelled"]) and not all(clients["treated"])
    assert any(clients["sessions_only"])


def test_linkage_rows_name_a_client_id_or_an_email_only(study, config, truth):
    header, rows = read_csv(study, config, "patients/patients.csv")
    assert header == ["patient_id", "client_id", "email"]
    _, sessions = read_csv(study, config, SESSION_FILES[0])
    _, later = read_csv(study, config, SESSION_FILES[1])
    email_of = {r[0]: r[2] for r in sessions + later}
    clients = truth["clients"]
    sessions_only = {
        c for c, only in zip(clients["client_id"], clients["sessions_only"], strict=True) if only
    }
    assert len(rows) == N_SAMPLE and not sessions_only & {r[1] for r in rows}
    email_only = [r for r in rows if r[1] == ""]
    assert email_only
    expected = {p: c for p, c in zip(clients["patient_id"], clients["client_id"], strict=True) if p}
    for patient, client_id, email in rows:
        assert client_id in ("", expected[patient])
        if client_id == "":
            assert email != email_of[expected[patient]]
            assert email.strip().lower() == email_of[expected[patient]]


def test_coverage_leaves_out_one_attack_log_client(study, config, truth):
    _, rows = read_csv(study, config, "coverage/coverage.csv")
    logs = {p.stem for p in (study / "attacks").glob("*.csv")}
    assert {r[0] for r in rows} < logs and len(logs - {r[0] for r in rows}) == 1
    clients = truth["clients"]
    i = clients["patient_id"].index((logs - {r[0] for r in rows}).pop())
    assert clients["has_coverage"][i] is False and clients["baseline_days_recorded"][i] in (0, None)


# --------------------------------------------------------------------------- the model at large n
@pytest.fixture(scope="module")
def large():
    return {
        rtm: simulate_diary_days(LARGE_N, 11, SimulationSettings(regression_to_mean=rtm))
        for rtm in (False, True)
    }


def _migraine_by_definition(days) -> np.ndarray:
    """Migraine days from the generated fields (not the planted day kind)."""
    definitions = DefinitionsSection()
    names = np.array([bool(SPECIFIC_RE.search(label)) for label in medication_labels(0)])
    features = sum(getattr(days, f) == 1 for f in definitions.migraine_features)
    long_enough = days.pain_quarters / 4 >= definitions.migraine_min_duration_hours
    headache = days.kind > 0
    return (
        (days.migraine_flag == 1)
        | (headache & long_enough & (features >= 1))
        | names[days.medication]
    )


def _window_change(pop, days, values, per_28: bool, restrict=None):
    """Per-client change (weeks 9-12 - baseline) of a per-day quantity, evaluable clients."""
    out = []
    for first, last in ((-28, -1), (56, 83)):
        inside = (
            (days.day >= first) & (days.day <= last) & (restrict if restrict is not None else True)
        )
        n = np.bincount(days.client[inside], minlength=pop.n)
        total = np.bincount(days.client[inside], weights=values[inside], minlength=pop.n)
        out.append((n, total))
    (n0, t0), (n1, t1) = out
    ok = pop.treated & (n0 >= (14 if per_28 else 1)) & (n1 >= (14 if per_28 else 1))
    scale = 28 if per_28 else 1
    return scale * t1[ok] / n1[ok] - scale * t0[ok] / n0[ok]


def _within(change: np.ndarray, expected: float, k: float = 4.0) -> bool:
    return abs(change.mean() - expected) < k * change.std(ddof=1) / np.sqrt(len(change))


def _expected_rtm_change(settings: SimulationSettings) -> float:
    lo, hi = settings.migraine_rate_range
    a, b = settings.migraine_rate_beta
    mean_rate = lo + (hi - lo) * a / (a + b)  # mean of the scaled Beta
    high_side = 3 / 8  # E|2B - 1|, B ~ Beta(2, 2): integral of |x| * 3/4 (1 - x^2) over [-1, 1]
    return settings.effect_migraine_days - mean_rate * settings.monthly_fluctuation * high_side


def test_the_definition_recovers_the_planted_migraine_days(large):
    _, days = large[False]
    migraine = _migraine_by_definition(days)
    assert np.array_equal(migraine, days.kind >= 2)
    tension = days.kind == 1
    assert not days.triptan[tension].any() and (days.kind >= 1)[migraine].all()


def test_mean_change_equals_the_planted_effect_without_regression_to_the_mean(large):
    pop, days = large[False]
    change = _window_change(pop, days, _migraine_by_definition(days).astype(float), per_28=True)
    assert len(change) > 0.8 * LARGE_N
    assert _within(change, SimulationSettings().effect_migraine_days)


def test_regression_to_the_mean_makes_the_change_more_negative(large):
    pop, days = large[True]
    settings = SimulationSettings(regression_to_mean=True)
    change = _window_change(pop, days, _migraine_by_definition(days).astype(float), per_28=True)
    se = change.std(ddof=1) / np.sqrt(len(change))
    assert change.mean() < settings.effect_migraine_days - 10 * se
    assert _within(change, _expected_rtm_change(settings))
    assert settings.expected_change()["migraine_days"] == pytest.approx(
        _expected_rtm_change(settings)
    )


def test_pain_stress_and_sleep_effects_are_as_planted(large):
    pop, days = large[False]
    settings = SimulationSettings(regression_to_mean=False)
    migraine = days.kind >= 2
    pain = _window_change(pop, days, days.peak_pain.astype(float), per_28=False, restrict=migraine)
    assert _within(pain, settings.effect_peak_pain)
    # headache-day share falls by (effect / 28) * (1 - mean tension share); each headache
    # day adds stress_on_headache_days to stress (and sleep_on_headache_days to sleep)
    lo, hi = settings.tension_rate_range
    tension_share = (lo + (hi - lo) * 2 / 5) / 28
    fewer_headache_days = settings.effect_migraine_days / 28 * (1 - tension_share)
    for field, direct, per_headache_day in (
        ("stress", settings.effect_stress, settings.stress_on_headache_days),
        ("sleep_quality", settings.effect_sleep_quality, settings.sleep_on_headache_days),
    ):
        values = getattr(days, field)
        change = _window_change(pop, days, values.astype(float), per_28=False, restrict=values >= 0)
        assert _within(change, direct + per_headache_day * fewer_headache_days), field
        assert settings.expected_change()[field] == pytest.approx(
            direct + per_headache_day * fewer_headache_days
        )


def test_population_ranges(large):
    pop, days = large[True]
    settings = SimulationSettings()
    diary = pop.diary_kind > 0
    assert pop.migraine_rate.min() >= 2 and pop.migraine_rate.max() <= 14
    assert pop.migraine_rate.mean() == pytest.approx(6.5, abs=0.1)
    treated = pop.n_therapy[pop.treated]
    assert treated.min() == 6 and treated.max() == 8
    compliant = diary & ~pop.late_start
    assert (pop.start_day[compliant] <= -28).all() and (pop.start_day[diary] >= -42).all()
    assert (pop.start_day[pop.late_start] > -14).all() and pop.late_start.any()
    assert ((pop.end_day[pop.dropout] >= 28) & (pop.end_day[pop.dropout] <= 55)).all()
    assert (pop.end_day[diary & ~pop.dropout] >= 83).all()
    lengths = pop.end_day - pop.start_day + 1
    kept = np.bincount(days.client, minlength=pop.n)
    daily = diary & (pop.diary_kind != 3)
    missing_share = 1 - kept[daily].sum() / lengths[daily].sum()
    assert 0.05 < missing_share < 0.15
    assert (kept[pop.diary_kind == 3] == lengths[pop.diary_kind == 3]).all()
    assert (
        pop.has_coverage.sum()
        == (pop.diary_kind == 3).sum() - settings.attack_logs_without_coverage
    )


def test_settings_that_would_clip_are_refused():
    with pytest.raises(ValueError, match="effect_migraine_days"):
        SimulationSettings(effect_migraine_days=-6.0)
    with pytest.raises(ValueError, match="stress"):
        SimulationSettings(effect_stress=-3.0)
    with pytest.raises(ValueError, match="dropout_fraction"):
        SimulationSettings(dropout_fraction=1.5)
