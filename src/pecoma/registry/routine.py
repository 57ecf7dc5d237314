"""Whether a patient is under routine surveillance as of a date, and until when: the one
rule behind the worklist, the patient's page and calendar (``plan.ics``) and the
surveillance quality figures; with it, the relapse a patient's latest case records and
the outcomes that record disease present (:func:`relapses_after`), which the survival
figures count as a recurrence as well.

Routine surveillance is the dated plan's visits (:mod:`pecoma.engine.schedule`): from the
end of treatment, or, when the latest case records a relapse (disease status recurrent
or metastatic) and the date the patient is free of disease again, from that date (I8).
A relapse is known from two sources, and both count: an outcome (a recurrence,
metastasis or progression recorded with its date) and a case version (the disease
status recurrent or metastatic). Routine surveillance stops:

- at a death, or at the last contact of a patient lost to follow-up with nothing
  recorded after it (:func:`pecoma.registry.outcomes.closure`): the patient left it;
- at the first relapse recorded as an outcome that the latest case does not hold (the
  case localized, or the relapse dated after the case's free-of-disease date): routine
  visits are suspended until the case records it (S17, S27); so too at the first last
  contact that says alive with disease after the day the latest case holds the patient
  free of disease from (:func:`free_from`): either a relapse is not recorded or the vital
  status is wrong, and routine visits as if free of disease are the unsafe reading;
- at the relapse the latest case records while it gives no date free of disease again:
  disease is present, and the engine draws no plan (FU-NO-PLAN-ACTIVE-DISEASE); since
  the case's date of it (its first metastasis detected), or the first relapse recorded
  as an outcome, else since an unknown date;
- at a scan finding disease: the engine suspends the plan itself (FU-SUSPENDED-RECURRENCE).

A patient who left surveillance lost to follow-up after disease was recorded present
that the latest case does not hold (a relapse recorded as an outcome, a contact alive
with disease: :attr:`Routine.not_in_case`) is the patient to trace first: the reason says
so, and the worklist keeps the critical alert on the row, as for a scan that found
disease.

:func:`routine` gives the first three from the patient's outcomes and
:func:`case_relapse`; nothing here reads the registry (the worklist and the patient's
page and calendar read the facts with :meth:`Repository.routine_facts
<pecoma.store.repository.Repository.routine_facts>`, through :func:`routine_of`; the
quality figures take them from the evaluated cases and the outcomes, through
:func:`relapse_of`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeVar

from pecoma.engine.imaging import ScanFinding
from pecoma.registry.outcomes import closure

if TYPE_CHECKING:
    from pecoma.case import Case
    from pecoma.store.repository import OutcomeData, OutcomeView, RoutineFacts, ScanData

__all__ = [
    "DISEASE_FINDINGS",
    "RECURRENCE_EVENTS",
    "RELAPSE_EVENTS",
    "CaseRelapse",
    "RecordedRelapse",
    "Routine",
    "case_relapse",
    "free_from",
    "free_from_of",
    "primary_as_resected",
    "recorded_relapses",
    "relapse_of",
    "relapse_scans",
    "relapses_after",
    "routine",
    "routine_of",
]

RELAPSE_EVENTS = frozenset({"local_recurrence", "distant_metastasis", "progression"})
"""The outcomes that record a relapse (a progression too: after a resection that left no
disease, disease that progresses has come back)."""

RECURRENCE_EVENTS = ("local_recurrence", "distant_metastasis")
"""The outcomes that record a recurrence or a metastasis (not a progression)."""

DISEASE_FINDINGS = tuple(f.value for f in ScanFinding if f.disease)
"""The scan findings that record a relapse: a surveillance scan that found a local
recurrence or a metastasis (:attr:`pecoma.engine.imaging.ScanFinding.disease`). The
engine suspends the plan at it, recurrence-free survival counts it
(:meth:`Repository.cohort_rows <pecoma.store.repository.Repository.cohort_rows>`) and
the research exports carry it (:func:`recorded_relapses`)."""

#: The outcome a scan finding of :data:`DISEASE_FINDINGS` records.
_SCAN_EVENT = {"local_recurrence": "local_recurrence", "metastasis": "distant_metastasis"}

_RELAPSED = frozenset({"recurrent", "metastatic"})


@dataclass(frozen=True, slots=True)
class CaseRelapse:
    """The relapse a patient's latest case version records: its disease status
    (recurrent or metastatic; recurrent with metastases listed is metastatic), the date
    the case gives it (``on``: the first metastasis detected, when every metastasis
    listed is dated; ``None``: the case does not date it, a local recurrence never is)
    and the date the patient is free of disease again (``None``: not recorded, disease
    present)."""

    status: str
    on: dt.date | None
    free_since: dt.date | None


def case_relapse(status: str | None, detected: Sequence[dt.date | None],
                 free_since: dt.date | None) -> CaseRelapse | None:
    """The relapse a case records from its disease status, its metastases' detection
    dates (``None`` for one not dated) and its free-of-disease date; ``None`` when the
    status records no relapse (localized, or locally advanced). A recurrence with
    metastases listed is a metastatic relapse, as the advice reads it (I6): the label
    picked does not decide whether the relapse is dated, nor its kind."""
    if status not in _RELAPSED:
        return None
    if detected:
        status = "metastatic"
    dated = [d for d in detected if d is not None]
    on = min(dated) if status == "metastatic" and dated and len(dated) == len(detected) \
        else None
    return CaseRelapse(status, on, free_since)


@dataclass(frozen=True, slots=True)
class RecordedRelapse:
    """A local recurrence or metastasis the registry records: ``event``
    (``local_recurrence``, ``distant_metastasis``), the day it was found (``None``: not
    dated), how (``None``: not recorded), whether it is known only from the case
    version (``from_case``) and the day of the surveillance scan that found it, when a
    scan did (``scan_on``: then ``on`` too)."""

    event: str
    on: dt.date | None
    found_by: str | None
    from_case: bool = False
    scan_on: dt.date | None = None


def recorded_relapses(case: Case | None, outcomes: Sequence[OutcomeData | OutcomeView],
                      scans: Sequence[ScanData] = ()) -> tuple[RecordedRelapse, ...]:
    """THE recurrences and metastases of a patient, from every source, for every figure
    and export that counts them (the surveillance quality, OMOP, FHIR): each local
    recurrence and distant metastasis recorded as an outcome (``outcomes``: those
    dated by the evaluation date); each relapse a surveillance scan found (``scans``:
    those done by the evaluation date, not withdrawn, that found a relapse:
    :func:`relapse_scans`), dated by the scan, found at a scheduled scan; and
    the relapse the case version records (:func:`relapse_of`: a metastatic case gives a
    distant metastasis dated by its first metastasis detected, a recurrent one a local
    recurrence, not dated) when it follows a resection of the primary (the case records
    one, and the relapse, when dated, after it: disease present at presentation is no
    recurrence) and no outcome or scan records that relapse already: one dated on or
    before the case's date free of disease again, or any when it gives none (as
    :func:`routine` holds them). A scan finding the kind of disease (local recurrence,
    metastasis) an outcome or an earlier scan records in the same stretch of disease
    (both on or before the case's date free of disease again, or both after it) is
    that relapse seen again, not another: it dates it when it came first. By date,
    those not dated last. Survival counts the same sources and needs only the first
    date (:mod:`pecoma.registry.survival`)."""
    found = [RecordedRelapse(o.event, o.event_date, o.found_by)
             for o in outcomes if o.event in RECURRENCE_EVENTS]
    relapse = relapse_of(case) if case is not None else None
    resected = case is not None and case.surgery.status.value == "performed"
    free = relapse.free_since if relapse is not None else None

    def later(day: dt.date) -> bool:
        """After the case's date free of disease again: a later stretch of disease."""
        return free is not None and day > free

    for scan in relapse_scans(case, scans):
        event, day = _SCAN_EVENT[scan.finding], scan.performed_on
        same = next((i for i, r in enumerate(found) if r.event == event
                     and r.on is not None and later(r.on) == later(day)), None)
        if same is None:
            found.append(RecordedRelapse(event, day, "scheduled_scan", scan_on=day))
        elif (on := found[same].on) is not None and day < on:
            found[same] = replace(found[same], on=day, scan_on=day)
    if relapse is not None and resected and not (
            case is not None and case.surgery.date is not None and relapse.on is not None
            and relapse.on <= case.surgery.date) and not any(
            relapse.free_since is None
            or (r.on is not None and r.on <= relapse.free_since) for r in found):
        event = "distant_metastasis" if relapse.status == "metastatic" else "local_recurrence"
        found.append(RecordedRelapse(event, relapse.on, None, from_case=True))
    return tuple(sorted(found, key=lambda r: (r.on is None, r.on or dt.date.min)))


def relapse_scans(case: Case | None, scans: Sequence[ScanData]) -> list[ScanData]:
    """The scans of ``scans`` (live, done by the evaluation date) that found a relapse,
    by date: a finding of :data:`DISEASE_FINDINGS` in a patient free of disease then,
    i.e. the case records a resection of the primary (performed), the scan is not
    before its day (a scan from the surgery on is follow-up, as ``record-scan``, the
    worklist and recurrence-free survival take it), and the case does not record
    disease present at the resection (a metastasis detected on or before the surgery)
    that no date free of disease again before the scan clears. Disease a scan finds in
    a patient never free of it (never resected, or metastatic at presentation) is that
    disease persisting or progressing, no recurrence: recurrence-free survival leaves
    such a patient out, and the exports give it no recurrence either."""
    if case is None or case.surgery.status.value != "performed":
        return []
    resected_on = case.surgery.date
    relapse = relapse_of(case)
    present = (relapse is not None and relapse.on is not None and resected_on is not None
               and relapse.on <= resected_on)

    def free_then(day: dt.date) -> bool:
        if resected_on is not None and day < resected_on:
            return False
        if present:
            since = relapse.free_since if relapse is not None else None
            return since is not None and day > since
        return True

    return [sc for sc in sorted(scans, key=lambda sc: sc.performed_on)
            if sc.finding in _SCAN_EVENT and free_then(sc.performed_on)]


def relapse_of(case: Case) -> CaseRelapse | None:
    """:func:`case_relapse` of a parsed case."""
    free = case.free_of_disease
    return case_relapse(case.stage.status.value,
                        [m.detected_on for m in case.stage.metastases],
                        free.since if free is not None else None)


def primary_as_resected(case: Case) -> Case | None:
    """The case as the resection of its localized primary left it, when a case that
    records a relapse (recurrent or metastatic) records that resection too: the surgery
    performed on a recorded day and every metastasis listed metachronous (found after the
    end of the primary's treatment, beyond its work-up, or stated so: I7, I29), so none
    was known when the primary was removed; a recurrence with no metastasis listed came
    back after the resection. The primary's facts are kept (tumour, histology,
    immunohistochemistry, nodes, surgery, adjuvant treatment); the relapse is taken away
    (no metastasis, no free-of-disease date, no line for advanced disease, nothing said
    about the present disease's spread or resection). ``None`` when the
    case records no relapse, no dated resection, or a metastasis that was, or may have
    been, there at the resection: the risk group and the recurrence-free time are then
    not those of a resected localized tumour. A patient first registered after a relapse
    holds only such a version: survival and the quality figures read the primary from it
    as they read it from an earlier version (:mod:`pecoma.registry.survival`)."""
    from pecoma.case.timing import case_timings
    from pecoma.case.values import (
        DiseaseStatus,
        SurgeryStatus,
        TherapySetting,
        Timing,
        YesNo,
    )

    if (case.stage.status.value not in _RELAPSED
            or case.surgery.status is not SurgeryStatus.performed
            or case.surgery.date is None
            or any(t is not Timing.metachronous for t in case_timings(case))):
        return None
    stage = case.stage.model_copy(update={
        "status": DiseaseStatus.localized, "metastases": (), "suspected_metastases": (),
        "disease_free_interval_months": None, "extrapulmonary_disease": YesNo.unknown,
        "resectable": YesNo.unknown, "complete_excision_feasible": YesNo.unknown})
    systemic = case.systemic.model_copy(update={"therapies": tuple(
        t for t in case.systemic.therapies if t.setting is not TherapySetting.advanced)})
    return case.model_copy(update={"stage": stage, "systemic": systemic,
                                   "free_of_disease": None})


def free_from(free_since: dt.date | None, surgery: object) -> dt.date | None:
    """The day a case holds the patient free of disease from: its date free of disease
    again, else the day of the resection recorded as leaving no gross tumour (``surgery``:
    the case's surgery as stored; the completing resection's when one is recorded): its
    margin R0, R1 or uncertain, the rule of
    :func:`pecoma.engine.facts.gross_tumour_left`; gross tumour left (R2) and cleared
    without a further resection (``gross_residue_cleared``), the day it was cleared.
    ``None``: none recorded, its date not known, gross tumour left (R2), or the margin
    that decides it not recorded (the resection may have left gross tumour: unknown, not
    a known day free of disease). A
    last contact that says alive with disease after it is one the case does not hold
    (before it, or with no such day, disease was there or may have been)."""
    if free_since is not None:
        return free_since
    if not isinstance(surgery, dict) or surgery.get("status") != "performed":
        return None
    done = surgery.get("completion")
    last = done if isinstance(done, dict) else surgery
    margin, day = last.get("margin"), last.get("date")
    cleared = surgery.get("gross_residue_cleared")
    if margin == "R2" and isinstance(cleared, dict):
        day = cleared.get("date")  # cleared without a resection: free from that day
    elif margin not in _NO_GROSS_LEFT:
        return None  # gross tumour left, or may have been: no known day free of disease
    try:
        return dt.date.fromisoformat(day[:10]) if isinstance(day, str) else None
    except ValueError:
        return None  # a stored text that is no date: not known


#: The stored margins after which a resection left no gross tumour (microscopic at most).
_NO_GROSS_LEFT = ("R0", "R1", "uncertain")


def free_from_of(case: Case) -> dt.date | None:
    """:func:`free_from` of a parsed case."""
    free = case.free_of_disease
    return free_from(free.since if free is not None else None,
                     case.surgery.model_dump(mode="json"))


Stop = Literal["deceased", "lost_to_follow_up", "suspended"]


@dataclass(frozen=True, slots=True)
class Routine:
    """Whether a patient is under routine surveillance: ``stop`` is ``None`` while it
    runs; else why it stopped (``deceased``, ``lost_to_follow_up``: the patient left it;
    ``suspended``: a relapse), ``until`` the first day it no longer runs (``None``: not
    known) and ``reason`` what the worklist says instead of a next visit; ``reported``:
    the day of a last contact that says alive with disease which the case does not hold
    (``None``: none), for the worklist's alert; ``not_in_case``: the relapse that
    suspended it is recorded as an outcome (or said by such a contact) and the latest
    case does not hold it (not one the case itself records while giving no date free of
    disease again). Both are kept when the patient then left surveillance lost to
    follow-up: disease no one has decided on makes the patient the one to trace first,
    whichever record says it (the reason says so too)."""

    stop: Stop | None
    until: dt.date | None
    reason: str
    reported: dt.date | None = None
    not_in_case: bool = False

    def runs_on(self, day: dt.date) -> bool:
        """Routine surveillance ran on ``day`` (a visit whose window closed that day
        belongs to it; one that closed later does not)."""
        return self.stop is None or (self.until is not None and day < self.until)


_FOLLOWED = Routine(None, None, "")

_O = TypeVar("_O", bound="OutcomeData | OutcomeView")


def _reported(o: OutcomeData | OutcomeView, since: dt.date | None) -> bool:
    """A last contact that says alive with disease after ``since``, the day the case
    holds the patient free of disease from (``None``: no such day, none is)."""
    return (since is not None and o.event == "last_contact"
            and o.vital_status == "alive_with_disease" and o.event_date > since)


def _reported_text(day: dt.date) -> str:
    """What a last contact alive with disease that the case does not hold says."""
    return (f"last contact on {day.isoformat()} recorded alive with disease, which the case "
            "does not hold (no relapse in it)")


def relapses_after(outcomes: Sequence[_O], since: dt.date | None, free: dt.date | None
                   ) -> list[_O]:
    """THE rule of the outcomes that record disease present after a time free of it:
    each recurrence, metastasis or progression (:data:`RELAPSE_EVENTS`) dated after
    ``since`` (any, when ``None``), and each last contact that says alive with disease
    dated after ``free``, the day the case holds the patient free of disease from
    (:func:`free_from`; ``None``: no such day, so none: disease was there or may have
    been). The worklist stops routine surveillance at the first that the case does not
    hold (:func:`routine`: ``since`` the case's date free of disease again); recurrence-
    free survival counts the first after a resection as the relapse, dated by the day
    it was recorded (:mod:`pecoma.registry.survival`: ``since`` the resection)."""
    return [o for o in outcomes
            if (o.event in RELAPSE_EVENTS and (since is None or o.event_date > since))
            or _reported(o, free)]


@dataclass(frozen=True, slots=True)
class _Relapse:
    """Since when and why a relapse stopped routine surveillance: ``what`` the record of
    disease present (the reason's subject, also when the patient is lost to follow-up
    after it), ``todo`` what to record; ``reported``: a last contact alive with disease
    stopped it; ``held``: the relapse the latest case itself records (no date free of
    disease again), not one the case does not hold."""

    since: dt.date | None
    what: str
    todo: str
    reported: bool = False
    held: bool = False


def _relapse(case: CaseRelapse | None, outcomes: Sequence[OutcomeData | OutcomeView],
             free: dt.date | None) -> _Relapse | None:
    """The relapse that stopped routine surveillance (``free``: see :func:`free_from`), or
    ``None``."""
    recorded = [o for o in outcomes if o.event in RELAPSE_EVENTS]
    if case is not None and case.free_since is None:
        dates = [d for d in (case.on, *(o.event_date for o in recorded)) if d is not None]
        since = min(dates, default=None)
        when = f" (since {since.isoformat()})" if since is not None else ""
        return _Relapse(since, f"the case records {case.status} disease{when} and no date "
                        "free of disease again",
                        "no routine visit while disease is present (I8)", held=True)
    new = relapses_after(outcomes, case.free_since if case is not None else None, free)
    if not new:
        return None  # none, or only the relapse the case records, treated since
    first = new[0]
    if first.event == "last_contact":
        return _Relapse(first.event_date, _reported_text(first.event_date),
                        "record the recurrence or metastasis (what, found when) in a new "
                        "case version, or correct the vital status (the last contact "
                        "entered again on that day) (S17, S27)", reported=True)
    found = f", found by {first.found_by.replace('_', ' ')}" if first.found_by else ""
    return _Relapse(first.event_date,
                    f"{first.event.replace('_', ' ')} recorded on "
                    f"{first.event_date.isoformat()}{found}, which the case does not hold",
                    "record the new case version (recurrent or metastatic) so that the "
                    "advice and the plan follow it (S17, S27)")


def routine(case: CaseRelapse | None, outcomes: Sequence[OutcomeData | OutcomeView],
            last_scan: dt.date | None, free: dt.date | None = None) -> Routine:
    """THE rule: whether the patient is under routine surveillance, from the relapse its
    latest case records (:func:`case_relapse`; ``None``: none), its outcomes dated on or
    before the evaluation date (by date, then in recording order), its last scan by
    then and the day the latest case holds the patient free of disease from
    (:func:`free_from`; ``None``: none known, a contact alive with disease contradicts
    nothing). A patient who left surveillance is listed
    as such, whatever relapse came before; ``until`` is the earliest date either
    stopped it."""
    left = closure(outcomes, last_scan)
    relapse = _relapse(case, outcomes, free)
    if left is None and relapse is None:
        return _FOLLOWED
    # disease recorded present that the latest case does not hold: no one has decided on it
    open_ = relapse is not None and not relapse.held
    reported = relapse.since if relapse is not None and relapse.reported else None
    if left is not None:
        ends = [left.since] if relapse is None else [left.since, relapse.since]
        until = None if None in ends else min(d for d in ends if d is not None)
        if left.status == "deceased":
            return Routine("deceased", until, left.reason)
        if relapse is None or not open_:
            return Routine("lost_to_follow_up", until, left.reason)
        # a patient lost with disease left open is the one to trace first (S17, S27)
        return Routine("lost_to_follow_up", until,
                       f"{left.reason}, and the {relapse.what}: trace the patient first; "
                       f"{relapse.todo}", reported, not_in_case=True)
    assert relapse is not None
    suspended = "" if relapse.held else "routine visits are suspended; "
    return Routine("suspended", relapse.since, f"{relapse.what}: {suspended}{relapse.todo}",
                   reported, not_in_case=open_)


def routine_of(facts: RoutineFacts, last_scan: dt.date | None) -> Routine:
    """:func:`routine` from the facts the registry reads (:meth:`Repository.routine_facts
    <pecoma.store.repository.Repository.routine_facts>`), for the worklist and the
    patient's page and calendar."""
    return routine(case_relapse(facts.stage_status, facts.detected, facts.free_since),
                   facts.outcomes, last_scan, free_from(facts.free_since, facts.surgery))
