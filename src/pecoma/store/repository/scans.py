"""Scans: one imaging event checked against the patient's stored case and death and
recorded (with the patient's worklist state in the same transaction), and every patient's
scans read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from sqlalchemy import exists, func, insert, select
from sqlalchemy.orm import Session

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.store.db import StoreError
from pecoma.store.models import (
    CaseVersion,
    EntryWithdrawal,
    ImagingRecord,
    OutcomeRecord,
    Patient,
)
from pecoma.store.repository.audit import AuditLog
from pecoma.store.repository.base import (
    _day,
    _registry_id_range,
    live_outcome,
    live_scan,
    log,
    scan_stamp,
)
from pecoma.store.repository.checks import check_actor, check_registry_id
from pecoma.store.repository.records import ScanCheck, ScanData, StateRefresh
from pecoma.store.repository.states import WorklistStates


def _scan_words(scan: ScanData) -> str:
    finding = (scan.finding or "finding not recorded").replace("_", " ")
    return f"this scan ({scan.modality}, {finding}) on {scan.performed_on.isoformat()}"


def _withdrawal_kept(scan: ScanData, withdrawal: EntryWithdrawal) -> FieldIssue:
    """What an import of a file imported before is told of a scan it does not record
    again: the same scan was withdrawn as entered in error since (when, by whom, why)."""
    return FieldIssue(
        "performed_on", scan.performed_on.isoformat(),
        f"not recorded again: {_scan_words(scan)} was withdrawn as entered in error on "
        f"{withdrawal.withdrawn_at.date().isoformat()} by {withdrawal.withdrawn_by} "
        f"(reason: {withdrawal.reason}), and re-importing a file does not undo a "
        "withdrawal; if it was withdrawn by mistake, record it again ('pecoma registry "
        "record-scan' or the patient's page)")


def _withdrawal_undone(scan: ScanData) -> FieldIssue:
    """What an import of a file new to the registry is told of a scan equal to one
    withdrawn as entered in error: recorded, it stands again."""
    return FieldIssue(
        "performed_on", scan.performed_on.isoformat(),
        f"recorded, bringing back an entry withdrawn as entered in error: {_scan_words(scan)} "
        "had been withdrawn, and this file was not imported before, so it is taken as the "
        "source's current word; if the withdrawal stands, withdraw it again ('pecoma "
        "registry withdraw' or the patient's page)")



#: The stored scan findings that record a relapse: a local recurrence or a metastasis.
#: The storage layer knows tables, not the guideline, so they are written here as the
#: values stored; tests/test_layers.py holds them equal to the engine's
#: ``ScanFinding.disease``.
DISEASE_FINDINGS: Final = ("local_recurrence", "metastasis")


class Scans(WorklistStates, AuditLog):
    """Recording and reading scans."""

    def add_scan(
        self,
        registry_id: str,
        scan: ScanData,
        actor: str,
        check: ScanCheck,
        refresh: StateRefresh | None = None,
        told: Callable[[FieldIssue], None] | None = None,
        again: bool = False,
    ) -> int | None:
        """Record one imaging event for an existing patient; returns its id, or ``None``
        when the same scan (day, examination and finding) is recorded already: nothing is
        written (a form sent twice, a command run again).

        ``check(latest case, recorded death)`` sees the stored facts inside the
        transaction, the patient locked: a death or a case version recorded at the same
        moment by another writer is seen, never a scan dated after it stored
        (:class:`InputError` naming each problem; nothing is written).

        ``refresh(latest case, scans)`` gives the patient's new worklist state, stored in
        the same transaction; without it the stored state is removed (the worklist then
        recomputes the patient).

        With ``told`` (an import of a table of scans), a scan equal to one withdrawn as
        entered in error is told to ``told``: when the file was imported before
        (``again``) it is not stored (re-importing a file never undoes a withdrawal),
        otherwise it is, the file being the source's current word, as for outcomes
        (:meth:`~pecoma.store.repository.outcomes.Outcomes._write_outcomes`). A scan
        entered by hand is always stored: recording it again is how a withdrawal made by
        mistake is set right.
        """
        actor = check_actor(actor)
        registry_id = check_registry_id(registry_id)

        def work(s: Session) -> int | None:
            now = self._clock()
            q = select(Patient.id).where(Patient.registry_id == registry_id)
            if self.dialect == "postgresql":
                q = q.with_for_update()  # one writer per patient: its state stays current
            pid = s.scalar(q)
            if pid is None:
                raise InputError(
                    [FieldIssue("registry_id", show_value(registry_id),
                                "must be the id of a patient in the registry")],
                    "scan",
                )
            case = s.scalar(select(CaseVersion.case).where(CaseVersion.patient_id == pid)
                            .order_by(CaseVersion.version.desc()).limit(1))
            death = s.scalar(select(OutcomeRecord.event_date).where(
                OutcomeRecord.patient_id == pid, OutcomeRecord.event == "death",
                live_outcome()).limit(1))
            issues = check(dict(case) if case is not None else None, _day(death))
            if issues:
                raise InputError(issues, "scan")
            same = s.scalar(select(ImagingRecord.id).where(
                ImagingRecord.patient_id == pid,
                ImagingRecord.performed_on == scan.performed_on,
                ImagingRecord.modality == scan.modality,
                ImagingRecord.finding == scan.finding, live_scan()).limit(1))
            if same is not None:
                return None
            if told is not None:
                gone = s.scalars(select(EntryWithdrawal).join(
                    ImagingRecord, ImagingRecord.id == EntryWithdrawal.scan_id).where(
                    ImagingRecord.patient_id == pid,
                    ImagingRecord.performed_on == scan.performed_on,
                    ImagingRecord.modality == scan.modality,
                    ImagingRecord.finding == scan.finding)
                    .order_by(EntryWithdrawal.id.desc()).limit(1)).first()
                if gone is not None:
                    told(_withdrawal_kept(scan, gone) if again else _withdrawal_undone(scan))
                    if again:
                        return None
            scan_id = s.scalar(
                insert(ImagingRecord)
                .values(
                    patient_id=pid,
                    performed_on=scan.performed_on,
                    modality=scan.modality,
                    finding=scan.finding,
                    recorded_at=now,
                    recorded_by=actor,
                )
                .returning(ImagingRecord.id)
            )
            if not isinstance(scan_id, int):
                raise StoreError("the registry did not return the new scan's id")
            detail = {
                "performed_on": scan.performed_on.isoformat(),
                "modality": scan.modality,
                "finding": scan.finding,
            }
            self._audit(s, actor, [("create", "imaging_event", scan_id, pid, detail)], now)
            self._refresh_one(s, pid, refresh, now)
            return scan_id

        scan_id = self._write(work)
        log.info("scan recorded" if scan_id is not None else "scan already recorded")
        return scan_id

    def last_scan_dates(self, on: dt.date) -> dict[str, dt.date]:
        """Registry id -> the day of the patient's latest scan done by ``on`` (patients
        with such a scan only): a day the patient was known to be alive."""
        q = (select(Patient.registry_id, func.max(ImagingRecord.performed_on))
             .join(Patient, Patient.id == ImagingRecord.patient_id)
             .where(ImagingRecord.performed_on <= on, live_scan())
             .group_by(Patient.registry_id))
        with self._read(only=True) as s:
            return {rid: day for rid, day in s.connection().execute(q) if day is not None}

    def disease_scans(self, on: dt.date, *, after: str | None = None,
                      upto: str | None = None) -> dict[str, tuple[ScanData, ...]]:
        """Registry id -> the patient's scans done by ``on`` that found a local recurrence
        or a metastasis (:data:`DISEASE_FINDINGS`; withdrawn ones not), oldest first
        (patients with such a scan only), for the research exports; with
        ``after``/``upto`` only the registry ids in that range (see
        :meth:`registry_id_cuts`)."""
        q = _registry_id_range(
            select(Patient.registry_id, ImagingRecord.performed_on, ImagingRecord.modality,
                   ImagingRecord.finding)
            .join(Patient, Patient.id == ImagingRecord.patient_id)
            .where(ImagingRecord.performed_on <= on, ImagingRecord.finding.in_(DISEASE_FINDINGS),
                   live_scan()), after, upto,
        ).order_by(Patient.registry_id, ImagingRecord.performed_on, ImagingRecord.id)
        out: dict[str, list[ScanData]] = {}
        with self._read(only=True) as s:
            for rid, day, modality, finding in s.connection().execute(q):
                out.setdefault(rid, []).append(ScanData(day, modality, finding))
        return {k: tuple(v) for k, v in out.items()}

    def stamped_scans(self) -> tuple[dict[str, int], dict[str, tuple[ScanData, ...]]]:
        """Every patient's scan stamp (registry id -> stamp, patients with a scan
        recorded only), read first, and scans (:meth:`scans_by_registry_id`), read after
        it: a state computed from these scans is stored with this stamp
        (:class:`~pecoma.store.repository.records.StateData`), and so only if no scan of
        the patient was recorded or withdrawn since they were read."""
        q = (select(Patient.registry_id, scan_stamp(Patient.id))
             .where(exists().where(ImagingRecord.patient_id == Patient.id)))
        with self._read(only=True) as s:
            stamps = {rid: stamp for rid, stamp in s.execute(q)}
        return stamps, self.scans_by_registry_id()

    def scans_by_registry_id(self) -> dict[str, tuple[ScanData, ...]]:
        """Registry id -> the patient's scans, oldest first (patients with scans only)."""
        out: dict[str, list[ScanData]] = {}
        with self._read() as s:
            for rid, day, modality, finding in s.execute(
                select(
                    Patient.registry_id, ImagingRecord.performed_on, ImagingRecord.modality,
                    ImagingRecord.finding,
                )
                .join(Patient, Patient.id == ImagingRecord.patient_id)
                .where(live_scan())
                .order_by(Patient.registry_id, ImagingRecord.performed_on, ImagingRecord.id)
            ):
                out.setdefault(rid, []).append(ScanData(day, modality, finding))
        return {k: tuple(v) for k, v in out.items()}

