"""The case form's problems in plain words: a field path as the control's label
(``Metastasis 2: Site``), a rule with its quoted paths and values in words, and where a
control stands in the form (the error summary follows the form's order).
"""

from __future__ import annotations

import re

from pecoma.errors import FieldIssue
from pecoma.web.form_controls import words
from pecoma.web.form_layout import CONTROLS, FORM, ROW_NAME, ROWSPECS, control_of

__all__ = ["issue_message", "label_for", "plain", "position"]


def label_for(path: str) -> str | None:
    """The form's label of a control name or case path (``Metastasis 2: Site`` for a
    row), or ``None`` when the form has no control for it."""
    if path in CONTROLS:
        return CONTROLS[path].label
    m = ROW_NAME.match(path)
    if m and m["prefix"] in ROWSPECS:
        spec = ROWSPECS[m["prefix"]]
        control = control_of(path)
        if control is not None:
            return f"{spec.noun} {int(m['row']) + 1}: {control.label}"
    return None


_ROW_FIELDS: dict[str, str] = {
    c.name: c.label for spec in ROWSPECS.values() for c in spec.controls
}
_QUOTED = re.compile(r"'([^'\s]+)'")
# A value with underscores between letters or digits ('locally_advanced_unresectable'),
# not a lone character quoted in a rule ('_').
_CODE = re.compile(r"[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+")


def plain(text: str) -> str:
    """A rule in words: a quoted field path becomes the control's label, a quoted value
    with underscores its words (``'locally_advanced_unresectable'``)."""

    def word(m: re.Match[str]) -> str:
        token = m[1]
        label = label_for(token) or _ROW_FIELDS.get(token)
        if label is not None:
            return f"“{label}”"
        if _CODE.fullmatch(token):
            return f"'{words(token)}'"
        return m[0]

    return _QUOTED.sub(word, text)


def issue_message(issue: FieldIssue) -> str:
    """An issue in words, for the line next to its control."""
    rule = issue.rule
    if rule == "is required":
        return "Required: choose or enter a value."
    rule = plain(rule)
    text = rule[0].upper() + rule[1:]
    if issue.value in ("(missing)", "(empty)") or issue.value.startswith(("{", "[")):
        return text + "."
    return f"{text} — entered: {issue.value}."


def position(name: str) -> tuple[int, int, int]:
    """Where a control stands in the form (the error summary follows the form's order)."""
    m = ROW_NAME.match(name)
    for gi, group in enumerate(FORM):
        for ci, c in enumerate(group.controls):
            if c.name == name:
                return gi, -1, ci
        if group.rows is not None and m and m["prefix"] == group.rows.prefix:
            for ci, c in enumerate(group.rows.controls):
                if c.name == m["field"]:
                    return gi, int(m["row"]), ci
    return len(FORM), 0, 0
