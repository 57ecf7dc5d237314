"""FHIR Bulk Data export: one NDJSON per resource type, mCODE profiles declared, every
resource valid FHIR R4B, outcomes as disease status and death, pseudonymised dates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class

from pecoma.registry.fhir_bulk import bulk_export
from pecoma.registry.fhir_bulk_resources import MCODE
from pecoma.registry.omop import pseudonym
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository
from test_registry_omop import fixture_registry

from registry_support import ON, db_url, high_risk, repo, variant

__all__ = ["db_url", "fixture_registry", "repo"]

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def load(folder: Path) -> dict[str, list[dict[str, object]]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    out = {}
    for item in manifest["output"]:
        lines = (folder / item["url"]).read_text().splitlines()
        assert len(lines) == item["count"]
        out[item["type"]] = [json.loads(line) for line in lines]
    return out


class TestBulk:
    def test_every_resource_valid_r4b_with_profiles(self, fixture_registry: Repository,
                                                     tmp_path: Path) -> None:
        bulk_export(fixture_registry, tmp_path, ON, now=NOW)
        data = load(tmp_path)
        for kind, resources in data.items():
            model = get_fhir_model_class(kind)
            for res in resources:
                assert res["resourceType"] == kind
                model.model_validate(res)
        ids = [r["id"] for rs in data.values() for r in rs]
        assert len(ids) == len(set(ids))  # unique across patients
        assert {p["id"] for p in data["Patient"]} == {"H1", "L1", "M1", "N1"}
        assert all(p["meta"]["profile"] == [MCODE["Patient"]] for p in data["Patient"])
        primary = [c for c in data["Condition"] if c["meta"]["profile"] == [MCODE["primary"]]]
        assert len(primary) == 4
        assert any(o.get("meta", {}).get("profile") == [MCODE["tumour-size"]]
                   for o in data["Observation"])
        assert {p["meta"]["profile"][0] for p in data["Procedure"]} == {MCODE["surgery"]}

    def test_outcomes_become_status_and_death(self, fixture_registry: Repository,
                                              tmp_path: Path) -> None:
        """H1: recurrence 2026-01-10 (worsened), died 2026-07-10; M1 progression."""
        bulk_export(fixture_registry, tmp_path, ON, now=NOW)
        data = load(tmp_path)
        h1 = next(p for p in data["Patient"] if p["id"] == "H1")
        assert h1["deceasedDateTime"] == "2026-07-10"
        status = [o for o in data["Observation"]
                  if o.get("meta", {}).get("profile") == [MCODE["disease-status"]]]
        assert sorted((o["subject"]["reference"], o["effectiveDateTime"],
                       o["valueCodeableConcept"]["coding"][0]["code"]) for o in status) == [
            ("Patient/H1", "2026-01-10", "271299001"),
            ("Patient/M1", "2026-03-01", "271299001")]
        assert status[0]["focus"][0]["reference"].endswith("-pecoma-diagnosis")

    def test_pseudonymised_no_label_months(self, repo: Repository, tmp_path: Path) -> None:
        """The id is the keyed hash, the free label is not exported, dates are months."""
        record_case(repo, "PEC-77", variant(high_risk(), label="Mrs Example, bed 4"),
                    on_date=ON, settings=default_settings(), actor="clinic", source="t")
        secret = b"network-secret-of-32-bytes-long!"
        bulk_export(repo, tmp_path, ON, secret=secret, month_precision=True, now=NOW)
        text = "".join(p.read_text() for p in tmp_path.glob("*.ndjson"))
        assert "PEC-77" not in text and "Mrs Example" not in text
        assert pseudonym("PEC-77", secret) in text
        data = load(tmp_path)
        proc = data["Procedure"][0]
        assert proc["performedDateTime"] == "2025-01"
        for kind, resources in data.items():
            for res in resources:
                get_fhir_model_class(kind).model_validate(res)


def test_cli(db_url: str, fixture_registry: Repository, tmp_path: Path) -> None:
    from test_registry_cli import pecoma

    r = pecoma("registry", "export-fhir", str(tmp_path / "bulk"), "--on", "2026-11-28",
               "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    assert "Patient: 4 resources" in r.stdout
    assert (tmp_path / "bulk" / "Patient.ndjson").exists()


@pytest.mark.parametrize("secret", [b"short"])
def test_short_secret_refused(db_url: str, fixture_registry: Repository, tmp_path: Path,
                              secret: bytes) -> None:
    from test_registry_cli import no_traceback, pecoma

    f = tmp_path / "s"
    f.write_bytes(secret)
    r = pecoma("registry", "export-fhir", str(tmp_path / "b"), "--pseudonymise", str(f),
               "--database-url", db_url)
    assert r.returncode == 3
    no_traceback(r)
    assert "at least 16 bytes" in r.stderr + r.stdout


def test_status_line_exact(fixture_registry: Repository, tmp_path: Path) -> None:
    """The disease-status observation is spliced from bytes serialised once: H1's line
    is, byte for byte, the compact JSON of the resource written out by hand (H1's first
    outcome, the recurrence of 2026-01-10: worsened)."""
    bulk_export(fixture_registry, tmp_path, ON, now=NOW)
    lines = [line for line in (tmp_path / "Observation.ndjson").read_bytes().splitlines()
             if b'"id":"H1-status-' in line]
    assert lines == [
        b'{"resourceType":"Observation","id":"H1-status-1",'
        b'"meta":{"profile":["http://hl7.org/fhir/us/mcode/StructureDefinition/'
        b'mcode-cancer-disease-status"]},"status":"final",'
        b'"code":{"coding":[{"system":"http://loinc.org","code":"97509-4",'
        b'"display":"Cancer disease progression"}]},'
        b'"subject":{"reference":"Patient/H1"},'
        b'"focus":[{"reference":"Condition/H1-pecoma-diagnosis"}],'
        b'"effectiveDateTime":"2026-01-10",'
        b'"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct",'
        b'"code":"271299001","display":"Patient\'s condition worsened"}]}}']


def test_months_exact() -> None:
    """Only whole JSON strings "YYYY-MM-DD" lose their day; a date inside a longer string,
    a date-time, a number and an id that looks like a date are kept (written by hand)."""
    from pecoma.registry.fhir_bulk_resources import _to_months

    text = (b'{"a":"2025-01-31","b":["2024-12-01","x2025-01-31","2025-01-31T10:00",'
            b'"1-2025-01-31"],"c":20250131,"d":"2025-1-31"}\n{"e":"1999-09-09"}\n')
    assert _to_months(text) == (
        b'{"a":"2025-01","b":["2024-12","x2025-01-31","2025-01-31T10:00",'
        b'"1-2025-01-31"],"c":20250131,"d":"2025-1-31"}\n{"e":"1999-09"}\n')
