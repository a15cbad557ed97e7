"""``sessions``: appointments exported from the practice-management system.

Therapy sessions are those whose service matches the study's ``therapy_pattern``; a
session counts as attended when its status is in the ``attended`` vocabulary. The
service text, the adverse-event text and the client's name, email and phone are read
but never written out: they become flags, a duration and keyed linkage hashes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import fields
from pipeline.privacy import keyed_hash, pseudonymise
from pipeline.schema import Sessions
from pipeline.sources.base import AdapterSpec, RowBatch

NO_REACTION = ("none", "no reaction", "nil", "-", "n/a", "na")


def _status(batch: RowBatch) -> tuple[pd.Series, np.ndarray]:
    vocabulary = batch.config.vocabulary
    batch.require("status")
    # .str.split().str.join() returns object dtype on a file with no rows: keep it text
    key = batch.text("status").str.lower().str.split().str.join(" ").astype("str")
    attended_words = {w.lower() for w in vocabulary.attended}
    other_words = {w.lower() for w in vocabulary.not_attended}
    attended = key.isin(attended_words).to_numpy()
    unknown = ~attended & ~key.isin(other_words).to_numpy() & ~batch.blank("status")
    batch.problems.add(
        unknown,
        "status",
        "unknown_status",
        batch.quoted("status", "is not a known appointment status"),
    )
    return key.where(attended | ~unknown), attended


def _adverse_event(batch: RowBatch) -> pd.Series:
    """True for a reaction (a yes word or any descriptive text); False for blank/no."""
    if not batch.has("adverse_event"):
        return pd.Series(pd.NA, index=batch.raw.index, dtype="boolean")
    key = batch.text("adverse_event").str.lower().str.split().str.join(" ")
    no_words = {w.lower() for w in (*batch.config.vocabulary.no, *NO_REACTION)}
    reaction = ~batch.blank("adverse_event") & ~key.isin(no_words).to_numpy()
    return pd.Series(reaction, index=batch.raw.index, dtype="boolean")


def _group(batch: RowBatch) -> pd.Series:
    allowed = {g.lower(): g for g in batch.config.study.groups}
    if not batch.has("group") or not allowed:
        return pd.Series(np.nan, index=batch.raw.index, dtype="str")
    key = batch.text("group").str.strip().str.lower()
    unknown = ~key.isin(allowed).to_numpy() & ~batch.blank("group")
    batch.problems.add(
        unknown, "group", "unknown_group", batch.quoted("group", "is not one of [study] groups")
    )
    return key.map(allowed).astype("str")


def link_keys(batch: RowBatch) -> pd.DataFrame:
    """Keyed hashes of email, phone and name for linkage (never the values)."""
    return pd.DataFrame(
        {
            "link_email": keyed_hash(
                fields.normalise_email(batch.text("email")), batch.key, "email"
            ),
            "link_phone": keyed_hash(
                fields.normalise_phone(batch.text("phone")), batch.key, "phone"
            ),
            "link_name": keyed_hash(
                fields.normalise_name(batch.text("client_name")), batch.key, "name"
            ),
        },
        index=batch.raw.index,
    )


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical session columns (see :class:`pipeline.schema.Sessions`) plus link hashes.

    ``duration_min`` is the exported duration or, when blank, the ``NN min`` in the
    service name. ``start_minute`` is minutes after midnight. ``adverse_event`` is <NA>
    when the export has no such column, False when the cell is blank or a no word.
    """
    batch.require("service")
    service = batch.text("service")
    duration = batch.number("duration_min").fillna(fields.minutes_in_text(service))
    start = fields.parse_time_of_day(batch.text("start_time"))
    batch.problems.add(
        start.bad, "start_time", "bad_time", batch.quoted("start_time", "is not a clock time HH:MM")
    )
    status, attended = _status(batch)
    practitioner = fields.normalise_id(batch.text("practitioner"))
    practitioner = pseudonymise(
        practitioner.mask(pd.Series(batch.blank("practitioner"), index=practitioner.index)),
        batch.key,
        prefix="S",
    )
    frame = pd.DataFrame(
        {
            "patient_id": batch.patient_id("client_id"),
            "date": batch.date("date"),
            "start_minute": start.values,
            "is_therapy": service.str.contains(batch.config.study.therapy_pattern, regex=True)
            .fillna(False)
            .to_numpy(bool),
            "attended": attended,
            "status": status,
            "duration_min": duration,
            "practitioner": practitioner,
            "adverse_event": _adverse_event(batch),
            "ae_resolved_hours": batch.number("ae_resolved_hours"),
            "group": _group(batch),
        },
        index=batch.raw.index,
    )
    return pd.concat([frame, link_keys(batch)], axis=1)


SPEC = AdapterSpec(
    name="sessions",
    required=("client_id", "date", "service", "status"),
    optional=(
        "start_time",
        "duration_min",
        "practitioner",
        "client_name",
        "email",
        "phone",
        "adverse_event",
        "ae_resolved_hours",
        "group",
        "notes",
    ),  # fmt: skip
    identifiers=("client_name", "email", "phone", "practitioner"),
    private_text=("service", "adverse_event", "notes"),
    model=Sessions,
    normalise=normalise,
)
