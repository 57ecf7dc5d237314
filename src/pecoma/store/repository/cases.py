"""Cases and assessments: patients created, case versions numbered and stored with
their assessments, worklist states and outcomes, in batches within one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from pecoma.errors import FieldIssue, InputError
from pecoma.store.db import StoreError
from pecoma.store.models import (
    CaseVersion,
    ImagingRecord,
    OutcomeRecord,
    Patient,
    StoredAssessment,
)
from pecoma.store.repository.base import (
    _chunks,
    _day,
    live_outcome,
    live_scan,
    log,
    recorded_on,
)
from pecoma.store.repository.checks import case_variant_rule, check_actor
from pecoma.store.repository.outcomes import Outcomes, _outcome_view, current, withheld_words
from pecoma.store.repository.records import (
    AddResult,
    AssessmentData,
    CaseCheck,
    CaseRefused,
    CaseSubmission,
    CorrectionKept,
    FileImport,
    OutcomeCheck,
    OutcomeView,
    Recorded,
    ScanView,
    StateData,
)
from pecoma.store.repository.states import WorklistStates, _same_version

_CASE_COLUMNS = ("id", "patient_id", "version", "case", "digest", "source", "recorded_at",
                 "recorded_by")


def _assessment_detail(a: AssessmentData) -> dict[str, Any]:
    return {
        "evaluated_on": a.evaluated_on.isoformat(),
        "knowledge_version": a.knowledge_version,
        "engine_version": a.engine_version,
        "risk_group": a.risk_group,
        "reason": a.reason,
    }


def _ignore(_issues: list[FieldIssue]) -> None:
    """(Told again when the outcomes are written.)"""


class Cases(WorklistStates, Outcomes):
    """Storing case versions and assessments."""

    def _insert_ignore(self) -> Any:
        if self.dialect == "postgresql":
            return postgresql.insert(Patient)
        return sqlite.insert(Patient)

    def _lock_patients(self, s: Session, registry_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in _chunks(sorted(registry_ids)):
            q = (
                select(Patient.registry_id, Patient.id)
                .where(Patient.registry_id.in_(chunk))
                .order_by(Patient.registry_id)
            )
            if self.dialect == "postgresql":
                q = q.with_for_update()
            out.update({rid: pid for rid, pid in s.execute(q)})
        return out

    def _ensure_patients(
        self, s: Session, registry_ids: Sequence[str], actor: str, now: dt.datetime
    ) -> tuple[dict[str, int], int]:
        wanted = sorted(set(registry_ids))
        self._refuse_case_variants(s, wanted)
        created: list[tuple[int, str]] = []
        for chunk in _chunks(wanted):
            stmt = (
                self._insert_ignore()
                .on_conflict_do_nothing(index_elements=["registry_id"])
                .returning(Patient.id, Patient.registry_id)
            )
            rows = [{"registry_id": r, "created_at": now, "created_by": actor} for r in chunk]
            created += [(pid, rid) for pid, rid in s.execute(stmt, rows)]
        self._audit(
            s, actor, [("create", "patient", pid, pid, {}) for pid, _ in created], now
        )
        return self._lock_patients(s, wanted), len(created)

    def _refuse_case_variants(self, s: Session, wanted: Sequence[str]) -> None:
        """:class:`InputError` when a new patient's id differs from another only in letter
        case (a stored patient's, or another id of ``wanted``): ``PEC-0002`` beside
        ``pec-0002`` is a second patient in all but intent. Patients already stored are
        left as they are, such pairs included. Ids are ASCII, so ``lower`` is the same
        here and in the database (indexed: migration 0012)."""
        folded: dict[str, set[str]] = {}
        for rid in wanted:
            folded.setdefault(rid.lower(), set()).add(rid)
        stored: set[str] = set()
        for chunk in _chunks(sorted(folded)):
            q = select(Patient.registry_id).where(func.lower(Patient.registry_id).in_(chunk))
            stored.update(s.scalars(q))
        for rid in stored:
            folded[rid.lower()].add(rid)
        issues = [
            FieldIssue("registry_id", rid, case_variant_rule(
                sorted(others - {rid}), stored=any(o in stored for o in others - {rid})))
            for others in folded.values() if len(others) > 1
            for rid in sorted(others) if rid not in stored
        ]
        if issues:
            raise InputError(issues, "registry id")

    def add_cases(
        self,
        submissions: Sequence[CaseSubmission],
        actor: str,
        check_outcomes: OutcomeCheck | None = None,
        check_case: CaseCheck | None = None,
    ) -> AddResult:
        """Store case versions (and their assessments) in one transaction.

        A submission identical to the patient's latest case version adds nothing, so that
        importing the same file twice changes nothing. A submission's outcomes are checked
        by ``check_outcomes`` against the patient's latest case and stored outcomes and
        written in the same transaction (an outcome already stored is skipped). Each new
        version is checked by ``check_case`` against the stored case and death inside the
        transaction (the patient locked): :class:`InputError` naming its problems.
        """
        if check_outcomes is None and any(x.outcomes for x in submissions):
            raise StoreError("outcomes need their check")
        ids = [x.registry_id for x in submissions]
        if len(set(ids)) != len(ids):
            raise StoreError("each patient may appear only once in one batch of cases")
        return self.add_case_batches(lambda: [submissions], actor, check_outcomes,
                                     check_case)

    def add_case_batches(
        self,
        batches: Callable[[], Iterable[Sequence[CaseSubmission]]],
        actor: str,
        check_outcomes: OutcomeCheck | None = None,
        check_case: CaseCheck | None = None,
        refused: CaseRefused | None = None,
        corrected: CorrectionKept | None = None,
        file: FileImport | None = None,
    ) -> AddResult:
        """Store the submissions of every batch in ONE transaction, a batch at a time, so
        that a large import needs the memory of one batch, not of the whole file.

        ``batches`` is called to produce them (again, should the transaction be retried);
        a patient may appear only once over all of them. Outcomes of the submissions are
        checked by ``check_outcomes`` and written in the same transaction.

        A submission that changes a patient's case is checked by ``check_case`` against
        the patient's stored case and recorded death (read for a whole batch at once),
        which may also keep the stored case (see :data:`CaseCheck`). A submission it
        refuses is told to ``refused`` and nothing of it is stored (nor are the outcomes
        of a kept case that contradict it); without ``refused``, :class:`InputError`.

        With ``corrected`` (an import), a submission whose case equals an earlier version
        of the patient's, one that a later version replaced, and an outcome equal to an
        entry that a later one corrected, are told to ``corrected``. When ``file`` was
        imported before (its digest is in ``imported_file``), the later version is kept
        (the submission's outcomes are stored as those of a kept case) and the outcome is
        not stored again: re-importing a file never undoes a correction made since. So
        too a submission of outcomes only (``outcomes_only``) that ``check_case`` refuses
        and whose outcomes are all recorded already: it changes nothing, so the stored
        case is kept and it is told to ``corrected``, never refused (its case cells are
        those of an earlier case: re-importing never writes an older case over a newer).
        Otherwise they are stored as any other change: a newer file that changes a value
        back (A, then B, then A again) is the source's current word. ``file`` is recorded
        in the same transaction.
        """
        actor = check_actor(actor)

        def work(s: Session) -> AddResult:
            if self.dialect == "postgresql":
                # Each batch looks its patients up by lists of ids in tables that grow in
                # this very transaction. A plan kept from the first batches (tables of a
                # few hundred rows: read them whole) would read every row for every
                # batch of a large import, whose time then grew with the square of its
                # size; planned for each batch, the lookups use the indexes.
                s.execute(sql_text("SET LOCAL plan_cache_mode = force_custom_plan"))
            now = self._clock()
            result = AddResult()
            seen: set[str] = set()
            again = file is not None and self._imported_before(s, file.digest)
            for batch in batches():
                if not batch:
                    continue
                ids = [x.registry_id for x in batch]
                if len(set(ids)) != len(ids) or not seen.isdisjoint(ids):
                    raise StoreError("each patient may appear only once in one import")
                seen.update(ids)
                self._add_batch(s, batch, ids, actor, now, result, check_outcomes,
                                check_case, refused, corrected, again)
                s.flush()
                s.expunge_all()  # nothing of a written batch stays in memory
            if file is not None:
                self._remember_file(s, file.digest, file.name, actor, now)
            return result

        result = self._write(work)
        log.info(
            "cases stored: %d new patients, %d new versions, %d unchanged",
            result.new_patients,
            result.new_versions,
            result.unchanged,
        )
        return result

    def _add_batch(self, s: Session, submissions: Sequence[CaseSubmission], ids: list[str],
                   actor: str, now: dt.datetime, result: AddResult,
                   check_outcomes: OutcomeCheck | None, check_case: CaseCheck | None = None,
                   refused: CaseRefused | None = None,
                   corrected: CorrectionKept | None = None, again: bool = False) -> None:
        pids, new_patients = self._ensure_patients(s, ids, actor, now)
        result.new_patients += new_patients
        latest = self._latest_versions(s, list(pids.values()))
        changed = [pids[x.registry_id] for x in submissions
                   if latest.get(pids[x.registry_id], (0, ""))[1] != x.digest]
        stored: dict[int, dict[str, Any]] = {}
        recorded: dict[int, Recorded] = {}
        if check_case is not None and changed:
            known = [p for p in changed if p in latest]
            dated = self._latest_cases(s, known)
            stored = {pid: case for pid, (case, _day) in dated.items()}
            recorded = self._recorded(s, known)
            for pid, (_case, day) in dated.items():
                if day is not None:
                    recorded[pid] = replace(recorded.get(pid, Recorded()),
                                            current=(latest[pid][0], day))
        earlier = (self._earlier_versions(s, [p for p in changed if p in latest])
                   if corrected is not None and changed else {})
        todo: list[tuple[CaseSubmission, int, int]] = []
        kept: set[str] = set()
        accepted: list[CaseSubmission] = []
        for sub in submissions:
            pid = pids[sub.registry_id]
            version, digest = latest.get(pid, (0, ""))
            if digest == sub.digest:
                result.unchanged += 1
                result.versions[sub.registry_id] = version
                accepted.append(sub)
                continue
            older = earlier.get(pid, {}).get(sub.digest)
            if corrected is not None and older is not None and again:  # the later is kept
                result.unchanged += 1
                result.versions[sub.registry_id] = version
                kept.add(sub.registry_id)
                accepted.append(sub)
                corrected(sub, [FieldIssue(
                    "registry_id", sub.registry_id,
                    f"case not written: it is version {older} of the patient's case, which "
                    f"version {version} has replaced since, and re-importing a file does "
                    f"not undo a correction: version {version} stays the current one; to "
                    "make this case current again, record it whole ('pecoma registry "
                    "add-case' or the case form)")])
                continue
            if check_case is not None:
                issues = check_case(sub, stored.get(pid), recorded.get(pid, Recorded()))
                if issues is None and version > 0:  # the stored case is kept
                    result.unchanged += 1
                    result.versions[sub.registry_id] = version
                    kept.add(sub.registry_id)
                    accepted.append(sub)
                    continue
                withheld: list[FieldIssue] = []
                if issues and corrected is not None and again and sub.outcomes_only \
                        and version > 0 and check_outcomes is not None \
                        and not self._checked_outcomes(s, pid, sub.outcomes, check_outcomes,
                                                       withheld.extend, stored.get(pid),
                                                       again):
                    # a row of outcomes only of a file imported before, whose outcomes are
                    # recorded already (or withdrawn or corrected since, each told in its
                    # column below), and whose case cells the case has left since: it
                    # changes nothing, and an older case is not written over a newer one
                    result.unchanged += 1
                    result.versions[sub.registry_id] = version
                    kept.add(sub.registry_id)
                    accepted.append(sub)
                    corrected(sub, [self._not_again(s, pid, version, sub, issues, withheld)])
                    continue
                if issues:
                    if refused is None:
                        raise InputError(issues, "case")
                    refused(sub, issues)
                    continue
            if refused is not None and check_outcomes is not None and sub.outcomes:
                # a new version's outcomes, checked against it before it is written: a
                # contradiction refuses the row, as any other bad row, not the import
                try:
                    self._checked_outcomes(s, pid, sub.outcomes, check_outcomes,
                                           None if corrected is None else _ignore,
                                           sub.submitted, again)
                except InputError as exc:
                    refused(sub, list(exc.issues))
                    continue
            todo.append((sub, pid, version + 1))
            accepted.append(sub)
            if corrected is not None and older is not None:  # a file new to the registry
                corrected(sub, [FieldIssue(
                    "registry_id", sub.registry_id,
                    f"written as version {version + 1}, bringing back an earlier case: the "
                    f"row equals version {older} of the patient's case, which version "
                    f"{version} had replaced, and this file was not imported before, so "
                    "it is taken as the source's current word; if version "
                    f"{version} was a correction that stands, record it again ('pecoma "
                    "registry add-case' or the case form)")])
        if not todo:
            self._submitted_outcomes(s, accepted, pids, check_outcomes, actor, now, result,
                                     kept, refused, corrected, again)
            return
        cv_ids = self._new_ids(s, CaseVersion, len(todo))
        self._bulk_insert(
            s, CaseVersion, _CASE_COLUMNS,
            [(cv_id, pid, version, sub.submitted, sub.digest, sub.source[:200], now, actor)
             for (sub, pid, version), cv_id in zip(todo, cv_ids, strict=True)],
        )
        a_ids = self._insert_assessments(
            s, [(pid, cv_id, sub.assessment)
                for (sub, pid, _v), cv_id in zip(todo, cv_ids, strict=True)], actor, now)
        audit: list[tuple[str, str, int, int | None, dict[str, Any]]] = []
        for (sub, pid, version), cv_id, a_id in zip(todo, cv_ids, a_ids, strict=True):
            audit.append(
                (
                    "create",
                    "case_version",
                    cv_id,
                    pid,
                    {"version": version, "digest": sub.digest, "source": sub.source},
                )
            )
            audit.append(
                ("create", "assessment", a_id, pid, _assessment_detail(sub.assessment))
            )
            result.versions[sub.registry_id] = version
        self._audit(s, actor, audit, now)
        stamps = self._scan_stamps(s, [pid for _sub, pid, _v in todo])
        # a state computed before a scan was recorded or withdrawn (its scan stamp not
        # the patient's) is not stored, and the previous version's state is removed
        # either way
        self._put_states(
            s,
            [
                (pid, version,
                 sub.state if sub.state is not None
                 and sub.state.scan_stamp == stamps.get(pid, 0) else None)
                for sub, pid, version in todo
            ],
            stamps,
            now,
        )
        result.new_versions += len(todo)
        self._submitted_outcomes(s, accepted, pids, check_outcomes, actor, now, result, kept,
                                 refused, corrected, again)

    def _not_again(self, s: Session, pid: int, version: int, sub: CaseSubmission,
                   issues: Sequence[FieldIssue], withheld: Sequence[FieldIssue] = ()
                   ) -> FieldIssue:
        """What an import is told of a row of outcomes only that it does not import
        again (see :meth:`_add_batch`): the case version that stays, the cells of the
        row it does not match, and, when some of the row's outcomes were withdrawn or
        corrected since (``withheld``: what their columns are told), that those are not
        recorded again: never that the row's outcomes are all recorded."""
        day = _day(s.scalar(select(recorded_on()).where(CaseVersion.patient_id == pid,
                                                        CaseVersion.version == version)))
        on = f" (recorded on {day.isoformat()})" if day is not None else ""
        cells = ", ".join(dict.fromkeys(i.path for i in issues))
        held = "the row's outcomes are recorded already"
        if withheld:
            see = "its column" if len(withheld) == 1 else "their columns"
            if len(withheld) < len(sub.outcomes):
                held = (f"of the row's outcomes, those {withheld_words(withheld)} are not "
                        f"recorded again (see {see}) and the others are recorded already")
            elif len(withheld) == 1:
                held = (f"the row's outcome was {withheld_words(withheld)} and is not "
                        f"recorded again (see {see})")
            else:
                held = (f"the row's outcomes were {withheld_words(withheld)} and are not "
                        f"recorded again (see {see})")
        return FieldIssue(
            "registry_id", sub.registry_id,
            f"row not imported again: this file was imported before and {held}; "
            f"its case cells ({cells}) differ from the patient's case "
            f"as the registry holds it now, version {version}{on}, and re-importing a file "
            f"does not write an older case over a newer one: version {version} stays the "
            "current one, and nothing of the row was written")

    def _submitted_outcomes(
        self,
        s: Session,
        submissions: Sequence[CaseSubmission],
        pids: dict[str, int],
        check: OutcomeCheck | None,
        actor: str,
        now: dt.datetime,
        result: AddResult,
        kept: set[str] | frozenset[str] = frozenset(),
        refused: CaseRefused | None = None,
        corrected: CorrectionKept | None = None,
        again: bool = False,
    ) -> None:
        """Write the submissions' outcomes; those of a submission whose stored case was
        kept (``kept``) were checked against that case only here: a contradiction is told
        to ``refused`` (nothing of the submission is stored) when given. An outcome a
        later entry corrected is told to ``corrected``, and not stored when the file was
        imported before (``again``; see :meth:`add_case_batches`)."""
        for sub in submissions:
            if sub.outcomes and check is not None:
                told = None if corrected is None else (
                    lambda issues, sub=sub: corrected(sub, issues))
                try:
                    ids = self._write_outcomes(s, pids[sub.registry_id], sub.outcomes, check,
                                               actor, now, told, again)
                except InputError as exc:
                    if refused is not None and sub.registry_id in kept:
                        result.unchanged -= 1  # refused: counted as nothing
                        result.versions.pop(sub.registry_id, None)
                        refused(sub, list(exc.issues))
                        continue
                    # name the submission (e.g. the file's row)
                    raise InputError(
                        [FieldIssue(f"{sub.source}: {i.path}", i.value, i.rule)
                         for i in exc.issues], exc.source,
                    ) from exc
                result.new_outcomes += len(ids)

    def _latest_cases(self, s: Session, pids: Sequence[int]
                      ) -> dict[int, tuple[dict[str, Any], dt.date | None]]:
        """Patient id -> the case of the patient's latest version and the day it was
        recorded on (:func:`recorded_on`; one query per chunk)."""
        out: dict[int, tuple[dict[str, Any], dt.date | None]] = {}
        for chunk in _chunks(sorted(pids)):
            top = (
                select(CaseVersion.patient_id, func.max(CaseVersion.version).label("v"))
                .where(CaseVersion.patient_id.in_(chunk))
                .group_by(CaseVersion.patient_id)
                .subquery()
            )
            q = select(CaseVersion.patient_id, CaseVersion.case, recorded_on()).join(
                top,
                (CaseVersion.patient_id == top.c.patient_id) & (CaseVersion.version == top.c.v),
            )
            out.update({pid: (dict(case), _day(day)) for pid, case, day in s.execute(q)
                        if case is not None})
        return out

    def _earlier_versions(self, s: Session, pids: Sequence[int]) -> dict[int, dict[str, int]]:
        """Patient id -> digest -> number of the patient's case versions (the latest
        number of a digest stored twice; one query per chunk)."""
        out: dict[int, dict[str, int]] = {}
        for chunk in _chunks(sorted(pids)):
            q = (select(CaseVersion.patient_id, CaseVersion.version, CaseVersion.digest)
                 .where(CaseVersion.patient_id.in_(chunk))
                 .order_by(CaseVersion.patient_id, CaseVersion.version))
            for pid, version, digest in s.execute(q):
                out.setdefault(pid, {})[digest] = version
        return out

    def _recorded(self, s: Session, pids: Sequence[int]) -> dict[int, Recorded]:
        """Patient id -> the patient's recorded death, scans and current outcomes
        (patients with any; one query per table and chunk)."""
        scans: dict[int, list[ScanView]] = {}
        outcomes: dict[int, list[OutcomeView]] = {}
        for chunk in _chunks(sorted(pids)):
            for r in s.scalars(select(ImagingRecord)
                               .where(ImagingRecord.patient_id.in_(chunk), live_scan())
                               .order_by(ImagingRecord.performed_on, ImagingRecord.id)):
                scans.setdefault(r.patient_id, []).append(ScanView(
                    r.id, r.performed_on, r.modality, r.finding, r.recorded_at,
                    r.recorded_by))
            for o in s.scalars(select(OutcomeRecord)
                               .where(OutcomeRecord.patient_id.in_(chunk), live_outcome())
                               .order_by(OutcomeRecord.event_date, OutcomeRecord.id)):
                outcomes.setdefault(o.patient_id, []).append(_outcome_view(o))
        out: dict[int, Recorded] = {}
        for pid in scans.keys() | outcomes.keys():
            held = current(outcomes.get(pid, []))
            death = next((_day(x.event_date) for x in held if x.event == "death"), None)
            out[pid] = Recorded(death, tuple(scans.get(pid, ())), held)
        return out

    def add_assessments(
        self,
        items: Sequence[tuple[int, int, AssessmentData]],
        actor: str,
        states: Sequence[tuple[int, int, StateData]] = (),
    ) -> int:
        """Store assessments of existing case versions: (patient id, case version id, data).

        ``states`` (patient id, case version number, state) are stored in the same
        transaction, each only if it was computed from the patient's current case version
        and scans (its scan stamp, read before its scans, still the patient's).
        """
        actor = check_actor(actor)
        if not items and not states:
            return 0

        def work(s: Session) -> int:
            now = self._clock()
            if states:
                pids = [pid for pid, _v, _st in states]
                self._lock_patient_ids(s, pids)
                latest = self._latest_versions(s, pids)
                stamps = self._scan_stamps(s, pids)
                self._put_states(s, _same_version(states, latest), stamps, now)
            if not items:
                return 0
            ids = self._insert_assessments(s, items, actor, now)
            self._audit(
                s,
                actor,
                [
                    ("create", "assessment", a_id, pid, _assessment_detail(data))
                    for (pid, _cv, data), a_id in zip(items, ids, strict=True)
                ],
                now,
            )
            return len(ids)

        n = self._write(work)
        log.info("assessments stored: %d", n)
        return n

    def _insert_assessments(
        self, s: Session, items: Sequence[tuple[int, int, AssessmentData]], actor: str,
        now: dt.datetime,
    ) -> list[int]:
        """Insert assessments (patient id, case version id, data); their new ids."""
        ids = self._new_ids(s, StoredAssessment, len(items))
        if items:
            names = tuple(items[0][2].row())
            self._bulk_insert(
                s, StoredAssessment,
                ("id", "patient_id", "case_version_id", *names, "created_at", "created_by"),
                [(a_id, pid, cv_id, *data.row().values(), now, actor)
                 for (pid, cv_id, data), a_id in zip(items, ids, strict=True)],
            )
        return ids

