"""The stored worklist: each patient's surveillance state, kept with the registry.

Drawing every patient's plan on each request costs a full assessment per patient. Yet a
plan, as of any date after the latest date in the case and its scans, has the same next
visit: the visits before it are done or missed by the scans, and the status of the next
one (upcoming, due, overdue; done when a scan is recent) depends on the date only through
its due and latest dates. So the registry keeps, per patient, that next visit, the last
visit done, the plan's status and reason, and the basis they were computed on (case
version, number of scans, knowledge, engine and settings versions, and ``valid_from``,
the earliest date they hold for). :func:`compute_state` draws them; every write stores
them in its own transaction (:mod:`pecoma.store.repository`).

:func:`stored_worklist` then reads one row per patient and classifies it. A patient
whose stored state is missing, was computed from another case version, scan count,
knowledge, engine or settings version, or does not hold for the date asked (before
``valid_from``), is recomputed by the reference path,
:func:`pecoma.registry.worklist.evaluate`, so the rows are always exactly those of a
full recomputation (a test holds the two equal).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from pecoma import __version__
from pecoma.case import Case, dated_facts, parse_case
from pecoma.engine import Assessment, assess
from pecoma.engine.plan import SurveillancePlan
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.registry.plan import plan_for
from pecoma.registry.worklist import (
    DEFAULT_RECENT_DAYS,
    WorkItem,
    WorkStatus,
    build_worklist,
    close,
    evaluate,
    select,
)
from pecoma.settings import Settings
from pecoma.store.repository import Repository, ScanData, StateData, StateRow

__all__ = [
    "Versions",
    "compute_state",
    "is_usable",
    "plan_and_state",
    "state_from",
    "stored_worklist",
    "valid_from",
    "versions",
]

log = logging.getLogger(__name__)

Versions = tuple[str, str, str]
"""Knowledge version, engine version, settings digest."""


def versions(settings: Settings, knowledge: Knowledge | None = None) -> Versions:
    """The versions a state computed now would carry."""
    return ((knowledge or load_knowledge()).version, __version__, settings.digest())


def valid_from(case: Case, scans: Sequence[ScanData]) -> dt.date | None:
    """The earliest evaluation date the case and its scans can be assessed on: the latest
    date among the case's facts and the scans (``None``: any date)."""
    days = [day for _path, day in dated_facts(case)]
    if case.latest_date is not None:
        days.append(case.latest_date)
    days += [s.performed_on for s in scans]
    return max(days, default=None)


def _problem(exc: InputError) -> str:
    return "; ".join(str(i) for i in exc.issues)


def state_from(
    a: Assessment | None,
    plan: SurveillancePlan | None,
    problem: str | None,
    scans: Sequence[ScanData],
    valid: dt.date | None,
    basis: Versions,
) -> StateData:
    """The stored form of a patient's evaluation (assessment, plan or the problem)."""
    common: dict[str, Any] = {
        "scan_count": len(scans),
        "knowledge_version": basis[0],
        "engine_version": basis[1],
        "settings_digest": basis[2],
        "valid_from": valid,
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
    }
    if plan is None:
        return StateData(plan_status="not_evaluable", reason=problem or "", **common)
    if plan.status in ("not_drawn", "suspended"):
        why = (plan.reasons[-1] if plan.status == "not_drawn" else plan.reasons[0]) \
            if plan.reasons else None
        fallback = "no plan can be dated" if plan.status == "not_drawn" \
            else "surveillance suspended"
        return StateData(
            plan_status=plan.status,
            reason=why.title if why else fallback,
            **{**common, "record": why.id if why else None,
               "provenance": why.provenance.label if why else None},
        )
    nxt = plan.next_visit
    if nxt is None:
        return StateData(plan_status="not_drawn", reason="no open visit in the plan", **common)
    done = [v for v in plan.visits if v.status == "done"]
    last = done[-1] if done else None
    return StateData(
        plan_status="active",
        reason=f"visit {nxt.index} ({nxt.phase}), window {nxt.due} to {nxt.latest}",
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
            "provenance": nxt.provenance.label,
        },
    )


def plan_and_state(
    case: Case,
    a: Assessment,
    on_date: dt.date,
    scans: Sequence[ScanData],
    settings: Settings,
    knowledge: Knowledge | None = None,
) -> tuple[dt.date | None, StateData]:
    """For a case assessed as of ``on_date``: the next due date as of that date (``None``
    when no plan can be drawn) and the patient's worklist state, drawing the plan once."""
    basis = versions(settings, knowledge)
    valid = valid_from(case, scans)
    if valid is not None and valid > on_date:
        # a scan after the evaluation date: no plan as of on_date; the state holds later
        return None, compute_state(case, scans, on_date, settings, knowledge)
    try:
        plan = plan_for(case, a, on_date, scans, settings, knowledge)
    except InputError as exc:
        return None, state_from(a, None, _problem(exc), scans, valid, basis)
    nxt = plan.next_visit
    return (None if nxt is None else nxt.due), state_from(a, plan, None, scans, valid, basis)


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
            return state_from(None, None, _problem(exc), scans, None, basis)
    valid = valid_from(case, scans)
    day = on_date if valid is None or valid <= on_date else valid
    a: Assessment | None = None
    try:
        a = assess(case, day, settings, knowledge)
        plan = plan_for(case, a, day, scans, settings, knowledge)
    except InputError as exc:
        return state_from(a, None, _problem(exc), scans, valid, basis)
    return state_from(a, plan, None, scans, valid, basis)


_STATUS = {s.value: s for s in WorkStatus}


def is_usable(row: StateRow, on_date: dt.date, basis: Versions) -> bool:
    """The stored state is current and holds as of ``on_date``."""
    st = row.state
    return (
        st is not None
        and row.current
        and (st.knowledge_version, st.engine_version, st.settings_digest) == basis
        and (st.valid_from is None or on_date >= st.valid_from)
    )


def stored_worklist(
    repo: Repository,
    on_date: dt.date,
    settings: Settings,
    recent_days: int = DEFAULT_RECENT_DAYS,
) -> list[WorkItem]:
    """The worklist as of ``on_date`` from the stored states, in priority order.

    Gives exactly the rows of ``build_worklist(evaluate(repo.states(), on_date, settings),
    on_date, recent_days)``: patients without a usable stored state (see
    :func:`is_usable`; checked in SQL here) are recomputed that way.
    """
    basis = versions(settings)
    items: list[WorkItem] = []
    redo: list[int] = []
    rows = repo.worklist_rows(on_date, *basis)
    overdue, due_, upcoming, done = (WorkStatus.overdue, WorkStatus.due, WorkStatus.upcoming,
                                     WorkStatus.done)
    append = items.append
    for (pid, rid, ok, plan, risk, disease, last_scan, visit, phase, due, latest, imaging,
         done_visit, done_on, record, provenance, reason) in rows:
        if not ok:
            redo.append(pid)
            continue
        # the rules of worklist._item, over the plain row
        if plan != "active" or due is None or latest is None:
            append(WorkItem(rid, _STATUS[plan], None, None, None, None, None, (), last_scan,
                            risk, disease, record, provenance, reason))
            continue
        if on_date > latest:
            status = overdue
        elif on_date >= due:
            status = due_
        else:
            status = upcoming
        if status is upcoming and done_on is not None and (
            (on_date - done_on).days <= recent_days
        ):
            status = done
            reason = f"visit {done_visit} done on {done_on}; next {reason}"
        append(WorkItem(rid, status, due, latest,
                        (on_date - latest).days if status is overdue else None, visit,
                        phase, tuple(imaging.split()) if imaging else (), last_scan, risk,
                        disease, record, provenance, reason))
    if redo:
        log.info("worklist: %d patients recomputed (no current stored state)", len(redo))
        items += build_worklist(evaluate(repo.states(redo), on_date, settings), on_date,
                                recent_days)
    return select(close(items, closures(repo, on_date)))


def closures(repo: Repository, on_date: dt.date) -> dict[str, tuple[str, str]]:
    """Registry id -> (status, reason) of every patient who left surveillance as of
    ``on_date`` (died, or lost to follow-up; outcomes dated later do not count)."""
    from pecoma.registry.outcomes import closure

    out: dict[str, tuple[str, str]] = {}
    for rid, outcomes in repo.outcomes_by_registry_id().items():
        c = closure([o for o in outcomes if o.event_date <= on_date])
        if c is not None:
            out[rid] = (c.status, c.reason)
    return out
