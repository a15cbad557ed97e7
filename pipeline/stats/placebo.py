"""Benchmark the observed change against the placebo response of migraine prevention trials.

An uncontrolled before/after study cannot separate the therapy from placebo response,
natural course and regression to the mean. The benchmark asks whether the clinic's
clients improved by more than patients given a placebo typically do: a one-sample t test
of the changes against the placebo mean change (R: ``t.test(x, mu = -1.8)``) and an exact
binomial test of the responders against the placebo responder rate (R:
``binom.test(k, n, p = 0.27)``), both two-sided. The default references are the
defaults of study.toml's ``[placebo]`` section (-1.8 migraine days per 28 days, 27%
responders); pass ``config.placebo`` values to honour a study's own settings.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.config import PlaceboSection
from pipeline.stats._util import NAN, add_note, as_float_array, check_confidence, num
from pipeline.stats.descriptive import one_sample_t
from pipeline.stats.proportions import binomial_p, clopper_pearson_ci

PLACEBO_CHANGE: float = PlaceboSection.model_fields["migraine_days_change"].default
PLACEBO_RESPONDER_RATE: float = PlaceboSection.model_fields["responder_rate"].default


def placebo_benchmark(
    changes: Sequence[float],
    responders: Sequence[float] | None = None,
    benchmark_change: float = PLACEBO_CHANGE,
    benchmark_rate: float = PLACEBO_RESPONDER_RATE,
    confidence: float = 0.95,
) -> dict:
    """Compare the mean change and the responder rate with a placebo reference.

    Parameters
    ----------
    changes : array-like of float
        Change per client, follow-up - baseline (migraine days per 28 days; negative =
        fewer). NaN values are dropped.
    responders : array-like of bool or float, optional
        Responder status per client (1/True responder, 0/False not, NaN or ``<NA>``
        undefined), e.g. ``responder_50`` of ``pipeline.outcomes.responders``.
    benchmark_change : float
        Placebo mean change (days per 28 days), the t test's ``mu``.
    benchmark_rate : float
        Placebo responder rate in [0, 1], the binomial test's ``p``.
    confidence : float
        Level of both intervals.

    Returns
    -------
    dict
        ``n``, ``mean_change``, ``ci_low``, ``ci_high`` (t interval of the mean change),
        ``benchmark_change``, ``difference`` (mean change - benchmark; negative = more
        improvement than placebo), ``t``, ``df``, ``p_t``; ``n_responder_evaluable``,
        ``responders``, ``responder_rate``, ``rate_ci_low``, ``rate_ci_high``
        (Clopper-Pearson), ``benchmark_rate``, ``p_binom``; ``confidence``, ``notes``.
    """
    confidence = check_confidence(confidence)
    if not 0.0 <= benchmark_rate <= 1.0:
        raise ValueError(f"benchmark_rate must lie in [0, 1], got {benchmark_rate}")
    t_test = one_sample_t(changes, benchmark_change, confidence)
    notes = list(t_test["notes"])
    flags = as_float_array([] if responders is None else responders)
    flags = flags[np.isfinite(flags)]
    if flags.size and not np.isin(flags, (0.0, 1.0)).all():
        raise ValueError("responders must be booleans or 0/1 (NaN for undefined)")
    k, n = int(flags.sum()), int(flags.size)
    if responders is None:
        add_note(notes, "no responder status given: binomial benchmark not computed")
    elif n == 0:
        add_note(notes, "no client with a defined responder status: binomial test not computed")
    low, high = clopper_pearson_ci(k, n, confidence)
    return {
        "n": t_test["n"],
        "mean_change": t_test["mean"],
        "ci_low": t_test["ci_low"],
        "ci_high": t_test["ci_high"],
        "benchmark_change": float(benchmark_change),
        "difference": t_test["mean"] - benchmark_change,
        "t": t_test["t"],
        "df": t_test["df"],
        "p_t": t_test["p"],
        "n_responder_evaluable": n,
        "responders": k,
        "responder_rate": k / n if n else NAN,
        "rate_ci_low": num(low),
        "rate_ci_high": num(high),
        "benchmark_rate": float(benchmark_rate),
        "p_binom": binomial_p(k, n, benchmark_rate),
        "confidence": confidence,
        "notes": notes,
    }
