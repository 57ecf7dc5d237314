"""The Host and Origin rules against a real browser and the real server (``pecoma serve``
in its default workstation mode): the attacks of a page of another site, as chromium
makes them, are refused; the app's own form posts still work (test_web_e2e)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

EVIL = "http://evil.example/"


def test_a_form_of_another_site_cannot_record_a_death(e2e_server: str, browser: Any) -> None:
    """The auto-submitting form of another site's page (the CSRF proof of concept) is
    answered 403 by the server: the browser sends its Origin, the server refuses it."""
    context = browser.new_context()
    page = context.new_page()
    form = (f'<form id="f" method="post" action="{e2e_server}/registry/patients/PEC-0003/'
            'outcome"><input name="event" value="death"><input name="date" '
            'value="2026-11-01"><input name="vital_status" value="dead_of_disease"></form>'
            "<script>document.getElementById('f').submit()</script>")
    page.route(EVIL, lambda route: route.fulfill(body=form, content_type="text/html"))
    try:
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.goto(EVIL)
        response = answer.value
        assert response.status == 403
        assert response.json()["type"] == "urn:pecoma:problem:cross-origin"
        assert response.request.header_value("origin") == "http://evil.example"
    finally:
        context.close()


def test_the_apps_own_form_post_passes(e2e_server: str, browser: Any) -> None:
    """The case form posted from the app's own page (Origin: the server, Sec-Fetch-Site:
    same-origin) is served as before: 303 to the report's own address."""
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{e2e_server}/?example=high-risk-uterine")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Assess the case").first.click()
        response = answer.value
        assert response.request.header_value("origin") == e2e_server
        assert response.status == 303
        page.wait_for_url(f"{e2e_server}/report/s/**")
        assert page.locator("h1").first.is_visible()
    finally:
        context.close()


def test_a_rebound_name_reads_nothing(e2e_server: str) -> None:
    """A request to the real server under another site's name (what a page whose name was
    rebound to 127.0.0.1 sends) gets 400 for the worklist; under the server's own address
    the worklist is served."""
    import httpx

    port = e2e_server.rsplit(":", 1)[1]
    rebound = httpx.get(f"{e2e_server}/registry/worklist.csv", timeout=10,
                        headers={"Host": f"attacker.example:{port}"})
    assert rebound.status_code == 400
    assert rebound.json()["type"] == "urn:pecoma:problem:unknown-host"
    own = httpx.get(f"{e2e_server}/registry/worklist.csv", timeout=10)
    assert own.status_code == 200
    assert own.text.startswith("registry_id,")
