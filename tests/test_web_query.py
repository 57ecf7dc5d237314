"""Query parameters: every route answers only those it takes, each given once.

A misspelt or unknown query parameter used to be dropped without a word: a caller asking
``/api/v1/followup?ON=2025-06-01`` (or ``?date=``, ``?on_date=``) got a 200 and the
plan as of the server's today, with due dates and statuses for another day, while the
same mistake in the body was a 422 naming the field. Now every query parameter a route
does not take, a value without a name and a parameter given twice is refused, naming the
parameter, the value and what is allowed: a 422 problem on ``/api/v1``, the 400 page on
the pages and files. The SMART launch and callback, the CDS Hooks service and the health
probes keep reading what other systems send them.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import open_registry
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig
from test_smart_launch import at_ehr, pecoma, start

from fhir_support import example
from registry_support import high_risk
from smart_ehr import Ehr, running

TODAY = dt.date(2026, 11, 28)
PROBLEM = "application/problem+json"

#: A resected kidney PEComa of 3 cm whose histology is not given: the risk is
#: indeterminate, so surveillance follows the high-risk schedule (I1), a visit due 3
#: months after the end of treatment and overdue after 4 (I2).
KIDNEY = {"tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
          "stage": {"status": "localized"}, "diagnosis": {"date": "2025-01-10"},
          "surgery": {"status": "performed", "date": "2025-02-01", "margin": "R0"}}

#: Every route under /api/v1, with its method and the query parameters it takes.
API_ROUTES = {
    ("POST", "/api/v1/assess"): ("on",),
    ("POST", "/api/v1/followup"): ("on",),
    ("GET", "/api/v1/schema"): (),
    ("GET", "/api/v1/rules"): (),
    ("GET", "/api/v1/openapi.json"): (),
    ("GET", "/api/v1/tokens"): (),
}

#: (query, the parameter the problem names, the value it shows, the rule's words)
REFUSED = [
    ("ON=2025-06-01", "ON", "'2025-06-01'", "is not a query parameter"),
    ("On=2025-06-01", "On", "'2025-06-01'", "is not a query parameter"),
    ("oN=2025-06-01", "oN", "'2025-06-01'", "is not a query parameter"),
    ("date=2025-06-01", "date", "'2025-06-01'", "is not a query parameter"),
    ("on_date=2025-06-01", "on_date", "'2025-06-01'", "is not a query parameter"),
    ("evaluated_on=2025-06-01", "evaluated_on", "'2025-06-01'", "is not a query parameter"),
    ("0n=2025-06-01", "0n", "'2025-06-01'", "is not a query parameter"),
    ("%20on=2025-06-01", " on", "'2025-06-01'", "is not a query parameter"),
    ("on%00=2025-06-01", "on\\x00", "'2025-06-01'", "is not a query parameter"),
    ("=2025-06-01", "(query)", "'2025-06-01'", "is a value without a parameter name"),
    ("on=2025-06-01&x=", "x", "''", "is not a query parameter"),
    ("x", "x", "''", "is not a query parameter"),
    ("date=2025-06-01&date=2025-07-01", "date", "['2025-06-01', '2025-07-01']",
     "is not a query parameter"),
]


def route_table(app: Any) -> Iterator[APIRoute]:
    """Every APIRoute of the application, however its routers were included."""
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            stack.extend(route.original_router.routes)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('q') / 'registry.sqlite3'}"
    app = create_app(WebConfig(database_url=url), today=lambda: TODAY)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as c:
        yield c


def call(client: TestClient, method: str, path: str, query: str) -> Any:
    body = {"json": {"case": KIDNEY}} if method == "POST" and path.startswith("/api/") else {}
    return client.request(method, f"{path}?{query}" if query else path, **body)


def refusal(r: Any) -> dict[str, Any]:
    """The 422 problem of a refused query, in the shape of every other 422 of the API."""
    assert r.status_code == 422, r.text[:300]
    assert r.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = r.json()
    assert body["type"] == "urn:pecoma:problem:invalid-input"
    assert body["title"] == "The input was rejected" and body["status"] == 422
    assert "query" in body["detail"]
    assert all(set(e) == {"path", "value", "rule"} for e in body["errors"])
    return body


def page_points(r: Any) -> list[str]:
    """The 400 page of a refused query: what it lists, as read."""
    assert r.status_code == 400, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "The address was not understood" in r.text
    listed = re.search(r'<ul class="error-points">(.*?)</ul>', r.text, re.S)
    assert listed is not None
    return [unescape(p) for p in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)]


class TestApi:
    def test_every_api_route_is_in_the_table(self, client: TestClient) -> None:
        """The table below is every route under /api/v1 (a new route must say what it
        takes, and be tested here)."""
        found = {(m, r.path) for r in route_table(client.app) if r.path.startswith("/api/")
                 for m in r.methods}
        assert found == set(API_ROUTES)

    @pytest.mark.parametrize(("query", "name", "value", "rule"), REFUSED)
    @pytest.mark.parametrize(("method", "path"), list(API_ROUTES))
    def test_a_parameter_the_route_does_not_take_is_refused(
            self, client: TestClient, method: str, path: str, query: str, name: str,
            value: str, rule: str) -> None:
        """Before, each of these was dropped: 200, and on assess and followup the answer
        was made for the server's today instead of the date meant (``?ON=2025-06-01``
        gave the kidney case's first visit due 2026-11-28, not 2025-05-01). Now a 422
        problem names the parameter, its value and what the route takes."""
        body = refusal(call(client, method, path, query))
        allowed = API_ROUTES[(method, path)]
        # (on a route that takes no date, 'on' of 'on=…&x=' is named too)
        [error] = [e for e in body["errors"] if e["path"] == name]
        assert error["value"] == value
        assert error["rule"].startswith(rule)
        assert (f"(allowed: {', '.join(allowed)})" if allowed
                else "(this address takes none)") in error["rule"]

    @pytest.mark.parametrize("path", ["/api/v1/assess", "/api/v1/followup"])
    def test_the_date_given_twice_is_refused(self, client: TestClient, path: str) -> None:
        """Which of two dates was meant cannot be told: refused with both shown, as
        before, now by the one rule of the query (its problem says the query was
        rejected, no longer "the evaluation date was given more than once")."""
        body = refusal(call(client, "POST", path, "on=2025-06-01&on=2026-11-28"))
        assert body["errors"] == [{"path": "on", "value": "['2025-06-01', '2026-11-28']",
                                   "rule": "must be given at most once"}]

    def test_every_wrong_parameter_is_named_at_once(self, client: TestClient) -> None:
        """Three mistakes, three entries, in the order given: the caller fixes all at once."""
        body = refusal(call(client, "POST", "/api/v1/followup",
                            "ON=2025-06-01&on=2025-06-01&date=x&on=2025-07-01"))
        assert [(e["path"], e["value"]) for e in body["errors"]] == [
            ("ON", "'2025-06-01'"), ("on", "['2025-06-01', '2025-07-01']"), ("date", "'x'")]

    def test_the_date_asked_is_the_date_used(self, client: TestClient) -> None:
        """The kidney case (surgery 2025-02-01, histology not given: indeterminate risk,
        high-risk schedule I1, every 3-4 months I2) as of 2025-06-01: the first visit is
        due 2025-05-01 (3 months after the surgery), latest 2025-06-01 (4 months), so it
        is due that day. A trailing '&' adds no parameter."""
        for query in ("on=2025-06-01", "on=2025-06-01&", "&on=2025-06-01"):
            r = call(client, "POST", "/api/v1/followup", query)
            assert r.status_code == 200, r.text
            plan = r.json()
            assert plan["evaluated_on"] == "2025-06-01"
            first = plan["visits"][0]
            assert (first["due"], first["latest"], first["status"]) == (
                "2025-05-01", "2025-06-01", "due")

    @pytest.mark.parametrize(("method", "path"), list(API_ROUTES))
    def test_no_query_and_an_empty_one_are_answered(self, client: TestClient, method: str,
                                                    path: str) -> None:
        """Nothing in the query, or only separators: nothing to refuse."""
        for query in ("", "&", "&&"):
            r = call(client, method, path, query)
            assert r.status_code in (200, 404), r.text[:300]  # tokens: server mode only

    def test_the_openapi_document_says_what_assess_takes(self, client: TestClient) -> None:
        """The one query parameter the API takes is the one its document declares."""
        doc = client.get("/api/v1/openapi.json").json()
        for path in ("/api/v1/assess", "/api/v1/followup"):
            params = doc["paths"][path]["post"]["parameters"]
            assert [(p["name"], p["in"]) for p in params] == [("on", "query")]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory,
             _sqlite_registry_template: Path) -> Iterator[TestClient]:
    """PEC-0001: uterine PEComa of 8 cm with necrosis (high risk), resected R0 on
    2025-01-10, recorded on 2025-03-01. (The query is checked before the registry is
    read: one database serves every test of the class.)"""
    path = tmp_path_factory.mktemp("registry") / "registry.sqlite3"
    shutil.copyfile(_sqlite_registry_template, path)
    repo = open_registry(f"sqlite:///{path}")
    record_case(repo, "PEC-0001", high_risk(), on_date=dt.date(2025, 3, 1),
                settings=default_settings(), actor="clinic", source="test")
    app = create_app(WebConfig(), today=lambda: TODAY)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        yield c
    repo.close()


REGISTRY_GETS = {
    "/registry": ("on", "page"),
    "/registry/worklist": ("on", "page", "risk", "sort", "status"),
    "/registry/worklist.csv": ("on", "risk", "sort", "status"),
    "/registry/worklist.ics": ("on", "risk", "sort", "status"),
    "/registry/summary": ("by", "on"),
    "/registry/summary.svg": ("on",),
    "/registry/summary.pdf": ("on",),
    "/registry/survival.svg": ("by", "endpoint", "on"),
    "/registry/patients/PEC-0001": ("on", "recorded"),
    "/registry/patients/PEC-0001/plan.ics": ("on",),
    "/registry/patients/PEC-0001/scan": (),
    "/registry/patients/PEC-0001/assessments/1": ("saved",),
}


class TestPages:
    def test_a_misspelt_date_on_the_worklist_is_refused(self, registry: TestClient) -> None:
        """The high-risk patient's first visit is due 2025-04-10 (3 months after the
        surgery of 2025-01-10, S18) and overdue after 2025-05-10 (4 months, I2): as of
        2025-06-01 it is overdue. Before, ``?ON=2025-06-01`` showed the worklist as of
        today (2026-11-28) under the same look; now the page is refused and names the
        parameter, what was given and what the page takes."""
        good = registry.get("/registry/worklist?on=2025-06-01")
        assert good.status_code == 200
        row = re.search(r'<tr class="row-(\w+)">.*?PEC-0001.*?</tr>', good.text, re.S)
        assert row is not None and row.group(1) == "overdue"
        assert "2025-04-10" in row.group(0) and "2025-05-10" in row.group(0)
        assert page_points(registry.get("/registry/worklist?ON=2025-06-01")) == [
            "'ON' is not a query parameter of this address (allowed: on, page, risk, "
            "sort, status) (got '2025-06-01')"]

    @pytest.mark.parametrize(("query", "name", "value", "rule"), REFUSED)
    @pytest.mark.parametrize("path", list(REGISTRY_GETS))
    def test_every_page_and_file_refuses_what_it_does_not_take(
            self, registry: TestClient, path: str, query: str, name: str, value: str,
            rule: str) -> None:
        """Each page and file of the registry: the 400 page names the parameter, the value
        and what the page takes (before: the page, the CSV, the calendar or the chart
        of today, as if nothing had been asked)."""
        taken = REGISTRY_GETS[path]
        allowed = f"(allowed: {', '.join(taken)})" if taken else "(this address takes none)"
        [point] = [p for p in page_points(registry.get(f"{path}?{query}"))
                   if p.startswith(f"'{name}' ")]
        assert point.startswith(f"'{name}' {rule}") and allowed in point
        assert point.endswith(f"(got {value})")

    @pytest.mark.parametrize("query", ["on=2025-06-01&on=2026-11-28",
                                       "status=due&status=overdue"])
    def test_a_filter_or_date_given_twice_is_refused(self, registry: TestClient,
                                                     query: str) -> None:
        """Before, the last of the two was used without a word (another day, another list
        than the first one asked); now neither is guessed."""
        for path in ("/registry/worklist", "/registry/worklist.csv"):
            [point] = page_points(registry.get(f"{path}?{query}"))
            assert "must be given at most once" in point

    @pytest.mark.parametrize("path", ["/", "/rules", "/login", "/registry/import"])
    def test_the_other_pages_too(self, registry: TestClient, path: str) -> None:
        """The case form takes ``example``, sign-in ``next``; the others take none."""
        [point] = page_points(registry.get(f"{path}?On=2025-06-01"))
        assert point.startswith("'On' is not a query parameter")

    @pytest.mark.parametrize("query", [
        "utm_source=newsletter&utm_medium=email", "fbclid=IwAR0abc", "gclid=Cj0KCQ",
        "_=1733500000000", "mc_cid=abc&mc_eid=def"])
    def test_what_link_trackers_add_is_ignored_on_pages(self, registry: TestClient,
                                                         query: str) -> None:
        """A mail or messaging service, a link tracker or a cache adds these to the links
        it passes on; a clinician opening the worklist or the case form from an e-mail
        got the 400 page. A page ignores them (the worklist as of the date asked, the
        same rows); a misspelt parameter beside them is still refused."""
        plain = registry.get("/registry/worklist?on=2025-06-01")
        tracked = registry.get(f"/registry/worklist?on=2025-06-01&{query}")
        assert tracked.status_code == 200
        rows = re.findall(r'<tr class="row-\w+">.*?</tr>', plain.text, re.S)
        assert rows and re.findall(r'<tr class="row-\w+">.*?</tr>', tracked.text, re.S) == rows
        assert registry.get(f"/?{query}").status_code == 200
        [point] = page_points(registry.get(f"/registry/worklist?{query}&ON=2025-06-01"))
        assert point.startswith("'ON' is not a query parameter")

    def test_the_api_takes_no_tracker_parameter(self, client: TestClient) -> None:
        """A program writes its own addresses: on the JSON API they are refused."""
        body = refusal(call(client, "POST", "/api/v1/assess", "utm_source=x"))
        assert [e["path"] for e in body["errors"]] == ["utm_source"]

    def test_the_links_the_pages_write_are_taken(self, registry: TestClient) -> None:
        """Every same-site link with a query on the registry's pages opens (200)."""
        links: set[str] = set()
        for path in ("/registry?on=2025-06-01", "/registry/worklist?on=2025-06-01",
                     "/registry/summary?on=2025-06-01",
                     "/registry/patients/PEC-0001?on=2025-06-01"):
            page = registry.get(path)
            assert page.status_code == 200
            links |= {unescape(h) for h in re.findall(r'(?:href|src)="(/[^"#]*\?[^"#]*)',
                                                       page.text)}
        assert any("by=folpe" in h for h in links) and any(".ics?" in h for h in links)
        for link in sorted(links):
            assert registry.get(link).status_code == 200, link


class TestOpenRoutes:
    def test_every_other_route_is_checked(self, client: TestClient) -> None:
        """Every route of the application refuses an unknown parameter, but those whose
        query other systems write: the SMART launch and its OAuth callback, the CDS Hooks
        service and the health probes."""
        open_routes = {"/smart/launch", "/smart/callback", "/healthz", "/readyz"}
        for route in route_table(client.app):
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            for method in route.methods:
                r = client.request(method, f"{path}?zz=1")
                refused = (r.status_code in (400, 422)
                           and ("the query was rejected" in r.text
                                or "The address was not understood" in r.text))
                expected = not (route.path in open_routes
                                or route.path.startswith("/cds-services"))
                assert refused == expected, (method, route.path, r.status_code)

    def test_a_smart_callback_with_parameters_of_the_authorisation_server(
            self, tmp_path: Path) -> None:
        """The authorisation server may add ``session_state`` (OpenID Connect) and ``iss``
        (RFC 9207) to the redirect: the launch still finishes on the case form."""
        with running(Ehr(record=example("localized-high-risk"))) as ehr, \
                pecoma(ehr, tmp_path) as smart:
            back = at_ehr(start(smart, ehr.fhir))
            page = smart.get(f"{back}&session_state=abc&iss={ehr.fhir}")
            assert page.status_code == 200, page.text[:300]
            assert "Filled in from the EHR" in page.text
