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
    S-1 low risk, a clear scan only: still under routine surveillance, its next visit
        counted from that scan (the due date the move must keep)."""
    cases = {"R-1": high_risk("2025-01-10"), "L-1": low_risk("2024-03-01"),
             "D-1": high_risk("2025-01-10"), "S-1": low_risk("2024-03-01")}
    ok(pecoma("registry", "import", str(write_csv(tmp_path / "in.csv", rows_of(cases))),
              "--on", ON, "--data-dir", str(folder)))
    scans = [("R-1", "2025-04-10", "chest_ct", "no_evidence_of_disease"),
             ("R-1", "2025-07-10", "mri_primary", "local_recurrence"),
             ("L-1", "2024-09-01", "chest_ct", "no_evidence_of_disease"),
             ("D-1", "2025-04-12", "chest_ct", "no_evidence_of_disease"),
             ("S-1", "2026-09-01", "chest_ct", "no_evidence_of_disease")]
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
        and S-1's next visit counts from its clear CT of 2026-09-01 (low risk, I3: every
        4-6 months in the first years, so due 2027-01-01, at the latest 2027-03-01, and
        upcoming): without that scan it would count from the surgery of 2024-03-01 and
        be overdue."""
        src, dst, _ = moved
        before, after = _worklist(src), _worklist(dst)
        assert after == before
        assert {k: v[0] for k, v in after.items()} == {
            "R-1": "suspended", "L-1": "lost_to_follow_up", "D-1": "deceased",
            "S-1": "upcoming"}
        assert after["S-1"][1:4] == ("2027-01-01", "2027-03-01", "2026-09-01")

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
