"""An anthracycline recorded as not tolerated, and the option naming the other one (I15).

Doxorubicin (S14) and epirubicin (S15's epirubicin with ifosfamide, for a uterine primary)
are both anthracyclines. An intolerance of one may be of the class (cardiotoxicity, the
cumulative dose) or of that drug alone (an infusion reaction), and the record does not say
which. The option naming the other anthracycline had been offered plainly beside it: after
an epirubicin intolerance doxorubicin, after a doxorubicin intolerance epirubicin with
ifosfamide, and after an intolerance of the epirubicin-ifosfamide regimen (its culprit may
be epirubicin) doxorubicin, no question asked. It now stays shown, with its force,
provisional on MISS-ANTHRACYCLINE-INTOLERANCE, naming the intolerance; the drug not
tolerated stays ruled out as before.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Fact, Item
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import hook_request, prefetch_of

ON = dt.date(2026, 12, 6)
ASKED = "MISS-ANTHRACYCLINE-INTOLERANCE"
DERIVED = "derived.anthracycline_intolerance"

#: Metastatic uterine PEComa, a liver metastasis not resectable; mTOR inhibitors available
#: but recorded as contraindicated, so S14's doxorubicin is the guideline's option, and
#: for the uterine primary S15's epirubicin with ifosfamide beside it.
UTERINE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "uterus", "size": {"value": 9, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2025-01-05"}],
              "extrapulmonary_disease": "yes", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "performed", "date": "2023-03-25", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "yes"},
}


def case_of(intolerant: list[str], site: str = "uterus") -> dict[str, Any]:
    data = copy.deepcopy(UTERINE)
    data["tumour"]["primary_site"] = site
    data["systemic"]["intolerances"] = [{"agent": a} for a in intolerant]
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.items() if i.id == record_id)


def derived(i: Item) -> str:
    return next(f.value for f in i.triggered_by if f.path == DERIVED)


class TestTheOtherAnthracyclineIsProvisional:
    def test_after_epirubicin_doxorubicin_waits_on_the_question(self) -> None:
        """Epirubicin not tolerated: S14's doxorubicin stays "can be considered" (the
        force is the guideline's), provisional on whether the intolerance is of the class,
        citing I15 and naming epirubicin; S15's regimen, which holds epirubicin, stays
        withheld (it had been offered plainly, with no word of the epirubicin)."""
        a = run(case_of(["epirubicin"]))
        rec = item(a, "REC-ANTHRACYCLINE")
        assert rec.conditional_on == (ASKED,)
        assert "can be considered" in rec.text
        assert "I15" in rec.provenance.interpretations
        assert Fact("systemic.intolerances[0].agent", "epirubicin") in rec.triggered_by
        assert derived(rec).startswith("epirubicin recorded as not tolerated")
        assert "ruling out doxorubicin too" in derived(rec)
        assert "REC-REGIMEN-NOT-TOLERATED" in a.record_ids()
        assert "REC-UTERINE-EPI-IFO" not in a.record_ids()
        missing = next(m for m in a.missing if m.id == ASKED)
        assert missing.affects == ("REC-ANTHRACYCLINE",)

    def test_after_doxorubicin_epirubicin_waits_and_doxorubicin_stays_out(self) -> None:
        """Doxorubicin not tolerated: S15's epirubicin with ifosfamide stays "an option",
        provisional, naming doxorubicin; doxorubicin itself stays ruled out (I15), its
        place said by REC-REGIMEN-NOT-TOLERATED, as before."""
        a = run(case_of(["doxorubicin"]))
        rec = item(a, "REC-UTERINE-EPI-IFO")
        assert rec.conditional_on == (ASKED,)
        assert "is a chemotherapy option" in rec.text
        assert "I15" in rec.provenance.interpretations
        assert Fact("systemic.intolerances[0].agent", "doxorubicin") in rec.triggered_by
        assert "ruling out epirubicin too" in derived(rec)
        assert "REC-ANTHRACYCLINE" not in a.record_ids()
        withheld = item(a, "REC-REGIMEN-NOT-TOLERATED")
        assert Fact("derived.regimen_withheld", "doxorubicin (S14)") in withheld.triggered_by
        assert not withheld.conditional_on

    def test_after_the_epirubicin_ifosfamide_regimen_doxorubicin_waits(self) -> None:
        """The regimen recorded as not tolerated: which of its drugs was is not told, and
        the culprit may be epirubicin: doxorubicin is provisional on the same question,
        the derived fact saying the drug is not recorded; the regimen stays withheld."""
        a = run(case_of(["epirubicin_ifosfamide"]))
        rec = item(a, "REC-ANTHRACYCLINE")
        assert rec.conditional_on == (ASKED,)
        assert Fact("systemic.intolerances[0].agent", "epirubicin_ifosfamide") \
            in rec.triggered_by
        assert "which of its drugs is not recorded" in derived(rec)
        assert "REC-REGIMEN-NOT-TOLERATED" in a.record_ids()
        assert "REC-UTERINE-EPI-IFO" not in a.record_ids()

    def test_only_another_anthracycline_not_tolerated_makes_the_option_wait(self) -> None:
        """Which intolerances leave which anthracycline option, and on what. None recorded:
        both options plain, nothing asked (as before). Ifosfamide (no anthracycline):
        doxorubicin plain, S15 withheld (as before). Doxorubicin with ifosfamide: both
        withheld, nothing asked (each holds a drug not tolerated). Epirubicin outside the
        uterus: doxorubicin provisional (S15 does not apply there)."""
        expected: dict[tuple[tuple[str, ...], str], dict[str, tuple[str, ...] | None]] = {
            ((), "uterus"): {"REC-ANTHRACYCLINE": (), "REC-UTERINE-EPI-IFO": ()},
            (("ifosfamide",), "uterus"): {"REC-ANTHRACYCLINE": (),
                                          "REC-UTERINE-EPI-IFO": None},
            (("doxorubicin_ifosfamide",), "uterus"): {"REC-ANTHRACYCLINE": None,
                                                      "REC-UTERINE-EPI-IFO": None},
            (("epirubicin",), "kidney"): {"REC-ANTHRACYCLINE": (ASKED,),
                                          "REC-UTERINE-EPI-IFO": None},
            (("doxorubicin",), "uterus"): {"REC-ANTHRACYCLINE": None,
                                           "REC-UTERINE-EPI-IFO": (ASKED,)},
        }
        for (intolerant, site), want in expected.items():
            a = run(case_of(list(intolerant), site))
            for record_id, conditions in want.items():
                got = next((i.conditional_on for i in a.recommendations
                            if i.id == record_id), None)
                assert got == conditions, (intolerant, site, record_id)
            asked = any(c is not None and ASKED in c for c in want.values())
            assert (ASKED in {m.id for m in a.missing}) is asked, (intolerant, site)

    def test_the_question_says_what_each_answer_changes(self) -> None:
        """The question asks class against drug, and what each answer does."""
        missing = next(m for m in run(case_of(["epirubicin"])).missing if m.id == ASKED)
        assert "infusion reaction" in missing.question
        assert "cardiotoxicity" in missing.question
        assert "ruled out too" in missing.would_change
        assert "stays an option" in missing.would_change
        assert "provisional" in missing.meanwhile
        assert "I15" in missing.provenance.interpretations


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("anthracycline")
    return TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp / 'cds.sqlite3'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")


def _doxorubicin_allergy_bundle() -> dict[str, Any]:
    """The record of the doxorubicin case, its allergy coded as an EHR would: RxNorm 3639
    doxorubicin."""
    bundle = bundle_from_case(parse_case(case_of(["doxorubicin"])))
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "AllergyIntolerance":
            e["resource"]["code"] = {"coding": [{
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3639",
                "display": "doxorubicin"}], "text": "Doxorubicin"}
    return bundle


class TestFromTheFhirRecord:
    def test_an_allergy_to_doxorubicin_read_gives_the_same_provisional_item(self) -> None:
        """The allergy read from FHIR is the case's intolerance: the same item, the same
        question."""
        read = assess(case_from_bundle(_doxorubicin_allergy_bundle()).case, ON)
        rec = item(read, "REC-UTERINE-EPI-IFO")
        assert rec.conditional_on == (ASKED,)
        assert Fact("systemic.intolerances[0].agent", "doxorubicin") in rec.triggered_by

    def test_the_patient_view_card_marks_it_conditional(self, client: TestClient) -> None:
        """The card heads with S15's regimen marked provisional and says, beside it, that
        doxorubicin is recorded as not tolerated (it had shown it as a plain option)."""
        body = hook_request("patient-view", "pecoma-patient",
                            prefetch=prefetch_of(_doxorubicin_allergy_bundle(),
                                                 include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        head = r.json()["cards"][0]
        assert "(provisional) Uterine primary: epirubicin with ifosfamide" in head["summary"]
        assert "**Conditional:** doxorubicin recorded as not tolerated" in head["detail"]
        assert ASKED in head["detail"]


def _order_select(bundle: dict[str, Any], drug: tuple[str, str]) -> dict[str, Any]:
    """An order-select call drafting ``drug`` (RxNorm code, name) for the bundle's patient."""
    from pecoma.web.cds.discovery import ORDER_SELECT

    pid = next(e["resource"]["id"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Patient")
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             "medicationCodeableConcept": {"coding": [{
                 "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": drug[0],
                 "display": drug[1]}], "text": drug[1]}}
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle, include=True))
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    body["_service"] = ORDER_SELECT
    return body


class TestADraftOfTheOtherAnthracycline:
    def test_an_epirubicin_draft_beside_a_doxorubicin_intolerance_is_flagged(
        self, client: TestClient
    ) -> None:
        """Epirubicin (RxNorm 3995) drafted for a patient whose record lists doxorubicin
        as not tolerated: a warning names the intolerance and the question of the class,
        as the assessment's provisional item does (it had had no card at all)."""
        body = _order_select(_doxorubicin_allergy_bundle(), ("3995", "epirubicin"))
        service = body.pop("_service")
        r = client.post(f"/cds-services/{service}", json=body)
        assert r.status_code == 200, r.text
        cards = [c for c in r.json()["cards"] if "another anthracycline" in c["summary"]]
        assert [c["indicator"] for c in cards] == ["warning"]
        assert "doxorubicin" in cards[0]["summary"]
        assert "of the class" in cards[0]["detail"]
        # under its own warning record, never the critical 'the allergy list rules it out'
        assert cards[0]["source"]["topic"]["code"] == "ALERT-ANTHRACYCLINE-CLASS"
        assert "rules out" not in cards[0]["detail"].split("\n")[0]

    def test_a_doxorubicin_draft_beside_its_own_intolerance_stays_critical(
        self, client: TestClient
    ) -> None:
        """The drug itself not tolerated: the critical card, not the class warning."""
        body = _order_select(_doxorubicin_allergy_bundle(), ("3639", "doxorubicin"))
        service = body.pop("_service")
        cards = client.post(f"/cds-services/{service}", json=body).json()["cards"]
        assert any(c["indicator"] == "critical" for c in cards)
        assert not any("another anthracycline" in c["summary"] for c in cards)
