"""A patient's stored surveillance state: what the worklist needs, kept with the registry.

Drawing every patient's plan on each request costs a full assessment per patient. Yet a
plan, as of any date after the latest date in the case and its scans, has the same next
visit and the same alerts: the visits before it are done or missed by the scans, and the
status of the next one (upcoming, due, overdue; done when a scan is recent) depends on
the date only through its due and latest dates. One exception: an owed examination's
visit still open is joined to the routine visit after it once that is due, so the plan
is drawn alike only up to the day before that due date, or from it on
(:attr:`~pecoma.engine.plan.SurveillancePlan.drawn_alike`). So the registry keeps, per
patient, that next visit, the last visit done, the plan's status, reason and alerts, and
the basis they were computed on (case version, the patient's scan stamp, knowledge,
engine and settings versions, ``valid_from``, the earliest date they hold for, and
``valid_until``, the last: after it the worklist recomputes the patient). A state computed
here carries no scan stamp: the code that stores it sets the stamp read before the scans
(:class:`~pecoma.store.repository.StateData`). :func:`state_from` is
the one place a plan becomes such a state; :func:`compute_state` and
:func:`plan_and_state` draw the plan for it, and every write (import, a case version, a
scan, a re-assessment) stores the result in its own transaction
(:mod:`pecoma.store.repository`). Recording an outcome or a board decision does not
change the plan: who left surveillance is read from the outcomes as of the worklist's
date.

:func:`pecoma.registry.worklist.stored_worklist` reads the states; :func:`is_usable`
says when one may be used as of a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from pecoma import __version__
from pecoma.case import Case, SurgeryStatus, dated_facts, parse_case
from pecoma.engine import Assessment, assess
from pecoma.engine.collect import template_of
from pecoma.engine.imaging import ScanFinding
from pecoma.engine.model import Item
from pecoma.engine.plan import SurveillancePlan
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.registry.plan import done_by, plan_for
from pecoma.settings import Settings
from pecoma.store.repository import ScanData, StateData, StateRow

__all__ = [
    "NOT_EVALUABLE",
    "NO_ANCHOR",
    "PROVISIONAL_SCHEDULE",
    "Planned",
    "Versions",
    "compute_state",
    "is_usable",
    "plan_and_state",
    "planned_day_bounds",
    "state_from",
    "undated_asks",
    "valid_from",
    "versions",
]

Versions = tuple[str, str, str]
"""Knowledge version, engine version, settings digest."""


def versions(settings: Settings, knowledge: Knowledge | None = None) -> Versions:
    """The versions a state computed now would carry."""
    return ((knowledge or load_knowledge()).version, __version__, settings.fingerprint)


def valid_from(case: Case, scans: Sequence[ScanData]) -> dt.date | None:
    """The earliest evaluation date the case and its scans can be assessed on: the latest
    date among the case's facts and the scans (``None``: any date)."""
    days = [day for _path, day in dated_facts(case)]
    if case.latest_date is not None:
        days.append(case.latest_date)
    days += [s.performed_on for s in scans]
    return max(days, default=None)


def planned_day_bounds(case: Case | None, day: dt.date | None
                       ) -> tuple[dt.date | None, dt.date | None]:
    """The days a state computed as of ``day`` holds for, as far as the case's own dates
    the engine compares with the evaluation date say (``None``: no bound): a surgery
    recorded as planned is asked about once its day has passed
    (``MISS-PLANNED-OPERATION-PASSED``), so a state computed on or before that day holds
    up to it, one computed after it from the day after it; and a line of systemic
    therapy starting on ``day`` beside a resection of no recorded date is taken as not
    before it that day only (:func:`pecoma.engine.facts.derive`), so the state holds up
    to ``day``. Every other date in the case is on or before ``valid_from``."""
    if case is None or day is None:
        return None, None
    first: dt.date | None = None
    until: dt.date | None = None
    surgery = case.surgery
    if surgery.status is SurgeryStatus.planned and surgery.date is not None:
        if surgery.date >= day:
            until = surgery.date
        else:
            first = surgery.date + dt.timedelta(days=1)
    if surgery.status is SurgeryStatus.performed and surgery.date is None and any(
            t.started_on == day for t in case.systemic.therapies):
        until = day if until is None else min(until, day)
    return first, until


def _problem(exc: InputError) -> str:
    return "; ".join(str(i) for i in exc.issues)


#: What the reason of a patient whose case cannot be evaluated says before the problem.
NOT_EVALUABLE = "the case cannot be evaluated as of the date: "

_SUSPENDED = "FU-SUSPENDED-RECURRENCE"

#: The plan's reasons that make its schedule provisional on a fact not known: those that
#: put a low-risk tumour on the high-risk schedule only because a fact is missing (the
#: safer default meanwhile): the nodal status not recorded (I10), a classification open
#: to malignant on missing facts (I14), or because the tumour is not resected yet (I6);
#: and the low-risk schedule kept while the nodes are recorded as not assessed, which
#: positive nodes would make the high-risk one (I10: not kept silently). The row names
#: the reason and carries it, with each missing fact it waits on (its question), as
#: warnings.
PROVISIONAL_SCHEDULE = ("FU-NODES-UNKNOWN-LOW-RISK", "FU-MAY-BE-MALIGNANT-LOW-RISK",
                        "FU-MAY-BE-MALIGNANT-NOT-RESECTED", "FU-NODES-NOT-ASSESSED")

#: The margin questions a schedule drawn from a resection waits on while whether it left
#: gross tumour is not recorded (with gross tumour left no calendar is drawn, I18): the
#: row carries the ones its schedule waits on as warnings, as it does the missing facts
#: of :data:`PROVISIONAL_SCHEDULE`.
MARGIN_QUESTIONS = ("MISS-MARGIN", "MISS-PRIMARY-MARGIN", "MISS-COMPLETION-MARGIN",
                    "MISS-PRIMARY-COMPLETION-MARGIN")


#: The reason of a plan not drawn although surveillance is owed: the tumour is out (or
#: not known to be in place) and no disease is recorded, but the start of surveillance is
#: not known, so no visit can be dated (S18, S26).
NO_ANCHOR = "FU-NO-ANCHOR"


def undated_asks(why: Item) -> tuple[str, ...]:
    """What the row of a plan not drawn for the reason ``why`` carries as warnings: the
    missing facts the reason waits on (each shown as its question), whose answer may date
    a visit that is already due; for :data:`NO_ANCHOR` with none asked, the reason
    itself (surveillance is owed and its visits cannot be dated). ``()`` when no
    surveillance is owed meanwhile: disease present (FU-NO-PLAN-ACTIVE-DISEASE), gross
    tumour left by an R2 resection (FU-NO-PLAN-RESIDUAL-TUMOUR) or the primary in place
    (FU-NO-PLAN-PRIMARY-IN-PLACE), with nothing asked that would say it was removed:
    imaging follows the treatment plan, not a surveillance calendar."""
    if why.conditional_on:
        return why.conditional_on
    return (why.id,) if why.id == NO_ANCHOR else ()


def _disease_found(case: Case | None, scans: Sequence[ScanData]) -> ScanData | None:
    """The latest stored scan that found local recurrence or metastasis, leaving out the
    scans before the date the case says the patient is free of disease again (I8: they
    belong to the relapse treated since)."""
    free = case.free_of_disease if case is not None else None
    found = [sc for sc in scans if ScanFinding(sc.finding).disease
             and (free is None or sc.performed_on >= free.since)]
    return found[-1] if found else None


def state_from(
    a: Assessment | None,
    plan: SurveillancePlan | None,
    problem: str | None,
    scans: Sequence[ScanData],
    valid: dt.date | None,
    basis: Versions,
    case: Case | None = None,
    knowledge: Knowledge | None = None,
    on: dt.date | None = None,
) -> StateData:
    """The stored form of a patient's evaluation (assessment, plan or the problem): the
    plan's status and reason, its next open visit and last visit done, and its alerts.

    A plan whose schedule is provisional on a fact not known, such as the high-risk
    schedule only because a fact is missing (:data:`PROVISIONAL_SCHEDULE`), names that
    reason and its source beside the visit's,
    and carries it and the missing facts it waits on as alerts (warnings; a missing
    fact's title is its question); so too a schedule that waits on a resection margin not
    recorded (:data:`MARGIN_QUESTIONS`). A plan not drawn although surveillance may be
    owed carries the questions that would date it as warnings (:func:`undated_asks`).

    A case that cannot be evaluated (the problem) with a stored scan that found disease
    is suspended all the same, with the plan's critical alert (S27, S17): the scan is
    what the team must act on first, whatever date elsewhere is wrong; the reason says
    both.

    ``on``: the date the plan was drawn as of; with ``case``, the state holds only for
    the days the case's own dates give the same output (:func:`planned_day_bounds`)."""
    # the days the plan is drawn alike (an owed examination's visit joined to the routine
    # visit once that is due): the state holds for those only
    first, until = plan.drawn_alike if plan is not None else (None, None)
    if first is not None and (valid is None or first > valid):
        valid = first
    # the case's own dates the engine compares with the evaluation date ``on``
    after, before = planned_day_bounds(case, on)
    if after is not None and (valid is None or after > valid):
        valid = after
    if before is not None and (until is None or before < until):
        until = before
    common: dict[str, Any] = {
        "scan_stamp": None,  # stamped where it is stored (see StateData)
        "knowledge_version": basis[0],
        "engine_version": basis[1],
        "settings_digest": basis[2],
        "valid_from": valid,
        "valid_until": until,
        "risk_group": a.risk.group if a else None,
        "disease_status": a.disease_status if a else None,
        "last_scan": scans[-1].performed_on if scans else None,
        "visit": None,
        "phase": None,
        "due": None,
        "latest": None,
        "imaging": (),
        "last_done_visit": None,
        "last_done_on": None,
        "record": None,
        "provenance": None,
        "alerts": () if plan is None else tuple(i.id for i in plan.alerts),
    }
    if plan is None:
        found = _disease_found(case, scans)
        if found is None:
            return StateData(plan_status="not_evaluable", reason=problem or "", **common)
        item = template_of(knowledge or load_knowledge(), _SUSPENDED)
        return StateData(
            plan_status="suspended",
            reason=f"{item.title}: {found.finding} on the {found.modality} of "
                   f"{found.performed_on.isoformat()}; {NOT_EVALUABLE}{problem or ''}",
            **{**common, "record": _SUSPENDED, "provenance": item.provenance.label,
               "alerts": (_SUSPENDED,)},
        )
    if plan.status in ("not_drawn", "suspended"):
        why = (plan.reasons[-1] if plan.status == "not_drawn" else plan.reasons[0]) \
            if plan.reasons else None
        fallback = "no plan can be dated" if plan.status == "not_drawn" \
            else "surveillance suspended"
        if plan.status == "not_drawn" and why is not None:
            common["alerts"] = tuple(dict.fromkeys((*common["alerts"], *undated_asks(why))))
        reason = why.title if why else fallback
        passed = next((f for f in why.triggered_by if f.path == "surgery.date"
                       and str(f.value).endswith("planned, passed")), None) if why else None
        if passed is not None:  # the row names the day its question is asked of
            reason += f"; surgery planned for {str(passed.value).split(',', 1)[0]}, " \
                "a day passed: was it done?"
        return StateData(
            plan_status=plan.status,
            reason=reason,
            **{**common, "record": why.id if why else None,
               "provenance": why.provenance.label if why else None},
        )
    nxt = plan.next_visit
    if nxt is None:
        return StateData(plan_status="not_drawn", reason="no open visit in the plan", **common)
    done = [v for v in plan.visits if v.status == "done"]
    last = done[-1] if done else None
    reason = f"visit {nxt.index} ({nxt.phase}), window {nxt.due} to {nxt.latest}"
    if nxt.owed_since is not None:
        # its window may share the visit's that lacked the examination: said plainly
        from pecoma.render.schedule import owed_note
        reason += f"; {owed_note(plan, nxt)}"
    provenance = nxt.provenance.label
    why = next((r for r in plan.reasons if r.id in PROVISIONAL_SCHEDULE), None)
    if why is not None:  # the schedule is the safer one meanwhile: say why, ask the fact
        reason += f"; {why.title}"
        provenance += f"; {why.provenance.label}"
        common["alerts"] = tuple(dict.fromkeys(
            (*common["alerts"], why.id, *why.conditional_on)))
    margin = tuple(dict.fromkeys(m for phase in plan.phases
                                 for m in phase.item.conditional_on if m in MARGIN_QUESTIONS))
    if margin:  # drawn meanwhile: whether the resection left gross tumour is asked
        reason += "; provisional on the resection margin, not recorded"
        common["alerts"] = tuple(dict.fromkeys((*common["alerts"], *margin)))
    return StateData(
        plan_status="active",
        reason=reason,
        **{
            **common,
            "visit": nxt.index,
            "phase": nxt.phase,
            "due": nxt.due,
            "latest": nxt.latest,
            "imaging": tuple(p.modality.value for p in nxt.imaging),
            "last_done_visit": last.index if last else None,
            "last_done_on": last.done_on if last else None,
            "record": nxt.record,
            "provenance": provenance,
        },
    )


class Planned(NamedTuple):
    """A case's plan as of an evaluation date (see :func:`plan_and_state`)."""

    now: StateData
    """The plan as of the date, with the scans done by then, as the worklist of that
    date reads it: its next due date, status and reason (not to be stored)."""
    state: StateData
    """The patient's worklist state to store: it holds from ``valid_from`` on."""
    problem: str | None
    """Why the plan cannot be drawn as of the date (``None``: it can)."""

    @property
    def due(self) -> dt.date | None:
        """The next due date as of the date (``None``: no open visit)."""
        return self.now.due


def plan_and_state(
    case: Case,
    a: Assessment,
    on_date: dt.date,
    scans: Sequence[ScanData],
    settings: Settings,
    knowledge: Knowledge | None = None,
) -> Planned:
    """For a case assessed as of ``on_date``: its plan as of that date, the patient's
    worklist state, and why the plan cannot be drawn as of that date.

    The plan as of ``on_date`` is drawn with the scans done by then
    (:func:`~pecoma.registry.plan.done_by`), as the worklist of that date draws it. The
    state holds from ``valid_from`` on: with a scan after ``on_date`` it is drawn as of
    ``valid_from`` (:func:`compute_state`); otherwise it is the same plan's, drawn once."""
    basis = versions(settings, knowledge)
    valid = valid_from(case, scans)
    later = valid is not None and valid > on_date
    done = done_by(scans, on_date)
    try:
        plan = plan_for(case, a, on_date, scans, settings, knowledge)
    except InputError as exc:
        problem = _problem(exc)
        now = state_from(a, None, problem, done, valid, basis, case, knowledge, on_date)
        state = compute_state(case, scans, on_date, settings, knowledge) if later else now
        return Planned(now, state, problem)
    now = state_from(a, plan, None, done, valid, basis, case, knowledge, on_date)
    if later:
        # a scan after the evaluation date: the state, which holds later, knows it
        return Planned(now, compute_state(case, scans, on_date, settings, knowledge), None)
    return Planned(now, now, None)


def compute_state(
    case: Case | dict[str, Any],
    scans: Sequence[ScanData],
    on_date: dt.date,
    settings: Settings,
    knowledge: Knowledge | None = None,
) -> StateData:
    """A patient's worklist state from its latest case (stored data or parsed) and scans.

    It is drawn as of ``on_date``, or as of ``valid_from`` when that is later, so that it
    holds for every date from ``valid_from`` on.
    """
    basis = versions(settings, knowledge)
    if not isinstance(case, Case):
        try:
            case = parse_case(case, source="stored case")
        except InputError as exc:
            return state_from(None, None, _problem(exc), scans, None, basis,
                              knowledge=knowledge)
    valid = valid_from(case, scans)
    day = on_date if valid is None or valid <= on_date else valid
    a: Assessment | None = None
    try:
        a = assess(case, day, settings, knowledge)
        plan = plan_for(case, a, day, scans, settings, knowledge)
    except InputError as exc:
        return state_from(a, None, _problem(exc), scans, valid, basis, case, knowledge, day)
    return state_from(a, plan, None, scans, valid, basis, case, knowledge, day)


def is_usable(row: StateRow, on_date: dt.date, basis: Versions) -> bool:
    """The stored state is current, knows its alerts and holds as of ``on_date`` (from
    its ``valid_from`` up to its ``valid_until``)."""
    st = row.state
    return (
        st is not None
        and row.current
        and st.alerts is not None
        and (st.knowledge_version, st.engine_version, st.settings_digest) == basis
        and (st.valid_from is None or on_date >= st.valid_from)
        and (st.valid_until is None or on_date <= st.valid_until)
    )
