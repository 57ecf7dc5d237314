"""order-select: a draft naming a Medication by the fullUrl the prefetch holds it under
is read as the record's medications are.

A draft whose ``medicationReference`` is the absolute ``fullUrl`` of a Medication the
prefetch holds was "not identified" (a warning), while the record's own medications
resolve such a reference (FHIR R4 Bundle, resolving references: an absolute reference
is matched against the entries' fullUrl). The draft is sirolimus, and beside a sirolimus
allergy it must get the critical card: the warning left the clinician to work out what
the record already said. One resolver for drafts and record.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line in the example; the service's today is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
SUBJECT = {"reference": "Patient/pat-1003"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DRUGS = {
    "sirolimus": {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]},
    "temsirolimus": {"coding": [{"system": RXNORM, "code": "657797",
                                 "display": "temsirolimus"}]},
    "everolimus": {"coding": [{"system": RXNORM, "code": "141704",
                               "display": "everolimus"}]},
    "doxorubicin": {"coding": [{"system": RXNORM, "code": "3639",
                                "display": "doxorubicin"}]},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('draft-full-url') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def _allergy(drug: str) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": "a-1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "category": ["medication"], "code": DRUGS[drug], "patient": SUBJECT}


def _draft(**medication: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
            "intent": "order", "subject": SUBJECT, **medication}


def _cards(client: TestClient, prefetch: dict[str, Any], draft: dict[str, Any]
           ) -> list[dict[str, Any]]:
    body = hook_request("order-select", "pat-1003", prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/d1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _record(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = example(PATIENT)
    bundle["entry"] += [{"resource": r} for r in resources]
    return bundle


# ---------------------------------------------------------------- a reference by fullUrl

BASE = "https://ehr.example/fhir"
MEDICATION = {"resourceType": "Medication", "id": "medsiro", "code": DRUGS["sirolimus"]}


def _with_medication(key: str, full_url: str) -> dict[str, Any]:
    prefetch = prefetch_of(_record(_allergy("sirolimus")))
    prefetch[key]["entry"].append({"fullUrl": full_url, "resource": MEDICATION,
                                   "search": {"mode": "include"}})
    return prefetch


@pytest.mark.parametrize("key", ["medication_requests", "medications",
                                 "medication_administrations"])
@pytest.mark.parametrize(("full_url", "reference"), [
    (f"{BASE}/Medication/medsiro", f"{BASE}/Medication/medsiro"),
    (f"{BASE}/Medication/medsiro", f"{BASE}/Medication/medsiro/_history/2"),
    ("urn:uuid:6f1c1d3e-2b7a-4c55-9a0e-3d2b1e6f9a10",
     "urn:uuid:6f1c1d3e-2b7a-4c55-9a0e-3d2b1e6f9a10"),
], ids=["absolute", "absolute-versioned", "urn-uuid"])
def test_a_draft_naming_a_prefetch_medication_by_its_full_url_is_identified(
        client: TestClient, key: str, full_url: str, reference: str) -> None:
    """The draft's medicationReference is the fullUrl of a Medication the prefetch holds
    (no fhirServer): it names that entry, sirolimus, so beside a sirolimus allergy the
    draft gets the critical card, not "drug not identified"."""
    cards = _cards(client, _with_medication(key, full_url),
                   _draft(medicationReference={"reference": reference}))
    [card] = [c for c in cards if c["indicator"] == "critical"]
    assert card["summary"] == ("Draft order of sirolimus: the record lists an allergy or "
                               "intolerance to sirolimus")
    assert not [c for c in cards if "not identified" in c["summary"]]


def test_an_absolute_reference_no_entry_holds_stays_not_identified(client: TestClient
                                                                   ) -> None:
    """A reference to a Medication on another server, which no entry holds under that
    URL and no fhirServer can be asked about: the same id may be another drug there, so
    the draft's drug is not identified (unchanged)."""
    cards = _cards(client, _with_medication("medication_requests", f"{BASE}/Medication/medsiro"),
                   _draft(medicationReference={
                       "reference": "https://other.example/fhir/Medication/medsiro"}))
    assert not [c for c in cards if c["indicator"] == "critical"]
    assert [c for c in cards if "not identified" in c["summary"]]
