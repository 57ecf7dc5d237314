"""Dated surveillance plans (S18-S23, S26, S27; interpretations I1-I4, I8).

``plan_surveillance(case, assessment, on_date, imaging)`` turns the follow-up rules into
visits a clinic can book: each with its due date, the latest acceptable date (the range
"every 3-4 months" is a window, I2), the imaging to do, the phase it belongs to, and the
provenance of every element. The module is pure: no I/O, no clock; the evaluation date is
a parameter. The plan's values are in :mod:`pecoma.engine.plan`, the imaging history and
its parsing in :mod:`pecoma.engine.imaging`. What is left is one idea, drawing the plan,
at about 500 lines, this description included.

How visits are dated
--------------------
* The anchor is the end of curative treatment (``case.treatment_end``). The interval in
  force for a period is the one of the phase in which the period *starts* (high risk:
  intensive until year 3, six-monthly until year 5, yearly without end; low risk: the
  supplementary schedule, then yearly): a visit is never dated later than the rhythm in
  force when it was counted allows. It is *labelled* with the phase its due date falls in
  (:meth:`_Builder.phase_of`, the phase table's spans: a visit due on the day a phase
  ends is that phase's last), and the visits after it follow that phase's interval; a
  visit the earlier phase's interval dated past that phase's end names that phase in
  ``Visit.interval_from``. Visit ``n`` is ``anchor + total months`` with
  :func:`pecoma.dates.add_months` from the anchor each time, so dates never drift and
  month ends clip (31 January + 3 months = 30 April).
* Real scans re-anchor the plan: the scans that fulfil a visit (within one window, and a
  planned examination the visit lacks until the next visit would be due) become the new
  reference, and the following visits count from the examination done longest ago,
  each by its last scan at a visit done (an earlier one when the last visit lacked it),
  so that no examination drifts past its rhythm. A visit is late when any examination
  was done after its latest date. The visit of an examination owed (``Visit.owed_since``)
  is done only when that examination is; the others done in its period count for their
  own clocks and are shown with the next visit listed. Open, it is joined to the routine
  visit after it once that is due (the one dependence of the visits on the evaluation
  date: :attr:`SurveillancePlan.drawn_alike`).
  Only a planned examination (chest CT, MRI of the primary, S21, S22; at low risk those
  of the settings, I12) or a scan that found disease fulfils a visit
  (:meth:`_Builder.fulfils`); a scan of another modality is kept with the visit in whose
  window it was taken, its finding read, but the visit stays open.
  A scan that comes after the next visit's due date leaves the skipped visit ``missed``.
* A scan finding local recurrence or metastasis suspends the plan (S27, S17): the visits
  that would have followed are listed apart as ``cancelled`` so calendars can drop them,
  every one a plan drawn from the earlier scans listed, on the dates it gave them.
* Without an anchor, or while disease is present (residual tumour after an R2 resection
  included), no visit is dated and the plan says why.

After a treated relapse or unresectable disease (I8)
----------------------------------------------------
A recurrent, metastatic or unresectable locally advanced case with ``free_of_disease`` is
followed on the high-risk schedule counted from ``free_of_disease.since``, whatever the
primary's features; scans before that date belong to the disease and its treatment, not
to surveillance.

Adjuvant treatment (I22)
------------------------
The anchor is the end of curative treatment, adjuvant treatment included. With a line
recorded as adjuvant and no ``primary_treatment_end``, that end is unknown: the visits are
counted from the surgery (the earliest it can be; an earlier visit is the safer error),
the phases from the start of the latest adjuvant line, and the plan says so
(``FU-ADJUVANT-END-NOT-RECORDED``, provisional on ``MISS-ADJUVANT-END``). Scans from the
surgery to before the end of treatment are scans during treatment
(``FU-SCANS-DURING-TREATMENT``): kept, shown, no visit's; their findings are read as the
baseline's. Scans before the surgery are refused (:func:`pecoma.engine.imaging.imaging_floor`).

A scan history that was never given (I13)
-----------------------------------------
``imaging=None`` means the history was not given; ``imaging=()`` means it was given and
holds no scan. Without a history, once the first visit's window has passed, whether the
visits were done is unknown: the plan does not call them overdue. It reports the missing
fact (``MISS-SCAN-HISTORY``) and, meanwhile, a visit due on the evaluation date with the
window of the phase that date falls in (phase by time since the anchor; on a phase's last
day, that phase, as the visit's label and source say); later visits count from it.
With a history given, visits without a scan stay missed or overdue.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pecoma import __version__
from pecoma.case import Case, DiseaseStatus, SurgeryStatus
from pecoma.dates import add_months
from pecoma.engine.assess import check_dates
from pecoma.engine.collect import Collector, provenance_of
from pecoma.engine.facts import (
    planned_operation_passed,
    planned_passed_asked,
    primary_in_place,
    primary_removed_asked,
    residual_removed_asked,
    residual_tumour,
    treatment_end_fact,
)
from pecoma.engine.followup import HIGH_RISK_RULES, LOW_RISK_IMAGING, LOW_RISK_RULES
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding, check_imaging
from pecoma.engine.model import Assessment, Fact, Item, Provenance, UsedInterpretation
from pecoma.engine.plan import (
    PLAN_FORMAT,
    AnchorBasis,
    Phase,
    PlannedImaging,
    PlanStatus,
    SurveillancePlan,
    Timeliness,
    Visit,
    VisitStatus,
    open_plan_flags,
)
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.settings import FollowupSettings, Settings, default_settings

__all__ = [
    "plan_surveillance",
]

#: The assessment's reasons for the schedule of a tumour without high-risk features: the
#: nodal status (I10: positive, not recorded, not assessed) and a classification (I14)
_SCHEDULE_REASONS = ("FU-NODES-POSITIVE", "FU-NODES-UNKNOWN-LOW-RISK", "FU-NODES-NOT-ASSESSED",
                     "FU-MALIGNANT-LOW-RISK", "FU-MAY-BE-MALIGNANT-LOW-RISK",
                     "FU-MAY-BE-MALIGNANT-NOT-RESECTED")

# --------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    record: str
    interval: int
    overdue: int
    start_month: int
    end_month: int | None


def _rules(group: Literal["high", "low"], s: FollowupSettings) -> tuple[_Rule, ...]:
    if group == "high":
        a, b = s.high_intensive_years * 12, s.high_middle_until_year * 12
        return (
            _Rule("high-intensive", "FU-HIGH-INTENSIVE", s.high_intensive_due_months,
                  s.high_intensive_overdue_months, 0, a),
            _Rule("high-middle", "FU-HIGH-SIX-MONTHLY", s.high_middle_interval_months,
                  s.high_middle_overdue_months, a, b),
            _Rule("high-yearly", "FU-HIGH-YEARLY", 12, s.yearly_overdue_months, b, None),
        )
    a = s.low_frequent_years * 12
    return (
        _Rule("low-frequent", "SUPP-FU-LOW-SCHEDULE", s.low_due_months, s.low_overdue_months,
              0, a),
        _Rule("low-yearly", "SUPP-FU-LOW-YEARLY", 12, s.yearly_overdue_months, a, None),
    )


_IMAGING = {
    "high": (("FU-CHEST-CT", Modality.chest_ct), ("FU-MRI-PRIMARY", Modality.mri_primary)),
    "low": tuple((record, Modality(name)) for record, name in LOW_RISK_IMAGING),
}


def _imaging(group: Literal["high", "low"], s: FollowupSettings) -> tuple[
    tuple[str, Modality], ...
]:
    """The examinations planned at each visit: S21/S22 for high risk; for low risk the
    ones the settings name (I12: the guideline names modalities for high risk only)."""
    if group == "high":
        return _IMAGING["high"]
    return tuple(p for p in _IMAGING["low"] if p[1].value in s.low_risk_imaging)


_SETTING_NAMES = {
    "high": ("high_intensive_due_months", "high_intensive_overdue_months",
             "high_intensive_years", "high_middle_interval_months",
             "high_middle_overdue_months", "high_middle_until_year",
             "yearly_overdue_months", "horizon_years"),
    "low": ("low_due_months", "low_overdue_months", "low_frequent_years",
            "yearly_overdue_months", "horizon_years", "low_risk_imaging"),
}


@dataclass(frozen=True, slots=True)
class _Owing:
    """The visit of examinations owed since a visit done that lacked them: ``since`` the
    first visit that lacked them, ``period`` the due date of the period of the walk it
    takes the place of, ``due`` and ``latest`` the examinations' own first unmet window
    (their last scan, or the anchor, plus the interval and the overdue months in force
    then: S18-S22, I2), which dates the visit whatever was done meanwhile."""
    since: int
    period: dt.date
    modalities: frozenset[Modality]
    due: dt.date
    latest: dt.date


class _Builder:
    """Walks the schedule from the anchor, consuming real scans as it goes."""

    def __init__(
        self,
        anchor: dt.date,
        rules: tuple[_Rule, ...],
        ends: tuple[dt.date | None, ...],
        imaging: tuple[tuple[str, Modality], ...],
        on_date: dt.date,
        horizon_end: dt.date,
        out: Collector,
        start_on: dt.date | None = None,
    ) -> None:
        self.anchor = anchor
        # I13: without a scan history, the first open visit is due on this date.
        self.start_on = start_on
        self.rules = rules
        self.ends = ends
        self.planned = imaging
        self.on_date = on_date
        self.horizon_end = horizon_end
        # Open visits are listed to the horizon, or to the evaluation date when later, and
        # always up to the first visit still to be done (I4: the plan has no end).
        self.reach = max(horizon_end, on_date)
        self.out = out
        self.counters: dict[str, int] = {}
        self.visits: list[Visit] = []
        self.cancelled: list[Visit] = []
        self.recurrence: tuple[int, ImagingEvent] | None = None
        #: The plans drawn from part of the scan history, as (visits listed before the
        #: open ones, the date they count from, months after it): see _cancel_from.
        self.earlier: list[tuple[int, dt.date, int]] = []
        #: Scans on the anchor date (the surgery, or the date free of disease): no visit's,
        #: but what they found is read all the same.
        self.baseline: tuple[ImagingEvent, ...] = ()
        #: Scans before the anchor date, during treatment (I22): no visit's either.
        self.during_treatment: tuple[ImagingEvent, ...] = ()
        self.baseline_flags: tuple[Item, ...] = ()
        #: Each planned examination's last scan at a visit done: its clock (S18-S22).
        self.last_done: dict[Modality, dt.date] = {}
        #: Each planned examination not done since a visit done that lacked it: the
        #: number of the first such visit (cleared when the examination is done).
        self.lacking_since: dict[Modality, int] = {}
        #: After a visit done that lacked a planned examination whose clock makes the next
        #: visit due no later than that visit's latest date: the owed visit, see _Owing.
        self.owing: _Owing | None = None
        #: Scans done while an examination was owed, before the next visit would be
        #: due, none of them the owed one: shown with the next visit listed (see build)
        self.carried: list[tuple[int, ImagingEvent]] = []
        self.has_open = False
        #: The next visit is listed whatever the reach (see build)
        self.keep_next = False
        self.not_done = tuple(
            PlannedImaging(modality, record, provenance_of(out.knowledge, record), None)
            for record, modality in imaging
        )

    def rule_at(self, day: dt.date) -> _Rule:
        """The rule of the phase in which the period starting on ``day`` lies: its interval
        and window date the visit that ends the period (a period starting on a phase's
        last day is the next phase's)."""
        for rule, end in zip(self.rules, self.ends, strict=True):
            if end is None or day < end:
                return rule
        return self.rules[-1]

    def phase_of(self, due: dt.date) -> _Rule:
        """The phase a visit due on ``due`` belongs to, as the plan's phase table spans
        them: the first whose end ``due`` does not pass (a visit due on a phase's last day
        is that phase's last visit). The one rule for every visit's label (S18-S20, I3):
        a period that started in the intensive phase but whose 3-month visit falls in
        year 4 gives a six-monthly visit, dated as counted (never later)."""
        for rule, end in zip(self.rules, self.ends, strict=True):
            if end is None or due <= end:
                return rule
        return self.rules[-1]

    def _next_index(self, phase: str) -> int:
        self.counters[phase] = self.counters.get(phase, 0) + 1
        return self.counters[phase]

    def _visit(
        self,
        rule: _Rule,
        due: dt.date,
        latest: dt.date,
        counted_from: dt.date,
        status: VisitStatus,
        scans: Sequence[tuple[int, ImagingEvent]] = (),
        cancelled: bool = False,
        joined: tuple[dt.date, dt.date] | None = None,
    ) -> Visit:
        if self.carried and not cancelled:
            scans, self.carried = [*self.carried, *scans], []
        # the visit's own scans: those that stand for it (a scan of another modality
        # taken in its window is shown with it, but is neither its date nor its timing)
        own = [e.date for _, e in scans if self.fulfils(e)]
        done_on = own[-1] if own and status == "done" else None
        # the visit of an examination owed since the visit done before it is that
        # examination's only (the others were done there, and are due on their clocks)
        owing, self.owing = self.owing, None
        owed_since = None
        not_done = self.not_done
        due_again: tuple[tuple[Modality, dt.date], ...] = ()
        if owing is not None and owing.period == due and not cancelled:
            # dated on the owed examination's own clock (F1: never the later period's)
            owed_since, due, latest = owing.since, owing.due, owing.latest
            if joined is None:
                not_done = tuple(p for p in self.not_done if p.modality in owing.modalities)
            else:
                # joined to the routine visit, it asks for the owed examinations and for
                # each other one its own clock (its last scan, one done since the visit
                # that lacked the owed one included) makes due within the routine window
                # or by the evaluation date; one done since, not due again by then,
                # counts as done and is not asked again a few weeks on
                due_again = tuple((m, self.due_on_clock(m)) for _, m in self.planned
                                  if m not in owing.modalities)
                by = max(joined[1], self.on_date)
                asked = {*owing.modalities, *(m for m, day in due_again if day <= by)}
                not_done = tuple(p for p in self.not_done if p.modality in asked)
        if not scans or status != "done":
            # an open visit asks for every examination it lists, whatever was done
            # before it (an examination done while another was owed, shown with it)
            planned = not_done
        else:
            planned = tuple(
                PlannedImaging(p.modality, p.record, p.provenance,
                               next((e.date for _, e in scans if e.modality is p.modality),
                                    None))
                for p in not_done
            )
        timeliness: Timeliness | None = None
        if done_on is not None:
            # each planned examination is judged by the day it was done: one done after
            # the latest date makes the visit late, whichever came first (without a
            # planned examination done, by the first scan that stood for the visit)
            days = [p.done_on for p in planned if p.done_on is not None] or own[:1]
            timeliness = ("late" if max(days) > latest
                          else "early" if min(days) < due else "on_time")
        # what any scan found needs the team, whether or not the scan stands for the visit
        flags: list[Item] = self._finding_flags(scans)
        if status == "done":
            missing = [p for p in planned if p.done_on is None]
            if missing and not any(e.finding.disease for _, e in scans):
                # examinations planned at low-risk visits are the project's reading (I12),
                # not the guideline's: the check says so, never citing S21/S22 as advice
                low = all("I12" in p.provenance.interpretations for p in missing)
                flags.append(self.out.item(
                    "FU-IMAGING-INCOMPLETE-LOW" if low else "FU-IMAGING-INCOMPLETE",
                    [Fact(f"visit[{len(self.visits) + 1}].imaging",
                          "not recorded: " + ", ".join(p.modality.value for p in missing))],
                ))
        index = len(self.cancelled if cancelled else self.visits) + 1
        if cancelled:
            index += len(self.visits)
        # ``rule`` dated the visit (the phase in force when its period started); the visit
        # is the phase's its due date falls in, and says so when that is a later one
        phase = self.phase_of(due)
        return Visit(
            index=index,
            phase=phase.id,
            phase_index=self._next_index(phase.id),
            due=due,
            latest=latest,
            counted_from=counted_from,
            reanchored=counted_from != self.anchor,
            status=status,
            done_on=done_on,
            timeliness=timeliness,
            imaging=planned,
            scans=tuple(e for _, e in scans),
            flags=tuple(flags),
            record=phase.record,
            provenance=provenance_of(self.out.knowledge, phase.record),
            # a visit due on the day it is counted from (I13) has no interval
            interval_from=rule.id if rule is not phase and due != counted_from else None,
            owed_since=owed_since,
            joined_routine=joined if owed_since is not None else None,
            owed=tuple(m for _, m in self.planned
                       if owing is not None and owed_since is not None
                       and m in owing.modalities),
            due_again=due_again,
        )

    def due_on_clock(self, modality: Modality) -> dt.date:
        """The day ``modality`` falls due on its own clock: its last scan at a visit
        done, or one done while another examination was owed (the anchor when never
        done), plus the interval in force then (S18-S22)."""
        clock = self.last_done.get(modality, self.anchor)
        return add_months(clock, self.rule_at(clock).interval)

    def fulfils(self, scan: ImagingEvent) -> bool:
        """Whether ``scan`` stands for a visit: it is one of the examinations planned at
        every visit (S21, S22; at low risk those of the settings, I12), or it found disease
        (whatever its modality: the plan is suspended). Another modality (an ultrasound, a
        chest X-ray, which S21 ranks below CT, a CT of the primary, a PET-CT, ``other``)
        stands for neither planned examination: it is kept and shown, but the visit stays
        open and the plan does not count from it. With no examination planned
        (``low_risk_imaging = []``: the imaging is the team's choice), any scan stands for
        the visit."""
        return (scan.finding.disease or not self.planned
                or any(scan.modality is modality for _, modality in self.planned))

    def _finding_flags(self, scans: Sequence[tuple[int, ImagingEvent]]) -> list[Item]:
        """An equivocal finding, or a result not recorded, among ``scans``: each needs the
        team (FU-EQUIVOCAL, FU-FINDING-NOT-RECORDED), whether at a visit or at baseline."""
        def facts(kind: ScanFinding) -> list[Fact]:
            return [Fact(f"imaging[{i}].finding", f"{e.finding.value} "
                         f"({e.modality.value}, {e.date.isoformat()})")
                    for i, e in scans if e.finding is kind]

        flags: list[Item] = []
        if facts(ScanFinding.equivocal):
            flags.append(self.out.item("FU-EQUIVOCAL", facts(ScanFinding.equivocal)))
        if facts(ScanFinding.not_recorded):
            flags.append(self.out.item("FU-FINDING-NOT-RECORDED",
                                       facts(ScanFinding.not_recorded)))
        return flags

    def _open_status(self, due: dt.date, latest: dt.date) -> VisitStatus:
        if self.on_date > latest:
            return "overdue"
        if self.on_date >= due:
            return "due"
        return "upcoming"

    def build(self, events: list[tuple[int, ImagingEvent]]) -> dt.date:
        """Fill ``visits`` (and ``cancelled``); return the date the plan now counts from."""
        pending = deque((i, e) for i, e in events if e.date > self.anchor)
        # scans on the anchor date (baseline) and before it, during treatment (I22): no
        # visit's, but what they found is read as at the start of surveillance
        baseline = [(i, e) for i, e in events if e.date <= self.anchor]
        self.baseline = tuple(e for _, e in baseline if e.date == self.anchor)
        self.during_treatment = tuple(e for _, e in baseline if e.date < self.anchor)
        for i, e in baseline:
            if e.finding.disease:
                self.recurrence = (i, e)
                self._cancel_from(self.anchor, 0)
                return e.date
        # An equivocal baseline scan (or one without its result) is not a clear start:
        # flagged as at a visit, so that it does not wait for the first routine visit.
        self.baseline_flags = tuple(self._finding_flags(baseline))
        ref, months = self.anchor, 0
        if self.start_on is not None:
            ref = self.start_on
            # the visit due on the evaluation date is the visit of the phase its due date
            # falls in (on a phase's last day, that phase's last visit): its window is
            # that phase's, as its label and source are; the period counted from it
            # starts on that day and takes the interval of the phase in force then
            rule = self.phase_of(ref)
            latest = add_months(ref, rule.overdue - rule.interval)
            self.visits.append(
                self._visit(rule, ref, latest, ref, self._open_status(ref, latest))
            )
            self.has_open = True
        # the due date of the last visit done: a period due no later than it is that of
        # an examination the visit lacked, owed since (see _counted_after)
        owed: dt.date | None = None
        while True:
            start = add_months(ref, months)
            rule = self.rule_at(start)
            due = add_months(ref, months + rule.interval)
            latest = add_months(ref, months + rule.overdue)
            # only a scan that stands for a visit fulfils it and re-anchors the plan; the
            # others go with the visit in whose window (or before it) they were taken
            first = next((e.date for _, e in pending if self.fulfils(e)), None)
            if first is not None and self.owing is not None and self.owing.period == due:
                # the period of an examination owed since the visit done before: when
                # that examination (or a scan that found disease) came before the next
                # visit would be due, it dates the visit, the other's scans before it
                # shown with it. Otherwise the first scan does, and the visit is flagged
                # again for the examination it lacks, which stays on its clock (never
                # skipped: the owed examination stays overdue until it is done)
                owed_mods = self.owing.modalities
                next_due = add_months(ref, months + rule.interval
                                      + self.rule_at(due).interval)
                owed_first = next((e.date for _, e in pending
                                   if e.modality in owed_mods or e.finding.disease), None)
                if owed_first is not None and owed_first < next_due:
                    first = owed_first
                elif first < next_due:
                    # the owed visit is done only when its owed examination is: the
                    # other examinations done before the next visit would be due count
                    # for their own clocks and are shown with the next visit listed
                    self.earlier.append((len(self.visits), ref, months))
                    carried = self._taken(pending, next_due)
                    self._note_done(carried)
                    self.carried += carried
                    continue
            if first is not None:
                self.earlier.append((len(self.visits), ref, months))
                if first > latest:
                    following = self.rule_at(due)
                    next_due = add_months(ref, months + rule.interval + following.interval)
                    if first >= next_due:
                        if owed is None or due > owed:
                            self.visits.append(self._visit(
                                rule, due, latest, ref, "missed",
                                self._taken(pending, next_due)))
                        # else the period of an examination owed since the visit done
                        # before (flagged there, FU-IMAGING-INCOMPLETE) that later scans
                        # passed: not listed again as a visit missed
                        months += rule.interval
                        continue
                taken = self._visit_scans(pending, first, latest, rule, due)
                # what was done before the owed examination is this visit's too
                taken, self.carried = [*self.carried, *taken], []
                self.visits.append(self._visit(rule, due, latest, ref, "done", taken))
                if self.recurrence is not None:
                    self._cancel_from(ref, months + rule.interval)
                    return self.recurrence[1].date
                # the next visit counts from the examination done longest ago, each by its
                # last scan (at this visit or, when not done at it, an earlier one), so
                # that none drifts past its rhythm: a chest CT and an MRI a month apart
                # count from the CT, and a visit done with the MRI alone leaves the CT
                # counted from its own last scan
                ref, months = self._counted_after(taken, due)
                self._note_done(taken)
                owed = due
                self.owing = self._owing(taken, ref, months, latest)
                continue
            if due > self.reach and self.has_open and not pending and not self.keep_next:
                return ref
            self.keep_next = False
            if self.owing is not None and self.owing.period == due:
                # the owed examination's visit, open: dated on its own clock, so once past
                # its latest date it is overdue until done. When the routine visit after
                # it comes due before the owed one closes, or is due by the evaluation
                # date, one visit asks for every examination due: the owed one is joined
                # to it, dated by the owed one (the earlier), the routine window kept
                # beside it. Joined by the evaluation date, the plan is drawn alike only
                # from the routine due date on, and not joined, only up to the day before
                # it (SurveillancePlan.drawn_alike: the registry's stored worklist state
                # holds for those days, pecoma.registry.state)
                owing = self.owing
                after = months + rule.interval
                nxt = self.rule_at(add_months(ref, after))
                due2 = add_months(ref, after + nxt.interval)
                latest2 = add_months(ref, after + nxt.overdue)
                joined = (due2, latest2) if due2 <= max(owing.latest, self.on_date) else None
                end = latest2 if joined else latest
                self.visits.append(self._visit(
                    rule, due, latest, ref, self._open_status(owing.due, owing.latest),
                    self._taken(pending, end + dt.timedelta(days=1)), joined=joined))
                self.has_open = True
                months = after + (nxt.interval if joined else 0)
                # not joined, the routine visit after it is listed whatever the horizon:
                # its due date is the day the plan is drawn otherwise (drawn_alike)
                self.keep_next = joined is None
                continue
            self.visits.append(self._visit(
                rule, due, latest, ref, self._open_status(due, latest),
                self._taken(pending, latest + dt.timedelta(days=1))))
            self.has_open = True
            months += rule.interval

    def _visit_scans(self, pending: deque[tuple[int, ImagingEvent]], first: dt.date,
                     latest: dt.date, rule: _Rule, due: dt.date
                     ) -> list[tuple[int, ImagingEvent]]:
        """The scans of the visit whose first planned examination was on ``first``, taken
        from ``pending``: every scan up to its latest date (or up to the window's width
        after a late first scan), and after that a planned examination the visit does not
        hold yet, as long as it comes before the next visit would be due, counted from
        ``first``: the second examination of a visit split over several days is that
        visit's (late when after the latest date), wherever the first fell in the
        window. A scan that found disease ends the visit (``recurrence``)."""
        until = max(latest, add_months(first, rule.overdue - rule.interval))
        bound = add_months(first, self.rule_at(first).interval)
        planned = {m for _, m in self.planned}
        taken: list[tuple[int, ImagingEvent]] = []
        while pending:
            scan = pending[0][1]
            if scan.date > until:
                held = {e.modality for _, e in taken if self.fulfils(e)}
                if (scan.finding.disease or scan.modality not in planned
                        or scan.modality in held or scan.date >= bound):
                    break
            taken.append(pending.popleft())
            if scan.finding.disease:
                self.recurrence = taken[-1]
                break
        # the plans drawn from the scans up to each day of the visit (calendars may hold
        # them), a day's scans together
        days = sorted({e.date for _, e in taken if self.fulfils(e) and not e.finding.disease})
        for day in days:
            upto = [(i, e) for i, e in taken if e.date <= day]
            self.earlier.append((len(self.visits) + 1, *self._counted_after(upto, due)))
        return taken

    def _counted_after(self, taken: Sequence[tuple[int, ImagingEvent]], due: dt.date
                       ) -> tuple[dt.date, int]:
        """Where the visit after one due on ``due`` and done with ``taken`` counts from:
        the date and the months after it. Each planned examination keeps its own clock,
        its last scan (at this visit, else an earlier one; the anchor when it was never
        done): the next visit counts from the one done longest ago, so that none waits
        longer than its rhythm (S18-S22, I2). An examination already owed at this visit
        (its clock ran out and it was not done) makes the next visit due on its clock's
        date, at the latest that of this visit's period: the periods whose windows closed
        before ``due`` are this visit's and the earlier ones', not listed again (the owed
        visit that takes that period's place is dated by the examination's own first
        unmet window all the same, see :meth:`_owing`). With no
        examination planned (``low_risk_imaging = []``), the visit's scans count."""
        last = {e.modality: e.date for _, e in taken if self.fulfils(e)}
        if not self.planned:
            return min(last.values()), 0
        clocks = {**self.last_done, **last}
        ref = min(clocks.get(m, self.anchor) for _, m in self.planned)
        months = 0
        while True:
            rule = self.rule_at(add_months(ref, months))
            if add_months(ref, months + rule.overdue) >= due:
                return ref, months
            months += rule.interval

    def _owing(self, taken: Sequence[tuple[int, ImagingEvent]], ref: dt.date, months: int,
               latest: dt.date) -> _Owing | None:
        """When the visit just done (the last listed, whose latest date is ``latest``)
        lacked a planned examination and the next visit, counted from ``ref`` and
        ``months`` (that examination's clock), is due no later than ``latest``: the next
        visit is that examination's (see ``Visit.owed_since``), dated by its own first
        unmet window whatever the period it takes the place of: once past, it is overdue
        until done. Its window may share the visit's, or start before it: it is said so,
        not shown as a second routine visit (and the routine visit after it is joined to
        it once due, see :meth:`build`)."""
        done = {e.modality for _, e in taken if self.fulfils(e)}
        owed = frozenset(m for _, m in self.planned if m not in done)
        for m in owed:
            self.lacking_since.setdefault(m, len(self.visits))
        if not owed or any(e.finding.disease for _, e in taken):
            return None
        period = add_months(ref, months + self.rule_at(add_months(ref, months)).interval)
        if period > latest:
            return None
        # the owed examinations' own first unmet window: one rhythm after the last scan
        # of the one done longest ago (the anchor when never done), in force on that day
        clock = min(self.last_done.get(m, self.anchor) for m in owed)
        rule = self.rule_at(clock)
        return _Owing(min(self.lacking_since[m] for m in owed), period, owed,
                      add_months(clock, rule.interval), add_months(clock, rule.overdue))

    def _note_done(self, taken: Sequence[tuple[int, ImagingEvent]]) -> None:
        """Each examination's clock moves to its last scan at a visit done."""
        for _, e in taken:
            if self.fulfils(e):
                self.last_done[e.modality] = e.date
                self.lacking_since.pop(e.modality, None)

    @staticmethod
    def _taken(pending: deque[tuple[int, ImagingEvent]], before: dt.date) -> list[
        tuple[int, ImagingEvent]
    ]:
        """The scans dated before ``before``, taken from ``pending``."""
        taken: list[tuple[int, ImagingEvent]] = []
        while pending and pending[0][1].date < before:
            taken.append(pending.popleft())
        return taken

    def _dates(self, ref: dt.date, months: int
               ) -> Iterator[tuple[_Rule, dt.date, dt.date]]:
        """The visits counted from ``ref``, ``months`` after it on: their rule, due and
        latest dates, as far as open visits are listed."""
        while True:
            rule = self.rule_at(add_months(ref, months))
            due = add_months(ref, months + rule.interval)
            if due > self.reach:
                return
            yield rule, due, add_months(ref, months + rule.overdue)
            months += rule.interval

    def _cancel_from(self, ref: dt.date, months: int) -> None:
        """The visits a calendar may still hold after a recurrence, marked cancelled: every
        visit that a plan drawn from part of the scan history (each earlier scan, in date
        order) listed after the visit that found disease, with its number (the calendar's
        UID) and dated as the latest of those plans dated it; the plan drawn before that
        visit counted from ``ref``, ``months`` on."""
        dated: dict[int, tuple[_Rule, dt.date, dt.date, dt.date]] = {}
        for before, since, offset in (*self.earlier, (len(self.visits), ref, months)):
            for n, (rule, due, latest) in enumerate(self._dates(since, offset), before + 1):
                if n > len(self.visits):
                    dated[n] = (rule, due, latest, since)
        for n in sorted(dated):
            self.cancelled.append(self._visit(*dated[n], "cancelled", cancelled=True))


def _setting_text(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value)) or "none"
    return str(value)


def _schedule_statements(group: Literal["high", "low"]) -> tuple[str, ...]:
    """The statements a reason said of either schedule cites on a plan of ``group``: the
    high-risk schedule's first (S18) or the low-risk one (S23), and long-term follow-up
    for every patient (S26); never the other schedule's."""
    return ("S18" if group == "high" else "S23", "S26")


def _interpretations(items: Iterable[Provenance], knowledge: Knowledge) -> tuple[
    UsedInterpretation, ...
]:
    used: dict[str, None] = {}
    for p in items:
        for i in p.interpretations:
            used[i] = None
    return tuple(
        UsedInterpretation(i, knowledge.interpretations[i].title,
                           knowledge.interpretations[i].text)
        for i in sorted(used, key=lambda x: int(x[1:]))
    )


def _removal_asked(assessment: Assessment) -> tuple[str, ...]:
    """What the assessment's relapse surveillance waits on when it waits on
    ``MISS-FREE-AFTER-OPERATION`` (an operation after the metastases were found may have
    removed them all, I21): that question, and the primary's margin when it is not
    recorded (with gross tumour left no calendar is drawn, I18), as the assessment
    decided it; ``()`` otherwise."""
    after = next((i for i in assessment.followup if i.id == "FU-AFTER-RELAPSE"), None)
    if after is None or "MISS-FREE-AFTER-OPERATION" not in after.conditional_on:
        return ()
    return after.conditional_on


def _counted_from_surgery(anchor: dt.date, waits: tuple[str, ...]) -> tuple[
    Fact, AnchorBasis, tuple[str, ...]
]:
    """I22: the end of the adjuvant treatment is unknown; the visits count from the
    surgery meanwhile, and the phases name that date, not an end of treatment, and wait
    on that end beside ``waits``: the fact, the anchor basis and the phases' questions."""
    fact = Fact("derived.surveillance_counted_from",
                f"{anchor.isoformat()} (the surgery; end of treatment not recorded)")
    return fact, "surgery", (*waits, "MISS-ADJUVANT-END")


def plan_surveillance(
    case: Case,
    assessment: Assessment,
    on_date: dt.date,
    imaging: Sequence[ImagingEvent] | None = None,
    settings: Settings | None = None,
    knowledge: Knowledge | None = None,
) -> SurveillancePlan:
    """The dated surveillance plan of ``case`` as of ``on_date``, given the imaging done.

    ``assessment`` is ``assess(case, on_date, settings)``; its risk decides the schedule
    (``risk.surveillance_group``: indeterminate and relapsed cases follow high risk).
    A relapsed case free of disease again is followed on the high-risk schedule from
    ``free_of_disease.since`` (I8). ``imaging=None``: no scan history was given (I13);
    ``()``: a history without scans. Raises :class:`InputError` for case dates or imaging
    dated after ``on_date`` and for imaging dated before the surgery (before the end of
    treatment when no surgery is dated); imaging from the surgery to before the end of
    treatment is read as scans during treatment (I22).
    """
    settings = settings or default_settings()
    knowledge = knowledge or load_knowledge()
    check_dates(case, on_date)
    history_given = imaging is not None
    imaging = tuple(imaging) if imaging is not None else ()
    issues = check_imaging(imaging, case, on_date)
    if issues:
        raise InputError(issues, "imaging history")
    fu = settings.followup
    out = Collector(knowledge, settings.wording())
    risk = assessment.risk
    status = case.stage.status
    free = case.free_of_disease  # only where a treatment can clear it (the case's checks)
    # I22: the plan counted from the operation, a line recorded as adjuvant after it and
    # no recorded end of curative treatment: the earliest day that end can be (the latest
    # start of such a line); None otherwise (one rule, I21's operation included)
    adjuvant_not_before = case.surveillance_end_not_before if free is None else None
    reasons: list[Item] = []
    group_fact = Fact("risk.group", risk.group)
    anchor_basis: AnchorBasis = "treatment_end"
    phase_facts: tuple[Fact, ...] = (group_fact,)
    phase_conditional: tuple[str, ...] = ()
    anchor: dt.date | None
    group: Literal["high", "low"]
    if free is not None:
        # I8: the relapse or the unresectable disease declared the disease's behaviour;
        # the primary's features no longer decide the schedule, whatever the risk panel
        # says.
        anchor, anchor_basis, group = free.since, "free_of_disease", "high"
        anchor_fact = Fact("free_of_disease.since", free.since.isoformat())
        # what it waits on (a planned operation beside it) is decided by the assessment
        after = next((i for i in assessment.followup if i.id == "FU-AFTER-RELAPSE"), None)
        waits = after.conditional_on if after is not None else ()
        reasons.append(out.item("FU-AFTER-RELAPSE", [
            Fact("stage.status", status.value), anchor_fact,
            Fact("free_of_disease.by", free.by.value)], waits))
        phase_conditional = waits
    elif (removal := _removal_asked(assessment)):
        # I21: an operation after the metastases were found may have left the patient free
        # of disease; surveillance is not stopped meanwhile: the high-risk schedule (I8)
        # counts from the operation, provisional on the answer (decided by the assessment)
        anchor, group = case.treatment_end, "high"
        anchor_fact = Fact("derived.primary_treatment_end",
                           anchor.isoformat() if anchor else "unknown")
        reasons.append(out.item("FU-AFTER-RELAPSE", [
            Fact("stage.status", status.value), anchor_fact,
            Fact("free_of_disease", "not recorded")], removal))
        phase_conditional = removal
        if anchor is not None and adjuvant_not_before is not None:
            # I22 as after any operation: a postoperative line without its end
            anchor_fact, anchor_basis, phase_conditional = _counted_from_surgery(
                anchor, removal)
    else:
        anchor, group = case.treatment_end, risk.surveillance_group
        anchor_fact = treatment_end_fact(anchor, case.adjuvant_lines_end)
        if anchor is not None and adjuvant_not_before is not None:
            anchor_fact, anchor_basis, phase_conditional = _counted_from_surgery(anchor, ())
        # indeterminate risk, high-risk until the features are supplied: as the
        # assessment decided it (not where a malignant classification settled it, I14)
        indeterminate = next((i for i in assessment.followup
                              if i.id == "FU-INDETERMINATE"), None)
        if indeterminate is not None:
            reasons.append(out.item("FU-INDETERMINATE", [group_fact],
                                    indeterminate.conditional_on))
        # I10 and I14, decided by the assessment: positive lymph nodes, or nodes not
        # recorded, or a malignant classification of a low-risk tumour: high-risk
        # schedule; nodes recorded as not assessed: the risk group's, saying so.
        reasons.extend(i for i in assessment.followup if i.id in _SCHEDULE_REASONS)
        # the phases name the facts the assessment's schedule items name (the
        # classification, I14; the nodal status not recorded, I10), and wait on what they
        # wait on (I14's missing facts, the surgery status, the nodal status): decided
        # there, read here
        rule = next((i for i in assessment.followup
                     if i.id in (*HIGH_RISK_RULES, *LOW_RISK_RULES)), None)
        if rule is not None:
            phase_facts = rule.triggered_by
            phase_conditional = tuple(dict.fromkeys((*rule.conditional_on,
                                                     *phase_conditional)))
        if group == "low":
            # what the assessment's low-risk schedule waits on (the nodal status, the
            # PEComa diagnosis not yet confirmed, I11, …), said with the reason too
            reasons.append(out.item("FU-LOW-LESS-INTENSIVE", [group_fact],
                                    rule.conditional_on if rule is not None else ()))
    events = sorted(enumerate(imaging), key=lambda p: (p[1].date, p[1].modality.value, p[0]))
    if free is not None:
        # Scans before the free-of-disease date found or followed the relapse.
        surveillance_events = [(i, e) for i, e in events if e.date >= free.since]
    else:
        surveillance_events = events
    disease_present = free is None and not removal and (
        status is not DiseaseStatus.localized or assessment.advanced is True
    )
    # macroscopic tumour left by the resection (R2), whatever its resectability: present
    # disease, as the assessment says (FU-NO-PLAN-RESIDUAL-TUMOUR)
    residual = () if disease_present else residual_tumour(case)
    # the localized primary not removed: present disease too (FU-NO-PLAN-PRIMARY-IN-PLACE)
    in_place = () if disease_present else primary_in_place(case, on_date)
    used_settings = tuple(
        Fact(f"followup.{name}", _setting_text(getattr(fu, name)))
        for name in _SETTING_NAMES[group]
    )

    def finish(
        plan_status: PlanStatus,
        counted_from: dt.date | None = None,
        horizon_end: dt.date | None = None,
        phases: tuple[Phase, ...] = (),
        visits: tuple[Visit, ...] = (),
        cancelled: tuple[Visit, ...] = (),
        history_missing: bool = False,
        baseline: tuple[ImagingEvent, ...] = (),
        baseline_flags: tuple[Item, ...] = (),
        during_treatment: tuple[ImagingEvent, ...] = (),
    ) -> SurveillancePlan:
        every_flag = (*baseline_flags, *(f for v in visits for f in v.flags))
        # the plan lists the flags still open, as its alerts do (one rule): an equivocal
        # scan a later visit read again is settled, and stays on its visit only
        baseline_flags, flags = open_plan_flags(visits, (*during_treatment, *baseline),
                                                baseline_flags)
        for r in (*reasons, *every_flag, *(p.item for p in phases)):
            # what a reason waits on is listed with the plan, not only with the assessment
            for missing_id in r.conditional_on:
                out.missing(missing_id, affects=(r.id,))
        provs = [r.provenance for r in reasons] + [p.item.provenance for p in phases]
        provs += [f.provenance for f in every_flag]
        provs += [pi.provenance for v in visits[:1] for pi in v.imaging]
        return SurveillancePlan(
            format=PLAN_FORMAT,
            evaluated_on=on_date,
            engine_version=__version__,
            knowledge_version=knowledge.version,
            settings_digest=settings.fingerprint,
            label=case.label,
            status=plan_status,
            risk_group=risk.group,
            surveillance_group=group,
            anchor=anchor,
            counted_from=counted_from,
            horizon_end=horizon_end,
            phases=phases,
            visits=visits,
            cancelled=cancelled,
            imaging=tuple(e for _, e in events),
            reasons=tuple(reasons),
            flags=flags,
            interpretations=_interpretations(provs, knowledge),
            settings=used_settings if plan_status != "not_drawn" else (),
            anchor_basis=anchor_basis,
            history_missing=history_missing,
            missing=out.missing_facts(),
            baseline=baseline,
            baseline_flags=baseline_flags,
            during_treatment=during_treatment,
        )

    if disease_present:
        facts = [Fact("stage.status", status.value)]
        if assessment.advanced is not None:
            facts.append(Fact("derived.advanced", "yes" if assessment.advanced else "no"))
        # a planned operation whose day has passed (done since, which would end the
        # disease this reason rests on?): its day shown, the reason provisional on it
        passed = planned_operation_passed(case, on_date)
        if passed is not None:
            facts.append(passed)
        reasons.append(out.item("FU-NO-PLAN-ACTIVE-DISEASE", facts, planned_passed_asked(
            out, passed, ("FU-NO-PLAN-ACTIVE-DISEASE",))))
        return finish("not_drawn")
    if residual:
        # an end of treatment recorded after it is not counted from: was the tumour
        # removed (I18)?
        reasons.append(out.item("FU-NO-PLAN-RESIDUAL-TUMOUR", residual,
                                residual_removed_asked(out, residual)))
        return finish("not_drawn")
    if in_place:
        # an end of treatment recorded beside it is not counted from: was the tumour
        # removed, or treated another way (I20)?
        reasons.append(out.item("FU-NO-PLAN-PRIMARY-IN-PLACE", in_place,
                                primary_removed_asked(out, in_place)))
        return finish("not_drawn")
    if anchor is None:
        facts = [Fact("surgery.status", case.surgery.status.value),
                 Fact("surgery.date", "unknown" if case.surgery.date is None
                      else case.surgery.date.isoformat()),
                 Fact("primary_treatment_end", "unknown")]
        # the question that would date it: the surgery's (or treatment end's) date, or
        # whether the tumour was resected at all when that is not recorded
        conditional = {SurgeryStatus.performed: ("MISS-TREATMENT-END",),
                       SurgeryStatus.unknown: ("MISS-SURGERY-STATUS",)
                       }.get(case.surgery.status, ())
        reasons.append(out.item("FU-NO-ANCHOR", facts, conditional,
                                statements=_schedule_statements(group)))
        return finish("not_drawn")

    rules = _rules(group, fu)
    # I22: while the end of adjuvant treatment is unknown, the phases run from the latest
    # adjuvant line's start (the earliest that end can be): the intensive phase is not cut
    # short by counting it from the surgery
    phases_from = anchor if adjuvant_not_before is None else max(anchor, adjuvant_not_before)
    ends = tuple(None if r.end_month is None else add_months(phases_from, r.end_month)
                 for r in rules)
    if adjuvant_not_before is not None:
        reasons.append(out.item(
            "FU-ADJUVANT-END-NOT-RECORDED",
            [Fact("primary_treatment_end", "not recorded"),
             Fact("derived.primary_treatment_end",
                  "not recorded: adjuvant treatment followed the surgery, so on or after "
                  f"{adjuvant_not_before.isoformat()}"),
             Fact("derived.surveillance_counted_from",
                  f"{anchor.isoformat()} (the surgery), phases from "
                  f"{phases_from.isoformat()}")],
            (out.missing("MISS-ADJUVANT-END", affects=("FU-ADJUVANT-END-NOT-RECORDED",)),),
        ))
    horizon_end = add_months(anchor, fu.horizon_years * 12)
    # I13: with no history given, once the first visit's window has passed nobody knows
    # whether visits were done; a visit is due now rather than a list of guessed misses.
    history_missing = not history_given and add_months(anchor, rules[0].overdue) < on_date
    start_on: dt.date | None = None
    if history_missing:
        start_on = on_date
        reasons.append(out.item(
            "FU-SCAN-HISTORY-MISSING",
            [Fact("imaging", "not given"), anchor_fact],
            (out.missing("MISS-SCAN-HISTORY", affects=("FU-SCAN-HISTORY-MISSING",)),),
            statements=_schedule_statements(group),
        ))
    phases = tuple(
        Phase(
            id=r.id,
            title=item.title,  # worded from the settings the phase is drawn with
            interval_months=r.interval,
            overdue_months=r.overdue,
            starts=anchor if r.start_month == 0 else add_months(phases_from, r.start_month),
            ends=end,
            item=item,
        )
        for r, end in zip(rules, ends, strict=True)
        for item in (out.item(r.record, [*phase_facts, anchor_fact], phase_conditional),)
    )
    builder = _Builder(anchor, rules, ends, _imaging(group, fu), on_date, horizon_end, out,
                       start_on)
    counted_from = builder.build(surveillance_events)
    during = [(i, e) for i, e in surveillance_events if e.date < anchor]
    if during:
        # I22: scans before the end of treatment: kept and shown, no surveillance visit
        reasons.append(out.item("FU-SCANS-DURING-TREATMENT", [
            Fact(f"imaging[{i}].date", f"{e.date.isoformat()} ({e.modality.value}, "
                 f"{e.finding.value.replace('_', ' ')}), before the end of treatment "
                 f"({anchor.isoformat()})")
            for i, e in during]))
    plan_status: PlanStatus = "active"
    if builder.recurrence is None:
        reasons.append(out.item("FU-LIFELONG", [Fact("followup.horizon_years",
                                                     str(fu.horizon_years))]))
    else:
        i, e = builder.recurrence
        reasons.insert(0, out.item("FU-SUSPENDED-RECURRENCE", [
            Fact(f"imaging[{i}].finding",
                 f"{e.finding.value} ({e.modality.value}, {e.date.isoformat()})")]))
        plan_status = "suspended"
    return finish(plan_status, counted_from, horizon_end, phases, tuple(builder.visits),
                  tuple(builder.cancelled), history_missing, builder.baseline,
                  builder.baseline_flags, builder.during_treatment)
