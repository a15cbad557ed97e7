"""The study definition: study.toml and claims.toml, loaded and validated.

Every key has a default that follows the scientific conventions of DESIGN.md, so a
study.toml needs only its ``[[sources]]``. Unknown keys are errors (a typo must not be
silently ignored). Relative paths are resolved against the folder holding study.toml.

Day conventions: window bounds are inclusive day offsets relative to the index date
(the first attended therapy session is day 0; the day before it is day -1).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLAIMS = PROJECT_ROOT / "config" / "claims.toml"

ADAPTERS = ("diary_daily", "diary_attacks", "sessions", "questionnaires", "coverage", "patients")
Adapter = Literal[
    "diary_daily", "diary_attacks", "sessions", "questionnaires", "coverage", "patients"
]

DayRange = Annotated[tuple[int, int], Field(description="inclusive [first, last] day offset")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StudySection(_Strict):
    """``[study]``: identity of the study and the pseudonym key's environment variable."""

    name: str = "Craniosacral therapy and migraine"
    therapy_pattern: str = "(?i)cranio|cranial"
    salt_env: str = "OUTCOME_STUDY_SALT"
    demo: bool = Field(
        False,
        description="Synthetic demo data: without the key in the environment the public demo "
        "key is used and every output says so. Never set this for real clients.",
    )
    claims: str | None = Field(None, description="claims.toml path; default: config/claims.toml")
    groups: tuple[str, ...] = Field(
        (),
        description="Comparison-group labels allowed in sessions.group (e.g. ['therapy', "
        "'waitlist']); without them a group column is ignored.",
    )
    comparison_reference: str | None = Field(
        None, description="Reference level of sessions.group for ANCOVA (e.g. 'waitlist')."
    )

    @model_validator(mode="after")
    def _reference_is_a_group(self) -> StudySection:
        if self.comparison_reference and self.comparison_reference.lower() not in {
            g.lower() for g in self.groups
        }:
            raise ValueError("comparison_reference must be one of [study] groups")
        return self

    @field_validator("therapy_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"therapy_pattern is not a valid regular expression: {exc}") from exc
        return value

    @field_validator("salt_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("salt_env must be an environment variable name, not the key itself")
        return value


class PathsSection(_Strict):
    """``[paths]``: folders, relative to the folder holding study.toml."""

    raw: str = "../data/raw"
    processed: str = "../data/processed"
    reports: str = "../reports"


class WindowsSection(_Strict):
    """``[windows]``: baseline and follow-up windows as inclusive day ranges."""

    baseline: DayRange = (-28, -1)
    followup: dict[str, DayRange] = Field(
        default_factory=lambda: {
            "weeks_1_4": (0, 27),
            "weeks_5_8": (28, 55),
            "weeks_9_12": (56, 83),
        }
    )
    primary: str = "weeks_9_12"
    min_recorded_days: int = Field(14, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> WindowsSection:
        ranges = {"baseline": self.baseline, **self.followup}
        for name, (first, last) in ranges.items():
            if first > last:
                raise ValueError(f"window '{name}' starts after it ends: [{first}, {last}]")
            if self.min_recorded_days > last - first + 1:
                raise ValueError(
                    f"window '{name}' has {last - first + 1} days, fewer than "
                    f"min_recorded_days = {self.min_recorded_days}"
                )
        if "baseline" in self.followup:
            raise ValueError("'baseline' cannot also be a follow-up window name")
        if not self.followup:
            raise ValueError("at least one follow-up window is needed")
        if self.primary not in self.followup:
            raise ValueError(
                f"primary window '{self.primary}' is not among the follow-up windows "
                f"{sorted(self.followup)}"
            )
        if self.baseline[1] >= min(first for first, _ in self.followup.values()):
            raise ValueError("the baseline window must end before every follow-up window starts")
        return self

    @property
    def all(self) -> dict[str, tuple[int, int]]:
        """All windows in order: baseline first, then follow-up windows by start day."""
        ordered = sorted(self.followup.items(), key=lambda item: item[1][0])
        return {"baseline": self.baseline, **dict(ordered)}


class DefinitionsSection(_Strict):
    """``[definitions]``: endpoint definitions (DESIGN.md, scientific conventions)."""

    migraine_min_duration_hours: float = Field(
        0.5, ge=0, description="A headache this long (hours) with migraine features is a migraine."
    )
    migraine_features: tuple[str, ...] = ("aura", "nausea", "photophobia", "phonophobia")
    migraine_features_required: int = Field(1, ge=1)
    responder_thresholds: tuple[int, ...] = Field(
        (50, 75, 100), description="% reduction in monthly migraine days that makes a responder."
    )
    questionnaire_tolerance_days: int = Field(
        21, ge=0, description="A questionnaire counts for a window within this many days of it."
    )
    trajectory_weeks: DayRange = Field(
        (-4, 11), description="Weeks relative to the index date shown in the trajectory."
    )

    @field_validator("migraine_features")
    @classmethod
    def _known_features(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {"aura", "nausea", "photophobia", "phonophobia"}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown migraine features {sorted(unknown)}; known: {sorted(known)}")
        return value

    @field_validator("responder_thresholds")
    @classmethod
    def _percent(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(not 0 < v <= 100 for v in value):
            raise ValueError("responder thresholds are percentages in (0, 100]")
        return tuple(sorted(set(value)))


class MedicationsSection(_Strict):
    """``[medications]``: drug names (generic and brand, lower case) by class.

    Triptans, gepants, ditans and ergots are migraine-specific acute medication; any
    other name in an acute-medication field counts as acute medication only.
    """

    triptans: tuple[str, ...] = (
        "sumatriptan", "rizatriptan", "zolmitriptan", "eletriptan", "naratriptan",
        "almotriptan", "frovatriptan", "imigran", "imitrex", "maxalt", "zomig", "relpax",
        "naramig", "amerge", "almogran", "axert", "migard", "frova", "triptan",
    )  # fmt: skip
    gepants: tuple[str, ...] = (
        "ubrogepant", "rimegepant", "zavegepant", "ubrelvy", "nurtec", "vydura", "zavzpret",
    )  # fmt: skip
    ditans: tuple[str, ...] = ("lasmiditan", "reyvow", "rayvow")
    ergots: tuple[str, ...] = (
        "ergotamine", "dihydroergotamine", "cafergot", "migranal", "trudhesa", "dhe",
    )  # fmt: skip

    @property
    def migraine_specific(self) -> dict[str, tuple[str, ...]]:
        """Migraine-specific acute drug classes and their names."""
        return {
            "triptan": self.triptans,
            "gepant": self.gepants,
            "ditan": self.ditans,
            "ergot": self.ergots,
        }


class VocabularySection(_Strict):
    """``[vocabulary]``: words accepted in yes/no, status and symptom fields (case-insensitive)."""

    yes: tuple[str, ...] = ("yes", "y", "true", "t", "1", "x")
    no: tuple[str, ...] = ("no", "n", "false", "f", "0")
    attended: tuple[str, ...] = (
        "completed", "complete", "arrived", "attended", "checked out", "checked-out", "done",
        "paid", "show",
    )  # fmt: skip
    not_attended: tuple[str, ...] = (
        "cancelled", "canceled", "no show", "no-show", "noshow", "did not attend", "dna",
        "rescheduled", "late cancel", "late cancellation", "cancelled by client",
        "cancelled by practitioner", "booked", "pending", "unconfirmed",
    )  # fmt: skip
    symptoms: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {
            "nausea": ("nausea", "vomiting", "feeling sick"),
            "photophobia": ("sensitivity to light", "light sensitivity", "photophobia"),
            "phonophobia": (
                "sensitivity to noise",
                "sensitivity to sound",
                "noise sensitivity",
                "sound sensitivity",
                "phonophobia",
            ),
            "aura": ("aura", "visual aura", "visual disturbance", "zigzag lines", "blind spot"),
        }
    )

    @model_validator(mode="after")
    def _disjoint(self) -> VocabularySection:
        for left, right in (("yes", "no"), ("attended", "not_attended")):
            overlap = {w.lower() for w in getattr(self, left)} & {
                w.lower() for w in getattr(self, right)
            }
            if overlap:
                raise ValueError(f"words in both '{left}' and '{right}': {sorted(overlap)}")
        return self


class InstrumentSpec(_Strict):
    """A questionnaire instrument: its score range and which direction is better."""

    range: tuple[float, float]
    better: Literal["lower", "higher"] = "lower"
    aliases: tuple[str, ...] = ()


def _default_instruments() -> dict[str, InstrumentSpec]:
    return {
        "HIT-6": InstrumentSpec(range=(36, 78), aliases=("hit6", "hit 6", "headache impact test")),
        "MIDAS": InstrumentSpec(range=(0, 270)),
        "PSS-10": InstrumentSpec(range=(0, 40), aliases=("pss10", "pss", "perceived stress scale")),
        "PSQI": InstrumentSpec(range=(0, 21)),
    }


class AnalysisSection(_Strict):
    """``[analysis]``: test settings shared by every outcome and claim."""

    alpha: float = Field(0.05, gt=0, lt=1)
    confidence: float = Field(0.95, gt=0, lt=1)
    multiplicity: Literal["holm", "bh"] = "holm"
    min_evaluable: int = Field(10, ge=2, description="Fewer evaluable clients: insufficient_data.")
    bootstrap_resamples: int = Field(2000, ge=0)
    seed: int = 20261121
    power: float = Field(0.8, gt=0, lt=1)
    instruments: dict[str, InstrumentSpec] = Field(default_factory=_default_instruments)


class PlaceboSection(_Strict):
    """``[placebo]``: placebo response typical of migraine prevention trials."""

    migraine_days_change: float = -1.8
    responder_rate: float = Field(0.27, ge=0, le=1)
    source: str = (
        "Placebo arm of STRIVE (Goadsby et al., N Engl J Med 2017;377:2123-32): -1.8 monthly "
        "migraine days, 26.6% with a 50% reduction; Macedo et al., Eur J Pain 2008;12:68-75 "
        "report about 21% placebo responders across prophylaxis trials."
    )


class RegressionToMeanSection(_Strict):
    """``[regression_to_mean]``: the population clients are drawn from (Barnett et al. 2005).

    Without ``population_mean`` the expected regression to the mean is not computed and
    the report says so. It is the long-run mean of monthly migraine days (per 28 days)
    in the population the clients come from, not in the enrolled clients.
    """

    population_mean: float | None = Field(None, ge=0, le=28)
    population_sd: float | None = Field(None, gt=0)
    enrolment_cutoff: float | None = Field(
        None, ge=0, le=28, description="clients enrol when their month exceeds this many days"
    )
    source: str = ""


class ScheduleSection(_Strict):
    """``[schedule]``: when the served deployment runs (cron, in the given time zone)."""

    cron: str = "0 2 * * *"
    timezone: str | None = Field(None, description="IANA zone; default: the machine's local zone")


class SourceSection(_Strict):
    """One ``[[sources]]`` table: an input export read by one adapter."""

    adapter: Adapter
    path: str = Field(description="glob relative to the raw folder")
    date_format: str = "%Y-%m-%d"
    datetime_format: str = "%Y-%m-%d %H:%M"
    columns: dict[str, str] = Field(default_factory=dict, description="source name -> canonical")
    pain_scale: Literal[3, 10] = 10
    sheet: str | int | None = None
    encoding: str | None = None
    delimiter: str | None = None

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(f"source path '{value}' must be a glob inside the raw folder")
        return value


class Claim(_Strict):
    """One claim under test (claims.toml ``[[claims]]``)."""

    id: str
    claim: str = Field(description="the clinic's wording")
    outcome: str
    window: str = "primary"
    direction: Literal["decrease", "increase"] = "decrease"
    minimal_important_change: float = Field(
        ge=0, description="smallest change (outcome units, magnitude) that matters to clients"
    )
    test: Literal["paired", "adverse_events"] = "paired"
    fallback_outcome: str | None = Field(
        None, description="outcome used, and named as a proxy, when `outcome` has no data"
    )
    fallback_minimal_important_change: float | None = Field(None, ge=0)
    max_reaction_hours: float = Field(24, gt=0, description="adverse_events: resolution limit")
    min_resolved_share: float = Field(
        0.9, gt=0, le=1, description="adverse_events: share of reactions that must resolve in time"
    )


class ClaimsFile(_Strict):
    claims: tuple[Claim, ...]

    @model_validator(mode="after")
    def _unique(self) -> ClaimsFile:
        ids = [c.id for c in self.claims]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"claim ids must be unique; repeated: {duplicated}")
        return self


class StudyConfig(_Strict):
    """The validated study definition; build it with :func:`load_config`."""

    study: StudySection = Field(default_factory=StudySection)
    paths: PathsSection = Field(default_factory=PathsSection)
    windows: WindowsSection = Field(default_factory=WindowsSection)
    definitions: DefinitionsSection = Field(default_factory=DefinitionsSection)
    medications: MedicationsSection = Field(default_factory=MedicationsSection)
    vocabulary: VocabularySection = Field(default_factory=VocabularySection)
    analysis: AnalysisSection = Field(default_factory=AnalysisSection)
    placebo: PlaceboSection = Field(default_factory=PlaceboSection)
    regression_to_mean: RegressionToMeanSection = Field(default_factory=RegressionToMeanSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    sources: tuple[SourceSection, ...] = ()
    claims: tuple[Claim, ...] = ()
    base_dir: Path = Field(Path("."), description="folder holding study.toml (set by loader)")

    @model_validator(mode="after")
    def _claims_fit(self) -> StudyConfig:
        for claim in self.claims:
            if claim.window not in ("primary", *self.windows.followup):
                raise ValueError(
                    f"claim '{claim.id}' names window '{claim.window}', which is not 'primary' "
                    f"or a follow-up window {sorted(self.windows.followup)}"
                )
        return self

    def resolve(self, relative: str) -> Path:
        """Resolve a path from study.toml against the folder that holds it."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def raw_dir(self) -> Path:
        return self.resolve(self.paths.raw)

    @property
    def processed_dir(self) -> Path:
        return self.resolve(self.paths.processed)

    @property
    def reports_dir(self) -> Path:
        return self.resolve(self.paths.reports)

    def claim_window(self, claim: Claim) -> str:
        """The follow-up window a claim is judged on (``primary`` resolved)."""
        return self.windows.primary if claim.window == "primary" else claim.window

    def analysis_fingerprint(self) -> str:
        """sha256 (hex) of everything that shapes the results, paths excluded.

        Two runs with the same fingerprint, inputs and code give the same results.
        """
        content = self.model_dump(mode="json", exclude={"paths", "base_dir"})
        blob = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    def with_paths(
        self,
        raw: str | Path | None = None,
        processed: str | Path | None = None,
        reports: str | Path | None = None,
    ) -> StudyConfig:
        """Copy with folders overridden (command-line options win over study.toml)."""
        paths = self.paths.model_copy(
            update={
                k: str(Path(v).resolve())
                for k, v in {"raw": raw, "processed": processed, "reports": reports}.items()
                if v is not None
            }
        )
        return self.model_copy(update={"paths": paths})


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def _explain(path: Path, exc: ValidationError) -> ConfigError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return ConfigError(f"{path}: {where}: {first['msg']}{more}")


def load_claims(path: Path) -> tuple[Claim, ...]:
    """Load and validate a claims.toml file.

    Parameters
    ----------
    path : Path
        The claims file (``[[claims]]`` tables).

    Returns
    -------
    tuple of Claim
    """
    try:
        return ClaimsFile.model_validate(_read_toml(path)).claims
    except ValidationError as exc:
        raise _explain(path, exc) from None


def load_config(path: str | Path) -> StudyConfig:
    """Load study.toml (and the claims file it uses) into a validated :class:`StudyConfig`.

    Parameters
    ----------
    path : str or Path
        The study.toml file. Relative paths inside it resolve against its folder.

    Returns
    -------
    StudyConfig

    Raises
    ------
    ConfigError
        The file is missing, not TOML, or a key is unknown or invalid; the message names
        the file and the key.
    """
    path = Path(path).resolve()
    data = _read_toml(path)
    if "claims" in data:
        raise ConfigError(f"{path}: claims belong in claims.toml, not study.toml")
    study = data.get("study", {})
    claims_path = (
        (path.parent / study["claims"]).resolve()
        if isinstance(study, dict) and study.get("claims")
        else DEFAULT_CLAIMS
    )
    claims = load_claims(claims_path)
    try:
        config = StudyConfig.model_validate({**data, "claims": claims, "base_dir": path.parent})
    except ValidationError as exc:
        raise _explain(path, exc) from None
    if not config.sources:
        raise ConfigError(f"{path}: no [[sources]] tables: nothing to read")
    return config
