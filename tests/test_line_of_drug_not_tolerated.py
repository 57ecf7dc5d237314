"""A line still given, the disease responding, of a drug also recorded as not tolerated
(an oncologist's records, tests/data/line_records): nab-sirolimus with a partial
response beside a sirolimus intolerance (c71), everolimus likewise (c77), doxorubicin
likewise with mTOR inhibitors contraindicated (c72). The intolerance rules the drug out
(I15), so the advice left the line out everywhere: 'nab-sirolimus never proposed' for a
patient responding to it, the first-line advice read as for a patient never treated,
nothing asked. I15 says the team checks whether the intolerance holds: the line and the
intolerance are now named together in ALERT-LINE-NOT-TOLERATED."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.fhir.reader import case_from_bundle

from allergy_support import EVEROLIMUS, PATIENT, record

ON = dt.date(2026, 12, 7)
DATA = Path(__file__).parent / "data" / "line_records"


def _case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def _alert_facts(a: Assessment) -> dict[str, str] | None:
    found = [x for x in a.alerts if x.id == "ALERT-LINE-NOT-TOLERATED"]
    if not found:
        return None
    [alert] = found
    assert alert.level == "warning"
    assert {"I15", "I19"} <= set(alert.provenance.interpretations)
    return {f.path: str(f.value) for f in alert.triggered_by}


@pytest.mark.parametrize(("name", "line_agent", "intolerance_agent"), [
    ("c71", "nab_sirolimus", "sirolimus"),
    ("c77", "everolimus", "everolimus"),
    ("c72", "doxorubicin", "doxorubicin"),
])
def test_the_line_is_named_beside_the_intolerance(
    name: str, line_agent: str, intolerance_agent: str,
) -> None:
    facts = _alert_facts(assess(parse_case(_case(name)), ON))
    assert facts is not None, name
    assert facts["systemic.therapies[0].agent"] == line_agent
    assert facts["systemic.therapies[0].best_response"] == "partial"
    assert facts["systemic.therapies[0].progressed"] == "no"
    assert facts["systemic.intolerances[0].agent"] == intolerance_agent


def test_a_switch_for_toxicity_raises_nothing() -> None:
    """Everolimus not tolerated, then sirolimus (the latest line, responding): the
    intolerance is of an earlier line another followed, nothing to check."""
    case = _case("c77")
    case["systemic"]["therapies"].append(
        {"agent": "sirolimus", "line": 2, "started_on": "2025-09-01",
         "best_response": "partial", "progressed": "no"})
    assert _alert_facts(assess(parse_case(case), ON)) is None


def test_a_line_the_disease_progressed_on_raises_nothing() -> None:
    """Progressed on, the line is over whatever the intolerance: the guideline's silence
    after progression names it already."""
    case = _case("c77")
    case["systemic"]["therapies"][0].update(best_response="progression", progressed="yes")
    assert _alert_facts(assess(parse_case(case), ON)) is None


def test_an_intolerance_of_another_drug_raises_nothing() -> None:
    case = _case("c77")
    case["systemic"]["intolerances"] = [{"agent": "doxorubicin", "class_wide": "no"}]
    assert _alert_facts(assess(parse_case(case), ON)) is None


def _stopped_for(reason: str) -> dict[str, Any]:
    """An everolimus MedicationStatement stopped with a toxicity as its reason: the most
    common way an EHR records a drug stopped for an intolerance."""
    return {"resourceType": "MedicationStatement", "id": "ms-1", "status": "stopped",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "medicationCodeableConcept": EVEROLIMUS,
            "statusReason": [{"text": reason}],
            "effectivePeriod": {"start": "2025-06-01", "end": "2026-06-01"}}


def test_a_line_stopped_for_the_intolerance_raises_nothing() -> None:
    """Everolimus stopped on 2026-06-01 for grade 3 pneumonitis: the record gives the line
    and the intolerance both, and says the drug was stopped for it. Nothing to check: no
    'which is current?'."""
    bc = case_from_bundle(record(_stopped_for("grade 3 pneumonitis")), on=ON)
    sysm = bc.case.systemic
    assert [(t.agent.value, t.progressed.value, t.best_response.value)
            for t in sysm.therapies] == [("everolimus", "unknown", "unknown")]
    assert [x.agent.value for x in sysm.intolerances] == ["everolimus"]
    assert _alert_facts(assess(bc.case, ON)) is None


def test_a_line_showing_neither_progression_nor_response_raises_nothing() -> None:
    """A case line of everolimus with no response and progression unknown, beside an
    everolimus intolerance: the line shows nothing of being still given; no alert (a line
    recorded as ended raises none either: tests/test_line_ended.py). Whether the disease
    progressed on the everolimus is still asked."""
    case = _case("c77")
    case["systemic"]["therapies"][0].update(best_response="unknown", progressed="unknown")
    a = assess(parse_case(case), ON)
    assert _alert_facts(a) is None
    assert "MISS-MTOR-PROGRESSION" in [m.id for m in a.missing]


@pytest.mark.parametrize(("response", "progressed"), [
    ("unknown", "no"),       # recorded as not progressed on: still running
    ("stable", "unknown"),   # a response recorded: the line was working
    ("partial", "unknown"),
])
def test_a_line_still_given_or_working_keeps_the_alert(response: str,
                                                       progressed: str) -> None:
    """An everolimus line recorded as not progressed on, or with a best response, and no
    progression, beside an everolimus intolerance: which is current is asked."""
    case = _case("c77")
    case["systemic"]["therapies"][0].update(best_response=response, progressed=progressed)
    facts = _alert_facts(assess(parse_case(case), ON))
    assert facts is not None
    assert facts["systemic.therapies[0].agent"] == "everolimus"
    assert facts["systemic.intolerances[0].agent"] == "everolimus"
