"""HEAD on every address that answers GET (RFC 9110 §9.3.2): the status and headers a GET
would get, the security headers included, and no body. Uptime probes, link checkers and
some proxies send HEAD; every page had answered it 405."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from fastapi.testclient import TestClient

from pecoma.web import WebConfig, create_app

ON = dt.date(2026, 11, 28)

#: Headers that differ between any two answers, whatever the method.
_PER_ANSWER = {"x-request-id", "date"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON), base_url="http://localhost",
                      follow_redirects=False)


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz", "/rules", "/api/v1/schema",
                                  "/api/v1/rules", "/api/v1/openapi.json", "/cds-services",
                                  "/static/pecoma.css", "/registry", "/login",
                                  "/?example=high-risk-uterine"])
def test_head_answers_as_get_without_a_body(client: TestClient, path: str) -> None:
    """The same status and headers as GET (content type, length, no-store, the security
    headers), and nothing after them."""
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code, (path, head.text[:200])
    assert head.content == b""
    strip = lambda r: {k: v for k, v in r.headers.items() if k not in _PER_ANSWER}  # noqa: E731
    assert strip(head) == strip(got)
    assert head.headers["content-security-policy"].startswith("default-src 'self'")
    assert head.headers["x-frame-options"] == "DENY"


def test_head_of_a_page_that_takes_no_get_is_405(client: TestClient) -> None:
    """Only what answers GET answers HEAD: the case form posts to /report, which has no
    GET; HEAD there is refused as GET is, naming the method allowed, with no body."""
    r = client.head("/report")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.content == b""


def test_allow_names_head_beside_get(client: TestClient) -> None:
    """A 405 names every method the address answers: HEAD too, where GET is."""
    r = client.post("/healthz")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"
    r = client.delete("/cds-services")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_head_is_logged_as_head(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """The access line says what was asked (HEAD) and the route that answered it."""
    with caplog.at_level(logging.INFO, logger="pecoma.web.access"):
        client.head("/healthz")
    [line] = [r for r in caplog.records if r.name == "pecoma.web.access"]
    assert (line.method, line.route, line.status) == ("HEAD", "/healthz", 200)  # type: ignore[attr-defined]


def test_head_needs_what_get_needs() -> None:
    """In server mode HEAD of the registry, like GET, needs a token: no status or length
    of a page with patient data is told to a caller who may not read it."""
    app = create_app(WebConfig(auth="on"), today=lambda: ON)
    c = TestClient(app, base_url="http://localhost", follow_redirects=False)
    got, head = c.get("/api/v1/tokens"), c.head("/api/v1/tokens")
    assert got.status_code == head.status_code == 401
    assert head.content == b""
