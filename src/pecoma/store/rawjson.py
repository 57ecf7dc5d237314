"""JSON columns: values already serialised (by orjson) are written as they are.

:func:`json_serializer` is the engines' JSON serialiser: plain data goes through
``json.dumps`` as before; a :class:`RawJSON` is written without being parsed and dumped
again, which spares the import the slowest step of storing a 17 kB assessment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["RawJSON", "json_serializer"]


@dataclass(frozen=True, slots=True)
class RawJSON:
    """JSON text to be stored as it is in a JSON column."""

    text: str


def json_serializer(value: Any) -> str:
    """The text stored for ``value`` in a JSON column."""
    if isinstance(value, RawJSON):
        return value.text
    return json.dumps(value)
