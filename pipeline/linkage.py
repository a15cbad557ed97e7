"""Linking practice-system clients to diary ids, all under pseudonyms.

Sessions arrive keyed by the pseudonym of the practice system's client id. A client
is linked to a diary id, in this order, by:

1. the ``patients`` table's ``client_id`` column,
2. the keyed hash of their email, then phone, then name, when exactly one diary id
   in the ``patients`` table carries it,
3. otherwise the client id itself (the clinic uses one id space for both).

A practice-system client that two diary ids claim (ambiguous) is not linked through
that route. Every route's count is reported.
"""

from __future__ import annotations

import pandas as pd

LINK_COLUMNS = ("link_email", "link_phone", "link_name")


def _unique_mapping(links: pd.DataFrame, key: str) -> tuple[pd.Series, int]:
    """key -> patient_id where the key names exactly one diary id; and how many are ambiguous."""
    pairs = links[[key, "patient_id"]].dropna().drop_duplicates()
    per_key = pairs.groupby(key)["patient_id"].nunique()
    ambiguous = per_key[per_key > 1].index
    mapping = pairs[~pairs[key].isin(ambiguous)].set_index(key)["patient_id"]
    return mapping, len(ambiguous)


def link_sessions(
    sessions: pd.DataFrame, links: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Replace each session's client pseudonym by the linked diary pseudonym.

    Parameters
    ----------
    sessions : pandas.DataFrame
        Accepted sessions with ``patient_id`` (pseudonym of the practice-system client
        id) and the keyed link hashes ``link_email``, ``link_phone``, ``link_name``.
    links : pandas.DataFrame
        Accepted ``patients`` rows: ``patient_id`` (diary pseudonym), ``client_pid``
        and the same link hashes.

    Returns
    -------
    sessions : pandas.DataFrame
        With ``patient_id`` linked and the link hash columns removed.
    counts : dict
        Practice-system clients linked ``by_client_id``, ``by_email``, ``by_phone``,
        ``by_name``, ``by_shared_id``, and ``ambiguous_links``.
    """
    clients = sessions.groupby("patient_id", sort=False)[list(LINK_COLUMNS)].first()
    resolved = pd.Series(pd.NA, index=clients.index, dtype="str")
    counts: dict[str, int] = {}
    ambiguous_total = 0
    routes = [("by_client_id", "client_pid", pd.Series(clients.index, index=clients.index))]
    routes += [
        (f"by_{column.removeprefix('link_')}", column, clients[column]) for column in LINK_COLUMNS
    ]
    for route, link_column, client_keys in routes:
        mapping, ambiguous = (
            _unique_mapping(links, link_column) if len(links) else (pd.Series(dtype="str"), 0)
        )
        ambiguous_total += ambiguous
        found = client_keys.map(mapping).astype("str").where(resolved.isna())
        counts[route] = int(found.notna().sum())
        resolved = resolved.fillna(found)
    counts["by_shared_id"] = int(resolved.isna().sum())
    counts["ambiguous_links"] = ambiguous_total
    resolved = resolved.fillna(pd.Series(clients.index, index=clients.index))
    linked = sessions.assign(patient_id=sessions["patient_id"].map(resolved).astype("str"))
    return linked.drop(columns=list(LINK_COLUMNS)), counts
