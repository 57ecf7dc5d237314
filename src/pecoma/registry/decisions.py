"""The tumour board's decision about each recommendation: the rules and the coded reasons.

For each recommendation of a stored assessment the team records **accepted**,
**declined** or **deferred**, with a reason from :data:`REASONS` and free text. A decline
needs a reason; the reason ``other`` needs the text that says what it is. Who decided is
the signed-in user, when is the server's clock. Stored by
:func:`pecoma.store.decisions.record_decision` (append-only, with the audit entry, in
one transaction).
"""

from __future__ import annotations

from typing import Final

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.decisions import DecisionData
from pecoma.store.models import DECISIONS, RECORD_ID_MAX

__all__ = ["DECISION_LABELS", "REASONS", "TEXT_MAX", "check_decision", "reason_label"]

TEXT_MAX: Final = 1000

DECISION_LABELS: Final[dict[str, str]] = {
    "accepted": "Accepted",
    "declined": "Declined",
    "deferred": "Deferred",
}

#: The coded reasons (code, label): for a decline, a deferral, or (rarely) an acceptance
#: with a comment.
REASONS: Final[tuple[tuple[str, str], ...]] = (
    ("patient-preference", "Patient's preference"),
    ("comorbidity", "Comorbidity or performance status"),
    ("contraindication", "Contraindication or expected toxicity"),
    ("not-available", "Treatment or trial not available"),
    ("clinical-trial", "Treated within a clinical trial"),
    ("more-information", "More information needed first (missing facts, review)"),
    ("team-judgement", "Team's judgement on the evidence for this patient"),
    ("other", "Other (say what in the text)"),
)
_CODES = dict(REASONS)


def reason_label(code: str | None) -> str:
    """The label of a reason code (a CDS override code is shown as it is)."""
    if code is None:
        return "no reason given"
    return _CODES.get(code, code)


def check_decision(
    record_id: object, decision: object, reason_code: object, reason_text: object
) -> DecisionData:
    """The checked decision, or :class:`InputError` naming every bad field."""
    issues: list[FieldIssue] = []
    rec = record_id.strip() if isinstance(record_id, str) else ""
    if not rec or len(rec) > RECORD_ID_MAX:
        issues.append(
            FieldIssue(
                "record_id",
                show_value(record_id),
                "must be the id of a recommendation of this assessment",
            )
        )
    if decision not in DECISIONS:
        issues.append(
            FieldIssue("decision", show_value(decision), "must be one of " + ", ".join(DECISIONS))
        )
    code = reason_code.strip() if isinstance(reason_code, str) else ""
    if code and code not in _CODES:
        issues.append(
            FieldIssue(
                "reason_code", show_value(reason_code), "must be one of " + ", ".join(_CODES)
            )
        )
    text = reason_text.strip() if isinstance(reason_text, str) else ""
    if len(text) > TEXT_MAX:
        issues.append(
            FieldIssue(
                "reason_text", f"{len(text)} characters", f"must be at most {TEXT_MAX} characters"
            )
        )
    if decision == "declined" and not code:
        issues.append(
            FieldIssue(
                "reason_code",
                "(missing)",
                "is required when the recommendation is declined: say why "
                "(" + ", ".join(_CODES) + ")",
            )
        )
    if code == "other" and not text:
        issues.append(
            FieldIssue(
                "reason_text", "(missing)", "is required when the reason is 'other': say what it is"
            )
        )
    if issues:
        raise InputError(issues, "decision")
    return DecisionData(rec, str(decision), code or None, text or None)
