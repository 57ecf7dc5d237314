"""Facts derived from a case: size in cm, metastasis timing, disease-free interval, stage,
and whether disease is present at all.

Derivations follow the documented interpretations (I5, I6, I7, I8); a fact that cannot be
derived stays ``None`` (unknown), never a default that looks like an answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

from pecoma.case import (
    WORK_UP_MONTHS,
    Agent,
    Case,
    ClearedBy,
    DiseaseStatus,
    GrossResidueCleared,
    Margin,
    Metastasis,
    MetastasisSite,
    NodeStatus,
    RemissionBy,
    Response,
    SizeUnit,
    SurgeryStatus,
    TherapyLine,
    TherapySetting,
    Timing,
    YesNo,
    case_timings,
    found_in_work_up,
    lines_in_order,
    mtor_ruled_out,
    opposed_judgements,
)
from pecoma.dates import add_months, full_months_between, reached_months
from pecoma.engine.model import Fact
from pecoma.numbers import number_text
from pecoma.settings import EngineSettings

if TYPE_CHECKING:
    from pecoma.engine.collect import Collector

__all__ = [
    "ANTHRACYCLINE_INTOLERANCE",
    "END_NOT_COUNTED",
    "JUDGEMENTS_DIFFER",
    "MTOR_CONTRAINDICATED",
    "MTOR_RULED_OUT",
    "NOT_REMOVED",
    "PLANNED_PASSED",
    "RELAPSE_DURING_ADJUVANT",
    "Derived",
    "PrimaryBed",
    "advanced_question",
    "bed_after_clearance",
    "cleared_facts",
    "cleared_words",
    "count_relapse_during_adjuvant",
    "derive",
    "found_in_work_up",
    "gross_tumour_left",
    "gross_tumour_question",
    "judgements_differ",
    "margin_fact_of",
    "margin_facts",
    "mtor_intolerance",
    "operation_planned_while_free",
    "opposed_words",
    "planned_operation_passed",
    "planned_passed_asked",
    "progressed_on",
    "relapse_despite_recorded_no",
    "removal_asked",
    "residual_removed_asked",
    "residual_tumour",
    "residue_cleared",
    "size_text",
    "treatment_end_fact",
    "work_up_fact",
]



#: How S16's disease-free interval was reached: counted from the dates (or bounded by
#: them), stated by the team, 0 because the primary's resection left gross tumour (the
#: patient was never free of disease, I5), stated beside such a resection (the tumour
#: left may have been cleared since, neither its removal nor its clearance recorded: the
#: stated interval is shown, not taken as met, I5), or not known.
DfiSource = Literal["dates", "dates, at most", "stated", "gross tumour left",
                    "stated, gross tumour left", "unknown"]

#: S16's interval after a resection of the primary that left gross tumour (I5).
_NEVER_FREE = "0 (gross tumour left by the resection: never free of disease)"


class Derived(NamedTuple):
    #: The disease status the advice follows (I6): the recorded one unless the facts
    #: say otherwise (localized but not resectable; distant metastases listed).
    status: DiseaseStatus
    #: The recorded facts that made ``status`` differ from the recorded status.
    status_because: tuple[Fact, ...]
    size_cm: float | None
    size_text: str
    anchor: dt.date | None
    timings: tuple[Timing, ...]
    dfi_months: float | None
    dfi_source: DfiSource
    dfi_met: bool | None
    extrapulmonary: YesNo
    advanced: bool | None
    #: The mTOR-inhibitor line the disease progressed on, whatever line came after
    #: (:func:`_class_progression`).
    progressed_on_mtor: TherapyLine | None
    first_line: TherapyLine | None
    #: A relapsed patient free of disease again since this date (I8): no disease is
    #: present, so nothing is advised to resect or treat it; ``advanced`` is then False.
    free_since: dt.date | None = None
    #: Positive regional lymph nodes: high-risk surveillance whatever the risk group (I10).
    nodes_positive: bool = False
    #: The latest mTOR-inhibitor line, when it is recorded without saying whether the
    #: disease progressed on it and no line is recorded as progressed on: the first-line
    #: advice then holds only if it did not (see ``_lines``).
    mtor_progression_unknown: TherapyLine | None = None
    #: The anthracycline-based line the disease progressed on, whatever line came after
    #: (:func:`_class_progression`).
    progressed_on_anthracycline: TherapyLine | None = None
    #: The latest anthracycline-based line, when whether the disease progressed on it is
    #: not recorded (and none is recorded as progressed on).
    anthracycline_progression_unknown: TherapyLine | None = None
    #: Localized disease resected after a systemic therapy line started (or may have:
    #: ``_treated_before_resection``), while the features recorded are not said to be those
    #: from before it: the facts that say so. The features may understate the tumour
    #: (I17). Empty otherwise.
    treated_before_resection: tuple[Fact, ...] = ()
    #: The lines for advanced disease when which of them came first cannot be told
    #: (:func:`lines_in_order`: undated lines, or lines of the first start date not told
    #: apart; no line numbered 1): the first line is one of them, and ``first_line`` is
    #: ``None``. Empty otherwise.
    first_line_among: tuple[TherapyLine, ...] = ()
    #: The latest mTOR-inhibitor line, and the latest anthracycline-based line, whose
    #: progression is not recorded while the disease progressed on an earlier line of the
    #: same treatment (:func:`_latest_open`): it may be working now (I19).
    mtor_latest_open: TherapyLine | None = None
    anthracycline_latest_open: TherapyLine | None = None
    #: Adjuvant treatment followed the surgery and the end of curative treatment is not
    #: recorded: the earliest day it can be (:attr:`Case.treatment_end_not_before`). The
    #: interval and the metastases' timing are then not counted from ``anchor``.
    treatment_end_not_before: dt.date | None = None
    #: Metastatic disease whose metastases were all found by the day of an operation not
    #: recorded as leaving gross tumour (margin not R2), with no date free of disease
    #: recorded and nothing recorded that says disease is left (:func:`_removal_open`):
    #: the operation may have removed every known focus. The facts that say so; empty
    #: otherwise. Disease is taken as present meanwhile (I21), and the question is asked
    #: (``MISS-FREE-AFTER-OPERATION``; with the margin not recorded, it too).
    removal_open: tuple[Fact, ...] = ()
    #: What the mTOR inhibitors recorded as not tolerated rule out (I15,
    #: :func:`mtor_intolerance`): the derived fact, or ``None`` when none is recorded.
    mtor_intolerance: Fact | None = None
    #: The recorded facts that point to a relapse treated between the primary's
    #: treatment and metastases of one presentation (:func:`_relapse_between`), whatever
    #: the status label: the interval counted from the primary may then be too long (I5).
    #: Empty otherwise.
    relapse_between: tuple[Fact, ...] = ()
    #: The whole months the dates give from the end of the primary's treatment to the
    #: first metastasis, when a stated interval shorter than that is used over them (it
    #: counts from an earlier relapse's treatment, I5): shown beside the stated one, so
    #: that a discrepancy nothing else recorded explains is seen. ``None`` otherwise.
    dfi_by_dates: int | None = None
    #: Every metastasis outside the lungs listed was found at an earlier presentation
    #: than the lung metastases (:attr:`Stage.extrapulmonary_earlier`): the facts that
    #: say so. They may since have been removed or cleared, so ``extrapulmonary`` is the
    #: recorded fact, asked when not recorded (I5). Empty otherwise.
    extrapulmonary_earlier: tuple[Fact, ...] = ()
    #: Metastases outside the lungs listed, not all found at an earlier presentation:
    #: their sites and days. They may have been removed or cleared since (a staged
    #: metastasectomy, a complete response), so ``extrapulmonary`` is the recorded fact,
    #: asked when not recorded (I5). Empty otherwise.
    extrapulmonary_listed: tuple[Fact, ...] = ()
    #: The metastases listed were found at more than one presentation
    #: (:attr:`Stage.earlier_presentation`): the days of the first and of the latest.
    #: S16's interval runs to the present ones from the last curative treatment before
    #: them, which the primary's dates do not give (I5). Empty otherwise.
    earlier_presentation: tuple[Fact, ...] = ()
    #: The metastases (by index) found after the end of the primary's curative treatment
    #: but less than :data:`WORK_UP_MONTHS` after it, their timing not stated: each may
    #: have been found by the staging work-up after the operation, present at
    #: presentation, or be an early relapse; their timing is unknown and asked (I29),
    #: each with the fact saying so (:func:`work_up_fact`).
    work_up: tuple[int, ...] = ()
    #: Localized disease (no relapse recorded) resected more than
    #: :data:`POSTOPERATIVE_DECISION_MONTHS` months before the evaluation date: the day of
    #: the last resection and the months since. The decisions that follow the operation
    #: (re-excision of a margin not clear, adjuvant radiotherapy) belonged to that time:
    #: they are asked about and worded as decisions to confirm, not as actions due now
    #: (I30). Empty otherwise.
    postoperative_past: tuple[Fact, ...] = ()
    #: Intolerances of the same drug (sirolimus and nab-sirolimus one drug; a regimen
    #: counting for the drug of the class it holds) judged oppositely, one of the class,
    #: the other of that drug alone (:func:`judgements_differ`): the derived fact naming
    #: both and the safer reading taken, or ``None``.
    judgements_differ: Fact | None = None
    #: Gross tumour left by the primary's resection cleared without a further one
    #: (``surgery.gross_residue_cleared``, dated): what the interval counts from, in
    #: words (:func:`cleared_words`), said beside an interval the dates give; ``None``
    #: otherwise.
    counted_from_clearance: str | None = None
    #: S16's interval counted from the resection of the primary reaches the minimum, but
    #: adjuvant radiotherapy followed the resection (or may have: not recorded) and the
    #: end of curative treatment is not recorded: counted from the end of the
    #: radiotherapy (I5) the interval may fall short (:func:`_radiotherapy_end_open`).
    #: The fact saying so; empty otherwise.
    radiotherapy_end_open: tuple[Fact, ...] = ()
    #: The end of curative treatment the adjuvant lines give (the latest end of every
    #: line recorded as adjuvant, adjuvant radiotherapy recorded as not given), said in
    #: the derived fact (:attr:`Case.adjuvant_lines_end`); ``None`` otherwise.
    adjuvant_lines_end: dt.date | None = None
    #: The surgery recorded as planned for a day before the evaluation date
    #: (:func:`planned_operation_passed`): the fact that shows that day, ``None``
    #: otherwise. The operation is taken as not done meanwhile, and asked.
    planned_passed: Fact | None = None
    #: Adjuvant lines whose progression is not recorded while a metastasis was found
    #: during them, 3 months or more after their start and not stated synchronous
    #: (:func:`count_relapse_during_adjuvant`): each line, counted as progressed on, with
    #: the derived fact saying why, shown in place of its progression. Empty otherwise.
    relapse_during_adjuvant: tuple[tuple[TherapyLine, Fact], ...] = ()

    def facts(self) -> tuple[Fact, ...]:
        """The derived facts worth showing beside the assessment."""
        out = []
        if self.status_because:
            out.append(Fact("derived.disease_status", self.status))
        if self.size_cm is not None:
            out.append(_size_cm_fact(self.size_cm))
        if self.treatment_end_not_before is not None:
            out.append(Fact("derived.primary_treatment_end", "not recorded: adjuvant "
                            "treatment followed the surgery, so on or after "
                            f"{self.treatment_end_not_before.isoformat()}"))
        elif self.anchor is not None:
            out.append(treatment_end_fact(self.anchor, self.adjuvant_lines_end))
        for i, t in enumerate(self.timings):
            out.append(_timing_fact(i, t))
        if self.dfi_months is not None:
            out.append(Fact("derived.disease_free_interval_months", self.dfi_text))
        if self.free_since is not None:
            out.append(_free_fact(self.free_since))
        elif self.removal_open:
            out.append(_PRESENT_PROVISIONAL)
        out.append(_ADVANCED_FACT[self.advanced])
        if self.planned_passed is not None:
            out.append(self.planned_passed)
        if self.mtor_intolerance is not None:
            out.append(self.mtor_intolerance)
        if self.judgements_differ is not None:
            out.append(self.judgements_differ)
        out += [f for _t, f in self.relapse_during_adjuvant]
        return tuple(out)

    def counted_progression(self, line: TherapyLine) -> Fact | None:
        """The derived fact counting ``line`` as progressed on, a metastasis found within
        its adjuvant course; ``None`` when its progression is as recorded."""
        return next((f for t, f in self.relapse_during_adjuvant if t is line), None)

    def status_fact(self) -> Fact:
        """The disease status as a fact an item rests on: the recorded status, or the
        derived one when the facts changed it."""
        if self.status_because:
            return Fact("derived.disease_status", self.status)
        return Fact("stage.status", self.status)

    @property
    def relapsed(self) -> bool:
        """Recurrent or metastatic disease (by the derived status)."""
        return self.status in _RELAPSED

    @property
    def free_of_disease(self) -> bool:
        """A patient free of disease after treatment of a relapse or of unresectable
        locally advanced disease: no present disease (I8)."""
        return self.free_since is not None

    @property
    def dfi_text(self) -> str:
        if self.dfi_months is None:
            return "unknown"
        if self.dfi_by_dates is not None:
            return (f"{number_text(self.dfi_months)} months (stated, used over the "
                    f"{self.dfi_by_dates} months the dates give from the end of the "
                    "primary's treatment: it counts from the treatment of an earlier "
                    "relapse, I5; correct it if none was treated in between)")
        if self.counted_from_clearance is not None and self.dfi_source.startswith("dates"):
            return (f"{number_text(self.dfi_months)} months ({self.dfi_source}, "
                    f"{self.counted_from_clearance})")
        if self.dfi_source == "stated, gross tumour left" and self.dfi_met is False:
            return _dfi_text(self.dfi_months, "stated, gross tumour left, short")
        return _dfi_text(self.dfi_months, self.dfi_source)


def _size_cm_fact(size_cm: float) -> Fact:
    return Fact("derived.size_cm", number_text(size_cm))


def treatment_end_fact(anchor: dt.date | None, adjuvant_end: dt.date | None) -> Fact:
    """The derived end of curative treatment of the primary; when the adjuvant lines
    give it (:attr:`Case.adjuvant_lines_end`), said so (I5, I22)."""
    if anchor is None:
        return Fact("derived.primary_treatment_end", "unknown")
    if adjuvant_end is not None and adjuvant_end == anchor:
        return Fact("derived.primary_treatment_end",
                    f"{anchor.isoformat()} (the latest end of the adjuvant lines recorded, "
                    "adjuvant radiotherapy recorded as not given: I5, I22)")
    return Fact("derived.primary_treatment_end", anchor.isoformat())


def _timing_fact(i: int, timing: Timing) -> Fact:
    return Fact(f"derived.metastases[{i}].timing", timing)


def _free_fact(since: dt.date) -> Fact:
    return Fact("derived.disease_present", f"no: free of disease since {since.isoformat()}")


_PRESENT_PROVISIONAL = Fact(
    "derived.disease_present",
    "yes, taken as present: the operation came after the metastases were found, and "
    "whether it left the patient free of disease is not recorded (I21)")


def _dfi_text(months: float, source: str) -> str:
    if source == "gross tumour left":
        return _NEVER_FREE
    if source == "stated, gross tumour left":
        return (f"{number_text(months)} months (stated; the resection of the primary left "
                "gross tumour (R2) and neither a resection that removed it nor its "
                "clearance is recorded: not taken as met; a completing resection, if there "
                "was one, is recorded as the surgery's completion, tumour cleared otherwise "
                "(radiotherapy, an ablation, systemic treatment) as the gross residue "
                "cleared, with its day, I5)")
    if source == "stated, gross tumour left, short":
        return (f"{number_text(months)} months (stated; the resection of the primary left "
                "gross tumour (R2), what removed or cleared it not recorded: short of "
                "S16's interval either way, I5)")
    return f"{number_text(months)} months ({source})"


def size_text(value: float, unit: SizeUnit) -> str:
    """A size as the case gave it, e.g. ``5.1 cm``."""
    return f"{number_text(value)} {unit.value}"


_ADVANCED_FACT = {
    None: Fact("derived.advanced", "unknown"),
    True: Fact("derived.advanced", "yes"),
    False: Fact("derived.advanced", "no"),
}


def work_up_fact(i: int, met: Metastasis, anchor: dt.date) -> Fact:
    """The timing of a metastasis found within the work-up window after the end of
    curative treatment, its timing not stated (:func:`found_in_work_up`, I29)."""
    assert met.detected_on is not None
    days = (met.detected_on - anchor).days
    return Fact(f"derived.metastases[{i}].timing",
                f"unknown: found {met.detected_on.isoformat()}, {days} day"
                f"{'s' if days > 1 else ''} after the end of the primary's curative "
                f"treatment ({anchor.isoformat()}), before the first surveillance scan: it "
                "may have been present at presentation, found by the staging after the "
                "operation, or be an early relapse (I29)")


# Enum members read for every case, as module constants (on Python 3.11 reading a member
# off its class passes through the enum metaclass, several times slower).
_PERFORMED = SurgeryStatus.performed
_LUNG = MetastasisSite.lung
_YES, _NO, _UNKNOWN = YesNo.yes, YesNo.no, YesNo.unknown
_SYNCHRONOUS, _METACHRONOUS, _UNKNOWN_TIMING = (
    Timing.synchronous,
    Timing.metachronous,
    Timing.unknown,
)
_PROGRESSION = Response.progression
_ADVANCED_SETTING = TherapySetting.advanced
_MICROSCOPIC = (Margin.R1, Margin.uncertain)
_RELAPSED = frozenset({DiseaseStatus.recurrent, DiseaseStatus.metastatic})
_ADVANCED_BY_STATUS: dict[DiseaseStatus, bool | None] = {
    DiseaseStatus.localized: False,
    DiseaseStatus.metastatic: True,
    DiseaseStatus.locally_advanced_unresectable: True,
}


def derive(case: Case, settings: EngineSettings, on: dt.date | None = None) -> Derived:
    """The facts the rules read, derived from ``case``; ``on``, the evaluation date, when
    known (a line starting on or after it is no line before a resection recorded as
    done: :func:`_treated_before_resection`)."""
    stage = case.stage
    anchor = case.treatment_end
    # adjuvant treatment after the surgery, its end not recorded: nothing is counted from
    # the surgery as if it were the end of curative treatment (I5, I7)
    not_before = case.treatment_end_not_before
    counted_from = None if not_before is not None else anchor
    size = case.tumour.size
    mets = stage.metastases

    dfi_months: float | None = None
    dfi_source: DfiSource = "unknown"
    dfi_met: bool | None = None
    by_dates_shown: int | None = None
    minimum = settings.metastasectomy_min_dfi_months
    # metastases found at more than one presentation (I5): the interval runs to the present
    # ones from the last curative treatment before them, which the dates do not give
    presentations = stage.earlier_presentation if mets else None
    if mets:
        # the one timing rule, shared with the FHIR reader (pecoma.case.timing)
        timings = case_timings(case)
        # each metastasis's day, else the latest it can have been (the first found is then
        # known only to be no later: the interval counted to it is at most that)
        dated = [d for m in mets if (d := m.detected_on or m.detected_on_or_before)]
        bounded = any(m.detected_on is None for m in mets)
        # metastases outside the lungs may have been removed or cleared since they were
        # found: the recorded fact says whether disease outside the lungs is present now,
        # whatever their days (I5)
        outside = [i for i, m in enumerate(mets) if m.site is not _LUNG]
        earlier = stage.extrapulmonary_earlier
        earlier_facts = _earlier_facts(mets, earlier) if earlier and len(outside) == len(
            earlier) else ()
        listed_facts = (_outside_facts(mets, outside)
                        if outside and not earlier_facts else ())
    else:
        timings, dated = (), []
        bounded = False
        earlier_facts = listed_facts = ()
    extrapulmonary = stage.extrapulmonary_disease
    all_dated = bool(dated) and len(dated) == len(mets)
    stated = stage.disease_free_interval_months
    # An earlier relapse (a local recurrence, or metastases found before these) may have
    # been treated between the primary's treatment and these metastases, whatever the
    # status label, and S16's interval runs from the last curative treatment: a stated
    # interval shorter than the dates give counts from that treatment and is taken over
    # them (I5). A longer one is refused by the case's checks.
    by_dates = (max(full_months_between(counted_from, min(dated)), 0)
                if counted_from and all_dated and not bounded else None)
    # counted from the start of the adjuvant treatment, or to the latest day the first
    # metastasis can have been found, the interval is at most what the dates give: short
    # of the minimum, it is shorter still; reaching it, it is unknown (asked)
    start = counted_from or not_before
    at_most = (max(full_months_between(start, min(dated)), 0)
               if start and all_dated and by_dates is None
               and not reached_months(start, min(dated), minimum) else None)
    if presentations is not None:
        # the primary's dates bound the interval to the present metastases only by the
        # latest found: short of the minimum even so, it is not met; otherwise it is the
        # stated one (held to that bound by the case's checks), or unknown and asked
        latest = max(dated)
        if stated is not None:
            dfi_months = stated
            dfi_source = "stated"
            dfi_met = stated >= minimum
            by_dates_shown = by_dates if by_dates is not None and stated < by_dates else None
        elif start and not reached_months(start, latest, minimum):
            dfi_months = float(max(full_months_between(start, latest), 0))
            dfi_source = "dates, at most"
            dfi_met = False
    elif by_dates is not None and counted_from and (stated is None or stated >= by_dates):
        dfi_months = float(by_dates)
        dfi_source = "dates"
        dfi_met = reached_months(counted_from, min(dated), minimum)
    elif at_most is not None and (stated is None or stated >= at_most):
        dfi_months = float(at_most)
        dfi_source = "dates, at most"
        dfi_met = False
    elif stated is not None:
        dfi_months = stated
        dfi_source = "stated"
        dfi_met = dfi_months >= minimum
        # shorter than the dates give (a longer one is refused): say both (I5)
        by_dates_shown = by_dates
    # (cleared since without a further resection, none is left: the interval counts from
    # the day it was cleared, Case.treatment_end)
    cleared = residue_cleared(case)
    if mets and gross_tumour_left(case) is _YES:
        # the primary's resection left gross tumour (R2 not completed, or completed with
        # R2 again): that resection never made the patient free of disease, whatever the
        # dates give. A stated interval above 0 says the tumour left was removed or
        # cleared since (neither recorded: a clearance recorded leaves none,
        # gross_tumour_left 'no'): it is shown as stated, never taken as met while what
        # cleared the tumour is not recorded (S16 waits on it, asked), and short of the
        # minimum it is not met either way. One value for the interval, in the derived facts and in
        # S16's item alike (I5)
        if stated is not None and stated > 0:
            dfi_months, dfi_source, by_dates_shown = stated, "stated, gross tumour left", None
            dfi_met = None if stated >= minimum else False
        else:
            dfi_months, dfi_source, dfi_met, by_dates_shown = (
                0.0, "gross tumour left", False, None)

    therapies = case.systemic.therapies
    progressed, first_line, mtor_unknown, first_among = (
        _lines(therapies) if therapies else (None, None, None, ()))

    status, because = _status(case)
    free = case.free_of_disease
    # the case's checks admit it only after a relapse or unresectable disease (I8)
    free_since = free.since if free is not None else None
    advanced: bool | None
    if free_since is not None:
        # I8: free of disease again, no disease is present to be advanced.
        advanced = False
    elif status is DiseaseStatus.localized and _residue_resectability_unknown(case):
        # gross tumour left whose resectability is not recorded: if surgery cannot
        # remove it, it is locally advanced disease (I6); unknown, not "no"
        advanced = None
    elif status in _ADVANCED_BY_STATUS:
        advanced = _ADVANCED_BY_STATUS[status]
    else:  # recurrent: advanced when it cannot be resected
        r = stage.resectable
        advanced = None if r is _UNKNOWN else r is _NO

    treated = (_treated_before_resection(case, on)
               if status is DiseaseStatus.localized else ())
    mtor_lines = [t for t in therapies if t.agent.is_mtor_inhibitor]
    chemo_lines = [t for t in therapies if t.agent.is_anthracycline_based]

    return Derived(
        status,
        because,
        None if size is None else size.cm,
        "unknown" if size is None else size_text(size.value, size.unit),
        anchor,
        timings,
        dfi_months,
        dfi_source,
        dfi_met,
        extrapulmonary,
        advanced,
        progressed,
        first_line,
        free_since,
        stage.lymph_nodes is NodeStatus.positive,
        mtor_unknown,
        *_class_progression(chemo_lines),
        treated,
        first_among,
        # the order of the lines of a class never decides: after progression on any of
        # them the guideline is silent (:func:`_class_progression`)
        _latest_open(mtor_lines),
        _latest_open(chemo_lines),
        not_before,
        _removal_open(case, status, timings) if free_since is None else (),
        mtor_intolerance(case),
        _relapse_between(case, counted_from)
        if counted_from is not None and by_dates is not None and presentations is None
        else (),
        by_dates_shown,
        earlier_facts,
        listed_facts,
        tuple(_found_fact(i, mets[i]) for i in presentations) if presentations else (),
        tuple(i for i, (m, t) in enumerate(zip(mets, timings, strict=True))
              if t is _UNKNOWN_TIMING and found_in_work_up(m, counted_from)),
        _postoperative_past(case, status, on),
        judgements_differ(case),
        cleared_words(cleared) if cleared is not None and cleared.date is not None else None,
        _radiotherapy_end_open(case, counted_from, dated, minimum)
        if dfi_source == "dates" and dfi_met and stated is None else (),
        case.adjuvant_lines_end,
        planned_operation_passed(case, on),
    )


#: The months after the operation by which a course of adjuvant radiotherapy has ended:
#: it begins once the wound has healed, by 6 months at the latest
#: (:data:`POSTOPERATIVE_DECISION_MONTHS`, I30), and runs 5-7 weeks.
ADJUVANT_RADIOTHERAPY_END_MONTHS = 8


def _radiotherapy_end_open(case: Case, counted_from: dt.date | None,
                           dated: Sequence[dt.date], minimum: int) -> tuple[Fact, ...]:
    """For S16's interval counted from the resection of the primary (``counted_from``) to
    the first metastasis, reaching ``minimum`` months: the fact that adjuvant
    radiotherapy followed the resection, or may have (not recorded), while the end of
    curative treatment is not recorded. The interval runs from the end of the
    radiotherapy (I5), so the months from the operation are only an upper bound; asked
    unless they reach ``minimum`` plus :data:`ADJUVANT_RADIOTHERAPY_END_MONTHS`, which no
    course of radiotherapy brings under the minimum. Empty otherwise."""
    surgery = case.surgery
    given = surgery.adjuvant_radiotherapy
    cleared = surgery.gross_residue_cleared
    if (counted_from is None or not dated or case.primary_treatment_end is not None
            # counted from the day gross tumour left was cleared, not from the operation
            or (cleared is not None and cleared.date is not None)
            or surgery.status is not _PERFORMED or given is _NO
            or reached_months(counted_from, min(dated),
                              minimum + ADJUVANT_RADIOTHERAPY_END_MONTHS)):
        return ()
    months = full_months_between(counted_from, min(dated))
    said = ("yes, its end not recorded" if given is _YES
            else "unknown: whether adjuvant radiotherapy was given is not recorded")
    return (Fact("surgery.adjuvant_radiotherapy", (
        f"{said}; the disease-free interval runs from the end of curative treatment, "
        f"adjuvant radiotherapy included (I5): the {months} months counted from the "
        f"operation ({counted_from.isoformat()}) are at most the interval, which counted "
        f"from the end of a course of radiotherapy may fall short of {minimum} months")),)


#: The months after the last resection of a localized primary within which the decisions
#: that follow it (re-excision of a margin not clear, adjuvant radiotherapy, S03, S10) are
#: taken (I30): radiotherapy starts once the wound has healed, some 4-8 weeks after the
#: operation, and a re-excision within weeks; by 6 months both are given or set aside.
POSTOPERATIVE_DECISION_MONTHS = 6


def _postoperative_past(case: Case, status: DiseaseStatus,
                        on: dt.date | None) -> tuple[Fact, ...]:
    """The day of the last resection of a localized primary and the months since, when
    more than :data:`POSTOPERATIVE_DECISION_MONTHS` months lie between it and the
    evaluation date ``on`` (I30); empty otherwise (no relapse may be recorded: the derived
    status is localized). A resection known only by the latest day it can have been
    (``surgery.date_on_or_before``) is past when that day is: the months are then "at
    least" those; a day within the months leaves it possibly recent, not past (its day
    is asked, MISS-TREATMENT-END)."""
    surgery = case.surgery
    if on is None or status is not DiseaseStatus.localized \
            or surgery.status is not SurgeryStatus.performed:
        return ()
    completion = surgery.completion
    path, day, at_least = (("surgery.completion.date", completion.date, "")
                           if completion is not None and completion.date is not None
                           else ("surgery.date", surgery.date, ""))
    if day is None and completion is None and surgery.date_on_or_before is not None:
        path, day, at_least = "surgery.date_on_or_before", surgery.date_on_or_before, \
            "at least "
    if day is None or on <= add_months(day, POSTOPERATIVE_DECISION_MONTHS):
        return ()
    return (Fact(path, day.isoformat()),
            Fact("derived.months_since_resection",
                 f"{at_least}{full_months_between(day, on)} months"))


def _earlier_facts(mets: Sequence[Metastasis], earlier: Sequence[int]) -> tuple[Fact, ...]:
    """The metastases outside the lungs found at an earlier presentation (their site and
    day), and the day of the latest lung metastasis they came 3 months or more before
    (I5): each the day it was found, else the day it was recorded."""
    out: list[Fact] = []
    for i in earlier:
        out += [Fact(f"stage.metastases[{i}].site", mets[i].site), _found_fact(i, mets[i])]
    _, j = max((d, i) for i, m in enumerate(mets)
               if m.site is _LUNG and (d := m.detected_on or m.detected_on_or_before))
    out.append(_found_fact(j, mets[j]))
    return tuple(out)


def _outside_facts(mets: Sequence[Metastasis], outside: Sequence[int]) -> tuple[Fact, ...]:
    """The metastases outside the lungs listed: the site of each and the day it was found,
    else the day it was recorded, when either is given."""
    out: list[Fact] = []
    for i in outside:
        out.append(Fact(f"stage.metastases[{i}].site", mets[i].site))
        if mets[i].detected_on or mets[i].detected_on_or_before:
            out.append(_found_fact(i, mets[i]))
    return tuple(out)


def _found_fact(i: int, met: Metastasis) -> Fact:
    """The day metastasis ``i`` was found, else the latest it can have been."""
    if met.detected_on is not None:
        return Fact(f"stage.metastases[{i}].detected_on", met.detected_on.isoformat())
    return Fact(f"stage.metastases[{i}].detected_on_or_before",
                str(met.detected_on_or_before))


def _relapse_between(case: Case, counted_from: dt.date) -> tuple[Fact, ...]:
    """The recorded facts that point to a relapse treated between the end of the
    primary's treatment (``counted_from``) and metastases of one presentation, every one
    of them dated (I5): a line of treatment for advanced disease started after the
    primary's treatment and before the first metastasis listed was found (disease was
    being treated before it). ``()`` when none does. (Metastases found at more than one
    presentation are :attr:`Derived.earlier_presentation`.)"""
    first, i = min((m.detected_on, i) for i, m in enumerate(case.stage.metastases)
                   if m.detected_on is not None)
    line = next(((k, t.started_on) for k, t in enumerate(case.systemic.therapies)
                 if t.setting is _ADVANCED_SETTING and t.started_on is not None
                 and counted_from < t.started_on < first), None)
    if line is None:
        return ()
    k, started = line
    return (Fact(f"stage.metastases[{i}].detected_on", first.isoformat()),
            Fact(f"systemic.therapies[{k}].setting", _ADVANCED_SETTING),
            Fact(f"systemic.therapies[{k}].started_on", started.isoformat()))


#: Margins after which the resection left no gross tumour: what may be left is
#: microscopic at most (R1; uncertain, the doubt between R0 and R1 of a close margin, I6).
_NO_GROSS_LEFT = (Margin.R0, Margin.R1, Margin.uncertain)


def gross_tumour_left(case: Case) -> YesNo | None:
    """Whether the resection of the primary left gross tumour, the one rule every item
    that rests on it follows: ``yes`` for an R2 margin not completed, or completed by a
    resection that left R2 again: the patient was never free of disease (S16's interval
    is 0, I5), and the residue is present disease (I18); ``no`` for R0, R1 or uncertain,
    the completing resection's when one is recorded (what may be left is microscopic at
    most); ``unknown`` when the margin that decides it is not recorded, the primary's or
    that of a completing resection (done to remove the gross tumour the first left, it
    may have): it is asked (:func:`gross_tumour_question`) and the items that would
    differ wait on it, each on its safer branch meanwhile, never read as gross tumour
    left nor as none left. A disease-free interval stated by the team does not answer it:
    it may be counted from the resection whose margin is not recorded, as the dates would
    be, and advice follows the facts whichever way the interval was entered (I5); a
    stated interval of more than 0 months beside gross tumour left is shown, not taken
    as met (what cleared the tumour left is asked, :func:`derive`). ``no`` too for gross
    tumour left and recorded as cleared without a further resection
    (:func:`residue_cleared`): none is left now, the patient free of disease from the day
    it was cleared. ``None`` when no resection of the primary is recorded as performed."""
    surgery = case.surgery
    if surgery.status is not _PERFORMED:
        return None
    completion = surgery.completion
    margin = surgery.margin if completion is None else completion.margin
    if margin in _NO_GROSS_LEFT:
        return _NO
    if margin is Margin.R2:
        # cleared since without a further resection (radiotherapy, an ablation, systemic
        # treatment): none left now, free of disease from that day (I5)
        return _NO if surgery.gross_residue_cleared is not None else _YES
    return _UNKNOWN


_CLEARED_BY = {
    ClearedBy.radiotherapy: "by radiotherapy",
    ClearedBy.ablation: "by an ablation",
    ClearedBy.systemic_therapy: "by systemic therapy",
    ClearedBy.other: "by other means than a resection",
    ClearedBy.unknown: "without a resection (how is not recorded)",
}


def residue_cleared(case: Case) -> GrossResidueCleared | None:
    """The record that the gross tumour the primary's resection left (a final margin R2)
    was cleared without a further resection (radiotherapy, an ablation, systemic
    treatment): none is left now (:func:`gross_tumour_left` ``no``), the patient is free
    of disease from its day, the end of curative treatment S16's interval and the
    surveillance count from (:attr:`Case.treatment_end`, I5), what cleared it is not
    asked (``MISS-GROSS-RESIDUE-CLEARED``), and what may be left at the primary's bed is
    microscopic at most, worded so (:func:`bed_after_clearance`, I27). ``None`` when none
    is recorded."""
    surgery = case.surgery
    if surgery.status is not _PERFORMED or surgery.final_margin is not Margin.R2:
        return None
    return surgery.gross_residue_cleared


def cleared_facts(cleared: GrossResidueCleared) -> tuple[Fact, ...]:
    """The recorded clearance of the gross tumour the primary's resection left, as facts."""
    return (Fact("surgery.gross_residue_cleared.date",
                 cleared.date.isoformat() if cleared.date is not None else "unknown"),
            Fact("surgery.gross_residue_cleared.by", cleared.by))


def cleared_words(cleared: GrossResidueCleared) -> str:
    """What S16's interval counts from after such a clearance, in words (I5)."""
    day = cleared.date.isoformat() if cleared.date is not None else "a day not recorded"
    return (f"counted from {day}, the day the gross tumour the resection left (R2) was "
            f"cleared {_CLEARED_BY[cleared.by]}: free of disease from then, I5")


def gross_tumour_question(case: Case, d: Derived) -> str:
    """The question a margin not recorded raises where whether the resection of the
    primary left gross tumour decides an item (:func:`gross_tumour_left` ``unknown``):
    a completing resection's margin, ``MISS-COMPLETION-MARGIN`` for localized disease,
    ``MISS-PRIMARY-COMPLETION-MARGIN`` for recurrent or metastatic disease; else the
    primary's, ``MISS-MARGIN`` for localized disease (asked there for the re-excision
    too), ``MISS-PRIMARY-MARGIN`` for recurrent or metastatic disease (what it changes
    there is S16's interval, S11 and the surveillance after the operation)."""
    localized = d.status is DiseaseStatus.localized
    if case.surgery.completion is not None:
        return "MISS-COMPLETION-MARGIN" if localized else "MISS-PRIMARY-COMPLETION-MARGIN"
    return "MISS-MARGIN" if localized else "MISS-PRIMARY-MARGIN"


#: Responses that can only be measured on disease present when the line began, I21.
_ON_PRESENT_DISEASE = (Response.partial, Response.stable, Response.progression)


def _removal_open(case: Case, status: DiseaseStatus,
                  timings: tuple[Timing, ...]) -> tuple[Fact, ...]:
    """Metastatic disease, no date free of disease recorded, and an operation that may
    have removed every known focus: it is not recorded as leaving gross tumour of the
    primary (:func:`gross_tumour_left` no, or unknown: the margin is then asked too),
    every metastasis listed was found by its day (dated, or recorded, on or before
    it, or, where a date is missing, synchronous: present at presentation) or is of unknown timing
    (at least one found by it), and nothing recorded says disease was left: not the
    current disease recorded as beyond surgery (``stage.resectable`` or
    ``stage.complete_excision_feasible`` 'no'), no line started after the operation on
    which the disease progressed or was measured responding (a complete response
    included: disease was left by the operation, whether the line has since cleared it
    is ``free_of_disease``). The facts that say so;
    ``()`` otherwise (I21)."""
    stage = case.stage
    surgery = case.surgery
    if (status is not DiseaseStatus.metastatic or not stage.metastases
            or residue_cleared(case) is not None
            or gross_tumour_left(case) not in (_NO, _UNKNOWN)
            or _NO in (stage.resectable, stage.complete_excision_feasible)):
        return ()
    # the latest operation recorded: a completing resection's day when it is dated
    completion = surgery.completion
    day = completion.date if completion is not None and completion.date else surgery.date
    found: list[Fact] = []
    for i, (m, timing) in enumerate(zip(stage.metastases, timings, strict=True)):
        if m.detected_on is not None and day is not None:
            if m.detected_on > day:
                return ()  # found after the operation: it did not remove this one
            found.append(_found_fact(i, m))
        elif (m.detected_on_or_before is not None and day is not None
              and m.detected_on_or_before <= day):
            found.append(_found_fact(i, m))  # recorded by the operation: found by it
        elif timing is _SYNCHRONOUS:
            found.append(_timing_fact(i, timing))
        elif timing is _METACHRONOUS:
            return ()
    if not found:
        return ()
    for t in case.systemic.therapies:
        after = t.started_on is not None and day is not None and t.started_on >= day
        # a complete response too (disease that was there and has gone), but not on a line
        # recorded as adjuvant: records write an uneventful adjuvant course so
        measured = t.best_response in _ON_PRESENT_DISEASE or (
            t.best_response is Response.complete and t.setting is not TherapySetting.adjuvant)
        if after and (t.progressed is _YES or measured):
            return ()  # disease measured after the operation: it was left
    return (Fact("surgery.status", "performed"),
            Fact("surgery.date", day.isoformat() if day else "unknown"),
            margin_fact_of(case), *found,
            Fact("free_of_disease", "not recorded"))


#: The path of the derived fact naming an anthracycline recorded as not tolerated beside
#: an item proposing the other one, provisional on whether it rules out the class (I15).
ANTHRACYCLINE_INTOLERANCE = "derived.anthracycline_intolerance"

#: The paths of the derived facts of :func:`mtor_intolerance`.
MTOR_CONTRAINDICATED = "derived.mtor_inhibitor_contraindicated"
MTOR_RULED_OUT = "derived.mtor_inhibitors_ruled_out"


#: The path of the derived fact of :func:`judgements_differ`.
JUDGEMENTS_DIFFER = "derived.intolerance_judgements_differ"


def judgements_differ(case: Case) -> Fact | None:
    """Two intolerances of the same drug of a class (sirolimus and nab-sirolimus one
    drug, a regimen counting for the drug of the class it holds:
    :func:`pecoma.case.opposed_judgements`) that the team judges oppositely, one of the
    class ('yes'), the other of that drug alone ('no'), as a derived fact naming both and
    the reading taken: the safer one, of the class, meanwhile, as for a judgement not
    recorded, the question asked (MISS-MTOR-INTOLERANCE, MISS-ANTHRACYCLINE-INTOLERANCE,
    I15). ``None`` when there is none (a judgement beside one not recorded is no
    contradiction)."""
    said = [f"{opposed_words(case, i, j)}; read as of the class meanwhile, every "
            f"{_class_word(case, i)} ruled out, until the team records one judgement on "
            "both (asked; I15)" for i, j in opposed_judgements(case.systemic.intolerances)]
    return Fact(JUDGEMENTS_DIFFER, "; ".join(said)) if said else None


def opposed_words(case: Case, i: int, j: int) -> str:
    """Two intolerances judged oppositely (:func:`pecoma.case.opposed_judgements`), in
    words: what a question asked of them names."""
    listed = case.systemic.intolerances
    return (f"systemic.intolerances[{i}] ({_names([listed[i].agent])}) recorded as of the "
            f"class ('yes') and systemic.intolerances[{j}] ({_names([listed[j].agent])}) as "
            "of that drug alone ('no'), the same drug: the judgements contradict each other")


def _class_word(case: Case, i: int) -> str:
    return ("mTOR inhibitor" if case.systemic.intolerances[i].agent.is_mtor_inhibitor
            else "anthracycline")


def mtor_intolerance(case: Case) -> Fact | None:
    """What the mTOR inhibitors recorded as not tolerated rule out (I15), as a derived
    fact: every mTOR inhibitor (``derived.mtor_inhibitor_contraindicated``, when the team
    has not recorded the contraindication: an intolerance recorded as of the class,
    every mTOR inhibitor listed one by one, or one whose judgement is not recorded, no
    other mTOR inhibitor being shown tolerated),
    or only the drugs listed, each recorded as of that drug alone or another one being
    shown tolerated (``derived.mtor_inhibitors_ruled_out``), each with the agent that is
    the same drug (sirolimus and nab-sirolimus). ``None`` when no mTOR inhibitor is
    recorded as not tolerated, or the team recorded the contraindication 'yes' (the
    recorded fact says it all: every one is out, and no derived fact says otherwise)."""
    sysm = case.systemic
    listed = sysm.mtor_not_tolerated
    if not listed or sysm.mtor_inhibitor_contraindicated is YesNo.yes:
        return None
    agents = [sysm.intolerances[i].agent for i in listed]
    names = _names(agents)
    bad = mtor_ruled_out(agents)
    # the agent that is the same drug as one listed (sirolimus, nab-sirolimus): out too
    twins = sorted(bad - set(agents))
    # in words (a report shows the value as it is; the items name the recorded facts)
    tolerated = sysm.mtor_tolerated
    also = (f" and {_names(twins)}, the same drug (nab-sirolimus is sirolimus bound "
            "to albumin)" if twins else "")
    judged = [sysm.intolerances[i].class_wide for i in listed]
    if not sysm.mtor_class_ruled_out:
        if tolerated is None or all(j is YesNo.no for j in judged):
            why = ("the team records the intolerance as of that drug alone (not "
                   "class-wide, I15)")
        else:
            line = sysm.therapies[tolerated]
            why = (f"the latest mTOR-inhibitor line, of {_names([line.agent])}"
                   f"{_line_words(line)}, shows another one tolerated (I15)")
        return Fact(MTOR_RULED_OUT, (
            f"{names} only (recorded as not tolerated){also}, never proposed; not every "
            f"mTOR inhibitor: {why}"))
    if not sysm.mtor_contraindication_derived:
        return None
    opposed = {i for i, _j in opposed_judgements(sysm.intolerances)}
    of_class = [sysm.intolerances[i].agent for i in listed
                if sysm.intolerances[i].class_wide is YesNo.yes and i not in opposed]
    if of_class:
        return Fact(MTOR_CONTRAINDICATED, (
            f"yes: {_names(of_class)} recorded as not tolerated, the intolerance of the "
            "class as the team records it (class-wide), rules out every mTOR "
            "inhibitor (I15)"))
    differ = [sysm.intolerances[i].agent for i in listed if i in opposed]
    if differ and not sysm.mtor_each_ruled_out:
        return Fact(MTOR_CONTRAINDICATED, (
            f"yes: {_names(differ)} recorded as not tolerated; one record judges the "
            "intolerance of the class, another of that drug alone: the judgements "
            "contradict each other, so it is read as of the class meanwhile, every mTOR "
            "inhibitor ruled out (the safer reading, I15), until the team records one "
            "judgement on both (asked)"))
    if sysm.mtor_each_ruled_out:
        return Fact(MTOR_CONTRAINDICATED, (
            f"yes: {names} recorded as not tolerated{also}: between them every mTOR "
            "inhibitor, each ruled out by its own intolerance whatever is recorded of "
            "the class (I15)"))
    mtor_lines = [t for t in sysm.therapies if t.agent.is_mtor_inhibitor]
    # a line of the same drug as one listed is no other mTOR inhibitor tolerated
    given = sorted({t.agent for t in mtor_lines if t.agent in twins})
    one = (f" ({_names(given)} and {names} are one drug: nab-sirolimus is sirolimus "
           "bound to albumin)" if given else "")
    if not mtor_lines:
        why = "no line of another mTOR inhibitor is recorded"
    elif all(t.agent in bad for t in mtor_lines):
        why = f"every mTOR-inhibitor line recorded is of a drug not tolerated{one}"
    elif _latest_known(mtor_lines):
        why = ("the latest mTOR-inhibitor line is of a drug not tolerated" + one
               + ": another one given before it does not show the class tolerated since")
    else:
        why = ("which mTOR-inhibitor line is the latest cannot be told from the start "
               "dates or line numbers recorded: another one is not taken as tolerated "
               "since (the safer reading)")
    unjudged = _names(sysm.intolerances[i].agent for i in listed
                      if sysm.intolerances[i].class_wide is YesNo.unknown)
    return Fact(MTOR_CONTRAINDICATED, (
        f"yes: {unjudged} recorded as not tolerated rules out every mTOR inhibitor "
        f"(I15; whether the intolerance is of the class is not recorded); {why}"))


def _line_words(line: TherapyLine) -> str:
    """' (line 2, started 2024-03-20)', with what of it is recorded ('' if nothing)."""
    said = [f"line {line.line}" if line.line is not None else "",
            f"started {line.started_on.isoformat()}" if line.started_on is not None else ""]
    shown = ", ".join(w for w in said if w)
    return f" ({shown})" if shown else ""


def _names(agents: Iterable[Agent]) -> str:
    return ", ".join(dict.fromkeys(a.value.replace("_", "-") for a in agents))


def _latest_known(lines: list[TherapyLine]) -> bool:
    """Whether the latest of these lines can be told (:func:`lines_in_order`, no tie)."""
    groups = lines_in_order(lines)
    return groups is not None and len(groups[-1]) == 1


def _treated_before_resection(case: Case, on: dt.date | None = None) -> tuple[Fact, ...]:
    """The lines of systemic therapy that started before the resection of the primary, or
    may have (I17): a start date before the surgery date, or, for a line given for
    advanced disease, a start or surgery date not recorded (an adjuvant line comes after
    the operation by definition), unless it starts on or after the evaluation date ``on``
    (a resection recorded as done was done by then: a line starting that day, such as a
    draft order assessed as if given, is not before it). None when the case records
    that the size and features given describe the tumour before any systemic therapy."""
    surgery = case.surgery
    if surgery.status is not _PERFORMED or \
            case.tumour.features_before_systemic_therapy is _YES:
        return ()
    operated = surgery.date
    facts: list[Fact] = []
    for i, t in enumerate(case.systemic.therapies):
        start = t.started_on
        if start is not None and operated is not None:
            before = start < operated
        elif start is not None and on is not None and start >= on:
            before = False
        else:
            before = t.setting is _ADVANCED_SETTING
        if before:
            facts += [Fact(f"systemic.therapies[{i}].agent", t.agent),
                      Fact(f"systemic.therapies[{i}].started_on",
                           start.isoformat() if start else "unknown")]
    if facts:
        facts += [Fact("surgery.date", operated.isoformat() if operated else "unknown"),
                  Fact("tumour.features_before_systemic_therapy",
                       case.tumour.features_before_systemic_therapy)]
    return tuple(facts)


def _residue_resectability_unknown(case: Case) -> bool:
    """The resection of the primary left gross tumour (an R2 margin, the completing
    resection's when one is recorded: :attr:`~pecoma.case.model.Surgery.final_margin`)
    and whether surgery can remove it is not recorded: it is locally advanced disease if
    it cannot (I6), so whether the disease is advanced is unknown."""
    return (case.surgery.status is _PERFORMED and case.surgery.final_margin is Margin.R2
            and case.surgery.gross_residue_cleared is None
            and case.stage.resectable is _UNKNOWN)


def advanced_question(case: Case, d: Derived) -> str:
    """The question whose answer says whether the disease is advanced, when ``d`` does not
    tell (``d.advanced`` unknown): whether surgery can remove the gross tumour the
    resection of a localized primary left (``MISS-RESIDUAL-RESECTABLE``), else the
    current disease, recurrent (``MISS-RESECTABLE``)."""
    if d.status is DiseaseStatus.localized and _residue_resectability_unknown(case):
        return "MISS-RESIDUAL-RESECTABLE"
    return "MISS-RESECTABLE"


def _status(case: Case) -> tuple[DiseaseStatus, tuple[Fact, ...]]:
    """The status the advice follows (I6), and the facts that changed it, if any."""
    stage = case.stage
    recorded = stage.status
    if recorded is DiseaseStatus.localized and stage.resectable is _NO \
            and not _microscopic_residue(case):
        return DiseaseStatus.locally_advanced_unresectable, (Fact("stage.resectable", "no"),)
    if recorded is not DiseaseStatus.metastatic and stage.metastases:
        sites = ", ".join(m.site.value for m in stage.metastases)
        return DiseaseStatus.metastatic, (Fact("stage.metastases", sites),)
    return recorded, ()


def residual_tumour(case: Case) -> tuple[Fact, ...]:
    """Localized disease resected with an R2 margin, not recorded as beyond surgery: the
    facts that say macroscopic tumour was left (empty when none was). Residual tumour is
    present disease whatever its resectability: it is never followed on a surveillance
    calendar as if the patient were free of disease (recorded as not resectable it is
    locally advanced disease, I6, and ``_status`` says so). An end of primary treatment
    recorded after it is among these facts, said not to be counted from: it does not say
    that the tumour was removed (I18; :data:`END_NOT_COUNTED`)."""
    surgery = case.surgery
    stage = case.stage
    if (stage.status is not DiseaseStatus.localized or surgery.status is not _PERFORMED
            or surgery.margin is not Margin.R2 or stage.resectable is _NO
            or surgery.gross_residue_cleared is not None):
        # (cleared without a further resection: none left, surveillance counts from the
        # day it was cleared)
        return ()
    facts: tuple[Fact, ...] = (Fact("surgery.margin", Margin.R2),
                               Fact("stage.resectable", stage.resectable))
    completion = surgery.completion
    if completion is not None:
        if completion.margin in _REMOVED:
            # a further resection removed the gross tumour (what it left is microscopic
            # at most): surveillance counts from it
            return ()
        # left gross tumour again, or its margin is not recorded: the safer reading
        return (*facts, Fact("surgery.completion.margin", completion.margin))
    end = case.primary_treatment_end
    if end is not None:
        facts += (Fact(END_NOT_COUNTED, f"{end.isoformat()}, not counted from"),)
    return facts


#: Surgery statuses that say the primary has not been removed.
NOT_REMOVED = (SurgeryStatus.not_performed, SurgeryStatus.planned)


def planned_operation_passed(case: Case, on: dt.date | None) -> Fact | None:
    """The surgery recorded as planned for a day before the evaluation date ``on``: the
    fact that shows that day ("2023-02-14, planned, passed"), else ``None`` (no date, a
    day still to come or today, no evaluation date, or a patient recorded free of disease,
    whom ``MISS-OPERATION-PLANNED-WHILE-FREE`` asks about). A stale record: the operation
    was likely done, moved or dropped. It is taken as not done meanwhile (the tumour in
    place, its removal advised, no calendar counted from a day that may have removed
    nothing, I20) and asked (``MISS-PLANNED-OPERATION-PASSED``); never refused, as the
    evaluation date moves and a case valid the day before stays valid."""
    surgery = case.surgery
    if (on is None or surgery.status is not SurgeryStatus.planned or surgery.date is None
            or surgery.date >= on or case.free_of_disease is not None):
        return None
    return Fact("surgery.date", f"{surgery.date.isoformat()}, planned, passed")


#: The question a planned operation whose day the evaluation date has passed raises.
PLANNED_PASSED = "MISS-PLANNED-OPERATION-PASSED"


def planned_passed_asked(out: Collector, passed: Fact | None,
                         affects: Sequence[str]) -> tuple[str, ...]:
    """The question a planned operation whose day has passed raises (was it done, moved,
    or dropped?), asked of that day; ``()`` when there is none."""
    if passed is None:
        return ()
    day = str(passed.value).split(",", 1)[0]
    return (out.missing(PLANNED_PASSED, affects=affects,
                        about=(f"the operation planned for {day}",)),)


def primary_in_place(case: Case, on: dt.date | None = None) -> tuple[Fact, ...]:
    """Localized disease whose primary is recorded as not removed (surgery not performed,
    or planned) and not as beyond surgery: the facts that say the tumour is in place
    (empty otherwise). It is present disease: no surveillance calendar is drawn while it
    is, and an end of primary treatment recorded beside it is among these facts, said not
    to be counted from (I20; :data:`END_NOT_COUNTED`); so is the day of a planned
    operation the evaluation date ``on`` has passed (:func:`planned_operation_passed`)."""
    stage = case.stage
    if (stage.status is not DiseaseStatus.localized or stage.resectable is _NO
            or case.surgery.status not in NOT_REMOVED or case.free_of_disease is not None):
        return ()
    facts: tuple[Fact, ...] = (Fact("surgery.status", case.surgery.status),)
    passed = planned_operation_passed(case, on)
    if passed is not None:
        facts += (passed,)
    end = case.primary_treatment_end
    if end is not None:
        facts += (Fact(END_NOT_COUNTED, f"{end.isoformat()}, not counted from"),)
    return facts


def primary_removed_asked(out: Collector, in_place: Sequence[Fact]) -> tuple[str, ...]:
    """The question a tumour in place raises when an end of primary treatment is recorded
    beside it (was the tumour removed after all, or treated another way?) (I20); ``()``
    when none is."""
    asked = planned_passed_asked(
        out, next((f for f in in_place if f.path == "surgery.date"), None),
        ("FU-NO-PLAN-PRIMARY-IN-PLACE",))
    if any(f.path == END_NOT_COUNTED for f in in_place):
        return (out.missing("MISS-PRIMARY-REMOVED",
                            affects=("FU-NO-PLAN-PRIMARY-IN-PLACE",)), *asked)
    return asked


def operation_planned_while_free(out: Collector, case: Case,
                                 affects: Sequence[str]) -> tuple[str, ...]:
    """The question a patient recorded free of disease raises when the surgery is recorded
    as planned (was the operation done, is it still to come, or dropped?); ``()`` when
    the case records no such pair. An operation still to come or done is one S11 follows
    and one surveillance counts from; meanwhile the clearance is taken as recorded."""
    if case.free_of_disease is None or case.surgery.status is not SurgeryStatus.planned:
        return ()
    day = case.surgery.date
    return (out.missing("MISS-OPERATION-PLANNED-WHILE-FREE", affects=affects,
                        about=() if day is None else
                        (f"the operation planned for {day.isoformat()}",)),)


def removal_asked(out: Collector, d: Derived, affects: Sequence[str]) -> tuple[str, ...]:
    """The question an operation after the metastases were found raises when the record
    says neither that it left the patient free of disease nor that disease was left
    (``d.removal_open``, I21): the items that take the disease as present wait on it.
    ``()`` when there is no such operation."""
    if not d.removal_open:
        return ()
    return (out.missing("MISS-FREE-AFTER-OPERATION", affects=affects),)


def margin_fact_of(case: Case) -> Fact:
    """The fact of the margin the resections left: the completing resection's when one is
    recorded (``surgery.completion.margin``), else the surgery's."""
    completion = case.surgery.completion
    if completion is not None:
        return Fact("surgery.completion.margin", completion.margin)
    return Fact("surgery.margin", case.surgery.margin)


def margin_facts(case: Case) -> list[Fact]:
    """The margin facts with their history: the R2 margin a completing resection followed,
    then the completing resection's."""
    if case.surgery.completion is not None:
        return [Fact("surgery.margin", case.surgery.margin), margin_fact_of(case)]
    return [margin_fact_of(case)]


class PrimaryBed(NamedTuple):
    """What the resection of the primary may have left at its bed, for a patient recorded
    free of disease since (:func:`bed_after_clearance`, I27)."""

    #: The margin facts with their history, and the day the patient was free of disease
    #: (after an R2 margin, and how).
    facts: tuple[Fact, ...]
    #: The question the reading waits on (the margin not recorded; after an R2 margin,
    #: the resection that removed the tumour left), or ``None``.
    asked: str | None


#: The question a primary not known removed waits on, by its surgery status: an operation
#: planned (was it done since?); whether it was resected at all, not recorded (the safer
#: reading, never removed, meanwhile).
_NEVER_REMOVED_ASKED = {SurgeryStatus.planned: "MISS-OPERATION-PLANNED-WHILE-FREE",
                        SurgeryStatus.unknown: "MISS-SURGERY-STATUS"}


def bed_after_clearance(case: Case, d: Derived) -> PrimaryBed | None:
    """A patient recorded free of disease (I8) after a resection of the primary not shown
    clear: free of disease is seen on imaging, which cannot show microscopic tumour gone
    from the primary's bed, so the margin stays a fact of the reasoning (I27). A margin
    positive (R1) or uncertain as recorded; a margin not recorded (the primary's, or that
    of a completing resection), asked (:func:`gross_tumour_question`); gross tumour left
    (R2, the case refuses the patient free of disease on the day of that operation), with
    the day free of disease and how: removed since by an operation, or by means not
    recorded, whether a completing resection removed it and with what margin is asked
    (``MISS-RESIDUAL-REMOVAL``); cleared by systemic or other treatment, there is no
    margin to ask. A primary never removed (its operation not performed, or planned: was
    it done since? asked) is the fuller case: no resection, the tumour seen gone on
    imaging only (S27); whether it was removed not recorded is read so meanwhile (unknown
    is not absent), asked (``MISS-SURGERY-STATUS``). ``None`` when the patient is not free
    of disease, or the resections left an R0 margin."""
    free = case.free_of_disease
    surgery = case.surgery
    cleared = residue_cleared(case)
    if cleared is not None and (free is None or d.free_since is None):
        # gross tumour left, cleared without a further resection (seen gone on imaging):
        # what may be left at the bed is microscopic at most, no margin to ask (I27)
        return PrimaryBed((*margin_facts(case), *cleared_facts(cleared)), None)
    if d.free_since is None or free is None:
        return None
    if surgery.status in NOT_REMOVED or surgery.status is SurgeryStatus.unknown:
        return PrimaryBed((Fact("surgery.status", surgery.status),
                           Fact("free_of_disease.since", free.since.isoformat()),
                           Fact("free_of_disease.by", free.by)),
                          _NEVER_REMOVED_ASKED.get(surgery.status))
    if surgery.status is not _PERFORMED:
        return None
    completion = surgery.completion
    margin = surgery.margin if completion is None else completion.margin
    if margin is Margin.R0:
        return None
    facts = (*margin_facts(case), Fact("free_of_disease.since", free.since.isoformat()))
    if margin in _MICROSCOPIC:
        return PrimaryBed(facts, None)
    if margin is Margin.unknown:
        return PrimaryBed(facts, gross_tumour_question(case, d))
    removed_how = free.by in (RemissionBy.surgery, RemissionBy.unknown)
    return PrimaryBed((*facts, Fact("free_of_disease.by", free.by)),
                      "MISS-RESIDUAL-REMOVAL" if removed_how else None)


#: Completing-resection margins that say the gross tumour was removed.
_REMOVED = (Margin.R0, Margin.R1, Margin.uncertain)


#: The path of the fact that an end of primary treatment was recorded after an R2
#: resection and is not counted from (:func:`residual_tumour`).
END_NOT_COUNTED = "primary_treatment_end"


def residual_removed_asked(out: Collector, residual: Sequence[Fact]) -> tuple[str, ...]:
    """The questions residual tumour after R2 raises: a completing resection recorded
    without its margin (did it remove the tumour?), an end of primary treatment recorded
    after the R2 resection (was the tumour removed, when and with what margin?) (I18).
    ``()`` when none is."""
    asked: tuple[str, ...] = ()
    if any(f == Fact("surgery.completion.margin", Margin.unknown) for f in residual):
        # a completing resection whose margin is not recorded: did it remove the tumour?
        asked += (out.missing("MISS-COMPLETION-MARGIN",
                              affects=("FU-NO-PLAN-RESIDUAL-TUMOUR",)),)
    if any(f.path == END_NOT_COUNTED for f in residual):
        asked += (out.missing("MISS-RESIDUAL-REMOVED",
                              affects=("FU-NO-PLAN-RESIDUAL-TUMOUR",)),)
    return asked


def _microscopic_residue(case: Case) -> bool:
    """The primary was resected with an R1 or uncertain margin: what may be left is
    microscopic, so a record that surgery cannot remove it means no re-excision, not
    locally advanced disease (an R2 margin leaves gross tumour)."""
    surgery = case.surgery
    return surgery.status is SurgeryStatus.performed and surgery.final_margin in _MICROSCOPIC


#: The path of the derived fact counting an adjuvant course as progressed on.
RELAPSE_DURING_ADJUVANT = "derived.relapse_during_adjuvant"


def _metastasis_days(case: Case) -> list[tuple[dt.date, MetastasisSite]]:
    """The days metastases were found, with their sites, earliest first: those whose
    timing is stated synchronous (present at presentation) left out."""
    return sorted(((m.detected_on, m.site) for m in case.stage.metastases
                   if m.detected_on is not None and m.timing is not _SYNCHRONOUS),
                  key=lambda found: found[0])


def _found_during(t: TherapyLine, days: Sequence[tuple[dt.date, MetastasisSite]],
                  open_end: bool = False) -> tuple[dt.date, MetastasisSite] | None:
    """The first metastasis of ``days`` found during the course ``t``: on or before its
    last day and :data:`WORK_UP_MONTHS` or more after its first (I29's window); ``None``
    when none is, or the course's start or end is not recorded. With ``open_end``, a
    course whose end is not recorded may still have been running: any day
    :data:`WORK_UP_MONTHS` or more after its start is taken (for a question, never for
    counting progression)."""
    start, end = t.started_on, t.ended_on
    if start is None or (end is None and not open_end):
        return None
    return next(((day, site) for day, site in days
                 if (end is None or day <= end)
                 and reached_months(start, day, WORK_UP_MONTHS)), None)


def relapse_despite_recorded_no(case: Case) -> tuple[tuple[int, TherapyLine, str], ...]:
    """The adjuvant lines recorded as not progressed on while a metastasis was found
    during them by the rule :func:`count_relapse_during_adjuvant` counts progression by:
    each with its index among the lines recorded and the words naming the course and
    the metastasis (for the question asking to confirm the recorded "no"). The team's
    answer is kept; the dates that contradict it are asked about, never overridden.

    A course whose end is not recorded (lines read from EHR orders never carry one) may
    still have been running when the metastasis was found: it is asked about too, the
    words saying its end is not recorded; such a course is never counted as progressed
    on by :func:`count_relapse_during_adjuvant`."""
    days = _metastasis_days(case)
    out: list[tuple[int, TherapyLine, str]] = []
    for i, t in enumerate(case.systemic.therapies):
        found = _found_during(t, days, open_end=True)
        if (found is None or t.setting is not TherapySetting.adjuvant
                or t.progressed is not _NO or t.best_response is _PROGRESSION):
            continue
        assert t.started_on is not None
        if t.ended_on is None:
            course = f"from {t.started_on.isoformat()}, its end not recorded"
            when = "possibly during the course (its end not recorded)"
        else:
            course = f"{t.started_on.isoformat()} to {t.ended_on.isoformat()}"
            when = "during the course"
        out.append((i, t, (
            f"therapy line {i + 1} of those recorded ({agent_names([t.agent])}, adjuvant, "
            f"{course}), recorded as not progressed on, while a metastasis "
            f"({found[1].value}) was found on {found[0].isoformat()}, {when} and "
            f"{WORK_UP_MONTHS} months or more after its start")))
    return tuple(out)


def count_relapse_during_adjuvant(
        case: Case) -> tuple[Case, tuple[tuple[TherapyLine, Fact], ...]]:
    """The case with each adjuvant line whose progression is not recorded counted as
    progressed on when the record leaves no doubt that a metastasis grew during it: found
    :data:`WORK_UP_MONTHS` or more after the course's first day and on or before its last
    (``ended_on``), its timing not stated as synchronous. The record then answers what
    MISS-MTOR-ADJUVANT-RELAPSE and MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE ask: disease that
    recurred during the course is counted as having progressed on it (S12, S13, S14).

    One found sooner may have been there before the drug could act: I29's work-up window
    (a first restaging some 3 months on, S18) is the project's reading of "found too early
    to be a relapse", counted here from the course's start. One stated synchronous was
    present at presentation, before the course. Either, one found after the course ended
    (soon or long after: the team's judgement), or a course whose start, end or the day of
    finding is not recorded, leaves the question asked. A line recorded as not progressed
    is left as the team recorded it. Each line counted comes with the derived fact saying
    why; the case is unchanged when none is."""
    days = _metastasis_days(case)
    lines: list[TherapyLine] = []
    counted: list[tuple[TherapyLine, Fact]] = []
    for i, t in enumerate(case.systemic.therapies):
        start, end = t.started_on, t.ended_on
        found = _found_during(t, days)
        if (found is None or t.setting is not TherapySetting.adjuvant
                or t.progressed is not _UNKNOWN or t.best_response is _PROGRESSION):
            lines.append(t)
            continue
        assert start is not None and end is not None
        line = t.model_copy(update={"progressed": _YES})
        lines.append(line)
        counted.append((line, Fact(
            RELAPSE_DURING_ADJUVANT,
            f"therapy line {i + 1} of those recorded ({agent_names([t.agent])}, adjuvant, "
            f"{start.isoformat()} to {end.isoformat()}), its progression not recorded: a "
            f"metastasis ({found[1].value}), its timing not stated as synchronous, was "
            f"found on {found[0].isoformat()}, during the course and {WORK_UP_MONTHS} "
            "months or more after its start (sooner, it may have been there before the "
            "drug could act, I29's window): the disease is counted as having progressed "
            "on it")))
    if not counted:
        return case, ()
    systemic = case.systemic.model_copy(update={"therapies": tuple(lines)})
    return case.model_copy(update={"systemic": systemic}), tuple(counted)


def progressed_on(line: TherapyLine) -> bool:
    """The disease is recorded as having progressed on this line."""
    return line.progressed is _YES or line.best_response is _PROGRESSION


def _may_be_latest(lines: list[TherapyLine]) -> list[TherapyLine]:
    """The lines that may be the latest of these (:func:`lines_in_order`): the last group
    (several when the record does not tell them apart: one start date, say), or every
    line when the order cannot be told at all. Never chosen among by the order entered."""
    groups = lines_in_order(lines)
    return lines if groups is None else (groups[-1] if groups else [])


def _class_progression(lines: list[TherapyLine]) -> tuple[TherapyLine | None,
                                                         TherapyLine | None]:
    """Of the lines of one class (the mTOR inhibitors, or the anthracycline-based lines):
    the line the disease progressed on, and the line whose progression decides the advice
    but is not recorded.

    A progression on any line of the class is never undone by a later one recorded as not
    progressed, the class taken as one (I15): the guideline names mTOR inhibitors as one
    first line and no line after progression on them (S12, S13, S28), and
    anthracycline-based chemotherapy as the first line when they cannot be used and no
    line after it (S14); another drug of the class after the progression (epirubicin
    after doxorubicin, everolimus after sirolimus), or the same drug again, is a second
    course of the class, outside the guideline (I26 for the anthracyclines: resistance
    may be shared, the cumulative dose adds up). The guideline's silence stays, the later
    line named beside it as the treatment under way (I19). The earliest line progressed
    on counts (one of the earliest when their order is not told: :func:`_one_of`);
    whatever the order of the lines, the silence is the same, so their order is never
    asked for it. Without a progression, the latest line's progression is asked when it
    is not recorded (any line that may be the latest, when the order is not told:
    whatever the order the lines were entered in)."""
    failed = [t for t in lines if progressed_on(t)]
    if failed:
        groups = lines_in_order(failed)
        return _one_of(failed if groups is None else groups[0]), None
    latest = _may_be_latest(lines)
    if all(t.progressed is _NO for t in latest):
        return None, None
    return None, _one_of([t for t in latest if t.progressed is _UNKNOWN])


def agent_names(agents: Iterable[Agent]) -> str:
    """'doxorubicin, gemcitabine with docetaxel': the agents in words, each once
    (nab-sirolimus is one drug, not a regimen)."""
    return ", ".join(dict.fromkeys(
        _UNNAMED.get(a) or ("nab-sirolimus" if a is Agent.nab_sirolimus
                            else a.value.replace("_", " with "))
        for a in agents))


#: The agents the case format does not name, in words ('other_chemotherapy' is no
#: regimen of 'other' with chemotherapy)
_UNNAMED = {Agent.other: "another anticancer agent",
            Agent.other_chemotherapy: "another chemotherapy"}


def _one_of(lines: list[TherapyLine]) -> TherapyLine | None:
    """One of these lines, whose order the record does not tell, chosen by what they are,
    never by the order they were entered in: a line for advanced disease before an
    adjuvant course (the disease could progress on it), then by agent, start date and
    number. ``None`` if there are none."""
    return min(lines, default=None, key=lambda t: (
        t.setting is not _ADVANCED_SETTING, t.agent.value,
        t.started_on or dt.date.min, t.line or 0))


def _latest_open(lines: list[TherapyLine]) -> TherapyLine | None:
    """The latest of these lines of one class when whether the disease progressed on it
    is not recorded and it did on an earlier one: the disease may respond to it now."""
    if not any(progressed_on(t) for t in lines):
        return None
    open_ = [t for t in lines if t.progressed is _UNKNOWN and not progressed_on(t)]
    if not open_:
        return None
    # when which line is the latest cannot be told, one whose outcome is not recorded may
    # be (the order they were typed in says nothing)
    return _one_of([t for t in _may_be_latest(lines) if t in open_])


def _lines(therapies: tuple[TherapyLine, ...]) -> tuple[
    TherapyLine | None, TherapyLine | None, TherapyLine | None, tuple[TherapyLine, ...]
]:
    """The mTOR inhibitor the disease progressed on; the first line of treatment of
    advanced disease (when the lines or their start dates tell which it was); the mTOR
    inhibitor whose progression decides the advice but is not recorded
    (:func:`_class_progression`); and, when which line came first cannot be told, the
    lines for advanced disease it may have been (``()`` otherwise).

    The first line of treatment of advanced disease is the earliest line given for
    advanced disease, whatever number the team gave it (lines are often numbered across
    settings, an adjuvant course counted as line 1): by start date when every such line
    has one, else by line number when every one has it (:func:`lines_in_order`); else the
    one numbered 1, or the only one. Lines started the same day and not told apart by
    their numbers are an order not told, as undated ones are. A line given as adjuvant
    or neoadjuvant treatment is none."""
    progressed, unknown = _class_progression(
        [t for t in therapies if t.agent.is_mtor_inhibitor])
    advanced_lines = [t for t in therapies if t.setting is _ADVANCED_SETTING]
    if not advanced_lines:
        return progressed, None, unknown, ()
    groups = lines_in_order(advanced_lines)
    if groups is not None and len(groups[0]) == 1:
        return progressed, groups[0][0], unknown, ()
    # which came first is not told: every line, or the lines of the first start date
    # (a combination given together, or an order not recorded; never the one entered
    # first)
    may = advanced_lines if groups is None else groups[0]
    first_line = next((t for t in may if t.line == 1), None)
    return progressed, first_line, unknown, () if first_line else tuple(may)
