"""What the registry accepts as a registry id and an actor, and the fingerprints of a
case (equal cases, equal digests)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.models import ACTOR_MAX, REGISTRY_ID_MAX
from pecoma.store.rawjson import json_serializer

_REGISTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REGISTRY_ID_RULE = (
    f"must be a pseudonymous registry code: 1-{REGISTRY_ID_MAX} letters, digits, '-', '_' "
    "or '.', starting with a letter or digit and containing at least one digit (never a "
    "name)"
)


def check_registry_id(value: object, path: str = "registry_id") -> str:
    """A valid pseudonymous registry id, or :class:`InputError` naming ``path``.

    A name is refused by construction: spaces are not allowed and a digit is required.
    """
    text = value.strip() if isinstance(value, str) else value
    if (
        not isinstance(text, str)
        or not 1 <= len(text) <= REGISTRY_ID_MAX
        or not _REGISTRY_ID.match(text)
        or not any(c.isdigit() for c in text)
    ):
        raise InputError(
            [FieldIssue(path, show_value(value), REGISTRY_ID_RULE)], "registry id"
        )
    return text


def case_variant_rule(others: list[str], *, stored: bool) -> str:
    """What is wrong with a new registry id that differs from ``others`` only in letter
    case (``stored``: they are stored patients')."""
    named = " and ".join(repr(o) for o in others)
    return (f"differs only in letter case from the {'stored ' if stored else ''}registry id "
            f"{named}: if it is the same patient, spell it the same way; if not, give "
            "another id")


def check_actor(value: str) -> str:
    """Who made a change, as the audit log keeps it: 1-80 printable characters."""
    text = value.strip()
    if not 1 <= len(text) <= ACTOR_MAX or any(
        ord(c) < 32 or 127 <= ord(c) < 160 or 0xD800 <= ord(c) <= 0xDFFF for c in text
    ):
        raise InputError(
            [FieldIssue("actor", show_value(value),
                        f"must be 1-{ACTOR_MAX} characters, none of them a control "
                        "character")],
            "actor",
        )
    return text


def case_digest(case_data: dict[str, Any]) -> str:
    """The fingerprint of a case: equal cases (after validation) have equal digests."""
    blob = json.dumps(case_data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def case_text_digest(case_data: dict[str, Any]) -> str:
    """The fingerprint of a case's data exactly as a case version stores it (MD5 of the
    text of its JSON column, as PostgreSQL's ``md5()`` gives it; not a security
    measure): equal only for the same data with the same key order."""
    return _text_digest(json_serializer(case_data))


def _text_digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

