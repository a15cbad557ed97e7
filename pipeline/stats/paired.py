"""The paired before/after battery: ``paired_summary``.

One call gives every figure the report shows for an outcome in a window: the paired t
test, the Wilcoxon signed-rank test with the Hodges-Lehmann estimate, the sign test,
Shapiro-Wilk on the differences, and the effect sizes d_z and d_av. The tests follow R:
``t.test(after, before, paired = TRUE)``, ``wilcox.test(after, before, paired = TRUE,
conf.int = TRUE, correct = TRUE)``, ``binom.test`` on the signs and ``shapiro.test`` on
the differences.

diff = after - before (follow-up - baseline): a negative mean change means fewer
migraine days. All returned numbers are plain Python ``float``/``int``/``bool``; a
quantity that cannot be computed is NaN and ``notes`` says why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from pipeline.stats._util import (
    NAN,
    add_note,
    as_float_array,
    check_confidence,
    num,
    warnings_as_notes,
)
from pipeline.stats.descriptive import one_sample_t
from pipeline.stats.effect_sizes import cohens_dav, cohens_dz
from pipeline.stats.proportions import sign_test
from pipeline.stats.signed_rank import signed_rank_test

SHAPIRO_MAX_N = 5000
"""R's ``shapiro.test`` accepts 3 to 5000 values."""


def shapiro_wilk(values: np.ndarray) -> dict:
    """Shapiro-Wilk normality test (Royston's algorithm, as R's ``shapiro.test``).

    Parameters
    ----------
    values : numpy.ndarray
        Values without NaN (here: the paired differences).

    Returns
    -------
    dict
        ``shapiro_W``, ``shapiro_p`` and ``notes``; NaN outside R's domain (fewer than
        3 or more than 5000 values, or all values identical).
    """
    notes: list[str] = []
    out = {"shapiro_W": NAN, "shapiro_p": NAN, "notes": notes}
    n = values.size
    if n < 3:
        add_note(notes, "fewer than 3 pairs: Shapiro-Wilk not computed")
        return out
    if n > SHAPIRO_MAX_N:
        add_note(notes, f"more than {SHAPIRO_MAX_N} pairs: Shapiro-Wilk not computed (R's limit)")
        return out
    spread = float(values.max() - values.min())
    if spread == 0:
        add_note(notes, "all differences identical: Shapiro-Wilk not computed")
        return out
    x = values / spread if spread < 1e-10 else values
    with warnings_as_notes(notes, "Shapiro-Wilk"):
        result = stats.shapiro(x)
    out.update(shapiro_W=num(result.statistic), shapiro_p=num(result.pvalue))
    return out


def paired_summary(
    before: Sequence[float], after: Sequence[float], confidence: float = 0.95
) -> dict:
    """Paired before/after statistics of one outcome (diff = after - before).

    Parameters
    ----------
    before, after : array-like of float
        Baseline and follow-up values of the same clients, in the same order (e.g.
        migraine days per 28 days). A pair with NaN on either side is dropped and
        counted in ``n_missing``.
    confidence : float
        Level of every interval (mean change, Hodges-Lehmann, d_z).

    Returns
    -------
    dict
        Contract keys: ``n`` (complete pairs), ``mean_before``, ``mean_after``,
        ``mean_diff``, ``sd_diff``, ``t``, ``df``, ``p_t``, ``ci_low``, ``ci_high`` (CI of
        the mean change), ``dz``, ``wilcoxon_V``, ``p_wilcoxon``, ``hodges_lehmann``,
        ``hl_ci_low``, ``hl_ci_high``, ``p_sign``, ``shapiro_W``, ``shapiro_p``.
        Also: ``n_missing``, ``confidence``, ``median_diff``, ``se_diff``, ``dz_ci_low``,
        ``dz_ci_high`` (noncentral t), ``d_av``, ``wilcoxon_exact`` (bool),
        ``n_zero_diffs``, ``hl_ci_level`` (level achieved), ``n_positive``,
        ``n_negative``, ``notes`` (list of str). All p-values are two-sided.

    Raises
    ------
    ValueError
        ``before`` and ``after`` differ in length, or ``confidence`` is not in (0, 1).
        Degenerate data (empty, n < 3, no spread, all differences zero) never raise:
        the affected figures are NaN and ``notes`` says why.
    """
    confidence = check_confidence(confidence)
    b, a = as_float_array(before), as_float_array(after)
    if b.shape != a.shape:
        raise ValueError(f"before and after differ in length: {b.size} and {a.size}")
    complete = np.isfinite(b) & np.isfinite(a)
    b, a = b[complete], a[complete]
    diffs = a - b
    n = int(diffs.size)
    notes: list[str] = []
    if n < complete.size:
        add_note(notes, f"{complete.size - n} pairs with a missing value dropped")

    with warnings_as_notes(notes, "paired summary"):  # a safety net; parts check their input
        t_test = one_sample_t(diffs, 0.0, confidence)
        wilcoxon = signed_rank_test(diffs, confidence)
        signs = sign_test(diffs)
        normality = shapiro_wilk(diffs)
        dz = cohens_dz(diffs, confidence)
        dav = cohens_dav(b, a)
    for part in (t_test, wilcoxon, signs, normality, dz, dav):
        for note in part.pop("notes"):
            add_note(notes, note)

    return {
        "n": n,
        "mean_before": num(b.mean()) if n else NAN,
        "mean_after": num(a.mean()) if n else NAN,
        "mean_diff": t_test["mean"],
        "sd_diff": t_test["sd"],
        "t": t_test["t"],
        "df": t_test["df"],
        "p_t": t_test["p"],
        "ci_low": t_test["ci_low"],
        "ci_high": t_test["ci_high"],
        "dz": dz["dz"],
        "wilcoxon_V": wilcoxon["wilcoxon_V"],
        "p_wilcoxon": wilcoxon["p_wilcoxon"],
        "hodges_lehmann": wilcoxon["hodges_lehmann"],
        "hl_ci_low": wilcoxon["hl_ci_low"],
        "hl_ci_high": wilcoxon["hl_ci_high"],
        "p_sign": signs["p_sign"],
        "shapiro_W": normality["shapiro_W"],
        "shapiro_p": normality["shapiro_p"],
        "n_missing": int(complete.size - n),
        "confidence": confidence,
        "median_diff": num(np.median(diffs)) if n else NAN,
        "se_diff": t_test["se"],
        "dz_ci_low": dz["dz_ci_low"],
        "dz_ci_high": dz["dz_ci_high"],
        "d_av": dav["d_av"],
        "wilcoxon_exact": wilcoxon["wilcoxon_exact"],
        "n_zero_diffs": wilcoxon["n_zero_diffs"],
        "hl_ci_level": wilcoxon["hl_ci_level"],
        "n_positive": signs["n_positive"],
        "n_negative": signs["n_negative"],
        "notes": notes,
    }
