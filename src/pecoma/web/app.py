"""The web application: ``create_app(config)`` builds it; ``pecoma serve`` runs it.

Nothing here is global: the configuration (one :class:`~pecoma.web.config.WebConfig`,
read once at start-up), the engine settings, the templates, the routers and the clock
(today's date, read at the edge) live on the application. Importing a module of
``pecoma.web`` creates no router and reads no setting; nothing after start-up reads the
environment.

The application is put together here from parts of one idea each: the outermost ASGI
layer (size limit, security headers, access log) in :mod:`pecoma.web.edge`, with the Host
and Origin rules of :mod:`pecoma.web.guards`, the error handlers in
:mod:`pecoma.web.error_handlers`, the OpenAPI document in :mod:`pecoma.web.openapi` and
the liveness and readiness routes in :mod:`pecoma.web.health`.

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

A route takes the query parameters its signature declares (``on: str | None = None``)
and no other: ``?ON=`` or a parameter given twice is refused before it runs (a 422
problem under ``/api/``, a 400 page elsewhere; :mod:`pecoma.web.query`). A parameter a
route reads from ``request.query_params`` itself is declared in its OpenAPI
``parameters``, as ``on`` of ``/api/v1/assess``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import threading
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pecoma import __version__
from pecoma.knowledge import load_knowledge
from pecoma.registry.survival import median_text
from pecoma.web.auth import AccessControl, principal_of
from pecoma.web.config import WebConfig
from pecoma.web.edge import _Edge
from pecoma.web.error_handlers import _install_error_handlers
from pecoma.web.guards import RequestGuard
from pecoma.web.logs import APP
from pecoma.web.openapi import _openapi
from pecoma.web.problems import ApiProblem
from pecoma.web.query import known_query
from pecoma.web.store_access import sessions_of, tokens_of
from pecoma.web.summary import field_label, value_words

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
    # values in the case form's words ("chest_ct" -> "chest CT"): the one table of them
    env.filters["words"] = value_words
    # a fact's path in the form's words ("primary_treatment_end" -> "End of curative …")
    env.filters["label"] = field_label
    # a median in years, "not reached" when none: as the text, JSON and PDF say it
    env.filters["median"] = median_text

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


def add_router(app: FastAPI, module: str, nav: tuple[str, str] | None = None, *,
               open_query: bool = False) -> None:
    """Include the router ``module.router()`` builds in ``app``; ``nav`` = (path, label)
    adds a nav link. Its routes answer only the query parameters they declare
    (:func:`~pecoma.web.query.known_query`), unless ``open_query``: for routes whose
    query other systems write (the SMART launch and its OAuth callback)."""
    checks = [] if open_query else [Depends(known_query)]
    app.include_router(importlib.import_module(module).router(), dependencies=checks)
    if nav is not None:
        app.state.nav.append(nav)


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
        openapi_url=None,  # served by pecoma.web.api, whose routes check their query
        # No redirect to the address with or without a final slash: a client re-sends
        # the body and the token there (under /cds-services, the patient's record and
        # the JWT), and it was built from the decoded path (%2F read as /). An address
        # the application does not have is a 404 (docs/security.md).
        redirect_slashes=False,
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

    add_router(app, "pecoma.web.health", open_query=True)  # probes: no parameter read
    # the EHR's CDS calls are matched first: they are the requests a clinician waits for
    # at the chart (matched after every page and API route, 2.4% more instructions)
    _add_cds(app, config, today)
    app.mount("/static", StaticFiles(packages=[("pecoma.web", "static")]), name="static")
    add_router(app, "pecoma.web.auth_pages")
    add_router(app, "pecoma.web.api")
    add_router(app, "pecoma.web.pages")

    # --- routers of other modules: one line each -------------------------------------
    # (each module defines `router()`; see the module docstring)
    add_router(app, "pecoma.web.board_pages")
    add_router(app, "pecoma.web.registry_pages", nav=("/registry", "Patients"))
    # the EHR's launch and the authorisation server's callback carry parameters of their
    # own (session_state, iss, error_uri: OAuth 2.0, RFC 9207): not refused
    add_router(app, "pecoma.web.smart.routes", open_query=True)
    # --- end of routers of other modules ---------------------------------------------

    app.add_middleware(AccessControl, config=config, tokens=lambda: tokens_of(app.state),
                       sessions=lambda: sessions_of(app.state))
    guard = RequestGuard(config)
    if guard.names_nothing:
        APP.warning("bound to every address but no host name is configured: every request "
                    "will be refused (400); set allowed_hosts or cds.base_url")
    app.add_middleware(_Edge, guard=guard, limit=config.max_body_bytes,
                       cds_limit=config.cds_max_body_bytes, hsts=config.behind_tls)
    return app


def _add_cds(app: FastAPI, config: WebConfig, today: Callable[[], dt.date]) -> None:
    """Mount the CDS Hooks service (its state is ``app.state.cds``)."""
    from pecoma.web.cds.router import build_router
    from pecoma.web.cds.service import CdsService, limits_of
    from pecoma.web.store_access import cds_store_of

    limits = limits_of(config.cds)
    svc = CdsService(
        settings=config.cds, base_url=config.cds_base_url,
        jwt_required=config.cds_jwt_required,
        store=lambda: cds_store_of(app.state, limits),
        engine_settings=lambda: app.state.settings, today=today,
    )
    app.state.cds = svc
    if svc.base_url is None:
        APP.warning("CDS Hooks service off until cds.base_url is set: bound beyond loopback, "
                    "its card links and the JWT audience need this server's public URL "
                    "(every CDS call answers 503)")
    if config.server_mode and not svc.jwt_required:
        APP.warning("CDS Hooks service open without JWT verification in server mode "
                    "(cds.auth = 'open'): any caller can request cards and send feedback, "
                    "which is recorded as the team's decisions")
    elif svc.jwt_required and not config.cds.trusted_issuers:
        APP.warning("CDS Hooks JWT verification is on but no trusted issuer is configured: "
                    "every CDS call will be refused")
    app.include_router(build_router(svc))


#: New container objects (net) before a young collection in a server worker.
_YOUNG_OBJECTS_BEFORE_COLLECTION = 20_000


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
    _warm_up(app)
    # What is built by now (modules, models, the application) lives as long as the worker:
    # kept out of the collector's way, a full collection no longer walks some 200,000
    # objects (a pause of 0.1-0.3 s under every request of that moment).
    gc.freeze()
    # A CDS call holds its parsed record (thousands of dicts and lists, none in a cycle)
    # until it answers: with the default threshold of 700 new objects, each call set off
    # dozens of young collections that walked that record again and moved it to the older
    # generations, whose collections then walked it too. Its objects are freed by their
    # reference counts as soon as the call ends; a threshold above what one call holds
    # leaves the collector for real cycles. Measured (bench/RESULTS.md, 2 workers, 16
    # connections): 2.67 -> 2.27 ms of worker CPU per answer, p99 65 -> 43 ms.
    gc.set_threshold(_YOUNG_OBJECTS_BEFORE_COLLECTION)
    return app


def _warm_up(app: FastAPI) -> None:
    """Read, assess and report the shipped FHIR examples once, and open the registry
    database, before the first request.

    Reading a record imports the FHIR models and builds the quick check's tables on first
    use, and opening the registry imports the database driver and checks the schema;
    done here, all that is in place before ``gc.freeze()`` (else some 45,000 objects stay
    in the collector's way: a full collection under load took 15-30 ms, a stall for every
    request of that moment; now about 3,000), and the first CDS call after a start no
    longer waits for it (0.35-0.41 s before, 0.04 s after). Only the examples are read;
    nothing is stored or kept but the modules, type tables and the registry's engine. A
    failure is logged, never raised: a database that is down at start is opened again on
    first use, as before."""
    import json
    from importlib import resources

    from pecoma.engine import assess
    from pecoma.fhir.reader import case_from_bundle
    from pecoma.render.text import markdown_report
    from pecoma.store import StoreError
    from pecoma.web.store_access import registry_of

    try:
        for example in sorted(resources.files("pecoma.fhir").joinpath("examples").iterdir(),
                              key=lambda f: f.name):
            today = app.state.today()
            bc = case_from_bundle(json.loads(example.read_text(encoding="utf-8")), on=today,
                                  settings=app.state.settings)
            markdown_report(assess(bc.case, today, app.state.settings))
    except Exception:  # an example the engine refuses must not stop the server
        APP.warning("warm-up before the first request failed", exc_info=True)
    try:
        registry_of(app.state)  # opened (and its schema checked) now, not on first use
    except StoreError as exc:
        APP.warning("registry database not available at start; it is opened again on "
                    "first use", extra={"reason": str(exc)})


def create_app_from_env() -> FastAPI:
    """The application configured from ``PECOMA_*`` variables (read once, here), with JSON
    logs: a factory for running under uvicorn directly
    (``uvicorn --factory pecoma.web.app:create_app_from_env``)."""
    return worker_app(WebConfig.from_env())
