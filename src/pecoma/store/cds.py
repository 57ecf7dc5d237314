"""The CDS Hooks service's memory in the registry database, shared by all workers.

Four tables (:mod:`pecoma.store.models`), each bounded in retention and in size:

==================  =============================================  =====================
table               holds                                          bound
==================  =============================================  =====================
``cds_jti``         SHA-256 of (issuer, jti) until the JWT expires  expiry; ``max_jti``
``cds_report``      report text behind a card link (SHA-256 of     ``report_ttl``;
                    the random token as key; the token itself is    ``max_reports``
                    never stored)
``cds_card``        what each issued card said (no patient data),  ``card_days``;
                    and the SHA-256 of the issuer it was given to   ``max_cards``
``cds_feedback``    clinicians' outcomes on cards                  ``feedback_days``;
                                                                    ``max_feedback``
==================  =============================================  =====================

Each feedback entry is also written, in the same transaction and with an audit entry, to
``board_decision`` (source ``cds-hooks``, one row per record id it decides about,
:attr:`FeedbackRecord.decision_ids`: accepted, or declined with the override reason), the
one table of decisions the registry's concordance reads; those rows are never pruned. An
entry deciding nothing (feedback on an informational card) is kept as feedback only.

Expired rows (``jti``, reports), old cards and old feedback are deleted, and the row
counts checked, on every ``prune_every``-th write of a process of that kind (the replay
cache, the cards with their reports and the feedback each count their own writes, so a
call that claims a ``jti`` and then issues cards leaves both their turns; an expired
report or token is refused all the same; the cards and reports after the answer has
been sent, :meth:`CdsStore.prune_cards`): above the bound, the oldest rows go, except
for the replay cache, which refuses new tokens instead (forgetting a ``jti`` would let a
replay through: it fails closed), and is counted whenever this process may have used up
its share of the room left (:meth:`CdsStore.claim_jti`), so with up to :data:`SHARERS`
processes writing it never passes ``max_jti`` (with more, by at most their extra shares
until the next count). Writes are short transactions: one insert per JWT claim; the
cards and the report of one answer are one transaction (on PostgreSQL one statement, so
one round trip to the server; on SQLite two inserts). The jti claim
relies on the primary key, so two workers seeing the same ``jti`` at the same moment
cannot both accept it.

**Durability.** On PostgreSQL the cards and report of an answer commit without waiting
for the write-ahead log to reach the disk (``set_config('synchronous_commit', 'off',
true)`` inside that statement: that transaction only): the answer no longer waits ~5 ms
for a flush. The rows are visible to every worker at once and the transaction stays
all-or-nothing; what is given up is only this: if the database server itself crashes,
the answers of its last fraction of a second (at most three ``wal_writer_delay``, 0.6 s
by default) may be lost, so their report links say "expired or never existed" and
feedback on those cards is refused as on an unknown card (the EHR has the cards
already). The replay cache, the feedback, its board decisions
and audit entries commit synchronously: a token claimed is claimed on disk, and what a
clinician decided is never lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from pecoma.store.db import DB_TIMEOUT_S, StoreError
from pecoma.store.models import (
    AuditEntry,
    BoardDecision,
    CdsCard,
    CdsFeedback,
    CdsJti,
    CdsReport,
)

__all__ = ["CardRecord", "CdsLimits", "CdsStore", "FeedbackRecord", "issuer_key"]


@dataclass(frozen=True, slots=True)
class CdsLimits:
    """Retention and size bounds of the CDS tables."""

    report_ttl_seconds: float = 3600.0
    max_reports: int = 5_000
    max_jti: int = 200_000
    card_days: float = 400.0
    max_cards: int = 500_000
    feedback_days: float = 3650.0
    max_feedback: int = 500_000
    prune_every: int = 200


@dataclass(frozen=True, slots=True)
class CardRecord:
    """What a card said, for audit and for checking feedback: no patient data."""

    uuid: str
    service: str
    hook_instance: str
    indicator: str
    summary: str
    record_ids: tuple[str, ...]
    knowledge_version: str
    suggestions: tuple[str, ...] = ()
    override_reasons: tuple[str, ...] = ()  # "system|code"
    #: When the card was issued (naive UTC, as stored); set when read back from the store.
    issued_at: dt.datetime | None = None
    #: Who the card was given to (:func:`issuer_key` of the JWT's issuer, ``None`` when no
    #: JWT was verified); set when read back from the store.
    issuer: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One clinician's outcome on one card, checked against the card as issued."""

    card: str
    service: str
    outcome: str
    outcome_at: dt.datetime
    accepted_suggestions: tuple[str, ...] = ()
    override_system: str | None = None
    override_code: str | None = None
    user_comment: str | None = None
    record_ids: tuple[str, ...] = ()
    knowledge_version: str = ""
    received_at: dt.datetime | None = field(default=None)
    #: The record ids this entry is a decision about (``board_decision`` rows): the
    #: recommendations and alerts of a card that offered something to accept or a reason
    #: to give; none for an informational card (dismissing it decides nothing). Not kept
    #: in ``cds_feedback`` (read back, it is empty).
    decision_ids: tuple[str, ...] = ()


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "backslashreplace"))
        h.update(b"\0")
    return h.hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    """Naive UTC (what SQLite hands back), so comparisons agree on every database."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


_SQLITE_WRITES = threading.Lock()

#: How many processes (workers, machines) are assumed to share the CDS tables when the
#: room left below a table's bound is shared out (:meth:`CdsStore._keep_within`).
SHARERS = 16

#: The cards and reports of one answer on PostgreSQL: one statement (so one round trip and
#: one transaction, committed without waiting for the WAL flush: ``set_config(..., true)``
#: holds for that statement's transaction only). The rows arrive as two JSON arrays, so the
#: statement's text is the same whatever the number of cards.
_ISSUE_PG = text(
    "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)), "
    "reports AS (INSERT INTO cds_report (digest, text, created_at, expires_at) "
    "SELECT digest, text, created_at, expires_at "
    "FROM json_populate_recordset(NULL::cds_report, :reports)) "
    "INSERT INTO cds_card (uuid, service, hook_instance, indicator, summary, record_ids, "
    "suggestions, override_reasons, knowledge_version, issued_at, issuer) "
    "SELECT uuid, service, hook_instance, indicator, summary, record_ids, suggestions, "
    "override_reasons, knowledge_version, issued_at, issuer "
    "FROM json_populate_recordset(NULL::cds_card, :cards) CROSS JOIN async_commit"
)


def issuer_key(issuer: str | None) -> str | None:
    """How a card keeps the EHR it was given to: the SHA-256 of the JWT's issuer (a URL of
    any length, kept in a fixed width), or ``None`` when no JWT was verified."""
    return None if issuer is None else _digest("issuer", issuer)


def _json_rows(rows: list[dict[str, Any]]) -> Any:
    """Rows as a JSON array for ``json_populate_recordset`` (times as UTC instants), given
    to psycopg as the UTF-8 bytes orjson writes: as text they were decoded here and
    encoded again by the driver, character by character (a report of some 20 kB in each
    answer)."""
    from psycopg.types.json import Json

    return Json(rows, dumps=_rows_json)


def _rows_json(rows: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC)


class CdsStore:
    """Reads and writes the CDS tables on the registry's engine (synchronous calls)."""

    def __init__(
        self,
        engine: Engine,
        limits: CdsLimits | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.engine = engine
        self.limits = limits or CdsLimits()
        self.clock = clock
        #: Writes of this process, one count per job, so that one job's turn never falls
        #: to another (a call with cards claims a jti and then issues its cards).
        self._writes = {job: itertools.count(1) for job in ("cds_jti", "cards", "feedback")}
        self._room: dict[str, int] = {}  # rows this process may add before counting again
        self._room_lock = threading.Lock()
        size = getattr(engine.pool, "size", None)
        self._gate = threading.BoundedSemaphore(max(1, size() if callable(size) else 5))

    def _writing(self) -> AbstractContextManager[Any]:
        """Who may use the database now. On SQLite, this process's writes one at a time:
        SQLite's busy handler sleeps longer at each try (up to 100 ms) while another
        writer holds the file; with many threads of each worker waiting at once, some lost
        again and again (tails of over a second at 16 connections). One waiter per
        process keeps the wait short. On PostgreSQL (row locks), at most as many calls at
        once as the pool keeps connections: a burst waits for a pooled connection instead
        of opening overflow connections that are closed again when returned (a new
        server process and a log-in each time: 138 connections in one benchmark run);
        the wait is bounded like the pool's own (a :class:`StoreError` after it)."""
        return _SQLITE_WRITES if self.engine.dialect.name == "sqlite" else self._pooled()

    @contextmanager
    def _pooled(self) -> Iterator[None]:
        if not self._gate.acquire(timeout=DB_TIMEOUT_S):
            raise StoreError("the registry database is busy: no connection came free in "
                             f"{DB_TIMEOUT_S:g} s")
        try:
            yield
        finally:
            self._gate.release()

    def _now(self) -> dt.datetime:
        return _utc(self.clock())

    def _run(self, work: Callable[[Session], Any]) -> Any:
        try:
            with self._writing(), Session(self.engine) as session, session.begin():
                return work(session)
        except SQLAlchemyError as exc:
            raise StoreError("the registry database cannot store the CDS service's data "
                             f"({type(exc).__name__})") from exc

    def _count_due(self, job: str) -> bool:
        """Whether this write of ``job`` is a ``prune_every``-th one of the process."""
        return next(self._writes[job]) % self.limits.prune_every == 0

    @staticmethod
    def _keep_newest(session: Session | Connection, column: Any, bound: int) -> int:
        """Delete the oldest rows beyond ``bound``; the count of rows found."""
        total = session.scalar(select(func.count()).select_from(column.class_)) or 0
        if total <= bound:
            return total
        cut = session.scalar(select(column).order_by(column.desc()).offset(bound).limit(1))
        if cut is not None:
            session.execute(delete(column.class_).where(column <= cut))
        return total

    def _added(self, table: str, rows: int) -> None:
        with self._room_lock:
            self._room[table] = self._room.get(table, 0) - rows

    def _keep_within(self, conn: Connection, column: Any, bound: int) -> None:
        """:meth:`_keep_newest`, counting the table only when it may be near its bound.

        After a count, the room left below the bound is shared out among
        :data:`SHARERS` processes: this process counts again once it has added its share
        (a table far from its bound is not counted at every pruning; counting half a
        million cards takes tens of milliseconds of the database's CPU). With up to
        ``SHARERS`` processes writing, the table cannot pass its bound unnoticed; with more,
        it may pass it by their extra shares until the next count."""
        table = column.class_.__tablename__
        with self._room_lock:
            if self._room.get(table, 0) > 0:
                return
        total = self._keep_newest(conn, column, bound)
        with self._room_lock:
            self._room[table] = max(0, bound - total) // SHARERS

    # ---------------------------------------------------------------- JWT replay cache

    def claim_jti(self, issuer: str, jti: str, expires: dt.datetime) -> bool:
        """Record a token's ``jti``; False when already seen (a replay) or the cache is full.

        One insert per call; expired rows are deleted on every ``prune_every``-th claim of
        the process, and before each count. The table is counted when this process may
        have used up its share of the room left below ``max_jti`` (as
        :meth:`_keep_within` shares it out; at every claim once the cache is nearly
        full): at ``max_jti`` the claim is refused rather than an unexpired ``jti``
        forgotten. A key still held by an expired row that was not pruned yet is taken
        over (the token it stood for can no longer be replayed)."""
        now = self._now()
        key = _digest(issuer, jti)
        prune = self._count_due("cds_jti")
        with self._room_lock:
            count = self._room.get("cds_jti", 0) <= 0
        row = insert(CdsJti).values(key=key, expires_at=_utc(expires))
        try:
            try:
                with self._writing(), self.engine.begin() as conn:
                    if prune or count:
                        conn.execute(delete(CdsJti).where(CdsJti.expires_at < now))
                    if count:
                        total = conn.scalar(select(func.count()).select_from(CdsJti)) or 0
                        with self._room_lock:
                            self._room["cds_jti"] = max(
                                0, self.limits.max_jti - total) // SHARERS
                        if total >= self.limits.max_jti:
                            return False  # full: fail closed
                    conn.execute(row)
                self._added("cds_jti", 1)
                return True
            except IntegrityError:
                with self._writing(), self.engine.begin() as conn:
                    gone = conn.execute(delete(CdsJti).where(
                        CdsJti.key == key, CdsJti.expires_at < now)).rowcount
                    if not gone:
                        return False  # seen before, by this worker or another: a replay
                    conn.execute(row)
                self._added("cds_jti", 1)
                return True
        except IntegrityError:
            return False  # another worker took the expired key over at the same moment
        except SQLAlchemyError as exc:
            raise StoreError("the registry database cannot check the JWT replay cache "
                             f"({type(exc).__name__})") from exc

    # ----------------------------------------------------------- cards and their report

    @staticmethod
    def new_token() -> str:
        """A fresh, unguessable report link token (192 random bits)."""
        return secrets.token_urlsafe(24)

    def issue(self, cards: Sequence[CardRecord],
              reports: Sequence[tuple[str, str]] = (), issuer: str | None = None) -> None:
        """Store the cards of one answer and, as ``(token, text)``, the reports they link to,
        all or nothing (asynchronous commit on PostgreSQL: see the module doc), each card
        with the EHR it was given to (``issuer``: the verified JWT's ``iss``, ``None``
        without one; kept as :func:`issuer_key`). The bounds are kept by
        :meth:`prune_cards`, which the service runs after the answer has gone."""
        if not cards and not reports:
            return  # nothing to store: no transaction at all
        now = self._now()
        expires = now + dt.timedelta(seconds=self.limits.report_ttl_seconds)
        report_rows = [{"digest": _digest(token), "text": text, "created_at": now,
                        "expires_at": expires} for token, text in reports]
        card_rows = [{
            "uuid": c.uuid, "service": c.service, "hook_instance": c.hook_instance[:64],
            "indicator": c.indicator, "summary": c.summary[:140],
            "record_ids": list(c.record_ids), "suggestions": list(c.suggestions),
            "override_reasons": list(c.override_reasons),
            "knowledge_version": c.knowledge_version, "issued_at": now,
            "issuer": issuer_key(issuer),
        } for c in cards]
        try:
            with self._writing():
                if self.engine.dialect.name == "postgresql":
                    with self.engine.connect().execution_options(
                            isolation_level="AUTOCOMMIT") as conn:
                        conn.execute(_ISSUE_PG, {"reports": _json_rows(report_rows),
                                                 "cards": _json_rows(card_rows)})
                else:
                    with self.engine.begin() as conn:
                        if report_rows:
                            conn.execute(insert(CdsReport), report_rows)
                        if card_rows:
                            conn.execute(insert(CdsCard), card_rows)
        except SQLAlchemyError as exc:
            raise StoreError("the registry database cannot store the CDS service's data "
                             f"({type(exc).__name__})") from exc
        self._added("cds_report", len(report_rows))
        self._added("cds_card", len(card_rows))

    def prune_due(self) -> bool:
        """Whether this write of the process is a ``prune_every``-th one (see
        :meth:`prune_cards`)."""
        return self._count_due("cards")

    def prune_cards(self) -> None:
        """Delete expired reports and cards past their retention, then the oldest beyond
        each table's bound.

        The service does this after every ``prune_every``-th answer of a process
        (:meth:`prune_due`), once the answer has been sent (a background task), so that no
        answer waits for it; a table is counted only when it may be near its bound
        (:meth:`_keep_within`)."""
        now = self._now()
        lim = self.limits
        try:
            with self._writing(), self.engine.begin() as conn:
                conn.execute(delete(CdsReport).where(CdsReport.expires_at < now))
                conn.execute(delete(CdsCard).where(
                    CdsCard.issued_at < now - dt.timedelta(days=lim.card_days)))
                self._keep_within(conn, CdsCard.issued_at, lim.max_cards)
                self._keep_within(conn, CdsReport.created_at, lim.max_reports)
        except SQLAlchemyError as exc:
            raise StoreError("the registry database cannot prune the CDS service's data "
                             f"({type(exc).__name__})") from exc

    def report(self, token: str) -> str | None:
        """The report behind a link token, unless it expired or never existed."""
        if not token or len(token) > 200:
            return None
        now = self._now()

        def work(session: Session) -> str | None:
            row = session.get(CdsReport, _digest(token))
            if row is None or _utc(row.expires_at) < now:
                return None
            return row.text

        result = self._run(work)
        return result if isinstance(result, str) else None

    def card(self, uuid: str) -> CardRecord | None:
        """The card issued under ``uuid`` (the whole of it), if still kept."""
        if len(uuid) != 36:
            return None  # no card's: a uuid with more after it is not that card's

        def work(session: Session) -> CardRecord | None:
            row = session.get(CdsCard, uuid)
            if row is None:
                return None
            return CardRecord(
                uuid=row.uuid, service=row.service, hook_instance=row.hook_instance,
                indicator=row.indicator, summary=row.summary,
                record_ids=tuple(row.record_ids), knowledge_version=row.knowledge_version,
                suggestions=tuple(row.suggestions),
                override_reasons=tuple(row.override_reasons),
                issued_at=_utc(row.issued_at), issuer=row.issuer)

        result = self._run(work)
        return result if isinstance(result, CardRecord) else None

    # ----------------------------------------------------------------------- feedback

    def add_feedback(self, entries: Sequence[FeedbackRecord]) -> None:
        """Store feedback entries (all or none)."""
        now = self._now()
        prune = self._count_due("feedback")
        lim = self.limits

        def work(session: Session) -> None:
            session.execute(insert(CdsFeedback), [{
                "card_uuid": e.card, "service": e.service, "outcome": e.outcome,
                "outcome_at": _utc(e.outcome_at),
                "accepted_suggestions": list(e.accepted_suggestions),
                "override_system": e.override_system, "override_code": e.override_code,
                "user_comment": e.user_comment, "record_ids": list(e.record_ids),
                "knowledge_version": e.knowledge_version, "received_at": now,
            } for e in entries])
            self._decisions(session, entries, now)
            if prune:
                session.execute(delete(CdsFeedback).where(
                    CdsFeedback.received_at < now - dt.timedelta(days=lim.feedback_days)))
                self._keep_newest(session, CdsFeedback.received_at, lim.max_feedback)

        self._run(work)

    @staticmethod
    def _decisions(session: Session, entries: Sequence[FeedbackRecord],
                   now: dt.datetime) -> None:
        """The entries as decisions, each with its audit entry (no patient named)."""
        from pecoma.store.decisions import cds_decision_rows

        rows = [row for e in entries for row in cds_decision_rows(
            e.service, e.card, e.outcome, e.decision_ids, e.override_code, e.user_comment,
            _utc(e.outcome_at))]
        if not rows:
            return
        table = cast(Table, BoardDecision.__table__)
        ids = list(session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
        session.execute(insert(AuditEntry), [{
            "at": now, "actor": row["decided_by"], "action": "create",
            "entity": "board_decision", "entity_id": i, "patient_id": None,
            "detail": {"source": "cds-hooks", "card": row["card_uuid"],
                       "record_id": row["record_id"], "decision": row["decision"],
                       "reason_code": row["reason_code"]},
        } for row, i in zip(rows, ids, strict=True)])

    def feedback(self, limit: int = 10_000) -> list[FeedbackRecord]:
        """The newest feedback entries (for audit and the registry's concordance)."""
        def work(session: Session) -> list[FeedbackRecord]:
            rows = session.scalars(select(CdsFeedback).order_by(CdsFeedback.id.desc())
                                   .limit(limit)).all()
            return [FeedbackRecord(
                card=r.card_uuid, service=r.service, outcome=r.outcome,
                outcome_at=r.outcome_at, accepted_suggestions=tuple(r.accepted_suggestions),
                override_system=r.override_system, override_code=r.override_code,
                user_comment=r.user_comment, record_ids=tuple(r.record_ids),
                knowledge_version=r.knowledge_version, received_at=r.received_at,
            ) for r in reversed(rows)]

        result = self._run(work)
        return list(result)
