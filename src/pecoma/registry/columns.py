"""The flat column layout of a registry file: one row per patient, one column per fact.

A column is named by its path in the case format (``tumour.size.value``,
``stage.metastases[0].site``); the layout is derived from :class:`~pecoma.case.Case`
itself, so it cannot drift from the model. Lists (metastases, systemic therapies) have
:data:`LIST_SLOTS` numbered slots each in the template; a file may carry more slots, up to
:data:`MAX_LIST_SLOTS` (an export writes as many as its longest list needs, so no item is
left out). ``registry_id`` comes first and is required.

An empty cell means *unknown* (the case format's default), never *absent*.
"""

from __future__ import annotations

import csv
import io
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from pecoma.case import Case, TherapyLine
from pecoma.errors import show_value
from pecoma.numbers import ROW_NUMBER, row_number, row_number_rule

__all__ = [
    "COLUMNS",
    "ITEM_NUMBER_RULE",
    "LIST_SLOTS",
    "MAX_LIST_SLOTS",
    "REGISTRY_ID",
    "Column",
    "column_for_path",
    "column_kind",
    "columns_for",
    "flatten",
    "is_column",
    "item_number_issue",
    "template_csv",
    "template_xlsx",
]

LIST_SLOTS = 3
MAX_LIST_SLOTS = 100
"""The most slots of one list a file may carry (``stage.metastases[99].site``)."""
REGISTRY_ID = "registry_id"
_SKIP = {"format", "label"}  # the format is implied; a free label has no place in a registry
_DEFAULT_SETTING: str = TherapyLine.model_fields["setting"].default.value

Kind = Literal["code", "date", "number", "integer", "choice"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    required: bool
    allowed: tuple[str, ...]
    description: str

    @property
    def help(self) -> str:
        """One line for the template and the documentation."""
        parts = ["required" if self.required else "optional (empty = unknown)"]
        if self.allowed:
            parts.append("one of: " + ", ".join(self.allowed))
        elif self.kind == "date":
            parts.append("date YYYY-MM-DD")
        elif self.kind in ("number", "integer"):
            parts.append(self.kind)
        if self.description:
            parts.append(self.description)
        return "; ".join(parts)


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> ``X``; ``Annotated[X, ...]`` -> ``X``."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


def _walk(model: type[BaseModel], prefix: str, required: bool, slots: int = LIST_SLOTS
          ) -> list[Column]:
    out: list[Column] = []
    for name, info in model.model_fields.items():
        if not prefix and name in _SKIP:
            continue
        path = f"{prefix}.{name}" if prefix else name
        t = _unwrap(info.annotation)
        need = required and info.is_required()
        desc = info.description or ""
        if get_origin(t) is tuple:
            item = get_args(t)[0]
            for i in range(slots):
                out += _walk(item, f"{path}[{i}]", False, slots)
        elif isinstance(t, type) and issubclass(t, BaseModel):
            out += _walk(t, path, need, slots)
        elif isinstance(t, type) and issubclass(t, Enum):
            allowed = tuple(str(m.value) for m in t)
            out.append(Column(path, "choice", need, allowed, desc))
        elif t is int:
            out.append(Column(path, "integer", need, (), desc))
        elif t is float:
            out.append(Column(path, "number", need, (), desc))
        else:
            out.append(Column(path, "date", need, (), desc))
    return out


COLUMNS: tuple[Column, ...] = (
    Column(
        REGISTRY_ID,
        "code",
        True,
        (),
        "pseudonymous registry code, e.g. PEC-0001 (never a name)",
    ),
    *_walk(Case, "", True),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
_BY_NAME = {c.name: c for c in COLUMNS}


#: A list's slot in a column's name as the layout writes it (see :data:`ITEM_NUMBER_RULE`).
_SLOT = re.compile(rf"\[({ROW_NUMBER})\]", re.ASCII)
#: Whatever is between a name's brackets (``[01]``, ``[+1]``, ``[١]``), to name an item's
#: number the layout does not write.
_BRACKETS = re.compile(r"\[([^\]]*)\]")
ITEM_NUMBER_RULE = row_number_rule(MAX_LIST_SLOTS, "the number of a list's item",
                                   "; [0] is the first item")
"""How the number of a list's item is written in a column's name: as the case form
writes a row's (:func:`~pecoma.numbers.row_number`). ``stage.metastases[01].site`` is not
item 1: beside ``stage.metastases[1].site`` one of the two values would be lost."""


def _slot(name: str) -> tuple[Column, str] | None:
    """The layout's column of a list's item named ``name`` (its ``[0]`` column) and the
    item's number as written, whatever it is; ``None`` for a name of no list's item."""
    m = _BRACKETS.search(name)
    if m is None:
        return None
    column = _BY_NAME.get(name[: m.start()] + "[0]" + name[m.end():])
    return (column, m[1]) if column is not None else None


def _slot_column(name: str) -> Column | None:
    """The layout's column of a list's slot named ``name``, its number written as the
    layout writes it and below :data:`MAX_LIST_SLOTS`."""
    found = _slot(name)
    if found is None:
        return None
    number = row_number(found[1])
    return found[0] if number is not None and number < MAX_LIST_SLOTS else None


def is_column(name: str) -> bool:
    """``name`` is a column of the layout, a list's slot beyond the template's included
    (up to :data:`MAX_LIST_SLOTS`), its number written as the layout writes it."""
    return name in _BY_NAME or _slot_column(name) is not None


def item_number_issue(name: str) -> str | None:
    """Why a column named as a list's item (``stage.metastases[01].site``) cannot be
    read: its number is not written as the layout writes it, or is beyond the slots a file
    may carry; ``None`` for a column of the layout or a name of no list's item."""
    found = _slot(name)
    if found is None or _slot_column(name) is not None:
        return None
    return (f"has the item number {show_value(found[1])} in brackets, which the import "
            f"cannot read: {ITEM_NUMBER_RULE}")


def column_kind(name: str) -> Kind | None:
    """The kind of a column of the layout (a list's slot beyond the template's included),
    ``None`` for a name that is no column."""
    if name in _BY_NAME:
        return _BY_NAME[name].kind
    column = _slot_column(name)
    return column.kind if column is not None else None


def columns_for(rows: list[dict[str, Any]]) -> list[str]:
    """The header for flat ``rows`` (see :func:`flatten`): the template's columns, with
    as many slots per list as the longest list needs."""
    slots = max([LIST_SLOTS, *(int(m[1]) + 1 for row in rows for name in row
                                if (m := _SLOT.search(name)))])
    if slots == LIST_SLOTS:
        return list(COLUMN_NAMES)
    return [REGISTRY_ID, *(c.name for c in _walk(Case, "", True, slots))]


def column_for_path(path: str) -> str:
    """The column a case field path belongs to (the first column under it, if nested)."""
    if path in _BY_NAME:
        return path
    for name in COLUMN_NAMES:
        if name.startswith(path + ".") or name.startswith(path + "["):
            return name
    return path


def template_csv() -> str:
    """The CSV template: the header row only."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(COLUMN_NAMES)
    return buf.getvalue()


def template_xlsx() -> bytes:
    """The XLSX template: a ``cases`` sheet with the header, and a ``columns`` guide."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "cases"
    ws.append(list(COLUMN_NAMES))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "B2"
    for idx, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(idx)
        ws.column_dimensions[letter].width = max(12, min(40, len(col.name) + 2))
        if col.allowed and len(",".join(col.allowed)) < 250:
            dv = DataValidation(
                type="list", formula1='"' + ",".join(col.allowed) + '"', allow_blank=True
            )
            dv.error = f"{col.name} must be one of: {', '.join(col.allowed)}"
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}10000")
        elif col.kind == "date":
            for row in range(2, 50):
                ws.cell(row=row, column=idx).number_format = "yyyy-mm-dd"
    guide = wb.create_sheet("columns")
    guide.append(["column", "required", "allowed values / format", "meaning"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for col in COLUMNS:
        fmt = ", ".join(col.allowed) if col.allowed else (
            "YYYY-MM-DD" if col.kind == "date" else col.kind
        )
        guide.append([col.name, "yes" if col.required else "no", fmt, col.description])
    guide.column_dimensions["A"].width = 42
    guide.column_dimensions["C"].width = 60
    guide.column_dimensions["D"].width = 60
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def flatten(case_data: dict[str, Any], registry_id: str) -> dict[str, Any]:
    """A nested case (as JSON data) as one flat row of the layout; the inverse of import."""
    row: dict[str, Any] = {REGISTRY_ID: registry_id}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else k)
        elif isinstance(node, list | tuple):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif node is not None and is_column(path):
            row[path] = node
        elif node is not None:  # never left out: a list longer than a file may carry
            raise ValueError(f"{path} cannot be written in the registry layout (at most "
                             f"{MAX_LIST_SLOTS} items per list)")

    walk({k: v for k, v in case_data.items() if k not in _SKIP}, "")
    # A line's setting is written even where the case leaves it to the format's default
    # (advanced): the import refuses a line whose setting cell is empty.
    for name in [n for n in row if n.startswith("systemic.therapies[") and n.endswith(".agent")]:
        row.setdefault(name.removesuffix("agent") + "setting", _DEFAULT_SETTING)
    return row
