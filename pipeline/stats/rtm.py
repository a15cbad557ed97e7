"""Regression to the mean: the change expected without any treatment.

Clients tend to start therapy when their migraines are worse than usual, so their
next measurement is expected to be lower even if nothing works. Barnett, van der Pols
and Dobson (2005, Int J Epidemiol 34:215-220) give the expected effect for a baseline
and follow-up with correlation rho in a population with mean mu and SD sigma:

* general form: expected change = -(1 - rho) * (mean_baseline - mu). An enrolled group
  whose baseline sits above the population mean is expected to fall by this much.
* truncated-normal form, when clients were selected by a cut-off c on the baseline
  (e.g. at least 4 migraine days per 28): with z = (c - mu) / sigma, the expected change
  is -sigma (1 - rho) phi(z) / (1 - Phi(z)) for selection above c, and
  +sigma (1 - rho) phi(z) / Phi(z) for selection below c.

rho is estimated from the data (Pearson correlation of baseline and follow-up) unless
given. Estimated among clients who were selected for high baselines, it is lower than the
population correlation (range restriction), which makes the expected RTM change larger:
the therapy gets less credit, never more. Pass the population rho when it is known.
mu must come from the caller (study.toml): the enrolled clients cannot tell where the
population mean lies.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from scipy import stats

from pipeline.stats._util import NAN, add_note, as_float_array, num


def regression_to_mean(
    baseline: Sequence[float],
    followup: Sequence[float],
    mu: float,
    rho: float | None = None,
    sigma: float | None = None,
    cutoff: float | None = None,
    selected: Literal["above", "below"] = "above",
) -> dict:
    """Expected change from regression to the mean, and the observed change beyond it.

    Parameters
    ----------
    baseline, followup : array-like of float
        Paired values per client (e.g. migraine days per 28 days); pairs with NaN are
        dropped.
    mu : float
        Population mean of the outcome (the typical level of people like the clients
        when not seeking treatment), in outcome units.
    rho : float, optional
        Correlation between baseline and follow-up; default: Pearson correlation in
        the data.
    sigma : float, optional
        Population SD of the outcome, needed by the cut-off form; default: SD of the
        baseline values (an underestimate when clients were selected, noted).
    cutoff : float, optional
        Selection threshold on the baseline; gives the truncated-normal form.
    selected : {"above", "below"}
        Whether clients were enrolled for values above or below ``cutoff``.

    Returns
    -------
    dict
        ``n``, ``mean_baseline``, ``mean_followup``, ``mu``, ``rho``, ``rho_estimated``
        (bool), ``sigma``, ``cutoff``, ``selected``, ``expected_rtm_change`` (general
        form), ``expected_rtm_change_cutoff`` (truncated-normal form; NaN without a
        cut-off), ``observed_change`` (mean follow-up - baseline), ``change_beyond_rtm``
        (observed - expected, general form), ``change_beyond_rtm_cutoff``, ``notes``.
        Negative changes mean fewer migraine days.
    """
    if selected not in ("above", "below"):
        raise ValueError("selected must be 'above' or 'below'")
    b, f = as_float_array(baseline), as_float_array(followup)
    if b.shape != f.shape:
        raise ValueError(f"baseline and follow-up differ in length: {b.size} and {f.size}")
    complete = np.isfinite(b) & np.isfinite(f)
    b, f = b[complete], f[complete]
    n = int(b.size)
    notes: list[str] = []
    rho_estimated = rho is None
    if rho is None:
        if n >= 3 and np.ptp(b) > 0 and np.ptp(f) > 0:
            rho = float(stats.pearsonr(b, f).statistic)
            add_note(
                notes,
                "rho estimated among the enrolled clients: if they were selected on baseline, "
                "range restriction lowers it and the expected RTM change is overstated",
            )
        else:
            rho = NAN
            add_note(notes, "fewer than 3 pairs or no spread: correlation not estimated")
    elif not -1 <= rho <= 1:
        raise ValueError(f"rho must lie in [-1, 1], got {rho}")
    if sigma is None:
        sigma = num(b.std(ddof=1)) if n >= 2 else NAN
        if cutoff is not None:
            add_note(notes, "sigma from the enrolled baseline SD: underestimates the population SD")
    mean_b = num(b.mean()) if n else NAN
    mean_f = num(f.mean()) if n else NAN
    expected = -(1 - rho) * (mean_b - mu)
    expected_cutoff = NAN
    if cutoff is not None and math.isfinite(sigma) and sigma > 0:
        z = (cutoff - mu) / sigma
        if selected == "above":
            expected_cutoff = -sigma * (1 - rho) * stats.norm.pdf(z) / stats.norm.sf(z)
        else:
            expected_cutoff = sigma * (1 - rho) * stats.norm.pdf(z) / stats.norm.cdf(z)
    elif cutoff is not None:
        add_note(notes, "no positive sigma: cut-off form not computed")
    observed = mean_f - mean_b
    return {
        "n": n,
        "mean_baseline": mean_b,
        "mean_followup": mean_f,
        "mu": float(mu),
        "rho": num(rho),
        "rho_estimated": rho_estimated,
        "sigma": num(sigma),
        "cutoff": NAN if cutoff is None else float(cutoff),
        "selected": selected,
        "expected_rtm_change": num(expected),
        "expected_rtm_change_cutoff": num(expected_cutoff),
        "observed_change": num(observed),
        "change_beyond_rtm": num(observed - expected),
        "change_beyond_rtm_cutoff": num(observed - expected_cutoff),
        "notes": notes,
    }
