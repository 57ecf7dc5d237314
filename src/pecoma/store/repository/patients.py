"""Reads of patients: their current pictures (latest case, scans, latest assessment),
one patient's timeline, and the basis an import compares a file against."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Text, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy import text as sql_text
from sqlalchemy.orm import aliased

from pecoma.store.models import (
    AuditEntry,
    CaseVersion,
    ImagingRecord,
    OutcomeRecord,
    Patient,
    StoredAssessment,
    WorklistState,
)
from pecoma.store.repository.audit import _audit_view
from pecoma.store.repository.base import (
    RepositoryBase,
    _chunks,
    _day,
    current_versions,
    live_outcome,
    live_scan,
    scan_stamp,
)
from pecoma.store.repository.checks import _text_digest
from pecoma.store.repository.outcomes import _outcome_view, current
from pecoma.store.repository.records import (
    CaseView,
    PatientBasis,
    PatientState,
    ScanData,
    ScanView,
    StateRow,
    StoredView,
    Timeline,
)
from pecoma.store.repository.states import _STATE_COLUMNS, _state_of

_VIEW_COLUMNS = (
    StoredAssessment.id,
    StoredAssessment.case_version_id,
    StoredAssessment.evaluated_on,
    StoredAssessment.knowledge_version,
    StoredAssessment.engine_version,
    StoredAssessment.settings_digest,
    StoredAssessment.risk_group,
    StoredAssessment.disease_status,
    StoredAssessment.record_ids,
    StoredAssessment.next_due,
    StoredAssessment.reason,
    StoredAssessment.created_at,
    StoredAssessment.created_by,
)


def _view_of(row: Sequence[Any]) -> StoredView:
    """A :class:`StoredView` from a row of :data:`_VIEW_COLUMNS` (the output JSON unread)."""
    values = list(row)
    values[8] = tuple(values[8])
    return StoredView(*values)


class PatientReads(RepositoryBase):
    """Reading patients' cases, scans and assessments."""

    def count(self) -> dict[str, int]:
        """Rows per table."""
        with self._read() as s:
            return {
                m.__tablename__: s.scalar(
                    select(func.count()).select_from(m)
                    .where(*([live_scan()] if m is ImagingRecord else []))) or 0
                for m in (Patient, CaseVersion, StoredAssessment, ImagingRecord, AuditEntry)
            }

    def import_basis(
        self, engine_version: str, on_date: dt.date, knowledge_version: str | None = None
    ) -> dict[str, tuple[int, str, str | None]]:
        """Registry id -> (number, digest, text digest) of the patient's latest case
        version. The text digest (:func:`case_text_digest` of the case as stored) is given
        only when the version's first assessment was made by ``engine_version`` as of
        ``on_date`` or earlier (and, when given, with ``knowledge_version``: a new
        knowledge release comes with new checks of the case): the same case data then
        passes the same checks today and has the same digest, so an import may skip it
        unparsed (``None`` otherwise)."""
        cv, a = CaseVersion, StoredAssessment
        top = (
            select(cv.patient_id, func.max(cv.version).label("v"))
            .group_by(cv.patient_id)
            .subquery()
        )
        first = (
            select(a.case_version_id, func.min(a.id).label("id"))
            .group_by(a.case_version_id)
            .subquery()
        )
        text: Any = sql_cast(cv.case, Text)
        if self.dialect == "postgresql":
            text = func.md5(text)  # the digest made by the server: 32 characters a row
        q = (
            select(Patient.registry_id, cv.version, cv.digest, text,
                   a.engine_version, a.evaluated_on, a.knowledge_version)
            .join(cv, cv.patient_id == Patient.id)
            .join(top, (cv.patient_id == top.c.patient_id) & (cv.version == top.c.v))
            .outerjoin(first, first.c.case_version_id == cv.id)
            .outerjoin(a, a.id == first.c.id)
        )
        server = self.dialect == "postgresql"
        if not server:
            q = q.execution_options(yield_per=5000)  # SQLite: the case texts, streamed
        out: dict[str, tuple[int, str, str | None]] = {}
        with self._read() as s:  # rows as the driver gives them (no ORM row processing)
            for (rid, version, digest, case_text, engine, evaluated,
                 knowledge) in s.connection().execute(q):
                day = _day(evaluated)
                same = (engine == engine_version and day is not None and day <= on_date
                        and knowledge_version in (None, knowledge))
                mark = (case_text if server else _text_digest(case_text)) if same else None
                out[rid] = (version, digest, mark)
        return out

    def states(self, patient_ids: Collection[int] | None = None,
               as_of: dt.date | None = None) -> list[PatientState]:
        """Every patient's latest case version, scans (with the scan stamp read before
        them) and latest assessment of that version (only those of ``patient_ids`` when
        given), in registry-id order. With
        ``as_of``, the version current on that day instead
        (:func:`~pecoma.store.repository.base.current_versions`), and only the patients
        with one: a patient whose first version was recorded later is not there yet."""
        if patient_ids is not None:
            out: list[PatientState] = []
            for chunk in _chunks(sorted(patient_ids)):
                out += self._states(chunk, as_of)
            return sorted(out, key=lambda st: st.registry_id)
        return self._states(None, as_of)

    def _states(self, ids: Sequence[int] | None, as_of: dt.date | None = None
                ) -> list[PatientState]:
        def only(q: Any, column: Any) -> Any:
            return q if ids is None else q.where(column.in_(ids))

        with self._read() as s:
            patients = s.execute(
                only(select(Patient.id, Patient.registry_id), Patient.id)
                .order_by(Patient.registry_id)
            ).all()
            top_cv = only(current_versions(as_of), CaseVersion.patient_id).subquery()
            cases = {
                pid: (cid, v, c)
                for cid, pid, v, c in s.execute(
                    select(
                        CaseVersion.id, CaseVersion.patient_id, CaseVersion.version,
                        CaseVersion.case,
                    ).join(
                        top_cv,
                        (CaseVersion.patient_id == top_cv.c.patient_id)
                        & (CaseVersion.version == top_cv.c.v),
                    )
                )
            }
            top_a = (
                select(func.max(StoredAssessment.id).label("id"))
                .join(CaseVersion, CaseVersion.id == StoredAssessment.case_version_id)
                .join(top_cv, (CaseVersion.patient_id == top_cv.c.patient_id)
                      & (CaseVersion.version == top_cv.c.v))
                .group_by(StoredAssessment.case_version_id)
                .subquery()
            )
            latest = {
                row[0]: _view_of(row[1:])
                for row in s.execute(
                    select(StoredAssessment.patient_id, *_VIEW_COLUMNS).join(
                        top_a, StoredAssessment.id == top_a.c.id
                    )
                )
            }
            # the stamps before the scans (see StateData.scan_stamp)
            stamps = {pid: stamp for pid, stamp in s.execute(
                only(select(Patient.id, scan_stamp(Patient.id)), Patient.id))}
            scans: dict[int, list[ScanData]] = {}
            for pid, day, modality, finding in s.execute(
                only(select(
                    ImagingRecord.patient_id, ImagingRecord.performed_on,
                    ImagingRecord.modality, ImagingRecord.finding,
                ).where(live_scan()), ImagingRecord.patient_id)
                .order_by(ImagingRecord.patient_id, ImagingRecord.performed_on, ImagingRecord.id)
            ):
                scans.setdefault(pid, []).append(ScanData(day, modality, finding))
        out: list[PatientState] = []
        for pid, rid in patients:
            if as_of is not None and pid not in cases:
                continue  # no version recorded yet as of that day
            cid, v, c = cases.get(pid, (None, None, None))
            out.append(
                PatientState(pid, rid, cid, v, c, tuple(scans.get(pid, ())), latest.get(pid),
                             stamps.get(pid, 0))
            )
        return out

    def patient_bases(self, after: str | None, limit: int, as_of: dt.date | None = None
                      ) -> list[PatientBasis]:
        """Up to ``limit`` patients after registry id ``after`` (from the first when
        ``None``), in registry-id order, each with its latest case version (with
        ``as_of``: the version current on that day, none for a patient whose first
        version was recorded later; :func:`~pecoma.store.repository.base.current_versions`),
        that version's latest assessment and the stored worklist state (with the latest
        version number and the scan stamp, which a state must be of): a page of a
        re-assessment, read without the cases (:meth:`case_texts` reads those needed,
        after the page: a state computed from the scans read there is stored with the
        stamp read here, see :class:`StateData`)."""
        cv, a, ws = CaseVersion, StoredAssessment, WorklistState
        # the page's patients first, each with its version number, latest version number
        # and scan stamp (looked up by the patient_id indexes), then joined
        on = current_versions(as_of).where(cv.patient_id == Patient.id)
        q = select(
            Patient.id, Patient.registry_id,
            on.with_only_columns(func.max(cv.version)).scalar_subquery().label("v"),
            select(func.max(cv.version)).where(cv.patient_id == Patient.id)
            .scalar_subquery().label("top"),
            scan_stamp(Patient.id).label("stamp"),
        ).order_by(Patient.registry_id).limit(limit)
        if after is not None:
            q = q.where(Patient.registry_id > after)
        page = q.subquery()
        mine = aliased(StoredAssessment)
        last = (select(func.max(mine.id)).where(mine.case_version_id == cv.id)
                .scalar_subquery())
        q = (
            select(page.c.id, page.c.registry_id, cv.id, cv.version, page.c.top, page.c.stamp,
                   ws.case_version, *_STATE_COLUMNS, *_VIEW_COLUMNS)
            .select_from(page)
            .outerjoin(cv, (cv.patient_id == page.c.id) & (cv.version == page.c.v))
            .outerjoin(a, a.id == last)
            .outerjoin(ws, ws.patient_id == page.c.id)
            .order_by(page.c.registry_id)
        )
        n_state = len(_STATE_COLUMNS)
        out: list[PatientBasis] = []
        with self._read(only=True) as s:
            if self.dialect == "postgresql":
                # a page is a thousand index look-ups (about 20 ms); on stale statistics
                # PostgreSQL may expect far more and compile the query first (JIT, about
                # 0.8 s a page)
                s.execute(sql_text("SET LOCAL jit = off"))
            for r in s.connection().execute(q):
                pid, rid, cid, version, top, stamp, sv = r[:7]
                state = _state_of(r[7:7 + n_state]) if sv is not None else None
                view = r[7 + n_state:]
                out.append(PatientBasis(
                    pid, rid, cid, version, _view_of(view) if view[0] is not None else None,
                    StateRow(pid, rid, top, stamp or 0, sv, state)))
        return out

    def case_texts(
        self, items: Sequence[tuple[int, int]]
    ) -> dict[int, tuple[str, tuple[ScanData, ...]]]:
        """For (patient id, case version id) pairs: patient id -> (the case version's
        data as its stored JSON text, the patient's scans in date order)."""
        out: dict[int, tuple[str, tuple[ScanData, ...]]] = {}
        with self._read(only=True) as s:
            for chunk in _chunks(list(items)):
                texts: dict[int, str] = {
                    cid: text for cid, text in s.execute(
                        select(CaseVersion.id, sql_cast(CaseVersion.case, Text))
                        .where(CaseVersion.id.in_([cid for _pid, cid in chunk])))
                }
                scans: dict[int, list[ScanData]] = {}
                for pid, day, modality, finding in s.execute(
                    select(ImagingRecord.patient_id, ImagingRecord.performed_on,
                           ImagingRecord.modality, ImagingRecord.finding)
                    .where(ImagingRecord.patient_id.in_([pid for pid, _cid in chunk]),
                           live_scan())
                    .order_by(ImagingRecord.patient_id, ImagingRecord.performed_on,
                              ImagingRecord.id)
                ):
                    scans.setdefault(pid, []).append(ScanData(day, modality, finding))
                out.update((pid, (texts[cid], tuple(scans.get(pid, ()))))
                           for pid, cid in chunk if cid in texts)
        return out

    def latest_case(self, registry_id: str) -> tuple[bool, dict[str, Any] | None]:
        """Whether the patient exists, and the latest case version's data (if any)."""
        with self._read() as s:
            row = s.execute(
                select(Patient.id, CaseVersion.case)
                .outerjoin(CaseVersion, CaseVersion.patient_id == Patient.id)
                .where(Patient.registry_id == registry_id)
                .order_by(CaseVersion.version.desc())
                .limit(1)
            ).first()
        if row is None:
            return False, None
        return True, (dict(row[1]) if row[1] is not None else None)

    def state(self, registry_id: str, as_of: dt.date | None = None) -> PatientState | None:
        """One patient's :class:`PatientState` (the scan stamp read before the scans), or
        ``None`` when not in the registry; with
        ``as_of``, of the case version current on that day (none, ``case`` ``None``,
        when the first was recorded later) and that version's latest assessment."""
        with self._read() as s:
            pid = s.scalar(select(Patient.id).where(Patient.registry_id == registry_id))
            if pid is None:
                return None
            top = current_versions(as_of).where(CaseVersion.patient_id == pid).subquery()
            cv = s.scalars(
                select(CaseVersion).join(
                    top, (CaseVersion.patient_id == top.c.patient_id)
                    & (CaseVersion.version == top.c.v))
            ).first()
            mine = (StoredAssessment.patient_id == pid if as_of is None
                    else StoredAssessment.case_version_id == (cv.id if cv else None))
            a = s.execute(
                select(*_VIEW_COLUMNS)
                .where(mine)
                .order_by(StoredAssessment.id.desc())
                .limit(1)
            ).first()
            stamp = s.scalar(select(scan_stamp(pid))) or 0  # before the scans
            scans = tuple(
                ScanData(r.performed_on, r.modality, r.finding)
                for r in s.scalars(
                    select(ImagingRecord)
                    .where(ImagingRecord.patient_id == pid, live_scan())
                    .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                )
            )
            return PatientState(
                pid,
                registry_id,
                cv.id if cv else None,
                cv.version if cv else None,
                dict(cv.case) if cv else None,
                scans,
                _view_of(a) if a else None,
                stamp,
            )

    def timeline(self, registry_id: str) -> Timeline | None:
        """Everything stored about one patient, oldest first."""
        with self._read() as s:
            p = s.scalars(select(Patient).where(Patient.registry_id == registry_id)).first()
            if p is None:
                return None
            cases = tuple(
                CaseView(r.id, r.version, dict(r.case), r.digest, r.source, r.recorded_at,
                         r.recorded_by)
                for r in s.scalars(
                    select(CaseVersion)
                    .where(CaseVersion.patient_id == p.id)
                    .order_by(CaseVersion.version)
                )
            )
            assessments = tuple(
                _view_of(row)
                for row in s.execute(
                    select(*_VIEW_COLUMNS)
                    .where(StoredAssessment.patient_id == p.id)
                    .order_by(StoredAssessment.id)
                )
            )
            scans = tuple(
                ScanView(r.id, r.performed_on, r.modality, r.finding, r.recorded_at,
                         r.recorded_by)
                for r in s.scalars(
                    select(ImagingRecord)
                    .where(ImagingRecord.patient_id == p.id, live_scan())
                    .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                )
            )
            audit = tuple(
                _audit_view(r)
                for r in s.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.patient_id == p.id)
                    .order_by(AuditEntry.id)
                )
            )
            outcomes = current([
                _outcome_view(r)
                for r in s.scalars(
                    select(OutcomeRecord)
                    .where(OutcomeRecord.patient_id == p.id, live_outcome())
                    .order_by(OutcomeRecord.event_date, OutcomeRecord.id)
                )
            ])
            return Timeline(p.registry_id, p.created_at, cases, assessments, scans, audit,
                            outcomes)

