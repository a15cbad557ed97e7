"""Claims registry -> verdicts: the rules of docs/VERDICTS.md applied to the results.

Each claim of claims.toml is judged on one outcome in one follow-up window. Change =
follow-up - baseline; a claim's direction is ``decrease`` or ``increase``. The
verdicts, checked in this order:

``insufficient_data``
    fewer clients with values at baseline and in the window than
    ``[analysis] min_evaluable``, or no data for the outcome at all.
``supported``
    the mean change goes in the claimed direction, its multiplicity-adjusted p is below
    ``alpha``, and, where a placebo benchmark exists (monthly migraine days), the whole
    confidence interval lies beyond the placebo response.
``not_supported``
    the confidence interval excludes the minimal important change in the claimed
    direction (even its most favourable end is a smaller change than matters), or the
    change goes the other way.
``inconclusive``
    otherwise.

The side-effect claim ("mild and fade within a day") is judged on reactions after
attended therapy sessions: ``supported`` when the lower Wilson bound of the share of
reactions resolved within ``max_reaction_hours`` reaches ``min_resolved_share``,
``not_supported`` when the upper bound stays below it, ``inconclusive`` otherwise;
``insufficient_data`` when the exports record no reactions column or fewer reactions
with a known resolution time than ``min_evaluable``. Severity is not exported, so
"mild" itself cannot be tested and the reason says so.

The family for the multiplicity adjustment is the primary test (paired t on the
claim's outcome and window) of every paired claim that has data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.config import Claim, StudyConfig
from pipeline.stats import adjust_pvalues, proportion_summary

VERDICTS = ("supported", "not_supported", "inconclusive", "insufficient_data")
PLACEBO_OUTCOME = "migraine_days"

OUTCOME_LABELS = {
    "migraine_days": "monthly migraine days",
    "headache_days": "monthly headache days",
    "peak_pain": "peak headache pain (0-10)",
    "acute_medication_days": "monthly acute medication days",
    "migraine_specific_medication_days": "monthly migraine-specific medication days",
    "stress": "daily stress (0-10)",
    "sleep_quality": "sleep quality (0-10)",
}


def outcome_label(outcome: str) -> str:
    """Plain-English name of an outcome (instruments are named as they are)."""
    return OUTCOME_LABELS.get(outcome, f"{outcome} score")


@dataclass(frozen=True)
class ClaimTest:
    """Which result a paired claim is judged on."""

    claim: Claim
    outcome: str
    window: str
    minimal_important_change: float
    proxy: bool
    result: dict[str, Any] | None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if _finite(value) else "n/a"


def _fmt_p(p: float) -> str:
    if not _finite(p):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def resolve_tests(config: StudyConfig, results: list[dict[str, Any]]) -> list[ClaimTest]:
    """For each paired claim, the outcome x window result it is judged on.

    A claim whose outcome has no result (e.g. HIT-6 was never collected) falls back to
    its ``fallback_outcome``, named as a proxy.
    """
    by_key = {(r["outcome"], r["window"]): r for r in results}
    tests = []
    for claim in config.claims:
        if claim.test != "paired":
            continue
        window = config.claim_window(claim)
        result = by_key.get((claim.outcome, window))
        outcome, mic, proxy = claim.outcome, claim.minimal_important_change, False
        has_data = result is not None and result.get("n", 0) > 0
        if not has_data and claim.fallback_outcome:
            fallback = by_key.get((claim.fallback_outcome, window))
            if fallback is not None:
                outcome, result, proxy = claim.fallback_outcome, fallback, True
                if claim.fallback_minimal_important_change is not None:
                    mic = claim.fallback_minimal_important_change
        tests.append(ClaimTest(claim, outcome, window, mic, proxy, result))
    return tests


def adjusted_pvalues(tests: list[ClaimTest], method: str) -> list[float]:
    """Multiplicity-adjusted p of each test's paired t (NaN where there is no p)."""
    raw = np.array(
        [t.result["p_t"] if t.result and _finite(t.result.get("p_t")) else np.nan for t in tests]
    )
    return adjust_pvalues(raw, method=method).tolist() if len(raw) else []


def _paired_verdict(test: ClaimTest, p_adjusted: float, config: StudyConfig) -> dict[str, Any]:
    claim, result = test.claim, test.result
    minimum = config.analysis.min_evaluable
    label = outcome_label(test.outcome)
    proxy_note = (
        f" ({label} stands in as a proxy: {claim.outcome} was not collected)" if test.proxy else ""
    )
    base = {
        "outcome_used": test.outcome,
        "proxy": test.proxy,
        "window": test.window,
        "minimal_important_change": test.minimal_important_change,
        "n": int(result["n"]) if result else 0,
        "estimate": result.get("mean_change") if result else None,
        "ci_low": result.get("ci_low") if result else None,
        "ci_high": result.get("ci_high") if result else None,
        "p": result.get("p_t") if result else None,
        "p_adjusted": p_adjusted,
        "dz": result.get("dz") if result else None,
        "dz_ci_low": result.get("dz_ci_low") if result else None,
        "dz_ci_high": result.get("dz_ci_high") if result else None,
        "benchmark": None,
    }
    if result is None or result.get("n", 0) < minimum:
        n = result.get("n", 0) if result else 0
        reason = (
            f"No {label} data in {test.window}."
            if not n
            else f"Only {n} clients had {label} at baseline and in {test.window}; at least {minimum} are needed."
        )
        return {**base, "verdict": "insufficient_data", "reason": reason + proxy_note}

    sign = -1.0 if claim.direction == "decrease" else 1.0
    estimate, low, high = result["mean_change"], result["ci_low"], result["ci_high"]
    level = round(100 * config.analysis.confidence)
    adjust = "Holm" if config.analysis.multiplicity == "holm" else "Benjamini-Hochberg"
    numbers = (
        f"{label} changed by {_fmt(estimate)} ({level}% CI {_fmt(low)} to {_fmt(high)}, "
        f"n = {result['n']}, {adjust}-adjusted {_fmt_p(p_adjusted)})"
    )
    benchmark = config.placebo.migraine_days_change if test.outcome == PLACEBO_OUTCOME else None
    base["benchmark"] = benchmark
    in_direction = _finite(estimate) and sign * estimate > 0
    significant = _finite(p_adjusted) and p_adjusted < config.analysis.alpha
    favourable_end, far_end = (low, high) if sign < 0 else (high, low)
    beyond_placebo = benchmark is None or (_finite(far_end) and sign * (far_end - benchmark) > 0)
    mic = test.minimal_important_change
    misses_mic = _finite(favourable_end) and sign * favourable_end < mic

    if misses_mic or not in_direction:
        why = (
            "the change goes the other way"
            if not in_direction
            else "even the interval's most favourable end is smaller than the minimal important "
            f"change of {_fmt(mic, 1)}"
        )
        return {
            **base,
            "verdict": "not_supported",
            "reason": f"{_sentence(numbers)}: {why}.{proxy_note}",
        }
    if significant and beyond_placebo:
        extra = (
            f", beyond the placebo response of {_fmt(benchmark, 1)}"
            if benchmark is not None
            else ""
        )
        return {
            **base,
            "verdict": "supported",
            "reason": f"{_sentence(numbers)}{extra}.{proxy_note}",
        }
    if not significant:
        why = f"the change is not significant after adjustment (alpha = {config.analysis.alpha})"
    else:
        why = f"the interval does not lie beyond the placebo response of {_fmt(benchmark, 1)}"
    return {
        **base,
        "verdict": "inconclusive",
        "reason": f"{_sentence(numbers)}: {why}.{proxy_note}",
    }


def _adverse_verdict(claim: Claim, adverse: dict[str, Any], config: StudyConfig) -> dict[str, Any]:
    confidence = config.analysis.confidence
    reactions = adverse.get("sessions_with_reaction", 0)
    known = adverse.get("reactions_with_known_resolution", 0)
    within = adverse.get("reactions_resolved_within", 0)
    sessions = adverse.get("sessions", 0)
    share_reaction = proportion_summary(reactions, sessions, confidence) if sessions else None
    share_resolved = proportion_summary(within, known, confidence) if known else None
    base = {
        "outcome_used": "adverse_events",
        "proxy": False,
        "window": "all attended therapy sessions",
        "minimal_important_change": None,
        "n": int(known),
        "sessions": int(sessions),
        "reactions": int(reactions),
        "reaction_share": share_reaction,
        "resolved_share": share_resolved,
        "threshold": claim.min_resolved_share,
        "p_adjusted": None,
    }
    mild = "Severity is not recorded in the exports, so 'mild' itself cannot be tested."
    if not adverse.get("sessions_reaction_recorded"):
        return {
            **base,
            "verdict": "insufficient_data",
            "reason": "The session exports record no reactions after sessions. " + mild,
        }
    if known < config.analysis.min_evaluable:
        return {
            **base,
            "verdict": "insufficient_data",
            "reason": f"Only {known} reactions have a known resolution time; at least "
            f"{config.analysis.min_evaluable} are needed. {mild}",
        }
    level = round(100 * confidence)
    hours = _fmt(claim.max_reaction_hours, 0)
    numbers = (
        f"Reactions followed {reactions} of {sessions} attended sessions "
        f"({100 * share_reaction['proportion']:.1f}%); {within} of {known} with a known time resolved "
        f"within {hours} h ({100 * share_resolved['proportion']:.1f}%, {level}% CI "
        f"{100 * share_resolved['wilson_low']:.1f} to {100 * share_resolved['wilson_high']:.1f}%)"
    )
    unknown = reactions - known
    unknown_note = f" {unknown} reactions have no resolution time." if unknown else ""
    required = f"{100 * claim.min_resolved_share:.0f}%"
    if share_resolved["wilson_low"] >= claim.min_resolved_share:
        verdict, why = "supported", f"at least {required} resolve in time"
    elif share_resolved["wilson_high"] < claim.min_resolved_share:
        verdict, why = "not_supported", f"fewer than {required} resolve in time"
    else:
        verdict, why = "inconclusive", f"the interval includes the required {required}"
    return {**base, "verdict": verdict, "reason": f"{numbers}: {why}.{unknown_note} {mild}"}


def evaluate_claims(
    config: StudyConfig, results: list[dict[str, Any]], adverse: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], float]]:
    """Verdict, reason and numbers for every claim of the study.

    Parameters
    ----------
    config : StudyConfig
        Claims, alpha, confidence, multiplicity method, minimum evaluable clients,
        placebo benchmark.
    results : list of dict
        The paired battery per outcome x follow-up window (``outcome``, ``window``,
        ``n``, ``mean_change``, ``ci_low``, ``ci_high``, ``p_t``, ``dz``, ...).
    adverse : dict
        :func:`pipeline.outcomes.adverse_event_summary` for the claim's hour limit.

    Returns
    -------
    claims : list of dict
        One per claim, in claims.toml order: ``id, claim, outcome, window, direction,
        test, verdict, reason`` and the numbers behind them.
    p_adjusted : dict
        (outcome, window) -> adjusted p of each claim's primary test.
    """
    tests = resolve_tests(config, results)
    adjusted = adjusted_pvalues(tests, config.analysis.multiplicity)
    by_claim = {t.claim.id: (t, p) for t, p in zip(tests, adjusted, strict=True)}
    verdicts = []
    for claim in config.claims:
        common = {
            "id": claim.id,
            "claim": claim.claim,
            "outcome": claim.outcome,
            "direction": claim.direction,
            "test": claim.test,
        }
        if claim.test == "paired":
            test, p_adjusted = by_claim[claim.id]
            verdicts.append({**common, **_paired_verdict(test, p_adjusted, config)})
        else:
            verdicts.append({**common, **_adverse_verdict(claim, adverse, config)})
    p_map = {(t.outcome, t.window): p for t, p in zip(tests, adjusted, strict=True) if _finite(p)}
    return verdicts, p_map
