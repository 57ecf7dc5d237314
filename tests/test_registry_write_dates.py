"""The date a registry entry is recorded as of: never after today.

Every view of the registry as of a date reads the case version current then, the
version being dated by the evaluation date it was recorded as of (``--on``, today by
default). A command that writes with an evaluation date after today (a year mistyped,
2030 for 2026) dated the patient's case in the future: the patient was in no worklist
or summary of today, so a scan recorded today that found metastasis raised no critical
alert on the list the team reads (S27, S17: a relapse returns the patient to the
treatment pathway), and a scan dated after today could be stored. It is refused, naming
the option, the value and today; nothing is written. A view may still look ahead (a
worklist as of next month).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry.columns import flatten

from cli_support import CliRun, run_cli
from registry_support import high_risk, low_risk, rows_of, write_csv

PAST = "2026-11-28"
"""The day the registry was first filled (before any machine date these tests run on)."""


def pecoma(*args: str) -> CliRun:
    return run_cli(*args, columns=400)


def export(data: Path) -> dict[str, Any]:
    r = pecoma("registry", "export", "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def worklist(data: Path, *on: str) -> dict[str, dict[str, Any]]:
    r = pecoma("registry", "worklist", "--format", "json", "--limit", "0", *on,
               "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    return {i["registry_id"]: i for i in json.loads(r.stdout)["items"]}


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """Two patients imported as of a past day, with a scan recorded (scan number 1)."""
    data = tmp_path / "data"
    path = write_csv(tmp_path / "cases.csv",
                     rows_of({"PEC-0001": high_risk(), "PEC-0002": low_risk()}))
    r = pecoma("registry", "import", str(path), "--on", PAST, "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    r = pecoma("registry", "record-scan", "PEC-0001", "--date", "2026-11-20", "--modality",
               "chest_ct", "--finding", "no_evidence_of_disease", "--on", PAST,
               "--data-dir", str(data))
    assert r.returncode == 0, r.stderr
    return data


def _writers(tmp: Path) -> dict[str, list[str]]:
    """Every command that writes to the registry, without its ``--on``: each would be
    accepted as of today (a new patient, a scan that found metastasis done today, a last
    contact today, a withdrawal, a re-assessment stored)."""
    today = dt.date.today().isoformat()
    new = write_csv(tmp / "new.csv", [flatten(high_risk(), "F-9")])
    case = tmp / "case.json"
    case.write_text(json.dumps(high_risk()), encoding="utf-8")
    return {
        "import": ["import", str(new)],
        "add-case": ["add-case", "F-10", str(case)],
        "record-scan": ["record-scan", "PEC-0001", "--date", today, "--modality",
                        "chest_ct", "--finding", "metastasis"],
        "record-outcome": ["record-outcome", "PEC-0002", "--event", "last_contact",
                           "--date", today, "--vital-status", "alive_without_disease"],
        "withdraw": ["withdraw", "PEC-0001", "--scan", "1", "--reason", "wrong patient"],
        "reassess": ["reassess"],
    }


WRITERS = ("import", "add-case", "record-scan", "record-outcome", "withdraw", "reassess")


def _ahead(days: int) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


# tomorrow; a year typed 2030 for 2026 (four years on); the last day pecoma knows
AHEAD = [pytest.param(1, id="tomorrow"), pytest.param(1461, id="year-mistyped"),
         pytest.param(None, id="2199-12-31")]


class TestNotAfterToday:
    @pytest.mark.parametrize("days", AHEAD)
    @pytest.mark.parametrize("command", WRITERS)
    def test_a_writing_command_refuses_an_evaluation_date_after_today(
        self, registry: Path, tmp_path: Path, command: str, days: int | None
    ) -> None:
        """Exit 2 naming ``--on``, the value given and today; nothing written."""
        on = _ahead(days) if days is not None else "2199-12-31"
        before = export(registry)
        args = _writers(tmp_path)[command]
        r = pecoma("registry", *args, "--on", on, "--data-dir", str(registry))
        assert r.returncode == 2, (r.stdout, r.stderr)
        today = dt.date.today().isoformat()
        assert f"'--on' must not be after today ({today})" in r.stderr
        assert f"(got '{on}')" in r.stderr
        assert "Traceback" not in r.stderr + r.stdout
        assert export(registry) == before

    @pytest.mark.parametrize("command", WRITERS)
    def test_today_given_or_by_default_is_taken(
        self, registry: Path, tmp_path: Path, command: str
    ) -> None:
        """The boundary: today itself is allowed (given, as every other writer is run
        without it: the default)."""
        args = _writers(tmp_path)[command]
        r = pecoma("registry", *args, "--on", dt.date.today().isoformat(),
                   "--data-dir", str(registry))
        assert r.returncode == 0, r.stderr

    def test_a_scan_that_found_metastasis_today_is_on_todays_worklist(
        self, registry: Path, tmp_path: Path
    ) -> None:
        """The patient imported and the metastasis recorded today (the mistyped date
        refused, the import run again as of today) is suspended on today's worklist with
        the critical alert (S27, S17), and counted in today's summary."""
        writers = _writers(tmp_path)
        r = pecoma("registry", *writers["import"], "--on", _ahead(1461),
                   "--data-dir", str(registry))
        assert r.returncode == 2
        r = pecoma("registry", *writers["import"], "--data-dir", str(registry))
        assert r.returncode == 0, r.stderr
        r = pecoma("registry", "record-scan", "F-9", "--date", dt.date.today().isoformat(),
                   "--modality", "chest_ct", "--finding", "metastasis",
                   "--data-dir", str(registry))
        assert r.returncode == 0, r.stderr
        item = worklist(registry)["F-9"]
        assert item["status"] == "suspended"
        assert [a["level"] for a in item["alerts"]] == ["critical"]
        r = pecoma("registry", "summary", "--format", "json", "--data-dir", str(registry))
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["patients"] == 3

    @pytest.mark.parametrize("days", AHEAD)
    def test_a_view_may_look_ahead(self, registry: Path, days: int | None) -> None:
        """Reading is no recording: a worklist, a summary and a re-assessment that
        stores nothing (``--dry-run``) may be run as of a later date, to plan ahead."""
        on = _ahead(days) if days is not None else "2199-12-31"
        assert set(worklist(registry, "--on", on)) == {"PEC-0001", "PEC-0002"}
        for args in (["summary", "--format", "json"], ["reassess", "--dry-run"]):
            r = pecoma("registry", *args, "--on", on, "--data-dir", str(registry))
            assert r.returncode == 0, r.stderr

    def test_the_help_of_a_writing_command_says_so(self) -> None:
        r = pecoma("registry", "record-scan", "--help")
        assert r.returncode == 0
        assert "not after today" in " ".join(r.stdout.split())
