"""No patient identifier, label or token in the logs of a whole session.

A real ``pecoma serve`` (authentication on, DEBUG logs captured) is used as a team would:
tokens created on the command line, a registry file imported, cases added, signing in,
scans recorded, every registry page and export viewed, the JSON API and CDS Hooks
called with the EHR's JWT (with part of the record fetched from an allowed FHIR server).
Then the captured logs are searched for every registry id, label, FHIR patient id and
token: none may appear.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey

from test_faults import ROOT, free_port, start_server

from cli_support import CliRun, run_cli
from fhir_support import example, fhir_server, hook_request, patient_id, prefetch_of
from registry_support import ON, high_risk, low_risk, metastatic, rows_of, write_csv

RIDS = ["ZQX-83917", "ZQX-40522", "ZQX-77105"]
LABELS = ["ZLBL-Tumour-Board-7731", "ZLBL-Api-Case-2290", "ZLBL-Form-Case-6154"]
FHIR_PID = "ZPAT-55123"


def pecoma(env: dict[str, str], *args: str) -> CliRun:
    """The command line in-process (the server below is a real process)."""
    return run_cli(*args, cwd=ROOT, env=env)


def renamed_bundle() -> dict[str, Any]:
    bundle = example("localized-high-risk")
    text = json.dumps(bundle).replace(patient_id(bundle), FHIR_PID)
    data: dict[str, Any] = json.loads(text)
    return data


EHR_KEY = RSAKey.generate_key(2048, parameters={"kid": "ehr-1"})
EHR = "https://ehr.example.org"


def ehr_jwt(aud: str) -> str:
    """A JWT as the EHR signs each CDS Hooks call."""
    now = int(time.time())
    return jwt.encode({"alg": "RS384", "typ": "JWT", "kid": "ehr-1"},
                      {"iss": EHR, "aud": aud, "iat": now, "exp": now + 300,
                       "jti": str(uuid.uuid4())}, EHR_KEY, algorithms=["RS384"])


def test_a_whole_session_logs_no_identifier(tmp_path: Path) -> None:
    env = {"PECOMA_DATA_DIR": str(tmp_path / "data"), "PECOMA_LOG_LEVEL": "debug",
           "PECOMA_AUTH": "on"}
    env.pop("PECOMA_DATABASE_URL", None)
    cli_output: list[str] = []

    def run(*args: str) -> CliRun:
        r = pecoma({**env, "PECOMA_DATABASE_URL": ""}, *args)
        cli_output.append(r.stderr)
        assert r.returncode == 0, r.stderr
        return r

    tokens = {role: run("token", "create", "--role", role, "--name", f"{role} desk"
                        ).stdout.strip() for role in ("reader", "clinician", "admin")}
    assert all(t.startswith("pecoma_") for t in tokens.values())
    csv = write_csv(tmp_path / "cohort.csv", rows_of(
        {RIDS[0]: high_risk(), RIDS[1]: low_risk()}))
    run("registry", "import", str(csv), "--on", ON.isoformat())
    case = tmp_path / "case.json"
    case.write_text(json.dumps({**metastatic(), "label": LABELS[0]}), encoding="utf-8")
    run("registry", "add-case", RIDS[2], str(case), "--on", ON.isoformat())

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    bundle = renamed_bundle()
    stack = contextlib.ExitStack()
    fhir, requests = stack.enter_context(fhir_server(bundle, token="fhir-access-ZTOK-99314"))
    proc = start_server(port, {
        **env, "PECOMA_CDS_BASE_URL": base, "PECOMA_CDS_FHIR_SERVERS": fhir,
        "PECOMA_CDS_TRUSTED_ISSUERS": json.dumps(
            {EHR: {"jwks": {"keys": [EHR_KEY.as_dict(private=False)]}}})}, log)
    service = f"{base}/cds-services/pecoma-patient-view"
    jwts: list[str] = []

    def signed() -> dict[str, str]:
        jwts.append(ehr_jwt(service))
        return {"Authorization": f"Bearer {jwts[-1]}"}

    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            # A browser signs in and records a scan through the form (CSRF token and all).
            r = c.post("/login", data={"token": tokens["clinician"], "next": "/registry"})
            assert r.status_code == 303
            form = c.get(f"/registry/patients/{RIDS[0]}/scan").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf is not None
            r = c.post(f"/registry/patients/{RIDS[0]}/scan", data={
                "date": "2026-11-20", "modality": "chest_ct",
                "finding": "no_evidence_of_disease", "csrf_token": csrf[1]})
            assert r.status_code == 303
            for path in ("/registry", "/registry/worklist", "/registry/summary",
                         "/registry/worklist.csv", "/registry/worklist.ics",
                         "/registry/summary.svg", f"/registry/patients/{RIDS[2]}",
                         f"/registry/patients/{RIDS[0]}/plan.ics",
                         "/registry/worklist?on=2026-11-28&status=overdue"):
                assert c.get(path).status_code == 200, path
            # a parameter the page does not take is refused, its value named on the page
            # and never in the log
            assert c.get(f"/registry/worklist?on=2026-11-28&q={RIDS[1]}").status_code == 400
            assert c.get(f"/registry/patients/{RIDS[1]}x").status_code == 404
            r = c.post(f"/registry/patients/{RIDS[1]}/scan", data={
                "date": "not-a-date", "modality": "chest_ct", "csrf_token": csrf[1]})
            assert r.status_code == 422
        # An API client with a bearer token; refused tokens too.
        reader = {"Authorization": f"Bearer {tokens['reader']}"}
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        assert httpx.get(f"{base}/registry", headers=reader).status_code == 200
        r = httpx.post(f"{base}/registry/patients/{RIDS[1]}/scan", headers=reader,
                       data={"date": "2026-11-21", "modality": "chest_ct"})
        assert r.status_code == 403
        assert httpx.get(f"{base}/api/v1/tokens", headers=admin).status_code == 200
        assert httpx.get(f"{base}/registry",
                         headers={"Authorization": f"Bearer {tokens['admin']}x"},
                         follow_redirects=False).status_code == 303
        r = httpx.post(f"{base}/login", data={"token": tokens["reader"] + "-wrong"})
        assert r.status_code == 401
        r = httpx.post(f"{base}/api/v1/assess", json={**low_risk(), "label": LABELS[1]})
        assert r.status_code == 200
        r = httpx.post(f"{base}/api/v1/assess", json={**low_risk(), "label": LABELS[1],
                                                      "tumour": {"size": LABELS[1]}})
        assert r.status_code == 422
        # refused: answered at the form's own address (303), shown there (422)
        r = httpx.post(f"{base}/report", data={"label": LABELS[2], "on": "2026-11-28"},
                       follow_redirects=True)
        assert r.status_code in (200, 422)
        # CDS Hooks (the EHR's JWT): full prefetch, then part of the record from the FHIR
        # server; without a JWT, a bare 401.
        body = hook_request("patient-view", FHIR_PID, prefetch=prefetch_of(bundle))
        assert httpx.post(service, json=body, timeout=30).status_code == 401
        r = httpx.post(service, json=body, timeout=30, headers=signed())
        assert r.status_code == 200 and r.json()["cards"]
        partial = prefetch_of(bundle)
        del partial["observations"]
        body = hook_request(
            "patient-view", FHIR_PID, prefetch=partial, fhirServer=fhir,
            fhirAuthorization={"access_token": "fhir-access-ZTOK-99314",
                               "token_type": "Bearer", "expires_in": 300,
                               "scope": "patient/*.read", "subject": "pecoma"})
        r = httpx.post(service, json=body, timeout=30, headers=signed())
        assert r.status_code == 200
        assert requests.requests  # the record was fetched
        r = httpx.post(service, headers=signed(),
                       json={"hook": "patient-view", "context": {"patientId": FHIR_PID}})
        assert r.status_code in (400, 412, 422)
    finally:
        stack.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    logs = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(rec.get("route") == "/registry/patients/{registry_id}" for rec in lines)
    assert any(rec.get("message") == "signed in" for rec in lines)
    secrets_ = [*RIDS, *LABELS, FHIR_PID, "fhir-access-ZTOK-99314", *tokens.values(),
                *jwts, *(j.split(".")[2][:16] for j in jwts)]
    for value in secrets_:
        assert value not in logs, f"{value!r} appears in the server log"
    for value in tokens.values():
        assert all(value not in text for text in cli_output)
    # Also no token fragment long enough to matter.
    for value in tokens.values():
        assert value.removeprefix("pecoma_")[:16] not in logs
