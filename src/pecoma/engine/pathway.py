"""Treatment pathway: surgery (S01, S03, S04), adjuvant considerations (S10, S11), systemic
treatment of advanced disease (S02, S12-S15), metastasectomy (S16, S17) and referral (S28).

Each rule is a plain function of the case, the facts derived from it and the engine
settings, writing into the assessment's collector. It names record ids and the facts
behind them; when a fact is unknown it reports it as missing, takes the safer branch and
marks the item conditional on it. The rules follow the derived disease status
(``d.status``, I6), never the label alone, and a relapsed patient free of disease again
(``d.free_of_disease``, I8) has no present disease to resect or treat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pecoma.case import (
    ANTHRACYCLINES,
    MTOR_AGENTS,
    Agent,
    Case,
    ClearedBy,
    DiseaseStatus,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    RemissionBy,
    Response,
    SurgeryStatus,
    TherapyLine,
    TherapySetting,
    Timing,
    YesNo,
    class_tolerated_line,
    lines_in_order,
    mtor_ruled_out,
    opposed_judgements,
    other_anthracyclines_not_tolerated,
)
from pecoma.engine.alerts import suspected_asked, suspected_sites
from pecoma.engine.collect import Collector
from pecoma.engine.facts import (
    ANTHRACYCLINE_INTOLERANCE,
    MTOR_RULED_OUT,
    NOT_REMOVED,
    Derived,
    advanced_question,
    agent_names,
    bed_after_clearance,
    cleared_facts,
    gross_tumour_left,
    gross_tumour_question,
    margin_fact_of,
    margin_facts,
    operation_planned_while_free,
    opposed_words,
    planned_passed_asked,
    progressed_on,
    removal_asked,
    residue_cleared,
    work_up_fact,
)
from pecoma.engine.model import Fact, RiskGroup
from pecoma.engine.risk import Malignancy
from pecoma.numbers import number_text
from pecoma.settings import EngineSettings

__all__ = ["adjuvant", "metastasectomy", "referral", "surgery", "systemic"]

_INCOMPLETE = (Margin.R1, Margin.R2)
#: Margins after which what may be left is microscopic (R1; uncertain, a doubt between R0
#: and R1).
_MICROSCOPIC = (Margin.R1, Margin.uncertain)
#: Margins not known to be clear, after which what may be left is at most microscopic as
#: far as the record says: R1, uncertain, or not recorded (unknown is not R0).
_NOT_CLEAR = (*_MICROSCOPIC, Margin.unknown)
_RELAPSED = (DiseaseStatus.recurrent, DiseaseStatus.metastatic)


def surgery(case: Case, d: Derived, out: Collector) -> None:
    """Resection of localized disease (S01, S03, S04); for recurrent or metastatic disease
    the aggressive-surgery principle (S17)."""
    status = d.status
    surgery_status = case.surgery.status
    # the margin the resections left: a completing resection's when one is recorded
    margin = case.surgery.final_margin
    # gross tumour left (R2) and cleared since without a further resection (radiotherapy,
    # ablation, systemic treatment): imaging cannot show microscopic tumour gone, so the bed
    # is at best as after an R1 margin. R1's advice follows, its facts naming the
    # clearance; never R2's gross tumour left (what may be left at the bed: the alerts, I27)
    cleared = residue_cleared(case)
    if cleared is not None:
        margin = Margin.R1
    resectable = case.stage.resectable
    feasible = case.stage.complete_excision_feasible
    status_fact = d.status_fact()
    if status is DiseaseStatus.localized:
        if surgery_status is SurgeryStatus.performed:
            # the R2 margin a completing resection followed stays in the facts
            margin_facts_ = margin_facts(case)
            if cleared is not None:
                margin_facts_ += cleared_facts(cleared)
            # recorded as beyond surgery (an R1 or uncertain margin: no re-excision)
            no_reexcision = resectable is YesNo.no
            if margin is Margin.R0:
                out.add("REC-RESECTION-DONE", margin_facts_)
            elif margin in _NOT_CLEAR and not no_reexcision and d.postoperative_past:
                # more than 6 months after the operation, no relapse recorded: whether to
                # re-excise was decided then; asked, worded as a decision to confirm (I30).
                # A margin not recorded takes the branch of one not assured, asked too.
                asks = [] if margin is Margin.R1 else [out.missing(
                    "MISS-MARGIN-UNCERTAIN" if margin is Margin.uncertain else "MISS-MARGIN",
                    affects=("REC-RERESECTION-DECIDED", "REC-RESECTION-DONE"))]
                asks.append(out.missing("MISS-REEXCISION-DECIDED",
                                        affects=("REC-RERESECTION-DECIDED",)))
                out.add("REC-RERESECTION-DECIDED", [*margin_facts_, *d.postoperative_past],
                        asks)
            elif margin in _INCOMPLETE and not no_reexcision:
                residual: list[str] = []
                # gross tumour left (R2) is said as such, not as margins not clear
                redo = "REC-RERESECTION-GROSS" if margin is Margin.R2 else "REC-RERESECTION"
                if margin is Margin.R2 and resectable is YesNo.unknown:
                    # gross tumour is left: whether surgery can remove it decides
                    # between completing the resection and advanced disease (I6)
                    residual.append(out.missing(
                        "MISS-RESIDUAL-RESECTABLE",
                        affects=(redo, "REC-MTOR-FIRST-LINE")))
                completion = case.surgery.completion
                if completion is not None and completion.margin is Margin.unknown:
                    # a completing resection with no margin recorded: gross tumour is
                    # taken as still there (the safer reading) until the margin is given
                    residual.append(out.missing("MISS-COMPLETION-MARGIN", affects=(redo,)))
                out.add(redo, margin_facts_, residual)
                out.add("REC-REFER-SURGERY", margin_facts_)
            elif margin is Margin.uncertain:
                ask = out.missing(
                    "MISS-MARGIN-UNCERTAIN",
                    affects=("REC-RERESECTION-OPTION", "REC-RESECTION-DONE", "REC-RERESECTION",
                             "REC-REFER-SURGERY"),
                )
                if not no_reexcision:
                    # a possible re-excision is the surgical planning S04 refers
                    out.add("REC-RERESECTION-OPTION", margin_facts_, [ask])
                    out.add("REC-REFER-SURGERY", margin_facts_, [ask])
            elif margin is Margin.unknown:
                # not known to be clear: the safer branch is that of uncertain margins,
                # the re-excision discussed, provisional on the margin
                ask = out.missing(
                    "MISS-MARGIN",
                    affects=("REC-RESECTION-DONE", "REC-RERESECTION", "REC-RERESECTION-OPTION",
                             "REC-ADJ-RADIOTHERAPY", "REC-REFER-SURGERY"),
                )
                if not no_reexcision:
                    out.add("REC-RERESECTION-OPTION", margin_facts_, [ask])
                    out.add("REC-REFER-SURGERY", margin_facts_, [ask])
        else:
            facts = [status_fact, Fact("surgery.status", surgery_status)]
            if d.planned_passed is not None:
                facts.append(d.planned_passed)
            # a planned operation whose day has passed: taken as not done (the tumour in
            # place, its removal advised), asked
            conditional = list(planned_passed_asked(
                out, d.planned_passed, ("REC-RESECTION", "REC-REFER-SURGERY")))
            if surgery_status is SurgeryStatus.unknown:
                conditional.append(
                    out.missing("MISS-SURGERY-STATUS", affects=("REC-RESECTION",))
                )
            if resectable is YesNo.unknown and surgery_status is not SurgeryStatus.planned:
                # a tumour not removed, nor planned for surgery, whose resectability is not
                # recorded: if it cannot be removed it is locally advanced (I6), and
                # resection is no advice
                conditional.append(
                    out.missing("MISS-PRIMARY-RESECTABLE", affects=("REC-RESECTION",))
                )
            out.add("REC-RESECTION", facts, conditional)
            out.add("REC-REFER-SURGERY", facts, [c for c in conditional
                                                 if c != "MISS-PRIMARY-RESECTABLE"])
        return
    if d.free_of_disease and surgery_status in (SurgeryStatus.not_performed,
                                                SurgeryStatus.unknown):
        _primary_site_after_clearance(case, d, out)
    if status is DiseaseStatus.locally_advanced_unresectable or d.free_of_disease:
        return
    facts = [status_fact, Fact("stage.resectable", resectable)]
    if gross_tumour_left(case) is YesNo.yes:
        # the primary's resection left gross tumour: the primary is still a focus (S17)
        facts.extend(margin_facts(case))
    # an operation after the metastases were found may have removed them all: the
    # disease is taken as present, provisional on the answer (I21)
    present = removal_asked(out, d, ("REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY"))
    if resectable is YesNo.yes or (
        resectable is YesNo.unknown
        and status is DiseaseStatus.metastatic
        and feasible is YesNo.yes
    ):
        if feasible is YesNo.yes:
            facts.append(Fact("stage.complete_excision_feasible", "yes"))
        out.add("REC-AGGRESSIVE-SURGERY", facts, present)
        out.add("REC-REFER-SURGERY", facts, present)
    elif resectable is YesNo.unknown and feasible is not YesNo.no:
        miss = out.missing("MISS-RESECTABLE", affects=("REC-AGGRESSIVE-SURGERY",))
        out.add("REC-AGGRESSIVE-SURGERY", facts, [miss, *present])


def _primary_site_after_clearance(case: Case, d: Derived, out: Collector) -> None:
    """S17 for a primary never resected while the disease is seen cleared without an
    operation (free of disease, I8): imaging cannot show microscopic tumour gone (I27), and
    malignant PEComa not completely resected will recur (S27). No disease is seen, so the
    removal of the primary's site is raised for the sarcoma team to consider, never as an
    operation due; a record that the disease is not resectable stays among the facts (it
    may date from before the response). Whether the primary was removed not recorded: the
    never-removed reading is the safer one, shown provisional on the question."""
    assert case.free_of_disease is not None
    facts = [d.status_fact(), Fact("surgery.status", case.surgery.status),
             Fact("free_of_disease.since", case.free_of_disease.since.isoformat()),
             Fact("free_of_disease.by", case.free_of_disease.by)]
    for path, value in (("stage.resectable", case.stage.resectable),
                        ("stage.complete_excision_feasible",
                         case.stage.complete_excision_feasible)):
        if value is not YesNo.unknown:
            facts.append(Fact(path, value))
    asked = ([out.missing("MISS-SURGERY-STATUS", affects=("REC-PRIMARY-SITE-AFTER-CLEARANCE",))]
             if case.surgery.status is SurgeryStatus.unknown else [])
    out.add("REC-PRIMARY-SITE-AFTER-CLEARANCE", facts, asked)


def adjuvant(
    case: Case, d: Derived, s: EngineSettings, out: Collector, risk_unknown: tuple[str, ...],
    risk_group: RiskGroup,
) -> None:
    """Risk stratification first (S05), adjuvant radiotherapy (S10; after a local
    recurrence at a high-risk site too, I23), postoperative treatment with nodes or
    metastases at presentation (S11); the guideline's silence on adjuvant systemic
    treatment of resected localized disease where the risk group raises the question, or
    beside a course recorded (I28), and free of disease after a relapse (I8)."""
    status = d.status
    surgery_status = case.surgery.status
    margin = case.surgery.final_margin
    nodes = case.stage.lymph_nodes
    site: PrimarySite = case.tumour.primary_site
    if status is DiseaseStatus.localized:
        out.add("RISK-ASSESS", [d.status_fact()], risk_unknown)
        facts: list[Fact] = []
        conditional: list[str] = []
        residual: list[str] = []
        if site in s.high_risk_sites:
            facts.append(Fact("tumour.primary_site", site))
        cleared = residue_cleared(case)
        if surgery_status is SurgeryStatus.performed:
            if cleared is not None:
                # gross tumour left and cleared since without a further resection: the
                # margins were not assured, so S10's consideration stands (I27); cleared
                # by radiotherapy, it has been given
                facts += [margin_fact_of(case), *cleared_facts(cleared)]
            elif margin in (*_INCOMPLETE, Margin.uncertain):
                facts.append(margin_fact_of(case))
                if case.stage.resectable is YesNo.no:
                    facts.append(Fact("stage.resectable", "no"))
                elif margin is Margin.R2 and case.stage.resectable is YesNo.unknown:
                    # gross tumour left that surgery may not remove: then it is locally
                    # advanced disease (I6), and no adjuvant treatment
                    residual.append(out.missing("MISS-RESIDUAL-RESECTABLE"))
            elif margin is Margin.unknown:
                facts.append(margin_fact_of(case))
                conditional.append(out.missing("MISS-MARGIN"))
        if facts:
            # gross tumour left (R2): completing the resection comes first (S03), and
            # radiotherapy is weighed after it, said so
            record, when, asked = (
                ("REC-ADJ-RADIOTHERAPY-GIVEN", [], [])
                if cleared is not None and cleared.by is ClearedBy.radiotherapy
                else ("REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION", [], [])
                if surgery_status is SurgeryStatus.performed and margin is Margin.R2
                and cleared is None
                else _radiotherapy_when(case, d, out))
            out.add(record, [*facts, *when],
                    [*(conditional if len(facts) == 1 else ()), *residual, *asked])
        _no_adjuvant_localized(case, d, out, risk_group)
    elif status is DiseaseStatus.recurrent and site in s.high_risk_sites:
        _recurrence_radiotherapy(case, d, out)
    # S11: nodes or distant metastases at presentation.
    s11: list[Fact] = []
    if nodes is NodeStatus.positive:
        s11.append(Fact("stage.lymph_nodes", "positive"))
    untimed: list[Fact] = []
    for i, timing in enumerate(d.timings):
        if timing is Timing.synchronous:
            s11.append(Fact(f"derived.metastases[{i}].timing", "synchronous"))
        elif timing is Timing.unknown and i in d.work_up and d.anchor is not None:
            # found shortly after the operation: maybe by its staging, present at
            # presentation (I29)
            untimed.append(work_up_fact(i, case.stage.metastases[i], d.anchor))
        elif timing is Timing.unknown:
            untimed.append(Fact(f"derived.metastases[{i}].timing", "unknown"))
    operated = surgery_status in (SurgeryStatus.performed, SurgeryStatus.planned)
    resectable = case.stage.resectable
    feasible = case.stage.complete_excision_feasible
    # S11 is postoperative: nodes or metastases at presentation call for it where the
    # disease is to be operated on. At presentation an operation not performed (yet) is
    # one S11 may follow, as a planned one is; not where the facts say surgery cannot
    # remove the tumour and none was done.
    to_operate = surgery_status is not SurgeryStatus.unknown \
        and status is not DiseaseStatus.locally_advanced_unresectable \
        and resectable is not YesNo.no
    # metastatic disease never operated on: whether surgery can remove it decides, unless
    # every metastatic focus is recorded excisable (then surgery of it is advised as for
    # resectable disease, surgery() above, and S11 does not wait on the question)
    resection_open = (to_operate and not operated and status in _RELAPSED
                      and not d.free_of_disease and resectable is YesNo.unknown
                      and feasible is not YesNo.yes)
    # a localized primary not operated on, its resectability not recorded: the question
    # the resection advice waits on decides S11 too (not removable: locally advanced, I6)
    primary_open = (to_operate and surgery_status is SurgeryStatus.not_performed
                    and status is DiseaseStatus.localized
                    and case.stage.resectable is YesNo.unknown)
    # S11 follows an operation that removes the disease. Distant disease still present
    # that surgery cannot remove is advanced disease: its systemic treatment is the
    # sequence of S12-S14 (an mTOR inhibitor first, S13), not a postoperative
    # consideration, so S11 is not offered; while that is not known it is provisional on
    # it (and comes after the systemic sequence, see engine/order.py). So too for gross
    # tumour left by the resection that surgery cannot remove (locally advanced
    # unresectable disease, I6).
    distant_present = (status is DiseaseStatus.metastatic and bool(case.stage.metastases)
                       and d.free_since is None)
    beyond_surgery = (distant_present and (
        resectable is YesNo.no or (resectable is YesNo.unknown and feasible is YesNo.no))) \
        or (status is DiseaseStatus.locally_advanced_unresectable and d.free_since is None)
    removal_open = (distant_present and resectable is YesNo.unknown
                    and feasible is YesNo.unknown)
    # gross tumour left by the resection (R2), disease still present: the operation S11
    # follows is not complete; completing it comes first (S03, S17). Its margin not
    # recorded, it may have: S11 is shown, provisional on the margin.
    gross = gross_tumour_left(case) if d.free_since is None else None
    gross_left = gross is YesNo.yes
    s11_id = "REC-ADJ-NODES-METS-AFTER-RERESECTION" if gross_left else "REC-ADJ-NODES-METS"
    s11_affects = (s11_id,)
    # Unknown is not "no": a metastasis of unknown timing may have been there at
    # presentation, and an unknown surgery status may be "operated on".
    timing_unknown: list[str] = []
    # S11 is a decision at presentation, past once the disease has relapsed after the
    # primary's treatment: a local recurrence or a metachronous metastasis, present,
    # resectable or not, or cleared (I8 then says the guideline names no adjuvant
    # treatment). The same relapse gets the same answer wherever it arises. Metastases all
    # present at presentation and all removed are no relapse: their removal is the
    # operation S11 follows. Cleared without an operation (systemic or other treatment),
    # there was no operation for S11 to follow.
    # recorded as metastatic with no metastasis listed: where and when they were is not
    # known, so neither is whether they were a relapse (positive nodes removed with the
    # primary are no relapse: the same disease as 'localized, nodes positive')
    no_details = status is DiseaseStatus.metastatic and not case.stage.metastases
    relapse_cleared = d.free_since is not None and not no_details and (
        not case.stage.metastases or Timing.metachronous in d.timings)
    cleared_without_operation = (
        d.free_since is not None and not relapse_cleared and case.free_of_disease is not None
        and case.free_of_disease.by in (RemissionBy.systemic_therapy, RemissionBy.other))
    # Free of disease, how not recorded: by the removal S11 follows, or by treatment that
    # leaves no operation for it to follow; S11 stands, provisional on the answer.
    how_unknown = (
        d.free_since is not None and not relapse_cleared and case.free_of_disease is not None
        and case.free_of_disease.by is RemissionBy.unknown)
    # A line of systemic treatment started after the operation means S11 was acted on
    # (said so, not offered again); a line started before it (neoadjuvant, or for
    # advanced disease before the resection) does not.
    postoperative = _postoperative_lines(case, d)
    relapsed = status is DiseaseStatus.recurrent or Timing.metachronous in d.timings
    considered = relapse_cleared or cleared_without_operation or relapsed
    if considered or beyond_surgery:
        s11, untimed = [], []
    if untimed:
        # a metastasis of unknown timing may be a relapse after the primary's treatment,
        # which would put S11 in the past, present or cleared alike; or it may have been
        # there at presentation: S11 is shown, provisional on the timing
        s11 += untimed
        timing_unknown += [out.missing(q, affects=s11_affects) for q in _timing_asked(d)]
        timing_unknown += [out.missing(q, affects=s11_affects) for q in _end_asked(d)]
    shown = bool(s11) and (operated or to_operate or surgery_status is SurgeryStatus.unknown)
    conditions = list(timing_unknown)
    if shown and no_details:
        # where and when the metastases were is not recorded: they may be a relapse after
        # the primary's treatment, which puts S11 in the past. With the disease present the
        # question is the one asking for their sites and dates (metastasectomy() asks it);
        # free of disease again, when they were found
        conditions.append(out.missing(
            "MISS-METASTASIS-TIMING" if d.free_since is not None
            else "MISS-METASTASIS-DETAILS", affects=s11_affects))
    if shown and how_unknown:
        conditions.append(out.missing("MISS-FREE-OF-DISEASE-BY", affects=s11_affects))
    # a line that may have started after the operation may be S11 acted on: asked
    untimed_lines = _lines_timing_unknown(case, d) if shown and not postoperative else []
    if untimed_lines:
        s11 = [*s11, *untimed_lines]
        conditions.append(out.missing("MISS-LINE-AFTER-OPERATION", affects=s11_affects))
    s11_record, s11_facts = "REC-ADJ-NODES-METS", s11
    if shown and postoperative:
        s11_record, s11_facts = "REC-ADJ-NODES-METS-GIVEN", [*s11, *postoperative]
    elif shown and gross_left:
        if status is DiseaseStatus.localized and resectable is YesNo.unknown:
            # the residue may be beyond surgery: then it is locally advanced disease (I6)
            # and S11 is not offered
            conditions.append(out.missing("MISS-RESIDUAL-RESECTABLE", affects=s11_affects))
        elif resection_open or removal_open:
            conditions.append(out.missing("MISS-RESECTABLE", affects=s11_affects))
        s11_record, s11_facts = s11_id, [*s11, *margin_facts(case)]
    elif shown and (operated or to_operate):
        if gross is YesNo.unknown:
            s11.extend(margin_facts(case))
            conditions.append(out.missing(gross_tumour_question(case, d), affects=s11_affects))
        if resection_open or removal_open:
            s11.append(Fact("stage.resectable", "unknown"))
            conditions.append(out.missing("MISS-RESECTABLE", affects=s11_affects))
        elif primary_open:
            s11.append(Fact("stage.resectable", "unknown"))
            conditions.append(out.missing("MISS-PRIMARY-RESECTABLE", affects=s11_affects))
    elif shown:  # the surgery status is unknown
        if resection_open or removal_open:
            s11.append(Fact("stage.resectable", "unknown"))
            conditions.append(out.missing("MISS-RESECTABLE", affects=s11_affects))
        conditions.append(out.missing("MISS-SURGERY-STATUS", affects=s11_affects))
        s11_facts = [*s11, Fact("surgery.status", "unknown")]
    if shown:
        out.add(s11_record, s11_facts, conditions,
                ("I29",) if untimed and d.work_up else ())
        if status is not DiseaseStatus.localized:
            # S10 beside it, on the primary's site and margins (I27)
            _primary_radiotherapy(case, d, s, out, conditions, gross_left)
    if (
        (not shown or timing_unknown)
        and not considered
        and not beyond_surgery
        and not postoperative
        and nodes in (NodeStatus.unknown, NodeStatus.not_assessed)
        and (status is DiseaseStatus.localized or operated)
    ):
        # MISS-NODES says what is done meanwhile: nothing suggested on this ground.
        out.missing("MISS-NODES", affects=s11_affects)
    if d.free_since is not None and (not shown or timing_unknown):
        free_facts = [d.status_fact(), Fact("free_of_disease.since", d.free_since.isoformat())]
        if cleared_without_operation and case.free_of_disease is not None:
            # metastases present at presentation, cleared without an operation: no
            # relapse, and no operation for S11 to follow
            # with a metastasis of unknown timing, "present at presentation" is itself
            # unsure (a relapse would be I8's case): the item waits on the timing
            unsure = ([out.missing(q, affects=("REC-NO-ADJUVANT-AFTER-CLEARANCE",))
                       for q in _timing_asked(d)]
                      if Timing.unknown in d.timings else [])
            # an operation recorded as planned may yet be the one S11 follows
            unsure += operation_planned_while_free(out, case,
                                                   ("REC-NO-ADJUVANT-AFTER-CLEARANCE",))
            out.add("REC-NO-ADJUVANT-AFTER-CLEARANCE",
                    [*free_facts, Fact("free_of_disease.by", case.free_of_disease.by),
                     *([Fact("surgery.status", case.surgery.status)]
                       if case.surgery.status is SurgeryStatus.planned else [])],
                    unsure)
        else:
            # with the metastases' timing unknown, S11 (present at presentation) and the
            # guideline's silence (a relapse) are each provisional on it
            out.add("REC-NO-ADJUVANT-AFTER-RELAPSE", free_facts,
                    [*(timing_unknown if shown else ()),
                     *operation_planned_while_free(out, case,
                                                   ("REC-NO-ADJUVANT-AFTER-RELAPSE",))])


def _primary_radiotherapy(case: Case, d: Derived, s: EngineSettings, out: Collector,
                          conditions: list[str], gross_left: bool) -> None:
    """S10 for the primary beside S11 where the disease is not localized (nodes or
    metastases at presentation, S11 shown for the operation that removes the disease):
    its radiotherapy consideration rests on the primary's site and margins, as it does
    for localized disease, and follows the same operation, so it is shown with S11's
    conditions (I27). The margin ground: positive (R1) or uncertain; gross tumour left
    (R2), completing the resection first; a margin not recorded, on S11's question; for a
    patient free of disease since, what the resection may have left at the primary's bed
    (:func:`bed_after_clearance`), provisional on its question when it is the only
    ground. Not shown where S11 is not (a relapse after the primary's treatment, disease
    beyond surgery, metastases cleared without an operation)."""
    site = case.tumour.primary_site
    facts = [Fact("tumour.primary_site", site)] if site in s.high_risk_sites else []
    margin: list[Fact] = []
    asked: list[str] = []
    if case.surgery.status is SurgeryStatus.performed:
        bed = bed_after_clearance(case, d)
        if bed is not None:
            margin = list(bed.facts)
            asked = [out.missing(bed.asked)] if bed.asked is not None else []
        elif (gross_left or case.surgery.final_margin in _MICROSCOPIC
              or gross_tumour_left(case) is YesNo.unknown):
            margin = margin_facts(case)
    if not facts and not margin:
        return
    record, when, given_asked = (("REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION", [], [])
                                 if gross_left else _radiotherapy_when(case, d, out))
    out.add(record, [*facts, *margin, *when],
            [*conditions, *(() if facts else asked), *given_asked], ("I27",))


def _radiotherapy_when(case: Case, d: Derived,
                       out: Collector) -> tuple[str, list[Fact], list[str]]:
    """S10's consideration after the resection, by what is recorded of it and how long
    ago the operation was (I30): the record, the facts to add and the questions it waits
    on. Radiotherapy recorded as given: acted on. More than 6 months after the operation,
    no relapse recorded: a decision to confirm, asking whether it was given when that is
    not recorded (an end of curative treatment after the operation, with no systemic line
    recorded, named: it points to treatment after it). Otherwise the consideration."""
    surgery = case.surgery
    given = surgery.adjuvant_radiotherapy
    given_fact = Fact("surgery.adjuvant_radiotherapy", given)
    if surgery.status is SurgeryStatus.performed and given is YesNo.yes:
        return "REC-ADJ-RADIOTHERAPY-GIVEN", [given_fact], []
    past = list(d.postoperative_past)
    if not past:
        return "REC-ADJ-RADIOTHERAPY", [], []
    if given is YesNo.no:
        return "REC-ADJ-RADIOTHERAPY-DECIDED", [*past, given_fact], []
    end = case.primary_treatment_end
    if end is not None and end.isoformat() > past[0].value and not case.systemic.therapies:
        past.append(Fact("primary_treatment_end", end.isoformat()))
    return ("REC-ADJ-RADIOTHERAPY-DECIDED", past,
            [out.missing("MISS-ADJUVANT-RADIOTHERAPY",
                         affects=("REC-ADJ-RADIOTHERAPY-DECIDED",
                                  "REC-ADJ-RADIOTHERAPY-GIVEN"))])


_RT_RECURRENCE = "REC-ADJ-RADIOTHERAPY-RECURRENCE"
_NO_ADJUVANT_LOCALIZED = "REC-NO-ADJUVANT-LOCALIZED"
#: The path of the derived fact naming an adjuvant course recorded for resected localized
#: disease as outside the guideline (:func:`_no_adjuvant_localized`, I28).
ADJUVANT_OUTSIDE = "derived.adjuvant_outside_guideline"


def _no_adjuvant_localized(case: Case, d: Derived, out: Collector,
                           risk_group: RiskGroup) -> None:
    """The guideline's silence on adjuvant systemic treatment of localized disease
    resected without gross tumour left (I28): its adjuvant considerations are S10
    (radiotherapy, its own item) and S11 (nodes or metastases at presentation). Said
    where the question arises, a high or indeterminate risk (S05: the features are
    assessed before the adjuvant decision), and beside a course recorded as adjuvant,
    whatever the risk, named as outside the guideline (a trial, S28). Not with positive
    nodes (S11 applies); provisional on the nodal status where it is not recorded or the
    nodes were not assessed (positive nodes would bring S11)."""
    surgery = case.surgery
    nodes = case.stage.lymph_nodes
    if (surgery.status is not SurgeryStatus.performed or surgery.final_margin is Margin.R2
            or nodes is NodeStatus.positive):
        return
    courses = [(i, t) for i, t in enumerate(case.systemic.therapies)
               if t.setting is TherapySetting.adjuvant]
    if risk_group not in ("high", "indeterminate") and not courses:
        return
    facts = [d.status_fact(), Fact("risk.group", risk_group), margin_fact_of(case),
             Fact("stage.lymph_nodes", nodes)]
    if courses:
        names = agent_names(t.agent for _i, t in courses)
        facts += [f for i, t in courses for f in _line_facts(d, i, t)]
        facts.append(Fact(ADJUVANT_OUTSIDE,
                          f"{names} recorded as adjuvant treatment after the resection: the "
                          "guideline names no adjuvant systemic treatment for localized "
                          "disease (its adjuvant considerations are S10 and S11), so this "
                          "course is outside it, the sarcoma team's decision, best within a "
                          "clinical trial (S28) (I28)"))
    asked = ([out.missing("MISS-NODES", affects=(_NO_ADJUVANT_LOCALIZED,))]
             if nodes in (NodeStatus.unknown, NodeStatus.not_assessed) else [])
    out.add(_NO_ADJUVANT_LOCALIZED, facts, asked)


def _recurrence_radiotherapy(case: Case, d: Derived, out: Collector) -> None:
    """S10 for a local recurrence (recurrent by the derived status: no distant metastasis
    listed, I6) of a primary at a high-risk site: its radiotherapy consideration rests on
    the site, not on a first presentation (I23). It follows the recurrence's removal, done
    (free of disease by surgery) or advised (surgery can remove it); each provisional on
    the answer while that is not recorded. Not for a recurrence cleared without an
    operation or beyond surgery."""
    facts = [d.status_fact(), Fact("tumour.primary_site", case.tumour.primary_site)]
    free = case.free_of_disease
    resectable = case.stage.resectable
    if free is not None:
        if free.by in (RemissionBy.surgery, RemissionBy.unknown):
            asked = ([out.missing("MISS-FREE-OF-DISEASE-BY", affects=(_RT_RECURRENCE,))]
                     if free.by is RemissionBy.unknown else [])
            out.add(_RT_RECURRENCE, [*facts, Fact("free_of_disease.by", free.by)], asked)
    elif resectable is YesNo.yes:
        out.add(_RT_RECURRENCE, [*facts, Fact("stage.resectable", "yes")])
    elif resectable is YesNo.unknown and case.stage.complete_excision_feasible is not YesNo.no:
        # as the removal itself (S17, surgery()): provisional on whether surgery can
        out.add(_RT_RECURRENCE, [*facts, Fact("stage.resectable", "unknown")],
                [out.missing("MISS-RESECTABLE", affects=(_RT_RECURRENCE,))])


def _lines_timing_unknown(case: Case, d: Derived) -> list[Fact]:
    """The lines for advanced disease whose start, or the operation's date, is not
    recorded: each may have started after the operation (S11's postoperative treatment
    acted on) or before it. Empty when no operation was performed."""
    surgery = case.surgery
    if surgery.status is not SurgeryStatus.performed:
        return []
    return [f for i, t in enumerate(case.systemic.therapies)
            if t.setting is TherapySetting.advanced
            and (t.started_on is None or surgery.date is None)
            for f in _line_facts(d, i, t)]


def _postoperative_lines(case: Case, d: Derived) -> list[Fact]:
    """The lines of systemic treatment started after the operation (S11's postoperative
    treatment acted on): a start on or after the surgery's date, or, where a date is not
    recorded, a line recorded as adjuvant (after the operation by definition). Empty when
    no operation was performed."""
    surgery = case.surgery
    if surgery.status is not SurgeryStatus.performed:
        return []
    facts: list[Fact] = []
    for i, t in enumerate(case.systemic.therapies):
        if t.started_on is not None and surgery.date is not None:
            after = t.started_on >= surgery.date
        else:
            after = t.setting is TherapySetting.adjuvant
        if after:
            facts += _line_facts(d, i, t)
    return facts


def systemic(case: Case, d: Derived, scope: Malignancy, out: Collector) -> None:
    """Systemic treatment of advanced disease (S02, S12-S15), for advanced disease or
    disease that may be (``d.advanced`` unknown: whether surgery can remove the recurrent
    disease, or the gross tumour a resection left, is not recorded). The guideline
    states it for advanced malignant PEComa: where the tumour does not count as malignant
    on the facts entered (I9), the mTOR inhibitor is for the sarcoma team to consider,
    not the treatment of choice, and the items say so; where a missing fact may make it
    malignant, they stand provisional on that fact (I25)."""
    advanced = d.advanced
    if advanced is False:
        return
    avail = case.systemic.mtor_inhibitor_available
    # as recorded, or derived from an mTOR inhibitor recorded as not tolerated (I15):
    # then the items resting on it cite I15 and name the intolerance
    contra = case.systemic.mtor_contraindication
    derived_contra = case.systemic.mtor_contraindication_derived
    contra_facts = _contraindication_facts(case, d)
    applied = ("I15",) if derived_contra else ()
    # the class ruled out by an intolerance of one mTOR inhibitor, the team's judgement
    # not recorded on it: the safer reading is kept meanwhile and whether the intolerance
    # is of the class or of that drug alone is asked (I15); mTOR inhibitors unavailable,
    # the answer would change nothing
    class_asked = (derived_contra and case.systemic.mtor_class_undecided
                   and avail is not YesNo.no)
    # the mTOR inhibitors recorded as not tolerated, each with its twin: never proposed
    mtor_out = mtor_ruled_out(x.agent for x in case.systemic.intolerances)
    # a drug not tolerated the format names no agent for: it may be an mTOR inhibitor or
    # an anthracycline under another name (I15)
    unnamed = _unnamed_intolerances(case)
    # a line of a drug the format names no agent for (a drug under trial), progressed on:
    # it may have been an mTOR inhibitor or an anthracycline (I19)
    other_failed = _other_lines_failed(case, d)
    # lines numbered above those recorded before them: earlier lines were given and are
    # not recorded; what they were may put the advice in the past, and which line came
    # first, or how many were given, is not known (I19)
    gap = _missing_line_numbers(case)
    gap_facts = _lines_missing_facts(case, gap)
    gap_applied = ("I19",) if gap else ()
    base: list[str] = []
    if advanced is None:
        base.append(out.missing(advanced_question(case, d), affects=("REC-MTOR-FIRST-LINE",)))
    # the disease may have been removed by an operation after the metastases were found:
    # its systemic treatment is shown, provisional on the answer (I21)
    base += removal_asked(out, d, ("REC-MTOR-FIRST-LINE",))
    if (d.status is DiseaseStatus.metastatic and not case.stage.metastases
            and case.stage.lymph_nodes is not NodeStatus.negative):
        # 'metastatic' with no distant site listed, and regional nodes positive or not
        # known to be free: the label may stand for nodal spread, which alone is not
        # advanced disease (I10); the sites decide. With the nodes negative the label can
        # only mean distant disease, and its sites decide the surgery, not this advice.
        base.append(out.missing("MISS-METASTASIS-DETAILS", affects=("REC-MTOR-FIRST-LINE",)))
    status_fact = d.status_fact()
    mtor_facts = [
        status_fact,
        Fact("systemic.mtor_inhibitor_available", avail),
        *contra_facts,
    ]
    mtor_blocked = avail is YesNo.no or contra is YesNo.yes
    # S14 speaks of a first line: after other lines for advanced disease its option is
    # said as a later one, those lines named (I19)
    earlier = _earlier_lines(case, d, gap)
    # anthracycline-based lines already recorded: where the advice names anthracycline
    # chemotherapy it is not a treatment still to try, and the items say so
    anthracycline_lines = [(i, t) for i, t in enumerate(case.systemic.therapies)
                           if t.agent.is_anthracycline_based]
    given_before = [Fact(f"systemic.therapies[{i}].agent", t.agent)
                    for i, t in anthracycline_lines]
    progressed = d.progressed_on_mtor
    given = d.mtor_progression_unknown
    if_not_progressed: list[str] = []
    if given is not None:
        # An mTOR inhibitor already recorded: whether the disease progressed on it decides
        # between the first-line advice and the guideline's silence (REC-NO-NEXT-LINE).
        # an adjuvant course is not a line the disease could progress on: what is asked
        # is whether it recurred during the course or soon after it
        # the question names the line it is asked of: another mTOR-inhibitor line may be
        # recorded beside it
        at = next(i for i, t in enumerate(case.systemic.therapies) if t is given)
        if_not_progressed.append(out.missing(
            "MISS-MTOR-ADJUVANT-RELAPSE" if given.setting is TherapySetting.adjuvant
            else "MISS-MTOR-PROGRESSION",
            affects=("REC-ANTHRACYCLINE",) if mtor_blocked
            else ("REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"),
            about=(_line_named(at, given),)))
        mtor_facts += [Fact("systemic.therapies.agent", given.agent),
                       Fact("systemic.therapies.progressed", YesNo.unknown)]
    chemo = d.progressed_on_anthracycline
    # S15 names a regimen for a uterine primary, no option once the disease has progressed
    # on it, on the same pairing with a sister anthracycline (doxorubicin with
    # ifosfamide), or on epirubicin or ifosfamide alone (it would give again a drug the
    # disease grew on, I26). After progression on doxorubicin alone it stands, as a
    # second anthracycline for the team to weigh, the progression named (I26). S15
    # reports efficacy; it is not a line after another, so the guideline's silence after
    # progression is said beside it, as for any other site.
    # The uterine cervix is part of the uterus. A primary recorded at another gynecologic
    # site, not said to be outside the cervix, may be cervical: S15 is shown, provisional
    # on the question (a cervical primary recorded so must not lose it)
    site = case.tumour.primary_site
    cervix_asked = (site is PrimarySite.other_gynecologic
                    and case.tumour.cervix is YesNo.unknown)
    site_facts = [Fact("tumour.primary_site", site)]
    if cervix_asked:
        site_facts.append(Fact("tumour.cervix", YesNo.unknown))
    # the lines of a drug of S15's regimen the disease progressed on: S15 is past (I26)
    s15_past = [(i, t) for i, t in enumerate(case.systemic.therapies)
                if _s15_past_if_progressed(t) and progressed_on(t)]
    s15 = (site is PrimarySite.uterus or cervix_asked) and not s15_past
    # a regimen holding a drug recorded as not tolerated is never proposed (I15): one item
    # says so for S14's and S15's regimens together, and where S15 is so withheld the
    # guideline's silence after progression is said as for any other site
    s15_against = _not_tolerated(case, _S15_DRUGS) if s15 else []
    not_tolerated: list[Fact] = []
    withheld_asked: list[str] = []
    published: tuple[list[Fact], list[str], tuple[str, ...]] | None = None
    if progressed is not None:
        facts = [status_fact, *_progressed_facts(progressed, d)]
        # a later line of it whose outcome is not recorded may be working now (I19):
        # asked, the silence said either way
        _latest_line_asked(out, case, d, d.mtor_latest_open, "REC-NO-NEXT-LINE", facts)
        # a later mTOR-inhibitor line recorded as not progressed does not undo the
        # silence: it is named beside it, the treatment under way (I19)
        under_way = _after_progression_facts(case, d, progressed)
        # said whatever the site: S15 reports efficacy, not a line after mTOR inhibitors
        out.add("REC-NO-NEXT-LINE", [*facts, *under_way], base,
                _under_way_applied(under_way))
        # the classes the published series names: those a recorded intolerance rules out
        # (I15) and those already given (I19) are said, never left as options unsaid
        # (added after S15's item, if any: the guideline's own items first, the published
        # experience apart after them)
        after, after_applied = _after_mtor_classes(case)
        published = (list(dict.fromkeys([*facts, *given_before, *after, *unnamed])),
                     [*base, *_which_drug(out, unnamed, "SUPP-AFTER-MTOR"),
                      *_anthracycline_class_asked(out, case, "SUPP-AFTER-MTOR")],
                     after_applied)
    elif mtor_blocked and chemo is not None:
        # S14's option is a first line: the disease has progressed on it already. The
        # guideline's silence is said whatever the site: S15's regimen, where it is shown
        # beside it, is a second anthracycline the guideline says nothing of (I26)
        facts = [*mtor_facts, *_progressed_facts(chemo, d)]
        _latest_line_asked(out, case, d, d.anthracycline_latest_open,
                           "REC-NO-LINE-AFTER-ANTHRACYCLINE", facts)
        conditions = [*base, *if_not_progressed, *_mtor_class_asked(
            out, case, class_asked, "REC-NO-LINE-AFTER-ANTHRACYCLINE")]
        # a later anthracycline line recorded as not progressed does not undo the
        # silence: it is named beside it, the treatment under way (I15, I19), as for an
        # mTOR inhibitor
        under_way = _after_progression_facts(case, d, chemo)
        out.add("REC-NO-LINE-AFTER-ANTHRACYCLINE", [*facts, *under_way], conditions,
                tuple(dict.fromkeys((*applied, *_under_way_applied(under_way)))))
    elif mtor_blocked and (against := _not_tolerated(case, _S14_DRUGS)):
        # S14's regimen holds a drug the patient does not tolerate, or one the class of
        # an intolerance not judged may hold (withheld meanwhile): never proposed (I15)
        meanwhile, meanwhile_asked = _withheld_meanwhile(
            case, out, Agent.doxorubicin, _S14_DRUGS, "doxorubicin (S14)")
        not_tolerated += [*mtor_facts, *against,
                          Fact("derived.regimen_withheld", "doxorubicin (S14)"), *meanwhile]
        withheld_asked = [*_mtor_class_asked(out, case, class_asked, "REC-REGIMEN-NOT-TOLERATED"),
                          *meanwhile_asked]
    elif mtor_blocked:
        # a line of a drug recorded as not tolerated is not said to stay the treatment
        # (I15); a line of another one is, whether the contraindication is recorded or
        # derived from an intolerance the team records as of the class (the same facts,
        # the same alert: the record saying both may be out of date). Derived for want of
        # that judgement, the class is out because a line of the drug not tolerated came
        # after it (or their order is not known): the earlier line is not said to stay
        # the treatment
        working = [t for t in case.systemic.therapies
                   if t.agent.is_mtor_inhibitor and t.progressed is YesNo.no
                   and t.agent not in mtor_out]
        # (an intolerance recorded as of the class, though another of the same drug is
        # recorded as of that drug alone, still records the class as out: the alert stands)
        recorded = any(x.class_wide is YesNo.yes for x in case.systemic.intolerances
                       if x.agent.is_mtor_inhibitor)
        if working and (recorded or not case.systemic.mtor_class_undecided):
            out.add("ALERT-MTOR-LINE-WITHOUT-PROGRESSION", [
                Fact("systemic.mtor_inhibitor_available", avail),
                *contra_facts,
                Fact("systemic.therapies.agent", working[-1].agent),
                Fact("systemic.therapies.progressed", YesNo.no)], applied=applied)
        doubt = d.anthracycline_progression_unknown
        if doubt is not None:  # given already: whether it is past is asked
            # an adjuvant course is not a line the disease could progress on: what is
            # asked is whether it recurred during the course or soon after it
            question = ("MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE"
                        if doubt.setting is TherapySetting.adjuvant
                        else "MISS-ANTHRACYCLINE-PROGRESSION")
            if_not_progressed.append(out.missing(question, affects=("REC-ANTHRACYCLINE",)))
            mtor_facts += [Fact("systemic.therapies.agent", doubt.agent),
                           Fact("systemic.therapies.progressed", YesNo.unknown)]
        # another anthracycline recorded as not tolerated that does not rule doxorubicin
        # out (of that drug alone, or the other shown tolerated since): named (I15)
        sister = _other_anthracycline_facts(case, d, Agent.doxorubicin)
        out.add("REC-ANTHRACYCLINE",
                list(dict.fromkeys([*mtor_facts, *given_before, *earlier, *sister,
                                    *unnamed, *other_failed, *gap_facts,
                                    *_anthracycline_use_facts(case),
                                    *_scope_facts(scope)])),
                [*base, *if_not_progressed,
                 *_anthracycline_use_asked(out, case, "REC-ANTHRACYCLINE"),
                 *_mtor_class_asked(out, case, class_asked, "REC-ANTHRACYCLINE"),
                 *_which_drug(out, unnamed, "REC-ANTHRACYCLINE"),
                 *_which_line_drug(out, other_failed, "REC-ANTHRACYCLINE"),
                 *_lines_missing_asked(out, gap, "REC-ANTHRACYCLINE"),
                 *_scope_asked(out, scope, "REC-ANTHRACYCLINE")],
                (*(("I15",) if sister or unnamed else applied),
                 *(("I19",) if earlier or gap else ()), *_scope_applied(scope)))
    else:
        unsure = _mtor_use_asked(out, case, ("REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS",
                                              "REC-ANTHRACYCLINE"))
        conditions = [*base, *unsure, *if_not_progressed]
        # an mTOR inhibitor recorded as not tolerated while another one is shown
        # tolerated: the class stays the advice, the drug not tolerated is named as
        # ruled out and never proposed (I15)
        out_only = _mtor_ruled_out_facts(case, d)
        only = ("I15",) if out_only or unnamed else ()
        other_applied = ("I19",) if other_failed else ()
        # S12 names malignant PEComa: not shown malignant, the mTOR inhibitor is the
        # team's to consider, and nab-sirolimus, approved for malignant PEComa, is not
        # shown (I25)
        mtor_id = ("REC-MTOR-MALIGNANCY-NOT-SHOWN" if scope.not_shown
                   else "REC-MTOR-FIRST-LINE")
        # (after progression on any mTOR inhibitor this item is never reached: the
        # guideline's silence is said, whatever line came after)
        out.add(mtor_id, [*mtor_facts, *out_only, *unnamed, *other_failed, *gap_facts,
                          *_scope_facts(scope)],
                [*conditions, *_which_drug(out, unnamed, mtor_id),
                 *_which_line_drug(out, other_failed, mtor_id),
                 *_lines_missing_asked(out, gap, mtor_id),
                 *_scope_asked(out, scope, mtor_id)],
                (*dict.fromkeys((*only, *other_applied, *gap_applied)),
                 *_scope_applied(scope)))
        # nab-sirolimus is sirolimus bound to albumin: not proposed beside an
        # intolerance of either (I15), nor after progression on any mTOR inhibitor (not
        # reached then); an earlier mTOR-inhibitor line whose outcome is not recorded may
        # be one the disease progressed on: nab-sirolimus waits on the answer (the safer
        # branch meanwhile)
        if Agent.nab_sirolimus not in mtor_out and not scope.not_shown:
            doubt_facts, doubt_asked = _earlier_mtor_outcome_asked(case, d, out)
            out.add("SUPP-NAB-SIROLIMUS",
                    [*mtor_facts, *doubt_facts, *out_only, *unnamed, *other_failed,
                     *gap_facts, *_scope_facts(scope)],
                    list(dict.fromkeys([
                        *conditions, *doubt_asked,
                        *_which_drug(out, unnamed, "SUPP-NAB-SIROLIMUS"),
                        *_which_line_drug(out, other_failed, "SUPP-NAB-SIROLIMUS"),
                        *_lines_missing_asked(out, gap, "SUPP-NAB-SIROLIMUS"),
                        *_scope_asked(out, scope, "SUPP-NAB-SIROLIMUS")])),
                    (*dict.fromkeys((*only, *other_applied, *gap_applied)),
                     *_scope_applied(scope)))
    # what S15's item names of the mTOR inhibitors: the one the disease progressed on, or
    # the facts that rule them out, so that its place beside mTOR inhibition is read from
    # the facts
    s15_mtor: list[Fact] = (
        _progressed_facts(progressed, d) if progressed is not None
        else [Fact("systemic.mtor_inhibitor_available", avail), *contra_facts]
        if mtor_blocked else [])
    if s15:
        # such a line given already, whether the disease progressed on it not recorded:
        # S15 is past if it did, so it waits on the answer
        s15_conditions = list(base)
        if cervix_asked:
            s15_conditions.append(out.missing("MISS-PRIMARY-CERVIX",
                                              affects=("REC-UTERINE-EPI-IFO",)))
        # a line of ifosfamide alone is no anthracycline: its own question, the line
        # named among the item's facts (the anthracycline lines are named already)
        ifo_doubt: list[Fact] = []
        # doxorubicin alone, progression not recorded, none recorded yet on a line that
        # leaves the regimen standing: progression on it would make epirubicin a second
        # anthracycline course (I26, :func:`_anthracycline_failed_facts`), so the regimen
        # waits on that answer too
        second_course_open = not _anthracycline_failed_facts(case, d)
        for i, t in enumerate(case.systemic.therapies):
            if t.progressed is YesNo.unknown and not progressed_on(t) and (
                    _s15_past_if_progressed(t)
                    or (t.agent.is_anthracycline_based and second_course_open)):
                if not t.agent.is_anthracycline_based:
                    ifo_doubt += _line_facts(d, i, t)
                    question = "MISS-IFOSFAMIDE-PROGRESSION"
                elif t.setting is TherapySetting.adjuvant:
                    question = "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE"
                else:
                    question = "MISS-ANTHRACYCLINE-PROGRESSION"
                s15_conditions.append(out.missing(question, affects=("REC-UTERINE-EPI-IFO",)))
        if s15_against:
            # a drug of S15's regimen not tolerated, or one the class of an intolerance
            # not judged may hold (withheld meanwhile): never proposed (I15)
            meanwhile, meanwhile_asked = _withheld_meanwhile(
                case, out, Agent.epirubicin, _S15_DRUGS, "epirubicin with ifosfamide (S15)")
            not_tolerated += [status_fact, *site_facts,
                              *s15_against, Fact("derived.regimen_withheld",
                                                 "epirubicin with ifosfamide (S15)"),
                              *meanwhile]
            withheld_asked += meanwhile_asked
        else:
            # doxorubicin recorded as not tolerated that does not rule epirubicin out (of
            # that drug alone, or epirubicin shown tolerated since): named (I15)
            sister = _other_anthracycline_facts(case, d, Agent.epirubicin)
            # progressed on doxorubicin: epirubicin is a second anthracycline, for the
            # team to weigh with that course in view (I26)
            rechallenge = _anthracycline_failed_facts(case, d)
            out.add("REC-UTERINE-EPI-IFO",
                    list(dict.fromkeys([status_fact, *site_facts, *s15_mtor,
                                        *given_before, *ifo_doubt, *rechallenge, *sister,
                                        *unnamed, *other_failed, *gap_facts,
                                        *_anthracycline_use_facts(case),
                                        *_scope_facts(scope)])),
                    list(dict.fromkeys([*s15_conditions, *_anthracycline_use_asked(
                        out, case, "REC-UTERINE-EPI-IFO"), *_which_drug(
                        out, unnamed, "REC-UTERINE-EPI-IFO"), *_which_line_drug(
                        out, other_failed, "REC-UTERINE-EPI-IFO"),
                        *_lines_missing_asked(out, gap, "REC-UTERINE-EPI-IFO"),
                        *_scope_asked(out, scope, "REC-UTERINE-EPI-IFO")])),
                    tuple(dict.fromkeys((
                        *(("I15",) if sister or unnamed else ()),
                        *(("I19", "I26") if rechallenge else ("I26",) if ifo_doubt else ()),
                        *(("I19",) if other_failed else ()), *gap_applied,
                        *_scope_applied(scope)))))
    elif (site is PrimarySite.uterus or cervix_asked) and s15_past:
        # S15's regimen past: said, with the lines that put it there, so that its absence
        # is not read as an oversight (I26); whether the cervix is involved changes
        # nothing here, so it is not asked
        names = agent_names(t.agent for _i, t in s15_past)
        out.add("REC-UTERINE-EPI-IFO-PAST",
                [status_fact, *site_facts, *(f for i, t in s15_past for f in _line_facts(d, i, t)),
                 Fact(REGIMEN_PAST, f"epirubicin with ifosfamide (S15): the disease "
                      f"progressed on {names}, which holds a drug of the regimen; not "
                      "offered (I26)")],
                base)
    if not_tolerated:
        out.add("REC-REGIMEN-NOT-TOLERATED", list(dict.fromkeys(not_tolerated)),
                list(dict.fromkeys([*base, *withheld_asked])))
    if published is not None:
        out.add("SUPP-AFTER-MTOR", *published)
    named = {"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO", "SUPP-AFTER-MTOR"}
    if anthracycline_lines and any(i.id in named for i in out.recommendations):
        out.add("ALERT-ANTHRACYCLINE-GIVEN",
                [f for i, t in anthracycline_lines for f in _line_facts(d, i, t)])
    # an mTOR-inhibitor line already recorded beside the first-line mTOR advice: the
    # advice is the treatment under way, not one to start (or to switch to nab-sirolimus);
    # a line of a drug recorded as not tolerated is not (I15: never proposed)
    mtor_lines = [(i, t) for i, t in enumerate(case.systemic.therapies)
                  if t.agent.is_mtor_inhibitor and t.agent not in mtor_out]
    if mtor_lines and any(i.id in ("REC-MTOR-FIRST-LINE", "REC-MTOR-MALIGNANCY-NOT-SHOWN",
                                   "SUPP-NAB-SIROLIMUS")
                          for i in out.recommendations):
        out.add("ALERT-MTOR-GIVEN", [f for i, t in mtor_lines for f in _line_facts(d, i, t)])
    # the latest line, not progressed on, of a drug also recorded as not tolerated: the
    # advice never names it as the treatment under way (I15), so it is named here and
    # which record is current is for the team to check
    _line_of_drug_not_tolerated(case, d, out)
    first = d.first_line
    among = [(i, t) for i, t in enumerate(case.systemic.therapies)
             if t in d.first_line_among]
    if first is not None and gap:
        # earlier lines not recorded: the earliest line recorded is named as entered,
        # never said to be the first (the first may have been an mTOR inhibitor, I19)
        first_facts = [f for i, t in enumerate(case.systemic.therapies) if t is first
                       for f in _line_facts(d, i, t)]
        not_mtor = not first.agent.is_mtor_inhibitor
    elif first is not None:
        first_facts = [Fact("systemic.therapies.first_line", first.agent)]
        not_mtor = not first.agent.is_mtor_inhibitor
    else:
        # which line for advanced disease came first is not recorded: every one may have
        # been; all of other agents, it was not an mTOR inhibitor whatever their order
        first_facts = [f for i, t in among for f in _line_facts(d, i, t)]
        not_mtor = any(not t.agent.is_mtor_inhibitor for _i, t in among)
    # S13's order is the guideline's for advanced malignant PEComa: where the tumour is
    # not shown malignant, the mTOR inhibitor is the team's to consider (I25) and a first
    # line of another drug departs from no advice given; where a missing fact may make it
    # malignant, the alert stands provisional on it, as the mTOR advice does
    if not_mtor and not mtor_blocked and not scope.not_shown:
        # an mTOR-inhibitor line among them may have come first: the alert is shown
        # (the safer reading), provisional on the order, which is asked
        order_asked = ([out.missing("MISS-LINE-ORDER", affects=("ALERT-CHEMO-BEFORE-MTOR",))]
                       if first is None and any(t.agent.is_mtor_inhibitor for _i, t in among)
                       else [])
        # a first line recorded as 'other' (a drug under trial) may have been an mTOR
        # inhibitor: the alert waits on which drug it was (I19)
        other_first = _other_first_line(first, among)
        # a drug not tolerated recorded as 'other' may be an mTOR inhibitor: then none was
        # possible, and the alert waits on which drug it is, as the mTOR advice does (I15)
        out.add(
            "ALERT-CHEMO-BEFORE-MTOR",
            [
                *first_facts,
                Fact("systemic.mtor_inhibitor_available", avail),
                *contra_facts,
                *unnamed,
                *other_first,
                *gap_facts,
                *_scope_facts(scope),
            ],
            [*_mtor_use_asked(out, case, ("ALERT-CHEMO-BEFORE-MTOR",)), *order_asked,
             *_which_drug(out, unnamed, "ALERT-CHEMO-BEFORE-MTOR"),
             *_which_line_drug(out, other_first, "ALERT-CHEMO-BEFORE-MTOR"),
             *_lines_missing_asked(out, gap, "ALERT-CHEMO-BEFORE-MTOR"),
             *_scope_asked(out, scope, "ALERT-CHEMO-BEFORE-MTOR")],
            (*(("I15",) if unnamed else ()), *(("I19",) if other_first or gap else ()),
             *_scope_applied(scope)),
        )


def _same_drug(agent: Agent) -> frozenset[Agent]:
    """The single drugs ``agent`` holds, sirolimus and nab-sirolimus taken as one (I15)."""
    drugs = agent.drugs
    if drugs & {Agent.sirolimus, Agent.nab_sirolimus}:
        drugs = drugs | {Agent.sirolimus, Agent.nab_sirolimus}
    return drugs


def _line_of_drug_not_tolerated(case: Case, d: Derived, out: Collector) -> None:
    """ALERT-LINE-NOT-TOLERATED: a line for advanced disease that may be the latest line
    recorded, the disease not recorded as having progressed on it, of a drug also recorded
    as not tolerated (a drug of its regimen; sirolimus and nab-sirolimus one drug), or of
    an anthracycline while the anthracyclines are recorded as contraindicated
    (:func:`_contraindicated_facts`: ruled out as by an intolerance of the class). The
    intolerance rules the drug out (I15), so the advice never names the line as the
    treatment under way (ALERT-MTOR-GIVEN, ALERT-ANTHRACYCLINE-GIVEN leave it out): the
    line and the intolerance are named together and the team checks which is current
    (I15, I19). A drug the format names no agent for ('other', 'other chemotherapy') is
    not matched: two such records may be two drugs.

    Only a line the record shows still given or working is named: the disease recorded
    as not progressed on it, or a best response recorded, and no end recorded. A line
    recorded as ended (``ended_on``) is over, most often stopped for the intolerance
    itself: nothing to check. A line with neither a response nor the disease recorded as
    not progressed is most often such a course too (an EHR's record stopped with a
    toxicity as its reason gives both the line and the intolerance, and nothing else)."""
    sysm = case.systemic
    unnamed = {Agent.other, Agent.other_chemotherapy}
    intolerant = [j for j, x in enumerate(sysm.intolerances) if x.agent not in unnamed]
    if not intolerant and sysm.anthracycline_contraindicated is not YesNo.yes:
        return
    advanced = [t for t in sysm.therapies if t.setting is TherapySetting.advanced]
    groups = lines_in_order(advanced)
    latest = advanced if groups is None else (groups[-1] if groups else [])
    facts: list[Fact] = []
    for i, t in enumerate(sysm.therapies):
        if (t not in latest or t.agent in unnamed or progressed_on(t)
                or t.ended_on is not None
                or (t.progressed is not YesNo.no and t.best_response is Response.unknown)):
            continue
        ruled_out = [*(f for j in intolerant
                       if _same_drug(t.agent) & _same_drug(sysm.intolerances[j].agent)
                       for f in _intolerance_facts(case, j)),
                     *_contraindicated_facts(case, t.agent.drugs)]
        if ruled_out:
            facts += [*_line_facts(d, i, t), *ruled_out]
    if facts:
        out.add("ALERT-LINE-NOT-TOLERATED", list(dict.fromkeys(facts)))


def _mtor_use_asked(out: Collector, case: Case, affects: tuple[str, ...]) -> list[str]:
    """Whether an mTOR inhibitor is available and whether it is contraindicated, each
    asked where it is not recorded, as conditions of the items ``affects`` names: those
    an answer ruling the mTOR inhibitors out would change (the first-line mTOR advice
    and S14's option in its place; the alert that a first line of another drug came
    while one was possible). Asked only with such an item: after progression on an mTOR
    inhibitor the guideline is silent whatever the answers, and nothing is asked for it.
    Called only while neither rules the mTOR inhibitors out."""
    sysm = case.systemic
    asked: list[str] = []
    if sysm.mtor_inhibitor_available is YesNo.unknown:
        asked.append(out.missing("MISS-MTOR-AVAILABLE", affects=affects))
    if sysm.mtor_contraindication is YesNo.unknown:
        asked.append(out.missing("MISS-MTOR-CONTRAINDICATED", affects=affects))
    return asked


def _anthracycline_use_asked(out: Collector, case: Case, item: str) -> list[str]:
    """Whether the anthracyclines are contraindicated, asked where it is not recorded, as
    a condition of ``item``, an item proposing an anthracycline-based regimen (S14's
    doxorubicin, S15's epirubicin with ifosfamide): a contraindication (cardiac, the
    cumulative dose) would withhold it, as the mTOR-inhibitor contraindication is asked
    beside the mTOR advice (:func:`_mtor_use_asked`). The regimen is shown meanwhile,
    provisional on the answer. Called only while no recorded fact rules it out."""
    if case.systemic.anthracycline_contraindicated is not YesNo.unknown:
        return []
    return [out.missing("MISS-ANTHRACYCLINE-CONTRAINDICATED", affects=(item,))]


def _anthracycline_use_facts(case: Case) -> list[Fact]:
    """The anthracycline contraindication as an item proposing an anthracycline rests
    on it, when it is not recorded (the question is asked beside it); ``[]`` otherwise."""
    said = case.systemic.anthracycline_contraindicated
    return [Fact(ANTHRACYCLINE_CONTRAINDICATED, said)] if said is YesNo.unknown else []


#: Said of systemic treatment of advanced disease when the tumour does not count as
#: malignant on the facts entered (I9, I25).
_MALIGNANCY_NOT_SHOWN = Fact(
    "derived.malignancy",
    "not shown on the facts entered (I9): the guideline states its systemic treatment of "
    "advanced disease for malignant PEComa; whether it applies is for the sarcoma team "
    "(I25)")


def _scope_facts(scope: Malignancy) -> list[Fact]:
    """What a systemic item for advanced disease rests on as to malignancy (I25): none
    when the tumour counts as malignant (its evidence is the S27 alert's); else the
    pathology categories and the nodal status, and, when no missing fact may make it
    malignant, the derived fact that malignancy is not shown."""
    return [*scope.grounds, *((_MALIGNANCY_NOT_SHOWN,) if scope.not_shown else ())]


def _scope_asked(out: Collector, scope: Malignancy, record_id: str) -> list[str]:
    """The missing facts that may still make the tumour malignant, as conditions of
    ``record_id``: those leaving it open (the safer branch meanwhile: the guideline's
    advice for malignant PEComa, provisional, I25), and nodes recorded as not assessed
    (the advice as the facts stand, provisional, I10); empty when none."""
    return [out.missing(m, affects=(record_id,)) for m in (*scope.open_on, *scope.asked)]


def _scope_applied(scope: Malignancy) -> tuple[str, ...]:
    """The interpretations a systemic item cites when malignancy is not shown or open."""
    return () if scope.evidence else ("I9", "I25")


def _contraindication_facts(case: Case, d: Derived) -> list[Fact]:
    """The mTOR-inhibitor contraindication as the items rest on it: the recorded value,
    or, derived from an mTOR inhibitor recorded as not tolerated (I15), the intolerances
    it comes from and the derived fact saying so (never shown as if it were recorded)."""
    sysm = case.systemic
    if not sysm.mtor_contraindication_derived or d.mtor_intolerance is None:
        return [Fact("systemic.mtor_inhibitor_contraindicated",
                     sysm.mtor_inhibitor_contraindicated)]
    return [*_mtor_intolerance_facts(case), d.mtor_intolerance]


def _mtor_intolerance_facts(case: Case) -> list[Fact]:
    """The mTOR inhibitors recorded as not tolerated, each with the team's judgement
    whether the intolerance is of the class where it is recorded (I15)."""
    sysm = case.systemic
    return [f for i in sysm.mtor_not_tolerated for f in _intolerance_facts(case, i)]


def _intolerance_facts(case: Case, i: int) -> list[Fact]:
    """An intolerance as recorded: its agent, and whether it is of the class where the
    team records it (``class_wide``)."""
    x = case.systemic.intolerances[i]
    judged = ([Fact(f"systemic.intolerances[{i}].class_wide", x.class_wide)]
              if x.class_wide is not YesNo.unknown else [])
    return [Fact(f"systemic.intolerances[{i}].agent", x.agent), *judged]


def _unnamed_intolerances(case: Case) -> list[Fact]:
    """The intolerances recorded as 'other', a drug the case format names no agent for
    (a brand name, an mTOR inhibitor without an agent such as ridaforolimus): each may be
    an mTOR inhibitor or an anthracycline, so it is never dropped (I15)."""
    return [Fact(f"systemic.intolerances[{i}].agent", x.agent)
            for i, x in enumerate(case.systemic.intolerances) if x.agent is Agent.other]


def _which_drug(out: Collector, unnamed: list[Fact], record_id: str) -> list[str]:
    """The question which drug an intolerance recorded as 'other' is, as a condition of
    ``record_id``, an item proposing an mTOR inhibitor or an anthracycline that drug may
    be (:func:`_unnamed_intolerances`, I15); empty when none is recorded."""
    if not unnamed:
        return []
    return [out.missing("MISS-INTOLERANCE-AGENT", affects=(record_id,))]


#: The path of the derived fact naming the lines for advanced disease given before S14's
#: option (:func:`_earlier_lines`, I19).
EARLIER_LINES = "derived.earlier_lines"


def _earlier_lines(case: Case, d: Derived, gap: tuple[int, ...] = ()) -> list[Fact]:
    """The facts S14's option rests on when lines of systemic treatment for advanced
    disease other than an anthracycline are recorded (an anthracycline line is the option
    itself, given already: ALERT-ANTHRACYCLINE-GIVEN says so): each such line as entered,
    and the derived fact saying that S14 speaks of a first line while this patient has
    had that many lines for advanced disease (every one counted and named), so that the
    option is not read as a first line here (I19). Empty when there is none: the option
    is the first line S14 speaks of."""
    advanced = [(i, t) for i, t in enumerate(case.systemic.therapies)
                if t.setting is TherapySetting.advanced]
    others = [(i, t) for i, t in advanced if not t.agent.is_anthracycline_based]
    if not others:
        return []
    n = len(advanced)
    names = agent_names(t.agent for _i, t in advanced)
    # earlier lines not recorded (:func:`_missing_line_numbers`): the count is of the
    # lines recorded, never said to be all the patient has had
    had = (f"{n} line{'s' if n > 1 else ''} of systemic treatment for advanced disease "
           f"recorded ({names}), and {_numbers_words(gap)} not recorded"
           if gap else
           f"{n} line{'s' if n > 1 else ''} of systemic treatment for advanced disease "
           f"({names})")
    return [*(f for i, t in others for f in _line_facts(d, i, t)), Fact(
        EARLIER_LINES,
        f"S14 offers anthracycline-based chemotherapy as a first line; this patient has had "
        f"{had}, so here it would not be a first line, a place the guideline does not "
        "give it (I19)")]


#: The path of the derived fact saying that lines numbered below a recorded one are not
#: recorded (:func:`_lines_missing_facts`, I19).
LINES_MISSING = "derived.lines_not_recorded"


def _missing_line_numbers(case: Case) -> tuple[int, ...]:
    """The line numbers below a recorded line's number that no recorded line holds, when
    the lines recorded cannot account for them: a line numbered 2 with no line 1 (nor a
    line without a number that may have come before it) says that a line was given before
    it and is not recorded. Lines are numbered across settings (an adjuvant course may be
    line 1), so every recorded line counts. An unnumbered line may be one of the missing
    ones unless both are dated and it started after the numbered line. ``()`` when none
    is missing (I19)."""
    lines = case.systemic.therapies
    recorded = {t.line for t in lines if t.line is not None}
    missing: set[int] = set()
    for t in lines:
        if t.line is None:
            continue
        gaps = [n for n in range(1, t.line) if n not in recorded]
        if not gaps:
            continue
        start = t.started_on
        may_fill = [u for u in lines if u.line is None and not (
            u.started_on is not None and start is not None and u.started_on > start)]
        if len(gaps) > len(may_fill):
            missing.update(gaps)
    return tuple(sorted(missing))


def _numbers_words(numbers: Sequence[int]) -> str:
    """'line 1', 'lines 1 and 2', 'lines 1, 2 and 3'."""
    said = [str(n) for n in numbers]
    if len(said) == 1:
        return f"line {said[0]}"
    return f"lines {', '.join(said[:-1])} and {said[-1]}"


def _lines_missing_facts(case: Case, gap: tuple[int, ...]) -> list[Fact]:
    """The derived fact saying which line numbers are not recorded while a higher one is,
    and that the first line and the number of lines are therefore not known; empty when
    none is missing (I19)."""
    if not gap:
        return []
    lowest = min(t.line for t in case.systemic.therapies if t.line is not None)
    return [Fact(
        LINES_MISSING,
        f"the lowest line number recorded is {lowest}: {_numbers_words(gap)} "
        f"{'is' if len(gap) == 1 else 'are'} not recorded, so which line came first and "
        "how many lines were given are not known; an earlier line may have been an mTOR "
        "inhibitor or an anthracycline the disease progressed on (I19)")]


def _lines_missing_asked(out: Collector, gap: tuple[int, ...], record_id: str) -> list[str]:
    """The question what the lines not recorded were (MISS-EARLIER-LINES), naming their
    numbers, as a condition of ``record_id``; empty when none is missing."""
    if not gap:
        return []
    return [out.missing("MISS-EARLIER-LINES", affects=(record_id,),
                        about=(_numbers_words(gap),))]


#: The path of the derived fact saying that a line recorded as 'other' may have been an
#: mTOR inhibitor or an anthracycline (:func:`_other_lines_failed`, I19).
OTHER_LINE = "derived.other_line"


def _other_lines_failed(case: Case, d: Derived) -> list[Fact]:
    """The lines recorded as 'other', a drug the case format names no agent for (a drug
    given in a clinical trial, say), on which the disease progressed, as facts, with the
    derived fact saying what is not known of them; empty when there is none. Such a
    drug may have been an mTOR inhibitor (ridaforolimus, nab-sirolimus given in a trial)
    or an anthracycline: progression on it would then put the first-line mTOR advice and
    nab-sirolimus, or S14's and S15's regimens, in the past. It is never read as neither
    in silence: the advice is shown as for neither, provisional on which drug it was
    (MISS-OTHER-LINE-AGENT, I19)."""
    lines = [(i, t) for i, t in enumerate(case.systemic.therapies)
             if t.agent is Agent.other and progressed_on(t)]
    if not lines:
        return []
    many = len(lines) > 1
    return [*(f for i, t in lines for f in _line_facts(d, i, t)), Fact(
        OTHER_LINE,
        f"{'lines' if many else 'a line'} of 'other', a drug the case format names no agent "
        f"for, the disease progressed on {'them' if many else 'it'}: whether "
        f"{'each' if many else 'it'} was an mTOR inhibitor (a drug under trial may be one) "
        "or an anthracycline is not recorded; the advice is shown as for neither, "
        "provisional on the answer (I19)")]


def _other_first_line(first: TherapyLine | None,
                      among: list[tuple[int, TherapyLine]]) -> list[Fact]:
    """The derived fact saying that the first line for advanced disease, or a line that
    may have been the first (``among``, the order not told), is recorded as 'other', a
    drug the format names no agent for, and the disease progressed on it: it may have
    been an mTOR inhibitor, so the alert that the first line was not one waits on which
    drug it was, the question the mTOR advice asks already (I19); empty otherwise. A
    first line of 'other' still given raises no question for the alert alone: the
    warning kept is the safer error, and a draft order of a drug the format names no
    agent for (pembrolizumab, identified) is such a line."""
    lines = [first] if first is not None else [t for _i, t in among]
    if not any(t.agent is Agent.other and progressed_on(t) for t in lines):
        return []
    return [Fact(OTHER_LINE,
                 "the first line for advanced disease is, or may be, a line of 'other', a "
                 "drug the case format names no agent for, the disease progressed on it: if "
                 "it was an mTOR inhibitor (a drug under trial may be one) this alert does "
                 "not apply; shown meanwhile, provisional on which drug it was (I19)")]


def _which_line_drug(out: Collector, other: list[Fact], record_id: str) -> list[str]:
    """The question which drug a line recorded as 'other' was, as a condition of
    ``record_id`` (:func:`_other_lines_failed`, :func:`_other_first_line`); empty when
    ``other`` is."""
    if not other:
        return []
    return [out.missing("MISS-OTHER-LINE-AGENT", affects=(record_id,))]


def _mtor_class_asked(out: Collector, case: Case, asked: bool, record_id: str) -> list[str]:
    """The question whether an intolerance of one mTOR inhibitor is of the class or of
    that drug alone, as a condition of ``record_id`` resting on the class being ruled out
    meanwhile (``asked``: the contraindication is derived from it, I15); asked of the
    intolerances judged both ways, if any (:func:`_opposed_about`); empty when not
    asked."""
    if not asked:
        return []
    return [out.missing("MISS-MTOR-INTOLERANCE", affects=(record_id,),
                        about=_opposed_about(case, MTOR_AGENTS))]


def _opposed_about(case: Case, drug_class: frozenset[Agent]) -> list[str]:
    """The intolerances of a drug of ``drug_class`` that the team judges both ways, one
    of the class, another of the same drug alone (:func:`pecoma.case.opposed_judgements`),
    in words: what the question whether the intolerance is of the class is asked of. A
    contradiction is no judgement: the safer one is read meanwhile and it is asked as
    for one not recorded (I15)."""
    listed = case.systemic.intolerances
    return [opposed_words(case, i, j)
            for i, j in opposed_judgements(listed) if listed[i].agent.drugs & drug_class]


def _mtor_ruled_out_facts(case: Case, d: Derived) -> list[Fact]:
    """The mTOR inhibitors recorded as not tolerated while the class is not ruled out
    (I15): another one is shown tolerated, or the team records the class as not
    contraindicated (the intolerance of that drug alone). Their intolerances, the line
    that shows the other tolerated, if any, and the derived fact naming what is ruled
    out; empty otherwise."""
    sysm = case.systemic
    if d.mtor_intolerance is None or d.mtor_intolerance.path != MTOR_RULED_OUT:
        return []
    tolerated = sysm.mtor_tolerated
    shown = [] if tolerated is None else _line_facts(d, tolerated, sysm.therapies[tolerated])
    return [*_mtor_intolerance_facts(case), *shown, d.mtor_intolerance]


#: The drugs of the regimens the guideline names: S14's anthracycline-based chemotherapy
#: (doxorubicin), and S15's epirubicin with ifosfamide.
_S14_DRUGS = Agent.doxorubicin.drugs
_S15_DRUGS = Agent.epirubicin_ifosfamide.drugs


def _latest_line_asked(out: Collector, case: Case, d: Derived, latest: TherapyLine | None,
                       silence: str, facts: list[Fact]) -> None:
    """The question a later line of a treatment the disease progressed on raises when its
    own outcome is not recorded (it may be working now, I19), naming the line, its facts
    added to ``facts``. The progression on the earlier line stands whatever line of the
    class came after (I15, I26), so the guideline's silence (``silence``) is said either
    way: the answer only decides whether the line is named beside it as the treatment
    under way (:func:`_after_progression_facts`), so the silence is not provisional on
    it."""
    if latest is None:
        return
    i = next(i for i, t in enumerate(case.systemic.therapies) if t is latest)
    facts += _line_facts(d, i, latest)
    out.missing("MISS-LATEST-LINE-PROGRESSION", affects=(silence,),
                about=(_line_named(i, latest),))


def _anthracycline_failed_facts(case: Case, d: Derived) -> list[Fact]:
    """The anthracycline lines the disease progressed on that leave S15's regimen
    standing (doxorubicin alone: a line of epirubicin, or of either paired with
    ifosfamide, puts it in the past), as facts, with the derived fact saying what that
    makes of epirubicin with ifosfamide (I26); empty when there is none."""
    failed = [(i, t) for i, t in enumerate(case.systemic.therapies)
              if t.agent.is_anthracycline_based and not _s15_past_if_progressed(t)
              and progressed_on(t)]
    if not failed:
        return []
    names = agent_names(t.agent for _i, t in failed)
    return [*(f for i, t in failed for f in _line_facts(d, i, t)),
            Fact(AFTER_ANTHRACYCLINE,
                 f"the disease progressed on {names}, an anthracycline: epirubicin is "
                 "another, so this regimen would be a second anthracycline course (shared "
                 "resistance, the cumulative dose); the guideline reports its efficacy "
                 "and says nothing of it after progression on an anthracycline. Whether "
                 "to give it is for the sarcoma team to weigh with that course in view, "
                 "not a next line (I26)")]


#: The path of the derived fact of :func:`_anthracycline_failed_facts`.
AFTER_ANTHRACYCLINE = "derived.after_anthracycline_progression"

#: The path of the derived fact of REC-UTERINE-EPI-IFO-PAST: S15's regimen not offered
#: after progression on a line holding a drug of it (I26).
REGIMEN_PAST = "derived.regimen_past"


def _after_progression_facts(case: Case, d: Derived, progressed: TherapyLine) -> list[Fact]:
    """The lines of the class of ``progressed`` (the mTOR inhibitors, or the
    anthracycline-based lines) recorded as not progressed besides the line the disease
    progressed on (another drug of the class switched to, or the same drug again), as
    facts, with the derived fact saying what they are beside the guideline's silence;
    empty when there is none. The guideline names mTOR inhibitors as the first line, and
    anthracycline-based chemotherapy as the first line when they cannot be used, and no
    line after progression on either (S12-S14, S28): another line of the class after it
    is outside the guideline, the class taken as one (I15; for the anthracyclines, a
    second course of the class, I26), and no longer its first line. A line on which the
    disease is controlled is the treatment under way; whether to continue it is the
    sarcoma team's decision (I19). nab-Sirolimus is not proposed after progression on any
    mTOR inhibitor (its trial, AMPECT, enrolled patients never given one)."""
    mtor = progressed.agent.is_mtor_inhibitor

    def of_class(t: TherapyLine) -> bool:
        return t.agent.is_mtor_inhibitor if mtor else t.agent.is_anthracycline_based

    lines = [t for t in case.systemic.therapies if of_class(t)]
    groups = lines_in_order(lines)
    # a line the record shows given before the progression is past, not under way
    before = ([] if groups is None else
              [t for g in groups[:next(k for k, g in enumerate(groups) if progressed in g)]
               for t in g])
    later = [(i, t) for i, t in enumerate(case.systemic.therapies)
             if of_class(t) and t.progressed is YesNo.no
             and not progressed_on(t) and t is not progressed and t not in before]
    failed = agent_names([progressed.agent])
    # a line of another drug given after the progression, not ended and not progressed
    # on, is the treatment under way (a trial drug, another class): named beside the
    # silence, so that the advice does not read as if nothing were being given (I19)
    since = [(i, t) for i, t in enumerate(case.systemic.therapies)
             if not of_class(t) and t.progressed is YesNo.no and t.ended_on is None
             and lines_in_order([progressed, t]) == [[progressed], [t]]]
    since_names = agent_names(t.agent for _i, t in since)
    other = [*(f for i, t in since for f in _line_facts(d, i, t)),
             Fact(LINE_UNDER_WAY,
                  f"the disease is recorded as not progressing on {since_names}, a line "
                  f"begun after the progression "
                  f"on {failed} and not recorded as ended: if it is still given and the "
                  "disease is controlled on it, it is the treatment under way; whether to "
                  "continue it is the sarcoma team's decision (I19)")] if since else []
    if not later:
        return other
    names = agent_names(t.agent for _i, t in later)
    if mtor:
        kind, first, choice = "mTOR inhibitors", "the first line", "treatment of choice"
        class_said, after = "(the class taken as one, I15)", " nab-Sirolimus is not proposed"
    else:
        kind = "anthracycline-based chemotherapy"
        first = "the first line where mTOR inhibitors cannot be used"
        choice = "first line"
        class_said = ("(the class taken as one, I15: a second anthracycline course, "
                      "resistance possibly shared and the cumulative dose adding up, I26)")
        after = ""
    line_word = "an mTOR-inhibitor line" if mtor else "an anthracycline line"
    return [*(f for i, t in later for f in _line_facts(d, i, t)),
            Fact(MTOR_AFTER_PROGRESSION if mtor else ANTHRACYCLINE_AFTER_PROGRESSION,
                 f"the disease is recorded as not progressing on {names}, and as having "
                 f"progressed on {failed}: the guideline names {kind} as {first} and no "
                 f"line after progression on it, so {line_word} after it is outside the "
                 f"guideline, not its {choice} {class_said}. If that line came after "
                 "the progression and the disease is controlled on it, it is the "
                 "treatment under way; whether to continue it is the sarcoma team's "
                 f"decision (I19).{after}"), *other]


#: The paths of the derived fact of :func:`_after_progression_facts`, for each class.
MTOR_AFTER_PROGRESSION = "derived.mtor_after_progression"
ANTHRACYCLINE_AFTER_PROGRESSION = "derived.anthracycline_after_progression"
#: The path of its derived fact naming a line of another drug under way.
LINE_UNDER_WAY = "derived.line_under_way"


def _under_way_applied(under_way: list[Fact]) -> tuple[str, ...]:
    """The interpretations the facts of :func:`_after_progression_facts` apply: a later
    line of the class is outside the guideline, the class taken as one (I15), and a line
    under way is the sarcoma team's to continue (I19)."""
    paths = {f.path for f in under_way}
    return ((("I15",) if paths & {MTOR_AFTER_PROGRESSION, ANTHRACYCLINE_AFTER_PROGRESSION}
             else ()) + (("I19",) if under_way else ()))


def _earlier_mtor_outcome_asked(case: Case, d: Derived,
                                out: Collector) -> tuple[list[Fact], list[str]]:
    """The mTOR-inhibitor lines whose outcome is not recorded, other than the latest one
    already asked of (``d.mtor_progression_unknown``) and those whose order is asked: the
    disease may have progressed on one, and nab-sirolimus is not proposed after
    progression on any mTOR inhibitor (the guideline's silence is said then). Their facts and the
    question (whether the disease progressed on it, or for an adjuvant course whether it
    recurred during it), as conditions of SUPP-NAB-SIROLIMUS; ``([], [])`` when none."""
    doubt = [(i, t) for i, t in enumerate(case.systemic.therapies)
             if t.agent.is_mtor_inhibitor and t.progressed is YesNo.unknown
             and not progressed_on(t) and t is not d.mtor_progression_unknown]
    if not doubt:
        return [], []
    asked = list(dict.fromkeys(out.missing(
        "MISS-MTOR-ADJUVANT-RELAPSE" if t.setting is TherapySetting.adjuvant
        else "MISS-MTOR-PROGRESSION", affects=("SUPP-NAB-SIROLIMUS",),
        about=(_line_named(i, t),)) for i, t in doubt))
    return [f for i, t in doubt for f in _line_facts(d, i, t)], asked


def _s15_past_if_progressed(line: TherapyLine) -> bool:
    """Whether progression on ``line`` puts S15's regimen in the past: a line holding a
    drug of it (I26): epirubicin with ifosfamide, doxorubicin with ifosfamide (the same
    pairing), epirubicin alone or ifosfamide alone. The regimen would give again a drug
    the disease grew on."""
    return bool(line.agent.drugs & _S15_DRUGS)


#: The classes of drugs SUPP-AFTER-MTOR names, each with the drugs that make a regimen of
#: that class (an intolerance of one rules it out) and the agents of its lines.
_AFTER_MTOR_CLASSES: tuple[tuple[str, frozenset[Agent], frozenset[Agent]], ...] = (
    ("anthracycline-based chemotherapy", frozenset({Agent.doxorubicin, Agent.epirubicin}),
     frozenset(a for a in Agent if a.is_anthracycline_based)),
    ("gemcitabine-based chemotherapy", Agent.gemcitabine_docetaxel.drugs,
     frozenset({Agent.gemcitabine_docetaxel})),
    ("VEGFR inhibitors", Agent.pazopanib.drugs, frozenset({Agent.pazopanib})),
)

#: The path of the derived fact of :func:`_after_mtor_classes`.
AFTER_MTOR_CLASSES = "derived.after_mtor_classes"


def _after_mtor_classes(case: Case) -> tuple[list[Fact], tuple[str, ...]]:
    """What the record says of the classes SUPP-AFTER-MTOR names: for each, the drugs of
    it recorded as not tolerated (never proposed, with every regimen holding them, I15)
    and the lines of it already given (giving it again is the team's decision, I19). The facts (the
    intolerances, the lines and a derived fact saying it class by class) and the
    interpretations applied; ``([], ())`` when the record says nothing of them."""
    intolerances = case.systemic.intolerances
    facts: list[Fact] = []
    said: list[str] = []
    applied: list[str] = []
    for name, drugs, agents in _AFTER_MTOR_CLASSES:
        bad = [x.agent for x in intolerances if x.agent.drugs & drugs]
        lines = [(i, t) for i, t in enumerate(case.systemic.therapies) if t.agent in agents]
        contra = _contraindicated_facts(case, drugs)
        if not bad and not lines and not contra:
            continue
        words = []
        if contra:
            # recorded by the team (cardiac, the cumulative dose): the class is out
            facts += _not_tolerated(case, drugs)
            words.append("anthracyclines not proposed: recorded as contraindicated (I15)")
            applied.append("I15")
        elif bad:
            facts += _not_tolerated(case, drugs)
            names = agent_names(bad)
            # one recorded as of the class rules out the class, not only its own drug
            # (Intolerance.drugs_ruled_out): of these classes only the anthracyclines
            # have one recorded (class_wide)
            # (one judged both ways, of the class and of that drug alone, is no
            # judgement: the class not proposed meanwhile, asked)
            opposed = {i for i, _j in opposed_judgements(intolerances)}
            of_class = agent_names(x.agent for i, x in enumerate(intolerances)
                                    if x.class_wide is YesNo.yes and x.drug_class & drugs
                                    and i not in opposed)
            if of_class:
                words.append(f"anthracyclines not proposed: {of_class} recorded as not "
                             "tolerated, of the class (I15)")
            elif drugs & ANTHRACYCLINES and case.systemic.anthracycline_class_undecided:
                judged = ("not recorded" if not _opposed_about(case, ANTHRACYCLINES)
                          else "recorded both ways (the judgements contradict each other)")
                words.append(f"anthracyclines not proposed meanwhile: {names} recorded as "
                             f"not tolerated, whether the intolerance is of the class {judged} "
                             "(asked; I15)")
            else:
                words.append(f"{names} recorded as not tolerated: {names} not proposed (I15)")
            applied.append("I15")
        if lines:
            facts += [Fact(f"systemic.therapies[{i}].agent", t.agent) for i, t in lines]
            given = agent_names(t.agent for _i, t in lines)
            progressed = [t for _i, t in lines if progressed_on(t)]
            words.append(f"{given} given already"
                         + (", the disease progressed on it" if progressed else "")
                         + ": whether to give it again is the sarcoma team's decision with "
                         "that course in view (I19)")
            applied.append("I19")
        said.append(f"{name}: {'; '.join(words)}")
    if not said:
        return [], ()
    facts.append(Fact(AFTER_MTOR_CLASSES, "; ".join(said)))
    return facts, tuple(dict.fromkeys(applied))


def _not_tolerated(case: Case, drugs: frozenset[Agent]) -> list[Fact]:
    """The recorded intolerances that rule out a drug of ``drugs`` (a regimen recorded as
    not tolerated counts for each of its drugs: which one was is not told; one of a class
    for each drug of the class where it rules the class out, recorded as of the class or,
    not judged, meanwhile: :meth:`pecoma.case.Systemic.ruled_out_by`), as facts."""
    sysm = case.systemic
    return [*_contraindicated_facts(case, drugs),
            *(f for i in range(len(sysm.intolerances))
              if sysm.ruled_out_by(i) & drugs for f in _intolerance_facts(case, i))]


#: The path of the recorded anthracycline contraindication.
ANTHRACYCLINE_CONTRAINDICATED = "systemic.anthracycline_contraindicated"


def _contraindicated_facts(case: Case, drugs: frozenset[Agent]) -> list[Fact]:
    """The recorded anthracycline contraindication, as a fact, where ``drugs`` hold an
    anthracycline: it rules out every one and every regimen holding one, as an
    intolerance of the class does (I15, :func:`_not_tolerated`); ``[]`` otherwise."""
    if drugs & ANTHRACYCLINES and case.systemic.anthracycline_contraindicated is YesNo.yes:
        return [Fact(ANTHRACYCLINE_CONTRAINDICATED, YesNo.yes)]
    return []


def _withheld_meanwhile(case: Case, out: Collector, drug: Agent, drugs: frozenset[Agent],
                        regimen: str) -> tuple[list[Fact], list[str]]:
    """When the regimen ``regimen`` (of ``drugs``) holding the anthracycline ``drug`` is
    withheld only because an intolerance recorded to the other anthracycline (or to a
    regimen holding it, whose culprit is not told) may be of the class, the team's
    judgement not recorded on it: the derived fact saying so and the question,
    MISS-ANTHRACYCLINE-INTOLERANCE, as a condition of REC-REGIMEN-NOT-TOLERATED. The
    safer reading is kept meanwhile, as for an mTOR inhibitor (I15): the regimen is not
    proposed until the team records the intolerance as of that drug alone. ``([], [])``
    when a recorded fact rules it out by itself (a drug of it not tolerated, or an
    intolerance recorded as of the class)."""
    sysm = case.systemic
    if _contraindicated_facts(case, drugs):
        return [], []  # every anthracycline is ruled out by the record itself
    # one recorded as of the class while another of the same drug is recorded as of that
    # drug alone: the judgements contradict each other, no judgement (I15)
    opposed = {i for i, _j in opposed_judgements(sysm.intolerances)}
    if any((x.agent.drugs if i in opposed else x.drugs_ruled_out) & drugs
           for i, x in enumerate(sysm.intolerances)):
        return [], []
    found = [(i, x.agent) for i, x in enumerate(sysm.intolerances)
             if (x.class_wide is YesNo.unknown or i in opposed)
             and sysm.ruled_out_by(i) & drug.drugs]
    if not found:
        return [], []
    judged = ("is not recorded" if not any(i in opposed for i, _a in found)
              else "is recorded both ways, of the class on one record and of that drug "
              "alone on another (the judgements contradict each other)")
    fact = Fact(ANTHRACYCLINE_INTOLERANCE,
                f"{_intolerance_names(a for _i, a in found)} recorded as not tolerated: "
                "whether the intolerance is of the anthracycline class, ruling out "
                f"{drug.value} too, {judged}, so {regimen} is withheld meanwhile, the "
                "safer reading, until the team records it as of that drug alone (I15)")
    return [fact], [out.missing("MISS-ANTHRACYCLINE-INTOLERANCE",
                                affects=("REC-REGIMEN-NOT-TOLERATED",),
                                about=_opposed_about(case, ANTHRACYCLINES))]


def _anthracycline_class_asked(out: Collector, case: Case, record_id: str) -> list[str]:
    """The question whether an anthracycline intolerance is of the class, as a condition
    of ``record_id`` saying the anthracyclines are withheld meanwhile (I15); empty when
    the class is not ruled out for want of that judgement."""
    if not case.systemic.anthracycline_class_undecided:
        return []
    return [out.missing("MISS-ANTHRACYCLINE-INTOLERANCE", affects=(record_id,),
                        about=_opposed_about(case, ANTHRACYCLINES))]


def _intolerance_names(agents: Iterable[Agent]) -> str:
    """'doxorubicin; epirubicin with ifosfamide (which of its drugs is not recorded)': the
    agents recorded as not tolerated, in words, each once."""
    return "; ".join(dict.fromkeys(
        f"{a.value.replace('_', ' with ')} (which of its drugs is not recorded)"
        if len(a.drugs) > 1 else a.value for a in agents))


def _other_anthracycline_facts(case: Case, d: Derived, drug: Agent) -> list[Fact]:
    """An item proposing the anthracycline ``drug`` beside an intolerance recorded to the
    other anthracycline, or to a regimen holding it, that does not rule ``drug`` out
    (I15): one the team records as of that drug alone (the intolerance and the judgement
    named), or one whose judgement is not recorded while the record shows the other
    anthracycline tolerated since (:func:`pecoma.case.class_tolerated_line`: the
    intolerance, that line and the derived fact saying so; nothing is asked, as for an
    mTOR inhibitor). Empty when there is none. One that rules ``drug`` out, of the class
    or meanwhile, withholds the item instead (:func:`_withheld_meanwhile`)."""
    sysm = case.systemic
    own = drug.drugs
    judged = [f for i, x in enumerate(sysm.intolerances)
              if x.class_wide is YesNo.no and x.drug_class - x.agent.drugs & own
              for f in _intolerance_facts(case, i)]
    others = other_anthracyclines_not_tolerated(drug, sysm.intolerances)
    found = [(i, x.agent) for i, x in enumerate(sysm.intolerances)
             if x.agent in others and x.class_wide is YesNo.unknown]
    if not found:
        return judged
    facts = [*judged, *(Fact(f"systemic.intolerances[{i}].agent", a) for i, a in found)]
    shown = class_tolerated_line(ANTHRACYCLINES, (x.agent for x in sysm.intolerances),
                                 sysm.therapies)
    if shown is not None:
        line = sysm.therapies[shown]
        facts += _line_facts(d, shown, line)
        facts.append(Fact(ANTHRACYCLINE_INTOLERANCE,
                          f"{_intolerance_names(a for _i, a in found)} recorded as not "
                          "tolerated, whether the intolerance is of the anthracycline "
                          f"class not recorded: the latest anthracycline line, "
                          f"{agent_names([line.agent])}, shows the class tolerated since, "
                          f"so {drug.value} is not ruled out on that ground (I15)"))
    return facts


def _line_facts(d: Derived, i: int, line: TherapyLine) -> list[Fact]:
    """A recorded line as it was entered: agent, line number, setting, start, end and result
    (what is not recorded is left out, never guessed); a progression counted from the dates
    is shown as the derived fact saying so (:func:`_progression_fact`)."""
    where = f"systemic.therapies[{i}]"
    facts = [Fact(f"{where}.agent", line.agent)]
    if line.line is not None:
        facts.append(Fact(f"{where}.line", str(line.line)))
    facts.append(Fact(f"{where}.setting", line.setting))
    if line.started_on is not None:
        facts.append(Fact(f"{where}.started_on", line.started_on.isoformat()))
    if line.ended_on is not None:
        facts.append(Fact(f"{where}.ended_on", line.ended_on.isoformat()))
    if line.best_response is not Response.unknown:
        facts.append(Fact(f"{where}.best_response", line.best_response))
    facts.append(_progression_fact(d, f"{where}.progressed", line))
    return facts


def _progression_fact(d: Derived, path: str, line: TherapyLine) -> Fact:
    """The fact of ``line``'s progression as an item shows it, at ``path``: as recorded,
    or, for an adjuvant line counted as progressed on from the dates
    (:func:`pecoma.engine.facts.count_relapse_during_adjuvant`), the derived fact saying
    so, never a 'yes' that was not entered. Every item showing a line's progression
    takes it from here."""
    counted = d.counted_progression(line)
    return counted if counted is not None else Fact(path, line.progressed)


def _line_named(i: int, line: TherapyLine) -> str:
    """A recorded line in words, as a question asked of it names it: its drug, then its
    place among the lines recorded (as the web form numbers them: "Therapy line 1") and
    what is recorded of it ("sirolimus (therapy line 1 of those recorded; line number 1;
    started 2024-02-01)"; an adjuvant course says so). Plain words: no field path."""
    said = [f"therapy line {i + 1} of those recorded"]
    if line.line is not None:
        said.append(f"line number {line.line}")
    if line.setting is TherapySetting.adjuvant:
        said.append("adjuvant")
    if line.started_on is not None:
        said.append(f"started {line.started_on.isoformat()}")
    return f"{agent_names((line.agent,))} ({'; '.join(said)})"


def _progressed_facts(line: TherapyLine, d: Derived) -> list[Fact]:
    """The line's agent and the fact of its progression: recorded as progressed, or as
    progression for best response, or counted so from a metastasis found during an
    adjuvant course (:func:`pecoma.engine.facts.count_relapse_during_adjuvant`)."""
    return [
        Fact("systemic.therapies.agent", line.agent),
        _progression_fact(d, "systemic.therapies.progressed", line)
        if line.progressed is YesNo.yes
        else Fact("systemic.therapies.best_response", "progression"),
    ]


def metastasectomy(case: Case, d: Derived, out: Collector) -> None:
    """Lung metastasectomy (S16, I5, I7) for recurrent or metastatic disease."""
    stage = case.stage
    status = d.status
    if status not in _RELAPSED or d.free_of_disease:
        return
    if status is DiseaseStatus.metastatic and not stage.metastases:
        out.missing("MISS-METASTASIS-DETAILS", affects=("REC-LUNG-METASTASECTOMY",))
        return
    lung = [
        t for m, t in zip(stage.metastases, d.timings, strict=True)
        if m.site is MetastasisSite.lung
    ]
    if not lung:
        return
    extrapulmonary = d.extrapulmonary
    feasible = stage.complete_excision_feasible
    facts: list[Fact] = []
    failed = False
    pending: list[tuple[str, tuple[str, ...]]] = []
    about: dict[str, tuple[str, ...]] = {}
    affects = ("REC-LUNG-METASTASECTOMY",)
    if Timing.metachronous in lung:
        facts.append(Fact("derived.lung_metastases", "metachronous"))
    elif all(t is Timing.synchronous for t in lung):
        facts.append(Fact("derived.lung_metastases", "synchronous"))
        failed = True
    else:
        pending += [(q, affects) for q in _timing_asked(d)]
        pending += [(q, affects) for q in _end_asked(d)]
    gross = gross_tumour_left(case)
    # a margin not recorded decides the interval whether it is given by the dates or
    # stated: a stated one may be counted from that resection too (I5)
    margin_open = gross is YesNo.unknown
    cleared = residue_cleared(case)
    if cleared is not None:
        # the gross tumour left was cleared without a further resection (radiotherapy,
        # an ablation, systemic treatment): free of disease from that day, which the
        # interval counts from; nothing left to ask of it (I5)
        facts += [*margin_facts(case), *cleared_facts(cleared)]
    if gross is YesNo.yes:
        # the primary's resection left gross tumour (not completed, or its completion
        # left R2 again): never free of disease, and the residue is disease
        # outside the lungs (I5, I18)
        facts += [*margin_facts(case),
                  Fact("derived.disease_free_interval_months", d.dfi_text)]
        if d.dfi_met is None:
            # an interval stated beside it (reaching the minimum): the tumour left may
            # have been cleared since without a resection (radiotherapy, systemic
            # treatment), not recorded (surgery.gross_residue_cleared). Not taken as met,
            # nor as not met: S16 waits on what cleared it, asked (I5)
            pending.append((CLEARED_ASKED, affects))
            about[CLEARED_ASKED] = (
                "the disease-free interval stated, "
                f"{number_text(d.dfi_months or 0)} months",)
        else:
            failed = True
    elif d.dfi_met is None and d.earlier_presentation:
        # metastases found at more than one presentation: the interval runs to the present
        # ones from the last curative treatment before them, perhaps the earlier
        # relapse's, which the primary's dates do not give; asked, whichever way those
        # dates fall (I5)
        facts += [*d.earlier_presentation, _INTERVAL_AFTER_RELAPSE]
        pending.append(("MISS-DFI-AFTER-RELAPSE", affects))
        pending += [(q, affects) for q in _end_asked(d)]
    elif d.dfi_met is None and Timing.synchronous in d.timings:
        # the first metastasis was there at presentation: the interval is 0 (I5, I7)
        facts.append(Fact("derived.disease_free_interval_months",
                          "0 (a metastasis present at presentation)"))
        failed = True
    elif d.dfi_met is None:
        pending.append(("MISS-DFI", affects))
        pending += [(q, affects) for q in _end_asked(d)]
    else:
        if d.earlier_presentation and d.dfi_source != "stated":
            facts += d.earlier_presentation  # at most the months to the latest found
        facts.append(Fact("derived.disease_free_interval_months",
                          f"{d.dfi_text}{_if_no_gross_tumour(case)}"
                          if margin_open and d.dfi_met else d.dfi_text))
        failed = failed or not d.dfi_met
        if d.dfi_met and d.dfi_source == "dates" and d.relapse_between \
                and stage.disease_free_interval_months is None:
            # counted from the primary while the facts point to a relapse treated in
            # between (metastases found 3 months or more after the first, or a line for
            # advanced disease begun before the first): that treatment would shorten it
            # (I5). Whatever the status label; a stated interval answers it.
            facts += d.relapse_between
            pending.append(("MISS-DFI-AFTER-RELAPSE", affects))
        if d.dfi_met and d.radiotherapy_end_open:
            # counted from the operation while adjuvant radiotherapy followed it (or may
            # have), its end not recorded: the interval from the end of curative
            # treatment is shorter and may fall short of the minimum. Not taken as met:
            # S16 waits on the day the radiotherapy ended, asked (I5)
            facts += d.radiotherapy_end_open
            pending.append((RADIOTHERAPY_END_ASKED, affects))
            about[RADIOTHERAPY_END_ASKED] = (
                "adjuvant radiotherapy, recorded as given"
                if case.surgery.adjuvant_radiotherapy is YesNo.yes
                else "adjuvant radiotherapy, not recorded either way",)
    if margin_open and not failed:
        # the margin of the primary's resection (or of the resection that completed it)
        # is not recorded: it may have left gross tumour, and then the patient was never
        # free of disease (as for R2 above). Read neither way: S16 waits on it where the
        # interval would otherwise be met or is still to be known (I5)
        facts += margin_facts(case)
        pending.append((gross_tumour_question(case, d), affects))
    if case.surgery.status in NOT_REMOVED and case.primary_treatment_end is None:
        # the primary is in place (not removed, and no other treatment of it recorded as
        # ended): disease outside the lungs, and no end of treatment to count the interval
        # from; its removal with the metastases is S17's
        facts.append(Fact("surgery.status", case.surgery.status))
        failed = True
    listed = d.extrapulmonary_earlier or d.extrapulmonary_listed
    if stage.local_recurrence is YesNo.yes:
        # a local recurrence present now is disease outside the lungs: S16 is not met,
        # whatever else the record says of disease outside the lungs (I5)
        facts.append(Fact("stage.local_recurrence",
                          "yes: a local recurrence present now, disease outside the lungs"))
        failed = True
    elif listed:
        # metastases outside the lungs listed may have been removed or cleared since they
        # were found (at an earlier presentation, or with the lung metastases: a staged
        # metastasectomy, a complete response), so the recorded fact of disease present
        # now decides, and is asked when not recorded: never taken as absent, nor as
        # present (I5)
        facts += [f for f in listed if f not in facts]
        if extrapulmonary is YesNo.unknown:
            pending.append(("MISS-EXTRAPULMONARY-EARLIER" if d.extrapulmonary_earlier
                            else "MISS-EXTRAPULMONARY", affects))
        else:
            facts.append(Fact("stage.extrapulmonary_disease", extrapulmonary))
            failed = failed or extrapulmonary is YesNo.yes
    elif extrapulmonary is YesNo.unknown:
        pending.append(("MISS-EXTRAPULMONARY", affects))
    else:
        facts.append(Fact("derived.extrapulmonary_disease", extrapulmonary))
        failed = failed or extrapulmonary is YesNo.yes
    # the team's status "recurrent" beside the metastases listed commonly means a local
    # recurrence as well: disease outside the lungs, which the status read from the facts
    # (metastatic, I6) does not weigh and a recorded 'no' may not (the primary's bed left
    # aside). Unless disease outside the lungs is recorded as present, S16 waits on
    # whether a local recurrence is present too (asked, never assumed either way)
    recurrent = stage.status is DiseaseStatus.recurrent
    local = (recurrent and extrapulmonary is not YesNo.yes
             and stage.local_recurrence is YesNo.unknown)
    if recurrent and stage.local_recurrence is YesNo.no:
        # the team's answer: the recurrence is the metastases listed, so S16 is weighed as
        # for metastatic disease (I6), the status kept as recorded
        facts.append(Fact("stage.local_recurrence", (
            "no: no local recurrence present now beside the metastases listed, so S16 is "
            "applied as for metastatic disease (I6), the status 'recurrent' kept")))
    if local:
        facts.append(Fact("stage.status", (
            "recurrent, beside the metastases listed: a local recurrence may be present "
            "as well, disease outside the lungs"
            + ("; the disease outside the lungs recorded as absent does not settle it"
               if extrapulmonary is YesNo.no else ""))))
    # a metastasis suspected outside the lungs, neither confirmed nor excluded, is the
    # unknown that decides whether the disease is confined to the lungs: S16 waits on
    # it, a recorded 'no' not settling it (it may not weigh the lesion). A suspected
    # lung metastasis changes nothing here: confirmed, the disease is still confined
    # to the lungs
    outside = [m.site for m in stage.suspected_metastases
               if m.site is not MetastasisSite.lung and extrapulmonary is not YesNo.yes]
    if outside:
        facts.append(Fact("stage.suspected_metastases", (
            f"{suspected_sites(outside)}: suspected, neither confirmed nor excluded; "
            "confirmed, the disease is not confined to the lungs"
            + ("; the disease outside the lungs recorded as absent does not settle it"
               if extrapulmonary is YesNo.no else ""))))
    if feasible is YesNo.unknown:
        pending.append(("MISS-EXCISION-FEASIBLE", affects))
    else:
        facts.append(Fact("stage.complete_excision_feasible", feasible))
        failed = failed or feasible is YesNo.no
    if stage.resectable is YesNo.no:
        # Surgery cannot remove the current disease: not every focus can be excised.
        facts.append(Fact("stage.resectable", "no"))
        failed = True
    # the lung metastases may have been removed by an operation after they were found:
    # taken as present, provisional on the answer (I21)
    present = removal_asked(out, d, ())
    if failed:
        # recorded as beyond surgery: S17's "whenever possible" does not hold either
        beyond = stage.resectable is YesNo.no or feasible is YesNo.no
        out.add("REC-LUNG-METASTASECTOMY-NOT-POSSIBLE" if beyond
                else "REC-LUNG-METASTASECTOMY-NOT-MET", facts, present)
    elif pending or outside or local:
        ids = [out.missing(miss, affects=a, about=about.get(miss, ())) for miss, a in pending]
        if outside:
            ids.append(suspected_asked(out, outside, affects))
        if local:
            ids.append(out.missing("MISS-LOCAL-RECURRENCE", affects=affects))
        out.add("REC-LUNG-METASTASECTOMY-PENDING", facts, [*ids, *present])
    else:
        out.add("REC-LUNG-METASTASECTOMY", facts, present)


#: The question whether adjuvant radiotherapy was given after the resection of the
#: primary and the day it ended, asked when S16's interval counted from the operation
#: reaches the minimum but the end of curative treatment is not recorded (I5).
RADIOTHERAPY_END_ASKED = "MISS-ADJUVANT-RADIOTHERAPY-END"

#: The question whether, and how, the gross tumour left by the primary's resection was
#: removed or cleared, asked when an interval reaching S16's minimum is stated beside it
#: (I5).
CLEARED_ASKED = "MISS-GROSS-RESIDUE-CLEARED"


def _if_no_gross_tumour(case: Case) -> str:
    """Said of S16's interval counted from a resection of the primary whose margin, or
    whose completing resection's margin, is not recorded
    (:func:`pecoma.engine.facts.gross_tumour_left` unknown, I5)."""
    if case.surgery.completion is not None:
        return (" if the resection that completed the R2 one removed the gross tumour (its "
                "margin is not recorded; with gross tumour still left, R2, 0: never free "
                "of disease)")
    return (" if the resection of the primary left no gross tumour (its margin is not "
            "recorded; with gross tumour left, R2, 0: never free of disease)")

#: S16's interval when the metastases were found at more than one presentation and no
#: interval is stated (I5).
_INTERVAL_AFTER_RELAPSE = Fact(
    "derived.disease_free_interval_months",
    "unknown: the metastases were found at more than one presentation, so it runs to the "
    "present ones from the last curative treatment before them, perhaps the earlier "
    "relapse's, which the dates do not give (I5)")


def _timing_asked(d: Derived) -> tuple[str, ...]:
    """The questions on the timing of the metastases whose timing is unknown: for one
    found shortly after the end of the primary's curative treatment, whether it was
    present at presentation (its timing to record, I29); for any other, when it was
    found (I7)."""
    unknown = [i for i, t in enumerate(d.timings) if t is Timing.unknown]
    return (*(("MISS-METASTASIS-EARLY-TIMING",) if any(i in d.work_up for i in unknown)
              else ()),
            *(("MISS-METASTASIS-TIMING",) if any(i not in d.work_up for i in unknown)
              else ()))


def _end_asked(d: Derived) -> tuple[str, ...]:
    """The question that would date the end of curative treatment of the primary, when
    the case does not: none recorded at all (no surgery date either), or adjuvant
    treatment followed the surgery and its end is not recorded."""
    if d.anchor is None:
        return ("MISS-TREATMENT-END",)
    if d.treatment_end_not_before is not None:
        return ("MISS-ADJUVANT-END",)
    return ()


def referral(d: Derived, out: Collector) -> None:
    out.add("REC-REFER-TRIALS", [d.status_fact()])
