"""An export file's content before it is written: named coded columns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.coded import Coded


@dataclass
class Table:
    """Columns of one export, in file order.

    Attributes
    ----------
    headers : list of str
        Column names as written in the file.
    canonical : list of str
        The pipeline's canonical name of each column (what truth.json reports).
    columns : list of Coded
    """

    headers: list[str]
    canonical: list[str]
    columns: list[Coded]

    def __post_init__(self) -> None:
        lengths = {len(c) for c in self.columns}
        if len(lengths) > 1 or not len(self.headers) == len(self.columns) == len(self.canonical):
            raise ValueError(
                "a table needs one header, canonical name and equal-length column each"
            )

    @property
    def n_rows(self) -> int:
        """Data rows (header excluded)."""
        return len(self.columns[0]) if self.columns else 0

    def column(self, canonical: str) -> Coded:
        """The column with this canonical name."""
        return self.columns[self.canonical.index(canonical)]

    def take(self, order: np.ndarray) -> Table:
        """Rows reordered / repeated / selected by ``order``."""
        return Table(
            list(self.headers), list(self.canonical), [c.take(order) for c in self.columns]
        )
