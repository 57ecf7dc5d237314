"""The records the repository takes and gives: what is stored of an assessment, a
worklist state, a case submission, a scan and an outcome, and the views read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pecoma.errors import FieldIssue
from pecoma.store.rawjson import RawJSON


@dataclass(frozen=True, slots=True)
class AssessmentData:
    """What is stored of an assessment: its output, versions and the headline facts."""

    evaluated_on: dt.date
    knowledge_version: str
    engine_version: str
    settings_digest: str
    risk_group: str
    disease_status: str
    record_ids: tuple[str, ...]
    next_due: dt.date | None
    output: RawJSON | dict[str, Any]
    reason: str
    folpe_category: str | None = None
    icdo3_morphology: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "folpe_category": self.folpe_category,
            "icdo3_morphology": self.icdo3_morphology,
            "evaluated_on": self.evaluated_on,
            "knowledge_version": self.knowledge_version,
            "engine_version": self.engine_version,
            "settings_digest": self.settings_digest,
            "risk_group": self.risk_group,
            "disease_status": self.disease_status,
            "record_ids": list(self.record_ids),
            "next_due": self.next_due,
            "output": self.output,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class StateData:
    """A patient's stored worklist state (see :class:`~pecoma.store.models.WorklistState`).

    ``scan_stamp`` is the patient's scan stamp
    (:func:`~pecoma.store.repository.base.scan_stamp`: scans ever recorded plus scans
    withdrawn) read BEFORE the scans the state was computed from (or in the very
    transaction that stores it, the patient locked): a state is stored only if it equals
    the stamp where it is stored, so a state computed before a scan was recorded or
    withdrawn is not stored (the worklist recomputes the patient). ``None``: not stamped,
    a state as :mod:`pecoma.registry.state` computes it; never stored. Stored in the
    column ``scan_count`` of ``worklist_state``. ``alerts`` are the record ids of the
    plan's alerts (``None``: not known, a state stored before they were kept; it is never
    used).
    """

    scan_stamp: int | None
    knowledge_version: str
    engine_version: str
    settings_digest: str
    valid_from: dt.date | None
    plan_status: str
    risk_group: str | None
    disease_status: str | None
    last_scan: dt.date | None
    visit: int | None
    phase: str | None
    due: dt.date | None
    latest: dt.date | None
    imaging: tuple[str, ...]
    last_done_visit: int | None
    last_done_on: dt.date | None
    record: str | None
    provenance: str | None
    reason: str
    alerts: tuple[str, ...] | None
    valid_until: dt.date | None = None
    """The last evaluation date the state holds for (``None``: every date from
    ``valid_from`` on): the plan is drawn otherwise after it without a new fact (an owed
    examination's visit joined to the routine visit once that is due,
    :attr:`pecoma.engine.plan.SurveillancePlan.drawn_alike`)."""

    def row(self) -> dict[str, Any]:
        return {
            "scan_count": self.scan_stamp,
            "knowledge_version": self.knowledge_version,
            "engine_version": self.engine_version,
            "settings_digest": self.settings_digest,
            "valid_from": self.valid_from,
            "plan_status": self.plan_status,
            "risk_group": self.risk_group,
            "disease_status": self.disease_status,
            "last_scan": self.last_scan,
            "visit": self.visit,
            "phase": self.phase,
            "due": self.due,
            "latest": self.latest,
            "imaging": " ".join(self.imaging),
            "last_done_visit": self.last_done_visit,
            "last_done_on": self.last_done_on,
            "record": self.record,
            "provenance": self.provenance,
            "reason": self.reason,
            "alerts": None if self.alerts is None else " ".join(self.alerts),
            "valid_until": self.valid_until,
        }


@dataclass(frozen=True, slots=True)
class StateRow:
    """A patient with its stored worklist state (``None`` when there is none) and the
    basis that state must match to be current: latest case version and scan stamp
    (:func:`~pecoma.store.repository.base.scan_stamp`).
    """

    patient_id: int
    registry_id: str
    version: int | None
    scan_stamp: int
    state_version: int | None
    state: StateData | None

    @property
    def current(self) -> bool:
        """The state was computed from the patient's latest case version and its scans
        as they are (no scan recorded or withdrawn since: the same scan stamp)."""
        return (
            self.state is not None
            and self.state_version == self.version
            and self.state.scan_stamp == self.scan_stamp
        )


@dataclass(frozen=True, slots=True)
class CaseSubmission:
    """A validated case for one patient, with its assessment, ready to be stored.

    ``state`` is the patient's worklist state with this case (``None``: not computed;
    the patient's stored state is then removed and the worklist recomputes it).
    ``outcomes_only``: the submission carries outcomes and, of a case, only what is
    required (an import row recording a last contact): when the patient has a case
    stored, the :data:`CaseCheck` may keep that case and store only the outcomes.
    """

    registry_id: str
    submitted: dict[str, Any]
    digest: str
    source: str
    assessment: AssessmentData
    state: StateData | None = None
    outcomes: tuple[OutcomeData, ...] = ()
    outcomes_only: bool = False


StateRefresh = Callable[[dict[str, Any], "tuple[ScanData, ...]"], StateData]


@dataclass(frozen=True, slots=True)
class ScanData:
    performed_on: dt.date
    modality: str
    finding: str


@dataclass(slots=True)
class AddResult:
    """What a case-storing use case changed."""

    new_patients: int = 0
    new_versions: int = 0
    unchanged: int = 0
    versions: dict[str, int] = field(default_factory=dict)
    new_outcomes: int = 0


@dataclass(frozen=True, slots=True)
class StoredView:
    """The latest stored assessment of a patient, in brief."""

    id: int
    case_version_id: int
    evaluated_on: dt.date
    knowledge_version: str
    engine_version: str
    settings_digest: str
    risk_group: str
    disease_status: str
    record_ids: tuple[str, ...]
    next_due: dt.date | None
    reason: str
    created_at: dt.datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class PatientState:
    """A patient's current picture: latest case version, scans, latest assessment, and the
    scan stamp read before the scans (:func:`~pecoma.store.repository.base.scan_stamp`:
    a state computed from these scans is stored with it, see :class:`StateData`)."""

    patient_id: int
    registry_id: str
    case_version_id: int | None
    version: int | None
    case: dict[str, Any] | None
    scans: tuple[ScanData, ...]
    latest: StoredView | None
    scan_stamp: int


@dataclass(frozen=True, slots=True)
class PatientBasis:
    """What a re-assessment reads of a patient before its case: the latest case version
    (id and number), the latest stored assessment, and the stored worklist state with what
    it must match to be current (see :class:`StateRow`)."""

    patient_id: int
    registry_id: str
    case_version_id: int | None
    version: int | None
    latest: StoredView | None
    state_row: StateRow


@dataclass(frozen=True, slots=True)
class CaseView:
    id: int
    version: int
    case: dict[str, Any]
    digest: str
    source: str
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class ScanView:
    id: int
    performed_on: dt.date
    modality: str
    finding: str
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class OutcomeData:
    """An outcome event to store (see :mod:`pecoma.registry.outcomes`); ``scan_id`` is the
    scan that found it, when there is one."""

    event: str
    event_date: dt.date
    vital_status: str | None = None
    found_by: str | None = None
    scan_id: int | None = None

    def same_fact(self, other: OutcomeData | OutcomeView) -> bool:
        """Both say the same thing (re-importing a file records nothing new)."""
        return (self.event, self.event_date, self.vital_status, self.found_by) == (
            other.event, other.event_date, other.vital_status, other.found_by)


@dataclass(frozen=True, slots=True)
class WithdrawalView:
    """A scan or an outcome withdrawn as entered in error: which (``kind``, ``entry_id``),
    its date and what it said in words, why, when and by whom it was withdrawn."""

    kind: str
    entry_id: int
    entry_date: dt.date
    what: str
    reason: str
    withdrawn_at: dt.datetime
    withdrawn_by: str


@dataclass(frozen=True, slots=True)
class OutcomeView:
    id: int
    event: str
    event_date: dt.date
    vital_status: str | None
    found_by: str | None
    scan_id: int | None
    recorded_at: dt.datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class RoutineFacts:
    """What decides whether a patient is still under routine surveillance as of a date
    (:mod:`pecoma.registry.routine`): the outcomes dated on or before it, by date, and
    the latest case version's disease status, its metastases' detection dates (``None``
    for one not dated, or not a date), its free-of-disease date and its surgery (as
    stored: :func:`pecoma.registry.routine.free_from` reads it)."""

    outcomes: tuple[OutcomeView, ...]
    stage_status: str | None
    detected: tuple[dt.date | None, ...]
    free_since: dt.date | None
    surgery: Any = None


OutcomeCheck = Callable[
    [dict[str, Any] | None, "tuple[OutcomeView, ...]", "tuple[ScanView, ...]",
     Sequence[OutcomeData]],
    Sequence[OutcomeData],
]
"""``check(latest case, stored outcomes, scans, new outcomes)`` -> the new outcomes to
store (with their scans linked), or :class:`InputError` naming each contradiction."""

@dataclass(frozen=True, slots=True)
class Recorded:
    """What the registry holds of a patient beside its case, that a new case version is
    checked against: the recorded death, the scans and the outcomes (the current
    entries), each by date, and the number of the patient's current case version with the
    day it was recorded on (:func:`~pecoma.store.repository.base.recorded_on`; ``None``:
    no version, or one stored without a date)."""

    death: dt.date | None = None
    scans: tuple[ScanView, ...] = ()
    outcomes: tuple[OutcomeView, ...] = ()
    current: tuple[int, dt.date] | None = None


CaseCheck = Callable[[CaseSubmission, dict[str, Any] | None, Recorded],
                     "list[FieldIssue] | None"]
"""``check(submission, patient's latest stored case or None, what else is recorded)``
-> the problems of storing the submission as the patient's new case version (empty:
store it), or ``None``: keep the stored case and store only the submission's outcomes."""

ScanCheck = Callable[[dict[str, Any] | None, dt.date | None], "list[FieldIssue]"]
"""``check(patient's latest stored case or None, recorded death or None)`` -> the
problems of storing a scan (empty: store it). It runs inside the writing transaction with
the patient locked, so a death or a case version recorded at the same moment is seen."""

CaseRefused = Callable[[CaseSubmission, "list[FieldIssue]"], None]
"""Told of a submission refused by the :data:`CaseCheck` (nothing of it is stored)."""

CorrectionKept = Callable[[CaseSubmission, "list[FieldIssue]"], None]
"""Told of an imported submission whose case equals an earlier version of the patient's
case that a later version replaced, or whose outcome equals an entry that a later one
corrected. A file imported before (see :class:`FileImport`) keeps the correction: that
case or outcome is not stored, and told so. A file new to the registry is the source's
current word: it is stored (the earlier value brought back), and told so."""


@dataclass(frozen=True, slots=True)
class FileImport:
    """The file an import reads: its name and the digest of the table it holds (hex,
    :func:`~pecoma.registry.import_table.table_digest`: its cells, whatever its line
    ends, separator or format), recorded with the import (table ``imported_file``) so
    that importing it again, or the same table saved again, is known."""

    name: str
    digest: str


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int
    patient_id: int | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Timeline:
    registry_id: str
    created_at: dt.datetime
    cases: tuple[CaseView, ...]
    assessments: tuple[StoredView, ...]
    scans: tuple[ScanView, ...]
    audit: tuple[AuditView, ...]
    outcomes: tuple[OutcomeView, ...] = ()

