"""Moving a registry: ``export --format csv`` into a fresh registry (SQLite), imported in
the order the export names (cases.csv, imaging_events.csv, outcomes.csv), gives the same
worklist and the same figures. Before, only cases.csv could be imported: every outcome
and scan was left behind without a word, and a relapsed patient and a lost one came
back ``overdue`` for routine surveillance."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cli_support import CliRun, run_cli
from registry_support import high_risk, low_risk, rows_of, write_csv

ON = "2026-12-06"
MOVE_ORDER = ("cases.csv", "imaging_events.csv", "outcomes.csv")


def pecoma(*args: str) -> CliRun:
    return run_cli(*args, columns=200)


def ok(r: CliRun) -> CliRun:
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Traceback" not in r.stderr + r.stdout
    return r


def _source(folder: Path, tmp_path: Path) -> None:
    """Four patients recorded by hand, each a different fate:
    R-1 high risk, a scheduled chest CT clear, then a local recurrence found at the
        next scheduled scan, first entered as 'symptoms' and corrected the same day:
        routine visits suspended (the case still says localized);
    L-1 low risk, a clear scan, then a last contact lost to follow-up (first entered as
        alive without disease, corrected the same day): off the worklist as lost;
    D-1 high risk, a clear scan, then death of disease: deceased;
    S-1 low risk, a clear visit only (chest CT on 2026-09-01, MRI of the primary the next
        day, the two examinations planned at a low-risk visit, I12): still under routine
        surveillance, its next visit counted from the CT, the examination done longest
        ago (the due date the move must keep)."""
    cases = {"R-1": high_risk("2025-01-10"), "L-1": low_risk("2024-03-01"),
             "D-1": high_risk("2025-01-10"), "S-1": low_risk("2024-03-01")}
    ok(pecoma("registry", "import", str(write_csv(tmp_path / "in.csv", rows_of(cases))),
              "--on", ON, "--data-dir", str(folder)))
    scans = [("R-1", "2025-04-10", "chest_ct", "no_evidence_of_disease"),
             ("R-1", "2025-07-10", "mri_primary", "local_recurrence"),
             ("L-1", "2024-09-01", "chest_ct", "no_evidence_of_disease"),
             ("D-1", "2025-04-12", "chest_ct", "no_evidence_of_disease"),
             ("S-1", "2026-09-01", "chest_ct", "no_evidence_of_disease"),
             ("S-1", "2026-09-02", "mri_primary", "no_evidence_of_disease")]
    for rid, day, modality, finding in scans:
        ok(pecoma("registry", "record-scan", rid, "--date", day, "--modality", modality,
                  "--finding", finding, "--on", ON, "--data-dir", str(folder)))
    outcomes = [("R-1", "local_recurrence", "2025-07-10", "--found-by", "symptoms"),
                ("R-1", "local_recurrence", "2025-07-10", "--found-by", "scheduled_scan"),
                ("L-1", "last_contact", "2025-02-01", "--vital-status",
                 "alive_without_disease"),
                ("L-1", "last_contact", "2025-02-01", "--vital-status", "lost_to_follow_up"),
                ("D-1", "death", "2025-11-02", "--vital-status", "dead_of_disease")]
    for rid, event, day, opt, value in outcomes:
        ok(pecoma("registry", "record-outcome", rid, "--event", event, "--date", day, opt,
                  value, "--on", ON, "--data-dir", str(folder)))


def _worklist(folder: Path) -> dict[str, tuple[Any, ...]]:
    data = json.loads(ok(pecoma("registry", "worklist", "--on", ON, "--format", "json",
                                "--data-dir", str(folder))).stdout)
    return {i["registry_id"]: (i["status"], i["due"], i["latest"], i["last_scan"],
                               i["reason"], sorted(a["id"] for a in i["alerts"]))
            for i in data["items"]}


def _survival(folder: Path, endpoint: str) -> Any:
    return json.loads(ok(pecoma("registry", "survival", "--endpoint", endpoint, "--on", ON,
                                "--min-cell", "1", "--format", "json",
                                "--data-dir", str(folder))).stdout)


@pytest.fixture
def moved(tmp_path: Path) -> tuple[Path, Path, CliRun]:
    src, dst, out = tmp_path / "src", tmp_path / "dst", tmp_path / "export"
    _source(src, tmp_path)
    export = ok(pecoma("registry", "export", "--format", "csv", "-o", str(out),
                       "--data-dir", str(src)))
    for name in MOVE_ORDER:
        ok(pecoma("registry", "import", str(out / name), "--on", ON,
                  "--data-dir", str(dst)))
    return src, dst, export


class TestMoveThroughTheCsvExport:
    def test_the_worklist_is_the_same(self, moved: tuple[Path, Path, CliRun]) -> None:
        """Same status, due date, scans and alerts for every patient; by the facts: the
        relapse suspends R-1 (not overdue for routine visits), L-1 is lost, D-1 died,
        and S-1's next visit counts from its clear CT of 2026-09-01, the examination of
        its visit done longest ago (low risk, I3: every 4-6 months in the first years,
        so due 2027-01-01, at the latest 2027-03-01, and upcoming; its last scan the MRI
        of 2026-09-02): without that visit it would count from the surgery of 2024-03-01
        and be overdue."""
        src, dst, _ = moved
        before, after = _worklist(src), _worklist(dst)
        assert after == before
        assert {k: v[0] for k, v in after.items()} == {
            "R-1": "suspended", "L-1": "lost_to_follow_up", "D-1": "deceased",
            "S-1": "upcoming"}
        assert after["S-1"][1:4] == ("2027-01-01", "2027-03-01", "2026-09-02")

    @pytest.mark.parametrize("endpoint", ["rfs", "os"])
    def test_the_survival_figures_are_the_same(self, moved: tuple[Path, Path, CliRun],
                                               endpoint: str) -> None:
        """Recurrence-free survival counts R-1's relapse, overall survival D-1's death;
        both came across, so every curve, count and median is the same."""
        src, dst, _ = moved
        assert _survival(dst, endpoint) == _survival(src, endpoint)

    def test_the_tables_import_once(self, moved: tuple[Path, Path, CliRun],
                                    tmp_path: Path) -> None:
        """Importing the scans and outcomes again records nothing (a scan or outcome
        recorded already is not recorded twice); the corrected entries are counted as
        left out, the entries that stand imported."""
        _, dst, _ = moved
        out = tmp_path / "export"
        r = ok(pecoma("registry", "import", str(out / "imaging_events.csv"), "--on", ON,
                      "--data-dir", str(dst), "--format", "json"))
        assert json.loads(r.stdout)["new_scans"] == 0
        r = ok(pecoma("registry", "import", str(out / "outcomes.csv"), "--on", ON,
                      "--data-dir", str(dst), "--format", "json"))
        data = json.loads(r.stdout)
        assert (data["new_outcomes"], data["unchanged"], data["corrected_left_out"]) == (0, 3, 2)

    def test_the_export_says_what_is_not_carried(self,
                                                 moved: tuple[Path, Path, CliRun]) -> None:
        """Never silent: the export names the order of import and what stays behind."""
        text = " ".join(moved[2].stderr.split())
        assert "cases.csv, imaging_events.csv, outcomes.csv" in text
        for part in ("earlier case versions", "board and CDS decisions", "the audit log"):
            assert part in text


class TestEntryTableRows:
    def test_a_bad_row_writes_nothing_and_is_named(self, tmp_path: Path) -> None:
        """An outcome for a patient not in the registry and a scan with an unknown
        modality are refused with row, column, value and rule (all-or-nothing: nothing
        written), never a traceback."""
        dst = tmp_path / "dst"
        ok(pecoma("registry", "import", str(write_csv(tmp_path / "c.csv",
                                                      rows_of({"S-1": low_risk()}))),
                  "--on", ON, "--data-dir", str(dst)))
        outcomes = tmp_path / "outcomes.csv"
        outcomes.write_text("id,registry_id,event,event_date,vital_status,found_by\n"
                            "1,S-1,last_contact,2025-01-01,alive_without_disease,\n"
                            "2,X-9,death,2025-02-01,dead_of_disease,\n")
        r = pecoma("registry", "import", str(outcomes), "--on", ON, "--data-dir", str(dst))
        assert r.returncode == 3 and "Traceback" not in r.stderr
        assert "nothing was written" in r.stdout
        assert re.search(r"row 3, column 'registry_id': must be the id of a patient", r.stderr)
        scans = tmp_path / "imaging_events.csv"
        scans.write_text("registry_id,performed_on,modality,finding\n"
                         "S-1,2025-01-01,pet_mri,no_evidence_of_disease\n")
        r = pecoma("registry", "import", str(scans), "--on", ON, "--data-dir", str(dst))
        assert r.returncode == 3
        assert "row 2, column 'modality'" in r.stderr
        assert _worklist(dst)["S-1"][3] is None  # nothing recorded

    def test_an_empty_table_still_has_its_header(self, tmp_path: Path) -> None:
        """A registry without scans or outcomes exports both tables with their header,
        so importing them (as the export says to) is no error: zero rows."""
        src, out = tmp_path / "src", tmp_path / "out"
        ok(pecoma("registry", "import", str(write_csv(tmp_path / "c.csv",
                                                      rows_of({"S-1": low_risk()}))),
                  "--on", ON, "--data-dir", str(src)))
        ok(pecoma("registry", "export", "--format", "csv", "-o", str(out),
                  "--data-dir", str(src)))
        for name in MOVE_ORDER:
            ok(pecoma("registry", "import", str(out / name), "--on", ON,
                      "--data-dir", str(tmp_path / "dst")))


def test_the_docs_say_how_to_move_a_registry() -> None:
    """docs/registry.md (Export) says which files another registry imports, in which
    order, and what is not carried; the command prints the same."""
    docs = (Path(__file__).parent.parent / "docs" / "registry.md").read_text()
    export = docs.split("## Export", 1)[1].split("\n## ", 1)[0]
    text = " ".join(export.split())
    assert "`cases.csv`, `imaging_events.csv`, `outcomes.csv`" in text
    assert "board and CDS decisions" in text and "audit log" in text


HEAD = ("id,registry_id,event,event_date,vital_status,found_by,scan_id,scan_performed_on,"
        "corrected_by,recorded_at,recorded_by\n")
LOST = "7,L-1,last_contact,2025-02-01,lost_to_follow_up,,,,,x,y\n"


@pytest.fixture
def scans_moved(tmp_path: Path) -> Path:
    """The cases and scans of :func:`_source` moved, not yet the outcomes (D-1 has a clear
    chest CT on 2025-04-12)."""
    src, dst, out = tmp_path / "src", tmp_path / "dst", tmp_path / "export"
    _source(src, tmp_path)
    ok(pecoma("registry", "export", "--format", "csv", "-o", str(out), "--data-dir", str(src)))
    for name in MOVE_ORDER[:2]:
        ok(pecoma("registry", "import", str(out / name), "--on", ON, "--data-dir", str(dst)))
    return dst


def _import(dst: Path, tmp_path: Path, text: str, *opts: str) -> CliRun:
    f = tmp_path / "outcomes.csv"
    f.write_text(HEAD + text)
    r = pecoma("registry", "import", str(f), "--on", ON, "--data-dir", str(dst), *opts)
    assert "Traceback" not in r.stderr + r.stdout
    return r


class TestOutcomeTableIsOneTransaction:
    @pytest.mark.parametrize(("rows", "named"), [
        # a last contact after the death in the same file: no follow-up after death
        ("1,D-1,death,2025-11-02,dead_of_disease,,,,,x,y\n"
         "2,D-1,last_contact,2025-12-05,alive_without_disease,,,,,x,y\n",
         "row 3, column 'event_date': must not be after the recorded death"),
        # a death before D-1's stored scan of 2025-04-12: the scan shows them alive
        ("1,D-1,death,2025-03-02,dead_of_disease,,,,,x,y\n",
         "row 2, column 'event_date': must not be before the latest recorded follow-up "
         "(scan (chest_ct) on 2025-04-12)"),
        # two deaths of one patient: one death per patient
        ("1,D-1,death,2025-11-02,dead_of_disease,,,,,x,y\n"
         "2,D-1,death,2025-11-20,dead_of_other_cause,,,,,x,y\n",
         "row 3, column 'event': a death is already recorded (on 2025-11-02)"),
    ], ids=["contact-after-death", "death-before-scan", "two-deaths"])
    def test_a_row_contradicting_stored_facts_or_another_row_writes_nothing(
            self, scans_moved: Path, tmp_path: Path, rows: str, named: str) -> None:
        """All-or-nothing (the default): a row refused against the stored scans or another
        row of the file is named with row, column, value and rule, and nothing of the
        table is written, the good rows neither: L-1's lost contact is not stored, so L-1
        is still on the worklist (not lost), and D-1 is not deceased."""
        r = _import(scans_moved, tmp_path, rows + LOST)
        assert r.returncode == 3
        assert "nothing was written" in r.stdout
        assert named in " ".join(r.stderr.split())
        statuses = {k: v[0] for k, v in _worklist(scans_moved).items()}
        assert statuses["L-1"] != "lost_to_follow_up" and statuses["D-1"] != "deceased"


class TestOutcomeTableRowsNamed:
    def test_a_corrected_row_whose_correction_is_missing_is_refused(
            self, scans_moved: Path, tmp_path: Path) -> None:
        """A row that names in corrected_by a row not in the file (deleted by hand) would
        otherwise be dropped and L-1, lost to follow-up, come back overdue: refused,
        naming the row, the column and the id; nothing written."""
        r = _import(scans_moved, tmp_path,
                    "9,L-1,last_contact,2025-02-01,lost_to_follow_up,,,,12,x,y\n")
        assert r.returncode == 3 and "nothing was written" in r.stdout
        assert "row 2, column 'corrected_by'" in r.stderr and "'12'" in r.stderr

    def test_a_correction_in_the_file_leaves_the_corrected_row_out(
            self, scans_moved: Path, tmp_path: Path) -> None:
        """The same row with its correcting row present: left out, the correction (lost
        to follow-up) imported, so L-1 leaves the worklist as lost."""
        r = ok(_import(scans_moved, tmp_path,
                       "6,L-1,last_contact,2025-02-01,alive_without_disease,,,,7,x,y\n"
                       + LOST))
        assert "1 corrected entries left out" in r.stdout
        assert _worklist(scans_moved)["L-1"][0] == "lost_to_follow_up"

    @pytest.mark.parametrize("extra", ["note", "comment"])
    def test_an_added_column_is_named_not_read_as_cases(
            self, scans_moved: Path, tmp_path: Path, extra: str) -> None:
        """An outcomes table with a column added in a spreadsheet is still an outcomes
        table: the added column is named as not one of its columns (the outcome columns
        are not called unknown), and nothing is written."""
        f = tmp_path / "outcomes.csv"
        f.write_text(HEAD.rstrip("\n") + f",{extra}\n" + LOST.rstrip("\n") + ",x\n")
        r = pecoma("registry", "import", str(f), "--on", ON, "--data-dir", str(scans_moved))
        assert r.returncode == 3 and "nothing was written" in r.stdout
        text = " ".join(r.stderr.split())
        assert f"row 1, column '{extra}': is not a column of outcomes.csv" in text
        assert "column 'event'" not in text and "tumour.primary_site" not in text


def test_the_move_says_views_before_it_are_not_reproduced() -> None:
    """Every moved case is dated by the import's --on, earlier versions not carried: a
    worklist or summary dated before the move finds no patient. The docs (Moving a
    registry) and the export's note say so, not that every figure is the same."""
    from pecoma.cli.registry_exports import MOVE_NOTE

    docs = (Path(__file__).parent.parent / "docs" / "registry.md").read_text()
    export = " ".join(docs.split("## Export", 1)[1].split("\n## ", 1)[0].split())
    assert "views as of an earlier date (an audit of last quarter, say) are not reproduced" \
        in export
    assert "views dated before the move are not reproduced" in " ".join(MOVE_NOTE)


def _ids(folder: Path, tmp_path: Path, table: str) -> dict[tuple[str, str], str]:
    """(registry id, date) -> the id of the patient's entry of that day in ``table`` of
    the registry in ``folder`` (as its export numbers it)."""
    out = tmp_path / "ids"
    ok(pecoma("registry", "export", "--format", "csv", "-o", str(out), "--data-dir",
              str(folder)))
    rows = (out / table).read_text().splitlines()[1:]
    return {(r.split(",")[1], r.split(",")[2 if table == "imaging_events.csv" else 3]):
            r.split(",")[0] for r in rows}


class TestReimportKeepsCorrectionsAndWithdrawals:
    """The moved tables imported again (the move run twice, or the old centre sending its
    cumulative export again) never undo what a clinician corrected or withdrew in the new
    registry since. Before, the import recorded the old values again without a word."""

    def test_a_correction_made_since_stands_and_the_cell_is_named(
            self, moved: tuple[Path, Path, CliRun], tmp_path: Path) -> None:
        """L-1's last contact of 2025-02-01, moved as lost to follow-up, is corrected in
        the new registry to alive with disease (the patient was traced): the case holds
        no disease, so routine visits are suspended with the critical alert
        REGISTRY-DISEASE-NOT-IN-CASE. Re-importing the moved outcomes.csv would bring
        'lost to follow-up' back (L-1 off the worklist, the alert gone): it is not
        recorded, the row's vital_status cell is named, and L-1 stays suspended."""
        _, dst, _ = moved
        ok(pecoma("registry", "record-outcome", "L-1", "--event", "last_contact", "--date",
                  "2025-02-01", "--vital-status", "alive_with_disease", "--on", ON,
                  "--data-dir", str(dst)))
        assert _worklist(dst)["L-1"][0] == "suspended"
        assert "REGISTRY-DISEASE-NOT-IN-CASE" in _worklist(dst)["L-1"][5]
        r = ok(pecoma("registry", "import", str(tmp_path / "export" / "outcomes.csv"),
                      "--on", ON, "--data-dir", str(dst)))
        text = " ".join((r.stdout + r.stderr).split())
        assert "0 new outcomes" in text
        assert ("column 'vital_status': not recorded: this last contact on 2025-02-01 was "
                "corrected since (vital status now 'alive_with_disease')") in text
        assert _worklist(dst)["L-1"][0] == "suspended"
        assert "REGISTRY-DISEASE-NOT-IN-CASE" in _worklist(dst)["L-1"][5]

    def test_withdrawn_scans_and_outcomes_do_not_come_back(
            self, moved: tuple[Path, Path, CliRun], tmp_path: Path) -> None:
        """In the new registry D-1's death is withdrawn (another patient's) and S-1's
        clear CT of 2026-09-01 too (never done). D-1 is then followed again (high risk,
        last scan 2025-04-12: overdue), and S-1's next visit counts from the surgery of
        2024-03-01 (overdue). The moved tables imported again would bring both back
        (D-1 deceased, S-1 upcoming): neither is recorded, each row is named with
        when, by whom and why it was withdrawn."""
        _, dst, _ = moved
        death = _ids(dst, tmp_path, "outcomes.csv")[("D-1", "2025-11-02")]
        scan = _ids(dst, tmp_path, "imaging_events.csv")[("S-1", "2026-09-01")]
        ok(pecoma("registry", "withdraw", "D-1", "--outcome", death, "--reason",
                  "another patient's death", "--on", ON, "--data-dir", str(dst)))
        ok(pecoma("registry", "withdraw", "S-1", "--scan", scan, "--reason",
                  "never done", "--on", ON, "--data-dir", str(dst)))
        expected = {"D-1": "overdue", "S-1": "overdue"}
        assert {k: _worklist(dst)[k][0] for k in expected} == expected
        for name, words in (("imaging_events.csv", "this scan (chest_ct, no evidence of "
                             "disease) on 2026-09-01 was withdrawn as entered in error"),
                            ("outcomes.csv", "this death on 2025-11-02 was withdrawn as "
                             "entered in error")):
            r = ok(pecoma("registry", "import", str(tmp_path / "export" / name), "--on", ON,
                          "--data-dir", str(dst)))
            text = " ".join((r.stdout + r.stderr).split())
            assert "written: 0 new" in text
            assert f"not recorded again: {words}" in text
            assert "does not undo a withdrawal" in text
        assert {k: _worklist(dst)[k][0] for k in expected} == expected

    def _withdraw_death_and_scan(self, dst: Path, tmp_path: Path) -> None:
        """D-1's death withdrawn (another patient's), S-1's clear CT of 2026-09-01 too
        (never done): D-1 is followed again (high risk, last scan 2025-04-12: overdue),
        S-1's next visit counts from the surgery of 2024-03-01 (overdue)."""
        death = _ids(dst, tmp_path, "outcomes.csv")[("D-1", "2025-11-02")]
        scan = _ids(dst, tmp_path, "imaging_events.csv")[("S-1", "2026-09-01")]
        ok(pecoma("registry", "withdraw", "D-1", "--outcome", death, "--reason",
                  "another patient's death", "--on", ON, "--data-dir", str(dst)))
        ok(pecoma("registry", "withdraw", "S-1", "--scan", scan, "--reason",
                  "never done", "--on", ON, "--data-dir", str(dst)))

    @pytest.mark.parametrize("resave", ["crlf", "semicolons-bom"])
    def test_the_same_table_saved_again_is_a_table_imported_before(
            self, moved: tuple[Path, Path, CliRun], tmp_path: Path, resave: str) -> None:
        """The moved tables saved again by a spreadsheet (Windows line ends; semicolons,
        a byte order mark and Windows line ends) hold the same cells: the same tables,
        no new word from the source. They counted as new files by their bytes, so D-1's
        withdrawn death came back (deceased) and S-1's withdrawn CT too (upcoming), the
        notes on stderr only, exit 0. Now nothing comes back: D-1 and S-1 stay overdue,
        and each kept withdrawal is named with the report, on stdout."""
        _, dst, _ = moved
        self._withdraw_death_and_scan(dst, tmp_path)
        expected = {"D-1": "overdue", "S-1": "overdue"}
        assert {k: _worklist(dst)[k][0] for k in expected} == expected
        for name in ("imaging_events.csv", "outcomes.csv"):
            text = (tmp_path / "export" / name).read_text().replace("\r\n", "\n")
            if resave == "semicolons-bom":
                text = "\ufeff" + text.replace(",", ";")
            other = tmp_path / f"again_{name}"
            other.write_bytes(text.replace("\n", "\r\n").encode())
            r = ok(pecoma("registry", "import", str(other), "--on", ON,
                          "--data-dir", str(dst)))
            out = " ".join(r.stdout.split())
            assert "written: 0 new" in out
            assert "not recorded again" in out and "does not undo a withdrawal" in out
        assert {k: _worklist(dst)[k][0] for k in expected} == expected

    def test_a_file_not_imported_before_is_the_sources_word_and_says_so(
            self, moved: tuple[Path, Path, CliRun], tmp_path: Path) -> None:
        """A table of other cells (the old registry's later export: a clear chest CT of
        D-1 on 2025-06-01 and a later contact of L-1, lost to follow-up, added) is the
        source's current word, as a cases file is: D-1's death and S-1's clear CT of
        2026-09-01 withdrawn in the new registry are recorded again (D-1 deceased, S-1
        upcoming again, its next visit counted from that CT), and each row bringing one
        back is named with the report (stdout), so that a withdrawal that should stand
        can be made again."""
        _, dst, _ = moved
        self._withdraw_death_and_scan(dst, tmp_path)
        added = {"imaging_events.csv": "99,D-1,2025-06-01,chest_ct,no_evidence_of_disease,x,y",
                 "outcomes.csv": "99,L-1,last_contact,2025-06-01,lost_to_follow_up,,,,,x,y"}
        for name, kind in (("imaging_events.csv", "scans"), ("outcomes.csv", "outcomes")):
            other = tmp_path / f"later_{name}"
            other.write_text((tmp_path / "export" / name).read_text().rstrip("\r\n")
                             + "\n" + added[name] + "\n")
            r = ok(pecoma("registry", "import", str(other), "--on", ON,
                          "--data-dir", str(dst)))
            out = " ".join(r.stdout.split())
            assert f"written: 2 new {kind}" in out
            assert "recorded, bringing back an entry withdrawn as entered in error" in out
        assert {k: _worklist(dst)[k][0] for k in ("D-1", "S-1")} == {
            "D-1": "deceased", "S-1": "upcoming"}


class TestCorrectedByMustNameTheSameEvent:
    def test_a_correction_naming_another_patients_row_is_refused(
            self, scans_moved: Path, tmp_path: Path) -> None:
        """S-1's distant metastasis of 2026-10-01 names as its correction the row of L-1's
        last contact (two registries' tables put together): that row corrects nothing
        here. Before, the metastasis was dropped without a word (exit 0) and S-1 stayed
        on routine visits (upcoming). Refused naming the row; with the correction emptied
        it is recorded and S-1's routine visits are suspended (S17, S27)."""
        rows = ("10,S-1,distant_metastasis,2026-10-01,,symptoms,,,11,x,y\n"
                "11,L-1,last_contact,2025-03-05,alive_without_disease,,,,,x,y\n")
        for opts in ((), ("--good-rows",)):
            r = _import(scans_moved, tmp_path, rows, *opts)
            assert r.returncode == 3
            text = " ".join(r.stderr.split())
            assert ("row 2, column 'corrected_by': must be the id of the row that corrects "
                    "this entry: the same patient's same event on the same day; row 3 (id "
                    "11) is L-1's last_contact on 2025-03-05") in text
        assert _worklist(scans_moved)["S-1"][0] == "upcoming"  # nothing of row 2 written
        ok(_import(scans_moved, tmp_path, rows.replace(",11,x,y", ",,x,y")))
        assert _worklist(scans_moved)["S-1"][0] == "suspended"

    @pytest.mark.parametrize(("rows", "named"), [
        # a correction of another day is another event, not a correction
        ("10,S-1,distant_metastasis,2026-10-01,,symptoms,,,11,x,y\n"
         "11,S-1,distant_metastasis,2026-10-02,,scheduled_scan,,,,x,y\n",
         "row 2, column 'corrected_by': must be the id of the row that corrects this entry"),
        # two rows with id 3: which one corrects is a guess
        ("3,S-1,last_contact,2026-10-01,alive_without_disease,,,,,x,y\n"
         "3,L-1,last_contact,2025-03-05,alive_without_disease,,,,,x,y\n"
         "4,S-1,last_contact,2026-10-01,lost_to_follow_up,,,,3,x,y\n",
         "row 3, column 'id': must appear only once in the file (also on row 2)"),
        ("3,S-1,last_contact,2026-10-01,alive_without_disease,,,,,x,y\n"
         "3,L-1,last_contact,2025-03-05,alive_without_disease,,,,,x,y\n"
         "4,S-1,last_contact,2026-10-01,lost_to_follow_up,,,,3,x,y\n",
         "row 4, column 'corrected_by': names an id that more than one row has (rows 2, 3)"),
        # a row naming itself
        ("12,S-1,last_contact,2026-10-01,lost_to_follow_up,,,,12,x,y\n",
         "row 2, column 'corrected_by': must be the id of another row of this file, the "
         "entry that corrects this one: it is this row's own id"),
    ], ids=["another-day", "repeated-id", "ambiguous-correction", "self"])
    def test_a_correction_that_corrects_nothing_is_refused(
            self, scans_moved: Path, tmp_path: Path, rows: str, named: str) -> None:
        """Every such row is named (exit 3) and nothing is written: S-1 is neither
        suspended nor lost, still upcoming."""
        r = _import(scans_moved, tmp_path, rows)
        assert r.returncode == 3 and "nothing was written" in r.stdout
        assert named in " ".join(r.stderr.split())
        assert _worklist(scans_moved)["S-1"][0] == "upcoming"


class TestOutcomeTableOnePass:
    ROWS = ("1,D-1,death,2025-11-02,dead_of_diseas,,,,,x,y\n"          # a bad cell
            + LOST                                                       # good
            + "3,S-1,death,2025-03-02,dead_of_other_cause,,,,,x,y\n"    # before its scan
            "4,S-1,last_contact,2026-12-07,alive_without_disease,,,,,x,y\n")  # after --on

    def test_every_problem_is_named_in_both_modes(self, scans_moved: Path,
                                                   tmp_path: Path) -> None:
        """A bad vital status on row 2 hid, in all-or-nothing mode, that S-1's death of
        2025-03-02 is before its CT of 2026-09-01 and that row 5 is after the evaluation
        date: '4 read, 3 good', though two of those were bad. Both modes now name the
        same three rows, one good (L-1's contact lost to follow-up): all-or-nothing
        writes nothing (L-1 still followed), --good-rows writes it (L-1 lost to
        follow-up); S-1 is neither deceased nor changed (upcoming) either way."""
        reports = []
        for opts, l1 in (((), "overdue"), (("--good-rows",), "lost_to_follow_up")):
            r = _import(scans_moved, tmp_path, self.ROWS, "--format", "json", *opts)
            assert r.returncode == 3
            data = json.loads(r.stdout)
            reports.append(data)
            assert (data["rows"], data["good_rows"], data["rejected_rows"]) == (4, 1, [2, 4, 5])
            assert {k: v[0] for k, v in _worklist(scans_moved).items()
                    if k in ("L-1", "S-1")} == {"L-1": l1, "S-1": "upcoming"}
        assert reports[0]["issues"] == reports[1]["issues"]
        assert not reports[0]["committed"] and reports[1]["committed"]
        assert reports[1]["new_outcomes"] == 1


class TestCorrectionRejected:
    def test_the_corrected_row_is_named_not_claimed_replaced(
            self, scans_moved: Path, tmp_path: Path) -> None:
        """S-1's metastasis of 2026-10-01 (row 2) is corrected by row 3 whose way found is
        not a value ('sometimes'). With --good-rows the report said '1 corrected entries
        left out (the entry that corrects each is imported)', though nothing was: the
        metastasis was dropped unnamed. Now row 2 is named as not imported because its
        correction is rejected, and no row is claimed replaced; S-1 stays upcoming
        (nothing recorded) until the file is fixed, then is suspended."""
        rows = ("10,S-1,distant_metastasis,2026-10-01,,symptoms,,,11,x,y\n"
                "11,S-1,distant_metastasis,2026-10-01,,sometimes,,,,x,y\n")
        r = _import(scans_moved, tmp_path, rows, "--good-rows")
        assert r.returncode == 3
        text = " ".join((r.stdout + r.stderr).split())
        assert "2 rows read, 0 good, 2 rejected" in text
        assert "corrected entries left out" not in text
        assert ("row 2, column 'corrected_by': not imported: the row that corrects this "
                "entry, row 3, is rejected") in text
        assert _worklist(scans_moved)["S-1"][0] == "upcoming"
        r = ok(_import(scans_moved, tmp_path, rows.replace("sometimes", "scheduled_scan"),
                       "--good-rows"))
        assert "1 corrected entries left out" in r.stdout
        assert _worklist(scans_moved)["S-1"][0] == "suspended"


class TestCorrectionsEndAtAnEntryThatStands:
    """A chain of corrections (``corrected_by``) must end at a row that is imported: the
    entry that stands. S-1 (low risk, a clear CT of 2026-09-01) has a distant metastasis
    found on 2026-10-01: recorded, it suspends S-1's routine visits (S17, S27); not
    recorded, S-1 stays on routine visits (upcoming, next due from that CT)."""

    @pytest.mark.parametrize("rows", [
        # two rows naming each other
        ("10,S-1,distant_metastasis,2026-10-01,,symptoms,,,11,x,y\n"
         "11,S-1,distant_metastasis,2026-10-01,,other,,,10,x,y\n"),
        # a ring of three
        ("10,S-1,distant_metastasis,2026-10-01,,symptoms,,,11,x,y\n"
         "11,S-1,distant_metastasis,2026-10-01,,other,,,12,x,y\n"
         "12,S-1,distant_metastasis,2026-10-01,,scheduled_scan,,,10,x,y\n"),
    ], ids=["two-rows", "ring-of-three"])
    @pytest.mark.parametrize("mode", [(), ("--good-rows",)], ids=["all-or-nothing",
                                                                  "good-rows"])
    def test_a_loop_of_corrections_is_refused_naming_every_row(
            self, scans_moved: Path, tmp_path: Path, rows: str, mode: tuple[str, ...]
            ) -> None:
        """No row of a loop stands, yet each was left out as corrected: '0 good, 0
        rejected … corrected entries left out (the row of the file that corrects each
        stands in its place)', exit 0, the metastasis lost and S-1 left upcoming. Now
        every row of the loop is refused naming the loop, in both modes (exit 3), no row
        is counted as left out, and S-1 stays upcoming until the file says which entry
        stands; with the loop broken (the last row's corrected_by emptied, so that row
        stands) the metastasis is recorded and S-1's routine visits are suspended."""
        n = rows.count("\n")
        r = _import(scans_moved, tmp_path, rows, *mode)
        assert r.returncode == 3
        out, err = " ".join(r.stdout.split()), " ".join(r.stderr.split())
        assert f"{n} rows read, 0 good, {n} rejected" in out
        assert "corrected entries left out" not in out
        for row in range(2, n + 2):
            assert (f"row {row}, column 'corrected_by': must lead to the entry that stands, "
                    "a row whose corrected_by is empty: the corrections go round in a loop "
                    "(row 2 (id 10) -> row 3 (id 11) ->") in err
        assert _worklist(scans_moved)["S-1"][0] == "upcoming"
        last = rows.splitlines()[-1]
        broken = rows.replace(last, last.replace(",10,x,y", ",,x,y"))
        r = ok(_import(scans_moved, tmp_path, broken, *mode))
        assert f"{n - 1} corrected entries left out" in r.stdout
        assert _worklist(scans_moved)["S-1"][0] == "suspended"

    @pytest.mark.parametrize("mode", [(), ("--good-rows",)], ids=["all-or-nothing",
                                                                  "good-rows"])
    def test_two_entries_of_one_event_neither_corrected_are_refused(
            self, scans_moved: Path, tmp_path: Path, mode: tuple[str, ...]) -> None:
        """L-1 (low risk, last scan 2024-09-01: overdue) has two last contacts on
        2025-03-05, id 7 alive with disease, id 5 alive without disease, neither marked
        corrected (a corrected_by emptied in a spreadsheet). Both were written in file
        order, so the row lower in the file became current, whatever the ids: L-1 stayed
        overdue on routine visits though the later id says alive with disease. Which one
        stands is not known: both rows are refused naming each other, in both modes, and
        L-1 stays overdue. Once the file says it (id 5 corrected by 7), alive with disease
        stands: the case holds no disease, so routine visits are suspended with the
        critical alert REGISTRY-DISEASE-NOT-IN-CASE."""
        rows = ("7,L-1,last_contact,2025-03-05,alive_with_disease,,,,,x,y\n"
                "5,L-1,last_contact,2025-03-05,alive_without_disease,,,,,x,y\n")
        r = _import(scans_moved, tmp_path, rows, *mode)
        assert r.returncode == 3
        assert "2 rows read, 0 good, 2 rejected" in " ".join(r.stdout.split())
        err = " ".join(r.stderr.split())
        for row, other in ((2, "row 3 (id 5: alive_without_disease)"),
                           (3, "row 2 (id 7: alive_with_disease)")):
            assert (f"row {row}, column 'corrected_by': must name the entry that corrects "
                    "this one when the file holds another entry of L-1's last_contact on "
                    f"2025-03-05 with another value ({other}) and none of them is marked "
                    "corrected") in err
        assert _worklist(scans_moved)["L-1"][0] == "overdue"
        ok(_import(scans_moved, tmp_path, rows.replace("alive_without_disease,,,,,x,y",
                                                       "alive_without_disease,,,,7,x,y"),
                   *mode))
        row = _worklist(scans_moved)["L-1"]
        assert row[0] == "suspended" and "REGISTRY-DISEASE-NOT-IN-CASE" in row[5]

    def test_the_same_entry_twice_is_no_conflict(self, scans_moved: Path,
                                                 tmp_path: Path) -> None:
        """The same last contact twice (same value) says one thing: recorded once, L-1
        lost to follow-up (off the worklist as lost)."""
        r = ok(_import(scans_moved, tmp_path, LOST + LOST.replace("7,", "8,", 1)))
        assert "written: 1 new outcomes, 1 unchanged" in r.stdout
        assert _worklist(scans_moved)["L-1"][0] == "lost_to_follow_up"


class TestRowCutShort:
    def test_an_outcome_row_with_fewer_cells_than_the_header_is_refused(
            self, scans_moved: Path, tmp_path: Path) -> None:
        """outcomes.csv cut inside its last row: S-1's metastasis of 2026-10-01 (id 11,
        found by symptoms in the whole file) ends after its date, 6 cells of 11. It was
        read with the missing cells empty: recorded with its way found 'not recorded',
        the corrected row (id 10, scheduled_scan) left out. Now the cut row is refused
        naming its cells and the header's, the row it corrects named as not imported,
        nothing written: S-1 stays upcoming until the whole file is imported."""
        rows = ("10,S-1,distant_metastasis,2026-10-01,,scheduled_scan,,,11,x,y\n"
                "11,S-1,distant_metastasis,2026-10-01,,")
        r = _import(scans_moved, tmp_path, rows)
        assert r.returncode == 3 and "nothing was written" in r.stdout
        err = " ".join(r.stderr.split())
        assert ("row 3, column '(row)': must have a cell for each of the header's 11 "
                "columns (empty ones included, as a spreadsheet saves them): this row has "
                "6, so the file may be cut short") in err
        assert ("row 2, column 'corrected_by': not imported: the row that corrects this "
                "entry, row 3, is rejected") in err
        assert _worklist(scans_moved)["S-1"][0] == "upcoming"

    @pytest.mark.parametrize("tail", ["\n", "\n\n", ",,,,,,,,,,\n", "\r\n"],
                             ids=["blank-line", "two-blank-lines", "empty-cells", "crlf"])
    def test_an_empty_line_is_no_row(self, scans_moved: Path, tmp_path: Path,
                                     tail: str) -> None:
        """An export's outcomes.csv with an empty line at its end (a spreadsheet or an
        editor adds one), or a line of empty cells: no row, as in a file of cases. It had
        been read as a row naming no patient and refused, so the whole table was not
        imported: S-1's metastasis of 2026-10-01 is recorded and S-1 suspended."""
        r = _import(scans_moved, tmp_path,
                    "11,S-1,distant_metastasis,2026-10-01,,symptoms,,,,x,y\n" + tail)
        assert r.returncode == 0, r.stdout + r.stderr
        assert _worklist(scans_moved)["S-1"][0] == "suspended"

    def test_a_cases_row_cut_short_is_refused(self, tmp_path: Path) -> None:
        """A cases file cut inside its last row (the header's later columns missing from
        it) is refused on that row, naming its cells and the header's, never read with
        the missing cells unknown (its margin, its mitoses): all-or-nothing writes
        nothing, L-1's good row neither."""
        f = write_csv(tmp_path / "c.csv", rows_of({"L-1": low_risk("2024-03-01"),
                                                   "S-1": low_risk("2024-03-01")}))
        lines = f.read_text().splitlines()
        width = len(lines[0].split(","))
        cut = ",".join(lines[-1].split(",")[:4])
        f.write_text("\n".join([*lines[:-1], cut]))
        r = pecoma("registry", "import", str(f), "--on", ON, "--data-dir",
                   str(tmp_path / "dst"))
        assert r.returncode == 3 and "nothing was written" in r.stdout
        assert (f"row 3, column '(row)': must have a cell for each of the header's {width} "
                "columns") in " ".join(r.stderr.split())
