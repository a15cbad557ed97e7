"""Longitudinal models over all windows: counts by window, each client compared with itself.

Two views of the same question (how the migraine-day rate in each follow-up window
compares with baseline), both using every evaluable client-window, including clients
who are missing some windows:

``gee_rate_ratios``
    Marginal Poisson model ``count ~ window + offset(log(days_recorded))`` with
    "baseline" as the reference window, estimated by GEE with an independence working
    correlation and the robust (sandwich) covariance clustered on the client.

    Why Poisson + sandwich rather than a negative binomial family: diary counts are
    overdispersed, and the sandwich covariance is valid whatever the dispersion and the
    within-client correlation, as long as the mean model is right; statsmodels' GEE
    negative binomial family needs its dispersion fixed in advance rather than
    estimated, which would put an arbitrary number into the standard errors.

    Why it is fitted as a GLM: with an independence working correlation the GEE
    estimating equations are exactly the Poisson GLM score equations, and the GEE robust
    covariance is the GLM's cluster-robust sandwich without small-sample factor. statsmodels'
    ``GEE`` loops over clients in Python; ``GLM(...).fit(cov_type="cluster")`` gives the
    identical numbers vectorised (the tests check the identity against ``sm.GEE``).

``mixed_rate_differences``
    Linear mixed model of migraine days per 28 days (``count * 28 / days_recorded``)
    on window with a random intercept per client, REML, fitted by the vectorised solver
    of :mod:`pipeline.stats.random_intercept` at every study size, so results do not
    depend on which code path a study's size selects (it matches R's ``nlme::lme`` to
    about 1e-7; statsmodels ``MixedLM`` takes its standard errors from a numerical
    Hessian and differs by about 0.2%). ``mixedlm_max_patients > 0`` fits small studies
    with ``MixedLM`` instead (used by the tests as a cross-check); the ``method`` column
    says which one ran.

Estimates compare each follow-up window with baseline: rate ratio < 1 and negative
differences mean fewer migraine days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pipeline.stats._util import add_note, check_confidence, warnings_as_notes
from pipeline.stats.random_intercept import fit_random_intercept

MIXEDLM_MAX_PATIENTS = 0
"""Up to this many clients the mixed model uses statsmodels MixedLM (0: never)."""
DAYS_PER_MONTH = 28

GEE_COLUMNS = ["window", "rate_ratio", "ci_low", "ci_high", "p", "log_rate_ratio", "se"]
MIXED_COLUMNS = ["window", "estimate", "ci_low", "ci_high", "p", "se", "method"]


@dataclass(frozen=True)
class _Long:
    """Model-ready arrays: one entry per evaluable client-window."""

    counts: np.ndarray
    days: np.ndarray
    window_codes: np.ndarray  # 0 = reference window
    windows: list[str]  # non-reference windows, in model order (codes 1..K)
    patients: np.ndarray  # integer codes 0..G-1
    n_patients: int

    def design(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Intercept + one indicator column per non-reference window."""
        codes = self.window_codes if keep is None else self.window_codes[keep]
        columns = np.arange(1, len(self.windows) + 1)
        return np.column_stack([np.ones(codes.size), codes[:, None] == columns]).astype(float)


def _prepare(
    data: pd.DataFrame,
    count: str,
    window: str,
    patient: str,
    days: str,
    evaluable: str,
    reference: str,
    windows: Sequence[str] | None,
    notes: list[str],
) -> _Long | None:
    """Filter to evaluable rows and code windows and clients; None (with a note) if unusable."""
    keep = data[evaluable].fillna(False).astype(bool).to_numpy()
    frame = data.loc[keep, [patient, window, count, days]]
    counts = pd.to_numeric(frame[count], errors="raise").to_numpy(dtype=np.float64)
    recorded = pd.to_numeric(frame[days], errors="raise").to_numpy(dtype=np.float64)
    usable = np.isfinite(counts) & np.isfinite(recorded) & (recorded > 0)
    usable &= frame[patient].notna().to_numpy() & frame[window].notna().to_numpy()
    if (~usable).any():
        add_note(notes, f"{int((~usable).sum())} evaluable rows without count or days dropped")
    frame = frame.loc[usable]
    labels = frame[window].astype("str")
    if windows is not None:
        order = [str(w) for w in windows]
    elif isinstance(data[window].dtype, pd.CategoricalDtype):
        order = [str(w) for w in data[window].cat.categories]
    else:
        order = list(pd.unique(data[window].dropna().astype("str")))
    present = set(labels.unique())
    reference = str(reference)
    others = [w for w in order if w != reference and w in present]
    if reference not in present:
        add_note(notes, f"no evaluable '{reference}' rows: longitudinal models not fitted")
        return None
    if not others:
        add_note(notes, "no evaluable follow-up windows: longitudinal models not fitted")
        return None
    codes = pd.Categorical(labels, categories=[reference, *others]).codes.astype(np.int64)
    in_model = codes >= 0  # windows not in `windows` are left out
    patient_codes, uniques = pd.factorize(frame[patient][in_model])
    if uniques.size < 2:
        add_note(notes, "fewer than 2 clients: longitudinal models not fitted")
        return None
    return _Long(
        counts=counts[usable][in_model],
        days=recorded[usable][in_model],
        window_codes=codes[in_model],
        windows=others,
        patients=patient_codes.astype(np.int64),
        n_patients=int(uniques.size),
    )


def _frame(rows: dict, columns: list[str], notes: list[str], **attrs: object) -> pd.DataFrame:
    result = pd.DataFrame(rows, columns=columns)
    result.attrs.update(notes=notes, **attrs)
    return result


def gee_rate_ratios(
    data: pd.DataFrame,
    count: str = "migraine_days",
    *,
    window: str = "window",
    patient: str = "patient_id",
    days: str = "days_recorded",
    evaluable: str = "evaluable",
    reference: str = "baseline",
    windows: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Rate ratios of each follow-up window vs baseline (Poisson GEE, robust errors).

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per client x window: ``patient_id``, ``window`` (text),
        the count column (raw number of days in the window, e.g. migraine days),
        ``days_recorded`` (diary days recorded, > 0) and ``evaluable`` (bool). Only
        evaluable rows enter.
    count : str
        Count column.
    window, patient, days, evaluable : str
        Column names.
    reference : str
        Reference window ("baseline").
    windows : sequence of str, optional
        Follow-up windows in output order; default: the categorical order of the
        window column, else their order of first appearance in ``data``.
    confidence : float
        Level of the Wald intervals.

    Returns
    -------
    pandas.DataFrame
        One row per follow-up window: ``window``, ``rate_ratio`` (rate in the window /
        rate at baseline, per recorded day), ``ci_low``, ``ci_high``, ``p`` (two-sided,
        normal), ``log_rate_ratio``, ``se`` (robust SE of the log rate ratio).
        ``attrs``: ``n_rows``, ``n_patients``, ``method``, ``notes``. A window without a
        single counted day gets rate ratio 0 and NaN interval (it cannot be modelled).
    """
    confidence = check_confidence(confidence)
    notes: list[str] = []
    long = _prepare(data, count, window, patient, days, evaluable, reference, windows, notes)
    if long is None:
        return _frame({}, GEE_COLUMNS, notes)
    n_windows = len(long.windows)
    totals = np.bincount(long.window_codes, weights=long.counts, minlength=n_windows + 1)
    rows = {name: np.full(n_windows, np.nan) for name in GEE_COLUMNS[1:]}
    rows["window"] = long.windows
    if totals[0] == 0:
        add_note(notes, "no counted days at baseline: rate ratios undefined")
        return _frame(rows, GEE_COLUMNS, notes, n_rows=long.counts.size)
    empty = np.flatnonzero(totals[1:] == 0)
    for index in empty:
        add_note(notes, f"no counted days in '{long.windows[index]}': rate ratio 0, no interval")
    rows["rate_ratio"][empty] = 0.0
    modelled = np.flatnonzero(totals[1:] > 0)
    if modelled.size:
        keep = np.isin(long.window_codes, np.r_[0, modelled + 1])
        design = long.design(keep)[:, np.r_[0, modelled + 1]]
        # imported here: statsmodels.api costs a few tenths of a second to import
        from statsmodels.genmod.families import Poisson
        from statsmodels.genmod.generalized_linear_model import GLM

        try:
            with warnings_as_notes(notes, "GEE"):
                fit = GLM(
                    long.counts[keep],
                    design,
                    family=Poisson(),
                    offset=np.log(long.days[keep]),
                ).fit(
                    cov_type="cluster",
                    cov_kwds={"groups": long.patients[keep], "use_correction": False},
                )
                limits = np.asarray(fit.conf_int(alpha=1 - confidence))
        except (np.linalg.LinAlgError, ValueError) as exc:
            add_note(notes, f"GEE could not be fitted ({exc})")
            return _frame(rows, GEE_COLUMNS, notes, n_rows=int(long.counts.size))
        rows["log_rate_ratio"][modelled] = fit.params[1:]
        rows["se"][modelled] = fit.bse[1:]
        rows["rate_ratio"][modelled] = np.exp(fit.params[1:])
        rows["ci_low"][modelled] = np.exp(limits[1:, 0])
        rows["ci_high"][modelled] = np.exp(limits[1:, 1])
        rows["p"][modelled] = fit.pvalues[1:]
    return _frame(
        rows,
        GEE_COLUMNS,
        notes,
        n_rows=int(long.counts.size),
        n_patients=long.n_patients,
        method="Poisson GEE, independence working correlation, robust SE clustered on client",
    )


def mixed_rate_differences(
    data: pd.DataFrame,
    count: str = "migraine_days",
    *,
    window: str = "window",
    patient: str = "patient_id",
    days: str = "days_recorded",
    evaluable: str = "evaluable",
    reference: str = "baseline",
    windows: Sequence[str] | None = None,
    confidence: float = 0.95,
    mixedlm_max_patients: int = MIXEDLM_MAX_PATIENTS,
) -> pd.DataFrame:
    """Differences in days per 28 vs baseline from a random-intercept linear mixed model.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table as for :func:`gee_rate_ratios`; the response is the count scaled to
        28 days, ``count * 28 / days_recorded``.
    count, window, patient, days, evaluable, reference, windows, confidence
        As for :func:`gee_rate_ratios`.
    mixedlm_max_patients : int
        Up to this many clients statsmodels ``MixedLM`` (REML) is used; above it, the
        vectorised REML solver for the same model.

    Returns
    -------
    pandas.DataFrame
        One row per follow-up window: ``window``, ``estimate`` (mean difference in days
        per 28 days vs baseline; negative = fewer), ``ci_low``, ``ci_high``, ``p``
        (two-sided Wald z, as MixedLM reports), ``se``, ``method``. ``attrs``:
        ``n_rows``, ``n_patients``, ``tau2`` (between-client variance), ``sigma2``
        (residual variance), ``notes``.
    """
    confidence = check_confidence(confidence)
    notes: list[str] = []
    long = _prepare(data, count, window, patient, days, evaluable, reference, windows, notes)
    if long is None:
        return _frame({}, MIXED_COLUMNS, notes)
    rate = long.counts * DAYS_PER_MONTH / long.days
    design = long.design()
    n_params = design.shape[1]
    if rate.size <= n_params:
        add_note(notes, "too few client-windows for the mixed model")
        return _frame({}, MIXED_COLUMNS, notes)
    method = ""
    if long.n_patients <= mixedlm_max_patients:
        from statsmodels.regression.mixed_linear_model import MixedLM

        try:
            with warnings_as_notes(notes, "mixed model"):
                fit = MixedLM(rate, design, groups=long.patients).fit(reml=True)
                params = np.asarray(fit.fe_params)
                se = np.asarray(fit.bse_fe)
                tau2, sigma2 = float(np.asarray(fit.cov_re).ravel()[0]), float(fit.scale)
            method = "statsmodels MixedLM (REML)"
        except (np.linalg.LinAlgError, ValueError) as exc:
            add_note(notes, f"MixedLM failed ({exc}); vectorised REML used")
    else:
        add_note(notes, f"more than {mixedlm_max_patients} clients: vectorised REML used")
    if not method:
        try:
            with warnings_as_notes(notes, "mixed model"):
                fit = fit_random_intercept(rate, design, long.patients)
                params = fit["params"]
                se = np.sqrt(np.diag(fit["cov"]))
                tau2, sigma2 = fit["tau2"], fit["sigma2"]
            method = "vectorised REML (same model as MixedLM)"
        except (np.linalg.LinAlgError, ValueError) as exc:
            add_note(notes, f"mixed model could not be fitted ({exc})")
            return _frame({}, MIXED_COLUMNS, notes)
    if not sigma2 > 0:
        add_note(notes, "mixed model: no residual variation (the data fit exactly)")
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(all="ignore"):
        p = 2 * stats.norm.sf(np.abs(params[1:] / se[1:]))
    rows = {
        "window": long.windows,
        "estimate": params[1:],
        "ci_low": params[1:] - z * se[1:],
        "ci_high": params[1:] + z * se[1:],
        "p": p,
        "se": se[1:],
        "method": method,
    }
    return _frame(
        rows,
        MIXED_COLUMNS,
        notes,
        n_rows=int(rate.size),
        n_patients=long.n_patients,
        tau2=tau2,
        sigma2=sigma2,
    )
