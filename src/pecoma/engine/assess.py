"""``assess(case, on_date)``: the pure entry point of the engine.

No database, network, environment or clock inside: the evaluation date is a parameter,
and the same case, date, settings and knowledge give the same assessment, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from pecoma import __version__
from pecoma.case import Agent, Case, DiseaseStatus, SurgeryStatus, YesNo
from pecoma.case.coherence import after_evaluation_date
from pecoma.engine import alerts, followup, pathway, risk
from pecoma.engine.collect import TREATMENT_SECTIONS, Collector
from pecoma.engine.facts import (
    PLANNED_PASSED,
    count_relapse_during_adjuvant,
    derive,
    gross_tumour_left,
    gross_tumour_question,
    operation_planned_while_free,
    planned_passed_asked,
    primary_in_place,
    relapse_despite_recorded_no,
    removal_asked,
    residual_tumour,
)
from pecoma.engine.model import ASSESSMENT_FORMAT, Assessment, Fact, Item, UsedInterpretation
from pecoma.engine.order import decision_order
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.settings import Settings, default_settings

__all__ = ["assess", "check_dates"]


def check_dates(case: Case, on_date: dt.date) -> None:
    """Reject facts dated after the evaluation date (they cannot have happened yet)."""
    issues = after_evaluation_date(case, on_date)
    if issues:
        raise InputError(issues)


def _interpretations(knowledge: Knowledge, used: set[str]) -> tuple[UsedInterpretation, ...]:
    return tuple(
        UsedInterpretation(i, knowledge.interpretations[i].title, knowledge.interpretations[i].text)
        for i in sorted(used, key=lambda x: int(x[1:]))
    )


#: Follow-up reasons resting on the disease being present, which an operation done may
#: have ended (the calendar then counts from its date).
_PRESENT_DISEASE_REASONS = frozenset({"FU-AFTER-RELAPSE", "FU-NO-PLAN-ACTIVE-DISEASE"})


def _mark_provisional(out: Collector, missing_id: str,
                      affected: Callable[[Item], bool]) -> None:
    """Mark each item ``affected`` provisional on ``missing_id``, asked already, and name
    it among what the question affects (the question asked after the advice is built)."""
    for items in (out.recommendations, out.followup):
        items[:] = [replace(i, conditional_on=(*i.conditional_on, missing_id))
                    if affected(i) and missing_id not in i.conditional_on else i
                    for i in items]
    out.missing(missing_id, affects=tuple(
        i.id for i in (*out.recommendations, *out.followup) if missing_id in i.conditional_on))


def _provisional_on_passed_day(out: Collector, passed: Fact) -> None:
    """Ask whether the operation planned for a day now passed was done, and mark
    provisional on that question each item it affects: the treatment recommendations
    (surgery, postoperative and systemic treatment of the disease left), the referral
    to surgery, and the reason no calendar is drawn while disease is present."""
    for asked in planned_passed_asked(out, passed, ()):
        _mark_provisional(out, asked, lambda i: (
            i.section in TREATMENT_SECTIONS or i.id == "REC-REFER-SURGERY"
            or i.id in _PRESENT_DISEASE_REASONS))


#: The advice of each drug class that progression on an adjuvant course of it would
#: change (S12, S13, S14, S15, S28).
_CLASS_ADVICE: dict[str, frozenset[str]] = {
    "mtor": frozenset({"REC-MTOR-FIRST-LINE", "REC-MTOR-MALIGNANCY-NOT-SHOWN",
                       "SUPP-NAB-SIROLIMUS"}),
    "anthracycline": frozenset({"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO"}),
    # progression on ifosfamide (alone or in a regimen) takes S15's epirubicin with
    # ifosfamide away (REC-UTERINE-EPI-IFO-PAST)
    "ifosfamide": frozenset({"REC-UTERINE-EPI-IFO"}),
}


def _class_advice(agent: Agent) -> frozenset[str]:
    """The advice progression on an adjuvant course of ``agent`` would change: its
    drug classes' (:data:`_CLASS_ADVICE`); none for an agent the guideline names no
    advice for (pazopanib, another agent), where the answer changes nothing shown."""
    out: frozenset[str] = frozenset()
    if agent.is_mtor_inhibitor:
        out |= _CLASS_ADVICE["mtor"]
    if agent.is_anthracycline_based:
        out |= _CLASS_ADVICE["anthracycline"]
    if Agent.ifosfamide in agent.drugs:
        out |= _CLASS_ADVICE["ifosfamide"]
    return out

#: The question a recorded "not progressed" on an adjuvant course raises when the dates
#: place a metastasis during it.
NO_PROGRESSION_DATES = "MISS-ADJUVANT-NO-PROGRESSION-DATES"


def _recorded_no_asked(out: Collector, case: Case) -> None:
    """An adjuvant course recorded as not progressed on while the record's dates place a
    metastasis during it (the rule that counts progression where it is not recorded,
    or possibly during it when its end is not recorded,
    :func:`relapse_despite_recorded_no`): the answer is kept, the course and the
    metastasis named in a question asking to confirm it, and the advice of the course's
    drug class shown provisional on it."""
    affected: set[str] = set()
    for _i, t, words in relapse_despite_recorded_no(case):
        advice = _class_advice(t.agent)
        if advice:
            out.missing(NO_PROGRESSION_DATES, about=(words,))
            affected |= advice
    if affected:
        _mark_provisional(out, NO_PROGRESSION_DATES, lambda i: i.id in affected)


def assess(
    case: Case,
    on_date: dt.date,
    settings: Settings | None = None,
    knowledge: Knowledge | None = None,
) -> Assessment:
    """What the guideline recommends for ``case`` as of ``on_date``, and why."""
    settings = settings or default_settings()
    knowledge = knowledge or load_knowledge()
    check_dates(case, on_date)
    engine = settings.engine
    out = Collector(knowledge, settings.wording())
    # a metastasis found during an adjuvant course answers whether the disease
    # progressed on it: counted so, the derived fact saying why
    case, counted = count_relapse_during_adjuvant(case)
    d = derive(case, engine, on_date)._replace(relapse_during_adjuvant=counted)

    alerts.status_from_facts(case, d, out)
    alerts.require_tissue(case, out)
    guideline = risk.guideline_risk(case, d, engine, out)
    folpe = risk.folpe_2005(case, d, engine, out)
    bennett = risk.bennett_2018(case, d, engine, out)
    classifications = [folpe] if bennett is None else [folpe, bennett]
    classifications.append(risk.icdo3_hint(case, d, folpe, bennett, out))
    guideline, malignant, malignant_open = risk.surveillance_of_malignant(
        guideline, classifications, engine)
    # whether the tumour counts as malignant (I9): one reading for the S27 alert and the
    # systemic treatment of advanced disease (I25)
    scope = risk.malignancy(d, classifications, case.stage.lymph_nodes, engine)

    alerts.suspected_spread(case, d, out)
    pathway.surgery(case, d, out)
    pathway.adjuvant(case, d, engine, out, guideline.item.conditional_on, guideline.group)
    pathway.systemic(case, d, scope, out)
    alerts.molecular(
        case, d, any(i.id in ("REC-MTOR-FIRST-LINE", "REC-MTOR-MALIGNANCY-NOT-SHOWN")
                     for i in out.recommendations), out
    )
    pathway.metastasectomy(case, d, out)
    pathway.referral(d, out)
    alerts.diagnosis_method(case, out)
    alerts.ihc_panel(case, out)
    alerts.history_and_behaviour(case, d, scope, guideline, out)
    residual = residual_tumour(case)
    resected_localized = (
        case.stage.status is DiseaseStatus.localized
        and case.surgery.status is SurgeryStatus.performed
        and not residual  # surveillance will count from the resection that removes it
    )
    followup.surveillance(
        out,
        d.status,
        guideline.group,
        guideline.surveillance_group,
        guideline.item.conditional_on,
        resected_localized and case.treatment_end is None,
        d.free_since,
        case.stage.lymph_nodes,
        malignant,
        malignant_open,
        residual,
        primary_in_place(case, on_date),
        case.surgery.status is SurgeryStatus.unknown,
        operation_planned_while_free(out, case, ("FU-AFTER-RELAPSE", *followup.HIGH_RISK_RULES)),
        removal_asked(out, d, ("FU-AFTER-RELAPSE", *followup.HIGH_RISK_RULES)),
        # the plan counted from an operation (the localized primary's, or one that may
        # have removed every known focus, I21) and a course after it without its end (I22)
        adjuvant_end_unknown=((resected_localized or bool(d.removal_open))
                              and case.surveillance_end_not_before is not None),
        low_imaging=followup.low_risk_imaging(settings.followup.low_risk_imaging),
        diagnosis_asked=out.treatment_conditions,
        gross_asked=(gross_tumour_question(case, d)
                     if gross_tumour_left(case) is YesNo.unknown else None),
    )

    if d.planned_passed is not None and PLANNED_PASSED not in {
            m.id for m in out.missing_facts()}:
        # a planned day passed outside localized resectable disease (locally advanced,
        # not resectable, metastatic): the operation done would change the advice that
        # rests on the disease being in place (its removal, the treatment of the disease
        # left) and the reason no calendar is drawn; each is provisional on the answer,
        # as the localized removal advice is (I20)
        _provisional_on_passed_day(out, d.planned_passed)
    _recorded_no_asked(out, case)

    return Assessment(
        ASSESSMENT_FORMAT,
        on_date,
        __version__,
        knowledge.version,
        settings.fingerprint,
        case.label,
        d.status,
        d.advanced,
        guideline,
        tuple(classifications),
        decision_order(out.recommendations),
        tuple(out.alerts),
        tuple(out.followup),
        out.missing_facts(),
        d.facts(),
        _interpretations(knowledge, out.interpretations),
        knowledge.intended_use,
    )
