"""Settings of the synthetic study and the summary of what a simulation wrote.

Conventions used throughout :mod:`pipeline.simulate`:

- Rates are days per 28 days ("per month").
- Days are offsets from the client's index date (day 0 = first attended therapy session;
  for a client who never attends, the date of the booking they did not keep).
- Change = follow-up - baseline; a negative migraine effect means fewer migraine days.
- The planted effect is a population mean: a client's own effect is proportional to their
  latent migraine rate (times a uniform heterogeneity factor with mean 1), so no client's
  daily probability is ever clipped and the population mean change is exactly the
  planted value when regression to the mean is off.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

DAYS_PER_MONTH = 28

#: E|2B - 1| for B ~ Beta(2, 2): mean excess of a "bad month" block factor (units of
#: ``monthly_fluctuation``) when regression to the mean is on.
HIGH_SIDE_MEAN = 3.0 / 8.0

#: Beta shape of the tension-type rate within ``tension_rate_range`` (mean 0.4 of the span).
TENSION_BETA = (2.0, 3.0)

#: Client-level means of daily values (uniform ranges). Fixed: they define the scales.
PAIN_MEAN_RANGE = (5.0, 7.5)  # peak pain (0-10) on a migraine day before treatment
PAIN_DAY_SPREAD = 1.0  # half-width of day-to-day pain variation on migraine days
TRIPTAN_ONLY_PAIN_DROP = 2.0  # aborted attacks hurt less
TRIPTAN_ONLY_SPREAD = 0.5
STRESS_MEAN_RANGE = (3.0, 6.0)
SLEEP_MEAN_RANGE = (4.5, 7.0)
DAILY_SPREAD = 1.5  # half-width of the triangular day-to-day noise of stress and sleep


@dataclass(frozen=True)
class SimulationSettings:
    """What the synthetic clinic population looks like (every field has a default).

    Population
    ----------
    migraine_rate_range : (float, float)
        Range of a client's latent migraine rate, migraine days per 28 days (2-14:
        episodic migraine). The rate is ``lo + (hi - lo) * Beta(*migraine_rate_beta)``.
    migraine_rate_beta : (float, float)
        Beta shape of the latent rate within its range (default mean 6.5 days per 28).
    tension_rate_range : (float, float)
        Range of the tension-type headache rate, days per 28 among non-migraine days
        (Beta(2, 3) within the range).
    monthly_fluctuation : float
        Month-to-month fluctuation: each 28-day block (aligned on the index date) has its
        own factor ``1 + a * (2B - 1)``, B ~ Beta(2, 2), so the factor lies in
        [1 - a, 1 + a] with mean 1.
    regression_to_mean : bool
        True: clients enrol after a bad month; the baseline block's factor is drawn from
        the high side, ``1 + a * |2B - 1|`` (mean 1 + 3a/8). False: an ordinary month.

    Planted effects (follow-up - baseline; full size from day ``effect_ramp_days``)
    -----------------------------------------------------------------------------
    effect_migraine_days : float
        Population-mean change in migraine days per 28 (negative = fewer). Client i's
        rate is multiplied by ``1 + effect * H_i / E[rate]``, H_i ~ U(1 - h, 1 + h).
    effect_heterogeneity : float
        h above (0 = every client gets the same relative reduction).
    effect_ramp_days : int
        The effects grow linearly over days 0..ramp-1 (0 = step at day 0).
    effect_peak_pain : float
        Change in peak pain (0-10 points) on migraine days.
    effect_stress, effect_sleep_quality : float
        Direct change in daily stress and sleep quality (0-10 points; sleep 10 = best).
        The total expected change adds the association with headache days below
        (see :meth:`expected_change`).
    stress_on_headache_days, sleep_on_headache_days : float
        Points added to the day's stress / sleep quality on a headache day.

    Diary timing and compliance
    ---------------------------
    baseline_days : (int, int)
        Days of diary before day 0 for most clients (inclusive range).
    long_baseline_days, long_baseline_fraction : (int, int), float
        Share of clients who start earlier (35-42 days before day 0).
    late_start_fraction : float
        Low-compliance clients who start only 5-13 days before day 0 (fewer than 14
        baseline days: baseline not evaluable).
    followup_last_day : int
        Last diary day of a completer (83 = end of week 12).
    extended_followup_fraction, extended_followup_max_days : float, int
        Share of completers who keep the diary 1..max days longer.
    dropout_fraction, dropout_days : float, (int, int)
        Clients whose diary stops on a day in the range (weeks 5-8): primary window
        not evaluable. Independent of the client's rates.
    missing_day_probability : (float, float)
        Each client's daily-form days are missing completely at random with a client
        probability drawn uniformly from this range (attack-log clients have none).

    Therapy and appointments
    ------------------------
    therapy_sessions : (int, int)
        Attended weekly therapy sessions per treated client (inclusive range).
    cancelled_first_fraction : float
        Clients whose first booked therapy session was cancelled (the index date is
        the next, attended one).
    missed_visit_probability : float
        Per weekly session after the first: a cancelled / no-show / rescheduled booking
        before the attended one.
    other_service_probability : float
        Per each of 3 slots after the course: another massage service.
    consultation_probability : float
        A consultation 8-14 days before day 0.
    adverse_event_probability : float
        Per attended therapy session: a mild reaction reported.
    slow_resolution_fraction : float
        Share of reactions resolving in 24-48 h (others 1-20 h).

    Population mix
    --------------
    sessions_only_fraction : float
        Extra practice clients (as a share of ``n_patients``) with sessions but no diary
        and no patients row; 30% of them book other massages only.
    never_treated_fraction : float
        Diary clients who never attend a therapy session.
    attack_log_fraction : float
        Diary clients who log attacks in an app (one file each) instead of a daily form.
    site_b_fraction : float
        Share of daily-form clients at site B (cp1252, ``;``, 0-3 pain scale).
    email_only_link_fraction : float
        Diary clients whose patients row has no client_id (linked by email only).
    attack_logs_without_coverage : int
        Attack-log clients deliberately left out of coverage.csv.
    triptan_user_fraction, triptan_on_migraine_day, triptan_only_fraction : float
        Clients using a migraine-specific drug; share of their migraine days with it;
        share of their migraine days that are aborted, triptan-only days (no features).
    questionnaire_followup_fraction : float
        Completers who return the week-12 questionnaires.

    Calendar and exports
    --------------------
    first_index_date, last_index_date : date
        Index dates are spread uniformly over this range.
    overlap_days : int
        Days covered by both session exports (their rows appear in both files).

    Planted mess (recorded in truth.json)
    -------------------------------------
    plant_mess : bool
        False writes clean files (except the structural session-export overlap).
    mess_rate : float
        Problems of each kind per data row of a file.
    mess_min_per_kind : int
        At least this many of each kind in each file that has the kind.
    conflicts_min : int
        At least this many conflicting diary rows (same client and day, different
        values) in each daily diary file.
    """

    migraine_rate_range: tuple[float, float] = (2.0, 14.0)
    migraine_rate_beta: tuple[float, float] = (1.5, 2.5)
    tension_rate_range: tuple[float, float] = (0.0, 6.0)
    monthly_fluctuation: float = 0.4
    regression_to_mean: bool = True

    effect_migraine_days: float = -2.0
    effect_heterogeneity: float = 0.5
    effect_ramp_days: int = 28
    effect_peak_pain: float = -1.0
    effect_stress: float = -0.5
    effect_sleep_quality: float = 0.3
    stress_on_headache_days: float = 1.5
    sleep_on_headache_days: float = -1.5

    baseline_days: tuple[int, int] = (28, 34)
    long_baseline_days: tuple[int, int] = (35, 42)
    long_baseline_fraction: float = 0.3
    late_start_fraction: float = 0.03
    followup_last_day: int = 83
    extended_followup_fraction: float = 0.3
    extended_followup_max_days: int = 28
    dropout_fraction: float = 0.12
    dropout_days: tuple[int, int] = (28, 55)
    missing_day_probability: tuple[float, float] = (0.05, 0.15)

    therapy_sessions: tuple[int, int] = (6, 8)
    cancelled_first_fraction: float = 0.08
    missed_visit_probability: float = 0.12
    other_service_probability: float = 0.2
    consultation_probability: float = 0.3
    adverse_event_probability: float = 0.12
    slow_resolution_fraction: float = 0.1

    sessions_only_fraction: float = 0.05
    never_treated_fraction: float = 0.03
    attack_log_fraction: float = 0.15
    site_b_fraction: float = 0.35
    email_only_link_fraction: float = 0.05
    attack_logs_without_coverage: int = 1
    triptan_user_fraction: float = 0.6
    triptan_on_migraine_day: float = 0.5
    triptan_only_fraction: float = 0.04
    questionnaire_followup_fraction: float = 0.85

    first_index_date: date = date(2025, 1, 20)
    last_index_date: date = date(2025, 8, 29)
    overlap_days: int = 14

    plant_mess: bool = True
    mess_rate: float = 1e-4
    mess_min_per_kind: int = 2
    conflicts_min: int = 1

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("invalid SimulationSettings: " + "; ".join(problems))

    @property
    def mean_migraine_rate(self) -> float:
        """Population mean of the latent migraine rate, days per 28 (exact)."""
        lo, hi = self.migraine_rate_range
        a, b = self.migraine_rate_beta
        return lo + (hi - lo) * a / (a + b)

    @property
    def mean_tension_rate(self) -> float:
        """Population mean of the tension-type rate among non-migraine days, per 28."""
        lo, hi = self.tension_rate_range
        a, b = TENSION_BETA
        return lo + (hi - lo) * a / (a + b)

    @property
    def baseline_excess(self) -> float:
        """Expected excess migraine days per 28 in the baseline month from enrolling after
        a bad month (0 without regression to the mean)."""
        if not self.regression_to_mean:
            return 0.0
        return self.mean_migraine_rate * self.monthly_fluctuation * HIGH_SIDE_MEAN

    def expected_change(self) -> dict[str, float]:
        """Expected population-mean change, full-effect window (e.g. weeks 9-12) - baseline.

        Over treated clients, with each window's value computed over recorded days
        (missingness is completely at random, so it does not bias these).

        Returns
        -------
        dict
            ``migraine_days`` and ``headache_days`` (per 28 days; the planted effect plus,
            with regression to the mean, ``-baseline_excess``), ``peak_pain_migraine_days``
            (0-10 on migraine days), ``stress`` and ``sleep_quality`` (daily means, 0-10:
            the direct effect plus the headache-day association times the expected
            change in the share of headache days).
        """
        migraine = self.effect_migraine_days - self.baseline_excess
        not_tension = 1.0 - self.mean_tension_rate / DAYS_PER_MONTH
        headache = migraine * not_tension
        share = headache / DAYS_PER_MONTH
        return {
            "migraine_days": migraine,
            "headache_days": headache,
            "peak_pain_migraine_days": self.effect_peak_pain,
            "stress": self.effect_stress + self.stress_on_headache_days * share,
            "sleep_quality": self.effect_sleep_quality + self.sleep_on_headache_days * share,
        }

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON-ready values (dates ISO, tuples as lists)."""
        out = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            out[item.name] = value.isoformat() if isinstance(value, date) else value
        return json.loads(json.dumps(out))


def _problems(s: SimulationSettings) -> list[str]:
    """Every inconsistency in the settings, as readable sentences (empty = valid)."""
    out: list[str] = []
    shares = [
        f.name for f in dataclasses.fields(s) if f.name.endswith(("_fraction", "_probability"))
    ]
    for name in shares:
        value = getattr(s, name)
        if isinstance(value, float | int) and not 0 <= value <= 1:
            out.append(f"{name} must lie in [0, 1], got {value}")
    for name in ("migraine_rate_range", "tension_rate_range", "baseline_days",
                 "long_baseline_days", "dropout_days", "therapy_sessions",
                 "missing_day_probability"):  # fmt: skip
        lo, hi = getattr(s, name)
        if not 0 <= lo <= hi:
            out.append(f"{name} must be an increasing range of non-negative values")
    lo_p, hi_p = s.missing_day_probability
    if hi_p >= 1:
        out.append("missing_day_probability must stay below 1")
    if not 0 <= s.monthly_fluctuation < 1:
        out.append("monthly_fluctuation must lie in [0, 1)")
    if not 0 <= s.effect_heterogeneity <= 1:
        out.append("effect_heterogeneity must lie in [0, 1]")
    if min(s.migraine_rate_beta) <= 0:
        out.append("migraine_rate_beta shapes must be positive")
    mean = s.mean_migraine_rate
    if mean <= 0:
        out.append("the mean migraine rate must be positive")
        return out
    worst = 1 + s.effect_migraine_days * (1 + s.effect_heterogeneity) / mean
    best = 1 + s.effect_migraine_days * (1 - s.effect_heterogeneity) / mean
    if min(worst, best) < 0:
        out.append(
            f"effect_migraine_days {s.effect_migraine_days} is too large for a mean rate of "
            f"{mean:.2f}: some clients would need negative probabilities"
        )
    peak = s.migraine_rate_range[1] * (1 + s.monthly_fluctuation) * max(1.0, worst, best)
    if peak > DAYS_PER_MONTH:
        out.append(f"the highest daily migraine probability would exceed 1 ({peak:.1f} per 28)")
    if s.tension_rate_range[1] > DAYS_PER_MONTH:
        out.append("tension_rate_range cannot exceed 28 days per 28")
    ranges = {
        "peak pain on migraine days": _span(PAIN_MEAN_RANGE, PAIN_DAY_SPREAD, s.effect_peak_pain),
        "peak pain on triptan-only days": _span(
            (
                PAIN_MEAN_RANGE[0] - TRIPTAN_ONLY_PAIN_DROP,
                PAIN_MEAN_RANGE[1] - TRIPTAN_ONLY_PAIN_DROP,
            ),
            TRIPTAN_ONLY_SPREAD,
            s.effect_peak_pain,
        ),
        "stress": _span(
            STRESS_MEAN_RANGE, DAILY_SPREAD, s.effect_stress, s.stress_on_headache_days
        ),
        "sleep quality": _span(
            SLEEP_MEAN_RANGE, DAILY_SPREAD, s.effect_sleep_quality, s.sleep_on_headache_days
        ),
    }
    for what, (low, high) in ranges.items():
        if low < 0 or high > 10:
            out.append(f"the effects would push {what} outside 0-10 ({low:.2f}..{high:.2f})")
    if s.effect_ramp_days < 0:
        out.append("effect_ramp_days must be >= 0")
    if s.first_index_date > s.last_index_date:
        out.append("first_index_date must not be after last_index_date")
    if s.dropout_days[1] >= s.followup_last_day:
        out.append("dropout_days must end before followup_last_day")
    if s.therapy_sessions[0] < 1:
        out.append("therapy_sessions must allow at least one session")
    if s.overlap_days < 1:
        out.append("overlap_days must be >= 1")
    if s.mess_rate < 0 or s.mess_min_per_kind < 0 or s.conflicts_min < 0:
        out.append("mess_rate, mess_min_per_kind and conflicts_min must be >= 0")
    if s.attack_logs_without_coverage < 0 or s.extended_followup_max_days < 1:
        out.append("attack_logs_without_coverage must be >= 0, extended_followup_max_days >= 1")
    return out


def _span(means: tuple[float, float], spread: float, *shifts: float) -> tuple[float, float]:
    """Lowest and highest possible latent daily value given client means, noise and shifts."""
    low = means[0] - spread + sum(min(0.0, x) for x in shifts)
    high = means[1] + spread + sum(max(0.0, x) for x in shifts)
    return low, high


@dataclass(frozen=True)
class SimulationSummary:
    """What :func:`pipeline.simulate.simulate_study` wrote (JSON-serialisable).

    Attributes
    ----------
    out_dir : str
        The study folder.
    seed, n_patients : int
        The arguments of the run.
    files : dict
        Relative path -> data rows written (header excluded); attack logs are summed under
        ``"attacks/*.csv"``.
    counts : dict
        Clients by kind, sessions, diary days, attacks, questionnaires.
    planted_problems : dict
        Planted problem kind -> number of rows (all files).
    """

    out_dir: str
    seed: int
    n_patients: int
    files: dict[str, int]
    counts: dict[str, int]
    planted_problems: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (``json.dumps`` ready)."""
        return dataclasses.asdict(self)
