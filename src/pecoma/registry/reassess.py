"""Re-assessment: every patient's latest case through the current knowledge and settings.

As of a past date, each patient's case version current on that date is assessed (the
latest recorded on or before it: :func:`pecoma.store.repository.base.current_versions`);
a patient whose first version was recorded later is not in it. A version that a later
one has replaced since is assessed and listed, but its assessment is not stored (it
would become the patient's latest assessment, of a case no longer current), nor its
worklist state.

Each new assessment is compared with the patient's latest stored one; a patient is
listed when the knowledge records produced (added or removed), the risk group or the
next due date changed. The next due date is the worklist's for the date
(:mod:`pecoma.registry.worklist`): the plan's with the scans done by then, and none when
routine surveillance has stopped by then (:mod:`pecoma.registry.routine`: a death, a
loss to follow-up, a relapse), which the change says instead. A case whose plan cannot
be drawn as of the date is not evaluable, with the reason. A new assessment is stored
(reason ``reassess``, unless asked not to) when it differs, or when it was made with
another knowledge, engine or settings version than the stored one; an identical
re-evaluation under the same versions adds no row. Every re-assessed patient's worklist
state (:mod:`pecoma.registry.state`) is stored again with the current versions, in the
transaction of its new assessment: after a change of knowledge, engine or settings this
is what brings the stored worklist up to date. A state is stored with the patient's scan
stamp read before its scans (with the page), and so not at all when a scan of the
patient was recorded or withdrawn meanwhile: that write stored the state of the scans
as they are.

The registry is read a page at a time and the results are stored in batches (each one
transaction), so memory stays that of a few pages whatever the size of the registry. A
patient :func:`known_unchanged` (assessed as of the same date, from the same case
version, with the same versions, its stored state current) is counted unchanged without
the engine.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, cast

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.registry.plan import done_by
from pecoma.registry.routine import routine_of
from pecoma.registry.state import Versions, compute_state, is_usable, plan_and_state, versions
from pecoma.registry.stored import assessment_data
from pecoma.registry.workers import runner
from pecoma.settings import Settings
from pecoma.store.repository import (
    AssessmentData,
    PatientBasis,
    Repository,
    RoutineFacts,
    ScanData,
    StateData,
)
from pecoma.store.repository.records import StoredView

__all__ = ["Change", "ReassessReport", "known_unchanged", "reassess"]


@dataclass(frozen=True, slots=True)
class Change:
    """How one patient's assessment differs from the previous stored one."""

    registry_id: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    risk_before: str | None
    risk_after: str
    due_before: dt.date | None
    due_after: dt.date | None
    knowledge_before: str | None
    knowledge_after: str
    instead: str | None = None
    """What the worklist of the date says instead of a next due date: why routine
    surveillance has stopped (``left surveillance (…)``, ``suspended (…)``) or why the
    plan has no open visit (``suspended (…)``, ``no plan (…)``); ``None`` with a date."""

    @property
    def risk_changed(self) -> bool:
        return self.risk_before != self.risk_after

    @property
    def due_changed(self) -> bool:
        return self.due_before != self.due_after

    def describe(self) -> str:
        parts = []
        if self.risk_changed:
            parts.append(f"risk {self.risk_before or '(none)'} -> {self.risk_after}")
        if self.due_changed:
            before = self.due_before.isoformat() if self.due_before else "(none)"
            after = (self.due_after.isoformat() if self.due_after
                     else self.instead or "(none)")
            parts.append(f"next due {before} -> {after}")
        if self.added:
            parts.append("added " + ", ".join(self.added))
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry_id": self.registry_id,
            "records_added": list(self.added),
            "records_removed": list(self.removed),
            "risk_group": {"before": self.risk_before, "after": self.risk_after},
            "next_due": {
                "before": self.due_before.isoformat() if self.due_before else None,
                "after": self.due_after.isoformat() if self.due_after else None,
                "instead": self.instead,
            },
            "knowledge_version": {"before": self.knowledge_before, "after": self.knowledge_after},
        }


@dataclass(slots=True)
class ReassessReport:
    on_date: dt.date
    knowledge_version: str
    settings_digest: str
    patients: int = 0
    unchanged: int = 0
    stored: int = 0
    changes: list[Change] = field(default_factory=list)
    not_evaluable: list[tuple[str, str]] = field(default_factory=list)

    def to_jsonable(self) -> dict[str, Any]:
        return {
            "evaluated_on": self.on_date.isoformat(),
            "knowledge_version": self.knowledge_version,
            "settings_digest": self.settings_digest,
            "patients": self.patients,
            "changed": len(self.changes),
            "unchanged": self.unchanged,
            "stored": self.stored,
            "changes": [c.to_dict() for c in self.changes],
            "not_evaluable": [{"registry_id": r, "reason": why} for r, why in self.not_evaluable],
        }


PAGE_PATIENTS = 1000
"""Patients read from the registry at a time (their cases only when they are assessed)."""

TASK_PATIENTS = 250
"""Patients per piece of engine work handed to a worker process."""

WRITE_PATIENTS = 2000
"""Re-assessed patients whose states and new assessments are stored in one transaction."""


@dataclass(frozen=True, slots=True)
class _Patient:
    """What the engine work needs of one patient: its case version as stored (JSON
    text), its scans, that version's latest stored assessment, what decides whether its
    routine surveillance has stopped (``None``: no outcome that can stop it), and whether
    a later version has replaced it since (nothing of it is then stored)."""

    patient_id: int
    registry_id: str
    case_version_id: int
    version: int
    case_text: str
    scans: tuple[ScanData, ...]
    latest: StoredView | None
    routine: RoutineFacts | None = None
    replaced: bool = False


@dataclass(frozen=True, slots=True)
class _Task:
    patients: tuple[_Patient, ...]
    on_date: dt.date
    settings: Settings
    knowledge: Knowledge | None  # None: the default knowledge (loaded by the worker)


@dataclass(frozen=True, slots=True)
class _Result:
    """One patient re-assessed: the new state, and the change and the assessment to store
    (or why the case is not evaluable)."""

    patient_id: int
    registry_id: str
    case_version_id: int
    version: int
    state: StateData
    problem: str | None = None
    change: Change | None = None
    changed: bool = False
    new: AssessmentData | None = None
    replaced: bool = False


def _stopped(p: _Patient, on_date: dt.date) -> str | None:
    """Why the patient's routine surveillance has stopped as of ``on_date``, as the
    worklist of that date says it (:func:`~pecoma.registry.routine.routine_of`, with the
    last scan done by then), or ``None``."""
    if p.routine is None:
        return None
    done = done_by(p.scans, on_date)
    r = routine_of(p.routine, done[-1].performed_on if done else None)
    if r.stop is None:
        return None
    return f"{'suspended' if r.stop == 'suspended' else 'left surveillance'} ({r.reason})"


def _reassess_patients(task: _Task) -> list[_Result]:
    """The engine's part of :func:`reassess` for some patients (pure: may run in a worker
    process)."""
    out: list[_Result] = []
    on_date, settings, knowledge = task.on_date, task.settings, task.knowledge
    for p in task.patients:
        ids = (p.patient_id, p.registry_id, p.case_version_id, p.version)
        data = json.loads(p.case_text)
        try:
            case = parse_case(data, source="stored case")
            a = assess(case, on_date, settings, knowledge)
        except InputError as exc:
            out.append(_Result(*ids, compute_state(data, p.scans, on_date, settings, knowledge),
                               problem="; ".join(str(i) for i in exc.issues),
                               replaced=p.replaced))
            continue
        planned = plan_and_state(case, a, on_date, p.scans, settings, knowledge)
        wl = planned.state
        if planned.problem is not None:
            out.append(_Result(*ids, wl, problem=planned.problem, replaced=p.replaced))
            continue
        due, instead = planned.due, _stopped(p, on_date)
        if instead is not None:
            due = None  # no next visit for a patient out of routine surveillance
        elif due is None:
            now = planned.now
            word = "suspended" if now.plan_status == "suspended" else "no plan"
            instead = f"{word} ({now.reason})"
        prev = p.latest
        before = set(prev.record_ids) if prev else set()
        after = set(a.record_ids())
        change = Change(
            registry_id=p.registry_id,
            added=tuple(sorted(after - before)),
            removed=tuple(sorted(before - after)),
            risk_before=prev.risk_group if prev else None,
            risk_after=a.risk.group,
            due_before=prev.next_due if prev else None,
            due_after=due,
            knowledge_before=prev.knowledge_version if prev else None,
            knowledge_after=a.knowledge_version,
            instead=instead,
        )
        changed = bool(change.added or change.removed or change.risk_changed
                       or change.due_changed)
        same_basis = prev is not None and (
            prev.knowledge_version, prev.engine_version, prev.settings_digest
        ) == (a.knowledge_version, a.engine_version, a.settings_digest)
        new = assessment_data(a, due, "reassess") \
            if (changed or not same_basis) and not p.replaced else None
        out.append(_Result(*ids, wl, None, change, changed, new, p.replaced))
    return out


def known_unchanged(p: PatientBasis, on_date: dt.date, basis: Versions) -> bool:
    """The patient's re-assessment as of ``on_date`` is known without the engine: nothing
    changed, no assessment to store, and its stored worklist state is the one it would
    compute.

    That is so when the latest stored assessment was made from the patient's latest case
    version as of ``on_date`` itself, with the same knowledge, engine and settings
    versions (the engine is deterministic: the same assessment again, the same records
    and risk), and the stored worklist state is usable as of ``on_date``
    (:func:`~pecoma.registry.state.is_usable`: from that case version and the scans as
    they are, its scan stamp the patient's, with these versions) with the stored
    assessment's next due date: an active plan whose next visit is due then, or a plan
    not drawn (no visit, no date) when the assessment has none. The plan is the same as
    of any date from the state's ``valid_from`` up to its ``valid_until``, which the
    stored worklist relies on as well. A suspended plan or a problem is assessed again.
    """
    a, state = p.latest, p.state_row.state
    return (
        a is not None
        and state is not None
        and p.case_version_id is not None
        and p.version == p.state_row.version  # the version current then is the latest
        and a.case_version_id == p.case_version_id
        and a.evaluated_on == on_date
        and (a.knowledge_version, a.engine_version, a.settings_digest) == basis
        and is_usable(p.state_row, on_date, basis)
        and state.plan_status in ("active", "not_drawn")
        and state.due == a.next_due
    )


def _tasks(
    repo: Repository,
    report: ReassessReport,
    on_date: dt.date,
    settings: Settings,
    knowledge: Knowledge | None,
    basis: Versions,
    facts: dict[str, RoutineFacts],
    stamps: dict[int, int],
) -> Iterator[_Task]:
    """Every patient with a case, page by page in registry-id order: those known unchanged
    are counted in ``report``; the others are read with their cases and given as tasks of
    :data:`TASK_PATIENTS` (gathered over pages: a few patients a page make one task).
    ``facts``: the routine facts of the patients with an outcome that can stop routine
    surveillance (never known unchanged: an outcome recorded since may have). ``stamps``
    gets the scan stamp of each patient given, read with the page, before its scans: the
    state computed from them is stored with it (see
    :class:`~pecoma.store.repository.StateData`)."""
    after: str | None = None
    ready: list[_Patient] = []
    while page := repo.patient_bases(after, PAGE_PATIENTS, on_date):
        after = page[-1].registry_id
        todo: list[PatientBasis] = []
        for p in page:
            if p.case_version_id is None or p.version is None:
                continue  # no case (as of the date): nothing to assess
            if p.registry_id not in facts and known_unchanged(p, on_date, basis):
                report.patients += 1
                report.unchanged += 1
            else:
                todo.append(p)
        stamps.update((p.patient_id, p.state_row.scan_stamp) for p in todo)
        cases = repo.case_texts([(p.patient_id, cast(int, p.case_version_id)) for p in todo])
        ready += [
            _Patient(p.patient_id, p.registry_id, cast(int, p.case_version_id),
                     cast(int, p.version), *cases[p.patient_id], p.latest,
                     facts.get(p.registry_id), p.version != p.state_row.version)
            for p in todo if p.patient_id in cases
        ]
        while len(ready) >= TASK_PATIENTS:
            yield _Task(tuple(ready[:TASK_PATIENTS]), on_date, settings, knowledge)
            del ready[:TASK_PATIENTS]
    if ready:
        yield _Task(tuple(ready), on_date, settings, knowledge)


def reassess(
    repo: Repository,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    *,
    knowledge: Knowledge | None = None,
    store: bool = True,
    workers: int = 1,
) -> ReassessReport:
    """Assess every latest case again; list what changed; store the new assessments.

    The registry is read a page at a time and what changed is stored every
    :data:`WRITE_PATIENTS` patients, each time in one transaction: memory stays that of a
    few pages, whatever the size of the registry. A patient :func:`known_unchanged` is
    not assessed again (and nothing of it is written: its stored state is current).
    ``workers`` above 1: the engine work is shared by that many worker processes
    (:mod:`pecoma.registry.workers`) when there are two full tasks or more; the report
    and what is stored are the same.
    """
    given = knowledge
    knowledge = knowledge or load_knowledge()
    report = ReassessReport(on_date, knowledge.version, settings.digest())
    new: list[tuple[int, int, AssessmentData]] = []
    states: list[tuple[int, int, StateData]] = []

    def flush() -> None:
        if store and (new or states):
            # the worklist states are refreshed too, in the same transaction
            report.stored += repo.add_assessments(new, actor, states)
        new.clear()
        states.clear()

    # who may have left routine surveillance, as the worklist of the date reads it
    facts = repo.routine_facts(on_date)
    stamps: dict[int, int] = {}  # patient id -> scan stamp read before its scans
    tasks = _tasks(repo, report, on_date, settings, given, versions(settings, knowledge),
                   facts, stamps)
    # worker processes only for two full tasks or more (starting them costs more than
    # the engine work of a few hundred patients)
    first = list(itertools.islice(tasks, 2))
    if len(first) < 2 or len(first[1].patients) < TASK_PATIENTS:
        workers = 1
    with runner(_reassess_patients, workers) as run:
        for results in run(itertools.chain(first, tasks)):
            for r in results:
                report.patients += 1
                stamp = stamps.pop(r.patient_id)
                if not r.replaced:  # a replaced version's state is not the patient's
                    states.append((r.patient_id, r.version,
                                   replace(r.state, scan_stamp=stamp)))
                if r.change is None:
                    report.not_evaluable.append((r.registry_id, r.problem or ""))
                    continue
                if r.changed:
                    report.changes.append(r.change)
                else:
                    report.unchanged += 1
                if r.new is not None:
                    new.append((r.patient_id, r.case_version_id, r.new))
            if len(states) >= WRITE_PATIENTS:
                flush()
    flush()
    return report
