"""Pseudonyms, keyed hashes and redaction: what keeps identifiers out of every output.

- Client ids and practitioner names become keyed pseudonyms: HMAC-SHA256 with the study
  key (read from the environment variable that study.toml names), truncated to 64 bits
  and written as ``P-<16 hex>`` (clients) or ``S-<16 hex>`` (practitioners). Without the
  key a pseudonym cannot be linked back to a client.
- Names, emails and phone numbers are used for linkage only, as keyed hashes held in
  memory or in the processed link table; the values themselves are never written.
- Text shown to users about a bad value (quarantine, validate, logs) passes through
  :func:`safe_preview`, which redacts anything that could be an identifier.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.errors import KeyMissingError

#: Public key used only for synthetic demo studies (``[study] demo = true``). It is
#: documented in the README; data pseudonymised with it is *not* protected.
DEMO_KEY = "outcome-study-public-demo-key--synthetic-data-only"
MIN_KEY_LENGTH = 16


@dataclass(frozen=True)
class PseudonymKey:
    """The study's pseudonym key.

    Attributes
    ----------
    secret : bytes
        The key. Never logged, never written.
    demo : bool
        True when the public demo key is in use (synthetic data only).
    """

    secret: bytes
    demo: bool

    @property
    def fingerprint(self) -> str:
        """A short public tag of the key (HMAC of a constant): changes when the key does."""
        return hmac.new(self.secret, b"fingerprint", hashlib.sha256).hexdigest()[:12]

    def __repr__(self) -> str:  # never show the secret, not even in tracebacks
        return f"PseudonymKey(fingerprint={self.fingerprint!r}, demo={self.demo})"


def resolve_key(
    env_var: str, demo_study: bool, environ: dict[str, str] | None = None
) -> PseudonymKey:
    """Read the pseudonym key from the environment.

    Parameters
    ----------
    env_var : str
        Name of the environment variable holding the key (study.toml ``salt_env``).
    demo_study : bool
        The study is synthetic demo data (study.toml ``demo = true``): without a key in
        the environment the public :data:`DEMO_KEY` is used.
    environ : dict, optional
        Environment to read (default ``os.environ``).

    Raises
    ------
    KeyMissingError
        The variable is unset (or too short) and the study is not a demo.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(env_var, "")
    if value:
        if len(value) < MIN_KEY_LENGTH:
            raise KeyMissingError(
                f"pseudonym key in ${env_var} is shorter than {MIN_KEY_LENGTH} characters; "
                "use a long random value (e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        return PseudonymKey(secret=value.encode(), demo=False)
    if demo_study:
        return PseudonymKey(secret=DEMO_KEY.encode(), demo=True)
    raise KeyMissingError(
        f"pseudonym key missing: set the environment variable {env_var} (named by salt_env in "
        "study.toml) to a long random secret, and keep it: the same key gives the same "
        "pseudonyms in every run"
    )


def _hmac_hex(secret: bytes, domain: str, values: Iterable[str]) -> list[str]:
    prefix = f"{domain}\x1f".encode()
    return [
        hmac.digest(secret, prefix + v.encode("utf-8", "surrogatepass"), "sha256").hex()[:16]
        for v in values
    ]


def keyed_hash(values: pd.Series, key: PseudonymKey, domain: str) -> pd.Series:
    """Keyed hash (HMAC-SHA256, 64 bits, hex) of already-normalised text values.

    Hashing is done once per distinct value. Missing values stay missing.

    Parameters
    ----------
    values : pandas.Series
        Normalised text (see :mod:`pipeline.fields` ``normalise_*``).
    key : PseudonymKey
    domain : str
        Separates hash spaces (``client``, ``practitioner``, ``email``, ...), so equal text
        in different roles gives different hashes.
    """
    codes, uniques = pd.factorize(values)
    hashed = pd.Series(_hmac_hex(key.secret, domain, map(str, uniques)), dtype="str")
    out = hashed.reindex(codes)  # code -1 (missing) -> NaN
    out.index = values.index
    return out


def pseudonymise(normalised_ids: pd.Series, key: PseudonymKey, prefix: str = "P") -> pd.Series:
    """Client id -> pseudonym ``P-<16 hex>`` (or practitioner -> ``S-...`` with prefix "S").

    Parameters
    ----------
    normalised_ids : pandas.Series
        Ids normalised with :func:`pipeline.fields.normalise_id`.
    """
    domain = {"P": "client", "S": "practitioner"}[prefix]
    return f"{prefix}-" + keyed_hash(normalised_ids, key, domain)


def row_hash_key(key: PseudonymKey) -> str:
    """16-character key for pandas' SipHash row hashing, derived from the study key."""
    return hmac.new(key.secret, b"row-key", hashlib.sha256).hexdigest()[:16]


def _arrow_chunks(column: pd.Series) -> list[pa.Array]:
    """A text column as Arrow arrays, without copying when it is Arrow-backed already.

    (A column read in chunks converts to a ChunkedArray; ``pa.chunked_array`` given
    ChunkedArrays would walk them value by value, so their chunks are passed instead.)
    """
    arrow = pa.array(column, type=pa.large_string(), from_pandas=True)
    return arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]


def row_keys(raw: pd.DataFrame, key: PseudonymKey) -> np.ndarray:
    """Keyed 64-bit hash of each raw row's values, independent of column order.

    Rows identical in every column (the same record in two overlapping exports) get the
    same key; the key does not reveal the values (SipHash-2-4 keyed from the study key).

    Returns
    -------
    numpy.ndarray of int64
    """
    columns = sorted(raw.columns)
    n_rows = len(raw)
    if not columns or not n_rows:
        return np.zeros(n_rows, dtype=np.int64)
    # All cells as one long text column (column after column), stripped and hashed in one
    # pass: per-column pandas calls cost ~0.4 ms each, so a 10,000-column header took
    # seconds whatever the rows (and 500,000 columns minutes).
    cells = pa.chunked_array(
        [chunk for c in columns for chunk in _arrow_chunks(raw[c])], type=pa.large_string()
    )
    text = pd.Series(cells, dtype=pd.ArrowDtype(pa.large_string())).fillna("").str.strip()
    hashed = pd.util.hash_pandas_object(text, index=False, hash_key=row_hash_key(key))
    per_cell = hashed.to_numpy().reshape(len(columns), n_rows)
    # Fold each row's cell hashes with distinct odd weights per (sorted) column, so the
    # same values in other columns give another key.
    weights = np.arange(len(columns), dtype=np.uint64) * np.uint64(2) + np.uint64(1_000_003)
    with np.errstate(over="ignore"):
        return (per_cell * weights[:, None]).sum(axis=0, dtype=np.uint64).view(np.int64)


# ---------------------------------------------------------------------------- redaction
# A date shown in a message: year first (1900-2099) or last (two digits or 1900-2099),
# day and month one or two digits. "0770-09-0982" (a phone number) is not one.
_DATE_LIKE = re.compile(
    r"^(?:(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:(?:19|20)\d{2}|\d{2}))"
    r"(?:[ T]\d{1,2}[:.]\d{2}(?::\d{2})?)?$"
)
_SAFE_CHARS = re.compile(r"^[0-9A-Za-z .,:;/%+()_\-]*$")
# Words of two letters count too: names such as "Bo Li" or "Jo Ng" are made of them.
# Single letters (06h 00m, n/a, 2x) carry no name.
_WORD = re.compile(r"[A-Za-z]{2,}")
_COMMON_WORDS = frozenset(
    """
    maybe unknown unsure sometimes none null nan missing tbd yes no true false ongoing
    mild moderate severe min mins minute minutes hour hours hr hrs day days mg ml kg
    am pm na ok st nd rd th
    jan feb mar apr may jun jul aug sep sept oct nov dec
    january february march april june july august september october november december
    mon tue wed thu fri sat sun headache migraine pain
    """.split()
)


def safe_preview(values: pd.Series, allowed_words: Iterable[str] = ()) -> pd.Series:
    """Text safe to show about a raw value, or a redaction marker.

    A value is shown (trimmed, at most 40 characters) when it cannot carry an
    identifier: no ``@``, only ordinary punctuation, fewer than 7 digits unless it is
    shaped like a date, and every word of 2+ letters is an expected word (vocabulary,
    units, months, medication names passed in ``allowed_words``). Anything else, e.g. a
    name, email or phone number typed into the wrong field, becomes
    ``[redacted: N chars]``.

    Parameters
    ----------
    values : pandas.Series
        Raw text values.
    allowed_words : iterable of str
        Extra words that may be shown (the study's vocabularies).
    """
    allowed = _COMMON_WORDS | {w.lower() for phrase in allowed_words for w in _WORD.findall(phrase)}
    text = values.astype("str").fillna("").str.strip()
    codes, uniques = pd.factorize(text)
    uniq = pd.Series(uniques, dtype="str")
    digits = uniq.str.count(r"\d")
    words_ok = uniq.str.findall(_WORD).map(lambda ws: all(w.lower() in allowed for w in ws))
    safe = (
        uniq.str.len().le(40)
        & ~uniq.str.contains("@", regex=False)
        & uniq.str.fullmatch(_SAFE_CHARS.pattern)
        & (digits.lt(7) | uniq.str.fullmatch(_DATE_LIKE.pattern))
        & words_ok.astype(bool)
    )
    shown = uniq.where(safe, "[redacted: " + uniq.str.len().astype("str") + " chars]")
    out = shown.reindex(codes)
    out.index = values.index
    return out.fillna("")
