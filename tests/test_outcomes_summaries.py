"""Responders, weekly trajectories, sessions summary and adverse events."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from pipeline import outcomes
from pipeline.config import StudyConfig
from tests.canonical_factory import (
    MASSAGE,
    course,
    diary,
    diary_days,
    on,
    pid,
    sessions,
    visit,
)

CONFIG = StudyConfig()
FOLLOW_UP = range(0, 84)
PRIMARY = [56, 57, 58, 59, 60, 61, 62, 63]  # days inside weeks 9-12 used for migraines


# ----------------------------------------------------------------------------- responders


@pytest.fixture(scope="module")
def responder_cohort():
    clients = [
        # 3 migraines in 14 baseline days = 6.0 / 28; 3 in weeks 9-12 = 3.0: exactly -50 %
        diary("half", [*range(-14, 0), *FOLLOW_UP], migraine=[-14, -8, -2, 56, 60, 70]),
        # 8.0 -> 0.0: responder at every threshold
        diary("free", range(-28, 84), migraine=range(-28, -20)),
        # no baseline migraine day: not classed
        diary("zero", range(-28, 84), migraine=[56, 57]),
        # 8.0 -> 6.0: -25 %
        diary("quarter", range(-28, 84), migraine=[*range(-28, -20), *PRIMARY[:6]]),
        # 4.0 -> 8.0: worse
        diary("worse", range(-28, 84), migraine=[*range(-28, -24), *PRIMARY]),
        # weeks 9-12 not evaluable (10 days), earlier windows are
        diary("short_primary", range(-28, 66), migraine=range(-28, -20)),
        # baseline not evaluable: never classed
        diary("short_baseline", range(-10, 84), migraine=[-5]),
    ]
    labels = ["half", "free", "zero", "quarter", "worse", "short_primary", "short_baseline"]
    frame = sessions(*(course(label, [0, 7]) for label in labels))
    return outcomes.patient_outcomes(diary_days(*clients), frame, CONFIG)


def test_responders_per_patient(responder_cohort):
    result = outcomes.responders(responder_cohort, CONFIG).per_patient
    primary = result.loc[result["window"] == "weeks_9_12"].set_index("patient_id")
    assert set(primary.index) == {pid(x) for x in ["half", "free", "zero", "quarter", "worse"]}
    half = primary.loc[pid("half")]
    assert half["baseline_migraine_days_28"] == pytest.approx(6.0)
    assert half["migraine_days_28"] == pytest.approx(3.0)
    assert half["change_migraine_days_28"] == pytest.approx(-3.0)
    assert half["percent_reduction"] == pytest.approx(50.0)
    flags = primary[["responder_50", "responder_75", "responder_100"]]
    assert flags.loc[pid("half")].tolist() == [True, False, False]
    assert flags.loc[pid("free")].tolist() == [True, True, True]
    assert flags.loc[pid("quarter")].tolist() == [False, False, False]
    assert flags.loc[pid("worse")].tolist() == [False, False, False]
    assert flags.loc[pid("zero")].isna().all()
    assert np.isnan(primary.loc[pid("zero"), "percent_reduction"])
    assert primary.loc[pid("worse"), "percent_reduction"] == pytest.approx(-100.0)
    assert str(result["responder_50"].dtype) == "boolean"


def test_responder_counts_per_window(responder_cohort):
    summary = outcomes.responders(responder_cohort, CONFIG).summary.set_index("window")
    assert summary.index.tolist() == ["weeks_1_4", "weeks_5_8", "weeks_9_12"]
    assert summary.loc["weeks_9_12"].to_dict() == {
        "n_evaluable": 5,
        "n_zero_baseline": 1,
        "n_classed": 4,
        "n_responder_50": 2,
        "n_responder_75": 1,
        "n_responder_100": 1,
    }
    # weeks 1-4: six evaluable, none had a migraine day, zero-baseline client unclassed
    assert summary.loc["weeks_1_4"].to_dict() == {
        "n_evaluable": 6,
        "n_zero_baseline": 1,
        "n_classed": 5,
        "n_responder_50": 5,
        "n_responder_75": 5,
        "n_responder_100": 5,
    }


def test_responder_thresholds_come_from_the_config(responder_cohort):
    config = StudyConfig.model_validate({"definitions": {"responder_thresholds": [25, 50]}})
    result = outcomes.responders(responder_cohort, config)
    assert [c for c in result.per_patient.columns if c.startswith("responder_")] == [
        "responder_25",
        "responder_50",
    ]
    # the -25 % client is a responder at 25 %
    assert result.summary.set_index("window").loc["weeks_9_12", "n_responder_25"] == 3


def test_responder_summary_lists_windows_without_anyone():
    frame = sessions(course("A", [0]))
    result = outcomes.patient_outcomes(diary_days(diary("A", range(-28, 0))), frame, CONFIG)
    summary = outcomes.responders(result, CONFIG).summary
    assert summary["window"].tolist() == ["weeks_1_4", "weeks_5_8", "weeks_9_12"]
    assert (summary.drop(columns="window") == 0).all().all()


# ----------------------------------------------------------------------------- trajectories


def test_weekly_trajectory_week_boundaries_and_scaling():
    frame = sessions(course("A", [0]))
    days = diary_days(
        diary(
            "A",
            [-29, -8, -7, -6, -5, -1, 0, 1, 2, 6, 7, 84],
            migraine=[-29, -8, -7, -1, 6, 7, 84],
        )
    )
    trajectory = outcomes.weekly_trajectory(days, frame, CONFIG)
    assert trajectory["week"].tolist() == list(range(-4, 12))  # trajectory_weeks = (-4, 11)
    by_week = trajectory.set_index("week")
    assert by_week.loc[-2, ["first_day", "last_day"]].tolist() == [-14, -8]
    assert by_week.loc[-2, ["days_recorded", "migraine_days"]].tolist() == [1, 1]
    assert np.isnan(by_week.loc[-2, "migraine_days_per_week"])  # fewer than 4 days
    assert by_week.loc[-1, ["days_recorded", "migraine_days"]].tolist() == [4, 2]
    assert by_week.loc[-1, "migraine_days_per_week"] == pytest.approx(3.5)  # 2 x 7 / 4
    assert by_week.loc[0, ["days_recorded", "migraine_days"]].tolist() == [4, 1]
    assert by_week.loc[0, "migraine_days_per_week"] == pytest.approx(1.75)
    assert by_week.loc[1, ["days_recorded", "migraine_days"]].tolist() == [1, 1]
    assert trajectory["migraine_days"].sum() == 5  # days -29 and 84 lie outside weeks -4..11


def test_trajectory_summary_per_week():
    frame = sessions(course("A", [0]), course("B", [0]))
    days = diary_days(
        diary("A", [-7, -6, -5, -1], migraine=[-7, -1]),  # week -1: 3.5
        diary("B", range(-7, 0)),  # week -1: 0.0
    )
    summary = outcomes.trajectory_summary(outcomes.weekly_trajectory(days, frame, CONFIG))
    week = summary.set_index("week").loc[-1]
    assert week["n"] == 2
    assert week["mean"] == pytest.approx(1.75)
    assert week["sd"] == pytest.approx(3.5 / math.sqrt(2))
    assert summary.set_index("week").loc[0, "n"] == 0


# ----------------------------------------------------------------------------- sessions


@pytest.fixture(scope="module")
def session_frame():
    return sessions(
        visit("A", -3, status="cancelled"),
        visit("A", 0, reaction=True, resolved_hours=12),
        visit("A", 7, reaction=True, resolved_hours=30),
        visit("A", 10, status="no show", reaction=True, resolved_hours=2),  # not attended
        visit("A", 14, service=MASSAGE),
        visit("A", 21, service="Cranial Massage 45 min", reaction=True),  # resolution unknown
        visit("B", 5, service=MASSAGE),
        visit("C", 0, reaction=False),
        visit("C", 7),
        visit("D", 0, reaction=True, resolved_hours=24),
    )


def test_sessions_summary_per_client(session_frame):
    summary = outcomes.sessions_summary(session_frame).set_index("patient_id")
    assert summary.index.tolist() == sorted(pid(x) for x in "ABCD")
    a = summary.loc[pid("A")]
    assert a[["sessions_booked", "sessions_attended", "sessions_not_attended"]].tolist() == [
        5,
        3,
        2,
    ]
    assert a["other_services"] == 1
    assert a["first_session"] == on(0) and a["last_session"] == on(21)
    assert a["last_session_day"] == 21
    assert a["median_interval_days"] == pytest.approx(10.5)  # intervals 7 and 14
    assert a["mean_duration_min"] == pytest.approx(55.0)  # 60, 60, 45
    assert a["adverse_events"] == 3
    assert a["ae_resolved_hours_median"] == pytest.approx(21.0)  # 12 and 30
    assert a["ae_resolved_hours_max"] == pytest.approx(30.0)
    b = summary.loc[pid("B")]
    assert b[["sessions_booked", "sessions_attended", "adverse_events"]].tolist() == [0, 0, 0]
    assert pd.isna(b["first_session"]) and np.isnan(b["median_interval_days"])
    assert summary.loc[pid("C"), "median_interval_days"] == 7


def test_adverse_event_summary_counts_attended_therapy_sessions(session_frame):
    result = outcomes.adverse_event_summary(session_frame, max_hours=24)
    json.dumps(result)
    assert result == {
        "sessions": 6,  # A: 3, C: 2, D: 1
        "sessions_reaction_recorded": 5,  # C's second session left blank
        "sessions_with_reaction": 4,  # A: 3, D: 1 (the no-show's reaction is not counted)
        "reactions_with_known_resolution": 3,  # 12 h, 30 h, 24 h
        "reactions_resolved_within": 2,  # 12 h and exactly 24 h
        "max_hours": 24.0,
    }
