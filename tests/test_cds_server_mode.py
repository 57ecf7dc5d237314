"""The CDS Hooks service's safe defaults beyond loopback (docs/cds-hooks.md, Security).

Safe by default: server mode turns every guard on; opening one is an explicit setting.
Bound beyond loopback the server is reachable from the network whatever ``auth`` says, so
with ``cds.auth = "auto"`` the EHR's JWT is verified even when pecoma's own tokens are
off (``auth = "off"``); only ``cds.auth = "open"`` opens the service, with a warning at
start (unauthenticated feedback is written to the registry's decisions). And a card link
or the JWT audience never names the bound address (``0.0.0.0``): bound beyond loopback
the service needs ``cds.base_url``, and answers 503 naming it until it is set.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

PUBLIC = "pecoma.hospital.example"


def app_for(tmp_path: Path, **cds: Any) -> Any:
    """pecoma bound to every address, its own authentication off, as the finding ran it
    (in process: no socket is bound)."""
    config = WebConfig(host="0.0.0.0", port=8080, auth="off",
                       database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
                       allowed_hosts=(PUBLIC,), cds=CdsSettings(**cds))
    return create_app(config)


def patient_view(client: TestClient) -> Any:
    bundle = example("metastatic-lung-metachronous")
    return client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request(
        "patient-view", patient_id(bundle), prefetch=prefetch_of(bundle)))


class TestJwtBeyondLoopback:
    def test_auth_off_does_not_open_the_cds_service(self, tmp_path: Path) -> None:
        """auth off, cds.auth left to auto, bound to 0.0.0.0: the call without a JWT had
        been answered with cards (and its feedback written to the decisions). It is a
        401, as docs/cds-hooks.md says of server mode (bound beyond loopback)."""
        app = app_for(tmp_path, base_url=f"https://{PUBLIC}")
        assert app.state.config.cds_jwt_required and app.state.cds.jwt_required
        client = TestClient(app, base_url=f"https://{PUBLIC}")
        r = patient_view(client)
        assert r.status_code == 401, r.text
        feedback = client.post(f"/cds-services/{ORDER_SELECT}/feedback", json={
            "feedback": [{"card": "x", "outcome": "overridden",
                          "outcomeTimestamp": "2026-12-06T13:36:00Z"}]})
        assert feedback.status_code == 401

    def test_open_only_by_choice_and_warned(self, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
        """cds.auth = "open" opens it, and the start says so: any caller can request
        cards and send feedback, recorded as the team's decisions."""
        caplog.set_level(logging.WARNING)
        app = app_for(tmp_path, base_url=f"https://{PUBLIC}", auth="open")
        assert not app.state.cds.jwt_required
        assert "without JWT verification in server mode" in caplog.text
        assert "recorded as the team's decisions" in caplog.text
        r = patient_view(TestClient(app, base_url=f"https://{PUBLIC}"))
        assert r.status_code == 200 and r.json()["cards"]

    def test_loopback_stays_a_workstation(self, tmp_path: Path) -> None:
        """Control: on loopback with auth off, cds.auth auto verifies nothing (the person
        at the keyboard holds the database file)."""
        config = WebConfig(auth="off", database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}")
        assert not config.cds_jwt_required
        assert config.cds_base_url == "http://127.0.0.1:8000"


class TestPublicBaseUrl:
    def test_no_link_to_the_bound_address(self, tmp_path: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
        """Bound to 0.0.0.0 without cds.base_url, cards had linked to
        http://0.0.0.0:8080/cds-services/reports/…, an address no EHR or browser can use.
        The start warns, and every CDS call answers 503 naming the setting; no card is
        made, so no link names 0.0.0.0."""
        caplog.set_level(logging.WARNING)
        app = app_for(tmp_path, auth="open")
        assert app.state.config.cds_base_url is None
        assert "until cds.base_url is set" in caplog.text
        client = TestClient(app, base_url=f"http://{PUBLIC}")
        for r in (patient_view(client), client.get("/cds-services"),
                  client.post(f"/cds-services/{ORDER_SELECT}/feedback", json={"feedback": [
                      {"card": "x", "outcome": "overridden",
                       "outcomeTimestamp": "2026-12-06T13:36:00Z"}]})):
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "cds.base_url" in r.json()["detail"]
            assert "0.0.0.0" not in r.text

    def test_links_name_the_base_url_set(self, tmp_path: Path) -> None:
        """Control: with cds.base_url set, the links start with it."""
        app = app_for(tmp_path, auth="open", base_url=f"https://{PUBLIC}")
        r = patient_view(TestClient(app, base_url=f"https://{PUBLIC}"))
        links = [link["url"] for card in r.json()["cards"] for link in card.get("links", [])]
        assert links and all(u.startswith(f"https://{PUBLIC}/") for u in links)
