"""``patients``: the linkage table between diary ids and the practice system.

Each row names a diary ``patient_id`` and at least one of ``client_id`` (the
practice-management id), ``email``, ``phone`` or ``client_name``. Sessions are linked
to diaries through it (by client id first, then email, phone, name). Only keyed hashes
of the email, phone and name are kept.
"""

from __future__ import annotations

import pandas as pd

from pipeline import fields
from pipeline.privacy import pseudonymise
from pipeline.schema import PatientLinks
from pipeline.sources.base import AdapterSpec, RowBatch
from pipeline.sources.sessions import link_keys


def normalise(batch: RowBatch) -> pd.DataFrame:
    """Canonical link rows (see :class:`pipeline.schema.PatientLinks`)."""
    client = fields.normalise_id(batch.text("client_id"))
    client = client.mask(pd.Series(batch.blank("client_id"), index=client.index))
    keys = link_keys(batch)
    no_link = client.isna().to_numpy() & keys.isna().all(axis=1).to_numpy()
    batch.problems.add(
        no_link & ~batch.blank("patient_id"),
        "client_id",
        "no_link_field",
        "no client_id, email, phone or client_name to link this diary id",
    )
    frame = pd.DataFrame(
        {"patient_id": batch.patient_id(), "client_pid": pseudonymise(client, batch.key)},
        index=batch.raw.index,
    )
    return pd.concat([frame, keys], axis=1)


SPEC = AdapterSpec(
    name="patients",
    required=("patient_id",),
    optional=("client_id", "email", "phone", "client_name"),
    identifiers=("client_name", "email", "phone"),
    model=PatientLinks,
    normalise=normalise,
)
