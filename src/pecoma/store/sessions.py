"""Browser sessions and refused sign-ins, kept in the registry database.

A session is made at sign-in: a random id travels in the signed cookie, only its SHA-256
digest is stored, with the token and the expiry. Every request authenticated by cookie
checks the row, so signing out (``ended_at``) ends the session on every worker at once,
and a copied cookie stops working.

Refused sign-ins are counted per client address (stored as its SHA-256 digest) over a
sliding window; :meth:`SessionStore.too_many_failures` says when the limit is reached.
Rows older than the window are deleted as new ones are written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, delete, func, select, update
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

    def too_many_failures(self, address: str) -> bool:
        """Whether ``address`` was refused :data:`LOGIN_ATTEMPTS` times in the window."""
        since = self._clock() - LOGIN_WINDOW

        def work(s: Session) -> bool:
            count = s.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.address == _digest(address), LoginFailure.at > since))
            return int(count or 0) >= LOGIN_ATTEMPTS

        return self._run(work)

    def record_failure(self, address: str) -> None:
        now = self._clock()

        def work(s: Session) -> None:
            s.add(LoginFailure(address=_digest(address), at=now))
            s.execute(delete(LoginFailure).where(LoginFailure.at < now - LOGIN_WINDOW))

        self._run(work)

    def clear_failures(self, address: str) -> None:
        def work(s: Session) -> None:
            s.execute(delete(LoginFailure).where(LoginFailure.address == _digest(address)))

        self._run(work)
