"""Outcomes: what happened to a patient after treatment, and the rules they must keep.

An outcome is one dated event, stored append-only with its audit entry:

==================  ====================================================================
last_contact        the patient was seen or heard of; ``vital_status`` says how they were:
                    alive_without_disease, alive_with_disease or lost_to_follow_up
local_recurrence    with ``found_by`` (scheduled_scan, symptoms, other; left out: not
                    recorded) and the scan that found it, linked when there is one
distant_metastasis  likewise
progression         progression on systemic therapy (``found_by`` optional)
death               with ``vital_status`` dead_of_disease or dead_of_other_cause
==================  ====================================================================

Contradictions are refused with the field named: no event after the evaluation date or
before the diagnosis, no recurrence or metastasis on or before the surgery (nor a local
recurrence without a resection recorded), nothing dated after a recorded death (no
outcome, and no scan: see :func:`pecoma.registry.service.scan_conflicts`), a death not
before a recorded event or scan, and one death per patient. A last contact, recurrence,
metastasis or progression entered again on the same day corrects the earlier entry (the
repository reads only the latest: :func:`pecoma.store.repository.outcomes.current`).

A deceased patient, or one whose latest contact says lost to follow-up with nothing
recorded after it, leaves the surveillance worklist: :func:`closure` gives the status and
the reason shown instead of a next scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pecoma.case import Case, SurgeryStatus, parse_case
from pecoma.dates import date_rule, day_text, parse_day, range_rule
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.repository import (
    FileImport,
    OutcomeCheck,
    OutcomeData,
    OutcomeView,
    Repository,
    ScanView,
    check_registry_id,
)

__all__ = [
    "ALIVE_STATUSES",
    "DEAD_STATUSES",
    "OUTCOME_COLUMNS",
    "Closure",
    "FoundBy",
    "OutcomeEvent",
    "VitalStatus",
    "case_conflicts",
    "check_outcomes",
    "closure",
    "parse_outcome",
    "record_outcome",
    "record_outcome_table",
]


class OutcomeEvent(StrEnum):
    last_contact = "last_contact"
    local_recurrence = "local_recurrence"
    distant_metastasis = "distant_metastasis"
    progression = "progression"
    death = "death"


class VitalStatus(StrEnum):
    alive_without_disease = "alive_without_disease"
    alive_with_disease = "alive_with_disease"
    dead_of_disease = "dead_of_disease"
    dead_of_other_cause = "dead_of_other_cause"
    lost_to_follow_up = "lost_to_follow_up"


class FoundBy(StrEnum):
    scheduled_scan = "scheduled_scan"
    symptoms = "symptoms"
    other = "other"


ALIVE_STATUSES = (
    VitalStatus.alive_without_disease,
    VitalStatus.alive_with_disease,
    VitalStatus.lost_to_follow_up,
)
DEAD_STATUSES = (VitalStatus.dead_of_disease, VitalStatus.dead_of_other_cause)
RECURRENCES = (OutcomeEvent.local_recurrence, OutcomeEvent.distant_metastasis)
_FINDS = (*RECURRENCES, OutcomeEvent.progression)
_SCAN_FINDING = {
    OutcomeEvent.local_recurrence: "local_recurrence",
    OutcomeEvent.distant_metastasis: "metastasis",
    OutcomeEvent.progression: "metastasis",
}


# The optional outcome columns of a registry import file: per event, its date and (for
# each event that has one) its vital status or how it was found.
OUTCOME_COLUMNS: dict[str, tuple[OutcomeEvent, str]] = {
    f"outcome.{event.value}.{part}": (event, part)
    for event, parts in (
        (OutcomeEvent.last_contact, ("date", "vital_status")),
        (OutcomeEvent.local_recurrence, ("date", "found_by")),
        (OutcomeEvent.distant_metastasis, ("date", "found_by")),
        (OutcomeEvent.progression, ("date", "found_by")),
        (OutcomeEvent.death, ("date", "vital_status")),
    )
    for part in parts
}


def outcomes_of_cells(cells: dict[str, Any]) -> tuple[list[OutcomeData], list[FieldIssue]]:
    """The outcomes of one import row's outcome cells (empty cells: nothing recorded), and
    the issues, each naming its column: every cell of an outcome is checked, whatever
    another one holds. An outcome whose date is good but another cell bad is returned
    without that cell, so that its date is checked too (:func:`check_outcomes`): with an
    issue, the row is refused and nothing is recorded."""
    out: list[OutcomeData] = []
    issues: list[FieldIssue] = []
    for event in OutcomeEvent:
        values = {part: cells.get(name) for name, (ev, part) in OUTCOME_COLUMNS.items()
                  if ev is event}
        if all(_blank(v) for v in values.values()):
            continue
        prefix = f"outcome.{event.value}."
        try:
            out.append(parse_outcome(event.value, values["date"], values.get("vital_status"),
                                     values.get("found_by")))
            continue
        except InputError as exc:
            found = exc.issues
        for i in found:
            if i.path == "date" and _blank(values.get("date")):
                i = FieldIssue("date", "(empty)", f"is required when a {prefix}* cell is "
                               "filled")
            issues.append(FieldIssue(prefix + i.path, i.value, i.rule))
        day = None if _blank(values.get("date")) else _day(values["date"])
        if day is not None:
            out.append(OutcomeData(event.value, day))
    return out, issues


def _choices(values: Sequence[StrEnum]) -> str:
    return ", ".join(v.value for v in values)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _day(value: object) -> dt.date | None:
    """A date (a spreadsheet's date cell, or a text YYYY-MM-DD or the midnight of that
    day) in the supported range."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value if range_rule(value) is None else None
    text = day_text(str(value).strip())
    return None if text is None else parse_day(text)


def _given(value: object) -> str:
    """A value as the message shows it: nothing given is "nothing", not ``None``."""
    return "nothing" if value is None else show_value(value)


def parse_outcome(
    event: object, date: object, vital_status: object = None, found_by: object = None
) -> OutcomeData:
    """One outcome from raw values, or :class:`InputError` naming each bad field."""
    issues: list[FieldIssue] = []
    ev: OutcomeEvent | None = None
    try:
        ev = OutcomeEvent(str(event).strip()) if not _blank(event) else None
    except ValueError:
        ev = None
    if ev is None:
        issues.append(FieldIssue("event", show_value(event),
                                 f"must be one of {_choices(list(OutcomeEvent))}"))
    day = None if _blank(date) else _day(date)
    if day is None:
        issues.append(FieldIssue("date", show_value(date), date_rule(date)))
    # a value the event cannot take is refused with the values it can (a last contact is
    # never offered a death's status, nor a death a way found)
    status: VitalStatus | None = None
    given_status = not _blank(vital_status)
    if given_status:
        status = next((v for v in VitalStatus if v.value == str(vital_status).strip()), None)
    found: FoundBy | None = None
    given_found = not _blank(found_by)
    if given_found:
        found = next((v for v in FoundBy if v.value == str(found_by).strip()), None)
    if ev is OutcomeEvent.last_contact and status not in ALIVE_STATUSES:
        if not given_status:
            issues.append(FieldIssue("vital_status", _given(vital_status),
                                     f"is required for a last contact: one of "
                                     f"{_choices(ALIVE_STATUSES)}"))
        else:
            issues.append(FieldIssue("vital_status", show_value(vital_status),
                                     f"must be one of {_choices(ALIVE_STATUSES)} for a last "
                                     "contact (a death is recorded as event 'death')"))
    elif ev is OutcomeEvent.death and status not in DEAD_STATUSES:
        if not given_status:
            issues.append(FieldIssue("vital_status", _given(vital_status),
                                     f"is required for a death: one of "
                                     f"{_choices(DEAD_STATUSES)}"))
        else:
            issues.append(FieldIssue("vital_status", show_value(vital_status),
                                     f"must be one of {_choices(DEAD_STATUSES)} for a death"))
    elif ev in _FINDS and given_status:
        issues.append(FieldIssue("vital_status", show_value(vital_status),
                                 f"must be left out for a {ev.value} (record a last contact "
                                 "or a death for the vital status)"))
    elif ev is None and given_status and status is None:
        issues.append(FieldIssue("vital_status", show_value(vital_status),
                                 f"must be one of {_choices(list(VitalStatus))}"))
    if ev in (OutcomeEvent.last_contact, OutcomeEvent.death) and given_found:
        issues.append(FieldIssue("found_by", show_value(found_by),
                                 f"must be left out for a {ev.value}"))
    elif given_found and found is None:
        issues.append(FieldIssue("found_by", show_value(found_by),
                                 f"must be one of {_choices(list(FoundBy))}"))
    if issues or ev is None or day is None:
        raise InputError(issues, "outcome")
    return OutcomeData(ev.value, day, status.value if status else None,
                       found.value if found else None)


def _death(outcomes: Sequence[OutcomeData | OutcomeView]) -> OutcomeData | OutcomeView | None:
    return next((o for o in outcomes if o.event == OutcomeEvent.death), None)


def case_conflicts(case: Case, event: str, day: dt.date) -> list[tuple[str, str]]:
    """THE rules an outcome keeps with the patient's case, each broken one as (the case's
    field, the rule as the outcome breaks it): no event before the diagnosis, no
    recurrence or metastasis on or before the surgery, no local recurrence without a
    resection. Checked when an outcome is recorded (:func:`check_outcomes`) and when a
    new case version is (:mod:`pecoma.registry.case_change`)."""
    out: list[tuple[str, str]] = []
    diagnosed = case.diagnosis.date
    if diagnosed is not None and day < diagnosed:
        what = "a death" if event == OutcomeEvent.death else f"a {event}"
        out.append(("diagnosis.date", f"must not be before the diagnosis "
                    f"({diagnosed.isoformat()}): {what} cannot precede it"))
    if event in RECURRENCES:
        surgery = case.surgery
        if surgery.status is SurgeryStatus.performed and surgery.date is not None:
            if day <= surgery.date:
                out.append(("surgery.date", f"must be after the surgery "
                            f"({surgery.date.isoformat()}): a recurrence cannot precede "
                            "the resection"))
        elif event == OutcomeEvent.local_recurrence and (
            surgery.status is not SurgeryStatus.performed
        ):
            out.append(("surgery.status", "needs a resection recorded in the case "
                        f"(surgery.status is {surgery.status.value}): update the case "
                        "first"))
    return out


def check_outcomes(
    case_data: dict[str, Any] | None,
    stored: Sequence[OutcomeView],
    scans: Sequence[ScanView],
    new: Sequence[OutcomeData],
    on_date: dt.date,
    *,
    columns: bool = False,
) -> list[OutcomeData]:
    """The new outcomes, each linked to the scan that found it, or :class:`InputError`
    naming each contradiction with the patient's case, scans and stored outcomes.

    With ``columns`` each issue names the import column of the outcome's date
    (``outcome.<event>.date``) instead of ``date`` or ``event``.
    """
    case: Case | None = None
    if case_data is not None:
        try:
            case = parse_case(case_data, source="stored case")
        except InputError:
            case = None
    issues: list[FieldIssue] = []
    everything: list[OutcomeData | OutcomeView] = [*stored]
    out: list[OutcomeData] = []
    def where(o: OutcomeData, path: str) -> str:
        return f"outcome.{o.event}.date" if columns else path

    for o in sorted(new, key=lambda x: (x.event_date, x.event != OutcomeEvent.death)):
        day = o.event_date.isoformat()
        found = len(issues)
        if case is None:
            issues.append(FieldIssue("registry_id", "(patient)", "must have a case recorded "
                                     "before its outcomes"))
            break
        if o.event_date > on_date:
            issues.append(FieldIssue(where(o, "date"), day, "must not be after the "
                                     f"evaluation date ({on_date.isoformat()})"))
        for field, rule in case_conflicts(case, o.event, o.event_date):
            if field == "surgery.status":
                issues.append(FieldIssue(where(o, "event"), o.event, rule))
            else:
                issues.append(FieldIssue(where(o, "date"), day, rule))
        death = _death(everything)
        if o.event == OutcomeEvent.death and death is not None:
            issues.append(FieldIssue(where(o, "event"), o.event, "a death is already recorded (on "
                                     f"{death.event_date.isoformat()})"))
        elif death is not None and o.event_date > death.event_date:
            issues.append(FieldIssue(where(o, "date"), day, "must not be after the recorded death "
                                     f"({death.event_date.isoformat()}): no follow-up after "
                                     "death"))
        if o.event == OutcomeEvent.death:
            later = [(e.event_date, e.event) for e in everything if e.event_date > o.event_date]
            later += [(sc.performed_on, f"scan ({sc.modality})") for sc in scans
                      if sc.performed_on > o.event_date]
            if later:
                last_day, what = max(later)
                issues.append(FieldIssue(where(o, "date"), day, "must not be before the latest "
                                         f"recorded follow-up ({what} on "
                                         f"{last_day.isoformat()})"))
        if len(issues) == found:
            linked = OutcomeData(o.event, o.event_date, o.vital_status, o.found_by,
                                 _link(o, scans))
            everything.append(linked)
            out.append(linked)
    if issues:
        raise InputError(issues, "outcome")
    return out


def _link(o: OutcomeData, scans: Sequence[ScanView]) -> int | None:
    """The scan that found a recurrence or progression: on its date, showing it (else, when
    it was found at a scheduled scan, any scan of that date)."""
    if o.event not in _FINDS:
        return None
    same_day = [s for s in scans if s.performed_on == o.event_date]
    showing = [s for s in same_day if s.finding == _SCAN_FINDING[OutcomeEvent(o.event)]]
    if showing:
        return showing[-1].id
    if o.found_by == FoundBy.scheduled_scan and same_day:
        return same_day[-1].id
    return None


@dataclass(frozen=True, slots=True)
class Closure:
    """Why a patient left the worklist: ``deceased`` or ``lost_to_follow_up``."""

    status: str
    since: dt.date
    reason: str

    def undone_by(self, last_scan: dt.date | None) -> bool:
        """A scan recorded after the last contact brings a patient lost to follow-up
        back: something was recorded after it."""
        return (self.status == "lost_to_follow_up" and last_scan is not None
                and last_scan > self.since)


def closure(outcomes: Sequence[OutcomeData | OutcomeView], last_scan: dt.date | None = None
            ) -> Closure | None:
    """Whether the patient has left surveillance: died, or lost to follow-up (the latest
    contact says so and nothing was recorded after it: no outcome, no scan up to
    ``last_scan``)."""
    death = _death(outcomes)
    if death is not None:
        cause = (death.vital_status or "cause not recorded").replace("_", " ")
        return Closure("deceased", death.event_date,
                       f"died on {death.event_date.isoformat()} ({cause})")
    contacts = [o for o in outcomes if o.event == OutcomeEvent.last_contact]
    if not contacts:
        return None
    last = contacts[-1]  # outcomes come by date, then in recording order
    if last.vital_status != VitalStatus.lost_to_follow_up:
        return None
    if any(o.event_date > last.event_date for o in outcomes):
        return None
    lost = Closure("lost_to_follow_up", last.event_date,
                   f"lost to follow-up (last contact {last.event_date.isoformat()})")
    return None if lost.undone_by(last_scan) else lost


def record_outcome(
    repo: Repository,
    registry_id: str,
    event: object,
    date: object,
    vital_status: object = None,
    found_by: object = None,
    *,
    on_date: dt.date,
    actor: str,
) -> list[int]:
    """Validate and store one outcome; returns the new id (none when already recorded)."""
    issues: list[FieldIssue] = []
    rid: str | None = None
    try:
        rid = check_registry_id(registry_id)
    except InputError as exc:
        issues += exc.issues
    outcome: OutcomeData | None = None
    try:
        outcome = parse_outcome(event, date, vital_status, found_by)
    except InputError as exc:
        issues += exc.issues
    if issues or rid is None or outcome is None:
        raise InputError(issues, "outcome")
    return repo.add_outcomes(rid, [outcome], actor, _checker(on_date))


def record_outcome_table(
    repo: Repository,
    entries: Sequence[tuple[str, OutcomeData]],
    *,
    on_date: dt.date,
    actor: str,
    all_or_nothing: bool,
    file: FileImport | None = None,
    told: Callable[[int, list[FieldIssue]], None] | None = None,
    rollback: bool = False,
) -> list[list[int] | InputError]:
    """Store the parsed outcomes of an imported table in one transaction, each checked as
    :func:`record_outcome` checks one, against the stored facts and the entries before it
    (see :meth:`~pecoma.store.repository.Repository.add_outcome_entries`, which takes
    ``file``, ``told`` and ``rollback``)."""
    return repo.add_outcome_entries(entries, actor, _checker(on_date),
                                    all_or_nothing=all_or_nothing, file=file, told=told,
                                    rollback=rollback)


def _checker(on_date: dt.date) -> OutcomeCheck:
    def check(case: dict[str, Any] | None, stored: tuple[OutcomeView, ...],
              scans: tuple[ScanView, ...], new: Sequence[OutcomeData]) -> list[OutcomeData]:
        return check_outcomes(case, stored, scans, new, on_date)

    return check
