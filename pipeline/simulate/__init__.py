"""Synthetic study exports with planted effects and planted mess.

``simulate_study(out_dir, n_patients, seed, settings)`` writes a complete, seeded study in
the CONTRACT.md input formats (session exports, daily diaries from two sites, attack
logs, coverage, questionnaires, linkage), a study.toml that reads it, a README.md and
truth.json: the planted parameters, per-client truth and the location of every planted
problem. Used for the bundled sample, tests and benchmarks.

Modules: ``settings`` (what the population looks like), ``population`` (client-level
draws), ``days`` (daily diary model), ``sessions``, ``attacks``, ``questionnaires``,
``identities`` (invented names), ``render`` (export layouts), ``mess`` / ``problems``
(planted problems), ``writers`` (CSV / XLSX), ``truth``, ``study`` (orchestration).
"""

from pipeline.simulate.days import simulate_diary_days
from pipeline.simulate.settings import SimulationSettings, SimulationSummary
from pipeline.simulate.study import simulate_study

__all__ = ["SimulationSettings", "SimulationSummary", "simulate_diary_days", "simulate_study"]
