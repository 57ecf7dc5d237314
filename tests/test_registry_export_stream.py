"""The streamed exports (one patient in memory at a time, plain dicts serialised without
FHIR model objects) on a registry of odd but legal cases: every NDJSON resource is what
the fhir.resources R4B model makes of it (validated and dumped back: the same JSON), the
streamed files hold exactly the lines and rows built in memory, and an export that fails
half-way leaves no file behind."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from pecoma.registry.fhir_bulk import bulk_export
from pecoma.registry.fhir_bulk_files import write_bulk
from pecoma.registry.fhir_bulk_resources import build_bulk, fhir_id
from pecoma.registry.omop import TABLES, Demographics, build_omop, omop_export, write_omop
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import ON, db_url, high_risk, low_risk, metastatic, repo, variant

__all__ = ["db_url", "repo"]

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SECRET = b"network-secret-of-32-bytes-long!"


def odd_cases() -> dict[str, dict[str, Any]]:
    """Legal, but not the usual shape."""
    minimal = {"tumour": {"primary_site": "other"}, "stage": {"status": "localized"}}
    two_lines = metastatic("sirolimus")
    two_lines["systemic"]["therapies"].append(
        {"agent": "doxorubicin", "setting": "advanced"})  # no start date, no line
    two_lines["stage"]["metastases"].append({"site": "liver"})  # date and timing unknown
    return {
        "A1": minimal,  # no date at all: left out of OMOP, exported as FHIR
        "B2.odd-id-": variant(high_risk(), label="Frau Ä. \"Zoë\" <b>, 𝔘"),
        "C3": variant(low_risk(), **{"tumour.size": {"value": 0.1, "unit": "mm"}}),
        "D4": two_lines,
        "E5": variant(high_risk("2020-02-29"), **{
            "diagnosis.date": "2020-02-20",
            "primary_treatment_end": "2020-03-01",
            "molecular": {"tsc2": "pathogenic", "tfe3_fusion": "not_done"}}),
    }


@pytest.fixture
def odd_registry(repo: Repository) -> Repository:
    for rid, case in odd_cases().items():
        record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                    source="test")
    for rid, event, day, vital, found in (
        ("B2.odd-id-", "local_recurrence", "2025-12-31", None, None),
        ("B2.odd-id-", "last_contact", "2026-02-01", "alive_with_disease",
         None),
        ("D4", "progression", "2026-01-01", None, "symptoms"),
        ("D4", "death", "2026-03-03", "dead_of_other_cause", None),
        ("E5", "last_contact", "2026-11-28", "alive_without_disease", None),
    ):
        record_outcome(repo, rid, event, day, vital, found, on_date=ON, actor="dr-a")
    return repo


DEMO = {rid: Demographics("female", 1960 + k) for k, rid in enumerate(odd_cases())}


@pytest.mark.parametrize("pseudonymised", [False, True])
def test_fhir_stream_is_the_model_output(odd_registry: Repository, tmp_path: Path,
                                         pseudonymised: bool) -> None:
    kw: dict[str, Any] = ({"secret": SECRET, "month_precision": True} if pseudonymised
                          else {})
    counts, left_out = bulk_export(odd_registry, tmp_path, ON, now=NOW, **kw)
    assert left_out == {}
    assert counts["Patient"] == 5
    by_type, _ = build_bulk(odd_registry.latest_cases(), odd_registry.outcomes_by_registry_id(),
                            ON, **kw)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [(o["type"], o["count"]) for o in manifest["output"]] == sorted(counts.items())
    for kind, lines in by_type.items():
        written = (tmp_path / f"{kind}.ndjson").read_bytes()
        assert written == b"".join(line + b"\n" for line in lines)  # byte for byte
        model = get_fhir_model_class(kind)
        for line in written.splitlines():
            resource = json.loads(line)
            dumped = model.model_validate(resource).model_dump_json(by_alias=True,
                                                                    exclude_none=True)
            assert json.loads(dumped) == resource
    text = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.ndjson"))
    assert "Zoë" not in text  # the free label is never exported
    if pseudonymised:
        assert "B2.odd-id-" not in text and "2026-03-03" not in text
    else:
        d = [json.loads(x) for x in (tmp_path / "Patient.ndjson").read_text().splitlines()]
        assert {p["id"]: p.get("deceasedDateTime") for p in d}["D4"] == "2026-03-03"


def test_omop_stream_is_the_rows_built_in_memory(odd_registry: Repository,
                                                  tmp_path: Path) -> None:
    ex = omop_export(odd_registry, tmp_path, DEMO, ON)
    whole = build_omop(odd_registry.latest_cases(), odd_registry.outcomes_by_registry_id(),
                       DEMO, ON)
    assert ex.left_out == whole.left_out == {"no diagnosis or surgery date": 1,
                                             "systemic therapy without a start date "
                                             "(drug not exported)": 1}
    assert ex.counts() == whole.counts()
    for table, columns in TABLES.items():
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(whole.tables[table])
        assert (tmp_path / f"{table}.csv").read_text(encoding="utf-8") == buf.getvalue()


def _failing(lines: Iterator[Any], after: int) -> Iterator[Any]:
    for k, item in enumerate(lines):
        if k == after:
            raise RuntimeError("the database went away")
        yield item


def test_a_failed_export_leaves_nothing(odd_registry: Repository, tmp_path: Path) -> None:
    """Half-way through, the read fails: no file in the folder (not even an earlier
    export's files are replaced), and no work folder left over."""
    out = tmp_path / "bulk"
    out.mkdir()
    (out / "Patient.ndjson").write_text("earlier export\n")
    by_type, _ = build_bulk(odd_registry.latest_cases(), odd_registry.outcomes_by_registry_id(),
                            ON)
    lines = [(k, line) for k, v in by_type.items() for line in v]
    with pytest.raises(RuntimeError):
        write_bulk(_failing(iter(lines), 7), out, NOW)
    assert sorted(p.name for p in out.iterdir()) == ["Patient.ndjson"]
    assert (out / "Patient.ndjson").read_text() == "earlier export\n"
    whole = build_omop(odd_registry.latest_cases(), odd_registry.outcomes_by_registry_id(),
                       DEMO, ON)
    rows = [(t, r) for t, v in whole.tables.items() for r in v]
    with pytest.raises(RuntimeError):
        write_omop(_failing(iter(rows), 5), tmp_path / "omop")
    assert list((tmp_path / "omop").iterdir()) == []


def test_registry_id_with_underscore(repo: Repository, tmp_path: Path) -> None:
    record_case(repo, "P_1", high_risk(), on_date=ON, settings=default_settings(),
                actor="clinic", source="test")
    bulk_export(repo, tmp_path, ON, now=NOW)
    (line,) = (tmp_path / "Patient.ndjson").read_text().splitlines()
    patient = get_fhir_model_class("Patient").model_validate(json.loads(line))
    # FHIR ids allow letters, digits, '-' and '.': the '_' becomes '-', and a short hash
    # of the registry id keeps P_1 apart from a registry id spelt P-1.
    assert patient.id.startswith("P-1-") and len(patient.id) == len("P-1-") + 8
    assert fhir_id("P_1") != fhir_id("P-1") == "P-1"
    for path in tmp_path.glob("*.ndjson"):
        for other in path.read_text().splitlines():
            resource = json.loads(other)
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)


@pytest.mark.parametrize("pseudonymised", [False, True])
def test_fhir_parallel_is_the_serial_export(odd_registry: Repository, tmp_path: Path,
                                            pseudonymised: bool) -> None:
    """Two workers over registry-id ranges write the very files of one process: the
    registry-id order is the database's, each range's part files are joined in order."""
    kw: dict[str, Any] = ({"secret": SECRET, "month_precision": True} if pseudonymised
                          else {})
    # 5 patients in 2 ranges: the cut is the 2nd registry id (A1, B2.odd-id- | C3, D4,
    # E5), so both ranges hold patients with outcomes (B2; D4 and E5)
    assert odd_registry.registry_id_cuts(2) == ["B2.odd-id-"]
    serial = bulk_export(odd_registry, tmp_path / "serial", ON, now=NOW, workers=1, **kw)
    parallel = bulk_export(odd_registry, tmp_path / "parallel", ON, now=NOW, workers=2, **kw)
    assert serial == parallel
    names = sorted(p.name for p in (tmp_path / "serial").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "parallel").iterdir())
    assert names == ["Condition.ndjson", "MedicationStatement.ndjson", "Observation.ndjson",
                     "Patient.ndjson", "Procedure.ndjson", "manifest.json"]
    for name in names:
        assert ((tmp_path / "serial" / name).read_bytes()
                == (tmp_path / "parallel" / name).read_bytes()), name


def test_fhir_parallel_keeps_each_patient_apart(odd_registry: Repository,
                                                tmp_path: Path) -> None:
    """Each patient's resources in the parallel export are exactly those of the patient
    exported alone: nothing of one patient reaches another's resources."""
    bulk_export(odd_registry, tmp_path, ON, now=NOW, workers=2)
    written = [json.loads(line) for p in sorted(tmp_path.glob("*.ndjson"))
               for line in p.read_bytes().splitlines()]
    outcomes = odd_registry.outcomes_by_registry_id()
    alone_total = 0
    for rid, data, icdo in odd_registry.latest_cases():
        alone, _ = build_bulk([(rid, data, icdo)], outcomes, ON)
        expected = [json.loads(line) for lines in alone.values() for line in lines]
        pid = fhir_id(rid)
        mine = [r for r in written
                if r["id"] == pid or (r["resourceType"] != "Patient"
                                      and r["subject"]["reference"] == f"Patient/{pid}")]
        assert sorted(json.dumps(r, sort_keys=True) for r in mine) == sorted(
            json.dumps(r, sort_keys=True) for r in expected)
        alone_total += len(mine)
    assert alone_total == len(written)  # every resource belongs to one patient


def test_registry_id_ranges(odd_registry: Repository) -> None:
    """Outcomes and cases read by range: after (exclusive) up to (inclusive)."""
    ids = [rid for rid, _, _ in odd_registry.iter_latest_cases(after="B2.odd-id-",
                                                                upto="D4")]
    assert ids == ["C3", "D4"]
    assert sorted(odd_registry.outcomes_by_registry_id(upto="C3")) == ["B2.odd-id-"]
    assert sorted(odd_registry.outcomes_by_registry_id(after="C3")) == ["D4", "E5"]
    assert odd_registry.registry_id_cuts(1) == []
    assert odd_registry.registry_id_cuts(5) == ["A1", "B2.odd-id-", "C3", "D4"]
    assert odd_registry.registry_id_cuts(9) == ["A1", "B2.odd-id-", "C3", "D4"]  # 5 ranges
    assert odd_registry.registry_id_cuts(2, min_part=3) == []  # 2 ranges of 2.5: too few


def test_fhir_export_in_a_daemon_process_starts_no_worker(odd_registry: Repository,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A daemon process (a multiprocessing pool's worker) may start no process: the
    export stays in it, whatever was asked."""
    import multiprocessing as mp

    from pecoma.registry.fhir_bulk import _workers

    assert _workers(odd_registry, 2) == 2
    monkeypatch.setattr(mp.current_process(), "daemon", True)
    assert _workers(odd_registry, 2) == 1
