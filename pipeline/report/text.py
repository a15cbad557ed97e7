"""Safe text for every output format: spreadsheet cells, figure labels and Markdown.

HTML needs nothing here: the report template is rendered by Jinja2 with autoescaping
on, so every value placed in HTML is escaped there. The other formats are:

- **Spreadsheets** (tables.xlsx and the CSV files): a text cell that begins with ``=``,
  ``+``, ``-`` or ``@`` (also after leading whitespace, and their full-width forms), or
  with a tab, carriage return or line feed, could be run as a formula when the file is
  opened in a spreadsheet program ("formula injection"). Such text gets a leading
  apostrophe; numbers stay numbers (a negative number is safe, only text is dangerous).
- **Figure labels** (matplotlib): ``$`` would switch matplotlib to its math parser
  (and an unbalanced one raises), so it is escaped; control characters become spaces.
- **Markdown** (Prefect artifacts): characters with a meaning in Markdown or HTML are
  backslash-escaped and line breaks become spaces, so a cell stays one plain-text cell.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

FORMULA_PREFIX = "'"
"""Prefix that makes a spreadsheet show a cell as text."""

# Characters written literally (not as \u escapes): the pattern must mean the same to
# Python's re and to RE2, which pandas uses for pyarrow-backed strings.
_SPACES = " \t\r\n\f\v\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
_TRIGGERS = "=+@\uff1d\uff0b\uff20\uff0d-"
FORMULA_PATTERN = f"^(?:[\t\r\n]|[{_SPACES}]*[{_TRIGGERS}])"
"""Regular expression matching spreadsheet text that could start a formula."""
_FORMULA = re.compile(FORMULA_PATTERN)

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#!|~$&^])")


def is_formula_like(text: str) -> bool:
    """Whether ``text`` could be read as a formula by a spreadsheet program."""
    return bool(_FORMULA.match(text))


def neutralise_cell(value: Any) -> Any:
    """A spreadsheet cell value that cannot start a formula.

    Parameters
    ----------
    value : Any
        A cell value. Only text is changed; numbers, booleans, dates and None are
        returned unchanged (a negative number is a number, not a formula).

    Returns
    -------
    Any
        ``"'" + value`` when ``value`` is text matching :data:`FORMULA_PATTERN`,
        otherwise ``value``.
    """
    if isinstance(value, str) and is_formula_like(value):
        return FORMULA_PREFIX + value
    return value


def _formula_mask(column: pd.Series) -> np.ndarray:
    if column.dtype == object:
        return np.fromiter(
            (isinstance(v, str) and is_formula_like(v) for v in column), bool, len(column)
        )
    if pd.api.types.is_string_dtype(column.dtype):
        return column.str.match(FORMULA_PATTERN).fillna(False).to_numpy(dtype=bool)
    return np.zeros(len(column), dtype=bool)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and column name of ``frame`` made safe for a spreadsheet.

    Vectorised over each text column (string dtype); object columns are checked cell by
    cell. Numeric, boolean and date columns are returned unchanged.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A copy in which text matching :data:`FORMULA_PATTERN` carries a leading
        apostrophe (:data:`FORMULA_PREFIX`); column names likewise.
    """
    columns = {}
    for name in frame.columns:
        column = frame[name]
        mask = _formula_mask(column)
        if mask.any():
            column = column.astype(object).where(
                ~mask, FORMULA_PREFIX + column.astype(object).where(mask, "").astype(str)
            )
        columns[name] = column
    safe = pd.DataFrame(columns, index=frame.index)
    safe.columns = [neutralise_cell(str(c)) for c in frame.columns]
    return safe


def plain_label(text: Any, max_chars: int = 60) -> str:
    """Text from data made safe as a matplotlib label (never parsed as math).

    Parameters
    ----------
    text : Any
        Converted with ``str``.
    max_chars : int
        Longer text is cut and ends with an ellipsis.

    Returns
    -------
    str
        One line: control characters and line breaks become spaces, ``$`` is escaped.
    """
    line = _CONTROL.sub(" ", str(text)).strip()
    if len(line) > max_chars:
        line = line[: max_chars - 1].rstrip() + "\u2026"
    return line.replace("$", r"\$")


def markdown_text(text: Any) -> str:
    """Text made safe for a Markdown table cell (Prefect artifacts).

    Parameters
    ----------
    text : Any
        Converted with ``str``; None gives an empty string.

    Returns
    -------
    str
        One line in which Markdown and HTML characters (``\\ ` * _ { } [ ] < > ( ) #
        ! | ~ $ & ^``) are backslash-escaped, so the text renders literally.
    """
    if text is None:
        return ""
    line = _CONTROL.sub(" ", str(text)).strip()
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line)
