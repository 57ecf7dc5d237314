"""A drug that is anticancer in some uses only, recorded with nothing saying it was given
for a cancer.

Cladribine is given for multiple sclerosis (Mavenclad tablets) as well as hairy-cell
leukaemia; hydroxyurea for sickle cell disease (Droxia, Siklos) as well as chronic
myeloid leukaemia; interferon alfa-2b (Intron A) and the peginterferons (Pegasys,
PegIntron) for chronic hepatitis B and C as well as melanoma. A FHIR record of one
naming no reason was read as a line of conventional chemotherapy or of another agent
given for the PEComa: for a patient with metastatic PEComa and no systemic line, the
first line was then "other than an mTOR inhibitor" (ALERT-CHEMO-BEFORE-MTOR) and the
line history held a course given for sickle cell disease. "Peginterferon alfa-2b" was
read as interferon alfa-2b by the name it holds.

Now such a record is neither a line nor nothing: what it was given for is asked, the
lines already given are not fully known, and the advice naming a drug is conditional on
it. A reason naming a cancer, a word of one in its name, an mCODE cancer-related profile
or the project's agent code makes it a line, as before; a reason naming a disease that
is no cancer makes it none. A line typed into a case (JSON, the web form) is the
clinician's own record of a line of this cancer, and stays one.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, mTOR inhibitors
recorded available and not contraindicated, and no systemic line.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.engine import assess
from pecoma.engine.schedule import plan_surveillance
from pecoma.fhir import codes as c
from pecoma.fhir.careplan import careplan_bundle
from pecoma.fhir.medications import agent_of, drugs_of, other_uses
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig
from pecoma.web.smart.record import Record, unread_stays_unknown

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
MCODE_STATEMENT = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                   "mcode-cancer-related-medication-statement")
FOR_THE_PECOMA = {"reasonReference": [{"reference": "Condition/pecoma-diagnosis"}]}


def record_with(name: str, **extra: Any) -> dict[str, Any]:
    """The example record with a course named ``name`` completed in 2025."""
    bundle = copy.deepcopy(example(PATIENT))
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
        "subject": {"reference": f"Patient/{patient_id(bundle)}"},
        "medicationCodeableConcept": {"text": name},
        "effectivePeriod": {"start": "2025-03-01", "end": "2025-08-01"}, **extra}})
    return bundle


def read(name: str, **extra: Any) -> BundleCase:
    return case_from_bundle(record_with(name, **extra), on=ON)


def alerts(bc: BundleCase) -> list[str]:
    return [x.id for x in assess(bc.case, ON).alerts]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('uses') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


class TestReadFromARecord:
    @pytest.mark.parametrize(("name", "disease"), [
        ("Hydroxyurea 500 mg capsules", "sickle cell disease"),
        ("Hydroxycarbamide 1000 mg daily", "sickle cell disease"),
        ("Cladribine 10 mg tablets", "multiple sclerosis"),
        ("Interferon alfa-2b 3 MIU three times weekly", "chronic hepatitis B and C"),
        ("Peginterferon alfa-2a 180 mcg weekly", "chronic hepatitis B and C"),
        ("Peginterferon alfa-2b 1.5 mcg/kg weekly", "chronic hepatitis B and C"),
    ])
    def test_neither_a_line_nor_nothing(self, name: str, disease: str) -> None:
        """No reason, no profile, no word of a cancer: the course may have been given for
        the other disease. It is no line (no first line 'other than an mTOR inhibitor'
        is alerted on), and it is not dropped: what it was given for is asked, naming
        the other disease, and the lines already given are not fully known."""
        bc = read(name)
        assert bc.case.systemic.therapies == ()
        assert "ALERT-CHEMO-BEFORE-MTOR" not in alerts(bc)
        [asked] = bc.purposes_unknown
        assert asked.startswith("MedicationStatement/ms1 (")
        assert "what was it given for, the PEComa or another disease?" in asked
        assert disease in asked
        assert bc.history_doubt is not None and disease in bc.history_doubt
        # the drug is identified: not a record whose drug pecoma cannot identify
        assert bc.unidentified_medications == ()
        assert any(n.startswith("MedicationStatement/ms1:") and "not read as a line of "
                   "PEComa treatment" in n for n in bc.notes)

    def test_peginterferon_is_no_longer_read_as_interferon_alfa_2b_alone(self) -> None:
        """'Peginterferon alfa-2a' named no drug pecoma knew, and 'peginterferon alfa-2b'
        was interferon alfa-2b by the words it holds; the peginterferons are their own
        drug now (the alfa-2b one is interferon alfa-2b too, for the allergy check)."""
        assert drugs_of({"medicationCodeableConcept": {"text": "Pegasys (peginterferon "
                                                               "alfa-2a)"}}) == {"peginterferon"}
        assert drugs_of({"medicationCodeableConcept": {"text": "Peginterferon alfa-2b"}}) \
            == {"peginterferon", "interferon alfa-2b"}

    @pytest.mark.parametrize(("name", "extra"), [
        ("Hydroxyurea 500 mg", FOR_THE_PECOMA),
        ("Hydroxyurea 500 mg", {"reasonCode": [{"text": "Malignant PEComa, lung "
                                                        "metastases"}]}),
        ("Cladribine 0.14 mg/kg", {"reasonCode": [{"coding": [{"system": ICD10CM,
                                                               "code": "C49.9"}]}]}),
        ("Interferon alfa-2b 3 MIU", {"meta": {"profile": [MCODE_STATEMENT]}}),
        ("Hydroxyurea (chemotherapy)", {}),
    ], ids=["reason-the-pecoma", "reason-words", "reason-icd10-neoplasm", "mcode-profile",
            "words-of-chemotherapy"])
    def test_given_for_a_cancer_it_is_a_line(self, name: str,
                                             extra: dict[str, Any]) -> None:
        """Something says it was given for a cancer: a line given, as before (a first
        line other than an mTOR inhibitor while one was possible is alerted on)."""
        bc = read(name, **extra)
        [line] = bc.case.systemic.therapies
        assert line.agent in (Agent.other_chemotherapy, Agent.other)
        assert bc.purposes_unknown == ()
        assert bc.history_doubt is None
        assert "ALERT-CHEMO-BEFORE-MTOR" in alerts(bc)

    @pytest.mark.parametrize(("name", "agent", "drug"), [
        ("Cladribine 0.14 mg/kg", Agent.other_chemotherapy, "cladribine"),
        ("Hydroxyurea 500 mg", Agent.other_chemotherapy, "hydroxyurea"),
        ("Hydroxycarbamide 500 mg", Agent.other_chemotherapy, "hydroxyurea"),
        ("Interferon alfa-2b 3 MIU", Agent.other, "interferon alfa-2b"),
        ("Interferon alpha 2b", Agent.other, "interferon alfa-2b"),
        ("Peginterferon alfa-2a 180 mcg", Agent.other, "peginterferon"),
    ])
    def test_for_the_pecoma_each_is_its_agent_and_its_own_drug(
        self, name: str, agent: Agent, drug: str
    ) -> None:
        """Given for the PEComa (its reason), each is a line of its agent, and each its
        own drug for the allergy check (an allergy to hydroxyurea rules out a
        hydroxycarbamide order)."""
        [line] = read(name, **FOR_THE_PECOMA).case.systemic.therapies
        assert line.agent is agent
        assert drug in drugs_of({"medicationCodeableConcept": {"text": name}})

    def test_given_for_a_disease_that_is_no_cancer_it_is_no_line(self) -> None:
        """Hydroxyurea given for sickle-cell disease (ICD-10-CM D57.1): no line of any
        cancer's, and nothing to ask."""
        bc = read("Hydroxyurea 500 mg", reasonCode=[{"coding": [{
            "system": ICD10CM, "code": "D57.1", "display": "Sickle-cell disease without "
                                                          "crisis"}]}])
        assert bc.case.systemic.therapies == ()
        assert bc.purposes_unknown == ()
        assert bc.history_doubt is None

    def test_beside_a_drug_that_is_anticancer_only_it_is_a_line(self) -> None:
        """Cytarabine with hydroxyurea: cytarabine is given for cancer only, so the
        course is a line of chemotherapy."""
        bc = read("Cytarabine and hydroxyurea")
        [line] = bc.case.systemic.therapies
        assert line.agent is Agent.other_chemotherapy
        assert bc.purposes_unknown == ()

    def test_an_mtor_inhibitor_named_beside_it_is_never_hidden(self) -> None:
        """Sirolimus beside hydroxyurea: not a course of hydroxyurea alone (the rule
        reads only drugs given for other diseases too), so it stays a record whose line
        pecoma cannot tell, never a course whose purpose alone is asked."""
        med = {"resourceType": "MedicationStatement",
               "medicationCodeableConcept": {"text": "Sirolimus; hydroxyurea"}}
        assert agent_of(med) is Agent.sirolimus
        assert other_uses(med) is None

    def test_the_projects_own_code_is_a_line_recorded(self) -> None:
        """A record carrying the project's agent code records a line of the case's
        agents (the FHIR writer writes every line of a case so): read as one, whatever
        its text names."""
        med = {"resourceType": "MedicationStatement", "medicationCodeableConcept": {
            "coding": [{"system": c.PECOMA_SYSTEM, "code": "agent-other-chemotherapy"}],
            "text": "hydroxyurea"}}
        assert other_uses(med) is None


class TestACaseTypedByHand:
    def test_a_line_typed_into_a_case_stays_a_line(self) -> None:
        """The case format records lines by agent: a line of 'other chemotherapy' typed
        by the clinician is a line of this cancer, whatever drug it was. Written to FHIR
        and read back, it is the same line, and the first-line alert stands."""
        bc = read("Hydroxyurea 500 mg", **FOR_THE_PECOMA)
        written = bundle_from_case(bc.case)
        again = case_from_bundle(written, on=ON)
        [line] = again.case.systemic.therapies
        assert line.agent is Agent.other_chemotherapy
        assert again.purposes_unknown == ()
        assert "ALERT-CHEMO-BEFORE-MTOR" in alerts(again)


class TestCdsServices:
    def test_the_summary_card_is_conditional_and_names_the_question(
        self, client: TestClient
    ) -> None:
        """The patient-view card: no first-line alert, the advice naming a drug
        conditional on the lines already given, and the record named with its question
        among the parts of the record that could not be read."""
        bundle = record_with("Hydroxyurea 500 mg capsules")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        detail = " ".join(card["detail"] for card in r.json()["cards"]).replace("\\", "")
        assert "ALERT-CHEMO-BEFORE-MTOR" not in detail
        assert ("the lines of systemic therapy already given are not fully known (what "
                "medications of drugs given for diseases that are no cancer too were given "
                "for is unknown: MedicationStatement/ms1 (hydroxyurea)") in detail
        assert ("- what some medications of drugs given for diseases that are no cancer "
                "too were given for: MedicationStatement/ms1 (hydroxyurea): what was it "
                "given for, the PEComa or another disease?") in detail

    def test_the_careplan_says_the_same(self) -> None:
        """The CarePlan written from the record names the record and its question, and
        makes the advice naming a drug conditional, as the card does."""
        bc = read("Hydroxyurea 500 mg capsules")
        a = assess(bc.case, ON)
        written = careplan_bundle(bc.case, a, plan_surveillance(bc.case, a, ON),
                                  patient_id=bc.patient_id, reading=bc)
        careplan = written["entry"][0]["resource"]
        [note] = [n["text"] for n in careplan["note"]
                  if n["text"].startswith("Not known from the record")]
        assert "advice naming a drug is conditional" in note
        assert ("what some medications of drugs given for diseases that are no cancer too "
                "were given for: MedicationStatement/ms1 (hydroxyurea)") in note

    @staticmethod
    def draft(name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
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

    def test_a_draft_giving_no_reason_is_asked_about_never_replaced(
        self, client: TestClient
    ) -> None:
        """A hydroxyurea draft with no reason may be for sickle cell disease: the card
        asks what it is for, naming that use, holds only if it is for the PEComa, and
        proposes nothing in its place (it had offered to delete it for sirolimus)."""
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=self.draft("Hydroxyurea 500 mg capsules"))
        assert r.status_code == 200, r.text
        [card] = [x for x in r.json()["cards"] if "ALERT-CHEMO" in str(x)
                  or "first" in x["summary"]]
        detail = card["detail"].replace("\\", "")
        assert "**What is it for?**" in detail
        assert "sickle cell disease" in detail
        assert "nothing is proposed in its place" in detail
        assert "suggestions" not in card

    def test_a_draft_for_the_pecoma_is_replaced_as_before(self, client: TestClient) -> None:
        """Its reason names the PEComa: the first line departs from the guideline's, and
        the mTOR-inhibitor draft is offered in its place."""
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=self.draft("Hydroxyurea 500 mg capsules", FOR_THE_PECOMA))
        assert r.status_code == 200, r.text
        [card] = [x for x in r.json()["cards"] if x.get("suggestions")]
        assert "**What is it for?**" not in card["detail"]


def test_the_smart_form_asks_the_lines_to_be_entered() -> None:
    """The SMART form holds only the lines read: it warns that the hydroxyurea course,
    named with its question, is to be entered as a line if it was given for the
    PEComa (a line not entered is taken as not given)."""
    bundle = record_with("Hydroxyurea 500 mg capsules")
    bc = case_from_bundle(bundle, on=ON)
    _form, _paths, notes = unread_stays_unknown(
        bc.case, Record(bundle, ()), bc.unidentified_medications, bc.courses_in_doubt,
        bc.purposes_unknown)
    [said] = [n for n in notes if "hydroxyurea" in n]
    assert said.startswith("1 medication record(s) of a drug given for diseases that are "
                           "no cancer too leave a question (MedicationStatement/ms1 "
                           "(hydroxyurea): what was it given for")
    assert "enter it as a line of systemic treatment" in said
