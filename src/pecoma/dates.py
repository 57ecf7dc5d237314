"""Calendar arithmetic on dates (never datetimes), as python-dateutil does it.

Month steps clip to the month's end (31 January + 3 months = 30 April) and count from the
anchor each time, so a plan does not drift: visit n is ``anchor + n * step`` months.
"""

from __future__ import annotations

import calendar
import datetime as dt

from dateutil.relativedelta import relativedelta

__all__ = ["add_months", "full_months_between", "reached_months"]


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
