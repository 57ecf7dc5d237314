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

from pecoma.store.cds import CardRecord, CdsStore
from pecoma.store.decisions import current_decisions
from pecoma.store.models import BoardDecision
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.feedback import decision_ids
from pecoma.web.cds.service import CdsService, limits_of
from pecoma.web.config import WebConfig
from pecoma.web.store_access import registry_of

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

    def test_uuids_echoed_in_upper_case_name_the_same_card(self, app: Any) -> None:
        """RFC 9562 reads a uuid's hex digits in either case: an EHR echoing the card's
        and the suggestion's uuids upper-cased names the same card and suggestion, and
        the decision is recorded against the card as issued."""
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        r = send(client, ORDER_SELECT, card=card["uuid"].upper(), outcome="accepted",
                 acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"].upper()}])
        assert r.status_code == 200, r.text
        assert {d[0] for d in decisions(app)} == {card["uuid"]}


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


#: When the cards of these tests are issued (the store's clock).
ISSUED = dt.datetime(2026, 12, 6, 13, 30, tzinfo=dt.UTC)


class Clock:
    """The store's clock, set by the test."""

    def __init__(self) -> None:
        self.now = ISSUED

    def __call__(self) -> dt.datetime:
        return self.now


def at(minutes: float) -> str:
    """The time ``minutes`` after the card was issued, as the EHR writes it."""
    return (ISSUED + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


class TestWhenTheClinicianActed:
    """outcomeTimestamp is when the clinician acted (CDS Hooks 2.0.1): repeated feedback
    on one card (the spec allows it) is ordered by it, not by arrival; and it is the
    decision's date in the concordance figures (filed by year of the decision), so a
    time before the card existed or in the future is refused with a 400 naming it."""

    @pytest.fixture
    def clock(self, app: Any) -> Clock:
        clock = Clock()
        app.state.cds_store = CdsStore(registry_of(app.state).engine,
                                       limits_of(app.state.config.cds), clock=clock)
        return clock

    def current(self, app: Any, card: str) -> list[tuple[str, str, str | None]]:
        return [(d.record_id, d.decision, d.reason_code)
                for d in current_decisions(registry_of(app.state)) if d.card_uuid == card]

    def test_the_latest_action_is_current_whatever_arrives_last(self, app: Any,
                                                                clock: Clock) -> None:
        """Accepted at 13:40, then an override stamped 13:35 delivered late (a client
        that queues and retries): the clinician's last action was to accept, so the
        card counts as accepted, not as declined for a clinical trial."""
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        clock.now = ISSUED + dt.timedelta(minutes=15)
        accepted = send(client, ORDER_SELECT, card=card["uuid"], outcome="accepted",
                        acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}],
                        outcomeTimestamp=at(10))
        late = send(client, ORDER_SELECT, card=card["uuid"], outcome="overridden",
                    overrideReason={"reason": card["overrideReasons"][0]},
                    outcomeTimestamp=at(5))
        assert (accepted.status_code, late.status_code) == (200, 200), late.text
        assert self.current(app, card["uuid"]) == [
            ("ALERT-CHEMO-BEFORE-MTOR", "accepted", None),
            ("REC-MTOR-FIRST-LINE", "accepted", None)]

    def test_a_newer_action_supersedes(self, app: Any, clock: Clock) -> None:
        """Control: overridden at 13:40 after accepted at 13:35 is current; two answers
        stamped the same instant are ordered by arrival (the later one counts)."""
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        clock.now = ISSUED + dt.timedelta(minutes=15)
        send(client, ORDER_SELECT, card=card["uuid"], outcome="accepted",
             acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}],
             outcomeTimestamp=at(5))
        send(client, ORDER_SELECT, card=card["uuid"], outcome="overridden",
             outcomeTimestamp=at(10))
        assert {d[1] for d in self.current(app, card["uuid"])} == {"declined"}
        send(client, ORDER_SELECT, card=card["uuid"], outcome="accepted",
             acceptedSuggestions=[{"id": card["suggestions"][0]["uuid"]}],
             outcomeTimestamp=at(10))
        assert {d[1] for d in self.current(app, card["uuid"])} == {"accepted"}

    @pytest.mark.parametrize(("stamp", "says"), [
        ("1985-04-12T23:20:50.52Z", "before the card was issued"),
        ("2020-12-11T00:00:00Z", "before the card was issued"),
        (at(-6), "before the card was issued"),
        (at(16), "in the future"),
        ("2199-12-11T00:00:00Z", "in the future"),
    ])
    def test_a_time_the_card_did_not_exist_or_to_come_is_a_400(
            self, app: Any, clock: Clock, stamp: str, says: str) -> None:
        """Years before the card was issued, or after now (13:40), beyond five minutes
        of clock difference: 400 naming the field and the value, nothing stored."""
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        clock.now = ISSUED + dt.timedelta(minutes=10)
        r = send(client, ORDER_SELECT, card=card["uuid"], outcome="overridden",
                 outcomeTimestamp=stamp)
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert error["path"] == "feedback[0].outcomeTimestamp"
        assert stamp in error["value"] and says in error["rule"]
        assert app.state.cds.store().feedback() == [] and decisions(app) == []

    @pytest.mark.parametrize("stamp", [at(-4), at(0), at(14), "2026-12-06T08:35:00-05:00"])
    def test_a_little_clock_difference_is_accepted(self, app: Any, clock: Clock,
                                                   stamp: str) -> None:
        """Control: four minutes before the issue (the EHR's clock a little behind), at
        it, four minutes past now, and an offset naming an instant in between."""
        client = TestClient(app, base_url="http://localhost")
        card = order_select_card(client)
        clock.now = ISSUED + dt.timedelta(minutes=10)
        r = send(client, ORDER_SELECT, card=card["uuid"], outcome="overridden",
                 outcomeTimestamp=stamp)
        assert r.status_code == 200, r.text
