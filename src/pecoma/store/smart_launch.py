"""SMART App Launch state between the redirect to the EHR and its return.

A launch is kept under the SHA-256 digest of its ``state`` (never the state itself), with
the digest of a random key held in the browser's cookie, so that only the browser that
started a launch can finish it. :meth:`LaunchStore.take` deletes the row as it reads it:
a launch is used once, whichever worker sees the return, and a replayed ``state`` finds
nothing. Launches expire after a few minutes and their number is bounded; expired rows
are removed whenever a launch begins.

No access token is ever stored: the token lives only in the request that uses it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pecoma.store.db import StoreError
from pecoma.store.models import SmartLaunch

__all__ = ["LaunchRefused", "LaunchStore", "LaunchesFull", "PendingLaunch"]

T = TypeVar("T")


class LaunchRefused(Exception):
    """The return from the EHR matches no launch this browser may finish (message: why)."""


class LaunchesFull(Exception):
    """Too many launches are in progress; a new one is refused until some end or expire."""


@dataclass(frozen=True, slots=True)
class PendingLaunch:
    """What finishing a launch needs."""

    iss: str
    token_endpoint: str
    code_verifier: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class LaunchStore:
    """The ``smart_launch`` table of one registry database."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    def _run(self, work: Callable[[Session], T]) -> T:
        try:
            with self._sessions() as s, s.begin():
                return work(s)
        except SQLAlchemyError as exc:
            raise StoreError("cannot use the registry database for SMART launches") from exc

    def begin(self, state: str, browser_key: str, launch: PendingLaunch, *,
              lifetime_seconds: int, max_pending: int) -> None:
        """Keep a new launch; :class:`LaunchesFull` when ``max_pending`` are in progress."""
        now = self._clock()

        def work(s: Session) -> None:
            s.execute(delete(SmartLaunch).where(SmartLaunch.expires_at < now))
            pending = s.scalar(select(func.count()).select_from(SmartLaunch)) or 0
            if pending >= max_pending:
                raise LaunchesFull(f"{pending} SMART launches are in progress")
            s.add(SmartLaunch(
                state_digest=_digest(state), browser_digest=_digest(browser_key),
                code_verifier=launch.code_verifier, iss=launch.iss,
                token_endpoint=launch.token_endpoint, created_at=now,
                expires_at=now + dt.timedelta(seconds=lifetime_seconds),
            ))

        self._run(work)

    def take(self, state: str, browser_key: str | None) -> PendingLaunch:
        """The launch of ``state``, removed as it is read; :class:`LaunchRefused` if none.

        Whatever the outcome, the launch cannot be used again.
        """
        key = _digest(state)
        now = self._clock()

        def work(s: Session) -> SmartLaunch | None:
            row = s.get(SmartLaunch, key)
            if row is None:
                return None
            gone = s.execute(delete(SmartLaunch).where(SmartLaunch.state_digest == key))
            # Two workers may read the same row: only the one whose delete took it wins.
            return row if getattr(gone, "rowcount", 0) == 1 else None

        row = self._run(work)
        if row is None:
            raise LaunchRefused("this launch is unknown or was already used; start it again "
                                "from the EHR")
        if _utc(row.expires_at) < now:
            raise LaunchRefused("this launch took too long and has expired; start it again "
                                "from the EHR")
        if browser_key is None or not hmac.compare_digest(_digest(browser_key),
                                                          row.browser_digest):
            raise LaunchRefused("this launch was started in another browser (or its cookie "
                                "was lost); start it again from the EHR")
        return PendingLaunch(row.iss, row.token_endpoint, row.code_verifier)
