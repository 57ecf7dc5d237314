"""Which surveillance rules apply (S18-S23, S26, I1, I3, I8, I10, I14).

The dated plan of visits is built from these rules by :mod:`pecoma.engine.schedule`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pecoma.case import DiseaseStatus, NodeStatus
from pecoma.engine.collect import Collector
from pecoma.engine.facts import primary_removed_asked, residual_removed_asked
from pecoma.engine.model import Fact

__all__ = ["surveillance"]

HIGH_RISK_RULES = (
    "FU-HIGH-INTENSIVE",
    "FU-HIGH-SIX-MONTHLY",
    "FU-HIGH-YEARLY",
    "FU-CHEST-CT",
    "FU-MRI-PRIMARY",
)
LOW_RISK_RULES = ("FU-LOW-LESS-INTENSIVE", "SUPP-FU-LOW-SCHEDULE")
#: The examinations a low-risk visit may plan, each with the setting value that names it
#: (``followup.low_risk_imaging``): the guideline names chest CT (S21) and MRI of the
#: primary site (S22) for high risk only, so planning them for low risk is the project's
#: interpretation I12, its records saying so.
LOW_RISK_IMAGING = (("FU-LOW-CHEST-CT", "chest_ct"), ("FU-LOW-MRI-PRIMARY", "mri_primary"))


#: The missing facts that leave a classification open only because the tumour is not
#: resected yet, or may not be (I6): the resection specimen still to come, the surgery
#: status not recorded.
_NOT_RESECTED_YET = frozenset({"MISS-RESECTION-SPECIMEN", "MISS-SURGERY-STATUS"})


def _malignant_reason(open_on: tuple[str, ...]) -> str:
    """The reason for the high-risk schedule of a tumour without high-risk features that
    a classification determines malignant (none ``open_on``), or may (I14): open only
    because the tumour is not resected yet, or open on the classification's own missing
    criteria (the mitotic count, vascular invasion)."""
    if not open_on:
        return "FU-MALIGNANT-LOW-RISK"
    if _NOT_RESECTED_YET.issuperset(open_on):
        return "FU-MAY-BE-MALIGNANT-NOT-RESECTED"
    return "FU-MAY-BE-MALIGNANT-LOW-RISK"


def low_risk_imaging(chosen: Sequence[str]) -> tuple[str, ...]:
    """The records of the low-risk examinations ``chosen`` names (the setting
    ``followup.low_risk_imaging``), in the plan's order (I12)."""
    return tuple(record for record, name in LOW_RISK_IMAGING if name in chosen)


def surveillance(
    out: Collector,
    status: DiseaseStatus,
    group: str,
    surveillance_group: str,
    risk_conditional_on: tuple[str, ...],
    resected_without_date: bool,
    free_since: dt.date | None = None,
    nodes: NodeStatus = NodeStatus.negative,
    malignant: Sequence[Fact] = (),
    malignant_open: tuple[str, ...] = (),
    residual: Sequence[Fact] = (),
    in_place: Sequence[Fact] = (),
    surgery_unknown: bool = False,
    operation_asked: tuple[str, ...] = (),
    removal_asked: tuple[str, ...] = (),
    adjuvant_end_unknown: bool = False,
    low_imaging: Sequence[str] = (),
    diagnosis_asked: Sequence[str] = (),
    gross_asked: str | None = None,
) -> None:
    """``resected_without_date``: localized disease resected, with no date for the end of
    primary treatment. ``free_since``: a patient free of disease after a relapse or unresectable
    disease, from that date (``case.free_of_disease.since``); surveillance counts from it
    (I8).
    ``nodes``: the regional lymph nodes (I10): positive, the high-risk schedule whatever
    the group; not recorded (unknown), the high-risk schedule meanwhile for a tumour
    otherwise on the low-risk one, provisional on them; recorded as not assessed, the
    risk group's schedule, provisional on them and saying so.
    ``malignant``: the classifications that call a tumour without high-risk features
    malignant, or may (``malignant_open``: the missing facts that would settle it), high-risk
    schedule (I14). ``residual``: the facts saying a resection left macroscopic tumour
    (an R2 margin; :func:`pecoma.engine.facts.residual_tumour`): disease is present, so no
    calendar is drawn until it is removed. ``in_place``: the facts saying the localized
    primary has not been removed (:func:`pecoma.engine.facts.primary_in_place`): no
    calendar either until it is (I20). ``surgery_unknown``: localized disease whose
    surgery status is not recorded: the schedule is provisional on it.
    ``operation_asked``: a patient free of disease whose surgery is recorded as planned
    (:func:`pecoma.engine.facts.operation_planned_while_free`):
    the schedule from the free-of-disease date is provisional on it. ``removal_asked``:
    metastatic disease after an operation that may have removed every known focus, with
    no date free of disease recorded (:func:`pecoma.engine.facts.removal_asked`, I21):
    the high-risk schedule is drawn from the operation meanwhile, provisional on it.
    ``adjuvant_end_unknown``: the schedule is counted from an operation (localized disease
    resected, or the operation of ``removal_asked``) after which a line recorded as adjuvant
    began, and no end of curative treatment is recorded
    (:attr:`pecoma.case.model.Case.surveillance_end_not_before`): the schedule, counted
    from the surgery meanwhile, is provisional on that end (I22).
    ``low_imaging``: the examinations the low-risk plan holds at each visit (the records
    of :func:`low_risk_imaging`, I12), listed with its schedule as S21/S22 are with the
    high-risk one, so the assessment names what the dated plan books.
    ``diagnosis_asked``: the missing facts every treatment recommendation waits on while
    the PEComa diagnosis is not confirmed (I11): the schedule is PEComa's, so it waits on
    them too (another sarcoma is followed as that sarcoma).
    ``gross_asked``: the question of a margin not recorded, when the resection of the
    primary may have left gross tumour (:func:`pecoma.engine.facts.gross_tumour_left`
    unknown; :func:`pecoma.engine.facts.gross_tumour_question`). With gross tumour left
    disease is present and no calendar is drawn (I18), so a schedule drawn from that
    resection (localized disease, or an operation that may have removed every known
    focus, ``removal_asked``) is provisional on it, as ``FU-AFTER-RELAPSE`` is."""
    group_facts = (Fact("risk.group", group),)
    # a relapse, or unresectable disease that treatment cleared: the high-risk schedule
    # from the date free of disease (I8), whatever the primary's features
    relapsed = (status in (DiseaseStatus.recurrent, DiseaseStatus.metastatic)
                or free_since is not None)
    if status is DiseaseStatus.locally_advanced_unresectable and free_since is None:
        # as the plan says: the schedule below applies once treatment has cleared it
        out.add("FU-NO-PLAN-ACTIVE-DISEASE", [Fact("derived.disease_status", status)])
    if residual and status is DiseaseStatus.localized:
        # tumour left by the resection is present disease, resectable or not: the
        # schedule below applies once it is removed
        out.add("FU-NO-PLAN-RESIDUAL-TUMOUR", residual, residual_removed_asked(out, residual))
    if in_place and status is DiseaseStatus.localized:
        # the primary in place is present disease: the schedule below applies once it
        # has been removed
        out.add("FU-NO-PLAN-PRIMARY-IN-PLACE", in_place, primary_removed_asked(out, in_place))
    rules = (HIGH_RISK_RULES if surveillance_group == "high"
             else (*LOW_RISK_RULES, *low_imaging))
    # the schedule counted from a resection that may have left gross tumour (its margin
    # not recorded): provisional on the margin; with R2 no calendar is drawn (I18)
    gross_open: tuple[str, ...] = ()
    if gross_asked is not None and free_since is None and (
            status is DiseaseStatus.localized or removal_asked):
        gross_open = (out.missing(gross_asked, affects=(
            *(("FU-AFTER-RELAPSE",) if relapsed else ()), *rules)),)
    if relapsed:
        facts = [Fact("stage.status", status)]
        if free_since is not None:
            facts.append(Fact("free_of_disease.since", free_since.isoformat()))
        out.add("FU-AFTER-RELAPSE", facts,
                operation_asked if free_since is not None else (*removal_asked, *gross_open))
    conditional = risk_conditional_on if group == "indeterminate" else ()
    settled_malignant = bool(malignant) and not malignant_open
    if group == "indeterminate" and not relapsed and not settled_malignant:
        out.add("FU-INDETERMINATE", group_facts, conditional)
    # the schedule's items name the facts that put the tumour on it, and wait on what
    # that rests on
    schedule_facts: tuple[Fact, ...] = group_facts
    schedule_conditional: tuple[str, ...] = ()
    nodes_fact = Fact("stage.lymph_nodes", nodes.value)
    if nodes is NodeStatus.positive and not relapsed and group in ("low", "indeterminate"):
        out.add("FU-NODES-POSITIVE", [nodes_fact, *group_facts])
    else:
        if malignant and not relapsed and (group == "low" or settled_malignant):
            # I14: malignant by classification, or may be until the missing facts are
            # supplied
            out.add(_malignant_reason(malignant_open), [*malignant, *group_facts],
                    malignant_open)
            schedule_facts = (*malignant, *group_facts)
            schedule_conditional = malignant_open
        if nodes is NodeStatus.unknown and group == "low" and not relapsed \
                and not settled_malignant:
            # I10: positive nodes would make it high-risk; the record does not say, so
            # the high-risk schedule meanwhile (knowing less never gives less surveillance)
            asked = out.missing("MISS-NODES", affects=("FU-NODES-UNKNOWN-LOW-RISK",
                                                       *HIGH_RISK_RULES))
            out.add("FU-NODES-UNKNOWN-LOW-RISK", [nodes_fact, *group_facts], (asked,))
            schedule_facts = (nodes_fact, *schedule_facts)
            schedule_conditional = (*schedule_conditional, asked)
    schedule_conditional = (*schedule_conditional, *gross_open)
    if surgery_unknown and status is DiseaseStatus.localized and not relapsed:
        # whether the primary was removed is not recorded: a calendar counted from a
        # recorded end of treatment may be counted from nothing removed
        schedule_conditional = (*schedule_conditional,
                                out.missing("MISS-SURGERY-STATUS", affects=rules))
    if free_since is not None and operation_asked:
        # an operation still to come, or done, restarts the calendar from its date
        schedule_conditional = (*schedule_conditional, *operation_asked)
    if free_since is None and removal_asked:
        # the operation may have left the patient free of disease: the schedule counts
        # from it meanwhile, and from the date free of disease once that is recorded
        schedule_conditional = (*schedule_conditional, *removal_asked)
    if adjuvant_end_unknown and free_since is None:
        # the visits count from the surgery until the end of the adjuvant treatment is
        # recorded (I22), after the localized primary's resection or an operation that may
        # have removed every known focus (I21) alike
        schedule_conditional = (*schedule_conditional,
                                out.missing("MISS-ADJUVANT-END", affects=rules))
    if diagnosis_asked:
        # the schedule is PEComa's: provisional on the diagnosis it rests on (I11)
        schedule_conditional = (*schedule_conditional,
                                *(out.missing(m, affects=rules) for m in diagnosis_asked))
    if nodes is NodeStatus.not_assessed and surveillance_group == "low" and not relapsed:
        # I10: recorded as not examined (most resections sample no nodes), the risk
        # group's schedule, saying so and asking whether they are involved
        asked = out.missing("MISS-NODES", affects=("FU-NODES-NOT-ASSESSED", *rules))
        out.add("FU-NODES-NOT-ASSESSED", [nodes_fact, *group_facts], (asked,))
        schedule_conditional = (*schedule_conditional, asked)
    for record_id in rules:
        out.add(record_id, schedule_facts, schedule_conditional)
    if resected_without_date:
        out.missing("MISS-TREATMENT-END", affects=tuple(i.id for i in out.followup))
