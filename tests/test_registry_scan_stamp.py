"""A worklist state computed outside the write that stores it is stored only if the
patient's scans did not change in between, even when they changed back to as many.

A re-assessment, an import and the case form read a patient's scans, compute the state
and store it later, in another transaction. Each state carries the patient's scan stamp
read before its scans: the number of scans ever recorded for the patient plus the number
withdrawn as entered in error. Neither ever decreases, so a stamp equal to the one at the
write means nothing was recorded or withdrawn in between. The number of live scans was
not enough: a scan withdrawn and another recorded meanwhile left it as it was, and a
state built on the withdrawn scan was stored and then trusted as current.

Each race is made deterministic: the registry read that gives the scans is followed, once,
by a clerk's withdrawal and new scan, each through the repository's own write.

The patient of every test: P-1, indeterminate risk (necrosis unknown), resected on
2026-05-15 and followed as high risk (I1): visit 1's window is 2026-08-15 to 2026-09-15,
visit 2's 2026-11-20 to 2026-12-20. Scan B, a chest CT of 2026-08-20 without evidence of
disease, did visit 1. Scan A, a chest CT of 2026-11-20 without evidence of disease, was
typed into P-1's record by mistake (it is another patient's): with it visit 2 looks done
(the MRI of the primary, never done, is then owed on its own clock from its first
window, visit 1's, 2026-08-15 to 2026-09-15: overdue, with A as the last scan). The
clerk withdraws A and records C, P-1's MRI of the primary tumour of 2026-08-20 (visit
1, recorded late). With B and C, as with B
alone, visit 2 is due on 2026-11-28 (its window is open; S21: chest CT in high-risk
surveillance): the worklist must say so, never "done" (missed surveillance).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pecoma.registry import reassess as module
from pecoma.registry.importer import import_file
from pecoma.registry.reassess import reassess
from pecoma.registry.service import record_case, record_scan, withdraw_entry
from pecoma.registry.state import compute_state
from pecoma.registry.worklist import WorkItem, stored_worklist
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.models import WorklistState

from registry_support import ON, db_url, indeterminate, repo, rows_of, variant, write_csv

__all__ = ["db_url", "repo"]

RECORDED = dt.date(2026, 6, 1)
"""The day P-1's case was recorded (after its surgery): a re-assessment as of ``ON`` is
made afresh, not known unchanged from the assessment stored then."""

DUE = (dt.date(2026, 11, 20), dt.date(2026, 12, 20))
"""Visit 2's window: due on ``ON`` with scans B and C."""


def scan(repo: Repository, day: str, modality: str = "chest_ct") -> int:
    sid = record_scan(repo, "P-1", day, modality, "no_evidence_of_disease", on_date=ON,
                      actor="radiology")
    assert sid is not None
    return sid


def patient(repo: Repository) -> int:
    """P-1 with scans B and A (see the module docstring); returns A's id."""
    record_case(repo, "P-1", indeterminate(), on_date=RECORDED, settings=default_settings(),
                actor="clinic", source="test")
    scan(repo, "2026-08-20")
    return scan(repo, "2026-11-20")


def clerk(repo: Repository, a: int) -> None:
    """Withdraw A and record C: two writes, each refreshing P-1's state (B and C)."""
    withdraw_entry(repo, "P-1", "scan", a, "entered in the record of another patient",
                   on_date=ON, actor="coordinator", settings=default_settings())
    scan(repo, "2026-08-20", "mri_primary")


def after_read(repo: Repository, monkeypatch: pytest.MonkeyPatch, method: str,
               a: int) -> None:
    """The repository's ``method``, a read that gives P-1's scans, followed once by the
    clerk's writes: the reader computes from A and B what it stores after them."""
    real = getattr(repo, method)
    done: list[bool] = []

    def read_then_clerk(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if not done:
            done.append(True)
            clerk(repo, a)
        return out

    monkeypatch.setattr(repo, method, read_then_clerk)


def row_of(repo: Repository) -> WorkItem:
    (item,) = stored_worklist(repo, ON, default_settings())
    return item


def assert_visit_2_due(repo: Repository) -> None:
    """The worklist, and P-1's stored state when there is one, from scans B and C."""
    item = row_of(repo)
    assert item.status.value == "due", item
    assert (item.due, item.latest) == DUE
    assert item.last_scan == dt.date(2026, 8, 20)
    (row,) = repo.state_rows()
    if row.state is not None:
        assert row.current
        assert (row.state.due, row.state.last_scan) == (DUE[0], dt.date(2026, 8, 20))


def engine_patients(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The registry ids handed to the engine by the re-assessments that follow."""
    seen: list[str] = []
    real = module._reassess_patients

    def counting(task: Any) -> Any:
        seen.extend(p.registry_id for p in task.patients)
        return real(task)

    monkeypatch.setattr(module, "_reassess_patients", counting)
    return seen


class TestReassess:
    def test_a_state_from_a_scan_withdrawn_meanwhile_is_not_stored(
        self, repo: Repository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The re-assessment reads P-1's scans A and B (case_texts) and plans visit 2
        done; meanwhile A is withdrawn and C recorded. Its state is not stored: the
        clerk's, from B and C (visit 2 due), stays, and stays current."""
        a = patient(repo)
        after_read(repo, monkeypatch, "case_texts", a)
        report = reassess(repo, ON, default_settings(), "registrar")
        assert report.patients == 1
        assert_visit_2_due(repo)
        (row,) = repo.state_rows()
        assert row.state is not None and row.current

    def test_the_next_reassessment_is_not_misled(
        self, repo: Repository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """After the race, a re-assessment as of the same date assesses P-1 again (the
        assessment stored by the raced run is not the state's) and stores the state
        from B and C; the one after it knows P-1 unchanged."""
        a = patient(repo)
        after_read(repo, monkeypatch, "case_texts", a)
        reassess(repo, ON, default_settings(), "registrar")
        monkeypatch.undo()
        seen = engine_patients(monkeypatch)
        reassess(repo, ON, default_settings(), "registrar")
        assert_visit_2_due(repo)
        again = reassess(repo, ON, default_settings(), "registrar")
        assert seen == ["P-1"]
        assert (again.patients, again.unchanged, again.stored) == (1, 1, 0)
        assert_visit_2_due(repo)

    def test_a_state_with_the_stamp_it_was_read_with_is_stored_and_used(
        self, repo: Repository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No race: P-1's scans A, B and C, A withdrawn (a stamp of 4: three scans
        recorded, one withdrawn, beside two live scans). The re-assessment stores its
        state, and the next one as of the same date runs no engine for P-1: the stored
        state is current, so nothing is recomputed needlessly."""
        a = patient(repo)
        clerk(repo, a)
        seen = engine_patients(monkeypatch)
        first = reassess(repo, ON, default_settings(), "registrar")
        assert (first.patients, seen) == (1, ["P-1"])
        (row,) = repo.state_rows()
        assert row.current and row.scan_stamp == 4
        assert row.state is not None and row.state.scan_stamp == 4
        again = reassess(repo, ON, default_settings(), "registrar")
        assert seen == ["P-1"]
        assert (again.patients, again.unchanged, again.stored) == (1, 1, 0)
        assert_visit_2_due(repo)


class TestImport:
    def test_a_state_from_a_scan_withdrawn_meanwhile_is_not_stored(
        self, repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An import of P-1's corrected case (a 25 mm tumour: still indeterminate, the
        same schedule) reads the registry's scans, A and B, and plans visit 2 done;
        meanwhile A is withdrawn and C recorded. The new case version is stored, its
        state is not: the worklist plans P-1 from B and C."""
        a = patient(repo)
        after_read(repo, monkeypatch, "scans_by_registry_id", a)
        path = write_csv(tmp_path / "cases.csv", rows_of(
            {"P-1": variant(indeterminate(), **{"tumour.size.value": 25})}))
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="import")
        assert report.committed and report.written is not None
        assert report.written.new_versions == 1
        (row,) = repo.state_rows()
        assert row.version == 2
        assert_visit_2_due(repo)

    def test_an_import_without_a_race_stores_its_state(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """The same import with A withdrawn and C recorded before it: the state it
        computed is stored, current with the stamp of 4."""
        a = patient(repo)
        clerk(repo, a)
        path = write_csv(tmp_path / "cases.csv", rows_of(
            {"P-1": variant(indeterminate(), **{"tumour.size.value": 25})}))
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="import")
        assert report.committed
        (row,) = repo.state_rows()
        assert row.version == 2 and row.current and row.scan_stamp == 4
        assert_visit_2_due(repo)


class TestCaseForm:
    def test_a_state_from_a_scan_withdrawn_meanwhile_is_not_stored(
        self, repo: Repository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A new case version recorded (the case form, ``add-case``) reads P-1's scans A
        and B; meanwhile A is withdrawn and C recorded. The version is stored, its state
        computed from A and B is not."""
        a = patient(repo)
        after_read(repo, monkeypatch, "state", a)
        result = record_case(repo, "P-1", variant(indeterminate(), **{"tumour.size.value": 25}),
                             on_date=ON, settings=default_settings(), actor="clinic",
                             source="test")
        assert result.new_versions == 1
        (row,) = repo.state_rows()
        assert row.version == 2
        assert_visit_2_due(repo)


class TestWriteTime:
    def test_put_states_refuses_a_state_read_before_a_withdrawal_and_a_new_scan(
        self, repo: Repository
    ) -> None:
        """The repository's own check, without a re-assessment around it: a state
        stamped when P-1's scans were A and B is refused once A is withdrawn and C
        recorded, though P-1 has two live scans either way; stamped again, it is
        stored."""
        a = patient(repo)
        st = repo.state("P-1")
        assert st is not None and st.case is not None and st.scan_stamp == 2
        early = replace(compute_state(st.case, st.scans, ON, default_settings()),
                        scan_stamp=st.scan_stamp)
        clerk(repo, a)
        assert repo.put_states([(st.patient_id, 1, early)]) == 0
        assert_visit_2_due(repo)
        now = repo.state("P-1")
        assert now is not None and now.case is not None and now.scan_stamp == 4
        fresh = replace(compute_state(now.case, now.scans, ON, default_settings()),
                        scan_stamp=now.scan_stamp)
        assert repo.put_states([(now.patient_id, 1, fresh)]) == 1

    def test_a_state_not_stamped_is_never_stored(self, repo: Repository) -> None:
        """A state as the engine gives it carries no stamp (``None``): it is never
        stored, whatever the scans, so a writer that forgets the stamp leaves the
        patient to be recomputed, never a stale state."""
        patient(repo)
        st = repo.state("P-1")
        assert st is not None and st.case is not None
        bare = compute_state(st.case, st.scans, ON, default_settings())
        assert bare.scan_stamp is None
        assert repo.put_states([(st.patient_id, 1, bare)]) == 0


class TestUpgrade:
    def test_a_state_stored_with_the_number_of_live_scans_is_replaced_by_reassess(
        self, repo: Repository
    ) -> None:
        """Before the stamp, the column held the number of live scans, and a race could
        store the state of scans A and B after A's withdrawal and C's recording (2 live
        scans either way). Such a row, left by an earlier release, shows visit 2 done by A
        (its MRI then owed); its 2 is not P-1's stamp (4), so it is not current, and one
        re-assessment replaces it with the state from B and C."""
        a = patient(repo)
        st = repo.state("P-1")
        assert st is not None and st.case is not None
        stale = replace(compute_state(st.case, st.scans, ON, default_settings()),
                        scan_stamp=2)
        clerk(repo, a)
        with repo.engine.begin() as conn:
            conn.execute(sa.delete(WorklistState))
            conn.execute(sa.insert(WorklistState).values(
                patient_id=st.patient_id, case_version=1, refreshed_at=dt.datetime(
                    2026, 11, 28, 10, tzinfo=dt.UTC), **stale.row()))
        # as the earlier release left it: from A and B (chest CTs alone), visit 2 done on
        # 2026-11-20 and the MRI, never done since the end of treatment (2026-05-15),
        # owed on its own clock from its first window, visit 1's (2026-08-15 to
        # 2026-09-15): overdue on ON (HAZ-438); not the state of B and C
        stale_row = row_of(repo)
        assert (stale_row.status.value, stale_row.due, stale_row.latest,
                stale_row.last_scan) == ("overdue", dt.date(2026, 8, 15),
                                         dt.date(2026, 9, 15), dt.date(2026, 11, 20))
        (row,) = repo.state_rows()
        assert not row.current
        reassess(repo, ON, default_settings(), "registrar")
        assert_visit_2_due(repo)
        (row,) = repo.state_rows()
        assert row.current and row.scan_stamp == 4
