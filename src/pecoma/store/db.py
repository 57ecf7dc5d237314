"""Connecting to the registry database and keeping its schema current.

Two back ends: an embedded SQLite file (the default, ``./data/pecoma.sqlite3``; WAL
journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` so that concurrent
writers queue instead of failing) and PostgreSQL, chosen by a database URL. The schema is
owned by the Alembic migrations shipped in :mod:`pecoma.store.migrations`, run
programmatically: :func:`upgrade` on open, :func:`downgrade` for tests and rollbacks.

Nothing here reads the environment by itself: :func:`database_url` takes the values the
edge (CLI, web) read, so that tests and libraries pass their own.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    OperationalError,
    SQLAlchemyError,
)

from pecoma.errors import ConfigError, PecomaError, hide_password
from pecoma.store.rawjson import json_serializer

__all__ = [
    "DB_TIMEOUT_S",
    "DEFAULT_DATA_DIR",
    "DEFAULT_SQLITE_NAME",
    "SQLITE_BUSY_TIMEOUT_S",
    "StoreError",
    "alembic_config",
    "create_db_engine",
    "current_revision",
    "database_url",
    "downgrade",
    "head_revision",
    "redact",
    "schema_problem",
    "upgrade",
]

DEFAULT_DATA_DIR = Path("data")
DEFAULT_SQLITE_NAME = "pecoma.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 60.0
DB_TIMEOUT_S = 10.0
#: A pooled PostgreSQL connection unused for longer than this is checked with a round trip
#: before it is handed out; one in steady use is not (see :func:`_ping_when_idle`).
PING_AFTER_IDLE_S = 1.0

_SUPPORTED = ("sqlite", "postgresql")


class StoreError(PecomaError):
    """The registry database cannot be opened, migrated or written."""


def database_url(
    explicit: str | None = None,
    environ: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
) -> str:
    """The database URL: ``explicit``, else ``PECOMA_DATABASE_URL``, else the SQLite file.

    The SQLite file lives in ``data_dir``, else ``PECOMA_DATA_DIR``, else ``./data``.
    """
    env = environ if environ is not None else {}
    url = explicit or env.get("PECOMA_DATABASE_URL") or None
    if url:
        return url
    folder = data_dir or Path(env.get("PECOMA_DATA_DIR") or DEFAULT_DATA_DIR)
    return f"sqlite:///{folder / DEFAULT_SQLITE_NAME}"


def redact(url: str | URL) -> str:
    """The URL with any password hidden, safe to print: as SQLAlchemy writes it with its
    password hidden when it parses (whatever characters the password holds), then by
    :func:`~pecoma.errors.hide_password`, the one rule, which also hides a user name
    standing alone and covers a URL that does not parse."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
        text = parsed.render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        text = str(url)
    return hide_password(text)


def _normalise(url: str) -> URL:
    try:
        u = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number,
        # an IPv6 host's bracket left open
        raise ConfigError(
            f"'database URL' must look like sqlite:///path/file.sqlite3 or "
            f"postgresql://user@host:port/name, a port being digits and an IPv6 host in "
            f"brackets (got {hide_password(repr(url))})"
        ) from exc
    backend = u.get_backend_name()
    if backend not in _SUPPORTED:
        raise ConfigError(
            f"'database URL' must use one of {', '.join(_SUPPORTED)} (got {backend!r})"
        )
    if backend == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u


# execution option of a connection whose transactions only read (see _sqlite_setup)
READ_ONLY = "pecoma_read_only"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        _wal(cur)
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock at the start: a deferred transaction that reads and then
        # writes cannot wait for another writer and would fail with "database is locked".
        # A transaction marked read only (the streamed exports' reads) takes no lock: in
        # WAL mode it reads a snapshot beside writers and other readers.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _wal(cur: Any) -> None:
    """Put the database in WAL mode (it stays so once set). Switching takes an exclusive
    lock and SQLite does not wait for it with the busy timeout: when several processes
    open a new database at once, the switch is retried until the timeout."""
    if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class _NoResultRows(logging.Filter):
    """Drop SQLAlchemy's DEBUG records: they print result rows, registry ids included.

    SQL statements (INFO) still pass; their parameters are hidden by the engine.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _guard_sql_logs() -> None:
    logger = logging.getLogger("sqlalchemy.engine.Engine")
    if not any(isinstance(f, _NoResultRows) for f in logger.filters):
        logger.addFilter(_NoResultRows())


def create_db_engine(
    url: str, *, echo: bool = False, timeout: float = DB_TIMEOUT_S
) -> Engine:
    """An engine for ``url``; for SQLite, the data directory is created when missing.

    ``timeout`` bounds how long a PostgreSQL connection attempt (``connect_timeout``) and
    a wait for a pooled connection may take, so a database that is down gives an error
    within seconds, not a hang. SQLite waits at most ``SQLITE_BUSY_TIMEOUT_S`` for
    another writer's lock.
    """
    _guard_sql_logs()
    u = _normalise(url)
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        if db and db != ":memory:" and not db.startswith("file:"):
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the data directory {Path(db).parent}: {exc.strerror}"
                ) from exc
        engine = create_engine(
            u,
            echo=echo,
            hide_parameters=True,
            json_serializer=json_serializer,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
        )
        _sqlite_setup(engine)
        return engine
    # hide_parameters: SQL logs and error messages never show values (registry ids).
    # libpq rounds a connect_timeout below 2 s up to 2 s.
    engine = create_engine(
        u,
        echo=echo,
        hide_parameters=True,
        pool_timeout=timeout,
        json_serializer=json_serializer,
        connect_args={"connect_timeout": max(2, round(timeout))},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it has been idle for more than
    :data:`PING_AFTER_IDLE_S`: a dead one (the server restarted, an idle timeout) is then
    replaced by a new connection, unseen by the caller.

    A connection handed back less than that ago is used as it is: under load (a CDS
    answer every few milliseconds) the check was a round trip per use, about a tenth of
    the database's work for an answer. The price: when the server restarts during steady
    use, the operation under way on each worker fails once (a 503 "try again"), and that
    failure makes the pool open new connections for the next ones."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")  # None: connected just now
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection is closed") from exc


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for the shipped migrations, bound to ``engine``."""
    cfg = Config()
    location = resources.files("pecoma.store").joinpath("migrations")
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("path_separator", os.pathsep)
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


@functools.cache
def _shipped_head() -> str | None:
    cfg = Config()
    location = resources.files("pecoma.store").joinpath("migrations")
    cfg.set_main_option("script_location", str(location))
    cfg.set_main_option("path_separator", os.pathsep)
    return ScriptDirectory.from_config(cfg).get_current_head()


def schema_problem(engine: Engine) -> str | None:
    """``None`` when the database holds the schema this version uses, else why not (e.g.
    a database re-created empty under a running server). :class:`StoreError` when the
    database cannot be reached."""
    current = current_revision(engine)
    if current is None:
        return ("the registry database has no schema (was it re-created empty?); "
                "run 'pecoma registry init' to create it")
    head = _shipped_head()
    if current != head:
        return (f"the registry database's schema is at revision {current}, this version "
                f"of pecoma uses {head}; run 'pecoma registry init' to upgrade it")
    return None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"cannot open the registry database: {_reason(exc)}") from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    try:
        command.upgrade(alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the registry database: {_reason(exc)}") from exc


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base`` empties it)."""
    try:
        command.downgrade(alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the registry database: {_reason(exc)}") from exc


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
