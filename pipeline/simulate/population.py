"""The simulated clients: latent rates, diary timing, treatment and linkage flags.

Every client-level quantity is drawn here, once, as numpy arrays indexed by client
(0 .. n-1). Clients 0 .. n_patients-1 keep a diary (ids ``MIG-...`` in this order);
the rest are practice clients with sessions only. Group memberships (dropout, late
start, attack log, ...) are exact counts drawn by random permutation, independent of the
latent rates, so selection on them cannot bias the planted effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.coded import epoch_day
from pipeline.simulate.settings import (
    DAYS_PER_MONTH,
    PAIN_MEAN_RANGE,
    SLEEP_MEAN_RANGE,
    STRESS_MEAN_RANGE,
    TENSION_BETA,
    SimulationSettings,
)

#: Diary kinds.
NO_DIARY, SITE_A, SITE_B, ATTACK_LOG = 0, 1, 2, 3
DIARY_KIND_NAMES = {NO_DIARY: None, SITE_A: "site_a", SITE_B: "site_b", ATTACK_LOG: "attack_log"}

#: Share of sessions-only clients who book other massages, never therapy.
MASSAGE_ONLY_SHARE = 0.3
AURA_PRONE_SHARE = 0.3
LATE_START_DAYS = (5, 13)


@dataclass(frozen=True)
class Population:
    """Client-level arrays (length ``n``) of one simulated study.

    Attributes
    ----------
    n_patients : int
        Diary clients; they are clients ``0 .. n_patients - 1``.
    client_number : int64
        Practice-system number (the export shows ``C<number>``).
    diary_kind : int8
        0 no diary, 1 site A daily form, 2 site B daily form, 3 attack log.
    treated : bool
        Attends therapy (6-8 weekly sessions from day 0).
    index_day : int64
        Calendar day of day 0, days since 1970-01-01.
    migraine_rate, tension_rate : float64
        Latent rates, days per 28 (tension: among non-migraine days).
    block_factor : float64 (n, n_blocks)
        Month-to-month factor of each 28-day block; block ``b`` covers days
        ``28 * (b + block_min) .. 28 * (b + block_min) + 27``.
    block_min : int
        Block number (floor(day / 28)) of column 0.
    relative_effect : float64
        Client's relative change of the migraine rate at full effect
        (``effect * H / E[rate]``; -0.3 = 30% fewer migraine days).
    start_day, end_day : int64
        First and last diary day (offsets; inclusive).
    dropout, late_start, long_baseline : bool
    missing_probability : float64
        Daily probability that a daily-form day is not recorded.
    pain_mean, stress_mean, sleep_mean : float64
        Client means of peak pain on migraine days and of daily stress / sleep quality.
    aura_prone, triptan_user : bool
    triptan, analgesic : int64
        The client's usual drugs (indices into :data:`pipeline.simulate.vocab.TRIPTANS`,
        :data:`ANALGESICS`).
    yes_no_style : int64
        Index into the yes/no word pairs the client's form uses.
    blank_when_free : bool
        The client leaves optional fields empty on headache-free days.
    first_booking_cancelled : bool
        Their first booked therapy session was cancelled.
    n_therapy : int64
        Attended therapy sessions (0 when not treated).
    email_only : bool
        Their patients row has no client_id.
    has_coverage : bool
        Attack-log client with a coverage row.
    """

    n_patients: int
    client_number: np.ndarray
    diary_kind: np.ndarray
    treated: np.ndarray
    index_day: np.ndarray
    migraine_rate: np.ndarray
    tension_rate: np.ndarray
    block_factor: np.ndarray
    block_min: int
    relative_effect: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray
    dropout: np.ndarray
    late_start: np.ndarray
    long_baseline: np.ndarray
    missing_probability: np.ndarray
    pain_mean: np.ndarray
    stress_mean: np.ndarray
    sleep_mean: np.ndarray
    aura_prone: np.ndarray
    triptan_user: np.ndarray
    triptan: np.ndarray
    analgesic: np.ndarray
    yes_no_style: np.ndarray
    blank_when_free: np.ndarray
    first_booking_cancelled: np.ndarray
    n_therapy: np.ndarray
    email_only: np.ndarray
    has_coverage: np.ndarray

    @property
    def n(self) -> int:
        """All clients (diary and sessions-only)."""
        return len(self.client_number)

    def block_of(self, day: np.ndarray) -> np.ndarray:
        """Column of ``block_factor`` for day offsets."""
        return np.floor_divide(day, DAYS_PER_MONTH) - self.block_min


def count_of(fraction: float, n: int) -> int:
    """Clients in a group of the given share: rounded, at least one when n >= 10."""
    k = round(fraction * n)
    return 1 if fraction > 0 and k == 0 and n >= 10 else min(k, n)


def pick(
    rng: np.random.Generator, n: int, fraction: float, among: np.ndarray | None = None
) -> np.ndarray:
    """Boolean mask of exactly ``count_of(fraction, len(among))`` members drawn at random."""
    pool = np.arange(n) if among is None else np.flatnonzero(among)
    chosen = rng.permutation(pool)[: count_of(fraction, len(pool))]
    mask = np.zeros(n, bool)
    mask[chosen] = True
    return mask


def simulate_population(
    n_patients: int,
    settings: SimulationSettings,
    rng: np.random.Generator,
    n_styles: int,
    n_triptans: int,
    n_analgesics: int,
) -> Population:
    """Draw every client-level quantity.

    Parameters
    ----------
    n_patients : int
        Diary clients; sessions-only clients are added (``sessions_only_fraction``).
    settings : SimulationSettings
    rng : numpy.random.Generator
    n_styles, n_triptans, n_analgesics : int
        Sizes of the vocabularies the client-level choices index into.

    Returns
    -------
    Population
    """
    s = settings
    n_only = count_of(s.sessions_only_fraction, n_patients)
    n = n_patients + n_only
    diary = np.arange(n) < n_patients

    kind = np.zeros(n, np.int8)
    attack = pick(rng, n, s.attack_log_fraction, among=diary)
    site_b = pick(rng, n, s.site_b_fraction, among=diary & ~attack)
    kind[diary] = SITE_A
    kind[site_b] = SITE_B
    kind[attack] = ATTACK_LOG

    never = pick(rng, n, s.never_treated_fraction, among=diary)
    massage_only = pick(rng, n, MASSAGE_ONLY_SHARE, among=~diary) if n_only else np.zeros(n, bool)
    treated = ~never & ~massage_only

    span = epoch_day(s.last_index_date) - epoch_day(s.first_index_date)
    index_day = epoch_day(s.first_index_date) + rng.integers(0, span + 1, n)

    lo, hi = s.migraine_rate_range
    rate = lo + (hi - lo) * rng.beta(*s.migraine_rate_beta, n)
    t_lo, t_hi = s.tension_rate_range
    tension = t_lo + (t_hi - t_lo) * rng.beta(*TENSION_BETA, n)

    start_lo = -max(s.baseline_days[1], s.long_baseline_days[1])
    end_hi = s.followup_last_day + s.extended_followup_max_days
    block_min = start_lo // DAYS_PER_MONTH
    n_blocks = end_hi // DAYS_PER_MONTH - block_min + 1
    a = s.monthly_fluctuation
    swing = 2.0 * rng.beta(2.0, 2.0, (n, n_blocks)) - 1.0
    factor = 1.0 + a * swing
    if s.regression_to_mean:
        baseline_block = -1 - block_min
        factor[:, baseline_block] = 1.0 + a * np.abs(swing[:, baseline_block])
    h = s.effect_heterogeneity
    relative = (
        s.effect_migraine_days * (1.0 + h * (2.0 * rng.random(n) - 1.0)) / s.mean_migraine_rate
    )

    long_baseline = pick(rng, n, s.long_baseline_fraction, among=diary)
    late = pick(rng, n, s.late_start_fraction, among=diary)
    dropout = pick(rng, n, s.dropout_fraction, among=diary)
    extended = pick(rng, n, s.extended_followup_fraction, among=diary & ~dropout)
    start = -rng.integers(s.baseline_days[0], s.baseline_days[1] + 1, n)
    start = np.where(
        long_baseline, -rng.integers(s.long_baseline_days[0], s.long_baseline_days[1] + 1, n), start
    )
    start = np.where(late, -rng.integers(LATE_START_DAYS[0], LATE_START_DAYS[1] + 1, n), start)
    end = s.followup_last_day + np.where(
        extended, rng.integers(1, s.extended_followup_max_days + 1, n), 0
    )
    end = np.where(dropout, rng.integers(s.dropout_days[0], s.dropout_days[1] + 1, n), end)
    m_lo, m_hi = s.missing_day_probability
    missing = np.where(kind == ATTACK_LOG, 0.0, rng.uniform(m_lo, m_hi, n))

    attack_idx = np.flatnonzero(kind == ATTACK_LOG)
    uncovered = rng.permutation(attack_idx)[: s.attack_logs_without_coverage]
    has_coverage = kind == ATTACK_LOG
    has_coverage[uncovered] = False

    n_therapy = np.where(
        treated, rng.integers(s.therapy_sessions[0], s.therapy_sessions[1] + 1, n), 0
    )
    first_cancelled = pick(rng, n, s.cancelled_first_fraction, among=treated)

    numbers = 10_000 + rng.permutation(max(90_000, 10 * n))[:n]
    return Population(
        n_patients=n_patients,
        client_number=numbers.astype(np.int64),
        diary_kind=kind,
        treated=treated,
        index_day=index_day.astype(np.int64),
        migraine_rate=rate,
        tension_rate=tension,
        block_factor=factor,
        block_min=int(block_min),
        relative_effect=relative,
        start_day=start.astype(np.int64),
        end_day=end.astype(np.int64),
        dropout=dropout,
        late_start=late,
        long_baseline=long_baseline & ~late,
        missing_probability=missing,
        pain_mean=rng.uniform(*PAIN_MEAN_RANGE, n),
        stress_mean=rng.uniform(*STRESS_MEAN_RANGE, n),
        sleep_mean=rng.uniform(*SLEEP_MEAN_RANGE, n),
        aura_prone=rng.random(n) < AURA_PRONE_SHARE,
        triptan_user=rng.random(n) < s.triptan_user_fraction,
        triptan=rng.choice(n_triptans, n, p=_weights(n_triptans)),
        analgesic=rng.choice(n_analgesics, n, p=_weights(n_analgesics)),
        yes_no_style=rng.integers(0, n_styles, n),
        blank_when_free=rng.random(n) < 0.4,
        first_booking_cancelled=first_cancelled,
        n_therapy=n_therapy.astype(np.int64),
        email_only=pick(rng, n, s.email_only_link_fraction, among=diary),
        has_coverage=has_coverage,
    )


def _weights(k: int) -> np.ndarray:
    """Decreasing popularity of the first, second, ... drug."""
    w = 1.0 / np.arange(1, k + 1)
    return w / w.sum()
