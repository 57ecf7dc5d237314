"""Lines numbered above the lines recorded before them: the earlier lines were given and
are not recorded (I19). The cases are an oncologist's records of metastatic PEComa
(tests/data/line_records), evaluated on 2026-12-07.

The engine took the earliest line recorded as the first line: the alert that the first
line was not an mTOR inhibitor was stated as fact ("first_line = doxorubicin"), the mTOR
first-line advice was unconditional, S14's option said the patient "has had 1 line", and
nothing was asked. A line 1 that was an mTOR inhibitor the disease progressed on (the
common sequence) would put the first-line advice in the past (the guideline names no
next line) and make the alert false."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 7)
DATA = Path(__file__).parent / "data" / "line_records"


def _case(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return data


def _run(case: dict[str, Any]) -> Assessment:
    return assess(parse_case(case), ON)


def _item(a: Assessment, record: str) -> Item:
    [item] = [i for i in a.items() if i.id == record]
    return item


def _facts(item: Item) -> dict[str, str]:
    return {f.path: str(f.value) for f in item.triggered_by}


def test_line_2_doxorubicin_alone_asks_for_line_1() -> None:
    """c82: only a 'line 2' doxorubicin, progressed, mTOR inhibitors possible. Line 1 is
    asked; the alert, the mTOR first line and nab-sirolimus stay (the safer branch) but
    provisional on it, and the alert names the line as entered, never as the first."""
    a = _run(_case("c82"))
    [miss] = [m for m in a.missing if m.id == "MISS-EARLIER-LINES"]
    assert miss.question.endswith("Asked of: line 1.")
    assert set(miss.affects) == {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS",
                                 "ALERT-CHEMO-BEFORE-MTOR"}
    assert "I19" in miss.provenance.interpretations
    assert {"S12", "S13", "S14"} <= set(miss.provenance.statements)
    for record in ("REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS", "ALERT-CHEMO-BEFORE-MTOR"):
        item = _item(a, record)
        assert "MISS-EARLIER-LINES" in item.conditional_on, record
        assert "line 1 is not recorded" in _facts(item)["derived.lines_not_recorded"]
    alert = _facts(_item(a, "ALERT-CHEMO-BEFORE-MTOR"))
    assert "systemic.therapies.first_line" not in alert
    assert alert["systemic.therapies[0].agent"] == "doxorubicin"
    assert alert["systemic.therapies[0].line"] == "2"
    # the force of the guideline is kept
    assert _item(a, "REC-MTOR-FIRST-LINE").strength == "treatment of choice"


def test_line_2_and_3_recorded_asks_for_line_1() -> None:
    """c86: line 2 doxorubicin progressed, line 3 sirolimus stable. The line 1 not
    recorded may have been an mTOR inhibitor: the alert is provisional on it."""
    a = _run(_case("c86"))
    assert "MISS-EARLIER-LINES" in _item(a, "ALERT-CHEMO-BEFORE-MTOR").conditional_on
    assert "MISS-EARLIER-LINES" in _item(a, "REC-MTOR-FIRST-LINE").conditional_on


def test_line_3_alone_asks_for_lines_1_and_2() -> None:
    """c85: only a 'line 3' sirolimus, its outcome not recorded."""
    a = _run(_case("c85"))
    [miss] = [m for m in a.missing if m.id == "MISS-EARLIER-LINES"]
    assert miss.question.endswith("Asked of: lines 1 and 2.")
    item = _item(a, "REC-MTOR-FIRST-LINE")
    assert {"MISS-MTOR-PROGRESSION", "MISS-EARLIER-LINES"} <= set(item.conditional_on)


def test_s14_after_a_line_2_does_not_count_one_line() -> None:
    """c89: mTOR inhibitors contraindicated, only a 'line 2' gemcitabine with docetaxel.
    S14's option said the patient 'has had 1 line'; line 1 may have been an anthracycline
    the disease progressed on (then the guideline names no line after it)."""
    a = _run(_case("c89"))
    item = _item(a, "REC-ANTHRACYCLINE")
    assert item.strength == "can be considered"
    assert "MISS-EARLIER-LINES" in item.conditional_on
    facts = _facts(item)
    assert "has had 1 line of systemic treatment for advanced disease (" not in (
        facts["derived.earlier_lines"])
    assert "line 1 not recorded" in facts["derived.earlier_lines"]
    assert "how many lines were given are not known" in facts["derived.lines_not_recorded"]


@pytest.mark.parametrize("before", [
    # line 1 recorded: nothing missing
    [{"agent": "pazopanib", "line": 1, "started_on": "2025-02-01", "progressed": "yes"}],
    # a line without a number, started before line 2, may be line 1
    [{"agent": "sirolimus", "started_on": "2025-02-01", "progressed": "yes"}],
])
def test_lines_accounted_for_ask_nothing(before: list[dict[str, Any]]) -> None:
    case = _case("c82")
    case["systemic"]["therapies"] = [*before, *case["systemic"]["therapies"]]
    a = _run(case)
    assert "MISS-EARLIER-LINES" not in [m.id for m in a.missing]
    for item in a.items():
        assert "derived.lines_not_recorded" not in _facts(item)


def test_an_unnumbered_line_started_after_does_not_fill_the_gap() -> None:
    """A line without a number that started after the line numbered 2 cannot be line 1."""
    case = _case("c82")
    case["systemic"]["therapies"].append(
        {"agent": "pazopanib", "started_on": "2026-01-01", "progressed": "no"})
    a = _run(case)
    assert "MISS-EARLIER-LINES" in [m.id for m in a.missing]
