"""The tumour board's workflow without dead ends: a report's own address, saving it to the
registry, importing a file from the browser, the stored assessment's report and the
board's decision about each recommendation.

======================================================  ==========================================
route                                                   what
======================================================  ==========================================
``GET /report/s/{token}``                               the report of a signed link (see
                                                        :mod:`pecoma.web.links`); ``POST /report``
                                                        redirects there (303)
``GET /report/s/{token}/edit``                          the case form holding that case
``POST /registry/save``                                 store the linked case as the patient's
                                                        new case version (clinician), then show
                                                        the stored assessment
``GET|POST /registry/import``                           CSV/XLSX import with the same report of
                                                        rejected cells as ``pecoma registry
                                                        import`` (the one importer)
``GET /registry/patients/{id}/assessments/{n}``         a stored assessment's full report, its
                                                        recommendations and the board's decisions
``GET …/assessments/{n}/edit``                          the case form holding its stored case
                                                        ("Edit the case"; reader, as the page)
``GET …/assessments/{n}/report.pdf``                    its PDF, with "Decision of the board"
``POST …/assessments/{n}/decisions``                    record a decision (clinician)
======================================================  ==========================================

This module holds the router and the first two: the report's own address and saving it.
The stored assessment and the board's decisions are in :mod:`pecoma.web.board_decisions`,
the import in :mod:`pecoma.web.board_import`, and what these pages share with the
registry's pages (who makes a change and whether they may, the error pages) in
:mod:`pecoma.web.registry_common`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from pecoma.case import Case, parse_case
from pecoma.dates import date_rule, parse_day
from pecoma.engine.imaging import parse_imaging
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store import StoreError
from pecoma.web.auth import principal_of
from pecoma.web.board_decisions import (
    record_decision_post,
    stored_assessment_edit,
    stored_assessment_page,
    stored_assessment_pdf,
)
from pecoma.web.board_import import import_form, import_post
from pecoma.web.form_input import read_form, repeated_fields
from pecoma.web.form_messages import issue_message
from pecoma.web.links import MAX_TOKEN_CHARS, LinkSigner
from pecoma.web.pages import assess_and_plan, render_case_form, render_report
from pecoma.web.registry_common import _actor, _error, _unavailable, can_write
from pecoma.web.store_access import registry_of

__all__ = ["REGISTRY_ID_LABEL", "links_of", "report_link", "router", "save_refusal"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(include_in_schema=False)
    r.add_api_route("/report/s/{token}", linked_report, methods=["GET"])
    r.add_api_route("/report/s/{token}/edit", linked_edit, methods=["GET"])
    r.add_api_route("/registry/save", save_to_registry, methods=["POST"])
    r.add_api_route(
        "/registry/patients/{registry_id}/assessments/{assessment}",
        stored_assessment_page,
        methods=["GET"],
    )
    r.add_api_route(
        "/registry/patients/{registry_id}/assessments/{assessment}/edit",
        stored_assessment_edit,
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


# --- the report's own address -------------------------------------------------------


def _signer(request: Request, attribute: str, purpose: bytes) -> LinkSigner:
    state = request.app.state
    signer: LinkSigner | None = getattr(state, attribute, None)
    if signer is None:
        config = state.config
        secret = config.session_secret or getattr(state, "link_secret", None)
        if secret is None:  # drawn once per application, shared by its signers
            secret = state.link_secret = secrets.token_urlsafe(32)
        signer = LinkSigner(secret, config.report_link_hours * 3600, purpose)
        setattr(state, attribute, signer)
    return signer


def links_of(request: Request) -> LinkSigner:
    """The application's link signer (key from ``session_secret``; see web.links)."""
    return _signer(request, "links", b"pecoma-report-link")


def form_links_of(request: Request) -> LinkSigner:
    """The signer of the case form's own addresses (``/form/s/<token>``)."""
    return _signer(request, "form_links", b"pecoma-form-link")


def form_link(request: Request, values: dict[str, str]) -> str | None:
    """The GET address of the case form holding ``values`` (None when too large)."""
    token, _expires = form_links_of(request).issue(values, "", None)
    if len(token) > MAX_TOKEN_CHARS:
        return None
    return f"/form/s/{token}"


def form_values(request: Request, token: str) -> dict[str, str] | Response:
    """The values a form address carries, else the page saying why not."""
    got = form_links_of(request).check(token)
    if got == "expired":
        return _error(request, 410, "This form's address has expired",
                      "Enter the case again.")
    if got == "invalid" or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in got.case.items()
    ):
        return _error(request, 400, "This form's address is not valid",
                      "The address was changed or cut short, or it was made by another "
                      "server or before this server restarted. Enter the case again.")
    return dict(got.case)


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
        raise InputError([FieldIssue("on", show_value(got.on), date_rule(got.on))], "link")
    imaging = (
        parse_imaging(got.imaging, case=case, on_date=on, source="imaging")
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
        "signed_out": principal_of(request.state) is None,
        "expires": dt.datetime.fromtimestamp(expires, dt.UTC).strftime("%Y-%m-%d %H:%M"),
        "has_imaging": imaging is not None,
        "errors": {},
        "form": {"registry_id": ""},
    }
    return render_report(request, case, a, plan, board)


#: The save form's field, as its label says it.
REGISTRY_ID_LABEL = "Registry id of the patient"


def save_refusal(
    issues: Iterable[FieldIssue],
) -> tuple[dict[str, list[str]], list[str], dict[str, Any]]:
    """Why a save was refused, in words: the registry id's problems (shown beside its
    field), the case's facts refused (dated after today, or after a recorded death), each
    named by the case form's label for it (never a field path), and the error summary at
    the top of the page (the id's problems linking to its field)."""
    from pecoma.web.summary import field_label

    mine: list[str] = []
    facts: list[str] = []
    items: list[tuple[str | None, str, str]] = []
    for i in issues:
        if i.path in ("registry_id", ""):
            text = ("Required: enter the patient's pseudonymous registry code."
                    if i.value in ("''", "(missing)", "(empty)") else issue_message(i))
            mine.append(text)
            items.append(("#save-registry-id", REGISTRY_ID_LABEL, text))
        else:
            label = field_label(i.path)
            facts.append(f"{label}: {issue_message(i)}")
            items.append((None, label, issue_message(i)))
    summary = {
        "heading": "Not saved to the registry: "
        + (f"{len(items)} problems" if len(items) != 1 else "1 problem"),
        "items": items,
        "note": "A fact of the case is corrected with “Edit the case”." if facts else "",
    }
    return ({"registry_id": mine} if mine else {}), facts, summary


def linked_edit(request: Request, token: str) -> Response:
    """The case form holding the case of a report's link ("Edit the case"): a GET
    address, so Back and reload never ask to resubmit a form."""
    got = _linked_case(request, token)
    if isinstance(got, Response):
        return got
    case, on, imaging, _expires = got
    return render_case_form(request, case, on, imaging)


_SAVE_FIELDS = ("token", "registry_id")


async def save_to_registry(request: Request) -> Response:
    from pecoma.registry.service import record_case
    from pecoma.store.repository import check_registry_id

    form = await read_form(request)
    repeated = repeated_fields(form, _SAVE_FIELDS)
    if repeated:  # two patient ids, two reports: saving the last would drop one unsaid
        raise InputError(repeated, "form")
    token = str(form.get("token", ""))
    registry_id = str(form.get("registry_id", "")).strip()
    got = _linked_case(request, token)
    if isinstance(got, Response):
        return got
    case, on, imaging, expires = got

    def refused(exc: InputError) -> Response:
        a, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
        errors, facts, summary = save_refusal(exc.issues)
        board = {
            "kind": "link",
            "token": token,
            "can_write": can_write(request),
            "expires": dt.datetime.fromtimestamp(expires, dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "has_imaging": imaging is not None,
            "form": {"registry_id": registry_id},
            "errors": errors,
            "case_errors": facts,
            "error_summary": summary,
        }
        return render_report(request, case, a, plan, board, status_code=422)

    try:
        rid = check_registry_id(registry_id)
    except InputError as exc:
        return refused(exc)
    repo = registry_of(request.app.state)
    data = json.loads(case.model_dump_json(exclude_defaults=True))
    # stored as of the server's date, as an import or a scan is: the link's date is the
    # report's (a what-if date may lie ahead), never a licence to store facts dated later
    today: dt.date = request.app.state.today()

    def work() -> int | None:
        record_case(
            repo,
            rid,
            data,
            on_date=today,
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
    except InputError as exc:  # an id differing from a stored one only in letter case,
        # or a case dated after the recorded death
        return refused(exc)
    if aid is None:
        return RedirectResponse(f"/registry/patients/{rid}", status_code=303)
    return RedirectResponse(f"/registry/patients/{rid}/assessments/{aid}?saved=1", status_code=303)
