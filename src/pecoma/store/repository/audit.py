"""The audit log: an entry for every row a write creates, in the same transaction, and
the log read back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pecoma.store.models import AuditEntry, Patient
from pecoma.store.repository.bulk import BulkWrites
from pecoma.store.repository.records import AuditView

_AUDIT_COLUMNS = ("at", "actor", "action", "entity", "entity_id", "patient_id", "detail")


def _audit_view(r: AuditEntry) -> AuditView:
    return AuditView(
        r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.patient_id, dict(r.detail)
    )


class AuditLog(BulkWrites):
    """Writing and reading the audit log."""

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

    def last_change(self) -> tuple[int, int]:
        """(number of audit entries, newest id): it changes with every committed write, for
        caches of figures derived from the whole registry. The count is what makes it
        sure: the log only grows, while a write that took its id before another one may
        commit after it (sequence ids on PostgreSQL), leaving the newest id unchanged."""
        with self._read() as s:
            count, newest = s.execute(select(func.count(), func.max(AuditEntry.id))).one()
            return int(count), int(newest or 0)

    def audit(self, limit: int | None = None) -> list[AuditView]:
        """The audit log, oldest first (the last ``limit`` entries when given)."""
        with self._read() as s:
            q = select(AuditEntry).order_by(AuditEntry.id.desc())
            if limit is not None:
                q = q.limit(limit)
            return [_audit_view(r) for r in reversed(list(s.scalars(q)))]

    def patient_audit(self, registry_id: str, limit: int | None = None
                      ) -> list[AuditView] | None:
        """One patient's entries of the audit log, oldest first (the last ``limit`` when
        given); ``None`` when ``registry_id`` names no patient."""
        with self._read() as s:
            pid = s.scalar(select(Patient.id).where(Patient.registry_id == registry_id))
            if pid is None:
                return None
            q = (select(AuditEntry).where(AuditEntry.patient_id == pid)
                 .order_by(AuditEntry.id.desc()))
            if limit is not None:
                q = q.limit(limit)
            return [_audit_view(r) for r in reversed(list(s.scalars(q)))]

