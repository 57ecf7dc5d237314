"""The CDS Hooks routes of one application (built by :func:`pecoma.web.app.create_app`).

::

    GET  /cds-services                          discovery
    POST /cds-services/pecoma-patient-view      patient-view
    POST /cds-services/pecoma-order-select      order-select
    POST /cds-services/{id}/feedback            feedback on cards
    GET  /cds-services/reports/{token}          the full report a card links to

An address under ``/cds-services`` ending in a slash is a 404 naming the services, never
a redirect (a POST re-sent would carry the record and the JWT again).

With JWT verification on (server mode: auth on or bound beyond loopback; or
``cds.auth = "jwt"``) every POST must carry a valid EHR JWT, or gets a 401 that never says
which check failed. Bound beyond loopback without ``cds.base_url`` the service answers
503 (its links and the JWT audience would name the bound address, 0.0.0.0). Errors are the app's
problem details
(:mod:`pecoma.web.problems`) with the CORS headers of the call. Tokens and patient
identifiers are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from pecoma.knowledge import load_knowledge
from pecoma.store.cds import CdsStore
from pecoma.store.db import StoreError
from pecoma.web.cds.cards import Answer
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW, SERVICES, discovery
from pecoma.web.cds.feedback import feedback_entries
from pecoma.web.cds.jwt import Unauthorized
from pecoma.web.cds.order_select import order_select
from pecoma.web.cds.patient_view import patient_view
from pecoma.web.cds.requests import read_body
from pecoma.web.cds.service import CdsService
from pecoma.web.jsonout import FastJSONResponse
from pecoma.web.logs import access_fields
from pecoma.web.problems import ApiProblem, problem

__all__ = ["build_router"]

LOG = logging.getLogger("pecoma.web.cds")

Handler = Callable[[dict[str, Any], Request, CdsService], Awaitable[Answer]]
_HANDLERS: dict[str, Handler] = {PATIENT_VIEW: patient_view, ORDER_SELECT: order_select}
#: The methods an address ending in a slash is answered for (with a 404: none is the
#: service's address).
_EVERY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _cors(request: Request, svc: CdsService) -> dict[str, str]:
    origin = request.headers.get("origin")
    allowed = svc.settings.cors_origins
    if not origin or not allowed:
        return {}
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def _refused(request: Request, svc: CdsService, path: str) -> Response:
    """401 as problem details, the same for every reason: it says what is needed, never
    which check failed."""
    return problem(
        401,
        "unauthenticated",
        "The call needs a valid JWT from a trusted EHR in the Authorization header "
        "(CDS Hooks 2.0.1).",
        instance=path,
        headers={**_cors(request, svc), "WWW-Authenticate": "Bearer"},
    )


def _no_base_url(request: Request, svc: CdsService, path: str) -> Response:
    """503 while the service has no public base URL (bound beyond loopback without
    ``cds.base_url``): its card links and the JWT audience would name the bound address
    (0.0.0.0), which no EHR or browser can use."""
    return problem(
        503,
        "cds-not-configured",
        "The CDS Hooks service needs this server's public URL: set cds.base_url "
        "(PECOMA_CDS_BASE_URL) when the server is bound beyond loopback.",
        instance=path,
        headers=_cors(request, svc),
    )


def prune(store: CdsStore) -> None:
    """Keep the cards and reports within their bounds, after the answer has gone (every
    ``prune_every``-th answer of a process); a failure is logged, never raised."""
    try:
        store.prune_cards()
    except StoreError:
        LOG.warning("cds-hooks: old cards and reports could not be pruned")


def build_router(svc: CdsService) -> APIRouter:
    """The CDS Hooks router of one application."""
    api = APIRouter(tags=["CDS Hooks"])

    async def denied(request: Request, path: str) -> Response | str | None:
        """The 401 when the call's JWT is refused; else the JWT's issuer (``None`` when
        no JWT is required): the EHR its cards are given to, and whose feedback on them
        is taken."""
        if not svc.jwt_required:
            return None
        audiences: tuple[str, ...] = (f"{svc.base_url}{path}",)
        if path.endswith("/feedback"):
            audiences += (f"{svc.base_url}{path.removesuffix('/feedback')}",)

        async def claim(issuer: str, jti: str, expires: Any) -> bool:
            return bool(await run_in_threadpool(svc.store().claim_jti, issuer, jti, expires))

        try:
            claims = await svc.verifier.verify(request.headers.get("authorization"),
                                               audiences, claim)
        except Unauthorized:
            return _refused(request, svc, path)
        except StoreError:
            LOG.warning("cds-hooks: replay cache unavailable; call refused")
            return _refused(request, svc, path)
        return str(claims["iss"])

    def failed(exc: ApiProblem, path: str, request: Request) -> Response:
        return problem(exc.status, exc.slug, exc.detail, exc.issues, path,
                       headers=_cors(request, svc))

    @api.get("/cds-services", summary="CDS Hooks discovery")
    async def discover(request: Request) -> Response:
        if svc.base_url is None:
            return _no_base_url(request, svc, "/cds-services")
        return JSONResponse(discovery(load_knowledge().version), headers=_cors(request, svc))

    @api.post("/cds-services/{service_id}", summary="Call a CDS service")
    async def call(service_id: str, request: Request) -> Response:
        path = f"/cds-services/{service_id}"
        handler = _HANDLERS.get(service_id)
        if handler is None:
            return failed(ApiProblem(404, "unknown-service", f"No CDS service "
                                     f"'{service_id[:40]}'; see /cds-services."), path, request)
        access_fields(request.scope, service=service_id)
        if svc.base_url is None:
            return _no_base_url(request, svc, path)
        issuer = await denied(request, path)
        if isinstance(issuer, Response):
            return issuer
        try:
            answer = await handler(await read_body(request), request, svc)
            background = None
            if answer.records:
                store = svc.store()
                await run_in_threadpool(store.issue, answer.records,
                                        [(t, text) for text, t in answer.reports.items()],
                                        issuer)
                if store.prune_due():
                    background = BackgroundTask(prune, store)
        except ApiProblem as exc:
            return failed(exc, path, request)
        except StoreError:
            LOG.warning("cds-hooks: registry database unavailable", extra={
                "service": service_id})
            return failed(ApiProblem(503, "database-unavailable", "The cards could not be "
                                     "recorded; try again."), path, request)
        access_fields(request.scope, cards=len(answer.cards))
        return FastJSONResponse(answer.result(), headers=_cors(request, svc),
                                background=background)

    @api.post("/cds-services/{service_id}/feedback", summary="Feedback on cards")
    async def feedback(service_id: str, request: Request) -> Response:
        path = f"/cds-services/{service_id}/feedback"
        if service_id not in SERVICES:
            return failed(ApiProblem(404, "unknown-service",
                                     f"No CDS service '{service_id[:40]}'."), path, request)
        access_fields(request.scope, service=service_id)
        if svc.base_url is None:
            return _no_base_url(request, svc, path)
        issuer = await denied(request, path)
        if isinstance(issuer, Response):
            return issuer
        try:
            body = await read_body(request)
            store = svc.store()
            entries = await run_in_threadpool(feedback_entries, body, service_id, store.card,
                                              store.clock(), issuer)
            await run_in_threadpool(store.add_feedback, entries)
        except ApiProblem as exc:
            return failed(exc, path, request)
        except StoreError:
            return failed(ApiProblem(503, "database-unavailable", "The feedback could not be "
                                     "recorded; try again."), path, request)
        access_fields(request.scope, entries=len(entries))
        return Response(status_code=200, headers=_cors(request, svc))

    @api.get("/cds-services/reports/{token}", summary="The full report a card links to")
    async def report(token: str, request: Request) -> Response:
        try:
            text = await run_in_threadpool(svc.store().report, token)
        except StoreError:
            text = None
        if text is None:
            return failed(ApiProblem(404, "report-not-found", "This report link has expired "
                                     "or never existed."), "/cds-services/reports", request)
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8",
                                 headers={"Cache-Control": "no-store",
                                          "X-Robots-Tag": "noindex"})

    # An address under /cds-services ending in a slash is none of the service's: a 404
    # naming the services, never the framework's redirect to the address without the
    # slash (a POST re-sent there carries the patient's record and the JWT again, whose
    # audience names the slashed address)
    @api.api_route("/cds-services/", methods=_EVERY_METHOD, include_in_schema=False)
    @api.api_route("/cds-services/{rest:path}/", methods=_EVERY_METHOD,
                   include_in_schema=False)
    async def slashed(request: Request, rest: str = "") -> Response:
        del rest
        return failed(ApiProblem(404, "unknown-service", "No CDS service at an address "
                                 "ending in a slash; the services are "
                                 + ", ".join(f"/cds-services/{s}" for s in SERVICES)
                                 + " (see /cds-services), written without a final slash."),
                      "/cds-services", request)

    # CORS preflights, for the addresses the service answers only (registered after the
    # routes they precede: a wrong method on a service is then a 405 naming POST, not
    # OPTIONS, and an address the service does not have a 404)
    @api.options("/cds-services", include_in_schema=False)
    @api.options("/cds-services/{service_id}", include_in_schema=False)
    @api.options("/cds-services/{service_id}/feedback", include_in_schema=False)
    async def preflight(request: Request, service_id: str = "") -> Response:
        del service_id
        headers = _cors(request, svc)
        if headers:
            headers.update({
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            })
        return Response(status_code=204, headers=headers)

    return api
