"""The dated surveillance plan as data (:class:`SurveillancePlan`, its :class:`Phase` and
:class:`Visit` values, each with provenance), with what the team must act on now
(:attr:`SurveillancePlan.alerts`). The plan is drawn by :mod:`pecoma.engine.schedule`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.model import Fact, Item, MissingFact, Provenance, UsedInterpretation, to_jsonable

__all__ = [
    "ALERT_LEVELS",
    "LATE_VISITS_TITLE",
    "PLAN_FORMAT",
    "AlertLevel",
    "AnchorBasis",
    "Phase",
    "PlanStatus",
    "PlannedImaging",
    "SurveillancePlan",
    "Timeliness",
    "Visit",
    "VisitStatus",
    "alert_level",
]

PLAN_FORMAT = "pecoma-surveillance-plan/1"


VisitStatus = Literal["done", "missed", "overdue", "due", "upcoming", "cancelled"]
PlanStatus = Literal["active", "suspended", "not_drawn"]
AnchorBasis = Literal["treatment_end", "free_of_disease", "surgery"]
Timeliness = Literal["early", "on_time", "late"]


@dataclass(frozen=True, slots=True)
class PlannedImaging:
    """An examination planned at a visit, with its provenance and when it was done."""

    modality: Modality
    record: str
    provenance: Provenance
    done_on: dt.date | None


@dataclass(frozen=True, slots=True)
class Phase:
    """A stretch of the plan with one rhythm (e.g. every 3 months, overdue after 4)."""

    id: str
    title: str
    interval_months: int
    overdue_months: int
    starts: dt.date
    ends: dt.date | None
    item: Item


@dataclass(frozen=True, slots=True)
class Visit:
    """One surveillance visit: its window, imaging, status and provenance."""

    index: int
    phase: str
    phase_index: int
    due: dt.date
    latest: dt.date
    counted_from: dt.date
    reanchored: bool
    status: VisitStatus
    done_on: dt.date | None
    timeliness: Timeliness | None
    imaging: tuple[PlannedImaging, ...]
    scans: tuple[ImagingEvent, ...]
    flags: tuple[Item, ...]
    record: str
    provenance: Provenance
    interval_from: str | None = None
    """The phase whose interval dated this visit when it is not ``phase``: the period
    before the visit started in that earlier phase, whose rhythm dated it (never later),
    and its due date falls in ``phase`` (whose interval the visits after it follow).
    ``None`` when the visit is dated with its own phase's interval."""
    owed_since: int | None = None
    """For the visit of a planned examination still owed (the visit done just before it
    lacked it): the number of the first visit done that lacked it. The visit is dated on
    that examination's own clock, its first unmet window (its last scan, or the anchor
    when never done, plus the interval and overdue months in force then), so once past
    it the visit is overdue until the examination is done, whatever was done meanwhile.
    ``imaging`` lists only what is owed, unless ``joined_routine`` is set. ``None`` for
    a routine visit."""
    joined_routine: tuple[dt.date, dt.date] | None = None
    """When the routine visit after an owed examination's visit comes due before the
    owed one closes, or is due by the evaluation date, the two are one visit asking for
    every examination: the routine visit's own window (due, latest), the visit being
    dated by the owed examination's. ``None`` otherwise (see
    :attr:`SurveillancePlan.drawn_alike`)."""
    owed: tuple[Modality, ...] = ()
    """The examinations owed at a visit with ``owed_since`` (in ``imaging``'s order)."""
    due_again: tuple[tuple[Modality, dt.date], ...] = ()
    """At a visit with ``joined_routine``: each planned examination not owed, with the
    day it falls due on its own clock (its last scan, one done since the visit that
    lacked the owed examination included, plus the interval in force then). The visit
    asks for it when that day is no later than the routine visit's latest date or the
    evaluation date; otherwise it counts as done (a scan of it in ``scans`` is shown
    done) and is not in ``imaging``. Empty for any other visit."""

    @property
    def done_within(self) -> tuple[tuple[ImagingEvent, dt.date], ...]:
        """The scans of a joined visit that count as done for it, not asked again (see
        ``due_again``): each examination's last one, with the day it falls due again."""
        asked = {p.modality for p in self.imaging}
        out = []
        for m, day in self.due_again:
            if m in asked:
                continue
            last = [e for e in self.scans if e.modality is m]
            if last:
                out.append((last[-1], day))
        return tuple(out)

    @property
    def open(self) -> bool:
        """Still to be done (overdue, due or upcoming)."""
        return self.status in ("overdue", "due", "upcoming")

    @property
    def late_imaging(self) -> tuple[PlannedImaging, ...]:
        """The planned examinations of a visit done that were done after its latest date
        (each makes the visit late, whichever was done first)."""
        if self.status != "done":
            return ()
        return tuple(p for p in self.imaging
                     if p.done_on is not None and p.done_on > self.latest)


#: The plan's reasons that are alerts: the team must act on them.
_ALERT_REASONS = frozenset({"FU-SUSPENDED-RECURRENCE", "FU-SCAN-HISTORY-MISSING",
                            "FU-ADJUVANT-END-NOT-RECORDED"})
#: Flags about one scan's finding: settled when that examination is read again later.
_FLAG_FINDING = {"FU-EQUIVOCAL": ScanFinding.equivocal,
                 "FU-FINDING-NOT-RECORDED": ScanFinding.not_recorded}

AlertLevel = Literal["critical", "warning"]


def open_plan_flags(
    visits: Sequence[Visit], baseline: Sequence[ImagingEvent], baseline_flags: Sequence[Item]
) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """The flags a later visit has not settled: those of the scans at the start of
    surveillance (``baseline``: on the anchor date, and before it during treatment) and
    then every flag still open, the baseline's first. The one rule for the plan's
    ``flags`` and ``baseline_flags`` and for its alerts (report, calendar, registry
    worklist): an equivocal scan, or a scan whose result was not recorded, is settled when
    that examination was done again, with its finding recorded, at a later visit done
    (S26, I16); a planned examination missing at a visit is settled by any later visit
    done (which is flagged in turn if it lacks it too). A visit not done holds the scans
    that stand for no visit (another modality): what they found is read all the same.
    Settled flags stay on their visits (the plan's history)."""
    done = [v for v in visits if v.status == "done"]
    held = [(tuple(baseline), tuple(baseline_flags), 0),
            *((v.scans, v.flags, v.index) for v in visits if v.flags)]
    open_flags: list[Item] = []
    open_baseline: list[Item] = []
    for scans, flags, index in held:
        later = [v for v in done if v.index > index]  # the visits done after these
        again = {e.modality for v in later for e in v.scans
                 if e.finding is not ScanFinding.not_recorded}
        for flag in flags:
            finding = _FLAG_FINDING.get(flag.id)
            if finding is not None:
                if {e.modality for e in scans if e.finding is finding} <= again:
                    continue
            elif later:
                continue
            open_flags.append(flag)
            if index == 0:
                open_baseline.append(flag)
    return tuple(open_baseline), tuple(open_flags)

#: How urgent each of the plan's alerts is, wherever they are shown (the report's
#: summary, the registry's patient page and worklist): a scan that found disease and an
#: equivocal scan need the team's decision now (S26, S27); the others are warnings (the
#: plan cannot be trusted until the missing fact is recorded).
ALERT_LEVELS: Mapping[str, AlertLevel] = {
    "FU-SUSPENDED-RECURRENCE": "critical",
    "FU-EQUIVOCAL": "critical",
    "FU-SCAN-HISTORY-MISSING": "warning",
    "FU-FINDING-NOT-RECORDED": "warning",
    "FU-IMAGING-INCOMPLETE": "warning",
    "FU-IMAGING-INCOMPLETE-LOW": "warning",
    "FU-ADJUVANT-END-NOT-RECORDED": "warning",
}


#: The title of the alert of the visits missed or overdue
#: (:attr:`SurveillancePlan.late_words`), a warning wherever it is listed.
LATE_VISITS_TITLE = "Surveillance imaging missed or overdue"


def alert_level(record_id: str) -> AlertLevel:
    """The level of one of the plan's alerts (a warning unless listed critical)."""
    return ALERT_LEVELS.get(record_id, "warning")


@dataclass(frozen=True, slots=True)
class SurveillancePlan:
    """The dated surveillance plan of one case, as of ``evaluated_on``."""

    format: str
    evaluated_on: dt.date
    engine_version: str
    knowledge_version: str
    settings_digest: str
    label: str | None
    status: PlanStatus
    risk_group: str
    surveillance_group: Literal["high", "low"]
    anchor: dt.date | None
    counted_from: dt.date | None
    horizon_end: dt.date | None
    phases: tuple[Phase, ...]
    visits: tuple[Visit, ...]
    cancelled: tuple[Visit, ...]
    imaging: tuple[ImagingEvent, ...]
    reasons: tuple[Item, ...]
    flags: tuple[Item, ...]
    """The flags still open (:func:`open_plan_flags`): the baseline's first, then the
    visits'. A flag a later visit settled stays on its visit only."""
    interpretations: tuple[UsedInterpretation, ...]
    settings: tuple[Fact, ...] = field(default=())
    anchor_basis: AnchorBasis = "treatment_end"
    """What ``anchor`` is: the end of curative treatment of the primary, the date a
    relapsed patient became free of disease again (I8), or the surgery while the end of
    the adjuvant treatment that followed it is not recorded (``surgery``: every date
    provisional, I22)."""
    history_missing: bool = False
    """No scan history was given and a visit could already be late (I13): the first open
    visit is due on the evaluation date."""
    missing: tuple[MissingFact, ...] = ()
    baseline: tuple[ImagingEvent, ...] = ()
    """Scans on the anchor date itself (the surgery date, or the date free of disease):
    the start of surveillance, not a visit."""
    baseline_flags: tuple[Item, ...] = ()
    """What the baseline scans and the scans during treatment call for (an equivocal
    finding, a result not recorded) while no later visit has read that examination again
    (:func:`open_plan_flags`), also listed first in ``flags``."""
    during_treatment: tuple[ImagingEvent, ...] = ()
    """Scans after the surgery and before the end of curative treatment (during adjuvant
    treatment, I22): kept and shown, but no surveillance visit's."""

    @property
    def alerts(self) -> tuple[Item, ...]:
        """What the team must act on now, once per kind, for every place that lists
        alerts (report summary, registry patient page, worklist): a recurrence that
        suspended the plan, a missing scan history (I13), an end of adjuvant treatment
        not recorded (the dates are provisional, I22), and the visits' flags that a
        later visit has not settled (a visit not done included: it holds the scans of
        another modality, which stand for no visit). An equivocal scan, or a scan whose
        result was not recorded, is settled when that examination was done again, with its finding
        recorded, at a later visit done; a planned examination missing at a visit is
        settled by any later visit done (which is flagged in turn if it lacks it too).
        The baseline scans' flags (scans on the anchor date, and before it during
        treatment) are settled in the same way by the visits done. Settled flags stay on
        their visits (the plan's history). An alert raised at several visits keeps the
        facts of each."""
        _baseline, open_flags = open_plan_flags(
            self.visits, (*self.during_treatment, *self.baseline), self.baseline_flags)
        merged: dict[str, Item] = {}
        for item in (*(r for r in self.reasons if r.id in _ALERT_REASONS), *open_flags):
            seen = merged.get(item.id)
            merged[item.id] = item if seen is None else dataclasses.replace(
                seen,
                triggered_by=seen.triggered_by + item.triggered_by,
                conditional_on=tuple(dict.fromkeys(seen.conditional_on + item.conditional_on)),
            )
        return tuple(merged.values())

    @property
    def anchor_words(self) -> str:
        """What the plan counts from, in words (without the date)."""
        if self.anchor_basis == "free_of_disease":
            return "the date free of disease again"
        if self.anchor_basis == "surgery":
            return "the surgery (end of adjuvant treatment not recorded: provisional)"
        return "the end of treatment"

    @property
    def next_visit(self) -> Visit | None:
        """The first visit not done (overdue, due or upcoming); None when not drawn."""
        for v in self.visits:
            if v.open:
                return v
        return None

    @property
    def drawn_alike(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last evaluation dates (``None``: no bound) on which the plan,
        with the same facts and scans, is drawn with these visits, each open visit's
        status following from its dates alone. The one visit that depends on the
        evaluation date is an open owed examination's (``Visit.owed_since``): the routine
        visit after it is joined to it once due by the evaluation date
        (:mod:`pecoma.engine.schedule`). Not joined, the plan holds up to the day before
        that routine visit's due date (the visit listed after it); joined by the date
        (its due date after the owed visit's latest date, which alone would not join
        them), it holds from that due date on. The registry's stored worklist state
        holds for these days (:mod:`pecoma.registry.state`)."""
        first: dt.date | None = None
        last: dt.date | None = None
        for n, v in enumerate(self.visits, 1):
            if not v.open or v.owed_since is None:
                continue
            if v.joined_routine is None:
                if n < len(self.visits):
                    day = self.visits[n].due - dt.timedelta(days=1)
                    last = day if last is None else min(last, day)
            else:
                if v.joined_routine[0] > v.latest:
                    first = v.joined_routine[0] if first is None else max(
                        first, v.joined_routine[0])
                # an examination due again on its own clock after the routine window is
                # asked from that day on, by the evaluation date
                asked = {p.modality for p in v.imaging}
                for m, day in v.due_again:
                    if day <= v.joined_routine[1]:
                        continue
                    if m in asked:
                        first = day if first is None else max(first, day)
                    else:
                        before = day - dt.timedelta(days=1)
                        last = before if last is None else min(last, before)
        return first, last

    @property
    def overdue(self) -> tuple[Visit, ...]:
        return tuple(v for v in self.visits if v.status == "overdue")

    @property
    def late(self) -> tuple[Visit, ...]:
        """The visits missed or overdue: no scan recorded for them (S18-S20, S26)."""
        return tuple(v for v in self.visits if v.status in ("overdue", "missed"))

    @property
    def late_words(self) -> str | None:
        """What the visits missed or overdue call for, in words (the first three named,
        the others counted), for every output that lists what to act on now (the
        report's summary, the CarePlan); ``None`` when there are none. Its title is
        :data:`LATE_VISITS_TITLE`, its level a warning."""
        late = self.late
        if not late:
            return None
        words = "; ".join(
            f"visit {v.index} {'overdue' if v.status == 'overdue' else 'missed'}"
            f" (due {v.due.isoformat()}, overdue after {v.latest.isoformat()})"
            for v in late[:3]
        )
        more = f" and {len(late) - 3} more" if len(late) > 3 else ""
        return f"No scan is recorded for {words}{more}. Book the scan or record it."

    def record_ids(self) -> tuple[str, ...]:
        """Ids of every knowledge record this plan names, in reading order."""
        ids = [r.id for r in self.reasons] + [p.item.id for p in self.phases]
        for v in (*self.visits, *self.cancelled):
            ids += [v.record, *(pi.record for pi in v.imaging), *(f.id for f in v.flags)]
        ids += [m for r in self.reasons for m in r.conditional_on]
        return tuple(dict.fromkeys(ids))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, with the next visit's index added for worklists."""
        data: dict[str, Any] = to_jsonable(self)
        nxt = self.next_visit
        data["next_visit"] = None if nxt is None else to_jsonable(nxt)
        return data
