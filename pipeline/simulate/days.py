"""Daily diary data of every diary client, fully vectorised.

Model of one recorded day of client i, ``d`` days from the index date:

- migraine day with probability ``p = rate_i * F_i[block(d)] * (1 + r(d) * E_i) / 28``,
  where F is the month block factor, r(d) the ramp of the effect (0 before day 0, rising
  to 1 over ``effect_ramp_days``) and E_i the client's relative effect (0 if untreated);
- otherwise a tension-type headache day with probability ``tension_i / 28``;
- otherwise headache-free.

Days are recorded (kept) with probability ``1 - missing_i``, independently of everything
else (missing completely at random), so migraine days x 28 / recorded days is unbiased
for ``28 p`` in every window. No probability is clipped (see SimulationSettings).

Every migraine day satisfies the pipeline's definition (DESIGN.md): a recorded migraine,
or a headache >= 30 min with a migraine feature, or a migraine-specific drug. Tension
days satisfy none of these: no features (a few are short, < 30 min, with photophobia),
no migraine-specific drug. Pain, stress and sleep values are integers drawn by
stochastic rounding, ``floor(x + U)``, whose mean is exactly the latent x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.coded import ranks_within
from pipeline.simulate.population import NO_DIARY, Population, simulate_population
from pipeline.simulate.settings import (
    DAILY_SPREAD,
    DAYS_PER_MONTH,
    PAIN_DAY_SPREAD,
    TRIPTAN_ONLY_PAIN_DROP,
    TRIPTAN_ONLY_SPREAD,
    SimulationSettings,
)
from pipeline.simulate.streams import Streams
from pipeline.simulate.vocab import ANALGESICS, TRIPTANS, YES_NO_STYLES

#: Day kinds.
FREE, TENSION, MIGRAINE, TRIPTAN_ONLY = 0, 1, 2, 3

#: Feature probabilities on a full migraine day (aura: aura-prone clients / others).
AURA_P = (0.7, 0.03)
NAUSEA_P, PHOTOPHOBIA_P, PHONOPHOBIA_P = 0.6, 0.8, 0.65
SHORT_TENSION_P = 0.1  # tension headaches under 30 min ...
SHORT_TENSION_LIGHT_P = 0.5  # ... of which this share with photophobia
MIGRAINE_FLAG_P = (0.88, 0.06)  # site A "migraine" = yes / no on a migraine day (rest blank)
ANALGESIC_WITH_TRIPTAN_P = 0.3
ANALGESIC_MIGRAINE_P = 0.65
ANALGESIC_TENSION_P = 0.35
USUAL_ANALGESIC_P = 0.8
BLANK_SCORE_P = 0.02  # stress / sleep left empty


@dataclass(frozen=True)
class DiaryDays:
    """Recorded diary days (one element per client-day), sorted by client then day.

    Integer fields use -1 for an empty cell. Yes/no fields: 1 yes, 0 no, -1 empty.

    Attributes
    ----------
    client : int64
        Population index of the client.
    day : int64
        Day offset from the client's index date.
    kind : int8
        0 headache-free, 1 tension-type, 2 migraine, 3 triptan-only migraine day
        (aborted: short headache, no features, a migraine-specific drug).
    migraine_flag : int8
        What the form's ``migraine`` column says (site A).
    peak_pain : int8
        0-10.
    pain_quarters : int16
        Pain duration in quarter-hours (``pain_hours = pain_quarters / 4``).
    aura, nausea, photophobia, phonophobia : int8
    medication : int16
        ``(t + 1) * (len(ANALGESICS) + 1) + (a + 1)``, t / a the triptan / analgesic
        index or -1 (see :func:`pipeline.simulate.vocab.medication_labels`).
    stress, sleep_quality : int8
        0-10 (sleep 10 = best).
    """

    client: np.ndarray
    day: np.ndarray
    kind: np.ndarray
    migraine_flag: np.ndarray
    peak_pain: np.ndarray
    pain_quarters: np.ndarray
    aura: np.ndarray
    nausea: np.ndarray
    photophobia: np.ndarray
    phonophobia: np.ndarray
    medication: np.ndarray
    stress: np.ndarray
    sleep_quality: np.ndarray

    def __len__(self) -> int:
        return len(self.client)

    @property
    def headache(self) -> np.ndarray:
        """Any headache that day."""
        return self.kind != FREE

    @property
    def migraine_day(self) -> np.ndarray:
        """A migraine day by the pipeline's definition (true by construction)."""
        return self.kind >= MIGRAINE

    @property
    def triptan(self) -> np.ndarray:
        """A migraine-specific drug was taken."""
        return self.medication // (len(ANALGESICS) + 1) > 0

    def subset(self, rows: np.ndarray) -> DiaryDays:
        """The days at ``rows`` (boolean mask or indices)."""
        return DiaryDays(**{name: getattr(self, name)[rows] for name in self.__dataclass_fields__})


def effect_ramp(day: np.ndarray, ramp_days: int) -> np.ndarray:
    """Share of the full effect reached on each day: 0 before day 0, linear to 1."""
    if ramp_days == 0:
        return (day >= 0).astype(float)
    return np.clip((day + 1) / ramp_days, 0.0, 1.0) * (day >= 0)


def migraine_probability(
    pop: Population, client: np.ndarray, day: np.ndarray, ramp_days: int
) -> np.ndarray:
    """Probability that a recorded day is a migraine day (exact model, no clipping)."""
    block = pop.block_of(day)
    effect = np.where(pop.treated[client], pop.relative_effect[client], 0.0)
    multiplier = 1.0 + effect_ramp(day, ramp_days) * effect
    return pop.migraine_rate[client] * pop.block_factor[client, block] * multiplier / DAYS_PER_MONTH


def _rounded(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Stochastic rounding: an integer with expectation exactly ``x``."""
    return np.floor(x + rng.random(len(x))).astype(np.int16)


def _triangular(rng: np.random.Generator, n: int, half_width: float) -> np.ndarray:
    """Mean-zero triangular noise on [-half_width, half_width]."""
    return half_width * (rng.random(n) + rng.random(n) - 1.0)


def simulate_days(
    pop: Population, settings: SimulationSettings, rng: np.random.Generator
) -> DiaryDays:
    """Generate the recorded days of every diary client.

    Parameters
    ----------
    pop : Population
    settings : SimulationSettings
    rng : numpy.random.Generator

    Returns
    -------
    DiaryDays
        Recorded days only (missing days are dropped), sorted by client then day.
    """
    s = settings
    clients = np.flatnonzero(pop.diary_kind != NO_DIARY)
    lengths = pop.end_day[clients] - pop.start_day[clients] + 1
    client = np.repeat(clients, lengths)
    day = pop.start_day[client] + ranks_within(lengths)
    kept = rng.random(len(client)) >= pop.missing_probability[client]
    client, day = client[kept], day[kept]
    n = len(client)

    ramp = effect_ramp(day, s.effect_ramp_days) * pop.treated[client]
    p_migraine = migraine_probability(pop, client, day, s.effect_ramp_days)
    migraine = rng.random(n) < p_migraine
    tension = ~migraine & (rng.random(n) < pop.tension_rate[client] / DAYS_PER_MONTH)
    triptan_only = migraine & pop.triptan_user[client] & (rng.random(n) < s.triptan_only_fraction)
    full = migraine & ~triptan_only
    kind = np.select([triptan_only, full, tension], [TRIPTAN_ONLY, MIGRAINE, TENSION], FREE).astype(
        np.int8
    )
    headache = kind != FREE

    # migraine features (full migraine days only; short tension days may have photophobia)
    aura = full & (rng.random(n) < np.where(pop.aura_prone[client], *AURA_P))
    nausea = full & (rng.random(n) < NAUSEA_P)
    photophobia = full & (rng.random(n) < PHOTOPHOBIA_P)
    phonophobia = full & (rng.random(n) < PHONOPHOBIA_P)
    photophobia |= full & ~(aura | nausea | photophobia | phonophobia)
    short = tension & (rng.random(n) < SHORT_TENSION_P)
    photophobia |= short & (rng.random(n) < SHORT_TENSION_LIGHT_P)

    # duration in quarter-hours: migraine 2-24 h, tension 0.5-8 h (short: 15 min),
    # triptan-only 0.5-1.5 h; whole half-hours except the short ones
    half_hours = np.select(
        [full, tension, triptan_only],
        [
            np.rint(2 * (2 + 22 * rng.beta(1.2, 3.5, n))),
            np.rint(2 * (0.5 + 7.5 * rng.beta(1.5, 3.0, n))),
            rng.integers(1, 4, n).astype(float),
        ],
        0,
    )
    quarters = np.where(short, 1, 2 * half_hours).astype(np.int16)

    # peak pain 0-10: the pain effect applies to migraine days (ramped)
    pain_x = np.select(
        [full, triptan_only, tension],
        [
            pop.pain_mean[client] + PAIN_DAY_SPREAD * (2 * rng.random(n) - 1),
            pop.pain_mean[client]
            - TRIPTAN_ONLY_PAIN_DROP
            + TRIPTAN_ONLY_SPREAD * (2 * rng.random(n) - 1),
            2.0 + 3.0 * rng.random(n),
        ],
        0.0,
    )
    pain_x += migraine * ramp * s.effect_peak_pain
    pain = np.where(headache, _rounded(rng, pain_x), 0).astype(np.int8)

    medication = _medication(pop, client, kind, rng, s.triptan_on_migraine_day)

    stress_x = (
        pop.stress_mean[client]
        + s.stress_on_headache_days * headache
        + _triangular(rng, n, DAILY_SPREAD)
        + ramp * s.effect_stress
    )
    sleep_x = (
        pop.sleep_mean[client]
        + s.sleep_on_headache_days * headache
        + _triangular(rng, n, DAILY_SPREAD)
        + ramp * s.effect_sleep_quality
    )
    stress = np.where(rng.random(n) < BLANK_SCORE_P, -1, _rounded(rng, stress_x)).astype(np.int8)
    sleep = np.where(rng.random(n) < BLANK_SCORE_P, -1, _rounded(rng, sleep_x)).astype(np.int8)

    flag_u = rng.random(n)
    yes_p, no_p = MIGRAINE_FLAG_P
    migraine_flag = np.where(
        full, np.select([flag_u < yes_p, flag_u < yes_p + no_p], [1, 0], -1), 0
    )

    # headache-free days: optional fields empty or "no"/0, as the client's form habit
    free_blank = ~headache & pop.blank_when_free[client]

    def blanked(values: np.ndarray) -> np.ndarray:
        return np.where(free_blank, -1, values).astype(values.dtype)

    as_int = np.int8
    return DiaryDays(
        client=client,
        day=day,
        kind=kind,
        migraine_flag=blanked(migraine_flag.astype(as_int)),
        peak_pain=blanked(pain),
        pain_quarters=blanked(quarters),
        aura=blanked(aura.astype(as_int)),
        nausea=blanked(nausea.astype(as_int)),
        photophobia=blanked(photophobia.astype(as_int)),
        phonophobia=blanked(phonophobia.astype(as_int)),
        medication=medication,
        stress=stress,
        sleep_quality=sleep,
    )


def _medication(
    pop: Population,
    client: np.ndarray,
    kind: np.ndarray,
    rng: np.random.Generator,
    triptan_p: float,
) -> np.ndarray:
    """Medication code of each day: triptans never on tension or headache-free days."""
    n = len(client)
    full = kind == MIGRAINE
    triptan = (kind == TRIPTAN_ONLY) | (
        full & pop.triptan_user[client] & (rng.random(n) < triptan_p)
    )
    analgesic_p = np.select(
        [kind == TRIPTAN_ONLY, triptan, full, kind == TENSION],
        [0.0, ANALGESIC_WITH_TRIPTAN_P, ANALGESIC_MIGRAINE_P, ANALGESIC_TENSION_P],
        0.0,
    )
    analgesic = rng.random(n) < analgesic_p
    usual = rng.random(n) < USUAL_ANALGESIC_P
    which = np.where(usual, pop.analgesic[client], rng.integers(0, len(ANALGESICS), n))
    t = np.where(triptan, pop.triptan[client], -1)
    a = np.where(analgesic, which, -1)
    return ((t + 1) * (len(ANALGESICS) + 1) + (a + 1)).astype(np.int16)


def simulate_diary_days(
    n_patients: int, seed: int, settings: SimulationSettings | None = None
) -> tuple[Population, DiaryDays]:
    """The population and recorded diary days exactly as :func:`simulate_study` draws them.

    No files are written; meant for large-n checks of the model (e.g. that the mean
    change in migraine days per 28 equals the planted effect).

    Parameters
    ----------
    n_patients : int
        Diary clients.
    seed : int
    settings : SimulationSettings, optional

    Returns
    -------
    (Population, DiaryDays)
    """
    settings = settings or SimulationSettings()
    streams = Streams(seed)
    pop = simulate_population(
        n_patients, settings, streams.population, len(YES_NO_STYLES), len(TRIPTANS), len(ANALGESICS)
    )
    return pop, simulate_days(pop, settings, streams.days)
