"""The repository: every registry use case is one method and one transaction.

Writes go through :class:`Repository` only; each writing method adds an ``audit_log`` row
for every row it creates (who, when, what, which entity), in the same transaction, so a
change without its audit entry cannot be committed. Nothing is ever updated or deleted:
a new case version, assessment or scan is a new row, and a scan or an outcome entered in
error is withdrawn by a row naming it (every read leaves it out). The one exception is derived data:
``worklist_state``, a patient's surveillance state as the worklist reads it, is replaced
in the transaction of every write that changes it (a new case version, a scan, a
re-assessment), or removed when the writer did not compute it, so that it is never
stale; it is a cache of the rows above, so it has no audit entry.

Concurrency: on SQLite every transaction takes the write lock when it begins (see
:mod:`pecoma.store.db`); on PostgreSQL a patient is created with ``INSERT … ON CONFLICT
DO NOTHING`` and locked (``SELECT … FOR UPDATE``, in registry-id order) before a case
version is numbered, and a transaction that loses a deadlock or serialisation race is
retried. Two processes importing and recording at once therefore lose nothing.

Nothing here logs a registry id or a label.

:class:`Repository` is composed of one part per concern, each in its own module: the
transactions (:mod:`.base`), bulk writes (:mod:`.bulk`), the audit log (:mod:`.audit`),
worklist states (:mod:`.states`), outcomes (:mod:`.outcomes`), scans (:mod:`.scans`),
withdrawals of scans and outcomes entered in error (:mod:`.withdrawals`),
cases and assessments (:mod:`.cases`), reads of patients (:mod:`.patients`) and reads for
the exports and figures (:mod:`.exports`); the records they take and give are in
:mod:`.records`, the checks of ids and the case digests in :mod:`.checks`.
"""

from __future__ import annotations

from pecoma.store.repository.cases import Cases
from pecoma.store.repository.checks import (
    case_digest,
    case_text_digest,
    case_variant_rule,
    check_actor,
    check_registry_id,
)
from pecoma.store.repository.exports import Exports
from pecoma.store.repository.patients import PatientReads
from pecoma.store.repository.records import (
    AddResult,
    AssessmentData,
    AuditView,
    CaseCheck,
    CaseRefused,
    CaseSubmission,
    CorrectionKept,
    FileImport,
    OutcomeCheck,
    OutcomeData,
    OutcomeView,
    PatientBasis,
    PatientState,
    Recorded,
    RoutineFacts,
    ScanCheck,
    ScanData,
    ScanView,
    StateData,
    StateRow,
    Timeline,
    WithdrawalView,
)
from pecoma.store.repository.scans import Scans
from pecoma.store.repository.withdrawals import REASON_MAX, EntryKind, Withdrawals

__all__ = [
    "REASON_MAX",
    "AddResult",
    "AssessmentData",
    "AuditView",
    "CaseCheck",
    "CaseRefused",
    "CaseSubmission",
    "CorrectionKept",
    "EntryKind",
    "FileImport",
    "OutcomeCheck",
    "OutcomeData",
    "OutcomeView",
    "PatientBasis",
    "PatientState",
    "Recorded",
    "Repository",
    "RoutineFacts",
    "ScanCheck",
    "ScanData",
    "ScanView",
    "StateData",
    "StateRow",
    "Timeline",
    "WithdrawalView",
    "case_digest",
    "case_text_digest",
    "case_variant_rule",
    "check_actor",
    "check_registry_id",
]


class Repository(Cases, Scans, Withdrawals, PatientReads, Exports):
    """The registry's use cases over one database engine."""
