"""An allergy or adverse drug reaction kept on the problem list, as a Condition.

Many EHRs record adverse drug reactions as problem-list Conditions. An EHR integrator sent
a Condition "Allergy to sirolimus" (SNOMED CT 294630006), "Drug-induced pneumonitis due
to sirolimus" (text), or ICD-10-CM T45.1X5A (adverse effect of antineoplastic and
immunosuppressive drugs) with the text "Sirolimus pneumonitis". ``pecoma fhir to-case``
set each aside as "not the PEComa nor a metastasis of it"; a doxorubicin draft got
"Replace with an mTOR inhibitor (sirolimus) draft", and a sirolimus draft no card.

The rule (docs/fhir.md, docs/cds-hooks.md): a Condition whose words say an allergy or an
adverse reaction, or coded as the adverse effect of a drug (ICD-10 T36-T50, sixth
character 5), and that names a drug pecoma knows, is read as an allergy entry naming
that drug, with a note saying where it came from: never recommend a drug with a recorded
intolerance (I15, S13-S14). T45.1X5 naming no drug (the group holding the mTOR
inhibitors) is a drug intolerance not identified: unknown is not absent, nothing is
proposed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allergy_support import (
    DOXORUBICIN,
    PATIENT,
    SIROLIMUS,
    SNOMED,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
    to_case,
)

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("problem-list"))


def condition(code: dict[str, Any], verification: str = "confirmed") -> dict[str, Any]:
    """An active problem-list Condition of the patient."""
    return {
        "resourceType": "Condition", "id": "c9", "subject": {"reference": f"Patient/{PATIENT}"},
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": verification}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "problem-list-item"}]}],
        "code": code, "onsetDateTime": "2025-04-01"}


SIROLIMUS_REACTIONS = [
    pytest.param(condition({"coding": [{"system": SNOMED, "code": "294630006",
                                        "display": "Allergy to sirolimus"}]}),
                 id="snomed-allergy-to-sirolimus"),
    pytest.param(condition({"text": "Drug-induced pneumonitis due to sirolimus"}),
                 id="text-drug-induced-pneumonitis"),
    pytest.param(condition({"coding": [{"system": ICD10CM, "code": "T45.1X5A"}],
                            "text": "Sirolimus pneumonitis"}), id="icd10cm-adverse-effect"),
]

#: T45.1X5A alone: an adverse effect of an antineoplastic or immunosuppressive drug, which
#: one not said (an mTOR inhibitor among them).
ADVERSE_EFFECT_UNNAMED = condition({"coding": [{
    "system": ICD10CM, "code": "T45.1X5A",
    "display": "Adverse effect of antineoplastic and immunosuppressive drugs, initial "
               "encounter"}]})


class TestToCase:
    @pytest.mark.parametrize("problem", SIROLIMUS_REACTIONS)
    def test_the_condition_is_an_intolerance_of_sirolimus(self, tmp_path: Path,
                                                          problem: dict[str, Any]) -> None:
        found = to_case(tmp_path, record(problem))
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "sirolimus"}]
        assert found["case"]["systemic"].get("mtor_inhibitor_contraindicated") != "no"
        assert any(n.startswith("Condition/c9: a problem-list entry naming an allergy or "
                                "adverse reaction to a drug") for n in found["notes"])
        assert not any("Condition/c9" in x for x in found["not_read"])

    def test_an_adverse_effect_naming_no_drug_keeps_the_contraindication_unknown(
            self, tmp_path: Path) -> None:
        """The drug is not named: the contraindication stays unknown, and the entry is an
        intolerance of 'other' (which drug it is, asked: it may be an mTOR inhibitor or an
        anthracycline, I15)."""
        found = to_case(tmp_path, record(ADVERSE_EFFECT_UNNAMED))
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "other"}]

    @pytest.mark.parametrize("problem", [
        pytest.param(condition({"text": "Kidney transplant, maintained on sirolimus"}),
                     id="a-drug-in-use-no-reaction"),
        pytest.param(condition({"coding": [{"system": SNOMED, "code": "294630006",
                                            "display": "Allergy to sirolimus"}]},
                               verification="refuted"), id="refuted"),
    ])
    def test_a_condition_saying_no_reaction_changes_nothing(
            self, tmp_path: Path, problem: dict[str, Any]) -> None:
        """The reference point: a Condition naming a drug but no reaction, or a refuted
        one, is not an intolerance: 'not contraindicated' stands."""
        found = to_case(tmp_path, record(problem))
        assert found["case"]["systemic"]["mtor_inhibitor_contraindicated"] == "no"
        assert "intolerances" not in found["case"]["systemic"]


class TestCdsServices:
    @pytest.mark.parametrize("problem", SIROLIMUS_REACTIONS)
    def test_no_sirolimus_proposed_and_its_draft_is_critical(
            self, client: TestClient, problem: dict[str, Any]) -> None:
        assert not proposed(order_select(client, record(problem), DOXORUBICIN))
        assert critical(order_select(client, record(problem), SIROLIMUS)) == [
            "Draft order of sirolimus: the record lists an allergy or intolerance to "
            "sirolimus"]

    @pytest.mark.parametrize("problem", SIROLIMUS_REACTIONS[:1])
    def test_patient_view_gives_no_mtor_advice(self, client: TestClient,
                                               problem: dict[str, Any]) -> None:
        said = details(patient_view(client, record(problem)))
        assert "mTOR inhibitors are unavailable or contraindicated" in said
        assert "Condition/c9: a problem-list entry naming an allergy" in said

    def test_an_adverse_effect_naming_no_drug_withholds_the_proposal(
            self, client: TestClient) -> None:
        """The sirolimus draft could not be checked against it, and nothing is proposed
        beside a doxorubicin draft."""
        chemo = order_select(client, record(ADVERSE_EFFECT_UNNAMED), DOXORUBICIN)
        assert not proposed(chemo)
        assert "could not be matched to a drug" in details(chemo)
        siro = order_select(client, record(ADVERSE_EFFECT_UNNAMED), SIROLIMUS)
        assert [c["indicator"] for c in siro] == ["warning"]
        assert "Condition/c9" in details(siro)

    def test_a_drug_in_use_with_no_reaction_leaves_the_proposal(
            self, client: TestClient) -> None:
        problem = condition({"text": "Kidney transplant, maintained on sirolimus"})
        assert proposed(order_select(client, record(problem), DOXORUBICIN))
