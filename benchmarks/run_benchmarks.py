"""Scale benchmark: wall time, CPU time and peak memory per stage, against the floor.

For each study size it simulates a study (cached under ``benchmarks/data/``), then runs
in separate processes: the floor (:mod:`benchmarks.floor`), each pipeline stage in
order (:mod:`benchmarks.stage`), and, with ``--flow``, the whole Prefect flow through
``outcome-study run``. Each process's own CPU time and peak resident memory come from
``os.wait4``. The pipeline's computation from raw files to results (ingest through
analysis, no PDF, no Prefect start-up) is quoted as a ratio to the floor.

Usage::

    python benchmarks/run_benchmarks.py --sizes 1000 10000 100000 [--flow] [--json out.json]

Results go to stdout as a table (and to ``--json``); record them with the machine they
came from in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
COMPUTATION = ("ingest", "clean", "outcomes", "analysis")
RAW_TO_RESULTS = "raw files -> results (ingest..analysis, one process)"


@dataclass(frozen=True)
class Measurement:
    """One process: what it ran and what it cost."""

    size: int
    step: str
    wall_s: float
    cpu_s: float
    peak_mb: float


def measure(
    size: int, step: str, command: list[str], env: dict[str, str] | None = None
) -> Measurement:
    """Run a command; its wall time, CPU time (user + system) and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env or os.environ.copy(), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{step} failed for {size} clients: {' '.join(command)}")
    return Measurement(size, step, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def study_for(size: int, seed: int, data: Path) -> Path:
    """A simulated study of ``size`` clients (reused when already there); its study.toml."""
    folder = data / f"study-{size}-seed{seed}"
    if not (folder / "study.toml").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(
            [
                str(BIN / "outcome-study"),
                "simulate",
                "--out",
                str(folder),
                "--patients",
                str(size),
                "--seed",
                str(seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    shutil.rmtree(folder / "processed", ignore_errors=True)
    shutil.rmtree(folder / "reports", ignore_errors=True)
    return folder / "study.toml"


def bench_size(size: int, seed: int, data: Path, flow: bool) -> list[Measurement]:
    study = study_for(size, seed, data)
    rows = [measure(size, "floor", [sys.executable, str(HERE / "floor.py"), str(study.parent)])]
    rows.append(
        measure(
            size,
            RAW_TO_RESULTS,
            [sys.executable, str(HERE / "stage.py"), ",".join(COMPUTATION), str(study)],
        )
    )
    shutil.rmtree(study.parent / "processed", ignore_errors=True)
    for stage in (*COMPUTATION, "report"):
        rows.append(
            measure(size, stage, [sys.executable, str(HERE / "stage.py"), stage, str(study)])
        )
    if flow:
        shutil.rmtree(study.parent / "processed", ignore_errors=True)
        env = {**os.environ, "PREFECT_HOME": str(data / "prefect-home"), "DO_NOT_TRACK": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}  # fmt: skip
        rows.append(
            measure(
                size, "whole flow", [str(BIN / "outcome-study"), "run", "--config", str(study)], env
            )
        )
    return rows


def table(rows: list[Measurement]) -> str:
    """Markdown table, with the raw-to-results total and its ratio to the floor per size."""
    lines = [
        "| clients | step | wall (s) | CPU (s) | peak memory (MB) |",
        "|---:|---|---:|---:|---:|",
    ]
    for size in sorted({r.size for r in rows}):
        mine = [r for r in rows if r.size == size]
        lines += [
            f"| {size:,} | {r.step} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.peak_mb:,.0f} |"
            for r in mine
        ]
        floor = next(r for r in mine if r.step == "floor")
        computed = next(r for r in mine if r.step == RAW_TO_RESULTS)
        lines.append(
            f"| {size:,} | **ratio of raw files -> results to the floor** | **{computed.wall_s / floor.wall_s:.1f}x** | | |"
        )
    return "\n".join(lines)


def machine() -> str:
    """The machine the numbers came from."""
    import psutil

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data", type=Path, default=HERE / "data", help="where studies are simulated"
    )
    parser.add_argument("--flow", action="store_true", help="also time the whole Prefect flow")
    parser.add_argument("--json", type=Path, help="also write the measurements as JSON")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    rows: list[Measurement] = []
    for size in args.sizes:
        print(f"benchmarking {size:,} clients ...", file=sys.stderr, flush=True)
        rows += bench_size(size, args.seed, args.data, args.flow)
    print(f"machine: {machine()}\n")
    print(table(rows))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "rows": [asdict(r) for r in rows]}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
