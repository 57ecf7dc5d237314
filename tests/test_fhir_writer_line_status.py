"""How `pecoma fhir from-case` writes a therapy line's status: a line another line came
after (started later, or numbered later) is over — a new line replaces the one before it —
so it is written `completed`; the latest line's course is not known, so `unknown`. Read
back by the CDS service, an earlier line of a drug the allergy list rules out (everolimus
not tolerated, then nab-sirolimus) had been shown as "possibly given now", a critical card
for a drug stopped long ago; the latest line of such a drug still gets it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma.case import parse_case
from pecoma.fhir.medications import now_given
from pecoma.fhir.writer import bundle_from_case

ON = dt.date(2026, 12, 7)


def case(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"tumour": {"primary_site": "kidney"},
            "stage": {"status": "metastatic", "metastases": [
                {"site": "lung", "detected_on": "2024-01-10"}]},
            "systemic": {"therapies": list(lines),
                         "intolerances": [{"agent": "everolimus"}]}}


def statuses(data: dict[str, Any]) -> dict[str, str]:
    bundle = bundle_from_case(parse_case(data))
    return {e["resource"]["medicationCodeableConcept"]["text"]: e["resource"]["status"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "MedicationStatement"}


def running(data: dict[str, Any]) -> set[str]:
    bundle = bundle_from_case(parse_case(data))
    return {e["resource"]["medicationCodeableConcept"]["text"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "MedicationStatement"
            and now_given(e["resource"], ON) is not None}


def test_a_line_followed_by_a_later_one_is_over() -> None:
    data = case({"agent": "everolimus", "setting": "advanced", "started_on": "2024-02-01"},
                {"agent": "nab_sirolimus", "setting": "advanced", "started_on": "2025-03-01"})
    assert statuses(data) == {"everolimus": "completed", "nab sirolimus": "unknown"}
    # the earlier line is no course possibly given now; the latest may be
    assert running(data) == {"nab sirolimus"}


def test_line_numbers_order_lines_without_dates() -> None:
    data = case({"agent": "everolimus", "setting": "advanced", "line": 1},
                {"agent": "doxorubicin", "setting": "advanced", "line": 2})
    assert statuses(data) == {"everolimus": "completed", "doxorubicin": "unknown"}


def test_lines_that_cannot_be_ordered_stay_unknown() -> None:
    """Neither dated nor numbered against each other: which came last is not known, so
    neither is taken as over (the safer reading)."""
    data = case({"agent": "everolimus", "setting": "advanced"},
                {"agent": "doxorubicin", "setting": "advanced"})
    assert statuses(data) == {"everolimus": "unknown", "doxorubicin": "unknown"}
