"""The coherence of a case: facts that contradict each other (a localized tumour with
metastases, a margin without surgery, dates out of order, a patient free of disease before
the facts of the disease), each reported with its field path, value and rule. Run by
:class:`~pecoma.case.Case`'s validator on every case built.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pecoma.case.values import (
    ClearedBy,
    DiagnosisMethod,
    DiseaseStatus,
    Margin,
    PrimarySite,
    PriorDiagnosis,
    RemissionBy,
    Response,
    SurgeryStatus,
    TherapySetting,
    Timing,
    YesNo,
)
from pecoma.dates import add_months, full_months_between, reached_months
from pecoma.errors import FieldIssue, show_value
from pecoma.numbers import number_text

if TYPE_CHECKING:
    from pecoma.case.model import Case, Completion, Metastasis, Surgery, TherapyLine

__all__ = [
    "WORK_UP_MONTHS",
    "Contradictions",
    "after_evaluation_date",
    "contradictions",
    "dated_facts",
    "relapse_after_free_of_disease",
]

# Enum members as module constants for the checks every case goes through: on Python 3.11
# reading a member off its class passes through the enum metaclass, several times slower.
_PERFORMED = SurgeryStatus.performed
_LOCALIZED = DiseaseStatus.localized
_METASTATIC = DiseaseStatus.metastatic
_LOCALLY_ADVANCED = DiseaseStatus.locally_advanced_unresectable
_METACHRONOUS, _SYNCHRONOUS = Timing.metachronous, Timing.synchronous
_ADVANCED_SETTING = TherapySetting.advanced
_ADJUVANT_SETTING = TherapySetting.adjuvant
_PROGRESSION = Response.progression
_NO = YesNo.no
_YES = YesNo.yes
_UNKNOWN = YesNo.unknown
_RECURRENT = DiseaseStatus.recurrent

#: A check of plausibility: a metastasis found at the staging work-up precedes the tissue
#: diagnosis by weeks, not years. A detection date more than this many months before
#: 'diagnosis.date' is refused as a likely data-entry error (a wrong year, or a different
#: tumour), not read as disease present at presentation.
STAGING_BEFORE_DIAGNOSIS_MONTHS = 6

#: Metastases found less than this many months after the first one found are of one
#: presentation, the staging work-up of the first (a CT, the PET/CT or biopsy that
#: confirms it): no relapse can have been found, treated, and followed by the scan that
#: found the later ones in between, the first scan after a treatment coming some 3 months
#: after it (S18). Dates this far apart or more may be a relapse treated in between (I5).
#: So too after the end of the primary's curative treatment: a metastasis found sooner
#: than this was found before the first surveillance scan, and may have been present at
#: presentation (I29).
WORK_UP_MONTHS = 3


#: What the refusal of a metastasis found after 'free_of_disease.since' says of it (see
#: :func:`relapse_after_free_of_disease`).
_PRESENT_AGAIN = "a metastasis found after that day means the disease is present again"


def relapse_after_free_of_disease(issue: FieldIssue) -> bool:
    """Whether ``issue`` refuses a metastasis found after 'free_of_disease.since' (a
    relapse after the disease-free period), for a caller to add how to record it its way
    (the registry import: :mod:`pecoma.registry.import_check`)."""
    return issue.path == "free_of_disease.since" and _PRESENT_AGAIN in issue.rule


def _completion_entered(completion: Completion) -> str:
    """A completing resection as entered, for a refusal to name: its date and margin."""
    day = completion.date.isoformat() if completion.date is not None else "not given"
    return f"date {day}, margin {completion.margin.value}"


def _first_diagnosed(case: Case) -> str:
    """What 'diagnosis.date' means for a tumour that carried another diagnosis first (a
    reclassified one, S24, S25): said beside the date checks, '' otherwise."""
    prior = case.diagnosis.prior_diagnosis
    if prior in (PriorDiagnosis.none, PriorDiagnosis.unknown):
        return ""
    return (f"; for a tumour first diagnosed as another ({prior.value.replace('_', ' ')}), "
            "'diagnosis.date' is the day it was first diagnosed under that diagnosis, not "
            "the day it was recognised as PEComa")


class Contradictions(ValueError):
    def __init__(self, issues: list[FieldIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


def _intolerance_issues(case: Case) -> list[FieldIssue]:
    """The team's judgement whether an intolerance is of the drug's class
    (``class_wide``) recorded where it means nothing, and 'mTOR inhibitors not
    contraindicated' beside an mTOR-inhibitor intolerance that rules every one out (I15):
    a 'no' recorded before the intolerance was known is not the team's judgement of it,
    which is recorded on the intolerance."""
    sysm = case.systemic
    issues: list[FieldIssue] = []
    for i, x in enumerate(sysm.intolerances):
        if x.class_wide is not _UNKNOWN and not x.drug_class:
            issues.append(FieldIssue(
                f"systemic.intolerances[{i}].class_wide", x.class_wide.value,
                f"must be 'unknown' (or left out) for '{x.agent.value}': whether an "
                "intolerance is of the drug's class is recorded only for an mTOR inhibitor "
                "(the mTOR inhibitors) and for an anthracycline or a regimen holding one "
                "(the anthracyclines)"))
    if sysm.mtor_inhibitor_contraindicated is not _NO or not sysm.mtor_class_ruled_out:
        return issues
    if sysm.mtor_each_ruled_out and not any(
            sysm.intolerances[i].class_wide is _YES for i in sysm.mtor_not_tolerated):
        listed = ", ".join(dict.fromkeys(
            f"'{sysm.intolerances[i].agent.value}'" for i in sysm.mtor_not_tolerated))
        issues.append(FieldIssue(
            "systemic.mtor_inhibitor_contraindicated", "no",
            f"contradicts the intolerances recorded: {listed} not tolerated rule out every "
            "mTOR inhibitor between them (sirolimus and nab-sirolimus are one drug, I15), "
            "whatever is recorded on each; leave it unknown (or 'yes'), or correct "
            "'systemic.intolerances'"))
        return issues
    unjudged = sysm.mtor_tolerated is None
    for i in sysm.mtor_not_tolerated:
        x = sysm.intolerances[i]
        if x.class_wide is _YES:
            issues.append(FieldIssue(
                f"systemic.intolerances[{i}].class_wide", "yes",
                f"records the intolerance of '{x.agent.value}' as of the class (every mTOR "
                "inhibitor ruled out, I15), which contradicts "
                "'systemic.mtor_inhibitor_contraindicated' 'no'; correct one of them"))
        elif x.class_wide is _UNKNOWN and unjudged:
            issues.append(FieldIssue(
                f"systemic.intolerances[{i}].agent", x.agent.value,
                "is an mTOR inhibitor: an intolerance to one rules every mTOR inhibitor out "
                "(I15) unless the team records it as of that drug alone or the latest "
                "mTOR-inhibitor line recorded is of another one, not itself listed "
                "(sirolimus and nab-sirolimus are one drug); neither is recorded, which "
                "contradicts 'systemic.mtor_inhibitor_contraindicated' 'no'. If the team "
                "judges the intolerance of that drug alone, record "
                f"'systemic.intolerances[{i}].class_wide' 'no' (the other mTOR inhibitors "
                "are then offered); if of the class, correct "
                "'systemic.mtor_inhibitor_contraindicated'; or record the line of the mTOR "
                "inhibitor the patient tolerates"))
    return issues


def contradictions(case: Case) -> list[FieldIssue]:
    issues: list[FieldIssue] = []

    def add(path: str, value: object, rule: str) -> None:
        issues.append(FieldIssue(path, show_value(value), rule))

    stage = case.stage
    surgery = case.surgery
    status = stage.status
    site = case.tumour.primary_site
    if case.tumour.cervix is _YES and site is not PrimarySite.uterus:
        add(
            "tumour.cervix",
            "yes",
            f"contradicts 'tumour.primary_site' '{site.value}': the uterine cervix is part "
            "of the uterus, so a primary that arose in it is recorded as 'uterus' (with "
            "'tumour.cervix' 'yes'); correct one of them",
        )
    surgery_status = surgery.status
    performed = surgery_status is _PERFORMED
    if status is _LOCALIZED:
        if stage.metastases:
            add(
                "stage.metastases",
                [m.site.value for m in stage.metastases],
                "must be empty when 'stage.status' is 'localized' (distant metastases make "
                "the disease metastatic): remove them, or change 'stage.status'",
            )
        if stage.extrapulmonary_disease is YesNo.yes:
            add(
                "stage.extrapulmonary_disease",
                "yes",
                "must not be 'yes' when 'stage.status' is 'localized'",
            )
        if stage.local_recurrence is YesNo.yes:
            add(
                "stage.local_recurrence",
                "yes",
                "must not be 'yes' when 'stage.status' is 'localized': a local recurrence "
                "is a recurrence; record the status 'recurrent', or correct this field",
            )
    if stage.local_recurrence is YesNo.yes and stage.extrapulmonary_disease is _NO:
        add(
            "stage.local_recurrence",
            "yes",
            "contradicts 'stage.extrapulmonary_disease' 'no': a local recurrence at the "
            "primary's site or bed is disease outside the lungs; record "
            "'stage.extrapulmonary_disease' 'yes', or correct this field",
        )
    if (status is _RECURRENT and stage.local_recurrence is _NO and not stage.metastases
            and stage.extrapulmonary_disease is _NO and case.free_of_disease is None):
        # a recurrence neither local, nor a metastasis listed, nor outside the lungs, the
        # patient not free of disease: no disease is recorded anywhere, and removing
        # "every focus present" (S17) would rest on nothing
        add(
            "stage.local_recurrence",
            "no",
            "leaves the recurrence of 'stage.status' 'recurrent' recorded nowhere: "
            "'stage.metastases' is empty and 'stage.extrapulmonary_disease' is 'no'. Record "
            "where it is ('stage.local_recurrence' 'yes' for one at the primary's site or "
            "bed, with 'stage.extrapulmonary_disease' 'yes'; a metastasis in "
            "'stage.metastases'), or, if it has been removed or cleared, 'free_of_disease'",
        )
    if stage.local_recurrence is YesNo.yes and case.free_of_disease is not None:
        # the field has no date that could place the recurrence before 'since'
        add(
            "stage.local_recurrence",
            "yes",
            "contradicts 'free_of_disease' (free of disease since "
            f"{case.free_of_disease.since.isoformat()}): 'yes' records a local recurrence "
            "present now. If it was treated and the patient has been free of disease "
            "since, 'free_of_disease' records that relapse: record 'no' here (or leave it "
            "out); if it is present now, remove 'free_of_disease' "
            "('free_of_disease.since' and 'free_of_disease.by') until it has been cleared",
        )
    if (status is not _LOCALIZED and stage.metastases and stage.resectable is YesNo.yes
            and stage.complete_excision_feasible is YesNo.no):
        add(
            "stage.complete_excision_feasible",
            "no",
            "contradicts 'stage.resectable' 'yes': if the metastatic foci cannot all be "
            "removed, surgery cannot remove the current disease; correct one of them",
        )
    if (status is not _LOCALIZED and stage.metastases and stage.resectable is _NO
            and stage.complete_excision_feasible is _YES
            and stage.extrapulmonary_disease is _NO
            and performed and surgery.final_margin is Margin.R0):
        add(
            "stage.resectable",
            "no",
            "contradicts 'stage.complete_excision_feasible' 'yes' beside "
            f"'stage.extrapulmonary_disease' 'no' and '{_margin_path(surgery)}' 'R0': the "
            "current disease is the metastatic foci in the lungs, which can all be removed, "
            "so surgery can remove it; correct one of them (whether the patient is fit for "
            "the operation is the team's decision on the advice, not a fact of the disease)",
        )
    if (
        status is _LOCALIZED
        and stage.resectable is YesNo.no
        and performed
        and surgery.final_margin is Margin.R0
    ):
        add(
            "stage.resectable",
            "no",
            f"contradicts '{_margin_path(surgery)}' 'R0' for localized disease (a "
            "completely resected tumour leaves no unresectable disease); leave "
            "'stage.resectable' out, or record the residual or recurrent disease with its status",
        )
    if status is _LOCALLY_ADVANCED and performed and surgery.final_margin in (
            Margin.R0, Margin.R1, Margin.uncertain):
        add(
            "stage.status",
            status.value,
            f"contradicts '{_margin_path(surgery)}' '{surgery.final_margin.value}' (a "
            "resection that leaves at most microscopic tumour leaves no unresectable, "
            "locally advanced disease); record 'localized' (with 'stage.resectable' 'no' "
            "when no re-excision is possible), or the R2 margin",
        )
    if status is _LOCALIZED and performed and surgery.final_margin in _NO_GROSS_LEFT:
        issues.extend(_progressed_after_resection(case))
    if status is _LOCALLY_ADVANCED and stage.resectable is YesNo.yes:
        add(
            "stage.resectable",
            "yes",
            "must not be 'yes' when 'stage.status' is 'locally_advanced_unresectable'",
        )
    if (performed and surgery.margin is not Margin.unknown
            and case.diagnosis.method is DiagnosisMethod.imaging_only):
        add(
            "diagnosis.method",
            "imaging_only",
            f"contradicts 'surgery.margin' '{surgery.margin.value}': a margin is read by "
            "pathology on the resection specimen, so the tumour has been examined on "
            "histology; record how the diagnosis now stands ('histology_with_ihc' or "
            "'histology_without_ihc', or 'unknown')",
        )
    completion = surgery.completion
    if completion is not None and not (performed and surgery.margin is Margin.R2):
        add(
            "surgery.completion",
            _completion_entered(completion),
            "records a resection completing an R2 one: it can only be given when "
            "'surgery.status' is 'performed' and 'surgery.margin' is 'R2' (got "
            f"'{surgery_status.value}', '{surgery.margin.value}'); record a single "
            "resection as the surgery itself",
        )
    if (completion is not None and completion.date is not None and surgery.date is not None
            and completion.date < surgery.date):
        add(
            "surgery.completion.date",
            completion.date.isoformat(),
            f"must not be before 'surgery.date' ({surgery.date.isoformat()}): it completes "
            "that resection",
        )
    issues += _residue_cleared_issues(case)
    if not performed:
        if surgery.adjuvant_radiotherapy is YesNo.yes:
            add(
                "surgery.adjuvant_radiotherapy",
                "yes",
                "adjuvant radiotherapy follows a resection: 'yes' can only be given when "
                f"'surgery.status' is 'performed' (got status '{surgery_status.value}'); "
                "leave it unknown, or record 'no'",
            )
        if surgery.margin is not Margin.unknown:
            add(
                "surgery.margin",
                surgery.margin.value,
                f"can only be given when 'surgery.status' is 'performed' "
                f"(got status '{surgery_status.value}')",
            )
        if surgery_status is not SurgeryStatus.planned and surgery.date is not None:
            add(
                "surgery.date",
                surgery.date.isoformat(),
                "can only be given when 'surgery.status' is 'performed' or 'planned'",
            )
    issues += _bound_issues(case)
    diagnosed = case.diagnosis.date
    first_diagnosed = _first_diagnosed(case)
    operated_on = surgery.date if performed else None
    if diagnosed and operated_on and operated_on < diagnosed:
        # The diagnosis date is when the tumour was first diagnosed (the resection
        # specimen included), so surgery before it is a data-entry error.
        add(
            "surgery.date",
            operated_on.isoformat(),
            f"must not be before 'diagnosis.date' ({diagnosed.isoformat()}): a tumour "
            "diagnosed on its resection specimen was diagnosed on the day of the surgery"
            + first_diagnosed,
        )
    end = case.primary_treatment_end
    if end and operated_on and end < operated_on:
        add(
            "primary_treatment_end",
            end.isoformat(),
            f"must not be before 'surgery.date' ({operated_on.isoformat()})",
        )
    done = completion.date if completion is not None and performed else None
    if end and done and end < done:
        add(
            "primary_treatment_end",
            end.isoformat(),
            f"must not be before 'surgery.completion.date' ({done.isoformat()})",
        )
    if end and diagnosed and end < diagnosed:
        add(
            "primary_treatment_end",
            end.isoformat(),
            f"must not be before 'diagnosis.date' ({diagnosed.isoformat()})",
        )
    mets = stage.metastases
    if case.free_of_disease is not None:
        issues.extend(_free_of_disease_issues(case, operated_on))
    issues.extend(_intolerance_issues(case))
    therapies = case.systemic.therapies
    if not mets and not therapies:
        return issues
    anchor = end if end is not None else operated_on
    # adjuvant treatment after the surgery, its end not recorded: the end of curative
    # treatment is on or after this day, not the surgery's (I5, I7)
    not_before = case.treatment_end_not_before
    earliest = add_months(diagnosed, -STAGING_BEFORE_DIAGNOSIS_MONTHS) if diagnosed else None
    # the day each metastasis was found, else the latest it can have been: found by that
    # day either way, so each check that it was found by a day holds for both
    found = [_found(m) for m in mets]
    # the primary was treated until this day at least: the end recorded, else the
    # completing resection's day (I7); adjuvant treatment whose end is not recorded began
    # before the first metastasis was found, and says nothing more
    treated = max([d for d in (anchor, case.treatment_end) if d is not None], default=None)
    at_presentation = [(i, f[0], f[1]) for i, f in enumerate(found)
                       if f and diagnosed and f[1] <= diagnosed]
    if status is _RECURRENT and at_presentation and len(at_presentation) == len(mets):
        # every metastasis listed was there by the diagnosis: present at presentation,
        # not disease that came back after treatment
        k, field, first = at_presentation[0]
        add(
            "stage.status",
            "recurrent",
            f"contradicts 'stage.metastases[{k}].{field}' "
            f"({first}), on or before 'diagnosis.date' ({diagnosed}): a metastasis "
            "found by the diagnosis was present at presentation, not a recurrence; use "
            "'metastatic', or correct the date",
        )
    for i, (met, f) in enumerate(zip(mets, found, strict=True)):
        path = f"stage.metastases[{i}]"
        if f is None:
            continue
        field, day = f
        if earliest and diagnosed and day < earliest:
            add(
                f"{path}.{field}",
                day.isoformat(),
                f"must be no more than {STAGING_BEFORE_DIAGNOSIS_MONTHS} months before "
                f"'diagnosis.date' ({diagnosed.isoformat()}), i.e. on or after "
                f"{earliest.isoformat()} (a check of plausibility: staging precedes the "
                "diagnosis by weeks); correct the date" + first_diagnosed,
            )
        # A metastasis may be found before the diagnosis date (the staging scan often
        # precedes the biopsy): it was there at presentation (I7), so never metachronous.
        if diagnosed and day <= diagnosed and met.timing is _METACHRONOUS:
            add(
                f"{path}.timing",
                "metachronous",
                f"contradicts '{field}' ({day.isoformat()}) on or before "
                f"'diagnosis.date' ({diagnosed.isoformat()}): a metastasis found by the "
                "diagnosis was present at presentation; use 'synchronous' or leave timing "
                "out, or correct the date",
            )
            continue
        if not (anchor and treated):
            continue
        if met.timing is _METACHRONOUS and day <= treated:
            add(
                f"{path}.{field}",
                day.isoformat(),
                "a metachronous metastasis must be detected after the primary was "
                + (f"treated (treatment ended {anchor.isoformat()})" if treated == anchor
                   else f"treated (treatment ended {treated.isoformat()}, with the "
                   "resection that completed the R2 one)")
                + ("" if met.detected_on else
                   ": recorded by that day, it was found by it, so synchronous (I7); leave "
                   "timing out, or correct the date"),
            )
        # recorded after the end of treatment, it may have been found before it: only the
        # day it was found contradicts a synchronous timing, and only from the first
        # surveillance scan on: found sooner, by the staging after the operation, it may
        # have been there at presentation (I29)
        if (met.timing is _SYNCHRONOUS and met.detected_on and met.detected_on > anchor
                and not not_before
                and reached_months(anchor, met.detected_on, WORK_UP_MONTHS)):
            add(
                f"{path}.timing",
                "synchronous",
                f"contradicts 'detected_on' {WORK_UP_MONTHS} months or more after the end "
                f"of primary treatment ({met.detected_on.isoformat()}, treatment ended "
                f"{anchor.isoformat()}): a metastasis found after the first surveillance "
                "scan is a relapse (I7, I29); use 'metachronous' or leave timing out",
            )
    stated_dfi = stage.disease_free_interval_months
    # metastases found at more than one presentation: the interval runs to the present
    # ones from the last curative treatment before them, perhaps an earlier relapse's (I5)
    presentations = stage.earlier_presentation
    if stated_dfi is not None and stated_dfi > 0 and presentations is None:
        # the interval runs to the first metastasis: none was there at presentation
        for i, (met, f) in enumerate(zip(mets, found, strict=True)):
            if f and diagnosed and f[1] <= diagnosed and anchor is None:
                add(
                    "stage.disease_free_interval_months",
                    stated_dfi,
                    f"contradicts 'stage.metastases[{i}].{f[0]}' "
                    f"({f[1].isoformat()}), on or before 'diagnosis.date' "
                    f"({diagnosed.isoformat()}): a metastasis present at presentation makes "
                    "the interval 0; correct one of them",
                )
            if met.timing is _SYNCHRONOUS:
                add(
                    f"stage.metastases[{i}].timing",
                    "synchronous",
                    "contradicts 'stage.disease_free_interval_months' "
                    f"({number_text(stated_dfi)} months): a metastasis present at presentation "
                    "makes the interval 0; correct one of them",
                )
    dated = [f[1] for f in found if f] if stated_dfi is not None else []
    exact = all(m.detected_on for m in mets)
    if stated_dfi is not None and anchor and presentations is not None:
        # an earlier relapse may have been treated before the present metastases: the
        # interval can be as long as the dates give to the latest one found, no longer
        j = presentations[1]
        last = found[j]  # dated: the presentations are told by the days
        to_latest = max(full_months_between(anchor, last[1]), 0) if last else 0
        if last and stated_dfi - to_latest >= 1:
            add(
                "stage.disease_free_interval_months",
                stated_dfi,
                f"contradicts the dates: they give {to_latest} whole months from the end "
                "of primary treatment to the latest metastasis "
                f"('stage.metastases[{j}].{last[0]}' {last[1].isoformat()}), and the "
                "interval, counted to the present metastases from the primary's "
                "treatment or from the treatment of an earlier relapse, cannot be "
                "longer; leave it out or correct it",
            )
    elif stated_dfi is not None and anchor and dated:
        by_dates = max(full_months_between(anchor, min(dated)), 0)
        # a shorter interval counts from the treatment of an earlier relapse (a local
        # recurrence, or metastases found before these), whatever the status label, or,
        # after adjuvant treatment whose end is not recorded, from that end (I5): the
        # dates, from the primary's treatment, give the longest it can be, and only a
        # longer one contradicts them; a metastasis known by the day it was recorded was
        # found by then, so the first came no later
        if stated_dfi - by_dates >= 1:
            add(
                "stage.disease_free_interval_months",
                stated_dfi,
                "contradicts the dates: "
                + (f"they give {by_dates} whole months from the end of primary treatment "
                   "to the first metastasis"
                   if exact else
                   "a metastasis was detected "
                   + (f"{by_dates} whole months after the end of primary treatment"
                      if min(dated) > anchor else "by the end of primary treatment")
                   + (" or earlier (by the day it was recorded, 'detected_on_or_before')"
                      if any(m.detected_on is None and m.detected_on_or_before
                             for m in mets) else "")
                   + ", so the first came no later")
                + ", and the interval cannot be longer (a shorter one counts from the "
                "treatment of an earlier relapse); leave it out or correct it",
            )
    seen: set[int] = set()
    for i, t in enumerate(therapies):
        if t.setting is _ADVANCED_SETTING and t.line is not None:
            if t.line in seen:
                add(
                    f"systemic.therapies[{i}].line",
                    t.line,
                    "must be unique among advanced-setting therapies",
                )
            seen.add(t.line)
        # the line began by its start, or with no start recorded by its end (a line that
        # ended before the operation began before it)
        begun = (("started_on", t.started_on) if t.started_on is not None
                 else ("ended_on", t.ended_on))
        if (t.setting is _ADJUVANT_SETTING and begun[1] and operated_on
                and begun[1] < operated_on):
            add(
                f"systemic.therapies[{i}].setting",
                _ADJUVANT_SETTING.value,
                f"contradicts 'systemic.therapies[{i}].{begun[0]}' "
                f"({begun[1].isoformat()}), before 'surgery.date' "
                f"({operated_on.isoformat()}): adjuvant treatment is given after the "
                "operation, and a line begun before it is not"
                + (" (one that ended before it began before it)"
                   if begun[0] == "ended_on" else "")
                + ". Record pre-operative "
                "(neoadjuvant) treatment with the setting 'advanced' (the case format has "
                "no neoadjuvant setting; a line begun before the resection is read as "
                "treatment of the tumour then in place, I17), and record in "
                "'tumour.features_before_systemic_therapy' whether the size and features "
                "entered are those before it; 'adjuvant' is for a line begun on or after "
                "'surgery.date'. Or correct the "
                + ("start" if begun[0] == "started_on" else "end")
                + " date or 'surgery.date'",
            )
        for name, when in (("started_on", t.started_on), ("ended_on", t.ended_on)):
            # a line for this tumour neither begins nor ends before it was diagnosed
            if when and diagnosed and when < diagnosed:
                add(
                    f"systemic.therapies[{i}].{name}",
                    when.isoformat(),
                    f"must not be before 'diagnosis.date' ({diagnosed.isoformat()})"
                    + first_diagnosed,
                )
        if t.ended_on and t.started_on and t.ended_on < t.started_on:
            add(
                f"systemic.therapies[{i}].ended_on",
                t.ended_on.isoformat(),
                f"must not be before 'systemic.therapies[{i}].started_on' "
                f"({t.started_on.isoformat()}): a line ends on or after the day it began; "
                "correct one of them",
            )
        if t.best_response is _PROGRESSION and t.progressed is _NO:
            add(
                f"systemic.therapies[{i}].progressed",
                "no",
                "contradicts 'best_response' 'progression'",
            )
    issues.extend(_line_order_issues(case))
    return issues


def _found(met: Metastasis) -> tuple[str, dt.date] | None:
    """The field and day a metastasis was found, else the latest it can have been (the
    day it was recorded); ``None`` when neither is given."""
    if met.detected_on is not None:
        return "detected_on", met.detected_on
    if met.detected_on_or_before is not None:
        return "detected_on_or_before", met.detected_on_or_before
    return None


def _line_order_issues(case: Case) -> list[FieldIssue]:
    """Advanced-setting lines numbered and dated: a line starts no earlier than a line of a
    lower number (line 2 started before line 1 is an entry error in one or the other, and
    which line came first decides the advice). Each line out of order is named once,
    against the latest-starting lower line it precedes."""
    dated = sorted(
        (t.line, t.started_on, i)
        for i, t in enumerate(case.systemic.therapies)
        if t.setting is _ADVANCED_SETTING and t.line is not None and t.started_on is not None
    )
    issues: list[FieldIssue] = []
    for k, (line, start, i) in enumerate(dated):
        before = [(s, n, j) for n, s, j in dated[:k] if n < line and s > start]
        if not before:
            continue
        s, n, j = max(before)
        issues.append(FieldIssue(
            f"systemic.therapies[{i}].started_on", start.isoformat(),
            f"must not be before 'systemic.therapies[{j}].started_on' ({s.isoformat()}), "
            f"the start of line {n}: line {line} starts no earlier than the lines numbered "
            "before it; correct the line numbers or the start dates",
        ))
    return issues


_CLEARABLE = (DiseaseStatus.recurrent, DiseaseStatus.metastatic,
              DiseaseStatus.locally_advanced_unresectable)


def _bound_issues(case: Case) -> list[FieldIssue]:
    """'surgery.date_on_or_before', the latest day a resection done can have been: only
    for an operation done, not beside its day, and not before the diagnosis (the
    operation, on or before it, would then precede the diagnosis its specimen dates)."""
    surgery = case.surgery
    latest = surgery.date_on_or_before
    if latest is None:
        return []
    path, shown = "surgery.date_on_or_before", latest.isoformat()
    if surgery.status is not _PERFORMED:
        return [FieldIssue(path, shown, (
            "is the latest day a resection done can have been: it can only be given when "
            f"'surgery.status' is 'performed' (got '{surgery.status.value}'); a planned "
            "operation's day is 'surgery.date'"))]
    if surgery.date is not None:
        return [FieldIssue(path, shown, (
            f"must not be given beside 'surgery.date' ({surgery.date.isoformat()}): the "
            "day of the operation is known; keep 'surgery.date' and leave "
            "'surgery.date_on_or_before' out"))]
    diagnosed = case.diagnosis.date
    if diagnosed is not None and latest < diagnosed:
        return [FieldIssue(path, shown, (
            f"must not be before 'diagnosis.date' ({diagnosed.isoformat()}): the "
            "operation was on or before this day, so before the diagnosis, while a tumour "
            "diagnosed on its resection specimen was diagnosed on the day of the surgery"
            + _first_diagnosed(case)))]
    return []


def _free_of_disease_issues(case: Case, operated_on: dt.date | None) -> list[FieldIssue]:
    """``free_of_disease`` marks the end of a relapse, or of unresectable locally advanced
    disease cleared without surgery (I8): only such a case can be free of disease after
    treatment, and not before the facts of its disease."""
    fod = case.free_of_disease
    assert fod is not None
    status = case.stage.status
    shown = show_value({"since": fod.since.isoformat(), "by": fod.by.value})
    if status not in _CLEARABLE:
        return [FieldIssue(
            "free_of_disease", shown,
            "can only be given when 'stage.status' is 'recurrent', 'metastatic' or "
            f"'locally_advanced_unresectable' (got 'stage.status' '{status.value}'): it "
            "records a patient free of disease after treatment of a relapse or of a tumour "
            "that could not be removed; a localized case is followed from "
            "'primary_treatment_end' (a tumour recorded as not resectable that treatment "
            "cleared without surgery is 'locally_advanced_unresectable')",
        )]
    if status is DiseaseStatus.locally_advanced_unresectable and fod.by is RemissionBy.surgery:
        return [FieldIssue(
            "free_of_disease.by", fod.by.value,
            "cannot be 'surgery' when 'stage.status' is 'locally_advanced_unresectable': a "
            "primary removed after downstaging is 'localized', with its surgery and "
            "'primary_treatment_end'",
        )]
    since = fod.since
    where = "free_of_disease.since"
    starts = [t.started_on for t in case.systemic.therapies if t.started_on is not None]
    if fod.by is RemissionBy.systemic_therapy and starts and min(starts) > since:
        return [FieldIssue(
            where, since.isoformat(),
            "is before every systemic therapy recorded (the first started "
            f"{min(starts).isoformat()}), while 'free_of_disease.by' says systemic therapy "
            "cleared the disease; correct the date, how, or the therapies' start dates",
        )]
    after = [
        FieldIssue(where, since.isoformat(),
                   f"contradicts 'systemic.therapies[{i}].{field}' '{value}', on a line "
                   f"started {t.started_on.isoformat()}, on or after it: a line on which the "
                   "disease progressed, or, for advanced disease, was measured responding "
                   "other than completely, shows disease present after the day the patient "
                   "was free of disease (I8); record the relapse ('stage.status', "
                   "'stage.metastases' with their 'detected_on'), and remove "
                   "'free_of_disease' or give the later day the patient was free of "
                   "disease again")
        for i, t in enumerate(case.systemic.therapies)
        if t.started_on is not None and t.started_on >= since
        # a line recorded as adjuvant is given with no disease known: its partial or
        # stable responses are written loosely, and only progression on it says the
        # disease came back, as after a localized resection (I8, I21)
        for field, value in _disease_said(
            t, (_PROGRESSION,) if t.setting is _ADJUVANT_SETTING else _MEASURED)
    ]
    completion = case.surgery.completion if operated_on is not None else None
    before: list[tuple[str, dt.date | None]] = [
        ("diagnosis.date", case.diagnosis.date),
        ("primary_treatment_end", case.primary_treatment_end),
        ("surgery.date", operated_on),
        ("surgery.completion.date", completion.date if completion is not None else None),
    ]
    treated = [
        FieldIssue(where, since.isoformat(),
                   f"must not be before '{path}' ({day.isoformat()}): it is the day a "
                   "relapse, or disease that could not be removed, was cleared, which comes "
                   "after the diagnosis and the primary's treatment")
        for path, day in before
        if day is not None and since < day
    ]
    found_later = [
        FieldIssue(where, since.isoformat(),
                   f"is before 'stage.metastases[{i}].detected_on' "
                   f"({m.detected_on.isoformat()}): 'free_of_disease' says the patient is "
                   f"free of disease now, and {_PRESENT_AGAIN} (a relapse after a "
                   "disease-free period). While "
                   "it is present, remove 'free_of_disease' ('free_of_disease.since' and "
                   "'free_of_disease.by'); once it has been cleared, give "
                   "'free_of_disease.since' the day it was (on or after "
                   f"{m.detected_on.isoformat()}); keep the day the metastasis was found")
        for i, m in enumerate(case.stage.metastases)
        if m.detected_on is not None and since < m.detected_on
    ]
    # known only by the latest day it can have been found: a day after 'since' leaves it
    # possibly found after it, when the patient would not be free of disease; the case
    # cannot hold both readings, so it is refused, saying how to record either
    maybe_later = [
        FieldIssue(where, since.isoformat(),
                   f"is before 'stage.metastases[{i}].detected_on_or_before' "
                   f"({m.detected_on_or_before.isoformat()}): the metastasis was found on or "
                   "before that day, so it may have been found after 'free_of_disease.since', "
                   f"and {_PRESENT_AGAIN}. If it was found on or before "
                   "'free_of_disease.since', give 'detected_on_or_before' no later than it "
                   "(or the day it was found, 'detected_on'); if it was found after, the "
                   "disease is present: remove 'free_of_disease' ('free_of_disease.since' and "
                   "'free_of_disease.by') while it is, and once it has been cleared give "
                   "'free_of_disease.since' the day it was")
        for i, m in enumerate(case.stage.metastases)
        if m.detected_on is None and m.detected_on_or_before is not None
        and since < m.detected_on_or_before
    ]
    return (treated + _gross_left_that_day(case, operated_on) + found_later + maybe_later
            + after)


def _gross_left_that_day(case: Case, operated_on: dt.date | None) -> list[FieldIssue]:
    """``free_of_disease.since`` on the day of the resection recorded as leaving gross
    tumour (an R2 margin with no completing resection recorded, or a completing resection
    that left R2 again): that operation ended with tumour left in place, so the patient
    was not free of disease that day, whatever ``free_of_disease.by`` says (I27). A later
    day is accepted: the tumour left may have been removed or cleared since, and the
    assessment keeps the R2 margin among its facts."""
    fod = case.free_of_disease
    assert fod is not None
    completion = case.surgery.completion
    if completion is None and case.surgery.margin is Margin.R2:
        day, margin = operated_on, "surgery.margin"
        recorded = ("and no completing resection is recorded ('surgery.completion': "
                    "'surgery.completion.date', 'surgery.completion.margin')")
        remedy = ("If a further resection removed the tumour left, record it as the "
                  "completing resection, with 'surgery.completion.date' and "
                  "'surgery.completion.margin' ('unknown' if not known); if the margin "
                  "was not R2, correct 'surgery.margin'")
    elif completion is not None and completion.margin is Margin.R2:
        day, margin = completion.date, "surgery.completion.margin"
        recorded = "(the completing resection left gross tumour again)"
        remedy = "If the completing resection's margin was not R2, correct it"
    else:
        return []
    if day is None or fod.since != day:
        return []
    return [FieldIssue(
        "free_of_disease.since", fod.since.isoformat(),
        f"contradicts '{margin}' 'R2' {recorded}: the resection of {day.isoformat()} "
        "left gross tumour in place, so the patient was not free of disease that day "
        f"('free_of_disease.by' '{fod.by.value}'). {remedy}; otherwise give "
        "'free_of_disease.since' the later day the patient was free of disease, or "
        "remove 'free_of_disease'")]


#: Responses measured only on disease present: a complete one is left out, being what
#: records often write for an uneventful course of treatment given with no disease left
#: (I21).
_MEASURED = (Response.partial, Response.stable, Response.progression)


def _disease_said(t: TherapyLine,
                  responses: tuple[Response, ...] = _MEASURED) -> list[tuple[str, str]]:
    """The field of a line, with its value, that shows disease present while the line was
    given: the disease progressed on it, or its best response is one of ``responses``;
    ``[]`` when none does."""
    if t.progressed is _YES:
        return [("progressed", "yes")]
    if t.best_response in responses:
        return [("best_response", t.best_response.value)]
    return []


#: Margins of a resection that left no gross tumour (an unknown margin may have).
_NO_GROSS_LEFT = (Margin.R0, Margin.R1, Margin.uncertain)


def _progressed_after_resection(case: Case) -> list[FieldIssue]:
    """Localized disease resected with no gross tumour left: a line started on or after
    the day of the resection on which the disease progressed (whatever its setting: an
    adjuvant line included) shows the disease came back, which 'localized' with that
    margin denies; so does a line given for advanced disease (a case file that leaves the
    setting out means advanced): either the disease came back and the case does not say
    so, or the line was adjuvant treatment, and the advice differs (S12-S17 against
    surveillance counted from the end of adjuvant treatment, I22). A line started before
    the resection treated the tumour then in place (I17), and one whose start or the
    resection's day is not recorded cannot be placed: neither is refused."""
    surgery = case.surgery
    completion = surgery.completion
    day = completion.date if completion is not None and completion.date else surgery.date
    if day is None:
        return []
    margin = _margin_path(surgery)
    resection = (f"on or after the resection of {day.isoformat()} ('{margin}' "
                 f"'{surgery.final_margin.value}')")
    issues: list[FieldIssue] = []
    for i, t in enumerate(case.systemic.therapies):
        if t.started_on is None or t.started_on < day:
            continue
        for field, value in _disease_said(t, (_PROGRESSION,)):
            issues.append(FieldIssue(
                "stage.status", "localized",
                f"contradicts 'systemic.therapies[{i}].{field}' '{value}', on a line "
                f"started {t.started_on.isoformat()}, {resection}: disease that progressed "
                "after an operation that left no gross tumour has come back; record the "
                "recurrence ('stage.status' 'recurrent', or 'metastatic' with "
                "'stage.metastases' and their 'detected_on'), or correct the line"))
        if t.setting is _ADVANCED_SETTING and not _disease_said(t, (_PROGRESSION,)):
            issues.append(FieldIssue(
                f"systemic.therapies[{i}].setting", _ADVANCED_SETTING.value,
                f"contradicts 'stage.status' 'localized': a line for advanced disease "
                f"({t.agent.value}, started {t.started_on.isoformat()}) {resection} means "
                "either the disease came back, which the case does not record, or the line "
                "was given after the operation; record the recurrence ('stage.status' "
                "'recurrent', or 'metastatic' with 'stage.metastases' and their "
                "'detected_on'), or give the line's setting 'adjuvant' (a case file that "
                "leaves the setting out means 'advanced')"))
    return issues


def _margin_path(surgery: Surgery) -> str:
    """The field holding the margin the resections left."""
    return "surgery.completion.margin" if surgery.completion is not None else "surgery.margin"


def _residue_cleared_issues(case: Case) -> list[FieldIssue]:
    """``surgery.gross_residue_cleared`` records gross tumour left by the primary's
    resection cleared without a further one: it needs that resection recorded as
    performed with a final margin R2 (the first one's with no completing resection, or
    the completing resection's), and its day on or after the day of each operation."""
    surgery = case.surgery
    cleared = surgery.gross_residue_cleared
    if cleared is None:
        return []
    day = cleared.date.isoformat() if cleared.date is not None else "not given"
    if surgery.status is not SurgeryStatus.performed or surgery.final_margin is not Margin.R2:
        # the final margin at fault: the completing resection's when there is one
        if surgery.status is not SurgeryStatus.performed:
            fault = (f"'surgery.status' is 'performed' (got '{surgery.status.value}') and "
                     "'surgery.margin' is 'R2'")
        elif surgery.completion is not None:
            fault = ("the completing resection left gross tumour: "
                     "'surgery.completion.margin' is 'R2' (got "
                     f"'{surgery.completion.margin.value}'); if the completing resection "
                     "removed the tumour, leave this empty")
        else:
            fault = (f"the resection left gross tumour: 'surgery.margin' is 'R2' (got "
                     f"'{surgery.margin.value}'); a further resection that removed it is "
                     "recorded as the completing resection ('surgery.completion.date' and "
                     "'surgery.completion.margin')")
        return [FieldIssue(
            "surgery.gross_residue_cleared", show_value(f"date {day}, by {cleared.by.value}"),
            "records gross tumour left by the resection cleared without a further one: it "
            f"can only be given when {fault}")]
    issues: list[FieldIssue] = []
    if cleared.by is ClearedBy.radiotherapy and surgery.adjuvant_radiotherapy is _NO:
        issues.append(FieldIssue(
            "surgery.gross_residue_cleared.by", show_value(cleared.by.value),
            "contradicts 'surgery.adjuvant_radiotherapy' 'no': radiotherapy that cleared "
            "the tumour the resection left was given after it. Record "
            "'surgery.adjuvant_radiotherapy' 'yes' if it was, or correct "
            "'surgery.gross_residue_cleared.by' to how the tumour was cleared"))
    if cleared.date is None:
        return issues
    operations = [("surgery.date", surgery.date)]
    if surgery.completion is not None:
        operations.append(("surgery.completion.date", surgery.completion.date))
    return [*issues, *(FieldIssue("surgery.gross_residue_cleared.date", show_value(day),
                                  f"must not be before '{path}' ({when.isoformat()}): the "
                                  "tumour it records cleared was left by that operation")
                       for path, when in operations
                       if when is not None and cleared.date < when)]


def dated_facts(case: Case) -> list[tuple[str, dt.date]]:
    """Every date in the case with its field path (for checks against the evaluation date)."""
    out: list[tuple[str, dt.date]] = []
    if case.diagnosis.date:
        out.append(("diagnosis.date", case.diagnosis.date))
    if case.surgery.date and case.surgery.status is SurgeryStatus.performed:
        out.append(("surgery.date", case.surgery.date))
    if case.surgery.date_on_or_before:
        out.append(("surgery.date_on_or_before", case.surgery.date_on_or_before))
    completion = case.surgery.completion
    if completion is not None and completion.date is not None:
        out.append(("surgery.completion.date", completion.date))
    cleared = case.surgery.gross_residue_cleared
    if cleared is not None and cleared.date is not None:
        out.append(("surgery.gross_residue_cleared.date", cleared.date))
    if case.primary_treatment_end:
        out.append(("primary_treatment_end", case.primary_treatment_end))
    for i, met in enumerate(case.stage.metastases):
        if met.detected_on:
            out.append((f"stage.metastases[{i}].detected_on", met.detected_on))
        if met.detected_on_or_before:
            # the day it was recorded: known only from that day
            out.append((f"stage.metastases[{i}].detected_on_or_before",
                        met.detected_on_or_before))
    for i, t in enumerate(case.systemic.therapies):
        if t.started_on:
            out.append((f"systemic.therapies[{i}].started_on", t.started_on))
        if t.ended_on:
            out.append((f"systemic.therapies[{i}].ended_on", t.ended_on))
    if case.free_of_disease is not None:
        out.append(("free_of_disease.since", case.free_of_disease.since))
    return out


def after_evaluation_date(case: Case, on_date: dt.date) -> list[FieldIssue]:
    """An issue for each fact of ``case`` dated after the evaluation date ``on_date`` (it
    cannot have happened yet). The one check of the case's dates against the evaluation
    date: the engine makes it, and parsing makes it beside the case's other checks when
    the date is known (:func:`pecoma.case.parse_case`), so both are reported at once."""
    latest = case.latest_date
    if latest is None or latest <= on_date:
        return []
    return [
        FieldIssue(path, day.isoformat(), f"must not be after the evaluation date "
                   f"({on_date.isoformat()})")
        for path, day in dated_facts(case)
        if day > on_date
    ]

