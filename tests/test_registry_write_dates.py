"""The date a registry entry is recorded as of: never after today, never before the
patient's current case version.

Every view of the registry as of a date reads the case version current then, the
version being dated by the evaluation date it was recorded as of (``--on``, today by
default). A command that writes with an evaluation date after today (a year mistyped,
2030 for 2026) dated the patient's case in the future: the patient was in no worklist
or summary of today, so a scan recorded today that found metastasis raised no critical
alert on the list the team reads (S27, S17: a relapse returns the patient to the
treatment pathway), and a scan dated after today could be stored. A version recorded
as of a day before the patient's current one changed, after the fact, the views of the
days between (an R2 "gross tumour left" state appeared in a month where the registry
held R0 or nothing), breaking the promise that a figure re-run for an audit gives what
it gave. Both are refused, naming the option or the patient, the dates and what is
allowed; nothing is written. A view may still look ahead (a worklist as of next month).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry.columns import flatten
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository

from cli_support import CliRun, run_cli
from registry_support import db_url, high_risk, low_risk, repo, rows_of, variant, write_csv

__all__ = ["db_url", "repo"]

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


def _r2(case: dict[str, Any]) -> dict[str, Any]:
    """The same case with the margin corrected to R2 (gross tumour left)."""
    return variant(case, surgery={**case["surgery"], "margin": "R2"})


class TestNotBeforeTheCurrentVersion:
    @pytest.mark.parametrize("mode", ["--all-or-nothing", "--good-rows"])
    @pytest.mark.parametrize("earlier", ["2025-06-01", "2026-06-01", "2026-06-14"])
    def test_an_import_as_of_an_earlier_day_is_refused_per_row(
        self, tmp_path: Path, mode: str, earlier: str
    ) -> None:
        """PEC-0001's case recorded on 2026-06-15; a row correcting its margin to R2,
        imported as of an earlier day, is refused naming the id, both dates and the
        version; PEC-0003, new, is written in the good-rows mode only; the view as of
        2026-06-10 still holds no patient (the registry held none then)."""
        data = tmp_path / "data"
        first = write_csv(tmp_path / "first.csv",
                          rows_of({"PEC-0001": high_risk(), "PEC-0002": low_risk()}))
        r = pecoma("registry", "import", str(first), "--on", "2026-06-15",
                   "--data-dir", str(data))
        assert r.returncode == 0, r.stderr
        before = export(data)
        later = write_csv(tmp_path / "later.csv",
                          rows_of({"PEC-0001": _r2(high_risk()), "PEC-0002": low_risk(),
                                   "PEC-0003": low_risk()}))
        r = pecoma("registry", "import", str(later), mode, "--on", earlier,
                   "--data-dir", str(data))
        assert r.returncode == 3, r.stdout
        assert "1 rejected" in r.stdout
        assert (f"row 2, column 'registry_id': has a current case version (version 1) "
                f"recorded on 2026-06-15, and this one would be recorded as of {earlier}"
                in r.stderr)
        assert "(got 'PEC-0001')" in r.stderr
        after = export(data)
        versions = sorted((v["registry_id"], v["version"]) for v in after["case_versions"])
        if mode == "--all-or-nothing":
            assert after == before
        else:
            assert versions == [("PEC-0001", 1), ("PEC-0002", 1), ("PEC-0003", 1)]
        # PEC-0001 (and PEC-0002) had no version on 2026-06-10 and still have none; a
        # patient new to the registry is recorded as of the day the import says
        assert "PEC-0001" not in worklist(data, "--on", "2026-06-10")
        # the same correction as of the current version's day or later is taken, and
        # the earlier views are left as they were
        r = pecoma("registry", "import", str(later), "--on", "2026-06-15",
                   "--data-dir", str(data))
        assert r.returncode == 0, r.stderr
        assert "PEC-0001" not in worklist(data, "--on", "2026-06-10")
        assert worklist(data, "--on", "2026-06-15")["PEC-0001"]["status"] == "not_drawn"

    @pytest.mark.parametrize("earlier", ["2026-06-01", "2026-06-14"])
    def test_add_case_as_of_an_earlier_day_is_refused(
        self, tmp_path: Path, earlier: str
    ) -> None:
        data = tmp_path / "data"
        first = write_csv(tmp_path / "first.csv", rows_of({"PEC-0001": high_risk()}))
        r = pecoma("registry", "import", str(first), "--on", "2026-06-15",
                   "--data-dir", str(data))
        assert r.returncode == 0, r.stderr
        before = export(data)
        case = tmp_path / "case.json"
        case.write_text(json.dumps(_r2(high_risk())), encoding="utf-8")
        r = pecoma("registry", "add-case", "PEC-0001", str(case), "--on", earlier,
                   "--data-dir", str(data))
        assert r.returncode == 3
        text = " ".join(r.stderr.split())
        assert (f"'registry_id' has a current case version (version 1) recorded on "
                f"2026-06-15, and this one would be recorded as of {earlier}") in text
        assert "Record it as of 2026-06-15 or later" in text
        assert export(data) == before
        r = pecoma("registry", "add-case", "PEC-0001", str(case), "--on", "2026-06-15",
                   "--data-dir", str(data))
        assert r.returncode == 0, r.stderr
        assert "case version 2 recorded" in r.stdout

    def test_the_rule_holds_for_every_writer_of_a_case(self, repo: Repository) -> None:
        """The library's writer (the web form's save uses it, as of the server's date):
        the same rule, nothing written; the same case again as of an earlier day changes
        nothing and is not refused (no version is written)."""
        from pecoma.errors import InputError

        def add(case: dict[str, Any], on: str) -> Any:
            return record_case(repo, "P-1", case, on_date=dt.date.fromisoformat(on),
                               settings=default_settings(), actor="registrar",
                               source="test")

        add(high_risk(), "2026-06-15")
        with pytest.raises(InputError) as caught:
            add(_r2(high_risk()), "2026-06-01")
        assert [i.path for i in caught.value.issues] == ["registry_id"]
        assert add(high_risk(), "2026-06-01").unchanged == 1
        assert add(_r2(high_risk()), "2026-06-15").new_versions == 1
