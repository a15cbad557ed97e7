"""Run the outcome-study command and SIGKILL it at the N-th atomic rename.

Usage: ``python crashing_cli.py N before|after|count outcome-study-arguments...``
(``count`` kills nothing and prints ``renames: <total>`` to stderr at exit).

Every file the pipeline writes goes through ``os.replace`` of a fully written temporary
file (pipeline.store). Killing the process right before the N-th rename leaves a
complete temporary file that was never published; right after, leaves the published
file and whatever was not yet written. Crash-safety tests vary N to crash in every
stage. Test tooling only: it patches the process it runs in, nothing in the package.
"""

from __future__ import annotations

import os
import signal
import sys

KILL_AT = int(sys.argv[1])
WHEN = sys.argv[2]
_count = 0
_real_replace = os.replace


def _replace(source, target, *args, **kwargs):
    global _count
    _count += 1
    if _count == KILL_AT and WHEN == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    _real_replace(source, target, *args, **kwargs)
    if _count == KILL_AT and WHEN == "after":
        os.kill(os.getpid(), signal.SIGKILL)


os.replace = _replace
if WHEN == "count":
    import atexit

    atexit.register(lambda: print(f"renames: {_count}", file=sys.stderr, flush=True))

from flows.cli import main  # noqa: E402  (after the patch, before anything writes)

sys.argv = ["outcome-study", *sys.argv[3:]]
main()
