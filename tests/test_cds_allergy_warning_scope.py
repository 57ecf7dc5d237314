"""order-select: which drafts the "could not be checked" allergy warning is for, and what
pecoma reads as a drug.

Found in review of the warning for drafts beside an allergy list not read:

1. It fired on every drafted drug pecoma can name, whatever the route or the reason: a
   fluorouracil cream, intravitreal bevacizumab, methotrexate for arthritis, a sirolimus
   gel, cyclophosphamide for lupus, bleomycin into a wart, for a low-risk patient whose
   tumour was removed. At a site whose allergy search always carries a "may not contain
   the entire record" caveat (Epic's OperationOutcome 4119, read as "not read in full")
   that is a warning on every such order. The EHR's own drug-allergy check covers those
   orders; pecoma's check adds its own rules, which concern the drugs of its advice only:
   the mTOR inhibitors (the class rule), doxorubicin, epirubicin, ifosfamide and the
   regimens holding them (the rule between the anthracyclines, a drug inside a regimen),
   given as systemic products. The warning is now for those drafts only; a read allergy
   that rules any draft out still gives the critical card.
2. The drafts pecoma knew least were silent: "EVEROL 10 MG TAB" (possibly everolimus)
   beside a list not read got no card while "EVEROLIMUS 10 MG TAB" got the warning; a
   draft whose drug cannot be identified at all, beside a list not read, got none.
3. Other languages' INN spellings were not read: the German "Ifosfamid" beside an
   ifosfamide allergy got only a "may be" warning, the Spanish "Doxorrubicina" beside a
   doxorubicin allergy no card, "Ifosfamid" for metastatic disease no first-line card.
5. The cut-short reading took ordinary products for drugs: "CARBO MEDICINALIS"
   (activated charcoal) for carboplatin, "CYCLO 3 FORT", "CYCLO-PROGYNOVA" for
   cyclophosphamide.
6. The "could not be checked" and "may be" cards carried the rule's text "The patient's
   record lists an active allergy or intolerance to the drug ordered" though nothing of
   the kind was read.
7. With the conditions, observations and allergies prefetch all unusable but an allergy
   entry read that rules the draft out (or conditions and observations null beside a
   read sirolimus allergy), an everolimus draft got no card at all.

Clinical facts: ``low-risk`` is a localized PEComa, removed, no systemic treatment due;
``metastatic-lung-metachronous`` is metastatic PEComa with no systemic line yet.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.fhir import codes as c
from pecoma.fhir.medications import agent_of, drugs_of, truncated_names
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from allergy_support import allergy as medication_allergy
from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
NOT_AVAILABLE = "could not be checked: the allergy list was not available"
#: The rule's text that says an allergy to the drug ordered is recorded.
STATES_AN_ALLERGY = "The patient's record lists an active allergy or intolerance"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('warning-scope') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def allergy(rid: str, text: str) -> dict[str, Any]:
    """An active, confirmed medication allergy of the patient, named ``text``."""
    return medication_allergy(rid, code={"text": text})


def search(*entries: dict[str, Any], caveat: bool = False) -> dict[str, Any]:
    """An allergy search answer; ``caveat``: with the informational OperationOutcome an
    Epic server adds to its searches (the list then not read in full)."""
    out: list[dict[str, Any]] = [{"resource": copy.deepcopy(e)} for e in entries]
    if caveat:
        out.append({"resource": {"resourceType": "OperationOutcome", "issue": [{
            "severity": "warning", "code": "informational", "details": {"coding": [{
                "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369", "code": "4119"}],
                "text": "This response includes information available to the authorized "
                        "user at the time of the request. It may not contain the entire "
                        "record available in the system."}}]},
                    "search": {"mode": "outcome"}})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
            "entry": out}


PEN = allergy("a-pen", "Penicillin")
#: An entry pecoma cannot identify (a drug it does not know).
ZORTREX = allergy("a-zortrex", "Zortrex")
#: The allergy lists a draft cannot be checked against: null, and a search carrying the
#: caveat (penicillin read, the rest unknown).
NOT_READ: list[tuple[str, Any]] = [("null", None), ("caveat", search(PEN, caveat=True))]


def call(client: TestClient, allergies: Any, medication: dict[str, Any],
         patient: str = "low-risk", blank: tuple[str, ...] = (),
         route: str | None = None) -> list[dict[str, Any]]:
    """The cards of order-select for ``patient``, ``allergies`` as the allergies prefetch
    (``blank``: other prefetch keys sent null), one selected draft of ``medication``
    (a CodeableConcept, or a Reference when it holds ``reference``)."""
    bundle = example(patient)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    prefetch["allergies"] = (None if allergies is None else copy.deepcopy(allergies))
    if isinstance(prefetch["allergies"], dict):
        for e in prefetch["allergies"].get("entry", []):
            if "patient" in e["resource"]:
                e["resource"]["patient"] = {"reference": f"Patient/{pid}"}
    for key in blank:
        prefetch[key] = None
    draft: dict[str, Any] = {"resourceType": "MedicationRequest", "id": "draft-0",
                             "status": "draft", "intent": "order",
                             "subject": {"reference": f"Patient/{pid}"}}
    if "reference" in medication:
        draft["medicationReference"] = medication
    else:
        draft["medicationCodeableConcept"] = medication
    if route is not None:
        draft["dosageInstruction"] = [{"route": {"text": route}}]
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/draft-0"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def summaries(cards: list[dict[str, Any]]) -> list[str]:
    return [f"[{card['indicator']}] {card['summary']}" for card in cards]


#: Drafts pecoma names that its advice does not concern, or that are applied where they
#: act: the EHR's own check covers them; no warning beside a list not read.
NOISE: list[str] = [
    "Fluorouracil 5% cream, apply twice daily",
    "Bevacizumab 1.25 mg intravitreal injection",
    "Methotrexate 2.5 mg tablet weekly (rheumatoid arthritis)",
    "Cyclophosphamide 500 mg IV (lupus nephritis)",
    "Mitomycin 0.02% topical (ophthalmic)",
    "Bleomycin intralesional wart injection",
    "Paclitaxel 80 mg/m2 weekly",
    "Pembrolizumab 200 mg",
    "Dacarbazine 1 g/m2",
    "Pazopanib 800 mg tablet",
]

#: Products whose name says they are applied where they act (no systemic drug). A name
#: that mentions a cream in a phrase ("..., apply twice daily") is read as the systemic
#: drug, the safer reading: beside an entry not identified it gets the warning.
LOCAL: list[str] = [
    "Fluorouracil 5% cream",
    "Mitomycin 0.02% topical (ophthalmic)",
    "Bevacizumab 1.25 mg intravitreal injection",
]

#: Anticancer drafts, given systemically, that the guideline does not name, with the drug
#: each is read as: beside an allergy entry pecoma cannot identify, that entry may be to
#: the drug ordered ("Zortrex" may be a brand of it), so the draft could not be checked
#: against it, whichever drug it is (one rule for every drug). Written by hand.
EVERY_DRUG: list[tuple[str, str]] = [
    ("Dacarbazine 1 g/m2", "dacarbazine"),
    ("Trabectedin 1.5 mg/m2", "trabectedin"),
    ("Pazopanib 800 mg tablet", "pazopanib"),
    ("Gemcitabine 900 mg/m2 + docetaxel 100 mg/m2", "gemcitabine docetaxel"),
    ("Gemcitabine 1000 mg/m2", "gemcitabine"),
    ("Docetaxel 75 mg/m2", "docetaxel"),
    ("Temozolomide 150 mg/m2", "temozolomide"),
    ("Paclitaxel 80 mg/m2 weekly", "paclitaxel"),
    ("Pembrolizumab 200 mg", "pembrolizumab"),
    ("Methotrexate 2.5 mg tablet weekly (rheumatoid arthritis)", "methotrexate"),
    ("Cyclophosphamide 500 mg IV (lupus nephritis)", "cyclophosphamide"),
]

#: The summary of the warning for a draft beside one entry pecoma cannot identify.
NOT_IDENTIFIED = "could not be checked against 1 allergy entry pecoma cannot identify"

#: Drafts of the drugs pecoma's advice concerns, given systemically: the warning.
CONCERNED: list[tuple[str, str]] = [
    ("Everolimus 10 mg tablet", "everolimus"),
    ("Everolimus 0.75 mg (Zortress)", "everolimus"),
    ("Sirolimus 2 mg tablet", "sirolimus"),
    ("Fyarro 100 mg/m2", "nab sirolimus"),
    ("Temsirolimus 25 mg IV", "temsirolimus"),
    ("Doxorubicin 75 mg/m2", "doxorubicin"),
    ("Epirubicin 60 mg/m2", "epirubicin"),
    ("Ifosfamide 3 g/m2", "ifosfamide"),
    ("Epirubicin + ifosfamide", "epirubicin ifosfamide"),
]


class TestTheWarningIsForTheGuidelinesDrugs:
    @pytest.mark.parametrize(("kind", "allergies"), NOT_READ, ids=[k for k, _a in NOT_READ])
    @pytest.mark.parametrize("text", NOISE)
    def test_other_drugs_and_local_products_stay_silent(self, client: TestClient,
                                                        text: str, kind: str,
                                                        allergies: Any) -> None:
        """A low-risk patient, tumour removed: an order of a drug pecoma's advice does
        not concern (methotrexate, cyclophosphamide, bevacizumab, dacarbazine,
        paclitaxel) or of a product applied where it acts (a fluorouracil cream, an
        ophthalmic mitomycin) got "could not be checked: the allergy
        list was not available" beside a list not read (or carrying Epic's caveat). The
        EHR's own drug-allergy check covers them: no card."""
        assert call(client, allergies, {"text": text}) == []

    @pytest.mark.parametrize("text", LOCAL)
    def test_nor_local_products_beside_entries_pecoma_cannot_identify(
            self, client: TestClient, text: str) -> None:
        """Products applied where they act (a fluorouracil cream, an ophthalmic
        mitomycin) beside a list read in full holding an entry pecoma cannot identify:
        no systemic drug to check, no card."""
        assert call(client, search(PEN, ZORTREX), {"text": text}) == []

    @pytest.mark.parametrize(("kind", "allergies"), NOT_READ, ids=[k for k, _a in NOT_READ])
    @pytest.mark.parametrize(("text", "name"), CONCERNED)
    def test_the_guidelines_drugs_still_get_it(self, client: TestClient, text: str,
                                               name: str, kind: str,
                                               allergies: Any) -> None:
        """The mTOR inhibitors (whatever the indication: the class rule of an
        intolerance is pecoma's own, I15), doxorubicin, epirubicin, ifosfamide and a
        regimen of them: the warning, as before."""
        cards = call(client, allergies, {"text": text})
        assert summaries(cards) == [f"[warning] Draft order of {name} {NOT_AVAILABLE}"]

    def test_a_coded_topical_product_stays_silent(self, client: TestClient) -> None:
        """A sirolimus gel coded as the product (RxNorm's display names its dose form):
        applied where it acts, no systemic product, no card beside a list not read."""
        gel = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                           "code": "2626149",
                           "display": "sirolimus 2 MG/ML Topical Gel"}]}
        assert call(client, None, gel) == []

    @pytest.mark.parametrize("text", ["Sirolimus 0.2% topical gel", "Everolimus 1% cream"])
    def test_a_topical_product_named_in_free_text_is_the_coded_one(
            self, client: TestClient, text: str) -> None:
        """A product whose own name says where it acts ("topical gel", "cream") reads as
        the same product coded (above): applied where it acts, no systemic product, so no
        card beside a list not read. (A list read naming the drug still rules it out:
        test_a_read_allergy_ruling_it_out_is_still_critical.)"""
        assert call(client, None, {"text": text}) == []

    @pytest.mark.parametrize(("text", "name"), [
        ("Everolimus 10 mg tablet daily; emollient cream to rash", "everolimus"),
        ("Sirolimus 2 mg daily (barrier cream to mouth ulcers)", "sirolimus"),
    ])
    def test_a_cream_mentioned_in_passing_leaves_the_systemic_drug(
            self, client: TestClient, text: str, name: str) -> None:
        """A cream named in passing beside the drug does not make the draft topical (a
        real everolimus line mentioning a barrier cream had been dropped as one): the
        systemic drug, the safer reading, gets the warning beside a list not read."""
        cards = call(client, None, {"text": text})
        assert summaries(cards) == [f"[warning] Draft order of {name} {NOT_AVAILABLE}"]

    def test_a_local_route_given_is_read_too(self, client: TestClient) -> None:
        """A sirolimus draft whose route is topical is no systemic product: no card."""
        assert call(client, None, {"text": "Sirolimus 2 mg/ml"}, route="Topical") == []

    def test_metastatic_chemotherapy_gets_its_first_line_card_only(
            self, client: TestClient) -> None:
        """Paclitaxel for metastatic PEComa with no line yet: the first-line card (S13),
        no second card about the allergy list (it got both). The list not read, whether an
        mTOR inhibitor is contraindicated is unknown (MISS-MTOR-CONTRAINDICATED): the
        advice the card gives waits on it, and its summary says so first."""
        cards = call(client, None, {"text": "Paclitaxel 80 mg/m2 weekly"},
                     patient="metastatic-lung-metachronous")
        assert summaries(cards) == ["[warning] (provisional) Chemotherapy first line for "
                                    "advanced PEComa: the guideline puts an mTOR inhibitor "
                                    "first"]

    @pytest.mark.parametrize(("text", "entry"), [
        ("Methotrexate 2.5 mg tablet weekly", "Methotrexate"),
        ("Cyclophosphamide 500 mg IV", "Cyclophosphamide"),
        ("Fluorouracil 5% cream", "Fluorouracil"),
        ("Sirolimus 0.2% topical gel", "Sirolimus"),
    ])
    def test_a_read_allergy_ruling_it_out_is_still_critical(self, client: TestClient,
                                                             text: str, entry: str) -> None:
        """An entry read that rules the draft out gives the critical card, whatever the
        drug or product and though the rest of the list carries the caveat."""
        cards = call(client, search(allergy("a-x", entry), caveat=True), {"text": text})
        assert [card["indicator"] for card in cards] == ["critical"]


class TestEveryDrugBesideAnEntryNotIdentified:
    @pytest.mark.parametrize(("text", "name"), EVERY_DRUG + CONCERNED)
    def test_every_anticancer_draft_gets_the_warning(self, client: TestClient, text: str,
                                                     name: str) -> None:
        """A low-risk patient, the allergy list read in full: penicillin and "Zortrex",
        a drug pecoma does not know. A sirolimus or doxorubicin draft got "could not be
        checked against 1 allergy entry pecoma cannot identify", a dacarbazine,
        trabectedin, pazopanib, gemcitabine, docetaxel or temozolomide draft no card:
        "Zortrex" may be a brand of any of them, so none could be checked against it
        (unknown is not absent). Every drug gets the same warning (one rule)."""
        cards = call(client, search(PEN, ZORTREX), {"text": text})
        assert summaries(cards) == [f"[warning] Draft order of {name} {NOT_IDENTIFIED}"]
        assert "a-zortrex" in cards[0]["detail"] or "Zortrex" in cards[0]["detail"]

    @pytest.mark.parametrize("text", ["Dacarbazine 1 g/m2", "Pazopanib 800 mg tablet"])
    def test_beside_a_list_read_ruling_nothing_out_it_stays_silent(
            self, client: TestClient, text: str) -> None:
        """Penicillin only, every entry identified: nothing to warn of."""
        assert call(client, search(PEN), {"text": text}) == []


class TestADraftPossiblyOfAGuidelineDrug:
    @pytest.mark.parametrize(("kind", "allergies"), NOT_READ, ids=[k for k, _a in NOT_READ])
    @pytest.mark.parametrize(("text", "name"), [("EVEROL 10 MG TAB", "everolimus"),
                                                ("RAPAM 1 MG", "sirolimus"),
                                                ("IFOSF 2 G", "ifosfamide")])
    def test_it_gets_the_warning_worded_may_be(self, client: TestClient, text: str,
                                               name: str, kind: str,
                                               allergies: Any) -> None:
        """"EVEROL 10 MG TAB" (everolimus cut short) beside a list not read got no card,
        while "EVEROLIMUS 10 MG TAB" got the warning: it gets the same warning, saying
        it may be everolimus."""
        [card] = call(client, allergies, {"text": text},
                      patient="metastatic-lung-metachronous")
        assert card["summary"] == f"Draft order that may be of {name} {NOT_AVAILABLE}"
        assert card["indicator"] == "warning"
        assert f"it may be {name}, its name cut short" in card["detail"]
        assert "Check the patient's allergy list in the EHR before ordering" in card["detail"]

    def test_and_beside_entries_pecoma_cannot_identify(self, client: TestClient) -> None:
        """The same beside a list read in full holding an entry pecoma cannot identify
        (it got no card, while the full name got the warning)."""
        [card] = call(client, search(PEN, ZORTREX), {"text": "EVEROL 10 MG TAB"})
        assert card["summary"] == ("Draft order that may be of everolimus could not be "
                                   "checked against 1 allergy entry pecoma cannot identify")

    def test_a_cut_short_drug_the_advice_does_not_concern_stays_silent(
            self, client: TestClient) -> None:
        """"METHOTREX" may be methotrexate: the EHR's check covers it, as for the full
        name."""
        assert call(client, None, {"text": "METHOTREX 2.5 MG TAB"}) == []

    def test_nothing_cut_short_beside_a_list_read_stays_silent(self,
                                                               client: TestClient) -> None:
        """A list read in full (penicillin only) rules nothing out: no card."""
        assert call(client, search(PEN), {"text": "EVEROL 10 MG TAB"}) == []


class TestADraftNotIdentified:
    @pytest.mark.parametrize(("kind", "allergies"), NOT_READ, ids=[k for k, _a in NOT_READ])
    def test_beside_a_list_not_read_it_gets_a_warning(self, client: TestClient, kind: str,
                                                      allergies: Any) -> None:
        """A draft whose Medication reference resolves nowhere, beside a list not read:
        pecoma knows neither the drug nor the list, and said nothing."""
        cards = call(client, allergies, {"reference": "Medication/xyz"})
        assert summaries(cards) == ["[warning] Draft order's drug not identified, and the "
                                    "allergy list was not available: check both"]
        assert "Check in the EHR which drug the draft orders" in cards[0]["detail"]

    def test_beside_entries_pecoma_cannot_identify_too(self, client: TestClient) -> None:
        cards = call(client, search(PEN, ZORTREX), {"reference": "Medication/xyz"})
        assert summaries(cards) == ["[warning] Draft order's drug not identified, beside "
                                    "allergy entries pecoma cannot identify: check both"]

    def test_beside_a_list_read_ruling_nothing_out_it_stays_silent(
            self, client: TestClient) -> None:
        assert call(client, search(PEN), {"reference": "Medication/xyz"}) == []


#: Other languages' INN spellings, and the allergy entry (English) they must meet.
SPELLINGS: list[tuple[str, str, str]] = [
    ("Ifosfamid 2 g/m2 i.v.", "Ifosfamide", "ifosfamide"),
    ("Ifosfamida 2 g/m2", "Ifosfamide", "ifosfamide"),
    ("Doxorrubicina 50 mg", "Doxorubicin", "doxorubicin"),
    ("Epirrubicina 60 mg/m2", "Epirubicin", "epirubicin"),
    ("Cyclophosphamid 600 mg/m2", "Cyclophosphamide", "cyclophosphamide"),
    ("Ciclofosfamida 600 mg/m2", "Cyclophosphamide", "cyclophosphamide"),
    ("Ciclofosfamide 600 mg/m2", "Cyclophosphamide", "cyclophosphamide"),
    ("Gemcitabin 900 mg/m2", "Gemcitabine", "gemcitabine"),
    ("Metotrexato 15 mg", "Methotrexate", "methotrexate"),
    ("Etoposid 100 mg/m2", "Etoposide", "etoposide"),
]


class TestOtherLanguagesSpellings:
    @pytest.mark.parametrize(("draft", "entry", "name"), SPELLINGS)
    def test_a_draft_so_spelt_meets_the_allergy_to_the_drug(self, client: TestClient,
                                                            draft: str, entry: str,
                                                            name: str) -> None:
        """"Ifosfamid" beside an ifosfamide allergy got only "may be of ifosfamide";
        "Doxorrubicina" beside a doxorubicin allergy no card: the critical card."""
        cards = call(client, search(allergy("a-x", entry)), {"text": draft})
        assert [card["indicator"] for card in cards] == ["critical"]
        assert cards[0]["summary"].startswith(f"Draft order of {name}: ")

    @pytest.mark.parametrize(("draft", "entry", "name"), SPELLINGS)
    def test_an_allergy_so_spelt_rules_the_english_draft_out(self, client: TestClient,
                                                              draft: str, entry: str,
                                                              name: str) -> None:
        """The other way round: an allergy entry in the other language rules out the
        draft named in English."""
        word = draft.split()[0]
        cards = call(client, search(allergy("a-x", word)), {"text": f"{entry} 1 mg"})
        assert [card["indicator"] for card in cards] == ["critical"]

    @pytest.mark.parametrize("draft", ["Ifosfamid 2 g/m2", "Gemcitabin 900 mg/m2",
                                       "Dacarbazin 1 g", "Doxorrubicina 75 mg/m2"])
    def test_first_line_chemotherapy_so_spelt_gets_its_card(self, client: TestClient,
                                                           draft: str) -> None:
        """Metastatic PEComa, no line yet, penicillin the only allergy: "Ifosfamid 2
        g/m2" got no card; it is chemotherapy first line (S13)."""
        cards = call(client, search(PEN), {"text": draft},
                     patient="metastatic-lung-metachronous")
        assert summaries(cards) == ["[warning] Chemotherapy first line for advanced PEComa: "
                                    "the guideline puts an mTOR inhibitor first"]

    def test_a_regimen_so_spelt_is_the_regimen(self) -> None:
        """Two drugs of a regimen in Spanish are the regimen, as in English."""
        order = {"medicationCodeableConcept": {"text": "Doxorrubicina + ifosfamida"}}
        assert agent_of(order) is Agent.doxorubicin_ifosfamide
        assert drugs_of(order) == {"doxorubicin", "ifosfamide"}

    def test_every_spelling_reads_as_its_english_name(self) -> None:
        """Each spelling of the table reads as the drug of its English name, and each
        English name is one pecoma reads."""
        for english, others in c.OTHER_LANGUAGE_NAMES.items():
            want = agent_of({"medicationCodeableConcept": {"text": english}})
            assert want is not None, english
            for other in others:
                order = {"medicationCodeableConcept": {"text": f"{other.capitalize()} 1 mg"}}
                assert agent_of(order) is want, other
                if want in (Agent.other_chemotherapy, Agent.other):
                    assert drugs_of(order) == {english}, other


class TestACutShortNameIsTheWholeName:
    @pytest.mark.parametrize("text", ["CARBO MEDICINALIS 250 MG TAB", "CYCLO 3 FORT GELULE",
                                      "CYCLO-PROGYNOVA 2 MG", "ADRIA COLD SPRAY",
                                      "AVAST PLUS 10 MG"])
    def test_a_product_with_a_name_of_its_own_is_no_reading(self, text: str) -> None:
        """"CARBO MEDICINALIS" (activated charcoal) was read as possibly carboplatin,
        "CYCLO 3 FORT" and "CYCLO-PROGYNOVA" as cyclophosphamide: another word naming
        the product makes it another product."""
        assert truncated_names({"medicationCodeableConcept": {"text": text}}) == ()

    @pytest.mark.parametrize(("text", "drug"), [
        ("EVEROL 10 MG TAB", Agent.everolimus), ("RAPAM 1 MG", Agent.sirolimus),
        ("PACLI", Agent.other_chemotherapy), ("METHOTREX", Agent.other_chemotherapy),
        ("Everol 10 mg comprimé", Agent.everolimus),
        ("EVEROL 10 MG TAB PO DAILY", Agent.everolimus)])
    def test_a_name_cut_short_with_its_dose_is_still_read(self, text: str,
                                                          drug: Agent) -> None:
        [(_word, agent, _drugs)] = truncated_names({"medicationCodeableConcept":
                                                    {"text": text}})
        assert agent is drug

    def test_carbo_medicinalis_beside_a_carboplatin_allergy_is_silent(
            self, client: TestClient) -> None:
        cards = call(client, search(PEN, allergy("a-carbo", "Carboplatin")),
                     {"text": "CARBO MEDICINALIS 250 MG TAB"})
        assert cards == []


class TestTheWordingOfAnUnsettledCheck:
    @pytest.mark.parametrize(("allergies", "text"), [
        (None, "Doxorubicin 75 mg/m2"),
        (None, "EVEROL 10 MG TAB"),
        ("zortrex", "Everolimus 10 mg tablet"),
        ("sirolimus", "EVEROL 10 MG TAB"),
        (None, "ref"),
        ("sirolimus", "ref"),
    ])
    def test_it_never_says_an_allergy_to_the_drug_is_recorded(self, client: TestClient,
                                                               allergies: str | None,
                                                               text: str) -> None:
        """The warnings that could not settle the check embedded the rule's text "The
        patient's record lists an active allergy or intolerance to the drug ordered":
        they now say the rule as the check not made, with its provenance."""
        lists = {None: None, "zortrex": search(PEN, ZORTREX),
                 "sirolimus": search(allergy("a-siro", "Sirolimus"))}
        med = {"reference": "Medication/xyz"} if text == "ref" else {"text": text}
        [card] = call(client, lists[allergies], med)
        assert card["indicator"] == "warning"
        assert STATES_AN_ALLERGY not in card["detail"]
        assert "The check not made: a drug ordered that the allergy list rules out" \
            in card["detail"]
        assert "*Source:*" in card["detail"]

    def test_the_critical_card_keeps_the_rule(self, client: TestClient) -> None:
        [card] = call(client, search(allergy("a-siro", "Sirolimus")),
                      {"text": "Everolimus 10 mg tablet"})
        assert card["indicator"] == "critical"
        assert STATES_AN_ALLERGY in card["detail"]


class TestAReadAllergyWhateverElseWasNotRead:
    @pytest.mark.parametrize("blank", [("conditions",), ("conditions", "observations")])
    @pytest.mark.parametrize("text", ["Everolimus 10 mg tablet", "Temsirolimus 25 mg IV"])
    def test_an_mtor_draft_ruled_out_gets_the_critical_card(self, client: TestClient,
                                                            blank: tuple[str, ...],
                                                            text: str) -> None:
        """Conditions and observations not read (whether the patient has a PEComa
        unknown), a sirolimus allergy read: an everolimus draft got no card at all. The
        allergy rules every mTOR inhibitor out (I15): the critical card."""
        cards = call(client, search(allergy("a-siro", "Sirolimus")), {"text": text},
                     patient="metastatic-lung-metachronous", blank=blank)
        assert [card["indicator"] for card in cards] == ["critical"]

    def test_so_does_a_chemotherapy_draft_beside_the_screens_card(
            self, client: TestClient) -> None:
        """A doxorubicin draft beside a read doxorubicin allergy got only "PEComa check
        incomplete": it gets the critical card too."""
        cards = call(client, search(allergy("a-doxo", "Doxorubicin")),
                     {"text": "Doxorubicin 75 mg/m2"},
                     patient="metastatic-lung-metachronous",
                     blank=("conditions", "observations"))
        assert [card["indicator"] for card in cards] == ["warning", "critical"]
        assert cards[0]["summary"].startswith("PEComa check incomplete")

    def test_with_the_allergy_entries_not_read_in_full_too(self, client: TestClient) -> None:
        """The review's setup: conditions, observations and allergies all unusable (the
        allergy search carrying the caveat), its sirolimus entry read: critical."""
        cards = call(client, search(allergy("a-siro", "Sirolimus"), caveat=True),
                     {"text": "Everolimus 10 mg tablet"},
                     patient="metastatic-lung-metachronous",
                     blank=("conditions", "observations"))
        assert [card["indicator"] for card in cards] == ["critical"]

    @pytest.mark.parametrize("text", ["Everolimus 10 mg tablet", "Doxorubicin 75 mg/m2"])
    def test_a_list_not_read_then_adds_no_warning(self, client: TestClient,
                                                  text: str) -> None:
        """Whether the patient has a PEComa is not known: pecoma's "could not be
        checked" warning, which is for a PEComa patient's orders, is not raised (a
        chemotherapy draft keeps the screen's card saying what could not be read)."""
        cards = call(client, None, {"text": text}, patient="metastatic-lung-metachronous",
                     blank=("conditions", "observations"))
        assert all(NOT_AVAILABLE not in card["summary"] for card in cards)
        assert all(card["indicator"] == "warning" for card in cards)
