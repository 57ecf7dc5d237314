"""``pecoma registry``, run as a user runs it: real files, real databases, exit codes (in
this process, see ``cli_support``; the console script itself is run as a process in
test_cli.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pecoma import parse_case
from pecoma.registry.columns import COLUMN_NAMES
from pecoma.store import Repository

from cli_support import CliRun, run_cli
from registry_support import (
    db_url,
    empty_db_url,
    high_risk,
    low_risk,
    metastatic,
    record_unchecked,
    repo,
    rows_of,
    write_csv,
)

__all__ = ["db_url", "empty_db_url", "repo"]


def pecoma(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> CliRun:
    return run_cli(*args, cwd=cwd, env=env, columns=200)


def no_traceback(r: CliRun) -> None:
    assert "Traceback" not in r.stderr + r.stdout


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "cases.csv", rows_of(
        {"PEC-0001": high_risk(), "PEC-0002": low_risk(), "PEC-0003": metastatic()}))


def test_end_to_end(empty_db_url: str, good_csv: Path, tmp_path: Path) -> None:
    """init, import twice, record a scan, worklist, reassess, summary, export, audit."""
    db_url = empty_db_url
    db = ("--database-url", db_url)
    r = pecoma("registry", "init", *db)
    assert r.returncode == 0, r.stderr
    assert "schema created (revision " in r.stdout
    r = pecoma("registry", "import", str(good_csv), "--on", "2026-11-28", "--actor", "ana", *db)
    assert r.returncode == 0, r.stderr
    assert "written: 3 new patients, 3 new case versions, 0 unchanged" in r.stdout
    r = pecoma("registry", "import", str(good_csv), "--on", "2026-11-28", "--format", "json",
               *db)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unchanged"] == 3
    # both examinations planned at a high-risk visit (S21, S22): the visit is done, the
    # patient's row "done" (a chest CT alone leaves the MRI owed on its own clock)
    for modality in ("chest_ct", "mri_primary"):
        r = pecoma("registry", "record-scan", "PEC-0001", "--date", "2026-11-20",
                   "--modality", modality, "--finding", "no_evidence_of_disease", "--on",
                   "2026-11-28", *db)
        assert r.returncode == 0, r.stderr
    r = pecoma("registry", "worklist", "--on", "2026-11-28", "--format", "csv", *db)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["registry_id"], x["status"]) for x in rows] == [
        ("PEC-0002", "overdue"), ("PEC-0001", "done"), ("PEC-0003", "not_drawn")]
    r = pecoma("registry", "worklist", "--on", "2026-11-28", "--status", "overdue",
               "--format", "json", *db)
    assert [i["registry_id"] for i in json.loads(r.stdout)["items"]] == ["PEC-0002"]
    r = pecoma("registry", "reassess", "--on", "2026-11-28", "--format", "json", *db)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["patients"], data["stored"]) == (3, 1)
    assert [c["registry_id"] for c in data["changes"]] == ["PEC-0001"]  # the scan moved it
    r = pecoma("registry", "summary", "--on", "2026-11-28", "--format", "json", *db)
    assert json.loads(r.stdout)["by_risk_group"] == {"high": 1, "low": 1, "not_applicable": 1}
    r = pecoma("registry", "export", *db)
    exported = json.loads(r.stdout)
    assert len(exported["patients"]) == 3 and len(exported["imaging_events"]) == 2
    r = pecoma("registry", "audit", "--limit", "3", *db)
    assert r.returncode == 0 and "reassess" in r.stdout and "imaging_event" in r.stdout


class TestExitCodes:
    def test_missing_file(self, tmp_path: Path) -> None:
        r = pecoma("registry", "import", "nope.csv", "--data-dir", str(tmp_path))
        assert r.returncode == 4
        assert "cannot import: file not found" in r.stderr
        no_traceback(r)

    def test_an_audit_limit_beyond_any_log_is_named(self, tmp_path: Path) -> None:
        """A limit of 26 digits overflowed the database's integer: now the option and
        its range are named (exit 2, usage), with no traceback."""
        r = pecoma("registry", "audit", "--limit", "9" * 26, "--data-dir", str(tmp_path))
        assert r.returncode == 2
        assert "--limit" in r.stderr
        no_traceback(r)

    def test_not_a_workbook(self, tmp_path: Path) -> None:
        bad = tmp_path / "cases.xlsx"
        bad.write_text("hello")
        r = pecoma("registry", "import", str(bad), "--data-dir", str(tmp_path))
        assert r.returncode == 4
        assert "not a readable XLSX workbook" in r.stderr
        no_traceback(r)

    def test_rejected_rows_exit_3_with_the_report_and_write_nothing(self, tmp_path: Path) -> None:
        rows = rows_of({"PEC-0001": high_risk(), "Jane Doe": low_risk()})
        path = write_csv(tmp_path / "mixed.csv", rows)
        r = pecoma("registry", "import", str(path), "--on", "2026-11-28",
                   "--data-dir", str(tmp_path))
        assert r.returncode == 3
        assert "1 rejected (all-or-nothing)" in r.stdout
        assert "nothing was written" in r.stdout
        assert "row 3, column 'registry_id'" in r.stderr
        no_traceback(r)
        r = pecoma("registry", "export", "--data-dir", str(tmp_path))
        assert json.loads(r.stdout)["patients"] == []
        r = pecoma("registry", "import", str(path), "--good-rows", "--on", "2026-11-28",
                   "--data-dir", str(tmp_path))
        assert r.returncode == 3
        assert "written: 1 new patients" in r.stdout

    def test_report_prints_values_verbatim(self, tmp_path: Path) -> None:
        """A cell that looks like terminal markup is shown as typed, not interpreted."""
        rows = rows_of({"PEC-0001": high_risk()})
        rows[0]["stage.metastases[1].site"] = "[bold]moon"
        path = write_csv(tmp_path / "odd.csv", rows)
        r = pecoma("registry", "import", str(path), "--on", "2026-11-28",
                   "--data-dir", str(tmp_path))
        assert r.returncode == 3
        assert "row 2, column 'stage.metastases[1].site':" in r.stderr
        assert "(got '[bold]moon')" in r.stderr

    def test_bad_scan_exit_3_naming_each_field(self, tmp_path: Path, good_csv: Path) -> None:
        pecoma("registry", "import", str(good_csv), "--on", "2026-11-28",
               "--data-dir", str(tmp_path))
        r = pecoma("registry", "record-scan", "PEC-0001", "--date", "2024-01-01",
                   "--modality", "x-ray", "--on", "2026-11-28", "--data-dir", str(tmp_path))
        assert r.returncode == 3
        # before the surgery (2025-01-10): pre-operative imaging, no follow-up (I22)
        assert "'date' must not be before the surgery (2025-01-10)" in r.stderr
        assert "'modality' must be one of" in r.stderr
        no_traceback(r)

    def test_unreachable_database_exit_4(self) -> None:
        r = pecoma("registry", "worklist", "--database-url",
                   "postgresql://nobody@127.0.0.1:1/none")
        assert r.returncode == 4
        assert "cannot open the registry database" in r.stderr
        no_traceback(r)

    def test_unsupported_database_url_exit_5(self) -> None:
        r = pecoma("registry", "worklist", "--database-url", "mysql://u@h/db")
        assert r.returncode == 5
        no_traceback(r)

    def test_bad_date_exit_2(self, tmp_path: Path) -> None:
        r = pecoma("registry", "worklist", "--on", "28/11/2026", "--data-dir", str(tmp_path))
        assert r.returncode == 2
        assert "'--on' must be a date as YYYY-MM-DD" in r.stderr


class TestFiles:
    def test_templates(self, tmp_path: Path) -> None:
        r = pecoma("registry", "template")
        assert r.stdout.strip().split(",") == list(COLUMN_NAMES)
        out = tmp_path / "t.xlsx"
        r = pecoma("registry", "template", "--format", "xlsx", "-o", str(out))
        assert r.returncode == 0 and out.stat().st_size > 1000

    def test_environment_selects_the_database(self, tmp_path: Path, good_csv: Path) -> None:
        url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
        r = pecoma("registry", "import", str(good_csv), "--on", "2026-11-28",
                   env={"PECOMA_DATABASE_URL": url})
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "env.sqlite3").is_file()

    def test_csv_export_reimports_unchanged(self, tmp_path: Path, good_csv: Path) -> None:
        a, b = tmp_path / "a", tmp_path / "b"
        pecoma("registry", "import", str(good_csv), "--on", "2026-11-28", "--data-dir", str(a))
        r = pecoma("registry", "export", "--format", "csv", "-o", str(tmp_path / "out"),
                   "--data-dir", str(a))
        assert r.returncode == 0, r.stderr
        names = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert names == ["assessments.csv", "audit_log.csv", "board_decisions.csv",
                         "case_versions.csv", "cases.csv", "imaging_events.csv",
                         "outcomes.csv", "patients.csv"]
        r = pecoma("registry", "import", str(tmp_path / "out" / "cases.csv"), "--on",
                   "2026-11-28", "--data-dir", str(a), "--format", "json")
        assert json.loads(r.stdout)["unchanged"] == 3
        r = pecoma("registry", "import", str(tmp_path / "out" / "cases.csv"), "--on",
                   "2026-11-28", "--data-dir", str(b), "--format", "json")
        assert json.loads(r.stdout)["new_patients"] == 3

    def test_csv_export_writes_numbers_exactly_and_reimports_them(self, tmp_path: Path
                                                                   ) -> None:
        """cases.csv wrote a size or a disease-free interval of 0.0000001 as Python writes
        a float, ``1e-07``, and a mitotic count of 0 as ``0.0``; the import refuses an
        exponent, so importing the exported file rejected every row (all or nothing).
        Each number is now written as the report shows it, the shortest plain decimal
        that is exactly that number, and the file imports into the same cases: tiny,
        largest allowed, many decimals, zero and whole numbers alike."""
        numbers = {  # registry id: (size, unit, mitoses, stated interval), cells expected
            "PEC-0001": ((0.0000001, "cm", 0.0, 0.0000001), ("0.0000001", "0", "0.0000001")),
            "PEC-0002": ((99.99999999999999, "cm", 1.0000001, 11.9999999),
                         ("99.99999999999999", "1.0000001", "11.9999999")),
            "PEC-0003": ((1000.0, "mm", 500.0, 600.0), ("1000", "500", "600")),
            "PEC-0004": ((5.000001, "cm", 0, 12), ("5.000001", "0", "12")),
            "PEC-0005": ((0.000123456789, "mm", 0.0001, 0.25),
                         ("0.000123456789", "0.0001", "0.25")),
        }
        a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
        for rid, ((size, unit, mitoses, dfi), _cells) in numbers.items():
            case = high_risk()
            case["tumour"]["size"] = {"value": size, "unit": unit}
            case["histology"]["mitoses_per_50_hpf"] = mitoses
            case["stage"]["disease_free_interval_months"] = dfi
            src = tmp_path / f"{rid}.json"
            src.write_text(json.dumps(case))
            r = pecoma("registry", "add-case", rid, str(src), "--on", "2026-11-28",
                       "--data-dir", str(a))
            assert r.returncode == 0, r.stderr
        r = pecoma("registry", "export", "--format", "csv", "-o", str(out), "--data-dir", str(a))
        assert r.returncode == 0, r.stderr
        with (out / "cases.csv").open(encoding="utf-8", newline="") as f:
            rows = {row["registry_id"]: row for row in csv.DictReader(f)}
        for rid, (_given, cells) in numbers.items():
            assert (rows[rid]["tumour.size.value"], rows[rid]["histology.mitoses_per_50_hpf"],
                    rows[rid]["stage.disease_free_interval_months"]) == cells, rid
        r = pecoma("registry", "import", str(out / "cases.csv"), "--on", "2026-11-28",
                   "--data-dir", str(a), "--format", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert json.loads(r.stdout)["unchanged"] == len(numbers)
        r = pecoma("registry", "import", str(out / "cases.csv"), "--on", "2026-11-28",
                   "--data-dir", str(b), "--format", "json")
        assert r.returncode == 0, r.stdout + r.stderr
        assert json.loads(r.stdout)["new_patients"] == len(numbers)

        def stored(folder: Path) -> dict[str, Any]:  # the cases read, numbers as numbers
            done = pecoma("registry", "export", "--data-dir", str(folder))
            return {v["registry_id"]: parse_case(v["case"]).model_dump()
                    for v in json.loads(done.stdout)["case_versions"]}

        assert stored(b) == stored(a)

    def test_csv_export_keeps_every_metastasis_and_line(self, tmp_path: Path) -> None:
        """cases.csv had three slots per list: a 4th and 5th metastasis and a 4th therapy
        line were left out without a word, and importing the file stored a new case
        version without them. It now carries as many slots as the longest list needs, and
        imports unchanged."""
        from registry_support import metastatic

        case = metastatic()
        sites = ["lung", "liver", "bone", "brain", "peritoneum"]
        case["stage"]["metastases"] = [
            {"site": site, "detected_on": "2025-06-01", "timing": "synchronous"}
            for site in sites]
        agents = ["everolimus", "doxorubicin", "gemcitabine_docetaxel", "pazopanib"]
        case["systemic"]["therapies"] = [
            {"agent": agent, "setting": "advanced", "line": i + 1,
             "started_on": f"{2025 + i // 2}-{1 + 6 * (i % 2):02d}-01"}
            for i, agent in enumerate(agents)]
        case["systemic"]["therapies"][0]["started_on"] = "2025-07-01"
        a, b = tmp_path / "a", tmp_path / "b"
        src = tmp_path / "five.json"
        src.write_text(json.dumps(case))
        r = pecoma("registry", "add-case", "PEC-0009", str(src), "--on", "2026-11-28",
                   "--data-dir", str(a))
        assert r.returncode == 0, r.stderr
        r = pecoma("registry", "export", "--format", "csv", "-o", str(tmp_path / "out"),
                   "--data-dir", str(a))
        assert r.returncode == 0, r.stderr
        text = (tmp_path / "out" / "cases.csv").read_text()
        header = text.splitlines()[0].split(",")
        assert "stage.metastases[4].site" in header
        assert "systemic.therapies[3].agent" in header
        assert "brain" in text and "peritoneum" in text and "pazopanib" in text
        r = pecoma("registry", "import", str(tmp_path / "out" / "cases.csv"), "--on",
                   "2026-11-28", "--data-dir", str(a), "--format", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["unchanged"] == 1
        r = pecoma("registry", "import", str(tmp_path / "out" / "cases.csv"), "--on",
                   "2026-11-28", "--data-dir", str(b), "--format", "json")
        assert json.loads(r.stdout)["new_patients"] == 1
        r = pecoma("registry", "export", "--data-dir", str(b))
        stored = json.loads(r.stdout)["case_versions"][0]["case"]
        assert [m["site"] for m in stored["stage"]["metastases"]] == sites
        assert [t["agent"] for t in stored["systemic"]["therapies"]] == agents

    def test_worklist_ics_and_summary_svg_to_files(self, tmp_path: Path, good_csv: Path) -> None:
        pecoma("registry", "import", str(good_csv), "--on", "2026-11-28",
               "--data-dir", str(tmp_path))
        ics = tmp_path / "w.ics"
        r = pecoma("registry", "worklist", "--on", "2026-11-28", "--format", "ics", "-o",
                   str(ics), "--data-dir", str(tmp_path))
        assert r.returncode == 0, r.stderr
        assert ics.read_text().startswith("BEGIN:VCALENDAR")
        from icalendar import Calendar

        # one event per patient, the next visit (see
        # test_worklist_table_shows_the_first_rows_and_says_so); PEC-0003 has none dated,
        # its event cancelled. Both visits are overdue (since 2024-09-02 and 2025-05-11):
        # on the evaluation date, not on their past windows
        events = [(str(e["summary"]), e.decoded("dtstart").isoformat(),
                   e.decoded("dtend").isoformat())
                  for e in Calendar.from_ical(ics.read_bytes()).walk("VEVENT")]
        assert events == [
            ("PEC-0002: surveillance visit 1: chest ct + mri primary (OVERDUE since "
             "2024-09-02)", "2026-11-28", "2026-11-29"),
            ("PEC-0001: surveillance visit 1: chest ct + mri primary (OVERDUE since "
             "2025-05-11)", "2026-11-28", "2026-11-29"),
            ("PEC-0003: no surveillance visit (not drawn)", "2026-11-28", "2026-11-29"),
        ]
        r = pecoma("registry", "summary", "--on", "2026-11-28", "--format", "svg",
                   "--data-dir", str(tmp_path))
        assert r.stdout.startswith("<svg")


def _table_rows(stdout: str) -> list[tuple[str, ...]]:
    """The body rows of a text table: its first four cells (registry id, status, due,
    latest)."""
    return [tuple(c.strip() for c in line.split("│")[1:5])
            for line in stdout.splitlines() if line.startswith("│")]


def test_worklist_table_shows_the_first_rows_and_says_so(tmp_path: Path, good_csv: Path) -> None:
    """The text table is for a terminal: ``--limit`` keeps the first rows in the chosen
    order (overdue first) and says how many are left out and how to get every row; CSV
    and JSON always hold every patient. Worklist as of 2026-11-28, by hand: PEC-0002 (low
    risk, resected 2024-03-01, I3: a visit 4 to 6 months on) overdue since 2024-09-01,
    818 days; PEC-0001 (high risk, resected 2025-01-10, S18/I2: 3 to 4 months on)
    overdue since 2025-05-10, 567 days; the earlier due date first; PEC-0003 (metastatic)
    has no plan: last."""
    db = ("--data-dir", str(tmp_path))
    assert pecoma("registry", "import", str(good_csv), "--on", "2026-11-28", *db).returncode == 0
    overdue = [("PEC-0002", "overdue", "2024-07-01", "2024-09-01"),
               ("PEC-0001", "overdue", "2025-04-10", "2025-05-10")]
    whole = pecoma("registry", "worklist", "--on", "2026-11-28", *db)
    assert whole.returncode == 0, whole.stderr
    assert _table_rows(whole.stdout) == [*overdue, ("PEC-0003", "not_drawn", "", "")]
    assert "--limit 0" not in whole.stdout  # nothing left out, nothing said
    two = pecoma("registry", "worklist", "--on", "2026-11-28", "--limit", "2", *db)
    assert two.returncode == 0, two.stderr
    assert _table_rows(two.stdout) == overdue  # the first two, PEC-0003 left out
    assert "The first 2 of 3 patients" in " ".join(two.stdout.split())
    csv_rows = pecoma("registry", "worklist", "--on", "2026-11-28", "--limit", "1",
                      "--format", "csv", *db)
    assert [(r["registry_id"], r["status"], r["due"], r["latest"], r["days_overdue"])
            for r in csv.DictReader(io.StringIO(csv_rows.stdout))] == [
        ("PEC-0002", "overdue", "2024-07-01", "2024-09-01", "818"),
        ("PEC-0001", "overdue", "2025-04-10", "2025-05-10", "567"),
        ("PEC-0003", "not_drawn", "", "", "")]
    bad = pecoma("registry", "worklist", "--limit", "-1", *db)
    assert bad.returncode == 2 and "--limit" in bad.stderr


class TestACaseAgainstTheRecordedScansAndOutcomes:
    """High risk, resected 2025-01-10 (``high_risk``), then the surgery date "corrected"
    to 2025-01-20 by a new case version (``add-case``), as of 2025-05-01."""

    def registered(self, tmp_path: Path, db_url: str) -> tuple[Path, tuple[str, ...]]:
        db = ("--database-url", db_url)
        for name, surgery in (("c.json", "2025-01-10"), ("later.json", "2025-01-20")):
            (tmp_path / name).write_text(json.dumps(high_risk(surgery)))
        r = pecoma("registry", "add-case", "PEC-1", str(tmp_path / "c.json"), "--on",
                   "2025-05-01", *db)
        assert r.returncode == 0, r.stderr
        return tmp_path / "later.json", db

    def worklist(self, db: tuple[str, ...]) -> list[dict[str, str]]:
        r = pecoma("registry", "worklist", "--on", "2025-05-01", "--format", "csv", *db)
        assert r.returncode == 0, r.stderr
        return list(csv.DictReader(io.StringIO(r.stdout)))

    def test_a_surgery_moved_after_a_recorded_scan_is_refused(
        self, tmp_path: Path, db_url: str
    ) -> None:
        """Chest CT clear on 2025-01-15, metastasis on 2025-04-12: the plan is suspended
        (S27). The version moving the surgery to 2025-01-20 was taken ("case version 2
        recorded") and the patient became 'not evaluable' (the CT of 2025-01-15 now
        before the operation), the metastasis no longer read. Recording that CT now
        would be refused: the version is refused the same way, naming the scan and the
        field, and nothing is written: the patient stays suspended, critical."""
        later, db = self.registered(tmp_path, db_url)
        for day, finding in (("2025-01-15", "no_evidence_of_disease"),
                             ("2025-04-12", "metastasis")):
            r = pecoma("registry", "record-scan", "PEC-1", "--date", day, "--modality",
                       "chest_ct", "--finding", finding, "--on", "2025-05-01", *db)
            assert r.returncode == 0, r.stderr
        r = pecoma("registry", "add-case", "PEC-1", str(later), "--on", "2025-05-01", *db)
        no_traceback(r)
        assert r.returncode != 0 and "case version 2" not in r.stdout
        said = " ".join(r.stderr.split())
        assert ("'surgery.date' contradicts the scan recorded on 2025-01-15 (chest_ct, "
                "no_evidence_of_disease): every scan of the registry is from the surgery "
                "on") in said
        assert "(got '2025-01-20')" in said
        [row] = self.worklist(db)
        assert (row["status"], row["record"]) == ("suspended", "FU-SUSPENDED-RECURRENCE")

    def test_a_surgery_moved_onto_a_recorded_recurrence_is_refused(
        self, tmp_path: Path, db_url: str
    ) -> None:
        """A local recurrence recorded on 2025-01-18 (found by symptoms): a surgery on
        2025-01-20 would put it before the resection, which ``record-outcome`` refuses
        the other way round; the version was taken. It is refused, naming the outcome."""
        later, db = self.registered(tmp_path, db_url)
        r = pecoma("registry", "record-outcome", "PEC-1", "--event", "local_recurrence",
                   "--date", "2025-01-18", "--found-by", "symptoms", "--on", "2025-05-01",
                   *db)
        assert r.returncode == 0, r.stderr
        r = pecoma("registry", "add-case", "PEC-1", str(later), "--on", "2025-05-01", *db)
        no_traceback(r)
        said = " ".join(r.stderr.split())
        assert r.returncode != 0
        assert ("'surgery.date' contradicts the local_recurrence recorded on 2025-01-18, "
                "found by symptoms: that outcome must be after the surgery (2025-01-20): a "
                "recurrence cannot precede the resection") in said
        [row] = self.worklist(db)
        assert row["status"] == "suspended"
        assert row["reason"].startswith("local recurrence recorded on 2025-01-18")

    def test_a_relapse_recorded_keeps_a_case_that_cannot_be_evaluated_suspended(
        self, tmp_path: Path, db_url: str, repo: Repository
    ) -> None:
        """The same patient with a clear chest CT on 2025-01-15 and a local recurrence
        recorded on 2025-03-18, holding a version with the surgery on 2025-01-20 written
        before such versions were refused: the case cannot be evaluated. The relapse was
        hidden (status 'not_evaluable', below every patient followed); it keeps the
        routine visits suspended (S17, S27), the reason saying both."""
        _later, db = self.registered(tmp_path, db_url)
        r = pecoma("registry", "record-scan", "PEC-1", "--date", "2025-01-15", "--modality",
                   "chest_ct", "--finding", "no_evidence_of_disease", "--on", "2025-05-01",
                   *db)
        assert r.returncode == 0, r.stderr
        r = pecoma("registry", "record-outcome", "PEC-1", "--event", "local_recurrence",
                   "--date", "2025-03-18", "--found-by", "symptoms", "--on", "2025-05-01",
                   *db)
        assert r.returncode == 0, r.stderr
        record_unchecked(repo, "PEC-1", high_risk("2025-01-20"), dt.date(2025, 5, 1))
        [row] = self.worklist(db)
        assert row["status"] == "suspended"
        assert row["reason"].startswith("local recurrence recorded on 2025-03-18, found by "
                                        "symptoms, which the case does not hold")
        assert ("; the case cannot be evaluated as of the date: 'imaging[0].date' must not "
                "be before the surgery (2025-01-20)") in row["reason"]


def test_worklist_in_a_narrow_terminal_keeps_every_alert_and_reason(
    tmp_path: Path, good_csv: Path
) -> None:
    """In an 80-column terminal the table had squeezed its last columns (why, alerts) to
    nothing: PEC-0001's critical alert after an equivocal scan could not be read. Each
    patient is then a block whose lines hold the reason and every alert in full, in the
    worklist's order; a wide terminal keeps the table."""
    db = ("--data-dir", str(tmp_path))
    assert pecoma("registry", "import", str(good_csv), "--on", "2026-11-28", *db).returncode == 0
    scan = pecoma("registry", "record-scan", "PEC-0001", "--date", "2026-11-02", "--modality",
                  "mri_primary", "--finding", "equivocal", "--on", "2026-11-28", *db)
    assert scan.returncode == 0, scan.stderr
    wide = pecoma("registry", "worklist", "--on", "2026-11-28", *db)
    alert = "critical: Equivocal scan: decide before the next routine visit"
    assert "Equivocal scan" in wide.stdout and wide.stdout.count("│") > 10  # the table
    for columns in (80, 100):
        narrow = run_cli("registry", "worklist", "--on", "2026-11-28", *db, columns=columns)
        assert narrow.returncode == 0, narrow.stderr
        words = " ".join(narrow.stdout.split())
        assert alert in words, columns
        assert "│" not in narrow.stdout and "…" not in narrow.stdout
        firsts = [line.split()[0] for line in narrow.stdout.splitlines()
                  if line.startswith("PEC-")]
        # the equivocal scan's critical alert puts PEC-0001 first; PEC-0002 is overdue;
        # PEC-0003 (metastatic) has no plan: last
        assert firsts == ["PEC-0001", "PEC-0002", "PEC-0003"], columns
        assert "why: visit 1" in words


def test_audit_of_one_patient(tmp_path: Path, good_csv: Path) -> None:
    """`registry audit --patient` lists one patient's entries only: PEC-0001's patient,
    case version, assessment and the scan recorded for it, none of PEC-0002's or
    PEC-0003's (an investigation of one patient's record had to read the whole log). A
    registry id naming no patient is refused naming the option and the value."""
    db = ("--data-dir", str(tmp_path))
    assert pecoma("registry", "import", str(good_csv), "--on", "2026-11-28", *db).returncode == 0
    assert pecoma("registry", "record-scan", "PEC-0001", "--date", "2026-11-02", "--modality",
                  "chest_ct", "--on", "2026-11-28", *db).returncode == 0
    one = pecoma("registry", "audit", "--patient", "PEC-0001", *db)
    assert one.returncode == 0, one.stderr
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in one.stdout.splitlines()
            if line.startswith("│") and line.split("│")[1].strip()]
    entities = [r[4].split()[0] for r in rows]
    assert entities == ["patient", "case_version", "assessment", "imaging_event"]
    assert "Audit log of PEC-0001" in one.stdout
    whole = pecoma("registry", "audit", "--limit", "1000", *db)
    assert whole.stdout.count("case_version") == 3  # the three patients' first versions
    unknown = pecoma("registry", "audit", "--patient", "PEC-9999", *db)
    assert unknown.returncode == 3
    assert "'--patient' names no patient of the registry (got 'PEC-9999')" in unknown.stderr


class TestAuditInFull:
    """`registry audit` shows what was recorded whole: in a narrow terminal or a pipe
    each entry is a block, each key of its detail on a line of its own with its value;
    `--format json` gives the entries as stored. Before, the detail column was cut
    ("distant_met…", a digest "3c347d4b5a6…") and there was no other format."""

    @staticmethod
    def _registry(tmp_path: Path, good_csv: Path) -> tuple[str, ...]:
        db = ("--data-dir", str(tmp_path))
        assert pecoma("registry", "import", str(good_csv), "--on", "2026-11-28",
                      *db).returncode == 0
        r = pecoma("registry", "record-outcome", "PEC-0002", "--event", "distant_metastasis",
                   "--date", "2026-11-20", "--found-by", "symptoms", "--on", "2026-11-28", *db)
        assert r.returncode == 0, r.stderr
        return db

    def test_json_gives_each_entry_whole(self, tmp_path: Path, good_csv: Path) -> None:
        """One patient's entries in order, each with its time in UTC and its detail as
        recorded: the outcome's event and date, the case version's whole digest."""
        db = self._registry(tmp_path, good_csv)
        r = pecoma("registry", "audit", "--patient", "PEC-0002", "--format", "json", *db)
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert (data["format"], data["patient"]) == ("pecoma-audit/1", "PEC-0002")
        entities = [e["entity"] for e in data["entries"]]
        assert entities == ["patient", "case_version", "assessment", "outcome_event"]
        outcome = data["entries"][-1]
        assert (outcome["action"], outcome["detail"]["event"],
                outcome["detail"]["event_date"]) == ("create", "distant_metastasis",
                                                     "2026-11-20")
        assert re.fullmatch(r"[0-9a-f]{64}", data["entries"][1]["detail"]["digest"])
        assert dt.datetime.fromisoformat(outcome["at"]).utcoffset() == dt.timedelta(0)
        assert [e["id"] for e in data["entries"]] == sorted(e["id"] for e in data["entries"])

    @pytest.mark.parametrize("columns", [80, 60])
    def test_narrow_text_shows_each_key_and_value_whole(
        self, tmp_path: Path, good_csv: Path, columns: int
    ) -> None:
        """At 80 and 60 columns no detail is cut: each key of each entry's detail and its
        value (the event, its date, the digest) read whole, the digest alone on its line
        when wider than the line."""
        db = self._registry(tmp_path, good_csv)
        data = json.loads(pecoma("registry", "audit", "--patient", "PEC-0002", "-f", "json",
                                 *db).stdout)
        r = run_cli("registry", "audit", "--patient", "PEC-0002", *db, columns=columns)
        assert r.returncode == 0, r.stderr
        assert "…" not in r.stdout
        for e in data["entries"]:
            assert re.search(rf"^#{e['id']} \d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}:\d{{2}} UTC"
                             rf"\s+\S+\s+{e['action']}\s+{e['entity']} {e['entity_id']}\s*$",
                             r.stdout, re.M), e
            for key, value in e["detail"].items():
                if key == "digest" and columns < 72:
                    continue  # a word longer than the line folds: checked joined below
                line = rf"^  {re.escape(key)}:\s+{re.escape(json.dumps(value))}\s*$"
                assert re.search(line, r.stdout, re.M), (key, value)
        digest = data["entries"][1]["detail"]["digest"]
        assert f'"{digest}"' in "".join(r.stdout.split())
