"""Two server processes on one registry database answer as one CDS Hooks service.

Each process is a real ``pecoma serve`` (uvicorn) on its own loopback port; both use the
same database. A report link issued by one opens on the other; a JWT accepted by one is
refused as a replay by the other; feedback on a card issued by one is accepted by the
other. The same holds for ``--workers N`` on one port (the workers are such processes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from fhir_support import example, hook_request, patient_id, prefetch_of

BASE = "https://cds.example.org"
ISSUER = "https://ehr.example.org"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 90.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not start")


@contextlib.contextmanager
def two_servers(database_url: str) -> Iterator[tuple[str, str]]:
    """Two ``pecoma serve`` processes on loopback, one database, JWT required."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}
    env.update({
        "PECOMA_DATABASE_URL": database_url,
        "PECOMA_LOG_LEVEL": "warning",
        "PECOMA_CDS_AUTH": "jwt",
        "PECOMA_CDS_BASE_URL": BASE,
        "PECOMA_CDS_TRUSTED_ISSUERS": json.dumps(
            {ISSUER: {"jwks": {"keys": [KEY.as_dict(private=False)]}}}),
    })
    procs, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "pecoma", "serve", "--port", str(port)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(proc)
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):  # both start at once
            _wait(url, proc)
        yield urls[0], urls[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    db = tmp_path_factory.mktemp("workers") / "registry.db"
    with two_servers(f"sqlite:///{db}") as urls:
        yield urls


def _token(path: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": f"{BASE}{path}", "iat": now, "exp": now + 300,
              "jti": str(uuid.uuid4())}
    return jwt.encode({"alg": "RS384", "typ": "JWT", "kid": "k1"}, claims, KEY,
                      algorithms=["RS384"])


def _call(url: str, service: str, body: dict[str, Any], token: str) -> httpx.Response:
    return httpx.post(f"{url}/cds-services/{service}", json=body, timeout=30.0,
                      headers={"Authorization": f"Bearer {token}"})


def _order_body() -> dict[str, Any]:
    bundle = example("metastatic-lung-metachronous")
    pid = patient_id(bundle)
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle))
    body["context"].update({"selections": ["MedicationRequest/d1"], "draftOrders": {
        "resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
            "resourceType": "MedicationRequest", "id": "d1", "status": "draft",
            "intent": "order", "medicationCodeableConcept": {"text": "doxorubicin"},
            "subject": {"reference": f"Patient/{pid}"}}}]}})
    return body


def test_report_link_from_one_opens_on_the_other(servers: tuple[str, str]) -> None:
    one, other = servers
    bundle = example("low-risk")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = _call(one, "pecoma-patient-view", body, _token("/cds-services/pecoma-patient-view"))
    assert r.status_code == 200
    link = r.json()["cards"][0]["links"][0]["url"]
    assert link.startswith(f"{BASE}/cds-services/reports/")
    path = link.removeprefix(BASE)
    opened = httpx.get(f"{other}{path}", timeout=10.0)
    assert opened.status_code == 200 and opened.text.startswith("# pecoma assessment")


def test_replayed_jti_is_refused_by_the_other(servers: tuple[str, str]) -> None:
    one, other = servers
    bundle = example("low-risk")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    token = _token("/cds-services/pecoma-patient-view")
    assert _call(one, "pecoma-patient-view", body, token).status_code == 200
    replay = _call(other, "pecoma-patient-view", body, token)
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:pecoma:problem:unauthenticated"


def test_feedback_on_a_card_from_the_other(servers: tuple[str, str]) -> None:
    one, other = servers
    r = _call(one, "pecoma-order-select", _order_body(),
              _token("/cds-services/pecoma-order-select"))
    card = r.json()["cards"][0]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "accepted",
                              "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
                              "outcomeTimestamp": dt.datetime.now(dt.UTC).isoformat()}]}
    token = _token("/cds-services/pecoma-order-select/feedback")
    r = httpx.post(f"{other}/cds-services/pecoma-order-select/feedback", json=feedback,
                   headers={"Authorization": f"Bearer {token}"}, timeout=10.0)
    assert r.status_code == 200


@pytest.mark.postgres
def test_two_servers_on_one_postgresql(postgres_database: str) -> None:
    """Several machines on one PostgreSQL: the same guarantees."""
    with two_servers(postgres_database) as (one, other):
        bundle = example("low-risk")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        token = _token("/cds-services/pecoma-patient-view")
        r = _call(one, "pecoma-patient-view", body, token)
        assert r.status_code == 200
        path = r.json()["cards"][0]["links"][0]["url"].removeprefix(BASE)
        assert httpx.get(f"{other}{path}", timeout=10.0).status_code == 200
        assert _call(other, "pecoma-patient-view", body, token).status_code == 401


def test_worker_factory_carries_the_cds_settings(tmp_path: Path) -> None:
    """``serve --workers N`` hands each worker its factory with the configuration, pickled
    by multiprocessing's "spawn": the CDS settings arrive whole."""
    import functools
    import pickle

    from pecoma.web.app import worker_app
    from pecoma.web.cds.settings import CdsSettings
    from pecoma.web.config import WebConfig
    from pecoma.web.smart.settings import SmartSettings

    cds = CdsSettings(auth="jwt", fhir_servers=("https://ehr.example/fhir",),
                      trusted_issuers={ISSUER: {"jwks_urls": ("https://ehr.example/k",)}},
                      smart_links=True)
    smart = SmartSettings(client_id="pecoma", issuers=("https://ehr.example/fhir",),
                          redirect_base="https://pecoma.example")
    factory = pickle.loads(pickle.dumps(functools.partial(worker_app,
                                                          WebConfig(cds=cds, smart=smart))))
    assert factory.args[0].cds == cds
