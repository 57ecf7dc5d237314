"""API tokens for server mode: create (shown once), look up, list and revoke.

A token is ``pecoma_`` followed by 32 random bytes (``secrets.token_urlsafe``). Only its
SHA-256 digest is stored. A fast hash suffices because the token is random with 256 bits
of entropy: no dictionary or brute-force attack on the digest is feasible, unlike a
password, so a slow hash (scrypt, argon2) would only slow down every request. A request's
token is hashed and looked up by digest (unique index); the stored digest is then compared
again with :func:`hmac.compare_digest`.

Creating and revoking a token writes an ``audit_log`` row (entity ``api_token``) naming
the token by name and id, never the token or its digest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.db import StoreError
from pecoma.store.models import TOKEN_NAME_MAX, ApiToken, AuditEntry

__all__ = [
    "TOKEN_PREFIX",
    "Role",
    "TokenInfo",
    "TokenStore",
    "check_role",
    "check_token_name",
    "token_digest",
]

T = TypeVar("T")

TOKEN_PREFIX = "pecoma_"  # noqa: S105 (a prefix, not a secret)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]*$")
NAME_RULE = (
    f"must be 1-{TOKEN_NAME_MAX} letters, digits, spaces, '.', '_', '@' or '-', starting "
    "with a letter or digit (a person or system, never a patient)"
)


class Role(StrEnum):
    """What a token may do; each role can do everything the previous one can."""

    reader = "reader"
    clinician = "clinician"
    admin = "admin"

    @property
    def rank(self) -> int:
        return {"reader": 1, "clinician": 2, "admin": 3}[self.value]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


def check_role(value: object) -> Role:
    if isinstance(value, str) and value in Role.__members__:
        return Role(value)
    raise InputError(
        [FieldIssue("role", show_value(value), "must be one of reader, clinician, admin")],
        "token",
    )


def check_token_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not 1 <= len(text) <= TOKEN_NAME_MAX or not _NAME.match(
        text
    ):
        raise InputError([FieldIssue("name", show_value(value), NAME_RULE)], "token")
    return text


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as listed: never the token itself."""

    id: int
    name: str
    role: Role
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> str:
        """How the audit log names whoever used this token."""
        return f"token:{self.id}:{self.name}"[:80]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; they were written in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _info(row: ApiToken) -> TokenInfo:
    created = _utc(row.created_at)
    assert created is not None
    return TokenInfo(row.id, row.name, Role(row.role), created, row.created_by,
                     _utc(row.revoked_at))


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class TokenStore:
    """The ``api_token`` table of one registry database."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock

    def _run(self, work: Callable[[Session], T], writing: bool) -> T:
        try:
            with self._sessions() as s, s.begin():
                return work(s)
        except IntegrityError as exc:
            raise StoreError(f"the registry refused the change: {_first_line(exc)}") from exc
        except SQLAlchemyError as exc:
            if not writing and not isinstance(exc, OperationalError):
                raise
            verb = "write to" if writing else "read"
            raise StoreError(f"cannot {verb} the registry: {_first_line(exc)}") from exc

    def create(self, name: str, role: str, actor: str) -> tuple[TokenInfo, str]:
        """A new token: its listing and the token itself (shown once, never stored)."""
        name = check_token_name(name)
        the_role = check_role(role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)

        def work(s: Session) -> TokenInfo:
            if s.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
                raise InputError(
                    [FieldIssue("name", show_value(name),
                                "must be unique: a token with this name exists (revoked "
                                "tokens keep their name)")],
                    "token",
                )
            now = self._clock()
            row = ApiToken(name=name, role=the_role.value, digest=token_digest(token),
                           created_at=now, created_by=actor[:80])
            s.add(row)
            s.flush()
            s.execute(insert(AuditEntry), [{
                "at": now, "actor": actor[:80], "action": "create", "entity": "api_token",
                "entity_id": row.id, "patient_id": None,
                "detail": {"name": name, "role": the_role.value},
            }])
            return _info(row)

        return self._run(work, writing=True), token

    def listing(self) -> list[TokenInfo]:
        def work(s: Session) -> list[TokenInfo]:
            return [_info(r) for r in s.scalars(select(ApiToken).order_by(ApiToken.id))]

        return self._run(work, writing=False)

    def get(self, token_id: int) -> TokenInfo | None:
        def work(s: Session) -> TokenInfo | None:
            row = s.get(ApiToken, token_id)
            return None if row is None else _info(row)

        return self._run(work, writing=False)

    def verify(self, token: str) -> TokenInfo | None:
        """The active token matching ``token``, or None."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = token_digest(token)

        def work(s: Session) -> TokenInfo | None:
            row = s.scalar(select(ApiToken).where(ApiToken.digest == digest))
            if row is None or not hmac.compare_digest(row.digest, digest):
                return None
            return _info(row) if row.revoked_at is None else None

        return self._run(work, writing=False)

    def revoke(self, ref: str, actor: str) -> TokenInfo:
        """Revoke the token with this id or name; revoking twice is an error."""

        def work(s: Session) -> TokenInfo:
            query = select(ApiToken).where(
                ApiToken.id == int(ref) if ref.isascii() and ref.isdigit() and len(ref) <= 18
                else ApiToken.name == ref
            )
            row = s.scalar(query)
            if row is None:
                raise InputError(
                    [FieldIssue("token", show_value(ref), "must be the id or name of a token "
                                "(see `pecoma token list`)")], "token")
            if row.revoked_at is not None:
                raise InputError(
                    [FieldIssue("token", show_value(ref), "is already revoked")], "token")
            now = self._clock()
            s.execute(update(ApiToken).where(ApiToken.id == row.id)
                      .values(revoked_at=now, revoked_by=actor[:80]))
            s.execute(insert(AuditEntry), [{
                "at": now, "actor": actor[:80], "action": "revoke", "entity": "api_token",
                "entity_id": row.id, "patient_id": None,
                "detail": {"name": row.name, "role": row.role},
            }])
            s.refresh(row)
            return _info(row)

        return self._run(work, writing=True)
