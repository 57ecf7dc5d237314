"""Spreadsheet cells that cannot act as formulas (CSV/formula injection, as OWASP describes).

A spreadsheet program reads a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula, so a label such as ``=HYPERLINK(…)`` could run when an
export is opened. Every text cell written to a CSV export passes :func:`neutralise`, which
puts a single quote in front of such text (numbers, dates and other values are left as
they are). :func:`restore` undoes exactly that when a file is imported again, so an
exported ``cases.csv`` imports into the same cases.

:func:`csv_cell` is the one way a value becomes a cell of a CSV export (the registry's
tables, the worklist): text neutralised, a number written by
:func:`~pecoma.numbers.number_text` (``0.0000001``, never ``1e-07``, which the import
refuses; ``0``, not ``0.0``), nothing as an empty cell.
"""

from __future__ import annotations

from typing import Any

from pecoma.numbers import number_text

__all__ = ["FORMULA_STARTS", "csv_cell", "neutralise", "restore"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def _looks_like_formula(text: str) -> bool:
    # Quotes already in front count too, so that restore(neutralise(x)) == x for any x.
    return text.lstrip(_QUOTE).startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: text that could start a formula is quoted."""
    if isinstance(value, str) and _looks_like_formula(value):
        return _QUOTE + value
    return value


def csv_cell(value: Any) -> Any:
    """``value`` as a cell of a CSV export: empty for ``None``, a float exactly as
    :func:`number_text` writes it (an integer is plain already), text through
    :func:`neutralise`."""
    if value is None:
        return ""
    if isinstance(value, float):
        return number_text(value)
    return neutralise(value)


def restore(text: str) -> str:
    """A cell as it was before :func:`neutralise`."""
    if text.startswith(_QUOTE) and _looks_like_formula(text):
        return text[1:]
    return text
