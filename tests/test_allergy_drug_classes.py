"""Allergy entries naming a class of anticancer drugs, in words or by an ATC group.

The record (``allergy_support``): metastatic kidney PEComa, no systemic line given, mTOR
inhibitors recorded available and not contraindicated. Expected outcomes, each written
by hand from the rule that a class covers every drug it holds (never recommend what a
recorded intolerance rules out; unknown is not absent):

1. "Antineoplastic agents" (text, or Epic's drug-class allergen "ANTINEOPLASTIC AGENTS")
   and ATC L01 (ANTINEOPLASTIC AGENTS, the WHO ATC/DDD Index) hold every anticancer drug
   pecoma may propose: sirolimus, everolimus, temsirolimus, nab-sirolimus and
   doxorubicin drafts each get the critical card naming the class; patient-view proposes
   nothing; ``to-case`` reads every mTOR inhibitor contraindicated and doxorubicin,
   ifosfamide and epirubicin not tolerated. (It had been read as one unknown drug that
   is no mTOR inhibitor: mTOR drafts passed, doxorubicin got "Replace with sirolimus".)
2. ATC groups are read by their hierarchy: L01D (cytotoxic antibiotics) and L01DB
   (anthracyclines and related substances) hold doxorubicin L01DB01, so a doxorubicin
   draft gets the critical card; L01E and L01EG hold everolimus L01EG02 and
   temsirolimus L01EG01, so an everolimus draft gets it, and a doxorubicin draft is
   checked (L01E holds no anthracycline).
3. Codes retired in the 2021 ATC change (protein kinase inhibitors moved from L01XE to
   L01E): L01XE10 is everolimus, L01XE09 temsirolimus (now L01EG02, L01EG01): an
   everolimus draft gets the critical card. A group pecoma cannot resolve in full
   (L01X, which holds the platinum compounds, the old L01XE and many more) rules out
   the drugs pecoma knows in it and leaves the rest "could not be checked"; an L01 code
   pecoma does not list is a drug not identified, never "no mTOR inhibitor".
4. The alkylating agents (ATC L01A) do not hold the platinum compounds (ATC L01XA): a
   cisplatin draft beside "Alkylating agents" could not be checked (whether the entry
   means them is asked), never the critical card; a cyclophosphamide draft's card says
   the class it comes from.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.allergies import read_allergy
from pecoma.fhir.medications import ATC
from pecoma.fhir.reader import case_from_bundle

from allergy_support import (
    DOXORUBICIN,
    EVEROLIMUS,
    ON,
    RXNORM,
    SIROLIMUS,
    allergy,
    critical,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
)

TEMSIROLIMUS = {"coding": [{"system": RXNORM, "code": "657797", "display": "temsirolimus"}]}
FYARRO = {"coding": [{"system": RXNORM, "code": "2586864", "display": "Fyarro"}]}
CISPLATIN = {"coding": [{"system": RXNORM, "code": "2555", "display": "cisplatin"}]}
CYCLOPHOSPHAMIDE = {"text": "Cyclophosphamide 500 mg/m2"}
EPIC_CLASS = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"


def atc(code: str) -> dict[str, Any]:
    return allergy(code={"coding": [{"system": ATC, "code": code}]})


ANTINEOPLASTIC = [
    pytest.param(allergy(code={"text": "Antineoplastic agents"}), id="text"),
    pytest.param(allergy(code={"coding": [{"system": EPIC_CLASS, "code": "25",
                                           "display": "ANTINEOPLASTIC AGENTS"}],
                               "text": "Antineoplastic Agents"}), id="epic-class"),
    pytest.param(allergy(code={"coding": [{"system": ATC, "code": "L01",
                                           "display": "ANTINEOPLASTIC AGENTS"}]}),
                 id="atc-L01"),
    pytest.param(atc("L01"), id="atc-L01-no-display"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("drug-classes"))


def could_not_check(cards: list[dict[str, Any]]) -> list[str]:
    return [c["summary"] for c in cards if "could not be checked" in c["summary"]]


class TestAntineoplasticAgents:
    @pytest.mark.parametrize("entry", ANTINEOPLASTIC)
    @pytest.mark.parametrize("drug", [SIROLIMUS, EVEROLIMUS, TEMSIROLIMUS, FYARRO,
                                      DOXORUBICIN])
    def test_every_drug_pecoma_may_propose_is_ruled_out(
            self, client: TestClient, entry: dict[str, Any], drug: dict[str, Any]) -> None:
        """Each mTOR inhibitor and doxorubicin is an antineoplastic agent: the critical
        card, naming the class it comes from; no replacement proposed."""
        cards = order_select(client, record(entry), drug)
        [summary] = critical(cards)
        assert "antineoplastic agents (a class holding" in summary
        assert not proposed(cards)

    @pytest.mark.parametrize("entry", ANTINEOPLASTIC)
    def test_patient_view_proposes_nothing(self, client: TestClient,
                                           entry: dict[str, Any]) -> None:
        """No mTOR inhibitor, nab-sirolimus or doxorubicin proposed as if clear."""
        cards = patient_view(client, record(entry))
        assert not proposed(cards)
        assert not [c for c in cards
                    if c["summary"].startswith("An mTOR inhibitor is the first-line")
                    and "allerg" not in c["detail"].lower()]

    @pytest.mark.parametrize("entry", ANTINEOPLASTIC)
    def test_the_reader_rules_out_every_drug(self, entry: dict[str, Any]) -> None:
        """``to-case``: every mTOR inhibitor contraindicated, and doxorubicin, epirubicin
        and ifosfamide not tolerated (S14, S15 not offered)."""
        read = case_from_bundle(record(entry), on=ON)
        systemic = read.case.systemic
        assert systemic.mtor_inhibitor_contraindicated.value == "yes"
        agents = {x.agent.value for x in systemic.intolerances}
        assert {"doxorubicin", "epirubicin", "ifosfamide"} <= agents
        assert any("names a class of drugs (antineoplastic agents)" in n
                   for n in read.notes)


class TestAtcHierarchy:
    @pytest.mark.parametrize("code", ["L01D", "L01DB"])
    def test_anthracycline_groups_rule_out_doxorubicin(self, client: TestClient,
                                                       code: str) -> None:
        cards = order_select(client, record(atc(code)), DOXORUBICIN)
        [summary] = critical(cards)
        assert "doxorubicin" in summary

    @pytest.mark.parametrize("code", ["L01E", "L01EG", "L01XE", "L01XE10", "L01XE09",
                                      "L01X"])
    def test_groups_and_old_codes_holding_mtor_inhibitors_rule_them_out(
            self, client: TestClient, code: str) -> None:
        """Everolimus and temsirolimus are L01EG (L01XE before 2021): an everolimus or a
        temsirolimus intolerance rules out every mTOR inhibitor unless judged of that
        drug alone (I15, the safer reading meanwhile)."""
        for drug in (EVEROLIMUS, SIROLIMUS):
            cards = order_select(client, record(atc(code)), drug)
            assert len(critical(cards)) == 1, (code, drug)

    def test_protein_kinase_inhibitors_leave_doxorubicin_checked(
            self, client: TestClient) -> None:
        """L01E holds no anthracycline: a doxorubicin draft is checked (the first-line
        warning, no allergy card)."""
        cards = order_select(client, record(atc("L01E")), DOXORUBICIN)
        assert not critical(cards)
        assert not could_not_check(cards)

    @pytest.mark.parametrize("code", ["L01X", "L01XX99", "L", "L04AA"])
    def test_a_group_or_code_not_resolved_leaves_doxorubicin_unchecked(
            self, client: TestClient, code: str) -> None:
        """Unknown is not absent: what pecoma cannot resolve may hold doxorubicin."""
        cards = order_select(client, record(atc(code)), DOXORUBICIN)
        assert critical(cards) or could_not_check(cards)
        assert not proposed(cards)

    @pytest.mark.parametrize("code", ["L01XE10", "L01XE09", "L01XX99", "L01X"])
    def test_the_reading_is_never_no_mtor_inhibitor(self, code: str) -> None:
        reading = read_allergy(atc(code))
        assert reading.rules_out_mtor or reading.unidentified
        assert reading.unidentified or reading.other is None


class TestAlkylatingAgents:
    ENTRY = allergy(code={"text": "Alkylating agents"})

    @pytest.mark.parametrize("entry", [ENTRY, atc("L01A")])
    def test_a_platinum_draft_could_not_be_checked(self, client: TestClient,
                                                   entry: dict[str, Any]) -> None:
        """Cisplatin is ATC L01XA, no alkylating agent of L01A: not ruled out, but some
        lists count it with them, so the draft could not be checked (asked)."""
        cards = order_select(client, record(entry), CISPLATIN)
        assert not critical(cards)
        [summary] = could_not_check(cards)
        assert "alkylating agents" in summary

    def test_the_card_names_the_class(self, client: TestClient) -> None:
        cards = order_select(client, record(self.ENTRY), CYCLOPHOSPHAMIDE)
        [summary] = critical(cards)
        assert "alkylating agents (a class holding cyclophosphamide)" in summary

    def test_platinum_is_not_read_as_named(self) -> None:
        reading = read_allergy(self.ENTRY)
        assert not {"cisplatin", "carboplatin", "oxaliplatin"} & reading.drugs

    def test_the_reader_notes_the_platinum_question(self) -> None:
        """``to-case``: no platinum compound read as not tolerated; a note asks."""
        read = case_from_bundle(record(self.ENTRY), on=ON)
        assert any("cisplatin among the alkylating agents" in n for n in read.notes)

