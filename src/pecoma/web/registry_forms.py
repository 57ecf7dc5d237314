"""The registry's forms: recording a scan, recording an outcome, and withdrawing either
as entered in error (plain HTML forms; no JavaScript needed). A form posted with
problems is shown again with the values kept and each problem next to its field; a
recorded one redirects to the patient's page."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from pecoma.engine.imaging import Modality, ScanFinding
from pecoma.errors import FieldIssue, InputError
from pecoma.registry.service import record_scan
from pecoma.store import StoreError
from pecoma.web.form_input import read_form, repeated_fields
from pecoma.web.registry_common import (
    FINDING_LABELS,
    _actor,
    _no_such_patient,
    _page,
    _registry,
    _settings,
    _unavailable,
)
from pecoma.web.summary import field_label, value_words

_SCAN_FIELDS = ("date", "modality", "finding")


def _missing(request: Request, registry_id: str) -> Response | None:
    """The page saying why no form is shown for ``registry_id`` (no such patient, the
    registry unavailable), or None."""
    try:
        if _registry(request).state(registry_id) is None:
            return _no_such_patient(request)
    except StoreError as exc:
        return _unavailable(request, exc)
    return None


#: The forms' labels (the templates show these, and the messages name a field by them).
LABELS = {
    "scan": {"date": "Date of the scan", "modality": "Modality", "finding": "Finding"},
    "outcome": {"event": "Event", "date": "Date",
                "vital_status": "Vital status (last contact or death)",
                "found_by": "How it was found (recurrence, metastasis, progression)"},
    "withdraw": {"kind": "Kind of entry", "id": "Entry", "registry_id": "Patient",
                 "reason": "Why it is withdrawn (entered in error)"},
}


def _by_field(issues: list[FieldIssue], fields: tuple[str, ...]
              ) -> tuple[dict[str, list[str]], list[str]]:
    """The problems of a posted form: those of a field next to it, the others above; the
    allowed values in the form's words ("dead of disease", never "dead_of_disease")."""
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    for i in issues:
        text = f"{value_words(i.rule)} (got {value_words(i.value)})"
        if i.path in fields:
            errors.setdefault(i.path, []).append(text)
        else:
            general.append(text if not i.path else f"{field_label(i.path)}: {text}")
    return errors, general


def _scan_form(request: Request, registry_id: str, values: dict[str, str],
               errors: dict[str, list[str]], status: int = 200,
               general: list[str] | None = None) -> Response:
    return _page(request, "scan_form.html", {
        "registry_id": registry_id, "values": values, "errors": errors,
        "general": general or [], "labels": LABELS["scan"],
        "modalities": [m.value for m in Modality],
        "findings": [(f.value, FINDING_LABELS[f.value]) for f in ScanFinding],
    }, status)


def scan_form(request: Request, registry_id: str) -> Response:
    missing = _missing(request, registry_id)
    if missing is not None:
        return missing
    today: dt.date = request.app.state.today()
    return _scan_form(request, registry_id,
                      {"date": today.isoformat(), "modality": "", "finding": ""}, {})


async def record_scan_post(request: Request, registry_id: str) -> Response:
    form = await read_form(request)
    values = {k: str(form.get(k, "")).strip() for k in _SCAN_FIELDS}
    repeated = repeated_fields(form, _SCAN_FIELDS)
    if repeated:
        errors, general = _by_field(repeated, _SCAN_FIELDS)
        return _scan_form(request, registry_id, values, errors, 422, general)
    today: dt.date = request.app.state.today()
    return await _record(request, registry_id, values, today)


async def _record(request: Request, registry_id: str, values: dict[str, str],
                  today: dt.date) -> Response:
    from starlette.concurrency import run_in_threadpool

    repo = _registry(request)

    def work() -> list[FieldIssue]:
        try:  # sent twice: recorded once
            record_scan(repo, registry_id, values["date"] or None,
                        values["modality"] or None, values["finding"] or None,
                        on_date=today, actor=_actor(request), settings=_settings(request))
        except InputError as exc:
            return exc.issues
        return []

    try:
        issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if issues:
        errors, general = _by_field(issues, _SCAN_FIELDS)
        return _scan_form(request, registry_id, values, errors, 422, general)
    return RedirectResponse(f"/registry/patients/{registry_id}?recorded=1", status_code=303)


# --- outcomes ---------------------------------------------------------------------------

_OUTCOME_FIELDS = ("event", "date", "vital_status", "found_by")


def _outcome_form(request: Request, registry_id: str, values: dict[str, str],
                  errors: dict[str, list[str]], status: int = 200,
                  general: list[str] | None = None) -> Response:
    from pecoma.registry.outcomes import FoundBy, OutcomeEvent, VitalStatus

    return _page(request, "outcome_form.html", {
        "registry_id": registry_id, "values": values, "errors": errors,
        "general": general or [], "labels": LABELS["outcome"],
        "events": [e.value for e in OutcomeEvent],
        "vital_statuses": [v.value for v in VitalStatus],
        "found_bys": [f.value for f in FoundBy],
    }, status)


def outcome_form(request: Request, registry_id: str) -> Response:
    missing = _missing(request, registry_id)
    if missing is not None:
        return missing
    today: dt.date = request.app.state.today()
    return _outcome_form(request, registry_id,
                         {"event": "", "date": today.isoformat(), "vital_status": "",
                          "found_by": ""}, {})


async def record_outcome_post(request: Request, registry_id: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    from pecoma.registry.outcomes import record_outcome

    form = await read_form(request)
    values = {k: str(form.get(k, "")).strip() for k in _OUTCOME_FIELDS}
    repeated = repeated_fields(form, _OUTCOME_FIELDS)
    if repeated:
        errors, general = _by_field(repeated, _OUTCOME_FIELDS)
        return _outcome_form(request, registry_id, values, errors, 422, general)
    today: dt.date = request.app.state.today()
    repo = _registry(request)

    def work() -> list[FieldIssue] | None:
        try:
            record_outcome(repo, registry_id, values["event"] or None,
                           values["date"] or None, values["vital_status"] or None,
                           values["found_by"] or None, on_date=today,
                           actor=_actor(request))
        except InputError as exc:
            return exc.issues
        return None

    try:
        issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if issues is not None:
        errors, general = _by_field(issues, _OUTCOME_FIELDS)
        return _outcome_form(request, registry_id, values, errors, 422, general)
    return RedirectResponse(f"/registry/patients/{registry_id}?recorded=outcome",
                            status_code=303)


# --- withdrawing an entry entered in error ----------------------------------------------

_WITHDRAW_FIELDS = ("kind", "id", "reason")


def _entry_words(request: Request, registry_id: str, kind: str, entry_id: str) -> str | None:
    """What the entry to withdraw says, as the patient's page shows it (``None`` when it
    is not one of the patient's entries in use)."""
    t = _registry(request).timeline(registry_id)
    if t is None:
        return None
    if kind == "scan":
        for s in t.scans:
            if str(s.id) == entry_id:
                return (f"Scan {s.id}: {s.performed_on.isoformat()}, {value_words(s.modality)}, "
                        f"{FINDING_LABELS.get(s.finding, s.finding)}")
    elif kind == "outcome":
        for o in t.outcomes:
            if str(o.id) == entry_id:
                how = o.vital_status or o.found_by
                return (f"Outcome {o.id}: {o.event_date.isoformat()}, {value_words(o.event)}"
                        + (f", {value_words(how)}" if how else ""))
    return None


def _withdraw_form(request: Request, registry_id: str, values: dict[str, str],
                   errors: dict[str, list[str]], status: int = 200) -> Response:
    try:
        entry = _entry_words(request, registry_id, values["kind"], values["id"])
    except StoreError as exc:
        return _unavailable(request, exc)
    return _page(request, "withdraw_form.html", {
        "registry_id": registry_id, "values": values, "errors": errors, "entry": entry,
        "labels": LABELS["withdraw"],
    }, status)


def withdraw_form(request: Request, registry_id: str, kind: str = "", id: str = ""
                  ) -> Response:
    """The form withdrawing one scan or outcome as entered in error (the patient's page
    has one per entry; this page shows it alone, and again with its problems)."""
    missing = _missing(request, registry_id)
    if missing is not None:
        return missing
    return _withdraw_form(request, registry_id, {"kind": kind, "id": id, "reason": ""}, {})


async def withdraw_post(request: Request, registry_id: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    from pecoma.registry.service import withdraw_entry

    form = await read_form(request)
    values = {k: str(form.get(k, "")).strip() for k in _WITHDRAW_FIELDS}
    repeated = repeated_fields(form, _WITHDRAW_FIELDS)
    if repeated:
        return _withdraw_form(request, registry_id, values, _withdraw_errors(repeated), 422)
    today: dt.date = request.app.state.today()
    repo = _registry(request)

    def work() -> list[FieldIssue] | None:
        try:
            withdraw_entry(repo, registry_id, values["kind"] or None, values["id"] or None,
                           values["reason"], on_date=today, actor=_actor(request),
                           settings=_settings(request))
        except InputError as exc:
            return exc.issues
        return None

    try:
        issues = await run_in_threadpool(work)
    except StoreError as exc:
        return _unavailable(request, exc)
    if issues is not None:
        return _withdraw_form(request, registry_id, values, _withdraw_errors(issues), 422)
    return RedirectResponse(f"/registry/patients/{registry_id}?recorded=withdrawn",
                            status_code=303)


def _withdraw_errors(issues: list[FieldIssue]) -> dict[str, list[str]]:
    """The problems of a posted withdrawal by field: the reason next to its field, the
    entry (its kind, its number under ``scan`` or ``outcome``) above the form."""
    errors: dict[str, list[str]] = {}
    for i in issues:
        name = i.path if i.path in ("reason", "kind", "registry_id") else "id"
        errors.setdefault(name, []).append(f"{value_words(i.rule)} (got {i.value})")
    return errors
