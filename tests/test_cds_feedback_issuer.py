"""Feedback on a card comes from the EHR the card was given to.

With several trusted issuers (two hospitals on one pecoma, a test and a production EHR),
feedback signed by the second issuer had been accepted on a card given to the first:
stored, and for a card offering a suggestion or override reasons written as the team's
decision (``board_decision``, the concordance figures). A card is answered by the EHR it
was issued to: the card keeps the issuer of the call's JWT, and feedback from any other
issuer is refused as feedback on an unknown card is (a 400 naming ``feedback[0].card``,
without saying whether such a card exists). Card uuids are random, so this needs a uuid
leaked between EHRs: hardening, as the replay cache is.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from pecoma.store.cds import CardRecord, issuer_key
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.feedback import feedback_entries
from pecoma.web.cds.settings import CdsSettings, TrustedIssuer
from pecoma.web.config import WebConfig
from pecoma.web.problems import ApiProblem

from fhir_support import example, hook_request, patient_id, prefetch_of

BASE = "https://cds.example.org"
FIRST = "https://ehr.example"
SECOND = "https://ehr2.example"
KEYS = {FIRST: RSAKey.generate_key(2048, parameters={"kid": "first-1"}),
        SECOND: ECKey.generate_key("P-384", parameters={"kid": "second-1"})}
ALG = {FIRST: "RS384", SECOND: "ES384"}


def token(issuer: str, aud: str) -> str:
    now = int(time.time())
    key = KEYS[issuer]
    return jwt.encode({"alg": ALG[issuer], "typ": "JWT", "kid": key.kid},
                      {"iss": issuer, "sub": "client", "aud": aud, "iat": now,
                       "exp": now + 300, "jti": str(uuid.uuid4())}, key,
                      algorithms=[ALG[issuer]])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    db = tmp_path_factory.mktemp("issuer") / "registry.db"
    trusted = {issuer: TrustedIssuer(jwks={"keys": [key.as_dict(private=False)]})
               for issuer, key in KEYS.items()}
    app = create_app(WebConfig(database_url=f"sqlite:///{db}", cds=CdsSettings(
        base_url=BASE, auth="jwt", trusted_issuers=trusted)),
        today=lambda: dt.date(2026, 11, 28))
    return TestClient(app, base_url="http://localhost")


def card_given_to(client: TestClient, issuer: str) -> str:
    """The uuid of the first patient-view card given to a call signed by ``issuer``."""
    bundle = example("localized-high-risk")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body, headers={
        "Authorization": f"Bearer {token(issuer, f'{BASE}/cds-services/{PATIENT_VIEW}')}"})
    assert r.status_code == 200, r.text
    uid: str = r.json()["cards"][0]["uuid"]
    return uid


def feedback(client: TestClient, issuer: str, card: str) -> Any:
    path = f"/cds-services/{PATIENT_VIEW}/feedback"
    body = {"feedback": [{"card": card, "outcome": "overridden",
                          "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat()}]}
    return client.post(path, json=body, headers={
        "Authorization": f"Bearer {token(issuer, f'{BASE}{path}')}"})


class TestTwoTrustedIssuers:
    def test_the_other_ehr_is_refused_as_on_an_unknown_card(self, client: TestClient) -> None:
        """A card given to the first EHR, answered by the second: a 400 naming the card
        field, in the words for an unknown card (it had been stored, 200)."""
        card = card_given_to(client, FIRST)
        r = feedback(client, SECOND, card)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        [issue] = r.json()["errors"]
        assert issue["path"] == "feedback[0].card"
        assert issue["rule"] == ("must be the uuid of a card this service issued to the "
                                 "caller")
        unknown = feedback(client, SECOND, str(uuid.uuid4())).json()["errors"][0]
        assert unknown["rule"] == issue["rule"]

    def test_the_ehr_the_card_was_given_to_is_heard(self, client: TestClient) -> None:
        """The reference point: the first EHR's feedback on its own card is stored, and
        the second EHR's on its own card too."""
        assert feedback(client, FIRST, card_given_to(client, FIRST)).status_code == 200
        assert feedback(client, SECOND, card_given_to(client, SECOND)).status_code == 200


class TestTheRule:
    NOW = dt.datetime.now(dt.UTC)

    def card(self, issuer: str | None) -> CardRecord:
        return CardRecord(uuid="0" * 8 + "-0000-4000-8000-" + "0" * 12, service=PATIENT_VIEW,
                          hook_instance="h", indicator="info", summary="s", record_ids=(),
                          knowledge_version="v", issued_at=None, issuer=issuer_key(issuer))

    def body(self) -> dict[str, Any]:
        return {"feedback": [{"card": self.card(None).uuid, "outcome": "overridden",
                              "outcomeTimestamp": self.NOW.isoformat()}]}

    def test_a_card_whose_ehr_is_not_recorded_takes_no_signed_feedback(self) -> None:
        """A card stored before cards kept their EHR: whose it was cannot be told, so
        feedback sent with a JWT is refused (never taken as the caller's)."""
        with pytest.raises(ApiProblem) as exc:
            feedback_entries(self.body(), PATIENT_VIEW, lambda _u: self.card(None), self.NOW,
                             FIRST)
        assert exc.value.issues[0].path == "feedback[0].card"

    def test_without_jwt_verification_no_issuer_is_compared(self) -> None:
        """With JWTs not verified (loopback) there is no caller to compare: the card is
        answered as before."""
        [entry] = feedback_entries(self.body(), PATIENT_VIEW, lambda _u: self.card(FIRST),
                                   self.NOW, None)
        assert entry.outcome == "overridden"
