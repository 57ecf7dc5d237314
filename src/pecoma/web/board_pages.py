"""The tumour board's workflow without dead ends: a report's own address, saving it to the
registry, importing a file from the browser, the stored assessment's report and the
board's decision about each recommendation.

======================================================  ==========================================
route                                                   what
======================================================  ==========================================
``GET /report/s/{token}``                               the report of a signed link (see
                                                        :mod:`pecoma.web.links`); ``POST /report``
                                                        redirects there (303)
``POST /registry/save``                                 store the linked case as the patient's
                                                        new case version (clinician), then show
                                                        the stored assessment
``GET|POST /registry/import``                           CSV/XLSX import with the same report of
                                                        rejected cells as ``pecoma registry
                                                        import`` (the one importer)
``GET /registry/patients/{id}/assessments/{n}``         a stored assessment's full report, its
                                                        recommendations and the board's decisions
``GET …/assessments/{n}/report.pdf``                    its PDF, with "Decision of the board"
``POST …/assessments/{n}/decisions``                    record a decision (clinician)
======================================================  ==========================================

A stored assessment's report is drawn again from the stored case version at the stored
evaluation date (with the scans recorded up to that date); the recommendations decided
upon are those the assessment stored, and the page says so when the knowledge, engine or
settings have changed since.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from pecoma.case import Case, parse_case
from pecoma.dates import DATE_RULE, parse_day
from pecoma.engine.imaging import parse_imaging
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store import StoreError
from pecoma.store.tokens import Role
from pecoma.web.auth import principal_of
from pecoma.web.links import MAX_TOKEN_CHARS, LinkSigner
from pecoma.web.pages import assess_and_plan, render_report
from pecoma.web.store_access import registry_of, unavailable_reason

__all__ = ["can_write", "links_of", "report_link", "router"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(include_in_schema=False)
    r.add_api_route("/report/s/{token}", linked_report, methods=["GET"])
    r.add_api_route("/registry/save", save_to_registry, methods=["POST"])
    r.add_api_route(
        "/registry/patients/{registry_id}/assessments/{assessment}",
        stored_assessment_page,
        methods=["GET"],
    )
    r.add_api_route(
        "/registry/patients/{registry_id}/assessments/{assessment}/report.pdf",
        stored_assessment_pdf,
        methods=["GET"],
    )
    r.add_api_route(
        "/registry/patients/{registry_id}/assessments/{assessment}/decisions",
        record_decision_post,
        methods=["POST"],
    )
    r.add_api_route("/registry/import", import_form, methods=["GET"])
    r.add_api_route("/registry/import", import_post, methods=["POST"])
    return r



def _error(request: Request, status: int, title: str, detail: str) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        status_code=status,
    )


def _unavailable(request: Request, exc: StoreError) -> Response:
    return _error(
        request,
        503,
        "The registry is not available",
        unavailable_reason(request.app.state, str(exc)),
    )


def _no_patient(request: Request) -> Response:
    return _error(
        request,
        404,
        "No such assessment",
        "There is no stored assessment with this number for this patient.",
    )


def can_write(request: Request) -> bool:
    """Whether the caller may change the registry (clinician role in server mode)."""
    if not request.app.state.config.auth_required:
        return True
    who = principal_of(request.state)
    return who is not None and who.token.role.allows(Role.clinician)


def _actor(request: Request) -> str:
    from pecoma.web.registry_pages import _actor as registry_actor

    return registry_actor(request)


# --- the report's own address -------------------------------------------------------


def links_of(request: Request) -> LinkSigner:
    """The application's link signer (key from ``session_secret``; see web.links)."""
    state = request.app.state
    signer: LinkSigner | None = getattr(state, "links", None)
    if signer is None:
        config = state.config
        signer = LinkSigner(
            config.session_secret or secrets.token_urlsafe(32), config.report_link_hours * 3600
        )
        state.links = signer
    return signer


def report_link(request: Request, case: Case, on: dt.date, imaging: list[Any] | None) -> str | None:
    """The address of the report of ``case`` (None when the case is too large for one)."""
    data = json.loads(case.model_dump_json(exclude_defaults=True))
    token, _expires = links_of(request).issue(data, on.isoformat(), imaging)
    if len(token) > MAX_TOKEN_CHARS:
        return None
    return f"/report/s/{token}"


def _linked_case(request: Request, token: str) -> tuple[Case, dt.date, Any, float] | Response:
    got = links_of(request).check(token)
    hours = request.app.state.config.report_link_hours
    if got == "invalid":
        return _error(
            request,
            400,
            "This report link is not valid",
            "The address was changed or cut short, or it was made by another "
            "server (or before this server restarted without a configured "
            "session_secret). Enter the case again to get a new link.",
        )
    if got == "expired":
        return _error(
            request,
            410,
            "This report link has expired",
            f"A report's address is valid for {hours:g} hours. Enter the case "
            "again (or open the patient in the registry) for a current report.",
        )
    case = parse_case(got.case, source="case")
    on = parse_day(got.on)
    if on is None:
        raise InputError([FieldIssue("on", show_value(got.on), DATE_RULE)], "link")
    imaging = (
        parse_imaging(got.imaging, treatment_end=case.treatment_end, on_date=on, source="imaging")
        if got.imaging
        else None
    )
    return case, on, imaging, got.expires


def linked_report(request: Request, token: str) -> Response:
    got = _linked_case(request, token)
    if isinstance(got, Response):
        return got
    case, on, imaging, expires = got
    a, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
    board = {
        "kind": "link",
        "token": token,
        "can_write": can_write(request),
        "expires": dt.datetime.fromtimestamp(expires, dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "has_imaging": imaging is not None,
        "errors": {},
        "form": {"registry_id": ""},
    }
    return render_report(request, case, a, plan, board)


async def save_to_registry(request: Request) -> Response:
    from pecoma.registry.service import record_case
    from pecoma.store.repository import check_registry_id

    form = await request.form()
    token = str(form.get("token", ""))
    registry_id = str(form.get("registry_id", "")).strip()
    got = _linked_case(request, token)
    if isinstance(got, Response):
        return got
    case, on, imaging, expires = got
    try:
        rid = check_registry_id(registry_id)
    except InputError as exc:
        a, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
        board = {
            "kind": "link",
            "token": token,
            "can_write": can_write(request),
            "expires": dt.datetime.fromtimestamp(expires, dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "has_imaging": imaging is not None,
            "form": {"registry_id": registry_id},
            "errors": {"registry_id": [f"{i.rule} (got {i.value})" for i in exc.issues]},
        }
        return render_report(request, case, a, plan, board, status_code=422)
    repo = registry_of(request.app.state)
    data = json.loads(case.model_dump_json(exclude_defaults=True))

    def work() -> int | None:
        record_case(
            repo,
            rid,
            data,
            on_date=on,
            settings=request.app.state.settings,
            actor=_actor(request),
            source="web report",
        )
        state = repo.state(rid)
        return state.latest.id if state is not None and state.latest is not None else None

    try:
        aid = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if aid is None:
        return RedirectResponse(f"/registry/patients/{rid}", status_code=303)
    return RedirectResponse(f"/registry/patients/{rid}/assessments/{aid}?saved=1", status_code=303)


# --- a stored assessment and the board's decisions ----------------------------------


def _stored_page(
    request: Request,
    registry_id: str,
    assessment_id: int,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    from pecoma.registry.decisions import DECISION_LABELS, REASONS, reason_label
    from pecoma.registry.plan import plan_for
    from pecoma.store.decisions import patient_decisions, recommendations_of, stored_report

    repo = registry_of(request.app.state)
    try:
        stored = stored_report(repo, registry_id, assessment_id)
        state = repo.state(registry_id) if stored is not None else None
        decisions = patient_decisions(repo, registry_id) if stored is not None else []
    except StoreError as exc:
        return _unavailable(request, exc)
    if stored is None or state is None:
        return _no_patient(request)
    settings = request.app.state.settings
    case = parse_case(stored.case, source="stored case")
    day = stored.evaluated_on
    scans = tuple(sc for sc in state.scans if sc.performed_on <= day)
    a, _ = assess_and_plan(case, day, None, settings)
    plan = plan_for(case, a, day, scans, settings)
    mine = [d for d in decisions if d.assessment_id == assessment_id]
    recs = []
    for rec_id, title in recommendations_of(stored.output):
        history = [d for d in mine if d.record_id == rec_id]
        current = next((d for d in reversed(history) if d.current), None)
        recs.append(
            {"id": rec_id, "title": title, "current": current, "history": list(reversed(history))}
        )
    changed = [
        f"{what} {then} (now {now})"
        for what, then, now in (
            ("knowledge", stored.knowledge_version, a.knowledge_version),
            ("engine", stored.engine_version, a.engine_version),
            ("settings", stored.settings_digest, a.settings_digest),
        )
        if then != now
    ]
    board = {
        "kind": "stored",
        "registry_id": registry_id,
        "assessment_id": assessment_id,
        "stored": stored,
        "recs": recs,
        "reasons": REASONS,
        "decision_labels": DECISION_LABELS,
        "reason_label": reason_label,
        "can_write": can_write(request),
        "changed": changed,
        "errors": errors or {},
        "form": values or {},
        "saved": request.query_params.get("saved"),
    }
    return render_report(request, case, a, plan, board, status_code=status)


def _assessment_id(value: str) -> int | None:
    return int(value) if re.fullmatch(r"[0-9]{1,12}", value) else None


def stored_assessment_page(request: Request, registry_id: str, assessment: str) -> Response:
    aid = _assessment_id(assessment)
    if aid is None:
        return _no_patient(request)
    return _stored_page(request, registry_id, aid)


def stored_assessment_pdf(request: Request, registry_id: str, assessment: str) -> Response:
    from pecoma.knowledge import load_knowledge
    from pecoma.registry.decisions import DECISION_LABELS, reason_label
    from pecoma.registry.plan import plan_for
    from pecoma.store.decisions import patient_decisions, recommendations_of, stored_report
    from pecoma.web.pages import build_report_view
    from pecoma.web.pdf import report_pdf_bytes

    aid = _assessment_id(assessment)
    repo = registry_of(request.app.state)
    try:
        stored = stored_report(repo, registry_id, aid) if aid is not None else None
        state = repo.state(registry_id) if stored is not None else None
        decisions = patient_decisions(repo, registry_id) if stored is not None else []
    except StoreError as exc:
        return _unavailable(request, exc)
    if stored is None or state is None:
        return _no_patient(request)
    settings = request.app.state.settings
    case = parse_case(stored.case, source="stored case")
    day = stored.evaluated_on
    a, _ = assess_and_plan(case, day, None, settings)
    plan = plan_for(case, a, day, tuple(s for s in state.scans if s.performed_on <= day), settings)
    view = build_report_view(case, a, load_knowledge(), plan)
    current = {d.record_id: d for d in decisions if d.assessment_id == aid and d.current}
    rows = [
        (rec_id, title, current.get(rec_id)) for rec_id, title in recommendations_of(stored.output)
    ]
    box = {
        "registry_id": registry_id,
        "rows": rows,
        "labels": DECISION_LABELS,
        "reason_label": reason_label,
    }
    pdf = report_pdf_bytes(request.app.state.templates, view, a, decisions=box)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="pecoma-{registry_id}-{aid}.pdf"'},
    )


_DECISION_FIELDS = ("record_id", "decision", "reason_code", "reason_text", "supersedes")


async def record_decision_post(request: Request, registry_id: str, assessment: str) -> Response:
    from pecoma.registry.decisions import check_decision
    from pecoma.store.decisions import DecisionConflict, record_decision

    aid = _assessment_id(assessment)
    if aid is None:
        return _no_patient(request)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in _DECISION_FIELDS}
    seen_text = values["supersedes"]
    repo = registry_of(request.app.state)
    actor = _actor(request)

    def work() -> tuple[int, list[FieldIssue]]:
        issues: list[FieldIssue] = []
        seen: int | None = None
        if seen_text and not seen_text.isdigit():
            issues.append(
                FieldIssue(
                    "supersedes",
                    show_value(seen_text),
                    "must be the number of the current decision, or empty",
                )
            )
        elif seen_text:
            seen = int(seen_text)
        try:
            data = check_decision(
                values["record_id"],
                values["decision"] or None,
                values["reason_code"],
                values["reason_text"],
            )
        except InputError as exc:
            return 422, issues + exc.issues
        if issues:
            return 422, issues
        try:
            record_decision(repo, registry_id, aid, data, actor, seen)
        except DecisionConflict as exc:
            return 409, exc.issues
        except InputError as exc:
            status = (
                404 if exc.issues and exc.issues[0].path in ("registry_id", "assessment") else 422
            )
            return status, exc.issues
        return 303, []

    try:
        status, issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if status == 303:
        return RedirectResponse(
            f"/registry/patients/{registry_id}/assessments/{aid}?saved=decision"
            f"#decision-{values['record_id']}",
            status_code=303,
        )
    if status == 404:
        return _no_patient(request)
    errors: dict[str, list[str]] = {}
    for i in issues:
        errors.setdefault(i.path, []).append(f"{i.rule} (got {i.value})")
    return _stored_page(request, registry_id, aid, errors, values, status)


# --- import from the browser --------------------------------------------------------


def _import_page(request: Request, context: dict[str, Any], status: int = 200) -> Response:
    return request.app.state.templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "registry/import.html",
        {
            "report": None,
            "error": None,
            "mode": "all-or-nothing",
            "can_write": can_write(request),
            "max_bytes": request.app.state.config.max_body_bytes,
            **context,
        },
        status_code=status,
    )


def import_form(request: Request) -> Response:
    return _import_page(request, {})


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


async def import_post(request: Request) -> Response:
    from pecoma.registry.import_table import ImportFileError
    from pecoma.registry.importer import ImportMode, import_file

    form = await request.form()
    upload = form.get("file")
    mode_text = str(form.get("mode", "all-or-nothing"))
    if mode_text not in ("all-or-nothing", "good-rows"):
        return _import_page(
            request,
            {"error": f"'mode' must be all-or-nothing or good-rows (got {show_value(mode_text)})"},
            422,
        )
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(
            request,
            {
                "error": "'file' is required: choose a .csv or .xlsx file in the import layout",
                "mode": mode_text,
            },
            422,
        )
    name = _SAFE_NAME.sub("_", Path(upload.filename).name)[-80:] or "upload"
    if not name.lower().endswith((".csv", ".xlsx")):
        return _import_page(
            request,
            {
                "error": "'file' must be a .csv or .xlsx file (got "
                f"{show_value(upload.filename[:80])})",
                "mode": mode_text,
            },
            422,
        )
    body = await upload.read()
    repo = registry_of(request.app.state)
    today: dt.date = request.app.state.today()
    settings = request.app.state.settings
    actor = _actor(request)

    def work() -> Any:
        with tempfile.TemporaryDirectory(prefix="pecoma-import-") as folder:
            path = Path(folder) / name
            path.write_bytes(body)
            return import_file(
                repo,
                path,
                on_date=today,
                settings=settings,
                actor=actor,
                mode=ImportMode(mode_text),
            )

    try:
        report = await run_in_threadpool(work)
    except ImportFileError as exc:
        return _import_page(request, {"error": f"'file': {exc}", "mode": mode_text}, 422)
    except StoreError as exc:
        return _unavailable(request, exc)
    return _import_page(
        request,
        {"report": report, "mode": mode_text},
        422 if report.issues and not report.committed else 200,
    )
