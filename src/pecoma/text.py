"""The one rule for text that comes in (a form field, a JSON string, a command-line
argument, a cell of an imported file): any Unicode character XML 1.0 can hold.

Refused are the control characters but tab, line feed and carriage return (U+0000–U+0008,
U+000B, U+000C, U+000E–U+001F), half a surrogate pair (U+D800–U+DFFF alone: no UTF-8 text
holds one) and the non-characters U+FFFE and U+FFFF. PostgreSQL cannot store a NUL; the
tumour-board PDF, the iCalendar and FHIR exports and the HTML pages cannot carry the
others; and a text stored on one database must be stored on the other too. So such text
is refused where it is read, as the input it is, never passed on to fail as a database
outage or a broken document later.

A field may have a stricter rule of its own (a case label, a registry id).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["TEXT_RULE", "escaped", "odd_text_at", "shown", "text_is_odd"]

TEXT_RULE = ("must be plain text: no control character but tab, line feed and carriage "
             "return, no unpaired surrogate, no U+FFFE or U+FFFF")

_ODD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text_is_odd(text: str) -> bool:
    """Whether ``text`` holds a character :data:`TEXT_RULE` refuses."""
    return _ODD.search(text) is not None


def escaped(text: str) -> str:
    """``text`` with each refused character written as its escape (``\\x00``,
    ``\\ud800``): it can be read, and it cannot break the message's page or file."""
    return _ODD.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF
                    else f"\\x{ord(m.group()):02x}", text)


def shown(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, written as :func:`escaped`."""
    quoted = "'" + escaped(text).replace("'", "\\'") + "'"
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def odd_text_at(value: Any, path: str = "") -> tuple[str, str] | None:
    """The path (``a.b[0].c``; ``""`` for ``value`` itself) and the text of the first
    string or object key in nested data that holds a refused character, or ``None``."""
    if isinstance(value, str):
        return (path, value) if text_is_odd(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and text_is_odd(key):
                return inner, key
            found = odd_text_at(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = odd_text_at(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None
