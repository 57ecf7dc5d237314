"""What the registry knows of a patient is never silently lost or contradicted: an import
row never turns the stored case's facts into unknown, no case is dated after a recorded
death, a recurrence re-entered to correct it is one recurrence, and no scan precedes the
diagnosis. Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.registry.columns import COLUMN_NAMES, flatten
from pecoma.registry.fhir_bulk import bulk_export
from pecoma.registry.importer import ImportMode, ImportReport, import_file
from pecoma.registry.omop import Demographics, omop_export
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.quality import plans_before_relapse, registry_quality
from pecoma.registry.service import record_case, record_scan, withdraw_entry
from pecoma.registry.stored import assessment_data
from pecoma.registry.worklist import evaluate, stored_worklist
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.repository import CaseSubmission, case_digest

from registry_support import ON, db_url, high_risk, low_risk, repo, write_csv

__all__ = ["db_url", "repo"]

REQUIRED = ["registry_id", "tumour.primary_site", "stage.status"]
CONTACT = ["outcome.last_contact.date", "outcome.last_contact.vital_status"]


def add(repo: Repository, rid: str, case: dict[str, Any]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


def run(repo: Repository, path: Path, rows: list[dict[str, Any]], columns: list[str],
        mode: ImportMode = ImportMode.all_or_nothing) -> ImportReport:
    write_csv(path, rows, columns)
    return import_file(repo, path, on_date=ON, settings=default_settings(), actor="import",
                       mode=mode)


def versions(repo: Repository, rid: str) -> int:
    t = repo.timeline(rid)
    assert t is not None
    return len(t.cases)


def worklist_row(repo: Repository, rid: str) -> Any:
    return next(r for r in stored_worklist(repo, ON, default_settings())
                if r.registry_id == rid)


class TestImportNeverMakesKnownFactsUnknown:
    def test_a_row_of_outcomes_with_only_the_required_cells_keeps_the_stored_case(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A file of last contacts (registry id, the required case cells, the outcome
        columns) replaced a high-risk patient's case with an almost empty one: risk
        indeterminate, no plan, off the overdue list. It now records the contact only."""
        add(repo, "PEC-1", high_risk())
        before = worklist_row(repo, "PEC-1")
        assert (before.status, before.risk_group) == ("overdue", "high")
        row = {"registry_id": "PEC-1", "tumour.primary_site": "uterus",
               "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_without_disease"}
        report = run(repo, tmp_path / "contacts.csv", [row], REQUIRED + CONTACT)
        assert report.issues == []
        w = report.written
        assert w is not None
        assert (w.new_versions, w.unchanged, w.new_outcomes) == (0, 1, 1)
        assert versions(repo, "PEC-1") == 1
        after = worklist_row(repo, "PEC-1")
        assert (after.status, after.risk_group, after.due) == (
            "overdue", "high", before.due)

    @pytest.mark.parametrize("mode", list(ImportMode))
    def test_a_row_leaving_stored_facts_empty_is_refused_naming_them(
        self, repo: Repository, tmp_path: Path, mode: ImportMode
    ) -> None:
        """A file of sizes only (other columns absent) would make the diagnosis, the
        histology and the surgery unknown: the row is refused naming those columns and
        how to proceed; all-or-nothing writes nothing, good-rows writes the other row."""
        add(repo, "PEC-1", high_risk())
        rows = [{"registry_id": "PEC-1", "tumour.primary_site": "uterus",
                 "stage.status": "localized", "tumour.size.value": "9",
                 "tumour.size.unit": "cm"},
                {"registry_id": "PEC-2", "tumour.primary_site": "kidney",
                 "stage.status": "localized", "tumour.size.value": "2",
                 "tumour.size.unit": "cm"}]
        report = run(repo, tmp_path / "sizes.csv", rows,
                     [*REQUIRED, "tumour.size.value", "tumour.size.unit"], mode)
        [issue] = report.issues
        assert issue.row == 2
        for column in ("diagnosis.date", "histology.necrosis", "surgery.date",
                       "surgery.margin", "immunohistochemistry.hmb45"):
            assert column in issue.column
        assert "tumour.size.value" not in issue.column
        assert "would become unknown" in issue.rule and "add-case" in issue.rule
        assert report.good == 1 and report.rejected_rows == [2]
        assert versions(repo, "PEC-1") == 1
        if mode is ImportMode.all_or_nothing:
            assert report.written is None and repo.timeline("PEC-2") is None
        else:
            assert report.written is not None and report.written.new_patients == 1
            assert report.written.new_versions == 1

    @pytest.mark.parametrize(("column", "value", "stored"), [
        ("tumour.primary_site", "kidney", "uterus"),    # written otherwise
        ("stage.status", "metastatic", "localized"),    # metastases found since
        ("stage.status", "recurrent", "localized"),
    ])
    def test_a_row_of_outcomes_differing_in_a_required_cell_names_that_cell(
        self, repo: Repository, tmp_path: Path, column: str, value: str, stored: str
    ) -> None:
        """Such a row had been refused as 'would become unknown', naming the dozen
        columns it rightly left empty and advising to leave them empty: the refusal now
        names the differing cell, the row's and the stored value, and how to record the
        outcome or a new case version. Nothing is written."""
        add(repo, "PEC-1", high_risk())
        row = {"registry_id": "PEC-1", "tumour.primary_site": "uterus",
               "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_with_disease", column: value}
        report = run(repo, tmp_path / "contacts.csv", [row], REQUIRED + CONTACT)
        [issue] = report.issues
        assert (issue.row, issue.column, issue.value) == (2, column, repr(value))
        assert f"differs from the stored case ('{stored}')" in issue.rule
        assert "must repeat the stored values" in issue.rule
        assert "record-outcome" in issue.rule and "add-case" in issue.rule
        assert "would become unknown" not in issue.rule
        assert report.written is None and versions(repo, "PEC-1") == 1
        assert "PEC-1" not in repo.outcomes_by_registry_id()

    def test_a_row_of_outcomes_may_change_a_case_that_knows_nothing_more(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A stored case of the required facts only loses nothing to a row that writes
        them otherwise: the row is its new version, as before."""
        add(repo, "PEC-1", {"tumour": {"primary_site": "uterus"},
                            "stage": {"status": "localized"}})
        row = {"registry_id": "PEC-1", "tumour.primary_site": "kidney",
               "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_without_disease"}
        report = run(repo, tmp_path / "contacts.csv", [row], REQUIRED + CONTACT)
        assert report.issues == []
        assert versions(repo, "PEC-1") == 2

    def test_a_cell_saying_unknown_is_taken_and_a_changed_value_is_no_loss(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Writing 'unknown' in a cell says so on purpose, and a corrected size is a
        change, not a loss: the whole row is a new case version."""
        add(repo, "PEC-1", high_risk())
        row = {**flatten(high_risk(), "PEC-1"), "histology.necrosis": "unknown",
               "tumour.size.value": 9}
        report = run(repo, tmp_path / "fix.csv", [row], list(COLUMN_NAMES))
        assert report.issues == []
        assert report.written is not None and report.written.new_versions == 1
        assert versions(repo, "PEC-1") == 2

    def test_outcomes_of_such_a_row_are_checked_against_the_stored_case(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """The row's own case knows no surgery, the stored one does: a local recurrence
        after the stored surgery is recorded; one before it (PEC-2) is refused in its
        cell, and good-rows still writes the first."""
        add(repo, "PEC-1", high_risk())
        add(repo, "PEC-2", low_risk())
        columns = [*REQUIRED, "outcome.local_recurrence.date",
                   "outcome.local_recurrence.found_by"]
        rows = [{"registry_id": "PEC-1", "tumour.primary_site": "uterus",
                 "stage.status": "localized", "outcome.local_recurrence.date": "2026-06-01",
                 "outcome.local_recurrence.found_by": "symptoms"},
                {"registry_id": "PEC-2", "tumour.primary_site": "kidney",
                 "stage.status": "localized", "outcome.local_recurrence.date": "2024-02-25",
                 "outcome.local_recurrence.found_by": "symptoms"}]
        report = run(repo, tmp_path / "relapses.csv", rows, columns, ImportMode.good_rows)
        assert [(i.row, i.column) for i in report.issues] == [
            (3, "outcome.local_recurrence.date")]
        assert "after the surgery (2024-03-01)" in report.issues[0].rule
        assert report.written is not None and report.written.new_outcomes == 1
        assert report.written.unchanged == 1 and report.good == 1
        stored = repo.outcomes_by_registry_id()
        assert [o.event for o in stored["PEC-1"]] == ["local_recurrence"]
        assert "PEC-2" not in stored
        assert versions(repo, "PEC-1") == versions(repo, "PEC-2") == 1


RELAPSE = ["outcome.local_recurrence.date", "outcome.local_recurrence.found_by"]


class TestRowsOfOutcomesAfterTheCaseChanged:
    """A row of outcomes only repeats the stored case's required cells. Once the case has
    a newer version (a relapse recorded as recurrent, free of disease again), a file of
    such rows imported before still holds the older cells."""

    def relapsed(self, repo: Repository, tmp_path: Path) -> Path:
        """PEC-1 (high risk, resected R0 2025-01-10) and PEC-2 (low risk): relapses.csv
        records PEC-1's local recurrence 2026-06-01 and PEC-2's last contact; then PEC-1's
        case is recorded again: recurrent, free of disease since 2026-08-01 (version 2)."""
        add(repo, "PEC-1", high_risk())
        add(repo, "PEC-2", low_risk())
        rows = [{"registry_id": "PEC-1", "tumour.primary_site": "uterus",
                 "stage.status": "localized", "outcome.local_recurrence.date": "2026-06-01",
                 "outcome.local_recurrence.found_by": "symptoms"},
                {"registry_id": "PEC-2", "tumour.primary_site": "kidney",
                 "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
                 "outcome.last_contact.vital_status": "alive_without_disease"}]
        report = run(repo, tmp_path / "relapses.csv", rows, REQUIRED + RELAPSE + CONTACT)
        assert report.issues == [] and report.written is not None
        assert report.written.new_outcomes == 2
        recurrent = high_risk()
        recurrent["stage"] = {**recurrent["stage"], "status": "recurrent"}
        recurrent["free_of_disease"] = {"since": "2026-08-01", "by": "surgery"}
        add(repo, "PEC-1", recurrent)
        assert versions(repo, "PEC-1") == 2
        return tmp_path / "relapses.csv"

    def test_the_same_file_again_changes_nothing_and_says_why(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """relapses.csv imported again, byte for byte: it was refused whole (exit 3),
        PEC-2's row with it, told that PEC-1's case records no surgery (it records the
        resection) and that its stage differs. It changes nothing, so it is imported:
        both rows unchanged, version 2 kept, no outcome recorded twice, and PEC-1's row
        named as not imported again, with the version that stays and the cell that
        differs."""
        path = self.relapsed(repo, tmp_path)
        before = repo.count()
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="import")
        assert report.issues == []
        assert report.written is not None
        assert (report.written.unchanged, report.written.new_versions,
                report.written.new_outcomes) == (2, 0, 0)
        [note] = report.warnings
        assert (note.row, note.column, note.value) == (2, "registry_id", "PEC-1")
        assert note.rule.startswith("row not imported again: this file was imported "
                                    "before and the row's outcomes are recorded already")
        assert "its case cells (stage.status) differ" in note.rule
        assert "version 2 (recorded on 2026-11-28)" in note.rule
        assert "surgery" not in note.rule
        assert versions(repo, "PEC-1") == 2
        assert repo.count() == before  # no patient, version, assessment, scan or audit
        assert [o.event for o in repo.outcomes_by_registry_id()["PEC-1"]] == [
            "local_recurrence"]

    def test_the_same_file_again_through_the_import_page(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """The web import page runs the same importer: the file imported again is
        imported (200, it answered 422 with nothing written), PEC-1's row named as not
        imported again."""
        from html import unescape

        from fastapi.testclient import TestClient

        from pecoma.web.app import create_app
        from pecoma.web.config import WebConfig

        path = self.relapsed(repo, tmp_path)
        app = create_app(WebConfig(), today=lambda: ON)
        app.state.registry = repo
        with TestClient(app, base_url="http://localhost") as c:
            r = c.post("/registry/import", data={"mode": "all-or-nothing"},
                       files={"file": ("relapses.csv", path.read_bytes(), "text/csv")})
        assert r.status_code == 200, r.text[:500]
        page = unescape(r.text)
        assert "row not imported again: this file was imported before" in page
        assert "update the case first" not in page
        assert versions(repo, "PEC-1") == 2

    WITHDRAWN_ROW = (
        "row not imported again: this file was imported before and the row's outcome was "
        "withdrawn as entered in error since (outcome.local_recurrence.date) and is not "
        "recorded again (see its column); its case cells (stage.status) differ from the "
        "patient's case as the registry holds it now, version 2 (recorded on 2026-11-28), "
        "and re-importing a file does not write an older case over a newer one: version 2 "
        "stays the current one, and nothing of the row was written")
    WITHDRAWN_CELL = (
        "not recorded again: this local recurrence on 2026-06-01 was withdrawn as entered "
        "in error on 2026-11-28 by coordinator (reason: another patient's recurrence), and "
        "re-importing a file does not undo a withdrawal; if it was withdrawn by mistake, "
        "record it again ('pecoma registry record-outcome' or the patient's page)")

    def withdrawn(self, repo: Repository, tmp_path: Path) -> Path:
        """relapses.csv as above, then PEC-1's local recurrence withdrawn as entered in
        error (the repository's clock says 2026-11-28)."""
        path = self.relapsed(repo, tmp_path)
        (oid,) = [o.id for o in repo.outcomes_by_registry_id()["PEC-1"]]
        withdraw_entry(repo, "PEC-1", "outcome", oid, "another patient's recurrence",
                       on_date=ON, actor="coordinator", settings=default_settings())
        assert "PEC-1" not in repo.outcomes_by_registry_id()
        return path

    def test_the_same_file_after_a_withdrawal_never_says_the_outcome_is_recorded(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """PEC-1's recurrence was withdrawn, then relapses.csv imported again: nothing is
        written and the withdrawal stands (right), but the row was told its outcomes
        'are recorded already' while its recurrence cell was told it is not recorded:
        two contradicting words for one row. The row now says its one outcome was
        withdrawn and is not recorded again, and the cell says when, by whom and why,
        and that recording it again (allowed: a withdrawal is never undone) restores it."""
        path = self.withdrawn(repo, tmp_path)
        before = repo.count()
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="import")
        assert report.issues == []
        assert report.written is not None
        assert (report.written.unchanged, report.written.new_versions,
                report.written.new_outcomes) == (2, 0, 0)
        assert [(n.row, n.column, n.value, n.rule) for n in report.warnings] == [
            (2, "registry_id", "PEC-1", self.WITHDRAWN_ROW),
            (2, "outcome.local_recurrence.date", "2026-06-01", self.WITHDRAWN_CELL)]
        assert repo.count() == before
        assert "PEC-1" not in repo.outcomes_by_registry_id()
        assert versions(repo, "PEC-1") == 2

    def test_a_row_with_one_outcome_withdrawn_and_one_recorded_says_both(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A row giving PEC-1's recurrence (withdrawn since) and a last contact (still
        recorded), imported a second time: the row says the withdrawn one is not recorded
        again and the other is recorded already; neither is written."""
        add(repo, "PEC-1", high_risk())
        row = {"registry_id": "PEC-1", "tumour.primary_site": "uterus",
               "stage.status": "localized", "outcome.local_recurrence.date": "2026-06-01",
               "outcome.local_recurrence.found_by": "symptoms",
               "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_without_disease"}
        first = run(repo, tmp_path / "both.csv", [row], REQUIRED + RELAPSE + CONTACT)
        assert first.issues == [] and first.written is not None
        assert first.written.new_outcomes == 2
        recurrent = high_risk()
        recurrent["stage"] = {**recurrent["stage"], "status": "recurrent"}
        recurrent["free_of_disease"] = {"since": "2026-08-01", "by": "surgery"}
        add(repo, "PEC-1", recurrent)
        (oid,) = [o.id for o in repo.outcomes_by_registry_id()["PEC-1"]
                  if o.event == "local_recurrence"]
        withdraw_entry(repo, "PEC-1", "outcome", oid, "another patient's recurrence",
                       on_date=ON, actor="coordinator", settings=default_settings())
        report = import_file(repo, tmp_path / "both.csv", on_date=ON,
                             settings=default_settings(), actor="import")
        assert report.issues == [] and report.written is not None
        assert report.written.new_outcomes == 0
        [note, cell] = report.warnings
        assert note.rule.startswith(
            "row not imported again: this file was imported before and of the row's "
            "outcomes, those withdrawn as entered in error since "
            "(outcome.local_recurrence.date) are not recorded again (see its column) and "
            "the others are recorded already; its case cells (stage.status) differ")
        assert cell.rule == self.WITHDRAWN_CELL
        assert [o.event for o in repo.outcomes_by_registry_id()["PEC-1"]] == [
            "last_contact"]

    def test_the_same_file_after_a_withdrawal_through_the_import_page(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """The web import page shows the same two words, and not the false 'recorded
        already'."""
        from html import unescape

        from fastapi.testclient import TestClient

        from pecoma.web.app import create_app
        from pecoma.web.config import WebConfig

        path = self.withdrawn(repo, tmp_path)
        app = create_app(WebConfig(), today=lambda: ON)
        app.state.registry = repo
        with TestClient(app, base_url="http://localhost") as c:
            r = c.post("/registry/import", data={"mode": "all-or-nothing"},
                       files={"file": ("relapses.csv", path.read_bytes(), "text/csv")})
        assert r.status_code == 200, r.text[:500]
        page = " ".join(unescape(r.text).split())
        assert self.WITHDRAWN_ROW in page
        assert self.WITHDRAWN_CELL in page
        assert "recorded already" not in page
        assert "PEC-1" not in repo.outcomes_by_registry_id()

    def test_a_new_file_with_such_a_row_is_told_the_one_true_thing(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A new file (a later contact) whose row still says localized is refused, as
        the docs say, naming stage.status: that alone. It was also told, falsely, that
        the case records no resection ('surgery.status is unknown: update the case
        first'), a cell the row left empty."""
        self.relapsed(repo, tmp_path)
        row = {"registry_id": "PEC-1", "tumour.primary_site": "uterus",
               "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_without_disease"}
        report = run(repo, tmp_path / "contacts.csv", [row], REQUIRED + CONTACT)
        [issue] = report.issues
        assert (issue.row, issue.column, issue.value) == (2, "stage.status", "'localized'")
        assert "differs from the stored case ('recurrent')" in issue.rule
        assert report.written is None

    def test_a_row_of_a_file_imported_before_with_an_outcome_not_recorded_is_refused(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A row refused when its file was first imported (good rows: its stage said
        metastatic, the case localized) is refused again when the file is imported
        again: its outcome was never recorded, so it is no repeat of anything."""
        add(repo, "PEC-1", high_risk())
        add(repo, "PEC-2", low_risk())
        rows = [{"registry_id": "PEC-1", "tumour.primary_site": "uterus",
                 "stage.status": "metastatic", "outcome.last_contact.date": "2026-10-01",
                 "outcome.last_contact.vital_status": "alive_with_disease"},
                {"registry_id": "PEC-2", "tumour.primary_site": "kidney",
                 "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
                 "outcome.last_contact.vital_status": "alive_without_disease"}]
        for _ in range(2):
            report = run(repo, tmp_path / "contacts.csv", rows, REQUIRED + CONTACT,
                         ImportMode.good_rows)
            [issue] = report.issues
            assert (issue.row, issue.column) == (2, "stage.status")
            assert "differs from the stored case ('localized')" in issue.rule
            assert report.warnings == []
        assert "PEC-1" not in repo.outcomes_by_registry_id()


class TestAllOrNothingReportsEveryProblemAtOnce:
    """An all-or-nothing import reports every problem of the file in one pass, the same
    as --good-rows does: a row that breaks the checks against the stored case is never
    counted good because another row had a bad cell; and still nothing is written."""

    def contacts(self, repo: Repository) -> list[dict[str, Any]]:
        add(repo, "PEC-1", high_risk())
        add(repo, "PEC-2", low_risk())
        # row 2: a contact, but the primary site differs from the stored case (uterus);
        # row 3: a contact whose vital status is no allowed value
        return [{"registry_id": "PEC-1", "tumour.primary_site": "soft_tissue",
                 "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
                 "outcome.last_contact.vital_status": "alive_without_disease"},
                {"registry_id": "PEC-2", "tumour.primary_site": "kidney",
                 "stage.status": "localized", "outcome.last_contact.date": "2026-10-01",
                 "outcome.last_contact.vital_status": "alive"}]

    def test_a_row_differing_from_the_stored_case_is_reported_with_a_bad_cell(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        rows = self.contacts(repo)
        report = run(repo, tmp_path / "contacts.csv", rows, REQUIRED + CONTACT)
        assert [(i.row, i.column) for i in report.issues] == [
            (2, "tumour.primary_site"), (3, "outcome.last_contact.vital_status")]
        assert "differs from the stored case ('uterus')" in report.issues[0].rule
        assert (report.rows, report.good, report.rejected_rows) == (2, 0, [2, 3])
        assert report.lines()[0] == (
            "contacts.csv: 2 rows read, 0 good, 2 rejected (all-or-nothing)")
        assert report.written is None
        assert repo.outcomes_by_registry_id() == {}
        # the same problems as good-rows mode gives (which writes nothing here either)
        good_rows = run(repo, tmp_path / "contacts.csv", rows, REQUIRED + CONTACT,
                        ImportMode.good_rows)
        assert good_rows.issues == report.issues

    def test_a_row_leaving_stored_facts_empty_is_reported_with_a_bad_cell(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A file without surgery.margin, one row with a blank size: the rows of stored
        patients that would lose their margin are named at once, with the size."""
        add(repo, "PEC-1", high_risk())
        add(repo, "PEC-2", high_risk())
        columns = [c for c in COLUMN_NAMES if c != "surgery.margin"]
        rows = [flatten(high_risk(), "PEC-1"), flatten(high_risk(), "PEC-2"),
                {**flatten(low_risk(), "PEC-3"), "tumour.size.value": ""}]
        report = run(repo, tmp_path / "cases.csv", rows, columns)
        assert [(i.row, i.column) for i in report.issues] == [
            (2, "surgery.margin"), (3, "surgery.margin"), (4, "tumour.size.value")]
        assert all("would become unknown" in i.rule for i in report.issues[:2])
        assert (report.rows, report.good, report.rejected_rows) == (3, 0, [2, 3, 4])
        assert report.written is None and repo.timeline("PEC-3") is None
        good_rows = run(repo, tmp_path / "cases.csv", rows, columns, ImportMode.good_rows)
        assert good_rows.issues == report.issues

    def test_a_header_error_rejects_every_row_read(self, repo: Repository,
                                                   tmp_path: Path) -> None:
        """A header without a required column refuses the whole file: every row read is
        rejected, and the counts say so (rows read = good + rejected)."""
        rows = [flatten(high_risk(), "PEC-1"), flatten(low_risk(), "PEC-2")]
        columns = [c for c in COLUMN_NAMES if c != "stage.status"]
        report = run(repo, tmp_path / "cases.csv", rows, columns)
        assert [i.row for i in report.issues] == [1]
        assert report.lines()[0] == "cases.csv: 2 rows read, 0 good, 2 rejected (all-or-nothing)"
        assert report.to_jsonable()["rejected_rows"] == [2, 3]


class TestNoCaseAfterDeath:
    def died(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        record_outcome(repo, "PEC-1", "death", "2025-09-01", "dead_of_disease", on_date=ON,
                       actor="dr-a")

    def later(self) -> dict[str, Any]:
        c = high_risk(surgery="2025-10-31")
        c["diagnosis"]["date"] = "2025-10-15"
        return c

    def test_an_import_row_dated_after_the_death_is_refused(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Died 2025-09-01; a new case diagnosed 2025-10-15 was stored and the OMOP
        export wrote a period ending before it started: each date is now refused."""
        self.died(repo)
        report = run(repo, tmp_path / "later.csv", [flatten(self.later(), "PEC-1")],
                     list(COLUMN_NAMES))
        assert [(i.row, i.column, i.value) for i in report.issues] == [
            (2, "diagnosis.date", "2025-10-15"), (2, "surgery.date", "2025-10-31")]
        assert all("after the recorded death (2025-09-01)" in i.rule for i in report.issues)
        assert report.written is None and versions(repo, "PEC-1") == 1

    def test_a_case_recorded_after_the_death_is_refused(self, repo: Repository) -> None:
        """``add-case`` (and the web form) go through the same check."""
        self.died(repo)
        with pytest.raises(InputError) as e:
            add(repo, "PEC-1", self.later())
        assert [i.path for i in e.value.issues] == ["diagnosis.date", "surgery.date"]
        assert versions(repo, "PEC-1") == 1

    def test_a_case_dated_before_the_death_is_taken(self, repo: Repository) -> None:
        """Correcting a deceased patient's size is no follow-up after death."""
        self.died(repo)
        c = high_risk()
        c["tumour"]["size"]["value"] = 9
        add(repo, "PEC-1", c)
        assert versions(repo, "PEC-1") == 2

    def test_an_operation_known_by_its_latest_day_after_the_death_is_taken(
        self, repo: Repository
    ) -> None:
        """Died 2025-09-01; the resection known only as done on or before 2025-10-31
        ('surgery.date_on_or_before', e.g. the last day of an age) may have been done
        before the death: not refused as treatment after it, as 'surgery.date' would be."""
        self.died(repo)
        c = high_risk()
        del c["surgery"]["date"]
        c["surgery"]["date_on_or_before"] = "2025-10-31"
        add(repo, "PEC-1", c)
        assert versions(repo, "PEC-1") == 2

    def test_omop_never_writes_a_period_ending_before_it_starts(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A registry holding such a case from before (stored without the check) has the
        patient left out of OMOP and counted, never an inverted observation period."""
        self.died(repo)
        case = self.later()
        a = assess(parse_case(case), ON, default_settings())
        repo.add_cases([CaseSubmission("PEC-1", case, case_digest(case), "legacy",
                                       assessment_data(a, None, "case"))], "old")
        add(repo, "PEC-2", low_risk())
        ex = omop_export(repo, tmp_path, {"PEC-1": Demographics("female", 1970),
                                          "PEC-2": Demographics("male", 1960)}, ON)
        assert ex.left_out == {"death recorded before the diagnosis or surgery date": 1}
        lines = (tmp_path / "observation_period.csv").read_text().splitlines()[1:]
        assert len(lines) == 1
        _id, _person, start, end, _type = lines[0].split(",")
        assert start <= end


class TestCorrectedRecurrence:
    def test_the_same_recurrence_re_entered_corrects_it(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Entered found by symptoms, re-entered found by 'other': one recurrence, found
        by 'other', in every reader (quality figures, OMOP episodes, FHIR statuses)."""
        add(repo, "PEC-1", high_risk())
        for found in ("symptoms", "other"):
            assert record_outcome(repo, "PEC-1", "local_recurrence", "2026-02-01", None,
                                  found, on_date=ON, actor="dr-a")
        [o] = repo.outcomes_by_registry_id()["PEC-1"]
        assert (o.event, o.found_by) == ("local_recurrence", "other")
        assert [[x.found_by for x in v] for v in repo.outcomes().values()] == [["other"]]
        t = repo.timeline("PEC-1")
        assert t is not None and [x.found_by for x in t.outcomes] == ["other"]
        omop_export(repo, tmp_path, {"PEC-1": Demographics("female", 1970)}, ON)
        episodes = (tmp_path / "episode.csv").read_text().splitlines()[1:]
        assert [e.split(",")[2] for e in episodes].count("32529") == 1
        # entering the first version again corrects it back, once more one event
        record_outcome(repo, "PEC-1", "local_recurrence", "2026-02-01", None, "symptoms",
                       on_date=ON, actor="dr-a")
        [o] = repo.outcomes_by_registry_id()["PEC-1"]
        assert o.found_by == "symptoms"
        facts = repo.routine_facts(ON)["PEC-1"]
        assert [x.found_by for x in facts.outcomes] == ["symptoms"]

    def test_quality_and_fhir_count_it_once(self, repo: Repository, tmp_path: Path) -> None:
        """The quality figures said "symptoms 1, other 1" and the FHIR export held two
        'worsened' statuses for one relapse."""
        add(repo, "PEC-1", high_risk())
        for found in ("symptoms", "other"):
            record_outcome(repo, "PEC-1", "local_recurrence", "2026-02-01", None, found,
                           on_date=ON, actor="dr-a")
        s = default_settings()
        evaluated = evaluate(repo.states(), ON, s)
        q, _ = registry_quality(evaluated, repo.outcomes_by_registry_id(),
                                repo.recommendation_history(), ON, s,
                                before_relapse=plans_before_relapse(repo, evaluated, ON, s))
        assert q.recurrences_found == {"other": 1}
        bulk_export(repo, tmp_path / "fhir", ON, workers=1)
        text = (tmp_path / "fhir" / "Observation.ndjson").read_text()
        assert text.count("271299001") == 1


class TestScanBeforeDiagnosis:
    def test_a_scan_before_the_diagnosis_is_refused(self, repo: Repository) -> None:
        """Diagnosed 2024-06-01, surgery not dated: a scan of 2020 was stored (and
        counted as a relapse found at a scheduled scan); refused as an outcome is."""
        add(repo, "S-1", {"diagnosis": {"date": "2024-06-01"},
                          "tumour": {"primary_site": "kidney"},
                          "stage": {"status": "localized"}, "surgery": {"status": "unknown"}})
        with pytest.raises(InputError) as e:
            record_scan(repo, "S-1", "2020-01-01", "chest_ct", "metastasis", on_date=ON,
                        actor="radiology")
        [issue] = e.value.issues
        assert issue.path == "date" and "2020-01-01" in issue.value
        assert "must not be before the diagnosis (2024-06-01)" in issue.rule
        assert repo.scans_by_registry_id() == {}
        assert record_scan(repo, "S-1", "2024-06-01", "chest_ct", "no_evidence_of_disease",
                           on_date=ON, actor="radiology") is not None

