"""Source adapters: one module per export format, registered by adapter name."""

from __future__ import annotations

from pipeline.sources import (
    coverage,
    diary_attacks,
    diary_daily,
    patients,
    questionnaires,
    sessions,
)
from pipeline.sources.base import REASONS, AdapterSpec

ADAPTERS: dict[str, AdapterSpec] = {
    module.SPEC.name: module.SPEC
    for module in (diary_daily, diary_attacks, sessions, questionnaires, coverage, patients)
}

__all__ = ["ADAPTERS", "REASONS", "AdapterSpec"]
