"""The vectorised endpoints against a plain day-by-day reference on random diaries.

The reference below is written independently of pipeline.outcomes, straight from the
definitions in DESIGN.md, looping over days the slow and obvious way.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline import cohort, outcomes
from pipeline.config import StudyConfig
from tests.canonical_factory import FEATURES, course, diary, diary_days, sessions, visit

CONFIG = StudyConfig()


def _random_study(seed: int, n_clients: int = 25):
    rng = np.random.default_rng(seed)
    pieces, visits = [], []
    for i in range(n_clients):
        label = f"client{i}"
        start = int(rng.integers(-3, 4))  # first attended session around day 0
        if rng.random() < 0.3:
            visits.append(visit(label, start - 7, status="cancelled"))
        visits.extend(course(label, [start, start + 7, start + 28]))
        recorded = sorted(
            rng.choice(np.arange(-40, 100), size=int(rng.integers(0, 140)), replace=False)
        )
        pick = lambda p, days=recorded: [d for d in days if rng.random() < p]  # noqa: E731
        headache = pick(0.3)
        pieces.append(
            diary(
                label,
                recorded,
                headache=headache,
                migraine=pick(0.08),
                not_migraine=[],
                hours={d: float(rng.choice([np.nan, 0.25, 0.5, 2.0, 9.0])) for d in headache},
                features={
                    d: list(rng.choice(FEATURES, size=int(rng.integers(0, 3)))) for d in recorded
                },
                pain={d: float(rng.integers(0, 11)) for d in pick(0.4)},
                acute=pick(0.1),
                triptan=pick(0.05),
                stress={d: float(rng.integers(0, 11)) for d in pick(0.5)},
                sleep={d: float(rng.integers(0, 11)) for d in pick(0.5)},
            )
        )
    return diary_days(*pieces), sessions(*visits)


def _is_true(value) -> bool:
    return value is True or (not pd.isna(value) and bool(value))


def _reference(days: pd.DataFrame, session_frame: pd.DataFrame) -> dict:
    """{(patient, window): {column: value}} computed one day at a time."""
    index = {}
    for row in session_frame.itertuples():
        if row.is_therapy and row.attended:
            index[row.patient_id] = min(index.get(row.patient_id, row.date), row.date)
    expected = {}
    for patient, start in index.items():
        mine = days.loc[days["patient_id"] == patient]
        for window, (first, last) in CONFIG.windows.all.items():
            tally = dict.fromkeys(["recorded", "headache", "migraine", "acute", "specific"], 0)
            pains, stresses, sleeps = [], [], []
            for row in mine.itertuples():
                offset = (row.date - start).days
                if not first <= offset <= last:
                    continue
                n_features = sum(_is_true(getattr(row, f)) for f in FEATURES)
                long_enough = not math.isnan(row.pain_hours) and row.pain_hours >= 0.5
                migraine = (
                    _is_true(row.migraine)
                    or (row.headache and long_enough and n_features >= 1)
                    or row.migraine_specific_medication
                )
                headache = row.headache or migraine
                tally["recorded"] += 1
                tally["headache"] += headache
                tally["migraine"] += migraine
                tally["acute"] += row.acute_medication or row.migraine_specific_medication
                tally["specific"] += row.migraine_specific_medication
                if headache and not math.isnan(row.peak_pain):
                    pains.append(row.peak_pain)
                if not math.isnan(row.stress):
                    stresses.append(row.stress)
                if not math.isnan(row.sleep_quality):
                    sleeps.append(row.sleep_quality)
            n = tally["recorded"]
            expected[(patient, window)] = {
                "days_recorded": n,
                "evaluable": n >= 14,
                "headache_days": tally["headache"],
                "migraine_days": tally["migraine"],
                "acute_medication_days": tally["acute"],
                "migraine_specific_medication_days": tally["specific"],
                "migraine_days_28": tally["migraine"] * 28 / n if n else math.nan,
                "headache_days_28": tally["headache"] * 28 / n if n else math.nan,
                "peak_pain_mean": sum(pains) / len(pains) if pains else math.nan,
                "stress_mean": sum(stresses) / len(stresses) if stresses else math.nan,
                "sleep_quality_mean": sum(sleeps) / len(sleeps) if sleeps else math.nan,
            }
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_patient_outcomes_match_the_day_by_day_reference(seed):
    days, session_frame = _random_study(seed)
    result = outcomes.patient_outcomes(days, session_frame, CONFIG)
    expected = _reference(days, session_frame)
    assert len(result) == len(expected)
    for row in result.itertuples():
        want = expected[(row.patient_id, row.window)]
        for column, value in want.items():
            got = getattr(row, column)
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(got), (row.patient_id, row.window, column)
            else:
                assert got == pytest.approx(value), (row.patient_id, row.window, column)
        assert row.headache_days >= row.migraine_days
        assert row.acute_medication_days >= row.migraine_specific_medication_days


@pytest.mark.parametrize("seed", [4, 5])
def test_participant_flow_invariant_on_random_cohorts(seed):
    days, session_frame = _random_study(seed, n_clients=40)
    flow = cohort.participant_flow(session_frame, days, CONFIG)
    steps = flow["steps"]
    for previous, step in zip(steps, steps[1:], strict=False):
        assert step["n"] == previous["n"] - sum(step["excluded"].values())
    status = cohort.flow_status(session_frame, days, CONFIG)
    analysed = status["reason"].isna()
    assert steps[-1]["n"] == analysed.sum()
    # every analysed client is evaluable at baseline and in the primary window
    result = outcomes.patient_outcomes(days, session_frame, CONFIG)
    evaluable = result.pivot(index="patient_id", columns="window", values="evaluable")
    both = evaluable["baseline"] & evaluable["weeks_9_12"]
    assert set(both[both].index) == set(status.loc[analysed, "patient_id"])
