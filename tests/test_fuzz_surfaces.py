"""Fuzzing every HTTP surface in-process, authentication off and on: no 5xx, no traceback,
no HTML error page where JSON is expected (see ``tests/fuzz_requests.py``).

Small, derandomized runs here; ``PECOMA_FUZZ_EXAMPLES`` raises the count, and
``bench/fuzz_http.py`` makes the long run (100,000 requests) recorded in
``bench/RESULTS.md``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma.store import open_registry
from pecoma.store.tokens import TokenStore
from pecoma.web import WebConfig, create_app

from fuzz_requests import ON, check_answer, random_request, seed_registry

FUZZ = settings(
    max_examples=int(os.environ.get("PECOMA_FUZZ_EXAMPLES", "0")) or 60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module", params=["off", "on"])
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'r.sqlite3'}"
    repo = open_registry(url)
    seed_registry(repo)
    _info, token = TokenStore(repo.engine).create("fuzz", "clinician", "fuzz")
    app = create_app(WebConfig(auth=request.param, database_url=url), today=lambda: ON)
    app.state.registry = repo
    headers = {"Authorization": f"Bearer {token}"} if request.param == "on" else {}
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False,
                    headers=headers, base_url="http://localhost") as c:
        yield c
    repo.close()


class TestEverySurface:
    @FUZZ
    @given(st.randoms(use_true_random=False), st.booleans())
    def test_no_server_error(self, client: TestClient, rng: random.Random,
                             anonymous: bool) -> None:
        method, path, kwargs = random_request(rng, pdf=False)
        if anonymous:
            kwargs.setdefault("headers", {})["Authorization"] = ""
        r = client.request(method, path, **kwargs)
        check_answer(method, path, r.status_code, r.headers.get("content-type", ""), r.text)

    def test_generator_reaches_every_surface(self) -> None:
        """The generator hits forms, registry pages, the scan form, sign-in, the API and
        CDS Hooks (a fixed seed, 2,000 draws)."""
        rng = random.Random(14)
        seen = {random_request(rng)[1].split("?")[0] for _ in range(2000)}
        for expected in ("/report", "/report.pdf", "/registry/worklist.csv", "/login",
                         "/api/v1/assess", "/cds-services/pecoma-patient-view",
                         "/cds-services/pecoma-order-select/feedback",
                         "/registry/patients/PEC-0001/scan"):
            assert expected in seen, expected


def test_bench_script_exists() -> None:
    assert (Path(__file__).resolve().parent.parent / "bench" / "fuzz_http.py").is_file()
