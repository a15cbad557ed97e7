"""The statistics engine: paired battery, effect sizes, intervals, multiplicity, models.

Pure functions over arrays and DataFrames; results are plain Python numbers (dicts) or
tidy DataFrames, with a ``notes`` list (or ``attrs["notes"]``) saying why a quantity is
NaN. Conventions everywhere: change = follow-up - baseline (negative = fewer migraine
days); two-sided tests; R's definitions (see docs/STATISTICS.md).

Public API
----------
paired_summary          paired t, Wilcoxon + Hodges-Lehmann, sign test, Shapiro-Wilk, d_z, d_av
one_sample_t            t test of a mean against mu (R ``t.test(x, mu=)``)
mean_ci, grouped_mean_ci, t_interval  t-based mean intervals (vector, groups, summaries)
bootstrap_bca, bootstrap_change  BCa intervals of the mean and median change
proportion_summary, wilson_ci, clopper_pearson_ci, binomial_p, sign_test
proportion_table        the same, vectorised over many counts (e.g. responder tables)
adjust_pvalues          Holm / Benjamini-Hochberg (R ``p.adjust``)
ancova                  ``post ~ pre + C(group)`` by OLS
gee_rate_ratios, mixed_rate_differences  longitudinal models over all windows
regression_to_mean      Barnett et al. (2005) expected change without treatment
placebo_benchmark       observed change and responders vs placebo response
power_analysis, paired_t_power  power and sample size of the paired t test
cohens_dz, cohens_dav, noncentral_t_interval, shapiro_wilk, signed_rank_test,
walsh_median            building blocks of the paired battery
"""

from pipeline.stats.ancova import ancova
from pipeline.stats.bootstrap import bootstrap_bca, bootstrap_change
from pipeline.stats.descriptive import grouped_mean_ci, mean_ci, one_sample_t, t_interval
from pipeline.stats.effect_sizes import cohens_dav, cohens_dz, noncentral_t_interval
from pipeline.stats.longitudinal import gee_rate_ratios, mixed_rate_differences
from pipeline.stats.multiplicity import adjust_pvalues
from pipeline.stats.paired import paired_summary, shapiro_wilk
from pipeline.stats.placebo import placebo_benchmark
from pipeline.stats.power import paired_t_power, power_analysis
from pipeline.stats.proportions import (
    binomial_p,
    clopper_pearson_ci,
    proportion_summary,
    proportion_table,
    sign_test,
    wilson_ci,
)
from pipeline.stats.rtm import regression_to_mean
from pipeline.stats.signed_rank import signed_rank_test
from pipeline.stats.walsh import walsh_median

__all__ = [
    "adjust_pvalues",
    "ancova",
    "binomial_p",
    "bootstrap_bca",
    "bootstrap_change",
    "clopper_pearson_ci",
    "cohens_dav",
    "cohens_dz",
    "gee_rate_ratios",
    "grouped_mean_ci",
    "mean_ci",
    "mixed_rate_differences",
    "noncentral_t_interval",
    "one_sample_t",
    "paired_summary",
    "paired_t_power",
    "placebo_benchmark",
    "power_analysis",
    "proportion_summary",
    "proportion_table",
    "regression_to_mean",
    "shapiro_wilk",
    "sign_test",
    "signed_rank_test",
    "t_interval",
    "walsh_median",
    "wilson_ci",
]
