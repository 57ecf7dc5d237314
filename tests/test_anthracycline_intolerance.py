"""An anthracycline recorded as not tolerated, and the option naming the other one (I15).

Doxorubicin (S14) and epirubicin (S15's epirubicin with ifosfamide, for a uterine primary)
are both anthracyclines. An intolerance of one may be of the class (cardiotoxicity, the
cumulative dose: common reasons for stopping an anthracycline) or of that drug alone
(an infusion reaction); the team records which on the intolerance (``class_wide``).

The option naming the other anthracycline had first been offered plainly beside it, then
kept with its force, provisional on MISS-ANTHRACYCLINE-INTOLERANCE: a second anthracycline
proposed to a patient the first may have harmed, heading the board's top actions, while
the same unknown for an mTOR inhibitor rules every one out meanwhile. One rule now reads
the judgement for both classes (``pecoma.case.class_ruled_out``): not recorded, the other
anthracycline is withheld meanwhile (REC-REGIMEN-NOT-TOLERATED naming it, provisional on
the question, which is asked) until the team records the intolerance as of that drug
alone, unless the latest anthracycline line is of the other one (given since, it shows
the class tolerated), as for an mTOR inhibitor.
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
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "yes",
                 # recorded: the anthracyclines' own contraindication is not what is tested
                 "anthracycline_contraindicated": "no"},
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


WITHHELD = "REC-REGIMEN-NOT-TOLERATED"


def withheld(i: Item) -> set[str]:
    return {f.value for f in i.triggered_by if f.path == "derived.regimen_withheld"}


class TestTheOtherAnthracyclineIsWithheld:
    def test_after_epirubicin_doxorubicin_is_withheld_meanwhile(self) -> None:
        """Epirubicin not tolerated, whether of the class not recorded: S14's doxorubicin
        is not proposed (it had been "can be considered", provisional, a second
        anthracycline after one perhaps stopped for cardiotoxicity); the item withholding
        it names doxorubicin, the epirubicin intolerance and why (the class not judged,
        the safer reading meanwhile, I15) and is provisional on the question, which says
        what recording the judgement changes. S15's regimen, which holds epirubicin, is
        withheld as before."""
        a = run(case_of(["epirubicin"]))
        assert "REC-ANTHRACYCLINE" not in a.record_ids()
        assert "REC-UTERINE-EPI-IFO" not in a.record_ids()
        rec = item(a, WITHHELD)
        assert withheld(rec) == {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}
        assert rec.conditional_on == (ASKED,)
        assert "I15" in rec.provenance.interpretations
        assert Fact("systemic.intolerances[0].agent", "epirubicin") in rec.triggered_by
        assert derived(rec).startswith("epirubicin recorded as not tolerated")
        assert "doxorubicin (S14) is withheld meanwhile" in derived(rec)
        missing = next(m for m in a.missing if m.id == ASKED)
        assert missing.affects == (WITHHELD,)

    def test_after_doxorubicin_epirubicin_is_withheld_meanwhile(self) -> None:
        """Doxorubicin not tolerated (the record of the tumour board that found the
        defect: a uterine primary, mTOR inhibitors contraindicated): S15's epirubicin with
        ifosfamide is no longer "an option", provisional, at the head of the board's
        list; it is withheld with doxorubicin, the derived fact saying that epirubicin is
        withheld only meanwhile."""
        a = run(case_of(["doxorubicin"]))
        assert "REC-UTERINE-EPI-IFO" not in a.record_ids()
        assert "REC-ANTHRACYCLINE" not in a.record_ids()
        rec = item(a, WITHHELD)
        assert withheld(rec) == {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}
        assert rec.conditional_on == (ASKED,)
        assert "epirubicin with ifosfamide (S15) is withheld meanwhile" in derived(rec)
        assert "ruling out epirubicin too, is not recorded" in derived(rec)

    def test_after_the_epirubicin_ifosfamide_regimen_doxorubicin_is_withheld(self) -> None:
        """The regimen recorded as not tolerated (outside the uterus, an adjuvant course
        of it given): which of its drugs was is not told and the culprit may be
        epirubicin, so doxorubicin is withheld meanwhile, the derived fact saying the
        drug is not recorded."""
        data = case_of(["epirubicin_ifosfamide"], site="soft_tissue")
        data["systemic"]["therapies"] = [{"agent": "epirubicin_ifosfamide",
                                          "setting": "adjuvant", "started_on": "2023-04-20",
                                          "progressed": "no"}]
        a = run(data)
        assert "REC-ANTHRACYCLINE" not in a.record_ids()
        rec = item(a, WITHHELD)
        assert withheld(rec) == {"doxorubicin (S14)"}
        assert rec.conditional_on == (ASKED,)
        assert "which of its drugs is not recorded" in derived(rec)

    def test_which_intolerances_withhold_which_option_and_on_what(self) -> None:
        """None recorded: both options plain, nothing asked (as before). Ifosfamide (no
        anthracycline): doxorubicin plain, S15 withheld, nothing asked. Doxorubicin with
        ifosfamide: both withheld by the drugs they hold, nothing asked. An anthracycline
        whose class is not judged: both withheld, the item provisional on the question,
        at the uterus and elsewhere."""
        expected: dict[tuple[tuple[str, ...], str],
                       tuple[dict[str, tuple[str, ...] | None], set[str]]] = {
            ((), "uterus"): ({"REC-ANTHRACYCLINE": (), "REC-UTERINE-EPI-IFO": (),
                              WITHHELD: None}, set()),
            (("ifosfamide",), "uterus"): ({"REC-ANTHRACYCLINE": (),
                                           "REC-UTERINE-EPI-IFO": None, WITHHELD: ()},
                                          {"epirubicin with ifosfamide (S15)"}),
            (("doxorubicin_ifosfamide",), "uterus"): (
                {"REC-ANTHRACYCLINE": None, "REC-UTERINE-EPI-IFO": None, WITHHELD: ()},
                {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}),
            (("epirubicin",), "kidney"): ({"REC-ANTHRACYCLINE": None,
                                           "REC-UTERINE-EPI-IFO": None,
                                           WITHHELD: (ASKED,)}, {"doxorubicin (S14)"}),
            (("doxorubicin",), "uterus"): (
                {"REC-ANTHRACYCLINE": None, "REC-UTERINE-EPI-IFO": None,
                 WITHHELD: (ASKED,)},
                {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}),
        }
        for (intolerant, site), (want, regimens) in expected.items():
            a = run(case_of(list(intolerant), site))
            for record_id, conditions in want.items():
                got = next((i.conditional_on for i in a.recommendations
                            if i.id == record_id), None)
                assert got == conditions, (intolerant, site, record_id)
            if regimens:
                assert withheld(item(a, WITHHELD)) == regimens, (intolerant, site)
            asked = any(c is not None and ASKED in c for c in want.values())
            assert (ASKED in {m.id for m in a.missing}) is asked, (intolerant, site)

    def test_the_question_says_what_each_answer_changes(self) -> None:
        """The question asks class against drug; what each answer does, and the safer
        reading meanwhile (the other anthracycline withheld), are said."""
        missing = next(m for m in run(case_of(["epirubicin"])).missing if m.id == ASKED)
        assert "infusion reaction" in missing.question
        assert "cardiotoxicity" in missing.question
        assert "shown as the guideline gives it" in missing.would_change
        assert "stays ruled out" in missing.would_change
        assert "withheld" in missing.meanwhile
        assert "I15" in missing.provenance.interpretations


def _lines(*agents: str) -> list[dict[str, Any]]:
    """Lines for advanced disease given one after another, each progressed on but the
    last, which is still given and responding."""
    return [{"agent": a, "line": n, "setting": "advanced",
             "progressed": "yes" if n < len(agents) else "no",
             "best_response": "progression" if n < len(agents) else "partial"}
            for n, a in enumerate(agents, start=1)]


class TestTheOtherShownTolerated:
    """As for an mTOR inhibitor (I15), the latest line of the class being of a drug not
    itself recorded as not tolerated shows the class tolerated: the rule is one for both
    classes."""

    def test_epirubicin_given_after_a_doxorubicin_intolerance_keeps_s15(self) -> None:
        """Doxorubicin not tolerated, then epirubicin with ifosfamide given and still
        responding (uterine): the latest anthracycline line shows epirubicin tolerated,
        so S15's regimen is not withheld and nothing is asked; the item names the
        intolerance and the line that shows it, and doxorubicin stays withheld."""
        data = case_of(["doxorubicin"])
        data["systemic"]["therapies"] = _lines("doxorubicin", "epirubicin_ifosfamide")
        a = run(data)
        rec = item(a, "REC-UTERINE-EPI-IFO")
        assert ASKED not in rec.conditional_on
        assert Fact("systemic.intolerances[0].agent", "doxorubicin") in rec.triggered_by
        assert Fact("systemic.therapies[1].agent", "epirubicin_ifosfamide") in rec.triggered_by
        assert "shows the class tolerated since" in derived(rec)
        assert ASKED not in {m.id for m in a.missing}
        # the disease progressed on doxorubicin: S14's first line is past whatever
        # anthracycline line came after (the class taken as one, I15), so it is not
        # offered, and the guideline's silence is said
        assert "REC-ANTHRACYCLINE" not in a.record_ids()
        assert "REC-NO-LINE-AFTER-ANTHRACYCLINE" in a.record_ids()

    def test_the_drug_not_tolerated_given_last_keeps_the_class_out(self) -> None:
        """The other way round: epirubicin with ifosfamide first, then doxorubicin, the
        drug recorded as not tolerated, last: the latest line shows nothing of the class
        since, so S15's regimen stays withheld meanwhile and the question is asked."""
        data = case_of(["doxorubicin"])
        data["systemic"]["therapies"] = _lines("epirubicin_ifosfamide", "doxorubicin")
        data["systemic"]["therapies"][0]["progressed"] = "no"
        data["systemic"]["therapies"][0]["best_response"] = "stable"
        a = run(data)
        assert "REC-UTERINE-EPI-IFO" not in a.record_ids()
        assert item(a, WITHHELD).conditional_on == (ASKED,)


class TestTheBoardSummary:
    def test_no_second_anthracycline_heads_the_top_actions(self) -> None:
        """The tumour-board summary (web report and PDF) had put "(provisional) Uterine
        primary: epirubicin with ifosfamide" first among its top actions for a patient
        whose doxorubicin intolerance may be cardiotoxicity; the first top action is now
        the item withholding the anthracyclines, and no anthracycline is among them."""
        from pecoma.engine.schedule import plan_surveillance
        from pecoma.web.summary import board_summary

        case = parse_case(case_of(["doxorubicin"]))
        a = assess(case, ON)
        top = [i.id for i in board_summary(a, plan_surveillance(case, a, ON)).actions]
        assert top[0] == WITHHELD
        assert not {"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO"} & set(top)


class TestOneRuleForBothClasses:
    def test_the_mtor_rule_is_the_class_rule_for_mtor_inhibitors(self) -> None:
        """The class rule is one function; the mTOR inhibitors' reading is that function
        for their class, and the anthracyclines' the same function for theirs: an
        unjudged intolerance of either rules its class out, 'no' does not, 'yes' does."""
        from pecoma.case import (
            ANTHRACYCLINES,
            MTOR_AGENTS,
            Intolerance,
            class_ruled_out,
            mtor_class_ruled_out,
        )
        from pecoma.case.values import Agent, YesNo

        for judged, out in ((YesNo.unknown, True), (YesNo.no, False), (YesNo.yes, True)):
            mtor = (Intolerance(agent=Agent.everolimus, class_wide=judged),)
            anth = (Intolerance(agent=Agent.doxorubicin, class_wide=judged),)
            assert class_ruled_out(MTOR_AGENTS, mtor, ()) is out
            assert mtor_class_ruled_out(mtor, ()) is out
            assert class_ruled_out(ANTHRACYCLINES, anth, ()) is out


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
    def test_an_allergy_to_doxorubicin_read_gives_the_same_withheld_item(self) -> None:
        """The allergy read from FHIR (no class-wide extension) is the case's intolerance:
        the same item withholding both regimens, the same question."""
        read = assess(case_from_bundle(_doxorubicin_allergy_bundle()).case, ON)
        assert "REC-UTERINE-EPI-IFO" not in read.record_ids()
        rec = item(read, WITHHELD)
        assert rec.conditional_on == (ASKED,)
        assert withheld(rec) == {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}
        assert Fact("systemic.intolerances[0].agent", "doxorubicin") in rec.triggered_by

    def test_the_patient_view_card_heads_with_the_regimen_withheld(
        self, client: TestClient
    ) -> None:
        """The card had headed with "(provisional) Uterine primary: epirubicin with
        ifosfamide", a second anthracycline proposed first; it heads with the regimen
        withheld, marked provisional on the question, and proposes no anthracycline."""
        body = hook_request("patient-view", "pecoma-patient",
                            prefetch=prefetch_of(_doxorubicin_allergy_bundle(),
                                                 include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        head = r.json()["cards"][0]
        assert ("(provisional) The regimen the guideline names here is ruled out by a "
                "recorded intolerance") in head["summary"]
        assert "epirubicin with ifosfamide is an option" not in head["detail"]
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
    def test_an_epirubicin_draft_beside_a_doxorubicin_intolerance_is_critical(
        self, client: TestClient
    ) -> None:
        """Epirubicin (RxNorm 3995) drafted for a patient whose record lists doxorubicin
        as not tolerated, its class not recorded: the class rule rules epirubicin out
        meanwhile (I15), as the assessment withholds its regimen, so the draft gets the
        critical card of a drug the record rules out, as a draft of another mTOR
        inhibitor does in the same situation (it had had a warning only), saying it is
        ruled out meanwhile (tests/test_cds_class_rule_drafts.py holds the family)."""
        body = _order_select(_doxorubicin_allergy_bundle(), ("3995", "epirubicin"))
        service = body.pop("_service")
        r = client.post(f"/cds-services/{service}", json=body)
        assert r.status_code == 200, r.text
        cards = [c for c in r.json()["cards"]
                 if c["summary"].startswith("Draft order of epirubicin")]
        assert [c["indicator"] for c in cards] == ["critical"]
        assert "an anthracycline (doxorubicin)" in cards[0]["summary"]
        assert "meanwhile" in cards[0]["detail"]
        assert cards[0]["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    def test_a_doxorubicin_draft_beside_its_own_intolerance_stays_critical(
        self, client: TestClient
    ) -> None:
        """The drug itself not tolerated: the critical card, not the class warning."""
        body = _order_select(_doxorubicin_allergy_bundle(), ("3639", "doxorubicin"))
        service = body.pop("_service")
        cards = client.post(f"/cds-services/{service}", json=body).json()["cards"]
        assert any(c["indicator"] == "critical" for c in cards)
        assert not any("meanwhile" in c["detail"].split("\n\n")[0] for c in cards)
