"""Allergy entries naming a subclass of the anticancer drugs: read as that subclass.

The record (``allergy_support``): metastatic kidney PEComa, no systemic line given, mTOR
inhibitors recorded available and not contraindicated. Expected outcomes, written by hand
from the rule that an entry rules out what it names, never more (advice follows the
facts, not a label fragment; unknown is not absent):

1. EHR drug-class allergen lists write a class's parent first: "ANTINEOPLASTIC -
   ALKYLATING AGENTS", "ANTINEOPLASTIC - ANTHRACYCLINES". Such an entry names the
   subclass (the alkylating agents; the anthracyclines), not every antineoplastic agent:
   the mTOR inhibitors (no alkylating agent, no anthracycline) stay clear, a sirolimus
   draft gets no critical card and the reader keeps "mTOR inhibitor not contraindicated";
   a drug of the subclass (dacarbazine; doxorubicin) is ruled out. A subclass pecoma
   cannot identify ("Antineoplastic antibiotics") leaves the entry not identified: a
   sirolimus draft "could not be checked", never the critical card of the whole class.
2. ATC groups under L01A are read by their hierarchy (WHO ATC/DDD Index 2024,
   www.whocc.no/atc_ddd_index, L01A ALKYLATING AGENTS): L01AA nitrogen mustard analogues
   (cyclophosphamide L01AA01, chlorambucil L01AA02, melphalan L01AA03, ifosfamide
   L01AA06, bendamustine L01AA09, and others pecoma does not list), L01AB alkyl
   sulfonates (busulfan L01AB01, treosulfan L01AB02, mannosulfan L01AB03). Dacarbazine
   is L01AX04 and trabectedin L01CX01 (plant alkaloids and other natural products), in
   neither group: a draft of either is not ruled out by them, and since each group holds
   drugs pecoma does not list, it "could not be checked", never a critical card saying
   the record lists an allergy to "alkylating agents". The words "nitrogen mustards" and
   "oxazaphosphorines" (cyclophosphamide, ifosfamide, trofosfamide) name those subgroups
   likewise: ifosfamide is ruled out, dacarbazine and trabectedin are not.
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
    ON,
    RXNORM,
    SIROLIMUS,
    allergy,
    critical,
    make_client,
    order_select,
    record,
)

EPIC_CLASS = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"
DACARBAZINE = {"coding": [{"system": RXNORM, "code": "3098", "display": "dacarbazine"}]}
TRABECTEDIN = {"text": "Trabectedin 1.5 mg/m2 IV over 24 h"}
IFOSFAMIDE = {"coding": [{"system": RXNORM, "code": "5657", "display": "ifosfamide"}]}
BUSULFAN = {"text": "Busulfan 4 mg"}


def epic(text: str) -> dict[str, Any]:
    return allergy(code={"coding": [{"system": EPIC_CLASS, "code": "99",
                                     "display": text.upper()}], "text": text})


def atc(code: str, display: str) -> dict[str, Any]:
    return allergy(code={"coding": [{"system": ATC, "code": code, "display": display}]})


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("subclasses"))


def could_not_check(cards: list[dict[str, Any]]) -> list[str]:
    return [c["summary"] for c in cards if "could not be checked" in c["summary"]]


ALKYLATING = [pytest.param(epic("Antineoplastic - Alkylating Agents"), id="epic-alkylating"),
              pytest.param(allergy(code={"text": "Antineoplastic alkylating agents"}),
                           id="text-alkylating")]
ANTHRACYCLINES = epic("ANTINEOPLASTIC - ANTHRACYCLINES")
ANTIBIOTICS = allergy(code={"text": "Antineoplastic antibiotics"})


class TestParentFirstClassNames:
    @pytest.mark.parametrize("entry", [*ALKYLATING, ANTHRACYCLINES])
    def test_the_mtor_inhibitors_stay_clear(self, client: TestClient,
                                            entry: dict[str, Any]) -> None:
        """No mTOR inhibitor is an alkylating agent or an anthracycline: the sirolimus
        draft is checked and cleared, and the recorded "not contraindicated" is kept."""
        reading = read_allergy(entry)
        assert not reading.rules_out_mtor
        assert not reading.unidentified
        cards = order_select(client, record(entry), SIROLIMUS)
        assert not critical(cards)
        assert not could_not_check(cards)
        read = case_from_bundle(record(entry), on=ON)
        assert read.case.systemic.mtor_inhibitor_contraindicated.value == "no"

    @pytest.mark.parametrize("entry", ALKYLATING)
    def test_the_subclass_is_ruled_out(self, client: TestClient,
                                       entry: dict[str, Any]) -> None:
        """Dacarbazine is an alkylating agent: the critical card names that class."""
        [summary] = critical(order_select(client, record(entry), DACARBAZINE))
        assert "alkylating agents (a class holding dacarbazine)" in summary
        assert "antineoplastic agents" not in summary

    def test_the_anthracyclines_are_ruled_out(self, client: TestClient) -> None:
        [summary] = critical(order_select(client, record(ANTHRACYCLINES), DOXORUBICIN))
        assert "doxorubicin" in summary

    def test_a_subclass_not_identified_is_asked(self, client: TestClient) -> None:
        """"Antineoplastic antibiotics": which drugs pecoma cannot tell; the sirolimus
        draft could not be checked (no critical card naming every antineoplastic agent),
        and the reader drops the recorded "not contraindicated" (asked)."""
        reading = read_allergy(ANTIBIOTICS)
        assert reading.unidentified and not reading.rules_out_mtor
        cards = order_select(client, record(ANTIBIOTICS), SIROLIMUS)
        assert not critical(cards)
        assert could_not_check(cards)
        read = case_from_bundle(record(ANTIBIOTICS), on=ON)
        assert read.case.systemic.mtor_inhibitor_contraindicated.value == "unknown"

    @pytest.mark.parametrize("text", ["Antineoplastic agents", "Antineoplastics",
                                      "Allergy to antineoplastic drugs"])
    def test_the_bare_class_is_still_every_antineoplastic(self, text: str) -> None:
        assert read_allergy(allergy(code={"text": text})).rules_out_mtor


SUBGROUPS = [
    pytest.param(atc("L01AA", "Nitrogen mustard analogues"), id="atc-L01AA"),
    pytest.param(allergy(code={"text": "Nitrogen mustards"}), id="nitrogen-mustards"),
    pytest.param(allergy(code={"text": "Oxazaphosphorines"}), id="oxazaphosphorines"),
]


class TestAlkylatingSubgroups:
    @pytest.mark.parametrize("entry", [*SUBGROUPS, atc("L01AB", "Alkyl sulfonates")])
    @pytest.mark.parametrize("drug", [DACARBAZINE, TRABECTEDIN])
    def test_dacarbazine_and_trabectedin_are_not_ruled_out(
            self, client: TestClient, entry: dict[str, Any], drug: dict[str, Any]) -> None:
        """Neither drug is in L01AA, L01AB or the oxazaphosphorines: no critical card,
        and no card saying the record lists "alkylating agents"."""
        cards = order_select(client, record(entry), drug)
        assert not critical(cards)
        assert not [c for c in cards if "alkylating agents" in c["summary"]]

    @pytest.mark.parametrize("entry", SUBGROUPS)
    def test_ifosfamide_is_ruled_out(self, client: TestClient,
                                     entry: dict[str, Any]) -> None:
        [summary] = critical(order_select(client, record(entry), IFOSFAMIDE))
        assert "ifosfamide" in summary
        assert "alkylating agents" not in summary

    def test_l01ab_holds_busulfan_only_among_the_drugs_pecoma_lists(self) -> None:
        """L01AB: busulfan ruled out; treosulfan and mannosulfan, which pecoma does not
        list, leave the entry not identified."""
        reading = read_allergy(atc("L01AB", "Alkyl sulfonates"))
        assert {d for _k, d in reading.classes} == {"busulfan"}
        assert reading.unidentified
        assert not reading.rules_out_mtor

    def test_l01aa_holds_the_nitrogen_mustards(self) -> None:
        reading = read_allergy(atc("L01AA", "Nitrogen mustard analogues"))
        assert {d for _k, d in reading.classes} == {
            "cyclophosphamide", "chlorambucil", "melphalan", "ifosfamide", "bendamustine"}

    def test_l01ab_busulfan_draft_is_ruled_out(self, client: TestClient) -> None:
        [summary] = critical(order_select(client, record(atc("L01AB", "Alkyl sulfonates")),
                                          BUSULFAN))
        assert "busulfan" in summary

    def test_l01a_is_still_the_whole_class(self) -> None:
        reading = read_allergy(atc("L01A", "Alkylating agents"))
        assert "dacarbazine" in {d for _k, d in reading.classes}
