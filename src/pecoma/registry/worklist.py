"""The surveillance worklist: as of a date, every patient's next scan and its status.

Each patient's latest case is assessed as of the date and its plan drawn by the engine's
scheduler, with the scans recorded in the registry; the worklist only reads the plan.

Statuses, in priority order:

============  =======================================================================
overdue       the next visit is past its latest date (e.g. 4 months in "every 3-4")
due           the next visit's window is open (due date reached, latest not passed)
upcoming      the next visit's due date is still ahead
done          a visit was done within the last ``recent_days`` days; the next is ahead
suspended     a scan found recurrence or metastasis: the plan is suspended (S27, S17)
not_drawn     no plan can be dated (disease present, or no end-of-treatment date)
not_evaluable the stored case cannot be assessed as of the date (the reason says why)
deceased      a death is recorded: the patient has left surveillance
lost_to_follow_up  the latest contact says lost to follow-up, nothing recorded after it
============  =======================================================================

A patient is never left out: one without a plan, or who left surveillance, is listed
with the reason (last, below every patient still followed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pecoma.case import Case, parse_case
from pecoma.engine import Assessment, assess
from pecoma.engine.plan import SurveillancePlan, Visit
from pecoma.errors import InputError
from pecoma.registry.cells import neutralise
from pecoma.registry.plan import plan_for
from pecoma.settings import Settings

if TYPE_CHECKING:
    from pecoma.store.repository import PatientState

__all__ = [
    "DEFAULT_RECENT_DAYS",
    "Evaluated",
    "SortKey",
    "WorkItem",
    "WorkStatus",
    "build_worklist",
    "close",
    "evaluate",
    "select",
    "to_csv",
    "to_ics",
    "to_json",
]

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


_ORDER = {s: i for i, s in enumerate(WorkStatus)}


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
        }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def evaluate(
    states: Iterable[PatientState], on_date: dt.date, settings: Settings
) -> list[Evaluated]:
    """Assess every patient's latest case and draw its plan as of ``on_date``."""
    out: list[Evaluated] = []
    for st in states:
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


def _last_done(plan: SurveillancePlan) -> Visit | None:
    done = [v for v in plan.visits if v.status == "done"]
    return done[-1] if done else None


def _item(e: Evaluated, on_date: dt.date, recent_days: int) -> WorkItem:
    st = e.state
    last_scan = st.scans[-1].performed_on if st.scans else None
    risk = e.assessment.risk.group if e.assessment else None
    disease = e.assessment.disease_status if e.assessment else None
    base: dict[str, Any] = {
        "registry_id": st.registry_id,
        "due": None,
        "latest": None,
        "days_overdue": None,
        "visit": None,
        "phase": None,
        "imaging": (),
        "last_scan": last_scan,
        "risk_group": risk,
        "disease_status": disease,
        "record": None,
        "provenance": None,
    }
    plan = e.plan
    if plan is None:
        return WorkItem(status=WorkStatus.not_evaluable, reason=e.problem or "", **base)
    if plan.status == "not_drawn":
        why = plan.reasons[-1] if plan.reasons else None
        return WorkItem(
            status=WorkStatus.not_drawn,
            reason=why.title if why else "no plan can be dated",
            **{**base, "record": why.id if why else None,
               "provenance": why.provenance.label if why else None},
        )
    if plan.status == "suspended":
        first = plan.reasons[0] if plan.reasons else None
        return WorkItem(
            status=WorkStatus.suspended,
            reason=first.title if first else "surveillance suspended",
            **{**base, "record": first.id if first else None,
               "provenance": first.provenance.label if first else None},
        )
    nxt = plan.next_visit
    if nxt is None:
        return WorkItem(status=WorkStatus.not_drawn, reason="no open visit in the plan", **base)
    status = WorkStatus(nxt.status)
    reason = f"visit {nxt.index} ({nxt.phase}), window {nxt.due} to {nxt.latest}"
    last = _last_done(plan)
    if (
        status is WorkStatus.upcoming
        and last is not None
        and last.done_on is not None
        and (on_date - last.done_on).days <= recent_days
    ):
        status = WorkStatus.done
        reason = f"visit {last.index} done on {last.done_on}; next {reason}"
    return WorkItem(
        status=status,
        reason=reason,
        **{
            **base,
            "due": nxt.due,
            "latest": nxt.latest,
            "days_overdue": (on_date - nxt.latest).days if status is WorkStatus.overdue else None,
            "visit": nxt.index,
            "phase": nxt.phase,
            "imaging": tuple(p.modality.value for p in nxt.imaging),
            "record": nxt.record,
            "provenance": nxt.provenance.label,
        },
    )


def build_worklist(
    evaluated: Iterable[Evaluated], on_date: dt.date, recent_days: int = DEFAULT_RECENT_DAYS
) -> list[WorkItem]:
    """One row per patient, in priority order (most urgent first)."""
    return select([_item(e, on_date, recent_days) for e in evaluated])


def close(items: Iterable[WorkItem], closed: Mapping[str, tuple[str, str]]) -> list[WorkItem]:
    """The items, those of patients who left surveillance (registry id -> status,
    reason; see :func:`pecoma.registry.outcomes.closure`) replaced by their closing row."""
    out: list[WorkItem] = []
    for i in items:
        why = closed.get(i.registry_id)
        if why is None:
            out.append(i)
            continue
        status, reason = why
        out.append(WorkItem(
            i.registry_id, WorkStatus(status), None, None, None, None, None, (), i.last_scan,
            i.risk_group, i.disease_status, None, None, reason,
        ))
    return out


def select(
    items: Iterable[WorkItem],
    statuses: Sequence[WorkStatus] = (),
    risk_groups: Sequence[str] = (),
    sort: SortKey = SortKey.priority,
    descending: bool = False,
) -> list[WorkItem]:
    """Filter by status and risk group, then sort (ties broken by registry id)."""
    rows = [
        i for i in items
        if (not statuses or i.status in statuses)
        and (not risk_groups or (i.risk_group or "") in risk_groups)
    ]
    far = dt.date.max

    def key(i: WorkItem) -> tuple[Any, ...]:
        if sort is SortKey.due:
            return (i.due or far, _ORDER[i.status], i.registry_id)
        if sort is SortKey.registry_id:
            return (i.registry_id,)
        if sort is SortKey.risk:
            return (i.risk_group or "~", _ORDER[i.status], i.due or far, i.registry_id)
        return (_ORDER[i.status], i.due or far, i.registry_id)

    return sorted(rows, key=key, reverse=descending)


# --- exports ------------------------------------------------------------------------

CSV_COLUMNS = (
    "registry_id", "status", "due", "latest", "days_overdue", "visit", "phase", "imaging",
    "last_scan", "risk_group", "disease_status", "record", "provenance", "reason",
)


def to_csv(items: Iterable[WorkItem]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for i in items:
        d = i.to_dict()
        d["imaging"] = " + ".join(i.imaging)
        w.writerow(["" if d[c] is None else neutralise(d[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def to_json(items: Iterable[WorkItem], on_date: dt.date) -> str:
    data = {
        "format": "pecoma-worklist/1",
        "evaluated_on": on_date.isoformat(),
        "items": [i.to_dict() for i in items],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_ics(items: Iterable[WorkItem], on_date: dt.date, *, reminder_days: int) -> bytes:
    """An iCalendar file: one all-day event per next scan, spanning its window, titled
    with the registry id and the visit, reminding ``reminder_days`` before it opens."""
    from icalendar import Calendar, Event

    from pecoma.render.ics import reminder

    cal = Calendar()
    cal.add("prodid", "-//pecoma//surveillance worklist//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"PEComa surveillance worklist {on_date.isoformat()}")
    stamp = dt.datetime.combine(on_date, dt.time(), tzinfo=dt.UTC)
    for i in items:
        if i.due is None or i.latest is None:
            continue
        ev = Event()
        ev.add("uid", f"pecoma-{i.registry_id}-visit-{i.visit}-{i.due.isoformat()}@pecoma")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", i.due)
        ev.add("dtend", i.latest + dt.timedelta(days=1))
        what = " + ".join(x.replace("_", " ") for x in i.imaging) or "surveillance imaging"
        title = f"{i.registry_id}: surveillance visit {i.visit}: {what} ({i.status.value})"
        ev.add("summary", title)
        ev.add(
            "description",
            f"Status {i.status.value} as of {on_date.isoformat()}. {i.reason}. "
            f"Source: {i.provenance or 'n/a'}.",
        )
        ev.add("categories", ["PEComa surveillance", i.status.value])
        ev.add("transp", "TRANSPARENT")
        ev.add_component(reminder(reminder_days, title))
        cal.add_component(ev)
    return bytes(cal.to_ical())
