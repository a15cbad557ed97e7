"""Standardized effect sizes of a paired change, with their sign kept.

* ``d_z`` = mean(diff) / sd(diff): the standardized mean difference of the paired
  design, the effect size that paired-t power analysis uses. Its confidence interval
  inverts the noncentral t distribution: with t = d_z * sqrt(n) and df = n - 1, the
  limits are the noncentrality parameters under which the observed t sits at the
  1 - alpha/2 and alpha/2 quantiles, divided by sqrt(n) (Steiger and Fouladi 1997; the
  method of MBESS ``conf.limits.nct``).
* ``d_av`` = mean(diff) / ((sd(before) + sd(after)) / 2) (Lakens 2013, Front Psychol
  4:863): the change in units of the average raw SD, comparable with between-group d.
  Reported as a second figure only; power and the claims use d_z.

diff = after - before, so a negative effect size means fewer migraine days.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from pipeline.stats._util import NAN, add_note


def _noncentrality_for(t_value: float, df: float, probability: float) -> float:
    """The noncentrality delta with P(T_df,delta <= t_value) = probability.

    Starts from scipy's cdflib inversion (``nctdtrinc``) and polishes the root with
    Brent's method on the boost noncentral-t cdf, which is the more accurate of the two.
    """
    guess = float(special.nctdtrinc(df, probability, t_value))
    if not math.isfinite(guess):
        return NAN

    def gap(delta: float) -> float:
        return float(special.nctdtr(df, delta, t_value)) - probability

    step = 1e-6 * max(1.0, abs(guess))
    for _ in range(40):
        low, high = guess - step, guess + step
        at_low, at_high = gap(low), gap(high)
        if not (math.isfinite(at_low) and math.isfinite(at_high)):
            return guess
        if at_low * at_high <= 0:
            return float(optimize.brentq(gap, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps))
        step *= 2
    return guess


def noncentral_t_interval(t_value: float, df: float, confidence: float) -> tuple[float, float]:
    """Confidence limits for the noncentrality parameter of an observed t (two-sided).

    Parameters
    ----------
    t_value : float
        Observed t statistic.
    df : float
        Degrees of freedom (>= 1).
    confidence : float
        Two-sided level.

    Returns
    -------
    (float, float)
        Lower and upper limits of the noncentrality parameter (NaN if not found).
    """
    alpha = 1 - confidence
    return (
        _noncentrality_for(t_value, df, 1 - alpha / 2),
        _noncentrality_for(t_value, df, alpha / 2),
    )


def cohens_dz(diffs: np.ndarray, confidence: float = 0.95) -> dict:
    """Cohen's d_z of paired differences with a noncentral-t confidence interval.

    Parameters
    ----------
    diffs : numpy.ndarray
        Differences follow-up - baseline without NaN.
    confidence : float
        Two-sided level of the interval.

    Returns
    -------
    dict
        ``dz`` (mean / sd of the differences; negative = decrease), ``dz_ci_low``,
        ``dz_ci_high``, ``notes``. NaN with a note for fewer than 2 differences or
        differences with no spread.
    """
    notes: list[str] = []
    out = {"dz": NAN, "dz_ci_low": NAN, "dz_ci_high": NAN, "notes": notes}
    n = diffs.size
    if n < 2:
        add_note(notes, "fewer than 2 pairs: d_z not computed")
        return out
    sd = float(diffs.std(ddof=1))
    if sd == 0:
        add_note(notes, "differences have no spread: d_z undefined")
        return out
    dz = float(diffs.mean()) / sd
    low, high = noncentral_t_interval(dz * math.sqrt(n), n - 1, confidence)
    if not (math.isfinite(low) and math.isfinite(high)):
        add_note(notes, "d_z interval: noncentral t inversion did not converge")
    out.update(dz=dz, dz_ci_low=low / math.sqrt(n), dz_ci_high=high / math.sqrt(n))
    return out


def cohens_dav(before: np.ndarray, after: np.ndarray) -> dict:
    """Cohen's d_av: mean change over the average of the baseline and follow-up SDs.

    Parameters
    ----------
    before, after : numpy.ndarray
        Complete pairs (no NaN), baseline and follow-up.

    Returns
    -------
    dict
        ``d_av`` (negative = decrease) and ``notes``.
    """
    notes: list[str] = []
    if before.size < 2:
        add_note(notes, "fewer than 2 pairs: d_av not computed")
        return {"d_av": NAN, "notes": notes}
    scale = (before.std(ddof=1) + after.std(ddof=1)) / 2
    if scale == 0:
        add_note(notes, "baseline and follow-up values are constant: d_av undefined")
        return {"d_av": NAN, "notes": notes}
    return {"d_av": float((after - before).mean() / scale), "notes": notes}
