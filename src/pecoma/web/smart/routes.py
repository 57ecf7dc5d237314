"""The two pages of a SMART EHR launch: ``/smart/launch`` and ``/smart/callback``.

Both answer 404 until ``smart.client_id`` is configured. Every refusal is an HTML page
with its status (the browser is the client here): 400 for an iss not allowed or a launch
that is unknown, used, expired or from another browser; 403 for an authorization the EHR
denied; 422 for a record without a readable PEComa case; 502 for an EHR that could not be
reached or gave an unusable answer (another patient's data included); 503 when too many
launches are in progress. A record that says the patient died gets a page (200) saying
so and no case form; one that does not say whether the patient died has the form with
that warning first (the rule of the CDS services, :mod:`pecoma.web.vital_status`).

Each launch is bound to the browser that started it by a random key in a cookie of its
own (:func:`launch_cookie`: a name derived from the launch's ``state``; HttpOnly,
SameSite=Lax so that it comes back with the EHR's redirect, Secure behind TLS, sent only
to the callback, living as long as the launch), whose digest is kept with the launch in
the database. One cookie per launch, never one shared by the browser's launches: two
charts opened at once, their answers coming back in any order, each find their own key,
and a return opened in another browser finds none. The callback removes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from pecoma.case import Case
from pecoma.engine import assess
from pecoma.errors import InputError, OtherPatientError
from pecoma.fhir.reader import case_from_bundle
from pecoma.settings import Settings
from pecoma.store.smart_launch import LaunchesFull, LaunchRefused, LaunchStore, PendingLaunch
from pecoma.web import form_layout, forms
from pecoma.web.logs import APP
from pecoma.web.pages import render_form
from pecoma.web.smart.discovery import allowed_server, discover
from pecoma.web.smart.errors import LaunchError
from pecoma.web.smart.record import read_record, unread_stays_unknown
from pecoma.web.smart.settings import SmartSettings
from pecoma.web.smart.unreadable import other_patient, unreadable
from pecoma.web.store_access import registry_of
from pecoma.web.summary import field_label
from pecoma.web.vital_status import VitalStatusWarning, vital_status_warning

__all__ = ["COOKIE_PREFIX", "launch_cookie", "router"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(include_in_schema=False)
    r.add_api_route("/smart/launch", smart_launch, methods=["GET"])
    r.add_api_route("/smart/callback", smart_callback, methods=["GET"])
    return r


COOKIE_PREFIX = "pecoma_smart_"
_LAUNCH = re.compile(r"^[!-~]{1,1024}$")  # printable ASCII, no space
_STATE = re.compile(r"^[A-Za-z0-9_\-]{16,128}$")
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


def launch_cookie(state: str) -> str:
    """The name of the cookie that binds the launch of ``state`` to its browser: one per
    launch (128 bits of the state's SHA-256), so that launches in progress at once in one
    browser never overwrite each other's key."""
    return COOKIE_PREFIX + hashlib.sha256(state.encode("ascii")).hexdigest()[:32]


def _set_launch_cookie(request: Request, response: Response, config: SmartSettings,
                       state: str, key: str | None) -> None:
    """Set the launch's cookie (``key``), or remove it (``None``). Its path is the
    callback's as the browser sees it (that of the registered redirect URI): it goes
    nowhere else."""
    path = urlsplit(config.redirect_uri).path
    secure = bool(request.app.state.config.behind_tls)
    if key is None:
        response.delete_cookie(launch_cookie(state), path=path, secure=secure,
                               httponly=True, samesite="lax")
    else:
        response.set_cookie(launch_cookie(state), key, max_age=config.launch_seconds,
                            path=path, secure=secure, httponly=True, samesite="lax")


def _config(request: Request) -> SmartSettings:
    config: SmartSettings = request.app.state.config.smart
    if not config.enabled:
        raise LaunchError(404, "SMART launch is not configured",
                          "This pecoma server has no SMART client registration "
                          "(smart.client_id); the EHR cannot launch it.")
    return config


def _launches(request: Request) -> LaunchStore:
    store = getattr(request.app.state, "smart_launches", None)
    if not isinstance(store, LaunchStore):
        store = LaunchStore(registry_of(request.app.state).engine)
        request.app.state.smart_launches = store
    return store


def _error_page(request: Request, exc: LaunchError) -> Response:
    extra: dict[str, object] = {"status": exc.status, "reason": exc.title}
    if exc.logged:
        extra["problems"] = list(exc.logged)  # kinds only: no value, id or patient
    APP.info("smart launch refused", extra=extra)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": exc.status, "title": exc.title,
                                "detail": exc.detail, "points": exc.points,
                                "actions": exc.actions, "technical": exc.technical},
        status_code=exc.status,
    )


def _no_advice_page(request: Request, said: VitalStatusWarning) -> Response:
    """The page of a record that says the patient died: the warning alone (the words of
    the CDS services' card), no case form. The log says why, never the date."""
    APP.info("smart launch finished", extra={"no_advice": "recorded deceased"})
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html", {"status": 200, "title": said.summary, "detail": said.detail},
        status_code=200)


async def smart_launch(request: Request, iss: str | None = None,
                       launch: str | None = None) -> Response:
    try:
        return await _launch(request, iss, launch)
    except LaunchError as exc:
        return _error_page(request, exc)


async def _launch(request: Request, iss: str | None, launch: str | None) -> Response:
    from pecoma.web.smart.oauth import authorization_url, new_secret  # authlib: only when used

    config = _config(request)
    if not iss or not launch:
        raise LaunchError(400, "Not a SMART EHR launch",
                          "The EHR must open this page with both 'iss' (its FHIR server) and "
                          "'launch' (the launch context).")
    if not _LAUNCH.match(launch):
        raise LaunchError(400, "Not a SMART EHR launch",
                          "'launch' must be 1 to 1024 printable ASCII characters.")
    server = allowed_server(iss, config.allow_list())
    doc = await discover(server, timeout=config.timeout_seconds)
    # A key of this launch's own (its own cookie): two charts opened at once both finish.
    state, verifier, browser_key = new_secret(), new_secret(), new_secret()
    pending = PendingLaunch(server.base, doc.token_endpoint, verifier)
    store = _launches(request)
    try:
        await run_in_threadpool(store.begin, state, browser_key, pending,
                                lifetime_seconds=config.launch_seconds,
                                max_pending=config.max_pending)
    except LaunchesFull:
        raise LaunchError(503, "Too many launches in progress",
                          "pecoma is finishing too many SMART launches at once; try again "
                          "in a few minutes.") from None
    url = authorization_url(config, doc.authorization_endpoint, iss=iss, launch=launch,
                            state=state, verifier=verifier)
    APP.info("smart launch started")
    response = RedirectResponse(url, status_code=302)
    _set_launch_cookie(request, response, config, state, browser_key)
    return response


def _to_list(case: Case, not_found: list[str], today: dt.date,
             settings: Settings) -> list[str]:
    """The facts not found that the page lists: those that apply to the case's disease
    status (:func:`~pecoma.web.form_layout.applies`), and every one the engine asks about
    (a missing fact of the assessment), whatever its status. When the case cannot be
    assessed as it stands (the report will say why), every fact not found is listed."""
    try:
        missing = assess(case, today, settings).missing
    except InputError:
        return not_found
    asked = {m.field for m in missing}

    def is_asked(path: str) -> bool:
        return any(path == f or path.startswith(f + ".") or f.startswith(path + ".")
                   for f in asked)

    return [p for p in not_found if form_layout.applies(p, case) or is_asked(p)]


async def smart_callback(request: Request, state: str | None = None, code: str | None = None,
                         error: str | None = None) -> Response:
    try:
        response = await _callback(request, state, code, error)
    except LaunchError as exc:
        response = _error_page(request, exc)
    config: SmartSettings = request.app.state.config.smart
    if config.enabled and state and _STATE.match(state):
        # the launch is spent whatever the outcome: its cookie goes with it
        _set_launch_cookie(request, response, config, state, None)
    return response


async def _callback(request: Request, state: str | None, code: str | None,
                    error: str | None) -> Response:
    from pecoma.web.smart.oauth import exchange_code  # authlib: only when used

    config = _config(request)
    if not state or not _STATE.match(state):
        raise LaunchError(400, "Not a return from the EHR",
                          "The EHR's answer has no valid 'state'; start again from the EHR.")
    try:
        pending = await run_in_threadpool(_launches(request).take, state,
                                          request.cookies.get(launch_cookie(state)))
    except LaunchRefused as exc:
        raise LaunchError(400, "This launch cannot be finished", str(exc) + ".") from None
    if error is not None:
        shown = error if _ERROR_CODE.match(error) else "an error"
        if error == "access_denied":
            raise LaunchError(403, "Access was denied at the EHR",
                              "The EHR did not authorize pecoma to read this patient's "
                              "record (access_denied). Nothing was read.")
        raise LaunchError(403, "The EHR did not authorize the launch",
                          f"The EHR's authorization server answered with {shown}. Nothing "
                          "was read.")
    if not code or len(code) > 4096:
        raise LaunchError(400, "Not a return from the EHR",
                          "The EHR's answer has no authorization 'code'.")
    server = allowed_server(pending.iss, config.allow_list())
    grant = await exchange_code(config, pending.token_endpoint, code=code,
                                verifier=pending.code_verifier)
    patient = grant.patient
    record = await read_record(server, grant.access_token, patient,
                               timeout=config.timeout_seconds,
                               max_pages=config.fhir_max_pages)
    del grant  # the access token is used for this request only
    try:
        # the Observations not read, or read in part (by category): what they, or the
        # rest, would give is unknown
        why = record.partial.get("Observation") or (
            "its search failed" if "Observation" in dict(record.failed) else None)
        unread = {"observations": why} if why is not None else {}
        read = case_from_bundle(record.bundle, source="EHR record", patient=patient,
                                unread=unread,
                                server=server.base, on=request.app.state.today(),
                                settings=request.app.state.settings)
    except OtherPatientError as exc:  # first: never read as "no PEComa"
        raise other_patient(exc.foreign) from None
    except InputError as exc:
        raise unreadable(exc.issues, record.failed, record.causes, record.partial,
                         record.details) from None
    # the rule of the CDS services: a recorded death gets no advice (no form filled in);
    # a vital status unknown is said first, the form as for a living patient
    vital = vital_status_warning(read, proposes_orders=False,
                                 again="open pecoma again from the chart")
    if vital is not None and not vital.advice_follows:
        return _no_advice_page(request, vital)
    case, unknown_again, warnings = unread_stays_unknown(read.case, record,
                                                         read.unidentified_medications,
                                                         read.courses_in_doubt,
                                                         read.purposes_unknown)
    today: dt.date = request.app.state.today()
    # a fact found in a value that cannot be read is to be entered as one not found is
    not_found = [*read.not_found, *read.unreadable]
    not_found += [p for p in unknown_again if p not in not_found and p not in read.set_aside]
    not_found = _to_list(case, not_found, today, request.app.state.settings)
    # a fact the record gives that the reader set aside is listed apart, with why: found,
    # so never said to be missing from the record (it is asked all the same)
    aside = _to_list(case, list(read.set_aside), today, request.app.state.settings)
    notice = {
        "source": server.base,
        "not_found": [field_label(path) for path in not_found],
        "set_aside": [(field_label(path), read.set_aside[path]) for path in aside],
        "failed": [(kind, gives + (f" ({record.causes[kind]})" if kind in record.causes
                                   else "")) for kind, gives in record.failed],
        "partial": [(kind, f"{record.partial[kind]} ({record.details[kind]})")
                    for kind in record.partial],
        "warnings": list(warnings),
        "notes": list(read.notes),
        "vital_status": vital,
    }
    APP.info("smart launch finished", extra={"not_found": len(not_found),
                                             "failed_searches": len(record.failed)})
    values = forms.case_to_values(case, today)
    beyond = forms.rows_beyond(values)
    if beyond:
        raise LaunchError(422, "This record is too long for the case form",
                          "; ".join(str(i) for i in beyond) + ".")
    return render_form(request, values, notice=notice)
