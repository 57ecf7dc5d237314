"""CDS Hooks calls naming a key twice in one object are refused, as ``to-case`` refuses
such a bundle and the case API such a case.

RFC 8259 §4: with duplicate names, "the behavior of software that receives such an object
is unpredictable"; the EHR's own reader may have shown the clinician the first value. The
services read the last: an allergy entry written ``"code": {"text": "Sirolimus"}, "code":
{"text": "Penicillin"}`` was read as a penicillin allergy, and the doxorubicin draft got a
sirolimus draft proposed. Now a 400 problem naming the key and where it is.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, no systemic line,
mTOR inhibitors recorded available and not contraindicated.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of, searchset

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
JSON_TYPE = {"content-type": "application/json"}
#: Stands for the allergy entry's code in the body's text, replaced by hand-written JSON.
CODE = "@code@"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('dupkeys') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def order_select_text(allergy_code: str) -> bytes:
    """An order-select call (a doxorubicin draft) whose one allergy entry's ``code`` is
    written ``"code": <allergy_code>`` as given (text, so that it may name a key twice)."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    prefetch["allergies"] = searchset([{
        "resourceType": "AllergyIntolerance", "id": "a1",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "active"}]},
        "category": ["medication"], "code": CODE,
        "patient": {"reference": f"Patient/{pid}"}}])
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{
            "resource": {"resourceType": "MedicationRequest", "id": "draft-1",
                         "status": "draft", "intent": "order",
                         "subject": {"reference": f"Patient/{pid}"},
                         "medicationCodeableConcept": {"coding": [{
                             "system": RXNORM, "code": "3639"}]}}}]}})
    return json.dumps(body).replace(f'"code": "{CODE}"', allergy_code).encode()


def test_an_allergy_code_named_twice_is_a_400_naming_it(client: TestClient) -> None:
    """Sirolimus, then Penicillin, as the one allergy entry's code: read as penicillin,
    the call had answered 200 proposing a sirolimus draft."""
    raw = order_select_text('"code": {"text": "Sirolimus"}, "code": {"text": "Penicillin"}')
    r = client.post(f"/cds-services/{ORDER_SELECT}", content=raw, headers=JSON_TYPE)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert "'code' twice" in problem["detail"]
    [issue] = problem["errors"]
    assert issue["path"] == "prefetch.allergies.entry[0].resource.code"
    assert issue["rule"] == "must name each key once in an object"


def test_the_patient_named_twice_is_a_400(client: TestClient) -> None:
    """``context.patientId`` twice: the last one had been taken."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    text = json.dumps(hook_request("patient-view", pid, prefetch=prefetch_of(bundle)))
    raw = text.replace(f'"patientId": "{pid}"',
                       f'"patientId": "other-patient", "patientId": "{pid}"').encode()
    r = client.post(f"/cds-services/{PATIENT_VIEW}", content=raw, headers=JSON_TYPE)
    assert r.status_code == 400, r.text
    [issue] = r.json()["errors"]
    assert issue["path"] == "context.patientId"


def test_one_key_in_many_objects_is_read_as_before(client: TestClient) -> None:
    """'code' once in each object (the allergy's, its codings', the status coding's):
    today's answer. A penicillin allergy rules no PEComa drug out, so the doxorubicin
    draft gets the first-line warning with a sirolimus draft proposed in its place."""
    raw = order_select_text('"code": {"coding": [{"system": "' + RXNORM
                            + '", "code": "7980"}], "text": "Penicillin G"}')
    r = client.post(f"/cds-services/{ORDER_SELECT}", content=raw, headers=JSON_TYPE)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    [warning] = [c for c in cards if c["indicator"] == "warning"]
    assert warning["summary"].startswith("Chemotherapy first line for advanced PEComa")
    [suggestion] = warning["suggestions"]
    assert suggestion["label"] == ("Replace with an mTOR inhibitor (here sirolimus, as an example "
                                   "draft; the team chooses)")
