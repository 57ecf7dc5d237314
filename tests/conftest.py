"""Shared fixtures.

Tests that need a real service (PostgreSQL, Debian's chromium) are skipped when it is
absent, unless PECOMA_REQUIRE_SERVICES=1 (set by CI), in which case they fail.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("PECOMA_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ON = dt.date(2026, 11, 28)


def service_missing(what: str) -> None:
    """Skip the test, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (PECOMA_REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def on_date() -> dt.date:
    return ON
