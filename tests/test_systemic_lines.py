"""Advice on systemic treatment of advanced disease, as the lines already given decide it:
the facts an item names are the facts recorded, never one inferred and shown as entered."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pecoma import assess, parse_case

ON = dt.date(2026, 11, 28)
SCENARIOS = Path(__file__).parent / "scenarios"


def _with_line(line: dict[str, object]) -> dict[str, object]:
    case = json.loads((SCENARIOS / "progressed-on-mtor" / "case.json").read_text())
    case["systemic"]["therapies"] = [line]
    return case


def _facts(case: dict[str, object], record: str) -> dict[str, str]:
    a = assess(parse_case(case), ON)
    [item] = [r for r in a.recommendations if r.id == record]
    return {f.path: f.value for f in item.triggered_by}


def test_progression_as_best_response_is_shown_as_recorded() -> None:
    """Sirolimus with progression as its best response and 'progressed' not recorded: the
    guideline's silence after progression rests on the best response, which is what the
    item names (it once showed 'progressed = yes', a fact nobody entered)."""
    facts = _facts(_with_line({"agent": "sirolimus", "line": 1, "started_on": "2024-10-01",
                               "best_response": "progression"}), "REC-NO-NEXT-LINE")
    assert facts["systemic.therapies.best_response"] == "progression"
    assert "systemic.therapies.progressed" not in facts


def test_progression_recorded_is_shown_as_recorded() -> None:
    facts = _facts(_with_line({"agent": "sirolimus", "line": 1, "started_on": "2024-10-01",
                               "best_response": "partial", "progressed": "yes"}),
                   "REC-NO-NEXT-LINE")
    assert facts["systemic.therapies.progressed"] == "yes"
    assert facts["systemic.therapies.agent"] == "sirolimus"
