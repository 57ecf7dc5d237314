"""A stored assessment and the board's decisions: the stored assessment's full report with
its recommendations and the decisions taken on each, its PDF (with "Decision of the
board"), and recording a decision (clinician).

A stored assessment's report is drawn again from the stored case version at the stored
evaluation date (with the scans recorded up to that date); the recommendations decided
upon are those the assessment stored, and the page says so when the knowledge, engine or
settings have changed since.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from pecoma.case import Case, parse_case
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store import StoreError
from pecoma.web.form_input import fields_kept, read_form, repeated_fields
from pecoma.web.form_messages import issue_message
from pecoma.web.pages import assess_and_plan, render_case_form, render_report
from pecoma.web.registry_common import _actor, _error, _unavailable, can_write
from pecoma.web.store_access import registry_of

if TYPE_CHECKING:
    from pecoma.engine.model import Assessment
    from pecoma.engine.plan import SurveillancePlan
    from pecoma.store.decisions import DecisionView, StoredReport


def _no_patient(request: Request) -> Response:
    return _error(
        request,
        404,
        "No such assessment",
        "There is no stored assessment with this number for this patient.",
    )


def _redraw(
    request: Request, registry_id: str, assessment_id: int | None
) -> tuple[StoredReport, list[DecisionView], Case, Assessment, SurveillancePlan] | Response:
    """The stored assessment, the patient's decisions, and the case, assessment and plan
    drawn again from the stored case version at the stored evaluation date (with the scans
    recorded up to that date); or the page saying why not."""
    from pecoma.registry.plan import plan_for
    from pecoma.store.decisions import patient_decisions, stored_report

    repo = registry_of(request.app.state)
    try:
        stored = (
            stored_report(repo, registry_id, assessment_id) if assessment_id is not None else None
        )
        state = repo.state(registry_id) if stored is not None else None
        decisions = patient_decisions(repo, registry_id) if stored is not None else []
    except StoreError as exc:
        return _unavailable(request, exc)
    if stored is None or state is None:
        return _no_patient(request)
    settings = request.app.state.settings
    case = parse_case(stored.case, source="stored case")
    day = stored.evaluated_on
    scans = tuple(sc for sc in state.scans if sc.performed_on <= day)
    a, _ = assess_and_plan(case, day, None, settings)
    plan = plan_for(case, a, day, scans, settings)
    return stored, decisions, case, a, plan


#: The decision form's fields, as their labels say them.
DECISION_FIELD_LABELS = {
    "decision": "Decision",
    "reason_code": "Reason",
    "reason_text": "In the team's words",
}
_MISSING = ("(missing)", "(empty)", "''", "None")


def decision_message(issue: FieldIssue) -> str:
    """What refused a decision, in the form's words (the labels of its choices, never a
    field name or a code)."""
    from pecoma.registry.decisions import DECISION_LABELS

    missing = issue.value in _MISSING
    choices = ", ".join(DECISION_LABELS.values())
    if issue.path == "decision":
        return (f"Required: choose one of {choices}." if missing
                else f"Must be one of {choices} — entered: {issue.value}.")
    if issue.path == "reason_code" and issue.rule.startswith("is required"):
        return "Required to decline: choose the reason."
    if issue.path == "reason_code":
        return f"Must be one of the reasons listed — entered: {issue.value}."
    if issue.path == "reason_text" and issue.rule.startswith("is required"):
        return "Required when the reason is “Other”: say in the team's words what it is."
    if issue.path == "supersedes" and issue.rule.startswith("must be the decision currently"):
        return ("Another decision about this recommendation was recorded meanwhile (shown "
                "here now): read it and decide again.")
    if issue.path == "record_id":
        return (f"Is not a recommendation of this assessment (entered: {issue.value}): "
                "reload the page and decide again.")
    if issue.path == "supersedes":
        return ("Must be the number of the decision shown (entered: "
                f"{issue.value}): reload the page and decide again.")
    return issue_message(issue)


def _refusal(
    issues: list[FieldIssue], record_id: str, recs: list[dict[str, Any]]
) -> dict[str, Any]:
    """A refused decision for the page: its messages by field, placed on the form of the
    recommendation it was about (named by its title), and the error summary at the top
    linking to each field."""
    rec = next((r for r in recs if r["id"] == record_id), None)
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    items: list[tuple[str | None, str, str]] = []
    for i in issues:
        text = decision_message(i)
        label = DECISION_FIELD_LABELS.get(i.path)
        if rec is not None and label is not None:
            fields.setdefault(i.path, []).append(text)
            items.append((f"#{_field_id(i.path, rec['id'])}", label, text))
        else:
            general.append(text)
            items.append((f"#decision-{rec['id']}" if rec else None,
                          label or (rec["title"] if rec else "The decision"), text))
    about = f" about “{rec['title']}”" if rec else ""
    count = f"{len(items)} problem" + ("s" if len(items) != 1 else "")
    return {
        "record_id": rec["id"] if rec else None,
        "fields": fields,
        "general": general if rec else [],
        "summary": {
            "heading": f"The decision{about} was not recorded: {count}",
            "items": items,
            "note": "",
        },
    }


def _field_id(field: str, rec_id: str) -> str:
    """The id of a decision form's control (the first choice of the decision's group)."""
    return {
        "decision": f"decision-value-{rec_id}-accepted",
        "reason_code": f"reason-{rec_id}",
        "reason_text": f"reason-text-{rec_id}",
    }[field]


def _stored_page(
    request: Request,
    registry_id: str,
    assessment_id: int,
    issues: list[FieldIssue] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    saved: str | None = None,
) -> Response:
    from pecoma.registry.decisions import DECISION_LABELS, REASONS, reason_label
    from pecoma.store.decisions import recommendations_of

    got = _redraw(request, registry_id, assessment_id)
    if isinstance(got, Response):
        return got
    stored, decisions, case, a, plan = got
    mine = [d for d in decisions if d.assessment_id == assessment_id]
    recs = []
    for rec_id, title in recommendations_of(stored.output):
        history = [d for d in mine if d.record_id == rec_id]
        current = next((d for d in reversed(history) if d.current), None)
        recs.append(
            {"id": rec_id, "title": title, "current": current, "history": list(reversed(history))}
        )
    changed = [
        f"{what} {then} (now {now})"
        for what, then, now in (
            ("knowledge", stored.knowledge_version, a.knowledge_version),
            ("engine", stored.engine_version, a.engine_version),
            ("settings", stored.settings_digest, a.settings_digest),
        )
        if then != now
    ]
    failed = _refusal(issues, (values or {}).get("record_id", ""), recs) if issues else None
    board = {
        "kind": "stored",
        "registry_id": registry_id,
        "assessment_id": assessment_id,
        "stored": stored,
        "recs": recs,
        "reasons": REASONS,
        "decision_labels": DECISION_LABELS,
        "reason_label": reason_label,
        "can_write": can_write(request),
        "changed": changed,
        "failed": failed,
        "error_summary": failed["summary"] if failed else None,
        "form": values or {},
        "saved": saved,
    }
    return render_report(request, case, a, plan, board, status_code=status)


def _assessment_id(value: str) -> int | None:
    return int(value) if re.fullmatch(r"[0-9]{1,12}", value) else None


def stored_assessment_page(request: Request, registry_id: str, assessment: str,
                           saved: str | None = None) -> Response:
    aid = _assessment_id(assessment)
    if aid is None:
        return _no_patient(request)
    return _stored_page(request, registry_id, aid, saved=saved)


def stored_assessment_edit(request: Request, registry_id: str, assessment: str) -> Response:
    """The case form holding a stored assessment's case, as of its evaluation date with
    the scans recorded up to then ("Edit the case"). An address of the registry: it needs
    what the stored page needs, checked when it is opened, and carries no case in it (a
    report's signed link, which opens without credentials, never carries a registry
    case)."""
    got = _redraw(request, registry_id, _assessment_id(assessment))
    if isinstance(got, Response):
        return got
    _stored, _decisions, case, a, plan = got
    return render_case_form(request, case, a.evaluated_on, plan.imaging)


def stored_assessment_pdf(request: Request, registry_id: str, assessment: str) -> Response:
    from pecoma.knowledge import load_knowledge
    from pecoma.registry.decisions import DECISION_LABELS, reason_label
    from pecoma.store.decisions import recommendations_of
    from pecoma.web.pages import build_report_view
    from pecoma.web.pdf import report_pdf_bytes

    aid = _assessment_id(assessment)
    got = _redraw(request, registry_id, aid)
    if isinstance(got, Response):
        return got
    stored, decisions, case, a, plan = got
    view = build_report_view(case, a, load_knowledge(), plan)
    current = {d.record_id: d for d in decisions if d.assessment_id == aid and d.current}
    rows = [
        (rec_id, title, current.get(rec_id)) for rec_id, title in recommendations_of(stored.output)
    ]
    box = {
        "registry_id": registry_id,
        "rows": rows,
        "labels": DECISION_LABELS,
        "reason_label": reason_label,
    }
    pdf = report_pdf_bytes(request.app.state.templates, view, a, decisions=box)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="pecoma-{registry_id}-{aid}.pdf"'},
    )


_DECISION_FIELDS = ("record_id", "decision", "reason_code", "reason_text", "supersedes")


async def record_decision_post(request: Request, registry_id: str, assessment: str) -> Response:
    from pecoma.registry.decisions import check_decision
    from pecoma.store.decisions import DecisionConflict, record_decision

    aid = _assessment_id(assessment)
    if aid is None:
        return _no_patient(request)
    try:
        form = await read_form(request)
    except InputError as exc:  # shown on the decision form, as any other refused field
        kept = await fields_kept(request, _DECISION_FIELDS)
        return _stored_page(request, registry_id, aid, list(exc.issues), kept, 422)
    values = {k: str(form.get(k, "")).strip() for k in _DECISION_FIELDS}
    seen_text = values["supersedes"]
    repo = registry_of(request.app.state)
    actor = _actor(request)

    repeated = repeated_fields(form, _DECISION_FIELDS)

    def work() -> tuple[int, list[FieldIssue]]:
        issues: list[FieldIssue] = list(repeated)
        seen: int | None = None
        if seen_text and not (seen_text.isascii() and seen_text.isdigit()
                              and len(seen_text) <= 18):
            issues.append(
                FieldIssue(
                    "supersedes",
                    show_value(seen_text),
                    "must be the number of the current decision, or empty",
                )
            )
        elif seen_text:
            seen = int(seen_text)
        try:
            data = check_decision(
                values["record_id"],
                values["decision"] or None,
                values["reason_code"],
                values["reason_text"],
            )
        except InputError as exc:
            return 422, issues + exc.issues
        if issues:
            return 422, issues
        try:
            record_decision(repo, registry_id, aid, data, actor, seen)
        except DecisionConflict as exc:
            return 409, exc.issues
        except InputError as exc:
            status = (
                404 if exc.issues and exc.issues[0].path in ("registry_id", "assessment") else 422
            )
            return status, exc.issues
        return 303, []

    try:
        status, issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if status == 303:
        return RedirectResponse(
            f"/registry/patients/{registry_id}/assessments/{aid}?saved=decision"
            f"#decision-{values['record_id']}",
            status_code=303,
        )
    if status == 404:
        return _no_patient(request)
    return _stored_page(request, registry_id, aid, issues, values, status)
