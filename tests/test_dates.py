"""Calendar arithmetic agrees with python-dateutil everywhere, month ends included."""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from pecoma.dates import add_months, full_months_between, reached_months

DAYS = st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31))


@settings(max_examples=examples(500))
@given(DAYS, st.integers(-240, 600))
def test_add_months_is_relativedelta(day: dt.date, months: int) -> None:
    assert add_months(day, months) == day + relativedelta(months=months)


@settings(max_examples=examples(500))
@given(DAYS, DAYS)
def test_full_months_between_is_relativedelta(a: dt.date, b: dt.date) -> None:
    delta = relativedelta(b, a)
    assert full_months_between(a, b) == delta.years * 12 + delta.months


def test_month_end_clips() -> None:
    """31 January + 3 months is 30 April; 29 February + 12 months is 28 February."""
    assert add_months(dt.date(2025, 1, 31), 3) == dt.date(2025, 4, 30)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)


def test_exactly_twelve_months_is_reached() -> None:
    assert reached_months(dt.date(2023, 3, 1), dt.date(2024, 3, 1), 12)
    assert not reached_months(dt.date(2023, 3, 1), dt.date(2024, 2, 29), 12)
