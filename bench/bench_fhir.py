"""FHIR benchmark: Bundle -> Case -> Assessment per patient, and patient-view end to end.

Run: .venv/bin/python bench/bench_fhir.py [--patients 2000] [--calls 500]
Bundles are written from seeded generated cases (bench/cases.py) plus an Encounter, as an
EHR would send them, and kept as JSON text. Per patient it times each stage apart and the
whole path, with the three validation modes of the reader:

* none    the bundle's shape only (no fhir.resources validation)
* engine  fhir.resources R4B validation of the resources the engine reads (the default)
* full    fhir.resources R4B validation of the whole Bundle

then a CDS Hooks patient-view call in-process (ASGI, no network) with the same bundles as
prefetch, and ``to-case`` on one large record: the mCODE corpus record
(tests/data/mcode/kidney-metastatic.json) with unrelated resources added up to 5,000
entries (vital signs, laboratory results, encounters, other drugs), goal <= 100 ms.
Prints figures (median, p99, in ms); no pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from cases import generate

from pecoma import assess, load_knowledge, parse_case
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.settings import default_settings
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

ON = dt.date(2026, 11, 28)
_KEYS = {"Patient": "patient", "Condition": "conditions", "Observation": "observations",
         "Procedure": "procedures", "MedicationStatement": "medications",
         "MedicationRequest": "medication_requests",
         "MedicationAdministration": "medication_administrations",
         "MedicationDispense": "medication_dispenses",
         "AllergyIntolerance": "allergies"}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bundles(n: int) -> list[str]:
    out = []
    for i, data in enumerate(generate(n)):
        case = parse_case(data)
        if case.diagnosis.date is not None and case.diagnosis.date > ON:
            continue
        b = bundle_from_case(case, patient_id=f"p{i}")
        b["entry"].append({"resource": {"resourceType": "Encounter", "id": "e1",
                                        "status": "finished", "class": {"code": "AMB"},
                                        "subject": {"reference": f"Patient/p{i}"}}})
        out.append(json.dumps(b))
    return out


def with_unrelated(text: str, count: int = 60) -> str:
    """The bundle as an EHR's Observation search returns it: with vital signs and labs."""
    b = json.loads(text)
    pid = b["entry"][0]["resource"]["id"]
    for i in range(count):
        b["entry"].append({"resource": {
            "resourceType": "Observation", "id": f"v{i}", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                      "observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4",
                                 "display": "Heart rate"}]},
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "valueQuantity": {"value": 60 + i % 30, "unit": "/min",
                              "system": "http://unitsofmeasure.org", "code": "/min"}}})
    return json.dumps(b)


CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "mcode"
_VITALS = (("8867-4", "Heart rate", "/min"), ("8310-5", "Body temperature", "Cel"),
           ("29463-7", "Body weight", "kg"), ("718-7", "Hemoglobin [Mass/volume] in Blood",
                                               "g/dL"))


def large_record(entries: int = 5000) -> str:
    """The mCODE kidney record with unrelated resources added up to ``entries``."""
    b = json.loads((CORPUS / "kidney-metastatic.json").read_text("utf-8"))
    subject = {"reference": "Patient/cancer-patient-pecoma-k"}
    i = 0
    while len(b["entry"]) < entries:
        kind = i % 5
        if kind < 3:
            code, text, unit = _VITALS[i % len(_VITALS)]
            res: dict[str, Any] = {
                "resourceType": "Observation", "id": f"obs-{i}", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code,
                                     "display": text}]},
                "subject": subject, "effectiveDateTime": f"2024-{1 + i % 12:02d}-01",
                "valueQuantity": {"value": 10 + i % 90, "unit": unit}}
        elif kind == 3:
            res = {"resourceType": "Encounter", "id": f"enc-{i}", "status": "finished",
                   "class": {"code": "AMB"}, "subject": subject}
        else:
            res = {"resourceType": "MedicationRequest", "id": f"mr-{i}", "status": "completed",
                   "intent": "order", "subject": subject,
                   "medicationCodeableConcept": {"coding": [
                       {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "161",
                        "display": "acetaminophen"}]}}
        b["entry"].append({"fullUrl": f"urn:uuid:bench-{i}", "resource": res})
        i += 1
    return json.dumps(b)


def large_record_runs(runs: int) -> None:
    """to-case on the large record: json.loads and the reader apart, wall and CPU time
    (CPU time moves less when the machine is shared)."""
    text = large_record()
    print(f"to-case on one record of 5,000 entries ({len(text) / 1024:.0f} KiB JSON; the "
          "mCODE corpus record + unrelated resources), goal <= 100 ms:")
    line("json.loads", timed(json.loads, [text] * runs))
    data = json.loads(text)
    for mode in ("none", "engine", "full"):
        case_from_bundle(data, validate=mode)  # type: ignore[arg-type]
        wall, cpu = [], []
        for _ in range(runs):
            w0, c0 = time.perf_counter(), time.process_time()
            case_from_bundle(data, validate=mode)  # type: ignore[arg-type]
            wall.append((time.perf_counter() - w0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        line(f"reader, validate={mode}", wall)
        print(f"  {'  (CPU time)':<46} median {statistics.median(cpu):7.3f} ms")


def timed(fn: Callable[[str], Any], texts: list[str]) -> list[float]:
    clock = time.perf_counter_ns
    lat = []
    gc.disable()
    for t in texts:
        t0 = clock()
        fn(t)
        lat.append((clock() - t0) / 1e6)
    gc.enable()
    return lat


def line(name: str, lat: list[float]) -> None:
    print(f"  {name:<46} median {statistics.median(lat):7.3f} ms   p99 {pct(lat, 0.99):7.3f} ms")


def prefetch(bundle: dict[str, Any]) -> dict[str, Any]:
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in _KEYS.values()}
    for e in bundle["entry"]:
        key = _KEYS.get(e["resource"]["resourceType"])
        if key:
            grouped[key].append(e["resource"])
    out: dict[str, Any] = {k: {"resourceType": "Bundle", "type": "searchset",
                               "entry": [{"resource": r} for r in v]}
                           for k, v in grouped.items() if k != "patient"}
    out["patient"] = grouped["patient"][0]
    return out


async def hook_calls(texts: list[str]) -> list[float]:
    import tempfile

    folder = tempfile.mkdtemp(prefix="pecoma-bench-")
    app = create_app(WebConfig(database_url=f"sqlite:///{folder}/registry.db",
                               cds=CdsSettings(report_links=False)), today=lambda: ON)
    bodies = []
    for t in texts:
        b = json.loads(t)
        pid = b["entry"][0]["resource"]["id"]
        bodies.append(json.dumps({"hook": "patient-view",
                                  "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                                  "context": {"userId": "Practitioner/1", "patientId": pid},
                                  "prefetch": prefetch(b)}).encode())
    transport = httpx.ASGITransport(app=app)
    lat = []
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for body in bodies[:50]:
            await client.post(f"/cds-services/{PATIENT_VIEW}", content=body)
        for body in bodies:
            t0 = time.perf_counter_ns()
            r = await client.post(f"/cds-services/{PATIENT_VIEW}", content=body,
                                  headers={"content-type": "application/json"})
            lat.append((time.perf_counter_ns() - t0) / 1e6)
            assert r.status_code == 200
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--large-runs", type=int, default=30)
    ap.add_argument("--large-only", action="store_true",
                    help="only the 5,000-entry record")
    args = ap.parse_args()
    if args.large_only:
        large_record_runs(args.large_runs)
        return
    settings, knowledge = default_settings(), load_knowledge()
    texts = bundles(args.patients)
    sizes = [len(json.loads(t)["entry"]) for t in texts]
    print(f"pecoma FHIR benchmark · {platform.python_implementation()} "
          f"{platform.python_version()} · {platform.machine()} · knowledge {knowledge.version}")
    print(f"{len(texts)} bundles, {statistics.median(sizes):g} resources each (median), "
          f"{statistics.median(len(t) for t in texts) / 1024:.1f} KiB JSON (median)")
    for t in texts[:300]:  # warm-up: caches, fhir.resources model classes
        assess(case_from_bundle(json.loads(t), validate="full").case, ON, settings, knowledge)

    print("stages, per patient:")
    line("json.loads", timed(json.loads, texts))
    dicts = [json.loads(t) for t in texts]
    it = iter(dicts)
    line("reader, validate=none (shape only)",
         timed(lambda _t: case_from_bundle(next(it), validate="none"), texts))
    it = iter(dicts)
    line("reader, validate=engine (resources read, R4B)",
         timed(lambda _t: case_from_bundle(next(it), validate="engine"), texts))
    it = iter(dicts)
    line("reader, validate=full (whole Bundle, R4B)",
         timed(lambda _t: case_from_bundle(next(it), validate="full"), texts))
    cases = [case_from_bundle(d, validate="none").case for d in dicts]
    ic = iter(cases)
    line("assess", timed(lambda _t: assess(next(ic), ON, settings, knowledge), texts))
    print("Bundle JSON text -> Case -> Assessment, per patient:")
    for mode in ("none", "engine", "full"):
        def path(t: str, mode: str = mode) -> None:
            bc = case_from_bundle(json.loads(t), validate=mode)  # type: ignore[arg-type]
            assess(bc.case, ON, settings, knowledge)
        line(f"end to end, validate={mode}", timed(path, texts))
    ehr = [with_unrelated(t) for t in texts[:500]]
    print("The same bundles with 60 unrelated Observations (vital signs), as an EHR sends "
          "them, first 500:")
    for mode in ("engine", "full"):
        def path_ehr(t: str, mode: str = mode) -> None:
            bc = case_from_bundle(json.loads(t), validate=mode)  # type: ignore[arg-type]
            assess(bc.case, ON, settings, knowledge)
        line(f"end to end, validate={mode}", timed(path_ehr, ehr))
    large_record_runs(args.large_runs)
    print("CDS Hooks patient-view, in-process ASGI call (prefetch, default validation):")
    line(f"{args.calls} calls", asyncio.run(hook_calls(texts[: args.calls])))


if __name__ == "__main__":
    main()
