"""FHIR in: every metastasis read is resolved, but the Conditions were not all read.

The record is the kidney corpus with only its liver metastasis left, resolved on
2024-03-05, and a full remission stated on 2025-03-02 (as in
tests/test_fhir_present_after_abatement.py: read in full, the patient is free of
disease since 2024-03-05). The reader derived "free of disease" from the resolved
metastases even when it said itself that the condition list was not read in full: an
active lung metastasis Condition whose patient it could not confirm (a subject given
by an identifier only, a legal R4 Reference), or a bundle that is the first page of a
paged search (a 'next' link), or one whose ``total`` counts more matches than it holds.
The patient was then advised as free of disease after relapse (no adjuvant systemic
treatment, REC-NO-ADJUVANT-AFTER-RELAPSE) instead of for present metastatic disease
(the first-line mTOR inhibitor, S12, S13).

Expected, each by hand: free of disease is a conclusion that no metastasis is present,
and it can only be drawn from a condition list read in full. With the Conditions not
all read (unknown is not absent), it is not derived: the disease is taken as possibly
present (the safer reading: 'metastatic', the advice for present disease, the first-line
mTOR inhibitor), the resolved metastasis is history, not listed as present disease,
where the disease is now is asked (MISS-METASTASIS-DETAILS), and a note says why and
what to record. This is the rule the reader applies to a denial of metastatic history
when the Observations are not all read. The CDS patient-view card and the CarePlan,
built from the same reading, say the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import DiseaseStatus
from pecoma.engine import assess
from pecoma.engine.schedule import plan_surveillance
from pecoma.fhir.careplan import careplan_bundle
from pecoma.fhir.reader import BundleCase, case_from_bundle
from test_fhir_present_after_abatement import FIRST_LINE, FREE, _status

from fhir_support import as_searched, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 6, 1)
ABATED = dt.date(2024, 3, 5)
FULL_REMISSION = "550991000124107"
NOTE = "free_of_disease not derived from the resolved metastases"


def _free() -> dict[str, Any]:
    """The record read in full: free of disease since 2024-03-05 (the control)."""
    return _status(FULL_REMISSION)


def _active_lung_metastasis(subject: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "met-lung-unread",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                 "code": "C78.00",
                                 "display": "Secondary malignant neoplasm of lung"}]},
            "onsetDateTime": "2025-09-01", "subject": subject}


def _with_condition(subject: dict[str, Any]) -> dict[str, Any]:
    bundle = _free()
    bundle["entry"].append({"resource": _active_lung_metastasis(subject)})
    return bundle


def _paged() -> dict[str, Any]:
    bundle = _free()
    bundle["type"] = "searchset"
    bundle["link"] = [{"relation": "next",
                       "url": "https://ehr.example/fhir/Condition?patient=p1&page=2"}]
    return bundle


def _total_above() -> dict[str, Any]:
    bundle = _free()
    bundle["type"] = "searchset"
    bundle["total"] = len(bundle["entry"]) + 5
    return bundle


#: Ways the Conditions are not all read, each by hand.
UNREAD: dict[str, Callable[[], dict[str, Any]]] = {
    # an identifier only, in a system the Patient does not carry: whose it is is unknown
    "subject-identifier-only": lambda: _with_condition(
        {"identifier": {"system": "urn:oid:2.16.840.1.113883.19.5", "value": "778899"}}),
    # an identifier with no system: which patient's number it is cannot be told
    "subject-identifier-without-system": lambda: _with_condition(
        {"identifier": {"value": "778899"}}),
    # an absolute reference on a server pecoma cannot compare with the record's
    "subject-on-another-server": lambda: _with_condition(
        {"reference": "https://other.example/fhir/Patient/p9"}),
    "next-link": _paged,
    "total-above-the-entries": _total_above,
}


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def test_read_in_full_the_patient_is_free_of_disease() -> None:
    """The control: the same record read in full is free of disease since the
    abatement, as before."""
    bc = _read(_free())
    assert bc.case.free_of_disease is not None
    assert bc.case.free_of_disease.since == ABATED
    assert FREE in set(assess(bc.case, ON).record_ids())


@pytest.mark.parametrize("kind", list(UNREAD))
def test_not_free_of_disease_with_conditions_unread(kind: str) -> None:
    """The Conditions not all read: no free of disease, the disease taken as possibly
    present ('metastatic'), the resolved liver metastasis not listed as present disease,
    the advice for present disease, where the disease is now asked, and a note naming
    why (the conditions not read in full) and what to record."""
    bc = _read(UNREAD[kind]())
    assert "conditions" in bc.unread
    assert bc.case.free_of_disease is None
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert not bc.case.stage.metastases
    (note,) = [n for n in bc.notes if n.startswith(NOTE)]
    assert "2024-03-05" in note and "the Conditions were not all read" in note
    assert "possibly present" in note
    a = assess(bc.case, ON)
    ids = set(a.record_ids())
    assert FIRST_LINE in ids and FREE not in ids
    assert "MISS-METASTASIS-DETAILS" in {m.id for m in a.missing}


def test_careplan_is_for_present_disease() -> None:
    """`pecoma fhir careplan` writes from the same reading: its RequestGroup holds the
    first-line mTOR inhibitor, never "free of disease after relapse"."""
    bc = _read(_paged())
    a = assess(bc.case, ON)
    written = careplan_bundle(bc.case, a, plan_surveillance(bc.case, a, ON),
                              patient_id=bc.patient_id, reading=bc)
    group = written["entry"][1]["resource"]
    ids = {x["id"] for x in group["action"]}
    assert FIRST_LINE in ids and FREE not in ids


def test_cds_patient_view_agrees(tmp_path: Path) -> None:
    """CDS patient-view reads the prefetch with the same reader: the condition entry
    whose patient cannot be confirmed keeps the card for present metastatic disease,
    heading the first-line mTOR inhibitor, never "free of disease after relapse"."""
    from pecoma.web.app import create_app
    from pecoma.web.cds.discovery import PATIENT_VIEW
    from pecoma.web.cds.settings import CdsSettings
    from pecoma.web.config import WebConfig
    from pecoma.web.smart.settings import SmartSettings

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                               cds=CdsSettings(), smart=SmartSettings()), today=lambda: ON)
    client = TestClient(app, base_url="http://localhost")
    bundle = as_searched(UNREAD["subject-identifier-only"]())
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200
    (card,) = [c for c in r.json()["cards"] if c["summary"].startswith("PEComa (metastatic)")]
    assert "Free of disease" not in card["summary"]
    assert "mTOR inhibitor is the first-line" in card["summary"]
    assert "Free of disease after relapse" not in card["detail"]
