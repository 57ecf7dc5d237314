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
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from pecoma.case import PrimarySite
from pecoma.errors import ConfigError
from pecoma.numbers import number_text

__all__ = [
    "CUT_OFFS",
    "EngineSettings",
    "FollowupSettings",
    "Settings",
    "Threshold",
    "default_settings",
    "load_settings",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class Threshold(BaseModel):
    """A cut-off: a value counts when it is above ``value`` (or equal, if ``inclusive``).

    Each cut-off of the engine is a source's: ``source`` names it, ``source_inclusive``
    is how it reads the cut-off, ``unit`` what is measured (I24)."""

    model_config = _FROZEN
    value: Annotated[float, Field(ge=0)]
    inclusive: bool
    source: ClassVar[str] = ""
    source_inclusive: ClassVar[bool] = False
    unit: ClassVar[Literal["cm", "per 50 HPF"]] = "cm"

    def met(self, x: float) -> bool:
        return x >= self.value if self.inclusive else x > self.value

    @property
    def symbol(self) -> str:
        return "≥" if self.inclusive else ">"

    def __str__(self) -> str:
        return f"{self.symbol} {number_text(self.value)}"

    @property
    def words(self) -> str:
        """The cut-off as the texts say it, in the reading in force: 'larger than 5 cm'
        or '5 cm or larger'; 'above 1 per 50 HPF' or '1 or more per 50 HPF'."""
        return _cut_off_words(self.value, self.unit, self.inclusive)

    def decided_locally(self, x: float) -> bool:
        """Whether ``x`` lies exactly at the cut-off and the reading in force departs from
        the source's: the setting, not the source, decided whether it counts (I24)."""
        return x == self.value and self.inclusive != self.source_inclusive

    @property
    def reading(self) -> str:
        """What the setting does at the cut-off, beside the source's reading: the value of
        the fact that names the setting when it decided (I24)."""
        return (f"{'inclusive' if self.inclusive else 'not inclusive'} (a local setting): "
                f"exactly {number_text(self.value)} {self.unit} "
                f"{'counts' if self.inclusive else 'does not count'} (the source, "
                f"{self.source}: {_cut_off_words(self.value, self.unit, self.source_inclusive)}"
                ", I24)")


def _cut_off_words(value: float, unit: str, inclusive: bool) -> str:
    number = number_text(value)
    if unit == "cm":
        return f"{number} cm or larger" if inclusive else f"larger than {number} cm"
    return f"{number} or more {unit}" if inclusive else f"above {number} {unit}"


class _Within:
    """A setting kept to what the statement it implements allows: the check of a field,
    and the range the S23 check draws its suggested fixes from."""

    def __init__(self, low: int, high: int, unit: str, why: str) -> None:
        self.low, self.high, self.why = low, high, why
        self.allowed = f"{low} {unit}" if low == high else f"from {low} to {high} {unit}"

    def __call__(self, value: int) -> int:
        if not self.low <= value <= self.high:
            raise ValueError(f"must be {self.allowed} ({self.why})")
        return value


def _within(low: int, high: int, unit: str, why: str) -> AfterValidator:
    """A setting kept to what the statement it implements allows."""
    return AfterValidator(_Within(low, high, unit, why))


class _Exactly:
    """A cut-off's value, the source's own: only whether it is inclusive is a setting."""

    def __init__(self, value: float, unit: str, why: str) -> None:
        self.value, self.why = value, why
        self.allowed = f"{number_text(value)} {unit}"

    def __call__(self, value: float) -> float:
        if value != self.value:
            raise ValueError(f"must be {self.allowed} ({self.why}; only 'inclusive' "
                             f"is a setting)")
        return value


#: The engine's cut-offs, each quoted by name in the wording of the risk and
#: classification records (I24).
CUT_OFFS = ("guideline_size_cm", "folpe_size_cm", "folpe_mitoses_per_50_hpf",
            "bennett_size_cm", "bennett_mitoses_per_50_hpf")

# The engine's cut-offs are the sources' own values: S06 for the guideline's size, the
# published criteria for the supplementary classifications. Published restatements differ
# on ">" versus ">=", so whether a cut-off is inclusive stays a setting; its value does not.
_S06 = "S06: tumour size > 5 cm"
_FOLPE = "supplementary, Folpe et al. 2005"
_BENNETT = "supplementary, Bennett et al. 2018"


class _GuidelineSize(Threshold):
    value: Annotated[float, AfterValidator(_Exactly(5.0, "cm", _S06))]
    source: ClassVar[str] = "S06"


class _FolpeSize(Threshold):
    value: Annotated[float, AfterValidator(_Exactly(5.0, "cm", f"{_FOLPE}: size > 5 cm"))]
    source: ClassVar[str] = "Folpe et al. 2005"


class _FolpeMitoses(Threshold):
    value: Annotated[float, AfterValidator(_Exactly(
        1.0, "per 50 HPF", f"{_FOLPE}: mitoses > 1/50 HPF"))]
    source: ClassVar[str] = "Folpe et al. 2005"
    unit: ClassVar[Literal["cm", "per 50 HPF"]] = "per 50 HPF"


class _BennettSize(Threshold):
    value: Annotated[float, AfterValidator(_Exactly(5.0, "cm", f"{_BENNETT}: size >= 5 cm"))]
    source: ClassVar[str] = "Bennett et al. 2018"
    source_inclusive: ClassVar[bool] = True


class _BennettMitoses(Threshold):
    value: Annotated[float, AfterValidator(_Exactly(
        1.0, "per 50 HPF", f"{_BENNETT}: mitoses > 1/50 HPF"))]
    source: ClassVar[str] = "Bennett et al. 2018"
    unit: ClassVar[Literal["cm", "per 50 HPF"]] = "per 50 HPF"


def _with_broad_ligament(sites: tuple[PrimarySite, ...]) -> tuple[PrimarySite, ...]:
    """S10 names the broad ligament as a high-risk site: it stays; others may be added."""
    if "broad_ligament" not in sites:
        raise ValueError("must include 'broad_ligament' (S10: high-risk anatomical sites, "
                         "e.g. broad ligament; other sites may be added)")
    return sites


class EngineSettings(BaseModel):
    """The engine's cut-offs and lists, each kept, when it is read, to the statement or
    reference it implements: a settings file cannot move the engine away from a source
    its items cite. Only what the sources leave open is a setting: whether a cut-off is
    inclusive, and sites added to S10's broad ligament."""

    model_config = _FROZEN
    guideline_size_cm: _GuidelineSize
    folpe_size_cm: _FolpeSize
    folpe_mitoses_per_50_hpf: _FolpeMitoses
    bennett_size_cm: _BennettSize
    bennett_mitoses_per_50_hpf: _BennettMitoses
    bennett_malignant_min_features: Annotated[int, _within(
        3, 3, "features", f"{_BENNETT}: malignant with 3 or more features")]
    high_risk_sites: Annotated[tuple[PrimarySite, ...], AfterValidator(_with_broad_ligament)]
    metastasectomy_min_dfi_months: Annotated[int, _within(
        12, 12, "months", "S16: a disease-free interval of at least 1 year; I5")]

    def wording(self) -> dict[str, str]:
        """The cut-offs by setting name as the risk and classification records quote them
        (``{guideline_size_cm}`` in a record's text), in the reading in force (I24)."""
        return {name: getattr(self, name).words for name in CUT_OFFS}


# The range each schedule setting may take: the guideline fixes the high-risk rhythm
# (S18-S20) and the supplementary reference the low-risk one (I3); only the ends of their
# ranges are settings (I2). A fixed rhythm ("every 6 months", "annually") may be overdue
# one month after it is due, as "every 3-4 months" is due at 3 and overdue after 4.
_S18_DUE = _within(3, 4, "months", "S18: every 3-4 months; I2")
_S18_YEARS = _within(2, 3, "years", "S18: for the first 2-3 years; I2")
_S19_INTERVAL = _within(6, 6, "months", "S19: every 6 months up to year 5")
_S19_OVERDUE = _within(6, 7, "months", "S19: every 6 months, overdue one month later at most; I2")
_S19_UNTIL = _within(5, 5, "years", "S19: every 6 months up to year 5")
_I3_DUE = _within(4, 6, "months", "I3, supplementary: every 4-6 months")
_I3_YEARS = _within(3, 5, "years", "I3, supplementary: for the first 3-5 years")
_YEARLY_OVERDUE = _within(12, 13, "months",
                          "S20 and I3: yearly, overdue one month later at most; I2")


#: The validation context of a candidate fix of the S23 check (no fixes of its own sought).
_TRYING_A_FIX = "trying a fix"

#: The settings the follow-up records' wording may quote: every number of the schedule.
_WORDED = (
    "high_intensive_due_months", "high_intensive_overdue_months", "high_intensive_years",
    "high_middle_interval_months", "high_middle_overdue_months", "high_middle_until_year",
    "low_due_months", "low_overdue_months", "low_frequent_years", "yearly_overdue_months",
    "horizon_years",
)


class FollowupSettings(BaseModel):
    """The ends of every range in the surveillance statements (I2-I4).

    Every setting of the schedule is kept, when it is read, to the range of the statement
    it implements (S18-S20 for high risk, the supplementary reference of I3 for low risk):
    a settings file cannot draw a plan the guideline does not give while the plan names
    the guideline as its source."""

    model_config = _FROZEN
    high_intensive_due_months: Annotated[int, _S18_DUE]
    high_intensive_overdue_months: Annotated[int, _S18_DUE]
    high_intensive_years: Annotated[int, _S18_YEARS]
    high_middle_interval_months: Annotated[int, _S19_INTERVAL]
    high_middle_overdue_months: Annotated[int, _S19_OVERDUE]
    high_middle_until_year: Annotated[int, _S19_UNTIL]
    low_due_months: Annotated[int, _I3_DUE]
    low_overdue_months: Annotated[int, _I3_DUE]
    low_frequent_years: Annotated[int, _I3_YEARS]
    yearly_overdue_months: Annotated[int, _YEARLY_OVERDUE]
    horizon_years: Annotated[int, Field(ge=1, le=50)]
    # I12: the guideline names chest CT (S21) and MRI of the primary site (S22) for high
    # risk only; which of them low-risk visits plan is the project's interpretation.
    low_risk_imaging: tuple[Literal["chest_ct", "mri_primary"], ...] = ("chest_ct", "mri_primary")
    # Calendar exports: each open visit's event reminds this many days before its window
    # opens (0: on the day it opens). A convenience of the export, not from the guideline.
    calendar_reminder_days: Annotated[int, Field(ge=0, le=365)] = 14

    @model_validator(mode="after")
    def _windows(self, info: ValidationInfo) -> FollowupSettings:
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
                message = (
                    f"the low-risk schedule must not be more intensive than the high-risk one "
                    f"(S23): in year {year} after treatment it has {lo} visits and the "
                    f"high-risk schedule {h}"
                )
                if info.context == _TRYING_A_FIX:
                    raise ValueError(message)
                raise ValueError(f"{message}; {self._s23_fixes()}")
        return self

    def _s23_fixes(self) -> str:
        """The changes of one setting, each kept to its range (and its overdue month moved
        with a due month where it must), that would make these settings load."""
        current = self.model_dump()
        fixes = []
        for name, field in type(self).model_fields.items():
            ranges = [m.func for m in field.metadata
                      if isinstance(m, AfterValidator) and isinstance(m.func, _Within)]
            if not ranges or name.endswith("_overdue_months"):  # these count no visit
                continue
            allowed = range(ranges[0].low, ranges[0].high + 1)
            for value in sorted(allowed, key=lambda v: (abs(v - current[name]), v)):
                if value == current[name]:
                    continue
                change = {name: value}
                overdue = name.replace("_due_months", "_overdue_months")
                if overdue != name and current[overdue] < value:
                    change[overdue] = value
                try:
                    type(self).model_validate({**current, **change}, context=_TRYING_A_FIX)
                except ValidationError:
                    continue
                first, *more = (f"{k} = {v}" for k, v in change.items())
                fixes.append(f"{first} (with {more[0]})" if more else first)
                break
        if not fixes:  # not met with settings kept to their ranges; said plainly if it were
            return "no change of one setting within its range resolves it"
        return "within the allowed ranges, set " + ", or ".join(fixes)

    def wording(self) -> dict[str, str]:
        """The schedule's values by setting name, as the follow-up records' wording
        quotes them (``{high_intensive_due_months}`` in a record's text)."""
        return {name: str(getattr(self, name)) for name in _WORDED}

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

    def wording(self) -> dict[str, str]:
        """The values the records' wording quotes: the schedule's numbers and the cut-offs
        in the reading in force."""
        return {**self.followup.wording(), **self.engine.wording()}

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
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "model_type":  # pydantic would name the class, not the shape
            message = "must be a table (e.g. { value = 5.0, inclusive = false })" if (
                where.startswith("engine.") and where.count(".") == 1) else "must be a table"
        given = err.get("input")
        if isinstance(given, Mapping):  # a rule across a table's fields: it names them
            raise ConfigError(f"{origin}: '{where}': {message}") from exc
        raise ConfigError(f"{origin}: '{where}' {message} (got {given!r})") from exc


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
