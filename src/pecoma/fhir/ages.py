"""A Condition's onset or abatement given as an age, placed in time by the birth date.

FHIR R4 lets a Condition give when it began or ended as an ``Age`` (``onsetAge``,
``abatementAge``) or a range of ages (``onsetRange``, ``abatementRange``: a ``Range``
whose ``low`` and ``high`` are ages). With the Patient's ``birthDate`` known, an age is
the days it may have been: an age of N years runs from the birth date plus N years to
the birth date plus N + 1 years less a day (months ``mo`` and weeks ``wk`` alike; N days
is one day), a birth date given as a month or a year widening it to every day it may
be. Those days are placed against another day as a period is: after it when they all
are, before it when they all are, otherwise not placed (the safer reading for each
use). Without the birth date an age holds no day, and the reader says so.

An age that is not one is refused, naming the element, as any bad value is: a value
that is no number, below 0 or above 130 years, a unit that is no unit of time pecoma
reads (UCUM ``a``, ``mo``, ``wk``, ``d``), a system other than UCUM, a range whose high
age is below its low one. An age given with a comparator (``<``, ``>=``) is read as
holding no day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from pecoma.fhir.medications import FirstDay

if TYPE_CHECKING:
    from pecoma.fhir.reading import Reader

__all__ = ["NO_PATIENT", "AgeDays", "Birth", "age_days"]

#: UCUM, the system FHIR R4's Age binds its code to (invariant age-1).
UCUM: Final = "http://unitsofmeasure.org"

#: The units of an age pecoma reads (UCUM codes), with their words and length in years.
_UNITS: Final[Mapping[str, tuple[str, float]]] = {
    "a": ("years", 1.0), "mo": ("months", 1 / 12), "wk": ("weeks", 7 / 365.25),
    "d": ("days", 1 / 365.25)}

#: The words an age's ``unit`` (its display) may give instead of a UCUM code.
_UNIT_WORDS: Final[Mapping[str, str]] = {
    "a": "a", "y": "a", "yr": "a", "yrs": "a", "year": "a", "years": "a",
    "mo": "mo", "month": "mo", "months": "mo",
    "wk": "wk", "week": "wk", "weeks": "wk",
    "d": "d", "day": "d", "days": "d"}

_OLDEST: Final = 130
_REFUSED: Final = "not an age pecoma reads: refused, named"
_UNIT_RULE: Final = ("must be a unit of time pecoma reads for an age: UCUM 'a' (years), "
                     "'mo' (months), 'wk' (weeks) or 'd' (days)")


@dataclass(frozen=True, slots=True)
class Birth:
    """The Patient's birth date, the days it may be (a month or a year given: each of
    its days), or ``None`` with why it is not known."""

    days: FirstDay | None
    why: str = ""


#: The birth date of a record holding no Patient.
NO_PATIENT: Final = Birth(None, "the record holds no Patient")


@dataclass(frozen=True, slots=True)
class AgeDays:
    """An onset or abatement given as an age: how the record gives it (``said``: 'an
    age of 64 years'), and the first and last day it may be (``None``: open on that
    side), or why it holds no day (``why``)."""

    said: str
    first: dt.date | None = None
    last: dt.date | None = None
    why: str | None = None

    @property
    def day(self) -> dt.date | None:
        """The one day it is (an age in days), else ``None``."""
        return self.first if self.why is None and self.first == self.last else None

    def __str__(self) -> str:
        if self.why is not None:
            return f"{self.said} ({self.why})"
        first = self.first.isoformat() if self.first else "(no first day)"
        last = self.last.isoformat() if self.last else "(no last day)"
        return f"{self.said} ({first} to {last} from the birthDate)"


def age_days(cond: Mapping[str, Any], element: str, where: str, birth: Birth,
             r: Reader) -> AgeDays | None:
    """The days the ``element`` ('onset', 'abatement') of the Condition at ``where`` may
    be when it is given as an age or a range of ages, placed by ``birth``; ``None`` when
    it is given otherwise. An age that is not one is refused (an issue naming the
    element), and then holds no day."""
    if f"{element}Age" in cond:
        at = f"{element}Age"
        age = _age(cond[at], at, where, r)
        if age is None:
            return AgeDays("an age", why=_REFUSED)
        count, unit, said, comparator = age
        if comparator:
            return AgeDays(f"an age of {comparator}{said}",
                           why=f"given with the comparator '{comparator}'")
        return _placed(f"an age of {said}", (count, unit), (count, unit), birth)
    if f"{element}Range" not in cond:
        return None
    at = f"{element}Range"
    held = cond[at]
    if not isinstance(held, dict):
        _refuse(r, where, at, held, "must be a Range of ages (a JSON object with low and high)")
        return AgeDays("a range of ages", why=_REFUSED)
    ends = {k: _age(held[k], f"{at}.{k}", where, r) if k in held else None
            for k in ("low", "high")}
    if any(k in held and ends[k] is None for k in ends):
        return AgeDays("a range of ages", why=_REFUSED)
    low, high = ends["low"], ends["high"]
    if any(end is not None and end[3] for end in (low, high)):
        return AgeDays("a range of ages", why="an age given with a comparator")
    if low is not None and high is not None and _years(high) < _years(low):
        _refuse(r, where, f"{at}.high", high[2],
                f"must not be below {at}.low ({low[2]}): a range of ages runs from its low "
                "age to its high one")
        return AgeDays("a range of ages", why=_REFUSED)
    said = (f"a range of ages {low[2] if low else '(no low)'} to "
            f"{high[2] if high else '(no high)'}")
    return _placed(said, None if low is None else (low[0], low[1]),
                   None if high is None else (high[0], high[1]), birth)


def _placed(said: str, low: tuple[int, str] | None, high: tuple[int, str] | None,
            birth: Birth) -> AgeDays:
    """The days from the first day of age ``low`` to the last day of age ``high`` (a
    whole count of a unit), by the birth date; from birth when no ``low``."""
    if birth.days is None:
        return AgeDays(said, why=f"the Patient's birth date is not known: {birth.why}")
    born = birth.days
    try:
        first = born.earliest if low is None else _after(born.earliest, *low, later=False)
        last = None if high is None else (
            _after(born.latest, high[0] + 1, high[1], later=True) - dt.timedelta(days=1))
    except (OverflowError, ValueError):
        return AgeDays(said, why="beyond the dates pecoma reads")
    return AgeDays(said, first, last)


def _after(day: dt.date, count: int, unit: str, later: bool) -> dt.date:
    """``day`` plus ``count`` units. A month or a year landing on a day its month does
    not have (29 February in another year) is the last day of that month, or, ``later``,
    the first of the next: the widest the age may run."""
    if unit == "d":
        return day + dt.timedelta(days=count)
    if unit == "wk":
        return day + dt.timedelta(days=7 * count)
    months = count * 12 if unit == "a" else count
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    if day.day <= last:
        return dt.date(year, month, day.day)
    if later:
        return dt.date(year, month, last) + dt.timedelta(days=1)
    return dt.date(year, month, last)


def _years(age: tuple[int, str, str, str]) -> float:
    return age[0] * _UNITS[age[1]][1]


def _age(value: Any, at: str, where: str, r: Reader) -> tuple[int, str, str, str] | None:
    """An age as ``(whole count, UCUM unit, as said, comparator)``, or ``None`` when it is
    refused (the issue said, naming the element)."""
    if not isinstance(value, dict):
        _refuse(r, where, at, value, "must be an Age (a JSON object with value and unit)")
        return None
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float) or not (
            math.isfinite(number)):
        _refuse(r, where, f"{at}.value", "(missing)" if number is None else number,
                "must be a number: an age")
        return None
    system, code, unit = value.get("system"), value.get("code"), value.get("unit")
    if system is not None and system != UCUM:
        _refuse(r, where, f"{at}.system", system,
                f"must be UCUM ({UCUM}): FHIR R4 codes an age's unit in UCUM (age-1)")
        return None
    if code is not None:
        found = code if isinstance(code, str) and code in _UNITS else None
        if found is None:
            _refuse(r, where, f"{at}.code", code, _UNIT_RULE)
            return None
    elif isinstance(unit, str) and unit.strip().lower() in _UNIT_WORDS:
        found = _UNIT_WORDS[unit.strip().lower()]
    else:
        _refuse(r, where, f"{at}.unit", "(missing)" if unit is None else unit, _UNIT_RULE)
        return None
    words, per = _UNITS[found]
    shown = f"{number:g} {words}"
    if number < 0 or number * per > _OLDEST:
        within = "" if found == "a" else f" ({shown} is {number * per:.0f} years)"
        _refuse(r, where, f"{at}.value", number,
                f"must be an age from 0 to {_OLDEST} years{within}: no patient's age is "
                "outside it")
        return None
    comparator = value.get("comparator")
    return int(number), found, shown, comparator if isinstance(comparator, str) else ""


def _refuse(r: Reader, where: str, at: str, value: Any, rule: str) -> None:
    """Refuse an element of an age once, however often it is read; the validator's
    issues within the element it belongs to are not said again."""
    named = f"{where}.{at}"
    if named not in r.refused_elements:
        r.issue(named, value, rule)
        r.refused_elements.update((named, f"{where}.{at.split('.')[0]}"))
