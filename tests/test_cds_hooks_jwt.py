"""The EHR's JWT (CDS Hooks 2.0.1): RS384/ES384 only, kid, trusted issuer and jku, aud,
finite exp/iat, optional sub, jti never twice; one 401 that names no reason. On in server mode."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.service import CdsService
from pecoma.web.cds.settings import CdsSettings, TrustedIssuer
from pecoma.web.config import WebConfig

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


_DB: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _database(tmp_path_factory: pytest.TempPathFactory) -> None:
    if "url" not in _DB:
        _DB["url"] = f"sqlite:///{tmp_path_factory.mktemp('jwt') / 'registry.db'}"


def app_for(issuers: dict[str, TrustedIssuer] | None = None, **config: Any) -> Any:
    trusted = issuers if issuers is not None else {
        ISSUER: TrustedIssuer(jwks=public_jwks(RSA, EC))}
    cds = CdsSettings(base_url=BASE, auth=config.pop("auth", "jwt"), trusted_issuers=trusted)
    return create_app(WebConfig(database_url=_DB["url"], cds=cds, **config),
                      today=lambda: dt.date(2026, 11, 28))


def client_for(issuers: dict[str, TrustedIssuer] | None = None) -> TestClient:
    return TestClient(app_for(issuers), base_url="http://localhost")


def call(client: TestClient, bearer: str | None, path: str = PATIENT_VIEW,
         scheme: str = "Bearer ") -> Any:
    bundle = example("low-risk")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    headers = {"Authorization": f"{scheme}{bearer}"} if bearer is not None else {}
    return client.post(f"/cds-services/{path}", json=body, headers=headers)


#: The one refusal: the same body whatever check failed, so it tells a caller nothing.
REFUSAL_DETAIL = (
    "The call needs a valid JWT from a trusted EHR in the Authorization header "
    "(CDS Hooks 2.0.1)."
)


def assert_bare_401(response: Any) -> None:
    """401 as problem details that name no reason (and WWW-Authenticate: Bearer)."""
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["detail"] == REFUSAL_DETAIL
    assert set(body) == {"type", "title", "status", "detail", "instance"}


class TestAccepted:
    def test_sub_is_optional(self) -> None:
        """CDS Hooks 2.0.1 makes sub optional: a token without it is accepted."""
        assert call(client_for(), token(sub=None)).status_code == 200

    def test_server_mode_turns_verification_on(self) -> None:
        """Bound beyond loopback with cds.auth left to 'auto': no token, no cards."""
        app = app_for(auth="auto", host="0.0.0.0")
        assert app.state.cds.jwt_required
        assert_bare_401(call(TestClient(app, base_url=BASE), None))

    def test_open_in_server_mode_only_by_choice_and_warned(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING)
        app = app_for(auth="open", host="0.0.0.0")
        assert not app.state.cds.jwt_required
        assert "without JWT verification in server mode" in caplog.text

    def test_loopback_default_is_off(self) -> None:
        assert not app_for(auth="auto").state.cds.jwt_required

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

    @pytest.mark.parametrize("scheme", ["bearer ", "BEARER ", "bEaReR   "])
    def test_the_scheme_in_any_case(self, scheme: str) -> None:
        """An authentication scheme is a case-insensitive token (RFC 7235 section 2.1):
        a valid token sent as 'bearer <JWT>' (a gateway may rewrite the header) had been
        refused with the 401."""
        assert call(client_for(), token(), scheme=scheme).status_code == 200

    @pytest.mark.parametrize("ago", [0, 600, -20])
    def test_nbf_now_past_or_within_the_leeway(self, ago: int) -> None:
        """Control: a token valid from now, from ten minutes ago, or from 20 s ahead
        (inside the 30 s clock leeway allowed for iat and exp) is accepted."""
        assert call(client_for(), token(nbf=int(time.time()) - ago)).status_code == 200


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

    def test_missing_iat(self) -> None:
        assert_bare_401(call(client_for(), token(iat=None)))

    def test_missing_kid(self) -> None:
        """CDS Hooks 2.0.1: the JWT header must name its key (kid)."""
        raw = jwt.encode({"alg": "RS384", "typ": "JWT"}, {
            "iss": ISSUER, "aud": AUD, "iat": int(time.time()),
            "exp": int(time.time()) + 300, "jti": str(uuid.uuid4())}, RSA,
            algorithms=["RS384"])
        assert_bare_401(call(client_for(), raw))

    @pytest.mark.parametrize("claim", ["exp", "iat"])
    @pytest.mark.parametrize("value", ["9999999999", True])
    def test_times_must_be_numbers(self, claim: str, value: Any) -> None:
        """exp/iat as a string or a boolean (JSON true is not a time) is refused."""
        assert_bare_401(call(client_for(), token(**{claim: value})))

    def test_non_finite_exp(self) -> None:
        head = {"alg": "RS384", "typ": "JWT", "kid": RSA.kid}
        import base64
        import json as _json

        # joserfc refuses to encode NaN; write the payload by hand and sign it
        from joserfc import jws
        payload = _json.dumps({"iss": ISSUER, "aud": AUD, "iat": int(time.time()),
                               "exp": float("inf"), "jti": str(uuid.uuid4())})
        raw = jws.serialize_compact(head, payload.encode(), RSA, algorithms=["RS384"])
        assert "Infinity" in base64.urlsafe_b64decode(raw.split(".")[1] + "==").decode()
        assert_bare_401(call(client_for(), raw))

    @pytest.mark.parametrize("claim", ["exp", "iat"])
    def test_an_integer_beyond_a_float_is_refused(self, claim: str) -> None:
        """exp or iat = 10**400 (valid JSON, signed by a trusted key) had made a 500
        (OverflowError converting it to a float) instead of the one 401."""
        assert_bare_401(call(client_for(), token(**{claim: 10**400})))

    @pytest.mark.parametrize("nbf", [1800, 120])
    def test_not_before_in_the_future(self, nbf: int) -> None:
        """RFC 7519 section 4.1.5: a JWT must not be accepted before its nbf; one not
        valid for another 30 or 2 minutes (beyond the 30 s leeway) had been accepted and
        its jti used up."""
        assert_bare_401(call(client_for(), token(nbf=int(time.time()) + nbf)))

    @pytest.mark.parametrize("nbf", ["0", True, 10**400], ids=["string", "true", "10**400"])
    def test_nbf_must_be_a_number(self, nbf: Any) -> None:
        """nbf, when given, follows the rule of exp and iat: a finite number; a string,
        a boolean or an integer beyond a float's range had been ignored."""
        assert_bare_401(call(client_for(), token(nbf=nbf)))

    def test_another_scheme_is_refused(self) -> None:
        """Control: only the Bearer scheme, in whatever case, carries the JWT."""
        assert_bare_401(call(client_for(), token(), scheme="Basic "))
        assert_bare_401(call(client_for(), token(), scheme="Bearer2 "))

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
        app = app_for({ISSUER: TrustedIssuer(jwks_urls=(url,))})
        svc: CdsService = app.state.cds
        clock = [time.time()]
        svc.verifier.clock = lambda: clock[0]
        client = TestClient(app, base_url="http://localhost")
        assert call(client, token(header={"jku": url})).status_code == 200
        rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
        current["keys"] = [rotated]
        assert_bare_401(call(client, token(rotated, header={"jku": url})))  # too soon
        clock[0] += 61
        assert call(client, token(rotated, header={"jku": url})).status_code == 200
