"""Text columns stored as integer codes into a short list of labels.

Millions of diary cells take only a few hundred distinct texts (a date, a yes/no word,
a pain score), so every export column is built as codes + labels and written through
Arrow dictionary arrays: no per-row Python string work. Planting a problem in a cell
means appending a label and pointing the cell's code at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)


@dataclass
class Coded:
    """A column: ``labels[codes[i]]`` is the text of row i.

    Attributes
    ----------
    codes : numpy.ndarray of int32
    labels : list
        Usually str; the XLSX writer also accepts int, float, date and None (empty cell).
    """

    codes: np.ndarray
    labels: list

    def __post_init__(self) -> None:
        self.codes = np.asarray(self.codes, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.codes)

    def set(self, rows: np.ndarray, values: Sequence[object]) -> None:
        """Overwrite cells; ``values`` has one value per row (new labels are appended)."""
        index = {label: i for i, label in enumerate(self.labels)}
        for row, value in zip(np.asarray(rows).tolist(), values, strict=True):
            if value not in index:
                index[value] = len(self.labels)
                self.labels.append(value)
            self.codes[row] = index[value]

    def take(self, order: np.ndarray) -> Coded:
        """Rows reordered / repeated by ``order`` (labels shared)."""
        return Coded(self.codes[order], list(self.labels))

    def arrow(self) -> pa.DictionaryArray:
        """Dictionary-encoded Arrow array of the texts."""
        return pa.DictionaryArray.from_arrays(
            pa.array(self.codes, type=pa.int32()), pa.array(self.labels, type=pa.string())
        )

    def decoded(self) -> pa.Array:
        """Plain Arrow string array of the texts."""
        return self.arrow().dictionary_decode()


def choice(codes: np.ndarray, labels: Sequence[str], blank: np.ndarray | None = None) -> Coded:
    """Codes into ``labels``; rows where ``blank`` is True become empty text."""
    codes = np.asarray(codes, dtype=np.int32)
    if blank is None:
        return Coded(codes, list(labels))
    return Coded(np.where(blank, 0, codes + 1), ["", *labels])


def integers(values: np.ndarray) -> Coded:
    """Whole numbers as text; negative values are empty cells."""
    values = np.asarray(values, dtype=np.int64)
    blank = values < 0
    low = int(values[~blank].min()) if (~blank).any() else 0
    high = int(values[~blank].max()) if (~blank).any() else 0
    labels = ["", *(str(v) for v in range(low, high + 1))]
    return Coded(np.where(blank, 0, values - low + 1), labels)


def fractions(values: np.ndarray, per_unit: int) -> Coded:
    """Whole multiples of ``1 / per_unit`` as decimals (``6``, ``2.5``, ``0.25``).

    ``values`` counts units of ``1 / per_unit`` (quarter-hours: per_unit = 4); negative
    values are empty cells.
    """
    values = np.asarray(values, dtype=np.int64)
    high = int(values.max()) if len(values) else 0
    labels = ["", *(f"{v / per_unit:g}" for v in range(high + 1))]
    return Coded(np.where(values < 0, 0, values + 1), labels)


def from_arrow(texts: pa.Array) -> Coded:
    """A column from an Arrow string array (distinct texts become the labels)."""
    encoded = pc.dictionary_encode(texts)
    return Coded(encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist())


def dates(epoch_days: np.ndarray, fmt: str) -> Coded:
    """Calendar days (days since 1970-01-01) formatted with ``fmt``."""
    epoch_days = np.asarray(epoch_days, dtype=np.int64)
    if len(epoch_days) == 0:
        return Coded(np.zeros(0, np.int32), [""])
    low, high = int(epoch_days.min()), int(epoch_days.max())
    labels = [(EPOCH + timedelta(days=d)).strftime(fmt) for d in range(low, high + 1)]
    return Coded(epoch_days - low, labels)


def clock(minutes: np.ndarray) -> Coded:
    """Minutes after midnight as ``HH:MM``."""
    return Coded(minutes, [f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)])


def to_date(epoch_day: int) -> date:
    """A calendar date from days since 1970-01-01."""
    return EPOCH + timedelta(days=int(epoch_day))


def epoch_day(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def join(parts: Sequence[pa.Array | str], separator: str = "") -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, separator)


def ranks_within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., count-1 for each group laid end to end (``np.repeat`` companion)."""
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)
