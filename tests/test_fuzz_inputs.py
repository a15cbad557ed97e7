"""Hypothesis fuzzers: every adapter on corrupted CSV and XLSX bytes (issue 9).

Each example is a hostile file built by :func:`tests.fuzz_builders.hostile_file` from a
valid export of the adapter. It must end in accepted or quarantined rows with balanced
accounting, or in a clean one-line InputError naming the file; never another exception,
never a hang, and no planted identifier in any output (see
:func:`tests.fuzz_builders.check_validate_contract`).

Example counts come from the environment, so CI runs the full count and a developer a
quick one:

- ``FUZZ_EXAMPLES`` (default 2000): examples per adapter through ``validate_file``
  (read, clean and de-duplicate one file, no writes);
- ``FUZZ_INGEST_EXAMPLES`` (default ``FUZZ_EXAMPLES // 20``): examples per adapter
  through the full ``ingest`` + ``consolidate`` of a one-file study;
- ``FUZZ_EXAMPLES // 10`` valid exports per adapter in every supported layout, which
  must lose no row.

Cost: about 50 ms of CPU per example (mostly the pipeline's fixed cost per file). The
default (2,000 per adapter) measured 683 CPU-seconds: 11.5 minutes with ``pytest -n 2``
on this 2-core machine while other jobs ran (~6 minutes on idle cores); 3 minutes fit
about ``FUZZ_EXAMPLES=800`` with ``-n 2``. ``FUZZ_EXAMPLES=100 ... -n 2`` takes ~30 s.
"""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.sources import ADAPTERS
from tests.fuzz_builders import (
    PLANTED_NAMES,
    Outcome,
    check_ingest_contract,
    check_validate_contract,
    hostile_file,
    valid_file,
)

# Thousands of examples per test: deselect with -m "not slow"; the wall-clock limit is
# generous for a busy CI machine (a hang of one example is caught after 20 s of CPU).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
VALID_EXAMPLES = max(EXAMPLES // 10, 10)
INGEST_EXAMPLES = int(os.environ.get("FUZZ_INGEST_EXAMPLES", str(max(EXAMPLES // 20, 5))))


def fuzz_settings(examples: int) -> settings:
    """Settings for a fuzzer: no deadline (slow examples are fine, hangs are caught by
    the check's own time limit), no example database (CI runs are independent), random
    exploration each run."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _seen_both_outcomes(outcomes: list[Outcome], rows: bool = True) -> None:
    """The generator is not degenerate: some files are read (with accepted and with
    quarantined rows when ``rows``), some are refused."""
    assert any(o.error is None for o in outcomes), "no file was read"
    assert any(o.error is not None for o in outcomes), "no file was refused"
    if rows:
        assert any(o.rows_accepted for o in outcomes), "no file had accepted rows"
        assert any(o.rows_quarantined for o in outcomes), "no row was quarantined"


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_validate_file_on_hostile_exports(adapter, workdir):
    """validate_file (read, clean, de-duplicate one file) meets the contract on every
    corrupted export, and the generator reaches accepted, quarantined and refused files."""
    outcomes: list[Outcome] = []
    folder = workdir / f"validate-{adapter}"
    folder.mkdir(exist_ok=True)

    @fuzz_settings(EXAMPLES)
    @given(hostile=hostile_file(adapter))
    def run(hostile):
        path = folder / hostile.name
        path.write_bytes(hostile.data)
        try:
            outcomes.append(check_validate_contract(path, adapter))
        finally:
            path.unlink()

    run()
    if EXAMPLES >= 200:
        _seen_both_outcomes(outcomes)


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_valid_exports_in_every_supported_layout_are_read_whole(adapter, workdir):
    """The other side of the contract: a valid export in any layout the contract allows
    (separators, line endings, encodings, XLSX, attack-log preambles) loses no row."""
    folder = workdir / f"valid-{adapter}"
    folder.mkdir(exist_ok=True)

    @fuzz_settings(VALID_EXAMPLES)
    @given(drawn=valid_file(adapter))
    def run(drawn):
        file, n_rows = drawn
        path = folder / file.name
        path.write_bytes(file.data)
        try:
            outcome = check_validate_contract(path, adapter)
        finally:
            path.unlink()
        assert outcome.error is None, outcome.error
        assert outcome.rows_quarantined == 0
        assert outcome.rows_accepted + outcome.duplicates_removed == outcome.rows_read == n_rows

    run()


@pytest.mark.parametrize("adapter", list(ADAPTERS))
def test_ingest_and_consolidate_on_hostile_exports(adapter, workdir):
    """ingest + consolidate (partitions, batches, manifest, duplicates, canonical tables)
    meet the contract per file and in total; a valid sibling export loses no row."""
    outcomes: list[Outcome] = []
    counter = iter(range(10**9))
    # an attack log is named after its client: sometimes after a planted name
    stems = (
        st.sampled_from(["MIG-7", *PLANTED_NAMES]) if adapter == "diary_attacks" else st.just("x")
    )

    @fuzz_settings(INGEST_EXAMPLES)
    @given(data=st.data())
    def run(data):
        hostile = data.draw(hostile_file(adapter, stem=data.draw(stems)))
        sibling = None
        if data.draw(st.booleans()):  # a valid export beside it, often cleaned in one batch
            valid, n_rows = data.draw(valid_file(adapter, stem="sibling"))
            sibling = (valid.name, valid.data, n_rows)
        root = workdir / f"ingest-{adapter}-{next(counter)}"
        try:
            outcomes.append(
                check_ingest_contract(root, adapter, hostile.name, hostile.data, sibling)
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)

    run()
    if INGEST_EXAMPLES >= 50:
        _seen_both_outcomes(outcomes, rows=False)
