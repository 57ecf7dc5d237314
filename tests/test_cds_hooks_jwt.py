"""The EHR's JWT: RS384/ES384 only, trusted issuer and jku, aud, exp, jti; a bare 401."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from pecoma.web.cds_auth import TrustedIssuer
from pecoma.web.cds_hooks import PATIENT_VIEW, CdsHooksSettings, CdsService, build_router

from fhir_support import example, hook_request, json_server, patient_id, prefetch_of

BASE = "https://cds.example.org"
ISSUER = "https://ehr.example.org"
AUD = f"{BASE}/cds-services/{PATIENT_VIEW}"
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
OTHER = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})


def public_jwks(*keys: Any) -> dict[str, Any]:
    return {"keys": [k.as_dict(private=False) for k in keys]}


def token(key: Any = RSA, alg: str = "RS384", header: dict[str, Any] | None = None,
          **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "client-1", "aud": AUD, "iat": now, "exp": now + 300,
            "jti": str(uuid.uuid4())}
    body.update(claims)
    for k in [k for k, v in body.items() if v is None]:
        del body[k]
    head = {"alg": alg, "typ": "JWT", "kid": key.kid} if key is not None else {"alg": alg}
    head.update(header or {})
    return jwt.encode(head, body, key, algorithms=[alg])


def client_for(issuers: dict[str, TrustedIssuer] | None = None) -> TestClient:
    trusted = issuers if issuers is not None else {
        ISSUER: TrustedIssuer(jwks=public_jwks(RSA, EC))}
    settings = CdsHooksSettings(base_url=BASE, require_jwt=True, trusted_issuers=trusted)
    app = FastAPI()
    app.include_router(build_router(CdsService(settings, today=lambda: dt.date(2026, 11, 28))))
    return TestClient(app)


def call(client: TestClient, bearer: str | None, path: str = PATIENT_VIEW) -> Any:
    bundle = example("low-risk")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return client.post(f"/cds-services/{path}", json=body, headers=headers)


def assert_bare_401(response: Any) -> None:
    assert response.status_code == 401
    assert response.content == b""


class TestAccepted:
    @pytest.mark.parametrize(("key", "alg"), [(RSA, "RS384"), (EC, "ES384")])
    def test_valid_token(self, key: Any, alg: str) -> None:
        r = call(client_for(), token(key, alg))
        assert r.status_code == 200 and r.json()["cards"]

    def test_jku_on_the_allow_list_served_on_loopback(self) -> None:
        with json_server(lambda: public_jwks(RSA)) as url:
            client = client_for({ISSUER: TrustedIssuer(jwks_urls=(url,))})
            r = call(client, token(header={"jku": url}))
        assert r.status_code == 200

    def test_aud_as_a_list(self) -> None:
        r = call(client_for(), token(aud=["https://other.example", AUD]))
        assert r.status_code == 200

    def test_discovery_needs_no_token(self) -> None:
        assert client_for().get("/cds-services").status_code == 200


class TestRejected:
    def test_no_token(self) -> None:
        assert_bare_401(call(client_for(), None))

    def test_not_a_jwt(self) -> None:
        assert_bare_401(call(client_for(), "not.a.jwt"))

    def test_wrong_alg_rs256(self) -> None:
        assert_bare_401(call(client_for(), token(RSA, "RS256")))

    def test_wrong_alg_hs256(self) -> None:
        secret = OctKey.generate_key(256, parameters={"kid": "rsa-1"})
        assert_bare_401(call(client_for(), token(secret, "HS256")))

    def test_wrong_aud(self) -> None:
        assert_bare_401(call(client_for(), token(aud=f"{BASE}/cds-services/other")))

    def test_missing_aud(self) -> None:
        assert_bare_401(call(client_for(), token(aud=None)))

    def test_expired(self) -> None:
        past = int(time.time()) - 3600
        assert_bare_401(call(client_for(), token(exp=past, iat=past - 300)))

    def test_missing_exp(self) -> None:
        assert_bare_401(call(client_for(), token(exp=None)))

    def test_replayed_jti(self) -> None:
        client = client_for()
        once = token()
        assert call(client, once).status_code == 200
        assert_bare_401(call(client, once))

    def test_missing_iat_or_sub(self) -> None:
        assert_bare_401(call(client_for(), token(iat=None)))
        assert_bare_401(call(client_for(), token(sub=None)))

    def test_issued_in_the_future(self) -> None:
        assert_bare_401(call(client_for(), token(iat=int(time.time()) + 600)))

    def test_lifetime_too_long(self) -> None:
        assert_bare_401(call(client_for(), token(exp=int(time.time()) + 86400)))

    def test_missing_jti(self) -> None:
        assert_bare_401(call(client_for(), token(jti=None)))

    def test_unknown_issuer(self) -> None:
        assert_bare_401(call(client_for(), token(iss="https://stranger.example")))

    def test_jku_not_on_the_allow_list(self) -> None:
        with json_server(lambda: public_jwks(RSA)) as url:
            client = client_for({ISSUER: TrustedIssuer(jwks_urls=("https://ehr.example/k",))})
            assert_bare_401(call(client, token(header={"jku": url})))

    def test_signed_by_another_key(self) -> None:
        assert_bare_401(call(client_for(), token(OTHER)))

    def test_tampered_payload(self) -> None:
        head, _payload, sig = token().split(".")
        forged = token(aud=AUD, sub="admin").split(".")[1]
        assert_bare_401(call(client_for(), f"{head}.{forged}.{sig}"))

    def test_feedback_is_protected_too(self) -> None:
        client = client_for()
        r = client.post(f"/cds-services/{PATIENT_VIEW}/feedback", json={"feedback": []})
        assert_bare_401(r)


def test_tokens_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Neither accepted nor rejected tokens, nor the patient id, reach the logs."""
    caplog.set_level(logging.DEBUG)
    client = client_for()
    good, bad = token(), token(aud="https://wrong.example")
    call(client, good)
    call(client, bad)
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for secret in (good, bad, good.split(".")[2], "pat-1002"):
        assert secret not in text


def test_rotated_keys_are_fetched_again() -> None:
    """The EHR rotates its key: a token signed with the new key is accepted after a refetch."""
    current = {"keys": [RSA]}
    with json_server(lambda: public_jwks(*current["keys"])) as url:
        settings = CdsHooksSettings(base_url=BASE, require_jwt=True,
                                    trusted_issuers={ISSUER: TrustedIssuer(jwks_urls=(url,))})
        svc = CdsService(settings, today=lambda: dt.date(2026, 11, 28))
        clock = [time.time()]
        svc.verifier.clock = lambda: clock[0]
        app = FastAPI()
        app.include_router(build_router(svc))
        client = TestClient(app)
        assert call(client, token(header={"jku": url})).status_code == 200
        rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
        current["keys"] = [rotated]
        assert_bare_401(call(client, token(rotated, header={"jku": url})))  # too soon
        clock[0] += 61
        assert call(client, token(rotated, header={"jku": url})).status_code == 200
