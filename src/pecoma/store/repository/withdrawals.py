"""Withdrawals: a scan or an outcome recorded by mistake withdrawn as entered in error,
with the reason in words, its audit entry and the patient's worklist state in the same
transaction; and the withdrawals read back for the patient's page.

Nothing is changed or deleted: the entry stays, with its own audit entry, and a row of
``entry_withdrawal`` names it; every reader of the scans and outcomes leaves it out
(:func:`~pecoma.store.repository.base.live_scan`,
:func:`~pecoma.store.repository.base.live_outcome`). A correction is a withdrawal and a
new entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.db import StoreError
from pecoma.store.models import EntryWithdrawal, ImagingRecord, OutcomeRecord, Patient
from pecoma.store.repository.audit import AuditLog
from pecoma.store.repository.base import live_outcome, live_scan, log
from pecoma.store.repository.checks import check_actor, check_registry_id
from pecoma.store.repository.outcomes import CORRECTABLE
from pecoma.store.repository.records import StateRefresh, WithdrawalView
from pecoma.store.repository.states import WorklistStates

EntryKind = Literal["scan", "outcome"]

REASON_MAX = 2000

_NONE = "none is recorded but those withdrawn"


def _words(value: str | None) -> str:
    return value.replace("_", " ") if value else "not recorded"


def _scan_words(r: ImagingRecord) -> str:
    return (f"{r.id} ({r.performed_on.isoformat()}, {_words(r.modality)}, "
            f"{_words(r.finding)})")


def _outcome_words(r: OutcomeRecord) -> str:
    how = r.vital_status or r.found_by
    return (f"{r.id} ({r.event_date.isoformat()}, {_words(r.event)}"
            f"{', ' + _words(how) if how else ''})")


def _refused(kind: EntryKind, entry_id: object, rule: str) -> InputError:
    return InputError([FieldIssue(kind, show_value(entry_id), rule)], "withdrawal")


class Withdrawals(WorklistStates, AuditLog):
    """Withdrawing a scan or an outcome entered in error."""

    def withdraw(
        self,
        registry_id: str,
        kind: EntryKind,
        entry_id: int,
        reason: str,
        actor: str,
        refresh: StateRefresh | None = None,
    ) -> list[int]:
        """Withdraw one of the patient's scans or outcomes as entered in error, in one
        transaction with an audit entry (action ``withdraw``: who, when, the reason and
        the entry as it was) for each entry withdrawn; returns their ids.

        Refused (:class:`InputError`, nothing written): an unknown patient, an id that is
        not one of the patient's scans (outcomes), an entry withdrawn already, an empty
        reason; a scan at which a recorded outcome was found (withdraw the outcome
        first); an outcome entry a later one of the same event on the same day
        corrected (withdraw that one). Withdrawing an outcome withdraws with it the
        earlier entries of that event on that day, which it had corrected: the event
        did not happen, and no earlier version of it comes back.

        A scan's withdrawal recomputes the patient's worklist state with ``refresh``
        (without it the state is removed and recomputed when read); outcomes are read
        at every use, so an outcome's leaves the state as it is.
        """
        actor = check_actor(actor)
        registry_id = check_registry_id(registry_id)
        reason = reason.strip()
        if not reason or len(reason) > REASON_MAX:
            raise InputError([FieldIssue("reason", show_value(reason) if reason else
                                         "(empty)",
                                         f"must say in words why the entry is withdrawn "
                                         f"(1-{REASON_MAX} characters)")], "withdrawal")

        def work(s: Session) -> list[int]:
            now = self._clock()
            q = select(Patient.id).where(Patient.registry_id == registry_id)
            if self.dialect == "postgresql":
                q = q.with_for_update()  # one writer per patient
            pid = s.scalar(q)
            if pid is None:
                raise InputError(
                    [FieldIssue("registry_id", show_value(registry_id),
                                "must be the id of a patient in the registry")],
                    "withdrawal",
                )
            if kind == "scan":
                rows: list[tuple[str, int, dict[str, Any]]] = self._scan_rows(s, pid, entry_id)
            else:
                rows = self._outcome_rows(s, pid, entry_id)
            ids: list[int] = []
            audit: list[tuple[str, str, int, int | None, dict[str, Any]]] = []
            for entity, eid, detail in rows:
                column = "scan_id" if entity == "imaging_event" else "outcome_id"
                wid = s.scalar(
                    insert(EntryWithdrawal)
                    .values(patient_id=pid, reason=reason, withdrawn_at=now,
                            withdrawn_by=actor, **{column: eid})
                    .returning(EntryWithdrawal.id)
                )
                if not isinstance(wid, int):
                    raise StoreError("the registry did not return the withdrawal's id")
                ids.append(eid)
                audit.append(("withdraw", entity, eid, pid,
                              {"reason": reason, "withdrawal_id": wid, **detail}))
            self._audit(s, actor, audit, now)
            if kind == "scan":
                self._refresh_one(s, pid, refresh, now)
            return ids

        ids = self._write(work)
        log.info("entries withdrawn: %d", len(ids))
        return ids

    def _withdrawn_already(self, s: Session, kind: EntryKind, entry_id: int) -> None:
        column = EntryWithdrawal.scan_id if kind == "scan" else EntryWithdrawal.outcome_id
        w = s.scalars(select(EntryWithdrawal).where(column == entry_id)).first()
        if w is not None:
            raise _refused(kind, entry_id, (
                f"is withdrawn already (on {w.withdrawn_at.date().isoformat()} by "
                f"{w.withdrawn_by}: {w.reason}); a withdrawal is not undone: record the "
                "entry again if it was right"))

    def _scan_rows(self, s: Session, pid: int, entry_id: int
                   ) -> list[tuple[str, int, dict[str, Any]]]:
        r = s.scalars(select(ImagingRecord).where(
            ImagingRecord.id == entry_id, ImagingRecord.patient_id == pid)).first()
        if r is None:
            held = [_scan_words(x) for x in s.scalars(
                select(ImagingRecord).where(ImagingRecord.patient_id == pid, live_scan())
                .order_by(ImagingRecord.performed_on, ImagingRecord.id))]
            raise _refused("scan", entry_id, "must be the id of one of the patient's scans: "
                           + ("; ".join(held) if held else _NONE))
        self._withdrawn_already(s, "scan", entry_id)
        found = s.scalars(select(OutcomeRecord).where(
            OutcomeRecord.scan_id == entry_id, live_outcome())
            .order_by(OutcomeRecord.id.desc())).first()
        if found is not None:
            raise _refused("scan", entry_id, (
                f"was the scan that found the {_words(found.event)} recorded on "
                f"{found.event_date.isoformat()} (outcome {found.id}): withdraw that outcome "
                "first (and record it again if it was found otherwise)"))
        return [("imaging_event", r.id, {"performed_on": r.performed_on.isoformat(),
                                         "modality": r.modality, "finding": r.finding,
                                         "recorded_by": r.recorded_by})]

    def _outcome_rows(self, s: Session, pid: int, entry_id: int
                      ) -> list[tuple[str, int, dict[str, Any]]]:
        r = s.scalars(select(OutcomeRecord).where(
            OutcomeRecord.id == entry_id, OutcomeRecord.patient_id == pid)).first()
        live = list(s.scalars(
            select(OutcomeRecord).where(OutcomeRecord.patient_id == pid, live_outcome())
            .order_by(OutcomeRecord.event_date, OutcomeRecord.id)))
        if r is None:
            held = [_outcome_words(x) for x in live]
            raise _refused("outcome", entry_id,
                           "must be the id of one of the patient's outcomes: "
                           + ("; ".join(held) if held else _NONE))
        self._withdrawn_already(s, "outcome", entry_id)
        group = [x for x in live if (x.event, x.event_date) == (r.event, r.event_date)
                 and (x.event in CORRECTABLE or x.id == r.id)]
        later = [x for x in group if x.id > r.id]
        if later:
            raise _refused("outcome", entry_id, (
                f"was corrected by outcome {later[-1].id} (the same event on the same day, "
                "recorded later): withdraw that one, which withdraws this entry with it"))
        return [("outcome_event", x.id, {
            "event": x.event, "event_date": x.event_date.isoformat(),
            "vital_status": x.vital_status, "found_by": x.found_by, "scan_id": x.scan_id,
            "recorded_by": x.recorded_by}) for x in group]

    def withdrawals(self, registry_id: str) -> list[WithdrawalView]:
        """The patient's withdrawn scans and outcomes, in the order withdrawn."""
        w, im, o = EntryWithdrawal, ImagingRecord, OutcomeRecord
        q = (select(w.id, w.scan_id, w.outcome_id, w.reason, w.withdrawn_at, w.withdrawn_by,
                    im.performed_on, im.modality, im.finding, o.event, o.event_date,
                    o.vital_status, o.found_by)
             .join(Patient, Patient.id == w.patient_id)
             .outerjoin(im, im.id == w.scan_id)
             .outerjoin(o, o.id == w.outcome_id)
             .where(Patient.registry_id == registry_id)
             .order_by(w.id))
        out: list[WithdrawalView] = []
        with self._read() as s:
            for (_wid, scan_id, outcome_id, reason, at, by, day, modality, finding, event,
                 event_day, vital, found) in s.execute(q):
                entry = scan_id if scan_id is not None else outcome_id
                if entry is None:  # not possible: a check constraint names one of them
                    continue
                if scan_id is not None:
                    what = f"scan {_words(modality)}, {_words(finding)}"
                    when: dt.date = day
                else:
                    how = vital or found
                    what = f"{_words(event)}{', ' + _words(how) if how else ''}"
                    when = event_day
                out.append(WithdrawalView("scan" if scan_id is not None else "outcome",
                                          entry, when, what, reason, at, by))
        return out
