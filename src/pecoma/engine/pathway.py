"""Treatment pathway: surgery (S01, S03, S04), adjuvant considerations (S10, S11), systemic
treatment of advanced disease (S02, S12-S15), metastasectomy (S16, S17) and referral (S28).

Each rule names record ids and the facts behind them; when a fact is unknown the rule
reports it as missing, takes the safer branch and marks the item conditional on it.

Each group of rules is a pure function of the few facts it reads, passed as arguments (it
cannot see the rest of the case), so its result is kept and reused for the next case with
the same facts: see :mod:`pecoma.engine.memo`.
"""

from __future__ import annotations

from pecoma.case import (
    Agent,
    Case,
    DiseaseStatus,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    SurgeryStatus,
    Timing,
    YesNo,
)
from pecoma.engine.collect import Collector, Effects
from pecoma.engine.facts import Derived
from pecoma.engine.memo import rule_group
from pecoma.engine.model import Fact
from pecoma.knowledge import Knowledge
from pecoma.settings import EngineSettings

__all__ = ["local_treatment", "metastasectomy_and_referral", "systemic"]

_INCOMPLETE = (Margin.R1, Margin.R2)
# Module constants for the checks every case goes through (cheaper than class attributes).
_RELAPSED = frozenset({DiseaseStatus.metastatic, DiseaseStatus.recurrent})
_LUNG = MetastasisSite.lung
_UTERUS = PrimarySite.uterus


def local_treatment(
    case: Case, d: Derived, s: EngineSettings, out: Collector, risk_unknown: tuple[str, ...]
) -> None:
    """Surgery (S01, S03, S04, S17), then adjuvant considerations (S10, S11)."""
    stage, surg = case.stage, case.surgery
    site = case.tumour.primary_site
    out.apply(
        _local_treatment(
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
    )


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
    _surgery(out, status, surgery_status, margin, resectable, feasible)
    _adjuvant(out, status, high_risk_site, surgery_status, margin, nodes, timings, risk_unknown)
    return out.effects()


def _surgery(
    out: Collector,
    status: DiseaseStatus,
    surgery_status: SurgeryStatus,
    margin: Margin,
    resectable: YesNo,
    feasible: YesNo,
) -> None:
    status_fact = Fact("stage.status", status)
    if status is DiseaseStatus.localized:
        if surgery_status is SurgeryStatus.performed:
            margin_fact = Fact("surgery.margin", margin)
            if margin is Margin.R0:
                out.add("REC-RESECTION-DONE", [margin_fact])
            elif margin in _INCOMPLETE:
                out.add("REC-RERESECTION", [margin_fact])
                out.add("REC-REFER-SURGERY", [margin_fact])
            elif margin is Margin.unknown:
                out.missing(
                    "MISS-MARGIN",
                    affects=("REC-RESECTION-DONE", "REC-RERESECTION", "REC-ADJ-RADIOTHERAPY"),
                )
        else:
            facts = [status_fact, Fact("surgery.status", surgery_status)]
            conditional = []
            if surgery_status is SurgeryStatus.unknown:
                conditional.append(
                    out.missing("MISS-SURGERY-STATUS", affects=("REC-RESECTION",))
                )
            out.add("REC-RESECTION", facts, conditional)
            out.add("REC-REFER-SURGERY", facts, conditional)
        return
    if status is DiseaseStatus.locally_advanced_unresectable:
        return
    # Recurrent or metastatic disease: the aggressive-surgery principle (S17).
    facts = [status_fact, Fact("stage.resectable", resectable)]
    if resectable is YesNo.yes or (
        resectable is YesNo.unknown
        and status is DiseaseStatus.metastatic
        and feasible is YesNo.yes
    ):
        if feasible is YesNo.yes:
            facts.append(Fact("stage.complete_excision_feasible", "yes"))
        out.add("REC-AGGRESSIVE-SURGERY", facts)
        out.add("REC-REFER-SURGERY", facts)
    elif resectable is YesNo.unknown and feasible is not YesNo.no:
        miss = out.missing("MISS-RESECTABLE", affects=("REC-AGGRESSIVE-SURGERY",))
        out.add("REC-AGGRESSIVE-SURGERY", facts, [miss])


def _adjuvant(
    out: Collector,
    status: DiseaseStatus,
    high_risk_site: PrimarySite | None,
    surgery_status: SurgeryStatus,
    margin: Margin,
    nodes: NodeStatus,
    timings: tuple[Timing, ...],
    risk_unknown: tuple[str, ...],
) -> None:
    if status is DiseaseStatus.localized:
        out.add("RISK-ASSESS", [Fact("stage.status", status)], risk_unknown)
        facts: list[Fact] = []
        conditional: list[str] = []
        if high_risk_site is not None:
            facts.append(Fact("tumour.primary_site", high_risk_site))
        if surgery_status is SurgeryStatus.performed:
            if margin in (*_INCOMPLETE, Margin.uncertain):
                facts.append(Fact("surgery.margin", margin))
            elif margin is Margin.unknown:
                facts.append(Fact("surgery.margin", "unknown"))
                conditional.append(out.missing("MISS-MARGIN"))
        if facts:
            out.add("REC-ADJ-RADIOTHERAPY", facts, conditional if len(facts) == 1 else ())
    # S11: nodes or distant metastases at presentation.
    s11: list[Fact] = []
    if nodes is NodeStatus.positive:
        s11.append(Fact("stage.lymph_nodes", "positive"))
    for i, timing in enumerate(timings):
        if timing is Timing.synchronous:
            s11.append(Fact(f"derived.metastases[{i}].timing", "synchronous"))
    operated = surgery_status in (SurgeryStatus.performed, SurgeryStatus.planned)
    if s11 and (operated or nodes is NodeStatus.positive):
        out.add("REC-ADJ-NODES-METS", s11)
    elif nodes in (NodeStatus.unknown, NodeStatus.not_assessed) and (
        status is DiseaseStatus.localized or operated
    ):
        out.missing("MISS-NODES", affects=("REC-ADJ-NODES-METS",))


def systemic(case: Case, d: Derived, out: Collector) -> None:
    if d.advanced is False:
        return
    sysm = case.systemic
    progressed = d.progressed_on_mtor
    first = d.first_line
    out.apply(
        _systemic(
            out.knowledge,
            d.advanced,
            case.stage.status,
            sysm.mtor_inhibitor_available,
            sysm.mtor_inhibitor_contraindicated,
            None if progressed is None else progressed.agent,
            case.tumour.primary_site is _UTERUS,
            None if first is None else first.agent,
        )
    )


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
    base: list[str] = []
    if advanced is None:
        base.append(out.missing("MISS-RESECTABLE", affects=("REC-MTOR-FIRST-LINE",)))
    status_fact = Fact("stage.status", status)
    mtor_facts = [
        status_fact,
        Fact("systemic.mtor_inhibitor_available", avail),
        Fact("systemic.mtor_inhibitor_contraindicated", contra),
    ]
    mtor_blocked = avail is YesNo.no or contra is YesNo.yes
    unsure: list[str] = []
    if not mtor_blocked:
        if avail is YesNo.unknown:
            unsure.append(
                out.missing(
                    "MISS-MTOR-AVAILABLE", affects=("REC-MTOR-FIRST-LINE", "REC-ANTHRACYCLINE")
                )
            )
        if contra is YesNo.unknown:
            unsure.append(
                out.missing(
                    "MISS-MTOR-CONTRAINDICATED",
                    affects=("REC-MTOR-FIRST-LINE", "REC-ANTHRACYCLINE"),
                )
            )
    if progressed_agent is not None:
        facts = [
            status_fact,
            Fact("systemic.therapies.agent", progressed_agent),
            Fact("systemic.therapies.progressed", "yes"),
        ]
        out.add("REC-NO-NEXT-LINE", facts, base)
        out.add("SUPP-AFTER-MTOR", facts, base)
    elif mtor_blocked:
        out.add("REC-ANTHRACYCLINE", mtor_facts, base)
    else:
        out.add("REC-MTOR-FIRST-LINE", mtor_facts, [*base, *unsure])
        out.add("SUPP-NAB-SIROLIMUS", mtor_facts, [*base, *unsure])
    if uterine:
        out.add("REC-UTERINE-EPI-IFO", [status_fact, Fact("tumour.primary_site", "uterus")], base)
    if (
        first_line_agent is not None
        and first_line_agent.is_conventional_chemotherapy
        and not mtor_blocked
    ):
        out.add(
            "ALERT-CHEMO-BEFORE-MTOR",
            [
                Fact("systemic.therapies.first_line", first_line_agent),
                Fact("systemic.mtor_inhibitor_available", avail),
                Fact("systemic.mtor_inhibitor_contraindicated", contra),
            ],
            unsure,
        )
    return out.effects()


def metastasectomy_and_referral(case: Case, d: Derived, out: Collector) -> None:
    """Metastasectomy (S16, S17, I5) for recurrent or metastatic disease, then referral to
    trials and registries (S28) for all."""
    stage = case.stage
    status = stage.status
    relapsed = status in _RELAPSED
    lung = (
        tuple(
            t for m, t in zip(stage.metastases, d.timings, strict=True)
            if m.site is _LUNG
        )
        if relapsed
        else ()
    )
    out.apply(
        _metastasectomy_and_referral(
            out.knowledge,
            status,
            bool(stage.metastases),
            lung,
            d.anchor is None,
            d.dfi_met,
            d.dfi_text,
            d.extrapulmonary,
            stage.complete_excision_feasible,
        )
    )


@rule_group(maxsize=8192)
def _metastasectomy_and_referral(
    knowledge: Knowledge,
    status: DiseaseStatus,
    any_metastases: bool,
    lung: tuple[Timing, ...],
    no_anchor: bool,
    dfi_met: bool | None,
    dfi_text: str,
    extrapulmonary: YesNo,
    feasible: YesNo,
) -> Effects:
    out = Collector(knowledge)
    if status is DiseaseStatus.metastatic or status is DiseaseStatus.recurrent:
        _metastasectomy(
            out, status, any_metastases, lung, no_anchor, dfi_met, dfi_text, extrapulmonary,
            feasible,
        )
    out.add("REC-REFER-TRIALS", [Fact("stage.status", status)])
    return out.effects()


def _metastasectomy(
    out: Collector,
    status: DiseaseStatus,
    any_metastases: bool,
    lung: tuple[Timing, ...],
    no_anchor: bool,
    dfi_met: bool | None,
    dfi_text: str,
    extrapulmonary: YesNo,
    feasible: YesNo,
) -> None:
    if status is DiseaseStatus.metastatic and not any_metastases:
        out.missing("MISS-METASTASIS-DETAILS", affects=("REC-LUNG-METASTASECTOMY",))
        return
    if not lung:
        return
    facts: list[Fact] = []
    failed = False
    pending: list[tuple[str, tuple[str, ...]]] = []
    affects = ("REC-LUNG-METASTASECTOMY",)
    if Timing.metachronous in lung:
        facts.append(Fact("derived.lung_metastases", "metachronous"))
    elif all(t is Timing.synchronous for t in lung):
        facts.append(Fact("derived.lung_metastases", "synchronous"))
        failed = True
    else:
        pending.append(("MISS-METASTASIS-TIMING", affects))
        if no_anchor:
            pending.append(("MISS-TREATMENT-END", affects))
    if dfi_met is None:
        pending.append(("MISS-DFI", affects))
        if no_anchor:
            pending.append(("MISS-TREATMENT-END", affects))
    else:
        facts.append(Fact("derived.disease_free_interval_months", dfi_text))
        failed = failed or not dfi_met
    if extrapulmonary is YesNo.unknown:
        pending.append(("MISS-EXTRAPULMONARY", affects))
    else:
        facts.append(Fact("derived.extrapulmonary_disease", extrapulmonary))
        failed = failed or extrapulmonary is YesNo.yes
    if feasible is YesNo.unknown:
        pending.append(("MISS-EXCISION-FEASIBLE", affects))
    else:
        facts.append(Fact("stage.complete_excision_feasible", feasible))
        failed = failed or feasible is YesNo.no
    if failed:
        out.add("REC-LUNG-METASTASECTOMY-NOT-MET", facts)
    elif pending:
        ids = [out.missing(miss, affects=a) for miss, a in pending]
        out.add("REC-LUNG-METASTASECTOMY-PENDING", facts, ids)
    else:
        out.add("REC-LUNG-METASTASECTOMY", facts)


