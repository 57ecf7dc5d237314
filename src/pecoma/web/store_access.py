"""The registry and token store of a running application, opened once on first use.

The database URL is the configuration's ``database_url`` (``PECOMA_DATABASE_URL``), else
the SQLite file in ``PECOMA_DATA_DIR`` (``./data`` by default). A database that cannot be
reached raises :class:`~pecoma.store.StoreError` within ``db_timeout_seconds``; nothing is
cached then, so the next request tries again.
"""

from __future__ import annotations

import os
import threading

from starlette.datastructures import State

from pecoma.store import Repository, database_url, open_registry
from pecoma.store.cds import CdsLimits, CdsStore
from pecoma.store.tokens import TokenStore

__all__ = ["cds_store_of", "registry_of", "tokens_of"]

_LOCK = threading.Lock()


def registry_of(state: State) -> Repository:
    """The application's registry (``app.state.registry``), opened when first needed."""
    repo = getattr(state, "registry", None)
    if isinstance(repo, Repository):
        return repo
    with _LOCK:
        repo = getattr(state, "registry", None)
        if not isinstance(repo, Repository):
            config = state.config
            url = database_url(getattr(config, "database_url", None), os.environ)
            repo = open_registry(url, timeout=getattr(config, "db_timeout_seconds", 10.0))
            state.registry = repo
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
