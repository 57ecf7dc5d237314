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
  Its status is the examination's own: one not recorded at a visit done is ``unknown``,
  never completed, and one done after the latest date is completed late (``statusReason``
  says why); the scans' findings and the flags the plan raised at the visit are said on
  it (an equivocal scan, a result not recorded, an examination not recorded).
* The surveillance plan's alerts (what the team must act on now,
  :attr:`pecoma.engine.plan.SurveillancePlan.alerts`) are RequestGroup actions as the
  assessment's alerts are, at their level (:func:`pecoma.engine.plan.alert_level`).
* The follow-up items are CarePlan notes. When no visit can be dated (disease present, no
  start of surveillance, a plan suspended by a scan that found disease) no surveillance
  activity is written: the plan's reasons say why, and the schedule items are notes of what
  applies once surveillance can be dated.
* Missing facts are CarePlan and RequestGroup notes; unknown is never written as absent.

The output is pure: the date is a parameter. Resources are built as JSON data and
validated with ``fhir.resources.R4B`` by :func:`validate_resources`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pecoma.case import Case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.model import Assessment, Item, MissingFact, Provenance
from pecoma.engine.plan import (
    LATE_VISITS_TITLE,
    PlannedImaging,
    SurveillancePlan,
    Visit,
    alert_level,
)
from pecoma.fhir import codes as c
from pecoma.fhir.caveats import (
    DRUG_ITEMS,
    medication_doubts,
    record_drug_caveats,
    record_unknown,
    unknown_words,
)
from pecoma.fhir.searches import MEDICATION_PARTS
from pecoma.fhir.writer import concept
from pecoma.render.schedule import MODALITY_LABELS
from pecoma.render.text import provisional_words, risk_group_text

if TYPE_CHECKING:
    from pecoma.fhir.reader import BundleCase

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
#: A scan's finding in words, where its value's words are not enough: a result not
#: recorded is unknown, never normal.
_FINDING_WORDS = {ScanFinding.not_recorded: "result not recorded"}


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


def _conditional(caveats: Sequence[str]) -> str:
    """" Conditional: … ; confirm before any order." for an item naming a drug that the
    record leaves unsettled (:func:`pecoma.fhir.caveats.drug_caveats`: the words of the
    CDS cards' "Conditional:"), or nothing."""
    return (f" Conditional: {'; and '.join(caveats)}; confirm before any order."
            if caveats else "")


def _action(item: Item, questions: Mapping[str, str], level: str | None = None,
            caveats: Sequence[str] = ()) -> dict[str, Any]:
    """One item as a RequestGroup action; ``level``: how urgent it is where its record
    gives no level (the surveillance plan's alerts,
    :func:`pecoma.engine.plan.alert_level`); ``caveats``: why the drug it names is
    conditional on what the record read does not settle (the lines already given not
    fully known, the allergy list not read), said in its readable fields as the CDS
    cards say it."""
    level = item.level if level is None else level
    tags = [*(["provisional"] if item.conditional_on else []),
            *(["conditional"] if caveats else [])]
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
        "title": f"({'; '.join(tags)}) {item.title}" if tags else item.title,
        "description": (item.text + _waits(item.conditional_on, questions)
                        + _conditional(caveats)),
        "textEquivalent": _item_text(item, questions) + _conditional(caveats),
        "code": [{"text": f"{item.kind}: {item.strength}"}],
        "documentation": related_artifacts(item.provenance),
    }
    if level in _PRIORITY:
        action["priority"] = _PRIORITY[level]
    return action


def _late_action(plan: SurveillancePlan) -> dict[str, Any] | None:
    """The visits missed or overdue as a RequestGroup action, a warning: the alert the
    report's summary lists (:attr:`pecoma.engine.plan.SurveillancePlan.late_words`), with
    the provenance of the first such visit's schedule; ``None`` when there are none."""
    words = plan.late_words
    if words is None:
        return None
    first = plan.late[0]
    return {
        "id": "alert-visits-late",
        "extension": [provenance_extension(first.provenance, first.record)],
        "title": LATE_VISITS_TITLE,
        "description": words,
        "textEquivalent": f"{LATE_VISITS_TITLE}. {words} ({first.provenance.label}).",
        "code": [{"text": "alert: warning"}],
        "documentation": related_artifacts(first.provenance),
        "priority": _PRIORITY["warning"],
    }


def _source_words(item: Item | None, label: str) -> str:
    """Where a visit's schedule or examination comes from, in words: the record's title
    and strength (e.g. "supplementary default, not from the guideline", "project's
    interpretation (I12), …") and its provenance label."""
    if item is None:
        return label
    return f"{item.title} — {item.strength} ({label})"


def _visit_status(visit: Visit) -> tuple[str, str, str | None]:
    """A visit's FHIR status, its state in words and why (the ``statusReason``): missed
    and overdue say so; a visit done after its latest date is done late (S18-S20, I2)."""
    if visit.status != "done":
        reason = visit.status if visit.status in ("missed", "overdue") else None
        return _VISIT_STATUS[visit.status], visit.status, reason
    if visit.done_on is None:
        return "completed", "done", None
    return _done(visit, visit.done_on, visit.timeliness == "late")


def _done(visit: Visit, day: dt.date, late: bool) -> tuple[str, str, str | None]:
    words = f"done {day.isoformat()}"
    if not late:
        return "completed", words, None
    return ("completed", f"{words}, late (after {visit.latest.isoformat()})",
            f"late: done {day.isoformat()}, after the latest date {visit.latest.isoformat()}")


def _exam_status(visit: Visit, planned: PlannedImaging) -> tuple[str, str, str | None]:
    """The FHIR status of one examination of a visit, its state in words and why (the
    ``statusReason``), by the examination itself, not by its visit alone: at a visit done,
    an examination not recorded is not completed (``unknown``: whether it was done is not
    known, and the plan asks to check it or book it), and one done after the visit's
    latest date is completed late."""
    if visit.status != "done":
        return _visit_status(visit)
    if planned.done_on is None:
        done = f" on {visit.done_on.isoformat()}" if visit.done_on is not None else ""
        words = f"not recorded: the visit was done{done} without this examination"
        return "unknown", words, words
    return _done(visit, planned.done_on, planned.done_on > visit.latest)


def _findings(visit: Visit, modality: Modality | None) -> list[str]:
    """What the visit's scans of ``modality`` (all of them with ``None``) found, in words,
    each with its examination and date: an equivocal finding or a result not recorded is
    never read as normal."""
    return [_scan_words(e) for e in visit.scans if modality is None or e.modality is modality]


def _scan_words(e: ImagingEvent) -> str:
    finding = _FINDING_WORDS.get(e.finding, e.finding.value.replace("_", " "))
    return f"{_exam_name(e.modality)} {e.date.isoformat()}: {finding}"


def _other_scans(visit: Visit) -> str:
    """" Other imaging at this visit: …." for the visit's scans of a modality not planned
    at it (an ultrasound, a PET-CT): what they found is read all the same (an equivocal
    one is flagged), though they stand for no planned examination."""
    planned = {p.modality for p in visit.imaging}
    others = [_scan_words(e) for e in visit.scans if e.modality not in planned]
    return f" Other imaging at this visit: {'; '.join(others)}." if others else ""


def _exam_name(modality: Modality) -> str:
    return _IMAGING[modality][1] if modality in _IMAGING else MODALITY_LABELS[modality]


def _flag_words(visit: Visit, questions: Mapping[str, str]) -> str:
    """The visit's flags in words (" Flag: title. text (provenance)."), as the plan, its
    reports and its calendar show them: an equivocal scan that needs a decision now
    (I16), a result not recorded, an examination not recorded."""
    return "".join(f" Flag: {_item_text(f, questions)}" for f in visit.flags)


def _visit_activities(visit: Visit, phase: Item | None, followup: Mapping[str, Item],
                      questions: Mapping[str, str]) -> list[dict[str, Any]]:
    out = []
    imaging = visit.imaging or ()
    schedule = f"Schedule: {_source_words(phase, visit.provenance.label)}."
    flags = _flag_words(visit, questions)
    for planned in imaging:
        exam = followup.get(planned.record)
        waits = tuple(dict.fromkeys(
            (*(phase.conditional_on if phase else ()), *(exam.conditional_on if exam else ()))))
        code = _IMAGING.get(planned.modality, c.IMAGING_OTHER)
        status, state, reason = _exam_status(visit, planned)
        found = _findings(visit, planned.modality)
        detail: dict[str, Any] = {
            "extension": [
                {"url": c.EXT.RECORD_ID, "valueString": visit.record},
                provenance_extension(visit.provenance, visit.record),
                provenance_extension(planned.provenance, planned.record),
            ],
            "kind": "ServiceRequest",
            "code": concept(*code),
            "status": status,
            "scheduledPeriod": {"start": visit.due.isoformat(),
                                "end": visit.latest.isoformat()},
            "description": (
                f"Surveillance visit {visit.index} ({visit.phase}): {code[1]}; due "
                f"{visit.due.isoformat()}, at the latest {visit.latest.isoformat()} "
                f"[{state}]."
                + (f" Finding: {'; '.join(found)}." if found else "") + _other_scans(visit)
                + f" {schedule} Examination: "
                f"{_source_words(exam, planned.provenance.label)}."
                + flags + _waits(waits, questions)
            ),
        }
        if reason is not None:
            detail["statusReason"] = {"text": reason}
        activity: dict[str, Any] = {"detail": detail}
        if found:
            activity["outcomeCodeableConcept"] = [{"text": f} for f in found]
        out.append(activity)
    if not imaging:
        found = _findings(visit, None)
        status, state, reason = _visit_status(visit)
        detail = {
            "extension": [provenance_extension(visit.provenance, visit.record)],
            "kind": "Appointment",
            "code": concept(*c.SURVEILLANCE_VISIT),
            "status": status,
            "scheduledPeriod": {"start": visit.due.isoformat(), "end": visit.latest.isoformat()},
            "description": (f"Surveillance visit {visit.index} ({visit.phase}): due "
                            f"{visit.due.isoformat()}, at the latest "
                            f"{visit.latest.isoformat()} [{state}]."
                            + (f" Finding: {'; '.join(found)}." if found else "")
                            + f" {schedule}" + flags
                            + _waits(phase.conditional_on if phase else (), questions)),
        }
        if reason is not None:
            detail["statusReason"] = {"text": reason}
        activity = {"detail": detail}
        if found:
            activity["outcomeCodeableConcept"] = [{"text": f} for f in found]
        out.append(activity)
    return out


def _reading_notes(reading: BundleCase) -> list[dict[str, str]]:
    """What the record read leaves unknown or asks to check, as the CDS cards list it:
    the parts of the record not read in full and the medication records that leave the
    lines already given not fully known, each named (:func:`pecoma.fhir.caveats.record_unknown`),
    the values found but not read, the Procedures not read as the resection of the
    primary, and how the record was read (its notes)."""
    unknown = record_unknown(reading)
    drugs = unknown.keys() & {*MEDICATION_PARTS, "allergies", *medication_doubts(reading)}
    also = "; advice naming a drug is conditional" if drugs else ""
    out = [_note(f"Not known from the record (unknown, not absent{also}): {w}.")
           for w in unknown_words(unknown)]
    out += [_note(f"Found in the record but not read (treated as unknown): {path}: {why}.")
            for path, why in reading.unreadable.items()]
    out += [_note("Procedure not read as the resection of the primary (check that it did "
                  f"not remove the tumour): {line.removeprefix('Procedure: ')}")
            for line in reading.not_read if line.startswith("Procedure: ")]
    out += [_note(f"How the record was read (to check): {n}") for n in reading.notes]
    return out


def careplan_bundle(
    case: Case,
    assessment: Assessment,
    plan: SurveillancePlan | None,
    *,
    patient_id: str | None = None,
    resource_id: str = "pecoma",
    reading: BundleCase | None = None,
) -> dict[str, Any]:
    """A collection Bundle with the CarePlan and its RequestGroup for ``assessment``.

    ``reading``: the FHIR record's reading, when the case was read from one: what it
    leaves unknown is said as the CDS cards say it (:mod:`pecoma.fhir.caveats`): every
    recommendation naming a drug is conditional on what the record does not settle, and
    the notes name the parts and records not read."""
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
    caveats = record_drug_caveats(reading) if reading is not None else []
    if reading is not None:
        notes += _reading_notes(reading)
    rg_id = f"{resource_id}-recommendations"
    # the questions of the missing facts, said beside every item provisional on one
    questions = {m.id: m.question
                 for m in (*assessment.missing, *(plan.missing if plan is not None else ()))}
    items: Iterable[Item] = (assessment.risk.item, *assessment.recommendations,
                             *assessment.alerts)
    # what the surveillance plan found that the team must act on now (a scan equivocal or
    # with no result recorded, an examination not recorded, no scan history, ...): an
    # alert as the assessment's are, at the level every other output gives it
    plan_alerts = plan.alerts if plan is not None else ()
    # the visits missed or overdue (no scan recorded): to act on now, as the report's
    # summary says (a warning)
    late = _late_action(plan) if plan is not None else None
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
        "action": [*(_action(i, questions, caveats=caveats if i.id in DRUG_ITEMS else ())
                     for i in items),
                   *(_action(i, questions, alert_level(i.id)) for i in plan_alerts),
                   *([late] if late is not None else [])],
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
    if plan is not None:
        # what the scans at the start of surveillance (and during treatment) called for:
        # no visit's, so said here; the visits' own flags are in their activities
        plan_notes += [_note("At the start of surveillance: " + _item_text(f, questions))
                       for f in plan.baseline_flags]
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
    act_now = [f"{a.title} ({alert_level(a.id)})" for a in plan_alerts]
    act_now += [f"{LATE_VISITS_TITLE} (warning)"] if late is not None else []
    if act_now:
        description += (" To act on now (the recommendations and alerts list each): "
                        + "; ".join(act_now) + ".")
    if caveats and any(i.id in DRUG_ITEMS for i in assessment.recommendations):
        description += (" Every recommendation naming a drug is conditional: "
                        f"{'; and '.join(caveats)}; confirm before any order (the notes "
                        "name what the record leaves unknown).")
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
