"""The repository's base: its engine, clock and transactions (read, and write retried
after a lost concurrency race), the patient locks and latest case versions the writers
check against, and the small helpers every part of it shares."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Integer, Select, Table, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from pecoma.errors import FieldIssue, InputError
from pecoma.store.db import READ_ONLY, StoreError
from pecoma.store.models import CaseVersion, Patient

log = logging.getLogger("pecoma.store.repository")

_CHUNK = 900
_RETRIES = 5

T = TypeVar("T")


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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


def _refused_value(exc: DataError) -> InputError:
    """A value the database refuses (PostgreSQL: a NUL in text; a text too long for its
    column) is the input's fault, never the database being unavailable. Text is checked
    where it comes in (:mod:`pecoma.text`); this is the last guard behind that check."""
    return InputError([FieldIssue("(value)", "(not shown)",
                                  f"must be a value the registry can store ({_first_line(exc)})")],
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

