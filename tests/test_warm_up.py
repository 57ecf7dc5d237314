"""A server worker reads the shipped FHIR examples before its first request.

The warm-up imports the FHIR models and builds the quick check's tables before
``gc.freeze()``, so they stay out of the collector's way and the first CDS call after a
start does not wait for them. It must never stop a worker, and it must not go quietly
wrong: a failure is logged as a warning, which these tests look for.
"""

from __future__ import annotations

import logging

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
