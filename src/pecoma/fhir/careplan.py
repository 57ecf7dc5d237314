"""Assessment -> FHIR R4: a CarePlan with the dated surveillance and a RequestGroup with
the recommendations and alerts, in one collection Bundle.

* Every recommendation and alert is a ``RequestGroup.action`` with its text, rationale,
  the guideline statements and references (``documentation`` as RelatedArtifact) and the
  project's provenance extension; the CarePlan's first activity refers to the RequestGroup.
* Every surveillance visit of :func:`pecoma.engine.schedule.plan_surveillance` becomes one
  CarePlan activity per examination to order, with ``scheduledPeriod`` from the due date
  to the latest acceptable date (interpretation I2) and the provenance of the visit.
* Missing facts are CarePlan and RequestGroup notes; unknown is never written as absent.

The output is pure: the date is a parameter. Resources are built as JSON data and
validated with ``fhir.resources.R4B`` by :func:`validate_resources`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pecoma.case import Case
from pecoma.engine.imaging import Modality
from pecoma.engine.model import Assessment, Item, MissingFact, Provenance
from pecoma.engine.plan import SurveillancePlan, Visit
from pecoma.fhir import codes as c
from pecoma.fhir.writer import concept
from pecoma.render.text import risk_group_text

__all__ = [
    "CPG_RATIONALE",
    "careplan_bundle",
    "provenance_extension",
    "related_artifacts",
    "validate_resources",
]

CPG_RATIONALE = "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale"
GUIDELINE_TITLE = "PEComa treatment guideline (summary)"

_IMAGING = {
    Modality.chest_ct: c.IMAGING_CHEST_CT,
    Modality.mri_primary: c.IMAGING_MRI_PRIMARY,
}
_VISIT_STATUS = {
    "done": "completed",
    "missed": "cancelled",
    "overdue": "not-started",
    "due": "not-started",
    "upcoming": "not-started",
    "cancelled": "cancelled",
}
_PRIORITY = {"critical": "asap", "warning": "urgent"}


def provenance_extension(p: Provenance, record_id: str | None = None) -> dict[str, Any]:
    """The project's complex provenance extension (kind, statements, refs, sources)."""
    parts: list[dict[str, Any]] = [{"url": "kind", "valueCode": p.kind}]
    if record_id is not None:
        parts.append({"url": "record", "valueString": record_id})
    parts += [{"url": "statement", "valueString": s} for s in p.statements]
    parts += [{"url": "guidelineRef", "valueInteger": r} for r in p.refs]
    parts += [{"url": "source", "valueString": s.citation} for s in p.sources]
    parts += [{"url": "interpretation", "valueString": i} for i in p.interpretations]
    return {"url": c.EXT.PROVENANCE, "extension": parts}


def related_artifacts(p: Provenance, statement_text: dict[str, str] | None = None) -> list[
    dict[str, Any]
]:
    """RelatedArtifact entries: the guideline statements and refs, or the published sources."""
    out: list[dict[str, Any]] = []
    texts = statement_text or {}
    for s in p.statements:
        entry: dict[str, Any] = {"type": "justification", "label": s,
                                 "display": f"{GUIDELINE_TITLE}, statement {s}"}
        if s in texts:
            entry["citation"] = texts[s]
        out.append(entry)
    for r in p.refs:
        out.append({"type": "citation", "label": f"[{r}]",
                    "display": f"guideline ref [{r}]",
                    "citation": f"{GUIDELINE_TITLE}, reference [{r}] (the source gives "
                                "no reference list)"})
    for src in p.sources:
        out.append({"type": "citation", "label": src.short, "display": src.short,
                    "citation": src.citation})
    return out


def _note(text: str) -> dict[str, str]:
    return {"text": text}


def _missing_note(m: MissingFact) -> dict[str, str]:
    return _note(f"Missing fact `{m.field}` ({m.id}): {m.question} Would change: "
                 f"{m.would_change} Meanwhile: {m.meanwhile}")


def _action(item: Item) -> dict[str, Any]:
    extensions = [
        {"url": c.EXT.RECORD_ID, "valueString": item.id},
        provenance_extension(item.provenance, item.id),
        {"url": CPG_RATIONALE, "valueMarkdown": item.rationale},
    ]
    extensions += [{"url": c.EXT.MISSING_FACT, "valueString": m} for m in item.conditional_on]
    action: dict[str, Any] = {
        "id": item.id,
        "extension": extensions,
        "title": item.title,
        "description": item.text,
        "textEquivalent": f"{item.title}. {item.text} ({item.provenance.label})",
        "code": [{"text": f"{item.kind}: {item.strength}"}],
        "documentation": related_artifacts(item.provenance),
    }
    if item.level in _PRIORITY:
        action["priority"] = _PRIORITY[item.level]
    return action


def _visit_activities(visit: Visit) -> list[dict[str, Any]]:
    out = []
    imaging = visit.imaging or ()
    for planned in imaging:
        code = _IMAGING.get(planned.modality, c.IMAGING_OTHER)
        detail: dict[str, Any] = {
            "extension": [
                {"url": c.EXT.RECORD_ID, "valueString": visit.record},
                provenance_extension(visit.provenance, visit.record),
                provenance_extension(planned.provenance, planned.record),
            ],
            "kind": "ServiceRequest",
            "code": concept(*code),
            "status": _VISIT_STATUS[visit.status],
            "scheduledPeriod": {"start": visit.due.isoformat(),
                                "end": visit.latest.isoformat()},
            "description": (
                f"Surveillance visit {visit.index} ({visit.phase}): {code[1]}; due "
                f"{visit.due.isoformat()}, at the latest {visit.latest.isoformat()} "
                f"[{visit.status}]"
            ),
        }
        if visit.status in ("missed", "overdue"):
            detail["statusReason"] = {"text": visit.status}
        out.append({"detail": detail})
    if not imaging:
        out.append({"detail": {
            "extension": [provenance_extension(visit.provenance, visit.record)],
            "kind": "Appointment",
            "code": concept(*c.SURVEILLANCE_VISIT),
            "status": _VISIT_STATUS[visit.status],
            "scheduledPeriod": {"start": visit.due.isoformat(), "end": visit.latest.isoformat()},
            "description": f"Surveillance visit {visit.index} ({visit.phase})",
        }})
    return out


def _rule_activity(item: Item) -> dict[str, Any]:
    return {"detail": {
        "extension": [{"url": c.EXT.RECORD_ID, "valueString": item.id},
                      provenance_extension(item.provenance, item.id)],
        "kind": "ServiceRequest",
        "code": concept(*c.SURVEILLANCE_VISIT),
        "status": "not-started",
        "description": f"{item.title}. {item.text} ({item.provenance.label})",
    }}


def careplan_bundle(
    case: Case,
    assessment: Assessment,
    plan: SurveillancePlan | None,
    *,
    patient_id: str | None = None,
    resource_id: str = "pecoma",
) -> dict[str, Any]:
    """A collection Bundle with the CarePlan and its RequestGroup for ``assessment``."""
    day = assessment.evaluated_on.isoformat()
    version = assessment.knowledge_version
    canonical = f"{c.PLAN_DEFINITION_URL}|{version}"
    subject: dict[str, str] = (
        {"reference": f"Patient/{patient_id}"} if patient_id
        else {"display": case.label or "the patient of this case"}
    )
    version_ext = {"url": c.EXT.KNOWLEDGE_VERSION, "valueString": version}
    notes = [_note(assessment.intended_use)]
    notes += [_missing_note(m) for m in assessment.missing]
    rg_id = f"{resource_id}-recommendations"
    items: Iterable[Item] = (assessment.risk.item, *assessment.recommendations,
                             *assessment.alerts)
    request_group: dict[str, Any] = {
        "resourceType": "RequestGroup",
        "id": rg_id,
        "extension": [version_ext],
        "instantiatesCanonical": [canonical],
        "status": "draft",
        "intent": "proposal",
        "subject": subject,
        "authoredOn": day,
        "note": notes,
        "action": [_action(i) for i in items],
    }
    activities: list[dict[str, Any]] = [{"reference": {"reference": f"RequestGroup/{rg_id}",
                                                       "display": "Recommendations and alerts"}}]
    plan_notes: list[dict[str, str]] = []
    if plan is not None and plan.visits:
        for visit in plan.visits:
            activities += _visit_activities(visit)
    else:
        activities += [_rule_activity(i) for i in assessment.followup]
    if plan is not None:
        for reason in plan.reasons:
            plan_notes.append(_note(f"{reason.title}. {reason.text} ({reason.provenance.label})"))
        for m in plan.missing:
            plan_notes.append(_note(f"Missing: {m.question} Would change: {m.would_change} "
                                    f"Meanwhile: {m.meanwhile}"))
    # The plan's schedule when there is one: after a relapse it is high risk from the date
    # free of disease again (I8), whatever the primary's risk group.
    schedule = plan.surveillance_group if plan is not None else \
        assessment.risk.surveillance_group
    description = (
        f"Risk group: {risk_group_text(assessment.risk)}; surveillance follows the "
        f"{schedule}-risk schedule."
    )
    if plan is not None:
        description += f" Surveillance plan: {plan.status.replace('_', ' ')}."
    careplan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": resource_id,
        "extension": [version_ext],
        "instantiatesCanonical": [canonical],
        "status": "draft",
        "intent": "proposal",
        "title": f"PEComa care plan (pecoma knowledge {version})",
        "description": description,
        "subject": subject,
        "created": day,
        "activity": activities,
        "note": notes + plan_notes,
    }
    # No end: surveillance is lifelong (S26, I4); the visits are listed up to the horizon.
    careplan["period"] = {"start": day}
    if plan is not None and plan.horizon_end is not None and plan.visits:
        careplan["note"].append(_note(
            f"Visits are listed up to {plan.horizon_end.isoformat()} (the calendar horizon); "
            "surveillance continues yearly after that, without end (interpretation I4)."))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": f"{day}T00:00:00Z",
        "entry": [
            {"fullUrl": f"{c.PECOMA_BASE}/CarePlan/{resource_id}", "resource": careplan},
            {"fullUrl": f"{c.PECOMA_BASE}/RequestGroup/{rg_id}", "resource": request_group},
        ],
    }


def validate_resources(bundle: dict[str, Any]) -> None:
    """Validate a bundle and every resource in it with ``fhir.resources.R4B``.

    Raises ``pydantic.ValidationError`` when anything is not valid FHIR R4B.
    """
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle.get("entry", []):
        res = entry["resource"]
        get_fhir_model_class(res["resourceType"]).model_validate(res)
