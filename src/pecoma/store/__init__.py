"""The registry store: SQLAlchemy models, Alembic migrations and the repository.

``open_registry(url)`` connects (SQLite file or PostgreSQL), brings the schema up to date
and returns the :class:`~pecoma.store.repository.Repository` through which every use case
runs, one transaction each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pecoma.store.db import (
    DB_TIMEOUT_S,
    StoreError,
    create_db_engine,
    current_revision,
    database_url,
    head_revision,
    redact,
    upgrade,
)
from pecoma.store.repository import Repository, check_registry_id

__all__ = [
    "Repository",
    "StoreError",
    "check_registry_id",
    "database_url",
    "open_registry",
    "redact",
]


def open_registry(
    url: str,
    *,
    migrate: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    timeout: float = DB_TIMEOUT_S,
) -> Repository:
    """Connect to the registry at ``url`` and, unless ``migrate`` is false, upgrade it.

    ``timeout`` bounds connecting to PostgreSQL (see :func:`create_db_engine`).
    """
    engine = create_db_engine(url, timeout=timeout)
    try:
        if migrate:
            if current_revision(engine) != head_revision(engine):
                upgrade(engine)
        elif current_revision(engine) is None:
            raise StoreError(
                "the registry database has no schema yet; run `pecoma registry init` first"
            )
    except BaseException:
        engine.dispose()
        raise
    return Repository(engine) if clock is None else Repository(engine, clock)
