"""Text files of a simulated study: study.toml (reads every export) and README.md."""

from __future__ import annotations

import json
from collections.abc import Mapping

from pipeline.config import WindowsSection
from pipeline.simulate.render import ATTACK_DATETIME_FORMAT, DATE_FORMATS, SITE_B_COLUMNS
from pipeline.simulate.settings import SimulationSettings


def _q(text: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)


def _range(bounds: tuple[int, int]) -> str:
    return f"[{bounds[0]}, {bounds[1]}]"


def study_toml(
    seed: int,
    n_patients: int,
    files: Mapping[str, int],
    processed: str,
    reports: str,
    population_mean: float | None = None,
) -> str:
    """study.toml that reads every written export (sources only for files that exist).

    Parameters
    ----------
    seed, n_patients : int
    files : mapping
        Written files (relative paths; attack logs as ``attacks/*.csv``).
    processed, reports : str
        ``[paths]`` entries, relative to the study folder.
    population_mean : float, optional
        Mean latent migraine days per 28 of the simulated population, written as
        ``[regression_to_mean] population_mean`` (known here, unlike in a real clinic).
    """
    windows = WindowsSection()
    followup = ", ".join(f"{name} = {_range(r)}" for name, r in windows.followup.items())
    lines = [
        f"# Synthetic study written by pipeline.simulate (seed {seed}, {n_patients} diary clients).",
        "# Every name, email and phone number in these files is invented; see README.md.",
        "",
        "[study]",
        f"name = {_q(f'Synthetic craniosacral therapy study (seed {seed})')}",
        f"therapy_pattern = {_q('(?i)cranio|cranial')}",
        "demo = true  # synthetic data: without a key set, the public demo pseudonym key is used",
        "",
        "[paths]  # relative to this file's folder",
        'raw = "."',
        f"processed = {_q(processed)}",
        f"reports = {_q(reports)}",
        "",
        "[windows]",
        f"baseline = {_range(windows.baseline)}",
        f"followup = {{ {followup} }}",
        f"primary = {_q(windows.primary)}",
        f"min_recorded_days = {windows.min_recorded_days}",
    ]
    if population_mean is not None:
        lines += [
            "",
            "[regression_to_mean]  # known for a simulated population; estimate it for a real clinic",
            f"population_mean = {population_mean:.4g}",
            f"source = {_q('mean latent migraine days per 28 of the simulated population')}",
        ]

    def source(adapter: str, path: str, comment: str, **keys: str) -> None:
        if not any(
            name == path or (path.endswith("*.csv") and name.startswith(path[:-5]))
            for name in files
        ):
            return
        lines.extend(
            ["", f"# {comment}", "[[sources]]", f"adapter = {_q(adapter)}", f"path = {_q(path)}"]
        )
        lines.extend(f"{key} = {value}" for key, value in keys.items())

    source("sessions", "sessions/*.csv", "practice exports: UTF-8 with BOM, two overlapping files",
           date_format=_q(DATE_FORMATS["sessions"]))  # fmt: skip
    source("diary_daily", "diaries/daily_site_a.csv", "site A daily form: canonical names, ISO dates",
           date_format=_q(DATE_FORMATS["site_a"]))  # fmt: skip
    renames = ", ".join(f"{_q(k)} = {_q(v)}" for k, v in SITE_B_COLUMNS.items())
    source("diary_daily", "diaries/daily_site_b.csv",
           "site B daily form: cp1252, ';', own column names, pain on 0-3, no migraine column",
           date_format=_q(DATE_FORMATS["site_b"]), pain_scale="3", columns=f"{{ {renames} }}")  # fmt: skip
    source("diary_attacks", "attacks/*.csv", "attack logs (Migraine Buddy style), one file per client",
           datetime_format=_q(ATTACK_DATETIME_FORMAT))  # fmt: skip
    source("coverage", "coverage/coverage.csv", "days the attack-log clients kept the app",
           date_format=_q(DATE_FORMATS["iso"]))  # fmt: skip
    source(
        "questionnaires",
        "questionnaires/questionnaires.xlsx",
        "HIT-6 and PSS-10 (real Excel dates)",
    )
    source("patients", "patients/patients.csv", "linkage: diary id -> practice client id or email")
    return "\n".join(lines) + "\n"


def readme_text(
    seed: int,
    n_patients: int,
    settings: SimulationSettings,
    counts: Mapping[str, int],
    planted: Mapping[str, int],
) -> str:
    """README.md of a simulated study."""
    s = settings
    expected = s.expected_change()
    defaults = SimulationSettings().to_json()
    setting_lines = "\n".join(
        f"- `{name}` = {json.dumps(value)}" + ("" if defaults[name] == value else " (changed)")
        for name, value in s.to_json().items()
    )
    count_lines = "\n".join(f"- {k.replace('_', ' ')}: {v}" for k, v in counts.items())
    planted_lines = "\n".join(f"- {k}: {v}" for k, v in planted.items())
    return f"""# Synthetic craniosacral therapy study (seed {seed})

Written by `pipeline.simulate.simulate_study` for {n_patients} diary clients with seed {seed}.
**Nothing here is real.** Every name, email address and phone number is invented (emails
use the reserved example.org / example.com / example.net domains, phone numbers the UK
drama range 07700 900xxx). `study.toml` sets `demo = true`, so without a pseudonym key in
the environment the pipeline uses the public demo key and says so in every output. Never
use that setting for real clients.

The same seed and settings always give byte-identical files.

## What is planted

- Latent migraine rate per client: {s.migraine_rate_range[0]:g}-{s.migraine_rate_range[1]:g} days
  per 28 (mean {s.mean_migraine_rate:g}), month-to-month fluctuation +/-{s.monthly_fluctuation:g},
  tension-type headaches on other days.
- Therapy effect (change = follow-up - baseline, negative = fewer): {s.effect_migraine_days:g}
  migraine days per 28, {s.effect_peak_pain:g} points of peak pain on migraine days,
  {s.effect_stress:g} stress and {s.effect_sleep_quality:+g} sleep quality (direct), ramping in
  over the first {s.effect_ramp_days} days.
- Regression to the mean: {"on (clients enrol after a bad month)" if s.regression_to_mean else "off"}.
  Expected change weeks 9-12 - baseline in migraine days per 28: {expected["migraine_days"]:.3f}.

## Settings (see `pipeline.simulate.SimulationSettings`)

{setting_lines}

## Files

- `sessions/sessions_export_2025.csv`, `sessions/sessions_export_overlap.csv`: the
  practice-management exports (UTF-8 with BOM, dates dd/mm/yyyy); the second repeats
  the last {s.overlap_days} days of the first.
- `diaries/daily_site_a.csv` (UTF-8, `,`, ISO dates) and `diaries/daily_site_b.csv`
  (cp1252, `;`, dd.mm.yyyy, own column names, worst pain on 0-3, no migraine column).
- `attacks/<patient_id>.csv`: attack logs of app users; `coverage/coverage.csv`: the
  days they kept the app (one client deliberately has no row).
- `questionnaires/questionnaires.xlsx`: HIT-6 and PSS-10 at baseline and week 12.
- `patients/patients.csv`: diary id -> practice client id (or, for some, email only).
- `study.toml`: reads all of the above. `truth.json`: settings, expected changes, the
  per-client truth (no names or contact details) and every planted problem (file, 1-based
  data row, canonical column, kind).

## Counts

{count_lines}

## Planted problems (rows)

{planted_lines}
"""
