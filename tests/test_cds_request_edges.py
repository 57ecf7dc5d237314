"""Hook calls that break the protocol get a 400 or 404 problem naming what is wrong.

* ``context.patientId`` is the Patient's FHIR id (CDS Hooks 2.0.1: "the FHIR Patient.id";
  FHIR R4 ``id``: ``[A-Za-z0-9\\-.]{1,64}``). A reference ('Patient/pat-1003'), a path or
  any text had been taken as an id: the call was answered 200 with a card saying the
  record "holds another patient's data", sending the integrator after the wrong problem
  (and with a fhirServer, the searches were sent for that text).
* ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (RFC 8259, section 6), and
  ``1e400`` is read as infinity: Python's reader took them, so a body holding them was
  answered with cards (in a tumour size, a record problem card at best).
* An address under /cds-services ending in a slash answered 307 with an empty body:
  an EHR following it re-posts the patient's record and its JWT, whose audience names
  the slashed address, and gets a 401 it cannot explain. Every other wrong address is a
  404 problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, fhir_server, hook_request, patient_id, prefetch_of

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    db = tmp_path_factory.mktemp("edges") / "registry.db"
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{db}",
                                           cds=CdsSettings())),
                      base_url="http://localhost")


def errors(r: Any) -> dict[str, dict[str, str]]:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    return {e["path"]: e for e in r.json()["errors"]}


class TestPatientId:
    @pytest.mark.parametrize(("given", "shown"), [
        ("Patient/pat-1003", "'Patient/pat-1003'"),
        ("pat-1003/_history/1", "'pat-1003/_history/1'"),
        ("../Practitioner/1", "'../Practitioner/1'"),
        ("pat 1003", "'pat 1003'"),
        ("pat-1003\n", "'pat-1003\\n'"),
        ("a" * 65, "'" + "a" * 58 + "…"),
        ("x" * 100_000, "'" + "x" * 58 + "…"),
    ])
    def test_what_is_no_fhir_id_is_refused_naming_field_value_and_rule(
            self, client: TestClient, given: str, shown: str) -> None:
        """A 400 naming context.patientId, the value shortened, and the rule (an
        integrator's 'Patient/pat-1003' is told to send the id alone), never a card
        blaming another patient's data."""
        bundle = example("metastatic-lung-metachronous")
        body = hook_request("patient-view", given, prefetch=prefetch_of(bundle))
        issue = errors(client.post(f"/cds-services/{PATIENT_VIEW}", json=body))[
            "context.patientId"]
        assert issue["value"] == shown
        assert "must be a FHIR id" in issue["rule"]
        assert "not a reference such as 'Patient/123'" in issue["rule"]

    def test_order_select_refuses_it_too(self, client: TestClient) -> None:
        body = hook_request("order-select", "Patient/pat-1003")
        body["context"].update({"selections": [], "draftOrders": {
            "resourceType": "Bundle", "type": "collection", "entry": []}})
        assert "context.patientId" in errors(
            client.post(f"/cds-services/{ORDER_SELECT}", json=body))

    def test_nothing_is_asked_of_the_fhir_server(self, tmp_path: Path) -> None:
        """The check comes before any search: the text is never sent as a patient."""
        bundle = example("metastatic-lung-metachronous")
        with fhir_server(bundle) as (url, rec):
            app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                       cds=CdsSettings(fhir_servers=(url,))))
            body = hook_request("patient-view", "Patient/pat-1003", fhirServer=url)
            r = TestClient(app, base_url="http://localhost").post(
                f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 400 and rec.requests == []

    def test_a_fhir_id_is_taken(self, client: TestClient) -> None:
        """The reference point: the example's id (letters, digits, '-') and one of 64
        characters with '.' are ids."""
        bundle = example("metastatic-lung-metachronous")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        assert client.post(f"/cds-services/{PATIENT_VIEW}", json=body).status_code == 200
        body = hook_request("patient-view", "a." + "9" * 62)
        assert client.post(f"/cds-services/{PATIENT_VIEW}", json=body).status_code == 200


class TestNumbersThatAreNoJson:
    @pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
    def test_refused_naming_where(self, client: TestClient, token: str) -> None:
        """In a tumour size: a 400 naming the place in the body, not cards (an infinite
        size is no fact any rule can weigh)."""
        bundle = example("metastatic-lung-metachronous")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        entries = body["prefetch"]["observations"]["entry"]
        at = next(i for i, e in enumerate(entries) if "valueQuantity" in e["resource"])
        entries[at]["resource"]["valueQuantity"]["value"] = "@@"
        raw = json.dumps(body).replace('"@@"', token).encode()
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=raw,
                        headers={"content-type": "application/json"})
        where = f"prefetch.observations.entry[{at}].resource.valueQuantity.value"
        issue = errors(r)[where]
        assert issue["value"] == token
        assert "must be a JSON number (RFC 8259)" in issue["rule"]
        assert where in r.json()["detail"]

    def test_a_key_of_its_own_is_named_too(self, client: TestClient) -> None:
        raw = json.dumps(hook_request("patient-view", "pat-1")).replace(
            '"hook":', '"x": NaN, "hook":').encode()
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=raw,
                        headers={"content-type": "application/json"})
        assert set(errors(r)) == {"x"}

    def test_feedback_is_read_by_the_same_rule(self, client: TestClient) -> None:
        r = client.post(f"/cds-services/{PATIENT_VIEW}/feedback", content=b'{"x": Infinity}',
                        headers={"content-type": "application/json"})
        assert set(errors(r)) == {"x"}

    def test_large_finite_numbers_are_numbers(self, client: TestClient) -> None:
        """The reference point: 1e300 is a finite JSON number, read on (no 400 for it)."""
        raw = json.dumps(hook_request("patient-view", "pat-1")).replace(
            '"hook":', '"x": 1e300, "hook":').encode()
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=raw,
                        headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text


class TestTrailingSlash:
    @pytest.mark.parametrize(("method", "path"), [
        ("POST", f"/cds-services/{PATIENT_VIEW}/"),
        ("POST", f"/cds-services/{ORDER_SELECT}/"),
        ("POST", f"/cds-services/{PATIENT_VIEW}/feedback/"),
        ("POST", "/cds-services/"),
        ("GET", "/cds-services/"),
        ("GET", "/cds-services/reports/abc/"),
    ])
    def test_a_404_problem_naming_the_services_never_a_redirect(
            self, client: TestClient, method: str, path: str) -> None:
        """No 307: the record would be posted again elsewhere."""
        bundle = example("metastatic-lung-metachronous")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.request(method, path, json=body if method == "POST" else None,
                           follow_redirects=False)
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        assert "location" not in r.headers
        detail = r.json()["detail"]
        assert f"/cds-services/{PATIENT_VIEW}" in detail and (
            f"/cds-services/{ORDER_SELECT}") in detail
