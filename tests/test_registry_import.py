"""Import of registry files: the exact report, both modes, idempotence, CSV and XLSX."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import parse_case
from pecoma.registry.columns import (
    COLUMN_NAMES,
    COLUMNS,
    column_for_path,
    flatten,
    template_csv,
    template_xlsx,
)
from pecoma.registry.import_check import RowIssue
from pecoma.registry.import_table import ImportFileError, read_table
from pecoma.registry.importer import ImportMode, import_file
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import (
    ON,
    db_url,
    high_risk,
    low_risk,
    metastatic,
    repo,
    rows_of,
    variant,
    write_csv,
    write_xlsx,
)

__all__ = ["db_url", "repo"]

Writer = Callable[[Path, list[dict[str, Any]]], Path]
WRITERS = [pytest.param(write_csv, id="csv"), pytest.param(write_xlsx, id="xlsx")]
ID_RULE = (
    "must be a pseudonymous registry code: 1-40 letters, digits, '-', '_' or '.', starting "
    "with a letter or digit and containing at least one digit (never a name)"
)


def mixed_rows() -> list[dict[str, Any]]:
    """Rows 2-10 of a file: three good rows, five bad ones, one empty line."""
    moved = flatten(metastatic(), "PEC-0005")
    for k in ("site", "detected_on", "timing"):
        moved.pop(f"stage.metastases[0].{k}")
    moved["stage.metastases[1].site"] = "moon"
    return [
        flatten(high_risk(), "PEC-0001"),                                        # 2 good
        flatten(variant(high_risk(), **{"tumour.size.value": -4}), "John Smith"),  # 3
        flatten(low_risk(), "PEC-0003"),                                         # 4 good
        flatten(variant(low_risk(), **{"stage.status": "spreading"}), "PEC-0004"),  # 5
        moved,                                                                   # 6
        flatten(low_risk(), "PEC-0001"),                                         # 7
        flatten(high_risk(surgery="2027-01-01"), "PEC-0007"),                    # 8
        {},                                                                      # 9 empty
        flatten(metastatic(), "PEC-0009"),                                       # 10 good
    ]


#: Rows 2 and 7 give PEC-0001 two different cases (high risk, low risk): which one is
#: right is the file author's to say, so neither is written (the first had been, as good).
PEC_0001_TWICE = (
    "must appear only once in a file, whatever its letter case: row {other} gives this "
    "patient other values (diagnosis.date, histology.necrosis, "
    "immunohistochemistry.cathepsin_k, immunohistochemistry.desmin, "
    "immunohistochemistry.h_caldesmon, immunohistochemistry.melan_a, "
    "immunohistochemistry.mitf, immunohistochemistry.sma, immunohistochemistry.tfe3, "
    "surgery.date, tumour.primary_site, tumour.size.unit, tumour.size.value), so neither "
    "row is written; keep the row with the right values")


def expected_issues(fmt: str) -> list[RowIssue]:
    size = "'-4'" if fmt == "csv" else "-4"  # a CSV cell is text; a spreadsheet's a number
    return [
        RowIssue(2, "registry_id", "'PEC-0001'", PEC_0001_TWICE.format(other=7)),
        RowIssue(3, "registry_id", "'John Smith'", ID_RULE),
        RowIssue(3, "tumour.size.value", size, "must be greater than 0"),
        RowIssue(5, "stage.status", "'spreading'",
                 "must be 'localized', 'locally_advanced_unresectable', 'recurrent' or "
                 "'metastatic'"),
        RowIssue(6, "stage.metastases[1].site", "'moon'",
                 "must be 'lung', 'liver', 'bone', 'peritoneum', 'distant_lymph_node', "
                 "'brain', 'soft_tissue' or 'other'"),
        RowIssue(7, "registry_id", "'PEC-0001'", PEC_0001_TWICE.format(other=2)),
        RowIssue(8, "surgery.date", "2027-01-01",
                 "must not be after the evaluation date (2026-11-28)"),
    ]


def run(repo: Repository, path: Path, mode: ImportMode = ImportMode.all_or_nothing) -> Any:
    return import_file(repo, path, on_date=ON, settings=default_settings(), actor="importer",
                       mode=mode)


class TestMixedFile:
    @pytest.mark.parametrize("write", WRITERS)
    def test_all_or_nothing_reports_every_cell_and_writes_nothing(
        self, repo: Repository, tmp_path: Path, write: Writer
    ) -> None:
        path = write(tmp_path / f"mixed.{write.__name__[6:]}", mixed_rows())
        report = run(repo, path)
        assert report.issues == expected_issues(path.suffix[1:])
        assert report.rejected_rows == [2, 3, 5, 6, 7, 8]
        assert (report.rows, report.good, report.committed) == (8, 2, False)
        assert repo.count() == {"patient": 0, "case_version": 0, "assessment": 0,
                                "imaging_event": 0, "audit_log": 0}

    @pytest.mark.parametrize("write", WRITERS)
    def test_good_rows_mode_writes_the_good_rows_only(
        self, repo: Repository, tmp_path: Path, write: Writer
    ) -> None:
        path = write(tmp_path / f"mixed.{write.__name__[6:]}", mixed_rows())
        report = run(repo, path, ImportMode.good_rows)
        assert report.issues == expected_issues(path.suffix[1:])
        assert report.written is not None
        assert (report.written.new_patients, report.written.new_versions) == (2, 2)
        # PEC-0001: neither row 2 nor row 7 (they disagree; row 2 had been written)
        assert [s.registry_id for s in repo.states()] == ["PEC-0003", "PEC-0009"]
        sources = [cv["source"] for cv in repo.export()["case_versions"]]
        assert sources == [f"{path.name} row 4", f"{path.name} row 10"]

    def test_report_as_json_and_text(self, repo: Repository, tmp_path: Path) -> None:
        report = run(repo, write_csv(tmp_path / "m.csv", mixed_rows()))
        data = report.to_jsonable()
        assert data["rejected_rows"] == [2, 3, 5, 6, 7, 8]
        assert data["issues"][1] == {"row": 3, "column": "registry_id",
                                     "value": "'John Smith'", "rule": ID_RULE}
        lines = report.lines()
        assert lines[:2] == ["m.csv: 8 rows read, 2 good, 6 rejected (all-or-nothing)",
                             "nothing was written"]
        assert lines[4] == "  - row 3, column 'tumour.size.value': must be greater than 0 " \
                           "(got '-4')"


class TestIdempotence:
    @pytest.mark.parametrize("write", WRITERS)
    def test_reimporting_the_same_file_changes_nothing(
        self, repo: Repository, tmp_path: Path, write: Writer
    ) -> None:
        cases = {"PEC-0001": high_risk(), "PEC-0002": low_risk(), "PEC-0003": metastatic()}
        path = write(tmp_path / f"good.{write.__name__[6:]}", rows_of(cases))
        first = run(repo, path)
        assert first.written is not None and first.written.new_versions == 3
        before = repo.count()
        second = run(repo, path)
        assert second.written is not None
        assert (second.written.new_patients, second.written.new_versions,
                second.written.unchanged) == (0, 0, 3)
        assert repo.count() == before

    def test_csv_and_xlsx_of_the_same_cases_are_the_same_versions(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        cases = {"PEC-0001": high_risk(), "PEC-0002": low_risk()}
        run(repo, write_csv(tmp_path / "a.csv", rows_of(cases)))
        again = run(repo, write_xlsx(tmp_path / "a.xlsx", rows_of(cases)))
        assert again.written is not None and again.written.unchanged == 2

    def test_a_changed_row_adds_one_version(self, repo: Repository, tmp_path: Path) -> None:
        cases = {"PEC-0001": high_risk(), "PEC-0002": low_risk()}
        run(repo, write_csv(tmp_path / "a.csv", rows_of(cases)))
        cases["PEC-0002"] = variant(low_risk(), **{"surgery.margin": "R1"})
        report = run(repo, write_csv(tmp_path / "b.csv", rows_of(cases)))
        assert report.written is not None
        assert (report.written.new_versions, report.written.unchanged) == (1, 1)
        assert report.written.versions == {"PEC-0001": 1, "PEC-0002": 2}


class TestReimportAfterACorrection:
    """A coordinator imports a file, corrects a patient's case (a later file, the form or
    add-case), then imports the first file again the same day: the registry took the
    file's older case as version 3, undoing the correction without a word."""

    def test_the_original_row_again_keeps_the_correction_and_says_so(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        original = {"PEC-0001": high_risk(), "PEC-0002": low_risk()}
        first = write_csv(tmp_path / "first.csv", rows_of(original))
        run(repo, first)
        fixed = {**original, "PEC-0002": variant(low_risk(), **{"surgery.margin": "R1"})}
        run(repo, write_csv(tmp_path / "fixed.csv", rows_of(fixed)))
        again = run(repo, first)
        assert again.written is not None
        assert (again.written.new_versions, again.written.unchanged) == (0, 2)
        assert again.written.versions == {"PEC-0001": 1, "PEC-0002": 2}
        state = repo.state("PEC-0002")
        assert state is not None and state.case is not None
        assert state.case["surgery"]["margin"] == "R1"  # the correction stands
        [note] = again.warnings  # row 3 (PEC-0002) named, the later version kept
        assert (note.row, note.column, note.value) == (3, "registry_id", "PEC-0002")
        assert "version 1 of the patient's case, which version 2 has replaced" in note.rule
        assert "  ! row 3, column 'registry_id': case not written" in "\n".join(again.lines())
        # a row that differs from every stored version is a new version, as ever
        margin_r2 = variant(low_risk(), **{"surgery.margin": "R2"})
        third = run(repo, write_csv(tmp_path / "third.csv",
                                    rows_of({"PEC-0002": margin_r2})))
        assert third.written is not None and third.written.versions == {"PEC-0002": 3}
        assert third.warnings == []
        # a whole case recorded by hand is what the clinician means now: taken as given
        record_case(repo, "PEC-0002", low_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="form")
        state = repo.state("PEC-0002")
        assert state is not None and state.version == 4

    def test_a_newer_file_that_changes_a_value_back_is_written_and_says_so(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """January's extract: margin R0; February's: R1; March's, a file never imported,
        has R0 again (the source system corrected it back). March's row was not written
        (counted unchanged, exit 0, called a re-import), so the registry kept R1 while the
        source said R0. A file new to the registry is the source's current word: version 3
        with R0, the report saying it brings back version 1's case."""
        r0 = {"PEC-0002": low_risk()}
        run(repo, write_csv(tmp_path / "jan.csv", rows_of(r0)))
        run(repo, write_csv(tmp_path / "feb.csv", rows_of(
            {"PEC-0002": variant(low_risk(), **{"surgery.margin": "R1"})})))
        # the same cases as January's with a column more (the source's next extract):
        # another table (the same cells in another order of columns would be the same)
        mar = write_csv(tmp_path / "mar.csv", rows_of(r0),
                        [*COLUMN_NAMES, "outcome.last_contact.date"])
        report = run(repo, mar)
        assert report.written is not None
        assert (report.written.new_versions, report.written.unchanged) == (1, 0)
        assert report.written.versions == {"PEC-0002": 3}
        state = repo.state("PEC-0002")
        assert state is not None and state.case is not None
        assert state.case["surgery"]["margin"] == "R0"  # what the source says now
        [note] = report.warnings  # row 2 named: an earlier case brought back
        assert (note.row, note.column, note.value) == (2, "registry_id", "PEC-0002")
        assert note.rule.startswith(
            "written as version 3, bringing back an earlier case: the row equals version 1 "
            "of the patient's case, which version 2 had replaced, and this file was not "
            "imported before")
        # March's file imported again after a correction by hand keeps the correction
        record_case(repo, "PEC-0002", variant(low_risk(), **{"surgery.margin": "R1"}),
                    on_date=ON, settings=default_settings(), actor="clinic", source="form")
        again = run(repo, mar)
        assert again.written is not None and again.written.versions == {"PEC-0002": 4}
        assert "case not written: it is version 3" in again.warnings[0].rule

    def test_the_same_file_saved_again_by_a_spreadsheet_keeps_the_correction(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """January's file (PEC-0002 margin R0) imported, then February's (margin R1, the
        correction), then January's saved again by a spreadsheet: semicolons, a byte
        order mark, Windows line ends and the columns in another order, the same cells.
        It was a new file by its bytes, so version 3 brought R0 back over the
        correction. It is the same table (the rule of every table the registry imports):
        the correction stands (R1, version 2) and the row is named."""
        import csv

        first = write_csv(tmp_path / "jan.csv", rows_of({"PEC-0002": low_risk()}))
        run(repo, first)
        run(repo, write_csv(tmp_path / "feb.csv", rows_of(
            {"PEC-0002": variant(low_risk(), **{"surgery.margin": "R1"})})))
        with first.open(newline="", encoding="utf-8") as f:
            table = [row[::-1] for row in csv.reader(f)]
        resaved = tmp_path / "jan_saved_again.csv"
        with resaved.open("w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(table)
        again = run(repo, resaved)
        assert again.written is not None and again.written.versions == {"PEC-0002": 2}
        state = repo.state("PEC-0002")
        assert state is not None and state.case is not None
        assert state.case["surgery"]["margin"] == "R1"
        [note] = again.warnings
        assert "case not written: it is version 1 of the patient's case" in note.rule

    def test_an_import_that_writes_nothing_still_makes_its_file_known(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A file whose rows were all unchanged when imported, imported again after a
        correction: it is a re-import, and the correction stands (while a file not
        imported before brings the earlier case back)."""
        first = write_csv(tmp_path / "first.csv", rows_of({"PEC-0002": low_risk()}))
        run(repo, first)
        copy = write_csv(tmp_path / "copy.csv", rows_of({"PEC-0002": low_risk()}),
                         [*COLUMN_NAMES, "outcome.last_contact.date"])  # another table
        assert run(repo, copy).written.versions == {"PEC-0002": 1}  # nothing written
        record_case(repo, "PEC-0002", variant(low_risk(), **{"surgery.margin": "R1"}),
                    on_date=ON, settings=default_settings(), actor="clinic", source="form")
        again = run(repo, copy)
        assert again.written is not None and again.written.versions == {"PEC-0002": 2}
        # the same cases in a file not imported before: the earlier case is brought back
        other = write_csv(tmp_path / "other.csv", rows_of({"PEC-0002": low_risk()}),
                          [*COLUMN_NAMES, "outcome.last_contact.vital_status"])
        brought = run(repo, other)
        assert brought.written is not None and brought.written.versions == {"PEC-0002": 3}

    def test_a_rejected_import_does_not_make_its_file_known(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """All or nothing, a bad row: nothing was imported, so the file stays new."""
        run(repo, write_csv(tmp_path / "jan.csv", rows_of({"PEC-0002": low_risk()})))
        run(repo, write_csv(tmp_path / "feb.csv", rows_of(
            {"PEC-0002": variant(low_risk(), **{"surgery.margin": "R1"})})))
        bad = variant(high_risk(), **{"tumour.size.value": "-4"})
        mar = write_csv(tmp_path / "mar.csv", rows_of({"PEC-0002": low_risk(),
                                                       "PEC-0003": bad}))
        assert run(repo, mar).written is None
        fixed = run(repo, mar, ImportMode.good_rows)
        assert fixed.written is not None and fixed.written.versions == {"PEC-0002": 3}


class TestTwoRowsForOnePatient:
    """A file giving one patient two rows that disagree (a coordinator's sheet with the
    correction appended below the first entry): under --good-rows the first row was
    written as good and only the second reported, so the correction was lost and the
    report suggested the patient had been imported. Neither row is written now; both
    are reported, each naming the other and the cells that differ."""

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"registry_id": "PEC-0700", "tumour.primary_site": "uterus",
             "stage.status": "localized", "tumour.size.value": "6", "tumour.size.unit": "cm"},
            {"registry_id": "PEC-0701", "tumour.primary_site": "uterus",
             "stage.status": "localized", "tumour.size.value": "3", "tumour.size.unit": "cm"},
            {"registry_id": "PEC-0700", "tumour.primary_site": "uterus",
             "stage.status": "localized", "tumour.size.value": "9", "tumour.size.unit": "cm"},
        ]

    def test_neither_row_is_written_and_both_are_named(
            self, repo: Repository, tmp_path: Path) -> None:
        """Rows 2 and 4 give PEC-0700 a 6 cm and a 9 cm tumour (the size decides the risk
        group, S06): which is right is the coordinator's to say. PEC-0701 (row 3) is
        written."""
        path = write_csv(tmp_path / "dup.csv", self.rows())
        report = run(repo, path, ImportMode.good_rows)
        assert report.issues == [
            RowIssue(2, "registry_id", "'PEC-0700'",
                     "must appear only once in a file, whatever its letter case: row 4 "
                     "gives this patient other values (tumour.size.value), so neither "
                     "row is written; keep the row with the right values"),
            RowIssue(4, "registry_id", "'PEC-0700'",
                     "must appear only once in a file, whatever its letter case: row 2 "
                     "gives this patient other values (tumour.size.value), so neither "
                     "row is written; keep the row with the right values"),
        ]
        assert (report.rows, report.good) == (3, 1)
        assert [s.registry_id for s in repo.states()] == ["PEC-0701"]

    def test_all_or_nothing_reports_the_same(self, repo: Repository,
                                             tmp_path: Path) -> None:
        path = write_csv(tmp_path / "dup.csv", self.rows())
        report = run(repo, path)
        assert [i.row for i in report.issues] == [2, 4]
        assert report.written is None and repo.states() == []


    @pytest.mark.parametrize(("write", "first", "second"), [
        pytest.param(write_xlsx, 72, "72", id="xlsx-number-and-text"),
        pytest.param(write_csv, "72", "72.0", id="csv-72-and-72.0")])
    def test_the_same_number_written_two_ways_is_the_same_value(
            self, repo: Repository, tmp_path: Path, write: Writer, first: Any,
            second: Any) -> None:
        """Rows 2 and 3 give PEC-0700 the same 72 mm tumour, once as a number cell and
        once typed as text (xlsx), or as 72 and 72.0 (CSV): the import reads the same
        size from both. They agree, so the first row is the patient's and the second is
        refused as written twice ('also on row 2'); they had been called 'other values'
        and both refused, over a difference no one can see."""
        same = {"registry_id": "PEC-0700", "tumour.primary_site": "uterus",
                "stage.status": "localized", "tumour.size.unit": "mm"}
        path = write(tmp_path / "same.x", [{**same, "tumour.size.value": first},
                                           {**same, "tumour.size.value": second}])
        path = path.rename(path.with_suffix(".xlsx" if write is write_xlsx else ".csv"))
        report = run(repo, path, ImportMode.good_rows)
        assert report.issues == [RowIssue(
            3, "registry_id", "'PEC-0700'",
            "must appear only once in a file, whatever its letter case (also on row 2)")]
        assert [s.registry_id for s in repo.states()] == ["PEC-0700"]

    def test_three_rows_name_only_those_that_differ(
            self, repo: Repository, tmp_path: Path) -> None:
        """Rows 2 and 3 give PEC-0700 a 6 cm tumour, row 4 a 9 cm one: rows 2 and 3
        differ from row 4 only, and row 4 from both; none of the three is written (which
        is right is the coordinator's to say). Row 2 had named row 3 as giving other
        values, and every row said 'neither row is written' of three rows."""
        six = self.rows()[0]
        path = write_csv(tmp_path / "three.csv", [six, dict(six), self.rows()[2]])
        report = run(repo, path, ImportMode.good_rows)
        def why(others: str) -> str:
            return ("must appear only once in a file, whatever its letter case: "
                    f"{others} this patient other values (tumour.size.value), so none of "
                    "its rows (2, 3, 4) is written; keep the row with the right values")
        assert report.issues == [
            RowIssue(2, "registry_id", "'PEC-0700'", why("row 4 gives")),
            RowIssue(3, "registry_id", "'PEC-0700'", why("row 4 gives")),
            RowIssue(4, "registry_id", "'PEC-0700'", why("rows 2, 3 give")),
        ]
        assert repo.states() == []


class TestRegistryIdsDifferingOnlyInCase:
    """'pec-0002' and 'PEC-0002' had become two patients, each with its own plan and
    worklist row: the same patient's scans and outcomes split between them."""

    def test_in_one_file(self, repo: Repository, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "a.csv", rows_of({"PEC-0002": low_risk()})
                         + rows_of({"pec-0002": low_risk()}))
        report = run(repo, path, ImportMode.good_rows)
        assert report.issues == [RowIssue(
            3, "registry_id", "'pec-0002'",
            "must appear only once in a file, whatever its letter case (also on row 2)")]
        assert [s.registry_id for s in repo.states()] == ["PEC-0002"]

    def test_against_a_stored_patient(self, repo: Repository, tmp_path: Path) -> None:
        run(repo, write_csv(tmp_path / "a.csv", rows_of({"pec-0002": low_risk()})))
        before = repo.count()
        report = run(repo, write_csv(tmp_path / "b.csv", rows_of(
            {"PEC-0002": high_risk(), "PEC-0003": low_risk()})))
        assert report.issues == [RowIssue(
            2, "registry_id", "'PEC-0002'",
            "differs only in letter case from the stored registry id 'pec-0002': if it is "
            "the same patient, spell it the same way; if not, give another id")]
        assert not report.committed and repo.count() == before
        # spelt as stored, it is the same patient's next version
        again = run(repo, write_csv(tmp_path / "c.csv", rows_of({"pec-0002": high_risk()})))
        assert again.written is not None and again.written.versions == {"pec-0002": 2}

    def test_the_store_refuses_it_on_every_path(self, repo: Repository) -> None:
        """The repository itself refuses a new patient so spelt (a form, a FHIR import,
        two imports at once), naming the field and the stored id."""
        from pecoma.errors import InputError
        from pecoma.store.repository import CaseSubmission

        def submission(rid: str) -> CaseSubmission:
            from pecoma.engine import assess
            from pecoma.registry.state import plan_and_state
            from pecoma.registry.stored import assessment_data
            from pecoma.store.repository import case_digest

            case = parse_case(low_risk())
            a = assess(case, ON)
            planned = plan_and_state(case, a, ON, (), default_settings())
            due, state = planned.due, planned.state
            return CaseSubmission(registry_id=rid, submitted=low_risk(),
                                  digest=case_digest(case.model_dump(mode="json")),
                                  source="test", assessment=assessment_data(a, due, "test"),
                                  state=state)

        repo.add_cases([submission("pec-0002")], "tester")
        with pytest.raises(InputError) as exc:
            repo.add_cases([submission("PEC-0002")], "tester")
        [issue] = exc.value.issues
        assert (issue.path, issue.value) == ("registry_id", "PEC-0002")
        assert "'pec-0002'" in issue.rule
        with pytest.raises(InputError):
            repo.add_cases([submission("Pec-0007"), submission("pec-0007")], "tester")
        assert [s.registry_id for s in repo.states()] == ["pec-0002"]


class TestProgressionTheRowContradicts:
    def test_refused_naming_row_and_field_nothing_written(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Row 3: localized, resected R0 on 2025-01-10, adjuvant sirolimus begun
        2025-02-15 on which the disease progressed. It had been stored as a patient under
        routine surveillance. Refused with its row and field named, and in all-or-nothing
        mode nothing is written, row 2 (the same patient without the line) neither."""
        progressed = variant(high_risk(), **{"systemic.therapies": [
            {"agent": "sirolimus", "setting": "adjuvant", "started_on": "2025-02-15",
             "progressed": "yes"}]})
        path = write_csv(tmp_path / "p.csv", rows_of({"PEC-0001": high_risk()})
                         + rows_of({"PEC-0002": progressed}))
        report = run(repo, path)
        [issue] = report.issues
        assert (issue.row, issue.column) == (3, "stage.status")
        assert "'systemic.therapies[0].progressed' 'yes'" in issue.rule
        assert "record the recurrence" in issue.rule
        assert report.rejected_rows == [3] and not report.committed
        assert repo.count()["patient"] == 0


class TestTherapySettingCell:
    """A line's setting decides how surveillance is counted (I22): an empty setting cell
    is a value nobody chose, as a blank in the web form is."""

    def test_an_empty_setting_beside_an_agent_is_refused(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Row 2: the high-risk uterine case, resected R0 on 2025-01-10, doxorubicin
        begun 2025-02-15 with the setting cell left empty. It had been read as a line for
        advanced disease: surveillance counted from the surgery as the end of treatment,
        the end of the adjuvant course never asked for. Refused naming the cell."""
        row = flatten(high_risk(), "PEC-0001") | {
            "systemic.therapies[0].agent": "doxorubicin",
            "systemic.therapies[0].started_on": "2025-02-15",
        }
        report = run(repo, write_csv(tmp_path / "s.csv", [row]))
        [issue] = report.issues
        assert (issue.row, issue.column, issue.value) == (
            2, "systemic.therapies[0].setting", "(empty)")
        assert "'adjuvant'" in issue.rule and "'advanced'" in issue.rule
        assert repo.count()["patient"] == 0

    def test_advanced_beside_a_localized_resection_is_refused(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Row 2: the same doxorubicin with 'advanced' in the setting cell, the case
        localized and resected R0, no relapse recorded: it was stored, the line named
        nowhere. Refused in the setting column, naming the status."""
        row = flatten(high_risk(), "PEC-0001") | {
            "systemic.therapies[0].agent": "doxorubicin",
            "systemic.therapies[0].setting": "advanced",
            "systemic.therapies[0].started_on": "2025-02-15",
        }
        report = run(repo, write_csv(tmp_path / "s.csv", [row]))
        [issue] = report.issues
        assert (issue.row, issue.column, issue.value) == (
            2, "systemic.therapies[0].setting", "advanced")
        assert "'stage.status' 'localized'" in issue.rule
        assert repo.count()["patient"] == 0

    def test_a_case_left_to_the_formats_default_is_exported_with_it(self) -> None:
        """A JSON case whose line leaves out the setting is, by the case format, a line
        for advanced disease; its row says so, so the export imports again."""
        case = variant(high_risk(), **{"systemic.therapies": [{"agent": "sirolimus"}]})
        row = flatten(case, "PEC-0001")
        assert row["systemic.therapies[0].setting"] == "advanced"


class TestHeader:
    def test_unknown_repeated_and_missing_columns(self, repo: Repository, tmp_path: Path) -> None:
        path = tmp_path / "h.csv"
        path.write_text("registry_id,tumour.size,stage.status,stage.status\nPEC-1,,,\n")
        report = run(repo, path, ImportMode.good_rows)
        assert report.issues == [
            RowIssue(1, "tumour.size", "'tumour.size'",
                     "is not a column of the registry layout (see the template)"),
            RowIssue(1, "stage.status", "'stage.status'", "must appear only once"),
            RowIssue(1, "tumour.primary_site", "(missing)", "is a required column"),
        ]
        assert not report.committed
        assert repo.count()["patient"] == 0

    def test_a_row_that_contradicts_a_recorded_scan_is_refused(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A corrected surgery date after a scan already recorded turned the patient 'not
        evaluable' (off the overdue, due and upcoming lists; a scan that found disease no
        longer read). Recording that scan now would be refused (before the surgery): the
        row is refused the same way, naming the scan and its date, and nothing of it is
        written."""
        from pecoma.registry.service import record_scan

        path = tmp_path / "a.csv"
        write_csv(path, rows_of({"PEC-0001": high_risk()}))
        assert run(repo, path).committed
        record_scan(repo, "PEC-0001", "2025-04-20", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        write_csv(path, rows_of({"PEC-0001": high_risk(surgery="2025-06-01")}))
        report = run(repo, path)
        [issue] = report.issues
        assert (issue.row, issue.column, issue.value) == (2, "surgery.date", "'2025-06-01'")
        assert issue.rule.startswith("contradicts the scan recorded on 2025-04-20 "
                                     "(chest_ct, no_evidence_of_disease): every scan of the "
                                     "registry is from the surgery on")
        assert report.warnings == []
        timeline = repo.timeline("PEC-0001")
        assert timeline is not None and len(timeline.cases) == 1

    def test_a_rejected_cell_is_shown_as_written(self, repo: Repository, tmp_path: Path
                                                 ) -> None:
        """A size checked with its unit showed the whole group ("got {'value': 'inf',
        'unit': 'mm'}") instead of the cell the coordinator has to correct."""
        path = tmp_path / "inf.csv"
        path.write_text("registry_id,tumour.primary_site,stage.status,tumour.size.value,"
                        "tumour.size.unit\nPEC-1,kidney,localized,inf,mm\n")
        [issue] = run(repo, path).issues
        assert (issue.column, issue.value) == ("tumour.size.value", "'inf'")

    def test_semicolon_separated_csv(self, repo: Repository, tmp_path: Path) -> None:
        row = flatten(low_risk(), "PEC-0001")
        header = [c for c in COLUMN_NAMES if c in row]
        path = tmp_path / "semi.csv"
        path.write_text(";".join(header) + "\n" + ";".join(str(row[h]) for h in header) + "\n")
        report = run(repo, path)
        assert report.issues == []
        assert report.written is not None and report.written.new_patients == 1

    def test_trailing_delimiters_of_a_spreadsheet_export_are_no_columns(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Spreadsheets save a CSV with empty columns at the end of every line
        (`a;b;c;;`): the whole file was refused ('every column needs a name' twice), as an
        XLSX with the same sheet is not. The trailing nameless columns are no columns; a
        value under one is still refused, naming its row and its column."""
        path = tmp_path / "trailing.csv"
        path.write_text("registry_id;tumour.primary_site;stage.status;;\n"
                        "PEC-0001;kidney;localized;;\n"
                        "PEC-0002;lung;localized;;forgotten\n")
        report = run(repo, path, ImportMode.good_rows)
        assert [(i.row, i.column, i.value) for i in report.issues] == [
            (3, "(column 5, E)", "'forgotten'")]
        assert report.written is not None and report.written.new_patients == 1
        path.write_text("registry_id;;stage.status\nPEC-0003;kidney;localized\n")
        assert [(i.column, i.rule) for i in run(repo, path).issues] == [(
            "(column 2, B)", "every column needs a name: this header cell is empty (name "
            "the column, or delete it); the required column 'tumour.primary_site' is not "
            "in the header: it may be this one")]

    def test_a_value_right_of_a_sheet_s_header_is_refused_as_in_a_csv_file(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A workbook cell right of the header's last column (here in column XFD, the
        last a sheet has) refuses its row, naming the row and the column, by the rule a
        CSV cell past the header is refused by; the other row is written in good-rows
        mode. It had been '(row)', naming no column."""
        from openpyxl import load_workbook

        path = write_xlsx(tmp_path / "wide.xlsx", [
            {"registry_id": "PEC-0001", "tumour.primary_site": "kidney",
             "stage.status": "localized"},
            {"registry_id": "PEC-0002", "tumour.primary_site": "lung",
             "stage.status": "localized"}],
            columns=["registry_id", "tumour.primary_site", "stage.status"])
        wb = load_workbook(path)
        wb["cases"].cell(row=3, column=16384, value="forgotten")
        wb.save(path)
        report = run(repo, path, ImportMode.good_rows)
        assert [(i.row, i.column, i.value) for i in report.issues] == [
            (3, "(column 16384, XFD)", "'forgotten'")]
        assert report.issues[0].rule.startswith(
            "must be empty: the header row names columns A to C only")
        assert report.written is not None and report.written.new_patients == 1

    def test_only_some_columns_is_fine_and_empty_means_unknown(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        path = tmp_path / "few.csv"
        path.write_text("registry_id,tumour.primary_site,stage.status,histology.necrosis\n"
                        "PEC-0001,kidney,localized,\n")
        assert run(repo, path).issues == []
        state = repo.state("PEC-0001")
        assert state is not None and state.latest is not None
        assert state.latest.risk_group == "indeterminate"  # unknown stays unknown
        assert state.case == {"tumour": {"primary_site": "kidney"},
                              "stage": {"status": "localized"}}

    def test_cells_beyond_the_header_are_rejected(self, repo: Repository, tmp_path: Path) -> None:
        path = tmp_path / "wide.csv"
        path.write_text("registry_id,tumour.primary_site,stage.status\n"
                        "PEC-0001,kidney,localized,extra\n")
        report = run(repo, path)
        assert [(i.row, i.column) for i in report.issues] == [(2, "(column 4, D)")]
        assert report.issues[0].rule.startswith(
            "must be empty: the header row names columns A to C only")


class TestHeaderCellsWithoutAName:
    """A header cell that reads empty refuses the file. In a workbook it is most often
    part of merged cells (a spreadsheet merges titles for looks): a merge keeps only its
    first cell's text, so the column's name is lost. The refusal had been "row 1, column
    '(header)': every column needs a name (got '')", naming no column among 30, and
    beside it "column 'tumour.primary_site': is a required column (got (missing))",
    about a column the coordinator could see named in the sheet, or had just merged
    away. Now one issue, naming the cell's position and letter, the merge and its range,
    and the required column it may have held."""

    @staticmethod
    def workbook(tmp_path: Path, change: Callable[[Any], None]) -> Path:
        from openpyxl import load_workbook

        path = write_xlsx(tmp_path / "cases.xlsx", rows_of({"PEC-0001": low_risk()}))
        wb = load_workbook(path)
        change(wb["cases"])
        wb.save(path)
        return path

    @staticmethod
    def letter(name: str) -> str:
        from openpyxl.utils import get_column_letter

        return get_column_letter(COLUMN_NAMES.index(name) + 1)

    def test_a_merge_over_a_required_column_s_name(
            self, repo: Repository, tmp_path: Path) -> None:
        """The primary site's name cell merged with the one left of it: one issue, at its
        letter and position, naming the merged range and the column it may be."""
        site = self.letter("tumour.primary_site")
        position = COLUMN_NAMES.index("tumour.primary_site") + 1
        before = self.letter(COLUMN_NAMES[position - 2])
        path = self.workbook(tmp_path, lambda ws: ws.merge_cells(f"{before}1:{site}1"))
        report = run(repo, path)
        assert [(i.row, i.column, i.value, i.rule) for i in report.issues] == [(
            1, f"(column {position}, {site})", "(merged cells)",
            f"every column needs a name: this header cell is part of merged cells "
            f"({before}1:{site}1), which keep only the first cell's text: unmerge them and "
            "give each column its name; the required column 'tumour.primary_site' is not "
            "in the header: it may be this one")]
        assert report.written is None and report.rejected_rows == [2]

    def test_a_merge_over_an_optional_column_s_name_and_a_blank_cell(
            self, repo: Repository, tmp_path: Path) -> None:
        """Necrosis's name merged into the cell left of it, and the margin's name cell
        emptied: two issues, each at its position, and no required column said missing."""
        necrosis = self.letter("histology.necrosis")
        n = COLUMN_NAMES.index("histology.necrosis") + 1
        before = self.letter(COLUMN_NAMES[n - 2])
        margin = self.letter("surgery.margin")
        m = COLUMN_NAMES.index("surgery.margin") + 1

        def change(ws: Any) -> None:
            ws.merge_cells(f"{before}1:{necrosis}1")
            ws[f"{margin}1"] = None

        report = run(repo, self.workbook(tmp_path, change))
        assert [(i.column, i.value, i.rule) for i in report.issues] == [
            (f"(column {n}, {necrosis})", "(merged cells)",
             f"every column needs a name: this header cell is part of merged cells "
             f"({before}1:{necrosis}1), which keep only the first cell's text: unmerge "
             "them and give each column its name"),
            (f"(column {m}, {margin})", "''", "every column needs a name: this header "
             "cell is empty (name the column, or delete it)")]

    def test_a_merge_over_the_last_column_s_name(
            self, repo: Repository, tmp_path: Path) -> None:
        """The last header cell merged with the one right of it (a title spread over an
        empty cell): that cell is a column without a name, said so, not a row's value
        right of the header."""
        last = len(COLUMN_NAMES)
        from openpyxl.utils import get_column_letter

        a, b = get_column_letter(last), get_column_letter(last + 1)
        report = run(repo, self.workbook(tmp_path, lambda ws: ws.merge_cells(f"{a}1:{b}1")))
        assert [(i.row, i.column, i.value) for i in report.issues] == [
            (1, f"(column {last + 1}, {b})", "(merged cells)")]
        assert f"({a}1:{b}1)" in report.issues[0].rule


class TestFiles:
    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("cases.txt", b"x", "must be a .csv or .xlsx file"),
            ("cases.xlsx", b"not a zip", "not a readable XLSX workbook"),
            ("cases.csv", b"\xff\xfe\x00bad", "must be UTF-8"),
            ("cases.csv", b"", "the file is empty"),
        ],
    )
    def test_unreadable_files(self, tmp_path: Path, name: str, content: bytes,
                              message: str) -> None:
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ImportFileError, match=message):
            read_table(path)

    def test_a_file_not_in_utf8_names_the_row(self, tmp_path: Path) -> None:
        """A spreadsheet's plain 'CSV' in Latin-1: the error names the row of the first
        byte that is not UTF-8 (far down a large file, past the reader's buffer)."""
        path = tmp_path / "cases.csv"
        rows = b"".join(b"P%d,kidney\n" % i for i in range(2000))
        path.write_bytes(b"registry_id,tumour.primary_site\n" + rows + b"P-x,k\xe9dney\n")
        with pytest.raises(ImportFileError, match=r"row 2002: byte 0xe9 is not UTF-8"):
            read_table(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ImportFileError, match="file not found"):
            read_table(tmp_path / "nope.csv")

    def test_a_file_over_the_row_limit_is_refused_before_any_row_is_worked_on(
            self, repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A file one row over the limit was refused only once every row had been
        checked and assessed (about 110 s for 100,001 rows). It is refused before any row
        is worked on (the limit set to 5 here; the engine must not run)."""
        import pecoma.registry.import_table as table
        import pecoma.registry.importer as importer

        monkeypatch.setattr(table, "MAX_ROWS", 5)
        monkeypatch.setattr(importer, "MAX_ROWS", 5)

        def no_engine(task: Any) -> Any:
            raise AssertionError("a row was worked on")

        monkeypatch.setattr(importer, "_engine_rows", no_engine)
        path = write_csv(tmp_path / "big.csv",
                         rows_of({f"PEC-{i:04d}": low_risk() for i in range(6)}))
        with pytest.raises(ImportFileError, match="more than 5 rows; split it"):
            run(repo, path)
        assert repo.count()["patient"] == 0

    def test_huge_cell_names_its_row(self, tmp_path: Path) -> None:
        """A cell longer than the CSV parser's limit (131,072 characters) is a clear
        error naming the row, not "internal error"."""
        path = tmp_path / "cases.csv"
        path.write_text("registry_id,label\nPEC-0001,short\nPEC-0002," + "x" * 140_000
                        + "\n", encoding="utf-8")
        with pytest.raises(ImportFileError, match=r"row 3: a cell is longer than 131072"):
            read_table(path)


def workbook(path: Path, sheets: list[tuple[str, list[list[Any]]]]) -> Path:
    """An XLSX file of the named sheets, in order, each with its rows of cells."""
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def case_rows() -> list[list[Any]]:
    """The layout's header and one good row (a high-risk case)."""
    row = flatten(high_risk(), "PEC-0001")
    return [list(COLUMN_NAMES), [row.get(c) for c in COLUMN_NAMES]]


INSTRUCTIONS = [["Fill the Cases sheet"]]


class TestWorkbookSheet:
    """The sheet imported is the one named 'cases', whatever its letter case and the
    spaces around it, else the only sheet; a workbook of several sheets none of which is
    so named is refused naming them, never read from a sheet of instructions. The sheet
    read is named in the report and in every error."""

    @pytest.mark.parametrize("title", ["Cases", "CASES", " cases ", "cases"])
    def test_the_cases_sheet_is_found_whatever_its_case_after_another_sheet(
        self, repo: Repository, tmp_path: Path, title: str
    ) -> None:
        path = workbook(tmp_path / "sheetcase.xlsx",
                        [("Instructions", INSTRUCTIONS), (title, case_rows())])
        report = run(repo, path)
        assert report.issues == []
        assert (report.rows, report.good, report.sheet) == (1, 1, title)
        assert report.lines()[0] == (
            f"sheetcase.xlsx, sheet {title!r}: 1 rows read, 1 good, 0 rejected "
            "(all-or-nothing)")
        assert report.to_jsonable()["sheet"] == title
        assert repo.timeline("PEC-0001") is not None

    def test_several_sheets_none_named_cases_are_refused_naming_them(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        path = workbook(tmp_path / "two.xlsx",
                        [("Instructions", INSTRUCTIONS), ("Data", case_rows())])
        with pytest.raises(ImportFileError) as err:
            run(repo, path)
        assert str(err.value) == (
            "the workbook has 2 sheets ('Instructions', 'Data') and none is named 'cases': "
            "name the sheet to import 'cases' (letter case and spaces around it do not "
            "matter), as the template does, or delete the other sheets")
        assert repo.timeline("PEC-0001") is None

    def test_two_sheets_named_cases_are_refused_naming_them(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        path = workbook(tmp_path / "twice.xlsx",
                        [("cases", case_rows()), ("Cases ", case_rows())])
        with pytest.raises(ImportFileError, match=(
                "the workbook has 2 sheets named 'cases' \\('cases', 'Cases '\\)")):
            run(repo, path)

    def test_the_only_sheet_is_read_whatever_its_name_and_named_in_the_report(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A wrong header on the only sheet: the report says which sheet was read."""
        path = workbook(tmp_path / "one.xlsx", [("Sheet1", [*INSTRUCTIONS, *case_rows()])])
        report = run(repo, path)
        assert report.sheet == "Sheet1"
        assert report.lines()[0].startswith("one.xlsx, sheet 'Sheet1': ")
        assert [(i.row, i.column) for i in report.issues][:1] == [
            (1, "Fill the Cases sheet")]

    def test_an_error_reading_the_sheet_names_it(self, repo: Repository,
                                                 tmp_path: Path) -> None:
        path = workbook(tmp_path / "empty.xlsx", [("Instructions", INSTRUCTIONS),
                                                  ("Cases", [])])
        with pytest.raises(ImportFileError) as err:
            run(repo, path)
        assert str(err.value) == (
            "sheet 'Cases' is empty: a header row is needed (see the template)")

    def test_a_csv_file_has_no_sheet(self, repo: Repository, tmp_path: Path) -> None:
        report = run(repo, write_csv(tmp_path / "c.csv", [flatten(high_risk(), "PEC-0001")]))
        assert report.sheet is None and report.to_jsonable()["sheet"] is None
        assert report.lines()[0].startswith("c.csv: 1 rows read")


class TestTemplate:
    def test_csv_template_is_the_header_of_the_layout(self) -> None:
        assert template_csv() == ",".join(COLUMN_NAMES) + "\n"

    def test_shipped_template_matches_the_layout(self) -> None:
        shipped = resources.files("pecoma.registry").joinpath("data/registry-template.csv")
        assert shipped.read_text(encoding="utf-8") == template_csv()

    def test_xlsx_template_reads_back_as_an_empty_table(self, tmp_path: Path) -> None:
        path = tmp_path / "t.xlsx"
        path.write_bytes(template_xlsx())
        header, rows = read_table(path)
        assert header == list(COLUMN_NAMES)
        assert rows == []

    def test_layout_covers_the_case_format(self) -> None:
        """Every leaf of the case model has a column; lists have three slots."""
        names = set(COLUMN_NAMES)
        assert "registry_id" in names and "label" not in names
        assert {"stage.metastases[2].timing", "systemic.therapies[2].progressed",
                "tumour.size.unit", "immunohistochemistry.tfe3"} <= names
        assert [c.name for c in COLUMNS if c.required] == [
            "registry_id", "tumour.primary_site", "stage.status"]

    @pytest.mark.parametrize(
        ("path", "column"),
        [("tumour.size", "tumour.size.value"), ("stage.status", "stage.status"),
         ("(case)", "(case)")],
    )
    def test_issue_paths_map_to_columns(self, path: str, column: str) -> None:
        assert column_for_path(path) == column

    def test_flatten_then_import_round_trips(self, repo: Repository, tmp_path: Path) -> None:
        cases = {"PEC-0001": metastatic(), "PEC-0002": high_risk()}
        run(repo, write_csv(tmp_path / "r.csv", rows_of(cases)))
        for rid, data in cases.items():
            state = repo.state(rid)
            assert state is not None and state.case is not None
            assert parse_case(state.case) == parse_case(data)


def test_documentation_lists_every_column() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "registry.md").read_text()
    for name in COLUMN_NAMES:
        assert f"`{name.replace('[0]', '[i]').replace('[1]', '[i]').replace('[2]', '[i]')}`" \
            in doc, name


def test_no_registry_id_or_label_in_any_log(
    repo: Repository, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not even at DEBUG level, SQL parameters included."""
    from pecoma.registry.reassess import reassess
    from pecoma.registry.service import record_scan

    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        bad = variant(high_risk(), **{"stage.status": "spreading"})
        run(repo, write_csv(tmp_path / "a.csv", rows_of({"PEC-7Q1X": high_risk(),
                                                           "PEC-8Z2Y": bad})),
            ImportMode.good_rows)
        record_scan(repo, "PEC-7Q1X", "2025-04-12", "chest_ct", "equivocal", on_date=ON,
                    actor="a")
        reassess(repo, ON, default_settings(), "a")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert caplog.records  # the logs were captured
    assert "PEC-7Q1X" not in caplog.text
    assert "PEC-8Z2Y" not in caplog.text


def counted_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources of the cases the import parses from now on, in order."""
    from pecoma.registry import import_check

    parsed: list[str] = []
    original = import_check.parse_case

    def counting(data: Any, **kw: Any) -> Any:
        parsed.append(kw.get("source", ""))
        return original(data, **kw)

    monkeypatch.setattr(import_check, "parse_case", counting)
    return parsed


def test_unchanged_rows_are_not_parsed_again(repo: Repository, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A row holding exactly the stored case data, checked and assessed by this version
    as of an earlier date, is unchanged without being parsed; as of an earlier date than
    that it is checked again (its dates may be after the new evaluation date)."""
    import datetime as dt


    path = write_csv(tmp_path / "c.csv", rows_of({"P-1": high_risk(), "P-2": low_risk()}))
    first = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t")
    assert first.written is not None and first.written.new_versions == 2
    parsed = counted_parses(monkeypatch)
    again = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t")
    assert again.written is not None and again.written.unchanged == 2
    assert again.written.versions == {"P-1": 1, "P-2": 1}
    assert parsed == []
    # 2025-01-01: before P-1's diagnosis (2025-01-06) and surgery; P-2's dates are older
    early = import_file(repo, path, on_date=dt.date(2025, 1, 1),
                        settings=default_settings(), actor="t")
    assert parsed == ["row 2", "row 3"]
    assert early.rejected_rows == [2] and not early.committed
    assert {i.column for i in early.issues} >= {"diagnosis.date"}


def test_rows_assessed_with_an_older_knowledge_release_are_checked_again(
        repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new knowledge release comes with new checks of the case (one refuses a locally
    advanced unresectable tumour beside an R0 resection): a row stored under an older
    release is parsed and checked again, not called unchanged unread."""
    from sqlalchemy import update

    from pecoma.store.models import StoredAssessment

    path = write_csv(tmp_path / "c.csv", rows_of({"P-1": high_risk(), "P-2": low_risk()}))
    import_file(repo, path, on_date=ON, settings=default_settings(), actor="t")
    with repo.engine.begin() as conn:
        conn.execute(update(StoredAssessment).values(knowledge_version="2026.1.1"))
    parsed = counted_parses(monkeypatch)
    again = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t")
    assert parsed == ["row 2", "row 3"]
    assert again.written is not None and again.written.unchanged == 2


def test_flat_cells_nest_into_a_case_with_list_slots_packed() -> None:
    """A registry row's flat columns become the nested case: dotted names are objects, a
    list's slots are packed in order (a gap left by an empty slot 0 is closed), and the
    remap says which spreadsheet slot each list item came from (for error messages);
    empty cells and the registry id are left out."""
    from pecoma.registry.import_check import nest

    tree, remap = nest({
        "registry_id": "PEC-1",
        "tumour.primary_site": "kidney",
        "tumour.size.value": 52,
        "tumour.size.unit": "mm",
        "stage.metastases[0].site": None,
        "stage.metastases[2].site": "liver",
        "stage.metastases[1].site": "lung",
        "stage.metastases[1].detected_on": "2026-01-05",
        "surgery.margin": None,
    })
    assert tree == {
        "tumour": {"primary_site": "kidney", "size": {"value": 52, "unit": "mm"}},
        "stage": {"metastases": [{"site": "lung", "detected_on": "2026-01-05"},
                                 {"site": "liver"}]},
    }
    assert remap == {"stage.metastases": {0: 1, 1: 2}}


class TestARelapseAfterFreeOfDisease:
    """F-1 (uterine primary resected 2022-01-10, a lung metastasis found 2023-01-10 and
    resected, free of disease since 2023-06-01) is stored by an import; a later row adds a
    liver metastasis found 2025-06-01: a relapse after the disease-free period (S26, S27).
    The case's rule says to remove 'free_of_disease' while it is present, but an import row
    never makes a stored fact unknown, so the import's refusal says how the registry
    records it: a case version through 'pecoma registry add-case' or the case form (it had
    sent the coordinator to a second refusal, 'would become unknown')."""

    def relapsed(self) -> dict[str, Any]:
        c = high_risk("2022-01-10")
        c["diagnosis"]["date"] = "2022-01-06"
        c["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                      "metastases": [{"site": "lung", "detected_on": "2023-01-10"}]}
        c["free_of_disease"] = {"since": "2023-06-01", "by": "surgery"}
        return c

    def test_the_refusal_names_the_registry_s_way(self, repo: Repository,
                                                  tmp_path: Path) -> None:
        first = run(repo, write_csv(tmp_path / "f1.csv", rows_of(
            {"F-1": self.relapsed()})))
        assert first.issues == []
        c = self.relapsed()
        c["stage"]["metastases"].append({"site": "liver", "detected_on": "2025-06-01"})
        c["stage"]["resectable"] = "no"
        again = run(repo, write_csv(tmp_path / "f4.csv", rows_of({"F-1": c})))
        [issue] = again.issues
        assert (issue.column, issue.value) == ("free_of_disease.since", "2023-06-01")
        assert "remove 'free_of_disease'" in issue.rule
        assert "record that case version with 'pecoma registry add-case'" in issue.rule
        # doing what it says: the case version without 'free_of_disease' is recorded
        del c["free_of_disease"]
        record_case(repo, "F-1", c, on_date=ON, settings=default_settings(),
                    actor="clinic", source="add-case")
        stored = repo.state("F-1")
        assert stored is not None and stored.case is not None
        assert "free_of_disease" not in stored.case
