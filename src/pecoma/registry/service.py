"""Single-patient use cases: record a case version, record a scan, withdraw a scan or an
outcome entered in error.

Each validates first (the case through the case model and the engine, the scan through
the scheduler's imaging rules, a withdrawal's entry and reason) and then writes in one
transaction with its audit entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pecoma.case import Case, parse_case
from pecoma.dates import parse_day, range_rule
from pecoma.engine import assess
from pecoma.engine.imaging import ImagingEvent, Modality, check_imaging, parse_imaging
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.registry.case_change import case_check
from pecoma.registry.state import compute_state, plan_and_state
from pecoma.registry.stored import assessment_data
from pecoma.settings import Settings, default_settings
from pecoma.store.repository import (
    REASON_MAX,
    AddResult,
    CaseSubmission,
    Repository,
    ScanData,
    StateData,
    case_digest,
    check_registry_id,
)
from pecoma.text import TEXT_RULE, text_is_odd

__all__ = ["ENTRY_KINDS", "record_case", "record_scan", "scan_conflicts", "validate_scan",
           "withdraw_entry"]

#: What can be withdrawn as entered in error.
ENTRY_KINDS = ("scan", "outcome")


def record_case(
    repo: Repository,
    registry_id: str,
    data: dict[str, Any],
    *,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    source: str,
) -> AddResult:
    """Store a new case version for a patient (created when new); identical = no change.
    A case dated after the patient's recorded death is refused (:class:`InputError`)."""
    registry_id = check_registry_id(registry_id)
    case = parse_case(data, on_date=on_date)
    a = assess(case, on_date, settings)
    state = repo.state(registry_id)
    planned = plan_and_state(case, a, on_date, state.scans if state else (), settings)
    sub = CaseSubmission(
        registry_id=registry_id,
        submitted=data,
        digest=case_digest(case.model_dump(mode="json")),
        source=source,
        assessment=assessment_data(a, planned.due, "case"),
        # with the scan stamp read before the scans: not stored if one changed since
        state=replace(planned.state, scan_stamp=state.scan_stamp if state else 0),
    )
    return repo.add_cases([sub], actor, check_case=case_check)


def validate_scan(
    repo: Repository,
    registry_id: str,
    performed_on: object,
    modality: object,
    finding: object,
    *,
    on_date: dt.date,
) -> tuple[str, ScanData]:
    """The checked registry id and scan, or :class:`InputError` naming each bad field.

    The date must not be after ``on_date`` nor break :func:`scan_conflicts` with the
    patient's latest case and recorded death, as read now: every problem is named at
    once. :func:`record_scan` checks the stored facts again inside its writing
    transaction, the patient locked, which alone decides.
    """
    issues: list[FieldIssue] = []
    rid: str | None = None
    try:
        rid = check_registry_id(registry_id)
    except InputError as exc:
        issues += exc.issues
    exists, stored = repo.latest_case(rid) if rid else (False, None)
    if rid and not exists:
        issues.append(
            FieldIssue("registry_id", show_value(rid), "must be the id of a patient in the "
                       "registry (import or record the patient's case first)")
        )
    raw = {"date": performed_on, "modality": modality, "finding": finding}
    if finding is None or finding == "":
        raw.pop("finding")
    event: ImagingEvent | None = None
    try:
        (event,) = parse_imaging([raw], source="scan")
    except InputError as exc:
        issues += [
            FieldIssue(i.path.replace("imaging[0].", ""), i.value, i.rule) for i in exc.issues
        ]
    day = event.date if event is not None else _date(performed_on)
    if day is not None and not any(i.path == "date" for i in issues):
        # the date is fine on its own (whatever the other fields): checked against the
        # patient's stored facts and the evaluation date
        death = repo.death_date(rid) if rid is not None and exists else None
        issues += scan_conflicts(stored, death, day)
        issues += [FieldIssue("date", i.value, i.rule) for i in
                   check_imaging([ImagingEvent(day, Modality.other)], None, on_date)]
    if issues or event is None or rid is None:
        raise InputError(issues, "scan")
    return rid, ScanData(event.date, event.modality.value, event.finding.value)


def scan_conflicts(
    stored: dict[str, Any] | None, death: dt.date | None, day: dt.date
) -> list[FieldIssue]:
    """The one rule of a scan's date against the patient's stored facts: not before the
    diagnosis or the surgery of the latest case ``stored`` (before the end of curative
    treatment when no surgery is dated: :func:`pecoma.engine.imaging.imaging_floor`),
    nor after the recorded ``death`` (no follow-up after death). A scan from the surgery
    to before the end of treatment is a scan during treatment (I22): stored, and read by
    the plan as no surveillance visit."""
    case: Case | None = None
    if stored is not None:
        try:
            case = parse_case(stored)
        except InputError:
            case = None
    issues = [FieldIssue("date", i.value, i.rule)
              for i in check_imaging([ImagingEvent(day, Modality.other)], case, None)]
    diagnosed = case.diagnosis.date if case is not None else None
    if diagnosed is not None and day < diagnosed and not issues:
        issues.append(FieldIssue("date", show_value(day.isoformat()),
                                 f"must not be before the diagnosis ({diagnosed.isoformat()}): "
                                 "a surveillance scan cannot precede it"))
    if death is not None and day > death:
        issues.append(FieldIssue("date", show_value(day.isoformat()),
                                 f"must not be after the recorded death "
                                 f"({death.isoformat()}): no follow-up after death"))
    return issues


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value if range_rule(value) is None else None
    return parse_day(str(value))


def record_scan(
    repo: Repository,
    registry_id: str,
    performed_on: object,
    modality: object,
    finding: object,
    *,
    on_date: dt.date,
    actor: str,
    settings: Settings | None = None,
    told: Callable[[FieldIssue], None] | None = None,
    again: bool = False,
) -> int | None:
    """Validate and store one scan; returns its id, or ``None`` when the same scan is
    recorded already (nothing written), or, for an import of a file imported before
    (``told``, ``again``: see :meth:`~pecoma.store.repository.Repository.add_scan`), was
    withdrawn as entered in error since. The scan's date is checked against the patient's
    latest case and recorded death again inside the writing transaction, the patient
    locked (:func:`scan_conflicts`): a death recorded at the same moment is seen. The
    patient's worklist state is recomputed with the scan, in the same transaction (with
    ``settings``, else the defaults). The CLI and the web form record scans here."""
    rid, scan = validate_scan(repo, registry_id, performed_on, modality, finding,
                              on_date=on_date)
    cfg = settings or default_settings()

    def check(case: dict[str, Any] | None, death: dt.date | None) -> list[FieldIssue]:
        return scan_conflicts(case, death, scan.performed_on)

    def refresh(case: dict[str, Any], scans: tuple[ScanData, ...]) -> StateData:
        return compute_state(case, scans, on_date, cfg)

    return repo.add_scan(rid, scan, actor, check, refresh, told, again)


def withdraw_entry(
    repo: Repository,
    registry_id: str,
    kind: object,
    entry_id: object,
    reason: object,
    *,
    on_date: dt.date,
    actor: str,
    settings: Settings | None = None,
) -> list[int]:
    """Withdraw one of the patient's scans (``kind`` ``scan``) or outcomes (``outcome``)
    as entered in error, with the reason in words; returns the ids of the entries
    withdrawn (an outcome with the earlier entries of that event on that day it
    corrected). A correction is a withdrawal and a new entry.

    :class:`InputError` names each bad field (``kind``, the entry's id under its kind,
    ``reason``) and nothing is written: an unknown patient or entry, an entry withdrawn
    already, an empty reason (see :meth:`Repository.withdraw`). A scan's withdrawal
    recomputes the patient's worklist state in the same transaction, as of ``on_date``
    with ``settings`` (else the defaults).
    """
    issues: list[FieldIssue] = []
    if kind not in ENTRY_KINDS:
        issues.append(FieldIssue("kind", show_value(kind), "must be 'scan' or 'outcome'"))
    where = kind if isinstance(kind, str) and kind in ENTRY_KINDS else "id"
    number: int | None = None
    text = str(entry_id).strip() if entry_id is not None else ""
    if text.isascii() and text.isdigit() and 0 < int(text) < 2**31:
        number = int(text)
    else:
        issues.append(FieldIssue(where, show_value(entry_id) if text else "(empty)",
                                 f"must be the number of one of the patient's {where}s, as "
                                 "the patient's page and the audit log show it"))
    words = reason.strip() if isinstance(reason, str) else ""
    if not words:
        issues.append(FieldIssue("reason", show_value(reason) if words else "(empty)",
                                 "must say in words why the entry is withdrawn (entered in "
                                 "error: wrong date, examination, result, patient …)"))
    elif text_is_odd(words):
        issues.append(FieldIssue("reason", show_value(words), TEXT_RULE))
    elif len(words) > REASON_MAX:
        issues.append(FieldIssue("reason", show_value(words),
                                 f"must be at most {REASON_MAX} characters"))
    if issues or number is None or where == "id":
        raise InputError(issues, "withdrawal")
    cfg = settings or default_settings()

    def refresh(case: dict[str, Any], scans: tuple[ScanData, ...]) -> StateData:
        return compute_state(case, scans, on_date, cfg)

    return repo.withdraw(registry_id, "scan" if where == "scan" else "outcome", number,
                         words, actor, refresh)
