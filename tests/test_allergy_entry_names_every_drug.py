"""An allergy entry naming two drugs rules out both.

An EHR integrator recorded one AllergyIntolerance naming two mTOR inhibitors: coded RxNorm
35302 **sirolimus** with the text "Everolimus"; the text "Everolimus; sirolimus"; or two
codings, RxNorm 141704 everolimus and 35302 sirolimus. Each was read as everolimus only
(one agent per entry, the first in the list of names), so:

* with an earlier sirolimus line, sirolimus was called "the latest mTOR-inhibitor line,
  tolerated" (I15) and a sirolimus draft got no card at all;
* with the entry's extension ``intolerance-class-wide`` ``no`` and no line, a doxorubicin
  draft got the suggestion "Replace with an mTOR inhibitor (sirolimus) draft".

The entry records an intolerance of both drugs (docs/fhir.md: an entry is read for
everything it names, one row of ``systemic.intolerances`` per drug). Never recommend a
drug with a recorded intolerance (I15, S13-S14): sirolimus is ruled out, a sirolimus draft
gets the critical card (ALERT-DRUG-INTOLERANCE) and no sirolimus draft is proposed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir import codes
from pecoma.fhir.allergies import read_allergy
from pecoma.fhir.medications import agents_named

from allergy_support import (
    DOXORUBICIN,
    EVEROLIMUS,
    PATIENT,
    RXNORM,
    SIROLIMUS,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
    to_case,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("two-drugs"))


TWO_DRUGS = [
    pytest.param({**SIROLIMUS, "text": "Everolimus"}, id="sirolimus-coded-everolimus-text"),
    pytest.param({"text": "Everolimus; sirolimus"}, id="text-naming-both"),
    pytest.param({"coding": [*EVEROLIMUS["coding"], *SIROLIMUS["coding"]]},
                 id="two-codings"),
]

#: A sirolimus line given before (stopped 2025-06-01): with the entry read as everolimus
#: only, it showed "another mTOR inhibitor tolerated".
SIROLIMUS_LINE = {
    "resourceType": "MedicationStatement", "id": "s1", "status": "stopped",
    "subject": {"reference": f"Patient/{PATIENT}"}, "medicationCodeableConcept": SIROLIMUS,
    "effectivePeriod": {"start": "2025-03-01", "end": "2025-06-01"}}

CLASS_WIDE_NO = {"url": codes.EXT.INTOLERANCE_CLASS_WIDE, "valueCode": "no"}


class TestTheReading:
    @pytest.mark.parametrize("code", TWO_DRUGS)
    def test_the_entry_names_both(self, code: dict[str, Any]) -> None:
        assert {a.value for a in read_allergy(allergy(code=code)).agents} == {
            "everolimus", "sirolimus"}

    @pytest.mark.parametrize(("text", "named"), [
        ("Temsirolimus", {"temsirolimus"}),  # "sirolimus" inside its name: not sirolimus
        ("Nab-sirolimus", {"nab_sirolimus"}),
        ("Doxorubicin/ifosfamide", {"doxorubicin_ifosfamide"}),  # one regimen
        ("Pazopanib; everolimus", {"pazopanib", "everolimus"}),
    ])
    def test_a_name_inside_a_longer_one_is_the_longer_one(self, text: str,
                                                          named: set[str]) -> None:
        assert {a.value for a in agents_named({"text": text})} == named


class TestToCase:
    @pytest.mark.parametrize("code", TWO_DRUGS)
    def test_one_row_per_drug_and_no_drug_called_tolerated(
            self, tmp_path: Path, code: dict[str, Any]) -> None:
        """Both drugs are rows of the intolerances; no note says the sirolimus line shows
        the class tolerated, and the engine, given the case, recommends no mTOR
        inhibitor first line."""
        found = to_case(tmp_path, record(allergy(code=code), SIROLIMUS_LINE))
        assert found["case"]["systemic"]["intolerances"] == [
            {"agent": "everolimus"}, {"agent": "sirolimus"}]
        notes = " ".join(found["notes"])
        assert "shows another one tolerated" not in notes
        assert "everolimus only" not in notes
        assert "AllergyIntolerance/a1: intolerance of sirolimus read" in notes


class TestCdsServices:
    @pytest.mark.parametrize("code", TWO_DRUGS)
    def test_a_sirolimus_draft_gets_the_critical_card(self, client: TestClient,
                                                      code: dict[str, Any]) -> None:
        cards = order_select(client, record(allergy(code=code), SIROLIMUS_LINE), SIROLIMUS)
        assert critical(cards) == ["Draft order of sirolimus: the record lists an allergy or "
                                   "intolerance to sirolimus"]

    @pytest.mark.parametrize("code", TWO_DRUGS)
    def test_patient_view_calls_no_drug_tolerated(self, client: TestClient,
                                                  code: dict[str, Any]) -> None:
        """The sirolimus line does not show the class tolerated: no card says only
        everolimus is ruled out, and no mTOR inhibitor is the advice."""
        cards = patient_view(client, record(allergy(code=code), SIROLIMUS_LINE))
        said = details(cards)
        assert "Ruled out by the allergy list" not in said
        assert "the latest mTOR-inhibitor line, shows the class tolerated" not in said
        assert "mTOR inhibitors are unavailable or contraindicated" in said

    @pytest.mark.parametrize("code", TWO_DRUGS)
    def test_each_recorded_as_of_that_drug_alone_still_rules_both_out(
            self, client: TestClient, code: dict[str, Any]) -> None:
        """The entry says the intolerance is of these drugs alone ('no'), and no line was
        given: a doxorubicin draft gets the first-line warning, but sirolimus, named by
        the entry, is not proposed; a sirolimus draft is critical."""
        entry = allergy(code=code, extension=[CLASS_WIDE_NO])
        cards = order_select(client, record(entry), DOXORUBICIN)
        assert [c["indicator"] for c in cards] == ["warning"]
        assert not proposed(cards)
        assert "No mTOR-inhibitor order is proposed" in details(cards)
        assert critical(order_select(client, record(entry), SIROLIMUS))

    def test_one_drug_recorded_alone_leaves_the_other_proposed(
            self, client: TestClient) -> None:
        """The reference point: an entry naming everolimus alone, recorded as of that
        drug alone, leaves the sirolimus draft proposed (docs/cds-hooks.md)."""
        entry = allergy(code=EVEROLIMUS, extension=[CLASS_WIDE_NO])
        assert proposed(order_select(client, record(entry), DOXORUBICIN))
        assert not critical(order_select(client, record(entry), SIROLIMUS))

    def test_a_drug_beside_another_agent_is_checked_too(self, client: TestClient) -> None:
        """Not only the mTOR inhibitors: "Everolimus; pazopanib" rules out a pazopanib
        draft (the entry had been read as everolimus only)."""
        entry = allergy(code={"text": "Everolimus; pazopanib"})
        pazopanib = {"coding": [{"system": RXNORM, "code": "714438", "display": "pazopanib"}]}
        cards = order_select(client, record(entry), pazopanib)
        assert critical(cards) == ["Draft order of pazopanib: the record lists an allergy or "
                                   "intolerance to pazopanib"]
