"""The service's own routes: liveness (``/healthz``: the process answers) and readiness
(``/readyz``: the registry database answers; 503 and ``degraded`` if not)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from pecoma import __version__
from pecoma.web.logs import APP
from pecoma.web.store_access import database_state, loggable

__all__ = ["router"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(tags=["service"])
    r.add_api_route("/healthz", healthz, methods=["GET"],
                    summary="Liveness: the service answers")
    r.add_api_route("/readyz", readyz, methods=["GET"],
                    summary="Readiness: the registry database answers (503 and 'degraded' if not)")
    return r


async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


async def readyz(request: Request) -> JSONResponse:
    from starlette.concurrency import run_in_threadpool

    state = await run_in_threadpool(database_state, request.app.state)
    ok = state == "ok"
    body: dict[str, Any] = {"status": "ok" if ok else "degraded", "version": __version__,
                            "database": "ok" if ok else "unavailable"}
    if not ok:
        APP.warning("readiness: registry database unavailable",
                    extra={"reason": loggable(request.app.state, state)})
        if not request.app.state.config.auth_required:
            body["detail"] = state  # in server mode, the reason is in the log only
    return JSONResponse(body, status_code=200 if ok else 503)
