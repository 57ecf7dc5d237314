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
"""

from __future__ import annotations

import re

__all__ = ["IMPORT_NUMBER_RULE", "NUMBER_RULE", "parse_number"]

NUMBER_RULE = "must be a number, with a decimal point or a decimal comma (3.5 or 3,5)"
IMPORT_NUMBER_RULE = ("must be a number with a decimal point (9.5), or with a decimal comma "
                      "(9,5) in a CSV file separated by semicolons or tabs; no thousands "
                      "separator")

_WITH_COMMA = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$", re.ASCII)
_POINT_ONLY = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$", re.ASCII)


def parse_number(text: str, *, decimal_comma: bool) -> str | None:
    """``text`` in the case format's notation (``3,5`` gives ``3.5`` when
    ``decimal_comma``), or ``None`` when it is not a plain decimal number."""
    value = text.strip()
    if not (_WITH_COMMA if decimal_comma else _POINT_ONLY).match(value):
        return None
    return value.replace(",", ".")
