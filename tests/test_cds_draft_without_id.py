"""The suggestion on a chemotherapy draft says what accepting it does.

CDS Hooks: a ``delete`` action names its resource by ``resourceId``, "a relative reference
to the relevant resource" (``MedicationRequest/<id>``); a suggestion's actions are
processed as a transaction against the EHR's FHIR server. A draft order without an ``id``
cannot be named so (a ``fullUrl`` such as ``urn:uuid:…`` is no relative reference), and
the suggestion "Replace with an mTOR inhibitor (sirolimus) draft" only created: accepting
it left the doxorubicin draft and added sirolimus, with nothing on the card to say so.
Such a draft is selected when the call leaves ``context.selections`` out (every draft
then counts as selected, docs/cds-hooks.md).

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, no systemic line,
mTOR inhibitors recorded available and not contraindicated, no allergy: a doxorubicin
draft gets the first-line warning with an mTOR-inhibitor proposal (S13, S14).
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

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
BY_HAND = "Remove the chemotherapy draft by hand."


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('noid') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def doxorubicin_call(draft_id: str | None, full_url: str | None = None) -> dict[str, Any]:
    """order-select with one doxorubicin draft (RxNorm 3639), ``id`` and ``fullUrl`` as
    given; ``selections`` only when the draft has an id (left out otherwise)."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    draft: dict[str, Any] = {
        "resourceType": "MedicationRequest", "status": "draft", "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "3639"}]}}
    if draft_id is not None:
        draft["id"] = draft_id
    entry: dict[str, Any] = {"resource": draft}
    if full_url is not None:
        entry["fullUrl"] = full_url
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle))
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                      "entry": [entry]}
    if draft_id is not None:
        body["context"]["selections"] = [f"MedicationRequest/{draft_id}"]
    return body


def warning_of(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert card["indicator"] == "warning"
    assert card["summary"].startswith("Chemotherapy first line for advanced PEComa")
    return dict(card)


@pytest.mark.parametrize("full_url", [None, "urn:uuid:22222222-2222-4222-8222-222222222222"],
                         ids=["no-fullUrl", "urn-uuid-fullUrl"])
def test_a_draft_without_id_gets_an_add_suggestion_and_is_said_to_stay(
    client: TestClient, full_url: str | None,
) -> None:
    """No id (a urn:uuid fullUrl or none): the suggestion adds the proposal, is labelled
    so, and the card says the chemotherapy draft must be removed by hand."""
    card = warning_of(client, doxorubicin_call(None, full_url))
    [suggestion] = card["suggestions"]
    assert suggestion["label"] == ("Add an mTOR inhibitor (here sirolimus, as an example "
                                   "draft; the team chooses); remove the chemotherapy draft "
                                   "by hand")
    assert [a["type"] for a in suggestion["actions"]] == ["create"]
    assert suggestion["actions"][0]["resource"]["intent"] == "proposal"
    assert BY_HAND in card["detail"]


def test_a_draft_with_an_id_is_replaced_as_before(client: TestClient) -> None:
    """A draft with an id: delete it (named ``MedicationRequest/draft-1``), create the
    proposal; nothing to remove by hand."""
    card = warning_of(client, doxorubicin_call("draft-1"))
    [suggestion] = card["suggestions"]
    assert suggestion["label"] == ("Replace with an mTOR inhibitor (here sirolimus, as an example "
                                   "draft; the team chooses)")
    delete, create = suggestion["actions"]
    assert (delete["type"], delete["resourceId"]) == ("delete", "MedicationRequest/draft-1")
    assert create["type"] == "create"
    assert BY_HAND not in card["detail"]
