"""The one exception tree of pecoma.

::

    PecomaError                     anything pecoma raises on purpose
    ├── InputError                  the input breaks a rule; carries FieldIssue items
    │   └── OtherPatientError       a record read for one patient holds another's data
    ├── KnowledgeError              a knowledge data file is malformed or inconsistent
    └── ConfigError                 a settings file or value is malformed

Outside errors (pydantic, TOML, OS) are translated at the edge with ``raise … from exc``
so that callers only ever handle this tree. Messages name the field, the value given and
what is allowed, and never carry a patient identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ConfigError", "FieldIssue", "InputError", "KnowledgeError", "OtherPatientError",
           "PecomaError", "hide_password"]


class PecomaError(Exception):
    """Base class of every error pecoma raises on purpose."""


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One rejected fact: where it is, what was given, and what is allowed."""

    path: str
    value: str
    rule: str

    def __str__(self) -> str:
        return f"'{self.path}' {self.rule} (got {self.value})"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "value": self.value, "rule": self.rule}


def show_value(value: Any, limit: int = 60) -> str:
    """A short, printable rendering of a rejected value."""
    try:
        text = repr(value)
    except ValueError:  # e.g. an integer with more digits than Python will print
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: A URL's scheme (if any) and everything up to the last '@' before a space: its user
#: information, taken widely (a password may hold an unescaped '@', '/' or quote), so
#: that more is hidden rather than less.
_USERINFO = re.compile(r"(?i)((?:\b[a-z][a-z0-9+.-]*)?://)(\S*)@")


def _masked(m: re.Match[str]) -> str:
    user, colon, _password = m[2].partition(":")
    # a user name standing alone may itself be the credential (a token)
    return f"{m[1]}{user}:***@" if colon else f"{m[1]}***@"


def hide_password(text: str) -> str:
    """``text`` (a message, a URL, a list of them) with the user information of every URL
    in it hidden: its password written ``***`` (``postgresql://u:***@host/db``), or a
    user name standing alone written ``***``. The one rule for writing a configured URL
    out (the database URL, an allow-list entry), whether or not it parses."""
    return _USERINFO.sub(_masked, text)


class InputError(PecomaError):
    """The input was rejected; ``issues`` lists every broken rule, one per field."""

    def __init__(self, issues: list[FieldIssue], source: str = "case") -> None:
        self.issues = issues
        self.source = source
        lines = "\n".join(f"  - {issue}" for issue in issues)
        count = len(issues)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The {source} was rejected ({count} {noun}):\n{lines}")


class OtherPatientError(InputError):
    """A record read for one patient holds another patient's data (a Patient of another
    id, a resource referring to another patient): ``foreign`` lists those issues,
    ``issues`` every broken rule. Nothing of the record may be used for the patient."""

    def __init__(self, issues: list[FieldIssue], foreign: list[FieldIssue],
                 source: str = "case") -> None:
        super().__init__(issues, source)
        self.foreign = foreign


class KnowledgeError(PecomaError):
    """A knowledge data file is malformed or inconsistent with the engine."""


class ConfigError(PecomaError):
    """A settings file or value is malformed."""
