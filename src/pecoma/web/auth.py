"""Access control for server mode: API tokens, browser sessions, roles and CSRF.

When :attr:`WebConfig.auth_required` is true (the server is bound beyond loopback, or
``auth = "on"``), every request passes :class:`AccessControl` before any route:

==============================================  ===============================================
route                                           needs
==============================================  ===============================================
``/healthz``, ``/readyz``, ``/static/``         nothing
``/login``                                      nothing (it is how a browser signs in)
``/cds-services…``                              nothing here: CDS Hooks has its own JWT check
``/smart/…`` (SMART launch and its return)      nothing here: the EHR authorizes the launch
``/``, ``/report*``, ``/edit``, ``/rules``,     nothing while ``open_assessment`` (they hold
``/api/v1/…`` (assess, schema, rules, openapi)  no data; a signed-in caller is still known
                                                on GET); else ``reader``
``GET /registry…`` (pages, worklist, exports)   ``reader``
``POST /registry…`` (every registry write)      ``clinician``
``/api/v1/tokens``                              ``admin``
``POST /logout``                                a session
anything else                                   ``reader`` (deny by default)
==============================================  ===============================================

Credentials: ``Authorization: Bearer <token>`` (an API token, see
:mod:`pecoma.store.tokens`), or the ``pecoma_session`` cookie that ``/login`` sets in
exchange for a token. The cookie is signed (HMAC-SHA256 with ``session_secret``),
HttpOnly, SameSite=Strict, Secure behind TLS, and carries the token's id, an expiry and a
CSRF secret: a state-changing request authenticated by cookie must echo it in the
``csrf_token`` form field (URL-encoded or multipart) or the ``X-CSRF-Token`` header.
(Its ``Origin``, like every state-changing request's in every mode, is checked before
this layer: :mod:`pecoma.web.guards`.) The token's row is read on every request, so
revocation is immediate. Nothing here logs a token, a cookie or a registry id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pecoma.store.db import StoreError
from pecoma.store.tokens import Role, TokenInfo, TokenStore
from pecoma.web.config import WebConfig
from pecoma.web.logs import APP
from pecoma.web.problems import problem

__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "AccessControl",
    "Principal",
    "SessionSigner",
    "needed_role",
    "principal_of",
    "safe_next",
]

COOKIE = "pecoma_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_OPEN_ASSESSMENT = ("/report", "/edit", "/form", "/rules", "/api/v1/")
_PUBLIC = ("/static/", "/cds-services/", "/smart/")

Need = Role | Literal["public", "session"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token (never its value) and, for a session, its CSRF secret."""

    token: TokenInfo
    via: Literal["bearer", "session"]
    csrf: str | None = None
    session: str | None = None  # the session id (in the database as its digest)

    @property
    def actor(self) -> str:
        return self.token.actor


def principal_of(scope_state: Any) -> Principal | None:
    value = getattr(scope_state, "principal", None)
    return value if isinstance(value, Principal) else None


def needed_role(method: str, path: str, config: WebConfig) -> Need:
    """What a request needs when authentication is on (see the module docstring)."""
    if path in ("/healthz", "/readyz", "/login", "/cds-services") or path.startswith(_PUBLIC):
        return "public"
    if path == "/logout":
        return "session"
    if path == "/api/v1/tokens" or path.startswith("/api/v1/tokens/"):
        return Role.admin
    if path == "/registry" or path.startswith("/registry/"):
        return Role.reader if method in _SAFE_METHODS else Role.clinician
    if path == "/" or path.startswith(_OPEN_ASSESSMENT):
        return "public" if config.open_assessment else Role.reader
    return Role.reader


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/registry"
    return value


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Signs and checks session cookies: ``payload.signature``, both base64url."""

    def __init__(self, secret: str, max_age_seconds: float) -> None:
        self._key = hashlib.sha256(b"pecoma-session\x00" + secret.encode()).digest()
        self.max_age = max_age_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, token_id: int, now: float | None = None, session: str = ""
              ) -> tuple[str, str]:
        """A cookie value for ``token_id`` (and the database session ``session``) and its
        CSRF secret."""
        csrf = secrets.token_urlsafe(24)
        expires = int((now if now is not None else time.time()) + self.max_age)
        payload = _b64(json.dumps({"t": token_id, "e": expires, "c": csrf,
                                   "s": session}).encode())
        return f"{payload}.{self._sign(payload)}", csrf

    def check(self, value: str, now: float | None = None) -> tuple[int, str, str] | None:
        """The token id, CSRF secret and session id of a valid, unexpired cookie, else
        None.

        A cookie that is not ASCII (a browser or client may send anything) is no session.
        """
        if not value.isascii():
            return None
        payload, _, signature = value.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            token_id, expires, csrf = int(data["t"]), int(data["e"]), str(data["c"])
            session = str(data.get("s", ""))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if expires < (now if now is not None else time.time()):
            return None
        return token_id, csrf, session


def _cookie(scope: Scope) -> str | None:
    raw = Headers(scope=scope).get("cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def _bearer(scope: Scope) -> str | None:
    value = Headers(scope=scope).get("authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else ""


def _is_json_client(path: str) -> bool:
    return path.startswith(("/api/", "/cds-services"))


def _html(status: int, title: str, detail: str, headers: dict[str, str] | None = None
          ) -> HTMLResponse:
    from html import escape

    return HTMLResponse(
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)}'
        f' · pecoma</title><link rel="stylesheet" href="/static/pecoma.css"><main>'
        f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>"
        '<p><a href="/login">Sign in</a> · <a href="/">Home</a></p></main></html>',
        status_code=status,
        headers=headers,
    )


RETRY_AFTER_SECONDS = "5"


def unavailable(path: str, detail: str) -> Response:
    """503 for a database that is down: problem+json for APIs, a page otherwise."""
    if _is_json_client(path):
        return problem(503, "database-unavailable", detail, instance=path,
                       headers={"Retry-After": RETRY_AFTER_SECONDS})
    return _html(503, "The registry is not available", detail,
                 {"Retry-After": RETRY_AFTER_SECONDS})


class AccessControl:
    """ASGI layer enforcing :func:`needed_role` (a no-op when authentication is off)."""

    def __init__(self, app: ASGIApp, config: WebConfig, tokens: Any,
                 sessions: Any = None) -> None:
        self.app = app
        self.config = config
        self.on = config.auth_required  # the configuration is immutable: decided once
        self.tokens = tokens  # a callable returning the TokenStore (opened lazily)
        self.sessions = sessions  # a callable returning the SessionStore (same database)
        self.signer = SessionSigner(
            config.session_secret or secrets.token_urlsafe(32), config.session_hours * 3600
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.on:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["signer"] = self.signer
        method, path = scope["method"], scope["path"]
        need = needed_role(method, path, self.config)
        if need == "public":
            if method in _SAFE_METHODS and (path == "/" or path.startswith(_OPEN_ASSESSMENT)):
                # Open pages still know a signed-in caller (the report offers "save to
                # registry" to a clinician); no credentials, or bad ones, change nothing.
                try:
                    who = await self._authenticate(scope)
                except StoreError:
                    who = None
                if who is not None:
                    scope["state"]["principal"] = who
            await self.app(scope, receive, send)
            return
        try:
            who = await self._authenticate(scope)
        except StoreError as exc:
            from pecoma.web.store_access import UNAVAILABLE, unavailable_reason

            # Server mode, caller not yet known: the reason goes to the log only.
            APP.warning("authentication: registry database unavailable")
            app_state = scope["app"].state if "app" in scope else None
            reason = (UNAVAILABLE if app_state is None else
                      await run_in_threadpool(unavailable_reason, app_state, str(exc)))
            await unavailable(path, reason)(scope, receive, send)
            return
        if who is None:
            await self._unauthenticated(scope, method, path)(scope, receive, send)
            return
        if isinstance(need, Role) and not who.token.role.allows(need):
            APP.info("access refused", extra={"token_id": who.token.id, "route": path
                                              if path.startswith("/api/") else "(page)",
                                              "needed": need.value})
            await self._forbidden(path, need)(scope, receive, send)
            return
        if who.via == "session" and method not in _SAFE_METHODS:
            body, ok = await self._csrf_ok(scope, receive, who)
            if not ok:
                APP.info("csrf check failed", extra={"token_id": who.token.id})
                await self._forbidden(path, None)(scope, receive, send)
                return
            receive = _replay(body, receive)
        scope["state"]["principal"] = who
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> Principal | None:
        bearer = _bearer(scope)
        if bearer is not None:
            if not bearer:
                return None
            store: TokenStore = await run_in_threadpool(self.tokens)
            info = await run_in_threadpool(store.verify, bearer)
            return None if info is None else Principal(info, "bearer")
        cookie = _cookie(scope)
        if cookie is None:
            return None
        checked = self.signer.check(cookie)
        if checked is None:
            return None
        token_id, csrf, session = checked
        store = await run_in_threadpool(self.tokens)
        got = await run_in_threadpool(store.get, token_id)
        if got is None or not got.active:
            return None
        if self.sessions is not None:
            if not session:
                return None
            sessions = await run_in_threadpool(self.sessions)
            if not await run_in_threadpool(sessions.active, session, token_id):
                return None  # signed out (on any worker), or never started
        return Principal(got, "session", csrf, session)

    def _unauthenticated(self, scope: Scope, method: str, path: str) -> Response:
        if _is_json_client(path):
            return problem(
                401, "unauthorized",
                "this route needs an API token: send 'Authorization: Bearer <token>' "
                "(a missing, unknown or revoked token is refused)",
                instance=path, headers={"WWW-Authenticate": 'Bearer realm="pecoma"'},
            )
        if method in _SAFE_METHODS:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return _html(401, "Sign in needed", "Sign in with an API token to do this.")

    def _forbidden(self, path: str, need: Role | None) -> Response:
        detail = (f"this needs the {need.value} role or higher" if need is not None
                  else "the form's CSRF token is missing or wrong (reload the page and retry)")
        if _is_json_client(path):
            return problem(403, "forbidden", detail, instance=path)
        return _html(403, "Not allowed", detail[0].upper() + detail[1:] + ".")

    async def _csrf_ok(self, scope: Scope, receive: Receive, who: Principal
                       ) -> tuple[bytes, bool]:
        headers = Headers(scope=scope)
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        given = headers.get(CSRF_HEADER.decode())
        kind = headers.get("content-type", "")
        if given is None and kind.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [])
            given = values[0] if values else None
        elif given is None and kind.startswith("multipart/form-data"):
            given = await _multipart_field(scope, body, CSRF_FIELD)
        ok = given is not None and who.csrf is not None and hmac.compare_digest(
            given.encode(), who.csrf.encode()
        )
        return body, ok


async def _multipart_field(scope: Scope, body: bytes, name: str) -> str | None:
    """A text field of a multipart form (a file upload from the browser), else None."""
    from starlette.requests import Request

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    request = Request(scope, _replay(body, nothing))
    try:
        form = await request.form()
    except Exception:  # any malformed body: no CSRF token
        return None
    try:
        value = form.get(name)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
