"""Outcomes of a 20,000-client study against a plain pandas reference.

The canonical tables are generated column-wise (no per-client builders), so the test
stays fast as long as the pipeline has no Python loop over clients or rows: a
regression to one would make this test crawl (speed itself is measured in benchmarks/).
The reference is written from the definitions in DESIGN.md with merges and groupbys,
independently of the bincount machinery of pipeline.cohort. The outcomes stage reads
``patient_id`` of the diary as a categorical column; both forms must give the same
frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline import cohort, outcomes
from pipeline.config import StudyConfig

CONFIG = StudyConfig()
N_CLIENTS = 20_000
ANCHOR = pd.Timestamp("2024-03-04")
FEATURES = ("aura", "nausea", "photophobia", "phonophobia")
DIARY_DAYS = np.arange(-35, 96)  # days recorded around each client's first booking


def _nullable(rng: np.random.Generator, n: int, p_true: float, p_missing: float) -> pd.Series:
    values = pd.array(rng.random(n) < p_true, dtype="boolean")
    values[rng.random(n) < p_missing] = pd.NA
    return pd.Series(values)


def _maybe(rng: np.random.Generator, values: np.ndarray, p_missing: float) -> np.ndarray:
    return np.where(rng.random(values.size) < p_missing, np.nan, values)


@pytest.fixture(scope="module")
def study() -> dict[str, pd.DataFrame]:
    """Canonical sessions, diary_days and questionnaires of N_CLIENTS clients (shuffled)."""
    rng = np.random.default_rng(20_000)
    ids = np.array([f"P-{i:016x}" for i in rng.permutation(N_CLIENTS)])
    start = ANCHOR + pd.to_timedelta(rng.integers(0, 200, N_CLIENTS), unit="D")

    per_client = rng.integers(0, 7, N_CLIENTS)
    client = np.repeat(np.arange(N_CLIENTS), per_client)
    n = client.size
    therapy = rng.random(n) < 0.85
    attended = rng.random(n) < 0.8
    label = np.where(rng.random(N_CLIENTS) < 0.7, "cranial", "waitlist")[client]
    label = np.where(rng.random(n) < 0.15, "sham", label)  # some clients change label
    sessions = pd.DataFrame(
        {
            "patient_id": pd.Series(ids[client], dtype="str"),
            "date": start[client] + pd.to_timedelta(rng.integers(-10, 90, n), unit="D"),
            "is_therapy": therapy,
            "attended": attended,
            "status": np.where(attended, "completed", "cancelled"),
            "duration_min": _maybe(rng, rng.integers(30, 90, n).astype(float), 0.1),
            "adverse_event": _nullable(rng, n, 0.3, 0.2),
            "ae_resolved_hours": _maybe(rng, rng.random(n) * 48, 0.3),
            "group": pd.Series(np.where(rng.random(n) < 0.2, None, label), dtype="str"),
        }
    ).sample(frac=1.0, random_state=1, ignore_index=True)

    keep = rng.random((N_CLIENTS, DIARY_DAYS.size)) < rng.uniform(0.1, 1.0, (N_CLIENTS, 1))
    client, offset = np.nonzero(keep)
    n = client.size
    headache = rng.random(n) < 0.35
    diary = pd.DataFrame(
        {
            "patient_id": pd.Series(ids[client], dtype="str"),
            "date": start[client] + pd.to_timedelta(DIARY_DAYS[offset], unit="D"),
            "headache": headache,
            "migraine": _nullable(rng, n, 0.1, 0.3),
            "peak_pain": _maybe(rng, rng.integers(0, 11, n).astype(float), 0.4),
            "pain_hours": _maybe(rng, rng.choice([0.25, 0.5, 2.0, 9.0], n), 0.3),
            "acute_medication": rng.random(n) < 0.15,
            "migraine_specific_medication": rng.random(n) < 0.05,
            **{feature: _nullable(rng, n, 0.3, 0.2) for feature in FEATURES},
            "stress": _maybe(rng, rng.integers(0, 11, n).astype(float), 0.5),
            "sleep_quality": _maybe(rng, rng.integers(0, 11, n).astype(float), 0.5),
            "source": "daily",
        }
    ).sample(frac=1.0, random_state=2, ignore_index=True)

    client = rng.integers(0, N_CLIENTS, 30_000)
    questionnaires = pd.DataFrame(
        {
            "patient_id": pd.Series(ids[client], dtype="str"),
            "date": start[client] + pd.to_timedelta(rng.integers(-40, 100, client.size), unit="D"),
            "instrument": rng.choice(["HIT-6", "PSS-10"], client.size),
            "score": rng.integers(36, 78, client.size).astype(float),
        }
    )
    return {"sessions": sessions, "diary_days": diary, "questionnaires": questionnaires}


@pytest.fixture(scope="module")
def result(study) -> pd.DataFrame:
    return outcomes.patient_outcomes(
        study["diary_days"], study["sessions"], CONFIG, study["questionnaires"]
    )


def _index_dates(sessions: pd.DataFrame) -> pd.Series:
    attended = sessions.loc[sessions["is_therapy"] & sessions["attended"]]
    return attended.groupby("patient_id")["date"].min().rename("index_date")


def _with_day(frame: pd.DataFrame, index: pd.Series) -> pd.DataFrame:
    frame = frame.join(index, on="patient_id", how="inner")
    return frame.assign(day=(frame["date"] - frame["index_date"]).dt.days)


def _reference(study: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Endpoints per client x window with merges and groupbys, from DESIGN.md."""
    index = _index_dates(study["sessions"])
    d = _with_day(study["diary_days"], index)
    features = sum(d[f].fillna(False).astype(int) for f in FEATURES)
    specific = d["migraine_specific_medication"]
    migraine = (
        d["migraine"].fillna(False).astype(bool)
        | (d["headache"] & (d["pain_hours"] >= 0.5) & (features >= 1))
        | specific
    )
    headache = d["headache"] | migraine
    d = d.assign(
        headache_days=headache.astype(int),
        migraine_days=migraine.astype(int),
        acute_medication_days=(d["acute_medication"] | specific).astype(int),
        migraine_specific_medication_days=specific.astype(int),
        pain=d["peak_pain"].where(headache),
    )
    therapy = _with_day(
        study["sessions"].loc[study["sessions"]["is_therapy"] & study["sessions"]["attended"]],
        index,
    )
    windows = []
    for window, (first, last) in CONFIG.windows.all.items():
        inside = d.loc[d["day"].between(first, last)].groupby("patient_id")
        table = pd.DataFrame(
            {
                "days_recorded": inside.size(),
                **{c: inside[c].sum() for c in outcomes.DAY_COUNTS},
                "peak_pain_mean": inside["pain"].mean(),
                "stress_mean": inside["stress"].mean(),
                "sleep_quality_mean": inside["sleep_quality"].mean(),
            }
        ).reindex(index.index)
        counts = ["days_recorded", *outcomes.DAY_COUNTS]
        table[counts] = table[counts].fillna(0).astype(np.int64)
        sessions_in = therapy.loc[therapy["day"].between(first, last)].groupby("patient_id")
        before = therapy.loc[therapy["day"] < first].groupby("patient_id")
        table["sessions_in_window"] = sessions_in.size().reindex(index.index, fill_value=0)
        table["sessions_before"] = before.size().reindex(index.index, fill_value=0)
        windows.append(table.assign(window=window).rename_axis("patient_id").reset_index())
    return pd.concat(windows, ignore_index=True)


def test_patient_outcomes_of_20000_clients_equal_the_reference(study, result):
    expected = _reference(study)
    assert len(result) == len(expected) == result["patient_id"].nunique() * 4
    merged = result.merge(expected, on=["patient_id", "window"], suffixes=("", "_ref"))
    assert len(merged) == len(result)
    exact = ["days_recorded", *outcomes.DAY_COUNTS, "sessions_before", "sessions_in_window"]
    for column in exact:
        assert (merged[column] == merged[f"{column}_ref"]).all(), column
    assert (merged["evaluable"] == (merged["days_recorded"] >= 14)).all()
    for column in ("peak_pain_mean", "stress_mean", "sleep_quality_mean"):
        got, want = merged[column].to_numpy(), merged[f"{column}_ref"].to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), column
        assert got[~np.isnan(got)] == pytest.approx(want[~np.isnan(want)], rel=1e-12), column
    scaled = merged["migraine_days"] * 28 / merged["days_recorded"]
    assert np.allclose(merged["migraine_days_28"], scaled, equal_nan=True, rtol=1e-15)


def test_rows_are_sorted_by_client_then_window(result):
    order = {w: i for i, w in enumerate(CONFIG.windows.all)}
    keys = list(zip(result["patient_id"], result["window"].map(order), strict=True))
    assert keys == sorted(keys)


def test_group_is_the_first_attended_therapy_label_else_the_first_label(study, result):
    s = study["sessions"]
    ordered = s.assign(other=~(s["is_therapy"] & s["attended"])).sort_values(
        ["patient_id", "other", "date"], kind="stable"
    )
    labels = ordered.dropna(subset=["group"]).groupby("patient_id")["group"].first()
    expected = result["patient_id"].map(labels)
    assert expected.notna().any() and expected.isna().any()
    assert result["group"].fillna("-").tolist() == expected.fillna("-").tolist()


def test_questionnaire_scores_land_in_their_nearest_window(study, result):
    scored = result.dropna(subset=["HIT-6"])
    index = _index_dates(study["sessions"])
    q = _with_day(study["questionnaires"], index)
    q = q.loc[q["instrument"] == "HIT-6"]
    first = scored["window"].map({w: b[0] for w, b in CONFIG.windows.all.items()})
    last = scored["window"].map({w: b[1] for w, b in CONFIG.windows.all.items()})
    candidates = scored.assign(first=first, last=last).merge(q, on="patient_id")
    distance = np.maximum(
        np.maximum(candidates["first"] - candidates["day"], candidates["day"] - candidates["last"]),
        0,
    )
    near = candidates.loc[distance <= CONFIG.definitions.questionnaire_tolerance_days]
    # every kept score was answered by that client within the tolerance of its window
    matched = near.loc[near["HIT-6"] == near["score"], ["patient_id", "window"]].drop_duplicates()
    assert len(matched) == len(scored)


def test_categorical_client_ids_give_the_same_frames(study, result):
    diary = study["diary_days"].assign(
        patient_id=study["diary_days"]["patient_id"].astype("category")
    )
    same = outcomes.patient_outcomes(diary, study["sessions"], CONFIG, study["questionnaires"])
    pd.testing.assert_frame_equal(same, result, check_exact=True)
    trajectory = outcomes.weekly_trajectory(study["diary_days"], study["sessions"], CONFIG)
    pd.testing.assert_frame_equal(
        outcomes.weekly_trajectory(diary, study["sessions"], CONFIG), trajectory, check_exact=True
    )


def test_weekly_trajectory_counts_equal_the_reference(study):
    trajectory = outcomes.weekly_trajectory(study["diary_days"], study["sessions"], CONFIG)
    d = _with_day(study["diary_days"], _index_dates(study["sessions"]))
    d = d.assign(week=np.floor_divide(d["day"], 7))
    first, last = CONFIG.definitions.trajectory_weeks
    per_week = d.loc[d["week"].between(first, last)].groupby(["patient_id", "week"]).size()
    got = trajectory.set_index(["patient_id", "week"])["days_recorded"]
    assert (got.reindex(per_week.index) == per_week).all()
    assert got.sum() == per_week.sum()


def test_participant_flow_from_the_outcomes_equals_the_flow_from_the_diary(study, result):
    diary = study["diary_days"]
    categorical = diary.assign(patient_id=diary["patient_id"].astype("category"))
    direct = cohort.flow_status(study["sessions"], diary, CONFIG)
    reused = cohort.flow_status(study["sessions"], categorical, CONFIG, compliance=result)
    pd.testing.assert_frame_equal(reused, direct, check_exact=True)
    baseline = result.loc[result["window"] == "baseline"].set_index("patient_id")["days_recorded"]
    days = direct.set_index("patient_id")["baseline_days"]
    assert (days.reindex(baseline.index) == baseline).all()
    assert (days.drop(baseline.index) == 0).all()
    seen = set(study["sessions"]["patient_id"]) | set(diary["patient_id"])
    assert direct["patient_id"].tolist() == sorted(seen)
    s = study["sessions"]
    linked = set(s["patient_id"]) & set(diary["patient_id"])
    booked = set(s.loc[s["is_therapy"], "patient_id"]) & linked
    treated = set(_index_dates(s).index) & booked
    reasons = direct.set_index("patient_id")["reason"]
    assert set(reasons[reasons == cohort.ONLY_OTHER_SERVICES].index) == linked - booked
    assert set(reasons[reasons == cohort.NO_ATTENDED_THERAPY].index) == booked - treated


def test_sessions_summary_equals_the_reference(study):
    s = study["sessions"]
    summary = outcomes.sessions_summary(s).set_index("patient_id")
    attended = s.loc[s["is_therapy"] & s["attended"]].sort_values(["patient_id", "date"])
    by_client = attended.groupby("patient_id")
    assert summary.index.tolist() == sorted(set(s["patient_id"]))
    booked = s.loc[s["is_therapy"]].groupby("patient_id").size()
    assert (summary["sessions_booked"] == booked.reindex(summary.index, fill_value=0)).all()
    assert (summary["first_session"].dropna() == by_client["date"].min()).all()
    assert (summary["last_session"].dropna() == by_client["date"].max()).all()
    mean = by_client["duration_min"].mean().reindex(summary.index)
    assert np.allclose(summary["mean_duration_min"], mean, equal_nan=True, rtol=1e-12)
    interval = attended.assign(gap=by_client["date"].diff().dt.days).groupby("patient_id")["gap"]
    median = interval.median().reindex(summary.index)
    assert np.allclose(summary["median_interval_days"], median, equal_nan=True)


def test_paired_table_equals_one_merge_per_outcome_and_window(result):
    table = outcomes.paired_table(result)
    assert set(table) == {
        (o, w)
        for o in outcomes.available_outcomes(result)
        for w in ("weeks_1_4", "weeks_5_8", "weeks_9_12")
    }
    for (outcome, window), pairs in table.items():
        column = outcomes.OUTCOME_COLUMNS.get(outcome, outcome)
        usable = result[column].notna()
        if outcome in outcomes.OUTCOME_COLUMNS:
            usable &= result["evaluable"]
        rows = result.loc[usable]
        before = rows.loc[rows["window"] == "baseline", ["patient_id", column]]
        after = rows.loc[rows["window"] == window, ["patient_id", column]]
        expected = before.merge(after, on="patient_id").sort_values("patient_id")
        assert len(pairs) > 100, (outcome, window)
        assert pairs["patient_id"].tolist() == expected["patient_id"].tolist()
        assert np.array_equal(pairs["before"], expected[f"{column}_x"])
        assert np.array_equal(pairs["after"], expected[f"{column}_y"])
        assert pairs.equals(outcomes.paired_values(result, outcome, window))


def test_analysis_bootstraps_each_claim_test_as_a_direct_call_would(study, result):
    from pipeline.analysis import analyse
    from pipeline.stats import bootstrap_change

    responders = outcomes.responders(result, CONFIG)
    summary = {
        "participant_flow": cohort.participant_flow(
            study["sessions"], study["diary_days"], CONFIG, compliance=result
        ),
        "responders": responders.summary.to_dict("records"),
        "adverse_events": [outcomes.adverse_event_summary(study["sessions"], 24.0)],
    }
    trajectory = outcomes.weekly_trajectory(study["diary_days"], study["sessions"], CONFIG)
    analysis = analyse(result, responders.per_patient, trajectory, summary, CONFIG)
    bootstrapped = [entry for entry in analysis["outcomes"] if "bootstrap" in entry]
    claimed = {(c.outcome, CONFIG.claim_window(c)) for c in CONFIG.claims if c.test == "paired"}
    assert {(e["outcome"], e["window"]) for e in bootstrapped} == claimed
    for entry in bootstrapped:
        pairs = outcomes.paired_values(result, entry["outcome"], entry["window"])
        direct = bootstrap_change(
            pairs["before"], pairs["after"], CONFIG.analysis.confidence,
            n_resamples=CONFIG.analysis.bootstrap_resamples, seed=CONFIG.analysis.seed,
        )  # fmt: skip
        assert entry["bootstrap"] == direct
        assert entry["bootstrap"]["n"] == entry["n"] > 1000
        assert list(entry)[-1] == "bootstrap"  # added last, after p_adjusted
