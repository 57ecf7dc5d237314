"""Calendar arithmetic agrees with python-dateutil everywhere, month ends included."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from pecoma.dates import (
    DATE_RULE,
    add_months,
    date_rule,
    full_months_between,
    month_named,
    reached_months,
)

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


@pytest.mark.parametrize(("value", "said"), [
    ("2026-02-29", "February 2026 has 28 days"),
    ("2026-04-31", "April 2026 has 30 days"),
    ("2026-13-01", "there is no month 13"),
])
def test_a_day_not_in_the_calendar_is_said_so(value: str, said: str) -> None:
    """2026-02-29 is written YYYY-MM-DD: 'must be a date as YYYY-MM-DD' alone left the
    user looking at a date in that form."""
    assert said in date_rule(value) and DATE_RULE in date_rule(value)


@pytest.mark.parametrize("value", ["2024-02-29", "29/02/2024", "", None, 5])
def test_other_values_get_the_rule(value: object) -> None:
    assert date_rule(value) == DATE_RULE


@pytest.mark.parametrize(("given", "iso"), [
    ("15 Oct 2025", "2025-10-15"), ("May 9, 2020", "2020-05-09"),
    ("2020-May-09", "2020-05-09"), ("Sept 16 2021", "2021-09-16"),
    ("1st November 2026", "2026-11-01"), ("Dec 2nd, 2026", "2026-12-02"),
])
def test_a_month_named_day_is_refused_saying_how_to_write_it(given: str, iso: str) -> None:
    """Days written with their month's name, in the orders people write them (day first,
    the US month first, year first, with an ordinal): a registry file's outcome date or
    the command line's --on is refused with the day it names written YYYY-MM-DD. Only
    "15-Nov-2021" had been read so; "May 9, 2020" and "1st November 2026" got the bare
    rule."""
    assert month_named(given) is not None
    assert date_rule(given) == f"{DATE_RULE}: write it {iso}"


@pytest.mark.parametrize("given", ["May 2020", "31 Jun 2025", "12 2026", "yesterday"])
def test_no_day_no_hint(given: str) -> None:
    """No day (a month alone), no such day, no month's name: the bare rule."""
    assert date_rule(given) == DATE_RULE
