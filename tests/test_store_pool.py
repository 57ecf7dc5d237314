"""Pooled PostgreSQL connections: checked before use only after being idle.

A connection handed back a moment ago is used as it is (a check is a round trip, about a
tenth of the database's work for a CDS answer); one idle for longer than
``PING_AFTER_IDLE_S`` is checked, and a dead one is replaced without the caller seeing it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from pecoma.store import db

pytestmark = pytest.mark.postgres

IDLE = 0.2  # seconds: the test's idle limit, so that the tests wait little


@pytest.fixture
def engine(postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", IDLE)
    e = db.create_db_engine(postgres_database)
    yield e
    e.dispose()


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the checks of pooled connections (one entry each)."""
    seen: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        seen.append(1)
        return ping(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return seen


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    """End one server process, as a server restart or an idle timeout would, and wait
    until it is gone (the signal is asynchronous)."""
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as c:
        c.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while c.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            if time.monotonic() > deadline:
                raise AssertionError(f"server process {pid} still there after 10 s")
            time.sleep(0.01)


def test_a_connection_in_steady_use_is_not_checked_one_left_idle_is(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty uses in a row: no round trip before any of them. After more than the idle
    limit: one check, then steady use again without."""
    pings = _pings(engine, monkeypatch)
    first = _backend(engine)
    for _ in range(20):
        assert _backend(engine) == first
    assert pings == []
    time.sleep(IDLE * 1.5)
    assert _backend(engine) == first
    assert len(pings) == 1
    _backend(engine)
    assert len(pings) == 1


def test_a_dead_idle_connection_is_replaced_unseen(
        engine: Engine, postgres_database: str) -> None:
    """The server process behind a pooled connection ends while it is idle: the next use
    gets a new connection and succeeds; nothing fails."""
    pid = _backend(engine)
    _terminate(postgres_database, pid)
    time.sleep(IDLE * 1.5)
    assert _backend(engine) != pid


def test_a_connection_lost_during_steady_use_fails_once_then_the_pool_recovers(
        engine: Engine, postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trade-off, stated: a connection lost right after use is not checked, so that
    one operation fails (the service answers 503 "try again"); the failure makes the
    pool open a new connection for the next operation, which succeeds. (Steady use: the
    idle limit is set long, so that a slow machine does not turn this into the idle case
    above, where the connection is checked and replaced unseen.)"""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 60.0)
    pid = _backend(engine)
    _terminate(postgres_database, pid)
    with pytest.raises(sa.exc.OperationalError) as failed:
        _backend(engine)
    assert failed.value.connection_invalidated
    assert _backend(engine) != pid
