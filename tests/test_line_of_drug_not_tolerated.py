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
