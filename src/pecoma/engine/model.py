"""The assessment: what the engine returns, as immutable values (named tuples for the
many small values, frozen dataclasses for the few large ones).

Every item carries its provenance (``guideline`` with statement ids and references, or
``supplementary`` with full published references) and the facts that triggered it.
``to_jsonable`` turns any of these values into plain JSON data, in a stable order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, NamedTuple

__all__ = [
    "ASSESSMENT_FORMAT",
    "Assessment",
    "Classification",
    "Criterion",
    "Fact",
    "Item",
    "ItemTemplate",
    "MissingFact",
    "Provenance",
    "Risk",
    "RiskFeature",
    "Source",
    "UsedInterpretation",
    "to_jsonable",
]

ASSESSMENT_FORMAT = "pecoma-assessment/1"

RiskGroup = Literal["high", "low", "indeterminate", "not_applicable"]
State = Literal["present", "absent", "unknown"]


@dataclass(frozen=True, slots=True)
class Source:
    """A published reference behind a supplementary item."""

    id: str
    short: str
    citation: str


@dataclass(frozen=True, slots=True)
class Provenance:
    kind: Literal["guideline", "supplementary"]
    statements: tuple[str, ...]
    refs: tuple[int, ...]
    sources: tuple[Source, ...]
    interpretations: tuple[str, ...]

    @property
    def label(self) -> str:
        """One line a clinician reads: where this item comes from."""
        if self.kind == "guideline":
            refs = ", ".join(f"[{r}]" for r in self.refs)
            text = f"guideline {', '.join(self.statements)} · ref {refs}"
        else:
            text = "supplementary (not from the guideline) · " + "; ".join(
                s.short for s in self.sources
            )
        if self.interpretations:
            text += f" · interpretation {', '.join(self.interpretations)}"
        return text


class Fact(NamedTuple):
    """A fact of the case (or derived from it) that an item rests on."""

    path: str
    value: str


class ItemTemplate(NamedTuple):
    """What a knowledge record says, with its provenance: built once per record."""

    id: str
    kind: str
    section: str
    title: str
    text: str
    rationale: str
    strength: str
    level: str | None
    provenance: Provenance


class Item(NamedTuple):
    """A recommendation, alert, risk rule, classification note or follow-up rule: a
    record's template, the facts that triggered it, and the missing facts it is
    provisional on. Its JSON form is flat (the template's fields, then the two lists)."""

    template: ItemTemplate
    triggered_by: tuple[Fact, ...]
    conditional_on: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.template.id

    @property
    def kind(self) -> str:
        return self.template.kind

    @property
    def section(self) -> str:
        return self.template.section

    @property
    def title(self) -> str:
        return self.template.title

    @property
    def text(self) -> str:
        return self.template.text

    @property
    def rationale(self) -> str:
        return self.template.rationale

    @property
    def strength(self) -> str:
        return self.template.strength

    @property
    def level(self) -> str | None:
        return self.template.level

    @property
    def provenance(self) -> Provenance:
        return self.template.provenance


class MissingFact(NamedTuple):
    """A fact the engine needed and did not get, with what it would change."""

    id: str
    field: str
    question: str
    would_change: str
    meanwhile: str
    provenance: Provenance
    affects: tuple[str, ...]


class RiskFeature(NamedTuple):
    id: str
    title: str
    field: str
    state: State
    value: str
    provenance: Provenance


class Risk(NamedTuple):
    group: RiskGroup
    decided_by: tuple[str, ...]
    unknown: tuple[str, ...]
    features: tuple[RiskFeature, ...]
    surveillance_group: Literal["high", "low"]
    item: Item


class Criterion(NamedTuple):
    name: str
    state: State
    value: str


class Classification(NamedTuple):
    id: str
    title: str
    category: str
    determined: bool
    possible: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    item: Item


class UsedInterpretation(NamedTuple):
    id: str
    title: str
    text: str


class Assessment(NamedTuple):
    format: str
    evaluated_on: dt.date
    engine_version: str
    knowledge_version: str
    settings_digest: str
    label: str | None
    disease_status: str
    advanced: bool | None
    risk: Risk
    classifications: tuple[Classification, ...]
    recommendations: tuple[Item, ...]
    alerts: tuple[Item, ...]
    followup: tuple[Item, ...]
    missing: tuple[MissingFact, ...]
    derived: tuple[Fact, ...]
    interpretations: tuple[UsedInterpretation, ...]
    intended_use: str

    def items(self) -> tuple[Item, ...]:
        """Every item of the assessment, in reading order."""
        return (
            self.risk.item,
            *(c.item for c in self.classifications),
            *self.recommendations,
            *self.alerts,
            *self.followup,
        )

    def record_ids(self) -> tuple[str, ...]:
        """Ids of every knowledge record this assessment produced."""
        ids = [i.id for i in self.items()]
        ids += [f.id for f in self.risk.features if f.state == "present"]
        ids += [m.id for m in self.missing]
        return tuple(dict.fromkeys(ids))


def _plain(value: Any) -> Any:
    """A scalar as JSON: enum members as their value, dates as ISO text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _provenance_json(p: Provenance) -> dict[str, Any]:
    return {
        "kind": p.kind,
        "statements": list(p.statements),
        "refs": list(p.refs),
        "sources": [{"id": s.id, "short": s.short, "citation": s.citation} for s in p.sources],
        "interpretations": list(p.interpretations),
        "label": p.label,
    }


def _template_json(t: ItemTemplate) -> dict[str, Any]:
    return {
        "id": t.id,
        "kind": t.kind,
        "section": t.section,
        "title": t.title,
        "text": t.text,
        "rationale": t.rationale,
        "strength": t.strength,
        "level": t.level,
        "provenance": _provenance_json(t.provenance),
    }


def _facts_json(facts: tuple[Fact, ...]) -> list[dict[str, Any]]:
    return [{"path": f.path, "value": _plain(f.value)} for f in facts]


def _item_json(item: Item) -> dict[str, Any]:
    out = _template_json(item.template)
    out["triggered_by"] = _facts_json(item.triggered_by)
    out["conditional_on"] = list(item.conditional_on)
    return out


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for any assessment value (dataclasses, named tuples, enums, dates).

    Every call builds new data: the caller owns it and may change it without changing
    any other result.
    """
    if isinstance(value, Item):
        return _item_json(value)
    if isinstance(value, Fact):
        return {"path": value.path, "value": _plain(value.value)}
    if isinstance(value, Provenance):
        return _provenance_json(value)
    fields = getattr(value, "_fields", None)
    if fields is not None and isinstance(value, tuple):
        return {name: to_jsonable(v) for name, v in zip(fields, value, strict=True)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    return _plain(value)
