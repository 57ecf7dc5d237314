"""A case from data or JSON text: :func:`parse_case` and :func:`parse_case_json` give a
:class:`~pecoma.case.Case` or raise :class:`~pecoma.errors.InputError` listing every broken
rule, each pydantic error translated into a field path, the value given and the rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from pecoma.case.coherence import Contradictions
from pecoma.case.model import ON_DATE, Case
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.text import odd_letters_shown, odd_words, shown

__all__ = [
    "issues_from_validation",
    "parse_case",
    "parse_case_json",
    "settings_not_chosen",
]

def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-"):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(case)"


_WHOLE_NUMBER = "must be a whole number (1, 2, 3 …)"
_FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the case format (check the spelling)",
    # the library's "valid integer, unable to parse string as an integer" in words
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "int_parsing_size": _WHOLE_NUMBER,
}


def _length_issue(kind: str, ctx: dict[str, Any], given: Any) -> tuple[str, str] | None:
    """A length rule in plain words (pydantic says "items after validation"), with the
    length given: the rule and the value shown."""
    text = isinstance(given, str)
    unit = "characters" if text else "entries"
    if kind in ("string_too_long", "too_long") and "max_length" in ctx:
        limit, word = ctx["max_length"], "at most"
    elif kind in ("string_too_short", "too_short") and "min_length" in ctx:
        limit, word = ctx["min_length"], "at least"
    else:
        return None
    try:
        actual = int(ctx.get("actual_length", len(given)))
    except TypeError:
        return None
    one = "character" if text else "entry"
    return (f"must be {word} {limit} {one if limit == 1 else unit}",
            f"{actual} {one if actual == 1 else unit}")


#: The fields recorded as a value with its unit (a size): one half given without the other
_PAIRED = {"value": "unit", "unit": "value"}


def _pair_rule(path: str, given: Any) -> str | None:
    """The rule of a value or a unit left out beside its other half given (a size of
    'cm' with no number): why it is required (the other is filled in) and what is
    allowed (fill it in, or leave both out to record the quantity as unknown); ``None``
    for any other missing field."""
    parent, _, leaf = path.rpartition(".")
    other = _PAIRED.get(leaf)
    if not parent or other is None or not isinstance(given, dict) or other not in given:
        return None
    what = parent.rsplit(".", 1)[-1].replace("_", " ")
    return (f"is required because '{parent}.{other}' is filled in "
            f"({show_value(given[other])}): give the {what}'s {leaf}, or leave "
            f"'{parent}.{other}' empty too to record the {what} as unknown")


def issues_from_validation(exc: ValidationError) -> list[FieldIssue]:
    """Translate a pydantic error into field issues (path, value, rule)."""
    issues: list[FieldIssue] = []
    for err in exc.errors(include_url=False):
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, Contradictions):
            issues.extend(ctx_err.issues)
            continue
        path = _loc_to_path(tuple(err["loc"]))
        kind = err["type"]
        length = _length_issue(kind, dict(err.get("ctx") or {}), err.get("input"))
        if length is not None:
            issues.append(FieldIssue(path, length[1], length[0]))
            continue
        rule = _FRIENDLY.get(kind)
        if rule is None:
            msg = str(err["msg"])
            msg = msg.removeprefix("Value error, ")
            if msg.startswith(("must ", "names no day of the calendar")):
                rule = msg
            else:
                rule = "must be valid: " + msg[0].lower() + msg[1:] if msg else "is invalid"
            if msg.startswith("Input should be"):
                rule = "must be " + msg.removeprefix("Input should be ").strip()
        value = "(missing)" if kind == "missing" else show_value(err.get("input"))
        given = err.get("input")
        if kind == "missing":
            rule = _pair_rule(path, given) or rule
        odd = odd_words(given) if kind in ("enum", "literal_error") and isinstance(
            given, str) else []
        if odd:
            # a value written with a look-alike letter ('sirоlimus', a Cyrillic о) would
            # read as the value allowed beside it: the letter is named, the value escaped
            written, letters = odd_letters_shown(given)
            value = shown(written)
            rule += f"; it holds {letters}, which is no letter a to z"
        issues.append(FieldIssue(path, value, rule))
    return issues


def parse_case(data: Any, source: str = "case", on_date: dt.date | None = None) -> Case:
    """Validate a mapping into a :class:`Case`, or raise :class:`InputError`.

    With ``on_date`` (the evaluation date) the facts dated after it are refused too, in
    the same pass as the case's own checks, so every problem is reported at once."""
    if not isinstance(data, dict):
        raise InputError(
            [FieldIssue("(case)", show_value(type(data).__name__), "must be a JSON object")],
            source,
        )
    try:
        case: Case = _validate(data) if on_date is None else _validate(
            data, context={ON_DATE: on_date})
    except ValidationError as exc:
        raise InputError(issues_from_validation(exc), source) from exc
    return case


_validate = Case.__pydantic_validator__.validate_python


_SETTING_NOT_CHOSEN = (
    "must be chosen for a line with an agent: 'adjuvant' (given after the operation that "
    "removed the disease, begun on or after it) or 'advanced' (for recurrent, metastatic "
    "or unresectable disease, and for pre-operative, neoadjuvant, treatment); it decides "
    "how surveillance is counted and which line comes first"
)


def settings_not_chosen(data: Any) -> list[FieldIssue]:
    """An issue for each therapy line of ``data`` (case data from a form or a table) that
    names its agent but not its setting.

    The case format reads a line without a setting as a line for advanced disease (its
    documented default, for files written by programs). A form or table has a blank for
    it that the person may simply not have reached: there, left blank is not a choice,
    and an adjuvant course read as advanced would count surveillance from the surgery
    and drop the question of the end of adjuvant treatment (I22)."""
    systemic = data.get("systemic") if isinstance(data, dict) else None
    lines = systemic.get("therapies") if isinstance(systemic, dict) else None
    if not isinstance(lines, list):
        return []
    return [
        FieldIssue(f"systemic.therapies[{i}].setting", "(empty)", _SETTING_NOT_CHOSEN)
        for i, line in enumerate(lines)
        if isinstance(line, dict) and line.get("agent") not in (None, "")
        and line.get("setting") in (None, "")
    ]


def parse_case_json(
    text: str | bytes, source: str = "case", on_date: dt.date | None = None
) -> Case:
    """Parse JSON text into a :class:`Case`, or raise :class:`InputError` (with
    ``on_date``, facts dated after it among the problems, as :func:`parse_case`)."""
    from pecoma.jsonin import loads

    try:
        return parse_case(loads(text, source), source, on_date)
    except RecursionError:
        raise InputError([FieldIssue("(case)", "deeply nested text",
                                     "must be nested less deeply")], source) from None
