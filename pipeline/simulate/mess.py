"""Planting the problems of real exports into a table, and recording where they are.

Kinds (the names truth.json uses):

- ``out_of_range``, ``bad_date``, ``unknown_vocabulary``, ``missing_required``: one cell of
  an otherwise valid row is spoiled; the pipeline must quarantine the whole row.
- ``duplicate``: an exact copy of a row, written right after it (the copy is recorded;
  its ``column`` is null). Session rows in both overlapping exports are recorded as
  duplicates in the later file.
- ``conflict``: a second, different row for the same client and day (both rows are
  recorded, ``column`` = the column that differs).

Each problem sits on its own row: no row carries two problems, and problem rows are
never duplicated. Rows can be protected (e.g. a client's first attended session, whose
loss would move the index date).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.simulate.table import Table

VALIDATION_KINDS = ("out_of_range", "bad_date", "unknown_vocabulary", "missing_required")
KINDS = (*VALIDATION_KINDS, "duplicate", "conflict")

ValueRule = Callable[[Table, np.ndarray], list]
Eligible = Callable[[Table], np.ndarray]


@dataclass(frozen=True)
class Variant:
    """One way to spoil a cell.

    Attributes
    ----------
    kind : str
        One of :data:`VALIDATION_KINDS`.
    column : str
        Canonical column name.
    value : str, int, None or callable
        The planted value, or ``f(table, rows) -> values`` (e.g. the row's own date in
        another format).
    eligible : callable, optional
        ``f(table) -> bool mask`` of rows where this spoiling is realistic.
    """

    kind: str
    column: str
    value: object
    eligible: Eligible | None = None


@dataclass(frozen=True)
class Planted:
    """A table with problems planted, and where they are.

    Attributes
    ----------
    table : Table
    problems : list of dict
        ``{"row": 1-based data row, "column": canonical name or None, "kind": kind}``,
        sorted by row.
    quarantined : numpy.ndarray
        0-based rows of the *original* table spoiled by a validation kind.
    conflicted : numpy.ndarray
        0-based rows of the original table that received a conflicting second row.
    """

    table: Table
    problems: list[dict]
    quarantined: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    conflicted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def count_for(rows: int, rate: float, minimum: int, enabled: bool = True) -> int:
    """Problems of one kind in a file of ``rows`` rows."""
    if not enabled or rows == 0:
        return 0
    return max(minimum, round(rate * rows))


def plant(
    table: Table,
    variants: Sequence[Variant],
    per_kind: int,
    duplicates: int,
    rng: np.random.Generator,
    protected: np.ndarray | None = None,
    conflicts: int = 0,
    conflict: Variant | None = None,
    existing: Sequence[tuple[int, str | None, str]] = (),
) -> Planted:
    """Spoil cells, insert duplicate and conflicting rows, and record every problem.

    Parameters
    ----------
    table : Table
        The clean table.
    variants : sequence of Variant
        Spoilings; each validation kind present gets ``per_kind`` rows, spread over its
        variants in turn.
    per_kind, duplicates, conflicts : int
        How many rows of each validation kind, exact duplicates and conflicting rows.
    rng : numpy.random.Generator
    protected : bool mask, optional
        Rows never touched (nor duplicated).
    conflict : Variant, optional
        How a conflicting copy differs (``value(table, rows)`` gives the new values).
    existing : sequence of (row, column, kind)
        Problems already in the table (0-based rows), re-numbered after insertions.

    Returns
    -------
    Planted
        Fewer problems are planted than asked when too few rows are eligible.
    """
    n = table.n_rows
    used = np.zeros(n, bool) if protected is None else protected.copy()
    for row, _, _ in existing:
        used[row] = True
    records: list[tuple[int, str | None, str]] = list(existing)
    quarantined: list[np.ndarray] = []

    kinds = [k for k in VALIDATION_KINDS if any(v.kind == k for v in variants)]
    for kind in kinds:
        options = [v for v in variants if v.kind == kind]
        shares = np.bincount(np.arange(per_kind) % len(options), minlength=len(options))
        for variant, share in zip(options, shares, strict=True):
            rows = _draw(
                rng, used, variant.eligible(table) if variant.eligible else None, int(share)
            )
            if not len(rows):
                continue
            column = table.column(variant.column)
            values = (
                variant.value(table, rows)
                if callable(variant.value)
                else [variant.value] * len(rows)
            )
            column.set(rows, values)
            records += [(int(r), variant.column, kind) for r in rows]
            quarantined.append(rows)

    copies = _draw(rng, used, None, duplicates)
    conflict_rows = _draw(rng, used, None, conflicts if conflict is not None else 0)
    source = np.concatenate([np.arange(n), copies, conflict_rows])
    key = np.concatenate([2 * np.arange(n), 2 * copies + 1, 2 * conflict_rows + 1])
    order = np.argsort(key, kind="stable")
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    planted = table.take(source[order])

    out = [(int(position[r]), column, kind) for r, column, kind in records]
    out += [(int(position[n + i]), None, "duplicate") for i in range(len(copies))]
    if len(conflict_rows):
        new_rows = position[n + len(copies) + np.arange(len(conflict_rows))]
        planted.column(conflict.column).set(new_rows, conflict.value(table, conflict_rows))
        for original, copy in zip(position[conflict_rows], new_rows, strict=True):
            out += [
                (int(original), conflict.column, "conflict"),
                (int(copy), conflict.column, "conflict"),
            ]
    problems = [
        {"row": row + 1, "column": column, "kind": kind}
        for row, column, kind in sorted(out, key=lambda r: r[0])
    ]
    spoiled = np.sort(np.concatenate(quarantined)) if quarantined else np.zeros(0, np.int64)
    return Planted(
        planted, problems, spoiled.astype(np.int64), np.sort(conflict_rows).astype(np.int64)
    )


def _draw(
    rng: np.random.Generator, used: np.ndarray, eligible: np.ndarray | None, k: int
) -> np.ndarray:
    """``k`` unused (eligible) rows at random, marked used; fewer if not enough."""
    if k <= 0:
        return np.zeros(0, np.int64)
    pool = np.flatnonzero(~used if eligible is None else (eligible & ~used))
    rows = np.sort(rng.choice(pool, min(k, len(pool)), replace=False)).astype(np.int64)
    used[rows] = True
    return rows
