"""A medication record naming its drug by a name pecoma cannot identify.

A line of systemic therapy already given decides the advice: after an mTOR inhibitor the
first-line mTOR advice asks whether the disease progressed on it (S12, S13), and an
anthracycline given is not offered again as if never given (S14). A record naming its
drug only by a development code ("RAD001", everolimus), a brand pecoma did not list
("Adriblastina", doxorubicin; "Cytoxan", cyclophosphamide) or a name it does not know at
all was read as "not a systemic agent of the guideline" and dropped without a word: a
patient who progressed on everolimus recorded as RAD001 was offered an mTOR inhibitor as
the first line, on an ``info`` card, with no question and no "already given".

Now the well-known names are read as their agent, and a name pecoma still cannot
identify is not taken for "no line" when anything marks it as possibly anticancer (an
mCODE cancer-related medication profile, a reason naming a cancer, a name written as an
investigational product's code or ending as anticancer drugs' names do): it goes where
an unknown RxNorm code goes, the lines already given are not fully known, and the advice
naming a drug is conditional. A name with no such mark keeps its reading (no line), and
is listed as not read by its name.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, mTOR inhibitors
recorded available and not contraindicated, and no systemic line in the example.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.fhir.medications import (
    agent_of,
    drugs_of,
    mtor_class_named,
    unidentified_names,
    unreadable_medication,
)
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
MCODE_STATEMENT = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                   "mcode-cancer-related-medication-statement")
MCODE_REQUEST = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                 "mcode-cancer-related-medication-request")
NOT_FULLY_KNOWN = ("**Conditional:** the lines of systemic therapy already given are not "
                   "fully known (a medication record names a drug pecoma cannot identify)")


def statement(pid: str, name: str, **extra: Any) -> dict[str, Any]:
    """The integrator's MedicationStatement: a course completed in 2025, named ``name``."""
    return {"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
            "subject": {"reference": f"Patient/{pid}"},
            "medicationCodeableConcept": {"text": name},
            "effectivePeriod": {"start": "2025-03-01", "end": "2025-08-01"}, **extra}


def record_with(name: str, **extra: Any) -> dict[str, Any]:
    bundle = copy.deepcopy(example(PATIENT))
    bundle["entry"].append({"resource": statement(patient_id(bundle), name, **extra)})
    return bundle


def read(name: str, **extra: Any) -> BundleCase:
    return case_from_bundle(record_with(name, **extra), on=ON)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('names') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def summary_card(client: TestClient, bundle: dict[str, Any]) -> dict[str, Any]:
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    card: dict[str, Any] = r.json()["cards"][0]
    return card


def mtor_item(detail: str) -> str:
    """The first-line mTOR item of a summary card, up to the next item (a bold title
    followed by its text), its notes included."""
    at = detail.index("**An mTOR inhibitor is the first-line")
    after = re.search(r"\n\n\*\*[^*\n]+\*\* — ", detail[at + 10:])
    return detail[at:] if after is None else detail[at:at + 10 + after.start()]


class TestWellKnownNames:
    @pytest.mark.parametrize(("name", "agent"), [
        ("RAD001 10 mg daily", Agent.everolimus),
        ("RAD-001 10 mg", Agent.everolimus),
        ("CCI-779 25 mg IV weekly", Agent.temsirolimus),
        ("CCI779", Agent.temsirolimus),
        ("ABI-009 100 mg/m2", Agent.nab_sirolimus),
        ("Adriblastina 75 mg/m2", Agent.doxorubicin),
        ("Adriblastin 75 mg/m2", Agent.doxorubicin),
        ("Caelyx 40 mg/m2", Agent.doxorubicin),
        ("Farmorubicina 75 mg/m2", Agent.epirubicin),
        ("Mitoxana 2 g/m2", Agent.ifosfamide),
        ("DTIC 1000 mg/m2", Agent.dacarbazine),
        ("DTIC-Dome", Agent.dacarbazine),
        ("Déticène 1000 mg/m2", Agent.dacarbazine),
        ("ET-743 1.5 mg/m2", Agent.trabectedin),
        ("Cytoxan 600 mg/m2", Agent.other_chemotherapy),
        ("Endoxan 600 mg/m2", Agent.other_chemotherapy),
        ("Endoxana", Agent.other_chemotherapy),
        ("Procytox", Agent.other_chemotherapy),
        ("Abraxane 260 mg/m2", Agent.other_chemotherapy),
    ])
    def test_a_development_code_or_brand_is_read_as_its_agent(
        self, name: str, agent: Agent
    ) -> None:
        """Development codes (RAD001 everolimus, CCI-779 temsirolimus) and brands
        (Adriblastina doxorubicin, Cytoxan and Endoxan cyclophosphamide, DTIC dacarbazine)
        name a drug of the guideline's lines: read as that line, never dropped."""
        [line] = read(name).case.systemic.therapies
        assert line.agent is agent

    @pytest.mark.parametrize(("name", "drug"), [
        ("Cytoxan", "cyclophosphamide"), ("Endoxan", "cyclophosphamide"),
        ("Endoxana", "cyclophosphamide"), ("Procytox", "cyclophosphamide"),
        ("Abraxane", "paclitaxel")])
    def test_a_brand_of_other_chemotherapy_is_its_drug_for_the_allergy_check(
        self, name: str, drug: str
    ) -> None:
        """An allergy to cyclophosphamide rules out a Cytoxan order: the brand is the
        drug, never a drug of its own."""
        assert drugs_of({"medicationCodeableConcept": {"text": name}}) == {drug}


class TestReaderUnknownName:
    def test_the_integrators_rad001_statement_is_the_everolimus_line(self) -> None:
        """The statement of the report: RAD001 is everolimus, a line given, so the
        first-line mTOR advice asks whether the disease progressed on it."""
        bc = read("RAD001 10 mg daily")
        [line] = bc.case.systemic.therapies
        assert line.agent is Agent.everolimus
        assert not any("MedicationStatement" in n for n in bc.not_read)

    @pytest.mark.parametrize(("name", "extra", "mark"), [
        ("XY-4471 10 mg daily", {}, "'xy-4471' is written as an investigational product's "
                                    "code is"),
        ("AZD9999", {}, "'azd9999' is written as an investigational product's code is"),
        ("Zortrexinib 50 mg", {}, "'zortrexinib' ends as the names of anticancer drugs "
                                  "do (-nib)"),
        ("Zortrolimus 5 mg", {}, "ends as the names of anticancer drugs do (-limus)"),
        ("Zortrubicin 60 mg/m2", {}, "(-rubicin)"),
        ("Ondansetron 8 mg; XY-4471 100 mg", {}, "'xy-4471' is written as an "
                                                 "investigational product's code is"),
        ("Zortrex 5 mg", {"meta": {"profile": [MCODE_STATEMENT]}},
         "its profile is mCODE's cancer-related medication"),
        ("Zortrex 5 mg", {"reasonCode": [{"text": "Malignant PEComa, lung metastases"}]},
         "its reason names a cancer (reasonCode 'Malignant PEComa, lung metastases')"),
        ("Zortrex 5 mg", {"reasonCode": [{"coding": [{"system": ICD10CM,
                                                      "code": "C49.9"}]}]},
         "its reason names a cancer"),
        ("Zortrex 5 mg", {"reasonReference": [{"reference": "Condition/pecoma-diagnosis"}]},
         "its reason names a cancer (reasonReference Condition/pecoma-diagnosis)"),
        ("Chemotherapy (protocol)", {}, "its name speaks of cancer treatment"),
        ("Investigational product, blinded", {}, "a drug under trial"),
    ], ids=["code-shape", "code-shape-no-hyphen", "stem-nib", "stem-limus", "stem-rubicin",
            "code-beside-a-supportive-drug", "mcode-profile", "reason-words",
            "reason-icd10-neoplasm", "reason-the-pecoma", "cancer-treatment-words",
            "trial-words"])
    def test_an_unknown_name_marked_as_possibly_anticancer_leaves_the_lines_not_fully_known(
        self, name: str, extra: dict[str, Any], mark: str
    ) -> None:
        """A drug pecoma cannot identify that anything marks as possibly anticancer may
        be a line given (an mTOR inhibitor under a trial code): it is listed as not
        identified, saying why, and the lines already given are not fully known, as for
        an RxNorm code pecoma does not know. Unknown is not absent."""
        bc = read(name, **extra)
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert said.startswith("MedicationStatement/ms1: its name holds ")
        assert mark in said
        assert bc.history_doubt is not None
        assert "a medication record names a drug pecoma cannot identify" in bc.history_doubt

    def test_the_reason_of_the_order_a_statement_carries_out_marks_it(self) -> None:
        """EHRs give the reason on the order: a statement based on an order for the
        PEComa is marked by that reason."""
        bundle = record_with("Zortrex 5 mg", basedOn=[{"reference": "MedicationRequest/o1"}])
        pid = patient_id(bundle)
        bundle["entry"].append({"resource": {
            "resourceType": "MedicationRequest", "id": "o1", "status": "cancelled",
            "intent": "order", "subject": {"reference": f"Patient/{pid}"},
            "medicationCodeableConcept": {"text": "Zortrex 5 mg"},
            "reasonCode": [{"text": "Metastatic PEComa"}]}})
        bc = case_from_bundle(bundle, on=ON)
        assert any(u.startswith("MedicationStatement/ms1: ")
                   and "its reason names a cancer" in u for u in bc.unidentified_medications)

    @pytest.mark.parametrize("name", ["Zortrex 5 mg", "Vitamin D3 1000 IU",
                                      "Coenzyme Q10 100 mg"])
    def test_an_unknown_name_with_no_mark_is_no_line_and_is_listed_by_its_name(
        self, name: str
    ) -> None:
        """Nothing marks it as an anticancer drug: read as before (no line, the history
        not put in doubt by every supplement), but listed as not read with the words
        pecoma could not identify, so that a reader sees what was set aside."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        assert bc.unidentified_medications == ()
        [listed] = [n for n in bc.not_read if n.startswith("MedicationStatement: ")]
        assert "which pecoma does not identify: no agent of the guideline, and nothing " \
               "marks it as an anticancer drug" in listed
        assert repr(unidentified_names({"medicationCodeableConcept": {"text": name}})[0]) \
            in listed

    @pytest.mark.parametrize("name", [
        "Paracetamol 500 mg film-coated tablets", "Metformin hydrochloride extended-release "
        "500 mg", "Ondansetron 8 mg (chemotherapy-induced nausea)", "Tacrolimus 1 mg"])
    def test_a_drug_pecoma_identifies_as_no_anticancer_drug_stays_no_line(
        self, name: str
    ) -> None:
        """Ondansetron given for the nausea of chemotherapy, metformin, paracetamol,
        tacrolimus: drugs pecoma identifies, none anticancer. Nothing is put in doubt,
        even under an mCODE cancer-related profile (supportive care)."""
        for extra in ({}, {"meta": {"profile": [MCODE_STATEMENT]}}):
            bc = read(name, **extra)
            assert bc.case.systemic.therapies == ()
            assert bc.unidentified_medications == ()
            assert "MedicationStatement: not a systemic agent of the guideline (1: " \
                   "MedicationStatement/ms1)" in bc.not_read

    @pytest.mark.parametrize("name", [
        "Adalimumab 40 mg every other week", "Tofacitinib 5 mg twice daily",
        "Upadacitinib 15 mg", "Dupilumab 300 mg", "Emtricitabine/tenofovir 200/245 mg",
        "Propylthiouracil 50 mg"])
    def test_a_drug_of_another_disease_ending_as_anticancer_drugs_do_is_no_line(
        self, name: str
    ) -> None:
        """Adalimumab and dupilumab (-mab), tofacitinib and upadacitinib (-nib),
        emtricitabine (-citabine), propylthiouracil (-uracil): drugs of rheumatoid
        arthritis, eczema, HIV and the thyroid whose names end as those of anticancer
        drugs do. They had put every line given in doubt ("may be an anticancer drug"),
        withholding the plain first-line advice for a patient on adalimumab. pecoma
        identifies them: no line, nothing in doubt, set aside as no systemic agent."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        assert bc.unidentified_medications == ()
        assert bc.history_doubt is None
        assert "MedicationStatement: not a systemic agent of the guideline (1: " \
               "MedicationStatement/ms1)" in bc.not_read

    def test_a_marked_record_not_given_puts_nothing_in_doubt(self) -> None:
        """A course not taken is no line, whatever its drug (as for an unknown code)."""
        bc = read("XY-4471 10 mg daily", status="not-taken")
        assert bc.unidentified_medications == ()
        assert bc.history_doubt is None


class TestOneRule:
    @pytest.mark.parametrize(("concept", "why"), [
        ({"text": "XY-4471 100 mg IV"}, "investigational product's code"),
        ({"text": "Zortrex"}, None),
        ({"text": "Zortrex", "coding": [{"system": RXNORM, "code": "99999999"}]}, None),
        ({"coding": [{"system": RXNORM, "code": "99999999"}]}, "a code pecoma does not know"),
    ])
    def test_the_reader_and_a_draft_order_read_a_name_alike(
        self, concept: dict[str, Any], why: str | None
    ) -> None:
        """One reading (``unreadable_medication``) for a record and a draft order."""
        for kind in ("MedicationStatement", "MedicationRequest"):
            said = unreadable_medication({"resourceType": kind,
                                          "medicationCodeableConcept": concept})
            assert (said is None) if why is None else (said is not None and why in said)

    def test_a_name_read_as_an_agent_is_never_put_in_doubt(self) -> None:
        """"Everolimus (RAD001), trial XY-4471": the agent is read; its other words are
        no second drug to doubt."""
        order = {"resourceType": "MedicationRequest", "medicationCodeableConcept": {
            "text": "Everolimus (RAD001), trial XY-4471"}}
        assert agent_of(order) is Agent.everolimus
        assert unreadable_medication(order) is None


class TestPatientView:
    def test_the_integrators_rad001_statement_gets_no_plain_first_line_mtor_item(
        self, client: TestClient
    ) -> None:
        """The report's case: RAD001 is everolimus, a line given; the first-line mTOR
        item is provisional on whether the disease progressed on it, which is asked."""
        detail = summary_card(client, record_with("RAD001 10 mg daily"))["detail"]
        assert "MISS-MTOR-PROGRESSION" in mtor_item(detail)
        assert "Has the disease progressed on the mTOR inhibitor already recorded?" in detail

    @pytest.mark.parametrize(("name", "extra"), [
        ("XY-4471 10 mg daily", {}),
        ("Zortrex 10 mg daily", {"meta": {"profile": [MCODE_STATEMENT]}}),
        ("Zortrex 10 mg daily", {"reasonReference": [
            {"reference": "Condition/pecoma-diagnosis"}]}),
    ], ids=["code-shape", "mcode-profile", "reason-the-pecoma"])
    def test_a_marked_unknown_name_makes_the_first_line_conditional(
        self, client: TestClient, name: str, extra: dict[str, Any]
    ) -> None:
        """A line may be missing: the card is a warning naming the record, and the
        first-line mTOR advice is conditional on the lines already given."""
        card = summary_card(client, record_with(name, **extra))
        assert card["indicator"] == "warning"
        assert "- the drug of some medication records: MedicationStatement/ms1" \
            in card["detail"]
        assert NOT_FULLY_KNOWN in mtor_item(card["detail"])

    def test_an_unknown_name_with_no_mark_keeps_the_plain_advice(
        self, client: TestClient
    ) -> None:
        """"Zortrex" alone, no profile, no reason: read as before (no line)."""
        card = summary_card(client, record_with("Zortrex 10 mg daily"))
        assert card["indicator"] == "info"
        assert "**Conditional:**" not in mtor_item(card["detail"])


class TestOrderSelect:
    @staticmethod
    def body(name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        bundle = example(PATIENT)
        pid = patient_id(bundle)
        draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
                 "intent": "order", "subject": {"reference": f"Patient/{pid}"},
                 "medicationCodeableConcept": {"text": name}, **(extra or {})}
        body = hook_request("order-select", pid, prefetch=prefetch_of(bundle))
        body["context"].update({
            "selections": ["MedicationRequest/d1"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": draft}]}})
        return body

    @pytest.mark.parametrize(("name", "extra"), [
        ("XY-4471 100 mg IV", None),
        ("Zortrex 100 mg IV", {"meta": {"profile": [MCODE_REQUEST]}}),
    ])
    def test_a_marked_unknown_draft_is_named_as_not_identified(
        self, client: TestClient, name: str, extra: dict[str, Any] | None
    ) -> None:
        """A draft of a drug pecoma cannot identify, marked as possibly anticancer, for a
        patient with no systemic line: if it is chemotherapy, the guideline puts an mTOR
        inhibitor first. Nothing is proposed, nothing deleted."""
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=self.body(name, extra))
        assert r.status_code == 200, r.text
        [card] = r.json()["cards"]
        assert card["summary"] == ("Draft order's drug not identified: if it is "
                                   "chemotherapy, the guideline puts an mTOR inhibitor first")
        assert "MedicationRequest/d1" in card["detail"].replace("\\", "")
        assert "suggestions" not in card

    def test_an_unknown_draft_with_no_mark_gets_no_card(self, client: TestClient) -> None:
        """As the record reads it: a name with no mark is no anticancer drug pecoma can
        tell (the EHR's own checks stand)."""
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=self.body("Zortrex 100 mg"))
        assert r.status_code == 200, r.text
        assert r.json()["cards"] == []


def test_the_unknown_rxnorm_code_and_a_marked_name_are_said_alike() -> None:
    """The reference point of the report: an RxNorm code pecoma does not know already
    put the lines in doubt; a marked name now does the same."""
    coded = {"coding": [{"system": RXNORM, "code": "99999999"}]}
    bundle = copy.deepcopy(example(PATIENT))
    pid = patient_id(bundle)
    ms = statement(pid, "x")
    ms["medicationCodeableConcept"] = coded
    bundle["entry"].append({"resource": ms})
    by_code = case_from_bundle(bundle, on=ON)
    by_name = read("XY-4471 10 mg daily")
    assert by_code.history_doubt == by_name.history_doubt is not None



class TestMtorKinaseInhibitorsAndOtherUnlistedDrugs:
    @pytest.mark.parametrize("name", [
        "Sapanisertib 3 mg PO daily", "TAK-228 3 mg", "TAK 228", "MLN0128 4 mg",
        "Vistusertib 50 mg", "AZD 2014 50 mg", "AZD2014", "Onatasertib 45 mg", "CC-223"])
    def test_an_mtor_kinase_inhibitor_is_never_read_as_no_line(self, name: str) -> None:
        """Sapanisertib (TAK-228, MLN0128), vistusertib (AZD2014) and onatasertib
        (CC-223) inhibit mTOR itself (mTORC1 and mTORC2), as the rapamycin derivatives
        inhibit mTORC1: a course of one is an mTOR-inhibitor line the case format has no
        agent for. Read as "no line", the first-line mTOR advice (S02, S12) had been
        given plainly, as to a patient never treated; sapanisertib was "nothing marks it
        as an anticancer drug", and a code written with a blank ("TAK 228") lost its
        digits. Now the record names an mTOR inhibitor pecoma cannot record: the lines
        already given are not fully known, said so."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert said.startswith("MedicationStatement/ms1: it names an mTOR inhibitor (")
        assert "that is none of the agents pecoma records" in said
        assert bc.history_doubt is not None

    def test_a_development_code_written_with_a_blank_is_marked_as_one(self) -> None:
        """"MK 2206 60 mg" (an AKT inhibitor under trial, written as trial pharmacies
        often do, letters, a blank, digits): read as "mk" and a number, it was no line
        and put nothing in doubt. It is an investigational product's code, which may be an
        anticancer drug: the lines already given are not fully known. A dose is no code:
        a single letter ("Vitamin D 1000 IU", "Q 12 H"), a number with its unit after it
        ("ADVIL 200 MG"), or a brand written in small letters beside its strength
        ("Advil 200") leaves the name unmarked, no line, nothing in doubt."""
        bc = read("MK 2206 60 mg")
        [said] = bc.unidentified_medications
        assert "'mk 2206' is written as an investigational product's code is" in said
        assert bc.history_doubt is not None
        for plain in ("Vitamin D 1000 IU", "VITAMIN D 1000", "Zortrex Q 12 H",
                      "ADVIL 200 MG", "Advil 200", "Zortrex 500 ml", "NDC 12345"):
            order = {"resourceType": "MedicationStatement",
                     "medicationCodeableConcept": {"text": plain}}
            assert unreadable_medication(order) is None, plain

    @pytest.mark.parametrize(("name", "agent"), [
        ("Lurbinectedin 3.2 mg/m2 IV", Agent.other_chemotherapy),
        ("Zepzelca 3.2 mg/m2", Agent.other_chemotherapy),
        ("Fludarabine 25 mg/m2", Agent.other_chemotherapy),
        ("Cytarabine 100 mg/m2", Agent.other_chemotherapy),
        ("Mitoxantrone 12 mg/m2", Agent.other_chemotherapy),
        ("Thiotepa 5 mg/kg", Agent.other_chemotherapy),
        ("Selinexor 80 mg", Agent.other),
    ])
    def test_a_cytotoxic_of_other_cancers_is_a_line(self, name: str, agent: Agent) -> None:
        """Lurbinectedin, fludarabine, cytarabine, mitoxantrone and thiotepa are
        conventional chemotherapy, selinexor another anticancer agent: each a line given
        (S13: mTOR inhibition before conventional chemotherapy), never "no line". They
        had been set aside as names pecoma does not identify, nothing marking them."""
        [line] = read(name).case.systemic.therapies
        assert line.agent is agent

    @pytest.mark.parametrize(("name", "stem"), [
        ("Ipatasertib 400 mg", "-sertib"), ("Nelarabine 1500 mg/m2", "-arabine"),
        ("Pixantrone 50 mg/m2", "-antrone"), ("Ecubectedin", "-ectedin"),
        ("Eltanexor 20 mg", "-nexor"), ("Zortepa 10 mg", "-tepa")])
    def test_a_name_ending_as_more_anticancer_drugs_do_is_marked(
        self, name: str, stem: str
    ) -> None:
        """The WHO's stems of serine/threonine kinase inhibitors (-sertib), arabinofuranosyl
        nucleosides (-arabine), anthraquinones (-antrone), thiotepa derivatives (-tepa),
        ecteinascidins (-ectedin) and nuclear export inhibitors (-nexor) name anticancer
        drugs: one pecoma does not list may be a line given."""
        [said] = read(name).unidentified_medications
        assert f"ends as the names of anticancer drugs do ({stem})" in said

    def test_vidarabine_an_antiviral_ending_as_cytarabine_does_is_no_line(self) -> None:
        """Vidarabine treats herpes simplex keratitis: no anticancer drug, though it ends
        as cytarabine and fludarabine do (-arabine). Identified: no line, nothing in doubt."""
        bc = read("Vidarabine 3% ophthalmic ointment")
        assert bc.case.systemic.therapies == ()
        assert bc.unidentified_medications == ()
        assert bc.history_doubt is None
        assert unidentified_names({"medicationCodeableConcept": {
            "text": "Vidarabine"}}) == ()

    @pytest.mark.parametrize(("name", "drug"), [
        ("Zepzelca", "lurbinectedin"), ("Fludara", "fludarabine"),
        ("Novantrone", "mitoxantrone"), ("Tepadina", "thiotepa"), ("Xpovio", "selinexor")])
    def test_a_brand_is_its_drug_for_the_allergy_check(self, name: str, drug: str) -> None:
        """An allergy to lurbinectedin rules out a Zepzelca order: the brand is the drug."""
        assert drugs_of({"medicationCodeableConcept": {"text": name}}) == {drug}

    def test_the_summary_card_lists_a_record_whose_drug_was_not_identified(
        self, client: TestClient
    ) -> None:
        """"Zortrex 10 mg daily": a name pecoma does not know, nothing marking it as an
        anticancer drug, read as no line. Only ``pecoma fhir to-case`` listed it; the card
        said nothing of it, so the team could not see that a line may rest on a name
        pecoma did not read. The card lists it now, by its words and its record, as it
        lists the Procedures not read; the plain advice stays (no mark, no doubt)."""
        card = summary_card(client, record_with("Zortrex 10 mg daily"))
        detail = card["detail"].replace("\\", "")
        assert "**Medication records whose drug pecoma did not identify**" in detail
        assert "- MedicationStatement: its name holds 'zortrex' (1: MedicationStatement/ms1)" \
            in detail
        assert card["indicator"] == "info"


class TestFoodOrExcipientBesideADrugUnderTrial:
    @pytest.mark.parametrize("name", [
        "Investigational drug, take with milk",
        "Blinded study drug (capsule contains gelatin and lactose)",
        "Investigational product in normal saline, contrast-free",
        "Investigational drug (take with food)",
        "Study medication, blinded; contains lactose",
        "Study drug with ondansetron premedication",
    ])
    def test_a_drug_under_trial_stays_not_identified_whatever_else_its_name_says(
        self, name: str
    ) -> None:
        """Milk, food, lactose, saline or contrast beside a study drug say how it is
        taken, packed or diluted, and a premedication is given with it: none of them is
        the drug under trial, which may be an mTOR inhibitor (a trial in a metastatic
        PEComa). The names of the food or excipient had made the record "not a systemic
        agent": no line, lines fully known, the first-line mTOR advice given plainly.
        Now the trial mark holds as it does without those words ("Investigational
        drug" alone): the lines already given are not fully known."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert "its name speaks of a drug under trial" in said
        assert bc.history_doubt is not None
        assert not any("not a systemic agent" in n for n in bc.not_read)

    @pytest.mark.parametrize("name", ["Zortrex 5 mg, take with food",
                                      "Zortrex 5 mg capsules (contain lactose)",
                                      "Zortrex 5 mg with milk"])
    def test_a_food_or_an_excipient_never_identifies_a_medication(self, name: str) -> None:
        """A food, an animal or a material identifies what an allergy is to, never what
        drug a medication is. "Zortrex ... with food" under mCODE's cancer-related
        profile had been read as the food (no line, nothing listed): the profile marks
        it possibly anticancer, as it does "Zortrex 5 mg" alone; without the profile its
        unknown word is listed as not read, never dropped as "not a systemic agent"."""
        marked = read(name, meta={"profile": [MCODE_STATEMENT]})
        [said] = marked.unidentified_medications
        assert "its profile is mCODE's cancer-related medication" in said
        assert marked.history_doubt is not None
        plain = read(name)
        assert plain.history_doubt is None  # nothing marks it: no line, as for "Zortrex"
        assert unidentified_names({"medicationCodeableConcept": {"text": name}})[0] \
            == "zortrex"

    def test_a_draft_order_of_a_drug_under_trial_with_food_is_not_identified(self) -> None:
        """One reading for a record and a draft order: the draft is not identified."""
        for kind in ("MedicationStatement", "MedicationRequest"):
            said = unreadable_medication({"resourceType": kind, "medicationCodeableConcept": {
                "text": "Investigational drug, take with milk"}})
            assert said is not None and "a drug under trial" in said

    @pytest.mark.parametrize("name", ["Milk", "Lactose", "Peanuts", "Iodinated contrast"])
    def test_an_allergy_to_a_food_or_contrast_is_still_no_anticancer_drug_allergy(
        self, name: str
    ) -> None:
        """The allergy reading is unchanged: an allergy to milk, lactose, peanuts or
        contrast is identified, and to no drug pecoma proposes (the mTOR inhibitors are
        not contraindicated by it)."""
        bundle = copy.deepcopy(example(PATIENT))
        bundle["entry"].append({"resource": {
            "resourceType": "AllergyIntolerance", "id": "a1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "patient": {"reference": f"Patient/{patient_id(bundle)}"},
            "code": {"text": name}}})
        assert case_from_bundle(bundle, on=ON).case.systemic.mtor_contraindication.value \
            == "no"

    def test_study_drug_alone_is_a_drug_under_trial(self) -> None:
        """"Study drug 100 mg": "drug" is a word that names no substance, so the words
        left were "study" alone and the trial words ("study drug") were never found: no
        line. The whole name is searched now: not identified, the lines not fully known."""
        bc = read("Study drug 100 mg")
        [said] = bc.unidentified_medications
        assert "its name speaks of a drug under trial ('study drug')" in said


class TestAKnownDrugNamedAsTheStudyDrug:
    @pytest.mark.parametrize("name", [
        "Ondansetron (study drug)",
        "study drug: ondansetron",
        "Investigational ondansetron 8 mg tablet",
        "Ondansetron 8 mg (blinded study medication)",
    ])
    def test_the_trial_words_name_that_drug(self, name: str) -> None:
        """The trial words qualify the one drug named, ondansetron (an antiemetic, no
        anticancer drug), and nothing else is named: the drug under trial is
        ondansetron. It had been read as not identified, possibly anticancer, the lines
        already given not fully known; it is ondansetron now, no line, nothing in doubt,
        in the record and on a draft order alike."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        assert bc.unidentified_medications == ()
        assert bc.history_doubt is None
        assert unreadable_medication({"resourceType": "MedicationRequest",
                                      "medicationCodeableConcept": {"text": name}}) is None

    @pytest.mark.parametrize("name", [
        "Study drug with ondansetron",
        "Ondansetron or placebo (study drug)",
        "Paracetamol and ondansetron (study drugs)",
        "Ondansetron (study drug XY-123)",
        "Tacrolimus (study drug)",
    ], ids=["given-with", "or-placebo", "two-drugs", "beside-a-code", "near-an-mtor-inhibitor"])
    def test_trial_words_beside_anything_else_still_win(self, name: str) -> None:
        """A word joining the drug to another ("with", "or", "and"), a placebo, a second
        drug, a development code: the drug under trial may be another one, perhaps an
        anticancer drug, so the record stays not identified and the lines already given
        are not fully known. A substance near an mTOR inhibitor (tacrolimus, a macrolide
        as sirolimus is) is never read as the drug under trial."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert "it may be an anticancer drug" in said
        assert bc.history_doubt is not None


class TestMtorKinaseInhibitorCodesWithABlank:
    @pytest.mark.parametrize("name", ["INK 128", "INK 128 4 mg", "CC 223",
                                      "CC 223 45 mg daily"])
    def test_ink_128_and_cc_223_are_mtor_inhibitors(self, name: str) -> None:
        """"INK 128" (sapanisertib) and "CC 223" (onatasertib), as trial pharmacies write
        the codes of these mTOR kinase inhibitors (NCI Thesaurus synonyms INK128, CC-223).
        The names pecoma reads took them out as read (a hyphen matches a blank there),
        while the mTOR-class test looked for "ink-128" or "cc-223" as written: neither an
        agent nor a word left to mark, read as "not a systemic agent", the lines fully
        known and the first-line mTOR advice given plainly. Now read as an mTOR inhibitor
        pecoma cannot record: the lines already given are not fully known."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert "it names an mTOR inhibitor (" in said
        assert bc.history_doubt is not None

    def test_the_blank_forms_are_whole_words_only(self) -> None:
        """"Pink 128" or "5 cc 2230" name no mTOR inhibitor: the codes are read as whole
        words, never inside another word or number."""
        for name in ("Pink 128 lip balm", "Zortrex 5 cc 2230"):
            assert not mtor_class_named({"text": name}), name

    def test_an_allergy_to_ink_128_rules_out_every_mtor_inhibitor(self) -> None:
        """An intolerance of one mTOR inhibitor rules out every mTOR inhibitor (I15): an
        allergy entry "INK 128" is one to sapanisertib."""
        bundle = copy.deepcopy(example(PATIENT))
        bundle["entry"].append({"resource": {
            "resourceType": "AllergyIntolerance", "id": "a1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "patient": {"reference": f"Patient/{patient_id(bundle)}"},
            "code": {"text": "INK 128"}}})
        assert case_from_bundle(bundle, on=ON).case.systemic.mtor_contraindication.value \
            == "yes"


class TestMoreAnticancerDrugsByName:
    @pytest.mark.parametrize(("name", "agent", "drug"), [
        ("Chlorambucil 10 mg", Agent.other_chemotherapy, "chlorambucil"),
        ("Leukeran 2 mg", Agent.other_chemotherapy, "chlorambucil"),
        ("Busulfan 2 mg", Agent.other_chemotherapy, "busulfan"),
        ("Busulfex 0.8 mg/kg IV", Agent.other_chemotherapy, "busulfan"),
        ("Ixabepilone 40 mg/m2", Agent.other_chemotherapy, "ixabepilone"),
        ("Ixempra 40 mg/m2", Agent.other_chemotherapy, "ixabepilone"),
        ("Temodal 150 mg", Agent.other_chemotherapy, "temozolomide"),
    ])
    def test_a_cytotoxic_or_immunotherapy_of_other_cancers_is_a_line(
        self, name: str, agent: Agent, drug: str
    ) -> None:
        """Chlorambucil, busulfan and ixabepilone are conventional chemotherapy (ATC L01)
        and Temodal is temozolomide (its EU brand): each a line given (S13: mTOR
        inhibition before conventional chemotherapy), never "nothing marks it as an
        anticancer drug", and each its own drug for the allergy check (an allergy to
        temozolomide rules out a Temodal order). Cladribine, hydroxyurea and interferon
        alfa-2b, given for diseases that are no cancer too, are a line when the record
        says they were given for a cancer (tests/test_medication_other_uses.py)."""
        [line] = read(name).case.systemic.therapies
        assert line.agent is agent
        assert drugs_of({"medicationCodeableConcept": {"text": name}}) == {drug}


class TestABlindedArmBesideAnAgent:
    @pytest.mark.parametrize("name", [
        "Sirolimus or placebo (blinded)",
        "sirolimus/placebo",
        "Sirolimus + placebo",
        "Everolimus vs placebo",
        "Doxorubicin (double-blind)",
    ])
    def test_whether_the_agent_was_given_is_unknown(self, name: str) -> None:
        """A blinded trial arm: the patient received the drug or a placebo, so whether
        an mTOR inhibitor (or the anthracycline) was given is unknown. It had been read
        as a line of the drug: after "progression on sirolimus" that may have been
        progression on placebo, the guideline's treatment of choice (S12) was withdrawn
        for the guideline's silence. Now it is listed as not identified, no line is read
        from it and the lines already given are not fully known (the drug advice
        conditional), as for trial words naming no drug; never read as nothing."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert "speaks of a placebo or a blinded trial arm" in said
        assert "was given or a placebo is not known" in said
        assert bc.history_doubt is not None
        assert any("MedicationStatement/ms1" in n and "no line is read from it" in n
                   for n in bc.notes), bc.notes

    @pytest.mark.parametrize(("name", "agent"), [
        ("Sirolimus 2 mg daily", Agent.sirolimus),
        ("Everolimus 10 mg tablet", Agent.everolimus),
    ])
    def test_a_plain_line_stays_a_line(self, name: str, agent: Agent) -> None:
        """Neighbour: the drug named alone is the line, nothing in doubt."""
        bc = read(name)
        assert [t.agent for t in bc.case.systemic.therapies] == [agent]
        assert bc.unidentified_medications == ()

    def test_a_placebo_alone_is_no_line_and_no_doubt(self) -> None:
        """Neighbour: a placebo naming no drug gives no line and leaves the lines known."""
        bc = read("Placebo tablet")
        assert bc.case.systemic.therapies == ()
        assert bc.history_doubt is None
