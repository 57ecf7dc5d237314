"""The surveillance worklist: as of a date, every patient's next scan, its status and the
plan's alerts.

There is one way to get it, :func:`stored_worklist`, used by the command line, the web
pages and every export: it reads each patient's stored state (:mod:`pecoma.registry.state`:
the next visit, the last visit done, the plan's status, reason and alerts, kept current by
every write) and applies the status rules below, in one place (:func:`_item`). A patient
whose stored state is missing, was computed with another knowledge, engine or settings
version, lacks its alerts, or does not hold for the date asked (before its
``valid_from``), is assessed and planned again as of that date (:func:`evaluate`, the
reference path, whose plans pass through the same state and rules), so the rows are
always those of a full recomputation; never a stale status.

Statuses (in this order within the priority order, below):

============  =======================================================================
overdue       the next visit is past its latest date (e.g. 4 months in "every 3-4")
due           the next visit's window is open (due date reached, latest not passed)
upcoming      the next visit's due date is still ahead
done          a visit was done within the last ``recent_days`` days; the next is ahead
suspended     a scan found recurrence or metastasis: the plan is suspended (S27, S17);
              or a relapse recorded as an outcome that the case does not hold stopped
              routine surveillance (:mod:`pecoma.registry.routine`); both also when
              the case cannot be evaluated (the reason then says why as well): a
              wrong date elsewhere never hides a relapse
not_drawn     no plan can be dated: disease or the tumour present (no alert: imaging
              follows the treatment plan), or surveillance owed but a fact that would
              date it missing, e.g. the surgery date (its question a warning,
              :func:`undated`; ranked with the case not evaluable, below)
not_evaluable the stored case cannot be assessed as of the date (the reason says why),
              and no scan nor outcome recorded a relapse; the warning
              :data:`CASE_NOT_EVALUABLE` says so and asks for a corrected case version
deceased      a death is recorded: the patient has left surveillance
lost_to_follow_up  the latest contact says lost to follow-up, nothing recorded after it
============  =======================================================================

The priority order (:func:`priority`, the default) lists first the patients whose scan
needs the team's decision now, whatever their status: a scan that found disease (the
plan suspended for it), then an equivocal scan (both critical alerts, S26, S27), then a
last contact alive with disease that the case does not hold (critical too), then a
scan whose result was not recorded (unknown: it may have found disease), then a stored
case that cannot be evaluated or a plan not drawn for want of a fact asked (a warning:
its next visit is unknown, and may be overdue);
then the others by status as above, each status by due date. A patient is never left out: one
without a plan, or who left surveillance, is listed with the reason (last, below every
patient still followed, except one lost to follow-up with a finding left open, a scan
or an outcome of disease no one has decided on: its critical alert stays and ranks it
first). Whether routine surveillance stopped (a death, a loss to
follow-up, a relapse) is decided by the one rule of :mod:`pecoma.registry.routine`, as
for the patient's page, its calendar and the surveillance quality figures.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gc
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import orjson

from pecoma.case import Case, parse_case
from pecoma.engine import Assessment, assess
from pecoma.engine.collect import template_of
from pecoma.engine.plan import AlertLevel, SurveillancePlan, alert_level
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.registry.cells import csv_cell
from pecoma.registry.plan import done_by, plan_for
from pecoma.settings import Settings

if TYPE_CHECKING:  # the database layer is imported only where it is used
    from pecoma.registry.routine import Routine
    from pecoma.store.repository import PatientState, Repository, RoutineFacts

__all__ = [
    "CASE_NOT_EVALUABLE",
    "DEFAULT_RECENT_DAYS",
    "DISEASE_NOT_IN_CASE",
    "Alert",
    "Evaluated",
    "SortKey",
    "WorkItem",
    "WorkStatus",
    "apply_routine",
    "build_worklist",
    "evaluate",
    "not_evaluable_alert",
    "priority",
    "routine_facts",
    "select",
    "stored_worklist",
    "to_csv",
    "to_ics",
    "to_json",
    "undated",
    "worklist_uid",
]

log = logging.getLogger(__name__)

DEFAULT_RECENT_DAYS = 30


class WorkStatus(StrEnum):
    overdue = "overdue"
    due = "due"
    upcoming = "upcoming"
    done = "done"
    suspended = "suspended"
    not_drawn = "not_drawn"
    not_evaluable = "not_evaluable"
    deceased = "deceased"
    lost_to_follow_up = "lost_to_follow_up"


#: The registry's alert on a last contact that says alive with disease while the latest
#: case holds none (:mod:`pecoma.registry.routine`): a relapse not recorded, or a wrong
#: vital status. Critical, as a scan that found disease or an equivocal one: disease is
#: reported present and no one has decided on it, and routine visits are suspended for
#: it, so the row must not wait among them (S17, S27).
DISEASE_NOT_IN_CASE = "REGISTRY-DISEASE-NOT-IN-CASE"

#: The registry's alert on a patient whose stored case cannot be evaluated (status
#: ``not_evaluable``, or suspended for a relapse as well): e.g. a case stored before a
#: check that now refuses it. No visit can be dated, so the patient would otherwise drop
#: silently out of the work queue (S18): a warning, saying why and what to do, ranked
#: with the warnings the team acts on now (:func:`priority`). Unknown is not absent: the
#: visit it hides may be overdue.
CASE_NOT_EVALUABLE = "REGISTRY-CASE-NOT-EVALUABLE"

#: The alerts that come first in the priority order, most urgent first, before every
#: status: a scan that found disease, an equivocal scan, disease reported that the case
#: does not hold, a scan result not recorded.
_DECIDE_NOW = {"FU-SUSPENDED-RECURRENCE": 0, "FU-EQUIVOCAL": 1, DISEASE_NOT_IN_CASE: 2,
               "FU-FINDING-NOT-RECORDED": 3}
#: Then a stored case that cannot be evaluated, before every status.
_RANKED = {**_DECIDE_NOW, CASE_NOT_EVALUABLE: len(_DECIDE_NOW)}
_ORDER = {s: len(_RANKED) + i for i, s in enumerate(WorkStatus)}


class SortKey(StrEnum):
    priority = "priority"
    due = "due"
    registry_id = "registry_id"
    risk = "risk"


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A patient's stored state, assessed and planned as of one date."""

    state: PatientState
    case: Case | None
    assessment: Assessment | None
    plan: SurveillancePlan | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert of the patient's surveillance plan (see
    :attr:`~pecoma.engine.plan.SurveillancePlan.alerts`): its record, title and level
    (:func:`pecoma.engine.plan.alert_level`: critical or warning)."""

    id: str
    title: str
    level: AlertLevel


def not_evaluable_alert(why: str) -> Alert:
    """The alert of a patient whose stored case cannot be evaluated (see
    :data:`CASE_NOT_EVALUABLE`): why (the problems, separated by "; ", as the row's reason
    gives them) and what to do."""
    return Alert(CASE_NOT_EVALUABLE,
                 "The stored case cannot be evaluated, so no surveillance visit can be "
                 f"dated; {why}; record a corrected case version with 'pecoma registry "
                 "add-case' or the case form's 'Save to registry'", "warning")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One worklist row: a patient's next scan, or why there is none."""

    registry_id: str
    status: WorkStatus
    due: dt.date | None
    latest: dt.date | None
    days_overdue: int | None
    visit: int | None
    phase: str | None
    imaging: tuple[str, ...]
    last_scan: dt.date | None
    risk_group: str | None
    disease_status: str | None
    record: str | None
    provenance: str | None
    reason: str
    alerts: tuple[Alert, ...] = ()
    """What the team must act on (none on the row of a deceased patient; on that of a
    patient lost to follow-up, only a finding left open: see :func:`apply_routine`)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry_id": self.registry_id,
            "status": self.status.value,
            "due": _iso(self.due),
            "latest": _iso(self.latest),
            "days_overdue": self.days_overdue,
            "visit": self.visit,
            "phase": self.phase,
            "imaging": list(self.imaging),
            "last_scan": _iso(self.last_scan),
            "risk_group": self.risk_group,
            "disease_status": self.disease_status,
            "record": self.record,
            "provenance": self.provenance,
            "reason": self.reason,
            "alerts": [{"id": a.id, "title": a.title, "level": a.level}
                       for a in self.alerts],
        }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def evaluate(
    states: Iterable[PatientState], on_date: dt.date, settings: Settings
) -> list[Evaluated]:
    """Assess every patient's case and draw its plan as of ``on_date``, with the scans
    done by then (a scan recorded later is not known yet as of that date, as an outcome
    dated later does not count, and a case version recorded later is not read either:
    ``states`` from :meth:`Repository.states(as_of=on_date)
    <pecoma.store.repository.Repository.states>`; a worklist of a past date can be
    reproduced)."""
    out: list[Evaluated] = []
    for st in states:
        scans = done_by(st.scans, on_date)
        if scans is not st.scans:
            st = dataclasses.replace(st, scans=tuple(scans))
        if st.case is None:
            out.append(Evaluated(st, None, None, None, "no case recorded yet"))
            continue
        case: Case | None = None
        a: Assessment | None = None
        try:
            case = parse_case(st.case, source="stored case")
            a = assess(case, on_date, settings)
            plan = plan_for(case, a, on_date, st.scans, settings)
        except InputError as exc:
            problem = "; ".join(str(i) for i in exc.issues)
            out.append(Evaluated(st, case, a, None, problem))
            continue
        out.append(Evaluated(st, case, a, plan, None))
    return out


_STATUS = {s.value: s for s in WorkStatus}


def _item(
    registry_id: str, plan_status: str, risk: str | None, disease: str | None,
    last_scan: dt.date | None, visit: int | None, phase: str | None, due: dt.date | None,
    latest: dt.date | None, imaging: tuple[str, ...], done_visit: int | None,
    done_on: dt.date | None, record: str | None, provenance: str | None, reason: str,
    alerts: tuple[Alert, ...], on_date: dt.date, recent_days: int,
) -> WorkItem:
    """THE status rules: a patient's row as of ``on_date`` from its state (the columns
    of :class:`~pecoma.store.repository.StateData`), valid as of that date."""
    if plan_status == "not_evaluable":
        alerts = (*alerts, not_evaluable_alert(reason))
    if plan_status != "active" or due is None or latest is None:
        return WorkItem(registry_id, _STATUS[plan_status], None, None, None, None, None, (),
                        last_scan, risk, disease, record, provenance, reason, alerts)
    if on_date > latest:
        status = WorkStatus.overdue
    elif on_date >= due:
        status = WorkStatus.due
    else:
        status = WorkStatus.upcoming
    if status is WorkStatus.upcoming and done_on is not None and (
        (on_date - done_on).days <= recent_days
    ):
        status = WorkStatus.done
        reason = f"visit {done_visit} done on {done_on}; next {reason}"
    return WorkItem(registry_id, status, due, latest,
                    (on_date - latest).days if status is WorkStatus.overdue else None, visit,
                    phase, imaging, last_scan, risk, disease, record, provenance, reason,
                    alerts)


def _alert_titles(knowledge: Knowledge) -> Callable[[str], tuple[Alert, ...]]:
    """Alert record ids (separated by spaces) -> the alerts, with the titles of
    ``knowledge`` (the version the states were computed with); a missing fact's
    (``MISS-…``, beside the schedule it makes provisional) is its question, a warning."""
    seen: dict[str, tuple[Alert, ...]] = {"": ()}

    def title(i: str) -> str:
        asked = knowledge.missing.get(i)
        return asked.question if asked is not None else template_of(knowledge, i).title

    def alerts(ids: str) -> tuple[Alert, ...]:
        out = seen.get(ids)
        if out is None:
            out = seen[ids] = tuple(Alert(i, title(i), alert_level(i)) for i in ids.split())
        return out

    return alerts


#: The basis of a state made only to be read at once: the rules do not look at it.
_UNSTORED = ("", "", "")


def _items(
    evaluated: Iterable[Evaluated], on_date: dt.date, recent_days: int, knowledge: Knowledge
) -> list[WorkItem]:
    from pecoma.registry.state import state_from

    alerts = _alert_titles(knowledge)
    out: list[WorkItem] = []
    for e in evaluated:
        st = state_from(e.assessment, e.plan, e.problem, e.state.scans, None, _UNSTORED,
                        e.case, knowledge)
        out.append(_item(
            e.state.registry_id, st.plan_status, st.risk_group, st.disease_status,
            st.last_scan, st.visit, st.phase, st.due, st.latest, st.imaging,
            st.last_done_visit, st.last_done_on, st.record, st.provenance, st.reason,
            alerts(" ".join(st.alerts or ())), on_date, recent_days,
        ))
    return out


def build_worklist(
    evaluated: Iterable[Evaluated], on_date: dt.date, recent_days: int = DEFAULT_RECENT_DAYS
) -> list[WorkItem]:
    """One row per patient of plans drawn as of ``on_date`` (see :func:`evaluate`), in
    priority order (most urgent first): the state each plan gives, read by the rules of
    :func:`stored_worklist`. Whether routine surveillance stopped (a death, a loss to
    follow-up, a relapse recorded as an outcome) is not applied (see
    :func:`apply_routine`)."""
    return select(_items(evaluated, on_date, recent_days, load_knowledge()))


def stored_worklist(
    repo: Repository,
    on_date: dt.date,
    settings: Settings,
    recent_days: int = DEFAULT_RECENT_DAYS,
) -> list[WorkItem]:
    """THE worklist as of ``on_date``, in priority order, from the stored states.

    Gives exactly the rows of ``apply_routine(build_worklist(evaluate(repo.states(
    as_of=on_date), on_date, settings), on_date, recent_days), routine_facts(repo,
    on_date))``: each patient's case version current on ``on_date`` (the latest recorded
    on or before it; a patient with none is not listed), and a patient without a
    state usable as of ``on_date`` (see :meth:`Repository.worklist_rows
    <pecoma.store.repository.Repository.worklist_rows>` and
    :func:`pecoma.registry.state.is_usable`) is assessed and planned again that way.
    """
    from pecoma.registry.state import versions

    knowledge = load_knowledge()
    basis = versions(settings, knowledge)
    alerts = _alert_titles(knowledge)
    words: dict[str, tuple[str, ...]] = {}
    items: list[WorkItem] = []
    redo: list[int] = []
    with _collector_paused():
        for (pid, rid, ok, plan, risk, disease, last_scan, visit, phase, due, latest,
             imaging, done_visit, done_on, record, provenance, reason,
             ids) in repo.worklist_rows(on_date, *basis):
            if not ok:
                redo.append(pid)
                continue
            modalities = words.get(imaging)
            if modalities is None:
                modalities = words[imaging] = tuple(imaging.split())
            items.append(_item(rid, plan, risk, disease, last_scan, visit, phase, due,
                               latest, modalities, done_visit, done_on, record, provenance,
                               reason, alerts(ids), on_date, recent_days))
    if redo:
        log.info("worklist: %d patients recomputed (no usable stored state)", len(redo))
        items += _items(evaluate(repo.states(redo, as_of=on_date), on_date, settings),
                        on_date, recent_days, knowledge)
    with _collector_paused():
        return select(apply_routine(items, routine_facts(repo, on_date)))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the worklist's rows are made and
    sorted: they hold no reference cycles (memory is freed as usual), and each full
    collection the 100,000s of new objects would set off walks every object alive:
    for a large registry, as long as making the rows. Left as it was found (disabled
    by someone else: stays disabled)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def routine_facts(repo: Repository, on_date: dt.date, registry_id: str | None = None
                  ) -> dict[str, RoutineFacts]:
    """Registry id -> what decides whether each patient with an outcome that can end
    routine surveillance (dated on or before ``on_date``; outcomes dated later do not
    count) is still under it; with ``registry_id``, that patient's alone (only its
    outcomes are read). See :meth:`Repository.routine_facts
    <pecoma.store.repository.Repository.routine_facts>`."""
    return repo.routine_facts(on_date, registry_id)


_FOLLOWED = frozenset({WorkStatus.overdue, WorkStatus.due, WorkStatus.upcoming,
                       WorkStatus.done})


def apply_routine(items: Iterable[WorkItem], facts: Mapping[str, RoutineFacts]
                  ) -> list[WorkItem]:
    """The items, each as routine surveillance stands for the patient
    (:func:`pecoma.registry.routine.routine`, from ``facts``: see :func:`routine_facts`,
    and the row's last scan): a patient who left surveillance (died, or lost to
    follow-up with nothing recorded after) gets its closing row, with no next visit and
    no alerts, but for a patient lost to follow-up the plan's critical alerts and
    disease recorded present that the case does not hold (a contact alive with disease,
    a relapse recorded as an outcome; :func:`_lost`: the patient to trace first); a
    patient still on a routine plan though a relapse stopped it (one
    recorded as an outcome that the latest case does not hold, or a last contact alive
    with disease, with the critical alert :data:`DISEASE_NOT_IN_CASE`) gets a suspended
    row, with the plan's alerts, as a scan finding recurrence suspends a plan: no
    routine visit is offered for known disease; so does a patient whose case cannot be
    evaluated, its reason saying why after the relapse. A patient lost to follow-up with a scan
    recorded after the last contact is followed again."""
    if not facts:
        return list(items)
    from pecoma.registry.routine import routine_of
    from pecoma.registry.state import NOT_EVALUABLE

    out = []
    for i in items:
        f = facts.get(i.registry_id)
        if f is None:
            out.append(i)
            continue
        r = routine_of(f, i.last_scan)
        if r.stop == "deceased":
            out.append(_closed(i, r.stop, r.reason))
        elif r.stop == "lost_to_follow_up":
            out.append(_lost(i, r))
        elif r.stop == "suspended" and (i.status in _FOLLOWED or (
                i.status is WorkStatus.not_drawn and undated(i))):
            out.append(_closed(i, WorkStatus.suspended.value, r.reason,
                               _with_not_in_case(i.alerts, r)))
        elif r.stop == "suspended" and i.status is WorkStatus.not_evaluable:
            # the relapse comes first, whatever keeps the case from being evaluated
            out.append(_closed(i, WorkStatus.suspended.value,
                               f"{r.reason}; {NOT_EVALUABLE}{i.reason}",
                               _with_not_in_case(i.alerts, r)))
        else:
            out.append(i)
    return out


#: Why a patient lost to follow-up is traced first: the plan's critical alerts, a finding
#: no one has acted on, stay on the row (S17, S27; I16).
_OPEN_FINDING = {
    "FU-SUSPENDED-RECURRENCE": "a scan found disease that no case version records: "
    "trace the patient first, to return to the treatment pathway (S17, S27)",
    "FU-EQUIVOCAL": "an equivocal scan is not resolved: trace the patient first, for the "
    "team to decide on it (I16)",
    "FU-FINDING-NOT-RECORDED": "a scan's result is not recorded: find it before the "
    "patient is traced",
}

_REPORTED = Alert(DISEASE_NOT_IN_CASE, "Alive with disease recorded, but the case holds no "
                  "disease: record the relapse in a new case version or correct the vital "
                  "status", "critical")
#: A recurrence, metastasis or progression recorded as an outcome that the latest case
#: does not hold: as urgent as a scan that found disease (S17, S27), the team decides now.
_RELAPSE_RECORDED = Alert(DISEASE_NOT_IN_CASE, "Relapse recorded as an outcome, but the case "
                          "holds none: record it in a new case version", "critical")


def _with_not_in_case(alerts: tuple[Alert, ...], r: Routine) -> tuple[Alert, ...]:
    """A suspended row's alerts: the plan's, and disease the latest case does not hold (a
    contact alive with disease, a relapse recorded as an outcome), critical."""
    if r.reported is not None:
        return (*alerts, _REPORTED)
    return (*alerts, _RELAPSE_RECORDED) if r.not_in_case else alerts


def _lost(i: WorkItem, r: Routine) -> WorkItem:
    """The row of a patient lost to follow-up: no next visit, but the alerts the team
    decides on now (:data:`_DECIDE_NOW`: a scan that found disease, an equivocal scan, a
    scan whose result is not recorded) and disease recorded present that the case does
    not hold (a contact alive with disease, a relapse recorded as an outcome: the alert a
    suspended row carries, :func:`_with_not_in_case`) stay on it, named in the reason,
    and rank it first, as the priority order ranks them."""
    kept = tuple(a for a in i.alerts if a.id in _DECIDE_NOW)
    why = "".join(f"; {_OPEN_FINDING[a.id]}" for a in kept if a.id in _OPEN_FINDING)
    return _closed(i, WorkStatus.lost_to_follow_up.value, r.reason + why,
                   _with_not_in_case(kept, r))


def _closed(i: WorkItem, status: str, reason: str, alerts: tuple[Alert, ...] = ()
            ) -> WorkItem:
    return WorkItem(
        i.registry_id, WorkStatus(status), None, None, None, None, None, (), i.last_scan,
        i.risk_group, i.disease_status, None, None, reason, alerts,
    )


def undated(i: WorkItem) -> bool:
    """The row's next visit is owed but cannot be dated, and may be overdue (unknown is
    not absent): its stored case cannot be evaluated, or no plan is drawn while a fact
    that would date one is asked (the row's alerts, see
    :func:`pecoma.registry.state.undated_asks`: e.g. a resected tumour whose surgery date
    is not recorded). Such a row ranks with :data:`CASE_NOT_EVALUABLE`, before the
    routine visits (:func:`priority`), and its calendar event is kept, tentative
    (:func:`to_ics`). A row not drawn with no alert owes no surveillance visit meanwhile
    (disease or the tumour present: imaging follows the treatment plan)."""
    return i.status is WorkStatus.not_evaluable or (
        i.status is WorkStatus.not_drawn and bool(i.alerts))


def priority(i: WorkItem) -> int:
    """A row's rank in the priority order (lower first): a scan that found disease, an
    equivocal scan, disease reported that the case does not hold, a scan whose result
    was not recorded (its alerts, see :data:`_DECIDE_NOW`; a patient lost to follow-up
    keeps them), a visit owed that cannot be dated (:func:`undated`: a stored case that
    cannot be evaluated, :data:`CASE_NOT_EVALUABLE`, or a plan not drawn for want of a
    fact asked), then its status (overdue, due, upcoming, done, suspended,
    …, who left surveillance last)."""
    if i.alerts:
        first = min(_RANKED.get(a.id, len(_RANKED)) for a in i.alerts)
        if first < len(_RANKED):
            return first
        if undated(i):
            return _RANKED[CASE_NOT_EVALUABLE]
    return _ORDER[i.status]


def select(
    items: Iterable[WorkItem],
    statuses: Sequence[WorkStatus] = (),
    risk_groups: Sequence[str] = (),
    sort: SortKey = SortKey.priority,
    descending: bool = False,
) -> list[WorkItem]:
    """Filter by status and risk group, then sort (ties broken by registry id): by
    :func:`priority` then due date; by due date then priority; by risk group then
    priority then due date; or by registry id."""
    rows = [
        i for i in items
        if (not statuses or i.status in statuses)
        and (not risk_groups or (i.risk_group or "") in risk_groups)
    ]
    far = dt.date.max
    keys: dict[SortKey, tuple[Callable[[WorkItem], Any], ...]] = {
        SortKey.due: (lambda i: i.due or far, priority),
        SortKey.registry_id: (),
        SortKey.risk: (lambda i: i.risk_group or "~", priority, lambda i: i.due or far),
        SortKey.priority: (priority, lambda i: i.due or far),
    }
    # one stable sort per key, the least significant first (each is quick on rows
    # already in that order, as the stored worklist's are)
    rows.sort(key=attrgetter("registry_id"), reverse=descending)
    for k in reversed(keys[sort]):
        rows.sort(key=k, reverse=descending)
    return rows


# --- exports ------------------------------------------------------------------------

#: The worklist CSV's columns. The last two carry the row's alerts, as the web worklist
#: shows them: ``alert_level`` the most severe level among them (``critical`` before
#: ``warning``; empty when the row has none), ``alerts`` each alert in the row's order as
#: "level: title [record id]", separated by "; ".
CSV_COLUMNS = (
    "registry_id", "status", "due", "latest", "days_overdue", "visit", "phase", "imaging",
    "last_scan", "risk_group", "disease_status", "record", "provenance", "reason",
    "alert_level", "alerts",
)
_LEVEL_RANK = {"critical": 0, "warning": 1}


def to_csv(items: Iterable[WorkItem]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for i in items:
        level = min((a.level for a in i.alerts), key=_LEVEL_RANK.__getitem__, default=None)
        alerts = "; ".join(f"{a.level}: {a.title} [{a.id}]" for a in i.alerts)
        w.writerow([csv_cell(v) for v in (
            i.registry_id, i.status.value, i.due, i.latest, i.days_overdue, i.visit, i.phase,
            " + ".join(i.imaging), i.last_scan, i.risk_group, i.disease_status, i.record,
            i.provenance, i.reason, level, alerts,
        )])
    return buf.getvalue()


def to_json(items: Iterable[WorkItem], on_date: dt.date) -> str:
    data = {
        "format": "pecoma-worklist/1",
        "evaluated_on": on_date.isoformat(),
        "items": [i.to_dict() for i in items],
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def worklist_uid(registry_id: str) -> str:
    """The UID of a patient's event in the worklist calendar: the patient's next
    surveillance scan, one per patient (see :func:`to_ics`), the registry id hashed as a
    patient's ``plan.ics`` hashes it (:func:`pecoma.render.ics.case_key_digest` of
    ``registry-<id>``), never a visit number or a date."""
    from pecoma.render.ics import case_key_digest

    return f"{case_key_digest(f'registry-{registry_id}')}-next-scan@pecoma.invalid"


def to_ics(items: Iterable[WorkItem], on_date: dt.date, *, reminder_days: int) -> bytes:
    """An iCalendar file of the worklist: for each patient, one event, their next scan
    (:func:`worklist_uid`: the same UID in every export, whatever the visit's number,
    window or risk group, so that importing a later export moves the event rather than
    adding one; the worklist holds one next scan per patient, so two never share it).

    A dated next scan is an all-day event spanning its window, titled with the registry
    id and the visit, reminding ``reminder_days`` before it opens; an overdue one is on
    ``on_date`` instead, "OVERDUE since" the day after its latest date, ringing at its
    start (as in a plan's calendar, :mod:`pecoma.render.ics`). A patient listed with no
    scan dated and none owed (suspended, no dated plan while disease or the tumour is
    present, deceased, lost to follow-up) gets that event cancelled
    (``STATUS:CANCELLED`` on ``on_date``, the reason in its description), so that a
    calendar holding an earlier export's event drops it; one whose visit is owed but
    cannot be dated (:func:`undated`: its case cannot be evaluated, or a fact that would
    date its plan is missing) gets it on ``on_date``, ``STATUS:TENTATIVE``, titled
    "surveillance visit cannot be dated" with the reason and what to record (its alerts,
    the question asked): a visit may be due, its date is unknown.
    ``SEQUENCE`` is ``on_date``'s day number (``date.toordinal``): the export of a later
    date is the update (RFC 5545), whatever changed."""
    from icalendar import Calendar, Event

    from pecoma.render.ics import overdue_reminder, overdue_since, reminder

    cal = Calendar()
    cal.add("prodid", "-//pecoma//surveillance worklist//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"PEComa surveillance worklist {on_date.isoformat()}")
    stamp = dt.datetime.combine(on_date, dt.time(), tzinfo=dt.UTC)
    for i in items:
        ev = Event()
        ev.add("uid", worklist_uid(i.registry_id))
        ev.add("dtstamp", stamp)
        ev.add("sequence", on_date.toordinal())
        if i.due is None or i.latest is None:
            # no scan dated: an event an earlier export gave is cancelled, but for a
            # visit owed that cannot be dated (it may be due, its date unknown: tentative)
            unknown = undated(i)
            ev.add("dtstart", on_date)
            ev.add("dtend", on_date + dt.timedelta(days=1))
            ev.add("status", "TENTATIVE" if unknown else "CANCELLED")
            words = i.status.value.replace("_", " ")
            ev.add("summary", f"{i.registry_id}: surveillance visit cannot be dated "
                   f"({words})" if unknown
                   else f"{i.registry_id}: no surveillance visit ({words})")
            asked = "".join(f" {a.title}" + ("" if a.title.endswith(("?", ".")) else ".")
                            for a in i.alerts) if unknown else ""
            ev.add("description", f"Status {i.status.value} as of {on_date.isoformat()}. "
                   f"{i.reason}.{asked}")
            ev.add("categories", ["PEComa surveillance", i.status.value])
            ev.add("transp", "TRANSPARENT")
            cal.add_component(ev)
            continue
        overdue = i.status is WorkStatus.overdue
        first, last = (on_date, on_date) if overdue else (i.due, i.latest)
        ev.add("dtstart", first)
        ev.add("dtend", last + dt.timedelta(days=1))
        what = " + ".join(x.replace("_", " ") for x in i.imaging) or "surveillance imaging"
        # 'done' is the previous visit's: this event is the next one, still ahead
        state = ("upcoming, the previous visit done" if i.status is WorkStatus.done
                 else f"OVERDUE since {overdue_since(i.latest).isoformat()}" if overdue
                 else i.status.value)
        title = f"{i.registry_id}: surveillance visit {i.visit}: {what} ({state})"
        ev.add("summary", title)
        ev.add(
            "description",
            f"Status {i.status.value} as of {on_date.isoformat()}. {i.reason}. "
            f"Source: {i.provenance or 'n/a'}.",
        )
        ev.add("categories", ["PEComa surveillance", i.status.value])
        ev.add("transp", "TRANSPARENT")
        ev.add_component(overdue_reminder(title) if overdue
                         else reminder(reminder_days, title))
        cal.add_component(ev)
    return bytes(cal.to_ical())
