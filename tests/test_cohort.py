"""Index dates, windows, day offsets, diary compliance and the participant flow."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline import cohort
from pipeline.config import StudyConfig
from tests.canonical_factory import (
    MASSAGE,
    attack,
    attacks,
    course,
    coverage,
    covered,
    diary,
    diary_days,
    on,
    pid,
    sessions,
    visit,
)

CONFIG = StudyConfig()
FULL = range(-28, 84)  # every day of baseline and follow-up recorded


def compliance(diary_frame: pd.DataFrame, session_frame: pd.DataFrame, config=CONFIG):
    index = cohort.index_dates(session_frame)
    assigned = cohort.assign_windows(diary_frame, index, config.windows)
    return cohort.diary_compliance(assigned, config.windows.min_recorded_days)


def cell(frame: pd.DataFrame, patient: str, window: str) -> pd.Series:
    rows = frame.loc[(frame["patient_id"] == pid(patient)) & (frame["window"] == window)]
    assert len(rows) == 1
    return rows.iloc[0]


# ----------------------------------------------------------------------------- windows


def test_window_table_lists_baseline_first_then_followups_by_first_day():
    config = StudyConfig.model_validate(
        {"windows": {"followup": {"late": (56, 83), "early": (0, 27)}, "primary": "late"}}
    )
    table = cohort.window_table(config.windows)
    assert table["window"].tolist() == ["baseline", "early", "late"]
    assert table["first_day"].tolist() == [-28, 0, 56]
    assert table["last_day"].tolist() == [-1, 27, 83]
    assert table["days_in_window"].tolist() == [28, 28, 28]


# ----------------------------------------------------------------------------- index date


def test_index_date_is_first_attended_therapy_session():
    frame = sessions(
        visit("cancelled_first", -7, status="cancelled"),
        visit("cancelled_first", -3, status="no show"),
        course("cancelled_first", [0, 7]),
        visit("massage_first", -10, service=MASSAGE),
        course("massage_first", [0, 14]),
        visit("never_attended", 0, status="cancelled"),
        visit("only_massage", 0, service=MASSAGE),
    )
    index = cohort.index_dates(frame)
    assert index.set_index("patient_id")["index_date"].to_dict() == {
        pid("cancelled_first"): on(0),
        pid("massage_first"): on(0),
    }


def test_day_offsets_count_calendar_days_from_the_index_date():
    frame = sessions(course("A", [0, 7]))
    days = diary_days(diary("A", [-29, -1, 0, 1, 27]), diary("no_index", [0, 1]))
    with_days = cohort.add_day_offsets(days, cohort.index_dates(frame))
    assert with_days["day"].tolist() == [-29, -1, 0, 1, 27]
    assert (with_days["patient_id"] == pid("A")).all()
    assert (with_days["index_date"] == on(0)).all()


# ----------------------------------------------------------------------------- compliance


def test_window_edges_fall_in_the_right_windows():
    frame = sessions(course("A", [0]))
    # one recorded day on each side of every edge
    days = diary_days(diary("A", [-29, -28, -1, 0, 27, 28, 55, 56, 83, 84]))
    result = compliance(days, frame)
    assert result.set_index("window")["days_recorded"].to_dict() == {
        "baseline": 2,  # -28, -1 (not -29)
        "weeks_1_4": 2,  # 0, 27
        "weeks_5_8": 2,  # 28, 55
        "weeks_9_12": 2,  # 56, 83 (not 84)
    }


def test_window_dates_are_inclusive_calendar_ranges():
    result = compliance(diary_days(diary("A", [0])), sessions(course("A", [0])))
    baseline = cell(result, "A", "baseline")
    assert baseline["window_start"] == on(-28)
    assert baseline["window_end"] == on(-1)
    assert baseline["index_date"] == on(0)
    assert cell(result, "A", "weeks_9_12")["window_end"] == on(83)


def test_evaluable_needs_min_recorded_days_and_empty_windows_keep_a_row():
    frame = sessions(course("A", [0]))
    days = diary_days(diary("A", [*range(-14, 0), *range(0, 13)]))  # 14 baseline, 13 weeks 1-4
    result = compliance(days, frame)
    assert len(result) == 4
    assert cell(result, "A", "baseline")[["days_recorded", "evaluable"]].tolist() == [14, True]
    assert cell(result, "A", "weeks_1_4")[["days_recorded", "evaluable"]].tolist() == [13, False]
    assert cell(result, "A", "weeks_9_12")[["days_recorded", "evaluable"]].tolist() == [0, False]


def test_overlapping_windows_count_a_day_in_each():
    config = StudyConfig.model_validate(
        {
            "windows": {
                "followup": {"weeks_1_12": (0, 83), "weeks_9_12": (56, 83)},
                "primary": "weeks_9_12",
            }
        }
    )
    result = compliance(diary_days(diary("A", range(50, 60))), sessions(course("A", [0])), config)
    assert cell(result, "A", "weeks_1_12")["days_recorded"] == 10
    assert cell(result, "A", "weeks_9_12")["days_recorded"] == 4  # days 56..59


def test_clients_without_index_date_get_no_window_rows():
    frame = sessions(course("A", [0]), visit("B", 0, status="cancelled"))
    result = compliance(diary_days(diary("A", FULL), diary("B", FULL)), frame)
    assert set(result["patient_id"]) == {pid("A")}


# ----------------------------------------------------------------------------- participant flow


@pytest.fixture(scope="module")
def mixed_cohort():
    """Fifteen clients, each built to stop at a known step (or to be analysed)."""
    session_frame = sessions(
        course("analysed_1", [0, 7, 14, 21]),
        course("analysed_2", [0, 14], group="waitlist"),
        visit("cancelled_first", -7, status="cancelled"),
        course("cancelled_first", [0, 7]),  # index = day 0, analysed
        course("attack_log_covered", [0, 7]),  # analysed through coverage
        course("sessions_only_1", [0, 7]),
        course("sessions_only_2", [0]),
        course("never_attended", [0, 7], status="cancelled"),
        visit("only_massage", 0, service=MASSAGE),
        course("attack_log_no_coverage", [0, 7]),
        course("no_baseline", [0, 7]),
        course("short_baseline", [0, 7]),
        course("dropped_out", [0, 7]),
        course("short_primary", [0, 7]),
    )
    diary_frame = diary_days(
        diary("analysed_1", FULL),
        diary("analysed_2", [*range(-14, 0), *range(60, 74)]),
        diary("cancelled_first", FULL),
        diary("attack_log_covered", FULL, source="attacks"),
        diary("diary_only", FULL),
        diary("never_attended", FULL),
        diary("only_massage", FULL),
        diary("no_baseline", range(0, 84)),
        diary("short_baseline", [*range(-13, 0), *range(0, 84)]),
        diary("dropped_out", range(-28, 40)),
        diary("short_primary", [*range(-28, 60), *range(70, 75)]),
    )
    attack_frame = attacks(
        attack("attack_log_covered", -10, 6),
        attack("attack_log_no_coverage", -10, 6),
        attack("attack_log_no_coverage", 60, 30, start_hour=20),
    )
    coverage_frame = coverage(covered("attack_log_covered", -28, 83))
    return session_frame, diary_frame, attack_frame, coverage_frame


EXPECTED_REASON = {
    "analysed_1": None,
    "analysed_2": None,
    "cancelled_first": None,
    "attack_log_covered": None,
    "sessions_only_1": ("linked", "sessions only: no diary"),
    "sessions_only_2": ("linked", "sessions only: no diary"),
    "diary_only": ("linked", "diary only: no sessions"),
    "never_attended": ("treated", "no attended therapy session (only cancelled / no-show)"),
    "only_massage": ("treated", "only other services"),
    "attack_log_no_coverage": ("baseline_evaluable", "attack log without diary coverage"),
    "no_baseline": ("baseline_evaluable", "no diary days in baseline"),
    "short_baseline": ("baseline_evaluable", "fewer than 14 baseline days recorded"),
    "dropped_out": ("primary_evaluable", "no diary days in primary window (dropped out)"),
    "short_primary": ("primary_evaluable", "fewer than 14 days recorded in primary window"),
}


def test_flow_status_gives_each_client_exactly_its_reason(mixed_cohort):
    status = cohort.flow_status(mixed_cohort[0], mixed_cohort[1], CONFIG, *mixed_cohort[2:])
    assert status["patient_id"].is_unique
    assert len(status) == len(EXPECTED_REASON)
    got = {
        row.patient_id: None if pd.isna(row.reason) else (row.excluded_at, row.reason)
        for row in status.itertuples()
    }
    assert got == {pid(label): reason for label, reason in EXPECTED_REASON.items()}


def test_participant_flow_counts_and_invariant(mixed_cohort):
    flow = cohort.participant_flow(mixed_cohort[0], mixed_cohort[1], CONFIG, *mixed_cohort[2:])
    json.dumps(flow)  # must be serialisable as is
    steps = flow["steps"]
    assert [s["step"] for s in steps] == list(cohort.FLOW_STEPS)
    assert [s["n"] for s in steps] == [14, 11, 9, 6, 4, 4]
    assert steps[0]["excluded"] == {} and steps[-1]["excluded"] == {}
    for previous, step in zip(steps, steps[1:], strict=False):
        assert step["n"] == previous["n"] - sum(step["excluded"].values()), step["step"]
    assert steps[1]["excluded"] == {"sessions only: no diary": 2, "diary only: no sessions": 1}
    assert steps[3]["excluded"] == {
        "attack log without diary coverage": 1,
        "no diary days in baseline": 1,
        "fewer than 14 baseline days recorded": 1,
    }
    assert flow["clients_in_sessions"] == 13  # all but diary_only
    assert flow["clients_in_diaries"] == 12  # all but the two sessions-only clients
    merged = flow["excluded"]
    assert sum(merged.values()) == steps[0]["n"] - steps[-1]["n"]
    assert merged["only other services"] == 1
    assert merged["no diary days in primary window (dropped out)"] == 1
    assert all(isinstance(s["label"], str) and s["label"] for s in steps)


def test_participant_flow_reason_counts_follow_the_threshold(mixed_cohort):
    config = StudyConfig.model_validate({"windows": {"min_recorded_days": 10}})
    flow = cohort.participant_flow(mixed_cohort[0], mixed_cohort[1], config, *mixed_cohort[2:])
    baseline = flow["steps"][3]["excluded"]
    # short_baseline (13 days) now passes; the reason names the configured threshold
    assert baseline["fewer than 10 baseline days recorded"] == 0
    assert flow["steps"][-1]["n"] == 5


def test_participant_flow_of_an_empty_study():
    flow = cohort.participant_flow(sessions(), diary_days(), CONFIG)
    assert [s["n"] for s in flow["steps"]] == [0] * len(cohort.FLOW_STEPS)
    assert sum(flow["excluded"].values()) == 0


def test_locate_marks_clients_without_index_date():
    frame = sessions(course("A", [0]))
    days = diary_days(diary("A", [3]), diary("B", [3]))
    position, day = cohort.locate(days, cohort.index_dates(frame))
    assert position.tolist() == [0, -1]
    assert day[0] == 3
    assert np.issubdtype(day.dtype, np.integer)
