"""Outcome events: checked against the stored facts and recorded with their audit
entries, and read back for survival, quality, the worklist and the exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, or_, select
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
    _chunks,
    _day,
    _detected,
    _registry_id_range,
    current_versions,
    live_outcome,
    live_scan,
    log,
)
from pecoma.store.repository.checks import check_actor, check_registry_id
from pecoma.store.repository.records import (
    FileImport,
    OutcomeCheck,
    OutcomeData,
    OutcomeView,
    RoutineFacts,
    ScanView,
)


def _outcome_view(r: OutcomeRecord) -> OutcomeView:
    return OutcomeView(r.id, r.event, r.event_date, r.vital_status, r.found_by, r.scan_id,
                       r.recorded_at, r.recorded_by)


CORRECTABLE = frozenset({"last_contact", "local_recurrence", "distant_metastasis",
                         "progression"})
"""Events of which a later entry of the same kind on the same day corrects the earlier
one (how it was found, the vital status): one event, never counted twice. (A death is
recorded once: a second one is refused.)"""


def corrected_by(outcomes: Sequence[OutcomeView]) -> dict[int, int]:
    """One patient's entries (by date, then in recording order) that a later entry of the
    same event on the same day corrects (:data:`CORRECTABLE`), each to the id of the
    entry that stands: the table is append-only, so a correction is a new row and every
    reader takes the latest entry of an event on a day."""
    latest = {(o.event, o.event_date): o.id for o in outcomes if o.event in CORRECTABLE}
    return {o.id: latest[(o.event, o.event_date)] for o in outcomes
            if o.event in CORRECTABLE and latest[(o.event, o.event_date)] != o.id}


def current(outcomes: Sequence[OutcomeView]) -> tuple[OutcomeView, ...]:
    """One patient's outcomes (by date, then in recording order) without those corrected
    by a later entry (:func:`corrected_by`)."""
    replaced = corrected_by(outcomes)
    return tuple(o for o in outcomes if o.id not in replaced)


def _corrected(o: OutcomeData, stored: Sequence[OutcomeView]
               ) -> tuple[str, str | None, str | None]:
    """The field an outcome of an import gives beside the stored entry of that event on
    that day, which a later one corrected: its name, the value held, the value given."""
    [now] = [v for v in stored if (v.event, v.event_date) == (o.event, o.event_date)]
    name = "vital_status" if o.event == "last_contact" else "found_by"
    held = now.vital_status if name == "vital_status" else now.found_by
    return name, held, getattr(o, name)


def _correction_kept(o: OutcomeData, stored: Sequence[OutcomeView]) -> FieldIssue:
    """What an import is told of an outcome it does not record again: the registry holds
    a later correction of that event on that day."""
    name, held, given = _corrected(o, stored)
    return FieldIssue(
        f"outcome.{o.event}.{name}", show_value(given) if given else "(empty)",
        f"not recorded: this {o.event.replace('_', ' ')} on {o.event_date.isoformat()} "
        f"was corrected since ({name.replace('_', ' ')} now "
        f"{show_value(held) if held else 'not recorded'}), and re-importing a file does "
        "not undo a correction; to restore this value, record the outcome again ('pecoma "
        "registry record-outcome' or the patient's page)")


def _correction_undone(o: OutcomeData, stored: Sequence[OutcomeView]) -> FieldIssue:
    """What an import is told of an outcome of a file new to the registry that equals an
    entry a later one corrected: recorded, it brings the earlier value back."""
    name, held, given = _corrected(o, stored)
    return FieldIssue(
        f"outcome.{o.event}.{name}", show_value(given) if given else "(empty)",
        f"recorded, bringing back an earlier value: this {o.event.replace('_', ' ')} on "
        f"{o.event_date.isoformat()} had been corrected ({name.replace('_', ' ')} "
        f"{show_value(held) if held else 'not recorded'}), and this file was not imported "
        "before, so its value is taken as the source's current word; if the correction "
        "stands, record it again ('pecoma registry record-outcome' or the patient's page)")


def _withdrawal_kept(o: OutcomeData, withdrawal: EntryWithdrawal) -> FieldIssue:
    """What an import is told of an outcome it does not record again: the same entry was
    withdrawn as entered in error since (when, by whom, why), and how to record it
    again if the withdrawal was a mistake (a withdrawal is never undone)."""
    return FieldIssue(
        f"outcome.{o.event}.date", o.event_date.isoformat(),
        f"not recorded again: this {o.event.replace('_', ' ')} on "
        f"{o.event_date.isoformat()} was withdrawn as entered in error on "
        f"{withdrawal.withdrawn_at.date().isoformat()} by {withdrawal.withdrawn_by} "
        f"(reason: {withdrawal.reason}), and re-importing a file does not undo a "
        "withdrawal; if it was withdrawn by mistake, record it again ('pecoma registry "
        "record-outcome' or the patient's page)")


def withheld_words(told: Sequence[FieldIssue]) -> str:
    """The outcomes of a row that an import of a file imported before does not record
    again, in words, from what it was told of them (:func:`_withdrawal_kept`,
    :func:`_correction_kept`): the columns and why."""
    gone = [i.path for i in told if i.path.endswith(".date")]
    undone = [i.path for i in told if not i.path.endswith(".date")]
    parts = ([f"withdrawn as entered in error since ({', '.join(gone)})"] if gone else []) \
        + ([f"corrected since ({', '.join(undone)})"] if undone else [])
    return " and ".join(parts)


def _withdrawal_undone(o: OutcomeData) -> FieldIssue:
    """What an import is told of an outcome of a file new to the registry that equals an
    entry withdrawn as entered in error: recorded, it stands again."""
    return FieldIssue(
        f"outcome.{o.event}.date", o.event_date.isoformat(),
        f"recorded, bringing back an entry withdrawn as entered in error: this "
        f"{o.event.replace('_', ' ')} had been withdrawn, and this file was not imported "
        "before, so it is taken as the source's current word; if the withdrawal stands, "
        "withdraw it again ('pecoma registry withdraw' or the patient's page)")


class _RolledBack(Exception):
    """Raised inside a write transaction to roll it back, with what to report."""

    def __init__(self, results: list[list[int] | InputError]) -> None:
        super().__init__("rolled back")
        self.results = results


class Outcomes(AuditLog):
    """Recording and reading outcome events."""

    def _checked_outcomes(
        self,
        s: Session,
        pid: int,
        outcomes: Sequence[OutcomeData],
        check: OutcomeCheck,
        corrected: Callable[[list[FieldIssue]], None] | None = None,
        case: dict[str, Any] | None = None,
        again: bool = False,
    ) -> Sequence[OutcomeData]:
        """Those of ``outcomes`` not stored yet, checked by ``check`` against the
        patient's stored outcomes and scans and against ``case`` (the patient's latest
        stored case when ``None``): :class:`InputError` naming each contradiction.
        ``corrected``, ``again``: see :meth:`_write_outcomes`."""
        every = [
            _outcome_view(r)
            for r in s.scalars(
                select(OutcomeRecord)
                .where(OutcomeRecord.patient_id == pid, live_outcome())
                .order_by(OutcomeRecord.event_date, OutcomeRecord.id)
            )
        ]
        stored = current(every)
        fresh = [o for o in outcomes if not any(o.same_fact(v) for v in stored)]
        if corrected is not None:
            withdrawn = [
                (_outcome_view(r), w)
                for r, w in s.execute(
                    select(OutcomeRecord, EntryWithdrawal)
                    .join(EntryWithdrawal, EntryWithdrawal.outcome_id == OutcomeRecord.id)
                    .where(OutcomeRecord.patient_id == pid)
                    .order_by(EntryWithdrawal.id.desc())
                )
            ]
            undone = [o for o in fresh if any(o.same_fact(v) for v in every)]
            gone = [(o, w) for o in fresh if o not in undone
                    if (w := next((x for v, x in withdrawn if o.same_fact(v)), None))]
            told: list[FieldIssue] = []
            if again:
                told += [_correction_kept(o, stored) for o in undone]
                told += [_withdrawal_kept(o, w) for o, w in gone]
                kept = [o for o, _w in gone]
                fresh = [o for o in fresh if o not in undone and o not in kept]
            else:
                told += [_correction_undone(o, stored) for o in undone]
                told += [_withdrawal_undone(o) for o, _w in gone]
            if told:
                corrected(told)
        if not fresh:
            return []
        if case is None:
            case_row = s.scalar(
                select(CaseVersion.case)
                .where(CaseVersion.patient_id == pid)
                .order_by(CaseVersion.version.desc())
                .limit(1)
            )
            case = dict(case_row) if case_row is not None else None
        scans = tuple(
            ScanView(r.id, r.performed_on, r.modality, r.finding, r.recorded_at, r.recorded_by)
            for r in s.scalars(
                select(ImagingRecord)
                .where(ImagingRecord.patient_id == pid, live_scan())
                .order_by(ImagingRecord.performed_on, ImagingRecord.id)
            )
        )
        return check(case, stored, scans, fresh)

    def _write_outcomes(
        self,
        s: Session,
        pid: int,
        outcomes: Sequence[OutcomeData],
        check: OutcomeCheck,
        actor: str,
        now: dt.datetime,
        corrected: Callable[[list[FieldIssue]], None] | None = None,
        again: bool = False,
    ) -> list[int]:
        """Check and store one patient's new outcomes inside the current transaction
        (the patient is locked by the caller); an outcome already stored is skipped.

        With ``corrected`` (an import), an outcome equal to an entry that a later one
        corrected is told to ``corrected``. When the file was imported before (``again``)
        it is skipped: re-importing a file keeps the correction. Otherwise it is stored,
        correcting the correction back, as the same value entered again by hand does."""
        checked = self._checked_outcomes(s, pid, outcomes, check, corrected, again=again)
        ids: list[int] = []
        audit: list[tuple[str, str, int, int | None, dict[str, Any]]] = []
        for o in checked:
            oid = s.scalar(
                insert(OutcomeRecord)
                .values(patient_id=pid, event=o.event, event_date=o.event_date,
                        vital_status=o.vital_status, found_by=o.found_by, scan_id=o.scan_id,
                        recorded_at=now, recorded_by=actor)
                .returning(OutcomeRecord.id)
            )
            if not isinstance(oid, int):
                raise StoreError("the registry did not return the new outcome's id")
            ids.append(oid)
            audit.append(("create", "outcome_event", oid, pid, {
                "event": o.event, "event_date": o.event_date.isoformat(),
                "vital_status": o.vital_status, "found_by": o.found_by, "scan_id": o.scan_id,
            }))
        self._audit(s, actor, audit, now)
        return ids

    def add_outcomes(
        self,
        registry_id: str,
        outcomes: Sequence[OutcomeData],
        actor: str,
        check: OutcomeCheck,
    ) -> list[int]:
        """Record outcome events of an existing patient in one transaction with their audit
        entries; ``check`` sees the stored facts inside the transaction (the patient is
        locked), so two writers cannot record contradicting outcomes. Returns the new ids
        (an outcome identical to a stored one is not stored again)."""
        actor = check_actor(actor)
        registry_id = check_registry_id(registry_id)

        def work(s: Session) -> list[int]:
            now = self._clock()
            q = select(Patient.id).where(Patient.registry_id == registry_id)
            if self.dialect == "postgresql":
                q = q.with_for_update()
            pid = s.scalar(q)
            if pid is None:
                raise InputError(
                    [FieldIssue("registry_id", show_value(registry_id),
                                "must be the id of a patient in the registry")],
                    "outcome",
                )
            return self._write_outcomes(s, pid, outcomes, check, actor, now)

        ids = self._write(work)
        log.info("outcomes recorded: %d", len(ids))
        return ids

    def add_outcome_entries(
        self,
        entries: Sequence[tuple[str, OutcomeData]],
        actor: str,
        check: OutcomeCheck,
        *,
        all_or_nothing: bool,
        file: FileImport | None = None,
        told: Callable[[int, list[FieldIssue]], None] | None = None,
        rollback: bool = False,
    ) -> list[list[int] | InputError]:
        """Record the outcome entries of an imported table, each (registry id, outcome),
        in ONE transaction, the patients locked: each checked by ``check`` against the
        stored facts and the entries written before it (in the order given), as
        :meth:`add_outcomes` checks one. One result per entry: the new ids (none: recorded
        already) or the :class:`InputError` refusing it (nothing of it stored). With
        ``all_or_nothing`` a refused entry rolls the whole transaction back: nothing of
        the table is stored, every refusal still reported; with ``rollback`` it is rolled
        back whatever happens (the table's other rows are refused: every check still
        runs).

        ``file`` is the table read, recorded with the import; an entry equal to an entry
        a later one corrected, or to one withdrawn as entered in error, is told to
        ``told`` (with its index) and, when the file was imported before, not stored
        again, as for the outcomes of a cases file (:meth:`_write_outcomes`)."""
        actor = check_actor(actor)
        wanted = sorted({rid for rid, _o in entries})

        def work(s: Session) -> list[list[int] | InputError]:
            now = self._clock()
            again = file is not None and self._imported_before(s, file.digest)
            pids: dict[str, int] = {}
            for chunk in _chunks(wanted):
                q = select(Patient.registry_id, Patient.id).where(
                    Patient.registry_id.in_(chunk))
                pids.update({rid: pid for rid, pid in s.execute(q)})
            self._lock_patient_ids(s, list(pids.values()))
            results: list[list[int] | InputError] = []
            for n, (rid, o) in enumerate(entries):
                pid = pids.get(rid)
                if pid is None:
                    results.append(InputError(
                        [FieldIssue("registry_id", show_value(rid),
                                    "must be the id of a patient in the registry")],
                        "outcome"))
                    continue
                tell = None if told is None else (lambda i, n=n: told(n, i))
                try:  # refused before anything of it is inserted
                    results.append(self._write_outcomes(s, pid, [o], check, actor, now,
                                                        tell, again))
                except InputError as exc:
                    results.append(exc)
            if rollback or (all_or_nothing
                            and any(isinstance(r, InputError) for r in results)):
                raise _RolledBack(results)
            if file is not None:
                self._remember_file(s, file.digest, file.name, actor, now)
            return results

        try:
            results = self._write(work)
        except _RolledBack as exc:
            return exc.results
        log.info("outcomes recorded: %d",
                 sum(len(r) for r in results if not isinstance(r, InputError)))
        return results

    def death_date(self, registry_id: str) -> dt.date | None:
        """The patient's recorded date of death, if any."""
        with self._read() as s:
            day = s.scalar(
                select(OutcomeRecord.event_date)
                .join(Patient, Patient.id == OutcomeRecord.patient_id)
                .where(Patient.registry_id == registry_id, OutcomeRecord.event == "death",
                       live_outcome())
                .limit(1)
            )
        return _day(day)

    def outcomes(self) -> dict[int, tuple[OutcomeView, ...]]:
        """Patient id -> the patient's outcome events, by date (patients with outcomes)."""
        out: dict[int, list[OutcomeView]] = {}
        o = OutcomeRecord
        q = select(o.patient_id, o.id, o.event, o.event_date, o.vital_status, o.found_by,
                   o.scan_id, o.recorded_at, o.recorded_by).where(live_outcome()).order_by(
                       o.patient_id, o.event_date, o.id)
        with self._read() as s:
            # plain column rows, not ORM objects: several times faster for a whole registry
            for row in s.connection().execute(q):
                out.setdefault(row[0], []).append(OutcomeView(*row[1:]))
        return {k: current(v) for k, v in out.items()}

    def outcomes_by_registry_id(
        self, *, after: str | None = None, upto: str | None = None
    ) -> dict[str, tuple[OutcomeView, ...]]:
        """Registry id -> the patient's outcome events, by date (patients with outcomes);
        with ``after``/``upto`` only the registry ids in that range (see
        :meth:`registry_id_cuts`)."""
        o = OutcomeRecord
        q = _registry_id_range(
            select(Patient.registry_id, o.id, o.event, o.event_date, o.vital_status,
                   o.found_by, o.scan_id, o.recorded_at, o.recorded_by)
            .join(Patient, Patient.id == o.patient_id).where(live_outcome()), after, upto,
        ).order_by(o.patient_id, o.event_date, o.id)
        out: dict[str, list[OutcomeView]] = {}
        with self._read(only=True) as s:
            for row in s.connection().execute(q):
                out.setdefault(row[0], []).append(OutcomeView(*row[1:]))
        return {k: current(v) for k, v in out.items()}

    def routine_facts(self, on_date: dt.date, registry_id: str | None = None
                      ) -> dict[str, RoutineFacts]:
        """Registry id -> what decides whether the patient is still under routine
        surveillance as of ``on_date`` (:func:`pecoma.registry.routine.routine`), for
        every patient with an outcome that can end it dated on or before ``on_date`` (a
        death, a last contact lost to follow-up or alive with disease, a recurrence,
        metastasis or progression); the others are followed as their plan says. With
        ``registry_id``, that patient only: each read is filtered to it (a patient's page
        reads no other patient's outcomes). The case facts are those of the version
        current on ``on_date`` (:func:`~pecoma.store.repository.base.current_versions`),
        as the worklist of that day reads it."""
        o = OutcomeRecord
        ending = (
            select(o.patient_id)
            .where(o.event_date <= on_date, live_outcome(),
                   or_(o.event.in_(("death", *_RELAPSES)),
                       o.vital_status.in_(("lost_to_follow_up", "alive_with_disease"))))
        )
        if registry_id is not None:
            ending = ending.join(Patient, Patient.id == o.patient_id).where(
                Patient.registry_id == registry_id)
        who = ending.distinct().subquery()
        events = (
            select(Patient.registry_id, o.id, o.event, o.event_date, o.vital_status,
                   o.found_by, o.scan_id, o.recorded_at, o.recorded_by)
            .join(Patient, Patient.id == o.patient_id)
            .join(who, who.c.patient_id == o.patient_id)
            .where(o.event_date <= on_date, live_outcome())
            .order_by(o.patient_id, o.event_date, o.id)
        )
        # the case version current on the day, as every view as of a day reads it
        top = (current_versions(on_date)
               .join(who, who.c.patient_id == CaseVersion.patient_id).subquery())
        case = CaseVersion.case
        cases = (
            select(Patient.registry_id, case[("stage", "status")].as_string(),
                   case[("stage", "metastases")],
                   case[("free_of_disease", "since")].as_string(), case["surgery"])
            .join(top, top.c.patient_id == Patient.id)
            .join(CaseVersion, (CaseVersion.patient_id == Patient.id)
                  & (CaseVersion.version == top.c.v))
        )
        if registry_id is not None:
            events = events.where(Patient.registry_id == registry_id)
            cases = cases.where(Patient.registry_id == registry_id)
        outcomes: dict[str, list[OutcomeView]] = {}
        with self._read() as s:
            for row in s.connection().execute(events):
                outcomes.setdefault(row[0], []).append(OutcomeView(*row[1:]))
            latest = {rid: (status, _detected(metastases), _day(free), surgery)
                      for rid, status, metastases, free, surgery in s.execute(cases)}
        return {rid: RoutineFacts(current(mine), *latest.get(rid, (None, (), None, None)))
                for rid, mine in outcomes.items()}


_RELAPSES = ("local_recurrence", "distant_metastasis", "progression")
