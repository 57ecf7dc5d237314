"""A relapse counts from either source, an outcome or a case version, in every figure and
export that counts relapses: survival (an RFS event), the surveillance quality (the
recurrences by how they were found) and the OMOP export (a 32529 disease recurrence
episode). One rule serves them: :func:`pecoma.registry.routine.recorded_relapses`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import parse_case
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.routine import RecordedRelapse, recorded_relapses
from pecoma.registry.service import record_case, record_scan
from pecoma.settings import default_settings
from pecoma.store import Repository

from cli_support import run_cli
from registry_support import db_url, metastatic, repo, variant

__all__ = ["db_url", "repo"]

ON = "2024-07-01"


def resected_high_risk() -> dict[str, Any]:
    """8 cm soft-tissue PEComa with necrosis, resected R0 on 2023-01-10: high risk."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2023-01-01"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent", "mitoses_per_50_hpf": 0},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": "2023-01-10", "margin": "R0"},
    }


def liver_metastasis() -> dict[str, Any]:
    """The same patient with an unresectable liver metastasis found on 2024-06-01."""
    return variant(resected_high_risk(), stage={
        "status": "metastatic", "lymph_nodes": "negative",
        "metastases": [{"site": "liver", "detected_on": "2024-06-01"}],
        "extrapulmonary_disease": "yes", "resectable": "no"})


def add(repo: Repository, rid: str, case: dict[str, Any], on: str) -> None:
    record_case(repo, rid, case, on_date=dt.date.fromisoformat(on),
                settings=default_settings(), actor="registrar", source="test")


@pytest.fixture
def registry(repo: Repository) -> Repository:
    """Z1: its lung metastasis recorded as an outcome (found by symptoms). Z2: scanned
    clear on 2023-04-10, then a case version records a liver metastasis found on
    2024-06-01, and no outcome. M1: metastatic at presentation, never resected: its
    metastasis is the first occurrence, no recurrence."""
    add(repo, "Z1", resected_high_risk(), "2023-02-01")
    add(repo, "Z2", resected_high_risk(), "2023-02-01")
    for modality in ("chest_ct", "mri_primary"):
        record_scan(repo, "Z2", "2023-04-10", modality, "no_evidence_of_disease",
                    on_date=dt.date(2023, 4, 10), actor="radiology")
    record_outcome(repo, "Z1", "distant_metastasis", "2024-01-15", found_by="symptoms",
                   on_date=dt.date(2024, 1, 20), actor="registrar")
    add(repo, "Z2", liver_metastasis(), "2024-06-10")
    add(repo, "M1", metastatic(None), "2025-06-01")
    return repo


def cli(db_url: str, *args: str) -> str:
    r = run_cli("registry", *args, "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    return r.stdout


class TestEverySourceCounts:
    def test_omop_has_a_recurrence_episode_for_the_case_versions_metastasis(
        self, registry: Repository, db_url: str, tmp_path: Path
    ) -> None:
        """Z2's liver metastasis, recorded only in its case version, is a 32529 disease
        recurrence episode dated 2024-06-01, as Z1's recorded as an outcome is; M1's
        metastasis at presentation is none (its first occurrence)."""
        demo = tmp_path / "demo.csv"
        demo.write_text("registry_id,sex,year_of_birth\nZ1,female,1970\nZ2,male,1965\n"
                        "M1,female,1960\n", encoding="utf-8")
        cli(db_url, "export-omop", str(tmp_path / "om"), "--demographics", str(demo),
            "--on", "2025-07-01")
        with (tmp_path / "om" / "episode.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        persons = {"1": "M1", "2": "Z1", "3": "Z2"}  # in registry-id order
        recurrences = sorted((persons[r["person_id"]], r["episode_start_date"],
                              r["episode_source_value"])
                             for r in rows if r["episode_concept_id"] == "32529")
        assert recurrences == [("Z1", "2024-01-15", "distant_metastasis"),
                               ("Z2", "2024-06-01", "distant_metastasis")]

    def test_quality_counts_it_under_not_recorded(self, registry: Repository,
                                                  db_url: str) -> None:
        """How Z2's metastasis was found is not recorded: it counts there, beside Z1's
        found by symptoms; RFS counts both as events."""
        quality = json.loads(cli(db_url, "quality", "--on", ON, "--min-cell", "1",
                                 "--format", "json"))
        assert quality["surveillance"]["recurrences_by_how_found"] == {
            "symptoms": 1, "not_recorded": 1}
        survival = json.loads(cli(db_url, "survival", "--on", ON, "--min-cell", "1",
                                  "--format", "json"))
        assert [(g["group"], g["n"], g["events"]) for g in survival["groups"]] == [
            ("high", 2, 2)]


class TestTheRule:
    """recorded_relapses, case by case."""

    def outcome(self, event: str, day: str, found_by: str | None = None) -> Any:
        from pecoma.store.repository import OutcomeData

        return OutcomeData(event, dt.date.fromisoformat(day), found_by=found_by)

    def test_an_outcome_recording_the_case_relapse_counts_once(self) -> None:
        """The case with disease present holds every relapse recorded as an outcome:
        the outcome is that relapse, counted once, found the way it records."""
        got = recorded_relapses(parse_case(liver_metastasis()),
                                [self.outcome("distant_metastasis", "2024-06-01", "symptoms")])
        assert got == (RecordedRelapse("distant_metastasis", dt.date(2024, 6, 1), "symptoms"),)

    def test_a_relapse_after_the_date_free_of_disease_is_another(self) -> None:
        """A recurrence recorded after the case's date free of disease again is a new
        one: both count (I8)."""
        case = variant(liver_metastasis(), **{
            "stage.resectable": "yes", "stage.extrapulmonary_disease": "no",
            "stage.complete_excision_feasible": "yes",
            "stage.metastases": [{"site": "lung", "detected_on": "2024-06-01"}],
            "free_of_disease": {"since": "2024-07-01", "by": "surgery"}})
        got = recorded_relapses(parse_case(case),
                                [self.outcome("local_recurrence", "2025-01-10")])
        assert [(r.event, r.on, r.from_case) for r in got] == [
            ("distant_metastasis", dt.date(2024, 6, 1), True),
            ("local_recurrence", dt.date(2025, 1, 10), False)]

    def test_disease_at_presentation_is_no_recurrence(self) -> None:
        assert recorded_relapses(parse_case(metastatic(None)), []) == ()


class TestTheLabelDoesNotDecide:
    """Two resected high-risk patients relapse with one liver metastasis found on
    2024-06-01, recorded in a case version: one labelled ``metastatic``, the other
    ``recurrent`` (a recurrence of the resected tumour), the metastasis listed and dated
    alike. The advice and the worklist read both as metastatic (I6); the relapse of the
    ``recurrent`` one had been taken as undated: left out of RFS ("relapse recorded in the
    case without a date") and without an OMOP recurrence episode. The same relapse counts
    the same whatever the label."""

    @pytest.fixture
    def labelled(self, repo: Repository) -> Repository:
        for rid in ("Z3", "Z4"):
            add(repo, rid, resected_high_risk(), "2023-02-01")
        add(repo, "Z3", liver_metastasis(), "2024-06-10")
        add(repo, "Z4", variant(liver_metastasis(), **{"stage.status": "recurrent"}),
            "2024-06-10")
        return repo

    def test_rfs_counts_both_on_the_metastasis_date(self, labelled: Repository,
                                                    db_url: str) -> None:
        survival = json.loads(cli(db_url, "survival", "--endpoint", "rfs", "--on", ON,
                                  "--min-cell", "1", "--format", "json"))
        assert [(g["group"], g["n"], g["events"]) for g in survival["groups"]] == [
            ("high", 2, 2)]
        assert not survival.get("excluded")

    def test_omop_has_a_recurrence_episode_for_each(self, labelled: Repository,
                                                    db_url: str, tmp_path: Path) -> None:
        demo = tmp_path / "demo.csv"
        demo.write_text("registry_id,sex,year_of_birth\nZ3,female,1970\nZ4,female,1970\n",
                        encoding="utf-8")
        cli(db_url, "export-omop", str(tmp_path / "om"), "--demographics", str(demo),
            "--on", "2025-07-01")
        with (tmp_path / "om" / "episode.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert sorted((r["person_id"], r["episode_start_date"], r["episode_source_value"])
                      for r in rows if r["episode_concept_id"] == "32529") == [
            ("1", "2024-06-01", "distant_metastasis"),
            ("2", "2024-06-01", "distant_metastasis")]

    def test_the_summary_counts_the_status_the_worklist_shows(
            self, labelled: Repository, db_url: str) -> None:
        """The summary had counted the labels (metastatic 1, recurrent 1) while the
        worklist showed both metastatic: it counts the status the advice follows."""
        summary = json.loads(cli(db_url, "summary", "--on", ON, "--format", "json"))
        assert summary["by_disease_status"] == {"metastatic": 2}
        worklist = json.loads(cli(db_url, "worklist", "--on", ON, "--format", "json"))
        rows = worklist["items"] if isinstance(worklist, dict) else worklist
        assert sorted(r["disease_status"] for r in rows) == ["metastatic", "metastatic"]

    def test_the_rule(self) -> None:
        """Recurrent with metastases listed is a metastatic relapse, dated by the first
        metastasis when every one is dated; recurrent with none listed (a local
        recurrence) stays undated."""
        from pecoma.registry.routine import case_relapse

        d = dt.date(2024, 6, 1)
        got = case_relapse("recurrent", [d], None)
        assert got is not None and (got.status, got.on) == ("metastatic", d)
        local = case_relapse("recurrent", [], None)
        assert local is not None and (local.status, local.on) == ("recurrent", None)
        both = recorded_relapses(parse_case(variant(liver_metastasis(),
                                                    **{"stage.status": "recurrent"})), [])
        assert [(r.event, r.on) for r in both] == [("distant_metastasis", d)]
