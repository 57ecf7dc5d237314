"""The assessment: what the engine returns, as immutable values (frozen dataclasses).

Every item carries its provenance (``guideline`` with statement ids and references, or
``supplementary`` with full published references) and the facts that triggered it.
:func:`to_jsonable` turns any of these values into plain JSON data, in field order; its
bytes come from the one JSON writer, :func:`pecoma.engine.jsonbytes.dumps`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

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
    """Where an item comes from; ``label`` is the one line a clinician reads, written
    with the rest (it is set from the other fields and cannot be given)."""

    kind: Literal["guideline", "supplementary"]
    statements: tuple[str, ...]
    refs: tuple[int, ...]
    sources: tuple[Source, ...]
    interpretations: tuple[str, ...]
    label: str = field(init=False)

    def __post_init__(self) -> None:
        if self.kind == "guideline":
            refs = ", ".join(f"[{r}]" for r in self.refs)
            text = f"guideline {', '.join(self.statements)} · ref {refs}"
        else:
            text = "supplementary (not from the guideline) · " + "; ".join(
                s.short for s in self.sources
            )
        if self.interpretations:
            text += f" · interpretation {', '.join(self.interpretations)}"
        object.__setattr__(self, "label", text)


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact of the case (or derived from it) that an item rests on."""

    path: str
    value: str


@dataclass(frozen=True, slots=True)
class ItemTemplate:
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


@dataclass(frozen=True, slots=True)
class Item:
    """A recommendation, alert, risk rule, classification note or follow-up rule: what a
    knowledge record says (its template's fields), the facts that triggered it, and the
    missing facts it is provisional on."""

    id: str
    kind: str
    section: str
    title: str
    text: str
    rationale: str
    strength: str
    level: str | None
    provenance: Provenance
    triggered_by: tuple[Fact, ...]
    conditional_on: tuple[str, ...]

    @classmethod
    def of(
        cls, t: ItemTemplate, triggered_by: tuple[Fact, ...], conditional_on: tuple[str, ...]
    ) -> Item:
        """The item of a record's template for these facts."""
        return cls(t.id, t.kind, t.section, t.title, t.text, t.rationale, t.strength,
                   t.level, t.provenance, triggered_by, conditional_on)


@dataclass(frozen=True, slots=True)
class MissingFact:
    """A fact the engine needed and did not get, with what it would change."""

    id: str
    field: str
    question: str
    would_change: str
    meanwhile: str
    provenance: Provenance
    affects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RiskFeature:
    id: str
    title: str
    field: str
    state: State
    value: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Risk:
    group: RiskGroup
    decided_by: tuple[str, ...]
    unknown: tuple[str, ...]
    features: tuple[RiskFeature, ...]
    surveillance_group: Literal["high", "low"]
    item: Item


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    state: State
    value: str


@dataclass(frozen=True, slots=True)
class Classification:
    id: str
    title: str
    category: str
    determined: bool
    possible: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    item: Item


@dataclass(frozen=True, slots=True)
class UsedInterpretation:
    id: str
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Assessment:
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


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for any assessment value (dataclasses, enums, dates, tuples).

    It is the JSON that the one writer, :func:`pecoma.engine.jsonbytes.dumps`, writes,
    read back: every call builds new data, which the caller owns and may change.
    """
    from pecoma.engine.jsonbytes import dumps

    return orjson.loads(dumps(value))
