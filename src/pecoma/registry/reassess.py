"""Re-assessment: every patient's latest case through the current knowledge and settings.

Each new assessment is compared with the patient's latest stored one; a patient is listed
when the knowledge records produced (added or removed), the risk group or the next due
date changed. A new assessment is stored (reason ``reassess``, unless asked not to) when
it differs, or when it was made with another knowledge, engine or settings version than
the stored one; an identical re-evaluation under the same versions adds no row. Every
patient's worklist state (:mod:`pecoma.registry.state`) is stored again with the current
versions, in the same transaction: after a change of knowledge, engine or settings this
is what brings the stored worklist up to date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.registry.state import compute_state, plan_and_state
from pecoma.registry.stored import assessment_data
from pecoma.registry.workers import runner
from pecoma.settings import Settings
from pecoma.store.repository import AssessmentData, PatientState, Repository, StateData

__all__ = ["Change", "ReassessReport", "reassess"]


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
            after = self.due_after.isoformat() if self.due_after else "(none)"
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


TASK_PATIENTS = 250
"""Patients per piece of engine work handed to a worker process."""


@dataclass(frozen=True, slots=True)
class _Task:
    patients: tuple[PatientState, ...]
    on_date: dt.date
    settings: Settings
    knowledge: Knowledge | None  # None: the default knowledge (loaded by the worker)


@dataclass(frozen=True, slots=True)
class _Result:
    """One patient re-assessed: the new state, and the change and the assessment to store
    (or why the case is not evaluable)."""

    patient_id: int
    version: int
    state: StateData
    problem: str | None = None
    change: Change | None = None
    changed: bool = False
    new: AssessmentData | None = None


def _reassess_patients(task: _Task) -> list[_Result]:
    """The engine's part of :func:`reassess` for some patients (pure: may run in a worker
    process)."""
    out: list[_Result] = []
    on_date, settings, knowledge = task.on_date, task.settings, task.knowledge
    for st in task.patients:
        if st.case is None or st.version is None:
            continue  # not given: the caller keeps patients with a case only
        try:
            case = parse_case(st.case, source="stored case")
            a = assess(case, on_date, settings, knowledge)
        except InputError as exc:
            out.append(_Result(st.patient_id, st.version,
                               compute_state(st.case, st.scans, on_date, settings, knowledge),
                               problem="; ".join(str(i) for i in exc.issues)))
            continue
        due, wl = plan_and_state(case, a, on_date, st.scans, settings, knowledge)
        prev = st.latest
        before = set(prev.record_ids) if prev else set()
        after = set(a.record_ids())
        change = Change(
            registry_id=st.registry_id,
            added=tuple(sorted(after - before)),
            removed=tuple(sorted(before - after)),
            risk_before=prev.risk_group if prev else None,
            risk_after=a.risk.group,
            due_before=prev.next_due if prev else None,
            due_after=due,
            knowledge_before=prev.knowledge_version if prev else None,
            knowledge_after=a.knowledge_version,
        )
        changed = bool(change.added or change.removed or change.risk_changed
                       or change.due_changed)
        same_basis = prev is not None and (
            prev.knowledge_version, prev.engine_version, prev.settings_digest
        ) == (a.knowledge_version, a.engine_version, a.settings_digest)
        new = assessment_data(a, due, "reassess") if changed or not same_basis else None
        out.append(_Result(st.patient_id, st.version, wl, None, change, changed, new))
    return out


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

    ``workers`` above 1: the engine work is shared by that many worker processes
    (:mod:`pecoma.registry.workers`); the report and what is stored are the same.
    """
    given = knowledge
    knowledge = knowledge or load_knowledge()
    report = ReassessReport(on_date, knowledge.version, settings.digest())
    new: list[tuple[int, int, AssessmentData]] = []
    states: list[tuple[int, int, StateData]] = []
    todo = [st for st in repo.states()
            if st.case is not None and st.case_version_id is not None
            and st.version is not None]
    if len(todo) < 2 * TASK_PATIENTS:
        workers = 1
    tasks = (_Task(tuple(todo[i:i + TASK_PATIENTS]), on_date, settings, given)
             for i in range(0, len(todo), TASK_PATIENTS))
    with runner(_reassess_patients, workers) as run:
        for results, task in zip(run(tasks), range(0, len(todo), TASK_PATIENTS), strict=True):
            for r, st in zip(results, todo[task:task + TASK_PATIENTS], strict=True):
                report.patients += 1
                states.append((r.patient_id, r.version, r.state))
                if r.change is None:
                    report.not_evaluable.append((st.registry_id, r.problem or ""))
                    continue
                if r.changed:
                    report.changes.append(r.change)
                else:
                    report.unchanged += 1
                if r.new is not None and st.case_version_id is not None:
                    new.append((st.patient_id, st.case_version_id, r.new))
    if store:
        # the worklist states are refreshed too, in the same transaction
        report.stored = repo.add_assessments(new, actor, states)
    return report
