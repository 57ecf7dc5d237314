"""order-select: a draft of a drug pecoma checks, while the allergy list could not be read.

Found by an EHR integrator: with the AllergyIntolerance prefetch ``null`` or an
OperationOutcome (and no ``fhirServer`` to read it from), an everolimus draft for a
metastatic PEComa patient got no card at all, while the same draft beside an allergy list
holding one entry pecoma cannot identify got "could not be checked against 1 allergy
entry". The less pecoma knew, the less it said: an allergy list not read was taken for a
list ruling nothing out, at the moment of ordering.

The clinical facts the tests hold: the patient of ``metastatic-lung-metachronous`` has
metastatic PEComa and no systemic line. A draft of a drug whose allergy check pecoma
makes and its advice concerns (an mTOR inhibitor, an anthracycline, ifosfamide, a regimen
holding one: the drafts the unidentified-entry warning covers, one rule; any other drug is
left to the EHR's own check, see test_cds_allergy_warning_scope) cannot be checked against a
list that was not read (null, an OperationOutcome, a failed or partial search, a search
whose answer cannot be read, an entry not read in full, a server that failed): it gets a
``warning`` saying so and what to do (check the allergy list in the EHR), never silence.
What the entries read rule out still rules it out (the ``critical`` card, and no second
card). A draft of a drug that is no PEComa drug (paracetamol) stays silent, and a draft
beside a list read in full with nothing to say gets no card.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from allergy_support import allergy as medication_allergy
from fhir_support import example, fhir_server, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NOT_AVAILABLE = "could not be checked: the allergy list was not available"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('list-not-read') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def allergy(rid: str, code: dict[str, Any], **more: Any) -> dict[str, Any]:
    """An active, confirmed medication allergy of the patient."""
    return medication_allergy(rid, code=code, **more)


PENICILLIN = allergy("a-pen", {"text": "Penicillin"})
SIROLIMUS = allergy("a-siro", {"coding": [{"system": RXNORM, "code": "35302",
                                           "display": "sirolimus"}]})
NOT_IDENTIFIED = allergy("a-unknown", {"coding": [{"system": RXNORM, "code": "1148583"}]})


def outcome(severity: str, code: str, diagnostics: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code}
    if diagnostics is not None:
        issue["diagnostics"] = diagnostics
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def search(*entries: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": copy.deepcopy(e)} for e in entries], **more}


#: Allergy lists that could not be read, each as the service already classifies it:
#: ``(id, the allergies prefetch; "absent" for no key at all)``.
NOT_READ: list[tuple[str, Any]] = [
    ("null", None),
    ("absent", "absent"),
    ("operation-outcome", outcome("error", "exception",
                                  "AllergyIntolerance search failed")),
    ("failed-search", search(outcome("fatal", "timeout"))),
    ("partial-search", search(PENICILLIN, outcome("warning", "incomplete"))),
    ("total-above-entries", search(PENICILLIN, total=3)),
    ("first-page-only", search(PENICILLIN, link=[
        {"relation": "next", "url": "https://ehr.example/fhir/AllergyIntolerance?p=2"}])),
    ("epic-4119-caveat", search(PENICILLIN, outcome(
        "warning", "informational", "This response includes information available to "
        "the authorized user at the time of the request. It may not contain the entire "
        "record available in the system."))),
    ("entry-not-read-in-full", search(allergy("a-mod", {"text": "Penicillin"},
                                              modifierExtension=[{
                                                  "url": "https://ehr.example/x",
                                                  "valueBoolean": True}]))),
    ("another-query's-answer", search({"resourceType": "Condition", "id": "c9",
                                       "code": {"text": "Hypertension"},
                                       "subject": {"reference": "Patient/pat-1003"}})),
]

#: Drafts of drugs whose allergy check pecoma makes: mTOR inhibitors (by RxNorm code,
#: by name, by brand), an anthracycline, ifosfamide, a drug filed as other chemotherapy,
#: another anticancer agent.
DRAFTS: list[tuple[str, dict[str, Any], str]] = [
    ("everolimus-rxnorm", {"coding": [{"system": RXNORM, "code": "141704"}]}, "everolimus"),
    ("sirolimus-text", {"text": "sirolimus 2 mg tablet"}, "sirolimus"),
    ("temsirolimus-brand", {"text": "Torisel 25 mg IV weekly"}, "temsirolimus"),
    ("nab-sirolimus", {"text": "Fyarro 100 mg/m2"}, "nab sirolimus"),
    ("doxorubicin", {"text": "doxorubicin 75 mg/m2"}, "doxorubicin"),
    ("epirubicin", {"text": "epirubicin 60 mg/m2"}, "epirubicin"),
    ("ifosfamide", {"text": "ifosfamide 3 g/m2"}, "ifosfamide"),
    ("doxorubicin-ifosfamide", {"text": "doxorubicin and ifosfamide"},
     "doxorubicin ifosfamide"),
]


def order(allergies: Any, medication: dict[str, Any],
          more: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """The order-select call for the patient, ``allergies`` as the allergies prefetch,
    one draft of ``medication`` selected (and ``more`` drafts, selected too)."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    if isinstance(allergies, str) and allergies == "absent":
        del prefetch["allergies"]
    else:
        prefetch["allergies"] = copy.deepcopy(allergies)
    drafts = [{"resourceType": "MedicationRequest", "id": f"draft-{i}", "status": "draft",
               "intent": "order", "subject": {"reference": f"Patient/{pid}"},
               "medicationCodeableConcept": m} for i, m in enumerate([medication, *more])]
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": [f"MedicationRequest/{d['id']}" for d in drafts],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": d} for d in drafts]}})
    return body


def cards_of(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def not_checked(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if NOT_AVAILABLE in c["summary"]]


class TestADraftBesideAnAllergyListNotRead:
    @pytest.mark.parametrize(("kind", "allergies"), NOT_READ, ids=[k for k, _a in NOT_READ])
    def test_an_everolimus_draft_gets_the_warning(self, client: TestClient, kind: str,
                                                  allergies: Any) -> None:
        """The integrator's draft (everolimus, RxNorm 141704) beside each allergy list
        the service classifies as not read: it got no card at all (unknown taken for
        absent). It gets one warning saying it could not be checked because the list was
        not available, why, and to check the allergy list in the EHR; under the record
        of the allergy cards (I15), naming the draft."""
        [card] = cards_of(client, order(allergies, DRAFTS[0][1]))
        assert card["summary"] == f"Draft order of everolimus {NOT_AVAILABLE}"
        assert card["indicator"] == "warning"
        assert "suggestions" not in card
        detail = card["detail"]
        assert "MedicationRequest/draft-0 orders everolimus" in detail
        assert "allergies and intolerances could not be read (" in detail
        assert "Check the patient's allergy list in the EHR before ordering" in detail
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    @pytest.mark.parametrize(("kind", "medication", "name"), DRAFTS,
                             ids=[k for k, _m, _n in DRAFTS])
    def test_every_drug_pecoma_checks_gets_it(self, client: TestClient, kind: str,
                                              medication: dict[str, Any], name: str) -> None:
        """The same for each drug pecoma's advice concerns (the drafts the warning on
        entries it cannot identify covers): the mTOR inhibitors, the anthracyclines,
        ifosfamide, a regimen holding them. Each got no allergy card (a first-line
        chemotherapy draft only its first-line card); each gets the warning, beside any
        first-line card."""
        cards = cards_of(client, order(None, medication))
        [card] = not_checked(cards)
        assert card["summary"] == f"Draft order of {name} {NOT_AVAILABLE}"
        assert card["indicator"] == "warning"

    def test_the_reason_is_the_one_the_service_gives(self, client: TestClient) -> None:
        """The card says why the list was not read, as the record's other cards do: the
        EHR sent no data and there was no server to read it from."""
        [card] = cards_of(client, order(None, DRAFTS[0][1]))
        assert ("could not be read (the EHR sent no data for it (prefetch null or absent); "
                "no fhirServer was given to fetch it from)") in card["detail"]

    def test_an_mtor_draft_says_the_class_rule(self, client: TestClient) -> None:
        """An intolerance of another mTOR inhibitor would rule the draft out too (I15):
        the card says so, as the warning on unidentified entries does."""
        [card] = cards_of(client, order(None, DRAFTS[0][1]))
        assert ("an intolerance of one mTOR inhibitor rules out every one unless the "
                "medication history shows another one tolerated") in card["detail"]

    def test_several_drafts_are_one_card(self, client: TestClient) -> None:
        """Everolimus and doxorubicin drafted together: one card names both drafts."""
        cards = cards_of(client, order(None, DRAFTS[0][1], ({"text": "doxorubicin"},)))
        [card] = not_checked(cards)
        assert card["summary"] == f"Draft order of doxorubicin, everolimus {NOT_AVAILABLE}"
        assert "MedicationRequest/draft-0, MedicationRequest/draft-1 order" \
            in card["detail"]


class TestWhatTheListSaysStillCounts:
    def test_an_entry_read_that_rules_the_draft_out_is_the_critical_card(
            self, client: TestClient) -> None:
        """A partial search holding a confirmed sirolimus intolerance: the everolimus
        draft is ruled out by it (I15), the critical card; the warning that it could not
        be checked would say less, so it is not added."""
        cards = cards_of(client, order(search(SIROLIMUS, outcome("warning", "incomplete")),
                                       DRAFTS[0][1]))
        assert [c["indicator"] for c in cards] == ["critical"]

    def test_entries_not_identified_in_a_list_not_read_are_said_on_the_card(
            self, client: TestClient) -> None:
        """A partial search holding an entry pecoma cannot identify: one warning, for the
        list not read, naming that entry as well (one card, not two)."""
        [card] = cards_of(client, order(search(NOT_IDENTIFIED, total=4), DRAFTS[0][1]))
        assert card["summary"] == f"Draft order of everolimus {NOT_AVAILABLE}"
        assert "1 could not be matched to a drug by pecoma (AllergyIntolerance/a-unknown)" \
            in card["detail"]

    def test_a_list_read_in_full_with_nothing_to_say_gives_no_card(
            self, client: TestClient) -> None:
        """Control: the same everolimus draft beside a list read in full (penicillin only)
        gets no card: the warning is for a list not read, not for every draft."""
        assert cards_of(client, order(search(PENICILLIN, total=1), DRAFTS[0][1])) == []

    def test_a_list_read_in_full_with_an_entry_not_identified_keeps_its_own_card(
            self, client: TestClient) -> None:
        """Control: the integrator's contrast case is unchanged (the same record)."""
        [card] = cards_of(client, order(search(NOT_IDENTIFIED, total=1), DRAFTS[0][1]))
        assert card["summary"] == ("Draft order of everolimus could not be checked against 1 "
                                   "allergy entry pecoma cannot identify")
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    @pytest.mark.parametrize(("kind", "allergies"), NOT_READ[:4],
                             ids=[k for k, _a in NOT_READ[:4]])
    def test_a_drug_that_is_no_pecoma_drug_stays_silent(
            self, client: TestClient, kind: str, allergies: Any) -> None:
        """A paracetamol draft beside a list not read: pecoma checks no such drug, and
        says nothing (the warning is not for every draft)."""
        assert cards_of(client, order(allergies, {"text": "paracetamol 1 g"})) == []


class TestAServerThatFailsToo:
    @pytest.mark.parametrize("status", [500, 404])
    def test_a_fhir_server_that_fails_leaves_the_warning(self, tmp_path: Any,
                                                         status: int) -> None:
        """The allergies prefetch null and the allowed fhirServer answering the allergy
        search with an error: still not read, the warning says so."""
        body = order(None, DRAFTS[0][1])

        def answer(base: str, path: str) -> tuple[int, Any] | None:
            if path.startswith("/fhir/AllergyIntolerance"):
                return status, outcome("error", "exception")
            return None

        with fhir_server(example(PATIENT), answer=answer) as (url, _rec):
            body["fhirServer"] = url
            app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                       cds=CdsSettings(fhir_servers=(url,))),
                             today=lambda: ON)
            [card] = cards_of(TestClient(app, base_url="http://localhost"), body)
        assert card["summary"] == f"Draft order of everolimus {NOT_AVAILABLE}"
