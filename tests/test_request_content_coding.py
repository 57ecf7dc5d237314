"""A request body sent with a content coding (``Content-Encoding: gzip``).

``/cds-services`` ignored ``Content-Encoding``. A plain JSON
body sent with ``Content-Encoding: gzip`` was read as if the header were not there
(200 with cards), and a real gzip body was refused as "not UTF-8 text" (400), which sends
someone debugging compression the wrong way. No endpoint of the application decodes a
coding, so every one refuses it alike, before the body is read: 415, naming the header,
the value sent and what is allowed (absent or ``identity``), with ``Accept-Encoding:
identity`` (RFC 9110 15.5.16); problem+json under ``/api`` and ``/cds-services``, a page
elsewhere; never a 500.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
JSON = "application/json"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('coding') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url), today=lambda: ON),
                      base_url="http://localhost")


def hook_body() -> bytes:
    bundle = example("metastatic-lung-metachronous")
    return json.dumps(hook_request("patient-view", patient_id(bundle),
                                   prefetch=prefetch_of(bundle))).encode()


CDS = f"/cds-services/{PATIENT_VIEW}"


class TestCdsServices:
    def test_a_gzip_body_is_refused_naming_the_header(self, client: TestClient) -> None:
        """Refused as "not UTF-8 text" (400) before."""
        r = client.post(CDS, content=gzip.compress(hook_body()),
                        headers={"content-type": JSON, "content-encoding": "gzip"})
        assert r.status_code == 415
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["accept-encoding"] == "identity"
        problem = r.json()
        assert problem["type"] == "urn:pecoma:problem:unsupported-content-encoding"
        [issue] = problem["errors"]
        assert issue["path"] == "Content-Encoding"
        assert issue["value"] == "'gzip'"
        assert issue["rule"].startswith("must be absent or 'identity'")

    def test_plain_json_under_the_header_is_not_read_as_plain(
            self, client: TestClient) -> None:
        """Read as if the header were not there (200 with cards) before: the body is not
        what its header says, and pecoma cannot tell which is wrong."""
        r = client.post(CDS, content=hook_body(),
                        headers={"content-type": JSON, "content-encoding": "gzip"})
        assert r.status_code == 415

    @pytest.mark.parametrize("said", [None, "identity", "IDENTITY", " identity "])
    def test_no_coding_or_identity_is_read(self, client: TestClient, said: str | None) -> None:
        headers = {"content-type": JSON, **({"content-encoding": said} if said else {})}
        r = client.post(CDS, content=hook_body(), headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["cards"]

    @pytest.mark.parametrize("said", ["deflate", "br", "gzip, identity", "identity, gzip",
                                      "x-custom", "\u00e9"])
    def test_any_other_coding_is_refused(self, client: TestClient, said: str) -> None:
        r = client.post(CDS, content=hook_body(),
                        headers={"content-type": JSON,
                                 "content-encoding": said.encode("latin-1")})
        assert r.status_code == 415
        assert r.json()["errors"][0]["path"] == "Content-Encoding"


def test_the_api_and_the_pages_refuse_it_alike(client: TestClient) -> None:
    """The one rule of the application: problem+json under /api, a page elsewhere."""
    r = client.post("/api/v1/assess", content=gzip.compress(b'{"case": {}}'),
                    headers={"content-type": JSON, "content-encoding": "gzip"})
    assert r.status_code == 415
    assert r.json()["errors"][0]["path"] == "Content-Encoding"
    r = client.post("/report", content=b"x=1", headers={
        "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip"})
    assert r.status_code == 415
    assert r.headers["content-type"].startswith("text/html")
    assert "Content-Encoding" in r.text
