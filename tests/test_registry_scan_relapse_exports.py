"""A relapse recorded only as a surveillance scan's finding (a local recurrence or a
metastasis) is in the research exports as an outcome relapse is: an OMOP 32529 disease
recurrence episode and a FHIR disease-status Observation "worsened", both dated by the
scan, as recurrence-free survival counts it. One rule gives the relapses:
:func:`pecoma.registry.routine.recorded_relapses`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from pecoma.case import parse_case
from pecoma.registry.fhir_bulk import bulk_export
from pecoma.registry.fhir_bulk_resources import MCODE
from pecoma.registry.omop import omop_export, pseudonym, read_demographics
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.routine import RecordedRelapse, recorded_relapses
from pecoma.registry.service import record_scan
from pecoma.registry.survival import YEAR, Endpoint, Grouping, survival_report
from pecoma.store import Repository
from pecoma.store.repository import ScanData
from test_registry_relapse_sources import add, resected_high_risk

from registry_support import db_url, repo, variant

__all__ = ["db_url", "repo"]

ON = dt.date(2024, 12, 1)
NOW = dt.datetime(2024, 12, 1, 12, 0, tzinfo=dt.UTC)
WORSENED, REMISSION = "271299001", "550991000124107"


def scan(repo: Repository, rid: str, day: str, modality: str, finding: str) -> None:
    record_scan(repo, rid, day, modality, finding, on_date=dt.date.fromisoformat(day),
                actor="radiology")


@pytest.fixture
def registry(repo: Repository) -> Repository:
    """Three high-risk soft-tissue PEComas resected R0 on 2023-01-10.
    A1: a chest CT found a metastasis on 2024-03-15; nothing else recorded.
    A2: seen free of disease 2024-01-01; an MRI found a local recurrence on 2024-05-01;
    a case version then records the recurrence, free of disease again since 2024-07-01
    (the case does not date a local recurrence: the scan does).
    A3: a chest CT found a metastasis on 2024-02-01, recorded as an outcome on 2024-02-20
    and seen again on a CT of 2024-06-01: one relapse, found on 2024-02-01."""
    for rid in ("A1", "A2", "A3"):
        add(repo, rid, resected_high_risk(), "2023-02-01")
    scan(repo, "A1", "2024-03-15", "chest_ct", "metastasis")
    record_outcome(repo, "A2", "last_contact", "2024-01-01", "alive_without_disease",
                   on_date=dt.date(2024, 1, 2), actor="registrar")
    scan(repo, "A2", "2024-05-01", "mri_primary", "local_recurrence")
    add(repo, "A2", variant(resected_high_risk(), **{
        "stage.status": "recurrent", "stage.local_recurrence": "no",
        "free_of_disease": {"since": "2024-07-01", "by": "surgery"}}), "2024-07-10")
    scan(repo, "A3", "2024-02-01", "chest_ct", "metastasis")
    record_outcome(repo, "A3", "distant_metastasis", "2024-02-20", found_by="scheduled_scan",
                   on_date=dt.date(2024, 2, 21), actor="registrar")
    scan(repo, "A3", "2024-06-01", "chest_ct", "metastasis")
    return repo


def omop(repo: Repository, folder: Path, **kw: Any) -> tuple[list[tuple[str, ...]], Any]:
    demo = folder.parent / "demo.csv"
    demo.write_text("registry_id,sex,year_of_birth\nA1,female,1970\nA2,male,1965\n"
                    "A3,female,1960\n", encoding="utf-8")
    ex = omop_export(repo, folder, read_demographics(demo), ON, **kw)
    with (folder / "episode.csv").open(encoding="utf-8") as f:
        persons = {"1": "A1", "2": "A2", "3": "A3"}  # in registry-id order
        rows = [(persons[r["person_id"]], r["episode_start_date"], r["episode_source_value"])
                for r in csv.DictReader(f) if r["episode_concept_id"] == "32529"]
    return sorted(rows), ex


def fhir(repo: Repository, folder: Path, **kw: Any) -> dict[str, list[dict[str, Any]]]:
    bulk_export(repo, folder, ON, now=NOW, **kw)
    manifest = json.loads((folder / "manifest.json").read_text())
    out: dict[str, list[dict[str, Any]]] = {}
    for item in manifest["output"]:
        out[item["type"]] = [json.loads(line) for line in
                             (folder / item["url"]).read_text().splitlines()]
    for kind, resources in out.items():  # every resource valid FHIR R4B
        for res in resources:
            get_fhir_model_class(kind).model_validate(res)
    ids = [r["id"] for rs in out.values() for r in rs]
    assert len(ids) == len(set(ids))
    return out


def statuses(data: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, str]]:
    return sorted((o["subject"]["reference"].removeprefix("Patient/"), o["effectiveDateTime"],
                   o["valueCodeableConcept"]["coding"][0]["code"])
                  for o in data["Observation"]
                  if o.get("meta", {}).get("profile") == [MCODE["disease-status"]])


def test_omop_has_a_recurrence_episode_dated_by_the_scan(registry: Repository,
                                                        tmp_path: Path) -> None:
    """A1: 32529 distant metastasis on the CT's day. A2: local recurrence on the MRI's
    day; the case's undated recurrence is that one (found before its date free of disease
    again), so nobody is left out for an undated relapse. A3: one episode, on the first
    scan's day (the outcome and the second CT record the same metastasis)."""
    rows, ex = omop(registry, tmp_path / "om")
    assert rows == [("A1", "2024-03-15", "distant_metastasis"),
                    ("A2", "2024-05-01", "local_recurrence"),
                    ("A3", "2024-02-01", "distant_metastasis")]
    assert ex.left_out == {}


def test_fhir_has_a_worsened_status_on_the_scans_day(registry: Repository,
                                                     tmp_path: Path) -> None:
    """A1: worsened on 2024-03-15. A2: in full remission on 2024-01-01, then worsened on
    2024-05-01 (its latest status is no longer remission). A3: worsened on the scan's
    day, 2024-02-01, beside the outcome's 2024-02-20; the CT of 2024-06-01 saw the same
    metastasis again: no third status."""
    assert statuses(fhir(registry, tmp_path / "fh")) == [
        ("A1", "2024-03-15", WORSENED),
        ("A2", "2024-01-01", REMISSION), ("A2", "2024-05-01", WORSENED),
        ("A3", "2024-02-01", WORSENED), ("A3", "2024-02-20", WORSENED)]


def test_rfs_counts_the_same_relapses_on_the_same_days(registry: Repository) -> None:
    """Recurrence-free survival from the resection (2023-01-10) to the scans' days:
    A1 430 days (to 2024-03-15), A2 477 days (to 2024-05-01), A3 387 days (to
    2024-02-01): three events, the exports' three episodes."""
    r = survival_report(registry, Endpoint.rfs, Grouping.risk, ON, min_cell=1)
    (high,) = r.curves
    assert (high.n, high.events) == (3, 3)
    assert high.times == (0.0, 387 / YEAR, 430 / YEAR, 477 / YEAR)  # (from 0)


def test_pseudonymised_exports_round_the_scans_date(registry: Repository,
                                                    tmp_path: Path) -> None:
    """With the network's secret and month precision: OMOP's episode on the first day of
    the scan's month (2024-03-01 for A1's CT of 2024-03-15), FHIR's status on the month
    (2024-03), the patient known by its pseudonym only."""
    secret = b"network-secret-of-32-bytes-long!"
    rows, _ex = omop(registry, tmp_path / "om", secret=secret, month_precision=True)
    assert ("A1", "2024-03-01", "distant_metastasis") in rows
    data = fhir(registry, tmp_path / "fh", secret=secret, month_precision=True)
    assert (pseudonym("A1", secret), "2024-03", WORSENED) in statuses(data)
    assert "A1" not in {p["id"] for p in data["Patient"]}


class TestTheRule:
    """recorded_relapses with scans, case by case."""

    def test_a_scan_before_the_resection_is_no_recurrence(self) -> None:
        """Disease seen before the resection (2023-01-10) was there at presentation."""
        case = parse_case(resected_high_risk())
        assert recorded_relapses(case, [], [ScanData(dt.date(2023, 1, 5), "chest_ct",
                                                     "metastasis")]) == ()

    def test_a_scan_without_disease_is_no_relapse(self) -> None:
        case = parse_case(resected_high_risk())
        assert recorded_relapses(case, [], [
            ScanData(dt.date(2024, 1, 5), "chest_ct", "equivocal"),
            ScanData(dt.date(2024, 2, 5), "chest_ct", "no_evidence_of_disease")]) == ()

    def test_a_metastasis_after_the_date_free_of_disease_is_another(self) -> None:
        """Case recurrent, free of disease again since 2024-07-01: a CT finding a
        metastasis on 2024-03-01 is the relapse the case records (it dates it); one on
        2024-09-01 is a new relapse. Both counted, each found at a scheduled scan."""
        case = parse_case(variant(resected_high_risk(), **{
            "stage.status": "recurrent", "stage.local_recurrence": "no",
            "free_of_disease": {"since": "2024-07-01", "by": "surgery"}}))
        got = recorded_relapses(case, [], [
            ScanData(dt.date(2024, 3, 1), "chest_ct", "metastasis"),
            ScanData(dt.date(2024, 9, 1), "chest_ct", "metastasis")])
        assert got == (
            RecordedRelapse("distant_metastasis", dt.date(2024, 3, 1), "scheduled_scan",
                            scan_on=dt.date(2024, 3, 1)),
            RecordedRelapse("distant_metastasis", dt.date(2024, 9, 1), "scheduled_scan",
                            scan_on=dt.date(2024, 9, 1)))
