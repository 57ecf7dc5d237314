"""Browser sessions and refused sign-ins, kept in the registry database.

A session is made at sign-in: a random id travels in the signed cookie, only its SHA-256
digest is stored, with the token and the expiry. Every request authenticated by cookie
checks the row, so signing out (``ended_at``) ends the session on every worker at once,
and a copied cookie stops working.

Refused sign-ins are counted per client address (stored as its SHA-256 digest) over a
sliding window; :meth:`SessionStore.attempt` admits an attempt, counting it as refused
until it succeeds, or refuses it when the limit is reached, in one transaction. Rows
older than the window are deleted as new ones are written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pecoma.store.db import StoreError
from pecoma.store.models import LoginFailure, WebSession

__all__ = ["LOGIN_ATTEMPTS", "LOGIN_WINDOW", "SessionStore"]

T = TypeVar("T")

LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = dt.timedelta(minutes=15)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _forget_expired(s: Session, now: dt.datetime) -> None:
    """Sessions long expired are of no use: keep the table small."""
    s.execute(delete(WebSession).where(WebSession.expires_at < now - LOGIN_WINDOW))


class SessionStore:
    """The ``web_session`` and ``login_failure`` tables of one registry database."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    def _run(self, work: Callable[[Session], T]) -> T:
        try:
            with self._sessions() as s, s.begin():
                return work(s)
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            lines = str(orig if orig is not None else exc).strip().splitlines()
            raise StoreError("cannot use the registry's sessions: "
                             + (lines[0] if lines else type(exc).__name__)) from exc

    def start(self, session_id: str, token_id: int, lifetime: dt.timedelta) -> None:
        now = self._clock()

        def work(s: Session) -> None:
            s.add(WebSession(digest=_digest(session_id), token_id=token_id, created_at=now,
                             expires_at=now + lifetime))
            _forget_expired(s, now)

        self._run(work)

    def active(self, session_id: str, token_id: int) -> bool:
        """Whether this session of this token was started, is not ended nor expired."""
        now = self._clock()

        def work(s: Session) -> bool:
            row = s.get(WebSession, _digest(session_id))
            return (row is not None and row.token_id == token_id and row.ended_at is None
                    and _utc(row.expires_at) > now)

        return self._run(work)

    def end(self, session_id: str) -> None:
        now = self._clock()

        def work(s: Session) -> None:
            s.execute(update(WebSession)
                      .where(WebSession.digest == _digest(session_id),
                             WebSession.ended_at.is_(None))
                      .values(ended_at=now))
            _forget_expired(s, now)

        self._run(work)

    def attempt(self, address: str) -> bool:
        """Admit one sign-in attempt from ``address``, or refuse it (False) when
        :data:`LOGIN_ATTEMPTS` were refused there within the window.

        An admitted attempt is counted as refused at once, in the transaction that
        counted the others: attempts made at the same time (threads, workers) are each
        counted against the ones before, never against a count taken before the others
        were written, so no more than :data:`LOGIN_ATTEMPTS` are ever admitted. A
        successful sign-in then clears the count (:meth:`clear_failures`). On SQLite the
        transaction holds the write lock from its start (``BEGIN IMMEDIATE``); on
        PostgreSQL it takes a transaction lock on the address first."""
        now = self._clock()
        key = _digest(address)

        def work(s: Session) -> bool:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                          {"key": int(key[:15], 16)})
            count = s.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.address == key, LoginFailure.at > now - LOGIN_WINDOW))
            if int(count or 0) >= LOGIN_ATTEMPTS:
                return False
            s.add(LoginFailure(address=key, at=now))
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - LOGIN_WINDOW))
            return True

        return self._run(work)

    def clear_failures(self, address: str) -> None:
        def work(s: Session) -> None:
            s.execute(delete(LoginFailure).where(LoginFailure.address == _digest(address)))

        self._run(work)
