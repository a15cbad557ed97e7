"""HIT-6 and PSS-10 questionnaires at baseline and around week 12.

HIT-6 (36-78, lower is better) follows the client's expected migraine rate in the month
(so it improves with the planted migraine effect and carries the same regression to the
mean); PSS-10 (0-40) follows the client's mean stress plus the planted stress effect.
Completers return the week-12 forms with probability ``questionnaire_followup_fraction``;
clients who dropped out of the diary do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.population import NO_DIARY, Population
from pipeline.simulate.settings import SimulationSettings

HIT6_RANGE, PSS10_RANGE = (36, 78), (0, 40)
HIT6_BASE, HIT6_PER_MIGRAINE_DAY, HIT6_NOISE = 46.0, 1.5, 3.0
PSS10_BASE, PSS10_PER_STRESS_POINT, PSS10_NOISE = 6.0, 2.5, 3.0
BASELINE_RETURN_P = 0.95
INSTRUMENTS = ("HIT-6", "PSS-10")
BASELINE_DAYS = (-27, -1)
FOLLOWUP_DAYS = (80, 90)
PRIMARY_BLOCK_DAY = 56  # a day of the follow-up block the week-12 form reflects


@dataclass(frozen=True)
class Questionnaires:
    """One element per completed questionnaire: client, day offset, instrument (0 HIT-6,
    1 PSS-10), score (integer within the instrument's range)."""

    client: np.ndarray
    day: np.ndarray
    instrument: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.client)


def simulate_questionnaires(
    pop: Population, settings: SimulationSettings, rng: np.random.Generator
) -> Questionnaires:
    """Baseline and week-12 HIT-6 and PSS-10 of diary clients.

    Returns
    -------
    Questionnaires
        Sorted by client, then day, then instrument.
    """
    s = settings
    diary = np.flatnonzero(pop.diary_kind != NO_DIARY)
    baseline_block = pop.block_of(np.full(len(diary), -1))
    primary_block = pop.block_of(np.full(len(diary), PRIMARY_BLOCK_DAY))
    effect = np.where(pop.treated[diary], pop.relative_effect[diary], 0.0)
    rate = pop.migraine_rate[diary]
    rate_before = rate * pop.block_factor[diary, baseline_block]
    rate_after = rate * pop.block_factor[diary, primary_block] * (1.0 + effect)
    stress_after = pop.stress_mean[diary] + np.where(pop.treated[diary], s.effect_stress, 0.0)

    before = rng.random(len(diary)) < BASELINE_RETURN_P
    after = ~pop.dropout[diary] & (rng.random(len(diary)) < s.questionnaire_followup_fraction)
    day_before = rng.integers(BASELINE_DAYS[0], BASELINE_DAYS[1] + 1, len(diary))
    day_after = rng.integers(FOLLOWUP_DAYS[0], FOLLOWUP_DAYS[1] + 1, len(diary))

    def scores(rate_: np.ndarray, stress: np.ndarray) -> np.ndarray:
        hit = HIT6_BASE + HIT6_PER_MIGRAINE_DAY * rate_ + rng.normal(0, HIT6_NOISE, len(rate_))
        pss = PSS10_BASE + PSS10_PER_STRESS_POINT * stress + rng.normal(0, PSS10_NOISE, len(rate_))
        return np.stack(
            [np.clip(np.rint(hit), *HIT6_RANGE), np.clip(np.rint(pss), *PSS10_RANGE)], axis=1
        )

    score_before = scores(rate_before, pop.stress_mean[diary])
    score_after = scores(rate_after, stress_after)
    client = np.concatenate([diary[before], diary[after]])
    day = np.concatenate([day_before[before], day_after[after]])
    score = np.concatenate([score_before[before], score_after[after]])
    order = np.lexsort((day, client))
    client, day, score = np.repeat(client[order], 2), np.repeat(day[order], 2), score[order].ravel()
    instrument = np.tile(np.arange(2), len(order))
    return Questionnaires(
        client=client, day=day, instrument=instrument, score=score.astype(np.int64)
    )
