"""Re-assessment page by page, and the patients it need not assess again.

A patient whose latest stored assessment was made from its latest case version as of the
same date, with the same knowledge, engine and settings versions, and whose stored
worklist state is current, is known unchanged (:func:`known_unchanged`): the engine is
not run for it. These tests check that this changes nothing in the report or in what is
stored, against the same registry re-assessed with every patient through the engine, and
pin by hand the patients whose result changes with the evaluation date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry import reassess as module
from pecoma.registry.reassess import reassess
from pecoma.registry.service import record_case, record_scan
from pecoma.settings import default_settings, load_settings
from pecoma.store import Repository, open_registry

from registry_support import (
    ALL_ABSENT,
    ON,
    db_url,
    high_risk,
    indeterminate,
    low_risk,
    metastatic,
    repo,
    variant,
)

__all__ = ["db_url", "repo"]


def fill(repo: Repository, cases: dict[str, dict[str, Any]]) -> None:
    for rid, c in cases.items():
        record_case(repo, rid, c, on_date=ON, settings=default_settings(), actor="clinic",
                    source="test")


def scan(repo: Repository, rid: str, day: str, finding: str = "no_evidence_of_disease",
         modality: str = "chest_ct") -> None:
    record_scan(repo, rid, day, modality, finding, on_date=ON, actor="radiology")


def engine_patients(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The registry ids handed to the engine by the re-assessments that follow."""
    seen: list[str] = []
    real = module._reassess_patients

    def counting(task: Any) -> Any:
        seen.extend(p.registry_id for p in task.patients)
        return real(task)

    monkeypatch.setattr(module, "_reassess_patients", counting)
    return seen


def test_an_unchanged_registry_is_not_assessed_again_on_the_same_date(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    # P-1 active plan, P-2 no plan (metastatic disease), P-3 plan suspended by a
    # recurrence seen on a scan: every one assessed and stored as of ON by record_case
    fill(repo, {"P-1": high_risk(), "P-2": metastatic(), "P-3": high_risk()})
    scan(repo, "P-3", "2025-06-01", "local_recurrence")
    seen = engine_patients(monkeypatch)
    report = reassess(repo, ON, default_settings(), "registrar")
    # the recurrence found on 2025-06-01 suspends P-3's surveillance: no next visit
    # (its stored assessment had the first visit, due 2025-04-10)
    assert seen == ["P-3"]
    (change,) = report.changes
    assert (change.registry_id, change.due_before, change.due_after) == (
        "P-3", dt.date(2025, 4, 10), None)
    assert (report.patients, report.unchanged, report.stored) == (3, 2, 1)
    # again: P-1 and P-2 known unchanged; a suspended plan is always assessed again
    seen.clear()
    again = reassess(repo, ON, default_settings(), "registrar")
    assert seen == ["P-3"]
    assert (again.patients, again.unchanged, again.changes, again.stored) == (3, 3, [], 0)
    # another date: the stored assessments were made as of ON, so every patient is
    # assessed again (and nothing changed)
    seen.clear()
    later = reassess(repo, ON + dt.timedelta(days=1), default_settings(), "registrar")
    assert seen == ["P-1", "P-2", "P-3"]
    assert (later.patients, later.unchanged, later.changes, later.stored) == (3, 3, [], 0)


def test_a_scan_after_the_evaluation_date_changes_the_due_date_with_the_date(
    repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By hand: high risk, surgery 2025-01-10, first visit due 2025-04-10; chest CT and
    MRI of 2025-04-12 do that visit, the next (3 months on) is due 2025-07-12. As of
    2025-04-11 the scans lie ahead: the first visit is still the next one, due 2025-04-10,
    as the worklist of that date says (a plan of a past date knows no later scan)."""
    record_case(repo, "P-1", high_risk(), on_date=dt.date(2025, 1, 10),
                settings=default_settings(), actor="clinic", source="test")
    for m in ("chest_ct", "mri_primary"):
        scan(repo, "P-1", "2025-04-12", modality=m)
    seen = engine_patients(monkeypatch)
    (first,) = reassess(repo, ON, default_settings(), "registrar").changes
    assert (first.due_before, first.due_after) == (dt.date(2025, 4, 10), dt.date(2025, 7, 12))
    assert seen == ["P-1"]  # the stored assessment's due date is not the state's
    # stored as of ON with the new due date: the same date again is known unchanged
    seen.clear()
    again = reassess(repo, ON, default_settings(), "registrar")
    assert (seen, again.changes, again.unchanged, again.stored) == ([], [], 1, 0)
    # as of the day before the scans: the first visit is due again; stored (it changed)
    before = reassess(repo, dt.date(2025, 4, 11), default_settings(), "registrar")
    (change,) = before.changes
    assert (change.due_before, change.due_after, before.stored) == (
        dt.date(2025, 7, 12), dt.date(2025, 4, 10), 1)
    assert change.describe() == "next due 2025-07-12 -> 2025-04-10"
    # back to ON: the latest stored assessment is of 2025-04-11, so P-1 is assessed
    # again, and the due date after the scans is back
    seen.clear()
    back = reassess(repo, ON, default_settings(), "registrar")
    (change,) = back.changes
    assert seen == ["P-1"]
    assert (change.due_before, change.due_after, back.stored) == (
        dt.date(2025, 4, 10), dt.date(2025, 7, 12), 1)


def test_a_case_recorded_after_the_evaluation_date_is_not_reassessed_until_then(
    repo: Repository,
) -> None:
    """By hand: the case (surgery on 2026-08-01) was recorded on ON: a re-assessment as
    of 2026-07-01 does not know it yet (never 'not evaluable' on a date of a case the
    registry did not hold then); as of ON (its assessment of record_case) it is
    assessed, and nothing changed."""
    fill(repo, {"P-1": high_risk("2026-08-01")})
    early = reassess(repo, dt.date(2026, 7, 1), default_settings(), "registrar")
    assert (early.patients, early.not_evaluable) == (0, [])
    on = reassess(repo, ON, default_settings(), "registrar")
    assert (on.not_evaluable, on.changes, on.unchanged) == ([], [], 1)


DATES = [ON, ON, dt.date(2025, 4, 11), ON + dt.timedelta(days=400), ON,
         ON + dt.timedelta(days=365 * 20), dt.date(2026, 7, 1), ON]


def test_pages_and_known_unchanged_patients_give_what_assessing_everyone_gives(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same registry twice, the same re-assessments in turn (several dates, settings
    changed and back), read 2 patients a page and stored 3 a transaction: once as the
    command runs, once with every patient through the engine. Same reports, same rows."""
    monkeypatch.setattr(module, "PAGE_PATIENTS", 2)
    monkeypatch.setattr(module, "TASK_PATIENTS", 2)
    monkeypatch.setattr(module, "WRITE_PATIENTS", 3)
    inclusive_path = tmp_path / "settings.toml"
    # the one change of S06's cut-off a file may make: exactly 5 cm counts
    inclusive_path.write_text("[engine]\nguideline_size_cm = { value = 5.0, inclusive = true }\n")
    inclusive = load_settings(inclusive_path)
    cases = {
        # exactly 5 cm, nothing else: low by default, high by size when 5 cm counts
        "P-1": variant(high_risk(), histology=dict(ALL_ABSENT), **{"tumour.size.value": 5.0}),
        "P-2": low_risk(),
        "P-3": high_risk(),
        "P-4": metastatic(),
        "P-5": indeterminate(),
        "P-6": high_risk("2026-08-01"),  # not evaluable before its surgery
        "P-7": high_risk(),
        # long past its plan's horizon
        "P-8": variant(low_risk("2010-03-01"), **{"diagnosis.date": "2010-02-20"}),
    }
    every = open_registry(f"sqlite:///{tmp_path / 'every.sqlite3'}")
    try:
        for r in (repo, every):
            fill(r, cases)
            scan(r, "P-3", "2025-04-12")
            scan(r, "P-3", "2025-04-12", modality="mri_primary")
            scan(r, "P-7", "2025-06-01", "local_recurrence")
            scan(r, "P-2", "2026-11-20")
        runs = [(day, default_settings()) for day in DATES]
        runs[4] = (ON, inclusive)
        runs.append((ON, inclusive))
        runs.append((ON, default_settings()))
        for day, settings in runs:
            got = reassess(repo, day, settings, "registrar")
            with monkeypatch.context() as m:
                m.setattr(module, "known_unchanged", lambda *_a: False)
                expected = reassess(every, day, settings, "registrar")
            assert got.to_jsonable() == expected.to_jsonable(), day
            assert repo.count() == every.count(), day
            states = {r.registry_id: r.state for r in repo.state_rows()}
            assert states == {r.registry_id: r.state for r in every.state_rows()}, day
            for rid in cases:
                mine, theirs = repo.state(rid), every.state(rid)
                assert mine is not None and theirs is not None
                assert mine.latest is not None and theirs.latest is not None
                assert (mine.latest.evaluated_on, mine.latest.record_ids,
                        mine.latest.next_due, mine.latest.settings_digest) == (
                    theirs.latest.evaluated_on, theirs.latest.record_ids,
                    theirs.latest.next_due, theirs.latest.settings_digest), (day, rid)
    finally:
        every.close()


def test_known_unchanged_needs_every_condition() -> None:
    """One patient known unchanged, then each condition broken in turn."""
    from dataclasses import replace

    from pecoma.registry.reassess import known_unchanged
    from pecoma.store.repository import PatientBasis, StateData, StateRow
    from pecoma.store.repository.records import StoredView

    basis = ("2026.12.2", "0.1.0", "abc")
    due = dt.date(2025, 4, 10)
    a = StoredView(7, 70, ON, *basis, "high", "localized", ("RISK-HIGH",), due, "import",
                   dt.datetime(2026, 11, 28, tzinfo=dt.UTC), "clinic")
    st = StateData(0, *basis, dt.date(2025, 1, 10), "active", "high", "localized", None, 1,
                   "year 1", due, dt.date(2025, 5, 10), ("chest_ct",), None, None,
                   "FU-HIGH-INTENSIVE", "guideline", "visit 1", ())
    row = StateRow(1, "P-1", 2, 0, 2, st)
    p = PatientBasis(1, "P-1", 70, 2, a, row)
    assert known_unchanged(p, ON, basis)
    not_drawn = replace(st, plan_status="not_drawn", due=None)
    assert known_unchanged(
        replace(p, latest=replace(a, next_due=None), state_row=replace(row, state=not_drawn)),
        ON, basis)
    broken = {
        "no stored assessment": replace(p, latest=None),
        "no stored state": replace(p, state_row=replace(row, state=None)),
        "assessment of an older case version": replace(p, latest=replace(a, case_version_id=69)),
        "assessment of another date": replace(
            p, latest=replace(a, evaluated_on=ON - dt.timedelta(days=1))),
        "other knowledge": replace(p, latest=replace(a, knowledge_version="2026.1.1")),
        "other engine": replace(p, latest=replace(a, engine_version="0.0.9")),
        "other settings": replace(p, latest=replace(a, settings_digest="def")),
        "state of an older case version": replace(p, state_row=replace(row, state_version=1)),
        "a scan recorded or withdrawn since the state": replace(
            p, state_row=replace(row, scan_stamp=1)),
        "state of other settings": replace(
            p, state_row=replace(row, state=replace(st, settings_digest="def"))),
        "state holds only from a later date": replace(
            p, state_row=replace(row, state=replace(st, valid_from=ON + dt.timedelta(days=1)))),
        # an owed examination's visit joined to the routine visit from the day after (HAZ-439)
        "state holds only up to an earlier date": replace(
            p, state_row=replace(row, state=replace(st, valid_until=ON - dt.timedelta(days=1)))),
        "alerts not known": replace(p, state_row=replace(row, state=replace(st, alerts=None))),
        "plan suspended": replace(
            p, state_row=replace(row, state=replace(st, plan_status="suspended", due=None)),
            latest=replace(a, next_due=None)),
        "not evaluable": replace(
            p, state_row=replace(row, state=replace(st, plan_status="not_evaluable", due=None)),
            latest=replace(a, next_due=None)),
        "due date not the stored one": replace(
            p, state_row=replace(row, state=replace(st, due=dt.date(2025, 7, 12)))),
    }
    for why, q in broken.items():
        assert not known_unchanged(q, ON, basis), why
