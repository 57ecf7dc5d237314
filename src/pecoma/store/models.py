"""The registry's tables, as typed SQLAlchemy 2 models.

The migrations in :mod:`pecoma.store.migrations` create exactly these tables (a test
checks that Alembic's autogenerate finds no difference).

- ``patient``: one row per person, known only by a pseudonymous registry id.
- ``case_version``: the case as submitted (JSON), numbered 1, 2, … per patient; never
  changed once written (a database trigger refuses updates and deletes).
- ``assessment``: what the engine said about one case version on one evaluation date,
  with the knowledge, engine and settings versions that produced it (and, copied from
  its output for the registry's figures, the Folpe 2005 category and ICD-O-3 morphology
  when determined).
- ``imaging_event``: a surveillance scan: date, modality, finding.
- ``outcome_event``: what happened to the patient after treatment: last contact with
  vital status, local recurrence, distant metastasis, progression on systemic therapy,
  death; append-only (trigger-enforced), a correction is a new row.
- ``board_decision``: what was decided about one recommendation: accepted, declined or
  deferred, with a coded reason and free text, who and when. From the tumour board
  (``source = 'board'``: the patient and the stored assessment named) or from a CDS Hooks
  feedback (``source = 'cds-hooks'``: the card, no patient). Append-only
  (trigger-enforced): a later row for the same assessment and recommendation supersedes
  the earlier one, which stays readable.
- ``entry_withdrawal``: a scan or an outcome withdrawn as entered in error, with the
  reason in words, who and when; append-only (trigger-enforced), one row per withdrawn
  entry at most. Every reader of the scans and outcomes leaves a withdrawn entry out;
  the entry itself stays, with its audit entry (migration 0014).
- ``audit_log``: one row for every change, append-only (trigger-enforced).
- ``imported_file``: one row for every committed import of a file (a CSV or XLSX file of
  cases, an export's scans or outcomes table): the SHA-256 of the table it holds (its
  cells, not its bytes), its name, who and when; append-only
  (trigger-enforced). An import tells by it whether its file was imported before: only
  then does a row equal to a replaced case version keep the later one (migration 0013).
- ``worklist_state``: per patient, the surveillance state the worklist reads (derived
  from the rows above, replaced in the transaction of every write that changes it).
- ``api_token``: server-mode API tokens: name, role and the SHA-256 digest of the token
  (never the token itself); revoked by setting ``revoked_at``.
- ``cds_jti``, ``cds_report``, ``cds_card``, ``cds_feedback``: the CDS Hooks service's
  memory (JWT replay cache, reports behind card links, cards issued, clinicians'
  feedback), shared by every worker; no patient identifier in any of them
  (see :mod:`pecoma.store.cds`).
- ``smart_launch``: a SMART App Launch in progress, between the redirect to the EHR's
  authorization server and its return: the SHA-256 digests of the ``state`` and of the
  browser's binding cookie, the PKCE verifier, the FHIR server, the token endpoint and an
  expiry. Single use (deleted when the EHR comes back), short-lived, bounded in number.
  No access token is ever stored.
- ``web_session``: browser sessions made at sign-in (the SHA-256 digest of the session
  id the signed cookie carries, the token, the expiry); signing out sets ``ended_at``,
  so a copied cookie stops working on every worker at once.
- ``login_failure``: refused sign-ins, by the SHA-256 digest of the client address, for
  the per-address attempt limit (rows older than the limit's window are deleted).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "BoardDecision",
    "CaseVersion",
    "CdsCard",
    "CdsFeedback",
    "CdsJti",
    "CdsReport",
    "EntryWithdrawal",
    "ImagingRecord",
    "ImportedFile",
    "LoginFailure",
    "OutcomeRecord",
    "Patient",
    "SmartLaunch",
    "StoredAssessment",
    "WebSession",
    "WorklistState",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

REGISTRY_ID_MAX = 40
ACTOR_MAX = 80
TOKEN_NAME_MAX = 80


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


def _when() -> Mapped[dt.datetime]:
    return mapped_column(DateTime(timezone=True))


def _who() -> Mapped[str]:
    return mapped_column(String(ACTOR_MAX))


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[str] = mapped_column(String(REGISTRY_ID_MAX), unique=True)
    created_at: Mapped[dt.datetime] = _when()
    created_by: Mapped[str] = _who()


#: Registry ids in lower case, so that a new id differing from a stored one only in letter
#: case is found (and refused) without reading the table (migration 0012).
Index("ix_patient_registry_id_folded", func.lower(Patient.registry_id))


class CaseVersion(Base):
    __tablename__ = "case_version"
    __table_args__ = (UniqueConstraint("patient_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    case: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = _when()
    recorded_by: Mapped[str] = _who()


class StoredAssessment(Base):
    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    case_version_id: Mapped[int] = mapped_column(ForeignKey("case_version.id"), index=True)
    evaluated_on: Mapped[dt.date] = mapped_column(Date)
    knowledge_version: Mapped[str] = mapped_column(String(20))
    engine_version: Mapped[str] = mapped_column(String(20))
    settings_digest: Mapped[str] = mapped_column(String(32))
    risk_group: Mapped[str] = mapped_column(String(16))
    disease_status: Mapped[str] = mapped_column(String(40))
    record_ids: Mapped[list[str]]
    next_due: Mapped[dt.date | None] = mapped_column(Date)
    output: Mapped[dict[str, Any]]
    folpe_category: Mapped[str | None] = mapped_column(String(40))
    icdo3_morphology: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = _when()
    created_by: Mapped[str] = _who()

    #: The day a case version was recorded on is its first assessment's evaluation date
    #: (:func:`pecoma.store.repository.base.recorded_on`), read for every patient by each
    #: view of the registry as of a date: this index answers it without reading the
    #: assessments themselves (migration 0015).
    __table_args__ = (Index("ix_assessment_first_of_version", "case_version_id", "id",
                            "evaluated_on"),)


class ImagingRecord(Base):
    __tablename__ = "imaging_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    performed_on: Mapped[dt.date] = mapped_column(Date)
    modality: Mapped[str] = mapped_column(String(32))
    finding: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = _when()
    recorded_by: Mapped[str] = _who()


class OutcomeRecord(Base):
    """One outcome event of a patient (see :mod:`pecoma.registry.outcomes` for the rules).

    ``event``: ``last_contact``, ``local_recurrence``, ``distant_metastasis``,
    ``progression`` or ``death``; ``vital_status`` for a last contact or a death;
    ``found_by`` (scheduled scan, symptoms, other) for a recurrence or progression;
    ``scan_id`` the scan that found it, when there is one.
    """

    __tablename__ = "outcome_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    event_date: Mapped[dt.date] = mapped_column(Date)
    vital_status: Mapped[str | None] = mapped_column(String(24))
    found_by: Mapped[str | None] = mapped_column(String(16))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("imaging_event.id"))
    recorded_at: Mapped[dt.datetime] = _when()
    recorded_by: Mapped[str] = _who()


class EntryWithdrawal(Base):
    """A scan or an outcome withdrawn as entered in error (exactly one of ``scan_id`` and
    ``outcome_id``; each at most once), with the reason in words. A correction is a
    withdrawal and a new entry."""

    __tablename__ = "entry_withdrawal"
    __table_args__ = (
        CheckConstraint("(scan_id IS NULL) <> (outcome_id IS NULL)", name="one_entry"),
        CheckConstraint("length(reason) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("imaging_event.id"), unique=True)
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcome_event.id"),
                                                   unique=True)
    reason: Mapped[str] = mapped_column(Text)
    withdrawn_at: Mapped[dt.datetime] = _when()
    withdrawn_by: Mapped[str] = _who()


DECISIONS = ("accepted", "declined", "deferred")
DECISION_SOURCES = ("board", "cds-hooks")
RECORD_ID_MAX = 80
REASON_CODE_MAX = 64


class BoardDecision(Base):
    """One decision about one recommendation (see the module docstring).

    ``record_id``: the knowledge record of the recommendation (``REC-…``); ``supersedes``:
    the decision this one replaces (the one its author saw), when there was one.
    """

    __tablename__ = "board_decision"
    __table_args__ = (
        CheckConstraint("decision IN ('accepted', 'declined', 'deferred')", name="decision"),
        CheckConstraint("source IN ('board', 'cds-hooks')", name="source"),
        CheckConstraint(
            "source <> 'board' OR (patient_id IS NOT NULL AND assessment_id IS NOT NULL)",
            name="board_names_patient",
        ),
        CheckConstraint(
            "source <> 'board' OR decision <> 'declined' OR reason_code IS NOT NULL",
            name="decline_has_reason",
        ),
        Index(None, "assessment_id", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    card_uuid: Mapped[str | None] = mapped_column(String(36))
    record_id: Mapped[str] = mapped_column(String(RECORD_ID_MAX))
    decision: Mapped[str] = mapped_column(String(12))
    reason_code: Mapped[str | None] = mapped_column(String(REASON_CODE_MAX))
    reason_text: Mapped[str | None] = mapped_column(Text)
    supersedes: Mapped[int | None] = mapped_column(ForeignKey("board_decision.id"))
    decided_at: Mapped[dt.datetime] = _when()
    decided_by: Mapped[str] = _who()


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = _when()
    actor: Mapped[str] = _who()
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    detail: Mapped[dict[str, Any]]


class ImportedFile(Base):
    __tablename__ = "imported_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[dt.datetime] = _when()
    imported_by: Mapped[str] = _who()


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = _when()
    created_by: Mapped[str] = _who()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))


class WebSession(Base):
    __tablename__ = "web_session"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), index=True)
    created_at: Mapped[dt.datetime] = _when()
    expires_at: Mapped[dt.datetime] = _when()
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = _when()


class WorklistState(Base):
    """What the worklist needs of a patient, kept current by every write (derived data).

    One row per patient: the next open visit (number, phase, due and latest dates,
    imaging, record and provenance), the last visit done, the plan's status (``active``,
    ``suspended``, ``not_drawn``, ``not_evaluable``) with its reason, the plan's alerts
    (record ids separated by spaces; ``NULL``: not known, the state is recomputed), the
    risk group and disease status, and the basis it was computed on: case version, the
    patient's scan stamp, knowledge, engine and settings versions. The status as of a date
    (overdue, due, upcoming, done) follows from these dates alone; it holds for every
    evaluation date from ``valid_from`` (the latest date in the case and its scans, or
    the later day from which the plan is drawn alike) up to ``valid_until`` (``NULL``:
    no end; the plan is drawn otherwise after it, see
    :attr:`pecoma.engine.plan.SurveillancePlan.drawn_alike`).

    The column ``scan_count`` holds the scan stamp
    (:func:`pecoma.store.repository.base.scan_stamp`: scans ever recorded for the patient
    plus scans withdrawn), not the number of live scans: the name is that of migration
    0003, which stored the number of live scans. Such a value is the stamp of the same
    scans when the patient has no withdrawn scan, and below the patient's stamp when one
    is withdrawn (not current: a re-assessment stores the state again): it is never taken
    for a state of other scans.
    """

    __tablename__ = "worklist_state"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    case_version: Mapped[int] = mapped_column(Integer)
    scan_count: Mapped[int] = mapped_column(Integer)
    knowledge_version: Mapped[str] = mapped_column(String(20))
    engine_version: Mapped[str] = mapped_column(String(20))
    settings_digest: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    plan_status: Mapped[str] = mapped_column(String(16))
    risk_group: Mapped[str | None] = mapped_column(String(16))
    disease_status: Mapped[str | None] = mapped_column(String(40))
    last_scan: Mapped[dt.date | None] = mapped_column(Date)
    visit: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str | None] = mapped_column(String(40))
    due: Mapped[dt.date | None] = mapped_column(Date)
    latest: Mapped[dt.date | None] = mapped_column(Date)
    imaging: Mapped[str] = mapped_column(String(200))
    last_done_visit: Mapped[int | None] = mapped_column(Integer)
    last_done_on: Mapped[dt.date | None] = mapped_column(Date)
    record: Mapped[str | None] = mapped_column(String(80))
    provenance: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    alerts: Mapped[str | None] = mapped_column(Text)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    refreshed_at: Mapped[dt.datetime] = _when()


class CdsJti(Base):
    """A JWT ``jti`` seen by the CDS service, until its token expires (replay cache).

    Keyed by the SHA-256 of issuer and jti (bounded length whatever the EHR sends)."""

    __tablename__ = "cds_jti"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class CdsReport(Base):
    """The full report a card links to, under the SHA-256 of its random link token."""

    __tablename__ = "cds_report"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _when()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


class CdsCard(Base):
    """What one issued card said (no patient data): for feedback checks and audit."""

    __tablename__ = "cds_card"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    service: Mapped[str] = mapped_column(String(40))
    hook_instance: Mapped[str] = mapped_column(String(64))
    indicator: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(140))
    record_ids: Mapped[list[str]]
    suggestions: Mapped[list[str]]
    override_reasons: Mapped[list[str]]
    knowledge_version: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: SHA-256 of the issuer of the JWT of the call given the card (NULL: no JWT was
    #: verified): feedback on the card must come from that EHR.
    issuer: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CdsFeedback(Base):
    """A clinician's outcome on one card (CDS Hooks 2.0.1 feedback), with what it said."""

    __tablename__ = "cds_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_uuid: Mapped[str] = mapped_column(String(36), index=True)
    service: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(12))
    outcome_at: Mapped[dt.datetime] = _when()
    accepted_suggestions: Mapped[list[str]]
    override_system: Mapped[str | None] = mapped_column(String(255))
    override_code: Mapped[str | None] = mapped_column(String(64))
    user_comment: Mapped[str | None] = mapped_column(Text)
    record_ids: Mapped[list[str]]
    knowledge_version: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)


SMART_URL_MAX = 2048


class SmartLaunch(Base):
    __tablename__ = "smart_launch"

    state_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    browser_digest: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    iss: Mapped[str] = mapped_column(String(SMART_URL_MAX))
    token_endpoint: Mapped[str] = mapped_column(String(SMART_URL_MAX))
    created_at: Mapped[dt.datetime] = _when()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
