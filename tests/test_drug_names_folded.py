"""Drug names read with their accents folded, and a name cut short read with caution.

Found by an EHR integrator: a text-only draft "Évérolimus 10 mg comprimé" beside a
recorded sirolimus allergy got no card, while "everolimus 10 mg comprimé" got the
critical one. Names were lowercased, not accent-folded, so "évérolimus" named no drug
pecoma knows, and a draft naming something counted as some other drug, cleared.
Accented INN names are ordinary in French-, Spanish- and Portuguese-language records.
The same draft written as a catalogue cuts it, "EVEROL 10 MG TAB", was cleared too.

The facts the tests hold:

* a drug's name is the same name with or without its accents, in any case, composed or
  decomposed, or in compatibility form (full-width letters): in a draft order, in the
  medication history and in an allergy entry alike (one reading,
  ``pecoma.fhir.medications``);
* a sirolimus intolerance rules out every mTOR inhibitor (I15): an everolimus draft
  however accented is the critical card;
* a draft naming no drug pecoma identifies, one of whose words (5 letters at least) is
  the beginning of the name of one drug only and of no other word pecoma knows ("EVEROL",
  "RAPAM"), may be that drug: when the allergy list rules it out, a warning (not the
  critical card: the drug is not identified) says so and to check; otherwise nothing
  changes. A paracetamol draft, or a word too short ("DOX") or shared by several drugs,
  stays silent.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.fhir.allergies import read_allergy
from pecoma.fhir.medications import (
    agent_of,
    agents_named,
    drugs_of,
    folded,
    truncated_names,
    unread_words,
)
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from allergy_support import allergy as medication_allergy
from fhir_support import example, hook_request, patient_id, prefetch_of, with_statement

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

#: Everolimus written as records write it beyond plain ASCII: French with its accents,
#: capitals, a combining accent (decomposed, NFD), full-width letters.
EVEROLIMUS_WRITTEN = ["Évérolimus 10 mg comprimé", "ÉVÉROLIMUS 10 MG", "Everolímus",
                      "E\u0301ve\u0301rolimus 5 mg", "ｅｖｅｒｏｌｉｍｕｓ 10 mg"]


def draft(text: str) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "d-1", "status": "draft",
            "intent": "order", "medicationCodeableConcept": {"text": text}}


class TestFolded:
    @pytest.mark.parametrize(("text", "plain"), [
        ("Évérolimus", "everolimus"), ("E\u0301VE\u0301ROLIMUS", "everolimus"),
        ("Doxorrubicina", "doxorrubicina"), ("ﬁlgrastim", "filgrastim"),
        ("ｓｉｒｏｌｉｍｕｓ", "sirolimus"), ("plain ascii", "plain ascii"),
    ])
    def test_accents_case_and_compatibility_forms_fold(self, text: str, plain: str) -> None:
        """NFKD, combining marks dropped, case folded: a ligature and full-width
        letters are their plain letters."""
        assert folded(text) == plain


class TestADraftOrderAccented:
    @pytest.mark.parametrize("text", EVEROLIMUS_WRITTEN)
    def test_everolimus_however_written_is_everolimus(self, text: str) -> None:
        """Each was no drug at all (the draft cleared as "some other drug")."""
        assert agent_of(draft(text)) is Agent.everolimus

    @pytest.mark.parametrize(("text", "agent"), [
        ("Témsirolimus 25 mg", Agent.temsirolimus),
        ("Épirubicine 60 mg/m²", Agent.epirubicin),
        ("Sirolímus 2 mg", Agent.sirolimus),
    ])
    def test_other_agents_accented(self, text: str, agent: Agent) -> None:
        assert agent_of(draft(text)) is agent

    def test_a_drug_filed_under_other_chemotherapy_accented(self) -> None:
        """Docétaxel (French) is docetaxel: its own allergy check names the drug."""
        assert agent_of(draft("Docétaxel 75 mg/m²")) is Agent.other_chemotherapy
        assert drugs_of(draft("Docétaxel 75 mg/m²")) == {"docetaxel"}


class TestAnAllergyEntryAccented:
    def test_an_entry_naming_everolimus_accented_names_it(self) -> None:
        """An entry "Évérolimus" was not identified (a word pecoma could not read); it
        names everolimus, and nothing is left unread."""
        entry = {"resourceType": "AllergyIntolerance", "id": "a1", "category": ["medication"],
                 "code": {"text": "Évérolimus"}}
        assert agents_named(entry["code"]) == {Agent.everolimus}
        assert unread_words(entry["code"]) == ()
        reading = read_allergy(entry)
        assert Agent.everolimus in reading.agents and not reading.unidentified

    def test_an_entry_naming_penicillin_accented_is_no_drug_of_pecoma(self) -> None:
        """The folding reaches every name pecoma reads: "PÉNICILLINE" stays a word it
        cannot identify (French for penicillin, not the name it knows), never a drug
        cleared by a near spelling."""
        assert unread_words({"text": "PÉNICILLINE"}) == ("penicilline",)


class TestTheMedicationHistoryAccented:
    def test_an_everolimus_line_accented_is_a_line(self) -> None:
        """A MedicationStatement "Évérolimus 10 mg comprimé" since 2026-10-01: the line
        was not read (so a first-line mTOR advice was given again to a patient on
        everolimus); it is an everolimus line."""
        bundle = with_statement(copy.deepcopy(example(PATIENT)), "ms-evero",
                                "Évérolimus 10 mg comprimé", "2026-10-01", status="active")
        bc = case_from_bundle(bundle, on=ON)
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.everolimus]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('folded') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def allergic_to(code: dict[str, Any]) -> dict[str, Any]:
    return medication_allergy("a1", code=code)


SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}


def cards_for(client: TestClient, text: str,
              allergy: dict[str, Any] | None = SIROLIMUS) -> list[dict[str, Any]]:
    """The order-select cards for a text-only draft of ``text`` (the patient with an
    active, confirmed allergy coded ``allergy``, or none)."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    if allergy is not None:
        prefetch["allergies"]["entry"].append({"resource": allergic_to(allergy)})
    body = hook_request("order-select", pid, prefetch=prefetch)
    order = {**draft(text), "subject": {"reference": f"Patient/{pid}"}}
    body["context"].update({
        "selections": ["MedicationRequest/d-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": order}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


class TestOrderSelectAccented:
    @pytest.mark.parametrize("text", EVEROLIMUS_WRITTEN)
    def test_an_everolimus_draft_accented_beside_a_sirolimus_allergy_is_critical(
            self, client: TestClient, text: str) -> None:
        """The integrator's case and its kind: no card before; a sirolimus intolerance
        rules out every mTOR inhibitor (I15): the critical card."""
        [card] = cards_for(client, text)
        assert card["indicator"] == "critical"
        assert card["summary"] == ("Draft order of everolimus: the record lists an allergy "
                                   "or intolerance to an mTOR inhibitor (sirolimus)")

    def test_an_allergy_entry_accented_rules_the_draft_out(self, client: TestClient) -> None:
        """The allergy written "Évérolimus" (text only), the draft "everolimus": the entry
        was not identified, so the draft got only the "could not be checked" warning; it
        is an everolimus intolerance, and the draft is ruled out."""
        [card] = cards_for(client, "everolimus 10 mg", {"text": "Évérolimus"})
        assert card["indicator"] == "critical"
        assert "everolimus" in card["summary"]

    def test_a_drug_that_is_no_pecoma_drug_accented_stays_silent(
            self, client: TestClient) -> None:
        """Paracétamol beside the sirolimus allergy: no PEComa drug, no card."""
        assert cards_for(client, "Paracétamol 1 g comprimé") == []


class TestANameCutShort:
    @pytest.mark.parametrize(("text", "word", "agent"), [
        ("EVEROL 10 MG TAB", "everol", Agent.everolimus),
        ("Évérol 10 mg", "everol", Agent.everolimus),
        ("RAPAM 1 MG TAB", "rapam", Agent.sirolimus),  # rapamycin and Rapamune: sirolimus
        ("TEMSIR 25MG INJ", "temsir", Agent.temsirolimus),
        ("DOXORUB 50 MG", "doxorub", Agent.doxorubicin),
    ])
    def test_the_beginning_of_one_drug_s_name(self, text: str, word: str,
                                              agent: Agent) -> None:
        [(said, read, _drugs)] = truncated_names(draft(text))
        assert (said, read) == (word, agent)

    @pytest.mark.parametrize("text", [
        "PARACET 500 MG",  # paracetamol: no PEComa drug
        "DOX 50 MG",  # too short to say
        "ALBUM 20%",  # albumin: a substance pecoma knows, no agent
        "TABLET 10 MG DAILY",  # words of an order
        "everolimus 10 mg",  # a name read whole: no guess
        "ondansetron 8 mg",
    ])
    def test_no_guess(self, text: str) -> None:
        assert truncated_names(draft(text)) == ()

    @pytest.mark.parametrize("text", ["FLUORO 500 MG", "PHARM 50 MG"])
    def test_a_word_other_names_begin_with_too_is_no_guess(self, text: str) -> None:
        """"FLUORO" begins fluorouracil and fluoroquinolone, "PHARM" Pharmorubicin and
        "pharmacist": a guess needs the names of one drug only."""
        assert truncated_names(draft(text)) == ()

    def test_each_guess_is_of_one_drug(self) -> None:
        """"CABOZ" (cabozantinib, another agent) is not "CABAZ" (cabazitaxel, other
        chemotherapy): each is read as its own drug."""
        assert [a for _w, a, _d in truncated_names(draft("CABOZ 60"))] == [Agent.other]
        assert [d for _w, _a, d in truncated_names(draft("CABAZ 25"))] == [{"cabazitaxel"}]

    def test_a_cut_name_beside_an_allergy_ruling_it_out_is_a_warning(
            self, client: TestClient) -> None:
        """"EVEROL 10 MG TAB" beside the sirolimus allergy: cleared silently before. It
        may be everolimus, which the allergy rules out: a warning (not critical: the
        drug is not identified) saying so and to check."""
        [card] = cards_for(client, "EVEROL 10 MG TAB")
        assert card["indicator"] == "warning"
        assert card["summary"] == ("Draft order may be of everolimus, which the allergy "
                                   "list rules out: check it")
        assert '"everol"' in card["detail"]
        assert "an allergy or intolerance to an mTOR inhibitor (sirolimus)" in card["detail"]
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    def test_a_cut_name_of_a_drug_filed_as_other_chemotherapy(
            self, client: TestClient) -> None:
        """"PACLIT 80 MG" beside a paclitaxel allergy: may be paclitaxel, ruled out."""
        [card] = cards_for(client, "PACLIT 80 MG", {"text": "Paclitaxel"})
        assert card["summary"] == ("Draft order may be of paclitaxel, which the allergy "
                                   "list rules out: check it")

    def test_a_cut_name_the_list_does_not_rule_out_changes_nothing(
            self, client: TestClient) -> None:
        """"EVEROL" with no allergy recorded, "DOXORUB" beside the sirolimus allergy:
        no card (the guess only ever adds the allergy warning)."""
        assert cards_for(client, "EVEROL 10 MG TAB", None) == []
        assert cards_for(client, "DOXORUB 50 MG") == []

    @pytest.mark.parametrize("text", ["paracetamol 1 g", "PARACET 500 MG"])
    def test_other_drafts_stay_silent(self, client: TestClient, text: str) -> None:
        assert cards_for(client, text) == []

    def test_dox_alone_is_a_name_not_identified(self, client: TestClient) -> None:
        """"DOX 50 MG" is too short to guess a drug from (doxorubicin's short form, and
        doxycycline's), so it is no guess; but it may be doxorubicin, so the draft is
        not silent either: the warning that its drug is not identified, to check against
        the allergy list (a lone "Dox" was silent before; HAZ-412, HAZ-430)."""
        [card] = cards_for(client, "DOX 50 MG")
        assert card["indicator"] == "warning"
        assert card["summary"] == ("Draft order's drug not identified: check it against "
                                   "the allergy list")
