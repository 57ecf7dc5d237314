"""The treatment, alert and surveillance rules as kept-result groups, in output order.

Each function here reads off the case the few facts its rules need and passes them, as
values, to a group function that runs the rules (:mod:`pecoma.engine.pathway`,
:mod:`pecoma.engine.alerts`, :mod:`pecoma.engine.followup`) on a collector of its own.
The group sees nothing but those values, so its result is kept and replayed for the next
case with the same facts (:mod:`pecoma.engine.memo`). Adjacent rules share a group when
their facts together stay few; the order of the output is that of the rules.
"""

from __future__ import annotations

from pecoma.case import (
    Agent,
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    IHCResult,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    SurgeryStatus,
    Timing,
    YesNo,
)
from pecoma.engine import alerts, followup, pathway
from pecoma.engine.collect import NO_EFFECTS, Collector, Effects
from pecoma.engine.facts import Derived
from pecoma.engine.memo import rule_group
from pecoma.engine.model import Risk
from pecoma.knowledge import Knowledge
from pecoma.settings import EngineSettings

__all__ = [
    "alerts_and_surveillance",
    "ihc_panel",
    "local_treatment",
    "relapse_referral_and_diagnosis",
    "systemic",
]

# Enum members as module constants (on Python 3.11 reading a member off its class passes
# through the enum metaclass, several times slower): these checks run for every case.
_RELAPSED = frozenset({DiseaseStatus.metastatic, DiseaseStatus.recurrent})
_LOCALIZED = DiseaseStatus.localized
_PERFORMED = SurgeryStatus.performed
_LUNG = MetastasisSite.lung
_UTERUS = PrimarySite.uterus
_POSITIVE = IHCResult.positive


def local_treatment(
    case: Case, d: Derived, s: EngineSettings, out: Collector, risk_unknown: tuple[str, ...]
) -> None:
    """Surgery (S01, S03, S04, S17), then adjuvant considerations (S10, S11)."""
    stage, surg = case.stage, case.surgery
    site = case.tumour.primary_site
    effects = _local_treatment(
        out.knowledge,
        stage.status,
        surg.status,
        surg.margin,
        stage.resectable,
        stage.complete_excision_feasible,
        site if site in s.high_risk_sites else None,
        stage.lymph_nodes,
        d.timings,
        risk_unknown,
    )
    if effects is not NO_EFFECTS:
        out.apply(effects)


@rule_group(maxsize=8192)
def _local_treatment(
    knowledge: Knowledge,
    status: DiseaseStatus,
    surgery_status: SurgeryStatus,
    margin: Margin,
    resectable: YesNo,
    feasible: YesNo,
    high_risk_site: PrimarySite | None,
    nodes: NodeStatus,
    timings: tuple[Timing, ...],
    risk_unknown: tuple[str, ...],
) -> Effects:
    out = Collector(knowledge)
    pathway.surgery(out, status, surgery_status, margin, resectable, feasible)
    pathway.adjuvant(
        out, status, high_risk_site, surgery_status, margin, nodes, timings, risk_unknown
    )
    return out.effects()


def systemic(case: Case, d: Derived, out: Collector) -> None:
    """Systemic treatment (S02, S12-S15), for advanced disease or disease that may be."""
    if d.advanced is False:
        return
    sysm = case.systemic
    progressed = d.progressed_on_mtor
    first = d.first_line
    effects = _systemic(
        out.knowledge,
        d.advanced,
        case.stage.status,
        sysm.mtor_inhibitor_available,
        sysm.mtor_inhibitor_contraindicated,
        None if progressed is None else progressed.agent,
        case.tumour.primary_site is _UTERUS,
        None if first is None else first.agent,
    )
    if effects is not NO_EFFECTS:
        out.apply(effects)


@rule_group(maxsize=4096)
def _systemic(
    knowledge: Knowledge,
    advanced: bool | None,
    status: DiseaseStatus,
    avail: YesNo,
    contra: YesNo,
    progressed_agent: Agent | None,
    uterine: bool,
    first_line_agent: Agent | None,
) -> Effects:
    out = Collector(knowledge)
    pathway.systemic(
        out, advanced, status, avail, contra, progressed_agent, uterine, first_line_agent
    )
    return out.effects()


def relapse_referral_and_diagnosis(case: Case, d: Derived, out: Collector) -> None:
    """Metastasectomy (S16, S17, I5) for recurrent or metastatic disease, referral to trials
    and registries (S28), then the first diagnostic pitfall: an imaging-only diagnosis."""
    stage = case.stage
    status = stage.status
    lung = (
        tuple(
            t for m, t in zip(stage.metastases, d.timings, strict=True)
            if m.site is _LUNG
        )
        if status in _RELAPSED
        else ()
    )
    effects = _relapse_referral_and_diagnosis(
        out.knowledge,
        status,
        bool(stage.metastases),
        lung,
        d.anchor is None,
        d.dfi_met,
        d.dfi_text,
        d.extrapulmonary,
        stage.complete_excision_feasible,
        case.diagnosis.method,
    )
    if effects is not NO_EFFECTS:
        out.apply(effects)


@rule_group(maxsize=8192)
def _relapse_referral_and_diagnosis(
    knowledge: Knowledge,
    status: DiseaseStatus,
    any_metastases: bool,
    lung: tuple[Timing, ...],
    no_anchor: bool,
    dfi_met: bool | None,
    dfi_text: str,
    extrapulmonary: YesNo,
    feasible: YesNo,
    method: DiagnosisMethod,
) -> Effects:
    out = Collector(knowledge)
    if status in _RELAPSED:
        pathway.metastasectomy(
            out, status, any_metastases, lung, no_anchor, dfi_met, dfi_text, extrapulmonary,
            feasible,
        )
    pathway.referral(out, status)
    alerts.diagnosis_method(out, method)
    return out.effects()


def ihc_panel(case: Case, out: Collector) -> None:
    """The immunohistochemistry panel S24 calls essential."""
    ihc = case.immunohistochemistry
    effects = _ihc_panel(
        out.knowledge, ihc.hmb45, ihc.melan_a, ihc.mitf, ihc.sma, ihc.desmin, ihc.h_caldesmon
    )
    if effects is not NO_EFFECTS:
        out.apply(effects)


@rule_group(maxsize=8192)
def _ihc_panel(
    knowledge: Knowledge,
    hmb45: IHCResult,
    melan_a: IHCResult,
    mitf: IHCResult,
    sma: IHCResult,
    desmin: IHCResult,
    h_caldesmon: IHCResult,
) -> Effects:
    out = Collector(knowledge)
    alerts.ihc_panel(out, hmb45, melan_a, mitf, sma, desmin, h_caldesmon)
    return out.effects()


def alerts_and_surveillance(case: Case, risk: Risk, out: Collector) -> None:
    """The remaining alerts (S25-S27, supplementary), then which surveillance rules apply
    (S18-S23, I1, I3, I8)."""
    status = case.stage.status
    surg = case.surgery
    resected_localized = status is _LOCALIZED and surg.status is _PERFORMED
    effects = _alerts_and_surveillance(
        out.knowledge,
        case.diagnosis.prior_diagnosis,
        status,
        surg.margin if resected_localized else None,
        case.immunohistochemistry.tfe3 is _POSITIVE,
        risk.group,
        risk.surveillance_group,
        risk.item.conditional_on,
        resected_localized and case.treatment_end is None,
    )
    if effects is not NO_EFFECTS:
        out.apply(effects)


@rule_group(maxsize=4096)
def _alerts_and_surveillance(
    knowledge: Knowledge,
    prior: PriorDiagnosis,
    status: DiseaseStatus,
    resected_margin: Margin | None,
    tfe3_positive: bool,
    group: str,
    surveillance_group: str,
    risk_conditional_on: tuple[str, ...],
    resected_without_date: bool,
) -> Effects:
    out = Collector(knowledge)
    alerts.history_and_behaviour(out, prior, status, resected_margin, tfe3_positive)
    followup.surveillance(
        out, status, group, surveillance_group, risk_conditional_on, resected_without_date
    )
    return out.effects()
