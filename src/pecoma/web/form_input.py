"""Posted forms and the numbers and dates people type into them.

Every form is read by :func:`read_form`: a field whose name, text or file name holds a
character :data:`pecoma.text.TEXT_RULE` refuses (a NUL, another control character) is an
:class:`~pecoma.errors.InputError` naming the field, for every form alike, before any of
it is used or stored. A number takes a decimal comma (``3,5``); a date is written
``YYYY-MM-DD`` or with the month's name (``2 Dec 2026``); a numeric date in any other order
(``12/02/2026``) is refused because it reads two ways.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container, Iterable
from typing import Any, Protocol

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from pecoma.dates import EARLIEST, LATEST, month_named, no_day_rule, no_such_day, range_rule
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.numbers import NUMBER_RULE, parse_number
from pecoma.text import TEXT_RULE, escaped, shown, text_is_odd

__all__ = [
    "DATE_FORMS",
    "DATE_FORM_RULE",
    "MAX_FORM_FIELDS",
    "NUMBER_RULE",
    "fields_kept",
    "parse_form_date",
    "parse_form_number",
    "read_form",
    "repeated_fields",
    "text_issues",
]

DATE_FORMS = "YYYY-MM-DD or day, month name, year (2026-12-02 or 2 Dec 2026)"


def parse_form_number(text: str) -> str | None:
    """A number as typed, in the case format's notation (``3,5`` gives ``3.5``), or
    ``None`` when it is not a plain decimal number (``1.234,5``, ``3e2``, ``nan``): the
    rule of :mod:`pecoma.numbers`, a decimal comma always allowed."""
    return parse_number(text, decimal_comma=True)


DATE_FORM_RULE = (
    f"must be a date as {DATE_FORMS}, between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{2,4})$", re.ASCII)


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _ambiguous(m: re.Match[str]) -> str:
    a, b, year = int(m[1]), int(m[2]), int(m[3])
    readings = [
        d.strftime("%d %b %Y").lstrip("0")
        for d in (_day(year, b, a), _day(year, a, b))
        if d is not None and len(m[3]) == 4
    ]
    if len(readings) == 2 and readings[0] != readings[1]:
        return (
            f"can be read as {readings[0]} or as {readings[1]}: write it as YYYY-MM-DD "
            f"or with the month's name (2 Dec 2026)"
        )
    return (
        f"{DATE_FORM_RULE} (a date in numbers only is read year first, so that it cannot be "
        "read two ways)"
    )


def parse_form_date(text: str) -> dt.date | str:
    """A date as typed (``2026-12-02``, ``2 Dec 2026``, ``2 December 2026``), or the rule
    it breaks. Numbers in another order (``12/02/2026``, ``02.12.2026``) are refused:
    they read differently from country to country."""
    value = text.strip()
    written: tuple[int, int, int] | None = None  # year, month, day
    if m := _ISO.match(value):
        written = int(m[1]), int(m[2]), int(m[3])
    elif (named := month_named(value)) is not None:
        written = named
    elif m := _NUMERIC.match(value):
        return _ambiguous(m)
    if written is None:
        return DATE_FORM_RULE
    why = no_such_day(*written)
    if why is not None:  # 2025-02-29, 31 June 2025: written right, but no day
        return no_day_rule(why, DATE_FORM_RULE)
    day = dt.date(*written)
    rule = range_rule(day)
    return day if rule is None else rule


class _Posted(Protocol):
    def multi_items(self) -> list[tuple[str, Any]]: ...


REPEATED_RULE = "was sent more than once: send each field once"


def repeated_fields(posted: _Posted, names: Container[str] | None = None
                    ) -> list[FieldIssue]:
    """Each field of a posted form sent more than once (among ``names`` when given), with
    its values (a file by its name). A browser sends each of pecoma's fields once; a repeat
    (a scripted or tampered post) is refused rather than read as its last value: which
    size, which file was meant?"""
    seen: dict[str, list[str]] = {}
    for name, value in posted.multi_items():
        if names is None or name in names:
            if isinstance(value, UploadFile):
                value = f"file {value.filename or '(no name)'}"
            if isinstance(value, str):
                seen.setdefault(name, []).append(value)
    return [FieldIssue(name, ", ".join(show_value(v) for v in values), REPEATED_RULE)
            for name, values in seen.items() if len(values) > 1]


def text_issues(posted: _Posted) -> list[FieldIssue]:
    """Each field of a posted form whose name, text or file name breaks
    :data:`~pecoma.text.TEXT_RULE`."""
    issues: list[FieldIssue] = []
    for name, value in posted.multi_items():
        text = value.filename or "" if isinstance(value, UploadFile) else value
        if text_is_odd(name) or (isinstance(text, str) and text_is_odd(text)):
            what = "the file name " if isinstance(value, UploadFile) else ""
            issues.append(FieldIssue(escaped(name), what + shown(str(text)), TEXT_RULE))
    return issues


MAX_FORM_FIELDS = 1000
"""The most fields a posted form may hold unless its route allows more (Starlette's own
bound): a guard on what a post costs to read."""


async def read_form(request: Request, max_fields: int = MAX_FORM_FIELDS,
                    too_many: str = "") -> FormData:
    """The posted form, every field checked against :data:`~pecoma.text.TEXT_RULE`: the
    one place where a form's text comes in. A field breaking it is an
    :class:`~pecoma.errors.InputError` (a 422 page naming each such field), whatever the
    form and whatever the database behind it. A form of more than ``max_fields`` fields
    is one too, breaking ``too_many`` (the library's bare 400 had named nothing)."""
    try:
        form = await request.form(max_fields=max_fields)
    except HTTPException as exc:
        if exc.status_code != 400 or not str(exc.detail).startswith("Too many fields"):
            raise
        rule = too_many or f"must hold at most {max_fields} fields"
        raise InputError([FieldIssue("(form)", f"more than {max_fields} fields", rule)],
                         "form") from None
    issues = text_issues(form)
    if issues:
        raise InputError(issues, "form")
    return form


async def fields_kept(request: Request, names: Iterable[str]) -> dict[str, str]:
    """After :func:`read_form` refused a form: its fields ``names`` that keep the text
    rule, to show the form again with what could be read (a refused field comes back
    empty; its message shows its value escaped)."""
    form = await request.form()
    bad = {i.path for i in text_issues(form)}
    return {k: v for k in names if k not in bad and isinstance(v := form.get(k, ""), str)}
