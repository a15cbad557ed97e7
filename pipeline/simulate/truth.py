"""The ground truth of a simulated study (truth.json): planted parameters, per-client
truth and the exact location of every planted problem.

``clients`` is columnar (one list per field, aligned by position), so
``pandas.DataFrame(truth["clients"])`` gives one row per client. Window counts are what
the pipeline should find from the files, quarantined rows excluded: a quarantined daily
row is not a recorded day; a quarantined attack removes its days' headache and migraine
but not the coverage; an attack-log client without a coverage row has no recorded days.
Windows are relative to the first attended therapy session and are null for clients
without one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.config import WindowsSection
from pipeline.simulate.coded import dates
from pipeline.simulate.days import DiaryDays
from pipeline.simulate.population import ATTACK_LOG, DIARY_KIND_NAMES, NO_DIARY, Population
from pipeline.simulate.sessions import SessionEvents


def window_counts(
    pop: Population,
    days: DiaryDays,
    recorded: np.ndarray,
    headache: np.ndarray,
    migraine: np.ndarray,
    windows: Mapping[str, tuple[int, int]],
) -> dict[str, np.ndarray]:
    """Per client and window: recorded days, migraine days, headache days (raw counts).

    Parameters
    ----------
    pop : Population
    days : DiaryDays
    recorded, headache, migraine : bool arrays aligned with ``days``
        Whether each day counts as recorded / a headache day / a migraine day.
    windows : mapping
        Window name -> inclusive day range.

    Returns
    -------
    dict
        ``{window}_days_recorded``, ``{window}_migraine_days``, ``{window}_headache_days``:
        int arrays of length ``pop.n``.
    """
    out = {}
    for name, (first, last) in windows.items():
        inside = recorded & (days.day >= first) & (days.day <= last)
        client = days.client[inside]
        out[f"{name}_days_recorded"] = np.bincount(client, minlength=pop.n)
        out[f"{name}_migraine_days"] = np.bincount(
            client, weights=migraine[inside], minlength=pop.n
        ).astype(np.int64)
        out[f"{name}_headache_days"] = np.bincount(
            client, weights=headache[inside], minlength=pop.n
        ).astype(np.int64)
    return out


def _nullable(values: np.ndarray | pa.Array, valid: np.ndarray) -> list:
    """Values as a list, None where not ``valid``."""
    array = values if isinstance(values, pa.Array) else pa.array(values)
    return pc.if_else(pa.array(valid), array, pa.scalar(None, array.type)).to_pylist()


def _iso(epoch_days: np.ndarray) -> pa.Array:
    return dates(epoch_days, "%Y-%m-%d").decoded()


def client_truth(
    pop: Population,
    days: DiaryDays,
    events: SessionEvents,
    diary_ids: list[str],
    client_ids: list[str],
    recorded: np.ndarray,
    headache: np.ndarray,
    migraine: np.ndarray,
    session_quarantined: np.ndarray,
    conflict_clients: np.ndarray,
) -> dict[str, list]:
    """Columnar per-client truth (no names, emails or phone numbers).

    Returns
    -------
    dict
        Field -> list of length ``pop.n`` (see the module docstring and
        :func:`pipeline.simulate.study.simulate_study` for the fields).
    """
    n = pop.n
    has_diary = pop.diary_kind != NO_DIARY
    attended_therapy = events.is_therapy & events.attended
    sessions = np.bincount(events.client[attended_therapy], minlength=n)
    valid = attended_therapy & ~session_quarantined
    sessions_valid = np.bincount(events.client[valid], minlength=n)
    indexed = pop.treated & has_diary
    conflict = np.zeros(n, bool)
    conflict[conflict_clients] = True
    counts = window_counts(pop, days, recorded, headache, migraine, WindowsSection().all)
    diary_start = pop.index_day + pop.start_day
    diary_end = pop.index_day + pop.end_day
    fields: dict[str, list] = {
        "patient_id": [*diary_ids, *([None] * (n - len(diary_ids)))],
        "client_id": client_ids,
        "diary": np.array(list(DIARY_KIND_NAMES.values()), dtype=object)[pop.diary_kind].tolist(),
        "sessions_only": (~has_diary).tolist(),
        "attack_log": (pop.diary_kind == ATTACK_LOG).tolist(),
        "has_coverage": pop.has_coverage.tolist(),
        "linked_by": _nullable(np.where(pop.email_only, "email", "client_id"), has_diary),
        "treated": pop.treated.tolist(),
        "first_attended_session": _nullable(_iso(pop.index_day), pop.treated),
        "first_booking_cancelled": pop.first_booking_cancelled.tolist(),
        "attended_therapy_sessions": sessions.tolist(),
        "attended_therapy_sessions_valid": sessions_valid.tolist(),
        "latent_migraine_rate": np.round(pop.migraine_rate, 4).tolist(),
        "latent_tension_rate": np.round(pop.tension_rate, 4).tolist(),
        "baseline_month_factor": np.round(
            pop.block_factor[:, pop.block_of(np.array([-1]))[0]], 4
        ).tolist(),
        "relative_effect": np.round(np.where(pop.treated, pop.relative_effect, 0.0), 4).tolist(),
        "diary_start_day": _nullable(pop.start_day, has_diary),
        "diary_end_day": _nullable(pop.end_day, has_diary),
        "diary_start": _nullable(_iso(diary_start), has_diary),
        "diary_end": _nullable(_iso(diary_end), has_diary),
        "dropout_day": _nullable(pop.end_day + 1, pop.dropout),
        "late_start": pop.late_start.tolist(),
        "missing_day_probability": np.round(pop.missing_probability, 4).tolist(),
        "has_conflict": conflict.tolist(),
    }
    for name, values in counts.items():
        fields[name] = _nullable(values, indexed)
    return fields


def _dump(value: object, indent: int, level: int, max_level: int) -> str:
    """JSON with dicts expanded down to ``max_level`` and lists of dicts one item a line."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, dict) and value and level < max_level:
        items = [
            f"{inner}{json.dumps(k)}: {_dump(v, indent, level + 1, max_level)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        items = [inner + json.dumps(v, ensure_ascii=False) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def truth_json(truth: dict) -> str:
    """Readable, deterministic JSON text of the truth (long lists stay on one line)."""
    return _dump(truth, indent=2, level=0, max_level=3) + "\n"
