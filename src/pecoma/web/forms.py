"""The case form read into a :class:`~pecoma.case.Case`, and a case shown as form values.

The controls are declared in :mod:`pecoma.web.form_layout`, each named by the field path of
the case format (``tumour.size.value``, ``stage.metastases[0].site``), so an
:class:`~pecoma.errors.FieldIssue` from :func:`~pecoma.case.parse_case` lands next to the
control it concerns. A blank control or one left on "unknown" leaves the fact out of the
case, which the case format reads as unknown, never as absent.

Repeated facts (metastases, lines of systemic therapy, scans) come as numbered rows; a row
with nothing entered is ignored, and errors are mapped back from the case's list index to
the row the user filled. A blank row is offered only where the disease status needs one
(:attr:`~pecoma.web.form_controls.RowSpec.show_for`); "add another" adds one (without
JavaScript by posting the form to ``/form``, which shows it again with every value kept and
one more row).

What people type is read as they write it (:mod:`pecoma.web.form_input`). "None of these
histology features" (:data:`~pecoma.web.form_layout.NONE_OF_FOUR`) sets the four
histological features left unknown to absent; a feature explicitly set to present is never
overwritten: the form says that the two contradict each other. A form shown again keeps the
four as entered and the box ticked, so unticking it undoes it.

Every problem is reported in one pass: values that cannot be read, facts the case format
refuses, contradictions between facts (checked on the case with the unreadable values
left out), dates after the evaluation date and scans, each in words with the control's
label (:mod:`pecoma.web.form_messages`).

One idea at a little over 500 lines: a posted form and the case it gives, both ways. The
rows, the stand-ins for refused facts and the mapping of issues back to controls share
the form's names and are read together.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from pecoma.case import (
    Agent,
    Case,
    DiseaseStatus,
    Feature,
    MetastasisSite,
    PrimarySite,
    SizeUnit,
    TherapySetting,
    parse_case,
    settings_not_chosen,
)
from pecoma.engine.imaging import ImagingEvent, ScanFinding, parse_imaging
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.numbers import ambiguous_separator, number_text, row_number_rule
from pecoma.web.form_controls import Control, RowSpec
from pecoma.web.form_input import DATE_FORMS, NUMBER_RULE, parse_form_date, parse_form_number
from pecoma.web.form_layout import (
    COMPANIONS,
    CONTROLS,
    EVALUATION_DATE,
    FORM,
    IMAGING,
    MAX_ROWS,
    NONE_OF_FOUR,
    ROW_NAME,
    ROWSPECS,
    STATUS,
    WORRISOME_FOUR,
    control_of,
)
from pecoma.web.form_messages import issue_message, label_for, position

__all__ = [
    "MAX_FIELDS",
    "ROW_NUMBER_RULE",
    "TOO_MANY_FIELDS",
    "FormResult",
    "add_issues",
    "case_to_values",
    "default_values",
    "entered_facts",
    "form_to_case",
    "more_rows",
    "row_count",
    "rows_beyond",
    "rows_shown",
    "unread_fields",
]

ROWS_SHOWN = "_rows."  # + a row prefix: how many rows the form showed (hidden field)
ADD_ROW = "_add"  # the "add another" button's name; its value is the row prefix

MAX_FIELDS = (len(CONTROLS) + len(COMPANIONS) + len(ROWSPECS) + 2
              + MAX_ROWS * sum(len(spec.controls) for spec in ROWSPECS.values()))
"""The most fields the case form posts: each control and its companion (the size's
unit), the hidden count of rows shown of each repeated group, the CSRF token and the
"add another" button, and :data:`MAX_ROWS` rows of every group. A post with more cannot
come from the form; it is refused naming the limit (:data:`TOO_MANY_FIELDS`)."""

TOO_MANY_FIELDS = (
    f"must hold at most {MAX_FIELDS} fields, the most the case form posts (at most "
    f"{MAX_ROWS} rows of each kind: "
    + ", ".join(f"{spec.nouns} ({len(spec.controls)} field{'s' * (len(spec.controls) > 1)}"
                " a row)" for spec in ROWSPECS.values())
    + "): use the JSON API or the command line for a case with more"
)
"""The rule a post holding more than :data:`MAX_FIELDS` fields breaks."""
_FORM_ONLY = frozenset({EVALUATION_DATE, NONE_OF_FOUR})


def _whole_number(number: str, control: Control) -> int | str:
    """``number`` (in the case format's notation) as the whole number a control of whole
    numbers (``step="1"``, a therapy's line) takes, or the rule it breaks, in words: the
    validation library's "valid integer, unable to parse string" is no message for a
    person."""
    lo, hi = control.minimum, control.maximum
    given = Decimal(number)
    if given != given.to_integral_value() or (lo is not None and given < Decimal(lo)) or (
            hi is not None and given > Decimal(hi)):
        return _whole_number_rule(control)
    return int(given)


def _whole_number_rule(control: Control) -> str:
    """What a control of whole numbers takes, in words ("a whole number from 1 to 20")."""
    lo, hi = control.minimum, control.maximum
    span = (f" from {int(lo)} to {int(hi)}" if lo is not None and hi is not None
            else f" of at least {int(lo)}" if lo is not None else "")
    return f"must be a whole number{span}" + (" (1, 2, 3 …)" if lo == 1 else "")


def _readable(values: Mapping[str, str]) -> tuple[dict[str, str], list[FieldIssue]]:
    """The values in the case format's notation (point decimals, ISO dates), and an issue
    for each value that cannot be read; those are left out."""
    out: dict[str, str] = {}
    issues: list[FieldIssue] = []
    for name, value in values.items():
        c = control_of(name)
        if c is None or not value or c.kind not in ("number", "date"):
            out[name] = value
        elif c.kind == "number":
            number = parse_form_number(value)
            if number is None:
                rule = ambiguous_separator(value, decimal_comma=True) or (
                    _whole_number_rule(c) if c.step == "1" else NUMBER_RULE)
                issues.append(FieldIssue(name, show_value(value), rule))
            elif c.step == "1":
                whole = _whole_number(number, c)
                if isinstance(whole, int):
                    out[name] = str(whole)
                else:
                    issues.append(FieldIssue(name, show_value(value), whole))
            else:
                out[name] = number
        else:
            day = parse_form_date(value)
            if isinstance(day, str):
                issues.append(FieldIssue(name, show_value(value), day))
            else:
                out[name] = day.isoformat()
    return out, issues


def _none_of_four(values: dict[str, str], issues: list[FieldIssue]) -> None:
    """Apply "none of these histology features": each of the four left unknown becomes
    absent; one set to present stays present and the contradiction is reported."""
    ticked = values.get(NONE_OF_FOUR, "")
    if ticked not in ("", "yes"):
        issues.append(FieldIssue(NONE_OF_FOUR, show_value(ticked), "must be ticked or not"))
        return
    if not ticked:
        return
    for name in WORRISOME_FOUR:
        state = values.get(name, "")
        if state in ("", Feature.unknown.value):
            values[name] = Feature.absent.value
        elif state == Feature.present.value:
            issues.append(
                FieldIssue(
                    name,
                    state,
                    "is present, but “None of these histology features” is ticked: untick "
                    "that box, or change this feature",
                )
            )


# --------------------------------------------------------------------------------------
# Repeated rows
# --------------------------------------------------------------------------------------


def _row_indices(values: Mapping[str, str], spec: RowSpec) -> list[int]:
    return sorted(
        {
            int(m["row"])
            for name in values
            if (m := ROW_NAME.match(name)) and m["prefix"] == spec.prefix
        }
    )


def _entered(values: Mapping[str, str], spec: RowSpec, row: int) -> dict[str, str]:
    """What a row holds beyond its defaults (empty: the row is not used)."""
    out: dict[str, str] = {}
    for c in spec.controls:
        value = values.get(spec.name(row, c), "")
        if value and value != c.default:
            out[c.name] = value
    return out


def rows_shown(values: Mapping[str, str], spec: RowSpec) -> int:
    """How many rows of ``spec`` the form showed when it was posted (its hidden field)."""
    text = values.get(ROWS_SHOWN + spec.prefix, "")
    return min(int(text), MAX_ROWS) if text.isascii() and text.isdigit() and len(text) < 4 else 0


def row_count(values: Mapping[str, str], spec: RowSpec) -> int:
    """How many rows to show: every filled row, one blank row when the disease status
    needs these rows (:attr:`RowSpec.show_for`), and never fewer than were shown."""
    filled = max(
        (row + 1 for row in _row_indices(values, spec) if _entered(values, spec, row)),
        default=0,
    )
    blank = 1 if values.get(STATUS, "") in spec.show_for else 0
    return min(MAX_ROWS, max(rows_shown(values, spec), filled + blank))


def more_rows(form: Mapping[str, str]) -> dict[str, str]:
    """The values to show the form again with one more row of the group named by the
    "add another" button (``_add``), everything entered kept as typed."""
    values = _clean(form)
    spec = ROWSPECS.get(form.get(ADD_ROW, "") if isinstance(form.get(ADD_ROW), str) else "")
    if spec is not None:
        more = max(rows_shown(values, spec) + 1, row_count(values, spec))
        values[ROWS_SHOWN + spec.prefix] = str(min(MAX_ROWS, more))
    return values


@dataclass
class FormResult:
    """The outcome of reading a posted form."""

    values: dict[str, str]
    case: Case | None = None
    on_date: dt.date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    issues: list[FieldIssue] = field(default_factory=list)
    imaging: list[dict[str, str]] = field(default_factory=list)
    origins: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.case is not None and self.on_date is not None and not self.issues


_NOT_CASE = frozenset({"csrf_token", ADD_ROW})  # posted with the form, not case facts
UNREAD_SHOWN = 10
"""Unread field names named one by one in the message (the rest are counted)."""


ROW_NUMBER_RULE = row_number_rule(MAX_ROWS)
"""How a row number is written in a field's name (``stage.metastases[1].site``)."""
# A row's name whatever is between its brackets (``[01]``, ``[+1]``, ``[١]``), to name the
# row number when it is not one the form writes (:data:`ROW_NAME`).
_ROW_LIKE = re.compile(r"^(?P<prefix>[a-z_.]+)\[(?P<row>[^\]]{0,12})\]\.[a-z_]+$")


def _unread_reason(name: str) -> str | None:
    """Why the form cannot read a posted field named ``name`` (None: it is read, or it is
    one of the form's own fields that carry no fact)."""
    if name in CONTROLS or name in _NOT_CASE:
        return None
    if name.startswith(ROWS_SHOWN) and name[len(ROWS_SHOWN) :] in ROWSPECS:
        return None
    m = ROW_NAME.match(name)
    if m and m["prefix"] in ROWSPECS:
        spec = ROWSPECS[m["prefix"]]
        if not any(c.name == m["field"] for c in spec.controls):
            return f"is not a field of a row of {spec.nouns}"
        if int(m["row"]) >= MAX_ROWS:
            return (f"is row {int(m['row']) + 1}: the form reads at most {MAX_ROWS} rows "
                    f"of {spec.nouns}")
        return None
    m = _ROW_LIKE.match(name)
    if m and m["prefix"] in ROWSPECS:
        return (f"has the row number {show_value(m['row'])}, which the form cannot read: "
                f"{ROW_NUMBER_RULE}")
    return "is not a field of the case form"


def unread_fields(form: Mapping[str, str]) -> list[str]:
    """A message for each posted field the case form cannot read (a scripted post, or a
    row beyond :data:`MAX_ROWS`): refused rather than left out, since the fact it holds
    would otherwise be missing from the report without a word."""
    unread = [(name, reason) for name in form if (reason := _unread_reason(name))]
    out = [f"Field {show_value(name)} {reason}." for name, reason in unread[:UNREAD_SHOWN]]
    if len(unread) > UNREAD_SHOWN:
        out.append(f"{len(unread) - UNREAD_SHOWN} more fields cannot be read either.")
    return out


def _clean(form: Mapping[str, str]) -> dict[str, str]:
    """Only the fields the form reads (its controls, its rows and the rows' counters),
    trimmed (see :func:`unread_fields` for the others)."""
    out: dict[str, str] = {}
    for name, raw in form.items():
        if name not in _NOT_CASE and _unread_reason(name) is None:
            out[name] = raw.strip() if isinstance(raw, str) else ""
    return out


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _rows(
    values: Mapping[str, str], spec: RowSpec, issues: list[FieldIssue]
) -> tuple[list[dict[str, str]], list[int]]:
    """The used rows as case data, and for each the row number it came from."""
    rows: list[dict[str, str]] = []
    origin: list[int] = []
    for row in _row_indices(values, spec):
        if not _entered(values, spec, row):
            continue
        given = {c.name: value for c in spec.controls if (value := values.get(spec.name(row, c)))}
        if not given.get(spec.key):
            key = next(c for c in spec.controls if c.name == spec.key)
            others = _labels(spec, _entered(values, spec, row))
            issues.append(
                FieldIssue(
                    f"{spec.prefix}[{row}].{spec.key}",
                    "(empty)",
                    f"is required when other facts of this {spec.noun.lower()} row are "
                    f"given ({others}): choose the {key.label.lower()}, or clear {others} "
                    "to leave the row out",
                )
            )
            continue
        rows.append(given)
        origin.append(row)
    return rows, origin


def _labels(spec: RowSpec, entered: Mapping[str, str]) -> str:
    """The labels of a row's fields named in ``entered``, in the form's order, in words
    (“Site” and “Detected on”)."""
    labels = [f"“{c.label}”" for c in spec.controls if c.name in entered]
    return " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)


def _row_by_row(
    issues: list[FieldIssue], origins: Mapping[str, list[int]], values: Mapping[str, str]
) -> list[FieldIssue]:
    """``issues`` with each one about a group of rows as a whole (``stage.metastases``
    must be empty for localized disease) told on every row it concerns, naming what to
    clear there: the row is what the person can change."""
    out: list[FieldIssue] = []
    for issue in issues:
        spec = ROWSPECS.get(issue.path)
        rows = origins.get(issue.path, [])
        if spec is None or not rows:
            out.append(issue)
            continue
        for k, row in enumerate(rows):
            entered = _entered(values, spec, row)
            out.append(FieldIssue(
                f"{spec.prefix}[{k}].{spec.key}", show_value(entered),
                f"clear this row ({_labels(spec, entered)}) — {spec.nouns} {issue.rule}",
            ))
    return out


def _to_case_path(path: str, origins: Mapping[str, list[int]]) -> str:
    """Map ``stage.metastases[k]…`` (case index) back to the form row it came from."""
    m = re.match(r"^([a-z_.]+)\[(\d+)\](.*)$", path)
    if m and m[1] in origins:
        rows = origins[m[1]]
        k = int(m[2])
        if k < len(rows):
            return f"{m[1]}[{rows[k]}]{m[3]}"
    return path


def _control_for(path: str, values: Mapping[str, str]) -> str | None:
    """The name of the form control an issue path belongs to, if any."""
    if path in CONTROLS or ROW_NAME.match(path):
        return path
    for name in (*CONTROLS, *values):
        if name.startswith(path + "."):
            return name
    spec = ROWSPECS.get(path)
    if spec is not None:
        return f"{spec.prefix}[0].{spec.key}"
    parts = path.split(".")
    while len(parts) > 1:
        parts.pop()
        parent = ".".join(parts)
        if parent in CONTROLS:
            return parent
    return None


# --------------------------------------------------------------------------------------
# Reading the form
# --------------------------------------------------------------------------------------


# Stand-ins for required facts that could not be read, so that the rest of the case can
# still be checked. They are not neutral (a contradiction may hold only beside the
# stand-in, or beside a fact left out and read as unknown): what the checks find beside
# them is reported only as :func:`_beyond_doubt` allows.
_STAND_INS = {
    "tumour.primary_site": PrimarySite.other.value,
    "stage.status": DiseaseStatus.recurrent.value,
}
_ROW_STAND_INS = {"site": MetastasisSite.lung.value, "agent": Agent.other.value,
                  "setting": TherapySetting.adjuvant.value}
#: a step of a field path: a name (any characters but dots and brackets) or a row index
_STEP = re.compile(r"[^.\[\]]+|\[\d+\]")
#: The facts no check of the case compares with another (pecoma.case.coherence and the
#: dates checked against the evaluation date read only the diagnosis, the tumour's site
#: and cervix, the stage, the surgery, the end of treatment, the systemic therapy and
#: the freedom from disease), and the form's own fields and scans: a value left out
#: there changes no contradiction.
_UNCOMPARED = ("label", "histology", "immunohistochemistry", "molecular", "tumour.size",
               EVALUATION_DATE, NONE_OF_FOUR, IMAGING)
#: the most combinations of choices a contradiction is checked against (each a check)
_MAX_VARIANTS = 64


def _uncompared(path: str) -> bool:
    steps = _STEP.findall(path)
    return any(steps[:len(g)] == g for g in (_STEP.findall(u) for u in _UNCOMPARED))


def _whole_group(path: str) -> str:
    """What is left out for ``path``: a size or a freedom from disease as a whole (each
    needs all its parts)."""
    for group in ("tumour.size", "free_of_disease"):
        if path == group or path.startswith(group + "."):
            return group
    return path


def _parent(data: dict[str, Any], steps: list[str]) -> dict[str, Any] | None:
    """The mapping holding the last of ``steps`` in ``data``, if there is one."""
    node: Any = data
    for step in steps[:-1]:
        if step.startswith("["):
            index = int(step[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return None
            node = node[index]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return None
    return node if isinstance(node, dict) and steps else None


def _leave_out(data: dict[str, Any], path: str) -> None:
    """Leave the fact at ``path`` out of ``data`` (a stand-in where it is required)."""
    if path in _STAND_INS:
        _put(data, path, _STAND_INS[path])
        return
    steps = _STEP.findall(_whole_group(path))
    node = _parent(data, steps)
    if node is None or steps[-1] not in node:
        return
    if steps[-1] in _ROW_STAND_INS and len(steps) > 1 and steps[-2].startswith("["):
        node[steps[-1]] = _ROW_STAND_INS[steps[-1]]
    else:
        del node[steps[-1]]


def _give(data: dict[str, Any], path: str, value: str) -> None:
    """Give the fact at ``path`` the choice ``value`` ('': leave it out)."""
    steps = _STEP.findall(path)
    node = _parent(data, steps)
    if node is None and len(steps) == 2:  # a group left out whole (surgery, systemic)
        node = data.setdefault(steps[0], {})
        node = node if isinstance(node, dict) else None
    if node is None:
        return
    if value:
        node[steps[-1]] = value
    else:
        node.pop(steps[-1], None)


def _every_fact_read(exc: InputError) -> bool:
    """Whether ``exc`` comes from the checks of the whole case (its contradictions and
    dates after the evaluation date), which run only once every fact could be read."""
    cause = exc.__cause__
    return isinstance(cause, ValidationError) and all(
        not e["loc"] for e in cause.errors(include_url=False))


def _issues(data: dict[str, Any], on_date: dt.date | None) -> list[FieldIssue] | None:
    """The issues of the whole case checks on ``data`` (``[]``: none), or ``None`` when
    some fact of it cannot be read."""
    try:
        parse_case(data, source="form", on_date=on_date)
    except InputError as exc:
        return list(exc.issues) if _every_fact_read(exc) else None
    return []


def _choices(path: str) -> list[str] | None:
    """The values a fact left out at ``path`` can take ('' for left out), or ``None``
    when it is no choice."""
    control = control_of(path)
    if control is None or not control.options:
        return None
    values = [o.value for o in control.options if o.value]
    required = path in _STAND_INS or path.rpartition(".")[2] in _ROW_STAND_INS
    return values if required else [*values, ""]


def _beyond_doubt(
    data: dict[str, Any], found: list[FieldIssue], left_out: set[str],
    on_date: dt.date | None,
) -> list[FieldIssue]:
    """Of the issues ``found`` on ``data`` (with the facts ``left_out`` left out or given a
    stand-in), those that hold whatever those facts are.

    The one rule, free of false errors: a date after the evaluation date is reported (it
    compares that date with the evaluation date alone); a contradiction only when it is
    found again with every combination of the values each fact left out can take (a
    choice: each of its options, left out included) and no other fact left out is
    compared by any check (:data:`_UNCOMPARED`); otherwise it waits for the facts to be
    corrected."""
    without = _issues(data, None) if on_date is not None else found
    after = [i for i in found if without is not None and i not in without]
    kept = [i for i in found if i not in after and i.path not in left_out]
    combos: list[dict[str, str]] = [{}]
    for path in sorted(left_out):
        values = _choices(path)
        if values is None:
            if _uncompared(path):
                continue
            return after
        combos = [{**c, path: v} for c in combos for v in values]
        if len(combos) > _MAX_VARIANTS:
            return after
    for combo in combos:
        variant = copy.deepcopy(data)
        for path, value in combo.items():
            _give(variant, path, value)
        issues = _issues(variant, None)
        kept = [i for i in kept if issues is not None and i in issues]
    return after + kept


def _checked_apart(
    data: dict[str, Any], first: list[FieldIssue], left_out: set[str],
    on_date: dt.date | None,
) -> tuple[Case | None, list[FieldIssue]]:
    """The case with the facts ``first`` refused left out (``None`` if the checks find
    anything in it), and the contradictions and dates after ``on_date`` found in it that
    hold whatever the facts left out (those and ``left_out``) are."""
    data = copy.deepcopy(data)
    left_out = set(left_out)
    pending = first
    for _ in range(4):
        for issue in pending:
            _leave_out(data, issue.path)
        left_out |= {i.path for i in pending}
        try:
            return parse_case(data, source="form", on_date=on_date), []
        except InputError as exc:
            if _every_fact_read(exc):
                return None, _beyond_doubt(data, list(exc.issues), left_out, on_date)
            pending = list(exc.issues)
    return None, []


def form_to_case(form: Mapping[str, str]) -> FormResult:
    """Read a posted form into a case and an evaluation date, or into every problem it
    has, each attached to its control."""
    values = _clean(form)
    readable, early = _readable(values)
    unreadable = {i.path for i in early}
    # The form is shown again as entered: the box stays ticked and the four it sets stay
    # as they were, so unticking it (with or without JavaScript) undoes it.
    result = FormResult({**values, **readable})
    _none_of_four(readable, early)
    issues: list[FieldIssue] = []

    data: dict[str, Any] = {"tumour": {}, "stage": {}}
    origins: dict[str, list[int]] = {}
    for name, value in readable.items():
        if not value or name in _FORM_ONLY or name.startswith(ROWS_SHOWN) or ROW_NAME.match(name):
            continue
        if name == "tumour.size.value" or name == "tumour.size.unit":
            continue
        _put(data, name, value)
    size = readable.get("tumour.size.value", "")
    if size:
        data["tumour"]["size"] = {
            "value": size,
            "unit": readable.get("tumour.size.unit") or SizeUnit.cm.value,
        }
    for spec in ROWSPECS.values():
        rows, origin = _rows(readable, spec, early)
        origins[spec.prefix] = origin
        if spec.prefix == IMAGING:
            result.imaging = rows
        elif rows:
            _put(data, spec.prefix, rows)
    result.origins = origins

    if not values.get(EVALUATION_DATE, ""):
        early.append(FieldIssue(EVALUATION_DATE, "(empty)", f"is required ({DATE_FORMS})"))
    elif EVALUATION_DATE in readable:
        result.on_date = dt.date.fromisoformat(readable[EVALUATION_DATE])
    not_chosen = settings_not_chosen(data)
    issues += not_chosen
    # the facts left out of the case: unreadable, and settings left blank (read as the
    # default, 'advanced'); what the checks find beside them is told only as far as it
    # holds whatever they are
    left_out = unreadable | {i.path for i in not_chosen}
    case: Case | None = None
    on = result.on_date
    try:
        # the dates against the evaluation date are checked with the rest, in one pass
        case = parse_case(data, source="form", on_date=on)
    except InputError as exc:
        refused = list(exc.issues)
        if _every_fact_read(exc):
            issues += _beyond_doubt(data, refused, left_out, on)
            checkable = None
        else:
            # a setting left blank is refused as such, not as the default it would be
            # read as
            issues += [i for i in refused if i.path not in left_out]
            checkable, further = _checked_apart(data, refused, left_out, on)
            issues += further
            left_out |= {i.path for i in refused}
    else:
        checkable = case
    if not all(_uncompared(path) for path in left_out):
        checkable = None  # scans are checked against the facts read, not stand-ins
    if on is not None:
        try:
            parse_imaging(
                result.imaging,
                case=checkable,
                on_date=on,
                source="imaging",
            )
        except InputError as exc:
            issues += exc.issues
    if early or issues:
        add_issues(result, early)
        # A value that could not be read was left out of the case: what is then found
        # missing there ("is required", for a scan's date) is the same problem, told once.
        later = [i for i in _row_by_row(issues, origins, readable)
                 if _to_case_path(i.path, origins) not in unreadable]
        add_issues(result, later, origins)
        result.errors = dict(sorted(result.errors.items(), key=lambda kv: position(kv[0])))
    else:
        result.case = case
    return result


def add_issues(
    result: FormResult,
    issues: Iterable[FieldIssue],
    origins: Mapping[str, list[int]] | None = None,
) -> None:
    """Attach issues to their controls (or to the form as a whole), each once."""
    for issue in issues:
        if origins is not None:
            issue = FieldIssue(_to_case_path(issue.path, origins), issue.value, issue.rule)
        if issue in result.issues:
            continue
        result.issues.append(issue)
        name = _control_for(issue.path, result.values)
        if name is None:
            where = label_for(issue.path) or "The case"
            result.general.append(f"{where}: {issue_message(issue)}")
        else:
            result.errors.setdefault(name, []).append(issue_message(issue))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        text = number_text(value)  # exactly: 5.000001 filled in as 5 would change the risk
        # 2.125 would read two ways in the form (a thousands point beside decimal
        # commas): 2.1250 is the same number and reads one way
        return text + "0" if ambiguous_separator(text, decimal_comma=True) else text
    return str(value)


def case_to_values(
    case: Case, on_date: dt.date | None = None, imaging: Iterable[ImagingEvent] = ()
) -> dict[str, str]:
    """The form values that show ``case`` and its imaging (for editing a case again)."""
    data = case.model_dump(mode="json", exclude={"format"})
    values: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                walk(f"{prefix}.{key}" if prefix else key, sub)
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(f"{prefix}[{i}]", sub)
        elif node is not None:
            values[prefix] = _fmt(node)

    walk("", data)
    if on_date is not None:
        values[EVALUATION_DATE] = on_date.isoformat()
    for i, event in enumerate(imaging):
        values[f"{IMAGING}[{i}].date"] = event.date.isoformat()
        values[f"{IMAGING}[{i}].modality"] = event.modality.value
        if event.finding is not ScanFinding.not_recorded:
            values[f"{IMAGING}[{i}].finding"] = event.finding.value
    return values


def entered_facts(case: Case) -> list[tuple[str, str, str]]:
    """The facts of ``case`` that are known, as (group legend, label, value in words)."""
    values = case_to_values(case)
    out: list[tuple[str, str, str]] = []
    for group in FORM:
        for c in group.controls:
            if c.name in COMPANIONS or c.name not in values:
                continue
            value = values[c.name]
            if value == "unknown":
                continue
            text = _in_words(c, value)
            if c.companion and c.companion in values:
                text += f" {values[c.companion]}"
            elif c.unit:
                text += f" {c.unit}"
            out.append((group.legend, c.label, text))
        if group.rows is None:
            continue
        spec = group.rows
        for row in _row_numbers(values, spec):
            parts = []
            for c in spec.controls:
                given = values.get(spec.name(row, c), "")
                if given and given != "unknown":
                    parts.append(f"{c.label.lower()} {_in_words(c, given)}")
            if parts:
                out.append((group.legend, f"{spec.noun} {row + 1}", "; ".join(parts)))
    return out


def _row_numbers(values: Mapping[str, str], spec: RowSpec) -> list[int]:
    """The row numbers of ``spec``'s group in ``values`` (any number of rows)."""
    return sorted({int(m["row"]) for name in values
                   if (m := ROW_NAME.match(name)) and m["prefix"] == spec.prefix})


def rows_beyond(values: Mapping[str, str]) -> list[FieldIssue]:
    """An issue for each repeated group of ``values`` (a case shown as form values) with
    more rows than the form takes: such a case cannot be edited in the form without
    losing rows, so it is refused rather than shown cut short."""
    out = []
    for spec in ROWSPECS.values():
        rows = _row_numbers(values, spec)
        if len(rows) > MAX_ROWS:
            out.append(FieldIssue(spec.prefix, f"{len(rows)} {spec.nouns}",
                                  f"the form takes at most {MAX_ROWS}: use the JSON API "
                                  "or the command line for this case"))
    return out


def _in_words(control: Control, value: str) -> str:
    for option in control.options:
        if option.value == value:
            return option.label
    return value


def default_values(on_date: dt.date) -> dict[str, str]:
    """A blank form: every fact unknown, the evaluation date set."""
    return {EVALUATION_DATE: on_date.isoformat()}
