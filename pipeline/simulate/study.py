"""Writing a complete synthetic study: exports, study.toml, README.md and truth.json.

:func:`simulate_study` draws everything (:func:`draw_study`), then writes one export
group at a time; each writer plants that export's problems and reports how the planted
problems change what the pipeline should see (quarantined diary rows are not recorded
days, a quarantined attack loses its headache days, ...), which truth.json records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.simulate import render
from pipeline.simulate.attacks import Attacks, attack_days, simulate_attacks
from pipeline.simulate.days import DiaryDays, simulate_days
from pipeline.simulate.identities import Identities, simulate_identities
from pipeline.simulate.mess import KINDS, Planted, count_for, plant
from pipeline.simulate.population import (
    ATTACK_LOG,
    SITE_A,
    SITE_B,
    Population,
    simulate_population,
)
from pipeline.simulate.problems import (
    attack_variants,
    diary_conflict,
    diary_variants,
    questionnaire_variants,
    session_variants,
)
from pipeline.simulate.questionnaires import Questionnaires, simulate_questionnaires
from pipeline.simulate.sessions import SessionEvents, simulate_sessions
from pipeline.simulate.settings import SimulationSettings, SimulationSummary
from pipeline.simulate.streams import Streams
from pipeline.simulate.study_files import readme_text, study_toml
from pipeline.simulate.truth import client_truth, truth_json
from pipeline.simulate.vocab import ANALGESICS, TRIPTANS, YES_NO_STYLES
from pipeline.simulate.writers import write_attack_logs, write_csv, write_xlsx

SESSIONS_FILES = ("sessions/sessions_export_2025.csv", "sessions/sessions_export_overlap.csv")
DIARY_FILES = {"site_a": "diaries/daily_site_a.csv", "site_b": "diaries/daily_site_b.csv"}
DIARY_LAYOUT = {"site_a": (SITE_A, ",", "\n", "utf-8"), "site_b": (SITE_B, ";", "\r\n", "cp1252")}
PATIENTS_FILE = "patients/patients.csv"
COVERAGE_FILE = "coverage/coverage.csv"
QUESTIONNAIRES_FILE = "questionnaires/questionnaires.xlsx"
ATTACKS_FOLDER = "attacks"
EXPORT_SHARE = 0.7  # the first sessions export ends at this quantile of appointment dates
OWN_FILES = (
    *SESSIONS_FILES, *DIARY_FILES.values(), PATIENTS_FILE, COVERAGE_FILE, QUESTIONNAIRES_FILE,
    "study.toml", "README.md", "truth.json",
)  # fmt: skip


@dataclass(frozen=True)
class Drawn:
    """Everything one seed draws, before any file is written."""

    pop: Population
    days: DiaryDays
    ids: Identities
    events: SessionEvents
    questionnaires: Questionnaires
    log_days: DiaryDays
    attacks: Attacks


@dataclass
class Written:
    """What has been written: rows per file, planted problems per file, and how the
    problems change what the pipeline should count (masks aligned with ``Drawn.days`` /
    ``Drawn.events``)."""

    files: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[dict]] = field(default_factory=dict)
    recorded: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    headache: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    migraine: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    quarantined_sessions: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    conflict_clients: list[np.ndarray] = field(default_factory=list)

    def add(self, name: str, planted: Planted) -> None:
        """Record a written file and its planted problems."""
        self.files[name] = planted.table.n_rows
        self.problems[name] = planted.problems


def draw_study(n_patients: int, settings: SimulationSettings, streams: Streams) -> Drawn:
    """Draw the population, diaries, appointments, questionnaires and attacks."""
    pop = simulate_population(
        n_patients, settings, streams.population, len(YES_NO_STYLES), len(TRIPTANS), len(ANALGESICS)
    )
    days = simulate_days(pop, settings, streams.days)
    log_days = attack_days(pop, days)
    return Drawn(
        pop=pop,
        days=days,
        ids=simulate_identities(pop, streams.identities),
        events=simulate_sessions(pop, settings, streams.sessions),
        questionnaires=simulate_questionnaires(pop, settings, streams.questionnaires),
        log_days=log_days,
        attacks=simulate_attacks(log_days, len(ANALGESICS), streams.attacks),
    )


def _amount(settings: SimulationSettings, rows: int, minimum: int | None = None) -> int:
    """Rows to spoil per problem kind in a file of ``rows`` rows."""
    floor = settings.mess_min_per_kind if minimum is None else minimum
    return count_for(rows, settings.mess_rate, floor, settings.plant_mess)


def write_diaries(d: Drawn, s: SimulationSettings, out: Path, w: Written, streams: Streams) -> None:
    """The two daily-diary exports; quarantined rows stop being recorded days."""
    for site, (kind, delimiter, eol, encoding) in DIARY_LAYOUT.items():
        rows = np.flatnonzero(d.pop.diary_kind[d.days.client] == kind)
        if not len(rows):
            continue
        part = d.days.subset(rows)
        epoch = d.pop.index_day[part.client] + part.day
        planted = plant(
            render.daily_table(part, d.pop, d.ids, site, streams.render),
            diary_variants(site, part, epoch),
            _amount(s, len(part)),
            _amount(s, len(part)),
            streams.mess,
            conflicts=_amount(s, len(part), s.conflicts_min),
            conflict=diary_conflict(part),
        )
        w.recorded[rows[planted.quarantined]] = False
        w.conflict_clients.append(part.client[planted.conflicted])
        write_csv(
            out / DIARY_FILES[site], planted.table, delimiter=delimiter, eol=eol, encoding=encoding
        )
        w.add(DIARY_FILES[site], planted)


def write_attack_logs_and_coverage(
    d: Drawn, s: SimulationSettings, out: Path, w: Written, streams: Streams
) -> None:
    """One attack log per app user and coverage.csv; a quarantined attack loses its days'
    headache and migraine, a client without coverage loses every recorded day."""
    log_rows = np.flatnonzero(d.pop.diary_kind[d.days.client] == ATTACK_LOG)
    w.recorded[log_rows[~d.pop.has_coverage[d.log_days.client]]] = False
    coverage = render.coverage_table(d.pop, d.ids)
    if coverage.n_rows:
        write_csv(out / COVERAGE_FILE, coverage)
        w.add(COVERAGE_FILE, Planted(coverage, []))
    if not len(d.attacks):
        return
    table = render.attacks_table(d.attacks, d.pop, streams.render)
    planted = plant(
        table, attack_variants(d.attacks.ongoing), _amount(s, len(d.attacks)), 0, streams.mess
    )
    for attack in planted.quarantined.tolist():
        spoiled = log_rows[d.attacks.first_row[attack] : d.attacks.last_row[attack] + 1]
        w.headache[spoiled] = w.migraine[spoiled] = False
    clients, first, counts = np.unique(d.attacks.client, return_index=True, return_counts=True)
    names = np.asarray(d.ids.diary_id, dtype=object)[clients].tolist()
    preambles = render.attack_preambles(d.pop, d.ids, clients, streams.render)
    write_attack_logs(out / ATTACKS_FOLDER, names, preambles, planted.table, counts)
    w.files[f"{ATTACKS_FOLDER}/*.csv"] = len(d.attacks)
    for item in planted.problems:  # one entry per planted problem: locate its file
        position = np.searchsorted(first, item["row"] - 1, side="right") - 1
        name = f"{ATTACKS_FOLDER}/{names[position]}.csv"
        w.problems.setdefault(name, []).append({**item, "row": item["row"] - int(first[position])})


def _take_events(events: SessionEvents, rows: np.ndarray) -> SessionEvents:
    return SessionEvents(
        **{name: getattr(events, name)[rows] for name in events.__dataclass_fields__}
    )


def write_sessions(
    d: Drawn, s: SimulationSettings, out: Path, w: Written, streams: Streams
) -> None:
    """Two overlapping practice exports sorted by date and time.

    Export 1 holds appointments up to the 70% quantile of dates, export 2 those from
    ``overlap_days`` before that cut: the shared rows are exact duplicates, recorded in
    export 2. Problems are never planted on shared rows or on a first attended session.
    """
    day = d.pop.index_day[d.events.client] + d.events.day
    order = np.lexsort((d.pop.client_number[d.events.client], d.events.start_minute, day))
    day = day[order]
    cut = int(np.quantile(day, EXPORT_SHARE, method="lower")) if len(day) else 0
    in_first, in_second = day <= cut, day > cut - s.overlap_days
    events = _take_events(d.events, order)
    for name, inside in zip(SESSIONS_FILES, (in_first, in_second), strict=True):
        rows = np.flatnonzero(inside)
        part = _take_events(events, rows)
        shared = in_first[rows] & in_second[rows]
        existing = (
            [(int(r), None, "duplicate") for r in np.flatnonzero(shared)]
            if name == SESSIONS_FILES[1]
            else []
        )
        planted = plant(
            render.sessions_table(part, d.pop, d.ids),
            session_variants(part, d.pop.index_day[part.client] + part.day),
            _amount(s, len(part)),
            _amount(s, len(part)),
            streams.mess,
            protected=part.first_attended | shared,
            existing=existing,
        )
        w.quarantined_sessions[order[rows[planted.quarantined]]] = True
        write_csv(out / name, planted.table, eol="\r\n", bom=True)
        w.add(name, planted)


def write_questionnaires_and_links(
    d: Drawn, s: SimulationSettings, out: Path, w: Written, streams: Streams
) -> None:
    """questionnaires.xlsx (with planted problems) and the clean patients.csv."""
    n = len(d.questionnaires)
    planted = plant(
        render.questionnaires_table(d.questionnaires, d.pop, d.ids),
        questionnaire_variants(d.questionnaires.instrument),
        _amount(s, n),
        _amount(s, n),
        streams.mess,
    )
    write_xlsx(out / QUESTIONNAIRES_FILE, planted.table, "Questionnaires")
    w.add(QUESTIONNAIRES_FILE, planted)
    patients = render.patients_table(d.pop, d.ids)
    write_csv(out / PATIENTS_FILE, patients)
    w.add(PATIENTS_FILE, Planted(patients, []))


def _prepare(out: Path, overwrite: bool) -> None:
    """Make sure no file of an earlier study can mix with the new one."""
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{out} is not empty: simulate into a new folder, or pass overwrite=True to "
                "replace an earlier simulated study there"
            )
        for name in OWN_FILES:
            (out / name).unlink(missing_ok=True)
        for stale in (out / ATTACKS_FOLDER).glob("*.csv"):
            stale.unlink()
    out.mkdir(parents=True, exist_ok=True)


def simulate_study(
    out_dir: Path,
    n_patients: int,
    seed: int,
    settings: SimulationSettings | None = None,
    *,
    processed: str = "processed",
    reports: str = "reports",
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> SimulationSummary:
    """Write a seeded synthetic study in the CONTRACT.md input formats.

    Files (under ``out_dir``): ``sessions/sessions_export_2025.csv`` and
    ``sessions/sessions_export_overlap.csv`` (UTF-8 with BOM, dates dd/mm/yyyy),
    ``diaries/daily_site_a.csv`` (UTF-8, ``,``, ISO dates), ``diaries/daily_site_b.csv``
    (cp1252, ``;``, dd.mm.yyyy, own column names, 0-3 pain), ``attacks/<patient_id>.csv``
    (Migraine Buddy style), ``coverage/coverage.csv``, ``questionnaires/questionnaires.xlsx``,
    ``patients/patients.csv``, ``study.toml``, ``README.md`` and ``truth.json``. The same
    arguments give byte-identical files.

    Parameters
    ----------
    out_dir : Path
        Folder to write into: new or empty (created when missing).
    n_patients : int
        Diary clients (``MIG-...``); sessions-only practice clients are added on top
        (``settings.sessions_only_fraction``).
    seed : int
        Seed of every random choice.
    settings : SimulationSettings, optional
        Population, effects and mess; defaults documented on the class.
    processed, reports : str
        ``[paths]`` written into study.toml (relative to ``out_dir``).
    progress : callable, optional
        Called with a short message after each stage.
    overwrite : bool
        Allow a non-empty ``out_dir``: the files a simulation writes (including every
        ``attacks/*.csv``) are deleted first; other files are left alone.

    Returns
    -------
    SimulationSummary
        Files and row counts, client counts, planted problems by kind.

    Raises
    ------
    FileExistsError
        ``out_dir`` is not empty and ``overwrite`` is False.

    Notes
    -----
    Planted effects (change = follow-up - baseline, negative = fewer): migraine days per
    28 (``effect_migraine_days``), peak pain on migraine days, stress and sleep quality,
    ramping in over ``effect_ramp_days`` from day 0. truth.json holds ``settings``,
    ``planted_effects``, ``expected_change`` (population means, weeks 9-12 - baseline),
    ``counts``, ``files`` (rows per file), ``planted_problem_counts``, ``problems``
    (file -> list of ``{"row", "column", "kind"}``, row = 1-based data record after the
    header (a quoted field spanning lines stays one record), column =
    canonical name or null for duplicates) and ``clients`` (columnar per-client truth,
    see :mod:`pipeline.simulate.truth`).
    """
    if n_patients < 1:
        raise ValueError("n_patients must be at least 1")
    s = settings or SimulationSettings()
    say = progress or (lambda message: None)
    out = Path(out_dir)
    _prepare(out, overwrite)
    streams = Streams(seed)
    d = draw_study(n_patients, s, streams)
    say(
        f"simulated {d.pop.n} clients, {len(d.days)} diary days, {len(d.events)} appointments, "
        f"{len(d.attacks)} attacks"
    )
    w = Written(
        recorded=np.ones(len(d.days), bool),
        headache=d.days.headache.copy(),
        migraine=d.days.migraine_day.copy(),
        quarantined_sessions=np.zeros(len(d.events), bool),
    )
    for writer, what in (
        (write_diaries, "daily diaries"),
        (write_attack_logs_and_coverage, "attack logs and coverage"),
        (write_sessions, "session exports"),
        (write_questionnaires_and_links, "questionnaires and patients"),
    ):
        writer(d, s, out, w, streams)
        say(f"wrote the {what}")

    counts = _counts(d)
    kinds = Counter(p["kind"] for items in w.problems.values() for p in items)
    planted_counts = {k: kinds.get(k, 0) for k in KINDS}
    files = dict(sorted(w.files.items()))
    (out / "study.toml").write_text(
        study_toml(seed, n_patients, files, processed, reports, s.mean_migraine_rate),
        encoding="utf-8",
    )
    (out / "README.md").write_text(
        readme_text(seed, n_patients, s, counts, planted_counts), encoding="utf-8"
    )
    truth = {
        "generator": "pipeline.simulate.simulate_study",
        "seed": seed,
        "n_patients": n_patients,
        "settings": s.to_json(),
        "planted_effects": {
            "migraine_days_per_28": s.effect_migraine_days,
            "peak_pain_migraine_days": s.effect_peak_pain,
            "stress": s.effect_stress,
            "sleep_quality": s.effect_sleep_quality,
            "ramp_days": s.effect_ramp_days,
            "regression_to_mean": s.regression_to_mean,
        },
        "expected_change": s.expected_change(),
        "mean_latent_migraine_rate": s.mean_migraine_rate,
        "baseline_excess": s.baseline_excess,
        "counts": counts,
        "files": files,
        "planted_problem_counts": planted_counts,
        "problems": dict(sorted(w.problems.items())),
        "clients": client_truth(
            d.pop,
            d.days,
            d.events,
            d.ids.diary_id,
            d.ids.client_id,
            w.recorded,
            w.headache,
            w.migraine,
            w.quarantined_sessions,
            np.concatenate([np.zeros(0, np.int64), *w.conflict_clients]),
        ),  # fmt: skip
    }
    (out / "truth.json").write_text(truth_json(truth), encoding="utf-8")
    say("wrote study.toml, README.md and truth.json")
    return SimulationSummary(str(out), int(seed), int(n_patients), files, counts, planted_counts)


def _counts(d: Drawn) -> dict[str, int]:
    """Headline numbers of the simulated study."""
    pop, events = d.pop, d.events
    kinds = np.bincount(pop.diary_kind, minlength=4)
    attended_therapy = events.is_therapy & events.attended
    return {
        "clients": int(pop.n),
        "diary_clients": int(pop.n_patients),
        "sessions_only_clients": int(kinds[0]),
        "site_a_clients": int(kinds[SITE_A]),
        "site_b_clients": int(kinds[SITE_B]),
        "attack_log_clients": int(kinds[ATTACK_LOG]),
        "attack_logs_without_coverage": int(
            ((pop.diary_kind == ATTACK_LOG) & ~pop.has_coverage).sum()
        ),
        "treated_clients": int(pop.treated.sum()),
        "never_treated_diary_clients": int((~pop.treated & (pop.diary_kind > 0)).sum()),
        "email_only_links": int(pop.email_only.sum()),
        "dropouts": int(pop.dropout.sum()),
        "late_starters": int(pop.late_start.sum()),
        "diary_days": int(len(d.days)),
        "appointments": int(len(events)),
        "attended_therapy_sessions": int(attended_therapy.sum()),
        "adverse_events": int((attended_therapy & (events.reaction >= 0)).sum()),
        "attacks": int(len(d.attacks)),
        "questionnaires": int(len(d.questionnaires)),
    }
