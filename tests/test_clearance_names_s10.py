"""Metastases at presentation cleared without an operation: the guideline's silence names
both postoperative considerations it leaves out (interpretation I27).

I27 reads S10 (radiotherapy on the primary's site and margins) beside S11 wherever S11 is
shown for disease that is not localized, both following the same operation, and says
neither follows metastases cleared without an operation. REC-NO-ADJUVANT-AFTER-CLEARANCE,
the item saying the guideline names no adjuvant treatment then, named S11 alone: a reader
could take S10's radiotherapy of the primary's bed as still standing, or the item as
citing less than the reading it follows.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pecoma import assess, parse_case
from pecoma.knowledge import load_knowledge

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ON = dt.date(2026, 12, 6)
RECORD = "REC-NO-ADJUVANT-AFTER-CLEARANCE"


def test_the_record_cites_s10_beside_s11_and_i27() -> None:
    rec = load_knowledge().records[RECORD]
    assert {"S10", "S11"} <= set(rec.statements)
    assert "I27" in rec.interpretations
    assert "S10" in rec.text and "S11" in rec.text


@pytest.mark.parametrize("name", [
    "synchronous-metastases-cleared-by-systemic-therapy",
    "synchronous-metastases-cleared-operation-still-planned",
    "r2-primary-cleared-by-systemic-therapy",
])
def test_the_item_carries_the_provenance(name: str) -> None:
    """Each case that produces the item: its provenance names S10, S11 and I27."""
    case = parse_case(json.loads((SCENARIOS / name / "case.json").read_text()))
    item = next(i for i in assess(case, ON).items() if i.id == RECORD)
    assert {"S10", "S11"} <= set(item.provenance.statements)
    assert "I27" in item.provenance.interpretations
