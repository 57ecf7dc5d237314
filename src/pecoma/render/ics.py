"""A surveillance plan as an iCalendar file (RFC 5545), for the clinic's calendar.

Each visit is an all-day event spanning its window: it starts on the due date and ends
after the latest acceptable date. Events carry the imaging, the phase, the reason and its
provenance. Re-importing an updated plan updates events instead of duplicating them:

* ``UID`` is derived from a case key and the visit's number since the end of treatment,
  never from dates, so a re-anchored visit keeps its UID. The phase is not part of it: a
  visit near a phase boundary can move into the next phase when a scan re-anchors the
  plan, and a UID that changed would leave a stale event behind. The key is hashed: a
  record number used as key never appears in the file.
* ``SEQUENCE`` grows with the real scans the visit's dates depend on, plus one once the
  visit is done, missed or cancelled; calendars take the higher sequence as the update.
* ``DTSTAMP`` is the plan's evaluation date, ``LAST-MODIFIED`` the date of the last scan
  the visit depends on: nothing reads the clock, so the same plan gives the same bytes.
* Visits that a recurrence cancelled are exported with ``STATUS:CANCELLED`` so calendars
  drop them: the plan lists every visit an export drawn from the earlier scans held
  (:meth:`pecoma.engine.schedule._Builder._cancel_from`), on the dates it gave them.
* Each event is titled with the patient's label (when there is one) and the visit's
  number; each visit still to be done carries a reminder (``VALARM``) a set number of days
  before its window opens (``followup.calendar_reminder_days`` in the settings).
* A visit overdue as of the evaluation date is moved to that date (an all-day event),
  titled "OVERDUE since" the day after its latest date, its description saying so first,
  with a reminder at its start: its window and the reminder before it are past when the
  file is imported, so left there it shows nothing to act on, and iCalendar has no
  reminder "relative to the import". It stays one event per visit (same UID): once its
  scan is recorded, the next export puts it back on its window, titled done, and nothing
  stale is left behind, as a second "overdue" event would be unless every later export
  cancelled it. The window stays in its description and in ``X-PECOMA-DUE`` and
  ``X-PECOMA-LATEST``. Its ``SEQUENCE`` is one more than before it was overdue (and
  one less than once done); exports on later dates of a visit still overdue differ by
  their ``DTSTAMP``, the later one the update (RFC 5546).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from icalendar import Alarm, Calendar, Event, vText

from pecoma.engine.plan import SurveillancePlan, Visit
from pecoma.render.schedule import MODALITY_LABELS, counted_from_note, owed_note

__all__ = ["PRODID", "case_key_digest", "overdue_reminder", "overdue_since", "plan_to_ics",
           "reminder", "visit_uid"]

PRODID = "-//pecoma//PEComa surveillance plan//EN"
_DOMAIN = "pecoma.invalid"


def case_key_digest(case_key: str) -> str:
    """A stable, non-identifying digest of the case key (16 hex digits)."""
    return hashlib.sha256(case_key.encode("utf-8")).hexdigest()[:16]


def visit_uid(case_key: str, visit: Visit) -> str:
    """The UID of a visit's event: case key digest + the visit's number in the plan."""
    return f"{case_key_digest(case_key)}-visit-{visit.index}@{_DOMAIN}"


def overdue_since(latest: dt.date) -> dt.date:
    """The first day a visit is overdue: the day after its latest date."""
    return latest + dt.timedelta(days=1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def _sequence(plan: SurveillancePlan, v: Visit) -> int:
    """The real scans the visit's dates depend on, plus one once it is overdue (its title
    says so) and two once it is done, missed or cancelled."""
    sessions = {e.date for e in plan.imaging
                if plan.anchor is not None and plan.anchor < e.date <= v.counted_from}
    return len(sessions) + {"overdue": 1, "done": 2, "missed": 2, "cancelled": 2}.get(
        v.status, 0)


def _summary(v: Visit, label: str | None) -> str:
    done = v.status == "done" and v.done_on is not None
    # a visit done names as done only the examinations recorded, the others apart
    imaging = " + ".join(MODALITY_LABELS[p.modality] for p in v.imaging
                         if p.done_on is not None or not done)
    missing = " + ".join(MODALITY_LABELS[p.modality] for p in v.imaging
                         if p.done_on is None and done)
    who = f"{label}: " if label else ""
    text = f"{who}PEComa surveillance visit {v.index}: {imaging}"
    if done and v.done_on is not None:
        text += f" (done {v.done_on.isoformat()})"
        if late := v.late_imaging:
            text += "; " + " + ".join(MODALITY_LABELS[p.modality] for p in late) \
                + f" late (after {v.latest.isoformat()})"
        if missing:
            text += f"; {missing} not recorded"
    elif v.status == "overdue":
        text += f" (OVERDUE since {overdue_since(v.latest).isoformat()})"
    elif v.status in ("missed", "cancelled"):
        text += f" ({v.status})"
    return text


def _none_recorded(v: Visit) -> str:
    """Why an open visit is not done: no scan, or only scans that stand for none of its
    examinations (another modality)."""
    counted = [e for e, _ in v.done_within]  # done, not asked again (Visit.due_again)
    scans = [e for e in v.scans if e not in counted]
    if not scans:
        return "no scan is recorded for " + ("what it asks for" if counted else "this visit")
    others = ", ".join(f"{MODALITY_LABELS[e.modality]} {e.date.isoformat()}"
                       for e in scans)
    return f"none of its examinations is recorded (only {others}: not a planned examination)"


def _description(plan: SurveillancePlan, v: Visit, why_cancelled: str | None) -> str:
    phase = next((p for p in plan.phases if p.id == v.phase), None)
    lines = [
        f"Due {v.due.isoformat()}; overdue after {v.latest.isoformat()} "
        f"({counted_from_note(plan, v)})",
    ]
    if v.status == "overdue":
        lines.insert(0, f"OVERDUE since {overdue_since(v.latest).isoformat()}, as of "
                        f"{plan.evaluated_on.isoformat()}: {_none_recorded(v)}. Book the "
                        "scan or record it. (Shown on the evaluation date; its window is "
                        "below.)")
    owed = owed_note(plan, v)
    if owed:
        lines.insert(1 if v.status == "overdue" else 0, owed[0].upper() + owed[1:] + ".")
    if phase is not None:
        lines += [f"Phase: {phase.title}. {phase.item.text}", f"Why: {phase.item.rationale}"]
    lines.append(f"Source: {v.provenance.label}")
    lines.append("Imaging:")
    late = v.late_imaging
    for p in v.imaging:
        done = ""
        if p.done_on is not None:
            after = f", late: after {v.latest.isoformat()}" if p in late else ""
            done = f" (done {p.done_on.isoformat()}{after})"
        lines.append(f"- {MODALITY_LABELS[p.modality]}{done} [{p.provenance.label}]")
    for e, day in v.done_within:
        lines.append(f"- {MODALITY_LABELS[e.modality]} (done {e.date.isoformat()}, counts "
                     f"for this visit; due again {day.isoformat()} on its own clock)")
    for f in v.flags:
        lines.append(f"Flag: {f.title}. {f.text} [{f.provenance.label}]")
    if v is plan.next_visit:  # what is still open, wherever it was raised (the baseline)
        own = {f.id for f in v.flags}
        for a in plan.alerts:
            if a.id not in own:
                lines.append(f"Open alert, to act on before this visit: {a.title}. {a.text} "
                             f"[{a.provenance.label}]")
    if v.status == "cancelled" and why_cancelled is not None:
        lines.append(f"Cancelled: {why_cancelled}")
    elif v.status == "cancelled":
        for r in plan.reasons[:1]:
            lines.append(f"Cancelled: {r.title}. {r.text} [{r.provenance.label}]")
    lines.append(f"pecoma knowledge {plan.knowledge_version}, settings {plan.settings_digest}.")
    return "\n".join(lines)


def reminder(days_before: int, what: str) -> Alarm:
    """A display alarm ``days_before`` days before the event starts (its window opens)."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -dt.timedelta(days=days_before), parameters={"RELATED": "START"})
    alarm.add("description", f"Window opens in {days_before} days: {what}"
              if days_before else f"Window opens today: {what}")
    return alarm


def overdue_reminder(what: str) -> Alarm:
    """A display alarm at the start of an overdue visit's event (on the evaluation
    date)."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", dt.timedelta(0), parameters={"RELATED": "START"})
    alarm.add("description", what)
    return alarm


def _event(plan: SurveillancePlan, v: Visit, case_key: str, label: str | None,
           reminder_days: int, why_cancelled: str | None) -> Event:
    e = Event()
    e.add("uid", visit_uid(case_key, v))
    e.add("dtstamp", _midnight(plan.evaluated_on))
    e.add("last-modified", _midnight(max(v.counted_from, v.done_on or v.counted_from)))
    e.add("sequence", _sequence(plan, v))
    if v.status == "overdue":  # on the day it must be acted on (see the module's text)
        e.add("dtstart", plan.evaluated_on)
        e.add("dtend", plan.evaluated_on + dt.timedelta(days=1))
    else:
        e.add("dtstart", v.due)
        e.add("dtend", v.latest + dt.timedelta(days=1))
    e.add("summary", _summary(v, label))
    e.add("description", _description(plan, v, why_cancelled))
    e.add("status", "CANCELLED" if v.status == "cancelled" else "CONFIRMED")
    e.add("transp", "TRANSPARENT")
    e.add("categories", ["PEComa surveillance"])
    e.add("x-pecoma-phase", v.phase)
    e.add("x-pecoma-due", v.due.isoformat())
    e.add("x-pecoma-latest", v.latest.isoformat())
    e.add("x-pecoma-modalities", ",".join(p.modality.value for p in v.imaging))
    if v.status == "overdue":
        e.add_component(overdue_reminder(_summary(v, label)))
    elif v.open:
        e.add_component(reminder(reminder_days, _summary(v, label)))
    return e


def plan_to_ics(plan: SurveillancePlan, case_key: str, *, label: str | None = None,
                reminder_days: int | None = None,
                why_cancelled: Mapping[Visit, str] | None = None) -> bytes:
    """The plan as an iCalendar file; a plan that cannot be dated gives no events and
    says why in the calendar's description.

    ``label`` names the patient in each event's title (default: the case's label);
    ``reminder_days`` is how long before a window opens its reminder rings (default: the
    default settings' ``followup.calendar_reminder_days``); ``why_cancelled`` says why
    a visit was cancelled where the plan's own reasons do not (the registry stops routine
    surveillance at a death, a loss to follow-up or a relapse)."""
    if not case_key:
        raise ValueError("'case_key' must be a non-empty string (it makes event UIDs stable)")
    if reminder_days is None:
        from pecoma.settings import default_settings

        reminder_days = default_settings().followup.calendar_reminder_days
    if not 0 <= reminder_days <= 365:
        raise ValueError(f"'reminder_days' must be 0 to 365 days (got {reminder_days})")
    label = label or plan.label
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = "PEComa surveillance" + (f": {plan.label}" if plan.label else "")
    # X- properties are written raw unless typed: as TEXT, '\\', ';' and ',' are escaped.
    cal.add("x-wr-calname", vText(name))
    why = " ".join(f"{r.title}. {r.text}" for r in plan.reasons)
    cal.add("x-wr-caldesc", vText(why))
    for v in (*plan.visits, *plan.cancelled):
        cal.add_component(_event(plan, v, case_key, label, reminder_days,
                                 (why_cancelled or {}).get(v)))
    data: bytes = cal.to_ical()
    return data
