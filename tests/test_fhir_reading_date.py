"""FHIR in: every path reading a record reads it for the evaluation date its caller gives.

The record is the kidney corpus (tests/data/mcode/kidney-metastatic.json) whose everolimus
order is written on 2026-05-20 to start on 2026-07-01 (its dosage's boundsPeriod). Read
on 2026-06-01 the order is planned, not a line given (it cannot have been given yet);
read on 2026-08-01 it is a line given since 2026-07-01. Which it is depends only on the
day the caller reads the record for, never on a clock read inside the reading
(src/pecoma/fhir holds none).

`pecoma fhir from-case` given a Bundle read it with no day at all: the order starting
next month was read as a line given, and written out as one (a MedicationStatement of
everolimus), whatever the day. It now takes `--on` (default today, read at the edge as
every command does) and reads the Bundle for that day.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cli_support import run_cli

DATA = Path(__file__).parent / "data" / "mcode"
SRC = Path(__file__).parent.parent / "src" / "pecoma"
BEFORE = dt.date(2026, 6, 1)  # before the order's first day: planned
AFTER = dt.date(2026, 8, 1)  # after it: a line given since 2026-07-01
EVEROLIMUS = "cancer-related-medication-request-everolimus"


def _ordered_to_start_later() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((DATA / "kidney-metastatic.json").read_text("utf-8"))
    order = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == EVEROLIMUS)
    order["authoredOn"] = "2026-05-20"
    order["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["start"] = "2026-07-01"
    return bundle


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _agents(case: dict[str, Any]) -> list[str]:
    return [t["agent"] for t in case.get("systemic", {}).get("therapies", [])]


@pytest.mark.parametrize(("on", "everolimus_given"), [(BEFORE, False), (AFTER, True)])
def test_to_case_reads_for_the_day_given(tmp_path: Path, on: dt.date,
                                         everolimus_given: bool) -> None:
    """`pecoma fhir to-case --on`: the chemotherapy of 2024 is a line given on both days;
    everolimus only on the day after its first day."""
    run = run_cli("fhir", "to-case", "--on", on.isoformat(),
                  str(_write(tmp_path, _ordered_to_start_later())))
    assert run.returncode == 0, run.stderr
    agents = _agents(json.loads(run.stdout))
    assert "doxorubicin_ifosfamide" in agents
    assert ("everolimus" in agents) is everolimus_given


def _written_agents(bundle: dict[str, Any]) -> set[str]:
    """The drugs the written Bundle's MedicationStatements name (code or text)."""
    out = set()
    for e in bundle["entry"]:
        res = e["resource"]
        if res["resourceType"] != "MedicationStatement":
            continue
        concept = res.get("medicationCodeableConcept", {})
        words = json.dumps(concept).lower()
        out |= {a for a in ("everolimus", "doxorubicin") if a in words}
    return out


@pytest.mark.parametrize(("on", "everolimus_given"), [(BEFORE, False), (AFTER, True)])
def test_from_case_reads_a_bundle_for_the_day_given(tmp_path: Path, on: dt.date,
                                                    everolimus_given: bool) -> None:
    """`pecoma fhir from-case --on` given a Bundle: the line written out is everolimus
    only when the record is read on a day after its first day."""
    run = run_cli("fhir", "from-case", "--on", on.isoformat(),
                  str(_write(tmp_path, _ordered_to_start_later())))
    assert run.returncode == 0, run.stderr
    written = _written_agents(json.loads(run.stdout))
    assert "doxorubicin" in written
    assert ("everolimus" in written) is everolimus_given


def test_from_case_refuses_a_bad_day(tmp_path: Path) -> None:
    """A day that is no date is refused naming the option, as for every command."""
    run = run_cli("fhir", "from-case", "--on", "2026-13-01",
                  str(_write(tmp_path, _ordered_to_start_later())))
    assert run.returncode == 2
    assert "'--on'" in run.stderr


def test_the_smart_launch_reads_for_the_apps_today(tmp_path: Path) -> None:
    """The SMART launch reads the record for the app's today (its clock, given to
    create_app): a sirolimus order starting on 2026-12-10 is no line on 2026-11-28, and is
    the line on the form on 2026-12-20."""
    from fastapi.testclient import TestClient

    from pecoma.web.app import create_app
    from test_smart_launch import PECOMA, config, form_value, launch_and_return

    from fhir_support import example
    from smart_ehr import Ehr, running

    record = copy.deepcopy(example("localized-high-risk"))
    pid = next(e["resource"]["id"] for e in record["entry"]
               if e["resource"]["resourceType"] == "Patient")
    record["entry"].append({"resource": {
        "resourceType": "MedicationRequest", "id": "mr-s", "status": "active",
        "intent": "order", "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": "2026-11-20",
        "medicationCodeableConcept": {"coding": [{
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "35302"}]},
        "dosageInstruction": [{"timing": {"repeat": {
            "boundsPeriod": {"start": "2026-12-10"}}}}]}})
    shown = {}
    for today in (dt.date(2026, 11, 28), dt.date(2026, 12, 20)):
        ehr = Ehr(record=record)
        where = tmp_path / today.isoformat()
        where.mkdir()
        with running(ehr):
            app = create_app(config(ehr, where), today=lambda d=today: d)
            with TestClient(app, base_url=PECOMA, follow_redirects=False) as c:
                r = launch_and_return(c, ehr)
                assert r.status_code == 200
                shown[today] = form_value(r.text, "systemic.therapies[0].agent")
    assert shown[dt.date(2026, 11, 28)] in (None, "")
    assert shown[dt.date(2026, 12, 20)] == "sirolimus"


#: Calls that read a clock: a reading of the record must be given its day instead.
_CLOCKS = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow"),
           ("datetime", "today")}


def test_the_fhir_reading_reads_no_clock() -> None:
    """No module of src/pecoma/fhir reads today's date: the day is its caller's
    (`--on`, the CDS service's and the SMART app's clock, read at the edge)."""
    found = []
    for path in sorted((SRC / "fhir").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute | ast.Name)
                    and ((node.value.attr if isinstance(node.value, ast.Attribute)
                          else node.value.id), node.attr) in _CLOCKS):
                found.append(f"{path.name}:{node.lineno}")
    assert not found
