"""Assessment -> FHIR R4: a CarePlan with the dated surveillance and a RequestGroup with
the recommendations and alerts, in one collection Bundle.

* Every recommendation and alert is a ``RequestGroup.action`` with its text, rationale,
  the guideline statements and references (``documentation`` as RelatedArtifact) and the
  project's provenance extension; the CarePlan's first activity refers to the RequestGroup.
  An item that waits on a missing fact says so in its readable fields ("(provisional)"
  before its title, "Provisional until supplied:" with each missing fact and its question
  in its description and text equivalent), as every report does.
* Every surveillance visit of :func:`pecoma.engine.schedule.plan_surveillance` becomes one
  CarePlan activity per examination to order, with ``scheduledPeriod`` from the due date
  to the latest acceptable date (interpretation I2) and the provenance of the visit, its
  description naming the source of its schedule and of its examination in words (the
  low-risk schedule supplementary, I3; its imaging the project's interpretation, I12).
* The follow-up items are CarePlan notes. When no visit can be dated (disease present, no
  start of surveillance, a plan suspended by a scan that found disease) no surveillance
  activity is written: the plan's reasons say why, and the schedule items are notes of what
  applies once surveillance can be dated.
* Missing facts are CarePlan and RequestGroup notes; unknown is never written as absent.

The output is pure: the date is a parameter. Resources are built as JSON data and
validated with ``fhir.resources.R4B`` by :func:`validate_resources`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pecoma.case import Case
from pecoma.engine.imaging import Modality
from pecoma.engine.model import Assessment, Item, MissingFact, Provenance
from pecoma.engine.plan import SurveillancePlan, Visit
from pecoma.fhir import codes as c
from pecoma.fhir.writer import concept
from pecoma.render.text import provisional_words, risk_group_text

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


def _waits(missing: Sequence[str], questions: Mapping[str, str]) -> str:
    """" Provisional until supplied: MISS-… (its question)." when something waits on the
    missing facts ``missing``, or nothing."""
    note = provisional_words(missing, questions)
    return f" {note}." if note else ""


def _item_text(item: Item, questions: Mapping[str, str]) -> str:
    """An item as one readable line: title, text, provenance, what it waits on."""
    return (f"{item.title}. {item.text} ({item.provenance.label})."
            + _waits(item.conditional_on, questions))


def _action(item: Item, questions: Mapping[str, str]) -> dict[str, Any]:
    extensions = [
        {"url": c.EXT.RECORD_ID, "valueString": item.id},
        provenance_extension(item.provenance, item.id),
        {"url": CPG_RATIONALE, "valueMarkdown": item.rationale},
    ]
    extensions += [{"url": c.EXT.MISSING_FACT, "valueString": m} for m in item.conditional_on]
    # an EHR shows the readable fields, not the extension: provisional is said in them
    action: dict[str, Any] = {
        "id": item.id,
        "extension": extensions,
        "title": f"(provisional) {item.title}" if item.conditional_on else item.title,
        "description": item.text + _waits(item.conditional_on, questions),
        "textEquivalent": _item_text(item, questions),
        "code": [{"text": f"{item.kind}: {item.strength}"}],
        "documentation": related_artifacts(item.provenance),
    }
    if item.level in _PRIORITY:
        action["priority"] = _PRIORITY[item.level]
    return action


def _source_words(item: Item | None, label: str) -> str:
    """Where a visit's schedule or examination comes from, in words: the record's title
    and strength (e.g. "supplementary default, not from the guideline", "project's
    interpretation (I12), …") and its provenance label."""
    if item is None:
        return label
    return f"{item.title} — {item.strength} ({label})"


def _visit_activities(visit: Visit, phase: Item | None, followup: Mapping[str, Item],
                      questions: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    imaging = visit.imaging or ()
    schedule = f"Schedule: {_source_words(phase, visit.provenance.label)}."
    for planned in imaging:
        exam = followup.get(planned.record)
        waits = tuple(dict.fromkeys(
            (*(phase.conditional_on if phase else ()), *(exam.conditional_on if exam else ()))))
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
                f"[{visit.status}]. {schedule} Examination: "
                f"{_source_words(exam, planned.provenance.label)}."
                + _waits(waits, questions)
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
            "description": (f"Surveillance visit {visit.index} ({visit.phase}): due "
                            f"{visit.due.isoformat()}, at the latest "
                            f"{visit.latest.isoformat()} [{visit.status}]. {schedule}"
                            + _waits(phase.conditional_on if phase else (), questions)),
        }})
    return out


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
    # the questions of the missing facts, said beside every item provisional on one
    questions = {m.id: m.question
                 for m in (*assessment.missing, *(plan.missing if plan is not None else ()))}
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
        "action": [_action(i, questions) for i in items],
    }
    activities: list[dict[str, Any]] = [{"reference": {"reference": f"RequestGroup/{rg_id}",
                                                       "display": "Recommendations and alerts"}}]
    plan_notes: list[dict[str, str]] = []
    followup = {f.id: f for f in assessment.followup}
    reasons = plan.reasons if plan is not None else ()
    # A visit still to be done is what surveillance can be dated by: none while disease
    # is present, while the start of surveillance is not known, or once a scan found
    # disease (the plan suspended). Then no surveillance activity is proposed.
    dated = plan is not None and plan.next_visit is not None
    if plan is not None:
        phases = {p.id: p.item for p in plan.phases}
        for visit in plan.visits:  # a suspended plan's: the visits done, as history
            activities += _visit_activities(visit, phases.get(visit.phase), followup,
                                            questions)
    plan_notes += [_note(_item_text(r, questions)) for r in reasons]
    # The follow-up items, each in words (its source and what it waits on): the schedule
    # the visits follow, or, with no visit dated, what applies once one can be.
    shown = {r.id for r in reasons}
    ahead = "" if dated else "Once surveillance can be dated (no visit is dated now): "
    plan_notes += [_note(ahead + _item_text(f, questions))
                   for f in assessment.followup if f.id not in shown]
    if plan is not None:
        for m in plan.missing:
            plan_notes.append(_note(f"Missing: {m.question} Would change: {m.would_change} "
                                    f"Meanwhile: {m.meanwhile}"))
    # The plan's schedule when there is one: after a relapse it is high risk from the date
    # free of disease again (I8), whatever the primary's risk group.
    schedule = plan.surveillance_group if plan is not None else \
        assessment.risk.surveillance_group
    risk = f"Risk group: {risk_group_text(assessment.risk)}; "
    status = plan.status.replace("_", " ") if plan is not None else None
    if dated:
        description = (f"{risk}surveillance follows the {schedule}-risk schedule. "
                       f"Surveillance plan: {status}.")
    else:
        why = f" (surveillance plan: {status}; the notes say why)" if status else ""
        description = (f"{risk}no surveillance visit is dated now{why}. Once surveillance "
                       f"can be dated, it follows the {schedule}-risk schedule.")
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
