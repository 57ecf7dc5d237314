"""The registry and token store of a running application, opened once on first use.

The database is the one the application's configuration names
(:meth:`~pecoma.web.config.WebConfig.registry_url`: ``database_url``, else the SQLite file
in ``data_dir``); nothing here reads the environment. A database that cannot be
reached raises :class:`~pecoma.store.StoreError` within ``db_timeout_seconds``; nothing is
cached then, so the next request tries again.

Opening is done by one request of the application at a time (``app.state.registry_lock``:
migrations must not run twice at once), but a request waits for another's attempt at most
``db_timeout_seconds``: with a database that accepts connections and never answers, each
request fails on its own within the bound instead of queueing behind every attempt before
it.
"""

from __future__ import annotations

from starlette.datastructures import State

from pecoma.errors import hide_password
from pecoma.store import Repository, StoreError, open_registry
from pecoma.store.cds import CdsLimits, CdsStore
from pecoma.store.db import schema_problem
from pecoma.store.sessions import SessionStore
from pecoma.store.tokens import TokenStore
from pecoma.web.logs import APP

__all__ = [
    "UNAVAILABLE",
    "cds_store_of",
    "database_state",
    "loggable",
    "registry_of",
    "sessions_of",
    "tokens_of",
    "told",
    "unavailable_reason",
]


def registry_of(state: State) -> Repository:
    """The application's registry (``app.state.registry``), opened when first needed."""
    repo = getattr(state, "registry", None)
    if isinstance(repo, Repository):
        return repo
    config = state.config
    timeout = float(config.db_timeout_seconds)
    lock = state.registry_lock
    if not lock.acquire(timeout=timeout):
        raise StoreError("cannot open the registry database: another request has been "
                         f"trying to for more than {timeout:g} s (the database does not "
                         "answer)")
    try:
        repo = getattr(state, "registry", None)
        if not isinstance(repo, Repository):
            repo = open_registry(config.registry_url(), timeout=timeout)
            state.registry = repo
    finally:
        lock.release()
    return repo


def tokens_of(state: State) -> TokenStore:
    """The token store on the registry's database."""
    store = getattr(state, "token_store", None)
    if isinstance(store, TokenStore):
        return store
    store = TokenStore(registry_of(state).engine)
    state.token_store = store
    return store


def cds_store_of(state: State, limits: CdsLimits) -> CdsStore:
    """The CDS Hooks service's store on the registry's database."""
    store = getattr(state, "cds_store", None)
    if isinstance(store, CdsStore):
        return store
    store = CdsStore(registry_of(state).engine, limits)
    state.cds_store = store
    return store


def sessions_of(state: State) -> SessionStore:
    """Browser sessions and refused sign-ins, on the registry's database."""
    store = getattr(state, "session_store", None)
    if isinstance(store, SessionStore):
        return store
    store = SessionStore(registry_of(state).engine)
    state.session_store = store
    return store


def database_state(state: State) -> str:
    """``ok``, or why the registry database cannot be used (bounded by the timeouts):
    unreachable, or reachable without this version's schema (re-created empty)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    try:
        repo = registry_of(state)
        with repo.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        problem = schema_problem(repo.engine)
    except StoreError as exc:
        return str(exc)
    except OperationalError:
        return "the registry database cannot be reached"
    return problem or "ok"


#: What a caller is told in server mode when the registry database cannot be used.
UNAVAILABLE = "the registry database is unavailable; try again"


def unavailable_reason(state: State, fallback: str) -> str:
    """What the caller of a request that failed on the database is told.

    The reason is the schema's state when that is the cause, else ``fallback`` (the
    error's text). On one workstation (authentication off) the caller is shown it; in
    server mode it can name the database's host, port, user or driver, so it goes to the
    log only (any password of the database URL hidden) and the caller gets
    :data:`UNAVAILABLE`, authenticated or not.
    """
    reason = database_state(state)
    return told(state, fallback if reason == "ok" else reason)


def told(state: State, reason: str) -> str:
    """``reason`` on one workstation; in server mode :data:`UNAVAILABLE`, the reason
    logged (see :func:`unavailable_reason`)."""
    if not state.config.auth_required:
        return reason
    APP.warning("registry database unavailable", extra={"reason": loggable(state, reason)})
    return UNAVAILABLE


def loggable(state: State, reason: str) -> str:
    """``reason`` with the database URL's password, should a driver quote it, hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(state.config.registry_url()).password
    except (ArgumentError, ValueError):  # unreadable: the rule for any URL in the text
        return hide_password(reason)
    return reason.replace(str(password), "***") if password else reason
