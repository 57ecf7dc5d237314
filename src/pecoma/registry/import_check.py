"""Checking the rows read from a registry file: each broken rule is reported with its
row number (the spreadsheet's: the header is row 1), column, value and what is allowed.

Flat columns become a nested case, :func:`~pecoma.case.parse_case` checks it and
:func:`~pecoma.engine.assess` (or only :func:`~pecoma.engine.check_dates`) checks its
dates against the evaluation date; outcome columns are checked against the row's case.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from pecoma.case import Case, parse_case, settings_not_chosen
from pecoma.case.coherence import relapse_after_free_of_disease
from pecoma.engine import Assessment, assess
from pecoma.engine.assess import check_dates
from pecoma.errors import InputError, show_value
from pecoma.numbers import IMPORT_NUMBER_RULE, ROW_NUMBER, parse_number
from pecoma.registry.columns import (
    COLUMNS,
    REGISTRY_ID,
    column_for_path,
    column_kind,
    is_column,
    item_number_issue,
)
from pecoma.registry.import_table import RawRow, column_letters
from pecoma.registry.outcomes import OUTCOME_COLUMNS, check_outcomes, outcomes_of_cells
from pecoma.settings import Settings
from pecoma.store.repository import (
    OutcomeData,
    OutcomeView,
    ScanData,
    ScanView,
    check_registry_id,
)
from pecoma.text import TEXT_RULE, shown, text_is_odd

__all__ = [
    "PreparedRow",
    "RowIssue",
    "check_row",
    "header_issues",
    "is_empty",
    "issues_of_outcomes",
    "nest",
    "validate_rows",
]

#: A list's slot in a column's name, as the layout writes it (the header refuses others).
_INDEX = re.compile(rf"\[({ROW_NUMBER})\]", re.ASCII)
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)
_REQUIRED = tuple(c.name for c in COLUMNS if c.required)


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One rejected cell: spreadsheet row number (header = 1), column, value, rule."""

    row: int
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        return f"row {self.row}, column '{self.column}': {self.rule} (got {self.value})"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "rule": self.rule}



@dataclass(frozen=True, slots=True)
class PreparedRow:
    """A good row. ``assessment`` is ``None`` when validation only checked the dates (the
    case is then assessed when it is stored: an unchanged row never is)."""

    number: int
    registry_id: str
    submitted: dict[str, Any]
    case: Case
    assessment: Assessment | None
    outcomes: tuple[OutcomeData, ...] = ()



_NO_MERGES: Mapping[int, str] = MappingProxyType({})


def header_issues(header: Sequence[str], merged: Mapping[int, str] = _NO_MERGES
                  ) -> list[RowIssue]:
    """Problems with the header row (row 1): a cell breaking the text rule or empty (named
    by its position, ``(column 4, D)``: its text cannot name it), a list's item numbered
    otherwise than the layout numbers it (``[01]``, ``[١]``, ``[100]``), unknown, repeated
    or missing columns. ``merged``: the header's cells that are part of merged cells
    (position -> range, see :class:`~pecoma.registry.import_table.Table`), which is why
    such a cell reads empty. A required column missing beside an empty header cell is
    said in that cell's issue (it may be the column whose name the cell lost), not as an
    issue of its own naming a column the sheet may show."""
    missing = [name for name in _REQUIRED if name not in header]
    names = ", ".join(f"'{n}'" for n in missing)
    lost = ("" if not missing else
            f"; the required column {names} is not in the header: it may be this one"
            if len(missing) == 1 else
            f"; the required columns {names} are not in the header: one may be this one")
    issues: list[RowIssue] = []
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        where = f"(column {position}, {column_letters(position)})"
        if text_is_odd(name):
            issues.append(RowIssue(1, where, shown(name), TEXT_RULE))
        elif name == "" and position in merged:
            issues.append(RowIssue(
                1, where, "(merged cells)", "every column needs a name: this header cell is "
                f"part of merged cells ({merged[position]}), which keep only the first "
                f"cell's text: unmerge them and give each column its name{lost}"))
        elif name == "":
            issues.append(RowIssue(1, where, "''", "every column needs a name: this header "
                                   f"cell is empty (name the column, or delete it){lost}"))
        elif (unread := item_number_issue(name)) is not None:
            # [01] beside [1]: two names of one item, one of its values would be lost
            issues.append(RowIssue(1, name, show_value(name), unread))
        elif not is_column(name) and name not in OUTCOME_COLUMNS:
            issues.append(
                RowIssue(1, name, show_value(name),
                         "is not a column of the registry layout (see the template)")
            )
        elif name in seen:
            issues.append(RowIssue(1, name, show_value(name), "must appear only once"))
        seen.add(name)
    if "" not in seen:  # else said with the empty cells
        issues += [RowIssue(1, name, "(missing)", "is a required column") for name in missing]
    return issues


def nest(cells: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[int, int]]]:
    """Flat ``a.b[0].c`` cells -> a nested dict; list slots are packed (gaps removed).

    Returns the dict and, per list path, new index -> original slot (for error reports).
    """
    tree: dict[str, Any] = {}
    slots: dict[str, dict[int, dict[tuple[str, ...], Any]]] = {}
    for name, value in cells.items():
        if value is None or name == REGISTRY_ID:
            continue
        list_path, slot, parts = _route(name)
        if list_path is None:
            _put(tree, parts, value)
        else:
            slots.setdefault(list_path, {}).setdefault(slot, {})[parts] = value
    remap: dict[str, dict[int, int]] = {}
    for list_path, by_slot in slots.items():
        items = []
        remap[list_path] = {}
        for new, old in enumerate(sorted(by_slot)):
            item: dict[str, Any] = {}
            for rest, value in by_slot[old].items():
                _put(item, rest, value)
            items.append(item)
            remap[list_path][new] = old
        _put(tree, tuple(list_path.split(".")), items)
    return tree, remap


@lru_cache(maxsize=4096)
def _route(name: str) -> tuple[str | None, int, tuple[str, ...]]:
    """Where a column's cell goes: ``(list path, slot, path inside the item)`` for a
    column inside a list (``stage.metastases[1].site``), else ``(None, 0, path)``.
    Worked out once per column name (a file repeats its header's names on every row)."""
    m = _INDEX.search(name)
    if m:
        return name[: m.start()], int(m.group(1)), tuple(name[m.end() + 1 :].split("."))
    return None, 0, tuple(name.split("."))


def _put(tree: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    node = tree
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def _column(path: str, remap: dict[str, dict[int, int]]) -> str:
    m = _INDEX.search(path)
    if m:
        list_path = path[: m.start()]
        slot = remap.get(list_path, {}).get(int(m.group(1)), int(m.group(1)))
        path = f"{list_path}[{slot}]{path[m.end():]}"
    return column_for_path(path)


def validate_rows(
    rows: Iterable[RawRow], on_date: dt.date, settings: Settings, *, assess_rows: bool = True
) -> tuple[list[PreparedRow], list[RowIssue]]:
    """Good rows, and the issues of the bad ones (a row is good only with no issue).

    With ``assess_rows`` false, the engine's only check of a case, its dates against the
    evaluation date (:func:`~pecoma.engine.check_dates`), is made without the whole
    assessment (an import assesses only the rows it stores).
    """
    good: list[PreparedRow] = []
    issues: list[RowIssue] = []
    first_row: dict[str, int] = {}
    for raw in rows:
        row, row_issues = check_row(raw, first_row, on_date, settings, assess_rows)
        issues += row_issues
        if row is not None:
            good.append(row)
    return good, issues


def is_empty(raw: RawRow) -> bool:
    return not raw.problems and all(v is None for v in raw.cells.values())


#: How a relapse after 'free_of_disease' is recorded in the registry: an import row never
#: makes a stored fact unknown (:mod:`pecoma.registry.case_change`), so it cannot empty
#: the stored 'free_of_disease' as the case's rule asks while the disease is present.
_RELAPSE_THROUGH_REGISTRY = (
    ". In the registry, an import row cannot empty the 'free_of_disease' cells of a "
    "patient whose stored case has them (a row never makes a stored fact unknown): "
    "record that case version with 'pecoma registry add-case' or the case form's 'Save "
    "to registry', or, once the metastasis has been cleared, import the row with "
    "'free_of_disease.since' the day it was"
)


def check_row(
    raw: RawRow, first_row: dict[str, int], on_date: dt.date, settings: Settings,
    assess_rows: bool, *, outcomes_against_row: bool = True,
) -> tuple[PreparedRow | None, list[RowIssue]]:
    """One row: the good row, or its issues (``first_row`` tracks registry ids seen, in
    lower case: ``PEC-1`` and ``pec-1`` are one id written twice). With
    ``outcomes_against_row`` false the outcomes are not checked against the row's case
    (a row of outcomes only: they are checked against the stored case when written)."""
    cells = raw.cells
    if is_empty(raw):
        return None, []  # an empty line
    if "(row)" in cells:  # not read as a row: its problems say why
        return None, [RowIssue(raw.number, column, value, rule)
                      for column, value, rule in raw.problems]
    row_issues = [RowIssue(raw.number, column, value, rule)
                  for column, value, rule in raw.problems]
    rid_raw = cells.get(REGISTRY_ID)
    rid: str | None = None
    try:
        rid = check_registry_id("" if rid_raw is None else str(rid_raw))
    except InputError as exc:
        value = "(missing)" if rid_raw is None else exc.issues[0].value
        if not any(column == REGISTRY_ID for column, _value, _rule in raw.problems):
            # (a cell refused as read, e.g. a date cell, is refused with its own rule)
            row_issues.append(RowIssue(raw.number, REGISTRY_ID, value, exc.issues[0].rule))
    if rid is not None:
        if rid.lower() in first_row:
            row_issues.append(
                RowIssue(raw.number, REGISTRY_ID, show_value(rid),
                         "must appear only once in a file, whatever its letter case (also "
                         f"on row {first_row[rid.lower()]})")
            )
        else:
            first_row[rid.lower()] = raw.number
    outcome_cells = {k: v for k, v in cells.items() if k in OUTCOME_COLUMNS}
    outcomes, outcome_issues = outcomes_of_cells(outcome_cells)
    row_issues += [RowIssue(raw.number, i.path, i.value, i.rule) for i in outcome_issues]
    if outcome_cells:
        cells = {k: v for k, v in cells.items() if k not in OUTCOME_COLUMNS}
    submitted, remap = nest(cells)
    not_chosen = [RowIssue(raw.number, _column(i.path, remap), i.value, i.rule)
                  for i in settings_not_chosen(submitted)]
    row_issues += not_chosen
    case: Case | None = None
    a: Assessment | None = None
    try:
        case = parse_case(submitted, source=f"row {raw.number}", on_date=on_date)
        if assess_rows:
            a = assess(case, on_date, settings)
        else:
            check_dates(case, on_date)
    except InputError as exc:
        # a setting left empty is refused as such, not as the default it would be read as
        refused = {column for column, _value, _rule in raw.problems} | {
            i.column for i in not_chosen}
        for i in exc.issues:
            column = _column(i.path, remap)
            if column in refused:
                continue  # its cell is already refused, with its own rule (1,500: which?)
            # a rule about a group of cells (a size's value and unit are checked
            # together) shows the cell it is reported in, not the whole group
            group = not column.endswith(_INDEX.sub("", i.path).rsplit(".", 1)[-1])
            value = show_value(cells[column]) if group and cells.get(column) is not None \
                else i.value
            rule = i.rule + _RELAPSE_THROUGH_REGISTRY if relapse_after_free_of_disease(i) \
                else i.rule
            row_issues.append(RowIssue(raw.number, column, value, _number_rule(
                column, cells.get(column), rule)))
    if case is not None and outcomes and outcomes_against_row:
        # checked whatever else the row holds: every problem of the row in one report
        row_issues += issues_of_outcomes(raw.number, submitted, (), outcomes, on_date)
    if row_issues or case is None or rid is None:
        return None, row_issues
    return PreparedRow(raw.number, rid, submitted, case, a, tuple(outcomes)), []


def _number_rule(column: str, cell: Any, rule: str) -> str:
    """The rule of a number cell the case model could not read as a number: what a number
    cell may hold (a decimal point, where a decimal comma is read); else ``rule``."""
    if column_kind(column) == "number" and isinstance(cell, str) \
            and parse_number(cell, decimal_comma=False) is None:
        return IMPORT_NUMBER_RULE
    return rule


def issues_of_outcomes(
    number: int,
    case_data: dict[str, Any],
    stored: Sequence[OutcomeView],
    outcomes: Sequence[OutcomeData],
    on_date: dt.date,
    scans: Sequence[ScanData] = (),
) -> list[RowIssue]:
    """The row's outcomes checked against its case, the stored outcomes and the stored
    ``scans``, each issue in the column of the outcome's date."""
    views = [ScanView(0, sc.performed_on, sc.modality, sc.finding, _NEVER, "")
             for sc in scans]  # as stored (only the dates and modalities are read here)
    try:
        check_outcomes(case_data, stored, views, outcomes, on_date, columns=True)
    except InputError as exc:
        return [RowIssue(number, i.path, i.value, i.rule) for i in exc.issues]
    return []

