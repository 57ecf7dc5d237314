"""Random requests against every HTTP surface, and the checks every answer must pass.

One generator for the suite (driven by hypothesis, small counts) and for the long run in
``bench/fuzz_http.py`` (driven by a seeded ``random.Random``, 100,000 requests): forms,
report downloads, registry pages and their query parameters, the scan form, sign-in and
sign-out, the JSON API, CDS Hooks services and feedback, and paths that do not exist.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from importlib import resources
from typing import Any

from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository

ON = dt.date(2026, 11, 28)
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', "site-packages",
                   '.py", line')
PATIENTS = ("PEC-0001", "PEC-0002")

ODD = ["", " ", "0", "-1", "1e400", "nan", "9" * 400, "\x00", "\u00e9", "%00",
       "<script>", "{{7*7}}", "'; DROP TABLE patient; --", "../../etc/passwd", "=1+1",
       "2026-02-30", "9999-12-31", "0001-01-01", "1900-01-01", "2199-12-31", "2026-11-28",
       "20261128", "2026-11-28T10:00", "true", "null", "[]", "{}", "\u202e", "a" * 5000]
DATES = ["2026-11-28", "2025-01-01", "1900-01-01", "2199-12-31", "9999-12-31",
         "0001-01-01", "2026-13-01", "x"]
REGISTRY_GETS = ["/registry", "/registry/worklist", "/registry/worklist.csv",
                 "/registry/worklist.ics", "/registry/summary", "/registry/summary.svg",
                 "/registry/summary.pdf",
                 "/registry/patients/{rid}", "/registry/patients/{rid}/plan.ics",
                 "/registry/patients/{rid}/scan", "/registry/patients/{rid}/outcome",
                 "/registry/survival.svg"]
QUERY_NAMES = ["on", "page", "status", "risk", "sort", "desc", "recent_days", "format", "by",
               "endpoint",
               "next", "x"]
QUERY_VALUES = ["overdue", "due", "upcoming", "done", "high", "low", "indeterminate", "folpe",
                "rfs", "os",
                "priority", "due_date", "registry_id", "1", "2", "99999999999999999999",
                "-5", *DATES, *ODD[:12]]
JSON_PATHS = ("/api/", "/cds-services")


def example_case() -> dict[str, Any]:
    text = resources.files("pecoma").joinpath("examples/high-risk-uterine.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def seed_registry(repo: Repository) -> None:
    for rid in PATIENTS:
        record_case(repo, rid, example_case(), on_date=ON, settings=default_settings(),
                    actor="fuzz", source="fuzz")


def _junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, -1, 1.5, 10**30, float("inf")])
    if kind in (2, 3, 4):
        return rng.choice(ODD + DATES)
    if kind in (5, 6):
        return {rng.choice(["case", "on", "imaging", "hook", "context", "prefetch", "x",
                            "date", "finding", "modality", "card", "outcome"]):
                _junk(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]


def _mutated_case(rng: random.Random) -> Any:
    case = example_case()
    for _ in range(rng.randrange(4)):
        section = rng.choice(list(case))
        if isinstance(case[section], dict) and case[section] and rng.random() < 0.7:
            key = rng.choice(list(case[section]))
            case[section][key] = _junk(rng)
        else:
            case[section] = _junk(rng)
    return case


def _query(rng: random.Random) -> dict[str, str]:
    return {rng.choice(QUERY_NAMES): rng.choice(QUERY_VALUES)
            for _ in range(rng.randrange(4))}


def random_request(rng: random.Random, *, pdf: bool = True) -> tuple[str, str, dict[str, Any]]:
    """(method, path, keyword arguments for httpx) of one random request."""
    surface = rng.randrange(16)
    rid = rng.choice([*PATIENTS, "PEC-9999", "x", "%2e%2e", "a" * 200])
    if surface in (0, 1, 2):
        path = rng.choice(REGISTRY_GETS).format(rid=rid)
        return "GET", path, {"params": _query(rng)}
    if surface == 3:
        data = {"date": rng.choice(DATES + ODD), "modality": rng.choice(
            ["chest_ct", "mri_primary", "x", ""]), "finding": rng.choice(
            ["no_evidence_of_disease", "equivocal", "", "null", "x"])}
        return "POST", f"/registry/patients/{rid}/scan", {"data": data}
    if surface == 4:
        from pecoma.case import parse_case
        from pecoma.web.forms import case_to_values

        values = case_to_values(parse_case(example_case()), ON)
        for _ in range(rng.randrange(5)):
            values[rng.choice([*values, "imaging[0].date", "x", "on"])] = str(
                rng.choice(ODD + DATES))
        return "POST", rng.choice(["/report", "/report", "/edit"]), {"data": values}
    if surface == 5:
        routes = ["/report.json", "/report.ics", "/edit", *(["/report.pdf"] if pdf else [])]
        body = {"case": json.dumps(_mutated_case(rng)), "on": rng.choice(DATES)}
        if rng.random() < 0.3:
            body["imaging"] = json.dumps(_junk(rng))
        return "POST", rng.choice(routes), {"data": body}
    if surface in (6, 7):
        route = rng.choice(["/api/v1/assess", "/api/v1/followup"])
        body: Any = {"case": _mutated_case(rng), "on": rng.choice(DATES)} \
            if rng.random() < 0.7 else _junk(rng)
        if route.endswith("followup") and isinstance(body, dict) and rng.random() < 0.5:
            body["imaging"] = _junk(rng)
        content = json.dumps(body).encode() if rng.random() < 0.9 else \
            rng.randbytes(rng.randrange(64))
        return "POST", route, {"content": content, "params": _query(rng),
                               "headers": {"content-type": rng.choice(
                                   ["application/json", "text/plain", "application/json"])}}
    if surface == 8:
        return "GET", rng.choice(["/api/v1/schema", "/api/v1/rules", "/api/v1/openapi.json",
                                  "/api/v1/tokens", "/healthz", "/readyz", "/rules", "/",
                                  "/login", "/cds-services", "/nowhere", "/api/v1/nowhere",
                                  "/static/../../x", "/registry/patients/"]), \
            {"params": _query(rng)}
    if surface == 9:
        data = {"token": rng.choice(["pecoma_" + "x" * 43, "", *ODD[:10]]),
                "next": rng.choice(["/registry", "//evil.example", "https://x", "/\\x",
                                    *ODD[:6]])}
        return "POST", rng.choice(["/login", "/login", "/logout"]), {"data": data}
    if surface == 13:
        data = {"event": rng.choice(["last_contact", "local_recurrence", "distant_metastasis",
                                     "progression", "death", "", "x"]),
                "date": rng.choice(DATES + ODD),
                "vital_status": rng.choice(["alive_without_disease", "alive_with_disease",
                                            "dead_of_disease", "lost_to_follow_up", "", "x"]),
                "found_by": rng.choice(["scheduled_scan", "symptoms", "other", "", "x"])}
        return "POST", f"/registry/patients/{rid}/outcome", {"data": data}
    if surface == 14:
        params = {k: rng.choice([*ODD[:8], "https://ehr.example/fhir", "x"])
                  for k in rng.sample(["iss", "launch", "state", "code", "error"], 2)}
        return "GET", rng.choice(["/smart/launch", "/smart/callback"]), {"params": params}
    service = rng.choice(["pecoma-patient-view", "pecoma-order-select", "nothing", "x" * 80])
    if surface in (10, 11, 12):
        body = {"hook": rng.choice(["patient-view", "order-select", "x"]),
                "hookInstance": rng.choice(["d1577c69-dfbe-44ad-ba6d-3e05e953b2ea", "", 5]),
                "context": _junk(rng) if rng.random() < 0.5 else {
                    "userId": "Practitioner/1", "patientId": rng.choice(["p1", "", None]),
                    "draftOrders": _junk(rng)},
                "prefetch": _junk(rng)}
        return "POST", f"/cds-services/{service}", _json(body)
    feedback = {"feedback": [{"card": rng.choice(["x", "", None]),
                              "outcome": rng.choice(["accepted", "overridden", "x"]),
                              "outcomeTimestamp": rng.choice(DATES),
                              "overrideReason": _junk(rng)}]} if rng.random() < 0.6 \
        else _junk(rng)
    return "POST", f"/cds-services/{service}/feedback", _json(feedback)


def _json(body: Any) -> dict[str, Any]:
    # Infinity as Python writes it: a server must refuse it, not fail on it.
    return {"content": json.dumps(body).encode(),
            "headers": {"content-type": "application/json"}}


def check_answer(method: str, path: str, status: int, content_type: str, text: str) -> None:
    """No 5xx (the database is up), no traceback, and JSON where JSON is expected."""
    where = f"{method} {path} -> {status}"
    assert status < 500, f"{where}: {text[:300]}"
    for mark in TRACEBACK_MARKS:
        assert mark not in text, f"{where}: {text[:300]}"
    if path.startswith(JSON_PATHS) and status >= 400:
        assert not content_type.startswith("text/html"), f"{where}: an HTML error page"
        assert "json" in content_type, f"{where}: {content_type}"
