"""Numbers as the report prints them: fixed decimals, ASCII minus, "n/a" for missing.

Every formatter accepts None, NaN and infinities (printed as ``n/a``), so a value that a
statistic could not produce never breaks the report.
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "n/a"


def finite(value: Any) -> bool:
    """Whether ``value`` is a real, finite number (bools are not numbers here)."""
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def number(value: Any, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals (``-2.52``), or ``n/a``."""
    if not finite(value):
        return MISSING
    text = f"{float(value):.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text


def integer(value: Any) -> str:
    """A count with thousands separators (``12,345``), or ``n/a``."""
    return f"{int(value):,}" if finite(value) else MISSING


def interval(low: Any, high: Any, digits: int = 2) -> str:
    """A confidence interval as ``low to high``, or ``n/a``."""
    if not (finite(low) and finite(high)):
        return MISSING
    return f"{number(low, digits)} to {number(high, digits)}"


def estimate_ci(estimate: Any, low: Any, high: Any, digits: int = 2) -> str:
    """``estimate (low to high)``; just the estimate when the interval is missing."""
    if not finite(estimate):
        return MISSING
    ci = interval(low, high, digits)
    return number(estimate, digits) if ci == MISSING else f"{number(estimate, digits)} ({ci})"


def p_value(p: Any) -> str:
    """A p value: ``< 0.001`` below one in a thousand, else three decimals."""
    if not finite(p):
        return MISSING
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def percent(share: Any, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage (``35.4%``), or ``n/a``."""
    return f"{100 * float(share):.{digits}f}%" if finite(share) else MISSING


def percent_ci(share: Any, low: Any, high: Any, digits: int = 1) -> str:
    """``35.4% (23.4 to 49.6%)`` for a share and its interval."""
    if not finite(share):
        return MISSING
    if not (finite(low) and finite(high)):
        return percent(share, digits)
    return (
        f"{percent(share, digits)} ({100 * float(low):.{digits}f} to "
        f"{100 * float(high):.{digits}f}%)"
    )


def window_label(name: str, bounds: Any = None) -> str:
    """A window name for readers: ``weeks 9-12 (days 56 to 83)``.

    Parameters
    ----------
    name : str
        Window name from study.toml (``weeks_9_12``, ``baseline``).
    bounds : sequence of two ints, optional
        Inclusive day offsets relative to the first session.
    """
    words = str(name).replace("_", " ")
    parts = words.split(" ")
    if len(parts) == 3 and parts[0] == "weeks" and parts[1].isdigit() and parts[2].isdigit():
        words = f"weeks {parts[1]}-{parts[2]}"
    if bounds is not None and len(bounds) == 2:
        return f"{words} (days {bounds[0]} to {bounds[1]})"
    return words
