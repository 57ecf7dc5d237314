"""CDS Hooks feedback as the registry's decisions: which answers are decisions at all.

CDS Hooks 2.0.1 (Feedback): ``overridden`` is what the EHR sends when the user viewed a
card and dismissed it, with or without a reason. On a card that offered something to act
on (order-select's "mTOR inhibitor first" warning: a suggestion and override reasons) that
is the clinician declining the recommendation, and the concordance figures count it
(docs/registry.md, "Decisions recorded"). On an informational card (the patient-view
summary: no suggestion, no reason asked) it is no decision about the recommendations the
card lists: stored as feedback only. A risk group, a classification or a surveillance
item is never a decision from any card.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pecoma.store.cds import CardRecord
from pecoma.store.models import BoardDecision
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.feedback import decision_ids
from pecoma.web.cds.service import CdsService
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
METASTATIC = "metastatic-lung-metachronous"


@pytest.fixture
def app(tmp_path: Path) -> Any:
    return create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}"),
                      today=lambda: ON)


def now_stamp(shift: dt.timedelta = dt.timedelta(0)) -> str:
    """A time the EHR could send: now (the store's clock), shifted."""
    return (dt.datetime.now(dt.UTC) + shift).isoformat().replace("+00:00", "Z")


def patient_view_cards(client: TestClient) -> list[dict[str, Any]]:
    bundle = example(METASTATIC)
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request(
        "patient-view", patient_id(bundle), prefetch=prefetch_of(bundle)))
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def order_select_card(client: TestClient) -> dict[str, Any]:
    """The warning on a doxorubicin draft for metastatic PEComa with no systemic line:
    a suggestion (an mTOR inhibitor draft) and override reasons (S02, S12-S14)."""
    bundle = example(METASTATIC)
    pid = patient_id(bundle)
    order = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "medicationCodeableConcept": {"text": "doxorubicin"},
             "subject": {"reference": f"Patient/{pid}"}}
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle))
    body["context"].update({"draftOrders": {"resourceType": "Bundle", "type": "collection",
                                            "entry": [{"resource": order}]},
                            "selections": ["MedicationRequest/draft-1"]})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    card: dict[str, Any] = r.json()["cards"][0]
    assert card.get("suggestions") and card.get("overrideReasons"), card
    return card


def send(client: TestClient, service: str, **item: Any) -> Any:
    return client.post(f"/cds-services/{service}/feedback", json={"feedback": [{
        "outcomeTimestamp": now_stamp(), **item}]})


def decisions(app: Any) -> list[tuple[str, str, str, str | None]]:
    svc: CdsService = app.state.cds
    with svc.store().engine.connect() as conn:
        rows = conn.execute(select(BoardDecision.card_uuid, BoardDecision.record_id,
                                   BoardDecision.decision, BoardDecision.reason_code)
                            .where(BoardDecision.source == "cds-hooks")
                            .order_by(BoardDecision.id)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


class TestInformationalCards:
    def test_dismissing_the_summary_card_is_feedback_only(self, app: Any) -> None:
        """The patient-view summary of a metastatic case lists surgery, surveillance, the
        risk group (RISK-NOT-APPLICABLE) and the mTOR advice, and offers nothing to
        accept: its dismissal without a reason had been filed as 15 'declined' board
        decisions. It is kept as feedback (with the card's record ids), and no decision
        is recorded."""
        client = TestClient(app, base_url="http://localhost")
        summary = patient_view_cards(client)[0]
        assert "suggestions" not in summary and "overrideReasons" not in summary
        r = send(client, PATIENT_VIEW, card=summary["uuid"], outcome="overridden")
        assert r.status_code == 200, r.text
        [kept] = app.state.cds.store().feedback()
        assert kept.card == summary["uuid"] and kept.outcome == "overridden"
        assert "REC-MTOR-FIRST-LINE" in kept.record_ids
        assert any(rid.startswith("RISK-") for rid in kept.record_ids)
        assert any(rid.startswith("FU-") for rid in kept.record_ids)
        assert decisions(app) == []

    def test_dismissing_an_alert_card_is_feedback_only(self, app: Any) -> None:
        """Every patient-view card is informational (no suggestion, no reason asked):
        none of their dismissals is a decision."""
        client = TestClient(app, base_url="http://localhost")
        cards = patient_view_cards(client)
        for card in cards:
            r = send(client, PATIENT_VIEW, card=card["uuid"], outcome="overridden")
            assert r.status_code == 200, r.text
        assert len(app.state.cds.store().feedback()) == len(cards)
        assert decisions(app) == []


class TestActionableCards:
    def test_overridden_without_a_reason_is_declined(self, app: Any) -> None:
        """Control: the order-select warning offered an mTOR inhibitor draft and reasons;
        dismissing it is declining the recommendation (no reason given), for its alert
        and its recommendation, as before."""
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        r = send(client, ORDER_SELECT, card=card["uuid"], outcome="overridden")
        assert r.status_code == 200, r.text
        assert decisions(app) == [
            (card["uuid"], "ALERT-CHEMO-BEFORE-MTOR", "declined", None),
            (card["uuid"], "REC-MTOR-FIRST-LINE", "declined", None)]

    def test_accepted_is_accepted(self, app: Any) -> None:
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        r = send(client, ORDER_SELECT, card=card["uuid"], outcome="accepted",
                 acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}])
        assert r.status_code == 200, r.text
        assert [d[2] for d in decisions(app)] == ["accepted", "accepted"]


class TestDecisionIds:
    def card(self, record_ids: tuple[str, ...], **offered: Any) -> CardRecord:
        return CardRecord(uuid="c" * 36, service=ORDER_SELECT, hook_instance="h",
                          indicator="warning", summary="s", record_ids=record_ids,
                          knowledge_version="1", **offered)

    def test_risk_groups_and_surveillance_never_are_decisions(self) -> None:
        """Even on a card offering a reason, a risk group (RISK-HIGH), a classification
        or a surveillance item (FU-*) is no decision; the recommendation and the alert
        are; a record id the knowledge does not hold is none either."""
        card = self.card(("RISK-HIGH", "FU-CHEST-CT", "REC-MTOR-FIRST-LINE",
                          "ALERT-CHEMO-BEFORE-MTOR", "REC-NO-SUCH-RECORD"),
                         override_reasons=("sys|team-decision",))
        assert decision_ids(card) == ("REC-MTOR-FIRST-LINE", "ALERT-CHEMO-BEFORE-MTOR")

    def test_a_card_offering_nothing_decides_nothing(self) -> None:
        assert decision_ids(self.card(("REC-MTOR-FIRST-LINE",))) == ()
        assert decision_ids(self.card(("REC-MTOR-FIRST-LINE",),
                                      suggestions=("s",))) == ("REC-MTOR-FIRST-LINE",)
