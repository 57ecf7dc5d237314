"""A server worker reads the shipped FHIR examples before its first request.

The warm-up imports the FHIR models and builds the quick check's tables before
``gc.freeze()``, so they stay out of the collector's way and the first CDS call after a
start does not wait for them. It must never stop a worker, and it must not go quietly
wrong: a failure is logged as a warning, which these tests look for.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from pecoma.web.app import _warm_up, create_app
from pecoma.web.config import WebConfig


def test_every_shipped_example_is_read_assessed_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from pecoma.fhir import quickcheck

    quickcheck._shape.cache_clear()
    with caplog.at_level(logging.WARNING):
        _warm_up(create_app(WebConfig()))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # the tables for the Patient, Condition, Observation and Procedure models and the
    # types inside them (CodeableConcept, Coding, Quantity, Reference, ...) were built
    assert quickcheck._shape.cache_info().currsize >= 10


def test_a_failing_warm_up_is_logged_and_the_worker_starts(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pecoma.engine

    def broken(*args: object) -> object:
        raise RuntimeError("engine broken")

    monkeypatch.setattr(pecoma.engine, "assess", broken)
    app = create_app(WebConfig())
    with caplog.at_level(logging.WARNING):
        _warm_up(app)  # does not raise
    assert [r for r in caplog.records if "warm-up" in r.getMessage()
            and r.levelno == logging.WARNING]


def test_the_registry_is_opened_before_the_first_request(tmp_path: Path) -> None:
    from pecoma.store import Repository

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}"))
    _warm_up(app)
    assert isinstance(app.state.registry, Repository)
    assert (tmp_path / "r.db").exists()


def test_a_database_down_at_start_is_logged_and_the_worker_starts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens on the port: the worker still starts (within the database timeout),
    says so, and keeps nothing; a request finds the database still down (503)."""
    from fastapi.testclient import TestClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free, and closed again: nothing listens there
    app = create_app(WebConfig(
        database_url=f"postgresql+psycopg://pecoma@127.0.0.1:{port}/none",
        db_timeout_seconds=2))
    with caplog.at_level(logging.WARNING):
        _warm_up(app)
    assert [r for r in caplog.records if "registry database not available at start"
            in r.getMessage()]
    assert getattr(app.state, "registry", None) is None
    client = TestClient(app, base_url="http://localhost")
    assert client.get("/healthz").status_code == 200  # the process answers
    assert client.get("/readyz").status_code == 503  # the database does not


def test_a_registry_unavailable_at_start_is_opened_on_first_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """The registry's folder cannot be made at start (a file stands where it should be);
    once the file is gone, the first request opens the registry (nothing was kept from
    the failed attempt)."""
    from fastapi.testclient import TestClient

    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    app = create_app(WebConfig(database_url=f"sqlite:///{blocker / 'registry.db'}"))
    with caplog.at_level(logging.WARNING):
        _warm_up(app)
    assert [r for r in caplog.records if "registry database not available at start"
            in r.getMessage()]
    client = TestClient(app, base_url="http://localhost")
    assert client.get("/readyz").status_code == 503
    blocker.unlink()
    assert client.get("/readyz").status_code == 200
    assert (blocker / "registry.db").exists()


def test_a_worker_leaves_the_collector_to_real_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server worker freezes what it built at start and raises the young generation's
    threshold above what one CDS call holds (a parsed 15 kB prefetch is thousands of
    objects), so that a call no longer sets off dozens of collections that walk its own
    record (bench/RESULTS.md: worker CPU per answer and p99 at 16 connections)."""
    import gc

    from pecoma.web import app as app_module
    from pecoma.web import logs

    calls: list[str] = []
    monkeypatch.setattr(logs, "configure_logging", lambda level: None)  # pytest's own kept
    monkeypatch.setattr(app_module, "_warm_up", lambda app: calls.append("warm-up"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    before = gc.get_threshold()
    try:
        app_module.worker_app(WebConfig())
        assert calls == ["warm-up", "freeze"]
        young, older, oldest = gc.get_threshold()
        assert young >= 10_000
        assert (older, oldest) == before[1:]  # the older generations as Python sets them
    finally:
        gc.set_threshold(*before)
