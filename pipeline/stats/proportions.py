"""Proportions: Wilson and Clopper-Pearson intervals, exact binomial tests, responders.

* Wilson score interval = R's ``prop.test(x, n, correct = FALSE)$conf.int``.
* Clopper-Pearson interval = R's ``binom.test(x, n)$conf.int`` (beta quantiles).
* Exact binomial p-value = R's ``binom.test(x, n, p)$p.value`` (two-sided: the outcomes
  no more likely than the observed one, with R's relative tolerance 1 + 1e-7; scipy's
  ``binomtest`` implements the same rule).
* Sign test = ``binom.test`` of the positive among the non-zero differences, p = 1/2.

Responder status itself is classified in ``pipeline.outcomes.responders``; this module
only puts intervals on the counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pipeline.stats._util import NAN, add_note, check_confidence, num


def wilson_ci(
    successes: np.ndarray | int, trials: np.ndarray | int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval without continuity correction (vectorised).

    Parameters
    ----------
    successes, trials : int or array of int
        Number of successes x and of trials n (n >= 1; NaN where n = 0).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper limits as proportions in [0, 1].
    """
    confidence = check_confidence(confidence)
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = stats.norm.ppf((1 + confidence) / 2)
    with np.errstate(all="ignore"):
        p = x / n
        z22n = z**2 / (2 * n)
        centre = p + z22n
        half = z * np.sqrt(p * (1 - p) / n + z22n / (2 * n))
        low = np.where(p <= 0, 0.0, (centre - half) / (1 + 2 * z22n))
        high = np.where(p >= 1, 1.0, (centre + half) / (1 + 2 * z22n))
        valid = n > 0
    return np.where(valid, np.maximum(low, 0.0), np.nan), np.where(
        valid, np.minimum(high, 1.0), np.nan
    )


def clopper_pearson_ci(
    successes: np.ndarray | int, trials: np.ndarray | int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson ("exact") interval from beta quantiles (vectorised).

    Parameters
    ----------
    successes, trials : int or array of int
        Number of successes x and of trials n (NaN where n = 0).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower limit (0 when x = 0) and upper limit (1 when x = n).
    """
    confidence = check_confidence(confidence)
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    alpha = 1 - confidence
    with np.errstate(all="ignore"):
        low = np.where(x <= 0, 0.0, stats.beta.ppf(alpha / 2, np.maximum(x, 1), n - x + 1))
        high = np.where(x >= n, 1.0, stats.beta.ppf(1 - alpha / 2, x + 1, np.maximum(n - x, 1)))
    valid = n > 0
    return np.where(valid, low, np.nan), np.where(valid, high, np.nan)


def binomial_p(successes: int, trials: int, p: float = 0.5) -> float:
    """Two-sided exact binomial test p-value (R's ``binom.test(x, n, p)$p.value``).

    Returns NaN when there are no trials.
    """
    if trials <= 0:
        return NAN
    return float(stats.binomtest(int(successes), int(trials), float(p)).pvalue)


def proportion_summary(successes: int, trials: int, confidence: float = 0.95) -> dict:
    """A proportion with its Wilson and Clopper-Pearson intervals.

    Parameters
    ----------
    successes : int
        Count of successes (e.g. responders).
    trials : int
        Count of evaluable units (e.g. clients with a baseline above 0).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    dict
        ``k``, ``n``, ``proportion`` (k / n), ``wilson_low``, ``wilson_high``, ``cp_low``,
        ``cp_high``, ``confidence``, ``notes`` (NaN values and a note when n = 0).
    """
    confidence = check_confidence(confidence)
    k, n = int(successes), int(trials)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= successes <= trials, got {k} of {n}")
    wilson = wilson_ci(k, n, confidence)
    exact = clopper_pearson_ci(k, n, confidence)
    notes: list[str] = []
    if n == 0:
        add_note(notes, "no evaluable units: proportion undefined")
    return {
        "k": k,
        "n": n,
        "proportion": k / n if n else NAN,
        "wilson_low": num(wilson[0]),
        "wilson_high": num(wilson[1]),
        "cp_low": num(exact[0]),
        "cp_high": num(exact[1]),
        "confidence": confidence,
        "notes": notes,
    }


def sign_test(diffs: np.ndarray) -> dict:
    """Sign test of paired differences: exact binomial test of positives among non-zeros.

    Parameters
    ----------
    diffs : numpy.ndarray
        Differences follow-up - baseline without NaN; zeros are dropped.

    Returns
    -------
    dict
        ``n_positive``, ``n_negative``, ``p_sign`` (two-sided, R's
        ``binom.test(n_positive, n_positive + n_negative)``), ``notes``.
    """
    positive, negative = int((diffs > 0).sum()), int((diffs < 0).sum())
    notes: list[str] = []
    if positive + negative == 0:
        add_note(notes, "no non-zero differences: sign test not computed")
    return {
        "n_positive": positive,
        "n_negative": negative,
        "p_sign": binomial_p(positive, positive + negative, 0.5),
        "notes": notes,
    }


def proportion_table(
    successes: Sequence[int] | np.ndarray | pd.Series,
    trials: Sequence[int] | np.ndarray | pd.Series,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Proportions with Wilson and Clopper-Pearson intervals, one row per pair of counts.

    Vectorised companion of :func:`proportion_summary`, e.g. for the responder counts
    of ``pipeline.outcomes.responders`` (``n_responder_<t>`` of ``n_classed``) in every
    window and threshold at once.

    Parameters
    ----------
    successes, trials : array-like of int
        Counts of successes and of trials, same length (0 <= successes <= trials).
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    pandas.DataFrame
        ``k``, ``n``, ``proportion``, ``wilson_low``, ``wilson_high``, ``cp_low``,
        ``cp_high`` (NaN where n = 0); the index of ``successes`` when it is a Series.
    """
    k = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    if k.shape != n.shape or np.any((k < 0) | (k > n)):
        raise ValueError("need successes and trials of equal length with 0 <= successes <= trials")
    wilson = wilson_ci(k, n, confidence)
    exact = clopper_pearson_ci(k, n, confidence)
    with np.errstate(all="ignore"):
        proportion = np.where(n > 0, k / n, np.nan)
    return pd.DataFrame(
        {
            "k": k,
            "n": n,
            "proportion": proportion,
            "wilson_low": wilson[0],
            "wilson_high": wilson[1],
            "cp_low": exact[0],
            "cp_high": exact[1],
        },
        index=successes.index if isinstance(successes, pd.Series) else None,
    )
