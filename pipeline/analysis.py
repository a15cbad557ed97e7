"""The study's statistics: from per-client outcomes to the numbers and verdicts of results.json.

:func:`analyse` is pure: it takes the outcome tables of :mod:`pipeline.outcomes` and
returns a JSON-ready dict (everything in results.json but the ``run`` block). Change is
always follow-up - baseline; negative means fewer migraine days, less pain, less stress
(and worse sleep: sleep quality is 10 = best).
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from pipeline import claims as claims_module
from pipeline import outcomes
from pipeline.cohort import window_table
from pipeline.config import StudyConfig
from pipeline.stats import (
    ancova,
    bootstrap_change,
    gee_rate_ratios,
    grouped_mean_ci,
    mixed_rate_differences,
    paired_summary,
    placebo_benchmark,
    power_analysis,
    proportion_table,
    regression_to_mean,
)

#: Keys of each ``outcomes`` entry taken from :func:`pipeline.stats.paired_summary`,
#: renamed to the contract's names where they differ.
BATTERY_KEYS = {
    "n": "n",
    "n_missing": "n_missing",
    "mean_before": "baseline_mean",
    "mean_after": "followup_mean",
    "mean_diff": "mean_change",
    "sd_diff": "sd_change",
    "median_diff": "median_change",
    "ci_low": "ci_low",
    "ci_high": "ci_high",
    "t": "t",
    "df": "df",
    "p_t": "p_t",
    "wilcoxon_V": "wilcoxon_V",
    "p_wilcoxon": "p_wilcoxon",
    "wilcoxon_exact": "wilcoxon_exact",
    "hodges_lehmann": "hodges_lehmann",
    "hl_ci_low": "hl_ci_low",
    "hl_ci_high": "hl_ci_high",
    "p_sign": "p_sign",
    "shapiro_W": "shapiro_W",
    "shapiro_p": "shapiro_p",
    "dz": "dz",
    "dz_ci_low": "dz_ci_low",
    "dz_ci_high": "dz_ci_high",
    "d_av": "d_av",
    "notes": "notes",
}


def followup_windows(config: StudyConfig) -> list[str]:
    """Follow-up window names in time order."""
    return [w for w in window_table(config.windows)["window"] if w != "baseline"]


Pairs = dict[tuple[str, str], pd.DataFrame]
"""``(outcome, window)`` -> :func:`pipeline.outcomes.paired_values` (see :func:`all_pairs`)."""


def all_pairs(patient_outcomes: pd.DataFrame, config: StudyConfig) -> Pairs:
    """Before/after pairs of every outcome x follow-up window, built in one pass.

    See :func:`pipeline.outcomes.paired_table`; windows missing from the frame get an
    empty table.
    """
    present = set(patient_outcomes["window"])
    windows = [w for w in followup_windows(config) if w in present]
    pairs = outcomes.paired_table(patient_outcomes, windows=windows)
    empty = pd.DataFrame(
        {"patient_id": pd.Series(dtype="str"), "before": np.empty(0), "after": np.empty(0)}
    )
    for outcome in outcomes.available_outcomes(patient_outcomes):
        for window in followup_windows(config):
            pairs.setdefault((outcome, window), empty)
    return pairs


def outcome_battery(
    patient_outcomes: pd.DataFrame, config: StudyConfig, pairs: Pairs | None = None
) -> list[dict[str, Any]]:
    """The paired battery for every outcome x follow-up window with any data.

    ``pairs`` (from :func:`all_pairs`) saves rebuilding them when the caller has them.

    Returns
    -------
    list of dict
        ``outcome``, ``window`` and the keys of :data:`BATTERY_KEYS` (contract names),
        plus ``p_adjusted`` (None here; set for the claims' primary tests).
    """
    pairs = all_pairs(patient_outcomes, config) if pairs is None else pairs
    entries = []
    for outcome in outcomes.available_outcomes(patient_outcomes):
        for window in followup_windows(config):
            pair = pairs[(outcome, window)]
            if pair.empty:
                continue
            summary = paired_summary(pair["before"], pair["after"], config.analysis.confidence)
            entry = {"outcome": outcome, "window": window}
            entry.update({new: summary[old] for old, new in BATTERY_KEYS.items()})
            entry["p_adjusted"] = None
            entries.append(entry)
    return entries


def _bootstrap_pair(before: np.ndarray, after: np.ndarray, config: StudyConfig) -> dict[str, Any]:
    return bootstrap_change(
        before, after, config.analysis.confidence,
        n_resamples=config.analysis.bootstrap_resamples, seed=config.analysis.seed,
    )  # fmt: skip


def _arrays(pair: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and follow-up values as plain arrays (what a worker thread gets)."""
    return pair["before"].to_numpy(dtype=np.float64), pair["after"].to_numpy(dtype=np.float64)


def _start_bootstraps(pool: Executor, pairs: Pairs, config: StudyConfig) -> dict[tuple, Future]:
    """Start the bootstrap of each claim's primary test before the battery has run.

    A claim is judged on the outcome x window :func:`pipeline.claims.resolve_tests` picks
    from the results with data, and a battery result has data exactly when its pairs are
    not empty, so the picks are known from the pairs alone.
    """
    with_data = [{"outcome": o, "window": w, "n": len(p)} for (o, w), p in pairs.items() if len(p)]
    keys = {(t.outcome, t.window) for t in claims_module.resolve_tests(config, with_data)}
    return {
        key: pool.submit(_bootstrap_pair, *_arrays(pairs[key]), config)
        for key in keys
        if key in pairs
    }


def _attach_bootstraps(
    tests: list[claims_module.ClaimTest],
    started: dict[tuple, Future],
    pairs: Pairs,
    config: StudyConfig,
) -> None:
    """BCa intervals of the mean and median change for each claim's primary test (in place)."""
    for test in tests:
        if test.result is None or not test.result.get("n"):
            continue
        key = (test.outcome, test.window)
        future = started.get(key)
        result = future.result() if future else _bootstrap_pair(*_arrays(pairs[key]), config)
        test.result["bootstrap"] = result


def responder_rates(summary: list[dict[str, Any]], config: StudyConfig) -> list[dict[str, Any]]:
    """Responder rates with Wilson and Clopper-Pearson intervals, per window and threshold."""
    table = pd.DataFrame(summary)
    if table.empty:
        return []
    rows = []
    for threshold in config.definitions.responder_thresholds:
        rates = proportion_table(
            table[f"n_responder_{threshold}"], table["n_classed"], config.analysis.confidence
        )
        rows.append(
            pd.DataFrame(
                {
                    "window": table["window"],
                    "threshold": threshold,
                    "n_evaluable": table["n_evaluable"],
                    "n_zero_baseline": table["n_zero_baseline"],
                    **{c: rates[c].to_numpy() for c in rates.columns},
                }
            )
        )
    return pd.concat(rows, ignore_index=True).to_dict("records")


def _migraine_pairs(
    patient_outcomes: pd.DataFrame, config: StudyConfig, pairs: Pairs | None
) -> pd.DataFrame:
    key = ("migraine_days", config.windows.primary)
    if pairs is not None and key in pairs:
        return pairs[key]
    return outcomes.paired_values(patient_outcomes, *key)


def benchmarks(
    patient_outcomes: pd.DataFrame,
    responders: pd.DataFrame,
    config: StudyConfig,
    pairs: Pairs | None = None,
) -> dict[str, Any]:
    """Placebo benchmark and regression to the mean for the primary migraine-day change."""
    pairs = _migraine_pairs(patient_outcomes, config, pairs)
    primary = responders[responders["window"] == config.windows.primary]
    responder_50 = pairs[["patient_id"]].merge(primary, on="patient_id", how="left")
    placebo = placebo_benchmark(
        pairs["after"] - pairs["before"],
        responder_50.get("responder_50", pd.Series(dtype="boolean")).astype("float64"),
        benchmark_change=config.placebo.migraine_days_change,
        benchmark_rate=config.placebo.responder_rate,
        confidence=config.analysis.confidence,
    )
    placebo["source"] = config.placebo.source
    settings = config.regression_to_mean
    if settings.population_mean is None:
        rtm: dict[str, Any] = {
            "computed": False,
            "notes": [
                "set [regression_to_mean] population_mean in study.toml (the long-run monthly "
                "migraine days of the population clients come from) to estimate it"
            ],
        }
    else:
        rtm = regression_to_mean(
            pairs["before"], pairs["after"], mu=settings.population_mean,
            sigma=settings.population_sd, cutoff=settings.enrolment_cutoff,
        )  # fmt: skip
        rtm.update(computed=True, source=settings.source)
    return {"placebo": placebo, "regression_to_mean": rtm}


def power_by_claim(
    claim_results: list[dict[str, Any]], results: list[dict[str, Any]], config: StudyConfig
) -> list[dict[str, Any]]:
    """Clients needed to detect each claim's minimal important change, and the power had."""
    by_key = {(r["outcome"], r["window"]): r for r in results}
    rows = []
    for claim in claim_results:
        result = by_key.get((claim.get("outcome_used"), claim.get("window")))
        if claim["test"] != "paired" or result is None or not claim.get("minimal_important_change"):
            continue
        power = power_analysis(
            result["sd_change"], claim["minimal_important_change"], n=result["n"],
            alpha=config.analysis.alpha, power=config.analysis.power,
        )  # fmt: skip
        rows.append({"claim": claim["id"], "outcome": claim["outcome_used"], **power})
    return rows


def longitudinal(patient_outcomes: pd.DataFrame, config: StudyConfig) -> dict[str, Any]:
    """Rate ratios (GEE) and differences (mixed model) of migraine days, each window vs baseline."""
    windows = list(window_table(config.windows)["window"])
    gee = gee_rate_ratios(
        patient_outcomes, "migraine_days", windows=windows, confidence=config.analysis.confidence
    )
    mixed = mixed_rate_differences(
        patient_outcomes, "migraine_days", windows=windows, confidence=config.analysis.confidence
    )
    return {
        "gee": {"rows": gee.to_dict("records"), **{k: v for k, v in gee.attrs.items()}},
        "mixed": {"rows": mixed.to_dict("records"), **{k: v for k, v in mixed.attrs.items()}},
    }


def comparison(
    patient_outcomes: pd.DataFrame, config: StudyConfig, pairs: Pairs | None = None
) -> dict[str, Any] | None:
    """ANCOVA of primary-window migraine days on group, adjusted for baseline (when groups exist)."""
    reference = config.study.comparison_reference
    groups = (
        patient_outcomes.drop_duplicates("patient_id").set_index("patient_id")["group"].dropna()
    )
    if not reference or groups.nunique() < 2:
        return None
    pairs = _migraine_pairs(patient_outcomes, config, pairs).merge(
        groups.rename("group"), left_on="patient_id", right_index=True
    )
    table = ancova(
        pairs, "before", "after", "group", reference, confidence=config.analysis.confidence
    )
    return {"outcome": "migraine_days", "window": config.windows.primary, "reference": reference,
            "rows": table.to_dict("records"), **table.attrs}  # fmt: skip


def trajectory_with_ci(trajectory: pd.DataFrame, config: StudyConfig) -> list[dict[str, Any]]:
    """Weekly mean migraine days per week with a t-based CI, for the trajectory figure."""
    rows = trajectory.dropna(subset=["migraine_days_per_week"])
    if rows.empty:
        return []
    table = grouped_mean_ci(rows, "week", "migraine_days_per_week", config.analysis.confidence)
    return table.to_dict("records")


def methods(config: StudyConfig) -> dict[str, Any]:
    """What the analysis did, in words and settings, for the report's methods section."""
    d = config.definitions
    return {
        "windows": {name: list(bounds) for name, bounds in config.windows.all.items()},
        "primary_window": config.windows.primary,
        "min_recorded_days": config.windows.min_recorded_days,
        "migraine_day": (
            f"a migraine reported that day, or a headache lasting at least "
            f"{d.migraine_min_duration_hours:g} h with at least {d.migraine_features_required} of "
            f"{', '.join(d.migraine_features)}, or a day with migraine-specific acute medication "
            "(triptan, gepant, ditan, ergot)"
        ),
        "headache_day": "any headache recorded that day (every migraine day is a headache day)",
        "proration": "counts are scaled to 28 days: count x 28 / recorded days",
        "change": "follow-up - baseline; negative means fewer days, less pain, less stress",
        "responder": f"reduction in monthly migraine days of at least {', '.join(map(str, d.responder_thresholds))}%",
        "primary_test": "paired t test of the change (R t.test(paired = TRUE))",
        "sensitivity_tests": (
            "Wilcoxon signed-rank with Hodges-Lehmann estimate (R wilcox.test), sign test, "
            "BCa bootstrap of the mean and median change"
        ),
        "effect_size": "Cohen's d_z = mean change / SD of changes (with a noncentral-t CI); d_av shown too",
        "multiplicity": ("Holm" if config.analysis.multiplicity == "holm" else "Benjamini-Hochberg")
        + " adjustment across the claims' primary tests",
        "alpha": config.analysis.alpha,
        "confidence": config.analysis.confidence,
        "longitudinal": (
            "Poisson GEE of migraine days with log(recorded days) offset and robust errors "
            "clustered on client; random-intercept linear mixed model of days per 28 (REML)"
        ),
        "placebo_source": config.placebo.source,
    }


def _cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def analyse(
    patient_outcomes: pd.DataFrame,
    responders: pd.DataFrame,
    trajectory: pd.DataFrame,
    outcomes_summary: dict[str, Any],
    config: StudyConfig,
) -> dict[str, Any]:
    """All statistics and claim verdicts of the study.

    Parameters
    ----------
    patient_outcomes : pandas.DataFrame
        :func:`pipeline.outcomes.patient_outcomes`.
    responders : pandas.DataFrame
        ``per_patient`` of :func:`pipeline.outcomes.responders`.
    trajectory : pandas.DataFrame
        :func:`pipeline.outcomes.weekly_trajectory`.
    outcomes_summary : dict
        ``participant_flow``, ``responders`` (counts) and ``adverse_events`` as written by
        :func:`pipeline.stages.outcomes_stage`.
    config : StudyConfig

    Returns
    -------
    dict
        ``participant_flow``, ``outcomes`` (paired battery per outcome x window, with
        ``p_adjusted`` on the claims' primary tests), ``claims``, ``responders``,
        ``placebo``, ``regression_to_mean``, ``power``, ``longitudinal``, ``comparison``,
        ``adverse_events``, ``trajectory``, ``methods``.
    """
    pairs = all_pairs(patient_outcomes, config)
    # The bootstraps (most of the work) run in threads, one per core, while the rest is
    # computed here; numpy releases the GIL in their heavy calls. Each is seeded with
    # ``[analysis] seed``, so the numbers do not depend on the threads.
    with ThreadPoolExecutor(max_workers=_cores()) as pool:
        started = _start_bootstraps(pool, pairs, config)
        analysis = _analyse(
            patient_outcomes, responders, trajectory, outcomes_summary, config, pairs
        )
        tests = claims_module.resolve_tests(config, analysis["outcomes"])
        _attach_bootstraps(tests, started, pairs, config)
    return analysis


def _analyse(
    patient_outcomes: pd.DataFrame,
    responders: pd.DataFrame,
    trajectory: pd.DataFrame,
    outcomes_summary: dict[str, Any],
    config: StudyConfig,
    pairs: Pairs,
) -> dict[str, Any]:
    """Everything of :func:`analyse` but the bootstraps."""
    results = outcome_battery(patient_outcomes, config, pairs)
    adverse_claim = next((c for c in config.claims if c.test == "adverse_events"), None)
    limit = adverse_claim.max_reaction_hours if adverse_claim else 24.0
    adverse = next(
        (a for a in outcomes_summary["adverse_events"] if a["max_hours"] == limit),
        outcomes_summary["adverse_events"][0] if outcomes_summary["adverse_events"] else {},
    )
    claim_results, p_adjusted = claims_module.evaluate_claims(config, results, adverse)
    for entry in results:
        entry["p_adjusted"] = p_adjusted.get((entry["outcome"], entry["window"]))
    return {
        "participant_flow": outcomes_summary["participant_flow"],
        "outcomes": results,
        "claims": claim_results,
        "responders": responder_rates(outcomes_summary["responders"], config),
        **benchmarks(patient_outcomes, responders, config, pairs),
        "power": power_by_claim(claim_results, results, config),
        "longitudinal": longitudinal(patient_outcomes, config),
        "comparison": comparison(patient_outcomes, config, pairs),
        "adverse_events": adverse,
        "trajectory": trajectory_with_ci(trajectory, config),
        "methods": methods(config),
        "clients_analysed": int(
            np.sum(
                [
                    s["n"]
                    for s in outcomes_summary["participant_flow"]["steps"]
                    if s["step"] == "analysed"
                ]
            )
        ),
    }
