"""The web application: ``create_app(config)`` builds it; ``pecoma serve`` runs it.

Nothing here is global: the configuration (one :class:`~pecoma.web.config.WebConfig`,
read once at start-up), the engine settings, the templates, the routers and the clock
(today's date, read at the edge) live on the application. Importing a module of
``pecoma.web`` creates no router and reads no setting; nothing after start-up reads the
environment.

Adding pages from another module
--------------------------------
A module such as ``pecoma.web.registry_pages`` defines its handlers as plain functions
and a function that builds a new router with them::

    def router() -> APIRouter:
        r = APIRouter(prefix="/registry", include_in_schema=False)
        r.add_api_route("/worklist", worklist_page, methods=["GET"])
        return r

and adds ONE line to the block marked ``# --- routers of other modules ---`` in
:func:`create_app`::

    add_router(app, "pecoma.web.board_pages")
    add_router(app, "pecoma.web.registry_pages", nav=("/registry", "Patients"))

(``nav`` is optional: it puts a link in the navigation bar of every page.) Its pages
render with the shared templates, which every template extends; their settings are
``request.app.state.config``::

    request.app.state.templates.TemplateResponse(request, "registry/list.html", {...})

    {% extends "base.html" %}
    {% block title %}Patients{% endblock %}
    {% block content %}…{% endblock %}

Templates live under ``pecoma/web/templates/`` (put a module's own in a subfolder named
after it); ``base.html`` carries the navigation, the intended-use footer, the local CSS
and JavaScript (no asset from the internet). Static files go under
``pecoma/web/static/`` and are served at ``/static/``. API routes under ``/api/`` get
``application/problem+json`` errors; raise :class:`ApiProblem` for your own.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaValue
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pecoma import __version__
from pecoma.case import Case
from pecoma.engine.model import Assessment
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.knowledge import load_knowledge
from pecoma.store.db import StoreError
from pecoma.web.auth import RETRY_AFTER_SECONDS, AccessControl, principal_of, unavailable
from pecoma.web.config import WebConfig
from pecoma.web.logs import ACCESS, APP
from pecoma.web.problems import PROBLEM_SCHEMA, ApiProblem, problem
from pecoma.web.store_access import (
    database_state,
    sessions_of,
    tokens_of,
    unavailable_reason,
)

__all__ = [
    "API_PREFIX",
    "ApiProblem",
    "add_router",
    "create_app",
    "create_app_from_env",
    "make_templates",
    "worker_app",
]

API_PREFIX = "/api/v1"

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer, Chromium sends "Origin: null" on
    # form posts, and the Origin check of sign-in and CSRF refuses every browser form.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _is_cds(path: str) -> bool:
    return path == "/cds-services" or path.startswith("/cds-services/")


class _Edge:
    """Outermost ASGI layer: request-size limit, security headers (and ``Retry-After`` on
    every 503), access log.

    The body is read here, up to the limit, and replayed to the application, so a body
    too large is refused with 413 before any route sees it, whatever its Content-Length.
    ``/cds-services`` has its own, larger limit (an EHR's prefetch can be big).
    """

    def __init__(self, app: ASGIApp, limit: int, cds_limit: int | None = None,
                 hsts: bool = False) -> None:
        self.app = app
        self.limit = limit
        self.cds_limit = cds_limit or limit
        self.headers = _SECURITY_HEADERS + ([_HSTS] if hsts else [])

    def _limit(self, path: str) -> int:
        return self.cds_limit if _is_cds(path) else self.limit

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body must be at most {self._limit(scope['path'])} bytes"
        response: Response
        if _is_api(scope["path"]) or _is_cds(scope["path"]):
            response = problem(413, "too-large", detail, instance=scope["path"])
        else:
            response = HTMLResponse(
                f"<!doctype html><title>Request too large</title><p>{detail}.</p>",
                status_code=413,
            )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:12]
        status = 500

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in self.headers if h[0] not in present]
                if status == 503 and b"retry-after" not in present:
                    # Every 503 says when to try again (a database that is down or busy).
                    headers.append((b"retry-after", RETRY_AFTER_SECONDS.encode()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            body = await self._read_body(scope, receive)
            if body is None:
                await self._too_large(scope, receive, send_wrapped)
                return
            replayed = False

            async def replay() -> Message:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            await self.app(scope, replay, send_wrapped)
        finally:
            route = scope.get("route")
            ACCESS.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": getattr(route, "path", None) or "(unmatched)",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it is larger than the limit."""
        limit = self._limit(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        return None
                except ValueError:
                    return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def make_templates() -> Jinja2Templates:
    """The shared Jinja2 templates, loaded from the installed package."""
    env = Environment(
        loader=PackageLoader("pecoma.web", "templates"),
        autoescape=select_autoescape(("html", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    knowledge = load_knowledge()

    def common(request: Request) -> dict[str, Any]:
        who = principal_of(request.state)
        return {
            "principal": who,
            "csrf_token": who.csrf if who is not None and who.csrf else "",
            "intended_use": knowledge.intended_use,
            "knowledge_version": knowledge.version,
            "engine_version": __version__,
            "nav": getattr(request.app.state, "nav", []),
        }

    return Jinja2Templates(env=env, context_processors=[common])


def add_router(app: FastAPI, module: str, nav: tuple[str, str] | None = None) -> None:
    """Include the router ``module.router()`` builds in ``app``; ``nav`` = (path, label)
    adds a nav link."""
    app.include_router(importlib.import_module(module).router())
    if nav is not None:
        app.state.nav.append(nav)


def _validation_issues(exc: RequestValidationError) -> list[FieldIssue]:
    issues = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        issues.append(
            FieldIssue(
                ".".join(loc) or "(request)",
                show_value(err.get("input")),
                str(err.get("msg", "is invalid")),
            )
        )
    return issues


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "?"
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"


def _route_of(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "(unmatched)"


def _install_error_handlers(app: FastAPI) -> None:
    def html_error(
        request: Request,
        status: int,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
    ) -> Response:
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "title": title, "detail": detail},
            status_code=status,
            headers=headers,
        )

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> Response:
        return problem(exc.status, exc.slug, exc.detail, exc.issues, request.url.path)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        detail = f"the {exc.source} was rejected ({len(exc.issues)} problem(s)); see 'errors'"
        if _is_api(request.url.path):
            return problem(422, "invalid-input", detail, exc.issues, request.url.path)
        return html_error(request, 422, "The input was rejected", "; ".join(map(str, exc.issues)))

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> Response:
        issues = _validation_issues(exc)
        if _is_api(request.url.path):
            return problem(422, "invalid-request", "the request was rejected", issues)
        return html_error(request, 422, "The request was rejected", "; ".join(map(str, issues)))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        headers = dict(exc.headers or {})  # e.g. Allow on a 405
        if _is_api(request.url.path):
            return problem(
                exc.status_code,
                {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http"),
                detail,
                headers=headers,
            )
        return html_error(request, exc.status_code, detail, detail, headers)

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError) -> Response:
        from starlette.concurrency import run_in_threadpool

        APP.warning("registry database unavailable", extra={"route": _route_of(request)})
        reason = await run_in_threadpool(unavailable_reason, request.app.state, str(exc))
        return unavailable(request.url.path, reason)

    @app.exception_handler(OperationalError)
    @app.exception_handler(ProgrammingError)
    async def _db_down(request: Request, exc: Exception) -> Response:
        from starlette.concurrency import run_in_threadpool

        # A missing table means the schema is gone (a database re-created empty): say so.
        reason = await run_in_threadpool(_database_state, request.app)
        if reason == "ok":
            reason = "the registry database cannot be used (see the server log)"
            APP.error("registry database error",
                      extra={"exception": type(exc).__name__, "where": _where(exc),
                             "route": _route_of(request)})
        APP.warning("registry database unavailable", extra={"route": _route_of(request)})
        return unavailable(request.url.path, reason)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        # The type and the place only: a message can quote the input.
        APP.error(
            "internal error",
            extra={"exception": type(exc).__name__, "where": _where(exc)},
        )
        detail = "an internal error occurred; it has been logged (without patient data)"
        if _is_api(request.url.path):
            return problem(500, "internal", detail)
        return HTMLResponse(
            f"<!doctype html><title>Internal error</title><p>{detail}.</p>", status_code=500
        )


def assessment_schemas(ref_template: str) -> dict[str, JsonSchemaValue]:
    """Component schemas of the assessment document, ``Assessment`` first: the result
    dataclasses' fields are exactly what the JSON writer writes."""
    result = TypeAdapter(Assessment).json_schema(ref_template=ref_template, mode="serialization")
    defs: dict[str, JsonSchemaValue] = result.pop("$defs", {})
    # A provenance's label is set from its other fields (no init), and written all the same.
    provenance = defs["Provenance"]
    provenance["properties"]["label"] = {"type": "string", "title": "Label"}
    provenance["required"] = [*provenance.get("required", []), "label"]
    return {"Assessment": result, **defs}


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        template = "#/components/schemas/{model}"
        case = Case.model_json_schema(ref_template=template)
        schemas.update(case.pop("$defs", {}))
        schemas["Case"] = case
        schemas.update(assessment_schemas(template))
        schemas["Problem"] = PROBLEM_SCHEMA
        _document_errors(doc)
        app.openapi_schema = doc
        return doc

    return build


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _document_errors(doc: dict[str, Any]) -> None:
    """Every answer a route can give is in the document: 404 where the path names
    something that may not exist, 503 where the registry database is needed."""
    for path, operations in doc.get("paths", {}).items():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            if "{" in path:
                responses.setdefault("404", _problem_response("Not found"))
            if path == "/readyz":
                responses.setdefault("503", {
                    "description": "The registry database is unavailable or has no schema "
                                   "('degraded'; Retry-After says when to try again)",
                    "content": {"application/json": {"schema": {"type": "object"}}}})


def create_app(
    config: WebConfig,
    *,
    today: Callable[[], dt.date] = dt.date.today,
) -> FastAPI:
    """Build the application from its configuration (the only settings it follows).
    ``today`` is the clock (the one place the date is read)."""
    app = FastAPI(
        title="pecoma",
        version=__version__,
        description="Decision support for the PEComa treatment guideline. JSON API, "
        "version 1. Errors are RFC 9457 problem details (application/problem+json).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # the stock documentation pages load assets from the internet
        redoc_url=None,
    )
    app.state.config = config
    app.state.registry_lock = threading.Lock()  # opening the registry: one request at a time
    app.state.settings = config.engine_settings()
    app.state.today = today
    app.state.nav = [("/", "New case"), ("/rules", "Knowledge base")]
    app.state.templates = make_templates()

    _install_error_handlers(app)
    app.openapi = _openapi(app)  # type: ignore[method-assign]

    @app.get("/healthz", tags=["service"], summary="Liveness: the service answers")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/readyz", tags=["service"],
             summary="Readiness: the registry database answers (503 and 'degraded' if not)")
    async def readyz(request: Request) -> JSONResponse:
        from starlette.concurrency import run_in_threadpool

        state = await run_in_threadpool(_database_state, request.app)
        ok = state == "ok"
        body: dict[str, Any] = {"status": "ok" if ok else "degraded", "version": __version__,
                                "database": "ok" if ok else "unavailable"}
        if not ok:
            APP.warning("readiness: registry database unavailable", extra={"reason": state})
            if not request.app.state.config.auth_required:
                body["detail"] = state  # in server mode, the reason is in the log only
        return JSONResponse(body, status_code=200 if ok else 503)

    app.mount("/static", StaticFiles(packages=[("pecoma.web", "static")]), name="static")
    add_router(app, "pecoma.web.auth_pages")
    add_router(app, "pecoma.web.api")
    add_router(app, "pecoma.web.pages")

    # --- routers of other modules: one line each -------------------------------------
    # (each module defines `router()`; see the module docstring)
    _add_cds(app, config, today)
    add_router(app, "pecoma.web.board_pages")
    add_router(app, "pecoma.web.registry_pages", nav=("/registry", "Patients"))
    add_router(app, "pecoma.web.smart.routes")
    # --- end of routers of other modules ---------------------------------------------

    app.add_middleware(AccessControl, config=config, tokens=lambda: tokens_of(app.state),
                       sessions=lambda: sessions_of(app.state))
    app.add_middleware(_Edge, limit=config.max_body_bytes,
                       cds_limit=config.cds_max_body_bytes, hsts=config.behind_tls)
    return app


def _add_cds(app: FastAPI, config: WebConfig, today: Callable[[], dt.date]) -> None:
    """Mount the CDS Hooks service (its state is ``app.state.cds``)."""
    from pecoma.web.cds.router import build_router
    from pecoma.web.cds.service import CdsService, limits_of
    from pecoma.web.store_access import cds_store_of

    limits = limits_of(config.cds)
    svc = CdsService(
        settings=config.cds, base_url=config.public_base_url,
        jwt_required=config.cds_jwt_required,
        store=lambda: cds_store_of(app.state, limits),
        engine_settings=lambda: app.state.settings, today=today,
    )
    app.state.cds = svc
    if config.auth_required and not svc.jwt_required:
        APP.warning("CDS Hooks service open without JWT verification in server mode "
                    "(cds.auth = 'open'): any caller can request cards")
    elif svc.jwt_required and not config.cds.trusted_issuers:
        APP.warning("CDS Hooks JWT verification is on but no trusted issuer is configured: "
                    "every CDS call will be refused")
    app.include_router(build_router(svc))


def _database_state(app: FastAPI) -> str:
    return database_state(app.state)


def worker_app(config: WebConfig) -> FastAPI:
    """The application of one server process, with JSON logs.

    ``pecoma serve --workers N`` hands each uvicorn worker ``partial(worker_app, config)``
    as its factory: the configuration it resolved once (file, environment, options, the
    shared session key) reaches the worker as that object, not through the environment.
    """
    import gc

    from pecoma.web.logs import configure_logging

    configure_logging(config.log_level)
    app = create_app(config)
    # What is built by now (modules, models, the application) lives as long as the worker:
    # kept out of the collector's way, a full collection no longer walks some 200,000
    # objects (a pause of 0.1-0.3 s under every request of that moment).
    gc.freeze()
    return app


def create_app_from_env() -> FastAPI:
    """The application configured from ``PECOMA_*`` variables (read once, here), with JSON
    logs: a factory for running under uvicorn directly
    (``uvicorn --factory pecoma.web.app:create_app_from_env``)."""
    return worker_app(WebConfig.from_env())
