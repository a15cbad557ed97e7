"""Invented identities of the simulated clients: ids, names, emails, phone numbers.

Built with Arrow string kernels (no per-client Python work). Emails are unique (a unique
number ends the local part) because the pipeline links some clients by email alone.
Phone numbers come from the 1000-number UK drama range and repeat at scale; they are
never used for linkage here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.simulate.coded import join
from pipeline.simulate.population import Population
from pipeline.simulate.vocab import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES


@dataclass(frozen=True)
class Identities:
    """Per-client strings (length ``pop.n``; ``diary_id`` has ``pop.n_patients``)."""

    diary_id: list[str]
    client_id: list[str]
    name: list[str]
    email: list[str]
    linkage_email: list[str]
    phone: list[str]


def diary_ids(n_patients: int) -> list[str]:
    """``MIG-001``, ``MIG-002``, ... (at least three digits, wider for large studies)."""
    width = max(3, len(str(n_patients)))
    numbers = pc.cast(pa.array(np.arange(1, n_patients + 1)), pa.string())
    return join(["MIG-", pc.utf8_lpad(numbers, width, "0")]).to_pylist()


def _take(words: tuple[tuple[str, str], ...], which: int, index: np.ndarray) -> pa.Array:
    return pc.take(pa.array([w[which] for w in words]), pa.array(index))


def simulate_identities(pop: Population, rng: np.random.Generator) -> Identities:
    """Names, emails and phone numbers of every client.

    ``linkage_email`` is the email as the diary team typed it into the patients table:
    for some clients (``pop.email_only``) with different case or stray spaces.
    """
    n = pop.n
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    name = join([_take(FIRST_NAMES, 0, first), _take(LAST_NAMES, 0, last)], " ")
    serial = pc.cast(pa.array(rng.permutation(n) + 1), pa.string())
    first_ascii, last_ascii = _take(FIRST_NAMES, 1, first), _take(LAST_NAMES, 1, last)
    styles = [
        join([first_ascii, ".", last_ascii, serial]),
        join([first_ascii, last_ascii, serial]),
        join([pc.utf8_slice_codeunits(first_ascii, 0, 1), last_ascii, serial]),
    ]
    style = pa.array(rng.integers(0, len(styles), n))
    local = pc.choose(style, *styles)
    domain = pc.take(pa.array(EMAIL_DOMAINS), pa.array(rng.integers(0, len(EMAIL_DOMAINS), n)))
    email = join([local, "@", domain])

    variants = [
        pc.utf8_upper(email),
        join([" ", email]),
        join([email, "  "]),
        pc.utf8_capitalize(email),
    ]
    variant = pc.choose(pa.array(rng.integers(0, len(variants), n)), *variants)
    linkage = pc.if_else(pa.array(pop.email_only), variant, email)

    digits = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 1000, n)), pa.string()), 3, "0")
    phone = pc.if_else(
        pa.array(rng.random(n) < 0.6), join(["+44 7700 900", digits]), join(["07700 900", digits])
    )
    return Identities(
        diary_id=diary_ids(pop.n_patients),
        client_id=join(["C", pc.cast(pa.array(pop.client_number), pa.string())]).to_pylist(),
        name=name.to_pylist(),
        email=email.to_pylist(),
        linkage_email=linkage.to_pylist(),
        phone=phone.to_pylist(),
    )
