"""Outcome-study pipeline: the functional core.

Pure functions over DataFrames, from raw clinic exports to claim verdicts. This package
never imports prefect; the orchestration shell lives in ``flows/``.
"""

__version__ = "0.1.0"
