"""The repository's base: its engine, clock and transactions (read, and write retried
after a lost concurrency race), the patient locks and latest case versions the writers
check against, and the small helpers every part of it shares."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    Select,
    Table,
    any_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, aliased, sessionmaker

from pecoma.errors import FieldIssue, InputError
from pecoma.store.db import READ_ONLY, StoreError
from pecoma.store.models import (
    CaseVersion,
    EntryWithdrawal,
    ImagingRecord,
    ImportedFile,
    OutcomeRecord,
    Patient,
    StoredAssessment,
)

log = logging.getLogger("pecoma.store.repository")

_CHUNK = 900
_RETRIES = 5

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def live_scan() -> ColumnElement[bool]:
    """The scan of the enclosing query is not withdrawn as entered in error: every read
    of the scans, but the audit's, keeps to these."""
    return ~exists().where(EntryWithdrawal.scan_id == ImagingRecord.id)


def scan_stamp(patient_id: Any) -> ColumnElement[int]:
    """The patient's scan stamp: the number of scans ever recorded for the patient
    (``patient_id``: a column of the enclosing query, or a value), withdrawn or not, plus
    the number of them withdrawn as entered in error. THE basis a worklist state is
    checked against (:class:`~pecoma.store.repository.records.StateData`).

    It never decreases and grows with every change of the patient's scans: a scan is
    never deleted nor changed (no code path does; a withdrawn one stays, named by its
    ``entry_withdrawal`` row, which is append-only and keeps the scan by its foreign
    key), a scan is withdrawn at most once, and a withdrawal is never undone. So a stamp
    read before the patient's scans and equal to the one read where the state is
    stored proves that no scan was recorded or withdrawn in between: the state was
    computed from the scans as they are. (The number of live scans does not: a scan
    withdrawn and another recorded leave it as it was.)"""
    im, w = aliased(ImagingRecord), aliased(EntryWithdrawal)
    recorded = (select(func.count()).select_from(im).where(im.patient_id == patient_id)
                .scalar_subquery())
    withdrawn = (select(func.count()).select_from(w)
                 .where(w.patient_id == patient_id, w.scan_id.is_not(None))
                 .scalar_subquery())
    return recorded + withdrawn


def live_outcome() -> ColumnElement[bool]:
    """The outcome of the enclosing query is not withdrawn as entered in error."""
    return ~exists().where(EntryWithdrawal.outcome_id == OutcomeRecord.id)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    # 40001 serialization_failure, 40P01 deadlock_detected
    return code in ("40001", "40P01")


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


_REFUSED: dict[str, str] = {
    "22001": "a text longer than its column holds",
    "22003": "a number out of its column's range",
    "22007": "a date or time the database cannot read",
    "22008": "a date or time out of the database's range",
    "22021": "a character the database cannot store (a NUL)",
    "22P02": "a value of another type than its column's",
    "22P05": "a character the database cannot store (a NUL)",
}
"""What each SQLSTATE of a refused value says, in words that hold no value (the
database's own message may quote it: ``invalid input syntax for type integer: "…"``)."""

_STATEMENT_TABLE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|COPY)\s+\"?(\w+)", re.IGNORECASE)
#: Where a bulk insert (``COPY``) was refused, as PostgreSQL's context says it (read for
#: the names only: the context goes on to quote the value).
_COPY_CONTEXT = re.compile(r"^COPY (\w+), line \d+, column (\w+)")
_TYPE_LENGTH = re.compile(r"for type (character varying\((\d+)\))")
_INT32 = 2**31


def _refused_columns(params: Any, sqlstate: str | None, message: str) -> list[str]:
    """The bound parameters (named as their columns by the inserts and updates here)
    whose values the database refuses as ``sqlstate`` says, found by their shape alone:
    a text with a NUL, a text longer than the type named, an integer beyond 32 bits."""
    rows = params if isinstance(params, list | tuple) else [params]
    length = _TYPE_LENGTH.search(message)
    limit = int(length.group(2)) if sqlstate == "22001" and length else None

    def refused(value: Any) -> bool:
        if isinstance(value, str):
            nul = "\x00" in value or "\\u0000" in value
            return nul if limit is None else len(value) > limit
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return sqlstate == "22003" and not -_INT32 <= value < _INT32
        if isinstance(value, dict | list):
            return limit is None and refused(json.dumps(value))
        return False

    found: list[str] = []
    for row in rows:
        if isinstance(row, dict):
            found += [str(k) for k, v in row.items() if refused(v) and str(k) not in found]
    return found


def _refused_value(exc: DataError) -> InputError:
    """A value the database refuses (PostgreSQL: a NUL in text; a text too long for its
    column) is the input's fault, never the database being unavailable. Text is checked
    where it comes in (:mod:`pecoma.text`); this is the last guard behind that check.
    The message names the table and column (from the error's diagnostics, else from the
    statement and which bound value has the refused shape) and the kind of refusal,
    never the value: the database's own message may quote it."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    message = str(getattr(diag, "message_primary", None) or orig or "")
    table = getattr(diag, "table_name", None)
    if table is None:
        found = _STATEMENT_TABLE.match(str(exc.statement or ""))
        table = found.group(1) if found else None
    column = getattr(diag, "column_name", None)
    copied = _COPY_CONTEXT.match(str(getattr(diag, "context", None) or ""))
    if copied:
        table, column = table or copied.group(1), column or copied.group(2)
    columns = [column] if column else _refused_columns(exc.params, sqlstate, message)
    if sqlstate is None and "NUL" in message:
        sqlstate = "22021"  # (the driver refuses it before the server sees it)
    what = _REFUSED.get(sqlstate or "", "a value the database refuses"
                        + (f" (SQLSTATE {sqlstate})" if sqlstate else ""))
    length = _TYPE_LENGTH.search(message)
    if sqlstate == "22001" and length:
        what += f" ({length.group(1)})"
    where = ", ".join(f"{table}.{c}" if table else c for c in columns) \
        or (f"{table} (a column not known)" if table else "(value)")
    return InputError([FieldIssue(where, "(not shown)",
                                  f"must be a value the registry can store: {what}")],
                      "record")


def _table(model: type[Any]) -> Table:
    """The Core table of a model: bulk inserts through it are single executemany calls."""
    return cast(Table, model.__table__)


def _day(value: Any) -> dt.date | None:
    """A date from the driver: a date, ISO text (SQLite; from a stored case also the
    midnight of a day, "2026-05-04 00:00:00") or ``None``; ``None`` also for a stored
    text that is no date (kept as an older version accepted it): unknown, never a 500."""
    if value.__class__ is not str:
        return cast("dt.date | None", value)
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _detected(metastases: Any) -> tuple[dt.date | None, ...]:
    """The detection dates of a stored case's metastases (``None`` for one without a
    date, or not a date; a list that is not one reads as one metastasis not dated)."""
    if metastases is None:
        return ()
    if not isinstance(metastases, list):
        return (None,)
    out: list[dt.date | None] = []
    for m in metastases:
        day = m.get("detected_on") if isinstance(m, dict) else None
        out.append(_day(day) if isinstance(day, str) else None)
    return tuple(out)


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="seconds")


def _json_object(text: str) -> dict[str, Any]:
    """A stored JSON object from its text (orjson, or json.loads for what it declines)."""
    import orjson

    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = json.loads(text)
    return dict(data)


def recorded_on(version: Any = CaseVersion) -> Any:
    """The day a case version was recorded on, in the registry's time: the evaluation
    date of its first assessment, stored with it (the day the import, the case form or
    ``add-case`` was run as of), as a scan is dated by the day it was done and an
    outcome by the day it happened. ``None``: a version stored without an assessment
    (none is, since the first migration), taken as recorded on any day."""
    first = aliased(StoredAssessment)
    return (select(first.evaluated_on).where(first.case_version_id == version.id)
            .order_by(first.id).limit(1).scalar_subquery())


def current_versions(on_date: Any = None) -> Select[int, int]:
    """(``patient_id``, ``v``): each patient's case version current on ``on_date`` (a
    date, or a bound parameter holding one), THE rule of every view of the registry as
    of a date: the latest version recorded on or before it (:func:`recorded_on`). A
    patient with no version recorded by then has none: it is not in that view, as a
    scan done later is not. ``None``: the latest version, whenever recorded. Narrow it
    with ``.where(CaseVersion.patient_id …)``; ``.subquery()`` to join it."""
    cv = CaseVersion
    q = select(cv.patient_id, func.max(cv.version).label("v"))
    if on_date is not None:
        day = recorded_on(cv)
        q = q.where(or_(day.is_(None), day <= on_date))
    return q.group_by(cv.patient_id)


_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def _registry_id_range(q: _Q, after: str | None, upto: str | None) -> _Q:
    """``q`` limited to the registry ids after ``after`` up to and including ``upto``
    (compared by the database, in the order of its ``ORDER BY``)."""
    if after is not None:
        q = q.where(Patient.registry_id > after)
    if upto is not None:
        q = q.where(Patient.registry_id <= upto)
    return q


class RepositoryBase:
    """The engine, the clock and the transactions the registry's use cases run in."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

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
        except DataError as exc:
            raise _refused_value(exc) from exc

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
                if isinstance(exc, DataError):
                    raise _refused_value(exc) from exc
                if isinstance(exc, IntegrityError):
                    raise StoreError(
                        f"the registry refused the change: {_first_line(exc)}"
                    ) from exc
                raise StoreError(f"cannot write to the registry: {_first_line(exc)}") from exc
        raise StoreError("cannot write to the registry: too many concurrency conflicts")

    def _imported_before(self, s: Session, digest: str) -> bool:
        """Whether a table of this content (``digest``: :func:`~pecoma.registry.
        import_table.table_digest`, the same cells whatever the file's line ends,
        separator or format) was imported before: THE rule that tells a re-import
        (cases, scans and outcomes tables alike), which never undoes a correction or a
        withdrawal made since."""
        return s.scalar(select(ImportedFile.id).where(ImportedFile.digest == digest)
                        .limit(1)) is not None

    def _remember_file(self, s: Session, digest: str, name: str, actor: str,
                       now: dt.datetime) -> None:
        """Record a committed import of a file (in its transaction), so that importing
        the same table again is known (:meth:`_imported_before`)."""
        s.execute(insert(ImportedFile).values(digest=digest, source=name[:200],
                                              imported_at=now, imported_by=actor))

    def imported_before(self, digest: str) -> bool:
        """Whether a table of this content was imported before (:meth:`_imported_before`)."""
        with self._read() as s:
            return self._imported_before(s, digest)

    def remember_file(self, digest: str, name: str, actor: str) -> None:
        """Record the import of a file whose rows were written in transactions of their
        own (the scans of an export's table), once they are (:meth:`_remember_file`)."""
        self._write(lambda s: self._remember_file(s, digest, name, actor, self._clock()))

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

