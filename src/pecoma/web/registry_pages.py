"""The registry's pages: the patients, the worklist (a page, and CSV and iCalendar files),
a patient's timeline and surveillance plan (a page, and an iCalendar file). Plain HTML;
no JavaScript needed.

The registry comes from ``app.state.registry`` when the application was given one;
otherwise it is opened on first use from the configuration's ``database_url`` if it has
one, else the SQLite file in its ``data_dir`` (``./data`` by default). Today's date is
the application's clock (``app.state.today``); every page also takes ``?on=YYYY-MM-DD``,
and no parameter it does not declare (:mod:`pecoma.web.query`: a 400 page).

:func:`router` serves, besides these, the forms recording a scan or an outcome, and
withdrawing either as entered in error (:mod:`pecoma.web.registry_forms`), and the
summary with its charts and PDF (:mod:`pecoma.web.registry_summary_pages`). What they
share with the tumour board's pages (who makes a change, the evaluation date, the error
pages) is in :mod:`pecoma.web.registry_common`; the worklist, computed once until the
next write, in :mod:`pecoma.web.registry_cache`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pecoma.engine.plan import SurveillancePlan, Visit
from pecoma.errors import show_value
from pecoma.registry.worklist import (
    SortKey,
    WorkItem,
    WorkStatus,
    apply_routine,
    build_worklist,
    evaluate,
    routine_facts,
    select,
    to_csv,
    to_ics,
)
from pecoma.render.ics import plan_to_ics
from pecoma.store import StoreError
from pecoma.web.registry_cache import _items, _worklist
from pecoma.web.registry_common import (
    FINDING_LABELS,
    _day,
    _file_day,
    _no_such_patient,
    _page,
    _registry,
    _settings,
    _unavailable,
    problem_words,
)
from pecoma.web.registry_forms import (
    outcome_form,
    record_outcome_post,
    record_scan_post,
    scan_form,
    withdraw_form,
    withdraw_post,
)
from pecoma.web.registry_summary_pages import (
    summary_chart,
    summary_page,
    summary_pdf_download,
    survival_chart,
)

if TYPE_CHECKING:
    from pecoma.store.repository import RoutineFacts

__all__ = ["router"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(prefix="/registry", include_in_schema=False)
    r.add_api_route("", patients_page, methods=["GET"])
    r.add_api_route("/worklist", worklist_page, methods=["GET"])
    r.add_api_route("/worklist.csv", worklist_csv, methods=["GET"])
    r.add_api_route("/worklist.ics", worklist_ics, methods=["GET"])
    r.add_api_route("/summary", summary_page, methods=["GET"])
    r.add_api_route("/survival.svg", survival_chart, methods=["GET"])
    r.add_api_route("/summary.svg", summary_chart, methods=["GET"])
    r.add_api_route("/summary.pdf", summary_pdf_download, methods=["GET"])
    r.add_api_route("/patients/{registry_id}", patient_page, methods=["GET"])
    r.add_api_route("/patients/{registry_id}/plan.ics", patient_plan_ics, methods=["GET"])
    r.add_api_route("/patients/{registry_id}/scan", scan_form, methods=["GET"])
    r.add_api_route("/patients/{registry_id}/scan", record_scan_post, methods=["POST"])
    r.add_api_route("/patients/{registry_id}/outcome", outcome_form, methods=["GET"])
    r.add_api_route("/patients/{registry_id}/outcome", record_outcome_post, methods=["POST"])
    r.add_api_route("/patients/{registry_id}/withdraw", withdraw_form, methods=["GET"])
    r.add_api_route("/patients/{registry_id}/withdraw", withdraw_post, methods=["POST"])
    return r


_RISK_GROUPS = ("high", "indeterminate", "low", "not_applicable")

PAGE_SIZE = 200


def _paged(rows: list[Any], page: int) -> tuple[list[Any], int, int]:
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], page, pages


def patients_page(request: Request, on: str | None = None, page: int = 1) -> Response:
    day, warning = _day(request, on)
    try:
        evaluated, items = _worklist(request, day)
        counts = _registry(request).count()
    except StoreError as exc:
        return _unavailable(request, exc)
    by_id = {i.registry_id: i for i in items}
    rows = [
        {
            "registry_id": e.state.registry_id,
            "version": e.state.version,
            "scans": len(e.state.scans),
            "risk": e.assessment.risk.group if e.assessment else None,
            "disease": e.assessment.disease_status if e.assessment else None,
            "item": by_id[e.state.registry_id],
        }
        for e in evaluated
    ]
    shown, page, pages = _paged(rows, page)
    return _page(request, "patients.html", {
        "rows": shown, "total": len(rows), "page": page, "pages": pages, "day": day,
        "warning": warning, "counts": counts,
    })


def worklist_page(
    request: Request,
    on: str | None = None,
    status: str | None = None,
    risk: str | None = None,
    sort: str = "priority",
    page: int = 1,
) -> Response:
    day, warning = _day(request, on)
    statuses, risks, key, wrong = _filters(status, risk, sort)
    if wrong:
        warning = "; ".join(([warning] if warning else []) + wrong) + " (left out)"
    try:
        items = _items(request, day)
    except StoreError as exc:
        return _unavailable(request, exc)
    # the worklist is in priority order already: sorted again only for another order
    # or a filter
    rows = (items if key is SortKey.priority and not statuses and not risks
            else select(items, statuses=statuses, risk_groups=risks, sort=key))
    shown, page, pages = _paged(rows, page)
    alerts = {i.registry_id: i.alerts for i in shown if i.alerts}
    query = f"on={day.isoformat()}&status={status or ''}&risk={risk or ''}&sort={key.value}"
    return _page(request, "worklist.html", {
        "rows": shown, "matching": len(rows), "page": page, "pages": pages,
        "day": day, "warning": warning, "status": status or "",
        "risk": risk or "", "sort": key.value, "statuses": list(WorkStatus),
        "sorts": list(SortKey), "query": query, "total": len(items), "alerts": alerts,
    })


def worklist_csv(request: Request, on: str | None = None, status: str | None = None,
                 risk: str | None = None, sort: str = "priority") -> Response:
    asked = _download_query(request, on, status, risk, sort)
    if isinstance(asked, Response):
        return asked
    day, items = asked
    return Response(
        to_csv(items), media_type="text/csv",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-worklist-{day.isoformat()}.csv"'},
    )


def worklist_ics(request: Request, on: str | None = None, status: str | None = None,
                 risk: str | None = None, sort: str = "priority") -> Response:
    asked = _download_query(request, on, status, risk, sort)
    if isinstance(asked, Response):
        return asked
    day, items = asked
    return Response(
        to_ics(items, day,
               reminder_days=_settings(request).followup.calendar_reminder_days),
        media_type="text/calendar",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-worklist-{day.isoformat()}.ics"'},
    )


def _listed(text: str | None) -> list[str]:
    """The values of a comma-separated filter, as typed in a hand-made link too
    ('due, Overdue')."""
    return [v.strip().lower() for v in (text or "").split(",") if v.strip()]


def _filters(status: str | None, risk: str | None, sort: str
             ) -> tuple[list[WorkStatus], list[str], SortKey, list[str]]:
    """The worklist's filters and order from the query, and what in it names none
    (each with the values allowed)."""
    wrong: list[str] = []
    statuses: list[WorkStatus] = []
    for s in _listed(status):
        if s in WorkStatus.__members__:
            statuses.append(WorkStatus(s))
        else:
            wrong.append(f"'status' must be one or more of {', '.join(WorkStatus)} "
                         f"(got {show_value(s)})")
    risks: list[str] = []
    for r in _listed(risk):
        if r in _RISK_GROUPS:
            risks.append(r)
        else:
            wrong.append(f"'risk' must be one or more of {', '.join(_RISK_GROUPS)} "
                         f"(got {show_value(r)})")
    key = SortKey.priority
    sort = sort.strip().lower()
    if sort in SortKey.__members__:
        key = SortKey(sort)
    elif sort:
        wrong.append(f"'sort' must be one of {', '.join(SortKey)} (got {show_value(sort)})")
    return statuses, risks, key, wrong


def _download_query(request: Request, on: str | None, status: str | None,
                    risk: str | None, sort: str) -> tuple[dt.date, list[WorkItem]] | Response:
    """The day and the worklist rows a download asks for, or a 400 page naming each
    parameter it could not read (a wrong date or filter would give another list under a
    name that looks right)."""
    statuses, risks, key, wrong = _filters(status, risk, sort)
    day = _file_day(request, on, wrong)
    if isinstance(day, Response):
        return day
    return day, select(_items(request, day), statuses=statuses, risk_groups=risks, sort=key)


def patient_page(request: Request, registry_id: str, on: str | None = None,
                 recorded: str | None = None) -> Response:
    day, warning = _day(request, on)
    try:
        repo = _registry(request)
        timeline = repo.timeline(registry_id)
        state = repo.state(registry_id, as_of=day)  # the case version current on the day
        withdrawn = repo.withdrawals(registry_id)
    except StoreError as exc:
        return _unavailable(request, exc)
    if timeline is None or state is None:
        return _no_such_patient(request)
    # assessed and planned as the worklist row is, with the scans known as of the day
    # (a scan recorded after it is not known yet): one evaluation for the page and its row
    evaluated = evaluate([state], day, _settings(request))
    plan = evaluated[0].plan
    problem = (problem_words(evaluated[0].problem)
               if state.case is not None and evaluated[0].problem else None)
    from pecoma.store.decisions import patient_decisions

    try:
        decisions = patient_decisions(repo, registry_id)
    except StoreError as exc:
        return _unavailable(request, exc)
    try:
        facts = routine_facts(repo, day, registry_id)
    except StoreError as exc:
        return _unavailable(request, exc)
    item = apply_routine(build_worklist(evaluated, day), facts)[0]
    visits: list[Visit] = []
    why_cancelled: dict[Visit, str] = {}
    if plan is not None:
        # the visits as the calendar has them (:func:`_left`): none asked after a death,
        # those overdue before a loss or relapse missed; a visit the plan itself counts
        # missed is shown when a scan was done for it
        shown = {v.index for v in plan.visits if v.status != "missed" or v.scans}
        plan, why_cancelled = _left(plan, facts.get(registry_id), day)
        visits = sorted((v for v in (*plan.visits, *why_cancelled) if v.index in shown),
                        key=lambda v: v.index)
    return _page(request, "patient.html", {
        "t": timeline, "plan": plan, "item": item, "problem": problem, "day": day,
        "warning": warning, "visits": visits, "finding_labels": FINDING_LABELS,
        "recorded": recorded, "why_cancelled": why_cancelled,
        "decisions": decisions, "withdrawn": withdrawn,
    })


def _left(plan: SurveillancePlan, f: RoutineFacts | None, day: dt.date
          ) -> tuple[SurveillancePlan, dict[Visit, str]]:
    """The plan with the visits after routine surveillance stopped cancelled (after a
    death every visit not done), those overdue before it missed, as on the
    worklist (:func:`pecoma.registry.routine.routine`: a death, a loss to follow-up, a
    relapse recorded as an outcome that the case does not hold yet): a calendar drops
    them rather than reminding the team of routine visits for a patient who died or has
    known disease. ``f``: the patient's :func:`routine_facts` (only this patient's
    outcomes are read). Also: why each visit it cancelled was cancelled. THE rule of the
    patient's page and its calendar alike."""
    from pecoma.registry.routine import routine_of

    if f is None:
        return plan, {}
    r = routine_of(f, max((e.date for e in plan.imaging if e.date <= day), default=None))
    if r.stop is None:
        return plan, {}
    # after a death nothing is asked: every visit not done is off; otherwise the visits
    # whose window closed while routine surveillance ran keep their place, a visit
    # overdue then shown as missed on its own window (no reminder, nothing to book: the
    # worklist gives the patient no next scan)
    kept = tuple(v for v in plan.visits if v.status == "done"
                 or (r.stop != "deceased" and r.runs_on(v.latest)))
    gone = tuple(dataclasses.replace(v, status="cancelled") for v in plan.visits
                 if v not in kept)
    missed = tuple(dataclasses.replace(v, status="missed") if v.status == "overdue" else v
                   for v in kept)
    return (dataclasses.replace(plan, visits=missed, cancelled=(*gone, *plan.cancelled)),
            dict.fromkeys(gone, r.reason))


def patient_plan_ics(request: Request, registry_id: str, on: str | None = None) -> Response:
    """The patient's whole surveillance plan as a calendar (the engine's renderer)."""
    day = _file_day(request, on)
    if isinstance(day, Response):
        return day
    state = _registry(request).state(registry_id, as_of=day)
    if state is None:
        return Response("no such patient", status_code=404, media_type="text/plain")
    if state.case is None:
        return Response(f"no case version recorded as of {day.isoformat()}",
                        status_code=404, media_type="text/plain")
    [ev] = evaluate([state], day, _settings(request))  # the scans known as of the day
    if ev.plan is None:
        return Response(str(ev.problem), status_code=422, media_type="text/plain")
    facts = routine_facts(_registry(request), day, registry_id)
    plan, why_cancelled = _left(ev.plan, facts.get(registry_id), day)
    return Response(
        plan_to_ics(plan, f"registry-{registry_id}", label=registry_id,
                    reminder_days=_settings(request).followup.calendar_reminder_days,
                    why_cancelled=why_cancelled),
        media_type="text/calendar",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-plan-{registry_id}.ics"'},
    )
