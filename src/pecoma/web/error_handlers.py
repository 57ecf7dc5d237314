"""The application's error handlers (:func:`_install_error_handlers`): RFC 9457 problem
details under ``/api/``, the error page elsewhere; a query naming a parameter its route
does not take, or one twice (:mod:`pecoma.web.query`), is a 422 problem under ``/api/``
and the 400 page elsewhere; a registry database that is down or has lost its schema
answers 503 with the reason (in server mode the reason is logged and the caller told
only that the database is unavailable); an internal error is logged by its type and
place only (a message can quote the input)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.db import StoreError
from pecoma.web.auth import unavailable
from pecoma.web.edge import _is_api, _is_cds
from pecoma.web.logs import APP
from pecoma.web.problems import ApiProblem, problem
from pecoma.web.query import QueryRefused
from pecoma.web.store_access import database_state, told, unavailable_reason


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

    @app.exception_handler(QueryRefused)
    async def _query_refused(request: Request, exc: QueryRefused) -> Response:
        count = len(exc.issues)
        if _is_api(request.url.path):
            return problem(422, "invalid-input", f"the query was rejected ({count} "
                           "problem(s)); see 'errors'", exc.issues, request.url.path)
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request, "error.html",
            {"status": 400, "title": "The address was not understood",
             "detail": "The page was not shown, nor the file made: its address holds a "
                       "parameter the page does not take, or one given twice. Read without "
                       "it, the page could answer another question than the one asked (as "
                       "of today instead of the date meant, say). Correct the address.",
             "points": [str(i) for i in exc.issues]},
            status_code=400)

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
        if _is_api(request.url.path) or _is_cds(request.url.path):
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
        reason = await run_in_threadpool(database_state, request.app.state)
        if reason == "ok":
            reason = "the registry database cannot be used (see the server log)"
            APP.error("registry database error",
                      extra={"exception": type(exc).__name__, "where": _where(exc),
                             "route": _route_of(request)})
        APP.warning("registry database unavailable", extra={"route": _route_of(request)})
        return unavailable(request.url.path, told(request.app.state, reason))

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
