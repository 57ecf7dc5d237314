"""The registry's pages: patients, a patient's timeline, recording a scan, the worklist and
the summary (with a server-rendered SVG chart). Plain HTML forms; no JavaScript needed.

The registry comes from ``app.state.registry`` when the application was given one;
otherwise it is opened on first use from the configuration's ``database_url`` if it has
one, else the SQLite file in its ``data_dir`` (``./data`` by default). Who made a change
is the signed-in API token (name and id) when authentication is on; otherwise the
``X-Remote-User`` header set by an authenticating proxy in front of the service, else
``web``. Today's date is the application's clock (``app.state.today``); every page also
takes ``?on=YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from pecoma.case import parse_case
from pecoma.dates import DATE_RULE, parse_day
from pecoma.engine import assess
from pecoma.engine.imaging import Modality, ScanFinding
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.registry.plan import plan_for
from pecoma.registry.service import validate_scan
from pecoma.registry.summary import summarise, summary_svg
from pecoma.registry.worklist import (
    SortKey,
    WorkItem,
    WorkStatus,
    build_worklist,
    close,
    evaluate,
    select,
    stored_worklist,
    to_csv,
    to_ics,
)
from pecoma.render.ics import plan_to_ics
from pecoma.settings import Settings
from pecoma.store import Repository, StoreError
from pecoma.store.cds import CdsStore
from pecoma.web.auth import principal_of
from pecoma.web.store_access import registry_of, unavailable_reason

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
    return r


STATUS_LABELS = {
    "overdue": "Overdue",
    "due": "Due (window open)",
    "upcoming": "Upcoming",
    "done": "Done recently",
    "suspended": "Suspended",
    "not_drawn": "No dated plan",
    "not_evaluable": "Not evaluable",
    "deceased": "Deceased (left surveillance)",
    "lost_to_follow_up": "Lost to follow-up (left surveillance)",
}
FINDING_LABELS = {
    "no_evidence_of_disease": "No evidence of disease",
    "equivocal": "Equivocal",
    "local_recurrence": "Local recurrence",
    "metastasis": "Metastasis",
    "not_recorded": "Not recorded",
}

_RISK_GROUPS = ("high", "indeterminate", "low", "not_applicable")


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def _registry(request: Request) -> Repository:
    return registry_of(request.app.state)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _actor(request: Request) -> str:
    """Who makes a change: the signed-in token, else (authentication off) the proxy's
    ``X-Remote-User``, else ``web``."""
    who = principal_of(request.state)
    if who is not None:
        return who.actor
    if request.app.state.config.auth_required:
        return "web"  # never trust a header when tokens decide who is calling
    return (request.headers.get("x-remote-user") or "web").strip()[:80] or "web"


def _day(request: Request, value: str | None) -> tuple[dt.date, str | None]:
    """The evaluation date: ``?on=`` when valid, else today (and a message)."""
    today: dt.date = request.app.state.today()
    if not value:
        return today, None
    day = parse_day(value)
    if day is None:
        return today, f"'on' {DATE_RULE} (got {show_value(value)}); showing today"
    return day, None


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return _templates(request).TemplateResponse(
        request, f"registry/{name}", {"status_labels": STATUS_LABELS, **context},
        status_code=status,
    )


def _unavailable(request: Request, exc: StoreError) -> Response:
    detail = unavailable_reason(request.app.state, str(exc))
    return _templates(request).TemplateResponse(
        request, "error.html",
        {"status": 503, "title": "The registry is not available", "detail": detail},
        status_code=503,
    )


PAGE_SIZE = 200


def _cache(request: Request) -> dict[Any, Any]:
    cache: dict[Any, Any] | None = getattr(request.app.state, "registry_cache", None)
    if cache is None:
        cache = {}
        request.app.state.registry_cache = cache
    return cache


def _items(request: Request, day: dt.date) -> list[WorkItem]:
    """The worklist as of ``day`` (the stored states: :func:`stored_worklist`), in
    priority order; cached until the next write."""
    repo = _registry(request)
    settings = _settings(request)
    key = (day, settings.digest(), repo.last_change())
    cache = _cache(request)
    hit = cache.get("worklist")
    if hit is not None and hit[0] == key:
        items: list[WorkItem] = hit[1]
        return items
    items = stored_worklist(repo, day, settings)
    cache["worklist"] = (key, items)
    return items


def _worklist(request: Request, day: dt.date) -> tuple[list[Any], list[WorkItem]]:
    """Every patient assessed and planned as of ``day`` (for the summary and the list of
    patients), with the worklist; cached until the next write."""
    repo = _registry(request)
    settings = _settings(request)
    key = (day, settings.digest(), repo.last_change())
    cache = _cache(request)
    hit = cache.get("evaluated")
    if hit is None or hit[0] != key:
        hit = (key, evaluate(repo.states(), day, settings))
        cache["evaluated"] = hit
    evaluated: list[Any] = hit[1]
    return evaluated, _items(request, day)


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
    statuses = [WorkStatus(s) for s in (status or "").split(",") if s in WorkStatus.__members__]
    risks = [r for r in (risk or "").split(",") if r in _RISK_GROUPS]
    key = SortKey(sort) if sort in SortKey.__members__ else SortKey.priority
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
    day, _ = _day(request, on)
    return Response(
        to_csv(_filtered(request, day, status, risk, sort)), media_type="text/csv",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-worklist-{day.isoformat()}.csv"'},
    )


def worklist_ics(request: Request, on: str | None = None, status: str | None = None,
                 risk: str | None = None, sort: str = "priority") -> Response:
    day, _ = _day(request, on)
    return Response(
        to_ics(_filtered(request, day, status, risk, sort), day,
               reminder_days=_settings(request).followup.calendar_reminder_days),
        media_type="text/calendar",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-worklist-{day.isoformat()}.ics"'},
    )


def _filtered(request: Request, day: dt.date, status: str | None, risk: str | None,
              sort: str) -> list[WorkItem]:
    statuses = [WorkStatus(s) for s in (status or "").split(",") if s in WorkStatus.__members__]
    risks = [r for r in (risk or "").split(",") if r in _RISK_GROUPS]
    key = SortKey(sort) if sort in SortKey.__members__ else SortKey.priority
    return select(_items(request, day), statuses=statuses, risk_groups=risks, sort=key)


def summary_page(request: Request, on: str | None = None) -> Response:
    day, warning = _day(request, on)
    try:
        evaluated, items = _worklist(request, day)
    except StoreError as exc:
        return _unavailable(request, exc)
    from pecoma.registry.quality import registry_decisions, registry_quality
    from pecoma.registry.survival import Endpoint, Grouping

    try:
        feedback = CdsStore(_registry(request).engine).feedback()
    except StoreError as exc:
        return _unavailable(request, exc)
    summary = summarise(evaluated, items, day, _settings(request), feedback)
    by = Grouping.folpe if request.query_params.get("by") == "folpe" else Grouping.risk

    repo = _registry(request)
    try:
        survival = [_survival(request, e, by, day) for e in (Endpoint.rfs, Endpoint.os)]
        quality, concord = registry_quality(
            evaluated, repo.outcomes_by_registry_id(), repo.recommendation_history(), day,
            _settings(request), registry_decisions(repo))
    except StoreError as exc:
        return _unavailable(request, exc)
    min_cell: int = request.app.state.config.min_cell
    return _page(request, "summary.html", {
        "s": summary, "svg": summary_svg(summary), "day": day, "warning": warning,
        "survival": survival, "by": by.value, "quality": quality.lines(min_cell)[1:],
        "concordance": concord.lines(min_cell), "min_cell": min_cell,
    })


def _survival(request: Request, endpoint: Any, by: Any, day: dt.date) -> Any:
    """The survival report, cached with the worklist until the next write."""
    from pecoma.registry.survival import survival_report

    repo = _registry(request)
    min_cell: int = request.app.state.config.min_cell
    key = ("survival", endpoint, by, day, min_cell, repo.last_change())
    cache: dict[Any, Any] = getattr(request.app.state, "registry_cache", None) or {}
    request.app.state.registry_cache = cache
    if key not in cache:
        for old in [k for k in cache if isinstance(k, tuple) and k[0] == "survival"]:
            if old[-1] != key[-1]:
                del cache[old]
        cache[key] = survival_report(repo, endpoint, by, day, min_cell)
    return cache[key]


def survival_chart(request: Request, endpoint: str = "rfs", by: str = "risk",
                   on: str | None = None) -> Response:
    from pecoma.registry.survival import Endpoint, Grouping, to_figure

    day, _ = _day(request, on)
    problems = []
    if endpoint not in Endpoint.__members__:
        problems.append(f"'endpoint' must be one of rfs, os (got {endpoint!r})")
    if by not in Grouping.__members__:
        problems.append(f"'by' must be one of risk, folpe (got {by!r})")
    if problems:
        return Response("; ".join(problems), status_code=400, media_type="text/plain")
    try:
        report = _survival(request, Endpoint(endpoint), Grouping(by), day)
    except StoreError as exc:
        return _unavailable(request, exc)
    return Response(to_figure(report, "svg"), media_type="image/svg+xml")


def summary_chart(request: Request, on: str | None = None) -> Response:
    day, _ = _day(request, on)
    evaluated, items = _worklist(request, day)
    feedback = CdsStore(_registry(request).engine).feedback()
    return Response(summary_svg(summarise(evaluated, items, day, _settings(request),
                                          feedback)),
                    media_type="image/svg+xml")


def summary_pdf_download(request: Request, on: str | None = None) -> Response:
    """The summary to share as PDF: counts, surveillance quality, concordance and
    survival, every count under the ``min_cell`` setting suppressed."""
    from pecoma.registry.quality import concordance_of, surveillance_quality
    from pecoma.registry.summary_pdf import summary_pdf, survival_reports

    day, _ = _day(request, on)
    min_cell: int = request.app.state.config.min_cell
    repo = _registry(request)
    try:
        evaluated, items = _worklist(request, day)
        feedback = CdsStore(repo.engine).feedback()
        summary = summarise(evaluated, items, day, _settings(request), feedback)
        quality = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), day)
        concord = concordance_of(repo, evaluated, day, _settings(request))
        reports = survival_reports(repo, day, min_cell)
    except StoreError as exc:
        return _unavailable(request, exc)
    return Response(
        summary_pdf(summary, quality, concord, reports, min_cell), media_type="application/pdf",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-registry-summary-{day.isoformat()}.pdf"'},
    )


def patient_page(request: Request, registry_id: str, on: str | None = None) -> Response:
    day, warning = _day(request, on)
    try:
        repo = _registry(request)
        timeline = repo.timeline(registry_id)
        state = repo.state(registry_id)
    except StoreError as exc:
        return _unavailable(request, exc)
    if timeline is None or state is None:
        return _templates(request).TemplateResponse(
            request, "error.html",
            {"status": 404, "title": "No such patient",
             "detail": "There is no patient with this registry id in the registry."},
            status_code=404,
        )
    plan = None
    problem = None
    if state.case is not None:
        try:
            case = parse_case(state.case, source="stored case")
            a = assess(case, day, _settings(request))
            plan = plan_for(case, a, day, state.scans, _settings(request))
        except InputError as exc:
            problem = "; ".join(str(i) for i in exc.issues)
    from pecoma.registry.outcomes import closure
    from pecoma.store.decisions import patient_decisions

    try:
        decisions = patient_decisions(repo, registry_id)
    except StoreError as exc:
        return _unavailable(request, exc)
    item = build_worklist(evaluate([state], day, _settings(request)), day)[0]
    left = closure([o for o in timeline.outcomes if o.event_date <= day])
    if left is not None:
        item = close([item], {registry_id: (left.status, left.reason)})[0]
    visits = [v for v in plan.visits if v.status != "missed" or v.scans] if plan else []
    return _page(request, "patient.html", {
        "t": timeline, "plan": plan, "item": item, "problem": problem, "day": day,
        "warning": warning, "visits": visits, "finding_labels": FINDING_LABELS,
        "recorded": request.query_params.get("recorded"),
        "decisions": decisions,
    })


def patient_plan_ics(request: Request, registry_id: str, on: str | None = None) -> Response:
    """The patient's whole surveillance plan as a calendar (the engine's renderer)."""
    day, _ = _day(request, on)
    state = _registry(request).state(registry_id)
    if state is None or state.case is None:
        return Response("no such patient", status_code=404, media_type="text/plain")
    try:
        case = parse_case(state.case, source="stored case")
        a = assess(case, day, _settings(request))
        plan = plan_for(case, a, day, state.scans, _settings(request))
    except InputError as exc:
        return Response(str(exc), status_code=422, media_type="text/plain")
    return Response(
        plan_to_ics(plan, f"registry-{registry_id}", label=registry_id,
                    reminder_days=_settings(request).followup.calendar_reminder_days),
        media_type="text/calendar",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-plan-{registry_id}.ics"'},
    )


def _scan_form(request: Request, registry_id: str, values: dict[str, str],
               errors: dict[str, list[str]], status: int = 200,
               general: list[str] | None = None) -> Response:
    return _page(request, "scan_form.html", {
        "registry_id": registry_id, "values": values, "errors": errors,
        "general": general or [],
        "modalities": [m.value for m in Modality],
        "findings": [(f.value, FINDING_LABELS[f.value]) for f in ScanFinding],
    }, status)


def scan_form(request: Request, registry_id: str) -> Response:
    try:
        if _registry(request).state(registry_id) is None:
            return _templates(request).TemplateResponse(
                request, "error.html",
                {"status": 404, "title": "No such patient",
                 "detail": "There is no patient with this registry id in the registry."},
                status_code=404,
            )
    except StoreError as exc:
        return _unavailable(request, exc)
    today: dt.date = request.app.state.today()
    return _scan_form(request, registry_id,
                      {"date": today.isoformat(), "modality": "", "finding": ""}, {})


async def record_scan_post(request: Request, registry_id: str) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("date", "modality", "finding")}
    today: dt.date = request.app.state.today()
    return await _record(request, registry_id, values, today)


async def _record(request: Request, registry_id: str, values: dict[str, str],
                  today: dt.date) -> Response:
    from starlette.concurrency import run_in_threadpool

    repo = _registry(request)

    def work() -> tuple[int | None, list[FieldIssue]]:
        try:
            rid, scan = validate_scan(
                repo, registry_id, values["date"] or None, values["modality"] or None,
                values["finding"] or None, on_date=today,
            )
        except InputError as exc:
            return None, exc.issues
        return repo.add_scan(rid, scan, _actor(request)), []

    try:
        scan_id, issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if scan_id is None:
        errors: dict[str, list[str]] = {}
        general: list[str] = []
        for i in issues:
            if i.path in ("date", "modality", "finding"):
                errors.setdefault(i.path, []).append(f"{i.rule} (got {i.value})")
            else:
                general.append(str(i))
        return _scan_form(request, registry_id, values, errors, 422, general)
    return RedirectResponse(f"/registry/patients/{registry_id}?recorded=1", status_code=303)


# --- outcomes ---------------------------------------------------------------------------

_OUTCOME_FIELDS = ("event", "date", "vital_status", "found_by")


def _outcome_form(request: Request, registry_id: str, values: dict[str, str],
                  errors: dict[str, list[str]], status: int = 200,
                  general: list[str] | None = None) -> Response:
    from pecoma.registry.outcomes import FoundBy, OutcomeEvent, VitalStatus

    return _page(request, "outcome_form.html", {
        "registry_id": registry_id, "values": values, "errors": errors,
        "general": general or [],
        "events": [e.value for e in OutcomeEvent],
        "vital_statuses": [v.value for v in VitalStatus],
        "found_bys": [f.value for f in FoundBy],
    }, status)


def outcome_form(request: Request, registry_id: str) -> Response:
    try:
        if _registry(request).state(registry_id) is None:
            return _templates(request).TemplateResponse(
                request, "error.html",
                {"status": 404, "title": "No such patient",
                 "detail": "There is no patient with this registry id in the registry."},
                status_code=404,
            )
    except StoreError as exc:
        return _unavailable(request, exc)
    today: dt.date = request.app.state.today()
    return _outcome_form(request, registry_id,
                         {"event": "", "date": today.isoformat(), "vital_status": "",
                          "found_by": ""}, {})


async def record_outcome_post(request: Request, registry_id: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    from pecoma.registry.outcomes import record_outcome

    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in _OUTCOME_FIELDS}
    today: dt.date = request.app.state.today()
    repo = _registry(request)

    def work() -> list[FieldIssue] | None:
        try:
            record_outcome(repo, registry_id, values["event"] or None,
                           values["date"] or None, values["vital_status"] or None,
                           values["found_by"] or None, on_date=today,
                           actor=_actor(request))
        except InputError as exc:
            return exc.issues
        return None

    try:
        issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if issues is not None:
        errors: dict[str, list[str]] = {}
        general: list[str] = []
        for i in issues:
            if i.path in _OUTCOME_FIELDS:
                errors.setdefault(i.path, []).append(f"{i.rule} (got {i.value})")
            else:
                general.append(str(i))
        return _outcome_form(request, registry_id, values, errors, 422, general)
    return RedirectResponse(f"/registry/patients/{registry_id}?recorded=outcome",
                            status_code=303)
