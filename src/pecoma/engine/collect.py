"""The one place where provenance is attached.

Rules name record ids and the facts that triggered them; the collector looks the record
up in the knowledge base and builds the output item with its provenance, so no rule can
forget it or word it on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pecoma.engine.model import Fact, Item, MissingFact, Provenance, Source
from pecoma.errors import KnowledgeError
from pecoma.knowledge import Knowledge, MissingRecord, Record

__all__ = ["Collector", "provenance_of"]


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


def provenance_of(knowledge: Knowledge, item_id: str) -> Provenance:
    """The provenance of a record or missing-fact record."""
    return _provenance(knowledge, item_id)


class Collector:
    """Gathers the items rules produce, in the order they produce them."""

    __slots__ = ("_missing", "alerts", "followup", "knowledge", "recommendations")

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.recommendations: list[Item] = []
        self.alerts: list[Item] = []
        self.followup: list[Item] = []
        self._missing: dict[str, tuple[MissingRecord, list[str]]] = {}

    def item(
        self,
        record_id: str,
        facts: Iterable[Fact] = (),
        conditional_on: Iterable[str] = (),
    ) -> Item:
        """Build the output item of a record, with its provenance."""
        rec = self.knowledge.records.get(record_id)
        if rec is None:
            raise KnowledgeError(f"the engine names '{record_id}', which the knowledge base lacks")
        return Item(
            id=rec.id,
            kind=rec.kind,
            section=rec.section,
            title=rec.title,
            text=rec.text,
            rationale=rec.rationale,
            strength=rec.strength,
            level=rec.level,
            provenance=_provenance(self.knowledge, rec.id),
            triggered_by=tuple(facts),
            conditional_on=tuple(dict.fromkeys(conditional_on)),
        )

    def add(
        self,
        record_id: str,
        facts: Iterable[Fact] = (),
        conditional_on: Iterable[str] = (),
    ) -> None:
        """Emit a recommendation, alert or follow-up record."""
        item = self.item(record_id, facts, conditional_on)
        bucket = {
            "recommendation": self.recommendations,
            "alert": self.alerts,
            "followup": self.followup,
        }.get(item.kind)
        if bucket is None:
            raise KnowledgeError(f"record '{record_id}' of kind '{item.kind}' cannot be emitted")
        bucket.append(item)

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
        for a in affects:
            if a not in entry[1]:
                entry[1].append(a)
        return missing_id

    def missing_facts(self) -> tuple[MissingFact, ...]:
        return tuple(
            MissingFact(
                id=rec.id,
                field=rec.field,
                question=rec.question,
                would_change=rec.would_change,
                meanwhile=rec.meanwhile,
                provenance=_provenance(self.knowledge, rec.id),
                affects=tuple(affects),
            )
            for rec, affects in self._missing.values()
        )
