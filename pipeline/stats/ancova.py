"""ANCOVA of a follow-up value on its baseline and a group (e.g. therapy vs waitlist).

The model is ``post ~ pre + C(group)`` with treatment contrasts against a reference
group, fitted by ordinary least squares (statsmodels OLS); R's equivalent is
``lm(post ~ pre + group)`` with ``group`` a factor whose first level is the reference.
Each non-reference group's coefficient is its mean follow-up value minus the
reference's, adjusted to a common baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.stats._util import add_note, check_confidence, warnings_as_notes

ANCOVA_COLUMNS = [
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "n",
    "n_group",
    "n_reference",
]


def _empty(notes: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype="float64") for name in ANCOVA_COLUMNS})
    frame["group"] = frame["group"].astype("str")
    frame.attrs["notes"] = notes
    return frame


def ancova(
    data: pd.DataFrame,
    pre: str,
    post: str,
    group: str,
    reference: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Baseline-adjusted group differences in the follow-up value (OLS ANCOVA).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per client with the baseline, follow-up and group columns. Rows with a
        missing value in any of the three are left out.
    pre, post : str
        Baseline and follow-up columns (same unit, e.g. migraine days per 28 days).
    group : str
        Group column; labels are compared as text.
    reference : str
        The reference group (e.g. ``"waitlist"``).
    confidence : float
        Level of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        One row per non-reference group (sorted by label): ``group``, ``estimate``
        (adjusted difference post(group) - post(reference); negative = fewer days than
        the reference), ``se``, ``ci_low``, ``ci_high``, ``p`` (two-sided t test of the
        coefficient), ``n`` (observations in the model), ``n_group``, ``n_reference``.
        ``frame.attrs`` holds ``n``, ``df_resid``, ``pre_slope`` and ``notes``. An empty
        frame with a note when the model cannot be fitted (reference absent, one group
        only, too few rows, baseline without spread).
    """
    confidence = check_confidence(confidence)
    notes: list[str] = []
    frame = data[[pre, post, group]].dropna()
    x = pd.to_numeric(frame[pre], errors="raise").to_numpy(dtype=np.float64)
    y = pd.to_numeric(frame[post], errors="raise").to_numpy(dtype=np.float64)
    labels = frame[group].astype("str").to_numpy()
    reference = str(reference)
    levels = np.unique(labels)
    others = levels[levels != reference]
    if reference not in levels:
        add_note(notes, f"reference group '{reference}' has no complete rows: ANCOVA not fitted")
        return _empty(notes)
    if others.size == 0:
        add_note(notes, "only the reference group has complete rows: ANCOVA not fitted")
        return _empty(notes)
    n = y.size
    n_params = 2 + others.size
    if n <= n_params:
        add_note(notes, f"{n} complete rows for {n_params} parameters: ANCOVA not fitted")
        return _empty(notes)
    if np.ptp(x) == 0:
        add_note(notes, "baseline values are all equal: ANCOVA not fitted")
        return _empty(notes)
    dummies = (labels[:, None] == others[None, :]).astype(np.float64)
    design = np.column_stack([np.ones(n), x, dummies])
    if np.linalg.matrix_rank(design) < n_params:
        add_note(notes, "baseline is collinear with the groups: ANCOVA not fitted")
        return _empty(notes)
    from statsmodels.regression.linear_model import OLS  # lazy: statsmodels.api is slow to import

    with warnings_as_notes(notes, "ANCOVA"):
        fit = OLS(y, design).fit()
        limits = fit.conf_int(alpha=1 - confidence)
    counts = pd.Series(labels).value_counts()
    result = pd.DataFrame(
        {
            "group": others.astype("str"),
            "estimate": fit.params[2:],
            "se": fit.bse[2:],
            "ci_low": limits[2:, 0],
            "ci_high": limits[2:, 1],
            "p": fit.pvalues[2:],
            "n": n,
            "n_group": counts.reindex(others).to_numpy(dtype=np.int64),
            "n_reference": int(counts[reference]),
        }
    )
    result.attrs.update(
        n=int(n), df_resid=float(fit.df_resid), pre_slope=float(fit.params[1]), notes=notes
    )
    return result
