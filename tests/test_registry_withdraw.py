"""Withdrawing a scan or an outcome entered in error.

A scan or an outcome recorded by mistake (a wrong date, examination or result, another
patient's) could not be corrected: the surveillance plan kept a visit done that was not,
counted the next visit from a wrong date, or kept routine visits suspended for a relapse
that never happened, unless someone edited the database by hand. Now an authorised user
withdraws the entry with the reason in words; the entry and the withdrawal stay in the
audit log (who, when, why), and every reader of the scans and outcomes leaves it out. A
correction is a withdrawal and a new entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from pecoma.errors import InputError
from pecoma.registry.columns import COLUMN_NAMES, flatten
from pecoma.registry.importer import ImportMode, ImportReport, import_file
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.service import record_case, record_scan, withdraw_entry
from pecoma.registry.worklist import WorkItem, stored_worklist
from pecoma.settings import default_settings
from pecoma.store import Repository, open_registry
from pecoma.store.tokens import TokenStore
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import ON, db_url, high_risk, indeterminate, repo, rows_of, write_csv

__all__ = ["db_url", "repo"]

WHY = "entered in the record of another patient"


def add(repo: Repository, rid: str, case: dict[str, object]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


def scan(repo: Repository, rid: str, day: str, finding: str = "no_evidence_of_disease",
         modality: str = "chest_ct") -> int:
    sid = record_scan(repo, rid, day, modality, finding, on_date=ON, actor="radiology")
    assert sid is not None
    return sid


def outcome(repo: Repository, rid: str, event: str, day: str, vital: str | None = None,
            found: str | None = None) -> int:
    (oid,) = record_outcome(repo, rid, event, day, vital, found, on_date=ON, actor="dr-a")
    return oid


def withdraw(repo: Repository, rid: str, kind: str, entry: object,
             reason: object = WHY) -> list[int]:
    return withdraw_entry(repo, rid, kind, entry, reason, on_date=ON, actor="coordinator",
                          settings=default_settings())


def row_of(repo: Repository, on: dt.date = ON) -> WorkItem:
    (item,) = stored_worklist(repo, on, default_settings())
    return item


def followed_twice(repo: Repository) -> int:
    """P-1: indeterminate risk, resected 2026-05-15, followed as high risk (I1), both
    examinations planned at a high-risk visit (chest CT, MRI of the primary: S21, S22)
    done at each, without evidence of disease: visit 1 (window 2026-08-15 to 2026-09-15)
    on 2026-08-20; visit 2 (window 2026-11-20 to 2026-12-20) on 2026-11-20, its chest CT
    recorded last. Returns that chest CT's id."""
    add(repo, "P-1", indeterminate())
    scan(repo, "P-1", "2026-08-20")
    scan(repo, "P-1", "2026-08-20", modality="mri_primary")
    scan(repo, "P-1", "2026-11-20", modality="mri_primary")
    return scan(repo, "P-1", "2026-11-20")


def audit_of(repo: Repository, entity: str, entity_id: int) -> list[tuple[str, str, dict]]:
    return [(e.action, e.actor, e.detail) for e in repo.audit()
            if (e.entity, e.entity_id) == (entity, entity_id)]


class TestScans:
    def test_a_withdrawn_clear_chest_ct_makes_the_visit_due_again(
            self, repo: Repository) -> None:
        """The chest CT of 2026-11-20 'no evidence of disease' was typed into this
        patient's record by mistake: the worklist showed visit 2 done and the next visit
        in February 2027. Withdrawn, the chest CT is due again on its own clock (its last
        scan 2026-08-20: window 2026-11-20 to 2026-12-20, open on 2026-11-28; S21: chest
        CT in high-risk surveillance), owed since visit 2, which the MRI of that day
        still did; the last scan is that MRI, as a full recomputation says too."""
        sid = followed_twice(repo)
        done = row_of(repo)
        assert done.status.value == "done" and done.last_scan == dt.date(2026, 11, 20)
        assert done.due == dt.date(2027, 2, 20)
        assert withdraw(repo, "P-1", "scan", sid) == [sid]
        again = row_of(repo)
        assert again.status.value == "due"
        assert (again.due, again.latest) == (dt.date(2026, 11, 20), dt.date(2026, 12, 20))
        assert again.last_scan == dt.date(2026, 11, 20)
        assert again.imaging == ("chest_ct",)
        assert ("chest CT owed since visit #2, the first visit done without it; "
                "last done 2026-08-20") in again.reason
        # the stored state was refreshed by the withdrawal itself, and it is current
        (state_row,) = repo.state_rows()
        # its scan stamp: four scans recorded and one withdrawn (three live scans)
        assert state_row.current and state_row.scan_stamp == 5
        assert state_row.state is not None and state_row.state.due == dt.date(2026, 11, 20)
        # every other reader of the scans leaves it out too
        left = [(dt.date(2026, 8, 20), "chest_ct"), (dt.date(2026, 8, 20), "mri_primary"),
                (dt.date(2026, 11, 20), "mri_primary")]
        assert sorted((s.performed_on, s.modality) for s in repo.timeline("P-1").scans) \
            == left
        assert repo.last_scan_dates(ON) == {"P-1": dt.date(2026, 11, 20)}
        assert sorted((s.performed_on, s.modality)
                      for s in repo.scans_by_registry_id()["P-1"]) == left
        assert repo.count()["imaging_event"] == 3
        assert sorted((r["performed_on"], r["modality"])
                      for r in repo.export()["imaging_events"]) == [
            (d.isoformat(), m) for d, m in left]
        # the survival and quality figures' cohort: its last scan is the last one left
        (cohort,) = repo.cohort_rows(ON)
        assert str(cohort[9])[:10] == "2026-11-20"

    def test_a_correction_is_a_withdrawal_and_a_new_entry(self, repo: Repository) -> None:
        """The scan of 2026-11-20 was really done on 2026-11-25: withdrawn and recorded
        again with its right date, visit 2 is done on 2026-11-25."""
        sid = followed_twice(repo)
        withdraw(repo, "P-1", "scan", sid, "wrong date: done on 2026-11-25")
        scan(repo, "P-1", "2026-11-25")
        item = row_of(repo)
        assert item.status.value == "done" and item.last_scan == dt.date(2026, 11, 25)
        # the same scan as the one withdrawn is a new entry, never 'already recorded'
        again = scan(repo, "P-1", "2026-11-20")
        assert again != sid

    def test_the_audit_log_holds_the_entry_and_its_withdrawal(self, repo: Repository) -> None:
        """Who recorded it and when, who withdrew it, when and why: both in the audit log,
        the scan's row kept (the table is append-only, the withdrawal too)."""
        sid = followed_twice(repo)
        withdraw(repo, "P-1", "scan", sid)
        entries = audit_of(repo, "imaging_event", sid)
        assert [(action, who) for action, who, _ in entries] == [
            ("create", "radiology"), ("withdraw", "coordinator")]
        detail = entries[1][2]
        assert detail["reason"] == WHY
        assert (detail["performed_on"], detail["modality"], detail["finding"]) == (
            "2026-11-20", "chest_ct", "no_evidence_of_disease")
        with repo.engine.connect() as conn:  # followed_twice's four scans
            assert conn.execute(sa.text("SELECT count(*) FROM imaging_event")).scalar() == 4
        (w,) = repo.withdrawals("P-1")
        assert (w.kind, w.entry_id, w.reason, w.withdrawn_by) == ("scan", sid, WHY,
                                                                  "coordinator")

    @pytest.mark.parametrize("verb", ["UPDATE entry_withdrawal SET reason = 'x'",
                                      "DELETE FROM entry_withdrawal"])
    def test_a_withdrawal_cannot_be_changed_or_deleted(self, repo: Repository,
                                                       verb: str) -> None:
        sid = followed_twice(repo)
        withdraw(repo, "P-1", "scan", sid)
        with pytest.raises(DBAPIError, match="append-only"), repo.engine.begin() as conn:
            conn.execute(sa.text(verb))

    def test_a_scan_that_found_a_recorded_relapse_is_withdrawn_after_it(
            self, repo: Repository) -> None:
        """A recurrence recorded as found at a scan would point at a scan no longer in
        use: the outcome is withdrawn first (the message says so)."""
        add(repo, "P-1", indeterminate())
        sid = scan(repo, "P-1", "2026-11-20", "local_recurrence", "mri_primary")
        oid = outcome(repo, "P-1", "local_recurrence", "2026-11-20", found="scheduled_scan")
        with pytest.raises(InputError) as e:
            withdraw(repo, "P-1", "scan", sid)
        (issue,) = e.value.issues
        assert issue.path == "scan" and f"(outcome {oid})" in issue.rule
        assert "withdraw that outcome first" in issue.rule
        withdraw(repo, "P-1", "outcome", oid)
        withdraw(repo, "P-1", "scan", sid)
        assert row_of(repo).status.value != "suspended"


class TestOutcomes:
    def test_a_withdrawn_relapse_lifts_the_suspension_it_caused(
            self, repo: Repository) -> None:
        """A distant metastasis recorded as an outcome the case does not hold suspends
        routine visits (S17, S27) with the critical alert; typed for the wrong patient,
        withdrawn, the patient is back on the routine plan (high risk, no scan yet:
        overdue for visit 1, I13) without the alert, on the page's reading too."""
        add(repo, "P-1", high_risk())
        before = row_of(repo)
        oid = outcome(repo, "P-1", "distant_metastasis", "2026-11-01", found="symptoms")
        suspended = row_of(repo)
        assert suspended.status.value == "suspended"
        assert "REGISTRY-DISEASE-NOT-IN-CASE" in [a.id for a in suspended.alerts]
        withdraw(repo, "P-1", "outcome", oid, "relapse of another patient")
        after = row_of(repo)
        assert after.status.value == before.status.value == "overdue"
        assert (after.due, after.reason) == (before.due, before.reason)
        assert "REGISTRY-DISEASE-NOT-IN-CASE" not in [a.id for a in after.alerts]
        assert repo.routine_facts(ON) == {}
        assert repo.routine_facts(ON, "P-1") == {}
        assert repo.timeline("P-1").outcomes == ()
        assert repo.outcomes() == {} and repo.outcomes_by_registry_id() == {}
        assert repo.export()["outcomes"] == []
        entries = audit_of(repo, "outcome_event", oid)
        assert [a for a, _, _ in entries] == ["create", "withdraw"]
        assert entries[1][2]["reason"] == "relapse of another patient"

    def test_a_withdrawn_death_brings_the_patient_back(self, repo: Repository) -> None:
        add(repo, "P-1", high_risk())
        oid = outcome(repo, "P-1", "death", "2026-09-01", "dead_of_disease")
        assert row_of(repo).status.value == "deceased"
        withdraw(repo, "P-1", "outcome", oid)
        assert row_of(repo).status.value == "overdue"
        assert repo.death_date("P-1") is None
        # and a scan after the date of the withdrawn death may be recorded
        scan(repo, "P-1", "2026-10-01")

    def test_withdrawing_an_outcome_withdraws_the_entries_it_corrected(
            self, repo: Repository) -> None:
        """A last contact 'alive with disease' corrected the same day to 'alive without
        disease' is two rows; the contact never happened: withdrawing the current entry
        withdraws the earlier one too, so that it does not come back (it suspended
        routine visits). Withdrawing the earlier one alone is refused, naming the later."""
        add(repo, "P-1", high_risk())
        first = outcome(repo, "P-1", "last_contact", "2026-10-01", "alive_with_disease")
        second = outcome(repo, "P-1", "last_contact", "2026-10-01", "alive_without_disease")
        with pytest.raises(InputError) as e:
            withdraw(repo, "P-1", "outcome", first)
        assert f"was corrected by outcome {second}" in e.value.issues[0].rule
        assert withdraw(repo, "P-1", "outcome", second) == [first, second]
        assert repo.timeline("P-1").outcomes == ()
        assert row_of(repo).status.value == "overdue"


class TestRefused:
    """Each refusal names the field and the value, and writes nothing."""

    def _nothing_written(self, repo: Repository, before: tuple[int, int]) -> None:
        assert repo.last_change() == before
        with repo.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM entry_withdrawal")).scalar() == 0

    def test_unknown_entry_lists_the_patients_entries(self, repo: Repository) -> None:
        sid = followed_twice(repo)
        add(repo, "P-2", high_risk())
        other = scan(repo, "P-2", "2026-11-01")
        before = repo.last_change()
        for entry in (9999, other):  # none, or another patient's
            with pytest.raises(InputError) as e:
                withdraw(repo, "P-1", "scan", entry)
            (issue,) = e.value.issues
            assert issue.path == "scan" and issue.value == str(entry)
            assert issue.rule.startswith("must be the id of one of the patient's scans: ")
            assert f"{sid} (2026-11-20, chest ct, no evidence of disease)" in issue.rule
        self._nothing_written(repo, before)

    def test_already_withdrawn(self, repo: Repository) -> None:
        sid = followed_twice(repo)
        withdraw(repo, "P-1", "scan", sid)
        before = repo.last_change()
        with pytest.raises(InputError) as e:
            withdraw(repo, "P-1", "scan", sid, "again")
        (issue,) = e.value.issues
        assert issue.path == "scan"
        assert issue.rule.startswith("is withdrawn already (on ")
        assert f"by coordinator: {WHY})" in issue.rule
        assert repo.last_change() == before

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_an_empty_reason(self, repo: Repository, reason: object) -> None:
        sid = followed_twice(repo)
        before = repo.last_change()
        with pytest.raises(InputError) as e:
            withdraw(repo, "P-1", "scan", sid, reason)
        assert [i.path for i in e.value.issues] == ["reason"]
        assert "why the entry is withdrawn" in e.value.issues[0].rule
        self._nothing_written(repo, before)
        assert row_of(repo).status.value == "done"

    def test_bad_kind_number_and_reason_are_all_named(self, repo: Repository) -> None:
        followed_twice(repo)
        with pytest.raises(InputError) as e:
            withdraw(repo, "P-1", "imaging", "twelve", "bad\x00text")
        assert [i.path for i in e.value.issues] == ["kind", "id", "reason"]
        assert e.value.issues[0].rule == "must be 'scan' or 'outcome'"

    def test_unknown_patient(self, repo: Repository) -> None:
        with pytest.raises(InputError) as e:
            withdraw(repo, "P-9", "outcome", 1)
        assert [i.path for i in e.value.issues] == ["registry_id"]


class TestImport:
    def test_re_importing_a_file_does_not_bring_back_a_withdrawn_outcome(
            self, repo: Repository, tmp_path: Path) -> None:
        """A file recorded a metastasis; it was withdrawn (another patient's). Importing
        the same file again would have recorded it once more, suspending routine visits
        again: the withdrawal stands and the report says why the cell was not recorded.
        A file not imported before that gives it is the source's current word: recorded
        again, and said so."""
        row = {**flatten(high_risk(), "P-1"),
               "outcome.distant_metastasis.date": "2026-11-01",
               "outcome.distant_metastasis.found_by": "symptoms"}
        columns = [*COLUMN_NAMES, "outcome.distant_metastasis.date",
                   "outcome.distant_metastasis.found_by"]

        def run(name: str) -> ImportReport:
            path = write_csv(tmp_path / name, [row], columns)
            return import_file(repo, path, on_date=ON, settings=default_settings(),
                               actor="import", mode=ImportMode.all_or_nothing)

        run("a.csv")
        (oid,) = [o.id for o in repo.timeline("P-1").outcomes]
        withdraw(repo, "P-1", "outcome", oid)
        again = run("a.csv")
        assert again.written is not None and again.written.new_outcomes == 0
        [note] = again.warnings
        assert (note.row, note.column) == (2, "outcome.distant_metastasis.date")
        assert note.rule == (
            "not recorded again: this distant metastasis on 2026-11-01 was withdrawn as "
            f"entered in error on 2026-11-28 by coordinator (reason: {WHY}), and "
            "re-importing a file does not undo a withdrawal; if it was withdrawn by mistake, "
            "record it again ('pecoma registry record-outcome' or the patient's page)")
        assert repo.timeline("P-1").outcomes == ()
        assert row_of(repo).status.value == "overdue"
        row["tumour.size.value"] = 8.0  # the same case, other bytes: a new file
        newer = run("b.csv")
        assert newer.written is not None and newer.written.new_outcomes == 1
        [note] = newer.warnings
        assert note.rule.startswith("recorded, bringing back an entry withdrawn as "
                                    "entered in error")
        assert [o.event for o in repo.timeline("P-1").outcomes] == ["distant_metastasis"]


# --- command line -----------------------------------------------------------------------


def test_cli_import_again_after_a_withdrawal(db_url: str, tmp_path: Path) -> None:
    """`pecoma registry import` of a file imported before, after the local recurrence it
    recorded was withdrawn and the case recorded again as recurrent: nothing written
    (right), but the row was told its outcomes 'are recorded already' and, next line,
    that the recurrence is not recorded. Now the row says its outcome was withdrawn and
    is not recorded again, and the cell says when, by whom, why and how to record it
    again; recording it again with record-outcome is allowed and restores it."""
    from test_registry_cli import no_traceback, pecoma

    db = ("--database-url", db_url)
    case = write_csv(tmp_path / "case.csv", [{
        "registry_id": "M-001", "tumour.primary_site": "soft_tissue",
        "stage.status": "localized", "diagnosis.date": "2021-06-20",
        "surgery.status": "performed", "surgery.date": "2021-07-20",
        "surgery.margin": "R0", "stage.lymph_nodes": "negative"}],
        ["registry_id", "tumour.primary_site", "stage.status", "diagnosis.date",
         "surgery.status", "surgery.date", "surgery.margin", "stage.lymph_nodes"])
    relapse = write_csv(tmp_path / "relapse.csv", [{
        "registry_id": "M-001", "tumour.primary_site": "soft_tissue",
        "stage.status": "localized", "outcome.local_recurrence.date": "2022-11-15",
        "outcome.local_recurrence.found_by": "symptoms"}],
        ["registry_id", "tumour.primary_site", "stage.status",
         "outcome.local_recurrence.date", "outcome.local_recurrence.found_by"])
    recurrent = write_csv(tmp_path / "recurrent.csv", [{
        "registry_id": "M-001", "tumour.primary_site": "soft_tissue",
        "stage.status": "recurrent", "diagnosis.date": "2021-06-20",
        "surgery.status": "performed", "surgery.date": "2021-07-20",
        "surgery.margin": "R0", "stage.lymph_nodes": "negative",
        "free_of_disease.since": "2023-01-15", "free_of_disease.by": "surgery"}],
        ["registry_id", "tumour.primary_site", "stage.status", "diagnosis.date",
         "surgery.status", "surgery.date", "surgery.margin", "stage.lymph_nodes",
         "free_of_disease.since", "free_of_disease.by"])
    for path, on in ((case, "2022-01-01"), (relapse, "2022-12-01"),
                     (recurrent, "2023-02-01")):
        r = pecoma("registry", "import", str(path), "--on", on, "--actor", "x", *db)
        assert r.returncode == 0, r.stderr
    reader = open_registry(db_url)
    try:
        (oid,) = [str(o.id) for o in reader.outcomes_by_registry_id()["M-001"]]
        r = pecoma("registry", "withdraw", "M-001", "--outcome", oid, "--reason",
                   "entered in error test", "--on", "2023-07-01", "--actor", "coordinator", *db)
        assert r.returncode == 0, r.stderr
        (w,) = reader.withdrawals("M-001")
        day = w.withdrawn_at.date().isoformat()
        r = pecoma("registry", "import", str(relapse), "--on", "2023-07-01", "--actor", "x", *db)
        no_traceback(r)
        assert r.returncode == 0, r.stderr
        assert "0 new case versions, 1 unchanged" in r.stdout
        said = " ".join((r.stdout + r.stderr).split())
        assert "recorded already" not in said
        assert (
            "row 2, column 'registry_id': row not imported again: this file was imported "
            "before and the row's outcome was withdrawn as entered in error since "
            "(outcome.local_recurrence.date) and is not recorded again (see its column); its "
            "case cells (stage.status) differ from the patient's case as the registry holds it "
            "now, version 2 (recorded on ") in said
        assert (
            "row 2, column 'outcome.local_recurrence.date': not recorded again: this local "
            f"recurrence on 2022-11-15 was withdrawn as entered in error on {day} by "
            "coordinator (reason: entered in error test), and re-importing a file does not "
            "undo a withdrawal; if it was withdrawn by mistake, record it again ('pecoma "
            "registry record-outcome' or the patient's page)") in said
        r = pecoma("registry", "record-outcome", "M-001", "--event", "local_recurrence",
                   "--date", "2022-11-15", "--found-by", "symptoms", "--on", "2023-07-01",
                   "--actor", "coordinator", *db)
        assert r.returncode == 0, r.stderr
        assert [o.event for o in reader.outcomes_by_registry_id()["M-001"]] == [
            "local_recurrence"]
    finally:
        reader.close()



def test_cli_withdraw(db_url: str, tmp_path: Path) -> None:
    """`pecoma registry withdraw` withdraws, says so, and refuses with exit 3 and the
    field named an entry withdrawn already or an empty reason; neither --scan nor
    --outcome is wrong usage (2). Never a traceback."""
    from test_registry_cli import no_traceback, pecoma

    db = ("--database-url", db_url)
    good = write_csv(tmp_path / "c.csv", rows_of({"PEC-0001": indeterminate()}))
    assert pecoma("registry", "import", str(good), "--on", "2026-11-28", *db).returncode == 0
    # both examinations planned at a high-risk visit (S21, S22) at each of two visits
    for day in ("2026-08-20", "2026-11-20"):
        for modality in ("mri_primary", "chest_ct"):
            r = pecoma("registry", "record-scan", "PEC-0001", "--date", day, "--modality",
                       modality, "--finding", "no_evidence_of_disease", "--on",
                       "2026-11-28", *db)
            assert r.returncode == 0, r.stderr
    r = pecoma("registry", "worklist", "--on", "2026-11-28", "--format", "json", *db)
    assert json.loads(r.stdout)["items"][0]["status"] == "done"
    audit = pecoma("registry", "audit", *db).stdout
    (sid,) = re.findall(r"imaging_event (\d+).*chest_ct.*2026-11-20", audit)
    r = pecoma("registry", "withdraw", "PEC-0001", "--scan", sid, "--reason", WHY,
               "--on", "2026-11-28", "--actor", "coordinator", *db)
    assert r.returncode == 0, r.stderr
    assert f"scan {sid} withdrawn as entered in error" in r.stdout
    r = pecoma("registry", "worklist", "--on", "2026-11-28", "--format", "json", *db)
    (item,) = json.loads(r.stdout)["items"]
    assert (item["status"], item["due"]) == ("due", "2026-11-20")
    r = pecoma("registry", "withdraw", "PEC-0001", "--scan", sid, "--reason", "again", *db)
    assert r.returncode == 3
    no_traceback(r)
    assert "'scan' is withdrawn already" in r.stderr + r.stdout
    r = pecoma("registry", "withdraw", "PEC-0001", "--outcome", "1", "--reason", " ", *db)
    assert r.returncode == 3
    assert "'reason' must say in words" in r.stderr + r.stdout
    r = pecoma("registry", "withdraw", "PEC-0001", "--reason", "x", *db)
    assert r.returncode == 2
    no_traceback(r)
    audit = pecoma("registry", "audit", *db).stdout
    assert re.search(rf"coordinator\s+│\s+withdraw\s+│\s+imaging_event {sid}", audit)


# --- web --------------------------------------------------------------------------------


@pytest.fixture
def client(repo: Repository) -> Iterator[TestClient]:
    followed_twice(repo)
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        yield c


class TestWeb:
    def test_a_form_per_entry_and_the_withdrawal_seen(self, client: TestClient,
                                                      repo: Repository) -> None:
        sid = max(s.id for s in repo.timeline("P-1").scans)
        page = client.get("/registry/patients/P-1").text
        # one form per scan: followed_twice's four
        assert page.count('action="/registry/patients/P-1/withdraw"') == 4
        assert f'name="id" value="{sid}"' in page and 'name="reason"' in page
        r = client.post("/registry/patients/P-1/withdraw", data={
            "kind": "scan", "id": str(sid), "reason": WHY}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/registry/patients/P-1?recorded=withdrawn"
        page = client.get("/registry/patients/P-1").text
        assert "Withdrawn as entered in error" in page and WHY in page
        assert page.count('action="/registry/patients/P-1/withdraw"') == 3
        assert "Due (window open)" in page
        worklist = client.get("/registry/worklist.csv").text
        assert ",due," in worklist

    def test_errors_named_next_to_the_field(self, client: TestClient,
                                            repo: Repository) -> None:
        sid = max(s.id for s in repo.timeline("P-1").scans)
        r = client.get(f"/registry/patients/P-1/withdraw?kind=scan&id={sid}")
        assert r.status_code == 200
        assert f"Scan {sid}: 2026-11-20, chest CT, No evidence of disease" in r.text
        assert client.get("/registry/patients/P-9/withdraw").status_code == 404
        before = repo.last_change()
        r = client.post("/registry/patients/P-1/withdraw", data={
            "kind": "scan", "id": str(sid), "reason": "  "})
        assert r.status_code == 422
        assert 'id="withdraw-reason-err"' in r.text and "why the entry is withdrawn" in r.text
        assert "2026-11-20" in r.text  # the entry shown with its form
        r = client.post("/registry/patients/P-1/withdraw", data={
            "kind": "scan", "id": "9999", "reason": WHY})
        assert r.status_code == 422
        assert "must be the id of one of the patient&#39;s scans" in r.text
        assert "(got 9999)" in r.text
        assert repo.last_change() == before
        client.post("/registry/patients/P-1/withdraw", data={
            "kind": "scan", "id": str(sid), "reason": WHY})
        r = client.post("/registry/patients/P-1/withdraw", data={
            "kind": "scan", "id": str(sid), "reason": WHY})
        assert r.status_code == 422 and "is withdrawn already" in r.text

    def test_a_cross_site_withdrawal_is_refused(self, client: TestClient,
                                                repo: Repository) -> None:
        sid = max(s.id for s in repo.timeline("P-1").scans)
        before = repo.last_change()
        r = client.post("/registry/patients/P-1/withdraw", data={
            "kind": "scan", "id": str(sid), "reason": WHY},
            headers={"Origin": "http://evil.example"})
        assert r.status_code == 403
        assert repo.last_change() == before


def test_withdrawing_needs_the_clinician_role_in_server_mode(repo: Repository) -> None:
    """Server mode: a reader sees no withdraw form and is refused (403); a clinician
    withdraws, and the audit log names the token."""
    sid = followed_twice(repo)
    store = TokenStore(repo.engine)
    tokens = {role: store.create(f"{role} one", role, "setup")[1]
              for role in ("reader", "clinician")}
    app = create_app(WebConfig(auth="on"), today=lambda: ON)
    app.state.registry = repo
    data = {"kind": "scan", "id": str(sid), "reason": WHY}
    with TestClient(app, follow_redirects=False, base_url="http://localhost") as c:
        reader = {"Authorization": f"Bearer {tokens['reader']}"}
        page = c.get("/registry/patients/P-1", headers=reader).text
        assert "/withdraw" not in page
        assert c.post("/registry/patients/P-1/withdraw", data=data,
                      headers=reader).status_code == 403
        assert c.post("/registry/patients/P-1/withdraw", data=data).status_code == 401
        clinician = {"Authorization": f"Bearer {tokens['clinician']}"}
        assert c.post("/registry/patients/P-1/withdraw", data=data,
                      headers=clinician).status_code == 303
    (_create, (action, actor, _detail)) = audit_of(repo, "imaging_event", sid)
    assert action == "withdraw" and actor.startswith("token:") and "clinician one" in actor
