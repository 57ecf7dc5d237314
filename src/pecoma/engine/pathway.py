"""Treatment pathway: surgery (S01, S03, S04), adjuvant considerations (S10, S11), systemic
treatment of advanced disease (S02, S12-S15), metastasectomy (S16, S17) and referral (S28).

Each rule names record ids and the facts behind them; when a fact is unknown the rule
reports it as missing, takes the safer branch and marks the item conditional on it.

Each rule takes the collector and the few facts it reads, as values (it cannot see the
rest of the case): :mod:`pecoma.engine.groups` reads them off the case and keeps the
results for the next case with the same facts.
"""

from __future__ import annotations

from pecoma.case import (
    Agent,
    DiseaseStatus,
    Margin,
    NodeStatus,
    PrimarySite,
    SurgeryStatus,
    Timing,
    YesNo,
)
from pecoma.engine.collect import Collector
from pecoma.engine.model import Fact

__all__ = ["adjuvant", "metastasectomy", "referral", "surgery", "systemic"]

_INCOMPLETE = (Margin.R1, Margin.R2)


def surgery(
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


def adjuvant(
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


def systemic(
    out: Collector,
    advanced: bool | None,
    status: DiseaseStatus,
    avail: YesNo,
    contra: YesNo,
    progressed_agent: Agent | None,
    uterine: bool,
    first_line_agent: Agent | None,
) -> None:
    """Systemic treatment of advanced disease (S02, S12-S15); ``advanced`` is unknown for
    recurrent disease whose resectability is unknown."""
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


def metastasectomy(
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
    """Lung metastasectomy (S16, I5) for recurrent or metastatic disease; ``lung`` holds
    the timing of each lung metastasis."""
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


def referral(out: Collector, status: DiseaseStatus) -> None:
    out.add("REC-REFER-TRIALS", [Fact("stage.status", status)])
