"""Worklist states: a patient's stored surveillance state, replaced in the transaction
of every write that changes it (or removed), and read back for the worklist.

A state is stored only with the patient's scan stamp
(:func:`~pecoma.store.repository.base.scan_stamp`) as it is in the storing transaction:
the stamp it carries was read before the scans it was computed from, and the stamp never
decreases, so equal stamps mean the scans did not change in between."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    BindParameter,
    Date,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from pecoma.store.models import (
    CaseVersion,
    ImagingRecord,
    Patient,
    StoredAssessment,
    WorklistState,
)
from pecoma.store.repository.base import (
    _chunks,
    _day,
    current_versions,
    live_scan,
    scan_stamp,
)
from pecoma.store.repository.bulk import BulkWrites
from pecoma.store.repository.records import ScanData, StateData, StateRefresh, StateRow

_STATE_COLUMNS = (
    WorklistState.scan_count,  # the scan stamp (see StateData)
    WorklistState.knowledge_version,
    WorklistState.engine_version,
    WorklistState.settings_digest,
    WorklistState.valid_from,
    WorklistState.plan_status,
    WorklistState.risk_group,
    WorklistState.disease_status,
    WorklistState.last_scan,
    WorklistState.visit,
    WorklistState.phase,
    WorklistState.due,
    WorklistState.latest,
    WorklistState.imaging,
    WorklistState.last_done_visit,
    WorklistState.last_done_on,
    WorklistState.record,
    WorklistState.provenance,
    WorklistState.reason,
    WorklistState.alerts,
    WorklistState.valid_until,
)


def _state_of(values: Sequence[Any]) -> StateData:
    """A :class:`StateData` from a row of :data:`_STATE_COLUMNS`."""
    (scans, knowledge, engine, settings, valid, plan, risk, disease, last_scan, visit,
     phase, due, latest, imaging, done_visit, done_on, record, provenance, reason,
     alerts, valid_until) = values
    return StateData(
        scans, knowledge, engine, settings, valid, plan, risk, disease, last_scan, visit,
        phase, due, latest, tuple(imaging.split()) if imaging else (), done_visit, done_on,
        record, provenance, reason, None if alerts is None else tuple(alerts.split()),
        valid_until,
    )


def _same_version(
    items: Sequence[tuple[int, int, StateData]], latest: dict[int, tuple[int, str]]
) -> list[tuple[int, int, StateData | None]]:
    """The states computed from the patient's latest case version (others are dropped:
    a newer version was stored meanwhile, with its own state)."""
    return [(pid, v, st) for pid, v, st in items if latest.get(pid, (None, ""))[0] == v]


class WorklistStates(BulkWrites):
    """Storing and reading the patients' worklist states."""

    def _scan_stamps(self, s: Session, pids: Sequence[int]) -> dict[int, int]:
        """Patient id -> the patient's scan stamp, as of this statement."""
        out: dict[int, int] = {}
        for chunk in _chunks(list(pids)):
            out.update(
                {
                    pid: n
                    for pid, n in s.execute(
                        select(Patient.id, scan_stamp(Patient.id))
                        .where(Patient.id.in_(chunk))
                    )
                }
            )
        return out

    def _put_states(
        self,
        s: Session,
        items: Sequence[tuple[int, int, StateData | None]],
        stamps: dict[int, int],
        now: dt.datetime,
    ) -> None:
        """Replace the patients' worklist states; ``None`` removes the patient's state (it
        is recomputed when read). ``stamps``: the patients' scan stamps in this
        transaction (the patients locked). A state whose stamp is not the patient's (a
        scan was recorded or withdrawn since its scans were read; or not stamped) is not
        stored, and the row in place is kept: the write that changed the scans refreshed
        or removed it in its own transaction."""
        keep = [
            (pid, version, st)
            for pid, version, st in items
            if st is None or st.scan_stamp == stamps.get(pid, 0)
        ]
        for chunk in _chunks([pid for pid, _v, _st in keep]):
            s.execute(delete(WorklistState).where(WorklistState.patient_id.in_(chunk)))
        rows = [(pid, version, st.row(), now) for pid, version, st in keep if st is not None]
        if rows:
            names = tuple(rows[0][2])
            self._bulk_insert(
                s, WorklistState, ("patient_id", "case_version", *names, "refreshed_at"),
                [(pid, version, *values.values(), when) for pid, version, values, when in rows],
            )

    def _refresh_one(
        self, s: Session, pid: int, refresh: StateRefresh | None, now: dt.datetime
    ) -> None:
        """Recompute one patient's worklist state inside the current transaction (the
        patient locked), stamped with the scan stamp read there before the scans."""
        state: StateData | None = None
        version = 0
        stamps = self._scan_stamps(s, [pid])
        if refresh is not None:
            row = s.execute(
                select(CaseVersion.version, CaseVersion.case)
                .where(CaseVersion.patient_id == pid)
                .order_by(CaseVersion.version.desc())
                .limit(1)
            ).first()
            if row is not None:
                version = row[0]
                scans = tuple(
                    ScanData(day, modality, finding)
                    for day, modality, finding in s.execute(
                        select(ImagingRecord.performed_on, ImagingRecord.modality,
                               ImagingRecord.finding)
                        .where(ImagingRecord.patient_id == pid, live_scan())
                        .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                    )
                )
                state = replace(refresh(dict(row[1]), scans),
                                scan_stamp=stamps.get(pid, 0))
        self._put_states(s, [(pid, version, state)], stamps, now)

    def put_states(self, items: Sequence[tuple[int, int, StateData]]) -> int:
        """Store worklist states (patient id, case version number, state) in one
        transaction; a state not computed from the patient's current case version and
        scans (its scan stamp, read before its scans, not the patient's now) is not
        stored. Returns the number stored."""

        def work(s: Session) -> int:
            now = self._clock()
            pids = [pid for pid, _v, _st in items]
            self._lock_patient_ids(s, pids)
            latest = self._latest_versions(s, pids)
            stamps = self._scan_stamps(s, pids)
            keep = _same_version(items, latest)
            self._put_states(s, keep, stamps, now)
            return sum(
                1 for pid, _v, st in keep
                if st is not None and st.scan_stamp == stamps.get(pid, 0)
            )

        return self._write(work) if items else 0

    def state_rows(self) -> list[StateRow]:
        """Every patient with its stored worklist state, the patient's latest case version
        and scan stamp (so that :attr:`StateRow.current` checks the state against them),
        in registry-id order."""
        cv = (
            select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
            .group_by(CaseVersion.patient_id)
            .subquery()
        )
        q = (
            select(Patient.id, Patient.registry_id, cv.c.v, scan_stamp(Patient.id),
                   WorklistState.case_version, *_STATE_COLUMNS)
            .outerjoin(cv, cv.c.patient_id == Patient.id)
            .outerjoin(WorklistState, WorklistState.patient_id == Patient.id)
            .order_by(Patient.registry_id)
        )
        out: list[StateRow] = []
        with self._read() as s:
            for r in s.connection().execute(q):
                pid, rid, version, stamp, state_version = r[:5]
                state = _state_of(r[5:]) if state_version is not None else None
                out.append(StateRow(pid, rid, version, stamp or 0, state_version, state))
        return out

    def _newest_by(self, on_date: dt.date) -> bool:
        """No stored assessment is evaluated after ``on_date`` (none at all included)."""
        with self._read(only=True) as s:
            newest = _day(s.scalar(select(func.max(StoredAssessment.evaluated_on))))
        return newest is None or newest <= on_date

    def _state_rows(
        self, current: Select[int, int], day: BindParameter[Any], basis: tuple[str, str, str]
    ) -> list[tuple[Any, ...]]:
        """The rows of :meth:`worklist_rows` with the patients' case versions current as
        ``current`` selects them, unsorted."""
        ws = WorklistState
        cur = current.subquery()
        knowledge_version, engine_version, settings_digest = basis
        usable = case(
            (
                and_(
                    ws.knowledge_version == bindparam("k", knowledge_version),
                    ws.engine_version == bindparam("e", engine_version),
                    ws.settings_digest == bindparam("sd", settings_digest),
                    or_(ws.valid_from.is_(None), ws.valid_from <= day),
                    or_(ws.valid_until.is_(None), ws.valid_until >= day),
                    ws.alerts.is_not(None),
                    # the state is the latest version's: not that of a day before it was
                    # recorded, when an earlier version (or none) was current
                    ws.case_version == cur.c.v,
                ),
                1,
            ),
            else_=0,
        )
        q = (
            select(Patient.id, Patient.registry_id, usable, ws.plan_status, ws.risk_group,
                   ws.disease_status, ws.last_scan, ws.visit, ws.phase, ws.due, ws.latest,
                   ws.imaging, ws.last_done_visit, ws.last_done_on, ws.record,
                   ws.provenance, ws.reason, ws.alerts)
            .join(cur, cur.c.patient_id == Patient.id)  # only the patients recorded by then
            .outerjoin(ws, ws.patient_id == Patient.id)
        )
        # no ORDER BY: the database would sort the wide rows (on disk, on PostgreSQL);
        # sorting the fetched rows by registry id is cheaper (they mostly come in that
        # order already), and gives Python's order, the one the worklist sorts by
        compiled = q.compile(dialect=self.engine.dialect)
        params: Any = compiled.params
        if compiled.positiontup is not None:
            params = tuple(params[name] for name in compiled.positiontup)
        with self._read() as s:
            # the driver's rows as they are (no result processing: several times faster)
            cursor = s.connection().connection.cursor()
            try:
                cursor.execute(str(compiled), params)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    def worklist_rows(
        self,
        on_date: dt.date,
        knowledge_version: str,
        engine_version: str,
        settings_digest: str,
    ) -> list[tuple[Any, ...]]:
        """Every patient's stored worklist state as plain rows, for the worklist as of
        ``on_date``, in registry-id order: the one read of the stored worklist.

        Only the patients with a case version recorded by ``on_date`` are given (see
        :func:`~pecoma.store.repository.base.current_versions`). Each row: patient id,
        registry id, usable, then the columns of the state in the
        order of :class:`StateData` from ``plan_status`` on (plan status, risk group,
        disease status, last scan, visit, phase, due, latest, imaging, last visit done,
        its date, record, provenance, reason, alerts). Usable is 1 when the patient has a
        state made with these versions, with its alerts known, that holds as of
        ``on_date`` (from its ``valid_from`` up to its ``valid_until``), from the case
        version current then (the latest: a state is always the latest version's); else 0
        and the other columns are not read (recompute the patient).
        Every write keeps each stored state current with the patient's case version and
        scans or removes it (the writers lock the patient, or the database on SQLite).
        Imaging and alerts are space-separated text; dates are dates.
        """
        sqlite_ = self.dialect == "sqlite"
        day = bindparam("on_date", on_date.isoformat() if sqlite_ else on_date,
                        type_=String if sqlite_ else Date)
        basis = (knowledge_version, engine_version, settings_digest)
        # no assessment evaluated after the day: every version was recorded by then, and
        # the current ones are the latest (the index of migration 0015 answers the max;
        # the rule per version is read only for a day some version is later than)
        rows: list[tuple[Any, ...]] | None = None
        if self._newest_by(on_date):
            rows = self._state_rows(current_versions(None), day, basis)
            # the maximum only grows: still by the day after the read, it was by the day
            # during it; else a version recorded meanwhile may have been read as current
            # for a day before it, and the rows are read again by the rule per version
            if not self._newest_by(on_date):
                rows = None
        if rows is None:
            rows = self._state_rows(current_versions(day), day, basis)
        rows.sort(key=lambda r: r[1])
        if sqlite_:  # dates come back as ISO text
            rows = [
                (*r[:6], _day(r[6]), *r[7:9], _day(r[9]), _day(r[10]), *r[11:13],
                 _day(r[13]), *r[14:])
                if r[2] else r
                for r in rows
            ]
        return rows

