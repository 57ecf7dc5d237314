"""A small SMART-on-FHIR EHR for the launch tests, served by uvicorn on loopback only.

It publishes ``/fhir/.well-known/smart-configuration`` (shaped like the SMART App Launch
IG's example), an ``/authorize`` endpoint that checks the request and redirects back with
a one-time code, a ``/token`` endpoint that checks the client and the PKCE verifier, and
FHIR reads and searches of one patient's record (a second Observation page via ``next``;
a search never ``_include``s: a Medication named by reference is only read by its id).
FHIR reads need the access token it issued. Every request is recorded (method, URL,
headers, form body) so that tests can see where the token went. ``behaviour`` switches
in faults: ``deny`` (the user refuses), ``token_error`` (the token endpoint refuses),
``no_s256`` (the configuration offers no PKCE S256), ``fail`` (resource kinds whose
search answers 403), ``authorize_query`` and ``token_query`` (a query the configuration
writes on that endpoint, as RFC 6749 allows: the endpoint then answers only a request
that kept it), ``token_body`` (the token endpoint's answer to a good code, as raw JSON
text: a malformed token response), ``other_patient`` (an id the token names, whose
Patient read answers a Patient of that id while every search for it answers the record's
resources, another patient's: a proxy or cache fault of the EHR), ``configuration``
(fields written over the configuration document's: odd values of fields pecoma does not
use), ``configuration_barrier`` (a :class:`threading.Barrier` each configuration request
waits at: launches held in progress together, none answered before all were sent),
``observations`` (more
Observations of the patient, served after the record's), ``page_size`` (the Observation
search served that many to a page, its ``next`` link keeping the query, in place of two
halves), ``require_category`` (an Observation search naming neither ``category`` nor
``code`` is refused with 400 and an OperationOutcome, as Epic's is; one naming a category
gets the Observations of that category).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

CLIENT_ID = "pecoma-test-client"
CLIENT_SECRET = "test-secret-not-for-production-0123456789"


@dataclass
class Ehr:
    """The EHR's state and what it saw."""

    record: dict[str, Any]
    base: str = ""
    behaviour: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    authorize_params: list[dict[str, str]] = field(default_factory=list)

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"

    def resources(self, kind: str) -> list[dict[str, Any]]:
        return [e["resource"] for e in self.record["entry"]
                if e["resource"]["resourceType"] == kind]

    @property
    def patient_id(self) -> str:
        pid: str = self.resources("Patient")[0]["id"]
        return pid


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _searchset(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                            "entry": [{"resource": r} for r in resources]}
    if next_url:
        page["link"] = [{"relation": "next", "url": next_url}]
    return page


def _query(query: str | None) -> str:
    return f"?{query}" if query is not None else ""


def _kept(query: str | None, request: Request) -> bool:
    """The request carries the endpoint's own query, each of its parameters once."""
    if not query:
        return True
    got = parse_qsl(request.url.query, keep_blank_values=True)
    return all(got.count(pair) == 1 for pair in parse_qsl(query, keep_blank_values=True))


def make_app(ehr: Ehr) -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Response:
        body = (await request.body()).decode()
        ehr.seen.append({"method": request.method, "url": str(request.url),
                         "headers": dict(request.headers), "body": body})
        response: Response = await call_next(request)
        return response

    @app.get("/fhir/.well-known/smart-configuration")
    async def configuration() -> JSONResponse:
        barrier = ehr.behaviour.get("configuration_barrier")
        if barrier is not None:
            await asyncio.to_thread(barrier.wait, 20)
        return JSONResponse({
            "issuer": ehr.base,
            "authorization_endpoint": f"{ehr.base}/authorize"
            + _query(ehr.behaviour.get("authorize_query")),
            "token_endpoint": f"{ehr.base}/token" + _query(ehr.behaviour.get("token_query")),
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient",
                                 "patient/*.rs", "patient/*.read"],
            "response_types_supported": ["code"],
            "capabilities": ["launch-ehr", "client-public", "client-confidential-symmetric",
                             "context-ehr-patient", "permission-v2", "permission-v1"],
            "code_challenge_methods_supported": (["plain"] if ehr.behaviour.get("no_s256")
                                                 else ["S256"]),
            **ehr.behaviour.get("configuration", {}),
        })

    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        q = dict(request.query_params)
        ehr.authorize_params.append(q)
        if not _kept(ehr.behaviour.get("authorize_query"), request):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        ok = (q.get("response_type") == "code" and q.get("client_id") == CLIENT_ID
              and q.get("aud") == ehr.fhir and q.get("launch") == "launch-123"
              and q.get("code_challenge_method") == "S256" and q.get("code_challenge")
              and q.get("state") and q.get("redirect_uri"))
        if not ok:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        back = q["redirect_uri"]
        if ehr.behaviour.get("deny"):
            denied = urlencode({"error": "access_denied", "state": q["state"]})
            return RedirectResponse(f"{back}?{denied}", 302)
        code = secrets.token_urlsafe(16)
        ehr.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": back}
        answer = urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(f"{back}?{answer}", 302)

    @app.post("/token")
    async def token(request: Request) -> Response:
        form = dict(await request.form())
        if not _kept(ehr.behaviour.get("token_query"), request):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        auth = request.headers.get("authorization", "")
        secret = ehr.behaviour.get("client_secret")
        if secret is not None:
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
            if auth != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        elif form.get("client_id") != CLIENT_ID:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if ehr.behaviour.get("token_error"):
            return JSONResponse({"error": "invalid_grant",
                                 "error_description": "the code is not valid <script>"},
                                status_code=400)
        grant = ehr.codes.pop(str(form.get("code")), None)  # one use
        if (grant is None or form.get("grant_type") != "authorization_code"
                or form.get("redirect_uri") != grant["redirect_uri"]
                or _challenge(str(form.get("code_verifier", ""))) != grant["challenge"]):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        raw = ehr.behaviour.get("token_body")
        if raw is not None:
            return Response(raw, media_type="application/json")
        access = "at-" + secrets.token_urlsafe(24)
        ehr.tokens.add(access)
        ehr.issued.append(access)
        body: dict[str, Any] = {
            "access_token": access, "token_type": "Bearer", "expires_in": 3600,
            "scope": "launch openid fhirUser patient/*.rs", "id_token": "x.y.z",
            "patient": ehr.behaviour.get("other_patient",
                                         ehr.behaviour.get("patient", ehr.patient_id)),
        }
        if ehr.behaviour.get("no_patient"):
            del body["patient"]
        return JSONResponse(body)

    def authorized(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in ehr.tokens

    @app.get("/fhir/Patient/{pid}")
    async def patient(pid: str, request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        found = [p for p in ehr.resources("Patient") if p["id"] == pid]
        if pid == ehr.behaviour.get("other_patient"):
            found = [{**ehr.resources("Patient")[0], "id": pid}]
        if not found:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)
        return JSONResponse(found[0])

    @app.get("/fhir/{kind}/{rid}")
    async def read(kind: str, rid: str, request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        found = [r for r in ehr.resources(kind) if r.get("id") == rid]
        if not found:
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=404)
        return JSONResponse(found[0])

    @app.get("/fhir/{kind}")
    async def search(kind: str, request: Request, patient: str = "",
                     page: int = 1) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"resourceType": "OperationOutcome"}, status_code=401)
        if kind in ehr.behaviour.get("fail", ()):
            return JSONResponse({"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "forbidden"}]}, status_code=403)
        if patient not in (ehr.patient_id, ehr.behaviour.get("other_patient")):
            return JSONResponse(_searchset([]))
        found = ehr.resources(kind)
        query = dict(parse_qsl(request.url.query))
        if kind == "Observation" and ehr.behaviour.get("require_category") and (
                "category" not in query and "code" not in query):
            return JSONResponse({"resourceType": "OperationOutcome", "issue": [
                {"severity": "fatal", "code": "required", "details": {
                    "text": "Both patient and code or category are required."}}]},
                status_code=400)
        if kind == "Observation":
            found = found + list(ehr.behaviour.get("observations", []))
            if "category" in query:
                found = [r for r in found if any(
                    c.get("code") == query["category"] for cat in r.get("category", [])
                    for c in cat.get("coding", []))]
        size = ehr.behaviour.get("page_size")
        if kind == "Observation" and size:  # pages of `size`, the next link keeping the query
            chunk = found[(page - 1) * size:page * size]
            more = page * size < len(found)
            nxt = urlencode({**query, "page": str(page + 1)})
            return JSONResponse(_searchset(chunk, f"{ehr.fhir}/Observation?{nxt}" if more
                                           else None))
        if kind == "Observation":  # two pages, the second by a same-server next link
            half = len(found) // 2
            if page == 1:
                return JSONResponse(_searchset(
                    found[:half],
                    f"{ehr.fhir}/Observation?{urlencode({**query, 'page': '2'})}"))
            return JSONResponse(_searchset(found[half:]))
        return JSONResponse(_searchset(found))

    return app


@contextmanager
def running(ehr: Ehr) -> Iterator[Ehr]:
    """Serve the EHR on 127.0.0.1 (a free port) for the duration of the block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    ehr.base = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(make_app(ehr), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test EHR did not start")
        time.sleep(0.01)
    try:
        yield ehr
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
