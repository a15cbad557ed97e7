"""Small building blocks of the report's context: printable tables and row limits.

A :class:`Table` holds already formatted text; the template escapes it. Tables whose
length depends on the data (input files, quarantine groups) are cut to
:data:`MAX_HTML_ROWS` rows with a note, so the HTML and PDF stay the same size however
many clients or files a study has; the full tables are in tables.xlsx and results.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

MAX_HTML_ROWS = 25
"""Most rows of a data-dependent table shown in the HTML and PDF report."""


@dataclass(frozen=True)
class Table:
    """A table ready for the template: header, formatted rows, optional note.

    Attributes
    ----------
    columns : list of str
        Column headings.
    rows : list of list of str
        Formatted cells (plain text; the template escapes them).
    numeric : list of bool
        Which columns are right-aligned numbers.
    note : str
        A sentence under the table (e.g. rows left out); empty for none.
    """

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    note: str = ""

    @property
    def empty(self) -> bool:
        """Whether the table has no rows."""
        return not self.rows


def table(
    columns: list[str], rows: list[list[str]], numeric: set[int] | None = None, note: str = ""
) -> Table:
    """A :class:`Table` with the given 0-based columns right-aligned."""
    numeric = numeric or set()
    return Table(columns, rows, [i in numeric for i in range(len(columns))], note)


def limited(frame: pd.DataFrame, what: str, where: str) -> tuple[pd.DataFrame, str]:
    """The first :data:`MAX_HTML_ROWS` rows of ``frame`` and a note when rows were left out.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows in the order they should be shown (most important first).
    what : str
        What a row is, plural (``"input files"``).
    where : str
        Where the full table is (``"tables.xlsx, sheet inputs"``).
    """
    if len(frame) <= MAX_HTML_ROWS:
        return frame, ""
    return frame.head(MAX_HTML_ROWS), (
        f"Showing {MAX_HTML_ROWS} of {len(frame):,} {what}; all of them are in {where}."
    )
