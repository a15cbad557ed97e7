"""Which problems each export gets (the realistic spoilings of :mod:`pipeline.simulate.mess`)."""

from __future__ import annotations

import numpy as np

from pipeline.simulate.coded import to_date
from pipeline.simulate.days import DiaryDays
from pipeline.simulate.mess import Variant
from pipeline.simulate.sessions import SessionEvents
from pipeline.simulate.table import Table


def _formatted(epoch_days: np.ndarray, fmt: str):
    """Value rule: the row's own date in another format (valid date, wrong format)."""
    return lambda table, rows: [to_date(epoch_days[r]).strftime(fmt) for r in rows]


def diary_variants(site: str, days: DiaryDays, epoch_days: np.ndarray) -> list[Variant]:
    """Spoilings of a daily-diary export (site ``site_a`` or ``site_b``)."""
    site_a = site == "site_a"
    return [
        Variant("out_of_range", "peak_pain", "12" if site_a else "5", lambda t: days.headache),
        Variant("out_of_range", "stress", "-1", lambda t: days.stress >= 0),
        Variant("out_of_range", "sleep_quality", "11", lambda t: days.sleep_quality >= 0),
        Variant("bad_date", "date", "2025-02-30" if site_a else "30.02.2025"),
        Variant("bad_date", "date", _formatted(epoch_days, "%d/%m/%Y" if site_a else "%Y-%m-%d")),
        Variant("bad_date", "date", "n/a"),
        Variant("unknown_vocabulary", "headache", "maybe"),
        Variant("unknown_vocabulary", "nausea", "maybe"),
        Variant("missing_required", "headache", ""),
        Variant("missing_required", "date", ""),
    ]


def diary_conflict(days: DiaryDays) -> Variant:
    """A second row for the same client and day whose stress differs."""

    def other_stress(table: Table, rows: np.ndarray) -> list[str]:
        stress = days.stress[rows].astype(int)
        return [str(v) for v in np.where(stress < 0, 5, (stress + 3) % 11).tolist()]

    return Variant("conflict", "stress", other_stress)


def session_variants(events: SessionEvents, epoch_days: np.ndarray) -> list[Variant]:
    """Spoilings of a sessions export."""

    def negative_hours(table: Table, rows: np.ndarray) -> list[str]:
        return [f"-{h / 2:g}" for h in events.resolved_half_hours[rows].tolist()]

    return [
        Variant(
            "out_of_range",
            "ae_resolved_hours",
            negative_hours,
            lambda t: events.resolved_half_hours >= 0,
        ),
        Variant("bad_date", "date", "31/02/2025"),
        Variant("bad_date", "date", _formatted(epoch_days, "%Y-%m-%d")),
        Variant("bad_date", "date", "n/a"),
        Variant("unknown_vocabulary", "status", "Tentative"),
        Variant("missing_required", "status", ""),
        Variant("missing_required", "service", ""),
    ]


def questionnaire_variants(instrument: np.ndarray) -> list[Variant]:
    """Spoilings of the questionnaire sheet (a score above the instrument's range, a date
    typed as text, an empty score)."""

    def too_high(table: Table, rows: np.ndarray) -> list[int]:
        return np.where(instrument[rows] == 0, 82, 44).tolist()

    return [
        Variant("out_of_range", "score", too_high),
        Variant("bad_date", "date", "n/a"),
        Variant("bad_date", "date", "31/02/2025"),
        Variant("missing_required", "score", None),
    ]


def attack_variants(ongoing: np.ndarray) -> list[Variant]:
    """Spoilings of the attack logs (a pain level above 10)."""
    return [Variant("out_of_range", "pain_level", "11", lambda t: ~ongoing)]
