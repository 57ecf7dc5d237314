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
"""

from __future__ import annotations

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
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import hook_request, patient_id, prefetch_of

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
        project's interpretations I1 (risk), I3 (low-risk schedule) and I12 (its
        imaging), and the supplementary low-risk schedule (ESMO-EURACAN-GENTURIS 2021)."""
        head = patient_view(client, scenario_bundle("margin-r1"))[0]
        label = head["source"]["label"]
        assert label.startswith("pecoma · guideline S03")
        assert " · interpretation I1, I3, I12 · " in label
        assert "supplementary (not from the guideline) · ESMO-EURACAN-GENTURIS 2021" in label
        assert label.endswith(f" · knowledge {VERSION}")

    def test_a_supplementary_headline_is_said_so(self, client: TestClient) -> None:
        """Uterine PEComa progressing on sirolimus: the headline is the published
        experience after mTOR inhibitors (Sanfilippo 2019), not the guideline's advice;
        it was shown as the bare title."""
        head = patient_view(client, scenario_bundle("uterine-progressed-on-sirolimus"))[0]
        assert ("(supplementary, not from the guideline) Published experience after mTOR "
                "inhibitors") in head["summary"]
        assert "Sanfilippo et al. 2019" in head["source"]["label"]

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
