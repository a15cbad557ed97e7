"""Appointments of every practice client, as the practice-management system logs them.

A treated client attends weekly therapy sessions from day 0 (index date = first attended
therapy session): session k on day ``7k + j`` (j = 0 for the first, 0-2 later). Around
them: cancelled / no-show / rescheduled bookings 1-3 days before a session, for some
clients a cancelled first booking 3-7 days before day 0, a consultation 8-14 days before,
other massage services after the course. Diary clients who never attend have one
booking on day 0 they did not keep. Sessions-only clients who book other massages only
have one to four massages three weeks apart. No client has two appointments on one day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.simulate.coded import ranks_within
from pipeline.simulate.population import NO_DIARY, Population
from pipeline.simulate.settings import SimulationSettings
from pipeline.simulate.vocab import (
    ATTENDED_STATUSES,
    CONSULTATION,
    N_THERAPY_SERVICES,
    OTHER_SERVICES,
    PRACTITIONERS,
    REACTIONS,
    SERVICES,
    STATUSES,
)

CONSULTATION_SERVICE = SERVICES.index(CONSULTATION)
FIRST_OTHER_SERVICE = N_THERAPY_SERVICES
#: Status codes (indices into STATUSES).
COMPLETED, ARRIVED, CANCELLED, NO_SHOW, RESCHEDULED, LATE_CANCEL = range(len(STATUSES))
MISSED_STATUS_P = (0.45, 0.2, 0.25, 0.1)  # cancelled, no show, rescheduled, late cancellation
ARRIVED_P = 0.08
OTHER_ATTENDED_P = 0.9
USUAL_SERVICE_P = 0.85
USUAL_PRACTITIONER_P = 0.85
BLANK_DURATION_P = 0.2
REACTION_P = (0.3, 0.3, 0.15, 0.15, 0.1)
OTHER_SLOTS = 3
MASSAGE_ONLY_SLOTS = 4


@dataclass(frozen=True)
class SessionEvents:
    """One element per appointment (not yet sorted or split into exports).

    Attributes
    ----------
    client : int64
        Population index.
    day : int64
        Offset from the client's index date.
    service, status, practitioner : int64
        Indices into ``vocab.SERVICES``, ``vocab.STATUSES``, ``vocab.PRACTITIONERS``.
    start_minute : int64
        Minutes after midnight.
    reaction : int64
        -2 blank, -1 "none", else index into ``vocab.REACTIONS``.
    resolved_half_hours : int64
        Hours until the reaction resolved x 2; -1 blank.
    blank_duration : bool
        ``duration_min`` left empty (the pipeline then reads the service name).
    first_attended : bool
        The client's first attended therapy session (day 0).
    """

    client: np.ndarray
    day: np.ndarray
    service: np.ndarray
    status: np.ndarray
    practitioner: np.ndarray
    start_minute: np.ndarray
    reaction: np.ndarray
    resolved_half_hours: np.ndarray
    blank_duration: np.ndarray
    first_attended: np.ndarray

    def __len__(self) -> int:
        return len(self.client)

    @property
    def is_therapy(self) -> np.ndarray:
        """The service matches the therapy pattern ("(?i)cranio|cranial")."""
        return self.service < N_THERAPY_SERVICES

    @property
    def attended(self) -> np.ndarray:
        """The status counts as attended (Completed, Arrived)."""
        return self.status < ATTENDED_STATUSES


def _missed_status(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice([CANCELLED, NO_SHOW, RESCHEDULED, LATE_CANCEL], n, p=MISSED_STATUS_P)


def _attended_status(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(rng.random(n) < ARRIVED_P, ARRIVED, COMPLETED)


def simulate_sessions(
    pop: Population, settings: SimulationSettings, rng: np.random.Generator
) -> SessionEvents:
    """Generate every appointment of every client.

    Parameters
    ----------
    pop : Population
    settings : SimulationSettings
    rng : numpy.random.Generator

    Returns
    -------
    SessionEvents
    """
    s = settings
    n = pop.n
    usual_therapy = rng.integers(0, N_THERAPY_SERVICES, n)
    usual_practitioner = rng.integers(0, len(PRACTITIONERS), n)
    parts: list[dict[str, np.ndarray]] = []

    def add(
        client: np.ndarray,
        day: np.ndarray,
        service: np.ndarray,
        status: np.ndarray,
        first: np.ndarray | None = None,
    ) -> None:
        size = len(client)
        parts.append(
            {
                "client": client,
                "day": day,
                "service": np.broadcast_to(service, size),
                "status": np.broadcast_to(status, size),
                "first_attended": np.zeros(size, bool) if first is None else first,
            }
        )

    def therapy_service(client: np.ndarray) -> np.ndarray:
        other = rng.integers(0, N_THERAPY_SERVICES, len(client))
        return np.where(rng.random(len(client)) < USUAL_SERVICE_P, usual_therapy[client], other)

    # attended weekly therapy sessions, and bookings missed before them
    client = np.repeat(np.arange(n), pop.n_therapy)
    k = ranks_within(pop.n_therapy)
    day = 7 * k + np.where(k == 0, 0, rng.integers(0, 3, len(k)))
    add(client, day, therapy_service(client), _attended_status(rng, len(client)), first=k == 0)
    missed = (k > 0) & (rng.random(len(k)) < s.missed_visit_probability)
    add(
        client[missed],
        day[missed] - 3,
        therapy_service(client[missed]),
        _missed_status(rng, int(missed.sum())),
    )

    # a cancelled first booking; never-treated diary clients' one unkept booking
    first = np.flatnonzero(pop.first_booking_cancelled)
    add(
        first,
        -rng.integers(3, 8, len(first)),
        therapy_service(first),
        rng.choice([CANCELLED, RESCHEDULED], len(first)),
    )
    never = np.flatnonzero(~pop.treated & (pop.diary_kind != NO_DIARY))
    add(
        never,
        np.zeros(len(never), np.int64),
        therapy_service(never),
        rng.choice([CANCELLED, NO_SHOW], len(never)),
    )

    # consultation before day 0 (treated and never-treated)
    booked = np.flatnonzero(
        (pop.treated | (pop.diary_kind != NO_DIARY)) & (rng.random(n) < s.consultation_probability)
    )
    add(
        booked,
        -rng.integers(8, 15, len(booked)),
        np.int64(CONSULTATION_SERVICE),
        np.int64(COMPLETED),
    )

    # other massages after the course
    treated = np.flatnonzero(pop.treated)
    client = np.repeat(treated, OTHER_SLOTS)
    slot = np.tile(np.arange(OTHER_SLOTS), len(treated))
    keep = rng.random(len(client)) < s.other_service_probability
    client, slot = client[keep], slot[keep]
    day = 7 * pop.n_therapy[client] + 7 * slot + rng.integers(0, 7, len(client))
    add(client, day, _other_service(rng, len(client)), _other_status(rng, len(client)))

    # sessions-only clients who book massages only
    massage_only = np.flatnonzero(~pop.treated & (pop.diary_kind == NO_DIARY))
    count = 1 + rng.binomial(MASSAGE_ONLY_SLOTS - 1, 0.5, len(massage_only))
    client = np.repeat(massage_only, count)
    day = 21 * ranks_within(count) + rng.integers(0, 7, len(client))
    add(client, day, _other_service(rng, len(client)), _other_status(rng, len(client)))

    columns = {
        key: np.concatenate([p[key] for p in parts]).astype(parts[0][key].dtype) for key in parts[0]
    }
    size = len(columns["client"])
    service, status = columns["service"].astype(np.int64), columns["status"].astype(np.int64)
    attended_therapy = (service < N_THERAPY_SERVICES) & (status < ATTENDED_STATUSES)
    reacted = attended_therapy & (rng.random(size) < s.adverse_event_probability)
    reaction = np.where(
        reacted,
        rng.choice(len(REACTIONS), size, p=REACTION_P),
        np.where(attended_therapy & (rng.random(size) < 0.5), -1, -2),
    )
    slow = rng.random(size) < s.slow_resolution_fraction
    half_hours = np.where(slow, 2 * rng.integers(24, 49, size), rng.integers(2, 41, size))
    practitioner = np.where(
        rng.random(size) < USUAL_PRACTITIONER_P,
        usual_practitioner[columns["client"]],
        rng.integers(0, len(PRACTITIONERS), size),
    )
    return SessionEvents(
        client=columns["client"].astype(np.int64),
        day=columns["day"].astype(np.int64),
        service=service,
        status=status,
        practitioner=practitioner,
        start_minute=540 + 15 * rng.integers(0, 35, size),
        reaction=reaction,
        resolved_half_hours=np.where(reacted, half_hours, -1),
        blank_duration=rng.random(size) < BLANK_DURATION_P,
        first_attended=columns["first_attended"].astype(bool),
    )


def _other_service(rng: np.random.Generator, n: int) -> np.ndarray:
    return FIRST_OTHER_SERVICE + rng.integers(0, len(OTHER_SERVICES), n)


def _other_status(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.where(
        rng.random(n) < OTHER_ATTENDED_P, _attended_status(rng, n), _missed_status(rng, n)
    )
