"""Decisions about recommendations, in the ``board_decision`` table.

A tumour-board decision names a patient, one of the patient's stored assessments and one
recommendation of it (its knowledge record id); it is written with its audit entry in one
transaction, with the patient locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's
transactions hold the write lock), after checking, inside that transaction, that:

- the assessment belongs to that patient (never a decision filed under another patient);
- the recommendation is one the assessment made;
- the decision the writer saw (``supersedes``: the current decision's id, or none) is still
  the current one. When another member of the team recorded a decision in between, the
  write is refused (:class:`DecisionConflict`), so no decision is overwritten unseen.

Nothing is updated or deleted: a new row supersedes the previous one for the same
assessment and recommendation. CDS Hooks feedback rows (``source = 'cds-hooks'``) are
written by :mod:`pecoma.store.cds` with the feedback. Nothing here logs a registry id.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.db import StoreError
from pecoma.store.models import BoardDecision, Patient, StoredAssessment
from pecoma.store.repository import Repository, check_actor, check_registry_id

__all__ = [
    "DecisionConflict",
    "DecisionData",
    "DecisionView",
    "StoredReport",
    "cds_decision_rows",
    "current_decisions",
    "patient_decisions",
    "recommendations_of",
    "record_decision",
    "stored_report",
]

log = logging.getLogger(__name__)


class DecisionConflict(InputError):
    """Another decision was recorded since the writer looked (the field ``supersedes``)."""


@dataclass(frozen=True, slots=True)
class DecisionData:
    """A checked decision to store (see :mod:`pecoma.registry.decisions`)."""

    record_id: str
    decision: str
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionView:
    id: int
    source: str
    assessment_id: int | None
    card_uuid: str | None
    record_id: str
    decision: str
    reason_code: str | None
    reason_text: str | None
    supersedes: int | None
    decided_at: dt.datetime
    decided_by: str
    current: bool
    evaluated_on: dt.date | None = None
    registry_id: str | None = None


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A stored assessment with what its report needs: the case version it assessed."""

    assessment_id: int
    registry_id: str
    case: dict[str, Any]
    case_version: int
    evaluated_on: dt.date
    output: dict[str, Any]
    knowledge_version: str
    engine_version: str
    settings_digest: str
    created_at: dt.datetime
    created_by: str


def stored_report(repo: Repository, registry_id: str, assessment_id: int) -> StoredReport | None:
    """The stored assessment ``assessment_id`` of the patient, or None (no such patient,
    no such assessment, or an assessment of another patient)."""
    from pecoma.store.models import CaseVersion

    with repo._read() as s:
        row = s.execute(
            select(StoredAssessment, CaseVersion.case, CaseVersion.version)
            .join(Patient, Patient.id == StoredAssessment.patient_id)
            .join(CaseVersion, CaseVersion.id == StoredAssessment.case_version_id)
            .where(StoredAssessment.id == assessment_id, Patient.registry_id == registry_id)
        ).first()
        if row is None:
            return None
        a, case, version = row
        return StoredReport(
            a.id,
            registry_id,
            dict(case),
            version,
            a.evaluated_on,
            dict(a.output),
            a.knowledge_version,
            a.engine_version,
            a.settings_digest,
            a.created_at,
            a.created_by,
        )


def recommendations_of(output: dict[str, Any]) -> list[tuple[str, str]]:
    """The recommendations of a stored assessment's output: (record id, title), in order."""
    out: list[tuple[str, str]] = []
    for item in output.get("recommendations") or ():
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            out.append((item["id"], str(item.get("title") or item["id"])))
    return out


def _latest(s: Session, assessment_id: int, record_id: str) -> int | None:
    return s.scalar(
        select(BoardDecision.id)
        .where(
            BoardDecision.assessment_id == assessment_id,
            BoardDecision.record_id == record_id,
            BoardDecision.source == "board",
        )
        .order_by(BoardDecision.id.desc())
        .limit(1)
    )


def record_decision(
    repo: Repository,
    registry_id: str,
    assessment_id: int,
    data: DecisionData,
    actor: str,
    supersedes: int | None,
) -> int:
    """Store one board decision (see the module docstring); returns its id."""
    actor = check_actor(actor)
    registry_id = check_registry_id(registry_id)

    def work(s: Session) -> int:
        now = repo._clock()
        q = select(Patient.id).where(Patient.registry_id == registry_id)
        if repo.dialect == "postgresql":
            q = q.with_for_update()  # one writer per patient
        pid = s.scalar(q)
        if pid is None:
            raise InputError(
                [
                    FieldIssue(
                        "registry_id",
                        show_value(registry_id),
                        "must be the id of a patient in the registry",
                    )
                ],
                "decision",
            )
        row = s.execute(
            select(StoredAssessment.patient_id, StoredAssessment.output).where(
                StoredAssessment.id == assessment_id
            )
        ).first()
        if row is None or row[0] != pid:
            raise InputError(
                [
                    FieldIssue(
                        "assessment",
                        show_value(str(assessment_id)),
                        "must be a stored assessment of this patient",
                    )
                ],
                "decision",
            )
        offered = [rid for rid, _title in recommendations_of(dict(row[1]))]
        if data.record_id not in offered:
            raise InputError(
                [
                    FieldIssue(
                        "record_id",
                        show_value(data.record_id),
                        "must be one of the recommendations of this assessment: "
                        + (", ".join(offered) or "(it made none)"),
                    )
                ],
                "decision",
            )
        current = _latest(s, assessment_id, data.record_id)
        if current != supersedes:
            seen = "none" if supersedes is None else f"decision {supersedes}"
            now_is = "none" if current is None else f"decision {current}"
            raise DecisionConflict(
                [
                    FieldIssue(
                        "supersedes",
                        seen,
                        f"must be the decision currently recorded ({now_is}): another decision was "
                        "recorded meanwhile; reload the page, read it and decide again",
                    )
                ],
                "decision",
            )
        new_id = s.scalar(
            insert(BoardDecision)
            .values(
                source="board",
                patient_id=pid,
                assessment_id=assessment_id,
                record_id=data.record_id,
                decision=data.decision,
                reason_code=data.reason_code,
                reason_text=data.reason_text,
                supersedes=current,
                decided_at=now,
                decided_by=actor,
            )
            .returning(BoardDecision.id)
        )
        if not isinstance(new_id, int):
            raise StoreError("the registry did not return the new decision's id")
        repo._audit(
            s,
            actor,
            [
                (
                    "create",
                    "board_decision",
                    new_id,
                    pid,
                    {
                        "assessment_id": assessment_id,
                        "record_id": data.record_id,
                        "decision": data.decision,
                        "reason_code": data.reason_code,
                        "supersedes": current,
                    },
                )
            ],
            now,
        )
        return new_id

    new = repo._write(work)
    log.info("board decision recorded")
    return new


def _key(r: Any) -> tuple[Any, ...]:
    """What one decision is about: a board decision, its assessment and record; a CDS
    answer, its card and record."""
    if r.source == "board":
        return (r.source, r.assessment_id, r.record_id)
    return (r.source, r.card_uuid, r.record_id)


def _rank(r: Any) -> tuple[Any, ...]:
    """The order of the decisions about one thing, the current one last: a board
    decision by when it was written (its id: each supersedes the one its writer saw); a
    CDS answer by the outcomeTimestamp the EHR sent (an answer queued and delivered late
    is the older action, not the newer), answers at the same instant by arrival."""
    return (r.id,) if r.source == "board" else (r.decided_at, r.id)


def _views(rows: Iterable[Any]) -> list[DecisionView]:
    rows = list(rows)
    newest: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for r in rows:
        key, rank = _key(r), _rank(r)
        if key not in newest or rank > newest[key]:
            newest[key] = rank
    out = []
    for r in rows:
        out.append(
            DecisionView(
                r.id,
                r.source,
                r.assessment_id,
                r.card_uuid,
                r.record_id,
                r.decision,
                r.reason_code,
                r.reason_text,
                r.supersedes,
                r.decided_at,
                r.decided_by,
                newest[_key(r)] == _rank(r),
                r.evaluated_on,
                r.registry_id,
            )
        )
    return out


_COLUMNS = (
    BoardDecision.id,
    BoardDecision.source,
    BoardDecision.assessment_id,
    BoardDecision.card_uuid,
    BoardDecision.record_id,
    BoardDecision.decision,
    BoardDecision.reason_code,
    BoardDecision.reason_text,
    BoardDecision.supersedes,
    BoardDecision.decided_at,
    BoardDecision.decided_by,
    StoredAssessment.evaluated_on,
    Patient.registry_id,
)


def _query() -> Any:
    return (
        select(*_COLUMNS)
        .outerjoin(StoredAssessment, StoredAssessment.id == BoardDecision.assessment_id)
        .outerjoin(Patient, Patient.id == BoardDecision.patient_id)
        .order_by(BoardDecision.id)
    )


def patient_decisions(repo: Repository, registry_id: str) -> list[DecisionView]:
    """Every board decision about one patient, oldest first (superseded ones included,
    marked ``current = False``)."""
    with repo._read() as s:
        return _views(s.execute(_query().where(Patient.registry_id == registry_id)))


def current_decisions(repo: Repository) -> list[DecisionView]:
    """The current decisions of the whole registry (board and CDS Hooks), oldest first."""
    with repo._read() as s:
        return [v for v in _views(s.execute(_query())) if v.current]


def cds_decision_rows(
    service: str,
    card: str,
    outcome: str,
    record_ids: Sequence[str],
    reason_code: str | None,
    comment: str | None,
    at: dt.datetime,
) -> list[dict[str, Any]]:
    """The ``board_decision`` rows of one CDS Hooks feedback entry: one per record id it
    decides about (``record_ids``: the recommendations and alerts of a card that offered a
    suggestion or override reasons, chosen by the service); accepted stays accepted,
    overridden is declined (with the override reason, when one was given)."""
    decision = "accepted" if outcome == "accepted" else "declined"
    return [
        {
            "source": "cds-hooks",
            "patient_id": None,
            "assessment_id": None,
            "card_uuid": card,
            "record_id": rid[:80],
            "decision": decision,
            "reason_code": reason_code,
            "reason_text": comment,
            "supersedes": None,
            "decided_at": at,
            "decided_by": f"cds-hooks:{service}"[:80],
        }
        for rid in record_ids
    ]
