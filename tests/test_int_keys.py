"""Sort-based duplicate detection agrees with pandas on any keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipeline.int_keys import duplicated_keys

KEYS = st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 5), max_size=60)


@given(KEYS)
def test_duplicated_keys_matches_pandas(values):
    keys = np.array(values, dtype=np.int64)
    for keep in ("first", False):
        expected = pd.Series(keys, dtype="int64").duplicated(keep=keep).to_numpy()
        np.testing.assert_array_equal(duplicated_keys(keys, keep=keep), expected)


def test_first_occurrence_in_array_order_is_kept():
    keys = np.array([7, 3, 7, 3, 3, 9], dtype=np.int64)
    assert duplicated_keys(keys).tolist() == [False, False, True, True, True, False]
    assert duplicated_keys(keys, keep=False).tolist() == [True, True, True, True, True, False]
