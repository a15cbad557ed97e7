"""The ``outcome-study`` command: run, validate, simulate, serve, report.

Exit status: 0 the command finished; 1 problems (``validate``: rows would be
quarantined; ``run --strict``: rows were quarantined); 2 it could not run (bad config,
unreadable input, missing pseudonym key), with a one-line reason on stderr and no
traceback (``--debug`` shows one).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

import flows
from pipeline.errors import StudyError

app = typer.Typer(
    name="outcome-study",
    help="Test craniosacral-therapy claims on clinic session exports and headache diaries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_CONFIG = flows.PROJECT_ROOT / "config" / "study.toml"
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="study.toml", dir_okay=False)]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"outcome-study: error: {message}", err=True)
    raise typer.Exit(code)


def _debug() -> bool:
    return os.environ.get("OUTCOME_STUDY_DEBUG", "") not in ("", "0")


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    raw: Annotated[
        Path | None, typer.Option(help="raw exports folder (overrides study.toml)")
    ] = None,
    processed: Annotated[
        Path | None, typer.Option(help="processed folder (overrides study.toml)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="write the report here; default: <reports>/<run-id>/ and <reports>/latest"
        ),
    ] = None,
    strict: Annotated[bool, typer.Option(help="exit 1 when any row was quarantined")] = False,
    workers: Annotated[
        int, typer.Option(help="run on a local Dask cluster with N workers (0 = no Dask)")
    ] = 0,
    dask_address: Annotated[
        str | None,
        typer.Option(
            help="run on an existing Dask scheduler, tcp://HOST:PORT (its workers must "
            "see the study folders at the same paths)"
        ),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="patient partitions for the outcomes stage; default: one per local "
            "worker, 8 on an existing cluster, 1 without Dask",
        ),
    ] = None,
) -> None:
    """Run the whole study: ingest, clean, outcomes, statistics, report."""
    from flows.study_flow import run_flow

    try:
        outcome = run_flow(
            config_path=config, raw=raw, processed=processed, out=out,
            workers=workers, dask_address=dask_address, partitions=partitions,
        )  # fmt: skip
    except StudyError as error:
        _fail(str(error))
    if outcome.get("error"):
        _fail(outcome["error"])
    typer.echo(f"report: {outcome['report_dir']}")
    typer.echo(
        f"rows read {outcome['rows_read']}, accepted {outcome['rows_accepted']}, "
        f"quarantined {outcome['rows_quarantined']}, duplicates removed {outcome['duplicates_removed']}"
    )
    if strict and outcome["rows_quarantined"]:
        raise typer.Exit(1)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="the export to check", exists=False)],
    adapter: Annotated[
        str,
        typer.Option(
            help="diary_daily | diary_attacks | sessions | questionnaires | coverage | patients"
        ),
    ],
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="study.toml whose [[sources]] settings apply"),
    ] = None,
    examples: Annotated[int, typer.Option(help="how many problem rows to show")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Check one export: rows read, accepted, quarantined by reason, first examples."""
    from pipeline.config import load_config
    from pipeline.ingest import validate_file

    try:
        study = load_config(config) if config else None
        report = validate_file(file, adapter, study, examples=examples)
    except StudyError as error:
        _fail(str(error))
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        typer.echo(
            f"{report['file']} (adapter {adapter}, {report['encoding']}, separator {report['separator']!r})"
        )
        for label, key in (
            ("rows read", "rows_read"), ("accepted", "rows_accepted"),
            ("quarantined", "rows_quarantined"), ("duplicates", "duplicates_removed"),
        ):  # fmt: skip
            typer.echo(f"  {label:<12} {report[key]:>8}")
        for reason, count in report["by_reason"].items():
            typer.echo(f"    {reason:<22} {count:>6}")
        if report["examples"]:
            typer.echo("first problems:")
            for example in report["examples"]:
                typer.echo(
                    f"  row {example['source_row']:>6}  {example['reason']:<20} {example['message']}"
                )
    if report["rows_quarantined"]:
        raise typer.Exit(1)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="folder to write the synthetic study into")],
    patients: Annotated[int, typer.Option(help="number of diary clients", min=1)] = 60,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same files)")] = 2026,
    effect: Annotated[
        float, typer.Option(help="planted change in migraine days per 28 days")
    ] = -2.0,
    pain_effect: Annotated[float, typer.Option(help="planted change in peak pain (0-10)")] = -1.0,
    regression_to_mean: Annotated[
        bool,
        typer.Option(help="clients enrol after a bad month (--no-regression-to-mean: they do not)"),
    ] = True,
    overwrite: Annotated[bool, typer.Option(help="replace a study already in --out")] = False,
    sample: Annotated[
        bool, typer.Option(help="paths of the bundled sample (data/raw/sample)", hidden=True)
    ] = False,
) -> None:
    """Write a synthetic study: exports in the contract's formats, study.toml, truth.json."""
    from pipeline.simulate import SimulationSettings, simulate_study

    try:
        settings = SimulationSettings(
            effect_migraine_days=effect, effect_peak_pain=pain_effect,
            regression_to_mean=regression_to_mean,
        )  # fmt: skip
    except ValueError as error:
        _fail(str(error))
    paths = {"processed": "../../processed", "reports": "../../../reports"} if sample else {}
    try:
        summary = simulate_study(
            out, patients, seed, settings, progress=lambda m: typer.echo(m, err=True),
            overwrite=overwrite, **paths,
        )  # fmt: skip
    except FileExistsError:
        _fail(f"{out} is not empty; choose another folder or pass --overwrite")
    except (StudyError, OSError) as error:
        _fail(str(error))
    files = summary.to_dict()["files"]
    typer.echo(f"wrote a synthetic study of {patients} clients to {out}: {len(files)} file groups")
    typer.echo(f"run it with: outcome-study run --config {out / 'study.toml'}")


@app.command()
def report(
    results: Annotated[
        Path | None,
        typer.Option(help="a run folder holding results.json; default: <reports>/latest"),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Re-render the report (HTML, PDF, Excel) from the last results, without recomputing."""
    from pipeline.config import load_config
    from pipeline.report import rerender

    try:
        study = load_config(config)
        folder = results or study.reports_dir / "latest"
        written = rerender(folder, study)
    except StudyError as error:
        _fail(str(error))
    for path in written:
        typer.echo(str(path))


@app.command()
def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    cron: Annotated[
        str | None, typer.Option(help="cron schedule; default: [schedule] cron in study.toml")
    ] = None,
    name: Annotated[str, typer.Option(help="deployment name")] = "scheduled",
) -> None:
    """Register a scheduled deployment on a running Prefect server and serve it until stopped."""
    from flows.deploy import serve_deployment

    try:
        serve_deployment(config, cron=cron, name=name)
    except StudyError as error:
        _fail(str(error))


def main() -> None:
    """Entry point of the console script."""
    try:
        app()
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:  # a bug, not bad input: say so in one line
        if _debug():
            traceback.print_exc()
        typer.echo(
            f"outcome-study: internal error: {type(error).__name__}: {error} "
            "(set OUTCOME_STUDY_DEBUG=1 for the traceback)",
            err=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
