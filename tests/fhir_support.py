"""Support for the FHIR and CDS Hooks tests: example bundles, prefetch, a loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

EXAMPLES = ("localized-high-risk", "low-risk", "metastatic-lung-metachronous",
            "advanced-mtor-contraindicated")

_KEYS = {"Patient": "patient", "Condition": "conditions", "Observation": "observations",
         "Procedure": "procedures", "MedicationStatement": "medications",
         "MedicationRequest": "medication_requests",
         "MedicationAdministration": "medication_administrations",
         "MedicationDispense": "medication_dispenses",
         "AllergyIntolerance": "allergies"}


def example(name: str) -> dict[str, Any]:
    text = resources.files("pecoma.fhir").joinpath(f"examples/{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def patient_id(bundle: dict[str, Any]) -> str:
    return next(e["resource"]["id"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient")


def with_statement(bundle: dict[str, Any], rid: str, text: str, start: str,
                   status: str = "completed") -> dict[str, Any]:
    """``bundle`` with a MedicationStatement of its patient added (``text`` names the
    drug, ``start`` its first day)."""
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationStatement", "id": rid, "status": status,
        "medicationCodeableConcept": {"text": text}, "effectivePeriod": {"start": start},
        "subject": {"reference": f"Patient/{patient_id(bundle)}"}}})
    return bundle


def searchset(resources_: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources_),
            "entry": [{"resource": r} for r in resources_]}


def prefetch_of(bundle: dict[str, Any], *, include: bool = False) -> dict[str, Any]:
    """The prefetch an EHR would send for the service's templates; with ``include``, the
    medication searches carry the Medications their resources name by ``Type/id`` (as
    ``_include`` asks), else not (an EHR that ignores ``_include``)."""
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in _KEYS.values()}
    for e in bundle["entry"]:
        key = _KEYS.get(e["resource"]["resourceType"])
        if key is not None:
            grouped[key].append(e["resource"])
    out: dict[str, Any] = {k: searchset(v) for k, v in grouped.items() if k != "patient"}
    out["patient"] = grouped["patient"][0]
    if include:
        medications = {f"Medication/{e['resource']['id']}": e["resource"]
                       for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Medication"}
        for key in ("medications", "medication_requests", "medication_administrations",
                    "medication_dispenses"):
            named = {str(r.get("medicationReference", {}).get("reference"))
                     for r in grouped[key]}
            out[key]["entry"] += [{"resource": medications[ref], "search": {"mode": "include"}}
                                  for ref in sorted(named) if ref in medications]
    return out


def as_searched(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle with every ``urn:uuid`` reference written ``Type/id``, as a FHIR server's
    search results refer to each other (a transaction or export uses the fullUrls)."""
    by_url = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
              for e in bundle["entry"] if "fullUrl" in e and "id" in e["resource"]}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (by_url.get(v, v) if k == "reference" and isinstance(v, str)
                        else walk(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return {**bundle, "entry": [{"resource": walk(e["resource"])} for e in bundle["entry"]]}


def bearer(token: str) -> dict[str, Any]:
    """A complete ``fhirAuthorization`` object (CDS Hooks 2.0.1) carrying ``token``."""
    return {"access_token": token, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "pecoma"}


def hook_request(hook: str, pid: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                            "context": {"userId": "Practitioner/example", "patientId": pid}}
    body.update(extra)
    return body


class Recorder:
    """What the loopback FHIR server was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []


@contextmanager
def fhir_server(
    bundle: dict[str, Any], *, token: str | None = None, status: int = 200,
    page_size: int = 5, answer: Callable[[str, str], tuple[int, Any] | None] | None = None,
) -> Iterator[tuple[str, Recorder]]:
    """A real FHIR server stub on 127.0.0.1 answering the prefetch queries from ``bundle``.

    Search results are paged (``page_size`` entries per page, ``next`` links); a wrong or
    missing bearer token gets 401 when ``token`` is given; ``status`` forces an error.
    ``answer(base, path)`` (``base`` the server's URL, ``path`` the request's path and
    query) may answer a request itself: ``(status, data)`` is sent (``data`` as JSON, or
    bytes as they are), ``None`` leaves it to the stub.
    """
    by_type: dict[str, list[dict[str, Any]]] = {}
    for e in bundle["entry"]:
        by_type.setdefault(e["resource"]["resourceType"], []).append(e["resource"])
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, code: int, data: Any) -> None:
            raw = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization")
            rec.requests.append((self.path, auth))
            if token is not None and auth != f"Bearer {token}":
                self._send(401, {"resourceType": "OperationOutcome"})
                return
            if status != 200:
                self._send(status, {"resourceType": "OperationOutcome"})
                return
            custom = answer(f"http://{self.headers.get('Host')}/fhir", self.path) if (
                answer is not None) else None
            if custom is not None:
                self._send(*custom)
                return
            parts = urlsplit(self.path)
            segments = [s for s in parts.path.split("/") if s]  # fhir, Type[, id]
            kind = segments[1] if len(segments) >= 2 else ""
            if len(segments) == 3:  # a read: Type/id
                rid = segments[2]
                found = [p for p in by_type.get(kind, []) if p.get("id") == rid]
                if not found:
                    self._send(404, {"resourceType": "OperationOutcome"})
                else:
                    self._send(200, found[0])
                return
            page = 0
            for item in parts.query.split("&"):
                if item.startswith("_page="):
                    page = int(item.removeprefix("_page="))
            everything = by_type.get(kind, [])
            chunk = everything[page * page_size:(page + 1) * page_size]
            data = searchset(chunk)
            data["total"] = len(everything)
            if (page + 1) * page_size < len(everything):
                base = f"http://{self.headers.get('Host')}{parts.path}?{parts.query}"
                base = base.split("&_page=")[0]
                data["link"] = [{"relation": "next", "url": f"{base}&_page={page + 1}"}]
            self._send(200, data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fhir", rec
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def json_server(payload: Callable[[], Any]) -> Iterator[str]:
    """A loopback server answering every GET with ``payload()`` as JSON (a JWK Set)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            raw = json.dumps(payload()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
