"""SMART App Launch (EHR launch), end to end against a small SMART EHR on loopback.

The EHR (``smart_ehr.py``) runs in uvicorn on 127.0.0.1; pecoma runs in a TestClient
whose base URL is its registered redirect base (``http://testserver``). The browser's
part (following the redirect to the EHR's authorization endpoint and back) is played by
the test with httpx, carrying pecoma's launch cookie as a browser would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import datetime as dt
import html
import json
import logging
import os
import pickle
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from pecoma.errors import ConfigError
from pecoma.fhir.client import parse_server_url
from pecoma.store import open_registry
from pecoma.store.smart_launch import LaunchRefused, LaunchStore, PendingLaunch
from pecoma.web.app import create_app
from pecoma.web.bearer import is_bearer_token
from pecoma.web.config import WebConfig
from pecoma.web.smart.discovery import check_configuration
from pecoma.web.smart.errors import LaunchError
from pecoma.web.smart.oauth import exchange_code
from pecoma.web.smart.routes import COOKIE_PREFIX, launch_cookie
from pecoma.web.smart.settings import SmartSettings
from pecoma.web.store_access import registry_of

from fhir_support import example
from registry_support import db_url
from smart_ehr import CLIENT_ID, CLIENT_SECRET, Ehr, closed_port, running

__all__ = ["db_url"]

ON = dt.date(2026, 11, 28)
PECOMA = "http://testserver"
LAUNCH = "launch-123"


def record_with_sirolimus_intolerance() -> dict[str, Any]:
    """The localized high-risk record (its Observation says mTOR inhibitor contraindicated:
    no) with a recorded sirolimus intolerance."""
    bundle = copy.deepcopy(example("localized-high-risk"))
    bundle["entry"].append({"resource": {
        "resourceType": "AllergyIntolerance", "id": "sirolimus-intolerance",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "active"}]},
        "type": "intolerance",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                             "code": "35302", "display": "sirolimus"}], "text": "sirolimus"},
        "patient": {"reference": "Patient/pat-1001"},
    }})
    return bundle


@pytest.fixture
def ehr() -> Iterator[Ehr]:
    with running(Ehr(record=example("localized-high-risk"))) as server:
        yield server


def config(ehr: Ehr, tmp_path: Path, web: dict[str, Any] | None = None,
           **smart: Any) -> WebConfig:
    """pecoma's configuration: a SMART client of the test EHR, ``smart`` settings over it."""
    settings: dict[str, Any] = {"client_id": CLIENT_ID, "issuers": (ehr.fhir,),
                                "redirect_base": PECOMA, **smart}
    return WebConfig.model_validate({
        "database_url": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        "smart": settings, **(web or {}),
    })


def pecoma(ehr: Ehr, tmp_path: Path, web: dict[str, Any] | None = None,
           **smart: Any) -> TestClient:
    app = create_app(config(ehr, tmp_path, web, **smart), today=lambda: ON)
    return TestClient(app, base_url=PECOMA, follow_redirects=False)


def start(client: TestClient, iss: str, launch: str = LAUNCH) -> httpx.Response:
    return client.get("/smart/launch", params={"iss": iss, "launch": launch})


def at_ehr(response: httpx.Response) -> str:
    """The browser follows pecoma's redirect to the EHR, which sends it back: the
    callback's path and query on pecoma."""
    assert response.status_code == 302, response.text
    back = httpx.get(response.headers["location"], follow_redirects=False, trust_env=False)
    assert back.status_code == 302, back.text
    location = back.headers["location"]
    assert location.startswith(PECOMA + "/smart/callback?")
    return location.removeprefix(PECOMA)


def state_of(response: httpx.Response) -> str:
    """The state of the launch a redirect to the authorization endpoint starts."""
    return parse_qs(urlsplit(response.headers["location"]).query)["state"][0]


def launch_cookies(client: TestClient | httpx.Response) -> dict[str, str]:
    """The launch cookies a browser holds, or a response sets (name -> key)."""
    return {c.name: c.value or "" for c in client.cookies.jar
            if c.name.startswith(COOKIE_PREFIX)}


def launch_and_return(client: TestClient, ehr: Ehr) -> httpx.Response:
    return client.get(at_ehr(start(client, ehr.fhir)))


def form_value(html: str, name: str) -> str | None:
    """The value a form control shows: an input's value or a select's selected option."""
    m = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    if m:
        return m.group(1)
    m = re.search(rf'<select[^>]*name="{re.escape(name)}".*?</select>', html, re.S)
    if m:
        sel = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', m.group(0))
        return sel.group(1) if sel else None
    return None


def post_form(client: TestClient, html: str) -> str:
    """Submit the case form as the browser would (every input and selected option); the
    report page. A row template's controls are not part of the form (a browser never
    posts them)."""
    html = re.sub(r"<template.*?</template>", "", html, flags=re.S)
    fields = {
        m[1]: m[2]
        for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"[^>]*>', html)
        if 'type="checkbox"' not in m[0] or " checked" in m[0]  # as a browser posts it
    }
    for select in re.finditer(r'<select[^>]*name="([^"]+)".*?</select>', html, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', select.group(0))
        if chosen:
            fields[select.group(1)] = chosen.group(1)
    report = client.post("/report", data=fields)
    assert report.status_code == 303, report.text[:2000]  # to the report's own address
    report = client.get(report.headers["location"])
    assert report.status_code == 200, report.text[:2000]
    return report.text


def item_html(report: str, item_id: str) -> str:
    """One recommendation of the report page (empty when the report does not make it)."""
    m = re.search(rf'<article[^>]*id="item-{re.escape(item_id)}".*?</article>', report, re.S)
    return m.group(0) if m else ""


def not_found_list(html: str) -> list[str]:
    """The items of the page's "Not found in the record" list, as text."""
    m = re.search(r'<ul class="not-found">(.*?)</ul>', html, re.S)
    assert m, "no 'Not found in the record' list"
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", m.group(1), re.S)]


def set_aside_list(html: str) -> list[str]:
    """The items of the page's "Found but set aside" list, as text (none: empty)."""
    m = re.search(r'<ul class="set-aside">(.*?)</ul>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", m.group(1), re.S)] if m else []


def token_requests(ehr: Ehr) -> list[dict[str, Any]]:
    return [r for r in ehr.seen if urlsplit(r["url"]).path == "/token"]


def fhir_requests(ehr: Ehr) -> list[dict[str, Any]]:
    return [r for r in ehr.seen if urlsplit(r["url"]).path.startswith("/fhir/")
            and ".well-known" not in r["url"]]


class TestLaunch:
    def test_the_record_fills_the_form_and_the_report_follows(self, ehr: Ehr,
                                                              tmp_path: Path) -> None:
        """A launch from the EHR ends on the case form filled in from the patient's record
        (the uterine PEComa of 72 mm, necrosis present, R1 resection), listing the facts the
        record did not give, and the form gives the report as usual."""
        with pecoma(ehr, tmp_path) as client:
            page = launch_and_return(client, ehr)
            assert page.status_code == 200, page.text
            html = page.text
            assert "Filled in from the EHR" in html
            assert ehr.fhir in html
            # Facts from the record, by hand from the bundle.
            assert form_value(html, "tumour.primary_site") == "uterus"
            assert form_value(html, "tumour.size.value") == "72"
            assert form_value(html, "histology.necrosis") == "present"
            assert form_value(html, "surgery.margin") == "R1"
            # The record says nothing of resectability: listed (by its label), and left
            # unknown.
            assert "Resectable" in not_found_list(html)
            assert form_value(html, "stage.resectable") == "unknown"
            # Observations came over two pages (the second by a same-server next link).
            assert any("page=2" in r["url"] for r in fhir_requests(ehr))
            # The form posts to the report as any case form does.
            report = post_form(client, html)
            assert "R1" in report or "re-resection" in report.lower()

    def test_the_authorization_request(self, ehr: Ehr, tmp_path: Path) -> None:
        """SMART 2 EHR launch: response_type code, the client id, aud = iss, the launch
        context, the configured scopes, a fresh state and a PKCE S256 challenge (never the
        verifier), the registered redirect URI."""
        with pecoma(ehr, tmp_path) as client:
            response = start(client, ehr.fhir)
            assert response.status_code == 302
            q = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query)
                 .items()}
            assert urlsplit(response.headers["location"]).path == "/authorize"
            assert q["response_type"] == "code"
            assert q["client_id"] == CLIENT_ID
            assert q["aud"] == ehr.fhir
            assert q["launch"] == LAUNCH
            assert q["scope"] == "launch openid fhirUser patient/*.rs"
            assert q["redirect_uri"] == PECOMA + "/smart/callback"
            assert q["code_challenge_method"] == "S256"
            assert len(q["state"]) >= 43 and len(q["code_challenge"]) == 43
            # the launch's own cookie, sent only to the callback, living as the launch
            assert list(launch_cookies(response)) == [launch_cookie(q["state"])]
            cookie = launch_cookies(response)[launch_cookie(q["state"])]
            assert len(cookie) >= 43 and cookie not in response.headers["location"]
            set_cookie = response.headers["set-cookie"].lower()
            assert "httponly" in set_cookie and "samesite=lax" in set_cookie
            assert "path=/smart/callback;" in set_cookie and "max-age=600" in set_cookie
            # Two launches never share a state.
            again = start(client, ehr.fhir)
            q2 = parse_qs(urlsplit(again.headers["location"]).query)
            assert q2["state"][0] != q["state"]
            assert q2["code_challenge"][0] != q["code_challenge"]

    def test_two_charts_opened_at_once_in_one_browser(self, ehr: Ehr,
                                                      tmp_path: Path) -> None:
        """Two launches in progress in one browser both finish, in either order."""
        with pecoma(ehr, tmp_path) as client:
            first = at_ehr(start(client, ehr.fhir))
            second = at_ehr(start(client, ehr.fhir))
            assert client.get(second).status_code == 200
            assert client.get(first).status_code == 200

    def test_two_charts_opened_at_once_in_a_fresh_browser(self, ehr: Ehr,
                                                          tmp_path: Path) -> None:
        """Two tabs of one browser that holds no launch cookie yet (its first launch, or
        its first since the last one's cookie expired) open two charts at once: both
        launch requests leave without a cookie (the EHR holds each at its configuration
        document until both are in progress), and both launches finish. Before, each
        answer set a new key under one shared cookie name; the browser kept the last, and
        the other launch was refused as "started in another browser"."""
        ehr.behaviour["configuration_barrier"] = threading.Barrier(2)
        with pecoma(ehr, tmp_path) as browser:
            with concurrent.futures.ThreadPoolExecutor(2) as tabs:
                started = list(tabs.map(lambda _: start(browser, ehr.fhir), range(2)))
            callbacks = [at_ehr(r) for r in started]
            pages = [browser.get(callback) for callback in callbacks]
            assert [p.status_code for p in pages] == [200, 200], [
                re.sub(r"<[^>]+>|\s+", " ", p.text)[-600:] for p in pages]
            assert all("Filled in from the EHR" in p.text for p in pages)
            assert launch_cookies(browser) == {}  # each callback removed its own

    @pytest.mark.parametrize("last", [0, 1])
    def test_the_answers_of_two_launches_stored_in_either_order(
            self, ehr: Ehr, tmp_path: Path, last: int) -> None:
        """The interleaving made exact: both launch requests are sent from a browser
        without a cookie, then the browser stores their answers' cookies one after the
        other, in either order. Each launch has its own cookie, so storing one never
        replaces the other's key, and both finish (before, the one stored first was
        lost)."""
        with pecoma(ehr, tmp_path) as browser:
            answers = []
            for _ in range(2):
                browser.cookies.clear()  # neither answer is back when the next leaves
                answers.append(start(browser, ehr.fhir))
            browser.cookies.clear()
            for answer in (answers[1 - last], answers[last]):
                for cookie in answer.cookies.jar:
                    browser.cookies.jar.set_cookie(cookie)
            for answer in answers:
                assert browser.get(at_ehr(answer)).status_code == 200

    def test_smart_v1_scopes_as_configured(self, ehr: Ehr, tmp_path: Path) -> None:
        """An EHR on SMART 1 gets the .read scopes it was configured with."""
        scopes = "launch openid fhirUser patient/*.read"
        with pecoma(ehr, tmp_path, scopes=scopes) as client:
            assert launch_and_return(client, ehr).status_code == 200
            assert ehr.authorize_params[0]["scope"] == scopes

    def test_confidential_client_authenticates_with_its_secret(self, ehr: Ehr,
                                                               tmp_path: Path) -> None:
        """With a client secret, the token request carries HTTP Basic client credentials
        (and the PKCE verifier all the same)."""
        ehr.behaviour["client_secret"] = CLIENT_SECRET
        with pecoma(ehr, tmp_path, client_secret=CLIENT_SECRET) as client:
            assert launch_and_return(client, ehr).status_code == 200
            (request,) = token_requests(ehr)
            assert request["headers"]["authorization"].startswith("Basic ")
            assert "code_verifier=" in request["body"]

    def test_a_launch_begun_on_one_worker_ends_on_another(self, ehr: Ehr, tmp_path: Path,
                                                          db_url: str) -> None:
        """Launch state lives in the database: two applications on one database (two
        workers; SQLite and PostgreSQL) finish each other's launches, and a replay on
        either is refused."""
        shared = {"database_url": db_url}
        with pecoma(ehr, tmp_path, shared) as one, pecoma(ehr, tmp_path, shared) as two:
            callback = at_ehr(start(one, ehr.fhir))
            for cookie in one.cookies.jar:
                two.cookies.jar.set_cookie(cookie)
            assert two.get(callback).status_code == 200
            one_again = one.get(callback)
            assert one_again.status_code == 400
            assert "unknown or was already used" in one_again.text


class TestEndpointQuery:
    """RFC 6749 §3.1 and §3.2: an authorization or token endpoint may carry a query, which
    must be kept when parameters are added. Some authorization servers name a tenant or a
    policy there; such an EHR could not launch pecoma at all."""

    AUTHORIZE_QUERY = "tenant=ward-7&p=B2C_1_signin&scope_hint=a%2Fb+c"
    TOKEN_QUERY = "api-version=2"

    def test_the_queries_are_kept_and_the_launch_finishes(self, ehr: Ehr,
                                                         tmp_path: Path) -> None:
        """Both endpoints with a query: the authorization request keeps the endpoint's
        parameters (as written) beside pecoma's, each once; the code is exchanged at the
        token endpoint with its query; the form is filled in from the record."""
        ehr.behaviour["authorize_query"] = self.AUTHORIZE_QUERY
        ehr.behaviour["token_query"] = self.TOKEN_QUERY
        with pecoma(ehr, tmp_path) as client:
            first = start(client, ehr.fhir)
            assert first.status_code == 302, first.text
            location = urlsplit(first.headers["location"])
            assert location.path == "/authorize"
            # the endpoint's own query first, as written, then pecoma's parameters
            assert location.query.startswith(self.AUTHORIZE_QUERY + "&")
            pairs = parse_qsl(location.query, keep_blank_values=True)
            names = [k for k, _ in pairs]
            assert len(names) == len(set(names))  # nothing sent twice
            q = dict(pairs)
            assert q["tenant"] == "ward-7" and q["scope_hint"] == "a/b c"
            assert q["client_id"] == CLIENT_ID and q["aud"] == ehr.fhir
            assert q["response_type"] == "code" and q["code_challenge_method"] == "S256"
            page = client.get(at_ehr(first))
            assert page.status_code == 200, page.text
            assert form_value(page.text, "tumour.primary_site") == "uterus"
        (token,) = token_requests(ehr)
        assert urlsplit(token["url"]).query == self.TOKEN_QUERY
        body = parse_qs(token["body"])
        assert body["grant_type"] == ["authorization_code"] and "code_verifier" in body

    @pytest.mark.parametrize("query", ["", "tenant=", "tenant", "a=1&a=2"])
    def test_other_legal_queries(self, ehr: Ehr, tmp_path: Path, query: str) -> None:
        """An empty query, a blank value, a name without a value and a repeated name of
        the endpoint's own are all form-urlencoded queries: kept, the launch finishes."""
        ehr.behaviour["authorize_query"] = query
        with pecoma(ehr, tmp_path) as client:
            assert launch_and_return(client, ehr).status_code == 200

    @pytest.mark.parametrize(("endpoint", "query", "says"), [
        ("authorize_query", "aud=x", "aud"),
        ("authorize_query", "tenant=a&client_id=other", "client_id"),
        ("authorize_query", "redirect%5Furi=https%3A%2F%2Fevil.example%2F", "redirect_uri"),
        ("authorize_query", "state=fixed", "state"),
        ("token_query", "grant_type=client_credentials", "grant_type"),
    ])
    def test_a_query_naming_pecomas_parameters_is_refused(
        self, ehr: Ehr, tmp_path: Path, endpoint: str, query: str, says: str
    ) -> None:
        """A query naming a parameter pecoma sends (percent-escaped or not) is refused with
        a page naming it, before the browser is sent anywhere: pecoma's value would be
        sent twice and one of them read by the EHR."""
        ehr.behaviour[endpoint] = query
        with pecoma(ehr, tmp_path) as client:
            r = start(client, ehr.fhir)
            assert r.status_code == 502
            assert "SMART configuration is not usable" in r.text
            assert says in r.text
            assert not launch_cookies(r)
        assert not any(urlsplit(s["url"]).path in ("/authorize", "/token") for s in ehr.seen)


class TestServerMode:
    def test_launch_works_without_a_pecoma_token(self, ehr: Ehr, tmp_path: Path) -> None:
        """In server mode (auth on) the launch pages need no pecoma token: the EHR
        authorizes the launch. Other pages still do."""
        with pecoma(ehr, tmp_path, {"auth": "on", "open_assessment": False}) as client:
            assert launch_and_return(client, ehr).status_code == 200
            assert client.get("/registry").status_code in (303, 401)


class TestRefusals:
    def test_off_unless_configured(self, tmp_path: Path) -> None:
        """Without a client id, both pages answer 404 and nothing is contacted."""
        app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}"),
                         today=lambda: ON)
        with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
            r = client.get("/smart/launch", params={"iss": "https://ehr.example/fhir",
                                                    "launch": "x"})
            assert r.status_code == 404
            assert "not configured" in r.text
            assert client.get("/smart/callback", params={"state": "s" * 43,
                                                         "code": "c"}).status_code == 404

    @pytest.mark.parametrize("params", [
        {"launch": LAUNCH}, {"iss": "ISS"}, {"iss": "ISS", "launch": ""},
        {"iss": "ISS", "launch": "has space"},
    ])
    def test_not_an_ehr_launch(self, ehr: Ehr, tmp_path: Path,
                               params: dict[str, str]) -> None:
        """Both iss and launch are required (launch as printable ASCII)."""
        params = {k: v.replace("ISS", ehr.fhir) for k, v in params.items()}
        with pecoma(ehr, tmp_path) as client:
            r = client.get("/smart/launch", params=params)
            assert r.status_code == 400
            assert "Not a SMART EHR launch" in r.text
        assert ehr.seen == []

    @pytest.mark.parametrize("iss", [
        "{base}/other",                      # same server, outside the allowed path
        "{base}/fhirx",                      # not a whole-segment prefix
        "http://user@{host}/fhir",           # user information
        "http://{host}@evil.example/fhir",   # the allowed host as user information
        "https://{host}/fhir",               # another scheme
        "http://localhost:{port}/fhir",      # another host name for the same machine
        "javascript:alert(1)",
    ])
    def test_iss_not_allowed(self, ehr: Ehr, tmp_path: Path, iss: str) -> None:
        """An iss not on the allow-list (parsed as a URL) is refused before anything is
        fetched from it."""
        host = ehr.base.removeprefix("http://")
        iss = iss.format(base=ehr.base, host=host, port=host.rsplit(":", 1)[1])
        with pecoma(ehr, tmp_path) as client:
            r = start(client, iss)
            assert r.status_code == 400
            assert "may not launch pecoma" in r.text
            assert not launch_cookies(r)
        assert ehr.seen == []

    def test_wrong_state(self, ehr: Ehr, tmp_path: Path) -> None:
        """A return whose state matches no launch is refused; no code is exchanged."""
        with pecoma(ehr, tmp_path) as client:
            callback = at_ehr(start(client, ehr.fhir))
            q = parse_qs(urlsplit(callback).query)
            forged = client.get("/smart/callback",
                                params={"code": q["code"][0], "state": "A" * 43})
            assert forged.status_code == 400
            assert token_requests(ehr) == []
            assert client.get("/smart/callback", params={"code": "x"}).status_code == 400

    def test_replayed_state(self, ehr: Ehr, tmp_path: Path) -> None:
        """A launch is finished once: the same return again is refused without a second
        token request."""
        with pecoma(ehr, tmp_path) as client:
            callback = at_ehr(start(client, ehr.fhir))
            cookies = list(client.cookies.jar)
            assert client.get(callback).status_code == 200
            for cookie in cookies:
                client.cookies.jar.set_cookie(cookie)
            replay = client.get(callback)
            assert replay.status_code == 400
            assert "already used" in replay.text
            assert len(token_requests(ehr)) == 1

    def test_another_browser_cannot_finish_the_launch(self, ehr: Ehr,
                                                      tmp_path: Path) -> None:
        """The return must come to the browser that started the launch (its cookie); a
        return without it is refused and the launch is spent."""
        with pecoma(ehr, tmp_path) as client:
            callback = at_ehr(start(client, ehr.fhir))
            cookies = list(client.cookies.jar)
            client.cookies.clear()
            other = client.get(callback)
            assert other.status_code == 400
            assert "another browser" in other.text
            for cookie in cookies:
                client.cookies.jar.set_cookie(cookie)
            assert client.get(callback).status_code == 400
            assert token_requests(ehr) == []

    def test_a_browser_with_launches_of_its_own_cannot_finish_anothers(
            self, ehr: Ehr, tmp_path: Path) -> None:
        """Login CSRF: a return from a launch begun in one browser (an attacker's),
        opened in another that holds launch cookies of its own (the victim's, launches in
        progress), is refused and nothing is exchanged; the victim's own launches still
        finish. Cookies are per launch, so no cookie of another launch stands for this
        one's."""
        with pecoma(ehr, tmp_path) as victim, pecoma(ehr, tmp_path) as attacker:
            own = [at_ehr(start(victim, ehr.fhir)) for _ in range(2)]
            foreign = at_ehr(start(attacker, ehr.fhir))
            refused = victim.get(foreign)
            assert refused.status_code == 400
            assert "another browser" in refused.text
            assert token_requests(ehr) == []
            assert [victim.get(c).status_code for c in own] == [200, 200]
            # the attacker's cookie, stored in the victim's browser under a launch of the
            # victim's, does not finish it either
            mine = at_ehr(start(victim, ehr.fhir))
            (key,) = launch_cookies(attacker).values()
            victim.cookies.set(launch_cookie(parse_qs(urlsplit(mine).query)["state"][0]),
                               key, path="/smart/callback")
            assert victim.get(mine).status_code == 400

    def test_the_cookie_goes_with_the_launch(self, ehr: Ehr, tmp_path: Path) -> None:
        """The callback removes the launch's cookie whether the launch finishes or is
        refused: a browser keeps no cookie of a spent launch."""
        with pecoma(ehr, tmp_path) as client:
            started = start(client, ehr.fhir)
            name = launch_cookie(state_of(started))
            page = client.get(at_ehr(started))
            assert page.status_code == 200
            assert f'{name}=""' in page.headers["set-cookie"]
            assert "max-age=0" in page.headers["set-cookie"].lower()
            assert launch_cookies(client) == {}
            ehr.behaviour["deny"] = True
            assert client.get(at_ehr(start(client, ehr.fhir))).status_code == 403
            assert launch_cookies(client) == {}

    def test_expired_launch(self, ehr: Ehr, tmp_path: Path) -> None:
        """A launch that comes back after its lifetime is refused."""
        now = [dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)]
        with pecoma(ehr, tmp_path, launch_seconds=60) as client:
            app = client.app
            app.state.smart_launches = LaunchStore(  # type: ignore[attr-defined]
                registry_of(app.state).engine, clock=lambda: now[0])  # type: ignore[attr-defined]
            callback = at_ehr(start(client, ehr.fhir))
            now[0] += dt.timedelta(seconds=61)
            r = client.get(callback)
            assert r.status_code == 400
            assert "expired" in r.text
            assert token_requests(ehr) == []

    def test_launches_in_progress_are_bounded(self, ehr: Ehr, tmp_path: Path) -> None:
        """Past smart.max_pending launches in progress, a new one gets 503."""
        with pecoma(ehr, tmp_path, max_pending=2) as client:
            assert start(client, ehr.fhir).status_code == 302
            assert start(client, ehr.fhir).status_code == 302
            r = start(client, ehr.fhir)
            assert r.status_code == 503
            assert "Too many launches" in r.text

    def test_denied_authorization(self, ehr: Ehr, tmp_path: Path) -> None:
        """The user (or the EHR) refuses: 403, and nothing is read."""
        ehr.behaviour["deny"] = True
        with pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 403
            assert "denied" in r.text
            assert token_requests(ehr) == [] and fhir_requests(ehr) == []

    def test_token_endpoint_error(self, ehr: Ehr, tmp_path: Path) -> None:
        """The token endpoint refuses the code: 502 naming the OAuth error code only (not
        the server's free text), and nothing is read."""
        ehr.behaviour["token_error"] = True
        with pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 502
            assert "invalid_grant" in r.text
            assert "<script>" not in r.text and "not valid" not in r.text
            assert fhir_requests(ehr) == []

    def test_no_patient_in_context(self, ehr: Ehr, tmp_path: Path) -> None:
        """A token without a patient context gives a page saying so, and nothing is read."""
        ehr.behaviour["no_patient"] = True
        with pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 422
            assert "no patient" in r.text
            assert fhir_requests(ehr) == []

    def test_unreachable_server(self, ehr: Ehr, tmp_path: Path) -> None:
        """An allowed server that does not answer gives 502, without the network cause."""
        iss = f"http://127.0.0.1:{closed_port()}/fhir"
        with pecoma(ehr, tmp_path, issuers=(iss,)) as client:
            r = start(client, iss)
            assert r.status_code == 502
            assert "could not be reached" in r.text
            assert "refused" not in r.text.lower()

    def test_server_without_a_configuration(self, ehr: Ehr, tmp_path: Path) -> None:
        """An allowed server with no SMART configuration document (404) gives 502."""
        iss = f"{ehr.base}/other-fhir"
        with pecoma(ehr, tmp_path, issuers=(iss,)) as client:
            r = start(client, iss)
            assert r.status_code == 502
            assert "no usable SMART configuration" in r.text
            assert not launch_cookies(r)

    def test_configuration_without_s256(self, ehr: Ehr, tmp_path: Path) -> None:
        """An authorization server that does not offer PKCE S256 is not used."""
        ehr.behaviour["no_s256"] = True
        with pecoma(ehr, tmp_path) as client:
            r = start(client, ehr.fhir)
            assert r.status_code == 502
            assert "S256" in r.text
        assert not any("/authorize" in s["url"] for s in ehr.seen)


def good_token(extra: str) -> str:
    """A good token response with ``extra`` members (JSON text) after its own."""
    return '{"access_token": "T1", "token_type": "Bearer", "patient": "pat-1001", ' + extra + "}"


#: Token responses (HTTP 200, JSON) whose shape is wrong: each is the EHR's unusable
#: answer, a 502 page, never a 500. The first four made the callback a 500 (Authlib's
#: expiry arithmetic on a list or an object; a non-ASCII token in an HTTP header).
BAD_TOKEN_BODIES = [
    good_token('"expires_in": [1]'),
    good_token('"expires_in": {"a": 1}'),
    good_token('"expires_at": {"a": 1}'),
    '{"access_token": "T\u00e91", "token_type": "Bearer", "patient": "pat-1001"}',
    good_token('"expires_in": "abc"'),
    good_token('"expires_in": "3600"'),
    good_token('"expires_in": true'),
    good_token('"expires_in": -5'),
    good_token('"expires_in": 1e400'),
    good_token('"expires_in": NaN'),
    good_token('"expires_at": [1]'),
    good_token('"expires_at": "soon"'),
    '{"access_token": "T\\r\\nX-Other: 1", "token_type": "Bearer", "patient": "pat-1001"}',
    '{"access_token": "T 1", "token_type": "Bearer", "patient": "pat-1001"}',
    '{"access_token": "", "token_type": "Bearer", "patient": "pat-1001"}',
    '{"access_token": ["T1"], "token_type": "Bearer", "patient": "pat-1001"}',
    '{"access_token": 1, "token_type": "Bearer", "patient": "pat-1001"}',
    '{"token_type": "Bearer", "patient": "pat-1001"}',
    '{"access_token": "T1", "token_type": "mac", "patient": "pat-1001"}',
    '{"access_token": "T1", "token_type": ["Bearer"], "patient": "pat-1001"}',
    '{"access_token": "T1", "patient": "pat-1001"}',
    '{"error": ["x"]}',
    '{"error": "invalid_grant"}',
    '["T1"]', '"T1"', "null", "1", "{}", "not json", "",
]


class TestTokenResponse:
    """The token endpoint's answer is checked for its shape before it is used (RFC 6749
    section 5.1, RFC 6750 section 2.1): docs/smart.md, a 502 for an unusable answer, and
    docs/security.md, no bad input gives a 500."""

    @pytest.mark.parametrize("body", BAD_TOKEN_BODIES)
    def test_a_malformed_token_response_is_a_502_page(self, ehr: Ehr, tmp_path: Path,
                                                      body: str) -> None:
        """Every odd shape: the documented 502 page ("The EHR did not grant access"),
        nothing read from the FHIR server, never a 500."""
        ehr.behaviour["token_body"] = body
        with pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
        assert r.status_code == 502, (body, r.status_code, r.text[:500])
        assert "The EHR did not grant access" in r.text
        assert "T\u00e91" not in r.text and "Internal error" not in r.text
        assert fhir_requests(ehr) == []

    def test_a_well_formed_one_with_a_float_expiry_is_used(self, ehr: Ehr,
                                                           tmp_path: Path) -> None:
        """Control: a JSON number of seconds may be a decimal (RFC 6749 says a number),
        and expires_at beside it is fine: the record is read."""
        ehr.behaviour["token_body"] = good_token('"expires_in": 3599.5, "expires_at": 1893456000')
        ehr.tokens.add("T1")
        with pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
        assert r.status_code == 200, r.text[:500]
        assert {q["headers"]["authorization"] for q in fhir_requests(ehr)} == {"Bearer T1"}

    @settings(max_examples=examples(150), deadline=None)
    @given(field=st.sampled_from(["access_token", "token_type", "expires_in", "expires_at",
                                  "patient", "scope"]),
           value=st.recursive(
               st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
               lambda inner: st.lists(inner, max_size=3)
               | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6))
    def test_no_shape_escapes_as_another_error(self, field: str, value: Any) -> None:
        """Any JSON value in any field of an otherwise good token response: the exchange
        either grants access with a bearer token or refuses with the launch's own error
        (a page with its status), never another exception (a 500)."""
        token = {"access_token": "T1", "token_type": "Bearer", "patient": "pat-1001",
                 field: value}
        body = json.dumps(token, allow_nan=True).encode()
        transport = httpx.MockTransport(
            lambda _request: httpx.Response(200, content=body,
                                            headers={"content-type": "application/json"}))
        smart = SmartSettings(client_id=CLIENT_ID, issuers=("https://ehr.example/fhir",),
                              redirect_base=PECOMA)
        try:
            # in a thread of its own: an event loop a test before left set in this
            # thread must not make asyncio.run refuse
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                grant = pool.submit(asyncio.run, exchange_code(
                    smart, "https://ehr.example/token", code="c", verifier="v" * 43,
                    transport=transport)).result()
        except LaunchError as exc:
            assert exc.status in (422, 502)
        else:
            assert is_bearer_token(grant.access_token)


class TestMissingData:
    def test_unreadable_allergies_leave_the_contraindication_unknown(
        self, tmp_path: Path
    ) -> None:
        """When the AllergyIntolerance search fails, 'mTOR inhibitor contraindicated' is
        unknown (not the 'no' of an Observation): a sirolimus intolerance may be among
        what was not read. The page names the search and asks the question."""
        ehr = Ehr(record=record_with_sirolimus_intolerance(),
                  behaviour={"fail": ("AllergyIntolerance",)})
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200
            assert form_value(r.text, "systemic.mtor_inhibitor_contraindicated") == "unknown"
            assert "Not read from the EHR" in r.text
            assert "AllergyIntolerance" in r.text
            assert "systemic.mtor_inhibitor_contraindicated" in r.text
            assert "left unknown although the record says no" in r.text

    def test_no_mtor_inhibitor_firmly_advised_when_allergies_are_unread(
        self, tmp_path: Path
    ) -> None:
        """A metastatic PEComa (lung, metachronous): the guideline's mTOR inhibitor first
        line (S12, S13) is in the report either way, but with the allergy search failed it is
        provisional until the contraindication is supplied, instead of firm on the
        Observation's 'no'."""
        for fail, provisional in (((), False), (("AllergyIntolerance",), True)):
            ehr = Ehr(record=example("metastatic-lung-metachronous"),
                      behaviour={"fail": fail})
            with running(ehr), pecoma(ehr, tmp_path) as client:
                page = launch_and_return(client, ehr)
                assert page.status_code == 200
                item = item_html(post_form(client, page.text), "REC-MTOR-FIRST-LINE")
                assert item, "the report recommends the mTOR inhibitor first line"
                said = ("Provisional until supplied" in item
                        and 'href="#missing-MISS-MTOR-CONTRAINDICATED">mTOR inhibitor'
                        in item)
                assert said is provisional, fail

    def test_readable_intolerance_is_a_contraindication(self, tmp_path: Path) -> None:
        """With the allergies read, the sirolimus intolerance outweighs the Observation's
        'no' (no other mTOR inhibitor given): the form holds the intolerance row, and the
        'no' is not kept (the contraindication is derived from the row, I15)."""
        ehr = Ehr(record=record_with_sirolimus_intolerance())
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200
            assert form_value(r.text, "systemic.mtor_inhibitor_contraindicated") == "unknown"
            assert form_value(r.text, "systemic.intolerances[0].agent") == "sirolimus"

    def test_an_unidentified_drug_allergy_leaves_the_contraindication_unknown(
        self, tmp_path: Path
    ) -> None:
        """An active drug allergy pecoma cannot match to a drug could be to an mTOR
        inhibitor: the Observation's 'no' is not taken, the question is asked."""
        record = example("localized-high-risk")
        record["entry"].append({"resource": {
            "resourceType": "AllergyIntolerance", "id": "unknown-drug",
            "category": ["medication"],
            "code": {"text": "study drug XR-17"},
            "patient": {"reference": "Patient/pat-1001"},
        }})
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200
            assert form_value(r.text, "systemic.mtor_inhibitor_contraindicated") == "unknown"
            assert "could not be matched to a drug" in r.text
            # the record gave a 'no', set aside: listed apart with why, never as a fact
            # not found in the record (HAZ-401)
            assert "mTOR inhibitor contraindicated" not in not_found_list(r.text)
            aside = set_aside_list(r.text)
            assert len(aside) == 1 and aside[0].startswith("mTOR inhibitor contraindicated")
            assert "AllergyIntolerance/unknown-drug" in aside[0]

    @pytest.mark.parametrize("first", ["resolved", "active"])
    def test_two_versions_of_one_allergy_are_never_settled_by_their_order(
        self, tmp_path: Path, first: str
    ) -> None:
        """The search answers one sirolimus intolerance id twice, resolved and active (as
        overlapping pages may): the launch had kept the first copy, so the form said
        'not contraindicated' when the resolved one came first. Which version holds
        cannot be told: no case is prefilled, the page says which id, as to-case does."""
        record = record_with_sirolimus_intolerance()
        entry = next(e for e in record["entry"]
                     if e["resource"]["id"] == "sirolimus-intolerance")
        other = copy.deepcopy(entry)
        other["resource"]["clinicalStatus"]["coding"][0]["code"] = "resolved"
        at = record["entry"].index(entry)
        record["entry"].insert(at if first == "resolved" else at + 1, other)
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 422
            assert "AllergyIntolerance/sirolimus-intolerance" in r.text
            assert "systemic.mtor_inhibitor_contraindicated" not in r.text

    def test_unreadable_medications_are_said(self, tmp_path: Path) -> None:
        """A failed medication search is named, with the instruction to enter the lines."""
        ehr = Ehr(record=example("localized-high-risk"),
                  behaviour={"fail": ("MedicationRequest",)})
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200
            assert "MedicationRequest" in r.text
            assert "enter every line of systemic treatment" in r.text

    def test_a_line_named_by_reference_is_read(self, tmp_path: Path) -> None:
        """A sirolimus order naming its drug by a reference to a Medication (coded by
        RxNorm only) that the search does not include: the Medication is read by its id,
        with the launch's token, and the line is on the form."""
        record = example("localized-high-risk")
        pid = next(e["resource"]["id"] for e in record["entry"]
                   if e["resource"]["resourceType"] == "Patient")
        record["entry"] += [
            {"resource": {"resourceType": "MedicationRequest", "id": "mr-s", "status": "active",
                          "intent": "order", "subject": {"reference": f"Patient/{pid}"},
                          "authoredOn": "2026-03-02",
                          "medicationReference": {"reference": "Medication/sir-1"}}},
            {"resource": {"resourceType": "Medication", "id": "sir-1", "code": {"coding": [{
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "35302"}]}}}]
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200
            assert form_value(r.text, "systemic.therapies[0].agent") == "sirolimus"
        [read] = [q for q in fhir_requests(ehr) if "/fhir/Medication/" in q["url"]]
        assert urlsplit(read["url"]).path == "/fhir/Medication/sir-1"
        assert read["headers"]["authorization"].startswith("Bearer ")

    def test_a_line_whose_drug_cannot_be_read_is_warned_about(self, tmp_path: Path) -> None:
        """The Medication the order names is neither included nor readable: the page
        warns that lines may be missing, as for a failed search."""
        record = example("localized-high-risk")
        pid = next(e["resource"]["id"] for e in record["entry"]
                   if e["resource"]["resourceType"] == "Patient")
        record["entry"].append({"resource": {
            "resourceType": "MedicationRequest", "id": "mr-x", "status": "active",
            "intent": "order", "subject": {"reference": f"Patient/{pid}"},
            "medicationReference": {"reference": "Medication/gone"}}})
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200
            assert "1 medication record(s) name a drug pecoma cannot identify" in r.text
            assert "enter every line of systemic treatment" in r.text


    def test_a_course_beside_another_cancer_is_asked_about(self, tmp_path: Path) -> None:
        """The record also holds an active breast cancer and a doxorubicin course naming
        no reason: which cancer it was given for cannot be told. It is not put on the
        form as a line of the PEComa's (no chemotherapy claimed as its first line), and
        the page asks the question and says to enter the PEComa's lines: a line not
        entered is taken as not given. The page had shown it as the PEComa's line, asking
        nothing."""
        record = example("localized-high-risk")
        record["entry"] += [
            {"resource": {"resourceType": "Condition", "id": "breast-ca",
                          "clinicalStatus": {"coding": [{"code": "active"}]},
                          "verificationStatus": {"coding": [{"code": "confirmed"}]},
                          "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                               "code": "C50.911"}]},
                          "subject": {"reference": "Patient/pat-1001"},
                          "onsetDateTime": "2025-09-01"}},
            {"resource": {"resourceType": "MedicationStatement", "id": "dox",
                          "status": "completed", "subject": {"reference": "Patient/pat-1001"},
                          "medicationCodeableConcept": {"coding": [{
                              "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                              "code": "3639", "display": "doxorubicin"}]},
                          "effectivePeriod": {"start": "2025-10-01"}}}]
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200, r.text
            page = " ".join(html.unescape(r.text).split())
            assert form_value(r.text, "systemic.therapies[0].agent") in (None, "")
            assert ("1 medication record(s) given beside another primary cancer leave a "
                    "question (MedicationStatement/dox: which cancer was doxorubicin given "
                    "for (started 2025-10-01): the PEComa, or Condition/breast-ca?)") in page
            assert "enter every line of the PEComa's systemic treatment" in page


def breast_cancer_record() -> dict[str, Any]:
    """A patient with breast cancer and hypertension, and a blood pressure: no PEComa."""
    subject = {"reference": "Patient/p-77"}
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p-77", "gender": "female",
                      "birthDate": "1971-05-04"}},
        {"resource": {"resourceType": "Condition", "id": "c1", "subject": subject,
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                           "code": "C50.912", "display": "Malignant "
                                           "neoplasm of left female breast"}]},
                      "onsetDateTime": "2025-02-01"}},
        {"resource": {"resourceType": "Condition", "id": "c2", "subject": subject,
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                           "code": "I10"}]}}},
        {"resource": {"resourceType": "Observation", "id": "o1", "status": "final",
                      "subject": subject,
                      "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                      "valueQuantity": {"value": 132, "unit": "mm[Hg]"}}},
    ]}


def seen_by_clinician(html: str) -> str:
    """The page's main text without the collapsed details for the integrator."""
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    main = re.sub(r'<details class="integrator">.*?</details>', "", main, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def integrator_details(html: str) -> str:
    m = re.search(r'<details class="integrator">(.*?)</details>', html, re.S)
    assert m, "no details for the integrator"
    return m.group(1)


#: What a clinician never reads on a refusal: field paths, resource and code-system
#: names, the reader's own phrasing.
DEVELOPER_WORDS = ("stage.status", "tumour.", "'Condition'", "Condition/", "Observation",
                   "http://", "https://", "pecoma.example", "(got", "bundle", "Bundle",
                   "8714", "LOINC", "mCODE", "ICD-O-3", "&#39;Condition")


class TestNoCaseRead:
    """The 422 page of a record from which no PEComa case could be read, as the clinician
    reads it: what was found in plain words, what to do; the technical detail collapsed
    for the integrator."""

    def refused(self, tmp_path: Path, record: dict[str, Any],
                behaviour: dict[str, Any] | None = None) -> httpx.Response:
        ehr = Ehr(record=record, behaviour=behaviour or {})
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
        assert r.status_code == 422, r.text
        assert "No PEComa case could be read" in r.text
        text = seen_by_clinician(r.text)
        for word in DEVELOPER_WORDS:
            assert word not in text, (word, text)
        assert "Enter the case by hand" in text
        return r

    def test_a_patient_without_pecoma(self, tmp_path: Path) -> None:
        """Breast cancer and hypertension only: the page says the record holds no PEComa
        diagnosis and to check it is recorded; the missing disease status only follows
        from that and is not said to the clinician (it stays in the details)."""
        r = self.refused(tmp_path, breast_cancer_record())
        text = seen_by_clinician(r.text)
        assert "holds no PEComa diagnosis" in text
        assert "check that the diagnosis is recorded" in text
        assert "Disease status" not in text
        details = integrator_details(r.text)
        assert "8714" in details and "stage.status" in details

    def test_the_pecoma_conditions_removed(self, tmp_path: Path) -> None:
        """The localized record without its Condition (its disease status Observation
        kept): no PEComa diagnosis, said in words."""
        record = example("localized-high-risk")
        record["entry"] = [e for e in record["entry"]
                           if e["resource"]["resourceType"] != "Condition"]
        text = seen_by_clinician(self.refused(tmp_path, record).text)
        assert "holds no PEComa diagnosis" in text

    def test_a_result_not_read_naming_no_pecoma_is_no_pecoma_found(
            self, tmp_path: Path) -> None:
        """A breast-cancer patient whose lung metastasis (C78.01) has a biopsy result
        (LOINC 31206-6) with no value: nothing in the record names a PEComa. The page had
        said a PEComa diagnosis or pathology result "was found but set aside", and asked
        to check "that diagnosis": a false clinical statement. It says the record holds
        none, that results not read name no PEComa, and the details name the result."""
        record = breast_cancer_record()
        subject = {"reference": "Patient/p-77"}
        record["entry"] += [
            {"resource": {"resourceType": "Condition", "id": "met", "subject": subject,
                          "code": {"coding": [{
                              "system": "http://hl7.org/fhir/sid/icd-10-cm",
                              "code": "C78.01", "display": "Secondary malignant neoplasm "
                              "of right lung"}]}, "onsetDateTime": "2025-06-01"}},
            {"resource": {"resourceType": "Observation", "id": "met-biopsy",
                          "status": "final", "subject": subject,
                          "code": {"coding": [{"system": "http://loinc.org",
                                               "code": "31206-6"}]},
                          "focus": [{"reference": "Condition/met"}],
                          "effectiveDateTime": "2025-06-10",
                          "dataAbsentReason": {"coding": [{
                              "system": "http://terminology.hl7.org/CodeSystem/"
                                        "data-absent-reason", "code": "unknown"}]}}}]
        r = self.refused(tmp_path, record)
        text = seen_by_clinician(r.text)
        assert "holds no PEComa diagnosis:" in text
        assert "found but set aside" not in text and "Check that diagnosis" not in text
        assert "none of them naming a PEComa" in text
        details = integrator_details(r.text)
        assert "Observation/met-biopsy, a result naming no PEComa, is not read" in details
        assert "(none found)" in details

    def test_a_pecoma_metastasis_without_its_primary(self, tmp_path: Path) -> None:
        """The lung-metastasis record without the primary PEComa's Condition: the page says
        the record holds a metastasis of PEComa but no diagnosis of its primary, and to
        record the primary; never that the record holds no PEComa, nor that a PEComa was
        set aside as refuted."""
        record = example("metastatic-lung-metachronous")
        record["entry"] = [e for e in record["entry"]
                           if e["resource"].get("id") != "pecoma-diagnosis"]
        r = self.refused(tmp_path, record)
        text = seen_by_clinician(r.text)
        assert "holds a metastasis of PEComa but no diagnosis of its primary tumour" in text
        assert "Record the primary PEComa&#39;s diagnosis" in text
        assert "holds no PEComa diagnosis" not in text and "set aside" not in text
        assert "Condition/metastasis-1" in integrator_details(r.text)

    def test_a_refuted_pecoma_diagnosis(self, tmp_path: Path) -> None:
        """The record's only PEComa Condition recorded as refuted (FHIR's own code): set
        aside, so no case is read; the page says a PEComa diagnosis was found but set
        aside, not that the record holds none (nor that two diagnoses disagree), and the
        details name the Condition."""
        record = example("localized-high-risk")
        for e in record["entry"]:
            if e["resource"]["resourceType"] == "Condition":
                e["resource"]["verificationStatus"] = {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "refuted"}]}
        r = self.refused(tmp_path, record)
        text = seen_by_clinician(r.text)
        assert "holds no PEComa diagnosis pecoma can read" in text
        assert "found but set aside" in text
        assert "diagnoses disagree" not in text and "more than one current" not in text
        assert "records PEComa but is set aside" in integrator_details(r.text)

    @pytest.mark.parametrize("record", [breast_cancer_record, lambda: example(
        "localized-high-risk")])
    def test_the_condition_search_failed(self, tmp_path: Path, record: Any) -> None:
        """The diagnoses could not be read: the page never says the record holds no
        PEComa (it may), says which part of the record could not be read, and to try
        again."""
        r = self.refused(tmp_path, record(), {"fail": ("Condition",)})
        text = seen_by_clinician(r.text)
        assert "holds no PEComa diagnosis" not in text
        assert "could not look for a PEComa diagnosis" in text
        assert "the PEComa diagnosis, its site and date, metastases" in text
        assert "Try again from the EHR later" in text
        assert "Condition search" in integrator_details(r.text)

    def test_the_observation_search_failed(self, tmp_path: Path) -> None:
        """A PEComa diagnosis, the results unread: the disease status could not be read,
        said by the form's label, with the part of the record that failed."""
        r = self.refused(tmp_path, example("localized-high-risk"),
                         {"fail": ("Observation",)})
        text = seen_by_clinician(r.text)
        assert "Disease status: could not be read" in text
        assert "size, histology, immunohistochemistry, margins and disease status" in text
        assert "holds no PEComa diagnosis" not in text

    def test_no_disease_status(self, tmp_path: Path) -> None:
        """A PEComa diagnosis and no disease status anywhere: the status by its label,
        and that pecoma never assumes it."""
        record = example("localized-high-risk")
        record["entry"] = [e for e in record["entry"]
                           if e["resource"].get("id") != "disease-status"]
        r = self.refused(tmp_path, record)
        text = seen_by_clinician(r.text)
        assert "Disease status: not found in the record" in text
        assert "never assumes it" in text
        assert "stage.status" in integrator_details(r.text)

    def test_a_fact_the_record_contradicts(self, tmp_path: Path) -> None:
        """Localized disease resected R0 and an Observation saying the disease is not
        resectable: the contradiction is said with the form's labels, not the paths."""
        record = example("low-risk")
        record["entry"].append({"resource": {
            "resourceType": "Observation", "id": "resectable", "status": "final",
            "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                                 "code": "resectable"}]},
            "subject": {"reference": "Patient/pat-1002"}, "valueBoolean": False}})
        text = seen_by_clinician(self.refused(tmp_path, record).text)
        assert "Resectable: contradicts “Resection margin”" in text
        assert "Correct the record in the EHR" in text

    def test_a_diagnosis_without_its_site(self, tmp_path: Path) -> None:
        """The PEComa Condition names no body site: the primary site, by its label."""
        record = example("localized-high-risk")
        for entry in record["entry"]:
            if entry["resource"]["resourceType"] == "Condition":
                entry["resource"].pop("bodySite", None)
        text = seen_by_clinician(self.refused(tmp_path, record).text)
        assert "Primary site: the PEComa diagnosis does not name it" in text

    def test_two_versions_of_an_allergy_in_words(self, tmp_path: Path) -> None:
        """One allergy id sent twice with different content: said as an allergy entry
        whose version cannot be told; its id is for the integrator."""
        record = record_with_sirolimus_intolerance()
        entry = next(e for e in record["entry"]
                     if e["resource"]["id"] == "sirolimus-intolerance")
        other = copy.deepcopy(entry)
        other["resource"]["clinicalStatus"]["coding"][0]["code"] = "resolved"
        record["entry"].append(other)
        r = self.refused(tmp_path, record)
        text = seen_by_clinician(r.text)
        assert "An allergy or intolerance entry could not be used: it was sent twice" in text
        assert "sirolimus-intolerance" not in text
        assert "AllergyIntolerance/sirolimus-intolerance" in integrator_details(r.text)

    def test_the_log_names_kinds_only(self, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture) -> None:
        """The refusal is logged with the kinds of problem, never the patient's id nor
        a resource of the record."""
        caplog.set_level(logging.INFO)
        self.refused(tmp_path, breast_cancer_record())
        refusals = [r for r in caplog.records if r.getMessage() == "smart launch refused"]
        assert [r.__dict__["problems"] for r in refusals] == [["no PEComa diagnosis"]]
        for record in caplog.records:
            line = f"{record.getMessage()} {record.__dict__}"
            assert "p-77" not in line and "C50" not in line


class TestAnotherPatient:
    """The EHR's FHIR server answers the searches for the launched patient with another
    patient's resources (a proxy or cache fault): the diagnoses of this patient were never
    read, so the page never says "no PEComa" (unknown is not absent), says what happened,
    and shows no identifier of the other patient (docs/smart.md; the CDS service's "holds
    another patient's data" card rests on the same detection)."""

    def launched(self, tmp_path: Path) -> httpx.Response:
        ehr = Ehr(record=example("localized-high-risk"),
                  behaviour={"other_patient": "pat-X"})
        with running(ehr), pecoma(ehr, tmp_path) as client:
            return launch_and_return(client, ehr)

    def test_the_page_says_another_patients_data_and_nothing_was_assessed(
            self, tmp_path: Path) -> None:
        r = self.launched(tmp_path)
        assert r.status_code == 502, r.text[:500]
        text = html.unescape(seen_by_clinician(r.text))
        assert "The EHR sent another patient's data" in text
        assert "Nothing of it was read and nothing was assessed" in text
        assert "A diagnosis (1 entry): belongs to another patient" in text
        assert "no PEComa" not in text and "Enter the case by hand" not in text
        for word in DEVELOPER_WORDS:
            assert word not in text, (word, text)

    def test_no_identifier_of_the_other_patient_is_shown(self, tmp_path: Path) -> None:
        """Neither the other patient's id nor the ids of their resources, anywhere on
        the page (the details for the integrator name kinds and fields only)."""
        r = self.launched(tmp_path)
        for other in ("pat-1001", "pecoma-diagnosis", "tumour-size", "resection"):
            assert other not in r.text, other
        assert "Condition.subject: refers to another patient" in integrator_details(r.text)

    def test_the_log_names_the_kind_only(self, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        self.launched(tmp_path)
        refusals = [r for r in caplog.records if r.getMessage() == "smart launch refused"]
        assert [r.__dict__["problems"] for r in refusals] == [["another patient's data"]]
        for record in caplog.records:
            line = f"{record.getMessage()} {record.__dict__}"
            assert "pat-1001" not in line and "pat-X" not in line


DATA_ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def record_with_patient(**fields: Any) -> dict[str, Any]:
    """The localized high-risk record (uterine PEComa, R1) with ``fields`` set on its
    Patient (pat-1001)."""
    bundle = copy.deepcopy(example("localized-high-risk"))
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient.update(copy.deepcopy(fields))
    return bundle


def record_dead_by_vital_status() -> dict[str, Any]:
    """The localized high-risk record, its Patient silent on death, with an Observation of
    vital status (LOINC 75186-7) valued 'Dead' (SNOMED CT 419099009) on 2026-10-02."""
    bundle = copy.deepcopy(example("localized-high-risk"))
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "vital-status", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75186-7"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                             "code": "419099009", "display": "Dead"}]},
        "effectiveDateTime": "2026-10-02",
        "subject": {"reference": "Patient/pat-1001"}}})
    return bundle


def ehr_notice(html: str) -> str:
    """The page's "Filled in from the EHR" section."""
    m = re.search(r'<section class="ehr-notice".*?</section>', html, re.S)
    assert m, "no 'Filled in from the EHR' section"
    return m.group(0)


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


class TestVitalStatus:
    """Whether the record says the patient died: the SMART page follows the rule of the
    CDS services (pecoma.web.vital_status, one implementation, their words). A recorded
    death makes treatment advice no decision at hand: the page says so, as the CDS card
    does, and fills in no case form (it had shown the ordinary form, whose report gives
    PEComa treatment and surveillance advice). A vital status that cannot be read is
    never taken as alive without a word: a first warning says to check it before acting,
    and the form follows as for a living patient (the page had said nothing)."""

    DEATH_SAID = ("pecoma gives no treatment or surveillance advice for a patient recorded "
                  "as deceased. If the record is wrong, correct it and open pecoma again "
                  "from the chart.")
    UNKNOWN_TITLE = ("Whether this patient has died is unknown from the record: check it "
                     "before acting on the PEComa advice")

    @staticmethod
    def launched(tmp_path: Path, record: dict[str, Any]) -> tuple[httpx.Response, str]:
        """The page of a launch for ``record``, and the report its form gives ('' when
        the page has no case form)."""
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            page = launch_and_return(client, ehr)
            report = post_form(client, page.text) if 'action="/report"' in page.text else ""
        return page, report

    @pytest.mark.parametrize(("record", "title"), [
        pytest.param(lambda: record_with_patient(deceasedBoolean=True),
                     "The record says this patient died: no PEComa advice",
                     id="deceasedBoolean-true"),
        pytest.param(lambda: record_with_patient(deceasedDateTime="2026-10-02"),
                     "The record says this patient died (2026-10-02): no PEComa advice",
                     id="deceasedDateTime"),
        pytest.param(record_dead_by_vital_status,
                     "The record says this patient died (2026-10-02): no PEComa advice",
                     id="vital-status-observation"),
    ])
    def test_a_recorded_death_gets_no_advice(self, tmp_path: Path, record: Any,
                                             title: str) -> None:
        """The page (200: the record was read, and this is pecoma's answer to it) says
        what the CDS card says, the date when the record gives one, and holds no case
        form: no report, so no treatment or surveillance advice, can follow from it."""
        page, report = self.launched(tmp_path, record())
        assert page.status_code == 200, page.text[:500]
        h1 = re.search(r"<h1>(.*?)</h1>", page.text, re.S)
        assert h1 and text_of(h1.group(1)) == title
        text = text_of(page.text.split('<main id="main"', 1)[1])
        assert "The record notes the patient's death (Patient.deceased, or an Observation " \
               "of vital status)" in text
        assert self.DEATH_SAID in text
        assert "Filled in from the EHR" not in page.text
        assert 'action="/report"' not in page.text and report == ""
        assert "No PEComa case could be read" not in page.text  # not a refusal

    def test_the_log_says_why_never_the_date(self, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
        """The launch is logged as finished with no advice for a recorded death; neither
        the date of death nor the patient's id is in any log record."""
        caplog.set_level(logging.DEBUG)
        self.launched(tmp_path, record_with_patient(deceasedDateTime="2026-10-02"))
        finished = [r for r in caplog.records if r.getMessage() == "smart launch finished"]
        assert [r.__dict__.get("no_advice") for r in finished] == ["recorded deceased"]
        for r in caplog.records:
            line = f"{r.getMessage()} {r.__dict__}"
            assert "2026-10-02" not in line and "pat-1001" not in line

    @pytest.mark.parametrize(("fields", "quoted"), [
        pytest.param({"deceasedBoolean": "true"}, "deceasedBoolean is 'true' (a string)",
                     id="boolean-as-string"),
        pytest.param({"deceasedDateTime": 20260105}, "deceasedDateTime is 20260105 (a number)",
                     id="datetime-as-number"),
        pytest.param({"_deceasedBoolean": {"extension": [{"url": DATA_ABSENT,
                                                          "valueCode": "unknown"}]}},
                     "Patient.deceased[x] is not recorded (data-absent-reason 'unknown')",
                     id="data-absent-reason"),
    ])
    def test_a_vital_status_unknown_is_said_first(self, tmp_path: Path,
                                                  fields: dict[str, Any], quoted: str) -> None:
        """The first thing the EHR section says, as an alert, is the CDS card's warning
        quoting what the record holds and what to record; the form is filled in as for a
        living patient (the patient may be alive) and the report follows. The page
        proposes no order, so it says nothing of orders."""
        page, report = self.launched(tmp_path, record_with_patient(**fields))
        assert page.status_code == 200, page.text[:500]
        notice = ehr_notice(page.text)
        first = re.search(r"</h2>\s*(<p[^>]*>.*?</p>)", notice, re.S)
        assert first and 'role="alert"' in first.group(1)
        said = text_of(first.group(1))
        assert said.startswith(self.UNKNOWN_TITLE + ". The record does not say whether "
                               "the patient is alive (")
        assert quoted in said
        assert said.endswith("so the advice is given as for a living patient. Record it in "
                             "Patient.deceased[x] (deceasedBoolean true or false, or "
                             "deceasedDateTime the date of death) and open pecoma again "
                             "from the chart.")
        assert "order" not in said
        assert form_value(page.text, "tumour.primary_site") == "uterus"
        assert form_value(page.text, "surgery.margin") == "R1"
        assert 'id="item-REC-RERESECTION' in report  # the advice of a living patient

    def test_a_patient_recorded_alive_is_unchanged(self, tmp_path: Path) -> None:
        """deceasedBoolean false is alive: the page is the one of the record without the
        element, word for word, with no warning about whether the patient died."""
        alive, _ = self.launched(tmp_path / "a", record_with_patient(deceasedBoolean=False))
        silent, _ = self.launched(tmp_path / "s", record_with_patient())
        assert alive.status_code == silent.status_code == 200
        main = [re.sub(r"http://127\.0\.0\.1:\d+", "EHR", p.text.split('<main id="main"', 1)[1])
                for p in (alive, silent)]  # two test EHRs: only their ports differ
        assert main[0] == main[1]
        assert "died" not in main[0] and "vital-status" not in main[0]
        assert form_value(alive.text, "tumour.primary_site") == "uterus"


class TestNotFound:
    """The facts the record did not give, as the clinician reads them: the form's labels
    (never field paths), and only those that can matter for the disease status read; a
    fact the engine asks about is listed whatever the status."""

    @staticmethod
    def listed(tmp_path: Path, record: dict[str, Any]) -> list[str]:
        ehr = Ehr(record=record)
        with running(ehr), pecoma(ehr, tmp_path) as client:
            r = launch_and_return(client, ehr)
            assert r.status_code == 200, r.text
            assert "<code>" not in r.text.split('<ul class="not-found">')[1].split("</ul>")[0]
            return not_found_list(r.text)

    def test_localized_r1(self, tmp_path: Path) -> None:
        """Localized uterine PEComa resected R1, the record silent on resectability and
        the molecular findings. Disease outside the lungs and complete excision of
        metastases matter only for recurrent or metastatic disease: not listed.
        Resectable is: after an R1 resection a record that surgery cannot remove what is
        left means no re-excision (I6), so it can change the advice. The anthracycline
        contraindication the record does not give is listed, as the mTOR-inhibitor one is
        (unknown, not absent: it decides S14/S15 should the disease come back)."""
        assert self.listed(tmp_path, example("localized-high-risk")) == [
            "Resectable", "Anthracyclines contraindicated (e.g. cardiac)", "TSC1", "TSC2",
            "TFE3 rearrangement"]

    def test_localized_r0(self, tmp_path: Path) -> None:
        """Localized disease resected R0: resectability cannot change the advice (a 'no'
        is refused by the case's checks beside an R0 margin), nor can the metastatic
        facts; the missing immunohistochemistry and the mTOR inhibitor facts are listed."""
        listed = self.listed(tmp_path, example("low-risk"))
        assert not {"Resectable", "Disease outside the lungs",
                    "Complete excision of metastases feasible"} & set(listed)
        assert {"MITF", "Cathepsin K", "mTOR inhibitor available",
                "mTOR inhibitor contraindicated",
                "Anthracyclines contraindicated (e.g. cardiac)"} <= set(listed)
        # form labels, never field paths (a label may hold a full stop: "e.g.")
        assert all(" " in item or "." not in item for item in listed)
        assert all("_" not in item for item in listed)

    def test_locally_advanced(self, tmp_path: Path) -> None:
        """Locally advanced, unresectable disease without metastases: the metastatic facts
        are not listed; the vascular invasion and the regional nodes are."""
        listed = self.listed(tmp_path, example("advanced-mtor-contraindicated"))
        assert "Disease outside the lungs" not in listed
        assert "Complete excision of metastases feasible" not in listed
        assert {"Vascular invasion", "Regional lymph nodes"} <= set(listed)

    def test_metastatic(self, tmp_path: Path) -> None:
        """Metastatic disease (a lung metastasis) whose record gives neither disease
        outside the lungs, resectability nor whether every focus can be removed: all
        three are listed, they decide metastasectomy (S16, S17)."""
        record = example("metastatic-lung-metachronous")
        gone = {"extrapulmonary-disease", "resectable", "complete-excision-feasible"}
        record["entry"] = [e for e in record["entry"] if e["resource"].get("id") not in gone]
        listed = self.listed(tmp_path, record)
        assert {"Disease outside the lungs", "Resectable",
                "Complete excision of metastases feasible"} <= set(listed)

    def test_a_fact_the_engine_asks_about_is_always_listed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Even where the status rule would leave a fact out, one the assessment asks
        about (here the molecular findings of metastatic disease, MISS-MOLECULAR) stays
        listed; the others follow the rule."""
        from pecoma.fhir.reader import case_from_bundle
        from pecoma.settings import default_settings
        from pecoma.web import form_layout
        from pecoma.web.smart import routes

        read = case_from_bundle(example("metastatic-lung-metachronous"))
        monkeypatch.setattr(form_layout, "applies", lambda path, case: False)
        kept = routes._to_list(read.case, list(read.not_found), ON, default_settings())
        assert kept == ["molecular.tsc1", "molecular.tsc2", "molecular.tfe3_fusion"]


class TestSecrets:
    def test_tokens_never_logged_nor_in_urls(self, ehr: Ehr, tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
        """The access token, the client secret, the PKCE verifier and the launch cookie
        appear in no log record and no URL; the token goes only to the FHIR server, in
        the Authorization header."""
        ehr.behaviour["client_secret"] = CLIENT_SECRET
        caplog.set_level(logging.DEBUG)
        with pecoma(ehr, tmp_path, client_secret=CLIENT_SECRET) as client:
            first = start(client, ehr.fhir)
            (cookie,) = launch_cookies(first).values()
            page = client.get(at_ehr(first))
            assert page.status_code == 200
        (token,) = ehr.issued
        verifier = parse_qs(token_requests(ehr)[0]["body"])["code_verifier"][0]
        secrets_ = (token, CLIENT_SECRET, verifier, cookie)
        logged = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
        assert logged  # the access log and the launch's own records were captured
        for secret in secrets_:
            assert all(secret not in line for line in logged)
            assert all(secret not in s["url"] for s in ehr.seen)
            assert secret not in first.headers["location"]
            assert secret not in page.text
        for request in ehr.seen:
            auth = request["headers"].get("authorization", "")
            if token in auth:
                assert urlsplit(request["url"]).path.startswith("/fhir/")
                assert auth == f"Bearer {token}"
        assert all(f"Bearer {token}" == r["headers"].get("authorization")
                   for r in fhir_requests(ehr))


class TestConfig:
    def test_launch_needs_issuers_and_redirect_base(self) -> None:
        """A client id without allowed issuers or a redirect base is a configuration error
        naming the setting."""
        with pytest.raises(ConfigError, match=r"smart\.issuers"):
            WebConfig.build({"smart": {"client_id": "c", "redirect_base": PECOMA}}, "test")
        with pytest.raises(ConfigError, match=r"smart\.redirect_base"):
            WebConfig.build({"smart": {"client_id": "c",
                                       "issuers": "https://ehr.example/fhir"}}, "test")

    def test_from_the_environment(self) -> None:
        """PECOMA_SMART_* variables: issuers space- or comma-separated; one with user
        information is refused, naming the rule."""
        config = WebConfig.from_env({
            "PECOMA_SMART_CLIENT_ID": "c",
            "PECOMA_SMART_ISSUERS": "https://a.example/fhir, https://b.example/r4",
            "PECOMA_SMART_REDIRECT_BASE": "https://pecoma.example/",
        })
        assert config.smart.enabled
        assert config.smart.issuers == ("https://a.example/fhir", "https://b.example/r4")
        assert config.smart.redirect_uri == "https://pecoma.example/smart/callback"
        assert not WebConfig.from_env({}).smart.enabled
        with pytest.raises(ConfigError, match="user information"):
            WebConfig.from_env({"PECOMA_SMART_ISSUERS": "https://x@a.example/fhir"})

    def test_from_a_file_and_handed_to_workers(self, tmp_path: Path) -> None:
        """The [web.smart] table of a TOML file; the settings survive the pickling that
        hands worker processes their configuration (the secret too)."""
        path = tmp_path / "web.toml"
        path.write_text('[web.smart]\nclient_id = "c"\nclient_secret = "s3cret-value"\n'
                        'issuers = ["https://a.example/fhir"]\n'
                        'redirect_base = "https://pecoma.example"\nscopes = '
                        '"launch openid fhirUser patient/*.read"\n', encoding="utf-8")
        config = WebConfig.from_file(path)
        again = pickle.loads(pickle.dumps(config))
        assert again.smart == config.smart
        secret = again.smart.client_secret
        assert secret is not None and secret.get_secret_value() == "s3cret-value"

    def test_the_secret_is_never_shown(self) -> None:
        """Neither the model's repr nor a configuration error shows the client secret."""
        config = WebConfig.build({"smart": {
            "client_id": "c", "client_secret": "s3cret-value",
            "issuers": ("https://a.example/fhir",), "redirect_base": PECOMA}}, "test")
        assert "s3cret-value" not in repr(config)
        for bad in ({"client_secret": ["s3cret-value"]},
                    {"client_id": "c", "client_secret": "s3cret-value"}):
            with pytest.raises(ConfigError) as info:
                WebConfig.build({"smart": bad}, "test")
            assert "s3cret-value" not in str(info.value)


    def test_card_links_to_the_launch_need_the_launch(self, tmp_path: Path) -> None:
        """``cds.smart_links`` puts an "Open the case in pecoma" link on every CDS card,
        to /smart/launch; with SMART launch off (no ``smart.client_id``) that page answers
        404, so the EHR's users would click a dead link on every card. Before, the
        combination was accepted; now it is a configuration error, from a file, the
        environment or values alike, naming both settings and what to do."""
        path = tmp_path / "web.toml"
        path.write_text("[web.cds]\nsmart_links = true\n", encoding="utf-8")
        attempts = [lambda: WebConfig.build({"cds": {"smart_links": True}}, "test"),
                    lambda: WebConfig.from_env({"PECOMA_CDS_SMART_LINKS": "true"}),
                    lambda: WebConfig.from_file(path)]
        for attempt in attempts:
            with pytest.raises(ConfigError) as info:
                attempt()
            said = str(info.value)
            assert "'cds.smart_links' is true but SMART launch is off" in said
            assert "'smart.client_id'" in said and "answers 404" in said
            assert "or set 'cds.smart_links' to false" in said
        # either half alone, or both, is a valid configuration
        launch = {"client_id": "c", "issuers": ("https://ehr.example/fhir",),
                  "redirect_base": PECOMA}
        assert WebConfig.build({"cds": {"smart_links": True}, "smart": launch},
                               "test").cds.smart_links
        assert not WebConfig.build({"cds": {"smart_links": False}}, "test").smart.enabled
        assert WebConfig.build({"smart": launch}, "test").smart.enabled

    def test_the_server_does_not_start_with_dead_card_links(self) -> None:
        """``pecoma serve`` stops at start-up with exit 5 (a configuration error) and the
        message naming both settings: the dead link never reaches an EHR."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}
        env["PECOMA_CDS_SMART_LINKS"] = "true"
        with socket.socket() as taken:  # a server that got past its settings stops here
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = str(taken.getsockname()[1])
            run = subprocess.run([sys.executable, "-m", "pecoma", "serve", "--port", port],
                                 env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 5, run.stdout + run.stderr
        said = " ".join((run.stdout + run.stderr).split())
        assert "'cds.smart_links' is true but SMART launch is off" in said
        assert "Set 'smart.client_id'" in said


#: Fields of the configuration document that pecoma does not use (SMART App Launch 2.x
#: §Response, and a few servers' own).
UNUSED_FIELDS = ("capabilities", "scopes_supported", "response_types_supported",
                 "grant_types_supported", "token_endpoint_auth_methods_supported",
                 "issuer", "jwks_uri", "registration_endpoint", "management_endpoint",
                 "introspection_endpoint", "revocation_endpoint",
                 "associated_endpoints", "user_access_brand_bundle")
#: A JSON value of every type, and the shapes a field documented as a list often takes.
ODD_VALUES = (None, "launch-ehr client-public", "", 3, 2.5, True, {}, {"launch-ehr": True},
              [], [None, 3, {"x": []}])


class TestConfigurationDocument:
    ISS = parse_server_url("https://ehr.example/fhir")
    GOOD: ClassVar[dict[str, Any]] = {
        "authorization_endpoint": "https://auth.example/oauth2/authorize/",
        "token_endpoint": "https://auth.example/oauth2/token",
        "code_challenge_methods_supported": ["S256"],
        "capabilities": ["launch-ehr", "client-public"],
    }

    def test_endpoints_are_used_as_written(self) -> None:
        """Checked endpoints are used as the EHR wrote them (the trailing slash kept)."""
        doc = check_configuration(self.GOOD, self.ISS)
        assert doc.authorization_endpoint == "https://auth.example/oauth2/authorize/"
        assert doc.token_endpoint == "https://auth.example/oauth2/token"

    @pytest.mark.parametrize("change", [
        {"authorization_endpoint": "https://auth.example/oauth2/authorize?tenant=x"},
        {"authorization_endpoint": "https://auth.example/oauth2/authorize/?p=B2C_1&t="},
        {"token_endpoint": "https://auth.example/oauth2/token?api-version=2"},
        {"token_endpoint": "https://auth.example/oauth2/token?tenant=x&aud=y"},
    ])
    def test_an_endpoint_may_have_a_query(self, change: dict[str, str]) -> None:
        """RFC 6749 §3.1, §3.2: an endpoint's query is allowed and kept as written (a token
        endpoint may name aud: pecoma never sends it there)."""
        doc = check_configuration({**self.GOOD, **change}, self.ISS)
        for name, url in change.items():
            assert getattr(doc, name) == url

    @pytest.mark.parametrize(("change", "says"), [
        ({"token_endpoint": None}, "'token_endpoint'"),
        ({"authorization_endpoint": "http://auth.example/authorize"}, "must use HTTPS"),
        ({"authorization_endpoint": "http://auth.example/authorize?tenant=x"},
         "must use HTTPS"),
        ({"token_endpoint": "https://user@auth.example/token"}, "user information"),
        ({"token_endpoint": "https://user@auth.example/token?x=1"}, "user information"),
        ({"token_endpoint": "https://auth.example/token#x"}, "fragment"),
        ({"authorization_endpoint": "https://auth.example/authorize?tenant=x#f"}, "fragment"),
        ({"authorization_endpoint": "https://auth.example/authorize?t=a b"}, "whitespace"),
        ({"authorization_endpoint": "https://auth.example/authorize?t=<x>"}, "escaped"),
        ({"authorization_endpoint": "https://auth.example/authorize?launch=1"}, "launch"),
        ({"authorization_endpoint": "https://auth.example/authorize?scope=x"}, "scope"),
        ({"authorization_endpoint": "https://auth.example/authorize?code_challenge_method"
          "=plain"}, "code_challenge_method"),
        ({"authorization_endpoint": "https://auth.example/authorize?response%5Ftype=token"},
         "response_type"),
        ({"token_endpoint": "https://auth.example/token?code=x"}, "code"),
        ({"token_endpoint": "https://auth.example/token?client_id=other"}, "client_id"),
        ({"token_endpoint": "https://auth.example/token?redirect_uri=x"}, "redirect_uri"),
        ({"token_endpoint": "https://auth.example/token?code_verifier=x"}, "code_verifier"),
        ({"authorization_endpoint": "/authorize"}, "https://"),
        ({"authorization_endpoint": "https://0x7f.1/authorize?tenant=x"}, "host"),
        ({"code_challenge_methods_supported": ["plain"]}, "S256"),
        # a percent escape in an endpoint's path, by the rule iss follows (docs/smart.md):
        # the message says what is refused, not "reserved characters" (';', ':', '@' and
        # ',' are taken)
        ({"authorization_endpoint": "https://auth.example/a%75thorize"}, "percent escapes"),
    ])
    def test_refused(self, change: dict[str, Any], says: str) -> None:
        """A document pecoma cannot rely on is refused, naming what is wrong."""
        data = {**self.GOOD, **change}
        data = {k: v for k, v in data.items() if v is not None}
        with pytest.raises(LaunchError) as info:
            check_configuration(data, self.ISS)
        assert info.value.status == 502
        assert says in info.value.detail

    @pytest.mark.parametrize("field", UNUSED_FIELDS)
    @pytest.mark.parametrize("value", ODD_VALUES)
    def test_a_field_pecoma_does_not_use_is_ignored_whatever_its_value(
            self, field: str, value: Any) -> None:
        """A field pecoma does not use is ignored, as documented, whatever its value:
        null, a string, a number, a boolean, an object, a list of anything. Before,
        ``capabilities`` null or a string made the document "not usable" (502), which
        stopped every launch from that EHR."""
        doc = check_configuration({**self.GOOD, field: value}, self.ISS)
        assert doc.authorization_endpoint == self.GOOD["authorization_endpoint"]
        assert doc.token_endpoint == self.GOOD["token_endpoint"]
        assert doc.code_challenge_methods_supported == ("S256",)

    @settings(max_examples=200, deadline=None)
    @given(extra=st.dictionaries(
        st.text(max_size=40).filter(lambda k: k not in (
            "authorization_endpoint", "token_endpoint", "code_challenge_methods_supported")),
        st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                     | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8),
        max_size=5))
    def test_any_json_in_any_unused_field_is_ignored(self, extra: dict[str, Any]) -> None:
        """The same for any field name beside the three pecoma reads, and any JSON value."""
        doc = check_configuration({**self.GOOD, **extra}, self.ISS)
        assert doc.token_endpoint == self.GOOD["token_endpoint"]

    @pytest.mark.parametrize("field", ["authorization_endpoint", "token_endpoint",
                                       "code_challenge_methods_supported"])
    @pytest.mark.parametrize("value", ["S256", "", 3, 2.5, True, {}, {"S256": True}, [],
                                       [3], ["S256", None]])
    def test_a_bad_value_of_a_field_pecoma_uses_is_refused(self, field: str,
                                                           value: Any) -> None:
        """Lenient only where pecoma reads nothing: an endpoint, or the PKCE methods,
        that is not what the specification says (a string URL; a list of strings offering
        S256) is refused with a 502 naming the field, never used on a guess."""
        with pytest.raises(LaunchError) as info:
            check_configuration({**self.GOOD, field: value}, self.ISS)
        assert info.value.status == 502
        assert field in info.value.detail

    def test_odd_unused_fields_of_the_ehrs_document_do_not_stop_the_launch(
            self, ehr: Ehr, tmp_path: Path) -> None:
        """End to end: the EHR publishes ``capabilities`` null, then as one string, then
        as an object (and ``scopes_supported`` a number): each launch finishes."""
        with pecoma(ehr, tmp_path) as client:
            for odd in ({"capabilities": None},
                        {"capabilities": "launch-ehr client-public"},
                        {"capabilities": {"launch-ehr": True}, "scopes_supported": 3}):
                ehr.behaviour["configuration"] = odd
                assert launch_and_return(client, ehr).status_code == 200, odd

    def test_a_v1_document_without_pkce_methods(self) -> None:
        """A SMART 1 document that does not list code challenge methods is used; pecoma
        sends its S256 challenge all the same."""
        data = {k: v for k, v in self.GOOD.items() if k != "code_challenge_methods_supported"}
        assert check_configuration(data, self.ISS).code_challenge_methods_supported is None


class TestLaunchStore:
    def test_single_use_bounded_expiring(self, db_url: str) -> None:
        """On SQLite and PostgreSQL: a launch is taken once, by its browser key only,
        before it expires; the number in progress is bounded and expired ones are purged."""
        repo = open_registry(db_url)
        now = [dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)]
        store = LaunchStore(repo.engine, clock=lambda: now[0])
        pending = PendingLaunch("https://ehr.example/fhir", "https://ehr.example/token", "v" * 43)
        store.begin("state-1", "key-1", pending, lifetime_seconds=60, max_pending=2)
        assert store.take("state-1", "key-1") == pending
        with pytest.raises(LaunchRefused, match="already used"):
            store.take("state-1", "key-1")
        store.begin("state-2", "key-2", pending, lifetime_seconds=60, max_pending=2)
        with pytest.raises(LaunchRefused, match="another browser"):
            store.take("state-2", "key-x")
        with pytest.raises(LaunchRefused, match="already used"):
            store.take("state-2", "key-2")
        store.begin("state-3", "key-3", pending, lifetime_seconds=60, max_pending=2)
        store.begin("state-4", "key-4", pending, lifetime_seconds=60, max_pending=2)
        from pecoma.store.smart_launch import LaunchesFull

        with pytest.raises(LaunchesFull):
            store.begin("state-5", "key-5", pending, lifetime_seconds=60, max_pending=2)
        now[0] += dt.timedelta(seconds=61)
        with pytest.raises(LaunchRefused, match="expired"):
            store.take("state-3", "key-3")
        store.begin("state-5", "key-5", pending, lifetime_seconds=60, max_pending=2)
        with repo.engine.connect() as conn:
            import sqlalchemy as sa

            rows = conn.execute(sa.text("SELECT state_digest FROM smart_launch")).all()
        assert len(rows) == 1  # state-4 expired and purged; only state-5 remains
        assert all("state" not in r[0] for r in rows)  # digests, never the state
        repo.engine.dispose()
