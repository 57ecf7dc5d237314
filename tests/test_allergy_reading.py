"""One reading of the allergy list, for the FHIR reader and for the CDS services.

``pecoma fhir to-case`` (the FHIR reader) and the CDS services' allergy check had read an
AllergyIntolerance each their own way: the reader ignored any entry with a name ("Allergy
to drug" included) and doubted one coded RxNorm only; the CDS services withheld every
proposal for any entry not naming a PEComa drug (penicillin included). Both now use
:func:`pecoma.fhir.allergies.read_allergy`.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, no systemic line,
and an Observation saying mTOR inhibitors are not contraindicated. Expected outcomes,
each written by hand from the rule:

* an allergy to a substance clearly named that is no anticancer drug and holds none
  (penicillin, by name or by RxNorm 7980 with or without a display): identified, it
  concerns no PEComa drug, so the recorded "not contraindicated" stands and the
  doxorubicin draft's card proposes the sirolimus draft;
* an allergy whose substance is not identified (SNOMED CT 416098002 "Allergy to drug"
  with no substance, a text saying only "drug allergy", a drug pecoma does not list, a
  code pecoma does not know): it could be to an mTOR inhibitor, so "not
  contraindicated" becomes unknown and nothing is proposed;
* an allergy naming the mTOR-inhibitor class beside another drug, or the ATC groups that
  hold the mTOR inhibitors (L01 antineoplastic agents, L01E protein kinase inhibitors):
  every mTOR inhibitor is ruled out (contraindicated), nothing is proposed.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from pecoma import InputError, assess, parse_case
from pecoma.fhir.medications import ATC
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
DOXORUBICIN = {"medicationCodeableConcept": {"text": "doxorubicin 75 mg/m2"}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('allergy') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def allergy(code: dict[str, Any] | None, *, substance: dict[str, Any] | None = None,
            category: str | None = "medication") -> dict[str, Any]:
    bundle = example(PATIENT)
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance", "id": "allergy-1",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "active"}]},
        "patient": {"reference": f"Patient/{patient_id(bundle)}"}}
    if code is not None:
        res["code"] = code
    if category is not None:
        res["category"] = [category]
    reaction: dict[str, Any] = {"manifestation": [{"text": "urticaria"}]}
    if substance is not None:
        reaction["substance"] = substance
    res["reaction"] = [reaction]
    return res


def read_with(entry: dict[str, Any]) -> str:
    """What the FHIR reader and the case's rule (I15) make of the mTOR contraindication
    with the entry (as recorded, or derived from an intolerance read)."""
    bundle = copy.deepcopy(example(PATIENT))
    bundle["entry"].append({"resource": entry})
    return case_from_bundle(bundle).case.systemic.mtor_contraindication.value


def order_cards(client: TestClient, entry: dict[str, Any],
                medication: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The order-select cards for a doxorubicin draft (or ``medication``), with the entry
    in the allergies."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    prefetch["allergies"]["entry"].append({"resource": entry})
    body = hook_request("order-select", pid, prefetch=prefetch)
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             **(medication or DOXORUBICIN)}
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def proposed(cards: list[dict[str, Any]]) -> bool:
    return any("suggestions" in card for card in cards)


PENICILLIN = [
    pytest.param({"text": "Penicillin"}, None, id="penicillin-by-name"),
    pytest.param({"coding": [{"system": RXNORM, "code": "7980", "display": "Penicillin G"}]},
                 None, id="penicillin-rxnorm-with-display"),
    pytest.param({"coding": [{"system": RXNORM, "code": "7980"}]}, None,
                 id="penicillin-rxnorm-only"),
    pytest.param({"coding": [{"system": SNOMED, "code": "416098002",
                              "display": "Allergy to drug"}]},
                 {"text": "amoxicillin"}, id="allergy-to-drug-amoxicillin-in-reaction"),
    pytest.param({"text": "PCN"}, None, id="penicillin-abbreviated"),
]

NOT_IDENTIFIED = [
    pytest.param({"coding": [{"system": SNOMED, "code": "416098002",
                              "display": "Allergy to drug"}]}, None,
                 id="allergy-to-drug-no-substance"),
    pytest.param({"text": "Drug allergy"}, None, id="drug-allergy-text"),
    pytest.param({"text": "Unknown medication"}, None, id="unknown-medication-text"),
    pytest.param({"text": "Zortrexib"}, None, id="a-drug-pecoma-does-not-list"),
    pytest.param({"coding": [{"system": RXNORM, "code": "845509"}]}, None,
                 id="rxnorm-code-pecoma-does-not-know"),
    pytest.param(None, {"text": "Drug allergy"}, id="reaction-only-not-named"),
]

MTOR_CLASS = [
    pytest.param({"text": "Doxorubicin; mTOR inhibitors"}, None, id="class-beside-a-drug"),
    pytest.param({"coding": [{"system": ATC, "code": "L01E"}]}, None,
                 id="atc-protein-kinase-inhibitors"),
    pytest.param({"coding": [{"system": ATC, "code": "L01"}]}, None,
                 id="atc-antineoplastic-agents"),
]


class TestOneReading:
    @pytest.mark.parametrize(("code", "substance"), PENICILLIN)
    def test_an_allergy_to_penicillin_rules_out_no_pecoma_drug(
            self, client: TestClient, code: dict[str, Any], substance: Any) -> None:
        """Penicillin is no anticancer drug and holds none: 'not contraindicated' stands
        in the case, and the sirolimus draft is proposed (the CDS services had withheld
        it, the reader had doubted the RxNorm-only entry)."""
        entry = allergy(code, substance=substance)
        assert read_with(entry) == "no"
        assert proposed(order_cards(client, entry))

    @pytest.mark.parametrize(("code", "substance"), NOT_IDENTIFIED)
    def test_an_allergy_not_identified_leaves_the_contraindication_unknown(
            self, client: TestClient, code: Any, substance: Any) -> None:
        """Its substance could be an mTOR inhibitor: 'not contraindicated' is not kept
        (the reader had kept it for any entry with a name, 'Allergy to drug' included),
        and no sirolimus draft is proposed."""
        entry = allergy(code, substance=substance)
        assert read_with(entry) == "unknown"
        cards = order_cards(client, entry)
        assert not proposed(cards)
        assert any("could not be matched to a drug" in c["detail"] for c in cards)

    @pytest.mark.parametrize(("code", "substance"), MTOR_CLASS)
    def test_an_allergy_to_a_group_holding_the_mtor_inhibitors_rules_them_out(
            self, client: TestClient, code: dict[str, Any], substance: Any) -> None:
        """The class named beside another drug had been missed by the CDS check (the
        doxorubicin named first hid it), and the ATC groups above L01EG read as 'another
        antineoplastic': the sirolimus draft was proposed. Both paths now rule every mTOR
        inhibitor out."""
        entry = allergy(code, substance=substance)
        assert read_with(entry) == "yes"
        assert not proposed(order_cards(client, entry))

    def test_a_food_allergy_named_is_no_drug_allergy(self, client: TestClient) -> None:
        """Peanut, with no category: a substance clearly named that is no drug (the CDS
        services had counted it as a drug allergy not identified)."""
        entry = allergy({"text": "Peanut"}, category=None)
        assert read_with(entry) == "no"
        assert proposed(order_cards(client, entry))

    @pytest.mark.parametrize("name", ["Erythromycin", "Tacrolimus", "Polysorbate 80",
                                      "Albumin human"])
    def test_a_substance_near_an_mtor_inhibitor_is_never_cleared(
            self, client: TestClient, name: str) -> None:
        """Macrolide antibiotics and tacrolimus are macrolides as sirolimus is; polysorbate
        80 is temsirolimus's solvent and albumin nab-sirolimus's carrier: an allergy to one
        is not cleared by name, so nothing is proposed until someone checks it."""
        entry = allergy({"text": name})
        assert read_with(entry) == "unknown"
        assert not proposed(order_cards(client, entry))


class TestEverythingNamedIsIdentified:
    """An entry is cleared only when everything it names is identified: its code's text,
    displays and codings, and every reaction's substance. One harmless name found in it
    had cleared the whole entry."""

    @pytest.mark.parametrize("entry", [
        # tacrolimus is a macrolide as sirolimus is: never cleared, even beside penicillin
        pytest.param(allergy({"text": "Penicillin; tacrolimus"}), id="penicillin-tacrolimus"),
        # the macrolide antibiotics, likewise
        pytest.param(allergy({"text": "Sulfa, macrolides"}), id="sulfa-macrolides"),
        # a drug pecoma does not know beside one it knows
        pytest.param(allergy({"text": "Penicillin; XY-123"}), id="penicillin-unknown-drug"),
        # a negation: every antibiotic but the penicillins (the macrolides among them)
        pytest.param(allergy({"text": "Non-penicillin antibiotic"}), id="negation"),
        # the code says penicillin, the reaction an unknown drug
        pytest.param(allergy({"text": "Penicillin"}, substance={"text": "Zortrex"}),
                     id="reaction-substance-unknown"),
        # a reaction's substance coded by a code pecoma does not know, with no name
        pytest.param(allergy({"text": "Penicillin"}, substance={"coding": [
            {"system": RXNORM, "code": "845509"}]}), id="reaction-substance-unknown-code"),
        # a PEComa drug named beside an unknown one: the unknown one may be sirolimus
        pytest.param(allergy({"text": "Doxorubicin; XY-123"}), id="agent-and-unknown-drug"),
    ])
    def test_a_part_not_identified_keeps_the_entry_unknown(
            self, client: TestClient, entry: dict[str, Any]) -> None:
        """The part not identified could be an mTOR inhibitor: 'not contraindicated' is
        not kept, and no sirolimus draft is proposed (it had been, the entry read as
        penicillin, sulfa or doxorubicin alone)."""
        assert read_with(entry) == "unknown"
        cards = order_cards(client, entry)
        assert not proposed(cards)
        assert any("could not be matched to a drug" in c["detail"] for c in cards)

    def test_the_reader_says_what_it_could_not_identify(self) -> None:
        """The note names the part not identified, so the team knows what to check (the
        entry had been read as 'to penicillin, no mTOR inhibitor')."""
        bundle = copy.deepcopy(example(PATIENT))
        bundle["entry"].append({"resource": allergy({"text": "Penicillin; tacrolimus"})})
        notes = case_from_bundle(bundle).notes
        assert any("AllergyIntolerance/allergy-1" in n and "cannot identify (tacrolimus)" in n
                   for n in notes)


class TestBiologics:
    @pytest.mark.parametrize(("name", "category"), [
        # albumin is the carrier of nab-sirolimus: never cleared, whatever the category
        ("Albumin (human)", "biologic"),
        ("Albumin (human)", "environment"),
        # a biologic pecoma cannot identify may be a drug as much as a medication is
        ("XYZ biologic", "biologic"),
    ])
    def test_a_biologic_not_identified_is_not_cleared(
            self, client: TestClient, name: str, category: str) -> None:
        """Category ``biologic`` had been read as 'not a drug': an albumin allergy so
        recorded kept 'not contraindicated' and the sirolimus draft was proposed, though
        nab-sirolimus is albumin-bound. A biologic is read as a medication is, and an
        entry naming albumin (or another substance near an mTOR inhibitor) is never
        cleared, whatever its category."""
        entry = allergy({"text": name}, category=category)
        assert read_with(entry) == "unknown"
        cards = order_cards(client, entry)
        assert not proposed(cards)
        assert any("could not be matched to a drug" in c["detail"] for c in cards)


class TestCategoryAndStatusNeverClearAnUnreadEntry:
    @pytest.mark.parametrize(("code", "category"), [
        # everolimus 0.25 MG oral tablet (an RxNorm clinical drug pecoma does not list)
        ({"coding": [{"system": RXNORM, "code": "845509"}]}, "food"),
        ({"coding": [{"system": RXNORM, "code": "845509"}]}, "environment"),
        ({"coding": [{"system": ATC, "code": "L04AX99"}]}, "environment"),
    ])
    def test_a_code_not_read_is_not_cleared_by_its_category(
            self, client: TestClient, code: dict[str, Any], category: str) -> None:
        """An active allergy coded by an RxNorm or ATC code pecoma cannot read, no text,
        filed under 'food' or 'environment' (a mistyped category): read as 'not to an
        mTOR inhibitor', so sirolimus was proposed and a sirolimus draft passed with no
        card. Those codes are drugs' whatever the category: not identified."""
        entry = allergy(code, category=category)
        assert read_with(entry) == "unknown"
        cards = order_cards(client, entry)
        assert not proposed(cards)
        siro = order_cards(client, entry, {"medicationCodeableConcept": {"text": "sirolimus"}})
        assert any("could not be checked" in c["summary"] for c in siro)

    def test_a_food_named_in_text_is_still_cleared(self) -> None:
        """The category still counts where the entry names what it is: a food allergy
        whose text is a food pecoma has no list for rules no drug out."""
        assert read_with(allergy({"text": "Strawberries"}, category="food")) == "no"

    def test_active_beside_inactive_is_counted(self, client: TestClient) -> None:
        """An everolimus allergy whose clinicalStatus holds both 'active' and 'inactive'
        was set aside as inactive: sirolimus was proposed. Contradictory codes do not
        settle it: the entry counts (the safer reading), the sirolimus draft is flagged."""
        entry = allergy({"text": "Everolimus"})
        entry["clinicalStatus"]["coding"].append({
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "inactive"})
        assert read_with(entry) == "yes"
        siro = order_cards(client, entry, {"medicationCodeableConcept": {"text": "sirolimus"}})
        assert [c["indicator"] for c in siro] == ["critical"]


class TestNoKnownAllergyAndCommonNames:
    @pytest.mark.parametrize("text", ["NKDA", "NKA", "No known drug allergies",
                                      "No Known Allergies", "no known allergy.", "N.K.D.A.",
                                      "No known drug allergies (NKDA)"])
    def test_no_known_allergy_written_as_text_is_no_allergy(
            self, client: TestClient, text: str) -> None:
        """"NKDA" or "No known drug allergies" as the code's only text (common in
        legacy lists) had been read as a drug allergy not identified: 'not
        contraindicated' was dropped and nothing proposed. It records none, as the
        SNOMED CT no-known-allergy codes do."""
        entry = allergy({"text": text})
        assert read_with(entry) == "no"
        assert proposed(order_cards(client, entry))

    def test_no_known_allergy_is_read_strictly(self, client: TestClient) -> None:
        """Only the phrase itself records none. An entry that says more (a substance in
        its text, beside a SNOMED CT no-known-allergy code, or in a reaction) is read
        for what it names: the SNOMED CT code beside "Sirolimus" had left the sirolimus
        allergy aside."""
        no_known = {"system": SNOMED, "code": "409137002", "display": "No known drug allergy"}
        for entry, expected in (
                (allergy({"coding": [no_known], "text": "Sirolimus"}), "yes"),
                (allergy({"coding": [no_known]}, substance={"text": "Zortrex"}), "unknown"),
                (allergy({"text": "NKDA except sirolimus"}), "yes"),
                (allergy({"text": "NKDA except XY-123"}), "unknown"),
                (allergy({"text": "NKDA"}, substance={"text": "Zortrex"}), "unknown"),
                (allergy({"text": "NKDA", "coding": [{"system": RXNORM, "code": "845509"}]}),
                 "unknown")):
            assert read_with(entry) == expected, entry
            assert not proposed(order_cards(client, entry))

    def test_common_names_of_harmless_substances_are_identified(
            self, client: TestClient) -> None:
        """"Non-steroidal anti-inflammatory drugs" and "IV contrast" had been left not
        identified while "NSAIDs" and "Iodinated contrast media" were cleared; so had
        clavulanate beside amoxicillin. A single name written with punctuation, or with
        its salt, dose form or reaction, is one name, not a name beside something
        unknown."""
        for text in ("Non-steroidal anti-inflammatory drugs",
                     "Nonsteroidal antiinflammatory drug", "IV contrast",
                     "Intravenous contrast dye", "Augmentin (amoxicillin-clavulanate)",
                     "Co-amoxiclav", "Sulfamethoxazole/Trimethoprim",
                     "Penicillin G benzathine", "Amoxicillin 500 MG Oral Capsule",
                     "Allergy to penicillin (finding)", "PCN, sulfa", "Penicillin (rash)",
                     "Propensity to adverse reactions to penicillin (finding)",
                     "History of penicillin allergy"):
            entry = allergy({"text": text})
            assert read_with(entry) == "no", text
            assert proposed(order_cards(client, entry)), text


SIROLIMUS = {"medicationCodeableConcept": {
    "coding": [{"system": RXNORM, "code": "35302"}], "text": "sirolimus"}}


class TestAnMtorDraftBesideAnAllergyNotIdentified:
    def test_an_mtor_inhibitor_spelt_or_coded_otherwise_is_read(
            self, client: TestClient) -> None:
        """"m-TOR inhibitors" (the hyphen), and everolimus, temsirolimus or sirolimus
        coded only by an RxNorm clinical-drug code, had not been identified: to-case kept
        the contraindication unknown and a sirolimus draft got no card. Each now rules
        every mTOR inhibitor out: 'yes', and a critical card on the sirolimus draft.
        The codes are those of single-ingredient products in the openFDA NDC directory
        (everolimus 845507, temsirolimus 722289, sirolimus 314230)."""
        for code in ({"text": "m-TOR inhibitors"}, {"text": "M TOR inhibitor"},
                     {"text": "mTOR-inhibitor"},
                     {"coding": [{"system": RXNORM, "code": "845507"}]},
                     {"coding": [{"system": RXNORM, "code": "722289"}]},
                     {"coding": [{"system": RXNORM, "code": "314230"}]}):
            entry = allergy(code)
            assert read_with(entry) == "yes", code
            [card] = order_cards(client, entry, SIROLIMUS)
            assert card["indicator"] == "critical", code

    @pytest.mark.parametrize("entry", [
        # sirolimus as a SNOMED CT substance with no display: a code pecoma does not know
        pytest.param(allergy({"coding": [{"system": SNOMED, "code": "387014003"}]}),
                     id="snomed-code-no-display"),
        pytest.param(allergy({"coding": [{"system": RXNORM, "code": "845509"}]}),
                     id="rxnorm-code-pecoma-does-not-know"),
        pytest.param(allergy({"text": "Drug allergy"}), id="drug-allergy-text"),
        pytest.param(allergy({"text": "Penicillin; XY-123"}), id="penicillin-unknown-drug"),
    ])
    def test_the_draft_gets_a_warning_that_it_could_not_be_checked(
            self, client: TestClient, entry: dict[str, Any]) -> None:
        """The reader keeps the contraindication unknown and patient-view marks the
        recommendation conditional, but a sirolimus draft beside the entry got no card:
        the entry may be to sirolimus. A warning says the draft could not be checked
        against it, naming it, with the allergy cards' knowledge record."""
        assert read_with(entry) == "unknown"
        [card] = order_cards(client, entry, SIROLIMUS)
        assert card["indicator"] == "warning"
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
        assert "could not be checked" in card["summary"]
        assert "AllergyIntolerance/allergy-1" in card["detail"]
        assert "MedicationRequest/draft-1" in card["detail"]
        assert "suggestions" not in card


class TestIntolerancesOfOtherDrugs:
    """An allergy to a drug the guideline names other than an mTOR inhibitor is read into
    the case (``systemic.intolerances``), so that the engine withholds every regimen
    holding it (I15) on every path, not only the CDS cards; it had been listed as not read
    and S14's doxorubicin proposed beside it."""

    @staticmethod
    def read(entry: dict[str, Any]) -> Any:
        bundle = copy.deepcopy(example(PATIENT))
        bundle["entry"].append({"resource": entry})
        return case_from_bundle(bundle)

    def test_a_doxorubicin_allergy_by_rxnorm_is_read_and_kept_on_the_round_trip(self) -> None:
        read = self.read(allergy({"coding": [{"system": RXNORM, "code": "3639"}]}))
        assert [x.agent.value for x in read.case.systemic.intolerances] == ["doxorubicin"]
        assert any("intolerance of doxorubicin read" in n for n in read.notes)
        again = case_from_bundle(bundle_from_case(read.case)).case
        assert again.systemic.intolerances == read.case.systemic.intolerances

    def test_ifosfamide_named_inside_a_regimen_is_read_once(self) -> None:
        read = self.read(allergy({"text": "ifosfamide"}))
        assert [x.agent.value for x in read.case.systemic.intolerances] == ["ifosfamide"]

    @pytest.mark.parametrize(("code", "drugs"), [
        ({"text": "Anthracyclines"}, ["doxorubicin", "epirubicin"]),
        ({"coding": [{"system": ATC, "code": "L01DB"}]}, ["doxorubicin", "epirubicin"]),
        # the alkylating agents (ATC L01A): ifosfamide, dacarbazine and trabectedin (its
        # label: "an alkylating drug") among the case format's agents; none is an mTOR
        # inhibitor, so nothing is 'other' (HAZ-446)
        ({"text": "Alkylating agents"}, ["dacarbazine", "ifosfamide", "trabectedin"]),
    ])
    def test_a_class_of_drugs_is_each_of_its_drugs(self, code: dict[str, Any],
                                                    drugs: list[str]) -> None:
        """An allergy to the anthracyclines rules out doxorubicin and epirubicin (it had
        been 'not identified', S15's epirubicin with ifosfamide proposed beside it). Its
        other drugs (daunorubicin, idarubicin) are none pecoma proposes and no mTOR
        inhibitor, so nothing of it is 'other' (which would make the mTOR advice wait on
        which drug it is). The alkylating agents hold drugs pecoma files elsewhere
        (dacarbazine): that entry stays not identified (below) and is also an intolerance
        of 'other', whose drug the engine asks (I15)."""
        read = self.read(allergy(code))
        assert sorted(x.agent.value for x in read.case.systemic.intolerances) == drugs

    @pytest.mark.parametrize("code", [{"text": "Alkylating agents"},
                                      {"coding": [{"system": ATC, "code": "L01A"}]}])
    def test_the_alkylating_class_is_identified(self, code: dict[str, Any]) -> None:
        """HAZ-446: the alkylating agents are an identified class, as the anthracyclines
        are: the entry rules out its agents (ifosfamide, dacarbazine, trabectedin) and its
        drugs pecoma files under other chemotherapy (cyclophosphamide, temozolomide) one
        by one, and is no entry 'not identified' (a doxorubicin draft is checked)."""
        from pecoma.case import Agent
        from pecoma.fhir.allergies import read_allergy
        reading = read_allergy(allergy(code))
        assert reading.ingredients == {"ifosfamide"} and not reading.unidentified
        assert {"cyclophosphamide", "temozolomide"} <= reading.drugs
        assert {Agent.dacarbazine, Agent.trabectedin} <= reading.agents

    @pytest.mark.parametrize("code", [{"text": "Anthracyclines"},
                                      {"coding": [{"system": ATC, "code": "L01DB"}]}])
    def test_the_anthracycline_class_is_identified(self, code: dict[str, Any]) -> None:
        """The anthracyclines rule out doxorubicin and epirubicin; the class's other drugs
        (daunorubicin, idarubicin) are no mTOR inhibitor and none pecoma proposes, and a
        draft of one is not identified by pecoma (its own warning): the entry is
        identified, nothing of it may be an mTOR inhibitor."""
        from pecoma.fhir.allergies import read_allergy
        reading = read_allergy(allergy(code))
        assert reading.ingredients == {"doxorubicin", "epirubicin"}
        assert not reading.unidentified

    def test_an_mtor_allergy_is_an_intolerance_row_the_contraindication_derived(
            self) -> None:
        """An allergy to sirolimus is a row of the intolerances (the drug named), as for
        any drug: the class contraindication is derived from it by the case's rule (I15),
        never written as if the record had stated it (it had been a recorded 'yes')."""
        read = self.read(allergy({"text": "sirolimus"}))
        assert [x.agent.value for x in read.case.systemic.intolerances] == ["sirolimus"]
        assert read.case.systemic.mtor_inhibitor_contraindicated.value == "unknown"
        assert read.case.systemic.mtor_contraindication.value == "yes"

    def test_the_engine_withholds_the_regimen_read(self) -> None:
        read = self.read(allergy({"coding": [{"system": RXNORM, "code": "3639"}]}))
        data = read.case.model_dump(mode="json")
        data["systemic"]["mtor_inhibitor_contraindicated"] = "yes"
        a = assess(parse_case(data), ON)
        ids = set(a.record_ids())
        assert "REC-REGIMEN-NOT-TOLERATED" in ids and "REC-ANTHRACYCLINE" not in ids


class TestIntoleranceInTheCase:
    """The case format's ``systemic.intolerances`` (I15), by hand."""

    BASE: ClassVar[dict[str, Any]] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10"},
        "tumour": {"primary_site": "uterus", "size": {"value": 12, "unit": "cm"}},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative", "resectable": "no",
                  "metastases": [{"site": "peritoneum", "detected_on": "2024-01-10"}]},
        "surgery": {"status": "not_performed"},
    }

    def ids(self, systemic: dict[str, Any]) -> set[str]:
        return set(assess(parse_case({**self.BASE, "systemic": systemic}), ON).record_ids())

    def test_a_regimen_recorded_as_not_tolerated_counts_for_each_of_its_drugs(self) -> None:
        # which of doxorubicin and ifosfamide was not tolerated is not told: S14's
        # doxorubicin and S15's ifosfamide are both withheld
        ids = self.ids({"mtor_inhibitor_available": "no",
                        "intolerances": [{"agent": "doxorubicin_ifosfamide"}]})
        assert {"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO"}.isdisjoint(ids)
        assert "REC-REGIMEN-NOT-TOLERATED" in ids

    def test_a_drug_no_regimen_holds_withholds_nothing(self) -> None:
        ids = self.ids({"mtor_inhibitor_available": "no",
                        "intolerances": [{"agent": "dacarbazine"}]})
        assert {"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO"} <= ids
        assert "REC-REGIMEN-NOT-TOLERATED" not in ids

    def test_an_mtor_inhibitor_not_tolerated_is_a_contraindication(self) -> None:
        """I15: every mTOR inhibitor is ruled out when no other one is shown tolerated.
        With the contraindication not given it is derived 'yes' (a hand-entered form or a
        registry row had been refused); recorded on the intolerance as of everolimus alone
        ('class_wide' 'no'), a 'no' beside it is coherent and the class not ruled out."""
        case = parse_case({**self.BASE, "systemic": {
            "intolerances": [{"agent": "everolimus"}]}})
        assert case.systemic.mtor_contraindication.value == "yes"
        assert case.systemic.mtor_contraindication_derived
        alone = parse_case({**self.BASE, "systemic": {
            "mtor_inhibitor_contraindicated": "no",
            "intolerances": [{"agent": "everolimus", "class_wide": "no"}]}})
        assert alone.systemic.mtor_contraindication.value == "no"
        assert not alone.systemic.mtor_class_ruled_out
        # an agent that is no name is refused by field, never an internal error
        with pytest.raises(InputError) as exc:
            parse_case({**self.BASE, "systemic": {"intolerances": [{"agent": {}}]}})
        assert exc.value.issues[0].path.startswith("systemic.intolerances")

    def test_one_item_when_both_regimens_are_ruled_out(self) -> None:
        a = assess(parse_case({**self.BASE, "systemic": {
            "mtor_inhibitor_available": "no",
            "intolerances": [{"agent": "doxorubicin_ifosfamide"}]}}), ON)
        assert [i.id for i in a.items()].count("REC-REGIMEN-NOT-TOLERATED") == 1

    def test_s15_withheld_keeps_the_silence_after_progression(self) -> None:
        """Uterine, progressed on doxorubicin, epirubicin not tolerated: S15 is withheld,
        so the guideline's silence is said as at any other site (it had disappeared)."""
        ids = self.ids({"mtor_inhibitor_available": "no",
                        "intolerances": [{"agent": "epirubicin"}],
                        "therapies": [{"agent": "doxorubicin", "started_on": "2024-02-01",
                                       "progressed": "yes"}]})
        assert {"REC-NO-LINE-AFTER-ANTHRACYCLINE", "REC-REGIMEN-NOT-TOLERATED"} <= ids
        assert "REC-UTERINE-EPI-IFO" not in ids

    def test_an_mtor_line_not_tolerated_is_not_said_to_stay_the_treatment(self) -> None:
        ids = self.ids({"mtor_inhibitor_available": "yes",
                        "mtor_inhibitor_contraindicated": "yes",
                        "intolerances": [{"agent": "everolimus"}],
                        "therapies": [{"agent": "everolimus", "started_on": "2024-02-01",
                                       "best_response": "partial", "progressed": "no"}]})
        assert "ALERT-MTOR-LINE-WITHOUT-PROGRESSION" not in ids
        assert "REC-ANTHRACYCLINE" in ids
