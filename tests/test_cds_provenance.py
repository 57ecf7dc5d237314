"""What a CDS card's items are, said where the EHR shows a card first: its summary and
its source label.

Every card was labelled "pecoma · PEComa guideline, knowledge …", the warning cards of
supplementary knowledge too ("TFE3-positive PEComa": published evidence, Argani 2010 and
Wagner 2021, not the guideline), and their summary was the bare title: only the collapsed
detail said "supplementary (not from the guideline)". CDS Hooks makes ``source.label``
the displayed source of the card's information, and the project keeps knowledge from
outside the guideline visibly apart. Now the label names what the items are, as every
report labels an item: guideline statements with their references, the project's
interpretations by number, supplementary knowledge by its published references; a card
about supplementary knowledge ends its summary with "(supplementary, not from the
guideline)", kept whole when the summary is cut.

On order-select, the suggestion "Replace with an mTOR inhibitor (sirolimus) draft" and
its draft's note "(guideline S12, S13)" filed sirolimus under the guideline, which names
mTOR inhibitors and no agent (S02, S12, S13); no interpretation or setting chooses it.
The suggestion now says that sirolimus is an example draft and that the team chooses, and
the card's mTOR recommendation carries its Source (and what it is provisional on), as the
alert above it does.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case.parse import parse_case
from pecoma.fhir.writer import bundle_from_case
from pecoma.knowledge import load_knowledge
from pecoma.web.app import create_app
from pecoma.web.cds.cards import SUMMARY_MAX, summary_text
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

VERSION = load_knowledge().version
SCENARIOS = Path(__file__).parent / "scenarios"
TAG = " (supplementary, not from the guideline)"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("provenance")
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'registry.db'}",
                                           cds=CdsSettings()),
                                 today=lambda: dt.date(2026, 11, 28)),
                      base_url="http://localhost")


def scenario_bundle(name: str) -> dict[str, Any]:
    """The scenario's case as the FHIR record an EHR would send (the project's writer)."""
    case = parse_case(json.loads((SCENARIOS / name / "case.json").read_text("utf-8")),
                      "case.json")
    return bundle_from_case(case)


def patient_view(client: TestClient, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def card_of(cards: list[dict[str, Any]], record: str) -> dict[str, Any]:
    return next(c for c in cards if c["source"].get("topic", {}).get("code") == record)


class TestSupplementaryAlertCards:
    """The warning cards of knowledge from outside the guideline."""

    @pytest.mark.parametrize(("scenario", "record", "summary", "references"), [
        # TFE3 expression: Argani 2010 (the TFE3-rearranged subset), Wagner 2021 (AMPECT)
        ("tfe3-positive", "SUPP-TFE3", "TFE3-positive PEComa",
         "Argani et al. 2010; Wagner et al. 2021 (AMPECT)"),
        ("molecular-tfe3-fusion", "SUPP-TFE3-FUSION", "TFE3 rearrangement found",
         "Argani et al. 2010; Agaram et al. 2015"),
        # melanoma shares the melanocytic markers: WHO Classification 2020
        ("prior-melanoma", "SUPP-MELANOMA-MARKERS",
         "Earlier diagnosis of melanoma: the melanocytic markers are shared",
         "WHO Classification 2020"),
        ("melanocytic-positive-smooth-muscle-negative", "SUPP-SMOOTH-MUSCLE-NEGATIVE",
         "Melanocytic markers positive, every smooth-muscle marker tested negative",
         "WHO Classification 2020"),
        # Folpe 2005 and Bennett 2018 place a gynecologic tumour apart: both published
        # classifications, neither is the guideline's
        ("uterine-folpe-bennett-disagree", "ALERT-CLASSIFICATIONS-DISAGREE",
         "The pathology classifications disagree",
         "Folpe et al. 2005; Bennett et al. 2018"),
    ])
    def test_the_summary_and_the_source_say_supplementary(
        self, client: TestClient, scenario: str, record: str, summary: str, references: str
    ) -> None:
        """Was "pecoma · PEComa guideline, knowledge …" and the bare title."""
        card = card_of(patient_view(client, scenario_bundle(scenario)), record)
        assert card["summary"] == summary + TAG
        assert card["source"]["label"] == (
            f"pecoma · supplementary (not from the guideline) · {references} · "
            f"knowledge {VERSION}")
        assert len(card["summary"]) < 140

    def test_a_guideline_alert_names_its_statements_and_interpretation(
        self, client: TestClient
    ) -> None:
        """R1 margin of a low-risk, Folpe-benign tumour: the residual-tumour warning rests on
        S27 and S26 (refs [4], [2]) read by the project's I9; its summary is its title,
        no "supplementary" tag (it is the guideline's)."""
        card = card_of(patient_view(client, scenario_bundle("margin-r1")),
                       "ALERT-RESIDUAL-UNCERTAIN-BEHAVIOUR")
        assert card["summary"] == "Tumour may have been left behind"
        assert card["source"]["label"] == (
            f"pecoma · guideline S27, S26 · ref [4], [2] · interpretation I9 · "
            f"knowledge {VERSION}")


class TestSummaryCard:
    def test_names_the_guideline_the_interpretations_and_the_supplementary_items(
        self, client: TestClient
    ) -> None:
        """Low-risk R1 (margin-r1): the summary card shows the guideline's items, the
        project's interpretations I1 (risk), I3 (low-risk schedule), I9 (whether S27's
        malignant PEComa applies, cited by the re-excision advice) and I12 (its imaging),
        and the supplementary low-risk schedule (ESMO-EURACAN-GENTURIS 2021)."""
        head = patient_view(client, scenario_bundle("margin-r1"))[0]
        label = head["source"]["label"]
        assert label.startswith("pecoma · guideline S03")
        assert " · interpretation I1, I3, I9, I12 · " in label
        assert "supplementary (not from the guideline) · ESMO-EURACAN-GENTURIS 2021" in label
        assert label.endswith(f" · knowledge {VERSION}")

    def test_a_supplementary_headline_is_said_so(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A supplementary item heading the card is said to be so, with its published
        source: it had been shown as the bare title. No case heads the card with one
        today (the guideline's own items, its silence after progression among them, come
        first: tests/test_cds_headline.py), so the published experience after mTOR
        inhibitors (Sanfilippo 2019) of a uterine PEComa progressing on sirolimus is put
        first here."""
        from pecoma.web.cds import patient_view as pv

        monkeypatch.setattr(pv, "_HEADLINE", ("SUPP-AFTER-MTOR",))
        head = patient_view(client, scenario_bundle("uterine-progressed-on-sirolimus"))[0]
        assert ("(supplementary, not from the guideline) Published experience after mTOR "
                "inhibitors") in head["summary"]
        assert "Sanfilippo et al. 2019" in head["source"]["label"]

    def test_the_surgery_headline_keeps_s17_s_condition(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The summary card shows the leading recommendation's title alone, without its
        strength: REC-AGGRESSIVE-SURGERY heading it read "Attempt removal of every focus
        of present disease", dropping S17's "whenever possible". Put first here for a
        resectable local recurrence at the broad ligament (REC-AGGRESSIVE-SURGERY leads
        whenever no earlier headline applies); the condition is in the summary, whole."""
        from pecoma.web.cds import patient_view as pv

        monkeypatch.setattr(pv, "_HEADLINE", ("REC-AGGRESSIVE-SURGERY",))
        head = patient_view(client,
                            scenario_bundle("broad-ligament-local-recurrence-resectable"))[0]
        assert ("Attempt removal of every focus of present disease where possible"
                in head["summary"]), head["summary"]

    def test_a_guideline_headline_has_no_tag(self, client: TestClient) -> None:
        """Complete resection (tfe3-positive's summary): the guideline's advice."""
        head = patient_view(client, scenario_bundle("tfe3-positive"))[0]
        assert "supplementary" not in head["summary"]


def test_a_cut_summary_keeps_its_tag() -> None:
    """A summary longer than the limit is cut before the tag, never through it."""
    text = summary_text("x" * 200, TAG)
    assert text.endswith("…" + TAG) and len(text) == SUMMARY_MAX


def test_a_card_of_no_item_is_the_service_s(client: TestClient) -> None:
    """A record that cannot be read (no disease status: nothing assessed) shows no
    knowledge item: its source is the service's."""
    bundle = scenario_bundle("tfe3-positive")
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "Observation"
                       or "disease-status" not in json.dumps(e["resource"])]
    [card] = patient_view(client, bundle)
    assert card["summary"].startswith("PEComa guideline check not possible")
    assert card["source"]["label"] == f"pecoma · PEComa guideline · knowledge {VERSION}"


def order_select(client: TestClient, bundle: dict[str, Any],
                 draft_id: str | None = "draft-1") -> dict[str, Any]:
    """A doxorubicin draft, first line for the patient's advanced PEComa."""
    pid = patient_id(bundle)
    body = hook_request("order-select", pid)
    body["prefetch"] = prefetch_of(copy.deepcopy(bundle))
    draft: dict[str, Any] = {
        "resourceType": "MedicationRequest", "status": "draft", "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"text": "doxorubicin"}}
    if draft_id is not None:
        draft["id"] = draft_id
    body["context"].update({"draftOrders": {"resourceType": "Bundle", "type": "collection",
                                            "entry": [{"resource": draft}]}})
    if draft_id is not None:
        body["context"]["selections"] = [f"MedicationRequest/{draft_id}"]
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    return dict(card)


class TestOrderSelectSuggestion:
    """Metastatic renal PEComa, no systemic line, mTOR inhibitors available and not
    contraindicated, an empty allergy list: a doxorubicin draft gets the first-line
    warning and the replacement."""

    def test_sirolimus_is_said_to_be_an_example(self, client: TestClient) -> None:
        card = order_select(client, example("metastatic-lung-metachronous"))
        [suggestion] = card["suggestions"]
        assert suggestion["label"] == ("Replace with an mTOR inhibitor (here sirolimus, as "
                                       "an example draft; the team chooses)")
        create = suggestion["actions"][1]
        assert create["description"] == ("Draft an mTOR-inhibitor order for review "
                                         "(sirolimus as pecoma's example; the team chooses "
                                         "the agent)")
        # the draft itself: the guideline makes the class first and names no agent
        [note] = create["resource"]["note"]
        assert note["text"] == (
            "Proposed by pecoma in place of first-line chemotherapy: the guideline makes an "
            "mTOR inhibitor the first line (S12, S13) and names no agent; sirolimus is "
            "pecoma's example, not the guideline's choice. Choose the mTOR inhibitor and "
            "dose with the sarcoma team.")
        assert ("**The suggested draft:** The guideline names mTOR inhibitors, not an agent "
                "(S02, S12, S13): the sirolimus of the suggested draft is pecoma's example"
                ) in card["detail"]

    def test_a_draft_without_id_says_so_too(self, client: TestClient) -> None:
        card = order_select(client, example("metastatic-lung-metachronous"), draft_id=None)
        [suggestion] = card["suggestions"]
        assert suggestion["label"] == ("Add an mTOR inhibitor (here sirolimus, as an example "
                                       "draft; the team chooses); remove the chemotherapy "
                                       "draft by hand")

    def test_the_mtor_recommendation_carries_its_source(self, client: TestClient) -> None:
        """The recommendation block had title, text and Why but no Source; the label names
        both items: the alert (S02, S12-S14) and the recommendation (S02, S12, S13)."""
        card = order_select(client, example("metastatic-lung-metachronous"))
        assert ("**An mTOR inhibitor is the first-line systemic treatment** — For advanced "
                "disease") in card["detail"]
        rec = card["detail"].split("**An mTOR inhibitor is the first-line systemic "
                                   "treatment**")[1]
        assert "*Source:* guideline S02, S12, S13 · ref [1]" in rec.split("Draft order:")[0]
        assert card["source"]["label"] == f"pecoma · guideline S02, S12–S14 · knowledge {VERSION}"

    def test_a_provisional_recommendation_says_so_on_the_card(self, client: TestClient
                                                             ) -> None:
        """Every melanocytic marker tested negative (ihc-melanocytic-negative): the PEComa
        diagnosis is in doubt (I11), so the mTOR advice is provisional on that evidence,
        as the report says; the card now says it under the recommendation and lists the
        missing fact."""
        card = order_select(client, scenario_bundle("ihc-melanocytic-negative"))
        rec = card["detail"].split("**An mTOR inhibitor is the first-line systemic "
                                   "treatment**")[1].split("Draft order:")[0]
        assert "*Provisional until supplied* (see the missing facts): " \
               "MISS-MELANOCYTIC-EVIDENCE" in rec
        assert "**Missing facts**" in card["detail"]


class TestASuggestionOnProvisionalAdviceIsNotRecommended:
    """CDS Hooks 2.0 makes ``isRecommended`` the suggestion the EHR pre-selects. The
    replacement of a first-line chemotherapy draft rests on the mTOR advice; it was flagged
    recommended even when pecoma itself marked that advice provisional (waiting on a
    missing fact), so one click accepted advice the card called unsettled. Now a suggestion
    resting on provisional advice is not recommended, and its label and the card say it is
    provisional and what it waits on."""

    def test_settled_advice_is_recommended(self, client: TestClient) -> None:
        """Metastatic PEComa, HMB-45 positive, mTOR inhibitors available, no line given:
        the mTOR advice waits on nothing, so the replacement is the one to pre-select."""
        card = order_select(client, example("metastatic-lung-metachronous"))
        [suggestion] = card["suggestions"]
        assert suggestion["isRecommended"] is True
        assert not suggestion["label"].startswith("(provisional)")
        assert "provisional and not pre-selected" not in card["detail"]

    def test_every_melanocytic_marker_negative_is_not_recommended(
            self, client: TestClient) -> None:
        """Every melanocytic marker tested negative (ihc-melanocytic-negative): the PEComa
        diagnosis is in doubt (S24, S25, I11), so the mTOR advice waits on
        MISS-MELANOCYTIC-EVIDENCE; the replacement may still be offered, but not
        pre-selected, and it says why."""
        card = order_select(client, scenario_bundle("ihc-melanocytic-negative"))
        [suggestion] = card["suggestions"]
        assert suggestion["isRecommended"] is False
        assert suggestion["label"] == ("(provisional) Replace with an mTOR inhibitor (here "
                                       "sirolimus, as an example draft; the team chooses)")
        assert ("**The suggestion is provisional and not pre-selected:** the advice it "
                "rests on waits on MISS-MELANOCYTIC-EVIDENCE") in card["detail"]

    def test_the_card_summary_says_provisional_as_the_suggestion_does(
            self, client: TestClient) -> None:
        """The card's summary, what an EHR shows first, says the advice it gives waits on
        a missing fact, as its suggestion's label does: "(provisional) Chemotherapy first
        line …" while every melanocytic marker is negative (MISS-MELANOCYTIC-EVIDENCE);
        settled advice keeps the plain summary. It had read as settled advice, the card's
        detail alone saying otherwise."""
        card = order_select(client, scenario_bundle("ihc-melanocytic-negative"))
        assert card["summary"] == ("(provisional) Chemotherapy first line for advanced "
                                   "PEComa: the guideline puts an mTOR inhibitor first")
        assert len(card["summary"]) < 140
        settled = order_select(client, example("metastatic-lung-metachronous"))
        assert settled["summary"] == ("Chemotherapy first line for advanced PEComa: the "
                                      "guideline puts an mTOR inhibitor first")

    def test_a_draft_without_id_alike(self, client: TestClient) -> None:
        """The suggestion that only adds the proposal rests on the same advice."""
        card = order_select(client, scenario_bundle("ihc-melanocytic-negative"),
                            draft_id=None)
        [suggestion] = card["suggestions"]
        assert suggestion["isRecommended"] is False
        assert suggestion["label"].startswith("(provisional) Add an mTOR inhibitor")
