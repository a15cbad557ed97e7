"""Attack logs (Migraine Buddy style) derived from the attack-log clients' diary days.

Each headache day of an attack-log client becomes one attack, except that runs of
consecutive full migraine days are sometimes one long attack starting in the evening of
the first day and ending on the last day (crossing midnight). Single-day attacks start
and end on their day. So the calendar days an attack touches are exactly the client's
headache days, and the migraine-day definition applied to the attacks gives exactly the
planted migraine days: full migraine attacks last >= 2 h with a feature, triptan-only
attacks carry a migraine-specific drug, tension attacks have neither (a few last 15
minutes with light sensitivity).

The last attack of some clients is ``Ongoing`` (never closed in the app); only an attack
with a migraine-specific drug is chosen, so it counts on its day whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.days import MIGRAINE, DiaryDays
from pipeline.simulate.population import ATTACK_LOG, Population

MERGE_P = 0.5  # a full migraine day continues the previous day's attack
ONGOING_P = 0.2  # share of attack-log clients whose last (triptan) attack is still open
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Attacks:
    """One element per attack, sorted by client then start.

    Attributes
    ----------
    client : int64
        Population index.
    first_row, last_row : int64
        Range of the attack's days in the attack-log clients' :class:`DiaryDays` subset.
    start_day, n_days : int64
        Offset of the start day; calendar days touched.
    start_minute, duration_minutes : int64
        Clock time of the start; duration (end = start + duration).
    ongoing : bool
    peak_pain : int64
        0-10 (maximum over the days).
    aura, nausea, photophobia, phonophobia, triptan : bool
    triptan_index, analgesic_index : int64
        The drugs taken (-1: none).
    """

    client: np.ndarray
    first_row: np.ndarray
    last_row: np.ndarray
    start_day: np.ndarray
    n_days: np.ndarray
    start_minute: np.ndarray
    duration_minutes: np.ndarray
    ongoing: np.ndarray
    peak_pain: np.ndarray
    aura: np.ndarray
    nausea: np.ndarray
    photophobia: np.ndarray
    phonophobia: np.ndarray
    triptan_index: np.ndarray
    analgesic_index: np.ndarray

    def __len__(self) -> int:
        return len(self.client)


def attack_days(pop: Population, days: DiaryDays) -> DiaryDays:
    """The diary days of attack-log clients (their coverage: every day is recorded)."""
    return days.subset(pop.diary_kind[days.client] == ATTACK_LOG)


def simulate_attacks(days: DiaryDays, n_analgesics: int, rng: np.random.Generator) -> Attacks:
    """Turn attack-log clients' headache days into attacks.

    Parameters
    ----------
    days : DiaryDays
        The attack-log clients' days (see :func:`attack_days`), sorted by client and day.
    n_analgesics : int
        Size of the analgesic list (to decode medication codes).
    rng : numpy.random.Generator

    Returns
    -------
    Attacks
    """
    rows = np.flatnonzero(days.headache)
    client, day, kind = days.client[rows], days.day[rows], days.kind[rows]
    full = kind == MIGRAINE
    follows = np.zeros(len(rows), bool)
    follows[1:] = (client[1:] == client[:-1]) & (day[1:] == day[:-1] + 1) & full[1:] & full[:-1]
    merged = follows & (rng.random(len(rows)) < MERGE_P)
    starts = np.flatnonzero(~merged)
    ends = np.append(starts[1:], len(rows))[: len(starts)] - 1
    n_attacks = len(starts)

    def reduce(values: np.ndarray, how: np.ufunc) -> np.ndarray:
        return how.reduceat(values, starts) if n_attacks else values[:0]

    n_days = day[ends] - day[starts] + 1
    quarters = days.pain_quarters[rows][starts].astype(np.int64)
    single = np.minimum(np.maximum(quarters, 1) * 15, MINUTES_PER_DAY - 1)
    earliest = np.minimum(6 * 60, MINUTES_PER_DAY - 1 - single)
    single_start = earliest + np.floor(
        rng.random(n_attacks) * (MINUTES_PER_DAY - single - earliest)
    ).astype(np.int64)
    evening = 17 * 60 + rng.integers(0, 6 * 60 + 31, n_attacks)
    morning_end = 60 + rng.integers(0, 17 * 60 + 1, n_attacks)
    long = n_days > 1
    start_minute = np.where(long, evening, single_start)
    duration = np.where(long, (n_days - 1) * MINUTES_PER_DAY + morning_end - evening, single)

    medication = days.medication[rows].astype(np.int64)
    triptan_any = reduce(medication // (n_analgesics + 1), np.maximum) - 1
    analgesic_any = reduce(medication % (n_analgesics + 1), np.maximum) - 1

    attack_client = client[starts]
    last_of_client = (
        np.append(attack_client[1:] != attack_client[:-1], True) if n_attacks else np.zeros(0, bool)
    )
    ongoing = last_of_client & ~long & (triptan_any >= 0) & (rng.random(n_attacks) < ONGOING_P)

    return Attacks(
        client=attack_client,
        first_row=rows[starts],
        last_row=rows[ends],
        start_day=day[starts],
        n_days=n_days,
        start_minute=start_minute,
        duration_minutes=duration,
        ongoing=ongoing,
        peak_pain=reduce(days.peak_pain[rows].astype(np.int64), np.maximum),
        aura=reduce(days.aura[rows] == 1, np.logical_or),
        nausea=reduce(days.nausea[rows] == 1, np.logical_or),
        photophobia=reduce(days.photophobia[rows] == 1, np.logical_or),
        phonophobia=reduce(days.phonophobia[rows] == 1, np.logical_or),
        triptan_index=triptan_any,
        analgesic_index=analgesic_any,
    )
