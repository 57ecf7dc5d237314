"""A date written in the right form that names no day of the calendar (2025-02-29,
2025-06-31, "31 Feb 2025") is refused saying why, the same way wherever it comes in.

The case form had answered "Must be a date as YYYY-MM-DD or day, month name, year …" to
a date typed as YYYY-MM-DD and in range, leaving nothing to correct; a case file, the
JSON API and a registry file said "must be a valid date or datetime, day value is
outside expected range" (the library's words), and a scan's date the format rule alone.
Each now names the month and its days (:func:`pecoma.dates.no_such_day`), then the rule.

The facts: 2025 is no leap year (not divisible by 4), so February 2025 has 28 days; June
has 30 days in every year; 2024 is a leap year, so 2024-02-29 is a day.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web import WebConfig, create_app

from cli_support import run_cli

ON = dt.date(2026, 11, 28)
BASE = {"on": "2026-11-28", "tumour.primary_site": "kidney", "stage.status": "localized"}
CASE: dict[str, Any] = {"format": "pecoma-case/1", "tumour": {"primary_site": "kidney"},
                        "stage": {"status": "localized"}}
FEBRUARY = "names no day of the calendar (February 2025 has 28 days)"
JUNE = "names no day of the calendar (June 2025 has 30 days)"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


def words_of(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


class TestTheReason:
    @pytest.mark.parametrize(("year", "month", "day", "why"), [
        (2025, 2, 29, "February 2025 has 28 days"),
        (2025, 6, 31, "June 2025 has 30 days"),
        (2025, 4, 31, "April 2025 has 30 days"),
        (2025, 1, 32, "January 2025 has 31 days"),
        (2025, 13, 1, "there is no month 13"),
        (2025, 5, 0, "there is no day 00 of a month"),
        (2024, 2, 29, None),
        (2025, 12, 31, None),
    ])
    def test_the_month_and_its_days(self, year: int, month: int, day: int,
                                    why: str | None) -> None:
        from pecoma.dates import no_such_day

        assert no_such_day(year, month, day) == why


class TestTheCaseForm:
    @pytest.mark.parametrize(("field", "label", "typed", "says"), [
        ("on", "Evaluation date", "2025-02-29", FEBRUARY),
        ("surgery.date", "Date of surgery", "2025-06-31", JUNE),
        ("diagnosis.date", "Date of diagnosis", "31 Feb 2025", FEBRUARY),
        ("diagnosis.date", "Date of diagnosis", "31 June 2025", JUNE),
    ])
    def test_the_day_is_said_not_to_exist(self, client: TestClient, field: str, label: str,
                                          typed: str, says: str) -> None:
        """Each field comes back with its label, the reason, and what was typed."""
        posted = {**BASE, "surgery.status": "performed", field: typed}
        r = client.post("/report", data=posted)
        assert r.status_code == 422
        text = words_of(r.text)
        assert f"{label} : {says[0].upper()}{says[1:]}" in text
        assert f"entered: '{typed}'" in text


class TestCaseFilesAndTheApi:
    def test_a_case_file_on_the_command_line(self, tmp_path: Path) -> None:
        path = tmp_path / "case.json"
        path.write_text(json.dumps({**CASE, "surgery": {"status": "performed",
                                                         "date": "2025-06-31"}}))
        r = run_cli("assess", str(path), "--on", "2026-11-28", columns=200)
        assert r.returncode == 3
        assert f"'surgery.date' {JUNE}" in r.stderr
        assert "day value is outside" not in r.stderr

    def test_the_evaluation_date_on_the_command_line(self, tmp_path: Path) -> None:
        path = tmp_path / "case.json"
        path.write_text(json.dumps(CASE))
        r = run_cli("assess", str(path), "--on", "2025-02-29", columns=200)
        assert r.returncode == 2
        assert f"'--on' {FEBRUARY}" in r.stderr

    def test_a_case_in_the_api(self, client: TestClient) -> None:
        case = {**CASE, "diagnosis": {"date": "2025-02-29"}}
        r = client.post("/api/v1/assess", json={"case": case, "on": "2026-11-28"})
        assert r.status_code == 422
        ((path, rule),) = [(e["path"], e["rule"]) for e in r.json()["errors"]]
        assert path == "case.diagnosis.date" and rule.startswith(FEBRUARY)

    def test_a_scan_in_the_api(self, client: TestClient) -> None:
        r = client.post("/api/v1/followup", json={
            "case": CASE, "on": "2026-11-28",
            "imaging": [{"date": "2025-06-31", "modality": "chest_ct",
                         "finding": "no_evidence_of_disease"}]})
        assert r.status_code == 422
        ((path, rule),) = [(e["path"], e["rule"]) for e in r.json()["errors"]]
        assert path == "imaging[0].date" and rule.startswith(JUNE)


class TestRegistryFiles:
    def test_a_date_cell_of_an_import_row(self, tmp_path: Path) -> None:
        from pecoma.registry.import_check import validate_rows
        from pecoma.registry.import_table import read_table
        from pecoma.settings import default_settings

        path = tmp_path / "cases.csv"
        path.write_text("registry_id,tumour.primary_site,stage.status,diagnosis.date\n"
                        "PEC-0001,kidney,localized,2025-02-29\n", encoding="utf-8")
        _header, rows = read_table(path)
        _good, issues = validate_rows(rows, ON, default_settings(), assess_rows=False)
        assert [(i.row, i.column, i.value) for i in issues] == [
            (2, "diagnosis.date", "'2025-02-29'")]
        assert issues[0].rule.startswith(FEBRUARY)
