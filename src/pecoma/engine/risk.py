"""Risk: the guideline's high-risk features (S05-S09, I1) and, apart, the supplementary
Folpe 2005 and Bennett 2018 pathology categories.

Each is decided on the criteria's states (present, absent, unknown) by a kept-result group
(:mod:`pecoma.engine.memo`); what carries the case's own size and mitotic count (the
criteria's texts, the facts an item rests on) is added for each case.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Literal, NamedTuple

from pecoma.case import Case, DiseaseStatus, Feature
from pecoma.engine.collect import NO_EFFECTS, Collector, Effects, _compiled
from pecoma.engine.facts import Derived
from pecoma.engine.memo import rule_group
from pecoma.engine.model import Classification, Criterion, Fact, Risk, RiskFeature, State
from pecoma.knowledge import Knowledge
from pecoma.settings import EngineSettings, Threshold

__all__ = ["bennett_2018", "folpe_2005", "guideline_risk", "icdo3_hint"]

_RELAPSED = frozenset({DiseaseStatus.recurrent, DiseaseStatus.metastatic})
_METASTATIC = DiseaseStatus.metastatic  # a module constant: cheaper than the class attribute

BENIGN = "benign"
UMP = "uncertain malignant potential"
MALIGNANT = "malignant"
_ORDER = (BENIGN, UMP, MALIGNANT)

# (risk record, missing-fact record, field path)
_HIGH_RISK = (
    ("RISK-SIZE", "MISS-SIZE", "tumour.size"),
    ("RISK-NECROSIS", "MISS-NECROSIS", "histology.necrosis"),
    ("RISK-INFILTRATIVE", "MISS-INFILTRATIVE", "histology.infiltrative_growth"),
    ("RISK-GRADE", "MISS-GRADE", "histology.high_nuclear_grade_and_cellularity"),
)


def _state(f: Feature) -> State:
    return f  # type: ignore[return-value]  # a StrEnum member is its own value


def _measure(value: float | None, threshold: Threshold) -> State:
    if value is None:
        return "unknown"
    return "present" if threshold.met(value) else "absent"


def guideline_risk(case: Case, d: Derived, s: EngineSettings, out: Collector) -> Risk:
    h = case.histology
    size_state = _measure(d.size_cm, s.guideline_size_cm)
    decision = _guideline_decision(
        out.knowledge,
        size_state,
        h.necrosis,
        h.infiltrative_growth,
        h.high_nuclear_grade_and_cellularity,
        case.stage.status in _RELAPSED,
    )
    if decision.effects is not NO_EFFECTS:
        out.apply(decision.effects)
    size_text = d.size_text
    facts: tuple[Fact, ...] | list[Fact] = decision.facts
    if decision.size_fact:
        facts = [_fact("tumour.size", size_text), *decision.facts]
    result: Risk = _new(
        Risk,
        (
            decision.group,
            decision.decided_by,
            decision.unknown,
            (_size_feature(out.knowledge, size_state, size_text), *decision.features),
            decision.surveillance_group,
            out.item(decision.record, facts, decision.conditional),
        ),
    )
    return result


@lru_cache(maxsize=4096)
def _size_feature(knowledge: Knowledge, state: State, text: str) -> RiskFeature:
    template = _compiled(knowledge)["RISK-SIZE"]
    return RiskFeature("RISK-SIZE", template.title, "tumour.size", state, text, template.provenance)


class _RiskDecision(NamedTuple):
    """The guideline risk decided on the features' states; the size's text is added per
    case (``size_fact``: the item's facts start with the size)."""

    group: Literal["high", "low", "indeterminate"]
    record: str
    decided_by: tuple[str, ...]
    unknown: tuple[str, ...]
    features: tuple[RiskFeature, ...]
    surveillance_group: Literal["high", "low"]
    conditional: tuple[str, ...]
    size_fact: bool
    facts: tuple[Fact, ...]
    effects: Effects


@rule_group(maxsize=1024)
def _guideline_decision(
    knowledge: Knowledge,
    size_state: State,
    necrosis: Feature,
    infiltrative: Feature,
    grade: Feature,
    relapsed: bool,
) -> _RiskDecision:
    out = Collector(knowledge)
    states: tuple[State, ...] = (size_state, _state(necrosis), _state(infiltrative), _state(grade))
    values = (None, necrosis, infiltrative, grade)
    compiled = _compiled(knowledge)
    features = []
    present: list[str] = []
    unknown: list[str] = []
    for (record_id, _missing_id, field), state, value in zip(
        _HIGH_RISK, states, values, strict=True
    ):
        if value is not None:
            template = compiled[record_id]
            features.append(
                RiskFeature(record_id, template.title, field, state, value, template.provenance)
            )
        if state == "present":
            present.append(record_id)
        elif state == "unknown":
            unknown.append(field)
    group: Literal["high", "low", "indeterminate"]
    facts: list[Fact]
    if present:
        group, record = "high", "RISK-HIGH"
        size_fact = size_state == "present"
        facts = [Fact(f.field, f.value) for f in features if f.state == "present"]
    elif unknown:
        group, record = "indeterminate", "RISK-INDETERMINATE"
        size_fact = False
        facts = [Fact(f, "unknown") for f in unknown]
    else:
        group, record = "low", "RISK-LOW"
        size_fact = True
        facts = [Fact(f.field, f.value) for f in features]
    conditional: list[str] = []
    if group != "high":
        for (record_id, missing_id, _field), state in zip(_HIGH_RISK, states, strict=True):
            if state == "unknown":
                conditional.append(
                    out.missing(missing_id, affects=(record_id, "RISK-HIGH", "RISK-LOW"))
                )
    surveillance: Literal["high", "low"] = "low" if group == "low" and not relapsed else "high"
    return _RiskDecision(
        group,
        record,
        tuple(present),
        tuple(unknown),
        tuple(features),
        surveillance,
        tuple(conditional),
        size_fact,
        tuple(facts),
        out.effects(),
    )


def _range(low: str, high: str) -> tuple[str, ...]:
    return _ORDER[_ORDER.index(low) : _ORDER.index(high) + 1]


# A rule maps (number of counted criteria present, the extra criterion present) to a
# category; it never gives a lower category for more features (monotone).
Rule = Callable[[int, bool], str]


class _Scheme(NamedTuple):
    """A pathology classification's criteria, in the order they are shown: size, the
    ``before`` criteria, mitoses, the ``after`` criteria. The rule counts the first
    ``counted`` of them; a further one is its extra criterion."""

    record_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    counted: int
    rule: Rule


def _folpe_rule(worrisome: int, pleomorphism: bool) -> str:
    if worrisome >= 2:
        return MALIGNANT
    if worrisome == 1 or pleomorphism:
        return UMP
    return BENIGN


_FOLPE = _Scheme(
    "CLS-FOLPE-2005",
    ("infiltrative growth", "high nuclear grade and cellularity"),
    # Nuclear pleomorphism is not counted: with no worrisome feature it still makes the
    # tumour of uncertain malignant potential.
    ("necrosis", "vascular invasion", "nuclear pleomorphism or giant cells"),
    6,
    _folpe_rule,
)


def folpe_2005(case: Case, d: Derived, s: EngineSettings, out: Collector) -> Classification:
    h = case.histology
    mitoses = h.mitoses_per_50_hpf
    return _classification(
        _FOLPE,
        _measure(d.size_cm, s.folpe_size_cm),
        d.size_text,
        _measure(mitoses, s.folpe_mitoses_per_50_hpf),
        _mitoses_text(mitoses),
        (h.infiltrative_growth, h.high_nuclear_grade_and_cellularity),
        (h.necrosis, h.vascular_invasion, h.nuclear_pleomorphism_or_giant_cells),
        out,
    )


def _mitoses_text(value: float | None) -> str:
    return "unknown" if value is None else _count_text(value)


@lru_cache(maxsize=1024)
def _count_text(value: float) -> str:
    # ``:g`` writes -0.0 as "-0": a zero is a zero, whatever its sign.
    return f"{value + 0.0:g}/50 HPF"


def bennett_2018(
    case: Case, d: Derived, s: EngineSettings, out: Collector
) -> Classification | None:
    if not case.tumour.primary_site.gynecologic:
        return None
    h = case.histology
    mitoses = h.mitoses_per_50_hpf
    return _classification(
        _bennett(s.bennett_malignant_min_features),
        _measure(d.size_cm, s.bennett_size_cm),
        d.size_text,
        _measure(mitoses, s.bennett_mitoses_per_50_hpf),
        _mitoses_text(mitoses),
        (h.high_nuclear_grade_and_cellularity,),
        (h.necrosis, h.vascular_invasion),
        out,
    )


@lru_cache(maxsize=16)
def _bennett(minimum: int) -> _Scheme:
    """Bennett's scheme for a minimum number of features (one value per minimum, so
    decisions made under it can be kept and reused)."""

    def rule(count: int, _extra: bool) -> str:
        return MALIGNANT if count >= minimum else UMP

    return _Scheme(
        "CLS-BENNETT-2018",
        ("high-grade nuclear atypia",),
        ("necrosis", "lymphovascular invasion"),
        5,
        rule,
    )


_FIELD_OF = {
    "size": "tumour.size",
    "infiltrative growth": "histology.infiltrative_growth",
    "high nuclear grade and cellularity": "histology.high_nuclear_grade_and_cellularity",
    "high-grade nuclear atypia": "histology.high_nuclear_grade_and_cellularity",
    "mitoses": "histology.mitoses_per_50_hpf",
    "necrosis": "histology.necrosis",
    "vascular invasion": "histology.vascular_invasion",
    "lymphovascular invasion": "histology.vascular_invasion",
    "nuclear pleomorphism or giant cells": "histology.nuclear_pleomorphism_or_giant_cells",
}

_MISSING_FOR = {
    "mitoses": "MISS-MITOSES",
    "vascular invasion": "MISS-VASCULAR-INVASION",
    "lymphovascular invasion": "MISS-VASCULAR-INVASION",
    "nuclear pleomorphism or giant cells": "MISS-PLEOMORPHISM",
    "size": "MISS-SIZE",
    "necrosis": "MISS-NECROSIS",
    "infiltrative growth": "MISS-INFILTRATIVE",
    "high nuclear grade and cellularity": "MISS-GRADE",
    "high-grade nuclear atypia": "MISS-GRADE",
}

_new = tuple.__new__


def _classification(
    scheme: _Scheme,
    size_state: State,
    size_text: str,
    mitoses_state: State,
    mitoses_text: str,
    before: tuple[Feature, ...],
    after: tuple[Feature, ...],
    out: Collector,
) -> Classification:
    """A classification from its criteria (see :class:`_Scheme` for their order)."""
    decision = _decide(out.knowledge, scheme, size_state, mitoses_state, before, after)
    if decision.effects is not NO_EFFECTS:
        out.apply(decision.effects)
    size = _measured("size", size_state, size_text)
    mitoses = _measured("mitoses", mitoses_state, mitoses_text)
    facts: list[Fact] = []
    if size_state == "present":
        facts.append(_fact("tumour.size", size_text))
    facts += decision.before_facts
    if mitoses_state == "present":
        facts.append(_fact("histology.mitoses_per_50_hpf", mitoses_text))
    facts += decision.after_facts
    item = out.item(scheme.record_id, facts, decision.conditional)
    result: Classification = _new(
        Classification,
        (
            scheme.record_id,
            item.template.title,
            decision.category,
            len(decision.possible) == 1,
            decision.possible,
            (size, *decision.before, mitoses, *decision.after),
            item,
        ),
    )
    return result


@lru_cache(maxsize=4096)
def _measured(name: str, state: State, text: str) -> Criterion:
    return Criterion(name, state, text)


@lru_cache(maxsize=4096)
def _fact(path: str, value: str) -> Fact:
    return Fact(path, value)


class _Decision(NamedTuple):
    category: str
    possible: tuple[str, ...]
    conditional: tuple[str, ...]
    effects: Effects
    before: tuple[Criterion, ...]
    after: tuple[Criterion, ...]
    before_facts: tuple[Fact, ...]
    after_facts: tuple[Fact, ...]


@rule_group(maxsize=4096)
def _decide(
    knowledge: Knowledge,
    scheme: _Scheme,
    size_state: State,
    mitoses_state: State,
    before: tuple[Feature, ...],
    after: tuple[Feature, ...],
) -> _Decision:
    """The category with unknowns taken as absent and as present; when that leaves more
    than one category, the unknown criteria are missing facts the classification rests
    on. Also the criteria and facts that do not depend on size or mitoses."""
    names = ("size", *scheme.before, "mitoses", *scheme.after)
    states: tuple[State, ...] = (
        size_state,
        *(_state(f) for f in before),
        mitoses_state,
        *(_state(f) for f in after),
    )
    counted = states[: scheme.counted]
    present = sum(1 for state in counted if state == "present")
    unknown = sum(1 for state in counted if state == "unknown")
    extra_state = states[scheme.counted] if len(states) > scheme.counted else "absent"
    low = scheme.rule(present, extra_state == "present")
    high = scheme.rule(present + unknown, extra_state != "absent")
    category, possible = (low, (low,)) if low == high else (f"{low} to {high}", _range(low, high))
    out = Collector(knowledge)
    conditional: list[str] = []
    if len(possible) != 1:
        for name, state in zip(names, states, strict=True):
            if state == "unknown":
                conditional.append(
                    out.missing(_MISSING_FOR[name], affects=(scheme.record_id,))
                )

    def criteria(names: tuple[str, ...], values: tuple[Feature, ...]) -> tuple[Criterion, ...]:
        return tuple(Criterion(n, _state(v), v) for n, v in zip(names, values, strict=True))

    def facts(names: tuple[str, ...], values: tuple[Feature, ...]) -> tuple[Fact, ...]:
        return tuple(
            Fact(_FIELD_OF[n], v)
            for n, v in zip(names, values, strict=True)
            if v is Feature.present
        )

    return _Decision(
        category,
        possible,
        tuple(conditional),
        out.effects(),
        criteria(scheme.before, before),
        criteria(scheme.after, after),
        facts(scheme.before, before),
        facts(scheme.after, after),
    )


def icdo3_hint(case: Case, folpe: Classification, out: Collector) -> Classification:
    """Registry coding hint: 8714/3 for malignant behaviour, 8714/0 for benign."""
    stage = case.stage
    metastatic = stage.status is _METASTATIC or bool(stage.metastases)
    result, effects = _icdo3_hint(
        out.knowledge,
        stage.status if metastatic else None,
        folpe.category,
        folpe.determined,
    )
    if effects is not NO_EFFECTS:
        out.apply(effects)
    return result


@rule_group(maxsize=256)
def _icdo3_hint(
    knowledge: Knowledge,
    metastatic_status: DiseaseStatus | None,
    folpe_category: str,
    folpe_determined: bool,
) -> tuple[Classification, Effects]:
    """``metastatic_status`` is the disease status when there are metastases, else None."""
    out = Collector(knowledge)
    facts = [Fact("classification.folpe_2005", folpe_category)]
    possible: tuple[str, ...]
    if metastatic_status is not None:
        code, possible = "8714/3", ("8714/3",)
        facts.append(Fact("stage.status", metastatic_status))
    elif folpe_determined and folpe_category == MALIGNANT:
        code, possible = "8714/3", ("8714/3",)
    elif folpe_determined and folpe_category == BENIGN:
        code, possible = "8714/0", ("8714/0",)
    else:
        code, possible = "8714/0 or 8714/3 (per final diagnosis)", ("8714/0", "8714/3")
    rec = knowledge.records["CLS-ICDO3"]
    result = Classification(
        id=rec.id,
        title=rec.title,
        category=code,
        determined=len(possible) == 1,
        possible=possible,
        criteria=(),
        item=out.item(rec.id, facts),
    )
    return result, out.effects()
