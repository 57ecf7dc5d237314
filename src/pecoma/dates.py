"""Calendar arithmetic on dates (never datetimes), as python-dateutil does it, and the
supported date range.

Month steps clip to the month's end (31 January + 3 months = 30 April) and count from the
anchor each time, so a plan does not drift: visit n is ``anchor + n * step`` months.

Every date pecoma accepts (a case's facts, an evaluation date ``on``, a scan date) lies
between :data:`EARLIEST` (1900-01-01) and :data:`LATEST` (2199-12-31); each edge (API,
form, command line, import, registry pages) checks it with :func:`parse_day` or
:func:`range_rule` and names the field when it does not. A plan drawn from such dates
stays centuries inside the calendar (which ends in 9999), so its arithmetic cannot
overflow.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from dateutil.relativedelta import relativedelta

__all__ = [
    "DATE_RULE",
    "EARLIEST",
    "LATEST",
    "add_months",
    "date_rule",
    "day_text",
    "full_months_between",
    "month_named",
    "no_day_rule",
    "no_such_day",
    "parse_day",
    "range_rule",
    "reached_months",
]

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
DATE_RULE = (f"must be a date as YYYY-MM-DD between {EARLIEST.isoformat()} and "
             f"{LATEST.isoformat()}")


def no_such_day(year: int, month: int, day: int) -> str | None:
    """Why a year, month and day written as numbers name no day of the calendar, in words
    ("February 2025 has 28 days", "June 2025 has 30 days", "there is no month 13"), or
    ``None`` when they name one: the one reason given for such a date, whatever way it
    came in (a form, a case file, the API, a registry file, the command line)."""
    if not 1 <= month <= 12:
        return f"there is no month {month:02d}"
    if year == 0:
        return "there is no year 0000"
    days = calendar.monthrange(year, month)[1]
    if 1 <= day <= days:
        return None
    if day == 0:
        return "there is no day 00 of a month"
    return f"{calendar.month_name[month]} {year} has {days} days"


def no_day_rule(why: str, rule: str = DATE_RULE) -> str:
    """The rule broken by a date naming no day of the calendar (``why``:
    :func:`no_such_day`), the reason first, then ``rule``."""
    return f"names no day of the calendar ({why}): it {rule}"


def date_rule(value: object) -> str:
    """:data:`DATE_RULE`, saying first why a value written ``YYYY-MM-DD`` is no date when
    it names no day of the calendar (2026-02-29: February 2026 has 28 days), and then how
    to write a day written with its month's name (``1st November 2026``)."""
    text = day_text(value.strip()) if isinstance(value, str) else None
    if text is None:
        named = month_named(value) if isinstance(value, str) else None
        if named is not None and no_such_day(*named) is None:
            # "1st November 2026": the day it names, as this rule writes it
            return f"{DATE_RULE}: write it {dt.date(*named).isoformat()}"
        return DATE_RULE
    why = no_such_day(int(text[:4]), int(text[5:7]), int(text[8:]))
    return DATE_RULE if why is None else no_day_rule(why)


def range_rule(day: dt.date) -> str | None:
    """``None`` when ``day`` is in the supported range, else the rule it breaks."""
    if EARLIEST <= day <= LATEST:
        return None
    return f"must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


#: YYYY-MM-DD, or the midnight of that day as date-and-time exports write it ("2026-05-04
#: 00:00:00", "…T00:00:00.000Z", "…T00:00+01:00"): the day is the same in any zone.
_DAY_TEXT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
                       r"(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")


def day_text(text: str) -> str | None:
    """The ``YYYY-MM-DD`` of a recorded date (a case's, an outcome's) written so, or
    written as the midnight of that day; ``None`` for anything else (seconds since 1970, a
    week date, a time of day, other digits than ASCII). Whether it is a calendar date is
    not checked here; an evaluation date (``on``) is :func:`parse_day`'s."""
    m = _DAY_TEXT.fullmatch(text)
    return m[1] if m else None


def parse_day(value: object) -> dt.date | None:
    """A ``YYYY-MM-DD`` text in the supported range as a date, else ``None``
    (the caller reports :data:`DATE_RULE` with the field's name)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if range_rule(day) is None else None


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus a whole number of months, clipped to the end of the target month."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    d = day.day
    if d > 28:
        # Clip to the target month's last day, as relativedelta(months=...) does.
        last = _DAYS_IN_MONTH[month]
        if month == 2 and calendar.isleap(year):
            last = 29
        d = min(d, last)
    return dt.date(year, month, d)


_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def full_months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (negative when ``end`` is earlier), as
    ``relativedelta(end, start)`` counts them."""
    if end < start:
        delta = relativedelta(end, start)
        return delta.years * 12 + delta.months
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    return months


def reached_months(start: dt.date, end: dt.date, months: int) -> bool:
    """Whether at least ``months`` whole months lie between ``start`` and ``end``."""
    return end >= add_months(start, months)

#: The months by name, in full and by their first three letters (and "sept").
_MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
    for name in (full, full[:3])
} | {"sept": 9}
_ORDINAL = r"(?:st|nd|rd|th)?"
#: Day, month, year (``2 Dec 2026``, ``2nd December 2026``, ``2-Dec-2026``); month, day,
#: year (``Dec 2, 2026``); year, month, day (``2026-Dec-02``): the month's name tells
#: which number is the day, so none reads two ways.
_NAMED = (
    (re.compile(rf"^(?P<d>\d{{1,2}}){_ORDINAL}[\s.-]*(?P<m>[A-Za-z]+)\.?[\s,.-]*(?P<y>\d{{4}})$",
                re.ASCII)),
    (re.compile(rf"^(?P<m>[A-Za-z]+)\.?[\s.-]*(?P<d>\d{{1,2}}){_ORDINAL}[\s,.-]*(?P<y>\d{{4}})$",
                re.ASCII)),
    (re.compile(r"^(?P<y>\d{4})[\s.-]*(?P<m>[A-Za-z]+)\.?[\s.-]*(?P<d>\d{1,2})$", re.ASCII)),
)


def month_named(text: str) -> tuple[int, int, int] | None:
    """The year, month and day of a date written with the month's name (``2 Dec 2026``,
    ``2nd December 2026``, ``2-Dec-2026``, ``Dec 2, 2026``, ``2026-Dec-02``), as written
    (not checked against the calendar), or ``None``. The web form reads dates so; the case
    format asks for ``YYYY-MM-DD`` and names it, for such a date, in its refusal."""
    value = text.strip()
    for pattern in _NAMED:
        m = pattern.match(value)
        month = _MONTHS.get(m["m"].lower()) if m else None
        if m and month:
            return int(m["y"]), month, int(m["d"])
    return None
