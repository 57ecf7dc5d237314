"""Spreadsheet cells that cannot act as formulas (CSV/formula injection, as OWASP describes).

A spreadsheet program reads a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return as a formula, so a label such as ``=HYPERLINK(…)`` could run when an
export is opened. Every text cell written to a CSV export passes :func:`neutralise`, which
puts a single quote in front of such text (numbers, dates and other values are left as
they are). :func:`restore` undoes exactly that when a file is imported again, so an
exported ``cases.csv`` imports into the same cases.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "neutralise", "restore"]

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


def restore(text: str) -> str:
    """A cell as it was before :func:`neutralise`."""
    if text.startswith(_QUOTE) and _looks_like_formula(text):
        return text[1:]
    return text
