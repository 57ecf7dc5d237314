"""Signing in and out (browser sessions) and token management over the API (admin).

``GET /login`` shows a form; ``POST /login`` exchanges an API token for a signed session
cookie (see :mod:`pecoma.web.auth`) and goes back to the page asked for; ``POST /logout``
clears it. ``GET /api/v1/tokens`` lists the tokens (never their values), for admins, in
server mode only (404 otherwise, so that no stateless client opens the database).
Tokens are created and revoked on the command line (``pecoma token …``).
"""

from __future__ import annotations

import datetime as dt
import secrets

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from pecoma.errors import FieldIssue, InputError
from pecoma.store import StoreError
from pecoma.store.sessions import LOGIN_ATTEMPTS, LOGIN_WINDOW
from pecoma.web.auth import COOKIE, SessionSigner, principal_of, safe_next, unavailable
from pecoma.web.form_input import read_form, repeated_fields
from pecoma.web.logs import APP
from pecoma.web.problems import problem
from pecoma.web.store_access import sessions_of, tokens_of, unavailable_reason

__all__ = ["router"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter()
    r.add_api_route("/login", login_form, methods=["GET"], include_in_schema=False)
    r.add_api_route("/login", login, methods=["POST"], include_in_schema=False)
    r.add_api_route("/logout", logout, methods=["POST"], include_in_schema=False)
    r.add_api_route("/api/v1/tokens", list_tokens, methods=["GET"], include_in_schema=False)
    return r



def _login_page(request: Request, next_: str, error: str | None, status: int) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": next_, "error": error}, status_code=status
    )
    return response


def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, safe_next(next), None, 200)


def _too_many(request: Request, next_: str) -> Response:
    APP.info("sign-in refused: attempt limit")
    minutes = int(LOGIN_WINDOW.total_seconds() // 60)
    response = _login_page(
        request, next_, f"Too many refused sign-ins from this address: at most "
        f"{LOGIN_ATTEMPTS} in {minutes} minutes. Wait, then try again.", 429)
    response.headers["Retry-After"] = str(int(LOGIN_WINDOW.total_seconds()))
    return response


async def _refused_text(request: Request, exc: InputError) -> Response:
    """A sign-in whose fields break the text rule (a token pasted with an escape, say):
    refused naming the field as every form is, but the token, a credential, is never
    shown back; and in server mode it is a refused sign-in, counted toward the limit of
    the client address (or answered 429 once the limit is reached)."""
    hidden = InputError([FieldIssue(i.path, "(hidden)", i.rule) if i.path == "token" else i
                         for i in exc.issues], exc.source)
    if isinstance(getattr(request.state, "signer", None), SessionSigner):
        address = request.client.host if request.client else "(unknown)"
        try:
            sessions = await run_in_threadpool(sessions_of, request.app.state)
            # counted as a refused sign-in (the attempt is recorded as refused)
            if not await run_in_threadpool(sessions.attempt, address):
                return _too_many(request, "/registry")
        except StoreError as err:
            return unavailable(request.url.path, await run_in_threadpool(
                unavailable_reason, request.app.state, str(err)))
        APP.info("sign-in refused")
    raise hidden from None


async def login(request: Request) -> Response:
    try:
        form = await read_form(request)
    except InputError as exc:
        return await _refused_text(request, exc)
    token = str(form.get("token", "")).strip()
    next_ = safe_next(str(form.get("next", "")))
    repeated = repeated_fields(form, ("token", "next"))
    if repeated:  # which token, which page: never the last one sent (nor a token shown)
        return _login_page(request, "/", "Not signed in: " + "; ".join(
            f"'{i.path}' {i.rule}" for i in repeated) + ".", 422)
    signer = getattr(request.state, "signer", None)
    if not isinstance(signer, SessionSigner):
        # Authentication is off: there is nothing to sign in to.
        return RedirectResponse(next_, status_code=303)
    # (a sign-in posted from another site never gets here: pecoma.web.guards)
    address = request.client.host if request.client else "(unknown)"
    try:
        sessions = await run_in_threadpool(sessions_of, request.app.state)
        # counted as refused from here on, until the token is found good
        if not await run_in_threadpool(sessions.attempt, address):
            return _too_many(request, next_)
        store = await run_in_threadpool(tokens_of, request.app.state)
        info = await run_in_threadpool(store.verify, token) if token else None
        if info is not None:
            session = secrets.token_urlsafe(32)
            await run_in_threadpool(sessions.start, session, info.id,
                                    dt.timedelta(seconds=signer.max_age))
            await run_in_threadpool(sessions.clear_failures, address)
    except StoreError as exc:
        return unavailable(request.url.path, await run_in_threadpool(
            unavailable_reason, request.app.state, str(exc)))
    if info is None:
        APP.info("sign-in refused")
        return _login_page(request, next_, "API token: must be a valid API token that has not "
                           "been revoked (the one given is not).", 401)
    value, _csrf = signer.issue(info.id, session=session)
    APP.info("signed in", extra={"token_id": info.id})
    response = RedirectResponse(next_, status_code=303)
    response.set_cookie(
        COOKIE, value, max_age=int(signer.max_age), path="/", httponly=True,
        samesite="strict", secure=request.app.state.config.behind_tls,
    )
    return response


async def logout(request: Request) -> Response:
    who = principal_of(request.state)
    if who is not None and who.session:
        # Ended in the database: the cookie stops working everywhere, even if copied.
        try:
            sessions = await run_in_threadpool(sessions_of, request.app.state)
            await run_in_threadpool(sessions.end, who.session)
        except StoreError as exc:
            return unavailable(request.url.path, await run_in_threadpool(
                unavailable_reason, request.app.state, str(exc)))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.app.state.config.behind_tls)
    return response


async def list_tokens(request: Request) -> Response:
    """The API tokens (admin; never the token values). Server mode only."""
    if not request.app.state.config.auth_required:
        return problem(404, "not-found", "API tokens are used only in server mode "
                       "(authentication on); see docs/security.md", instance=request.url.path)
    store = await run_in_threadpool(tokens_of, request.app.state)
    rows = await run_in_threadpool(store.listing)
    return JSONResponse([
        {"id": t.id, "name": t.name, "role": t.role.value,
         "created_at": t.created_at.isoformat(), "created_by": t.created_by,
         "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
        for t in rows
    ])
