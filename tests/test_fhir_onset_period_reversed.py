"""FHIR in: a Condition's onsetPeriod whose end is before its start.

FHIR R4's invariant per-1: a Period ends on or after its start. The kidney corpus
(tests/data/mcode/kidney-metastatic.json) with its lung metastasis dated by an
onsetPeriod 2025-02-12 to 2025-01-12 was read as detected on 2025-02-12, with no word:
the record contradicts itself on the day the metastasis was found, which decides whether
it is synchronous or metachronous and the disease-free interval before a lung
metastasectomy (S16). A resection's performedPeriod in the same state is refused naming
both ends; expected, by hand: the same here, the element and both ends named, and the
same period in order read, dated by its start.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.errors import InputError
from pecoma.fhir.reader import case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
LUNG = "secondary-cancer-condition-lung-mets"
PRIMARY = "primary-cancer-condition-kidney"


def _with_period(rid: str, start: str, end: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((DATA / "kidney-metastatic.json").read_text("utf-8"))
    cond = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)
    del cond["onsetDateTime"]
    cond["onsetPeriod"] = {"start": start, "end": end}
    return bundle


@pytest.mark.parametrize(("rid", "start", "end"), [
    (LUNG, "2025-02-12", "2025-01-12"),
    (LUNG, "2025-02-12T10:00:00Z", "2025-02-12T08:00:00Z"),
    (PRIMARY, "2023-05-15", "2023-05-01"),
], ids=["metastasis-by-a-month", "metastasis-by-hours", "primary"])
def test_a_reversed_onset_period_is_refused(rid: str, start: str, end: str) -> None:
    """Refused, naming Condition/<id>.onsetPeriod.end, its value, the start and per-1
    (the PEComa's own onset, its diagnosis day, likewise)."""
    with pytest.raises(InputError) as caught:
        case_from_bundle(_with_period(rid, start, end), validate="full", on=ON)
    (issue,) = [i for i in caught.value.issues if "onsetPeriod" in i.path]
    assert issue.path == f"Condition/{rid}.onsetPeriod.end"
    assert end in issue.value
    assert f"must not be before onsetPeriod.start ({start[:10]}" in issue.rule
    assert "per-1" in issue.rule


def test_an_onset_period_in_order_is_read_by_its_start() -> None:
    """Boundary: the lung metastasis over 2025-02-12 to 2025-03-01 is detected on
    2025-02-12 (its start), as before."""
    bc = case_from_bundle(_with_period(LUNG, "2025-02-12", "2025-03-01"), validate="full",
                          on=ON)
    (lung,) = [x for x in bc.case.stage.metastases if x.site.value == "lung"]
    assert lung.detected_on == dt.date(2025, 2, 12)
