"""The imaging history of a case: the examinations that really happened (:class:`ImagingEvent`:
date, :class:`Modality`, :class:`ScanFinding`), read from JSON data or CSV and checked
against the case (:func:`imaging_floor`: nothing before the surgery, or before the end of
treatment when no surgery is dated) and the evaluation date. A scan from the surgery to
before the end of curative treatment is a scan during treatment (I22): accepted here, read
by the scheduler as no surveillance visit. A finding not recorded is unknown, never read
as normal. Pure: no I/O, no clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pecoma.case import Case, SurgeryStatus
from pecoma.dates import DATE_RULE, date_rule, parse_day, range_rule
from pecoma.errors import FieldIssue, InputError, show_value

__all__ = [
    "ImagingEvent",
    "ImagingFloor",
    "Modality",
    "ScanFinding",
    "check_imaging",
    "imaging_floor",
    "parse_imaging",
    "parse_imaging_csv",
]

class Modality(StrEnum):
    """An imaging examination, as recorded in the history."""

    chest_ct = "chest_ct"
    mri_primary = "mri_primary"
    chest_xray = "chest_xray"
    ct_primary = "ct_primary"
    pet_ct = "pet_ct"
    ultrasound = "ultrasound"
    other = "other"


class ScanFinding(StrEnum):
    """What a scan showed. ``not_recorded`` is unknown, never read as normal."""

    no_evidence_of_disease = "no_evidence_of_disease"
    equivocal = "equivocal"
    local_recurrence = "local_recurrence"
    metastasis = "metastasis"
    not_recorded = "not_recorded"

    @property
    def disease(self) -> bool:
        return self in (ScanFinding.local_recurrence, ScanFinding.metastasis)


@dataclass(frozen=True, slots=True)
class ImagingEvent:
    """One imaging examination that really happened."""

    date: dt.date
    modality: Modality
    finding: ScanFinding = ScanFinding.not_recorded


_FIELDS = ("date", "modality", "finding")


def _allowed(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


def _normal(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").split())


def _parse_event(raw: object, path: str, issues: list[FieldIssue]) -> ImagingEvent | None:
    if not isinstance(raw, Mapping):
        issues.append(FieldIssue(path, show_value(raw), "must be an object with 'date', "
                                 "'modality' and 'finding'"))
        return None
    for key in raw:
        if key not in _FIELDS:
            issues.append(FieldIssue(f"{path}.{key}", show_value(raw[key]),
                                     "is not a field of an imaging event (allowed: "
                                     "date, modality, finding)"))
    day: dt.date | None = None
    value = raw.get("date")
    if value is None:
        issues.append(FieldIssue(f"{path}.date", "(missing)", "is required (YYYY-MM-DD)"))
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
        if range_rule(day) is not None:
            issues.append(FieldIssue(f"{path}.date", show_value(value), DATE_RULE))
            day = None
    else:
        day = parse_day(value)
        if day is None:
            issues.append(FieldIssue(f"{path}.date", show_value(value), date_rule(value)))
    modality: Modality | None = None
    value = raw.get("modality")
    if value is None:
        issues.append(FieldIssue(f"{path}.modality", "(missing)",
                                 f"is required (one of {_allowed(Modality)})"))
    elif isinstance(value, Modality):
        modality = value
    elif isinstance(value, str) and _normal(value) in Modality.__members__:
        modality = Modality(_normal(value))
    else:
        issues.append(FieldIssue(f"{path}.modality", show_value(value),
                                 f"must be one of {_allowed(Modality)}"))
    finding: ScanFinding | None = ScanFinding.not_recorded
    value = raw.get("finding")
    if value is None and "finding" in raw:
        # JSON null: the schema has no null; a finding not recorded is left out.
        finding = None
        issues.append(FieldIssue(f"{path}.finding", "null",
                                 f"must be one of {_allowed(ScanFinding)} (or left out when "
                                 "not recorded), not null"))
    elif value is None or value == "":
        finding = ScanFinding.not_recorded
    elif isinstance(value, ScanFinding):
        finding = value
    elif isinstance(value, str) and _normal(value) in ScanFinding.__members__:
        finding = ScanFinding(_normal(value))
    else:
        finding = None
        issues.append(FieldIssue(f"{path}.finding", show_value(value),
                                 f"must be one of {_allowed(ScanFinding)} (or left out when "
                                 "not recorded)"))
    if day is None or modality is None or finding is None:
        return None
    return ImagingEvent(day, modality, finding)


@dataclass(frozen=True, slots=True)
class ImagingFloor:
    """The earliest date a scan of the case may carry, and what that date is: the
    surgery (``surgery=True``; scans from it to before the end of curative treatment are
    scans during treatment, I22), or the end of curative treatment when no surgery date
    is recorded."""

    day: dt.date
    surgery: bool


def imaging_floor(case: Case | None) -> ImagingFloor | None:
    """The one rule for the earliest scan date of ``case`` (``None``: no limit): the
    surgery's date when the surgery was performed and dated, else the end of curative
    treatment (:attr:`Case.treatment_end`). A scan from the surgery on is kept; one dated
    before the end of treatment is read as a scan during treatment (I22), so that
    recording the end later never turns a recorded scan into an error."""
    if case is None:
        return None
    surgery = case.surgery
    if surgery.status is SurgeryStatus.performed and surgery.date is not None:
        return ImagingFloor(surgery.date, True)
    end = case.treatment_end
    return None if end is None else ImagingFloor(end, False)


def _date_issues(
    e: ImagingEvent, where: str, floor: ImagingFloor | None, on_date: dt.date | None
) -> list[FieldIssue]:
    issues = []
    if floor is not None and e.date < floor.day:
        if floor.surgery:
            rule = (f"must not be before the surgery ({floor.day.isoformat()}): imaging "
                    "before the operation is not part of follow-up (scans from the surgery "
                    "to the end of curative treatment are kept as scans during treatment)")
        else:
            rule = ("must not be before the end of curative treatment "
                    f"({floor.day.isoformat()}); surveillance imaging starts after treatment")
        issues.append(FieldIssue(where, e.date.isoformat(), rule))
    if on_date is not None and e.date > on_date:
        issues.append(FieldIssue(where, e.date.isoformat(),
                                 f"must not be after the evaluation date "
                                 f"({on_date.isoformat()})"))
    return issues


def check_imaging(
    events: Sequence[ImagingEvent],
    case: Case | None,
    on_date: dt.date | None,
    path: str = "imaging",
) -> list[FieldIssue]:
    """Rule breaks of dated events: before the case's :func:`imaging_floor` (the surgery,
    or the end of treatment when no surgery is dated) or after the evaluation."""
    floor = imaging_floor(case)
    return [
        issue
        for i, e in enumerate(events)
        for issue in _date_issues(e, f"{path}[{i}].date", floor, on_date)
    ]


def parse_imaging(
    data: object,
    *,
    case: Case | None = None,
    on_date: dt.date | None = None,
    source: str = "imaging history",
) -> tuple[ImagingEvent, ...]:
    """Validate an imaging history: a list of events, or ``{"imaging": [...]}``.

    Each event is ``{"date": "YYYY-MM-DD", "modality": ..., "finding": ...}``; the finding
    may be left out (it is then ``not_recorded``). With ``case`` and ``on_date`` the dates
    are also checked against them (:func:`check_imaging`). Raises :class:`InputError` listing every
    problem with its field path (``imaging[2].modality``).
    """
    items: object = data
    if isinstance(data, Mapping):
        extra = [k for k in data if k != "imaging"]
        if extra or "imaging" not in data:
            raise InputError([FieldIssue("(imaging)", show_value(sorted(map(str, data))),
                                         "must be a list of events or an object with the "
                                         "single key 'imaging'")], source)
        items = data["imaging"]
    if not isinstance(items, list | tuple):
        raise InputError([FieldIssue("imaging", show_value(type(items).__name__),
                                     "must be a list of imaging events")], source)
    issues: list[FieldIssue] = []
    events: list[ImagingEvent] = []
    floor = imaging_floor(case)
    for i, raw in enumerate(items):
        event = _parse_event(raw, f"imaging[{i}]", issues)
        if event is not None:
            events.append(event)
            issues.extend(_date_issues(event, f"imaging[{i}].date", floor, on_date))
    if issues:
        raise InputError(issues, source)
    return tuple(events)


def parse_imaging_csv(
    text: str,
    source: str = "imaging history",
    *,
    case: Case | None = None,
    on_date: dt.date | None = None,
) -> tuple[ImagingEvent, ...]:
    """An imaging history as CSV with the header ``date,modality,finding`` (the finding
    column may be left out or empty). Row ``n`` after the header is ``imaging[n-1]``. A
    byte-order mark (a spreadsheet's "CSV UTF-8") is read past; a row with more cells
    than the header names is refused (a cell left over may be a finding)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "date" not in header or "modality" not in header:
        raise InputError([FieldIssue("(csv header)", show_value(",".join(header)),
                                     "must name the columns date, modality and "
                                     "(optionally) finding")], source)
    rows: list[dict[str, str]] = []
    for row in reader:
        extra = [str(v).strip() for v in row.get(None) or () if str(v).strip()]
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if extra:
            raise InputError([FieldIssue(
                f"imaging[{len(rows)}]", show_value(",".join(extra)),
                f"must have no more cells than the header's columns ({', '.join(header)})"
                )], source)
        if not any(clean.values()):
            continue
        rows.append({k: v for k, v in clean.items() if v != "" or k in ("date", "modality")})
    return parse_imaging(rows, source=source, case=case, on_date=on_date)
