"""Risk: the guideline's high-risk features (S05-S09, I1) and, apart, the supplementary
Folpe 2005 and Bennett 2018 pathology categories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pecoma.case import Case, DiseaseStatus, Feature
from pecoma.engine.collect import Collector, _compiled
from pecoma.engine.facts import Derived
from pecoma.engine.model import Classification, Criterion, Fact, Risk, RiskFeature, State
from pecoma.settings import EngineSettings, Threshold

__all__ = ["bennett_2018", "folpe_2005", "guideline_risk", "icdo3_hint"]

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
    states: tuple[tuple[State, str], ...] = (
        (_measure(d.size_cm, s.guideline_size_cm), d.size_text),
        (_state(h.necrosis), h.necrosis),
        (_state(h.infiltrative_growth), h.infiltrative_growth),
        (
            _state(h.high_nuclear_grade_and_cellularity),
            h.high_nuclear_grade_and_cellularity,
        ),
    )
    compiled = _compiled(out.knowledge)
    features = []
    present: list[str] = []
    unknown: list[str] = []
    facts: list[Fact] = []
    for (record_id, _missing_id, field), (state, value) in zip(_HIGH_RISK, states, strict=True):
        template = compiled[record_id]
        features.append(
            RiskFeature(record_id, template.title, field, state, value, template.provenance)
        )
        if state == "present":
            present.append(record_id)
            facts.append(Fact(field, value))
        elif state == "unknown":
            unknown.append(field)
    group: Literal["high", "low", "indeterminate"]
    if present:
        group, record = "high", "RISK-HIGH"
    elif unknown:
        group, record = "indeterminate", "RISK-INDETERMINATE"
        facts = [Fact(f, "unknown") for f in unknown]
    else:
        group, record = "low", "RISK-LOW"
        facts = [Fact(f.field, f.value) for f in features]
    conditional: list[str] = []
    if group != "high":
        for (record_id, missing_id, _field), (state, _v) in zip(_HIGH_RISK, states, strict=True):
            if state == "unknown":
                conditional.append(
                    out.missing(missing_id, affects=(record_id, "RISK-HIGH", "RISK-LOW"))
                )
    relapsed = case.stage.status in (DiseaseStatus.recurrent, DiseaseStatus.metastatic)
    surveillance: Literal["high", "low"] = "low" if group == "low" and not relapsed else "high"
    return Risk(
        group=group,
        decided_by=tuple(present),
        unknown=tuple(unknown),
        features=tuple(features),
        surveillance_group=surveillance,
        item=out.item(record, facts, conditional),
    )


def _range(low: str, high: str) -> tuple[str, ...]:
    return _ORDER[_ORDER.index(low) : _ORDER.index(high) + 1]


# A rule maps (number of counted criteria present, the extra criterion present) to a
# category; it never gives a lower category for more features (monotone).
Rule = Callable[[int, bool], str]


def _classify(
    counted: list[Criterion], extra: Criterion | None, rule: Rule
) -> tuple[str, tuple[str, ...]]:
    """Category with unknowns taken as absent and as present."""
    present = sum(1 for c in counted if c.state == "present")
    unknown = sum(1 for c in counted if c.state == "unknown")
    extra_state = "absent" if extra is None else extra.state
    low = rule(present, extra_state == "present")
    high = rule(present + unknown, extra_state != "absent")
    return (low, (low,)) if low == high else (f"{low} to {high}", _range(low, high))


def folpe_2005(case: Case, d: Derived, s: EngineSettings, out: Collector) -> Classification:
    h = case.histology
    worrisome = [
        Criterion("size", _measure(d.size_cm, s.folpe_size_cm), d.size_text),
        Criterion("infiltrative growth", _state(h.infiltrative_growth), h.infiltrative_growth),
        Criterion(
            "high nuclear grade and cellularity",
            _state(h.high_nuclear_grade_and_cellularity),
            h.high_nuclear_grade_and_cellularity,
        ),
        Criterion(
            "mitoses",
            _measure(h.mitoses_per_50_hpf, s.folpe_mitoses_per_50_hpf),
            _mitoses_text(h.mitoses_per_50_hpf),
        ),
        Criterion("necrosis", _state(h.necrosis), h.necrosis),
        Criterion("vascular invasion", _state(h.vascular_invasion), h.vascular_invasion),
    ]
    pleo = Criterion(
        "nuclear pleomorphism or giant cells",
        _state(h.nuclear_pleomorphism_or_giant_cells),
        h.nuclear_pleomorphism_or_giant_cells,
    )
    return _classification("CLS-FOLPE-2005", worrisome, pleo, _folpe_rule, out)


def _folpe_rule(worrisome: int, pleomorphism: bool) -> str:
    if worrisome >= 2:
        return MALIGNANT
    if worrisome == 1 or pleomorphism:
        return UMP
    return BENIGN


def _mitoses_text(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}/50 HPF"


def bennett_2018(
    case: Case, d: Derived, s: EngineSettings, out: Collector
) -> Classification | None:
    if not case.tumour.primary_site.gynecologic:
        return None
    h = case.histology
    criteria = [
        Criterion("size", _measure(d.size_cm, s.bennett_size_cm), d.size_text),
        Criterion(
            "high-grade nuclear atypia",
            _state(h.high_nuclear_grade_and_cellularity),
            h.high_nuclear_grade_and_cellularity,
        ),
        Criterion(
            "mitoses",
            _measure(h.mitoses_per_50_hpf, s.bennett_mitoses_per_50_hpf),
            _mitoses_text(h.mitoses_per_50_hpf),
        ),
        Criterion("necrosis", _state(h.necrosis), h.necrosis),
        Criterion("lymphovascular invasion", _state(h.vascular_invasion), h.vascular_invasion),
    ]
    minimum = s.bennett_malignant_min_features

    def rule(count: int, _extra: bool) -> str:
        return MALIGNANT if count >= minimum else UMP

    return _classification("CLS-BENNETT-2018", criteria, None, rule, out)


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


def _classification(
    record_id: str,
    counted: list[Criterion],
    extra: Criterion | None,
    rule: Rule,
    out: Collector,
) -> Classification:
    normalised = counted if extra is None else [*counted, extra]
    category, possible = _classify(counted, extra, rule)
    determined = len(possible) == 1
    conditional: list[str] = []
    if not determined:
        for c in normalised:
            if c.state == "unknown":
                conditional.append(out.missing(_MISSING_FOR[c.name], affects=(record_id,)))
    facts = [Fact(_FIELD_OF[c.name], c.value) for c in normalised if c.state == "present"]
    rec = out.knowledge.records[record_id]
    return Classification(
        id=record_id,
        title=rec.title,
        category=category,
        determined=determined,
        possible=possible,
        criteria=tuple(normalised),
        item=out.item(record_id, facts, conditional),
    )


def icdo3_hint(case: Case, folpe: Classification, out: Collector) -> Classification:
    """Registry coding hint: 8714/3 for malignant behaviour, 8714/0 for benign."""
    metastatic = case.stage.status is DiseaseStatus.metastatic or case.stage.metastases
    facts = [Fact("classification.folpe_2005", folpe.category)]
    possible: tuple[str, ...]
    if metastatic:
        code, possible = "8714/3", ("8714/3",)
        facts.append(Fact("stage.status", case.stage.status))
    elif folpe.determined and folpe.category == MALIGNANT:
        code, possible = "8714/3", ("8714/3",)
    elif folpe.determined and folpe.category == BENIGN:
        code, possible = "8714/0", ("8714/0",)
    else:
        code, possible = "8714/0 or 8714/3 (per final diagnosis)", ("8714/0", "8714/3")
    rec = out.knowledge.records["CLS-ICDO3"]
    return Classification(
        id=rec.id,
        title=rec.title,
        category=code,
        determined=len(possible) == 1,
        possible=possible,
        criteria=(),
        item=out.item(rec.id, facts),
    )

