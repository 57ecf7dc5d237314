"""The guideline's systemic treatment of advanced disease is stated for advanced
*malignant* PEComa (S12, S13, S15; S14 in the same section). Whether the tumour counts as
malignant is decided once, as for the S27 alert (I9): a malignant pathology category,
recurrence, metastasis or nodal spread. Advanced disease not shown malignant gets the
mTOR inhibitor as the sarcoma team's to consider, never as the treatment of choice; a
category that a missing fact could make malignant keeps the advice, provisional on that
fact (I25)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 1, 15)

#: The reported case: 4 cm retroperitoneal, none of the four high-risk features, no
#: mitoses, no vascular invasion, nodes negative; resected R2, the residue recorded as
#: not resectable. Folpe 2005: benign.
R2_BENIGN: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 4, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent",
                  "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent",
                  "mitoses_per_50_hpf": 0},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive",
                             "tfe3": "negative"},
    "stage": {"status": "locally_advanced_unresectable", "lymph_nodes": "negative",
              "resectable": "no"},
    "surgery": {"status": "performed", "date": "2025-03-10", "margin": "R2"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}

NOT_SHOWN = "REC-MTOR-MALIGNANCY-NOT-SHOWN"
FIRST_LINE = "REC-MTOR-FIRST-LINE"


def _variant(**changes: dict[str, Any]) -> dict[str, Any]:
    case = copy.deepcopy(R2_BENIGN)
    for section, values in changes.items():
        case[section].update(values)
    return case


def _assess(case: dict[str, Any]) -> Assessment:
    return assess(parse_case(case), ON)


def _item(a: Assessment, record: str) -> Item:
    [item] = [r for r in a.recommendations if r.id == record]
    return item


def _ids(a: Assessment) -> set[str]:
    return {r.id for r in a.recommendations}


def _facts(item: Item) -> dict[str, str]:
    return {f.path: f.value for f in item.triggered_by}


class TestNotShownMalignant:
    """Advanced disease that the facts give at most benign or uncertain malignant
    potential: S12 is not stated as the treatment of choice."""

    def test_r2_residue_not_resectable_folpe_benign(self) -> None:
        """The reported case: the S27 alert already says benign or UMP (I9); the
        systemic item must not drop S12's 'malignant' (it said 'treatment of choice' and
        showed nab-sirolimus with no condition)."""
        a = _assess(R2_BENIGN)
        assert FIRST_LINE not in _ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in _ids(a)  # approved for malignant PEComa
        item = _item(a, NOT_SHOWN)
        assert item.strength != "treatment of choice"
        assert "consider" in item.strength
        assert "S12" in item.provenance.statements
        assert {"I9", "I25"} <= set(item.provenance.interpretations)
        facts = _facts(item)
        assert facts["classification.folpe_2005"] == "benign"
        assert facts["derived.malignancy"].startswith("not shown")
        assert "malignant PEComa" in item.text
        # the alert and the systemic item now rest on the same premise
        assert "ALERT-GROSS-RESIDUAL-UNCERTAIN-BEHAVIOUR" in {x.id for x in a.alerts}

    def test_localized_recorded_not_resectable_never_operated(self) -> None:
        """c55: localized, recorded not resectable, not operated: derived locally advanced
        (I6). Folpe is open up to malignant only because the features were read without a
        resection specimen (I6), which is no evidence of malignancy (I25)."""
        case = _variant(stage={"status": "localized"})
        case["surgery"] = {"status": "not_performed"}
        a = _assess(case)
        assert FIRST_LINE not in _ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in _ids(a)
        facts = _facts(_item(a, NOT_SHOWN))
        assert facts["classification.folpe_2005"] == "benign to malignant"
        assert facts["derived.disease_status"] == "locally_advanced_unresectable"

    @pytest.mark.parametrize(("why", "changes", "category"), [
        ("a high-risk size alone: Folpe uncertain malignant potential, not malignant (I9)",
         {"tumour": {"size": {"value": 7, "unit": "cm"}}}, "uncertain malignant potential"),
        ("pleomorphism alone: Folpe uncertain malignant potential",
         {"histology": {"nuclear_pleomorphism_or_giant_cells": "present"}},
         "uncertain malignant potential"),
        ("mitoses unknown, nothing else worrisome: at most uncertain malignant potential, "
         "so the count cannot make it malignant and is no reason to keep S12",
         {"histology": {"mitoses_per_50_hpf": None}}, "benign to uncertain malignant potential"),
    ])
    def test_class_of_not_malignant_categories(self, why: str, changes: dict[str, Any],
                                               category: str) -> None:
        a = _assess(_variant(**changes))
        assert FIRST_LINE not in _ids(a), why
        item = _item(a, NOT_SHOWN)
        assert _facts(item)["classification.folpe_2005"] == category, why
        assert not {"MISS-MITOSES"} & set(item.conditional_on), why

    def test_uterine_bennett_ump_chemotherapy_names_the_condition(self) -> None:
        """mTOR inhibitors contraindicated, uterine primary classed benign (Folpe) and UMP
        (Bennett): S14 and S15 are options to consider already; they keep that force, never
        more, and name that malignancy is not shown (S15 is stated for malignant uterine
        PEComa)."""
        a = _assess(_variant(tumour={"primary_site": "uterus"},
                             systemic={"mtor_inhibitor_contraindicated": "yes"}))
        for record, strength in (("REC-ANTHRACYCLINE", "can be considered"),
                                 ("REC-UTERINE-EPI-IFO", "option")):
            item = _item(a, record)
            assert item.strength == strength
            assert _facts(item)["derived.malignancy"].startswith("not shown"), record
            assert "I25" in item.provenance.interpretations, record


class TestMalignantKeepsForce:
    """Where the facts make the tumour count as malignant (I9), the guideline's advice
    stands as given: treatment of choice, nab-sirolimus beside it, no I25 condition."""

    @pytest.mark.parametrize(("why", "changes"), [
        ("Folpe malignant: necrosis and infiltrative growth (two worrisome features)",
         {"histology": {"necrosis": "present", "infiltrative_growth": "present"}}),
        ("Folpe malignant: size over 5 cm and 3 mitoses per 50 HPF",
         {"tumour": {"size": {"value": 7, "unit": "cm"}},
          "histology": {"mitoses_per_50_hpf": 3}}),
        ("nodal spread is evidence of malignancy whatever Folpe says (I9)",
         {"stage": {"lymph_nodes": "positive"}}),
    ])
    def test_treatment_of_choice(self, why: str, changes: dict[str, Any]) -> None:
        a = _assess(_variant(**changes))
        assert NOT_SHOWN not in _ids(a), why
        item = _item(a, FIRST_LINE)
        assert item.strength == "treatment of choice", why
        assert "I25" not in item.provenance.interpretations, why
        assert "derived.malignancy" not in _facts(item), why
        assert item.conditional_on == (), why
        assert "SUPP-NAB-SIROLIMUS" in _ids(a), why


class TestMalignancyOpenOnMissingFacts:
    """A category a missing fact could make malignant: the safer branch, S12 as the
    guideline gives it, provisional on that fact, which is asked (I25)."""

    @pytest.mark.parametrize(("why", "changes", "asked"), [
        ("mitoses and vascular invasion unknown: Folpe benign to malignant",
         {"histology": {"mitoses_per_50_hpf": None, "vascular_invasion": "unknown"}},
         {"MISS-MITOSES", "MISS-VASCULAR-INVASION"}),
        ("size over 5 cm, mitoses unknown: Folpe uncertain malignant potential to malignant",
         {"tumour": {"size": {"value": 7, "unit": "cm"}},
          "histology": {"mitoses_per_50_hpf": None}}, {"MISS-MITOSES"}),
    ])
    def test_provisional_on_the_missing_facts(self, why: str, changes: dict[str, Any],
                                              asked: set[str]) -> None:
        a = _assess(_variant(**changes))
        assert NOT_SHOWN not in _ids(a), why
        for record in (FIRST_LINE, "SUPP-NAB-SIROLIMUS"):
            item = _item(a, record)
            assert asked <= set(item.conditional_on), (why, record)
            assert "I25" in item.provenance.interpretations, (why, record)
        assert _item(a, FIRST_LINE).strength == "treatment of choice"
        missing = {m.id: m for m in a.missing}
        for m in asked:
            assert FIRST_LINE in missing[m].affects, (why, m)


DOXORUBICIN_FIRST = {"therapies": [{"agent": "doxorubicin", "line": 1,
                                    "started_on": "2025-05-01", "progressed": "no",
                                    "best_response": "stable"}]}
CHEMO_FIRST = "ALERT-CHEMO-BEFORE-MTOR"


def _alert(a: Assessment, record: str) -> Item:
    [item] = [x for x in a.alerts if x.id == record]
    return item


def _first_line(agent: str) -> dict[str, Any]:
    return {"therapies": [{**DOXORUBICIN_FIRST["therapies"][0], "agent": agent}]}


class TestChemotherapyFirstFollowsTheScope:
    """S13's order (an mTOR inhibitor before conventional chemotherapy) is the guideline's
    for advanced malignant PEComa, as S12's treatment of choice is (I25): where the engine
    gives the mTOR inhibitor only for the team to consider, a first line of another drug
    departs from no advice it gives, and calling it 'not guideline-concordant' told the
    team the opposite of the item beside it."""

    @pytest.mark.parametrize("agent", ["doxorubicin", "epirubicin_ifosfamide", "pazopanib",
                                       "other_chemotherapy"])
    def test_no_departure_alert_where_malignancy_is_not_shown(self, agent: str) -> None:
        a = _assess(_variant(systemic=_first_line(agent)))
        assert NOT_SHOWN in _ids(a), agent
        assert CHEMO_FIRST not in {x.id for x in a.alerts}, agent
        # the item itself says that the order applies if the team judges it malignant
        assert "before conventional chemotherapy" in _item(a, NOT_SHOWN).text

    def test_malignant_keeps_the_alert_plain(self) -> None:
        """Positive nodes: malignant on the facts (I9); the alert stands as before."""
        a = _assess(_variant(stage={"lymph_nodes": "positive"}, systemic=DOXORUBICIN_FIRST))
        alert = _alert(a, CHEMO_FIRST)
        assert alert.conditional_on == ()
        assert "I25" not in alert.provenance.interpretations

    @pytest.mark.parametrize(("why", "changes", "asked"), [
        ("mitoses and vascular invasion unknown: Folpe may be malignant",
         {"histology": {"mitoses_per_50_hpf": None, "vascular_invasion": "unknown"}},
         {"MISS-MITOSES", "MISS-VASCULAR-INVASION"}),
        ("regional nodes not known free: nodal spread may be present (I9)",
         {"stage": {"lymph_nodes": "unknown"}}, {"MISS-NODES"}),
    ])
    def test_open_on_a_missing_fact_the_alert_is_provisional(
            self, why: str, changes: dict[str, Any], asked: set[str]) -> None:
        """The safer branch, as for the mTOR advice: the alert shown, provisional on the
        fact that may make the tumour malignant, citing I25, the fact asked for it."""
        a = _assess(_variant(**changes, systemic=DOXORUBICIN_FIRST))
        alert = _alert(a, CHEMO_FIRST)
        assert asked <= set(alert.conditional_on), why
        assert {"I9", "I25"} <= set(alert.provenance.interpretations), why
        missing = {m.id: m for m in a.missing}
        for m in asked:
            assert CHEMO_FIRST in missing[m].affects, (why, m)


class TestNodesNotKnownFree:
    """Unknown is not absent: nodal spread is evidence of malignancy (I9), so regional
    nodes the record does not give (unknown) leave malignancy open, as a missing mitotic
    count does. The advice for malignant disease stays, provisional on MISS-NODES; the
    item that said the tumour 'has not spread to regional lymph nodes' on no record of
    it is not given."""

    def test_s12_provisional_on_the_nodes(self) -> None:
        a = _assess(_variant(stage={"lymph_nodes": "unknown"}))
        assert NOT_SHOWN not in _ids(a)
        for record in (FIRST_LINE, "SUPP-NAB-SIROLIMUS"):
            item = _item(a, record)
            assert "MISS-NODES" in item.conditional_on, record
            assert _facts(item)["stage.lymph_nodes"] == "unknown", record
        assert _item(a, FIRST_LINE).strength == "treatment of choice"
        [asked] = [m for m in a.missing if m.id == "MISS-NODES"]
        assert {FIRST_LINE, "SUPP-NAB-SIROLIMUS"} <= set(asked.affects)
        assert "treatment of choice" in asked.would_change

    def test_s27_alert_reads_the_nodes_alike(self) -> None:
        """One rule of malignancy (I9): the gross-residue alert is the critical one, as
        the safer branch, provisional on the nodes, not the warning for a tumour the
        facts call benign."""
        a = _assess(_variant(stage={"lymph_nodes": "unknown"}))
        ids = {x.id for x in a.alerts}
        assert "ALERT-GROSS-RESIDUAL-UNCERTAIN-BEHAVIOUR" not in ids
        alert = _alert(a, "ALERT-GROSS-RESIDUAL")
        assert "MISS-NODES" in alert.conditional_on
        assert {f.path: f.value for f in alert.triggered_by}["stage.lymph_nodes"] == "unknown"
        [asked] = [m for m in a.missing if m.id == "MISS-NODES"]
        assert "ALERT-GROSS-RESIDUAL" in asked.affects

    def test_nodes_recorded_free_rest_the_item(self) -> None:
        """The item says the nodes are free: it rests on the record saying so."""
        item = _item(_assess(R2_BENIGN), NOT_SHOWN)
        assert _facts(item)["stage.lymph_nodes"] == "negative"
        assert "recorded free" in item.text


#: nodes not sampled, as in most resections of PEComa (I10)
NOT_ASSESSED = {"lymph_nodes": "not_assessed"}


class TestNodesNotAssessed:
    """Nodes recorded as not assessed are a recorded fact, not a gap (I10): nodal spread
    is rare in PEComa and lymphadenectomy is not part of the usual operation, so they
    are no evidence of malignancy, as negative nodes are not. A Folpe-benign tumour with
    an unresectable residue and unsampled nodes had been given the critical 'Malignant
    tumour was left behind', the mTOR inhibitor as treatment of choice and nab-sirolimus
    (approved for malignant PEComa): long-term immunosuppression for a tumour the facts
    class as benign, on a fact I10 declines to escalate on. The nodes are still asked,
    with the items provisional on them, since positive nodes would make it malignant."""

    def test_s12_not_the_treatment_of_choice(self) -> None:
        a = _assess(_variant(stage=NOT_ASSESSED))
        assert FIRST_LINE not in _ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in _ids(a)  # approved for malignant PEComa
        item = _item(a, NOT_SHOWN)
        assert _facts(item)["stage.lymph_nodes"] == "not_assessed"
        assert "not assessed" in item.text
        # asked, with what a positive answer would change
        assert "MISS-NODES" in item.conditional_on
        [asked] = [m for m in a.missing if m.id == "MISS-NODES"]
        assert NOT_SHOWN in asked.affects
        assert "treatment of choice" in asked.would_change

    def test_chemotherapy_first_not_flagged(self) -> None:
        """S13's order is read for malignant PEComa (I25): a doxorubicin first line for
        a tumour not shown malignant departs from no advice given."""
        a = _assess(_variant(stage=NOT_ASSESSED, systemic=DOXORUBICIN_FIRST))
        assert CHEMO_FIRST not in {x.id for x in a.alerts}
        assert NOT_SHOWN in _ids(a)

    @pytest.mark.parametrize(("margin", "status", "resectable"), [
        ("R2", "locally_advanced_unresectable", "no"),
        ("R2", "localized", "no"),
        ("R2", "localized", "yes"),
        ("R1", "localized", "no"),
        ("R1", "localized", "yes"),
    ])
    def test_s27_alert_is_the_warning_the_facts_give(
            self, margin: str, status: str, resectable: str) -> None:
        """Folpe benign, no high-risk feature, nodes not sampled: no alert asserting a
        malignant tumour left; the plain warning, provisional on the nodes, which are
        asked because positive nodes would make it critical."""
        warning, critical = (
            ("ALERT-GROSS-RESIDUAL-UNCERTAIN-BEHAVIOUR", "ALERT-GROSS-RESIDUAL")
            if margin == "R2" else
            ("ALERT-RESIDUAL-UNCERTAIN-BEHAVIOUR", "ALERT-INCOMPLETE-RESECTION"))
        a = _assess(_variant(stage={**NOT_ASSESSED, "status": status,
                                    "resectable": resectable},
                             surgery={"margin": margin}))
        ids = {x.id for x in a.alerts}
        assert critical not in ids, (margin, status)
        alert = _alert(a, warning)
        assert "MISS-NODES" in alert.conditional_on
        assert {f.path: f.value for f in alert.triggered_by}["stage.lymph_nodes"] \
            == "not_assessed"
        [asked] = [m for m in a.missing if m.id == "MISS-NODES"]
        assert warning in asked.affects

    def test_high_risk_feature_keeps_its_warning(self) -> None:
        """A high-risk feature present predicts aggressive behaviour (I9): its warning,
        not the critical one, with the nodes not sampled."""
        a = _assess(_variant(stage=NOT_ASSESSED, histology={"necrosis": "present"}))
        ids = {x.id for x in a.alerts}
        assert "ALERT-GROSS-RESIDUAL" not in ids
        assert "MISS-NODES" in _alert(a, "ALERT-GROSS-RESIDUAL-HIGH-RISK").conditional_on

    def test_malignant_category_still_critical(self) -> None:
        """Malignant on the pathology (Folpe: size > 5 cm and mitoses > 1/50 HPF): not
        assessed nodes take nothing away; critical and not provisional on the nodes."""
        a = _assess(_variant(stage=NOT_ASSESSED,
                             tumour={"size": {"value": 8, "unit": "cm"}},
                             histology={"mitoses_per_50_hpf": 4}))
        alert = _alert(a, "ALERT-GROSS-RESIDUAL")
        assert "MISS-NODES" not in alert.conditional_on
        assert _item(a, FIRST_LINE).strength == "treatment of choice"

    def test_i9_and_i25_agree_with_i10(self) -> None:
        """The interpretations must not read 'not assessed' two ways."""
        from pecoma.knowledge import load_knowledge

        texts = load_knowledge().interpretations
        assert "unknown or not assessed" not in texts["I9"].text
        assert "unknown or not assessed" not in texts["I25"].text
        assert "I10" in texts["I9"].text and "I10" in texts["I25"].text


class TestResectabilityQuestion:
    """'No' to 'can surgery remove it?' makes the disease advanced (I6). The question had
    promised 'an mTOR inhibitor first (S12, S13)', which I25 withdraws for a tumour not
    shown malignant: what it says the answer changes must hold either way."""

    @pytest.mark.parametrize("missing", ["MISS-RESIDUAL-RESECTABLE", "MISS-PRIMARY-RESECTABLE"])
    def test_would_change_names_both_branches(self, missing: str) -> None:
        from pecoma.knowledge import load_knowledge

        text = load_knowledge().missing[missing].would_change
        assert "an mTOR inhibitor first" not in text
        assert "treatment of choice" in text and "sarcoma team to consider" in text
        assert "I25" in text

    def test_asked_after_r2_for_a_tumour_not_shown_malignant(self) -> None:
        a = _assess(_variant(stage={"status": "localized", "resectable": "unknown"}))
        [asked] = [m for m in a.missing if m.id == "MISS-RESIDUAL-RESECTABLE"]
        assert "sarcoma team to consider" in asked.would_change


class TestTheReadingIsSaidAsOurs:
    """S02 places mTOR inhibitors first for advanced disease with no word on malignancy;
    S12 makes them the treatment of choice for malignant PEComa. I25 had said the
    guideline 'says nothing' of the rest while the item cited S02 at 'consider': the
    provenance must say the two differ and which one the project follows."""

    def test_i25_names_both_statements_and_the_choice(self) -> None:
        from pecoma.knowledge import load_knowledge

        text = load_knowledge().interpretations["I25"].text
        assert "says nothing of advanced disease" not in text
        assert "S02" in text and "S12" in text
        assert "project's choice" in text

    def test_item_says_s02_is_unqualified(self) -> None:
        item = _item(_assess(R2_BENIGN), NOT_SHOWN)
        assert "S02" in item.text and "S02" in item.rationale
        assert "without naming malignancy" in item.text


class TestPlanDefinitionScope:
    """The published PlanDefinition's applicability of the mTOR first line and of
    nab-sirolimus said 'advanced disease', any; the engine gives them only for disease
    shown, or possibly, malignant (I25)."""

    @pytest.mark.parametrize("record", [FIRST_LINE, "SUPP-NAB-SIROLIMUS", CHEMO_FIRST])
    def test_applicability_names_malignancy(self, record: str) -> None:
        from pecoma.fhir.plandefinition import plan_definition

        [action] = [a for s in plan_definition()["action"] for a in s["action"]
                    if a["id"] == record]
        words = " ".join(c["expression"]["description"] for c in action["condition"])
        assert "malignant" in words and "I25" in words, (record, words)


class TestALineStartingOnTheEvaluationDate:
    def test_is_not_before_a_resection_recorded_as_done(self) -> None:
        """A line for advanced disease starting on the evaluation date beside a resection
        recorded as done with no date: the resection was done by then, so the line is
        not one that may have come before it (I17): no question about the tumour's
        features before systemic treatment. A line with no start date still is (guard)."""
        case = _variant(stage={"status": "localized", "resectable": "unknown"})
        del case["surgery"]["date"]
        today = copy.deepcopy(case)
        today["systemic"]["therapies"] = [{"agent": "doxorubicin",
                                           "started_on": ON.isoformat()}]
        assert "MISS-FEATURES-BEFORE-SYSTEMIC-THERAPY" not in {
            m.id for m in _assess(today).missing}
        undated = copy.deepcopy(case)
        undated["systemic"]["therapies"] = [{"agent": "doxorubicin"}]
        assert "MISS-FEATURES-BEFORE-SYSTEMIC-THERAPY" in {
            m.id for m in _assess(undated).missing}


class TestOrderSelectFollowsTheScope:
    """CDS order-select assesses the case as if the draft were the first line. For a
    tumour not shown malignant it warned 'the guideline puts an mTOR inhibitor first',
    quoted REC-MTOR-FIRST-LINE's text the engine had not given, and pre-selected replacing
    doxorubicin with sirolimus, while patient-view for the same patient gave the mTOR
    inhibitor only for the team to consider (I25). A card quotes only what the engine
    gives; nothing is pre-selected on advice the engine does not give."""

    @staticmethod
    def _cards(tmp_path: Any, case: dict[str, Any]) -> list[dict[str, Any]]:
        from fastapi.testclient import TestClient

        from pecoma.fhir.writer import bundle_from_case
        from pecoma.web.app import create_app
        from pecoma.web.cds.discovery import ORDER_SELECT
        from pecoma.web.cds.settings import CdsSettings
        from pecoma.web.config import WebConfig

        from fhir_support import hook_request, patient_id, prefetch_of

        bundle = bundle_from_case(parse_case(case))
        pid = patient_id(bundle)
        body = hook_request("order-select", pid, prefetch=prefetch_of(bundle))
        body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                          "entry": [{"resource": {
            "resourceType": "MedicationRequest", "id": "d1", "status": "draft",
            "intent": "order", "subject": {"reference": f"Patient/{pid}"},
            "medicationCodeableConcept": {"coding": [{
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3639"}],
                "text": "Doxorubicin 75 mg/m2"}}}]}
        body["context"]["selections"] = ["MedicationRequest/d1"]
        client = TestClient(create_app(WebConfig(
            database_url=f"sqlite:///{tmp_path / 'cds.db'}", cds=CdsSettings()),
            today=lambda: ON), base_url="http://localhost")
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 200, r.text
        cards: list[dict[str, Any]] = r.json()["cards"]
        return cards

    def test_not_shown_malignant_no_mtor_first_card(self, tmp_path: Any) -> None:
        cards = self._cards(tmp_path, R2_BENIGN)
        for card in cards:
            assert "mTOR inhibitor first" not in card["summary"], card["summary"]
            assert "first-line systemic treatment" not in card.get("detail", "")
            assert not any(s.get("isRecommended") for s in card.get("suggestions") or [])

    @pytest.mark.parametrize("dated", [True, False], ids=["resection-dated",
                                                         "resection-undated"])
    def test_the_draft_starts_the_day_it_is_signed(self, tmp_path: Any,
                                                   dated: bool) -> None:
        """The draft assessed as if given starts the day of the call, after the recorded
        resection: the R2 residue of a tumour not shown malignant, its resectability not
        recorded, is the case patient-view sees. Undated, the draft had been a line that
        may have begun before the resection (I17): the card asked for the tumour's
        features "before systemic treatment", the linked report turned the risk
        indeterminate and the residual alert critical, and the warning stood where the
        same tumour recorded unresectable got none (I25). A resection recorded as done
        with no date was done by the day of the call, so the draft is not before it
        either (I17)."""
        case = _variant(stage={"status": "localized", "resectable": "unknown"})
        if not dated:
            del case["surgery"]["date"]
        # a tumour not shown malignant: a chemotherapy first line is no departure from
        # the guideline's order (I25), so no card at all (neither a warning nor a card
        # saying the record could not be checked)
        assert self._cards(tmp_path, case) == []

    def test_nodes_unknown_card_provisional_not_preselected(self, tmp_path: Any) -> None:
        """Malignancy open on the nodes: the warning stands (the safer branch), but its
        replacement waits on MISS-NODES and is not pre-selected."""
        cards = self._cards(tmp_path, _variant(stage={"lymph_nodes": "unknown"}))
        [card] = [c for c in cards if "mTOR inhibitor first" in c["summary"]]
        assert "MISS-NODES" in card["detail"]
        [suggestion] = card["suggestions"]
        assert suggestion["isRecommended"] is False
        assert suggestion["label"].startswith("(provisional)")

    def test_malignant_keeps_the_preselected_replacement(self, tmp_path: Any) -> None:
        cards = self._cards(tmp_path, _variant(stage={"lymph_nodes": "positive"}))
        [card] = [c for c in cards if "mTOR inhibitor first" in c["summary"]]
        [suggestion] = card["suggestions"]
        assert suggestion["isRecommended"] is True


# --- a tumour never resected: what a missing criterion can and cannot change ----------
#
# The features of a tumour never resected were read on a biopsy or imaging, which cannot
# show them absent (I6): its Folpe category stays open up to malignant whatever they say,
# and that opening alone is no evidence of malignancy (I25). A criterion left unknown
# keeps the malignant advice provisional only when it could make the tumour malignant on
# the features recorded (Folpe: two worrisome features). With every other feature absent
# and the size 4 cm, the mitotic count is one worrisome feature at most: a count of 0 or
# 3 gives the same advice, so the count is asked but does not decide it.

NEVER_RESECTED = _variant(surgery={"status": "not_performed", "date": None, "margin": None})
del NEVER_RESECTED["surgery"]["date"], NEVER_RESECTED["surgery"]["margin"]


def _never_resected(**histology: Any) -> dict[str, Any]:
    case = copy.deepcopy(NEVER_RESECTED)
    case["histology"].update(histology)
    return case


class TestNeverResectedOneUnknownCriterion:
    @pytest.mark.parametrize("unknown", [{"mitoses_per_50_hpf": None},
                                         {"necrosis": "unknown"}],
                             ids=["mitoses", "necrosis"])
    def test_one_unknown_criterion_that_cannot_make_it_malignant(
            self, unknown: dict[str, Any]) -> None:
        """One unknown worrisome feature beside none present: not shown malignant, as
        with the feature recorded either way; no nab-sirolimus; the item does not wait
        on the unknown criterion."""
        a = _assess(_never_resected(**unknown))
        assert FIRST_LINE not in _ids(a) and "SUPP-NAB-SIROLIMUS" not in _ids(a)
        assert _item(a, NOT_SHOWN).conditional_on == ()
        for known in ({"mitoses_per_50_hpf": 0}, {"mitoses_per_50_hpf": 3},
                      {"necrosis": "present"}, {"necrosis": "absent"}):
            assert NOT_SHOWN in _ids(_assess(_never_resected(**known)))

    def test_no_chemotherapy_first_alert_on_the_unknown_count(self) -> None:
        """Doxorubicin given first to the same tumour: the alert resting on S13's order
        for malignant PEComa is not raised (as with a count of 3), rather than raised
        provisional on a count that could not change it."""
        case = _never_resected(mitoses_per_50_hpf=None)
        case["systemic"]["therapies"] = [{"agent": "doxorubicin",
                                          "started_on": "2025-04-01"}]
        a = _assess(case)
        assert "ALERT-CHEMO-BEFORE-MTOR" not in {x.id for x in a.alerts}

    @pytest.mark.parametrize("histology", [
        {"mitoses_per_50_hpf": None, "vascular_invasion": "unknown"},
        {"mitoses_per_50_hpf": None, "necrosis": "present"},
    ], ids=["two-unknown", "one-present-one-unknown"])
    def test_unknown_criteria_that_could_make_it_malignant_keep_the_safer_branch(
            self, histology: dict[str, Any]) -> None:
        """Two worrisome features possible on the features recorded: the advice for
        malignant PEComa stands, provisional on the unknown criteria (guard)."""
        a = _assess(_never_resected(**histology))
        assert FIRST_LINE in _ids(a)
        assert "MISS-MITOSES" in _item(a, FIRST_LINE).conditional_on

    def test_a_tumour_to_be_resected_waits_on_its_specimen_not_on_the_count(self) -> None:
        """A localized tumour still to be resected, the count unknown, nothing else
        worrisome: the high-risk schedule of a tumour that may prove malignant waits on
        the resection specimen, which will settle it; the count cannot. Its reason is
        the resection still to come, not the classification's criteria."""
        case = _never_resected(mitoses_per_50_hpf=None)
        case["stage"] = {"status": "localized", "lymph_nodes": "negative"}
        case["surgery"] = {"status": "planned"}
        a = _assess(case)
        [item] = [f for f in a.followup if f.id == "FU-MAY-BE-MALIGNANT-NOT-RESECTED"]
        assert item.conditional_on == ("MISS-RESECTION-SPECIMEN",)
