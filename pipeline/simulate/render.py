"""The simulated data as export tables, in each export's own spelling and layout.

Pure functions from the simulated arrays to :class:`Table` objects (codes + labels);
nothing is written here.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.simulate.attacks import Attacks
from pipeline.simulate.coded import (
    Coded,
    choice,
    clock,
    dates,
    fractions,
    from_arrow,
    integers,
    join,
    ranks_within,
    to_date,
)
from pipeline.simulate.days import DiaryDays
from pipeline.simulate.identities import Identities
from pipeline.simulate.population import ATTACK_LOG, Population
from pipeline.simulate.questionnaires import INSTRUMENTS, Questionnaires
from pipeline.simulate.sessions import SessionEvents
from pipeline.simulate.table import Table
from pipeline.simulate.vocab import (
    ANALGESICS,
    ATTACK_HEADER,
    AURA_WORDS,
    MEDICATION_COLUMNS,
    NAUSEA_WORDS,
    NO_REACTION,
    NOTES,
    PAIN_POSITIONS,
    PRACTITIONERS,
    PREMONITORY,
    REACTIONS,
    SERVICES,
    STATUSES,
    TRIGGERS,
    YES_NO_STYLES,
    medication_labels,
)

YES_NO_WORDS = [word for pair in YES_NO_STYLES for word in pair]
FEATURES = ("aura", "nausea", "photophobia", "phonophobia")

SITE_A_HEADERS = (
    "patient_id", "date", "headache", "migraine", "peak_pain", "pain_hours",
    "acute_medication", *FEATURES, "stress", "sleep_quality",
)  # fmt: skip
#: Site B's own column names -> canonical names (also written into study.toml).
SITE_B_COLUMNS = {
    "Client ID": "patient_id",
    "Datum": "date",
    "Headache?": "headache",
    "Worst pain (0-3)": "peak_pain",
    "Hours of pain": "pain_hours",
    "Medication taken": "acute_medication",
    "Aura": "aura",
    "\u00dcbelkeit": "nausea",
    "Light sensitivity": "photophobia",
    "Noise sensitivity": "phonophobia",
    "Stress (0-10)": "stress",
    "Sleep quality (0-10)": "sleep_quality",
}
SESSION_HEADERS = (
    "client_id", "client_name", "email", "phone", "date", "start_time", "service", "status",
    "duration_min", "practitioner", "adverse_event", "ae_resolved_hours",
)  # fmt: skip
ATTACK_CANONICAL = (
    "#", "started", "lasted", "pain_level", "pain_position", "symptoms", "auras",
    "premonitory_symptoms", "helpful_medication", "somewhat_helpful_medication",
    "unhelpful_medication", "unsure_medication", "triggers", "notes",
)  # fmt: skip

DATE_FORMATS = {
    "site_a": "%Y-%m-%d",
    "site_b": "%d.%m.%Y",
    "sessions": "%d/%m/%Y",
    "iso": "%Y-%m-%d",
}
ATTACK_DATETIME_FORMAT = "%d/%m/%Y %H:%M"
MEDICATION_COLUMN_P = (0.6, 0.2, 0.1, 0.1)
NEWLINE_DURATION_P = 0.05
NECK_PAIN_P = 0.3
VOMITING_P = 0.25
TRIGGER_P = 0.2


def yes_no(values: np.ndarray, style: np.ndarray) -> Coded:
    """1 / 0 / -1 as the client's yes / no word / empty."""
    values = np.asarray(values)
    return choice(2 * style + (values == 0), YES_NO_WORDS, blank=values < 0)


def calendar(pop: Population, client: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of day offsets."""
    return pop.index_day[client] + day


def daily_table(
    days: DiaryDays, pop: Population, ids: Identities, site: str, rng: np.random.Generator
) -> Table:
    """A daily-diary export: ``site_a`` (canonical names, migraine column, 0-10 pain) or
    ``site_b`` (own names, no migraine column, 0-3 pain, German/English headers)."""
    style = pop.yes_no_style[days.client]
    patient = Coded(days.client, ids.diary_id)
    day = dates(calendar(pop, days.client, days.day), DATE_FORMATS[site])
    headache = yes_no(days.headache.astype(np.int8), style)
    hours = fractions(days.pain_quarters, 4)
    features = [yes_no(getattr(days, f), style) for f in FEATURES]
    stress, sleep = integers(days.stress), integers(days.sleep_quality)
    if site == "site_a":
        columns = [
            patient, day, headache, yes_no(days.migraine_flag, style), integers(days.peak_pain), hours,
            Coded(days.medication, medication_labels(0)), *features, stress, sleep,
        ]  # fmt: skip
        return Table(list(SITE_A_HEADERS), list(SITE_A_HEADERS), columns)
    blank = days.peak_pain < 0
    pain_3 = np.floor(np.maximum(days.peak_pain, 0) * 0.3 + rng.random(len(days))).astype(np.int64)
    columns = [
        patient, day, headache, integers(np.where(blank, -1, pain_3)), hours,
        Coded(days.medication, medication_labels(1)), *features, stress, sleep,
    ]  # fmt: skip
    return Table(list(SITE_B_COLUMNS), list(SITE_B_COLUMNS.values()), columns)


def sessions_table(events: SessionEvents, pop: Population, ids: Identities) -> Table:
    """The practice-management export of the given appointments (in the given order)."""
    client = events.client
    columns = [
        Coded(client, ids.client_id),
        Coded(client, ids.name),
        Coded(client, ids.email),
        Coded(client, ids.phone),
        dates(calendar(pop, client, events.day), DATE_FORMATS["sessions"]),
        clock(events.start_minute),
        Coded(events.service, [s[0] for s in SERVICES]),
        Coded(events.status, list(STATUSES)),
        choice(events.service, [str(s[1]) for s in SERVICES], blank=events.blank_duration),
        Coded(events.practitioner, list(PRACTITIONERS)),
        Coded(events.reaction + len(NO_REACTION), [*NO_REACTION, *REACTIONS]),
        fractions(events.resolved_half_hours, 2),
    ]
    return Table(list(SESSION_HEADERS), list(SESSION_HEADERS), columns)


def patients_table(pop: Population, ids: Identities) -> Table:
    """Linkage table: one row per diary client; client_id empty for email-only clients."""
    rows = np.arange(pop.n_patients)
    columns = [
        Coded(rows, ids.diary_id),
        choice(rows, ids.client_id[: pop.n_patients], blank=pop.email_only[rows]),
        Coded(rows, ids.linkage_email[: pop.n_patients]),
    ]
    return Table(
        ["patient_id", "client_id", "email"], ["patient_id", "client_id", "email"], columns
    )


def coverage_table(pop: Population, ids: Identities) -> Table:
    """Diary coverage (first and last day kept) of attack-log clients with coverage."""
    rows = np.flatnonzero(pop.has_coverage)
    columns = [
        Coded(rows, ids.diary_id),
        dates(calendar(pop, rows, pop.start_day[rows]), DATE_FORMATS["iso"]),
        dates(calendar(pop, rows, pop.end_day[rows]), DATE_FORMATS["iso"]),
    ]
    names = ["patient_id", "diary_start", "diary_end"]
    return Table(names, list(names), columns)


def questionnaires_table(q: Questionnaires, pop: Population, ids: Identities) -> Table:
    """Questionnaire sheet: dates as real dates, scores as numbers."""
    epoch = calendar(pop, q.client, q.day)
    low = int(epoch.min()) if len(q) else 0
    high = int(epoch.max()) if len(q) else 0
    score_low = int(q.score.min()) if len(q) else 0
    columns = [
        Coded(q.client, ids.diary_id),
        Coded(epoch - low, [to_date(d) for d in range(low, high + 1)]),
        Coded(q.instrument, list(INSTRUMENTS)),
        Coded(q.score - score_low, list(range(score_low, int(q.score.max(initial=0)) + 1))),
    ]
    names = ["patient_id", "date", "instrument", "score"]
    return Table(names, list(names), columns)


def _duration_labels(minutes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """``45m``, ``06h 00m``, ``1d 02h 10m``: codes into the distinct durations' labels."""
    distinct, codes = np.unique(minutes, return_inverse=True)
    labels = []
    for m in distinct.tolist():
        d, rest = divmod(m, 24 * 60)
        h, mm = divmod(rest, 60)
        labels.append(f"{d}d {h:02d}h {mm:02d}m" if d else f"{h:02d}h {mm:02d}m" if h else f"{mm}m")
    return codes, labels


def attacks_table(attacks: Attacks, pop: Population, rng: np.random.Generator) -> Table:
    """All attack-log rows (one per attack, clients one after the other).

    The file of a client holds its consecutive rows; ``#`` numbers them from 1.
    """
    n = len(attacks)
    counts = np.bincount(attacks.client, minlength=pop.n)[pop.diary_kind == ATTACK_LOG]
    counts = counts[counts > 0]
    number = integers(ranks_within(counts) + 1)
    started = join(
        [
            dates(calendar(pop, attacks.client, attacks.start_day), "%d/%m/%Y").decoded(),
            clock(attacks.start_minute).decoded(),
        ],
        " ",
    )
    codes, labels = _duration_labels(attacks.duration_minutes)
    broken = rng.random(n) < NEWLINE_DURATION_P
    lasted = Coded(
        np.where(attacks.ongoing, 2 * len(labels), codes + broken * len(labels)),
        [*labels, *(label.replace(" ", "\n") for label in labels), "Ongoing"],
    )

    headache_only = ~(attacks.nausea | attacks.photophobia | attacks.phonophobia | attacks.aura)
    nausea = np.where(
        attacks.nausea, np.where(rng.random(n) < VOMITING_P, 2 + (rng.random(n) < 0.5), 1), 0
    )
    neck = headache_only & (rng.random(n) < NECK_PAIN_P)
    symptom_code = ((nausea * 2 + attacks.photophobia) * 2 + attacks.phonophobia) * 2 + neck
    symptom_labels = [
        ", ".join(x for x in (NAUSEA_WORDS[v], "Sensitivity to light" * li, "Sensitivity to noise" * no, "Neck pain" * ne) if x)
        for v in range(4) for li in (0, 1) for no in (0, 1) for ne in (0, 1)
    ]  # fmt: skip
    aura = np.where(attacks.aura, rng.integers(1, len(AURA_WORDS), n), 0)
    premonitory = np.where(rng.random(n) < 0.3, rng.integers(1, len(PREMONITORY), n), 0)

    n_a = len(ANALGESICS)
    t_column = rng.choice(4, n, p=MEDICATION_COLUMN_P)
    a_column = rng.choice(4, n, p=MEDICATION_COLUMN_P)
    medication = [
        Coded(
            (np.where(t_column == c, attacks.triptan_index, -1) + 1) * (n_a + 1)
            + np.where(a_column == c, attacks.analgesic_index, -1)
            + 1,
            medication_labels(2),
        )
        for c in range(len(MEDICATION_COLUMNS))
    ]
    trigger_bits = rng.random((n, len(TRIGGERS))) < TRIGGER_P
    trigger_code = trigger_bits @ (1 << np.arange(len(TRIGGERS)))
    trigger_labels = [
        ", ".join(t for i, t in enumerate(TRIGGERS) if code >> i & 1)
        for code in range(1 << len(TRIGGERS))
    ]
    notes = np.where(rng.random(n) < 0.2, rng.integers(1, len(NOTES), n), 0)
    columns = [
        number,
        from_arrow(started),
        lasted,
        integers(attacks.peak_pain),
        choice(rng.integers(0, len(PAIN_POSITIONS), n), PAIN_POSITIONS, blank=rng.random(n) < 0.3),
        Coded(symptom_code, symptom_labels),
        Coded(aura, list(AURA_WORDS)),
        Coded(premonitory, list(PREMONITORY)),
        *medication,
        Coded(trigger_code, trigger_labels),
        Coded(notes, list(NOTES)),
    ]
    return Table(list(ATTACK_HEADER), list(ATTACK_CANONICAL), columns)


def attack_preambles(
    pop: Population, ids: Identities, clients: np.ndarray, rng: np.random.Generator
) -> list[str]:
    """Preamble lines (4-6, the last blank) of each attack-log client's file."""
    n = len(clients)
    name = pc.take(pa.array(ids.name), pa.array(clients))
    start = dates(calendar(pop, clients, pop.start_day[clients]), "%d/%m/%Y").decoded()
    end = dates(calendar(pop, clients, pop.end_day[clients]), "%d/%m/%Y").decoded()
    exported = dates(
        calendar(pop, clients, pop.end_day[clients] + rng.integers(0, 4, n)), "%d/%m/%Y"
    ).decoded()
    period = pc.if_else(pa.array(rng.random(n) < 0.5), join(["\nPeriod: ", start, " - ", end]), "")
    app = pc.if_else(pa.array(rng.random(n) < 0.5), "\nApp version: 7.4", "")
    return join(
        ["Migraine Buddy export\nName: ", name, "\nExported: ", exported, period, app, "\n\n"]
    ).to_pylist()
