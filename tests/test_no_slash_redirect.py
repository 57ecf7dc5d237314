"""No address of the application answers with a redirect to a variant of itself with or
without a final slash (Starlette's ``redirect_slashes``).

A 307 or 308 makes an HTTP client send the request again, body and, with most clients,
the Authorization header included, to the new address. Under ``/cds-services`` that is
the patient's prefetch and the EHR's JWT (docs/cds-hooks.md, "No redirect"); elsewhere a
case or a token. The redirect was built from the decoded path: an encoded slash
(``%2F``) made ``/cds-services/x%2F..%2Fpecoma-patient-view`` a 307 to
``/cds-services/x/../pecoma-patient-view/``, which a client following it resolves to the
service's own address with a slash. An address the application does not have is a 404:
problem details under ``/api`` and ``/cds-services``, a page elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.store import Repository
from pecoma.store.tokens import TokenStore
from pecoma.web.app import create_app
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of
from registry_support import ON, db_url, repo

__all__ = ["db_url", "repo"]

PROBLEM = "application/problem+json"

#: Addresses holding an encoded slash (or a plain final one) that no route has, but whose
#: decoded path with a slash added or removed is (or climbs to) an address of the app.
CDS_PATHS = [
    "/cds-services/x%2F..%2Fpecoma-patient-view",
    "/cds-services/x%2f..%2fpecoma-order-select",
    "/cds-services/..%2Fapi%2Fv1%2Fassess",
    "/cds-services/reports/..%2F..%2Fhealthz",
    "/cds-services/%2F%2Fevil.example",
    "/cds-services/pecoma-patient-view%2Ffeedback%2F..",
    "/cds-services%2F",
]
API_PATHS = ["/api/v1/assess%2F", "/api/v1/assess/", "/api/v1/followup%2F",
             "/api/v1/x%2F..%2Fassess"]
PAGE_PATHS = ["/report%2F", "/report/", "/registry%2F", "/registry/", "/rules/",
              "/login%2F", "/healthz%2F", "/registry/worklist.csv%2F"]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def body() -> dict[str, Any]:
    bundle = example("metastatic-lung-metachronous")
    return hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))


@pytest.fixture
def workstation(repo: Repository) -> Iterator[TestClient]:
    app = create_app(WebConfig(cds=CdsSettings()), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as c:
        yield c


def assert_no_redirect(r: Any, path: str) -> None:
    assert not 300 <= r.status_code < 400, (path, r.status_code, r.headers.get("location"))
    assert "location" not in r.headers
    assert r.status_code in (404, 405), (path, r.status_code, r.text[:200])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", CDS_PATHS + API_PATHS)
def test_an_api_or_cds_address_is_a_404_problem_never_a_redirect(
    workstation: TestClient, method: str, path: str
) -> None:
    r = workstation.request(method, path, json=body() if method != "GET" else None,
                            headers={"Authorization": "Bearer x.y.z"})
    assert_no_redirect(r, path)
    assert r.headers["content-type"].startswith(PROBLEM), (path, r.text[:200])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", PAGE_PATHS)
def test_a_page_address_is_a_404_page_never_a_redirect(
    workstation: TestClient, method: str, path: str
) -> None:
    r = workstation.request(method, path, data={"case": "{}"} if method != "GET" else None)
    assert_no_redirect(r, path)
    assert r.headers["content-type"].startswith("text/html"), (path, r.text[:200])


@pytest.mark.parametrize("path", CDS_PATHS + API_PATHS + PAGE_PATHS)
def test_no_redirect_in_server_mode_either(repo: Repository, path: str) -> None:
    """Signed in by token (a script's or an EHR's call reaches the router), the same: a
    404, never a slash redirect re-sending the body and the token."""
    _, token = TokenStore(repo.engine).create("clinician one", "clinician", "setup")
    app = create_app(WebConfig(auth="on", cds=CdsSettings()), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as c:
        r = c.post(path, json=body(), headers={"Authorization": f"Bearer {token}"})
        assert_no_redirect(r, path)


def test_the_addresses_themselves_still_answer(workstation: TestClient) -> None:
    """The reference point: the same addresses without the slash are served."""
    assert workstation.get("/cds-services").status_code == 200
    assert workstation.get("/registry").status_code == 200
    assert workstation.get("/rules").status_code == 200
    assert workstation.get("/healthz").status_code == 200
    assert workstation.get("/").status_code == 200
