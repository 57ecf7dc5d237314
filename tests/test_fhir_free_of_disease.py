"""FHIR out: a relapsed patient free of disease again (I8) is written, not dropped."""

from __future__ import annotations

from typing import Any

from pecoma import parse_case
from pecoma.fhir.careplan import validate_resources
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case

RELAPSED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
    "stage": {"status": "metastatic",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "free_of_disease": {"since": "2023-08-01", "by": "systemic_therapy"},
}


def _free_observation(bundle: dict[str, Any]) -> dict[str, Any]:
    (obs,) = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "Observation"
              and e["resource"]["code"]["coding"][0]["code"] == "free-of-disease"]
    return obs


def test_written_as_an_observation_with_date_and_how() -> None:
    bundle = bundle_from_case(parse_case(RELAPSED))
    obs = _free_observation(bundle)
    assert obs["valueDateTime"] == "2023-08-01"
    (how,) = [x for x in obs["extension"] if x["url"].endswith("/remission-by")]
    assert how["valueCode"] == "systemic-therapy"
    validate_resources(bundle)


def test_not_written_when_not_given() -> None:
    data = {k: v for k, v in RELAPSED.items() if k != "free_of_disease"}
    bundle = bundle_from_case(parse_case(data))
    codes = [e["resource"].get("code", {}).get("coding", [{}])[0].get("code")
             for e in bundle["entry"]]
    assert "free-of-disease" not in codes


def test_read_back() -> None:
    """What is written is read back as the same case (date and how)."""
    case = parse_case(RELAPSED)
    assert case_from_bundle(bundle_from_case(case)).case == case


def test_careplan_names_the_plan_and_the_missing_history() -> None:
    """The CarePlan follows the plan: high-risk schedule after relapse (I8), and the scan
    history that was not given is a note with its question (I13)."""
    import datetime as dt

    from pecoma import assess
    from pecoma.engine.schedule import plan_surveillance
    from pecoma.fhir.careplan import careplan_bundle

    case = parse_case(RELAPSED)
    on = dt.date(2026, 11, 28)
    a = assess(case, on)
    bundle = careplan_bundle(case, a, plan_surveillance(case, a, on))
    validate_resources(bundle)
    (careplan,) = [e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "CarePlan"]
    assert "high-risk schedule" in careplan["description"]
    notes = " ".join(n["text"] for n in careplan["note"])
    assert "Missing: Which surveillance scans" in notes
    (first,) = [x for x in careplan["activity"] if "detail" in x][:1]
    assert first["detail"]["scheduledPeriod"]["start"] == "2026-11-28"


def test_to_case_refuses_a_line_that_progressed_after_the_date(tmp_path: Any) -> None:
    """Read from FHIR as from a file: the free-of-disease Observation (2023-08-01) beside a
    MedicationStatement of sirolimus begun after it, its extension saying the disease
    progressed. `pecoma fhir to-case` had printed it as a case free of disease; it is
    refused (exit 3) naming both fields. Begun before the date (the earlier disease), the
    same bundle is read."""
    import json

    from cli_support import run_cli

    data = {**RELAPSED, "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
            "systemic": {"therapies": [{"agent": "sirolimus", "line": 1,
                                        "started_on": "2023-05-20", "progressed": "yes"}]}}
    bundle = bundle_from_case(parse_case(data))
    before = tmp_path / "before.json"
    before.write_text(json.dumps(bundle), encoding="utf-8")
    assert run_cli("fhir", "to-case", str(before)).returncode == 0
    (statement,) = [e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "MedicationStatement"]
    statement["effectivePeriod"]["start"] = "2024-02-01"
    after = tmp_path / "after.json"
    after.write_text(json.dumps(bundle), encoding="utf-8")
    run = run_cli("fhir", "to-case", str(after), columns=200)
    assert run.returncode == 3, run.stdout
    assert "'free_of_disease.since (from Observation/free-of-disease)'" in run.stderr
    assert "'systemic.therapies[0].progressed' 'yes'" in run.stderr
    assert "Traceback" not in run.stderr
