"""`pecoma followup`, run as a user runs it: real files, exit codes (in this process, see
``cli_support``; the console script itself is run as a process in test_cli.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from icalendar import Calendar

from cli_support import CliRun, run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "pecoma" / "examples"
HIGH = EXAMPLES / "high-risk-uterine.json"  # surgery 2025-01-10, high risk
METASTATIC = EXAMPLES / "metachronous-lung.json"


def pecoma(*args: str) -> CliRun:
    return run_cli(*args, columns=160)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    f = tmp_path / "imaging.json"
    f.write_text(json.dumps({"imaging": [
        {"date": "2025-04-15", "modality": "chest_ct", "finding": "no_evidence_of_disease"},
        {"date": "2025-04-15", "modality": "mri_primary", "finding": "equivocal"},
    ]}))
    return f


class TestFormats:
    def test_text_table(self, history: Path) -> None:
        """The terminal table shows visits, statuses, reasons, flags and interpretations."""
        r = pecoma("followup", str(HIGH), "--imaging", str(history), "--on", "2025-08-01")
        assert r.returncode == 0, r.stderr
        for text in ("pecoma surveillance plan", "2025-07-15", "2025-08-15", "due now",
                     "done 2025-04-15", "Equivocal scan", "guideline S18", "I2",
                     "Next visit: #2"):
            assert text in r.stdout, text

    def test_json(self, history: Path) -> None:
        r = pecoma("followup", str(HIGH), "--imaging", str(history), "--on", "2025-08-01",
                   "--format", "json")
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["format"] == "pecoma-surveillance-plan/1"
        assert data["next_visit"]["due"] == "2025-07-15"
        assert data["visits"][0]["status"] == "done"
        # I2 (windows), I4 (yearly visits never end), I16 (the equivocal MRI of 2025-04-15
        # flagged for the team's decision: the project's reading, not the guideline's),
        # I31 (chest CT and MRI at every high-risk visit: the guideline names the
        # examinations, not the visits that hold them)
        assert [i["id"] for i in data["interpretations"]] == ["I2", "I4", "I16", "I31"]

    def test_tables_and_calendar_word_a_scan_counted_from_alike(
        self, history: Path, tmp_path: Path
    ) -> None:
        """The visits after the one done on 2025-04-15 count from that scan: the
        Markdown table's Notes and the calendar's events say it in the same words (one
        wording for every format, so they cannot drift apart again)."""
        note = "counted from 2025-04-15, the last scan of the examination done longest ago"
        md = pecoma("followup", str(HIGH), "--imaging", str(history), "--on", "2025-08-01",
                    "-f", "markdown").stdout
        rows = [line for line in md.splitlines() if line.startswith("| 2 ")]
        assert rows and note in rows[0]
        cal = tmp_path / "plan.ics"
        pecoma("followup", str(HIGH), "--imaging", str(history), "--on", "2025-08-01",
               "-f", "ics", "-o", str(cal))
        events = Calendar.from_ical(cal.read_bytes()).walk("VEVENT")
        assert f"({note})" in " ".join(str(events[1].get("DESCRIPTION")).split())

    def test_ics_to_file(self, tmp_path: Path) -> None:
        out = tmp_path / "plan.ics"
        r = pecoma("followup", str(HIGH), "--on", "2025-01-10", "-f", "ics", "-o", str(out))
        assert r.returncode == 0, r.stderr
        events = Calendar.from_ical(out.read_bytes()).walk("VEVENT")
        assert len(events) == 21
        assert str(events[0].decoded("DTSTART")) == "2025-04-10"

    def test_ics_reminder_follows_the_settings_file(self, tmp_path: Path) -> None:
        """--settings with followup.calendar_reminder_days = 5: each open visit reminds
        5 days before its window opens (visit 1: due 2025-04-10, so on 2025-04-05)."""
        conf = tmp_path / "s.toml"
        conf.write_text("[followup]\ncalendar_reminder_days = 5\n", encoding="utf-8")
        out = tmp_path / "plan.ics"
        r = pecoma("followup", str(HIGH), "--on", "2025-01-10", "-f", "ics", "-o", str(out),
                   "--settings", str(conf))
        assert r.returncode == 0, r.stderr
        first = Calendar.from_ical(out.read_bytes()).walk("VEVENT")[0]
        [alarm] = first.walk("VALARM")
        assert first.decoded("DTSTART") + alarm.decoded("TRIGGER") == dt.date(2025, 4, 5)

    def test_ics_uid_uses_case_key(self, tmp_path: Path) -> None:
        """--case-key makes UIDs independent of the file name."""
        a, b = tmp_path / "a.ics", tmp_path / "b.ics"
        pecoma("followup", str(HIGH), "--on", "2025-01-10", "-f", "ics", "-o", str(a),
               "--case-key", "K1")
        pecoma("followup", str(HIGH), "--on", "2025-01-10", "-f", "ics", "-o", str(b),
               "--case-key", "K1")
        assert a.read_bytes() == b.read_bytes()
        assert b"K1" not in a.read_bytes()

    def test_svg_and_png(self, tmp_path: Path) -> None:
        svg, png = tmp_path / "t.svg", tmp_path / "t.png"
        r1 = pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "svg", "-o", str(svg))
        r2 = pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "png", "-o", str(png))
        assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
        assert svg.read_text().lstrip().startswith("<?xml")
        assert png.read_bytes().startswith(b"\x89PNG")

    def test_markdown(self) -> None:
        r = pecoma("followup", str(HIGH), "--on", "2025-01-10", "-f", "markdown")
        assert r.returncode == 0, r.stderr
        assert "| # | Phase | Due |" in r.stdout

    def test_csv_history(self, tmp_path: Path) -> None:
        f = tmp_path / "h.csv"
        f.write_text("date,modality,finding\n2025-04-15,chest_ct,no_evidence_of_disease\n"
                     "2025-04-15,mri_primary,no_evidence_of_disease\n")
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2025-05-01",
                   "-f", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["counted_from"] == "2025-04-15"

    def test_csv_history_saved_with_a_byte_order_mark(self, tmp_path: Path) -> None:
        """A spreadsheet's "CSV UTF-8" starts with a byte-order mark: it was refused as
        a header naming no column. It is read past."""
        f = tmp_path / "h.csv"
        f.write_text("\ufeffdate,modality,finding\n2025-04-15,chest_ct,no_evidence_of_disease\n"
                     "2025-04-15,mri_primary,no_evidence_of_disease\n",
                     encoding="utf-8")
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2025-05-01",
                   "-f", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["counted_from"] == "2025-04-15"

    def test_csv_row_with_a_cell_too_many_is_refused(self, tmp_path: Path) -> None:
        """'2025-04-15,chest_ct,equivocal,metastasis': the cell past the header was
        dropped, and with it what may be a finding of disease (the plan would be
        suspended). Refused, naming the row and the cell."""
        f = tmp_path / "h.csv"
        f.write_text("date,modality,finding\n2025-04-15,chest_ct,equivocal,metastasis\n")
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2025-05-01")
        assert r.returncode == 3, r.stderr
        err = " ".join(r.stderr.split())
        assert "'imaging[0]' must have no more cells" in err and "metastasis" in err

    def test_no_dated_plan_is_explained(self) -> None:
        """Metastatic disease: exit 0, and the reason instead of dates."""
        r = pecoma("followup", str(METASTATIC), "--on", "2026-11-28")
        assert r.returncode == 0, r.stderr
        assert "no dated plan" in r.stdout
        assert "No surveillance calendar while disease is present" in r.stdout


class TestRejectedInput:
    @pytest.mark.parametrize(("event", "words"), [
        # before the surgery (2025-01-10): pre-operative imaging, no follow-up (I22)
        ({"date": "2024-12-01", "modality": "chest_ct"},
         ["imaging[0].date", "2024-12-01", "before the surgery (2025-01-10)"]),
        ({"date": "2025-04-10", "modality": "xray_of_toe"},
         ["imaging[0].modality", "xray_of_toe", "chest_ct"]),
        ({"date": "2027-01-01", "modality": "chest_ct"},
         ["imaging[0].date", "after the evaluation date"]),
        ({"date": "10/04/2025", "modality": "chest_ct"}, ["imaging[0].date", "YYYY-MM-DD"]),
    ])
    def test_bad_imaging_exits_3(self, tmp_path: Path, event: dict[str, str],
                                 words: list[str]) -> None:
        """Rejected imaging: exit 3, a message naming field, value and rule, no traceback."""
        f = tmp_path / "bad.json"
        f.write_text(json.dumps([event]))
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2026-11-28")
        assert r.returncode == 3, r.stdout + r.stderr
        message = " ".join(r.stderr.split())
        for w in words:
            assert w in message, w
        assert "Traceback" not in r.stderr

    def test_markup_in_values_is_printed_not_interpreted(self, tmp_path: Path) -> None:
        """A value that looks like terminal markup is shown as given, not crashed on."""
        f = tmp_path / "bad.json"
        f.write_text(json.dumps([{"date": "2025-04-10", "modality": "[/red]"}]))
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2026-11-28")
        assert r.returncode == 3 and "[/red]" in r.stderr and "Traceback" not in r.stderr

    def test_unparseable_history_exits_3(self, tmp_path: Path) -> None:
        f = tmp_path / "bad.json"
        f.write_text("{not json")
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2026-11-28")
        assert r.returncode == 3 and "valid JSON" in r.stderr

    def test_missing_file_exits_4(self, tmp_path: Path) -> None:
        r = pecoma("followup", str(HIGH), "--imaging", str(tmp_path / "nope.json"))
        assert r.returncode == 4 and "not found" in r.stderr

    def test_bad_settings_exit_5(self, tmp_path: Path) -> None:
        """A settings file making low risk more intensive than high risk is refused (S23)."""
        f = tmp_path / "s.toml"
        f.write_text("[followup]\nlow_frequent_years = 5\n")
        r = pecoma("followup", str(HIGH), "--settings", str(f), "--on", "2026-11-28")
        assert r.returncode == 5 and "S23" in r.stderr and "Traceback" not in r.stderr

    def test_s23_refusal_names_a_fix_that_works(self, tmp_path: Path) -> None:
        """High risk 6-monthly from year 3 (high_intensive_years = 2) with low risk
        5-monthly for at least 3 years (I3): 3 low-risk visits in year 3 against 2 (S23).
        The refusal names the fixes the ranges allow, not a shorter low_frequent_years
        (at least 3 years, I3); with either fix applied, the same command draws the
        plan."""
        given = ("[followup]\nhigh_intensive_years = 2\nlow_due_months = 5\n"
                 "low_overdue_months = 6\n")
        f = tmp_path / "s.toml"
        f.write_text(given)
        r = pecoma("followup", str(HIGH), "--settings", str(f), "--on", "2026-11-28")
        message = " ".join(r.stderr.split())
        assert r.returncode == 5 and r.stdout == "" and "in year 3" in message
        assert "low_frequent_years" not in message
        assert "set high_intensive_years = 3, or low_due_months = 6" in message
        f.write_text(given.replace("high_intensive_years = 2", "high_intensive_years = 3"))
        r = pecoma("followup", str(HIGH), "--settings", str(f), "--on", "2026-11-28")
        assert r.returncode == 0, r.stderr
        f.write_text(given.replace("low_due_months = 5", "low_due_months = 6"))
        r = pecoma("followup", str(HIGH), "--settings", str(f), "--on", "2026-11-28")
        assert r.returncode == 0, r.stderr

    @pytest.mark.parametrize("command", ["followup", "assess"])
    def test_settings_outside_the_guideline_exit_5(self, tmp_path: Path, command: str) -> None:
        """A yearly high-risk plan from year 1 (due 6, intensive phase 1 year, middle
        interval 12 months) is not the guideline's schedule (S18, S19): both commands
        refuse the file, naming the setting, its range and the value, and draw nothing."""
        f = tmp_path / "yearly.toml"
        f.write_text("[followup]\nhigh_intensive_due_months = 6\n"
                     "high_intensive_overdue_months = 9\nhigh_intensive_years = 1\n"
                     "high_middle_interval_months = 12\nhigh_middle_overdue_months = 14\n"
                     "low_due_months = 12\nlow_overdue_months = 14\nlow_frequent_years = 1\n")
        r = pecoma(command, str(HIGH), "--settings", str(f), "--on", "2026-12-01")
        assert r.returncode == 5 and r.stdout == ""
        message = " ".join(r.stderr.split())
        assert ("yearly.toml: 'followup.high_intensive_due_months' must be from 3 to 4 "
                "months (S18: every 3-4 months; I2) (got 6)") in message
        assert "Traceback" not in r.stderr

    def test_bad_date_option_exits_2(self) -> None:
        r = pecoma("followup", str(HIGH), "--on", "28/11/2026")
        assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr

    def test_settings_change_the_plan(self, tmp_path: Path) -> None:
        f = tmp_path / "s.toml"
        f.write_text("[followup]\nhigh_intensive_due_months = 4\n")
        r = pecoma("followup", str(HIGH), "--settings", str(f), "--on", "2025-01-10",
                   "-f", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["visits"][0]["due"] == "2025-05-10"


class TestScansOfAnotherModality:
    """S18, S21, S22: high risk means chest CT and MRI of the primary every 3-4 months."""

    def test_ultrasounds_alone_leave_the_patient_overdue(self, tmp_path: Path) -> None:
        """The bundled high-risk example (surgery 2025-01-10), chest CT and MRI on
        2025-04-10, then only ultrasounds for 18 months: on 2026-10-01 the next visit is
        visit 2, due 2025-07-10 (3 months after the last CT and MRI) and overdue since
        2025-08-11 (I2). Each ultrasound had made a visit done, the next one put on
        2026-12-15."""
        f = tmp_path / "imaging.json"
        f.write_text(json.dumps([
            {"date": "2025-04-10", "modality": "chest_ct", "finding": "no_evidence_of_disease"},
            {"date": "2025-04-10", "modality": "mri_primary",
             "finding": "no_evidence_of_disease"},
            *({"date": d, "modality": "ultrasound", "finding": "no_evidence_of_disease"}
              for d in ("2025-06-20", "2025-09-01", "2025-11-15", "2026-02-01",
                        "2026-04-15", "2026-07-01", "2026-09-15")),
        ]))
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2026-10-01",
                   "-f", "json")
        assert r.returncode == 0, r.stderr
        nxt = json.loads(r.stdout)["next_visit"]
        assert (nxt["index"], nxt["status"], nxt["due"], nxt["latest"]) == (
            2, "overdue", "2025-07-10", "2025-08-10")
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2026-10-01",
                   "-f", "markdown")
        assert r.returncode == 0, r.stderr
        assert ("**Next visit:** #2 due 2025-07-10, overdue after 2025-08-10 (OVERDUE)"
                in r.stdout)
        assert "ultrasound 2026-09-15 (not a planned examination)" in r.stdout


class TestExaminationsOnDifferentDays:
    """S18, I2: high risk, each examination every 3 months, overdue after 4."""

    @pytest.fixture
    def split(self, tmp_path: Path) -> tuple[Path, Path]:
        """The bundled high-risk example after adjuvant doxorubicin ended 2025-06-15; at
        each visit the chest CT on the last day of the window, the MRI 30 days later."""
        case = json.loads(HIGH.read_text())
        case["systemic"]["therapies"] = [
            {"agent": "doxorubicin", "setting": "adjuvant", "started_on": "2025-02-10"}]
        case["primary_treatment_end"] = "2025-06-15"
        case_file = tmp_path / "case.json"
        case_file.write_text(json.dumps(case))
        imaging = tmp_path / "imaging.json"
        imaging.write_text(json.dumps([
            {"date": d, "modality": m, "finding": "no_evidence_of_disease"}
            for d, m in (("2025-10-15", "chest_ct"), ("2025-11-14", "mri_primary"),
                         ("2026-03-14", "chest_ct"), ("2026-04-13", "mri_primary"),
                         ("2026-08-13", "chest_ct"), ("2026-09-12", "mri_primary"))]))
        return case_file, imaging

    def test_each_examination_keeps_its_rhythm_and_late_ones_are_named(
        self, split: tuple[Path, Path],
    ) -> None:
        """Visit 1 (due 2025-09-15, overdue after 2025-10-15): CT on 2025-10-15, MRI a
        month after the window closed: late. Visit 2 counts from that CT (due
        2026-01-15, overdue after 2026-02-15): CT 2026-03-14 and MRI late. Visit 3 from
        the CT of 2026-03-14 (due 2026-06-14, overdue after 2026-07-14): late again. The
        next visit is due 3 months after the last CT, 2026-11-13, overdue after
        2026-12-13. Each visit had been on time, counted from the MRI, every examination
        every 5 months and the next CT allowed until 2027-01-12."""
        case, imaging = split
        r = pecoma("followup", str(case), "--imaging", str(imaging), "--on", "2026-09-20",
                   "-f", "json")
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert [(v["due"], v["latest"], v["status"], v["done_on"], v["timeliness"])
                for v in data["visits"][:3]] == [
            ("2025-09-15", "2025-10-15", "done", "2025-11-14", "late"),
            ("2026-01-15", "2026-02-15", "done", "2026-04-13", "late"),
            ("2026-06-14", "2026-07-14", "done", "2026-09-12", "late")]
        nxt = data["next_visit"]
        assert (nxt["index"], nxt["status"], nxt["due"], nxt["latest"]) == (
            4, "upcoming", "2026-11-13", "2026-12-13")
        r = pecoma("followup", str(case), "--imaging", str(imaging), "--on", "2026-09-20",
                   "-f", "markdown")
        assert r.returncode == 0, r.stderr
        assert "done 2025-11-14 (late: MRI primary site after 2025-10-15)" in r.stdout
        assert ("done 2026-04-13 (late: chest CT, MRI primary site after 2026-02-15)"
                in r.stdout)
        out = split[0].parent / "plan.ics"
        r = pecoma("followup", str(case), "--imaging", str(imaging), "--on", "2026-09-20",
                   "-f", "ics", "-o", str(out))
        assert r.returncode == 0, r.stderr
        titles = [str(e["SUMMARY"]) for e in Calendar.from_ical(out.read_bytes()).walk("VEVENT")]
        assert titles[0].endswith("PEComa surveillance visit 1: chest CT + MRI primary site "
                                  "(done 2025-11-14); MRI primary site late (after "
                                  "2025-10-15)")


RELAPSED_CASE = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "gastrointestinal", "size": {"value": 4, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
}


class TestAfterRelapse:
    """I8 in every output: the plan counts from the date free of disease again."""

    @pytest.fixture
    def relapsed(self, tmp_path: Path) -> Path:
        f = tmp_path / "relapsed.json"
        f.write_text(json.dumps(RELAPSED_CASE))
        return f

    def test_json(self, relapsed: Path) -> None:
        """Low-risk primary, metastasectomy 2023-08-01: high-risk visit due 2023-11-01."""
        r = pecoma("followup", str(relapsed), "--on", "2023-08-01", "-f", "json")
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["surveillance_group"] == "high"
        assert data["anchor"] == "2023-08-01"
        assert data["anchor_basis"] == "free_of_disease"
        assert data["next_visit"]["due"] == "2023-11-01"

    def test_text_markdown_and_calendar_say_where_the_plan_counts_from(
        self, relapsed: Path, tmp_path: Path
    ) -> None:
        words = "free of disease again (2023-08-01)"
        text = pecoma("followup", str(relapsed), "--on", "2023-08-01")
        assert text.returncode == 0, text.stderr
        assert words in " ".join(text.stdout.split())
        assert "After relapse" in text.stdout and "high-risk schedule" in text.stdout
        md = pecoma("followup", str(relapsed), "--on", "2023-08-01", "-f", "markdown")
        assert words in md.stdout
        out = tmp_path / "plan.ics"
        pecoma("followup", str(relapsed), "--on", "2023-08-01", "-f", "ics", "-o", str(out))
        first = Calendar.from_ical(out.read_bytes()).walk("VEVENT")[0]
        assert str(first.decoded("DTSTART")) == "2023-11-01"
        description = " ".join(str(first.get("DESCRIPTION")).split())
        assert "counted from 2023-08-01, the date free of disease again" in description


class TestWithoutScanHistory:
    """I13: no --imaging is a history not given; an empty file is a history of no scans.
    The example was resected 2025-01-10 (high risk): on 2026-11-28 the intensive phase
    (to 2028-01-10) is in force, so a visit is due 2026-11-28, overdue after 2026-12-28."""

    def test_text_asks_for_the_history_and_shows_no_overdue_visit(self) -> None:
        r = pecoma("followup", str(HIGH), "--on", "2026-11-28")
        assert r.returncode == 0, r.stderr
        out = " ".join(r.stdout.split())
        assert "OVERDUE" not in out
        assert "Next visit: #1 due 2026-11-28, overdue after 2026-12-28" in out
        assert "Scan history not given" in out
        assert "Which surveillance scans has the patient had" in out
        assert "2027-02-28" in out

    def test_json_and_markdown_carry_the_missing_fact(self) -> None:
        r = pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "json")
        data = json.loads(r.stdout)
        assert data["history_missing"] is True
        assert [m["id"] for m in data["missing"]] == ["MISS-SCAN-HISTORY"]
        assert data["next_visit"]["due"] == "2026-11-28"
        md = pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "markdown").stdout
        assert "## Missing facts" in md and "Which surveillance scans" in md

    def test_calendar_says_the_visit_counts_from_the_evaluation_date(
        self, tmp_path: Path
    ) -> None:
        out = tmp_path / "plan.ics"
        r = pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "ics", "-o", str(out))
        assert r.returncode == 0, r.stderr
        first = Calendar.from_ical(out.read_bytes()).walk("VEVENT")[0]
        assert str(first.decoded("DTSTART")) == "2026-11-28"
        description = " ".join(str(first.get("DESCRIPTION")).split())
        assert "no scan history was given" in description

    def test_every_format_says_no_scan_was_done_on_the_evaluation_date(
        self, tmp_path: Path
    ) -> None:
        """Every visit is counted from the evaluation date, when no scan was done (I13):
        the Markdown and terminal tables say so in the calendar's words. Before, their
        Notes read "counted from scan 2026-11-28", recording a scan that never
        happened, while the calendar of the same plan said no scan history was given."""
        note = "counted from 2026-11-28, the evaluation date: no scan history was given"
        md = pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "markdown").stdout
        rows = [line for line in md.splitlines() if line[:3] in {f"| {n}" for n in range(10)}]
        assert len(rows) > 10 and all(note in row for row in rows), rows
        assert "from scan" not in md
        # the terminal table, wide enough for a row to stay on one line
        wide = run_cli("followup", str(HIGH), "--on", "2026-11-28", columns=600).stdout
        visits = [line for line in wide.splitlines() if " upcoming " in line]
        assert len(visits) > 10 and all(note in line for line in visits), visits
        assert "from scan" not in wide
        cal = tmp_path / "plan.ics"
        pecoma("followup", str(HIGH), "--on", "2026-11-28", "-f", "ics", "-o", str(cal))
        for event in Calendar.from_ical(cal.read_bytes()).walk("VEVENT"):
            assert f"({note})" in " ".join(str(event.get("DESCRIPTION")).split())

    def test_an_empty_history_keeps_the_overdue_visits(self, tmp_path: Path) -> None:
        """A history given with no scan: the first visit (due 2025-04-10) is overdue."""
        f = tmp_path / "none.json"
        f.write_text("[]")
        r = pecoma("followup", str(HIGH), "--imaging", str(f), "--on", "2026-11-28",
                   "-f", "json")
        data = json.loads(r.stdout)
        assert data["next_visit"]["due"] == "2025-04-10"
        assert data["next_visit"]["status"] == "overdue"
        assert data["missing"] == [] and data["history_missing"] is False
