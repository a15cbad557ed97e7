"""Per client x window endpoints: day definitions, proration, sessions, questionnaires."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline import outcomes
from pipeline.config import StudyConfig
from tests.canonical_factory import (
    MASSAGE,
    answered,
    course,
    diary,
    diary_days,
    pid,
    questionnaires,
    sessions,
    visit,
)

CONFIG = StudyConfig()
FULL = range(-28, 84)
TREATED = sessions(course("A", [0]))


def cell(frame: pd.DataFrame, patient: str, window: str) -> pd.Series:
    rows = frame.loc[(frame["patient_id"] == pid(patient)) & (frame["window"] == window)]
    assert len(rows) == 1
    return rows.iloc[0]


def baseline_of(*pieces, config=CONFIG, session_frame=TREATED) -> pd.Series:
    result = outcomes.patient_outcomes(diary_days(*pieces), session_frame, config)
    return cell(result, "A", "baseline")


# ----------------------------------------------------------------------------- proration


def test_counts_are_scaled_to_28_recorded_days():
    row = baseline_of(diary("A", range(-14, 0), migraine=[-14, -9, -2], headache=[-14, -9, -2]))
    assert row["days_recorded"] == 14
    assert row["evaluable"]
    assert row["migraine_days"] == 3
    assert row["migraine_days_28"] == pytest.approx(6.0)  # 3 x 28 / 14
    assert row["headache_days_28"] == pytest.approx(6.0)


def test_window_below_min_recorded_days_is_not_evaluable_but_still_scaled():
    row = baseline_of(diary("A", range(-13, 0), headache=[-5]))
    assert row["days_recorded"] == 13
    assert not row["evaluable"]
    assert row["headache_days_28"] == pytest.approx(28 / 13)


def test_window_without_recorded_days_has_a_row_with_missing_rates():
    result = outcomes.patient_outcomes(diary_days(diary("A", range(-28, 0))), TREATED, CONFIG)
    assert result["window"].tolist() == ["baseline", "weeks_1_4", "weeks_5_8", "weeks_9_12"]
    empty = cell(result, "A", "weeks_9_12")
    assert empty["days_recorded"] == 0 and empty["migraine_days"] == 0
    assert not empty["evaluable"]
    assert np.isnan(empty["migraine_days_28"]) and np.isnan(empty["stress_mean"])


def test_clients_who_never_attended_therapy_get_no_rows():
    frame = sessions(
        course("A", [0]), visit("B", 0, status="no show"), visit("C", 0, service=MASSAGE)
    )
    result = outcomes.patient_outcomes(
        diary_days(diary("A", FULL), diary("B", FULL), diary("C", FULL)), frame, CONFIG
    )
    assert set(result["patient_id"]) == {pid("A")}
    assert len(result) == 4


# ----------------------------------------------------------------------------- day definitions


def test_attack_crossing_midnight_counts_on_both_days():
    # ingest has materialised a 22:00 -> 04:00 attack on days -6 and -5
    row = baseline_of(
        diary("A", range(-28, 0), headache=[-6, -5], migraine=[-6, -5], pain={-6: 7, -5: 5})
    )
    assert row["migraine_days"] == 2
    assert row["headache_days"] == 2
    assert row["peak_pain_mean"] == pytest.approx(6.0)


def test_triptan_day_without_headache_entry_is_a_migraine_and_headache_day():
    row = baseline_of(diary("A", range(-28, 0), triptan=[-3]))
    assert row["migraine_days"] == 1
    assert row["headache_days"] == 1
    assert row["migraine_specific_medication_days"] == 1
    assert row["acute_medication_days"] == 1
    assert np.isnan(row["peak_pain_mean"])  # no pain value on that day


@pytest.mark.parametrize(
    ("hours", "features", "is_migraine"),
    [
        (0.5, ["nausea"], True),  # exactly 30 min: the bound counts
        (30 / 60, ["photophobia"], True),  # 30 min entered as minutes
        (0.49, ["nausea"], False),  # just short
        (0.5, [], False),  # long enough, no feature
        (np.nan, ["nausea", "aura"], False),  # duration unknown
        (8.0, ["aura"], True),
    ],
)
def test_migraine_by_duration_and_features(hours, features, is_migraine):
    row = baseline_of(
        diary(
            "A",
            range(-28, 0),
            headache=[-4],
            not_migraine=[-4],
            hours={-4: hours},
            features={-4: features},
        )
    )
    assert row["migraine_days"] == int(is_migraine)
    assert row["headache_days"] == 1


def test_migraine_feature_rule_needs_a_headache():
    # duration and a feature recorded, but no headache ticked: not a headache or migraine day
    row = baseline_of(diary("A", range(-28, 0), hours={-4: 2.0}, features={-4: ["nausea"]}))
    assert row["migraine_days"] == 0 and row["headache_days"] == 0


def test_features_required_and_duration_are_configurable():
    config = StudyConfig.model_validate(
        {"definitions": {"migraine_features_required": 2, "migraine_min_duration_hours": 4}}
    )
    piece = diary(
        "A",
        range(-28, 0),
        headache=[-10, -9, -8],
        hours={-10: 4.0, -9: 4.0, -8: 3.9},
        features={-10: ["nausea"], -9: ["nausea", "phonophobia"], -8: ["nausea", "aura"]},
    )
    assert baseline_of(piece, config=config)["migraine_days"] == 1  # only day -9
    assert baseline_of(piece)["migraine_days"] == 3  # defaults: 30 min, one feature


def test_only_configured_features_count():
    config = StudyConfig.model_validate({"definitions": {"migraine_features": ["aura"]}})
    piece = diary("A", range(-28, 0), headache=[-4], hours={-4: 5.0}, features={-4: ["nausea"]})
    assert baseline_of(piece, config=config)["migraine_days"] == 0


def test_reported_migraine_counts_whatever_the_duration():
    row = baseline_of(diary("A", range(-28, 0), headache=[-3], migraine=[-3, -2]))
    assert row["migraine_days"] == 2
    assert row["headache_days"] == 2  # day -2: migraine without the headache box


def test_acute_medication_days():
    row = baseline_of(diary("A", range(-28, 0), acute=[-20, -10], triptan=[-10, -5]))
    assert row["acute_medication_days"] == 3
    assert row["migraine_specific_medication_days"] == 2


def test_means_of_pain_stress_and_sleep():
    row = baseline_of(
        diary(
            "A",
            range(-28, 0),
            headache=[-3, -2, -1],
            pain={-3: 4, -2: 8, -20: 9},  # day -20 is not a headache day: ignored
            stress={-5: 2, -4: 6},
            sleep=7,
        )
    )
    assert row["peak_pain_mean"] == pytest.approx(6.0)
    assert row["stress_mean"] == pytest.approx(4.0)
    assert row["sleep_quality_mean"] == pytest.approx(7.0)


# ----------------------------------------------------------------------------- sessions


def test_sessions_before_and_in_each_window():
    frame = sessions(
        visit("A", -3, status="cancelled"),
        course("A", [0, 7, 14, 30, 60], group="treated"),
        visit("A", 35, service=MASSAGE),
        visit("A", 40, status="no show"),
    )
    result = outcomes.patient_outcomes(diary_days(diary("A", FULL)), frame, CONFIG)
    got = result.set_index("window")[["sessions_before", "sessions_in_window"]]
    assert got.to_dict("index") == {
        "baseline": {"sessions_before": 0, "sessions_in_window": 0},
        "weeks_1_4": {"sessions_before": 0, "sessions_in_window": 3},
        "weeks_5_8": {"sessions_before": 3, "sessions_in_window": 1},
        "weeks_9_12": {"sessions_before": 4, "sessions_in_window": 1},
    }
    assert (result["group"] == "treated").all()


def test_group_is_missing_when_never_given():
    result = outcomes.patient_outcomes(diary_days(diary("A", FULL)), TREATED, CONFIG)
    assert result["group"].isna().all()


# ----------------------------------------------------------------------------- questionnaires


def test_questionnaire_goes_to_its_nearest_window_only():
    frame = sessions(course("A", [0]))
    scores = questionnaires(
        answered("A", -3, "HIT-6", 64),  # inside baseline; 3 days from weeks 1-4
        answered("A", -40, "PSS-10", 20),  # 12 days before baseline: baseline
        answered("A", -50, "MIDAS", 30),  # 22 days before baseline: beyond 21, dropped
        answered("A", 88, "HIT-6", 55),  # 5 days after weeks 9-12
        answered("A", 95, "HIT-6", 50),  # 12 days after: farther, not used
    )
    result = outcomes.patient_outcomes(diary_days(diary("A", FULL)), frame, CONFIG, scores)
    assert outcomes.instrument_columns(result) == ["HIT-6", "MIDAS", "PSS-10"]
    hit = result.set_index("window")["HIT-6"]
    assert hit["baseline"] == 64
    assert np.isnan(hit["weeks_1_4"])  # the day -3 score serves baseline only
    assert np.isnan(hit["weeks_5_8"])
    assert hit["weeks_9_12"] == 55
    assert result.set_index("window")["PSS-10"]["baseline"] == 20
    assert result["MIDAS"].isna().all()


def test_questionnaire_tie_between_windows_goes_to_the_later_window():
    config = StudyConfig.model_validate(
        {"windows": {"followup": {"early": (0, 13), "late": (27, 55)}, "primary": "late"}}
    )
    scores = questionnaires(
        answered("A", 20, "HIT-6", 60),  # 7 days after early, 7 before late
        answered("A", 19, "PSS-10", 15),  # 6 days after early, 8 before late
    )
    long = outcomes.questionnaire_scores(scores, TREATED, config)
    assert long.set_index("instrument")["window"].to_dict() == {"HIT-6": "late", "PSS-10": "early"}
    assert long.set_index("instrument")["distance_days"].to_dict() == {"HIT-6": 7, "PSS-10": 6}


def test_two_questionnaires_inside_one_window_keep_the_later():
    scores = questionnaires(
        answered("A", -20, "HIT-6", 66),
        answered("A", -5, "HIT-6", 62),
        answered("A", 60, "HIT-6", 58),
        answered("A", 75, "HIT-6", 52),
    )
    long = outcomes.questionnaire_scores(scores, TREATED, CONFIG)
    assert long[["window", "day", "score"]].values.tolist() == [
        ["baseline", -5, 62.0],
        ["weeks_9_12", 75, 52.0],
    ]


def test_questionnaires_of_clients_without_index_date_are_ignored():
    scores = questionnaires(answered("B", 0, "HIT-6", 60))
    assert outcomes.questionnaire_scores(scores, TREATED, CONFIG).empty


# ----------------------------------------------------------------------------- output helpers


def _two_clients():
    frame = sessions(course("A", [0]), course("B", [0]), course("C", [0]))
    days = diary_days(
        diary("A", FULL, migraine=[-10, -9, -8, -7, 60, 61], stress=5),
        diary("B", [*range(-28, 0), *range(56, 66)], migraine=[-3]),  # primary: 10 days
        diary("C", FULL, migraine=[-2, 70], headache=[-2, 70], pain={70: 4}),
    )
    scores = questionnaires(
        answered("B", -1, "HIT-6", 62),
        answered("B", 80, "HIT-6", 56),
        answered("A", -1, "HIT-6", 60),
    )
    return outcomes.patient_outcomes(days, frame, CONFIG, scores)


def test_output_columns_start_with_the_contract_columns():
    result = outcomes.patient_outcomes_for_output(_two_clients())
    columns = result.columns.tolist()
    assert columns[: len(outcomes.CONTRACT_COLUMNS)] == list(outcomes.CONTRACT_COLUMNS)
    assert sorted(columns) == sorted(_two_clients().columns)


def test_every_outcome_name_maps_to_a_column():
    result = _two_clients()
    assert set(outcomes.OUTCOME_COLUMNS.values()) <= set(result.columns)
    assert outcomes.available_outcomes(result)[-1] == "HIT-6"


def test_paired_values_keep_clients_evaluable_in_both_windows():
    paired = outcomes.paired_values(_two_clients(), "migraine_days", "weeks_9_12")
    assert paired.columns.tolist() == ["patient_id", "before", "after"]
    assert paired["patient_id"].tolist() == sorted([pid("A"), pid("C")])  # B: 10 days
    by_id = paired.set_index("patient_id")
    assert by_id.loc[pid("A")].tolist() == [4.0, 2.0]
    assert by_id.loc[pid("C")].tolist() == [1.0, 1.0]


def test_paired_values_drop_missing_values():
    # peak pain: A has no pain value at all, C only in weeks 9-12 -> nobody has both
    assert outcomes.paired_values(_two_clients(), "peak_pain", "weeks_9_12").empty
    stress = outcomes.paired_values(_two_clients(), "stress", "weeks_9_12")
    assert stress["patient_id"].tolist() == [pid("A")]


def test_paired_values_of_an_instrument_need_a_score_in_both_windows_only():
    paired = outcomes.paired_values(_two_clients(), "HIT-6", "weeks_9_12")
    # B is not evaluable in weeks 9-12 by diary, but answered both questionnaires
    assert paired.values.tolist() == [[pid("B"), 62.0, 56.0]]


def test_paired_values_reject_unknown_outcomes_and_windows():
    result = _two_clients()
    with pytest.raises(ValueError, match="unknown outcome"):
        outcomes.paired_values(result, "happiness", "weeks_9_12")
    with pytest.raises(ValueError, match="not a follow-up window"):
        outcomes.paired_values(result, "migraine_days", "baseline")


def test_instrument_named_like_an_outcome_column_is_refused():
    scores = questionnaires(answered("A", -1, "stress_mean", 3))
    with pytest.raises(ValueError, match="clash"):
        outcomes.patient_outcomes(diary_days(diary("A", FULL)), TREATED, CONFIG, scores)


def test_no_questionnaires_means_no_instrument_columns():
    result = outcomes.patient_outcomes(
        diary_days(diary("A", FULL)), TREATED, CONFIG, questionnaires()
    )
    assert list(result.columns) == list(outcomes.PATIENT_OUTCOME_COLUMNS)


def test_classify_days_flags_each_recorded_day():
    days = diary_days(diary("A", [1, 2, 3], headache=[1], triptan=[2], acute=[3]))
    flagged = outcomes.classify_days(days, CONFIG.definitions)
    assert flagged["headache_day"].tolist() == [True, True, False]
    assert flagged["migraine_day"].tolist() == [False, True, False]
    assert flagged["acute_medication_day"].tolist() == [False, True, True]
    assert flagged["migraine_specific_medication_day"].tolist() == [False, True, False]
