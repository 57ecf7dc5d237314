"""A Patient the EHR did not send, or could not give: whether the patient died is unknown.

The docs promise that a card proposes a drug only when the record says whether the
patient died in a value pecoma can read (``Patient.deceased[x]``). An unreadable
``"deceasedBoolean": "true"`` was handled so (nothing proposed, a first warning), but a
Patient that never arrived was not: with ``prefetch.patient`` null, an OperationOutcome,
or a read of ``fhirServer`` that failed, order-select pre-selected (``isRecommended``) the
suggestion replacing a doxorubicin draft with sirolimus, and patient-view gave the full
advice with no word on the vital status. A Patient not read says nothing of whether the
patient died: unknown, not absent, one rule for both hooks (a first warning; the advice as
for a living patient, since the patient may be alive; no order proposed).

A Patient prefetch answered by an empty searchset (a proxy turning the read's 404 into
an empty search) had been taken as read: an ``info`` card, nothing listed as unread. The
prefetch ``Patient/{{context.patientId}}`` is a read: an answer holding no Patient did
not read it, as null does not.

The record: ``metastatic-lung-metachronous`` (metastatic kidney PEComa, no systemic line,
mTOR inhibitors available and not contraindicated), as in ``allergy_support``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from allergy_support import (
    DOXORUBICIN,
    ON,
    PATIENT,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
)
from fhir_support import fhir_server, hook_request, prefetch_of

UNKNOWN = "Whether this patient has died is unknown from the record"

#: The Patient prefetch values that hold no Patient, by what an EHR or a proxy sends.
NOT_SENT = [
    pytest.param(None, "the EHR sent no data for it", id="null"),
    pytest.param({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "not-found"}]}, "OperationOutcome",
        id="operation-outcome"),
    pytest.param({"resourceType": "Bundle", "type": "searchset", "entry": []},
                 "holds no Patient", id="empty-searchset"),
    pytest.param({"resourceType": "Bundle", "type": "searchset", "total": 0},
                 "holds no Patient", id="searchset-without-entry"),
]


def set_patient(value: Any) -> Any:
    def change(prefetch: dict[str, Any]) -> None:
        prefetch["patient"] = value
    return change


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("patient-not-read"))


class TestOrderSelect:
    @pytest.mark.parametrize(("value", "said"), NOT_SENT)
    def test_nothing_is_proposed_and_the_first_card_says_why(
            self, client: TestClient, value: Any, said: str) -> None:
        """Unknown vital status: the first-line warning on the doxorubicin draft stands
        (the patient may be alive), but no sirolimus order is proposed, let alone
        pre-selected, and the first card says whether the patient died is unknown."""
        cards = order_select(client, record(), DOXORUBICIN, set_patient(value))
        assert cards[0]["summary"].startswith(UNKNOWN)
        assert said in cards[0]["detail"]
        assert not proposed(cards)
        assert ("No mTOR-inhibitor order is proposed:** whether the patient has died is "
                "unknown from the record") in details(cards)
        assert any(c["summary"].startswith("Chemotherapy first line") for c in cards)

    def test_a_bundle_holding_the_patient_is_read(self, client: TestClient) -> None:
        """The reference point: the Patient sent inside a searchset is the Patient read;
        sirolimus is proposed and nothing is said of the vital status."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["patient"] = {"resourceType": "Bundle", "type": "searchset",
                                   "entry": [{"resource": prefetch["patient"]}]}

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert proposed(cards)
        assert not any("has died" in c["summary"] for c in cards)

    def test_a_patient_the_server_fails_to_give_proposes_nothing(
            self, tmp_path: Path) -> None:
        """Prefetch null and the allowed fhirServer answering the Patient read with a
        redirect (never followed): the Patient is not read, so nothing is proposed (the
        SMART launch refuses its page in the same case)."""
        bundle = record()
        prefetch = prefetch_of(bundle)
        prefetch["patient"] = None

        def answer(base: str, path: str) -> tuple[int, Any] | None:
            del base
            return (302, b"") if path.startswith("/fhir/Patient/") else None

        with fhir_server(bundle, answer=answer) as (url, rec):
            app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                       cds=CdsSettings(fhir_servers=(url,))),
                             today=lambda: ON)
            body = hook_request("order-select", PATIENT, prefetch=prefetch, fhirServer=url)
            body["context"].update({
                "selections": ["MedicationRequest/d1"],
                "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
                    {"resource": {"resourceType": "MedicationRequest", "id": "d1",
                                  "status": "draft", "intent": "order",
                                  "subject": {"reference": f"Patient/{PATIENT}"},
                                  "medicationCodeableConcept": DOXORUBICIN}}]}})
            r = TestClient(app, base_url="http://localhost").post(
                f"/cds-services/{ORDER_SELECT}", json=body)
        assert (f"/fhir/Patient/{PATIENT}", None) in rec.requests
        cards = r.json()["cards"]
        assert cards[0]["summary"].startswith(UNKNOWN)
        assert not proposed(cards)


class TestPatientView:
    @pytest.mark.parametrize(("value", "said"), NOT_SENT)
    def test_said_first_the_advice_after_and_the_patient_listed_unread(
            self, client: TestClient, value: Any, said: str) -> None:
        """The same rule as for an unreadable deceasedBoolean: a first warning, then the
        assessment as for a living patient, its summary a warning listing the patient
        resource among the parts not read (an empty searchset had given an 'info' card
        listing nothing)."""
        cards = patient_view(client, record(), set_patient(value))
        assert cards[0]["indicator"] == "warning"
        assert cards[0]["summary"].startswith(UNKNOWN)
        summary = cards[1]
        assert summary["summary"].startswith("PEComa (metastatic)")
        assert summary["indicator"] == "warning"
        assert "the patient resource:" in summary["detail"] and said in summary["detail"]

    def test_a_patient_read_says_nothing_of_it(self, client: TestClient) -> None:
        """The reference point: the Patient sent, no vital-status card, an 'info'
        summary."""
        cards = patient_view(client, record())
        assert not any(c["summary"].startswith(UNKNOWN) for c in cards)
        assert cards[0]["indicator"] == "info"
