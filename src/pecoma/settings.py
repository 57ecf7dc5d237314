"""Settings: every documented default of the project's interpretation, in one object.

The defaults live in ``defaults.toml`` beside this module (the documented settings file);
a user's file with the same shape overrides any subset of it. Settings come into the
engine as an object; nothing reads globals or the environment inside the rules.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pecoma.case import PrimarySite
from pecoma.errors import ConfigError

__all__ = [
    "EngineSettings",
    "FollowupSettings",
    "Settings",
    "Threshold",
    "default_settings",
    "load_settings",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Threshold(BaseModel):
    """A cut-off: a value counts when it is above ``value`` (or equal, if ``inclusive``)."""

    model_config = _FROZEN
    value: Annotated[float, Field(ge=0)]
    inclusive: bool

    def met(self, x: float) -> bool:
        return x >= self.value if self.inclusive else x > self.value

    @property
    def symbol(self) -> str:
        return "≥" if self.inclusive else ">"

    def __str__(self) -> str:
        return f"{self.symbol} {self.value:g}"


class EngineSettings(BaseModel):
    model_config = _FROZEN
    guideline_size_cm: Threshold
    folpe_size_cm: Threshold
    folpe_mitoses_per_50_hpf: Threshold
    bennett_size_cm: Threshold
    bennett_mitoses_per_50_hpf: Threshold
    bennett_malignant_min_features: Annotated[int, Field(ge=1, le=5)]
    high_risk_sites: tuple[PrimarySite, ...]
    metastasectomy_min_dfi_months: Annotated[int, Field(ge=0, le=120)]


class FollowupSettings(BaseModel):
    """The ends of every range in the surveillance statements (I2-I4)."""

    model_config = _FROZEN
    high_intensive_due_months: Annotated[int, Field(ge=1, le=12)]
    high_intensive_overdue_months: Annotated[int, Field(ge=1, le=12)]
    high_intensive_years: Annotated[int, Field(ge=1, le=5)]
    high_middle_interval_months: Annotated[int, Field(ge=1, le=12)]
    high_middle_overdue_months: Annotated[int, Field(ge=1, le=24)]
    high_middle_until_year: Annotated[int, Field(ge=1, le=10)]
    low_due_months: Annotated[int, Field(ge=1, le=12)]
    low_overdue_months: Annotated[int, Field(ge=1, le=24)]
    low_frequent_years: Annotated[int, Field(ge=1, le=10)]
    yearly_overdue_months: Annotated[int, Field(ge=12, le=24)]
    horizon_years: Annotated[int, Field(ge=1, le=50)]
    # I12: the guideline names chest CT (S21) and MRI of the primary site (S22) for high
    # risk only; which of them low-risk visits plan is the project's interpretation.
    low_risk_imaging: tuple[Literal["chest_ct", "mri_primary"], ...] = ("chest_ct", "mri_primary")
    # Calendar exports: each open visit's event reminds this many days before its window
    # opens (0: on the day it opens). A convenience of the export, not from the guideline.
    calendar_reminder_days: Annotated[int, Field(ge=0, le=365)] = 14

    @model_validator(mode="after")
    def _windows(self) -> FollowupSettings:
        if len(set(self.low_risk_imaging)) != len(self.low_risk_imaging):
            raise ValueError(
                "'low_risk_imaging' must name each examination once "
                f"(got {list(self.low_risk_imaging)})"
            )
        pairs = [
            ("high_intensive", self.high_intensive_due_months, self.high_intensive_overdue_months),
            ("high_middle", self.high_middle_interval_months, self.high_middle_overdue_months),
            ("low", self.low_due_months, self.low_overdue_months),
        ]
        for name, due, overdue in pairs:
            if overdue < due:
                raise ValueError(
                    f"'{name}' overdue months must be at least its due months "
                    f"(got due {due}, overdue {overdue})"
                )
        if self.high_middle_until_year <= self.high_intensive_years:
            raise ValueError(
                "'high_middle_until_year' must be after 'high_intensive_years' "
                f"(got {self.high_middle_until_year} <= {self.high_intensive_years})"
            )
        # S23: low risk is monitored less intensively, never more, than high risk: in no
        # year after treatment may the low-risk plan hold more visits than the high-risk one.
        years = max(self.horizon_years, self.high_middle_until_year, self.low_frequent_years) + 1
        high = self.visits_per_year("high", years)
        low = self.visits_per_year("low", years)
        for year, (h, lo) in enumerate(zip(high, low, strict=True), start=1):
            if lo > h:
                raise ValueError(
                    f"the low-risk schedule must not be more intensive than the high-risk one "
                    f"(S23): in year {year} after treatment it has {lo} visits and the "
                    f"high-risk schedule {h}; shorten 'low_frequent_years' or lengthen "
                    "'low_due_months' with it"
                )
        return self

    def visits_per_year(self, group: str, years: int) -> list[int]:
        """Visits of the plan without scans in each year after treatment (1-based years)."""
        counts = [0] * years
        month = 0
        while True:
            month += self.interval_in_force(group, month)
            if month > years * 12:
                return counts
            counts[(month - 1) // 12] += 1

    def interval_in_force(self, group: str, month: int) -> int:
        """Months between visits for the period starting ``month`` months after treatment."""
        if group == "high":
            if month < self.high_intensive_years * 12:
                return self.high_intensive_due_months
            if month < self.high_middle_until_year * 12:
                return self.high_middle_interval_months
            return 12
        return self.low_due_months if month < self.low_frequent_years * 12 else 12


class Settings(BaseModel):
    model_config = _FROZEN
    engine: EngineSettings
    followup: FollowupSettings

    @cached_property
    def fingerprint(self) -> str:
        """A short fingerprint of the settings, computed once per settings object."""
        return self.digest()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (with updates); its fingerprint is computed afresh, never copied."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("fingerprint", None)
        return copy

    def digest(self) -> str:
        """A short fingerprint of the settings, shown with every assessment."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _defaults_raw() -> dict[str, Any]:
    text = resources.files("pecoma").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], over: dict[str, Any], path: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        where = f"{path}.{key}" if path else key
        if key not in base:
            raise ConfigError(f"'{where}' is not a setting (allowed: {', '.join(sorted(base))})")
        if isinstance(base[key], dict) and isinstance(value, dict) and "value" not in base[key]:
            out[key] = _merge(base[key], value, where)
        else:
            out[key] = value
    return out


def _validate(raw: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"{origin}: '{where}' {err['msg'].removeprefix('Value error, ')} "
            f"(got {err.get('input')!r})"
        ) from exc


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    return _validate(_defaults_raw(), "defaults.toml")


def load_settings(path: Path | None = None) -> Settings:
    """The defaults, overridden by the TOML file at ``path`` when one is given."""
    if path is None:
        return default_settings()
    try:
        over = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read settings file {path.name}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"settings file {path.name} is not UTF-8 text (byte "
                          f"{exc.start + 1})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path.name} is not valid TOML: {exc}") from exc
    return _validate(_merge(_defaults_raw(), over), path.name)
