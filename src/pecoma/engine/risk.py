"""Risk: the guideline's high-risk features (S05-S09, I1) and, apart, the supplementary
Folpe 2005 and Bennett 2018 pathology categories.

Each is decided for the case at hand on the criteria's states (present, absent, unknown);
nothing is kept from one case to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, NamedTuple

from pecoma.case import Case, DiagnosisMethod, DiseaseStatus, Feature, NodeStatus, SurgeryStatus
from pecoma.engine.collect import Collector
from pecoma.engine.facts import NOT_REMOVED, Derived
from pecoma.engine.model import Classification, Criterion, Fact, Risk, RiskFeature, State
from pecoma.numbers import number_text
from pecoma.settings import EngineSettings, Threshold

__all__ = [
    "Malignancy",
    "bennett_2018",
    "folpe_2005",
    "guideline_risk",
    "icdo3_hint",
    "malignancy",
]


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
    """The guideline's risk group (S05-S09, I1) and the surveillance schedule it implies.
    For recurrent or metastatic disease stratification no longer applies (I8), nor for a
    tumour that cannot be removed (unresectable locally advanced disease, I6: S05 serves
    the adjuvant decision after a resection): the primary's features are shown for
    reference and nothing is asked about them. Positive lymph nodes do not change the
    group (I1) but the schedule (I10), as a nodal status not recorded does meanwhile."""
    h = case.histology
    size_state = _measure(d.size_cm, s.guideline_size_cm)
    # a tumour of exactly 5 cm counted, or not, by a local reading of S06's cut-off (I24)
    size_setting = _decided_locally("guideline_size_cm", s.guideline_size_cm, d.size_cm)
    values: tuple[str, ...] = (
        d.size_text,
        h.necrosis,
        h.infiltrative_growth,
        h.high_nuclear_grade_and_cellularity,
    )
    states: tuple[State, ...] = (
        size_state,
        _state(h.necrosis),
        _state(h.infiltrative_growth),
        _state(h.high_nuclear_grade_and_cellularity),
    )
    features = []
    present: list[str] = []
    unknown: list[str] = []
    for (record_id, _missing_id, field), state, value in zip(
        _HIGH_RISK, states, values, strict=True
    ):
        template = out.template(record_id)
        applied = ("I24",) if record_id == "RISK-SIZE" and size_setting else ()
        features.append(RiskFeature(record_id, template.title, field, state, value,
                                    out.provenance(record_id, applied)))
        if state == "present":
            present.append(record_id)
        elif state == "unknown":
            unknown.append(field)
    if d.relapsed:
        return Risk(
            "not_applicable",
            (),
            (),
            tuple(features),
            "high",
            out.item("RISK-NOT-APPLICABLE", [d.status_fact()]),
        )
    if d.status is DiseaseStatus.locally_advanced_unresectable:
        # advanced disease (I6), high-risk surveillance once cleared (I8)
        return Risk(
            "not_applicable",
            (),
            (),
            tuple(features),
            "high",
            out.item("RISK-NOT-APPLICABLE-UNRESECTABLE", [d.status_fact()]),
        )
    group: Literal["high", "low", "indeterminate"]
    treated = d.treated_before_resection
    if present:
        group, record = "high", "RISK-HIGH"
        facts = [Fact(f.field, f.value) for f in features if f.state == "present"]
    elif treated:
        # I17: none present on a specimen resected after systemic therapy is not low risk
        group, record = "indeterminate", "RISK-AFTER-SYSTEMIC-THERAPY"
        facts = [*treated, *(Fact(f, "unknown") for f in unknown)]
    elif unknown:
        group, record = "indeterminate", "RISK-INDETERMINATE"
        facts = [Fact(f, "unknown") for f in unknown]
    else:
        group, record = "low", "RISK-LOW"
        facts = [Fact(f.field, f.value) for f in features]
    conditional: list[str] = []
    to_resect = _to_resect_asked(case, d)
    if group == "low" and to_resect is not None:
        # read before the resection (a biopsy, imaging), or may have been: none present
        # there does not show none in the tumour
        conditional.append(out.missing(to_resect, affects=(record,)))
    if group != "high" and case.diagnosis.method is DiagnosisMethod.imaging_only:
        # I11, S24: without tissue, necrosis, infiltrative growth and the nuclear grade
        # and cellularity recorded as absent are not known absent (imaging cannot
        # characterise the tumour); the group waits on the tissue diagnosis, as the
        # treatment, the ICD-O-3 code and the schedule do (a feature present still counts)
        conditional.append(out.missing("MISS-TISSUE-DIAGNOSIS", affects=(record,)))
        facts = [*facts, Fact("diagnosis.method", "imaging_only")]
    if group != "high":
        if treated:
            conditional.append(out.missing("MISS-FEATURES-BEFORE-SYSTEMIC-THERAPY",
                                           affects=(record, "RISK-HIGH", "RISK-LOW")))
        for (record_id, missing_id, _field), state in zip(_HIGH_RISK, states, strict=True):
            if state == "unknown":
                conditional.append(
                    out.missing(missing_id, affects=(record_id, "RISK-HIGH", "RISK-LOW"))
                )
    # I10: positive lymph nodes put a low-risk case on the high-risk schedule, and so,
    # meanwhile, does a nodal status the record does not give; nodes recorded as not
    # assessed keep the risk group's.
    nodes_high = d.nodes_positive or case.stage.lymph_nodes is NodeStatus.unknown
    surveillance: Literal["high", "low"] = (
        "low" if group == "low" and not nodes_high else "high"
    )
    if size_setting:
        # the size's state at the cut-off, which the group rests on, is the setting's
        facts = [*facts, *size_setting]
    return Risk(
        group,
        tuple(present),
        tuple(unknown),
        tuple(features),
        surveillance,
        out.item(record, facts, conditional, ("I24",) if size_setting else ()),
    )


def surveillance_of_malignant(risk: Risk, classifications: Sequence[Classification],
                              s: EngineSettings) -> tuple[Risk, list[Fact], tuple[str, ...]]:
    """A tumour without high-risk features (low or indeterminate) that a pathology
    classification determines malignant (Folpe 2005; Bennett 2018 for gynecologic
    primaries), or may on facts not yet recorded, is followed on the high-risk schedule
    (I14; the safer branch meanwhile). Knowing less never gives less surveillance: a
    classification open from benign to malignant counts as one open from uncertain
    malignant potential to malignant. Returns the risk with its surveillance group, the
    classifications that decided it, and the missing facts it rests on (none when one
    classification determines it malignant; those that may make it malignant,
    :func:`_open_to_malignant`, otherwise)."""
    if risk.group not in ("low", "indeterminate"):
        return risk, [], ()
    # determined malignant, or undetermined with malignant among the categories the
    # missing facts could still give
    found = [c for c in classifications if c.id in ("CLS-FOLPE-2005", "CLS-BENNETT-2018")
             and MALIGNANT in (c.possible if not c.determined else (c.category,))]
    if not found:
        return risk, [], ()
    facts = [Fact(f"classification.{c.id.removeprefix('CLS-').lower().replace('-', '_')}",
                  c.category) for c in found]
    settled = any(c.determined for c in found)
    open_on = () if settled else tuple(dict.fromkeys(
        m for c in found for m in _open_to_malignant(c, s)))
    return replace(risk, surveillance_group="high"), facts, open_on


def _open_to_malignant(c: Classification, s: EngineSettings) -> tuple[str, ...]:
    """The missing facts that may still make the undetermined pathology classification
    ``c`` malignant. Every fact it waits on when its unknown criteria could give malignant
    on the features recorded; else only those that widened its range up to malignant: the
    features before systemic therapy (I17) and the specimen of a resection still to come
    (I6). A range open up to malignant only because the tumour was never resected, with
    unknown criteria that could not make it malignant (one worrisome feature at most),
    is opened by no answer to them: an unresectable tumour's mitotic count of 0 or 3
    gives the same advice, so the count is not what it waits on (I25)."""
    scheme = _FOLPE if c.id == _FOLPE.record_id else _bennett(s.bennett_malignant_min_features)
    states = [x.state for x in c.criteria]
    counted = states[: scheme.counted]
    extra = states[scheme.counted] if len(states) > scheme.counted else "absent"
    reach = scheme.rule(counted.count("present") + counted.count("unknown"),
                        extra != "absent")
    if reach == MALIGNANT:
        return c.item.conditional_on
    return tuple(m for m in c.item.conditional_on if m in _WIDENING)


#: The missing facts that widen a classification's range beyond its unknown criteria.
_WIDENING = ("MISS-FEATURES-BEFORE-SYSTEMIC-THERAPY", "MISS-RESECTION-SPECIMEN",
             "MISS-SURGERY-STATUS")


class Malignancy(NamedTuple):
    """Whether the tumour counts as malignant on the facts entered (I9), the one rule
    the S27 alert's level and the systemic treatment of advanced disease (I25) follow.

    ``evidence``: the facts that make it count as malignant (empty when none do);
    ``open_on``: with no evidence, the missing facts that may still make it malignant: a
    pathology classification's unknown criteria, and the regional lymph nodes when the
    record does not give them (unknown: nodal spread is evidence, I9); the safer branch
    meanwhile is to take it as malignant, provisional on them; ``grounds``: with no
    evidence, the facts as they stand (the pathology categories and the nodal status);
    ``asked``: with no evidence, what is still asked without opening malignancy: nodes
    recorded as not assessed are a recorded fact, no evidence of nodal spread (I10), so
    the items read as the facts stand, provisional on MISS-NODES (positive nodes would
    make the tumour malignant)."""

    evidence: tuple[Fact, ...]
    open_on: tuple[str, ...]
    grounds: tuple[Fact, ...]
    asked: tuple[str, ...] = ()

    @property
    def not_shown(self) -> bool:
        """No evidence of malignancy and none left open by a missing fact: at most
        benign or of uncertain malignant potential on the facts entered, the regional
        nodes recorded free or not assessed (I10; a category left open up to malignant
        only because the tumour was never resected, I6, is no evidence either)."""
        return not self.evidence and not self.open_on


def malignancy(d: Derived, classifications: Sequence[Classification],
               nodes: NodeStatus, s: EngineSettings) -> Malignancy:
    """The facts that make the tumour count as malignant (I9): a pathology
    classification determined as malignant, disease that has recurred or metastasised,
    or spread to regional lymph nodes; else the missing facts that may still make it
    malignant (a classification's unknown criteria that could make it malignant, or what
    widened its range, :func:`_open_to_malignant`; ``nodes``, the recorded nodal
    status, when unknown: MISS-NODES; nodes not assessed leave it as the other facts
    say, MISS-NODES asked, I10). The guideline's high-risk features
    (S06-S09) predict aggressive behaviour; they do not make the tumour malignant by
    themselves."""
    pathology = [c for c in classifications if c.id in _CLASSIFICATION_FACT]
    evidence = [Fact(_CLASSIFICATION_FACT[c.id], c.category) for c in pathology
                if c.determined and c.category == MALIGNANT]
    if d.relapsed:
        evidence.append(d.status_fact())
    if d.nodes_positive:
        evidence.append(Fact("stage.lymph_nodes", "positive"))
    if evidence:
        return Malignancy(tuple(evidence), (), ())
    open_on = tuple(dict.fromkeys(
        [*(m for c in pathology if not c.determined and MALIGNANT in c.possible
           for m in _open_to_malignant(c, s)),
         *(("MISS-NODES",) if nodes is NodeStatus.unknown else ())]))
    return Malignancy((), open_on, (
        *(Fact(_CLASSIFICATION_FACT[c.id], c.category) for c in pathology),
        Fact("stage.lymph_nodes", nodes)),
        ("MISS-NODES",) if nodes is NodeStatus.not_assessed else ())


_CLASSIFICATION_FACT = {
    "CLS-FOLPE-2005": "classification.folpe_2005",
    "CLS-BENNETT-2018": "classification.bennett_2018",
}


def _decided_locally(name: str, threshold: Threshold, value: float | None
                     ) -> tuple[Fact, ...]:
    """The fact naming the setting ``name`` when ``value`` lies exactly at the cut-off and
    the reading in force departs from its source's: the setting decided whether it counts
    (I24); ``()`` otherwise."""
    if value is None or not threshold.decided_locally(value):
        return ()
    return (Fact(f"settings.engine.{name}", threshold.reading),)


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
        bool(d.treated_before_resection),
        _unresected_fact(case, d),
        (*_decided_locally("folpe_size_cm", s.folpe_size_cm, d.size_cm),
         *_decided_locally("folpe_mitoses_per_50_hpf", s.folpe_mitoses_per_50_hpf, mitoses)),
    )


def _unresected_fact(case: Case, d: Derived) -> Fact | None:
    """A tumour never resected, or that may not have been: unresectable (I6), or localized
    with its resection not performed, planned or not recorded at all (status unknown: it
    may be still to come). Its features were read on a biopsy or on imaging, or may have
    been, which cannot show they are absent from the tumour; the fact that says so, or
    None."""
    if (d.status is DiseaseStatus.locally_advanced_unresectable
            and case.surgery.status is not SurgeryStatus.performed):
        return d.status_fact()
    if _to_resect_asked(case, d) is not None:
        return Fact("surgery.status", case.surgery.status)
    return None


def _to_resect_asked(case: Case, d: Derived) -> str | None:
    """The question a localized tumour's features wait on when they were read before its
    resection, or may have been (I6): the resection specimen, for a tumour recorded as
    not removed (surgery not performed, or planned); whether it was resected at all, for
    one whose surgery is not recorded (``MISS-SURGERY-STATUS``: the safer branch, as for
    a planned resection, meanwhile). ``None`` otherwise."""
    if d.status is not DiseaseStatus.localized:
        return None
    if case.surgery.status in NOT_REMOVED:
        return "MISS-RESECTION-SPECIMEN"
    if case.surgery.status is SurgeryStatus.unknown:
        return "MISS-SURGERY-STATUS"
    return None



def _mitoses_text(value: float | None) -> str:
    return "unknown" if value is None else _count_text(value)


def _count_text(value: float) -> str:
    return f"{number_text(value)}/50 HPF"


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
        bool(d.treated_before_resection),
        _unresected_fact(case, d),
        (*_decided_locally("bennett_size_cm", s.bennett_size_cm, d.size_cm),
         *_decided_locally("bennett_mitoses_per_50_hpf", s.bennett_mitoses_per_50_hpf,
                           mitoses)),
    )


def _bennett(minimum: int) -> _Scheme:
    """Bennett's scheme for a minimum number of features (a setting)."""

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


def _classification(
    scheme: _Scheme,
    size_state: State,
    size_text: str,
    mitoses_state: State,
    mitoses_text: str,
    before: tuple[Feature, ...],
    after: tuple[Feature, ...],
    out: Collector,
    treated: bool = False,
    unresected: Fact | None = None,
    settings_facts: tuple[Fact, ...] = (),
) -> Classification:
    """A classification from its criteria (see :class:`_Scheme` for their order): the
    category with unknowns taken as absent and as present; when that leaves more than one
    category, the unknown criteria are missing facts the classification rests on.
    ``treated``: the criteria were read on a specimen resected after systemic therapy
    (I17), so any criterion may have been present before it: the category reaches up to
    what every criterion present would give, provisional on the features before
    treatment. ``unresected``: the tumour was never resected, cannot be (I6) or is still
    to be: the criteria were not read on a resection specimen, so the category is not
    settled below the highest any criterion could give (a biopsy does not show a feature
    absent); the fact is named, and a tumour still to be resected waits on its specimen
    (MISS-RESECTION-SPECIMEN). ``settings_facts``: the settings that decided whether a
    value exactly at a cut-off counts, by a reading other than the source's (I24)."""
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
    high = (scheme.rule(scheme.counted, True) if treated or unresected
            else scheme.rule(present + unknown, extra_state != "absent"))
    category, possible = (low, (low,)) if low == high else (f"{low} to {high}", _range(low, high))
    conditional: list[str] = []
    if len(possible) != 1:
        if treated:
            conditional.append(out.missing("MISS-FEATURES-BEFORE-SYSTEMIC-THERAPY",
                                           affects=(scheme.record_id,)))
        if unresected is not None and unresected.path == "surgery.status":
            # a tumour still to be resected, its specimen will settle the category; one
            # whose surgery is not recorded, whether it was resected
            conditional.append(out.missing(
                "MISS-SURGERY-STATUS" if unresected.value == SurgeryStatus.unknown
                else "MISS-RESECTION-SPECIMEN", affects=(scheme.record_id,)))
        for name, state in zip(names, states, strict=True):
            if state == "unknown":
                conditional.append(
                    out.missing(_MISSING_FOR[name], affects=(scheme.record_id,))
                )
    facts: list[Fact] = []
    if size_state == "present":
        facts.append(Fact("tumour.size", size_text))
    facts += _present_facts(scheme.before, before)
    if mitoses_state == "present":
        facts.append(Fact("histology.mitoses_per_50_hpf", mitoses_text))
    facts += _present_facts(scheme.after, after)
    if unresected is not None and len(possible) != 1:
        facts.append(unresected)
    # a value exactly at a cut-off, counted or not by a local reading (I24): named
    facts += settings_facts
    item = out.item(scheme.record_id, facts, conditional, ("I24",) if settings_facts else ())
    return Classification(
        scheme.record_id,
        item.title,
        category,
        len(possible) == 1,
        possible,
        (
            Criterion("size", size_state, size_text),
            *_criteria(scheme.before, before),
            Criterion("mitoses", mitoses_state, mitoses_text),
            *_criteria(scheme.after, after),
        ),
        item,
    )


def _criteria(names: tuple[str, ...], values: tuple[Feature, ...]) -> list[Criterion]:
    return [Criterion(n, _state(v), v) for n, v in zip(names, values, strict=True)]


def _present_facts(names: tuple[str, ...], values: tuple[Feature, ...]) -> list[Fact]:
    return [
        Fact(_FIELD_OF[n], v)
        for n, v in zip(names, values, strict=True)
        if v is Feature.present
    ]


def icdo3_hint(
    case: Case,
    d: Derived,
    folpe: Classification,
    bennett: Classification | None,
    out: Collector,
) -> Classification:
    """Registry coding hint: 8714/3 for malignant behaviour, 8714/0 for benign. None
    without histology (I11); malignant once the disease has recurred, metastasised or
    spread to regional lymph nodes (I9);
    otherwise the pathology categories, both codes open when they leave it open or when
    Folpe and Bennett disagree (the disagreement is shown, not settled), and never the
    benign code alone for a tumour that cannot be removed. Unknown is not absent: with
    the regional lymph nodes not known to be free (unknown, not assessed), 8714/3 stays
    open beside whatever the pathology categories say, and the hint is provisional on
    the nodal status (MISS-NODES), as a classification is on its unknown criteria. The
    code is PEComa's: while the diagnosis is not confirmed (the missing facts every
    treatment recommendation waits on, ``out.treatment_conditions``, I11) it is
    provisional on that confirmation too."""
    possible: tuple[str, ...]
    if case.diagnosis.method is DiagnosisMethod.imaging_only:
        item = out.item("CLS-ICDO3", [Fact("diagnosis.method", "imaging_only")])
        return Classification(
            item.id, item.title, "none without histology", False, (), (), item
        )
    facts = [Fact("classification.folpe_2005", folpe.category)]
    conditional = [out.missing(m, affects=("CLS-ICDO3",)) for m in out.treatment_conditions]
    if d.relapsed or d.nodes_positive:
        # behaviour shown, not predicted: relapse, metastasis or nodal spread (I9)
        code, possible = "8714/3", ("8714/3",)
        facts.append(d.status_fact() if d.relapsed else Fact("stage.lymph_nodes", "positive"))
    else:
        possible = _CODES.get(folpe.category, _OPEN) if folpe.determined else _OPEN
        code = possible[0] if len(possible) == 1 else "8714/0 or 8714/3 (per final diagnosis)"
        if bennett is not None:
            facts.append(Fact("classification.bennett_2018", bennett.category))
            if folpe.determined and bennett.determined and folpe.category != bennett.category:
                out.add("ALERT-CLASSIFICATIONS-DISAGREE", facts)
                possible = _OPEN
                code = "8714/0 or 8714/3 (Folpe and Bennett disagree)"
        if d.status is DiseaseStatus.locally_advanced_unresectable and possible == ("8714/0",):
            # unresectable disease, treated as advanced (I6): features read without a
            # resection do not make it benign
            possible = _OPEN
            code = "8714/0 or 8714/3 (per final diagnosis)"
            facts.append(d.status_fact())
        if case.stage.lymph_nodes in _NODES_OPEN and "8714/0" in possible:
            # nodal spread would make it 8714/3 (I9): not known absent, it keeps it open
            conditional.append(out.missing("MISS-NODES", affects=("CLS-ICDO3",)))
            facts.append(Fact("stage.lymph_nodes", case.stage.lymph_nodes))
            if possible == ("8714/0",):
                possible = _OPEN
                code = "8714/0 or 8714/3 (depends on the lymph nodes)"
    item = out.item("CLS-ICDO3", facts, conditional)
    return Classification(
        id=item.id,
        title=item.title,
        category=code,
        determined=len(possible) == 1,
        possible=possible,
        criteria=(),
        item=item,
    )


_OPEN = ("8714/0", "8714/3")
_NODES_OPEN = (NodeStatus.unknown, NodeStatus.not_assessed)
_CODES = {MALIGNANT: ("8714/3",), BENIGN: ("8714/0",)}
