"""Calendar arithmetic on dates (never datetimes), done by python-dateutil.

Month steps clip to the month's end (31 January + 3 months = 30 April) and count from the
anchor each time, so a plan does not drift: visit n is ``anchor + n * step`` months.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

__all__ = ["add_months", "full_months_between", "reached_months"]


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus a whole number of months, clipped to the end of the target month."""
    if day.day <= 28:
        # Every month has a 28th: no clipping can happen, so plain arithmetic is exact.
        total = day.month - 1 + months
        return dt.date(day.year + total // 12, total % 12 + 1, day.day)
    result: dt.date = day + relativedelta(months=months)
    return result


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
