"""Power and sample size of the paired t test for a minimal important change.

The paired t test is a one-sample t test of the differences, so its power depends on
the standardized effect d_z = change / SD(differences) (statsmodels ``TTestPower``; R:
``power.t.test(delta, sd, type = "paired", strict = TRUE)``, both tails counted).
Power is computed for the *minimal important change* of the claim, not for the observed
change: post-hoc power at the observed effect only restates the p-value.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats
from statsmodels.stats.power import TTestPower

from pipeline.stats._util import NAN, add_note, num, warnings_as_notes

MAX_N = 10_000_000
"""Sample sizes beyond this are reported as not reachable."""


def paired_t_power(effect: float, n: float, alpha: float) -> float:
    """Power of the two-sided paired t test for standardized effect d_z at n pairs.

    The upper rejection tail comes from statsmodels ``TTestPower``; the lower tail
    (wrong-sign rejections, negligible unless d_z is tiny) is added from the noncentral
    t cdf, read as 0 where scipy returns NaN far out in that tail (below 1e-40 there).
    Where the upper tail itself is NaN (noncentrality far beyond the critical value,
    e.g. d_z = 3.6 at 100 pairs) the power is 1 to double precision.
    """
    effect = abs(effect)
    upper = float(
        TTestPower().power(effect_size=effect, nobs=n, alpha=alpha / 2, alternative="larger")
    )
    if not np.isfinite(upper):
        critical = stats.t.ppf(1 - alpha / 2, n - 1)
        upper = 1.0 if effect * np.sqrt(n) > critical else 0.0
    lower = float(special.nctdtr(n - 1, effect * np.sqrt(n), stats.t.ppf(alpha / 2, n - 1)))
    return upper + (lower if np.isfinite(lower) else 0.0)


def power_analysis(
    sd_diff: float,
    minimal_important_change: float,
    n: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict:
    """Clients needed to detect a minimal important change, and the power at a given n.

    Parameters
    ----------
    sd_diff : float
        Standard deviation of the paired differences (outcome units), from the study or
        from the literature.
    minimal_important_change : float
        Smallest change that matters, outcome units; its sign is ignored (two-sided).
    n : int, optional
        Number of complete pairs in the study; gives ``power_at_n``.
    alpha : float
        Two-sided significance level.
    power : float
        Target power for the sample size.

    Returns
    -------
    dict
        ``sd_diff``, ``minimal_important_change``, ``dz_mic`` (= |change| / sd_diff),
        ``alpha``, ``target_power``, ``n_required`` (whole pairs, rounded up, at least 2),
        ``n_required_exact`` (the fractional n where the power reaches the target), ``n``,
        ``power_at_n``, ``notes``.
    """
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must lie strictly between 0 and 1")
    notes: list[str] = []
    out = {
        "sd_diff": num(sd_diff),
        "minimal_important_change": num(minimal_important_change),
        "dz_mic": NAN,
        "alpha": float(alpha),
        "target_power": float(power),
        "n_required": NAN,
        "n_required_exact": NAN,
        "n": None if n is None else int(n),
        "power_at_n": NAN,
        "notes": notes,
    }
    if not (math.isfinite(out["sd_diff"]) and out["sd_diff"] > 0):
        add_note(notes, "SD of the differences missing or not positive: power not computed")
        return out
    effect = abs(out["minimal_important_change"]) / out["sd_diff"]
    if not (math.isfinite(effect) and effect > 0):
        add_note(notes, "minimal important change is zero or missing: power not computed")
        return out
    out["dz_mic"] = effect
    with warnings_as_notes(notes, "power"):
        if n is not None and n >= 2:
            out["power_at_n"] = paired_t_power(effect, n, alpha)
        high = 2.0
        while paired_t_power(effect, high, alpha) < power and high < MAX_N:
            high = min(high * 2, MAX_N)  # bracket the root without far-tail arithmetic
        if paired_t_power(effect, 2, alpha) >= power:
            exact = 2.0
        elif paired_t_power(effect, high, alpha) < power:
            exact = NAN
            add_note(notes, f"more than {MAX_N} pairs would be needed")
        else:
            exact = optimize.brentq(
                lambda size: paired_t_power(effect, size, alpha) - power, high / 2, high, xtol=1e-10
            )
    if n is not None and n < 2:
        add_note(notes, "fewer than 2 pairs: power at n not computed")
    out["n_required_exact"] = float(exact)
    out["n_required"] = math.ceil(exact - 1e-9) if math.isfinite(exact) else NAN
    return out
