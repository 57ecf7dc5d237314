"""The repository: every registry use case is one method and one transaction.

Writes go through :class:`Repository` only; each writing method adds an ``audit_log`` row
for every row it creates (who, when, what, which entity), in the same transaction, so a
change without its audit entry cannot be committed. Nothing is ever updated or deleted:
a new case version, assessment or scan is a new row. The one exception is derived data:
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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import (
    JSON,
    Date,
    Engine,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.db import READ_ONLY, StoreError
from pecoma.store.models import (
    ACTOR_MAX,
    REGISTRY_ID_MAX,
    AuditEntry,
    CaseVersion,
    ImagingRecord,
    OutcomeRecord,
    Patient,
    StoredAssessment,
    WorklistState,
)
from pecoma.store.rawjson import RawJSON, json_serializer

__all__ = [
    "AddResult",
    "AssessmentData",
    "AuditView",
    "CaseSubmission",
    "OutcomeCheck",
    "OutcomeData",
    "OutcomeView",
    "PatientState",
    "Repository",
    "ScanData",
    "StateData",
    "StateRow",
    "Timeline",
    "case_digest",
    "case_text_digest",
    "check_actor",
    "check_registry_id",
]

log = logging.getLogger(__name__)

_CHUNK = 900
_RETRIES = 5
_REGISTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
REGISTRY_ID_RULE = (
    f"must be a pseudonymous registry code: 1-{REGISTRY_ID_MAX} letters, digits, '-', '_' "
    "or '.', starting with a letter or digit and containing at least one digit (never a "
    "name)"
)

T = TypeVar("T")


def check_registry_id(value: object, path: str = "registry_id") -> str:
    """A valid pseudonymous registry id, or :class:`InputError` naming ``path``.

    A name is refused by construction: spaces are not allowed and a digit is required.
    """
    text = value.strip() if isinstance(value, str) else value
    if (
        not isinstance(text, str)
        or not 1 <= len(text) <= REGISTRY_ID_MAX
        or not _REGISTRY_ID.match(text)
        or not any(c.isdigit() for c in text)
    ):
        raise InputError(
            [FieldIssue(path, show_value(value), REGISTRY_ID_RULE)], "registry id"
        )
    return text


def check_actor(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= ACTOR_MAX:
        raise InputError(
            [FieldIssue("actor", show_value(value), f"must be 1-{ACTOR_MAX} characters")],
            "actor",
        )
    return text


def case_digest(case_data: dict[str, Any]) -> str:
    """The fingerprint of a case: equal cases (after validation) have equal digests."""
    blob = json.dumps(case_data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def case_text_digest(case_data: dict[str, Any]) -> str:
    """The fingerprint of a case's data exactly as a case version stores it (MD5 of the
    text of its JSON column, as PostgreSQL's ``md5()`` gives it; not a security
    measure): equal only for the same data with the same key order."""
    return _text_digest(json_serializer(case_data))


def _text_digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


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

    ``scan_count`` is the number of the patient's scans it was computed from: a state
    computed before another scan was recorded is not stored (the worklist recomputes it).
    ``alerts`` are the record ids of the plan's alerts (``None``: not known, a state
    stored before they were kept; it is never used).
    """

    scan_count: int
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

    def row(self) -> dict[str, Any]:
        return {
            "scan_count": self.scan_count,
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
        }


_STATE_COLUMNS = (
    WorklistState.scan_count,
    WorklistState.knowledge_version,
    WorklistState.engine_version,
    WorklistState.settings_digest,
    WorklistState.valid_from,
    WorklistState.plan_status,
    WorklistState.risk_group,
    WorklistState.disease_status,
    WorklistState.last_scan,
    WorklistState.visit,
    WorklistState.phase,
    WorklistState.due,
    WorklistState.latest,
    WorklistState.imaging,
    WorklistState.last_done_visit,
    WorklistState.last_done_on,
    WorklistState.record,
    WorklistState.provenance,
    WorklistState.reason,
    WorklistState.alerts,
)


@dataclass(frozen=True, slots=True)
class StateRow:
    """A patient with its stored worklist state (``None`` when there is none) and the
    basis that state must match to be current: latest case version and number of scans.
    """

    patient_id: int
    registry_id: str
    version: int | None
    scan_count: int
    state_version: int | None
    state: StateData | None

    @property
    def current(self) -> bool:
        """The state was computed from the patient's latest case version and every scan."""
        return (
            self.state is not None
            and self.state_version == self.version
            and self.state.scan_count == self.scan_count
        )


@dataclass(frozen=True, slots=True)
class CaseSubmission:
    """A validated case for one patient, with its assessment, ready to be stored.

    ``state`` is the patient's worklist state with this case (``None``: not computed;
    the patient's stored state is then removed and the worklist recomputes it).
    """

    registry_id: str
    submitted: dict[str, Any]
    digest: str
    source: str
    assessment: AssessmentData
    state: StateData | None = None
    outcomes: tuple[OutcomeData, ...] = ()


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
    """A patient's current picture: latest case version, scans, latest assessment."""

    patient_id: int
    registry_id: str
    case_version_id: int | None
    version: int | None
    case: dict[str, Any] | None
    scans: tuple[ScanData, ...]
    latest: StoredView | None


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
class OutcomeView:
    id: int
    event: str
    event_date: dt.date
    vital_status: str | None
    found_by: str | None
    scan_id: int | None
    recorded_at: dt.datetime
    recorded_by: str


OutcomeCheck = Callable[
    [dict[str, Any] | None, "tuple[OutcomeView, ...]", "tuple[ScanView, ...]",
     Sequence[OutcomeData]],
    Sequence[OutcomeData],
]
"""``check(latest case, stored outcomes, scans, new outcomes)`` -> the new outcomes to
store (with their scans linked), or :class:`InputError` naming each contradiction."""


def _outcome_view(r: OutcomeRecord) -> OutcomeView:
    return OutcomeView(r.id, r.event, r.event_date, r.vital_status, r.found_by, r.scan_id,
                       r.recorded_at, r.recorded_by)


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


_VIEW_COLUMNS = (
    StoredAssessment.id,
    StoredAssessment.case_version_id,
    StoredAssessment.evaluated_on,
    StoredAssessment.knowledge_version,
    StoredAssessment.engine_version,
    StoredAssessment.settings_digest,
    StoredAssessment.risk_group,
    StoredAssessment.disease_status,
    StoredAssessment.record_ids,
    StoredAssessment.next_due,
    StoredAssessment.reason,
    StoredAssessment.created_at,
    StoredAssessment.created_by,
)


def _view_of(row: Sequence[Any]) -> StoredView:
    """A :class:`StoredView` from a row of :data:`_VIEW_COLUMNS` (the output JSON unread)."""
    values = list(row)
    values[8] = tuple(values[8])
    return StoredView(*values)


def _audit_view(r: AuditEntry) -> AuditView:
    return AuditView(
        r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.patient_id, dict(r.detail)
    )


def _table(model: type[Any]) -> Table:
    """The Core table of a model: bulk inserts through it are single executemany calls."""
    return cast(Table, model.__table__)


def _json_object(text: str) -> dict[str, Any]:
    """A stored JSON object from its text (orjson, or json.loads for what it declines)."""
    import orjson

    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = json.loads(text)
    return dict(data)


_AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "patient_id", "detail")
_CASE_COLUMNS = ("id", "patient_id", "version", "case", "digest", "source", "recorded_at",
                 "recorded_by")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    # 40001 serialization_failure, 40P01 deadlock_detected
    return code in ("40001", "40P01")


class Repository:
    """The registry's use cases over one database engine."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # --- transactions -------------------------------------------------------------------

    @contextmanager
    def _read(self, *, only: bool = False) -> Iterator[Session]:
        """A read transaction; ``only`` promises that it writes nothing, so that on SQLite
        it takes no write lock (several export workers read at once)."""
        try:
            with self._sessions() as s, s.begin():
                if only:
                    s.connection(execution_options={READ_ONLY: True})
                yield s
        except OperationalError as exc:
            raise StoreError(f"cannot read the registry: {_first_line(exc)}") from exc

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction; retry it when it lost a concurrency race."""
        for attempt in range(_RETRIES):
            try:
                with self._sessions() as s, s.begin():
                    return work(s)
            except DBAPIError as exc:
                if attempt + 1 < _RETRIES and _retryable(exc):
                    log.info("write transaction retried after a concurrency conflict")
                    time.sleep(0.05 * (attempt + 1))
                    continue
                if isinstance(exc, IntegrityError):
                    raise StoreError(
                        f"the registry refused the change: {_first_line(exc)}"
                    ) from exc
                raise StoreError(f"cannot write to the registry: {_first_line(exc)}") from exc
        raise StoreError("cannot write to the registry: too many concurrency conflicts")

    def _audit(
        self,
        s: Session,
        actor: str,
        rows: list[tuple[str, str, int, int | None, dict[str, Any]]],
        now: dt.datetime,
    ) -> None:
        if rows:
            self._bulk_insert(
                s, AuditEntry, _AUDIT_COLUMNS,
                [(now, actor, action, entity, entity_id, patient_id, detail)
                 for action, entity, entity_id, patient_id, detail in rows],
            )

    def _new_ids(self, s: Session, model: type[Any], n: int) -> list[int]:
        """``n`` fresh primary keys of ``model``'s table, taken before the rows are written
        so that a bulk insert needs no ``RETURNING``: on PostgreSQL from the table's
        sequence; on SQLite after the largest id (the transaction holds the write lock)."""
        if n == 0:
            return []
        name = _table(model).name
        if self.dialect == "postgresql":
            return list(s.scalars(
                sql_text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                         "FROM generate_series(1, :n)"),
                {"t": name, "n": n},
            ))
        top = s.scalar(select(func.max(_table(model).c.id))) or 0
        return list(range(top + 1, top + 1 + n))

    def _bulk_insert(
        self, s: Session, model: type[Any], columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert plain rows (values in the order of ``columns``) in the current
        transaction, in bulk: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite. The
        values are converted by the columns' own types, exactly as an ``insert()`` would
        store them."""
        if not rows:
            return
        table = _table(model)
        conn = s.connection()
        dialect = conn.dialect
        quote = dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in columns)
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            convert = [json_serializer if isinstance(table.c[c].type, JSON) else None
                       for c in columns]
            statement = f"COPY {quote(table.name)} ({names}) FROM STDIN"  # model names
            try:
                with raw.cursor() as cur, cur.copy(statement) as copy:  # type: ignore[union-attr]
                    for row in rows:
                        copy.write_row([v if f is None else f(v)
                                        for f, v in zip(convert, row, strict=True)])
            except dialect.loaded_dbapi.Error as exc:
                # as SQLAlchemy reports any driver error (retry, message)
                raise DBAPIError.instance(statement, None, exc,
                                          dialect.loaded_dbapi.Error) from exc
            return
        procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect)
                 for c in columns]
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})",  # noqa: S608
            [tuple(v if p is None else p(v) for p, v in zip(procs, row, strict=True))
             for row in rows],
        )

    def _insert_ignore(self) -> Any:
        if self.dialect == "postgresql":
            return postgresql.insert(Patient)
        return sqlite.insert(Patient)

    def _lock_patients(self, s: Session, registry_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in _chunks(sorted(registry_ids)):
            q = (
                select(Patient.registry_id, Patient.id)
                .where(Patient.registry_id.in_(chunk))
                .order_by(Patient.registry_id)
            )
            if self.dialect == "postgresql":
                q = q.with_for_update()
            out.update({rid: pid for rid, pid in s.execute(q)})
        return out

    def _lock_patient_ids(self, s: Session, pids: Sequence[int]) -> None:
        """On PostgreSQL, lock the patients (registry-id order, as every writer does), so
        that a state checked against the patient's scans here stays current."""
        if self.dialect != "postgresql" or not pids:
            return  # SQLite: the transaction holds the database's write lock
        ids = bindparam("ids", type_=postgresql.ARRAY(Integer))
        s.execute(
            select(Patient.id)
            .where(Patient.id == any_(ids))
            .order_by(Patient.registry_id)
            .with_for_update(),
            {"ids": sorted(set(pids))},
        ).all()

    def _ensure_patients(
        self, s: Session, registry_ids: Sequence[str], actor: str, now: dt.datetime
    ) -> tuple[dict[str, int], int]:
        wanted = sorted(set(registry_ids))
        created: list[tuple[int, str]] = []
        for chunk in _chunks(wanted):
            stmt = (
                self._insert_ignore()
                .on_conflict_do_nothing(index_elements=["registry_id"])
                .returning(Patient.id, Patient.registry_id)
            )
            rows = [{"registry_id": r, "created_at": now, "created_by": actor} for r in chunk]
            created += [(pid, rid) for pid, rid in s.execute(stmt, rows)]
        self._audit(
            s, actor, [("create", "patient", pid, pid, {}) for pid, _ in created], now
        )
        return self._lock_patients(s, wanted), len(created)

    # --- writing use cases --------------------------------------------------------------

    def add_cases(
        self,
        submissions: Sequence[CaseSubmission],
        actor: str,
        check_outcomes: OutcomeCheck | None = None,
    ) -> AddResult:
        """Store case versions (and their assessments) in one transaction.

        A submission identical to the patient's latest case version adds nothing, so that
        importing the same file twice changes nothing. A submission's outcomes are checked
        by ``check_outcomes`` against the patient's latest case and stored outcomes and
        written in the same transaction (an outcome already stored is skipped).
        """
        if check_outcomes is None and any(x.outcomes for x in submissions):
            raise StoreError("outcomes need their check")
        ids = [x.registry_id for x in submissions]
        if len(set(ids)) != len(ids):
            raise StoreError("each patient may appear only once in one batch of cases")
        return self.add_case_batches(lambda: [submissions], actor, check_outcomes)

    def add_case_batches(
        self,
        batches: Callable[[], Iterable[Sequence[CaseSubmission]]],
        actor: str,
        check_outcomes: OutcomeCheck | None = None,
    ) -> AddResult:
        """Store the submissions of every batch in ONE transaction, a batch at a time, so
        that a large import needs the memory of one batch, not of the whole file.

        ``batches`` is called to produce them (again, should the transaction be retried);
        a patient may appear only once over all of them. Outcomes of the submissions are
        checked by ``check_outcomes`` and written in the same transaction.
        """
        actor = check_actor(actor)

        def work(s: Session) -> AddResult:
            now = self._clock()
            result = AddResult()
            seen: set[str] = set()
            for batch in batches():
                if not batch:
                    continue
                ids = [x.registry_id for x in batch]
                if len(set(ids)) != len(ids) or not seen.isdisjoint(ids):
                    raise StoreError("each patient may appear only once in one import")
                seen.update(ids)
                self._add_batch(s, batch, ids, actor, now, result, check_outcomes)
                s.flush()
                s.expunge_all()  # nothing of a written batch stays in memory
            return result

        result = self._write(work)
        log.info(
            "cases stored: %d new patients, %d new versions, %d unchanged",
            result.new_patients,
            result.new_versions,
            result.unchanged,
        )
        return result

    def _add_batch(self, s: Session, submissions: Sequence[CaseSubmission], ids: list[str],
                   actor: str, now: dt.datetime, result: AddResult,
                   check_outcomes: OutcomeCheck | None) -> None:
        pids, new_patients = self._ensure_patients(s, ids, actor, now)
        result.new_patients += new_patients
        latest = self._latest_versions(s, list(pids.values()))
        todo: list[tuple[CaseSubmission, int, int]] = []
        for sub in submissions:
            pid = pids[sub.registry_id]
            version, digest = latest.get(pid, (0, ""))
            if digest == sub.digest:
                result.unchanged += 1
                result.versions[sub.registry_id] = version
                continue
            todo.append((sub, pid, version + 1))
        if not todo:
            self._submitted_outcomes(s, submissions, pids, check_outcomes, actor, now, result)
            return
        cv_ids = self._new_ids(s, CaseVersion, len(todo))
        self._bulk_insert(
            s, CaseVersion, _CASE_COLUMNS,
            [(cv_id, pid, version, sub.submitted, sub.digest, sub.source[:200], now, actor)
             for (sub, pid, version), cv_id in zip(todo, cv_ids, strict=True)],
        )
        a_ids = self._insert_assessments(
            s, [(pid, cv_id, sub.assessment)
                for (sub, pid, _v), cv_id in zip(todo, cv_ids, strict=True)], actor, now)
        audit: list[tuple[str, str, int, int | None, dict[str, Any]]] = []
        for (sub, pid, version), cv_id, a_id in zip(todo, cv_ids, a_ids, strict=True):
            audit.append(
                (
                    "create",
                    "case_version",
                    cv_id,
                    pid,
                    {"version": version, "digest": sub.digest, "source": sub.source},
                )
            )
            audit.append(
                ("create", "assessment", a_id, pid, _assessment_detail(sub.assessment))
            )
            result.versions[sub.registry_id] = version
        self._audit(s, actor, audit, now)
        counts = self._scan_counts(s, [pid for _sub, pid, _v in todo])
        # a state computed before another scan was recorded is not stored, and the
        # previous version's state is removed either way
        self._put_states(
            s,
            [
                (pid, version,
                 sub.state if sub.state is not None
                 and sub.state.scan_count == counts.get(pid, 0) else None)
                for sub, pid, version in todo
            ],
            counts,
            now,
        )
        result.new_versions += len(todo)
        self._submitted_outcomes(s, submissions, pids, check_outcomes, actor, now, result)

    def _submitted_outcomes(
        self,
        s: Session,
        submissions: Sequence[CaseSubmission],
        pids: dict[str, int],
        check: OutcomeCheck | None,
        actor: str,
        now: dt.datetime,
        result: AddResult,
    ) -> None:
        for sub in submissions:
            if sub.outcomes and check is not None:
                try:
                    ids = self._write_outcomes(s, pids[sub.registry_id], sub.outcomes, check,
                                               actor, now)
                except InputError as exc:  # name the submission (e.g. the file's row)
                    raise InputError(
                        [FieldIssue(f"{sub.source}: {i.path}", i.value, i.rule)
                         for i in exc.issues], exc.source,
                    ) from exc
                result.new_outcomes += len(ids)

    def add_scan(
        self,
        registry_id: str,
        scan: ScanData,
        actor: str,
        refresh: StateRefresh | None = None,
    ) -> int:
        """Record one imaging event for an existing patient; returns its id.

        ``refresh(latest case, scans)`` gives the patient's new worklist state, stored in
        the same transaction; without it the stored state is removed (the worklist then
        recomputes the patient).
        """
        actor = check_actor(actor)
        registry_id = check_registry_id(registry_id)

        def work(s: Session) -> int:
            now = self._clock()
            q = select(Patient.id).where(Patient.registry_id == registry_id)
            if self.dialect == "postgresql":
                q = q.with_for_update()  # one writer per patient: its state stays current
            pid = s.scalar(q)
            if pid is None:
                raise InputError(
                    [FieldIssue("registry_id", show_value(registry_id),
                                "must be the id of a patient in the registry")],
                    "scan",
                )
            scan_id = s.scalar(
                insert(ImagingRecord)
                .values(
                    patient_id=pid,
                    performed_on=scan.performed_on,
                    modality=scan.modality,
                    finding=scan.finding,
                    recorded_at=now,
                    recorded_by=actor,
                )
                .returning(ImagingRecord.id)
            )
            if not isinstance(scan_id, int):
                raise StoreError("the registry did not return the new scan's id")
            detail = {
                "performed_on": scan.performed_on.isoformat(),
                "modality": scan.modality,
                "finding": scan.finding,
            }
            self._audit(s, actor, [("create", "imaging_event", scan_id, pid, detail)], now)
            self._refresh_one(s, pid, refresh, now)
            return scan_id

        scan_id = self._write(work)
        log.info("scan recorded")
        return scan_id

    def add_assessments(
        self,
        items: Sequence[tuple[int, int, AssessmentData]],
        actor: str,
        states: Sequence[tuple[int, int, StateData]] = (),
    ) -> int:
        """Store assessments of existing case versions: (patient id, case version id, data).

        ``states`` (patient id, case version number, state) are stored in the same
        transaction, each only if it was computed from the patient's current case version
        and scans.
        """
        actor = check_actor(actor)
        if not items and not states:
            return 0

        def work(s: Session) -> int:
            now = self._clock()
            if states:
                pids = [pid for pid, _v, _st in states]
                self._lock_patient_ids(s, pids)
                latest = self._latest_versions(s, pids)
                counts = self._scan_counts(s, pids)
                self._put_states(s, _same_version(states, latest), counts, now)
            if not items:
                return 0
            ids = self._insert_assessments(s, items, actor, now)
            self._audit(
                s,
                actor,
                [
                    ("create", "assessment", a_id, pid, _assessment_detail(data))
                    for (pid, _cv, data), a_id in zip(items, ids, strict=True)
                ],
                now,
            )
            return len(ids)

        n = self._write(work)
        log.info("assessments stored: %d", n)
        return n

    def _insert_assessments(
        self, s: Session, items: Sequence[tuple[int, int, AssessmentData]], actor: str,
        now: dt.datetime,
    ) -> list[int]:
        """Insert assessments (patient id, case version id, data); their new ids."""
        ids = self._new_ids(s, StoredAssessment, len(items))
        if items:
            names = tuple(items[0][2].row())
            self._bulk_insert(
                s, StoredAssessment,
                ("id", "patient_id", "case_version_id", *names, "created_at", "created_by"),
                [(a_id, pid, cv_id, *data.row().values(), now, actor)
                 for (pid, cv_id, data), a_id in zip(items, ids, strict=True)],
            )
        return ids

    # --- outcomes ------------------------------------------------------------------------

    def _write_outcomes(
        self,
        s: Session,
        pid: int,
        outcomes: Sequence[OutcomeData],
        check: OutcomeCheck,
        actor: str,
        now: dt.datetime,
    ) -> list[int]:
        """Check and store one patient's new outcomes inside the current transaction
        (the patient is locked by the caller); an outcome already stored is skipped."""
        stored = tuple(
            _outcome_view(r)
            for r in s.scalars(
                select(OutcomeRecord)
                .where(OutcomeRecord.patient_id == pid)
                .order_by(OutcomeRecord.event_date, OutcomeRecord.id)
            )
        )
        fresh = [o for o in outcomes if not any(o.same_fact(v) for v in stored)]
        if not fresh:
            return []
        case_row = s.scalar(
            select(CaseVersion.case)
            .where(CaseVersion.patient_id == pid)
            .order_by(CaseVersion.version.desc())
            .limit(1)
        )
        scans = tuple(
            ScanView(r.id, r.performed_on, r.modality, r.finding, r.recorded_at, r.recorded_by)
            for r in s.scalars(
                select(ImagingRecord)
                .where(ImagingRecord.patient_id == pid)
                .order_by(ImagingRecord.performed_on, ImagingRecord.id)
            )
        )
        checked = check(dict(case_row) if case_row is not None else None, stored, scans, fresh)
        ids: list[int] = []
        audit: list[tuple[str, str, int, int | None, dict[str, Any]]] = []
        for o in checked:
            oid = s.scalar(
                insert(OutcomeRecord)
                .values(patient_id=pid, event=o.event, event_date=o.event_date,
                        vital_status=o.vital_status, found_by=o.found_by, scan_id=o.scan_id,
                        recorded_at=now, recorded_by=actor)
                .returning(OutcomeRecord.id)
            )
            if not isinstance(oid, int):
                raise StoreError("the registry did not return the new outcome's id")
            ids.append(oid)
            audit.append(("create", "outcome_event", oid, pid, {
                "event": o.event, "event_date": o.event_date.isoformat(),
                "vital_status": o.vital_status, "found_by": o.found_by, "scan_id": o.scan_id,
            }))
        self._audit(s, actor, audit, now)
        return ids

    def add_outcomes(
        self,
        registry_id: str,
        outcomes: Sequence[OutcomeData],
        actor: str,
        check: OutcomeCheck,
    ) -> list[int]:
        """Record outcome events of an existing patient in one transaction with their audit
        entries; ``check`` sees the stored facts inside the transaction (the patient is
        locked), so two writers cannot record contradicting outcomes. Returns the new ids
        (an outcome identical to a stored one is not stored again)."""
        actor = check_actor(actor)
        registry_id = check_registry_id(registry_id)

        def work(s: Session) -> list[int]:
            now = self._clock()
            q = select(Patient.id).where(Patient.registry_id == registry_id)
            if self.dialect == "postgresql":
                q = q.with_for_update()
            pid = s.scalar(q)
            if pid is None:
                raise InputError(
                    [FieldIssue("registry_id", show_value(registry_id),
                                "must be the id of a patient in the registry")],
                    "outcome",
                )
            return self._write_outcomes(s, pid, outcomes, check, actor, now)

        ids = self._write(work)
        log.info("outcomes recorded: %d", len(ids))
        return ids

    def death_date(self, registry_id: str) -> dt.date | None:
        """The patient's recorded date of death, if any."""
        with self._read() as s:
            day = s.scalar(
                select(OutcomeRecord.event_date)
                .join(Patient, Patient.id == OutcomeRecord.patient_id)
                .where(Patient.registry_id == registry_id, OutcomeRecord.event == "death")
                .limit(1)
            )
        return _day(day)

    def outcomes(self) -> dict[int, tuple[OutcomeView, ...]]:
        """Patient id -> the patient's outcome events, by date (patients with outcomes)."""
        out: dict[int, list[OutcomeView]] = {}
        o = OutcomeRecord
        q = select(o.patient_id, o.id, o.event, o.event_date, o.vital_status, o.found_by,
                   o.scan_id, o.recorded_at, o.recorded_by).order_by(
                       o.patient_id, o.event_date, o.id)
        with self._read() as s:
            # plain column rows, not ORM objects: several times faster for a whole registry
            for row in s.connection().execute(q):
                out.setdefault(row[0], []).append(OutcomeView(*row[1:]))
        return {k: tuple(v) for k, v in out.items()}

    def outcomes_by_registry_id(
        self, *, after: str | None = None, upto: str | None = None
    ) -> dict[str, tuple[OutcomeView, ...]]:
        """Registry id -> the patient's outcome events, by date (patients with outcomes);
        with ``after``/``upto`` only the registry ids in that range (see
        :meth:`registry_id_cuts`)."""
        o = OutcomeRecord
        q = _registry_id_range(
            select(Patient.registry_id, o.id, o.event, o.event_date, o.vital_status,
                   o.found_by, o.scan_id, o.recorded_at, o.recorded_by)
            .join(Patient, Patient.id == o.patient_id), after, upto,
        ).order_by(o.patient_id, o.event_date, o.id)
        out: dict[str, list[OutcomeView]] = {}
        with self._read(only=True) as s:
            for row in s.connection().execute(q):
                out.setdefault(row[0], []).append(OutcomeView(*row[1:]))
        return {k: tuple(v) for k, v in out.items()}

    def leaving_outcomes(self, on_date: dt.date) -> dict[str, tuple[OutcomeView, ...]]:
        """Registry id -> the outcome events dated on or before ``on_date``, by date, of
        the patients who may have left surveillance by then (a death, or a last contact
        lost to follow-up, dated on or before it); for the worklist."""
        o = OutcomeRecord
        leaving = (
            select(o.patient_id)
            .where(o.event_date <= on_date,
                   or_(o.event == "death", o.vital_status == "lost_to_follow_up"))
            .distinct()
            .subquery()
        )
        q = (
            select(Patient.registry_id, o.id, o.event, o.event_date, o.vital_status,
                   o.found_by, o.scan_id, o.recorded_at, o.recorded_by)
            .join(Patient, Patient.id == o.patient_id)
            .join(leaving, leaving.c.patient_id == o.patient_id)
            .where(o.event_date <= on_date)
            .order_by(o.patient_id, o.event_date, o.id)
        )
        out: dict[str, list[OutcomeView]] = {}
        with self._read() as s:
            for row in s.connection().execute(q):
                out.setdefault(row[0], []).append(OutcomeView(*row[1:]))
        return {k: tuple(v) for k, v in out.items()}

    def registry_id_cuts(self, parts: int, min_part: int = 1) -> list[str]:
        """At most ``parts - 1`` registry ids cutting the registry, in registry-id order
        (the database's own), into ranges of about equal size: range k holds the ids
        after cut k-1 (none for the first) up to and including cut k (none for the
        last). Fewer ranges when they would hold fewer than ``min_part`` patients."""
        with self._read(only=True) as s:
            total = s.execute(select(func.count()).select_from(Patient)).scalar_one()
            parts = max(1, min(parts, total // max(1, min_part)))
            positions = sorted({total * k // parts for k in range(1, parts)} - {0})
            return [s.execute(select(Patient.registry_id).order_by(Patient.registry_id)
                              .offset(at - 1).limit(1)).scalar_one() for at in positions]

    def cohort_rows(self) -> list[tuple[Any, ...]]:
        """Every patient with a case, for survival and quality figures, in registry-id
        order: (patient id, registry id, diagnosis date, surgery status, surgery date,
        stage status, risk group, Folpe 2005 category, its determined flag, last scan date).

        Case facts come from the latest case version; risk group and classification from
        the latest stored assessment that stratified the primary (the risk group of the
        localized decision: an assessment made after a relapse, whose risk group is
        ``not_applicable``, must not move a patient out of the group they were followed
        in), else from the latest one (advanced at presentation: ``not_applicable``).
        JSON fields are read in SQL; dates as ISO text or dates, as the driver gives them;
        missing facts ``None``.
        """
        cv_top = (
            select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
            .group_by(CaseVersion.patient_id)
            .subquery()
        )
        stratified = (
            select(StoredAssessment.patient_id, func.max(StoredAssessment.id).label("id"))
            .where(StoredAssessment.risk_group != "not_applicable")
            .group_by(StoredAssessment.patient_id)
            .subquery()
        )
        latest = (
            select(StoredAssessment.patient_id, func.max(StoredAssessment.id).label("id"))
            .group_by(StoredAssessment.patient_id)
            .subquery()
        )
        a_top = (
            select(
                latest.c.patient_id,
                func.coalesce(stratified.c.id, latest.c.id).label("id"),
            )
            .outerjoin(stratified, stratified.c.patient_id == latest.c.patient_id)
            .subquery()
        )
        last_scan = (
            select(ImagingRecord.patient_id, func.max(ImagingRecord.performed_on).label("d"))
            .group_by(ImagingRecord.patient_id)
            .subquery()
        )
        c = CaseVersion.case
        q = (
            select(
                Patient.id, Patient.registry_id,
                c[("diagnosis", "date")].as_string(),
                c[("surgery", "status")].as_string(),
                c[("surgery", "date")].as_string(),
                c[("stage", "status")].as_string(),
                StoredAssessment.risk_group,
                StoredAssessment.folpe_category,
                last_scan.c.d,
            )
            .join(cv_top, cv_top.c.patient_id == Patient.id)
            .join(CaseVersion, (CaseVersion.patient_id == Patient.id)
                  & (CaseVersion.version == cv_top.c.v))
            .outerjoin(a_top, a_top.c.patient_id == Patient.id)
            .outerjoin(StoredAssessment, StoredAssessment.id == a_top.c.id)
            .outerjoin(last_scan, last_scan.c.patient_id == Patient.id)
            .order_by(Patient.registry_id)
        )
        with self._read() as s:
            rows = s.execute(q).all()
        out: list[tuple[Any, ...]] = []
        for pid, rid, diag, s_status, s_date, stage, risk, folpe, scan in rows:
            out.append((pid, rid, _day(diag), s_status, _day(s_date), stage, risk, folpe,
                        folpe is not None, _day(scan)))
        return out

    def latest_cases(self) -> list[tuple[str, dict[str, Any], str | None]]:
        """Every patient with a case, in registry-id order: registry id, latest case data
        and the ICD-O-3 morphology (e.g. ``8714/3``) of the latest stored assessment
        (``None`` when it gave none)."""
        return list(self.iter_latest_cases())

    def iter_latest_cases(
        self, batch: int = 1000, *, after: str | None = None, upto: str | None = None
    ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """:meth:`latest_cases` one row at a time, fetched ``batch`` rows at a time (a
        server-side cursor on PostgreSQL): memory stays bounded however large the
        registry. The read transaction stays open until the iterator is exhausted or
        closed. With ``after``/``upto`` only the registry ids in that range (see
        :meth:`registry_id_cuts`)."""
        cv_top = (
            select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
            .group_by(CaseVersion.patient_id)
            .subquery()
        )
        a_top = (
            select(StoredAssessment.patient_id, func.max(StoredAssessment.id).label("id"))
            .group_by(StoredAssessment.patient_id)
            .subquery()
        )
        # the case as its stored JSON text, decoded here by orjson (several times faster
        # than the driver's json.loads; the same values: anything orjson declines, such
        # as an integer beyond 64 bits, goes through json.loads as before)
        q = (
            select(Patient.registry_id, sql_cast(CaseVersion.case, Text),
                   StoredAssessment.icdo3_morphology)
            .join(cv_top, cv_top.c.patient_id == Patient.id)
            .join(CaseVersion, (CaseVersion.patient_id == Patient.id)
                  & (CaseVersion.version == cv_top.c.v))
            .outerjoin(a_top, a_top.c.patient_id == Patient.id)
            .outerjoin(StoredAssessment, StoredAssessment.id == a_top.c.id)
            .order_by(Patient.registry_id)
        )
        q = _registry_id_range(q, after, upto)
        with self._read(only=True) as s:
            if s.get_bind().dialect.name == "postgresql":
                # a cursor is planned for its first rows by default (nested loops over
                # the latest-version subqueries: minutes at 100,000 patients); plan it
                # for all of them, as the query without a cursor is
                s.execute(sql_text("SET LOCAL cursor_tuple_fraction = 1.0"))
            for rid, case_text, icdo in s.execute(q, execution_options={"yield_per": batch}):
                yield rid, _json_object(case_text), icdo

    def recommendation_history(self) -> dict[int, list[tuple[dt.date, tuple[str, ...]]]]:
        """Patient id -> every stored assessment's evaluation date and knowledge record
        ids, oldest first (what was recommended, and when)."""
        out: dict[int, list[tuple[dt.date, tuple[str, ...]]]] = {}
        with self._read() as s:
            for pid, day, records in s.execute(
                select(StoredAssessment.patient_id, StoredAssessment.evaluated_on,
                       StoredAssessment.record_ids)
                .order_by(StoredAssessment.patient_id, StoredAssessment.id)
            ):
                out.setdefault(pid, []).append((day, tuple(records)))
        return out

    # --- worklist states -----------------------------------------------------------------

    def _scan_counts(self, s: Session, pids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for chunk in _chunks(list(pids)):
            out.update(
                {
                    pid: n
                    for pid, n in s.execute(
                        select(ImagingRecord.patient_id, func.count())
                        .where(ImagingRecord.patient_id.in_(chunk))
                        .group_by(ImagingRecord.patient_id)
                    )
                }
            )
        return out

    def _put_states(
        self,
        s: Session,
        items: Sequence[tuple[int, int, StateData | None]],
        scan_counts: dict[int, int],
        now: dt.datetime,
    ) -> None:
        """Replace the patients' worklist states; ``None`` removes the patient's state (it
        is recomputed when read). A state computed without every scan is not stored: the
        row in place, if any, no longer matches the scans and is not used either."""
        keep = [
            (pid, version, st)
            for pid, version, st in items
            if st is None or st.scan_count == scan_counts.get(pid, 0)
        ]
        for chunk in _chunks([pid for pid, _v, _st in keep]):
            s.execute(delete(WorklistState).where(WorklistState.patient_id.in_(chunk)))
        rows = [(pid, version, st.row(), now) for pid, version, st in keep if st is not None]
        if rows:
            names = tuple(rows[0][2])
            self._bulk_insert(
                s, WorklistState, ("patient_id", "case_version", *names, "refreshed_at"),
                [(pid, version, *values.values(), when) for pid, version, values, when in rows],
            )

    def _refresh_one(
        self, s: Session, pid: int, refresh: StateRefresh | None, now: dt.datetime
    ) -> None:
        """Recompute one patient's worklist state inside the current transaction."""
        state: StateData | None = None
        version = 0
        if refresh is not None:
            row = s.execute(
                select(CaseVersion.version, CaseVersion.case)
                .where(CaseVersion.patient_id == pid)
                .order_by(CaseVersion.version.desc())
                .limit(1)
            ).first()
            if row is not None:
                version = row[0]
                scans = tuple(
                    ScanData(day, modality, finding)
                    for day, modality, finding in s.execute(
                        select(ImagingRecord.performed_on, ImagingRecord.modality,
                               ImagingRecord.finding)
                        .where(ImagingRecord.patient_id == pid)
                        .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                    )
                )
                state = refresh(dict(row[1]), scans)
        self._put_states(s, [(pid, version, state)], self._scan_counts(s, [pid]), now)

    def put_states(self, items: Sequence[tuple[int, int, StateData]]) -> int:
        """Store worklist states (patient id, case version number, state) in one
        transaction; a state not computed from the patient's current case version and
        scans is not stored. Returns the number stored."""

        def work(s: Session) -> int:
            now = self._clock()
            pids = [pid for pid, _v, _st in items]
            self._lock_patient_ids(s, pids)
            latest = self._latest_versions(s, pids)
            counts = self._scan_counts(s, pids)
            keep = _same_version(items, latest)
            self._put_states(s, keep, counts, now)
            return sum(
                1 for pid, _v, st in keep
                if st is not None and st.scan_count == counts.get(pid, 0)
            )

        return self._write(work) if items else 0

    def state_rows(self) -> list[StateRow]:
        """Every patient with its stored worklist state, the patient's latest case version
        and number of scans (so that :attr:`StateRow.current` checks the state against
        them), in registry-id order."""
        cv = (
            select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
            .group_by(CaseVersion.patient_id)
            .subquery()
        )
        sc = (
            select(ImagingRecord.patient_id, func.count().label("n"))
            .group_by(ImagingRecord.patient_id)
            .subquery()
        )
        q = (
            select(Patient.id, Patient.registry_id, cv.c.v, sc.c.n,
                   WorklistState.case_version, *_STATE_COLUMNS)
            .outerjoin(cv, cv.c.patient_id == Patient.id)
            .outerjoin(sc, sc.c.patient_id == Patient.id)
            .outerjoin(WorklistState, WorklistState.patient_id == Patient.id)
            .order_by(Patient.registry_id)
        )
        out: list[StateRow] = []
        with self._read() as s:
            for r in s.connection().execute(q):
                pid, rid, version, n, state_version = r[:5]
                state = _state_of(r[5:]) if state_version is not None else None
                out.append(StateRow(pid, rid, version, n or 0, state_version, state))
        return out

    def worklist_rows(
        self,
        on_date: dt.date,
        knowledge_version: str,
        engine_version: str,
        settings_digest: str,
    ) -> list[tuple[Any, ...]]:
        """Every patient's stored worklist state as plain rows, for the worklist as of
        ``on_date``, in registry-id order: the one read of the stored worklist.

        Each row: patient id, registry id, usable, then the columns of the state in the
        order of :class:`StateData` from ``plan_status`` on (plan status, risk group,
        disease status, last scan, visit, phase, due, latest, imaging, last visit done,
        its date, record, provenance, reason, alerts). Usable is 1 when the patient has a
        state made with these versions, with its alerts known, that holds as of
        ``on_date``; else 0 and the other columns are not read (recompute the patient).
        Every write keeps each stored state current with the patient's case version and
        scans or removes it (the writers lock the patient, or the database on SQLite).
        Imaging and alerts are space-separated text; dates are dates.
        """
        ws = WorklistState
        sqlite_ = self.dialect == "sqlite"
        day = bindparam("on_date", on_date.isoformat() if sqlite_ else on_date,
                        type_=String if sqlite_ else Date)
        usable = case(
            (
                and_(
                    ws.knowledge_version == bindparam("k", knowledge_version),
                    ws.engine_version == bindparam("e", engine_version),
                    ws.settings_digest == bindparam("sd", settings_digest),
                    or_(ws.valid_from.is_(None), ws.valid_from <= day),
                    ws.alerts.is_not(None),
                ),
                1,
            ),
            else_=0,
        )
        q = (
            select(Patient.id, Patient.registry_id, usable, ws.plan_status, ws.risk_group,
                   ws.disease_status, ws.last_scan, ws.visit, ws.phase, ws.due, ws.latest,
                   ws.imaging, ws.last_done_visit, ws.last_done_on, ws.record,
                   ws.provenance, ws.reason, ws.alerts)
            .outerjoin(ws, ws.patient_id == Patient.id)
        )
        # no ORDER BY: the database would sort the wide rows (on disk, on PostgreSQL);
        # sorting the fetched rows by registry id here is cheaper (they mostly come in
        # that order already), and gives Python's order, the one the worklist sorts by
        compiled = q.compile(dialect=self.engine.dialect)
        params: Any = compiled.params
        if compiled.positiontup is not None:
            params = tuple(params[name] for name in compiled.positiontup)
        with self._read() as s:
            # the driver's rows as they are (no result processing: several times faster)
            cursor = s.connection().connection.cursor()
            try:
                cursor.execute(str(compiled), params)
                rows: list[tuple[Any, ...]] = list(cursor.fetchall())
            finally:
                cursor.close()
        rows.sort(key=lambda r: r[1])
        if sqlite_:  # dates come back as ISO text
            rows = [
                (*r[:6], _day(r[6]), *r[7:9], _day(r[9]), _day(r[10]), *r[11:13],
                 _day(r[13]), *r[14:])
                if r[2] else r
                for r in rows
            ]
        return rows

    # --- reading ------------------------------------------------------------------------

    def _latest_versions(self, s: Session, pids: list[int]) -> dict[int, tuple[int, str]]:
        out: dict[int, tuple[int, str]] = {}
        for chunk in _chunks(pids):
            top = (
                select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
                .where(CaseVersion.patient_id.in_(chunk))
                .group_by(CaseVersion.patient_id)
                .subquery()
            )
            q = select(CaseVersion.patient_id, CaseVersion.version, CaseVersion.digest).join(
                top,
                (CaseVersion.patient_id == top.c.patient_id) & (CaseVersion.version == top.c.v),
            )
            out.update({pid: (v, d) for pid, v, d in s.execute(q)})
        return out

    def count(self) -> dict[str, int]:
        """Rows per table."""
        with self._read() as s:
            return {
                m.__tablename__: s.scalar(select(func.count()).select_from(m)) or 0
                for m in (Patient, CaseVersion, StoredAssessment, ImagingRecord, AuditEntry)
            }

    def import_basis(
        self, engine_version: str, on_date: dt.date
    ) -> dict[str, tuple[int, str, str | None]]:
        """Registry id -> (number, digest, text digest) of the patient's latest case
        version. The text digest (:func:`case_text_digest` of the case as stored) is given
        only when the version's first assessment was made by ``engine_version`` as of
        ``on_date`` or earlier: the same case data then passes the same checks today and
        has the same digest, so an import may skip it unparsed (``None`` otherwise)."""
        cv, a = CaseVersion, StoredAssessment
        top = (
            select(cv.patient_id, func.max(cv.version).label("v"))
            .group_by(cv.patient_id)
            .subquery()
        )
        first = (
            select(a.case_version_id, func.min(a.id).label("id"))
            .group_by(a.case_version_id)
            .subquery()
        )
        text: Any = sql_cast(cv.case, Text)
        if self.dialect == "postgresql":
            text = func.md5(text)  # the digest made by the server: 32 characters a row
        q = (
            select(Patient.registry_id, cv.version, cv.digest, text,
                   a.engine_version, a.evaluated_on)
            .join(cv, cv.patient_id == Patient.id)
            .join(top, (cv.patient_id == top.c.patient_id) & (cv.version == top.c.v))
            .outerjoin(first, first.c.case_version_id == cv.id)
            .outerjoin(a, a.id == first.c.id)
        )
        server = self.dialect == "postgresql"
        if not server:
            q = q.execution_options(yield_per=5000)  # SQLite: the case texts, streamed
        out: dict[str, tuple[int, str, str | None]] = {}
        with self._read() as s:
            for rid, version, digest, case_text, engine, evaluated in s.execute(q):
                day = _day(evaluated)
                same = engine == engine_version and day is not None and day <= on_date
                mark = (case_text if server else _text_digest(case_text)) if same else None
                out[rid] = (version, digest, mark)
        return out

    def scans_by_registry_id(self) -> dict[str, tuple[ScanData, ...]]:
        """Registry id -> the patient's scans, oldest first (patients with scans only)."""
        out: dict[str, list[ScanData]] = {}
        with self._read() as s:
            for rid, day, modality, finding in s.execute(
                select(
                    Patient.registry_id, ImagingRecord.performed_on, ImagingRecord.modality,
                    ImagingRecord.finding,
                )
                .join(Patient, Patient.id == ImagingRecord.patient_id)
                .order_by(Patient.registry_id, ImagingRecord.performed_on, ImagingRecord.id)
            ):
                out.setdefault(rid, []).append(ScanData(day, modality, finding))
        return {k: tuple(v) for k, v in out.items()}

    def states(self, patient_ids: Collection[int] | None = None) -> list[PatientState]:
        """Every patient's latest case version, scans and latest assessment (only those of
        ``patient_ids`` when given), in registry-id order."""
        if patient_ids is not None:
            out: list[PatientState] = []
            for chunk in _chunks(sorted(patient_ids)):
                out += self._states(chunk)
            return sorted(out, key=lambda st: st.registry_id)
        return self._states(None)

    def _states(self, ids: Sequence[int] | None) -> list[PatientState]:
        def only(q: Any, column: Any) -> Any:
            return q if ids is None else q.where(column.in_(ids))

        with self._read() as s:
            patients = s.execute(
                only(select(Patient.id, Patient.registry_id), Patient.id)
                .order_by(Patient.registry_id)
            ).all()
            top_cv = (
                only(select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v")),
                     CaseVersion.patient_id)
                .group_by(CaseVersion.patient_id)
                .subquery()
            )
            cases = {
                pid: (cid, v, c)
                for cid, pid, v, c in s.execute(
                    select(
                        CaseVersion.id, CaseVersion.patient_id, CaseVersion.version,
                        CaseVersion.case,
                    ).join(
                        top_cv,
                        (CaseVersion.patient_id == top_cv.c.patient_id)
                        & (CaseVersion.version == top_cv.c.v),
                    )
                )
            }
            top_a = (
                only(select(func.max(StoredAssessment.id).label("id")),
                     StoredAssessment.patient_id)
                .group_by(StoredAssessment.patient_id)
                .subquery()
            )
            latest = {
                row[0]: _view_of(row[1:])
                for row in s.execute(
                    select(StoredAssessment.patient_id, *_VIEW_COLUMNS).join(
                        top_a, StoredAssessment.id == top_a.c.id
                    )
                )
            }
            scans: dict[int, list[ScanData]] = {}
            for pid, day, modality, finding in s.execute(
                only(select(
                    ImagingRecord.patient_id, ImagingRecord.performed_on,
                    ImagingRecord.modality, ImagingRecord.finding,
                ), ImagingRecord.patient_id)
                .order_by(ImagingRecord.patient_id, ImagingRecord.performed_on, ImagingRecord.id)
            ):
                scans.setdefault(pid, []).append(ScanData(day, modality, finding))
        out: list[PatientState] = []
        for pid, rid in patients:
            cid, v, c = cases.get(pid, (None, None, None))
            out.append(
                PatientState(pid, rid, cid, v, c, tuple(scans.get(pid, ())), latest.get(pid))
            )
        return out

    def last_change(self) -> int:
        """The id of the newest audit entry: it changes with every write (for caches)."""
        with self._read() as s:
            return s.scalar(select(func.max(AuditEntry.id))) or 0

    def latest_case(self, registry_id: str) -> tuple[bool, dict[str, Any] | None]:
        """Whether the patient exists, and the latest case version's data (if any)."""
        with self._read() as s:
            row = s.execute(
                select(Patient.id, CaseVersion.case)
                .outerjoin(CaseVersion, CaseVersion.patient_id == Patient.id)
                .where(Patient.registry_id == registry_id)
                .order_by(CaseVersion.version.desc())
                .limit(1)
            ).first()
        if row is None:
            return False, None
        return True, (dict(row[1]) if row[1] is not None else None)

    def state(self, registry_id: str) -> PatientState | None:
        """One patient's :class:`PatientState`, or ``None`` when not in the registry."""
        with self._read() as s:
            pid = s.scalar(select(Patient.id).where(Patient.registry_id == registry_id))
            if pid is None:
                return None
            cv = s.scalars(
                select(CaseVersion)
                .where(CaseVersion.patient_id == pid)
                .order_by(CaseVersion.version.desc())
                .limit(1)
            ).first()
            a = s.execute(
                select(*_VIEW_COLUMNS)
                .where(StoredAssessment.patient_id == pid)
                .order_by(StoredAssessment.id.desc())
                .limit(1)
            ).first()
            scans = tuple(
                ScanData(r.performed_on, r.modality, r.finding)
                for r in s.scalars(
                    select(ImagingRecord)
                    .where(ImagingRecord.patient_id == pid)
                    .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                )
            )
            return PatientState(
                pid,
                registry_id,
                cv.id if cv else None,
                cv.version if cv else None,
                dict(cv.case) if cv else None,
                scans,
                _view_of(a) if a else None,
            )

    def timeline(self, registry_id: str) -> Timeline | None:
        """Everything stored about one patient, oldest first."""
        with self._read() as s:
            p = s.scalars(select(Patient).where(Patient.registry_id == registry_id)).first()
            if p is None:
                return None
            cases = tuple(
                CaseView(r.id, r.version, dict(r.case), r.digest, r.source, r.recorded_at,
                         r.recorded_by)
                for r in s.scalars(
                    select(CaseVersion)
                    .where(CaseVersion.patient_id == p.id)
                    .order_by(CaseVersion.version)
                )
            )
            assessments = tuple(
                _view_of(row)
                for row in s.execute(
                    select(*_VIEW_COLUMNS)
                    .where(StoredAssessment.patient_id == p.id)
                    .order_by(StoredAssessment.id)
                )
            )
            scans = tuple(
                ScanView(r.id, r.performed_on, r.modality, r.finding, r.recorded_at,
                         r.recorded_by)
                for r in s.scalars(
                    select(ImagingRecord)
                    .where(ImagingRecord.patient_id == p.id)
                    .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                )
            )
            audit = tuple(
                _audit_view(r)
                for r in s.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.patient_id == p.id)
                    .order_by(AuditEntry.id)
                )
            )
            outcomes = tuple(
                _outcome_view(r)
                for r in s.scalars(
                    select(OutcomeRecord)
                    .where(OutcomeRecord.patient_id == p.id)
                    .order_by(OutcomeRecord.event_date, OutcomeRecord.id)
                )
            )
            return Timeline(p.registry_id, p.created_at, cases, assessments, scans, audit,
                            outcomes)

    def audit(self, limit: int | None = None) -> list[AuditView]:
        """The audit log, oldest first (the last ``limit`` entries when given)."""
        with self._read() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc())
            if limit is not None:
                q = q.limit(limit)
            return [_audit_view(r) for r in reversed(list(s.scalars(q)))]

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, as plain JSON-ready data (registry ids included)."""
        with self._read() as s:
            rid = dict(s.execute(select(Patient.id, Patient.registry_id)).all())
            out: dict[str, list[dict[str, Any]]] = {}
            out["patients"] = [
                {"registry_id": r.registry_id, "created_at": _iso(r.created_at),
                 "created_by": r.created_by}
                for r in s.scalars(select(Patient).order_by(Patient.registry_id))
            ]
            out["case_versions"] = [
                {"registry_id": rid[r.patient_id], "version": r.version, "case": r.case,
                 "digest": r.digest, "source": r.source,
                 "recorded_at": _iso(r.recorded_at), "recorded_by": r.recorded_by}
                for r in s.scalars(select(CaseVersion).order_by(CaseVersion.id))
            ]
            cv_version = dict(
                s.execute(select(CaseVersion.id, CaseVersion.version)).all()
            )
            out["assessments"] = [
                {"registry_id": rid[r.patient_id], "case_version": cv_version[r.case_version_id],
                 "evaluated_on": r.evaluated_on.isoformat(),
                 "knowledge_version": r.knowledge_version, "engine_version": r.engine_version,
                 "settings_digest": r.settings_digest, "risk_group": r.risk_group,
                 "disease_status": r.disease_status, "record_ids": r.record_ids,
                 "next_due": r.next_due.isoformat() if r.next_due else None,
                 "reason": r.reason, "created_at": _iso(r.created_at),
                 "created_by": r.created_by, "output": r.output}
                for r in s.scalars(select(StoredAssessment).order_by(StoredAssessment.id))
            ]
            out["imaging_events"] = [
                {"registry_id": rid[r.patient_id], "performed_on": r.performed_on.isoformat(),
                 "modality": r.modality, "finding": r.finding,
                 "recorded_at": _iso(r.recorded_at), "recorded_by": r.recorded_by}
                for r in s.scalars(
                    select(ImagingRecord).order_by(ImagingRecord.performed_on, ImagingRecord.id)
                )
            ]
            out["audit_log"] = [
                {"at": _iso(r.at), "actor": r.actor, "action": r.action, "entity": r.entity,
                 "entity_id": r.entity_id,
                 "registry_id": rid.get(r.patient_id) if r.patient_id else None,
                 "detail": r.detail}
                for r in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ]
            return out


def _day(value: Any) -> dt.date | None:
    """A date from the driver: a date, ISO text (SQLite) or ``None``."""
    return dt.date.fromisoformat(value) if value.__class__ is str else value


def _state_of(values: Sequence[Any]) -> StateData:
    """A :class:`StateData` from a row of :data:`_STATE_COLUMNS`."""
    (scans, knowledge, engine, settings, valid, plan, risk, disease, last_scan, visit,
     phase, due, latest, imaging, done_visit, done_on, record, provenance, reason,
     alerts) = values
    return StateData(
        scans, knowledge, engine, settings, valid, plan, risk, disease, last_scan, visit,
        phase, due, latest, tuple(imaging.split()) if imaging else (), done_visit, done_on,
        record, provenance, reason, None if alerts is None else tuple(alerts.split()),
    )


def _same_version(
    items: Sequence[tuple[int, int, StateData]], latest: dict[int, tuple[int, str]]
) -> list[tuple[int, int, StateData | None]]:
    """The states computed from the patient's latest case version (others are dropped:
    a newer version was stored meanwhile, with its own state)."""
    return [(pid, v, st) for pid, v, st in items if latest.get(pid, (None, ""))[0] == v]


def _assessment_detail(a: AssessmentData) -> dict[str, Any]:
    return {
        "evaluated_on": a.evaluated_on.isoformat(),
        "knowledge_version": a.knowledge_version,
        "engine_version": a.engine_version,
        "risk_group": a.risk_group,
        "reason": a.reason,
    }


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def _registry_id_range(q: _Q, after: str | None, upto: str | None) -> _Q:
    """``q`` limited to the registry ids after ``after`` up to and including ``upto``
    (compared by the database, in the order of its ``ORDER BY``)."""
    if after is not None:
        q = q.where(Patient.registry_id > after)
    if upto is not None:
        q = q.where(Patient.registry_id <= upto)
    return q
