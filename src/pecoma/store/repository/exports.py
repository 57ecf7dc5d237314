"""Reads for the exports and figures: the cohort for survival and quality, the latest
cases (streamed, by registry-id range), recommendation history and the full export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Text, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy import text as sql_text
from sqlalchemy.orm import aliased

from pecoma.store.models import (
    AuditEntry,
    BoardDecision,
    CaseVersion,
    ImagingRecord,
    OutcomeRecord,
    Patient,
    StoredAssessment,
)
from pecoma.store.repository.base import (
    RepositoryBase,
    _chunks,
    _day,
    _detected,
    _iso,
    _json_object,
    _registry_id_range,
    live_outcome,
    live_scan,
    recorded_on,
)
from pecoma.store.repository.outcomes import _outcome_view, corrected_by
from pecoma.store.repository.records import OutcomeView
from pecoma.store.repository.scans import DISEASE_FINDINGS


class Exports(RepositoryBase):
    """Reading the registry for exports, survival and quality."""

    def registry_id_cuts(self, parts: int, min_part: int = 1) -> list[str]:
        """At most ``parts - 1`` registry ids cutting the registry, in registry-id order
        (the database's own), into ranges of about equal size: range k holds the ids
        after cut k-1 (none for the first) up to and including cut k (none for the
        last). Fewer ranges when they would hold fewer than ``min_part`` patients."""
        with self._read(only=True) as s:
            total = s.execute(select(func.count()).select_from(Patient)).scalar_one()
            parts = max(1, min(parts, total // max(1, min_part)))
            positions = sorted({total * k // parts for k in range(1, parts)} - {0})
            return [s.execute(select(Patient.registry_id).order_by(Patient.registry_id)
                              .offset(at - 1).limit(1)).scalar_one() for at in positions]

    def cohort_rows(self, on: dt.date | None = None) -> list[tuple[Any, ...]]:
        """Every patient with a case, for survival and quality figures, in registry-id
        order: (patient id, registry id, diagnosis date, surgery status, surgery date,
        stage status, risk group, Folpe 2005 category, its determined flag, last scan date,
        free-of-disease date, the latest version's stage status, its metastases' detection
        dates, the first scan that found disease, the surgery as stored, the day the
        first version of the latest run recording a relapse was recorded). The latest
        version's stage and metastases say whether it records a relapse, and when
        (:func:`pecoma.registry.routine.case_relapse`); a scan finding a local recurrence
        or a metastasis is a relapse found at that scan; the surgery says from which day
        the resection left the patient free of disease
        (:func:`pecoma.registry.routine.free_from`). A relapse the case records came on
        or before the day the first version recording it was stored (:func:`recorded_on`;
        the first of the versions since the last one that recorded none: an earlier run
        was taken back): ``None`` when the latest version records none.

        Case facts come from the latest case version, the stage from the version the
        chosen assessment was made on; risk group and classification from
        the latest stored assessment that stratified the primary (the risk group of the
        localized decision: an assessment made after a relapse, whose risk group is
        ``not_applicable``, must not move a patient out of the group they were followed
        in), else from the latest one (advanced at presentation: ``not_applicable``).
        JSON fields are read in SQL; dates as ISO text or dates, as the driver gives them;
        missing facts ``None``. ``on``: the last scan is the latest done by that date (a
        figure as of a past date reads the scans known then, whatever came later).
        """
        cv_top = (
            select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
            .group_by(CaseVersion.patient_id)
            .subquery()
        )
        stratified = (
            select(StoredAssessment.patient_id, func.max(StoredAssessment.id).label("id"))
            .where(StoredAssessment.risk_group != "not_applicable")
            .group_by(StoredAssessment.patient_id)
            .subquery()
        )
        latest = (
            select(StoredAssessment.patient_id, func.max(StoredAssessment.id).label("id"))
            .group_by(StoredAssessment.patient_id)
            .subquery()
        )
        a_top = (
            select(
                latest.c.patient_id,
                func.coalesce(stratified.c.id, latest.c.id).label("id"),
            )
            .outerjoin(stratified, stratified.c.patient_id == latest.c.patient_id)
            .subquery()
        )
        scans = (select(ImagingRecord.patient_id,
                        func.max(ImagingRecord.performed_on).label("d"))
                 .where(live_scan()))
        found = (select(ImagingRecord.patient_id,
                        func.min(ImagingRecord.performed_on).label("d"))
                 .where(ImagingRecord.finding.in_(DISEASE_FINDINGS), live_scan()))
        if on is not None:
            scans = scans.where(ImagingRecord.performed_on <= on)
            found = found.where(ImagingRecord.performed_on <= on)
        last_scan = scans.group_by(ImagingRecord.patient_id).subquery()
        disease_scan = found.group_by(ImagingRecord.patient_id).subquery()
        c = CaseVersion.case
        # the first version of the latest run recording a relapse (recurrent, metastatic)
        relapsed = c[("stage", "status")].as_string().in_(("recurrent", "metastatic"))
        plain = (select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
                 .where(~relapsed | c[("stage", "status")].as_string().is_(None))
                 .group_by(CaseVersion.patient_id).subquery())
        run = (select(CaseVersion.patient_id, func.min(CaseVersion.version).label("v"))
               .outerjoin(plain, plain.c.patient_id == CaseVersion.patient_id)
               .where(relapsed, plain.c.v.is_(None) | (CaseVersion.version > plain.c.v))
               .group_by(CaseVersion.patient_id).subquery())
        first = aliased(CaseVersion)
        # the stage the risk group was decided on (a later version may record a relapse:
        # a recurrence must not take the patient out of recurrence-free survival)
        assessed = aliased(CaseVersion)
        q = (
            select(
                Patient.id, Patient.registry_id,
                c[("diagnosis", "date")].as_string(),
                c[("surgery", "status")].as_string(),
                c[("surgery", "date")].as_string(),
                func.coalesce(assessed.case[("stage", "status")].as_string(),
                              c[("stage", "status")].as_string()),
                StoredAssessment.risk_group,
                StoredAssessment.folpe_category,
                last_scan.c.d,
                c[("free_of_disease", "since")].as_string(),
                c[("stage", "status")].as_string(),
                c[("stage", "metastases")],
                disease_scan.c.d,
                c["surgery"],
                recorded_on(first),
            )
            .join(cv_top, cv_top.c.patient_id == Patient.id)
            .join(CaseVersion, (CaseVersion.patient_id == Patient.id)
                  & (CaseVersion.version == cv_top.c.v))
            .outerjoin(a_top, a_top.c.patient_id == Patient.id)
            .outerjoin(StoredAssessment, StoredAssessment.id == a_top.c.id)
            .outerjoin(assessed, assessed.id == StoredAssessment.case_version_id)
            .outerjoin(last_scan, last_scan.c.patient_id == Patient.id)
            .outerjoin(disease_scan, disease_scan.c.patient_id == Patient.id)
            .outerjoin(run, run.c.patient_id == Patient.id)
            .outerjoin(first, (first.patient_id == Patient.id) & (first.version == run.c.v))
            .order_by(Patient.registry_id)
        )
        with self._read() as s:
            rows = s.execute(q).all()
        out: list[tuple[Any, ...]] = []
        for (pid, rid, diag, s_status, s_date, stage, risk, folpe, scan, free, latest,
             metastases, disease, surgery, relapse_recorded) in rows:
            out.append((pid, rid, _day(diag), s_status, _day(s_date), stage, risk, folpe,
                        folpe is not None, _day(scan), _day(free), latest,
                        _detected(metastases), _day(disease), surgery,
                        _day(relapse_recorded) if latest in ("recurrent", "metastatic")
                        else None))
        return out

    def latest_case_data(self, patient_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Patient id -> the latest case version's data, for the patients given."""
        out: dict[int, dict[str, Any]] = {}
        with self._read(only=True) as s:
            for chunk in _chunks(list(patient_ids)):
                top = (select(CaseVersion.patient_id,
                              func.max(CaseVersion.version).label("v"))
                       .where(CaseVersion.patient_id.in_(chunk))
                       .group_by(CaseVersion.patient_id).subquery())
                for pid, text in s.execute(
                        select(CaseVersion.patient_id, sql_cast(CaseVersion.case, Text))
                        .join(top, (top.c.patient_id == CaseVersion.patient_id)
                              & (top.c.v == CaseVersion.version))):
                    out[pid] = _json_object(text)
        return out

    def latest_cases(self) -> list[tuple[str, dict[str, Any], str | None]]:
        """Every patient with a case, in registry-id order: registry id, latest case data
        and the ICD-O-3 morphology (e.g. ``8714/3``) of the latest stored assessment
        (``None`` when it gave none)."""
        return list(self.iter_latest_cases())

    def iter_latest_cases(
        self, batch: int = 1000, *, after: str | None = None, upto: str | None = None
    ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
        """:meth:`latest_cases` one row at a time, fetched ``batch`` rows at a time (a
        server-side cursor on PostgreSQL): memory stays bounded however large the
        registry. The read transaction stays open until the iterator is exhausted or
        closed. With ``after``/``upto`` only the registry ids in that range (see
        :meth:`registry_id_cuts`)."""
        cv_top = (
            select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
            .group_by(CaseVersion.patient_id)
            .subquery()
        )
        a_top = (
            select(StoredAssessment.patient_id, func.max(StoredAssessment.id).label("id"))
            .group_by(StoredAssessment.patient_id)
            .subquery()
        )
        # the case as its stored JSON text, decoded here by orjson (several times faster
        # than the driver's json.loads; the same values: anything orjson declines, such
        # as an integer beyond 64 bits, goes through json.loads as before)
        q = (
            select(Patient.registry_id, sql_cast(CaseVersion.case, Text),
                   StoredAssessment.icdo3_morphology)
            .join(cv_top, cv_top.c.patient_id == Patient.id)
            .join(CaseVersion, (CaseVersion.patient_id == Patient.id)
                  & (CaseVersion.version == cv_top.c.v))
            .outerjoin(a_top, a_top.c.patient_id == Patient.id)
            .outerjoin(StoredAssessment, StoredAssessment.id == a_top.c.id)
            .order_by(Patient.registry_id)
        )
        q = _registry_id_range(q, after, upto)
        with self._read(only=True) as s:
            if s.get_bind().dialect.name == "postgresql":
                # a cursor is planned for its first rows by default (nested loops over
                # the latest-version subqueries: minutes at 100,000 patients); plan it
                # for all of them, as the query without a cursor is
                s.execute(sql_text("SET LOCAL cursor_tuple_fraction = 1.0"))
            for rid, case_text, icdo in s.execute(q, execution_options={"yield_per": batch}):
                yield rid, _json_object(case_text), icdo

    def recommendation_history(self) -> dict[int, list[tuple[dt.date, tuple[str, ...]]]]:
        """Patient id -> every stored assessment's evaluation date and knowledge record
        ids, oldest first (what was recommended, and when)."""
        out: dict[int, list[tuple[dt.date, tuple[str, ...]]]] = {}
        with self._read() as s:
            for pid, day, records in s.execute(
                select(StoredAssessment.patient_id, StoredAssessment.evaluated_on,
                       StoredAssessment.record_ids)
                .order_by(StoredAssessment.patient_id, StoredAssessment.id)
            ):
                out.setdefault(pid, []).append((day, tuple(records)))
        return out

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, as plain JSON-ready data (registry ids included)."""
        with self._read() as s:
            rid = dict(s.execute(select(Patient.id, Patient.registry_id)).all())
            out: dict[str, list[dict[str, Any]]] = {}
            out["patients"] = [
                {"registry_id": r.registry_id, "created_at": _iso(r.created_at),
                 "created_by": r.created_by}
                for r in s.scalars(select(Patient).order_by(Patient.registry_id))
            ]
            out["case_versions"] = [
                {"registry_id": rid[r.patient_id], "version": r.version, "case": r.case,
                 "digest": r.digest, "source": r.source,
                 "recorded_at": _iso(r.recorded_at), "recorded_by": r.recorded_by}
                for r in s.scalars(select(CaseVersion).order_by(CaseVersion.id))
            ]
            cv_version = dict(
                s.execute(select(CaseVersion.id, CaseVersion.version)).all()
            )
            out["assessments"] = [
                {"registry_id": rid[r.patient_id], "case_version": cv_version[r.case_version_id],
                 "evaluated_on": r.evaluated_on.isoformat(),
                 "knowledge_version": r.knowledge_version, "engine_version": r.engine_version,
                 "settings_digest": r.settings_digest, "risk_group": r.risk_group,
                 "disease_status": r.disease_status, "record_ids": r.record_ids,
                 "next_due": r.next_due.isoformat() if r.next_due else None,
                 "reason": r.reason, "created_at": _iso(r.created_at),
                 "created_by": r.created_by, "output": r.output}
                for r in s.scalars(select(StoredAssessment).order_by(StoredAssessment.id))
            ]
            out["imaging_events"] = [
                {"id": r.id, "registry_id": rid[r.patient_id],
                 "performed_on": r.performed_on.isoformat(),
                 "modality": r.modality, "finding": r.finding,
                 "recorded_at": _iso(r.recorded_at), "recorded_by": r.recorded_by}
                for r in s.scalars(
                    select(ImagingRecord).where(live_scan())
                    .order_by(ImagingRecord.performed_on, ImagingRecord.id)
                )
            ]
            scan_day = dict(s.execute(select(ImagingRecord.id,
                                             ImagingRecord.performed_on)).all())
            outcomes = list(s.scalars(select(OutcomeRecord).where(live_outcome())
                                      .order_by(OutcomeRecord.id)))
            # each entry a later one of the same day corrects -> the entry that stands
            mine: dict[int, list[OutcomeView]] = {}
            for r in outcomes:
                mine.setdefault(r.patient_id, []).append(_outcome_view(r))
            later = {k: v for views in mine.values() for k, v in corrected_by(views).items()}
            out["outcomes"] = [
                {"id": r.id, "registry_id": rid[r.patient_id], "event": r.event,
                 "event_date": r.event_date.isoformat(), "vital_status": r.vital_status,
                 "found_by": r.found_by, "scan_id": r.scan_id,
                 "scan_performed_on": scan_day[r.scan_id].isoformat() if r.scan_id else None,
                 "corrected_by": later.get(r.id),
                 "recorded_at": _iso(r.recorded_at), "recorded_by": r.recorded_by}
                for r in outcomes
            ]
            assessed = dict(s.execute(select(StoredAssessment.id,
                                             StoredAssessment.case_version_id)).all())
            out["board_decisions"] = [
                {"id": r.id, "source": r.source,
                 "registry_id": rid[r.patient_id] if r.patient_id else None,
                 "case_version": cv_version[assessed[r.assessment_id]]
                 if r.assessment_id else None,
                 "card_uuid": r.card_uuid, "record_id": r.record_id, "decision": r.decision,
                 "reason_code": r.reason_code, "reason_text": r.reason_text,
                 "supersedes": r.supersedes, "decided_at": _iso(r.decided_at),
                 "decided_by": r.decided_by}
                for r in s.scalars(select(BoardDecision).order_by(BoardDecision.id))
            ]
            out["audit_log"] = [
                {"at": _iso(r.at), "actor": r.actor, "action": r.action, "entity": r.entity,
                 "entity_id": r.entity_id,
                 "registry_id": rid.get(r.patient_id) if r.patient_id else None,
                 "detail": r.detail}
                for r in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ]
            return out

