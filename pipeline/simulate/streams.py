"""Independent random streams derived from one seed, one per stage of the simulation.

Each stage draws from its own child of ``numpy.random.SeedSequence(seed)``, so the same
seed always gives the same data, and a change in one stage (say, the attack logs) does not
shift the random numbers of another (say, the daily diaries).
"""

from __future__ import annotations

import numpy as np

STAGES = (
    "population",
    "days",
    "sessions",
    "identities",
    "attacks",
    "questionnaires",
    "mess",
    "render",
)


class Streams:
    """``Streams(seed).days`` etc.: a ``numpy.random.Generator`` per stage."""

    def __init__(self, seed: int):
        children = np.random.SeedSequence(seed).spawn(len(STAGES))
        self._rngs = {
            name: np.random.default_rng(child) for name, child in zip(STAGES, children, strict=True)
        }

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self.__dict__["_rngs"][name]
        except KeyError:
            raise AttributeError(name) from None
