"""The one place where provenance is attached.

Rules name record ids and the facts that triggered them; the collector looks the record
up in the knowledge base and builds the output item with its provenance, so no rule can
forget it or word it on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from pecoma.engine.model import Fact, Item, ItemTemplate, MissingFact, Provenance, Source
from pecoma.errors import KnowledgeError
from pecoma.knowledge import Knowledge, MissingRecord, Record

__all__ = ["NO_EFFECTS", "Collector", "Effects", "provenance_of"]


@lru_cache(maxsize=4096)
def _provenance(knowledge: Knowledge, item_id: str) -> Provenance:
    rec: Record | MissingRecord | None = knowledge.records.get(item_id) or knowledge.missing.get(
        item_id
    )
    if rec is None:
        raise KnowledgeError(f"the engine names '{item_id}', which the knowledge base lacks")
    return Provenance(
        kind=rec.provenance,
        statements=rec.statements,
        refs=rec.refs,
        sources=tuple(
            Source(s, knowledge.references[s].short, knowledge.references[s].citation)
            for s in rec.sources
        ),
        interpretations=rec.interpretations,
    )


@lru_cache(maxsize=8)
def _compiled(knowledge: Knowledge) -> dict[str, ItemTemplate]:
    """Each record's output template with its provenance, built once per knowledge base."""
    return {
        rid: ItemTemplate(
            rec.id,
            rec.kind,
            rec.section,
            rec.title,
            rec.text,
            rec.rationale,
            rec.strength,
            rec.level,
            _provenance(knowledge, rid),
        )
        for rid, rec in knowledge.records.items()
    }


def provenance_of(knowledge: Knowledge, item_id: str) -> Provenance:
    """The provenance of a record or missing-fact record."""
    return _provenance(knowledge, item_id)


class Effects(NamedTuple):
    """What a group of rules produced, ready to be replayed into a collector: the items by
    list, the missing facts reported (id and what it affects, in report order) and the
    interpretations the items rest on. Immutable, so one value can serve many cases."""

    recommendations: tuple[Item, ...]
    alerts: tuple[Item, ...]
    followup: tuple[Item, ...]
    missing: tuple[tuple[str, tuple[str, ...]], ...]
    interpretations: frozenset[str]


NO_EFFECTS = Effects((), (), (), (), frozenset())

_new = tuple.__new__


class Collector:
    """Gathers the items rules produce, in the order they produce them."""

    __slots__ = (
        "_missing",
        "_templates",
        "alerts",
        "followup",
        "interpretations",
        "knowledge",
        "recommendations",
    )

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self._templates = _compiled(knowledge)
        self.recommendations: list[Item] = []
        self.alerts: list[Item] = []
        self.followup: list[Item] = []
        self._missing: dict[str, tuple[MissingRecord, list[str]]] = {}
        self.interpretations: set[str] = set()

    def item(
        self,
        record_id: str,
        facts: Iterable[Fact] = (),
        conditional_on: Iterable[str] = (),
    ) -> Item:
        """Build the output item of a record, with its provenance."""
        template = self._templates.get(record_id)
        if template is None:
            raise KnowledgeError(f"the engine names '{record_id}', which the knowledge base lacks")
        if template.provenance.interpretations:
            self.interpretations.update(template.provenance.interpretations)
        item: Item = _new(
            Item,
            (
                template,
                tuple(facts),
                tuple(dict.fromkeys(conditional_on)) if conditional_on else (),
            ),
        )
        return item

    def add(
        self,
        record_id: str,
        facts: Iterable[Fact] = (),
        conditional_on: Iterable[str] = (),
    ) -> None:
        """Emit a recommendation, alert or follow-up record."""
        item = self.item(record_id, facts, conditional_on)
        kind = item.template.kind
        if kind == "recommendation":
            self.recommendations.append(item)
        elif kind == "alert":
            self.alerts.append(item)
        elif kind == "followup":
            self.followup.append(item)
        else:
            raise KnowledgeError(f"record '{record_id}' of kind '{kind}' cannot be emitted")

    def add_all(self, record_ids: Iterable[str], facts: tuple[Fact, ...]) -> None:
        """Emit several records that rest on the same facts."""
        for record_id in record_ids:
            self.add(record_id, facts)

    def missing(self, missing_id: str, affects: Iterable[str] = ()) -> str:
        """Report a missing fact; repeated reports merge what it affects."""
        entry = self._missing.get(missing_id)
        if entry is None:
            rec = self.knowledge.missing.get(missing_id)
            if rec is None:
                raise KnowledgeError(
                    f"the engine names '{missing_id}', which the knowledge base lacks"
                )
            entry = (rec, [])
            self._missing[missing_id] = entry
            if rec.interpretations:
                self.interpretations.update(rec.interpretations)
        known = entry[1]
        for a in affects:
            if a not in known:
                known.append(a)
        return missing_id

    def effects(self) -> Effects:
        """Everything gathered so far, as a value :meth:`apply` can replay elsewhere."""
        if not (
            self.recommendations
            or self.alerts
            or self.followup
            or self._missing
            or self.interpretations
        ):
            return NO_EFFECTS
        return Effects(
            tuple(self.recommendations),
            tuple(self.alerts),
            tuple(self.followup),
            tuple((mid, tuple(affects)) for mid, (_rec, affects) in self._missing.items()),
            frozenset(self.interpretations),
        )

    def apply(self, effects: Effects) -> None:
        """Replay what a group of rules produced, as if its rules had run here: the same
        items in the same order, the same missing facts merged the same way."""
        if effects is NO_EFFECTS:
            return
        recs, alerts, followup, missing, interpretations = effects
        if recs:
            self.recommendations.extend(recs)
        if alerts:
            self.alerts.extend(alerts)
        if followup:
            self.followup.extend(followup)
        if missing:
            known = self._missing
            records = self.knowledge.missing
            for missing_id, affects in missing:
                entry = known.get(missing_id)
                if entry is None:
                    # The record's interpretations came with the effects.
                    known[missing_id] = (records[missing_id], list(affects))
                    continue
                merged = entry[1]
                for a in affects:
                    if a not in merged:
                        merged.append(a)
        if interpretations:
            self.interpretations.update(interpretations)

    def missing_facts(self) -> tuple[MissingFact, ...]:
        if not self._missing:
            return ()
        return _missing_facts(
            self.knowledge,
            tuple((mid, tuple(affects)) for mid, (_rec, affects) in self._missing.items()),
        )


@lru_cache(maxsize=4096)
def _missing_facts(
    knowledge: Knowledge, reported: tuple[tuple[str, tuple[str, ...]], ...]
) -> tuple[MissingFact, ...]:
    return tuple(_missing_fact(knowledge, mid, affects) for mid, affects in reported)


@lru_cache(maxsize=4096)
def _missing_fact(knowledge: Knowledge, missing_id: str, affects: tuple[str, ...]) -> MissingFact:
    rec = knowledge.missing[missing_id]
    return MissingFact(
        id=rec.id,
        field=rec.field,
        question=rec.question,
        would_change=rec.would_change,
        meanwhile=rec.meanwhile,
        provenance=_provenance(knowledge, rec.id),
        affects=affects,
    )
