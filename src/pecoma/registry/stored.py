"""What the registry stores of an engine assessment: its JSON (without the free label,
which stays with the case) and the headline facts kept as columns."""

from __future__ import annotations

import datetime as dt

from pecoma.engine.jsonbytes import assessment_json
from pecoma.engine.model import Assessment
from pecoma.store.rawjson import RawJSON
from pecoma.store.repository import AssessmentData

__all__ = ["assessment_data"]


def assessment_data(a: Assessment, next_due: dt.date | None, reason: str) -> AssessmentData:
    """The stored form of ``a``, with the next due date of its plan and why it was made."""
    determined = {c.id: c.category for c in a.classifications if c.determined}
    return AssessmentData(
        evaluated_on=a.evaluated_on,
        knowledge_version=a.knowledge_version,
        engine_version=a.engine_version,
        settings_digest=a.settings_digest,
        risk_group=a.risk.group,
        disease_status=a.disease_status,
        record_ids=a.record_ids(),
        next_due=next_due,
        output=RawJSON(assessment_json(a, label=False)),
        reason=reason,
        folpe_category=determined.get("CLS-FOLPE-2005"),
        icdo3_morphology=determined.get("CLS-ICDO3"),
    )
