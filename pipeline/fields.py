"""Vectorised parsers for the raw text fields of clinic exports.

Every parser takes a Series of raw strings (as read, possibly NaN) and returns the
parsed values together with a boolean ``bad`` mask: True where a non-blank value could
not be parsed. Blank values (empty or whitespace) are never bad here; whether a blank is
allowed is the adapter's decision (required columns). Parsers work on the distinct
values of a column and map the results back, so their cost grows with the number of
distinct strings, not with the number of rows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Parsed:
    """Parsed values and the mask of non-blank values that did not parse.

    Attributes
    ----------
    values : pandas.Series
        Parsed values, aligned with the input; missing where blank or bad.
    bad : numpy.ndarray of bool
        True where the raw value was not blank and could not be parsed.
    """

    values: pd.Series
    bad: np.ndarray


def blank(raw: pd.Series) -> np.ndarray:
    """True where a raw value is missing, empty or only whitespace."""
    text = raw.astype("str")
    return (raw.isna() | text.str.strip().eq("")).to_numpy(dtype=bool)


def _by_distinct(raw: pd.Series, parse_one: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply a vectorised parser to the distinct stripped values and map back."""
    codes, uniques = pd.factorize(raw.astype("str").str.strip())
    parsed_uniques = parse_one(pd.Series(uniques, dtype="str")).reset_index(drop=True)
    out = parsed_uniques.reindex(codes)  # code -1 (missing) is not in the index -> NA
    out.index = raw.index
    return out


def _finish(raw: pd.Series, values: pd.Series) -> Parsed:
    is_blank = blank(raw)
    bad = values.isna().to_numpy(dtype=bool) & ~is_blank
    return Parsed(values=values.mask(pd.Series(is_blank, index=raw.index)), bad=bad)


def parse_number(raw: pd.Series) -> Parsed:
    """Parse decimal numbers; a decimal comma (``7,5``) is accepted.

    Parameters
    ----------
    raw : pandas.Series
        Raw text.

    Returns
    -------
    Parsed
        float64 values (NaN where blank or bad). Range checks are not done here.
    """

    def parse(values: pd.Series) -> pd.Series:
        text = values.str.replace(r"^([+-]?\d+),(\d+)$", r"\1.\2", regex=True)
        number = pd.to_numeric(text, errors="coerce").astype("float64")
        return number.where(np.isfinite(number))

    return _finish(raw, _by_distinct(raw, parse))


def parse_date(raw: pd.Series, date_format: str) -> Parsed:
    """Parse calendar dates with a strptime format (e.g. ``%d/%m/%Y``).

    Returns
    -------
    Parsed
        datetime64 values at midnight; NaT where blank or bad (including impossible
        dates such as 2025-02-30 and values in another format).
    """

    def parse(values: pd.Series) -> pd.Series:
        parsed = pd.to_datetime(values, format=date_format, errors="coerce")
        return parsed.dt.normalize()

    return _finish(raw, _by_distinct(raw, parse))


def parse_datetime(raw: pd.Series, datetime_format: str) -> Parsed:
    """Parse date-times with a strptime format (e.g. ``%d/%m/%Y %H:%M``); local clock time."""

    def parse(values: pd.Series) -> pd.Series:
        return pd.to_datetime(values, format=datetime_format, errors="coerce")

    return _finish(raw, _by_distinct(raw, parse))


_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})(?::(\d{2}))?$")


def parse_time_of_day(raw: pd.Series) -> Parsed:
    """Parse a clock time ``HH:MM`` (or ``HH:MM:SS``, ``HH.MM``) into minutes after midnight."""

    def parse(values: pd.Series) -> pd.Series:
        parts = values.str.extract(_TIME)
        hours = pd.to_numeric(parts[0], errors="coerce")
        minutes = pd.to_numeric(parts[1], errors="coerce")
        ok = (hours <= 23) & (minutes <= 59)
        return (hours * 60 + minutes).where(ok).astype("float64")

    return _finish(raw, _by_distinct(raw, parse))


def _word_set(words: Iterable[str]) -> set[str]:
    return {" ".join(w.lower().split()) for w in words}


def parse_yes_no(raw: pd.Series, yes: Iterable[str], no: Iterable[str]) -> Parsed:
    """Map yes/no words (case-insensitive, from the study's vocabulary) to booleans.

    Returns
    -------
    Parsed
        pandas nullable ``boolean`` values; <NA> where blank or an unknown word.
    """
    yes_words, no_words = _word_set(yes), _word_set(no)

    def parse(values: pd.Series) -> pd.Series:
        key = values.str.lower().str.split().str.join(" ")
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[key.isin(yes_words)] = True
        out[key.isin(no_words)] = False
        return out

    return _finish(raw, _by_distinct(raw, parse))


_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*(d|h|m)", re.IGNORECASE)
_DURATION_FULL = re.compile(r"^(?:\d+(?:[.,]\d+)?\s*[dhm]\s*)+$", re.IGNORECASE)
_ONGOING = {"ongoing", "on going", "in progress", "still ongoing"}


@dataclass(frozen=True)
class ParsedDuration:
    """Durations in hours; ``ongoing`` marks attacks not over when the log was exported."""

    hours: pd.Series
    ongoing: np.ndarray
    bad: np.ndarray


def parse_duration(raw: pd.Series) -> ParsedDuration:
    """Parse attack durations such as ``06h 00m``, ``45m``, ``1d 02h 10m`` or ``Ongoing``.

    Line breaks inside the value (``"06h\\n00m"``) are treated as spaces.

    Returns
    -------
    ParsedDuration
        ``hours`` (float64, NaN when blank, bad or ongoing), ``ongoing`` (bool) and
        ``bad`` (non-blank values that are neither a duration nor "ongoing").
    """
    factor = {"d": 24.0, "h": 1.0, "m": 1.0 / 60.0}

    def parse(values: pd.Series) -> pd.Series:
        text = values.str.replace(r"\s+", " ", regex=True).str.strip()
        ok = text.str.fullmatch(_DURATION_FULL.pattern, case=False).fillna(False)
        parts = text[ok].str.extractall(_DURATION_PART)
        if parts.empty:
            return pd.Series(np.nan, index=values.index, dtype="float64")
        amount = pd.to_numeric(parts[0].str.replace(",", "."), errors="coerce")
        hours = (amount * parts[1].str.lower().map(factor)).groupby(level=0).sum()
        return hours.reindex(values.index).astype("float64")

    stripped = raw.astype("str").str.replace(r"\s+", " ", regex=True).str.strip().str.lower()
    ongoing = stripped.isin(_ONGOING).to_numpy(dtype=bool)
    hours = _by_distinct(raw, parse)
    is_blank = blank(raw)
    bad = hours.isna().to_numpy(dtype=bool) & ~is_blank & ~ongoing
    return ParsedDuration(
        hours=hours.mask(pd.Series(ongoing, index=raw.index)), ongoing=ongoing, bad=bad
    )


def minutes_in_text(raw: pd.Series) -> pd.Series:
    """Extract a duration in minutes written as ``NN min`` (e.g. in a service name).

    Returns
    -------
    pandas.Series
        float64 minutes, NaN where the text holds no ``NN min``.
    """
    found = raw.astype("str").str.extract(r"(?i)(\d{1,3})\s*(?:min|mins|minutes)\b")[0]
    return pd.to_numeric(found, errors="coerce").astype("float64")


@functools.lru_cache(maxsize=64)
def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    escaped = sorted({re.escape(w.lower()) for w in words if w.strip()}, key=len, reverse=True)
    if not escaped:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<![a-z])(?:" + "|".join(escaped) + r")(?![a-z])")


def contains_any(raw: pd.Series, words: Iterable[str]) -> np.ndarray:
    """True where the text contains any of ``words`` as a whole word (case-insensitive).

    The words are compiled once into one regular expression and matched against each
    distinct value once.
    """
    pattern = _alternation(tuple(words))
    stripped = raw.astype("str").str.strip().str.lower()
    codes, uniques = pd.factorize(stripped)
    hits = np.fromiter(
        (pattern.search(u) is not None for u in uniques), dtype=bool, count=len(uniques)
    )
    return np.where(codes >= 0, hits[np.maximum(codes, 0)] if len(hits) else False, False)


@dataclass(frozen=True)
class ParsedMedication:
    """Medication fields reduced to flags.

    Attributes
    ----------
    acute : numpy.ndarray of bool
        Any acute medication was taken (a drug name, or a yes word).
    migraine_specific : numpy.ndarray of bool
        A migraine-specific acute drug (triptan, gepant, ditan, ergot) was named.
    bad : numpy.ndarray of bool
        Always False: any text names *some* medication. Kept for a uniform interface.
    """

    acute: np.ndarray
    migraine_specific: np.ndarray
    bad: np.ndarray


def parse_medication(
    raw: pd.Series,
    specific_names: Iterable[str],
    yes: Iterable[str] = (),
    no: Iterable[str] = ("no", "none", "nothing", "n", "0", "-"),
) -> ParsedMedication:
    """Classify acute-medication text: drug names separated by ``;`` or ``,``, or yes/no.

    A blank field or a no word means no medication that day; a yes word means acute
    medication of unknown class; any other text is acute medication, migraine-specific
    when it names a drug from ``specific_names``.
    """
    codes, uniques = pd.factorize(raw.astype("str").str.strip())
    distinct = pd.Series(uniques, dtype="str")
    key = distinct.str.lower().str.split().str.join(" ")
    none = (key.isin(_word_set(no)) | key.eq("")).to_numpy(dtype=bool)
    yes_word = key.isin(_word_set(yes)).to_numpy(dtype=bool)
    specific = contains_any(distinct, specific_names) & ~none & ~yes_word
    present = codes >= 0
    at = np.maximum(codes, 0)
    acute = present & ~none[at] if len(distinct) else np.zeros(len(raw), dtype=bool)
    specific = present & specific[at] if len(distinct) else np.zeros(len(raw), dtype=bool)
    return ParsedMedication(acute=acute, migraine_specific=specific, bad=np.zeros(len(raw), bool))


def normalise_id(raw: pd.Series) -> pd.Series:
    """Canonical form of a client id before pseudonymisation: trimmed, case-folded."""
    return raw.astype("str").str.strip().str.casefold()


def normalise_email(raw: pd.Series) -> pd.Series:
    """Canonical form of an email address for linkage: trimmed, lower case; blank -> NaN."""
    out = raw.astype("str").str.strip().str.lower()
    return out.where(out.str.contains("@", regex=False) & ~pd.Series(blank(raw), index=raw.index))


def normalise_phone(raw: pd.Series) -> pd.Series:
    """Canonical form of a phone number for linkage: its last 9 digits (NaN if fewer than 7)."""
    digits = raw.astype("str").str.replace(r"\D", "", regex=True)
    return digits.str[-9:].where(digits.str.len() >= 7)


def normalise_name(raw: pd.Series) -> pd.Series:
    """Canonical form of a person's name for linkage: accents removed, case-folded, one space."""
    text = raw.astype("str").str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    out = text.str.casefold().str.replace(r"[^a-z ]+", " ", regex=True).str.split().str.join(" ")
    return out.where(out.str.len() > 0)
