"""The one place where provenance is attached.

Rules name record ids and the facts that triggered them; the collector looks the record
up in the knowledge base and builds the output item with its provenance, so no rule can
forget it or word it on its own.

A collector lives for one assessment. The only thing kept between assessments is each
record's template (its wording and provenance), compiled once per knowledge base from
that immutable knowledge: nothing computed for one patient serves another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache

from pecoma.engine.model import Fact, Item, ItemTemplate, MissingFact, Provenance, Source
from pecoma.errors import KnowledgeError
from pecoma.knowledge import Knowledge, MissingRecord, Record, fill_wording

__all__ = ["DIAGNOSIS_CONDITIONS", "Collector", "provenance_of", "template_of"]


def _provenance(knowledge: Knowledge, rec: Record | MissingRecord) -> Provenance:
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


class _Compiled:
    """A knowledge base's records as immutable output templates, and the provenance of
    its missing-fact records: built once per knowledge base, never per patient."""

    __slots__ = ("missing", "templates", "worded")

    def __init__(self, knowledge: Knowledge) -> None:
        self.templates = {
            rid: ItemTemplate(
                rec.id,
                rec.kind,
                rec.section,
                rec.title,
                rec.text,
                rec.rationale,
                rec.strength,
                rec.level,
                _provenance(knowledge, rec),
            )
            for rid, rec in knowledge.records.items()
        }
        self.missing = {
            mid: _provenance(knowledge, rec) for mid, rec in knowledge.missing.items()
        }
        #: records whose wording quotes settings: filled in by each collector
        self.worded = frozenset(
            rid for rid, rec in knowledge.records.items() if rec.quotes_settings
        )


def _only_statements(knowledge: Knowledge, template: ItemTemplate, kept: Iterable[str]
                     ) -> ItemTemplate:
    """The template citing only the statements ``kept`` of its own, and the refs of
    those (a new value, as :func:`_with_interpretations` makes): a record written for
    either surveillance schedule cites, on one plan, the statement of that plan's."""
    p = template.provenance
    wanted = set(kept)
    if not wanted or not wanted <= set(p.statements):
        raise KnowledgeError(f"record '{template.id}' cites {list(p.statements)}: the "
                             f"engine cannot narrow it to {sorted(wanted)}")
    statements = tuple(st for st in p.statements if st in wanted)
    allowed = {r for st in statements for r in knowledge.statements[st].refs}
    return replace(template, provenance=Provenance(
        p.kind, statements, tuple(r for r in p.refs if r in allowed), p.sources,
        p.interpretations))


def _with_interpretations(template: ItemTemplate, extra: Iterable[str]) -> ItemTemplate:
    """The template with ``extra`` interpretations added to its provenance (a new value:
    the compiled template is shared and never changed)."""
    p = template.provenance
    cited = sorted({*p.interpretations, *extra}, key=lambda x: int(x[1:]))
    return replace(template, provenance=Provenance(
        p.kind, p.statements, p.refs, p.sources, tuple(cited)))


@lru_cache(maxsize=8)
def _compiled(knowledge: Knowledge) -> _Compiled:
    # Keyed by the knowledge base alone (immutable, loaded once): no per-patient value.
    return _Compiled(knowledge)


def _lacks(item_id: str) -> KnowledgeError:
    return KnowledgeError(f"the engine names '{item_id}', which the knowledge base lacks")


def provenance_of(knowledge: Knowledge, item_id: str) -> Provenance:
    """The provenance of a record or missing-fact record."""
    compiled = _compiled(knowledge)
    template = compiled.templates.get(item_id)
    if template is not None:
        return template.provenance
    provenance = compiled.missing.get(item_id)
    if provenance is None:
        raise _lacks(item_id)
    return provenance


def template_of(knowledge: Knowledge, record_id: str) -> ItemTemplate:
    """A record's output template (wording and provenance)."""
    template = _compiled(knowledge).templates.get(record_id)
    if template is None:
        raise _lacks(record_id)
    return template


class Collector:
    """Gathers the items the rules of one assessment produce, in the order they produce
    them, and the missing facts they report."""

    __slots__ = (
        "_about",
        "_compiled",
        "_missing",
        "_worded",
        "_wording",
        "alerts",
        "followup",
        "interpretations",
        "knowledge",
        "recommendations",
        "treatment_conditions",
    )

    def __init__(self, knowledge: Knowledge, wording: Mapping[str, str]) -> None:
        """``wording``: the settings' values by name
        (:meth:`pecoma.settings.Settings.wording`), quoted by the records that describe
        the schedule, so their text says the rhythm the plan is drawn with, and by those
        that name a cut-off, in the reading in force (I24)."""
        self.knowledge = knowledge
        self._compiled = _compiled(knowledge)
        self._wording = wording
        self._worded: dict[str, ItemTemplate] = {}
        self.recommendations: list[Item] = []
        self.alerts: list[Item] = []
        self.followup: list[Item] = []
        self._missing: dict[str, list[str]] = {}
        #: What each missing fact is asked of, where the record's question names it only
        #: in general ("the mTOR inhibitor already recorded"): the lines it concerns.
        self._about: dict[str, list[str]] = {}
        self.interpretations: set[str] = set()
        #: Missing facts every treatment recommendation rests on (a diagnosis not yet
        #: confirmed on tissue), added to each one's conditions.
        self.treatment_conditions: tuple[str, ...] = ()

    def template(self, record_id: str) -> ItemTemplate:
        template = self._compiled.templates.get(record_id)
        if template is None:
            raise _lacks(record_id)
        if record_id in self._compiled.worded:
            worded = self._worded.get(record_id)
            if worded is None:
                worded = self._worded[record_id] = replace(
                    template,
                    title=fill_wording(template.title, self._wording),
                    text=fill_wording(template.text, self._wording),
                    rationale=fill_wording(template.rationale, self._wording),
                )
            return worded
        return template

    def item(
        self,
        record_id: str,
        facts: Iterable[Fact] = (),
        conditional_on: Iterable[str] = (),
        applied: Iterable[str] = (),
        statements: Iterable[str] | None = None,
    ) -> Item:
        """Build the output item of a record, with its provenance (``applied``: as for
        :meth:`add`; ``statements``: the record's statements that apply to this patient,
        with their refs, where the record names those of both surveillance schedules)."""
        template = self.template(record_id)
        if statements is not None:
            template = _only_statements(self.knowledge, template, statements)
        return self._item(template, facts, conditional_on, applied)

    def provenance(self, record_id: str, applied: Iterable[str] = ()) -> Provenance:
        """A record's provenance, with the interpretations ``applied`` to this patient's
        facts cited beside its own (for a value shown under the record's title: a risk
        feature)."""
        template = self.template(record_id)
        extra = [i for i in applied if i not in template.provenance.interpretations]
        if extra:
            template = _with_interpretations(template, extra)
        self.interpretations.update(template.provenance.interpretations)
        return template.provenance

    def _item(
        self, template: ItemTemplate, facts: Iterable[Fact], conditional_on: Iterable[str],
        applied: Iterable[str] = (),
    ) -> Item:
        interpretations = template.provenance.interpretations
        extra = [i for i in applied if i not in interpretations]
        if extra:
            # an interpretation the rule applied to this patient's facts (a
            # contraindication derived from an intolerance, I15): cited beside the
            # record's own, in number order
            template = _with_interpretations(template, extra)
            interpretations = template.provenance.interpretations
        if interpretations:
            self.interpretations.update(interpretations)
        conditional = tuple(dict.fromkeys(conditional_on)) if conditional_on else ()
        for missing_id in conditional:
            # a missing fact names every item provisional on it among what it affects
            affects = self._missing.get(missing_id)
            if affects is not None and template.id not in affects:
                affects.append(template.id)
        return Item.of(template, tuple(facts), conditional)

    def add(
        self,
        record_id: str,
        facts: Iterable[Fact] = (),
        conditional_on: Iterable[str] = (),
        applied: Iterable[str] = (),
    ) -> None:
        """Emit a recommendation, alert or follow-up record; ``applied``: the project's
        interpretations the rule applied to reach the facts it rests on, cited in its
        provenance beside the record's own."""
        template = self.template(record_id)
        kind = template.kind
        if kind == "recommendation":
            if self.treatment_conditions and template.section in TREATMENT_SECTIONS:
                for condition in self.treatment_conditions:
                    self.missing(condition, affects=(record_id,))
                conditional_on = [*self.treatment_conditions, *conditional_on]
            self.recommendations.append(self._item(template, facts, conditional_on, applied))
        elif kind == "alert":
            self.alerts.append(self._item(template, facts, conditional_on, applied))
        elif kind == "followup":
            self.followup.append(self._item(template, facts, conditional_on, applied))
        else:
            raise KnowledgeError(f"record '{record_id}' of kind '{kind}' cannot be emitted")

    def add_all(self, record_ids: Iterable[str], facts: Iterable[Fact]) -> None:
        """Emit several records that rest on the same facts."""
        facts = tuple(facts)
        for record_id in record_ids:
            self.add(record_id, facts)

    def missing(self, missing_id: str, affects: Iterable[str] = (),
                about: Iterable[str] = ()) -> str:
        """Report a missing fact; repeated reports merge what it affects. ``about``: what
        the question is asked of in this case, in plain words (a line named by its drug
        and place: "sirolimus (therapy line 1 of those recorded; line number 1; started
        2024-02-01)"), said after the record's question; repeated reports merge them
        too."""
        said = self._about.setdefault(missing_id, [])
        said += [x for x in about if x not in said]
        known = self._missing.get(missing_id)
        if known is None:
            provenance = self._compiled.missing.get(missing_id)
            if provenance is None:
                raise _lacks(missing_id)
            known = self._missing[missing_id] = []
            if provenance.interpretations:
                self.interpretations.update(provenance.interpretations)
        for a in affects:
            if a not in known:
                known.append(a)
        return missing_id

    def missing_facts(self) -> tuple[MissingFact, ...]:
        """The missing facts reported, in the order first reported."""
        records = self.knowledge.missing
        provenance = self._compiled.missing
        return tuple(
            MissingFact(
                id=rec.id,
                field=rec.field,
                question=_asked_of(rec.question, self._about.get(mid, ())),
                would_change=rec.would_change,
                meanwhile=rec.meanwhile,
                provenance=provenance[mid],
                affects=tuple(affects),
            )
            for mid, affects in self._missing.items()
            for rec in (records[mid],)
        )


def _asked_of(question: str, about: Iterable[str]) -> str:
    """A missing fact's question, followed by what it is asked of in this case, if
    anything: "… already recorded? Asked of: sirolimus (therapy line 1 of those
    recorded; …)." Two or more are asked of each."""
    said = list(about)
    if not said:
        return question
    return f"{question} Asked of{' each' if len(said) > 1 else ''}: {'; '.join(said)}."


#: Missing facts that make every treatment recommendation conditional alike: whether the
#: diagnosis is confirmed on tissue with the immunohistochemistry panel (I11).
DIAGNOSIS_CONDITIONS = frozenset({"MISS-TISSUE-DIAGNOSIS", "MISS-DIAGNOSIS-METHOD",
                                  "MISS-IHC-CONFIRMATION", "MISS-MELANOCYTIC-EVIDENCE"})

#: Sections whose recommendations are treatment decisions (what a diagnosis not yet
#: confirmed on tissue makes conditional).
TREATMENT_SECTIONS = frozenset({"localized", "adjuvant", "advanced", "metastatic surgery"})
