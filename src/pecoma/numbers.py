"""Numbers as people write them, in one place for the case form and the registry import.

A number is a plain decimal: digits with at most one decimal separator, a sign allowed
(``3.5``, ``-2``, ``.5``); no thousands separator, exponent, ``nan`` or ``inf``. Where a
comma cannot be misread it is taken as the decimal separator (``3,5`` is 3.5):

- in the case form, always (a field holds one number: there is no list to separate);
- in a registry CSV file separated by semicolons or tabs, as a spreadsheet set to a
  language with a decimal comma saves it; in a comma-separated CSV file and in an XLSX
  text cell a comma is refused (``"1,234"`` from a program writing thousands separators
  would be read as 1.234), with the rule saying that a decimal point is needed.

``1.234,5`` (both separators) is refused everywhere: which one is the decimal?

Where a comma is read as the decimal separator, the point is the thousands separator of
the same languages (``5.000`` is five thousand there), and the comma the thousands
separator of others (``1,500`` is fifteen hundred in English): a number that reads both
ways, one to three digits (not starting with 0), one separator and exactly three digits
(``5.000``, ``12.500``, ``-1.250``, ``1,500``, ``12,250``), is refused as ambiguous, the
refusal saying how to write either reading (:func:`ambiguous_separator`). A separator
that cannot separate thousands stays a decimal one (``5.5``, ``5.25``, ``0.125``,
``5.0000``, ``1,5``, ``12,25``, ``0,500``). Where a comma is refused (a comma-separated
CSV file, an XLSX text cell) the point can only be a decimal point.

A number is written back (in a report, a fact, the case form filled again) by
:func:`number_text`, exactly: never rounded, so that a value the engine compared with a
cut-off is never shown on the other side of it (5.000001 cm is not "5 cm").
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["FINITE_NUMBER_RULE", "IMPORT_NUMBER_RULE", "NUMBER_RULE", "PLAIN_NUMBER_RULE",
           "ROW_NUMBER", "TOO_LARGE_RULE", "ambiguous_separator", "number_text",
           "parse_number", "row_number", "row_number_rule"]

NUMBER_RULE = "must be a number, with a decimal point or a decimal comma (3.5 or 3,5)"
IMPORT_NUMBER_RULE = ("must be a number with a decimal point (9.5), or with a decimal comma "
                      "(9,5) in a CSV file separated by semicolons or tabs; no thousands "
                      "separator")

#: The case format's own rule for a number written as text (a JSON string).
PLAIN_NUMBER_RULE = ("must be a plain decimal number such as 4.5: no exponent, digit "
                     "separator, thousands separator, nan or inf")

#: The case format's rule for a JSON number token that is no number (``NaN``,
#: ``Infinity``, ``-Infinity``, as Python's json writes them): it breaks no bound of the
#: field, it is no value at all.
FINITE_NUMBER_RULE = "must be a finite number such as 4.5, not NaN or Infinity"

#: The rule of a plain decimal written with so many digits (over 308 before the decimal
#: point) that it is no finite number: named with the text as written, never as the
#: ``Infinity`` it would become (numbers run together, a pasted column).
TOO_LARGE_RULE = ("must be a number such as 4.5: this one has too many digits to be read "
                  "as a number (numbers run together?)")

#: A row number in a field's or column's name (``stage.metastases[1].site``) as the case
#: form and the registry layout write it, as a regular expression to put between the
#: brackets: 0, or a number in the digits 0 to 9 (never other scripts' digits, which
#: ``int()`` and ``\d`` read) without a sign, spaces or leading zeros. ``[01]`` beside
#: ``[1]`` would be a second name for the same row, one of its values silently lost.
ROW_NUMBER = r"0|[1-9][0-9]{0,5}"
_ROW_NUMBER = re.compile(ROW_NUMBER, re.ASCII)


def row_number(text: str) -> int | None:
    """``text`` (what is between the brackets) as a row number, if written as
    :data:`ROW_NUMBER` says; else ``None`` (to be refused, never read)."""
    return int(text) if _ROW_NUMBER.fullmatch(text) else None


def row_number_rule(rows: int, what: str = "a row number", note: str = "") -> str:
    """How :data:`ROW_NUMBER` is written, in words, for names of up to ``rows`` rows
    (``what``: what the number is called; ``note``: said after the numbers allowed)."""
    return (f"{what} is written in the digits 0 to 9 without a sign, spaces or leading "
            f"zeros (0, 1, 2 … {rows - 1}{note})")


_WITH_COMMA = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$", re.ASCII)
_POINT_ONLY = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)
#: A whole number written with a thousands separator (a point, as a language with a
#: decimal comma writes it; a comma, as English does).
_THOUSANDS = re.compile(r"^([+-]?)([1-9]\d{0,2})([.,])(\d{3})$", re.ASCII)
_SEPARATOR = {".": "point", ",": "comma"}


def ambiguous_separator(text: str, *, decimal_comma: bool) -> str | None:
    """Where a decimal comma is read (``decimal_comma``), the rule a number breaks whose
    point or comma may be a thousands separator (``5.000``, ``1,500``: five or five
    thousand, one and a half or fifteen hundred?), naming how to write each reading;
    ``None`` for any other text."""
    found = _THOUSANDS.match(text.strip()) if decimal_comma else None
    if found is None:
        return None
    sign, whole, mark, group = found.groups()
    fraction = group.rstrip("0") or "0"
    decimal = f"{sign}{whole},{fraction}" if mark == "." else f"{sign}{whole}.{fraction}"
    plain = f" (or {sign}{whole})" if group == "000" else ""
    return (f"is ambiguous where a decimal comma is read: write {decimal}{plain} if the "
            f"{_SEPARATOR[mark]} is a decimal {_SEPARATOR[mark]}, or {sign}{whole}{group} "
            "if it separates thousands")


def parse_number(text: str, *, decimal_comma: bool) -> str | None:
    """``text`` in the case format's notation (``3,5`` gives ``3.5`` when
    ``decimal_comma``), or ``None`` when it is not a plain decimal number or reads two
    ways (:func:`ambiguous_separator`)."""
    value = text.strip()
    if not (_WITH_COMMA if decimal_comma else _POINT_ONLY).match(value):
        return None
    if ambiguous_separator(value, decimal_comma=decimal_comma):
        return None
    return value.replace(",", ".")


def number_text(value: float) -> str:
    """``value`` as the shortest plain decimal that reads back as exactly it (``5.000001``,
    ``0.0000001``, ``1500``, ``5``): no exponent, no rounding, a zero without a sign. The
    one way a number of a case or a cut-off is shown or written back: a rounded one (six
    digits, as ``:g`` writes) could sit on the other side of the cut-off it was compared
    with (5.000001 cm written as "5 cm" beside "larger than 5 cm: present", or filled into
    the case form as 5)."""
    if value == 0:
        return "0"
    text = format(Decimal(repr(float(value))), "f")
    return text.removesuffix(".0")
