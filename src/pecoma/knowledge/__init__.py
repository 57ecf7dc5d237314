"""The guideline as versioned data, checked against its schema when it is loaded.

``load_knowledge()`` reads ``data/guideline.toml`` (or another file with the same shape),
validates every record and cross-reference, and returns an immutable :class:`Knowledge`.
A malformed file raises :class:`~pecoma.errors.KnowledgeError` naming the record and field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pecoma.errors import KnowledgeError

__all__ = [
    "STATEMENT_IDS",
    "Interpretation",
    "Knowledge",
    "MissingRecord",
    "Record",
    "Reference",
    "Statement",
    "fill_wording",
    "load_knowledge",
]

STATEMENT_IDS: tuple[str, ...] = tuple(f"S{i:02d}" for i in range(1, 29))
GUIDELINE_REFS = frozenset({1, 2, 3, 4, 5})

RecordKind = Literal["risk", "classification", "recommendation", "alert", "followup"]
ProvenanceKind = Literal["guideline", "supplementary"]
AlertLevel = Literal["info", "warning", "critical"]

_FROZEN = ConfigDict(extra="forbid", frozen=True)

#: A value of the settings quoted in a follow-up record's wording: ``{low_due_months}``,
#: or in a risk or classification record's, a cut-off in the reading in force:
#: ``{guideline_size_cm}`` (I24).
_SLOT = re.compile(r"\{([a-z][a-z0-9_]*)\}")
#: The cut-offs a risk or classification record may quote (the engine settings of that
#: name: :data:`pecoma.settings.CUT_OFFS`).
_CUT_OFFS = frozenset({"guideline_size_cm", "folpe_size_cm", "folpe_mitoses_per_50_hpf",
                       "bennett_size_cm", "bennett_mitoses_per_50_hpf"})


def fill_wording(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every ``{setting}`` replaced by the value of that setting, so the
    wording of the schedule says the rhythm the plan is drawn with."""
    def value(match: re.Match[str]) -> str:
        try:
            return values[match.group(1)]
        except KeyError:
            raise KnowledgeError(
                f"the wording names the setting '{match.group(1)}', which is not one"
            ) from None

    return _SLOT.sub(value, text)


class Statement(BaseModel):
    model_config = _FROZEN
    id: str = ""
    section: str
    refs: tuple[int, ...]
    text: str


class Reference(BaseModel):
    model_config = _FROZEN
    id: str = ""
    citation: str
    short: str


class Interpretation(BaseModel):
    model_config = _FROZEN
    id: str = ""
    title: str
    text: str


class _Sourced(BaseModel):
    """Provenance fields shared by records and missing-fact records."""

    model_config = _FROZEN
    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")]
    provenance: ProvenanceKind
    statements: tuple[str, ...] = ()
    refs: tuple[int, ...] = ()
    sources: tuple[str, ...] = ()
    interpretations: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _provenance_complete(self) -> _Sourced:
        if self.provenance == "guideline":
            if not self.statements or not self.refs:
                raise ValueError("a guideline item needs 'statements' and 'refs'")
            if self.sources:
                raise ValueError("a guideline item must not name supplementary 'sources'")
        else:
            if not self.sources:
                raise ValueError("a supplementary item needs 'sources' (published references)")
            if self.statements or self.refs:
                raise ValueError(
                    "a supplementary item must not name guideline 'statements' or 'refs'"
                )
        bad = sorted(set(self.refs) - GUIDELINE_REFS)
        if bad:
            raise ValueError(f"'refs' must be within 1-5 (got {bad})")
        return self


class Record(_Sourced):
    kind: RecordKind
    section: str
    strength: str
    title: str
    text: str
    rationale: str
    level: AlertLevel | None = None

    @model_validator(mode="after")
    def _alert_level(self) -> Record:
        if self.kind == "alert" and self.level is None:
            raise ValueError("an alert needs a 'level' (info, warning or critical)")
        quoted = {m for t in (self.title, self.text, self.rationale)
                  for m in _SLOT.findall(t)}
        if self.kind != "followup" and quoted and (
                self.kind not in ("risk", "classification") or quoted - _CUT_OFFS):
            raise ValueError("only a follow-up record may quote a setting ('{name}') of the "
                             "schedule, and only a risk or classification record one of the "
                             f"cut-offs ({', '.join(sorted(_CUT_OFFS))}, I24)")
        return self

    @property
    def quotes_settings(self) -> bool:
        """Whether the wording quotes settings (``{name}``), filled per assessment."""
        return any(_SLOT.search(t) for t in (self.title, self.text, self.rationale))

    def worded(self, values: Mapping[str, str]) -> Record:
        """The record with the settings it quotes filled in from ``values``."""
        if not self.quotes_settings:
            return self
        return self.model_copy(update={
            "title": fill_wording(self.title, values),
            "text": fill_wording(self.text, values),
            "rationale": fill_wording(self.rationale, values),
        })


class MissingRecord(_Sourced):
    field: str
    question: str
    would_change: str
    meanwhile: str


class _Meta(BaseModel):
    model_config = _FROZEN
    version: Annotated[str, Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")]
    title: str
    source: str
    intended_use: str


class _File(BaseModel):
    model_config = _FROZEN
    knowledge: _Meta
    statements: dict[str, Statement]
    references: dict[str, Reference]
    interpretations: dict[str, Interpretation]
    records: tuple[Record, ...]
    missing: tuple[MissingRecord, ...]


class Knowledge:
    """The loaded knowledge base: immutable, indexed by id."""

    __slots__ = (
        "intended_use",
        "interpretations",
        "missing",
        "records",
        "references",
        "statements",
        "title",
        "version",
    )

    def __init__(self, data: _File) -> None:
        self.version: str = data.knowledge.version
        self.title: str = data.knowledge.title
        self.intended_use: str = " ".join(data.knowledge.intended_use.split())
        self.statements: dict[str, Statement] = {
            k: v.model_copy(update={"id": k}) for k, v in data.statements.items()
        }
        self.references: dict[str, Reference] = {
            k: v.model_copy(update={"id": k}) for k, v in data.references.items()
        }
        self.interpretations: dict[str, Interpretation] = {
            k: v.model_copy(update={"id": k}) for k, v in data.interpretations.items()
        }
        self.records: dict[str, Record] = {r.id: r for r in data.records}
        self.missing: dict[str, MissingRecord] = {m.id: m for m in data.missing}

    def worded(self, values: Mapping[str, str]) -> Knowledge:
        """The same knowledge with the settings its records quote filled in from
        ``values`` (:meth:`pecoma.settings.Settings.wording`): what a listing of the
        records shows beside the assessments and plans drawn with those settings."""
        copy = object.__new__(Knowledge)
        for name in Knowledge.__slots__:
            object.__setattr__(copy, name, getattr(self, name))
        copy.records = {rid: rec.worded(values) for rid, rec in self.records.items()}
        return copy

    def record(self, record_id: str) -> Record:
        try:
            return self.records[record_id]
        except KeyError:
            raise KnowledgeError(f"no knowledge record '{record_id}'") from None

    def statements_carried(self) -> dict[str, list[str]]:
        """Statement id -> ids of the records and missing-fact records that carry it."""
        out: dict[str, list[str]] = {s: [] for s in self.statements}
        for item in (*self.records.values(), *self.missing.values()):
            for s in item.statements:
                out[s].append(item.id)
        return out

    def interpretations_cited(self) -> dict[str, list[str]]:
        """Interpretation id -> ids of the records and missing-fact records that cite it
        (an interpretation the engine applies to a patient's facts, such as a cut-off
        read by a setting, I24, may be cited by no record)."""
        out: dict[str, list[str]] = {i: [] for i in self.interpretations}
        for item in (*self.records.values(), *self.missing.values()):
            for i in item.interpretations:
                out[i].append(item.id)
        return out

    def references_cited(self) -> dict[str, list[str]]:
        """Published reference id -> ids of the supplementary records and missing-fact
        records resting on it."""
        out: dict[str, list[str]] = {r: [] for r in self.references}
        for item in (*self.records.values(), *self.missing.values()):
            for r in item.sources:
                out[r].append(item.id)
        return out


def _cross_check(data: _File) -> list[str]:
    problems: list[str] = []
    if tuple(sorted(data.statements)) != STATEMENT_IDS:
        problems.append(f"'statements' must be exactly S01-S28 (got {sorted(data.statements)})")
    seen: set[str] = set()
    for item in (*data.records, *data.missing):
        where = f"record '{item.id}'"
        if item.id in seen:
            problems.append(f"{where}: id is used twice")
        seen.add(item.id)
        for s in item.statements:
            stmt = data.statements.get(s)
            if stmt is None:
                problems.append(f"{where}: unknown statement '{s}'")
                continue
        if item.statements:
            allowed = {r for s in item.statements if s in data.statements
                       for r in data.statements[s].refs}
            extra = sorted(set(item.refs) - allowed)
            if extra:
                problems.append(
                    f"{where}: refs {extra} are not references of its statements "
                    f"{list(item.statements)}"
                )
        for src in item.sources:
            if src not in data.references:
                problems.append(f"{where}: unknown reference '{src}'")
        for i in item.interpretations:
            if i not in data.interpretations:
                problems.append(f"{where}: unknown interpretation '{i}'")
    return problems


def parse_knowledge(text: str, origin: str = "knowledge") -> Knowledge:
    """Parse and check knowledge TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        data = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[:5]
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in first
        )
        raise KnowledgeError(f"{origin}: schema check failed: {detail}") from exc
    problems = _cross_check(data)
    if problems:
        raise KnowledgeError(f"{origin}: " + "; ".join(problems))
    return Knowledge(data)


def load_knowledge(path: Path | None = None) -> Knowledge:
    """Load the bundled knowledge base, or the file at ``path``."""
    if path is None:
        return _bundled()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KnowledgeError(f"cannot read knowledge file {path.name}: {exc.strerror}") from exc
    return parse_knowledge(text, path.name)


@lru_cache(maxsize=1)
def _bundled() -> Knowledge:
    text = resources.files("pecoma.knowledge").joinpath("data/guideline.toml").read_text(
        encoding="utf-8"
    )
    return parse_knowledge(text, "guideline.toml")
