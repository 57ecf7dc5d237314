"""FHIR in: every period the reader reads, ending before it starts.

FHIR R4's invariant per-1: a Period ends on or after its start. A resection's
performedPeriod, a medication's effectivePeriod or dosage bounds and a Condition's
onsetPeriod so reversed were refused, naming the end, its value and the start; other
periods the reader reads to place facts in time were read silently by one end:

- a metastasis's ``abatementPeriod`` (an abatement makes a metastasis with no status
  history; when it resolved is what free of disease is counted from);
- an Observation's ``effectivePeriod`` (which result is the later, and whether a disease
  status stands before or after the day the metastases resolved);
- a MedicationRequest's ``dispenseRequest.validityPeriod`` (its start is the order's
  first day when the dosage gives none);
- a further PEComa Condition's ``onsetPeriod``, placed against the day the metastases
  resolved.

The record is the kidney corpus (tests/data/mcode/kidney-metastatic.json). Expected, by
hand, for each: the record refused, naming ``<Type>/<id>.<period>.end``, its value, the
start and per-1 (the record contradicts itself on when the fact holds: which end is
right cannot be told); the same period in order read as before; a period of a result the
reader does not read (a blood pressure) refuses nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.errors import FieldIssue, InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
LIVER = "secondary-cancer-condition-liver-resolved"
STATUS = "cancer-disease-status-worsened-pecoma-k"
EVEROLIMUS = "cancer-related-medication-request-everolimus"
PRIMARY = "primary-cancer-condition-kidney"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _record() -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((DATA / "kidney-metastatic.json").read_text("utf-8"))
    return bundle


def _res(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)


def _only_the_liver(bundle: dict[str, Any]) -> dict[str, Any]:
    """The liver metastasis, resolved, alone: free of disease is counted from its end."""
    gone = {"secondary-cancer-condition-lung-mets", "secondary-cancer-condition-brain-mets",
            STATUS}
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in gone]
    return bundle


def _refused(bundle: dict[str, Any], path: str) -> FieldIssue:
    with pytest.raises(InputError) as caught:
        case_from_bundle(bundle, validate="full", on=ON)
    (issue,) = [i for i in caught.value.issues if i.path.startswith(path)]
    return issue


def _per_1(issue: FieldIssue, element: str, start: str, end: str) -> None:
    assert end in issue.value
    assert f"must not be before {element}.start ({start}" in issue.rule
    assert "per-1" in issue.rule


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


class TestAbatementPeriod:
    def _liver(self, period: dict[str, str]) -> dict[str, Any]:
        bundle = _only_the_liver(_record())
        liver = _res(bundle, LIVER)
        del liver["abatementDateTime"]
        liver["abatementPeriod"] = period
        return bundle

    def test_reversed_is_refused(self) -> None:
        """The liver metastasis resolved over 2024-03-05 to 2024-02-01: when it resolved
        is what free of disease counts from; refused, naming both ends."""
        issue = _refused(self._liver({"start": "2024-03-05", "end": "2024-02-01"}),
                         f"Condition/{LIVER}.abatementPeriod")
        assert issue.path == f"Condition/{LIVER}.abatementPeriod.end"
        _per_1(issue, "abatementPeriod", "2024-03-05", "2024-02-01")

    def test_in_order_is_read_as_before(self) -> None:
        """Boundary: a period in order is no error; its metastasis is resolved (history)
        and, with no abatementDateTime, the day it resolved is not known, so the disease
        status is asked, as before (never free of disease from a guessed day)."""
        with pytest.raises(InputError) as caught:
            _read(self._liver({"start": "2024-02-01", "end": "2024-03-05"}))
        assert [i.path for i in caught.value.issues] == ["stage.status"]


class TestObservationEffectivePeriod:
    def test_a_disease_status_reversed_is_refused(self) -> None:
        """The 'worsened' CancerDiseaseStatus over 2025-03-02 to 2025-01-02: it decides the
        disease status and, after resolved metastases, whether the disease is back."""
        bundle = _record()
        status = _res(bundle, STATUS)
        del status["effectiveDateTime"]
        status["effectivePeriod"] = {"start": "2025-03-02", "end": "2025-01-02"}
        issue = _refused(bundle, f"Observation/{STATUS}.effectivePeriod")
        assert issue.path == f"Observation/{STATUS}.effectivePeriod.end"
        _per_1(issue, "effectivePeriod", "2025-03-02", "2025-01-02")

    def test_a_result_the_reader_does_not_read_refuses_nothing(self) -> None:
        """Boundary: a blood pressure over a reversed period is not read (nothing of the
        case is taken from it); an EHR sends such results by the hundred."""
        bundle = _record()
        bundle["entry"].append({"resource": {
            "resourceType": "Observation", "id": "bp", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "subject": _res(bundle, PRIMARY)["subject"],
            "effectivePeriod": {"start": "2025-03-02", "end": "2025-01-02"}}})
        bc = _read(bundle)
        assert "Observation/bp" not in bc.sources.values()

    def test_one_entered_in_error_refuses_nothing(self) -> None:
        """Boundary: a result entered in error decides nothing by its dates."""
        bundle = _record()
        status = _res(bundle, STATUS)
        del status["effectiveDateTime"]
        status["effectivePeriod"] = {"start": "2025-03-02", "end": "2025-01-02"}
        status["status"] = "entered-in-error"
        _read(bundle)


def test_a_medication_request_validity_period_reversed_is_refused() -> None:
    """The everolimus order's dispenseRequest.validityPeriod 2025-03-04 to 2025-02-04 (its
    start is the order's first day when no dosage gives one): refused as a statement's
    effectivePeriod is."""
    bundle = _record()
    order = _res(bundle, EVEROLIMUS)
    order["dispenseRequest"] = {"validityPeriod": {"start": "2025-03-04",
                                                   "end": "2025-02-04"}}
    issue = _refused(bundle, f"MedicationRequest/{EVEROLIMUS}.dispenseRequest")
    assert issue.path == f"MedicationRequest/{EVEROLIMUS}.dispenseRequest.validityPeriod.end"
    _per_1(issue, "dispenseRequest.validityPeriod", "2025-03-04", "2025-02-04")


def test_a_further_pecoma_onset_period_reversed_is_refused() -> None:
    """A second PEComa Condition, active, beside the one read, its onsetPeriod 2025-02-01 to
    2025-01-01, placed against the day the liver metastasis resolved (2024-03-05): refused
    as the PEComa's own onsetPeriod is."""
    bundle = _only_the_liver(_record())
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "id": "rec",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "code": {"coding": [{"system": ICDO3, "code": "8714/3"}], "text": "PEComa"},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "64033007",
                                  "display": "Kidney structure"}]}],
        "subject": _res(bundle, PRIMARY)["subject"],
        "onsetPeriod": {"start": "2025-02-01", "end": "2025-01-01"}}})
    issue = _refused(bundle, "Condition/rec.onsetPeriod")
    assert issue.path == "Condition/rec.onsetPeriod.end"
    _per_1(issue, "onsetPeriod", "2025-02-01", "2025-01-01")
