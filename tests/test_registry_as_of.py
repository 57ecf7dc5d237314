"""A view of the registry as of a past day reads the case version current on that day.

Each case version is dated by the day it was recorded on (the evaluation date of its
first assessment: the day the import, the case form or ``add-case`` was run as of), as a
scan is dated by the day it was done and an outcome by the day it happened. The
worklist, the summary, the re-assessment and the patient's page of a day read the
latest version recorded on or before it; a patient whose first version was recorded
later is not in them. So a month-end figure re-run for an audit gives what it gave, and
a relapse the registry held on that day keeps the patient suspended at the top of the
list, whatever version is recorded later (S17, S27).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.registry.outcomes import record_outcome
from pecoma.registry.reassess import reassess
from pecoma.registry.service import record_case, record_scan, withdraw_entry
from pecoma.registry.worklist import (
    DISEASE_NOT_IN_CASE,
    WorkItem,
    WorkStatus,
    apply_routine,
    build_worklist,
    evaluate,
    routine_facts,
    stored_worklist,
)
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.repository import states
from pecoma.store.repository.base import current_versions
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from cli_support import run_cli
from registry_support import db_url, repo, variant

__all__ = ["db_url", "repo"]

DAY = dt.date(2024, 2, 1)
"""The month-end the coordinator looks at again later."""


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


def metastasectomy() -> dict[str, Any]:
    """The same patient after the lung metastasis found on 2024-01-15 was removed: free
    of disease again from 2024-03-01 (I8)."""
    return variant(resected_high_risk(), **{
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": "2024-01-15"}],
                  "extrapulmonary_disease": "no", "resectable": "yes",
                  "complete_excision_feasible": "yes"},
        "free_of_disease": {"since": "2024-03-01", "by": "surgery"},
    })


def add(repo: Repository, rid: str, case: dict[str, Any], on: str) -> None:
    record_case(repo, rid, case, on_date=dt.date.fromisoformat(on),
                settings=default_settings(), actor="registrar", source="test")


def worklists(repo: Repository, day: dt.date = DAY) -> tuple[list[WorkItem], list[WorkItem]]:
    """The worklist of ``day`` from the stored states, and recomputed."""
    s = default_settings()
    recomputed = apply_routine(build_worklist(evaluate(repo.states(as_of=day), day, s), day),
                               routine_facts(repo, day))
    return stored_worklist(repo, day, s), recomputed


@pytest.fixture
def registry(repo: Repository) -> Repository:
    """Z1: high risk, its lung metastasis recorded as an outcome (2024-01-20), then a
    case version recording its removal (2024-03-05). Z2: high risk, corrected on
    2024-03-05 to a 3 cm tumour without necrosis (low risk), every date of the new
    version on or before the month-end. Z3: first recorded on 2024-06-01."""
    add(repo, "Z1", resected_high_risk(), "2023-02-01")
    add(repo, "Z2", resected_high_risk(), "2023-02-01")
    record_outcome(repo, "Z1", "distant_metastasis", "2024-01-15", found_by="symptoms",
                   on_date=dt.date(2024, 1, 20), actor="registrar")
    return repo


def later_versions(repo: Repository) -> None:
    add(repo, "Z1", metastasectomy(), "2024-03-05")
    add(repo, "Z2", variant(resected_high_risk(), **{
        "tumour.size.value": 3, "histology.necrosis": "absent"}), "2024-03-05")
    add(repo, "Z3", resected_high_risk(), "2024-06-01")


class TestWorklist:
    def test_a_later_version_does_not_change_the_worklist_of_an_earlier_day(
        self, registry: Repository
    ) -> None:
        """On 2024-02-01 the registry held Z1's untreated metastasis: suspended, with
        the critical alert, at the top (S17, S27), never 'not evaluable' because the
        version recorded on 2024-03-05 says free of disease from 2024-03-01. Z2 was high
        risk then (S05-S09): the correction recorded later is not read, though every
        date in it is before the day (its stored state must not be used for that day).
        Z3 was not in the registry yet."""
        before = worklists(registry)
        later_versions(registry)
        stored, recomputed = worklists(registry)
        assert stored == recomputed == before[0] == before[1]
        first = stored[0]
        assert (first.registry_id, first.status) == ("Z1", WorkStatus.suspended)
        assert [(a.id, a.level) for a in first.alerts] == [(DISEASE_NOT_IN_CASE, "critical")]
        assert "distant metastasis recorded on 2024-01-15" in first.reason
        assert {i.registry_id: i.risk_group for i in stored} == {"Z1": "high", "Z2": "high"}

    def test_on_and_after_the_day_a_version_is_recorded_it_is_read(
        self, registry: Repository
    ) -> None:
        """From 2024-03-05 Z1's case records the metastasis treated: no longer suspended
        (its visits count from 2024-03-01, I8); Z2 is low risk; Z3 is listed from
        2024-06-01."""
        later_versions(registry)
        for day, z3 in ((dt.date(2024, 3, 5), False), (dt.date(2024, 6, 1), True)):
            stored, recomputed = worklists(registry, day)
            assert stored == recomputed, day
            rows = {i.registry_id: i for i in stored}
            assert rows["Z1"].status is not WorkStatus.suspended
            assert not rows["Z1"].alerts
            assert rows["Z2"].risk_group == "low"
            assert ("Z3" in rows) is z3


    def test_a_version_recorded_while_the_worklist_is_read_is_not_read_for_an_earlier_day(
        self, registry: Repository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The stored worklist of a day no version is recorded after reads each patient's
        latest version, without the rule per version. Another clerk records Z1's
        metastasectomy and Z2's correction (2024-03-05) after that check and before the
        read: the worklist of 2024-02-01 must still be that day's, Z1 suspended with the
        critical alert (S17, S27) and Z2 high risk, never the versions recorded later."""
        before, _ = worklists(registry)
        rule = current_versions
        raced: list[bool] = []

        def recorded_meanwhile(on_date: Any = None) -> Any:
            if not raced:
                raced.append(True)
                later_versions(registry)
            return rule(on_date)

        monkeypatch.setattr(states, "current_versions", recorded_meanwhile)
        stored = stored_worklist(registry, DAY, default_settings())
        assert raced
        assert stored == before
        assert {i.registry_id: i.risk_group for i in stored} == {"Z1": "high", "Z2": "high"}
        assert stored[0].status is WorkStatus.suspended


class TestWithdrawnEntries:
    def test_an_entry_withdrawn_is_left_out_of_the_view_of_an_earlier_day(
        self, registry: Repository
    ) -> None:
        """Both rules at once: as of 2024-02-01 the view reads the case versions current
        then AND leaves out the scans and outcomes withdrawn as entered in error since.
        Z1's metastasis outcome and Z2's chest CT of 2024-01-20 that 'found' a
        metastasis were typed into the wrong records: withdrawn, neither suspends its
        patient on that day (no relapse left to act on, S17, S27), while each patient
        is still read as the high-risk case recorded then (S05-S09), the later versions
        unread."""
        sid = record_scan(registry, "Z2", "2024-01-20", "chest_ct", "metastasis",
                          on_date=dt.date(2024, 1, 20), actor="radiology")
        assert {i.registry_id: i.status for i in worklists(registry)[0]} == {
            "Z1": WorkStatus.suspended, "Z2": WorkStatus.suspended}
        later_versions(registry)
        timeline = registry.timeline("Z1")
        assert timeline is not None
        (oid,) = [o.id for o in timeline.outcomes]
        for rid, kind, entry in (("Z1", "outcome", oid), ("Z2", "scan", sid)):
            withdraw_entry(registry, rid, kind, entry, "entered for the wrong patient",
                           on_date=dt.date(2024, 6, 1), actor="coordinator",
                           settings=default_settings())
        stored, recomputed = worklists(registry)
        assert stored == recomputed
        rows = {i.registry_id: i for i in stored}
        assert set(rows) == {"Z1", "Z2"}
        for row in rows.values():
            assert row.status is not WorkStatus.suspended, row
            assert not row.alerts
            assert row.risk_group == "high"
            assert row.last_scan is None


class TestReassess:
    def test_reassessing_an_earlier_day_reads_the_version_current_then(
        self, registry: Repository
    ) -> None:
        """Nobody is 'not evaluable' on a date of a version recorded later; Z3 is not
        re-assessed; and nothing is stored of a version replaced since (it would become
        the patient's latest assessment), nor its worklist state."""
        later_versions(registry)
        count = registry.count()["assessment"]
        latest = {st.registry_id: st.latest for st in registry.states()}
        report = reassess(registry, DAY, default_settings(), "registrar")
        assert report.not_evaluable == []
        assert report.patients == 2
        assert registry.count()["assessment"] == count
        assert {st.registry_id: st.latest for st in registry.states()} == latest
        assert worklists(registry, dt.date(2024, 6, 1))[0] == worklists(
            registry, dt.date(2024, 6, 1))[1]


class TestCommandLineAndWeb:
    def test_summary_of_an_earlier_day_is_the_same_when_run_again(
        self, registry: Repository, db_url: str
    ) -> None:
        """The month-end summary re-run after the later versions: the same figures."""
        def summary() -> dict[str, Any]:
            r = run_cli("registry", "summary", "--on", DAY.isoformat(), "--format", "json",
                        "--database-url", db_url)
            assert r.returncode == 0, r.stderr
            data: dict[str, Any] = json.loads(r.stdout)
            return data

        before = summary()
        later_versions(registry)
        after = summary()
        assert after == before
        assert after["patients"] == 2
        assert after["by_risk_group"] == {"high": 2}
        assert after["by_worklist_status"].get("suspended") == 1
        assert "not_evaluable" not in after["by_worklist_status"]

    @pytest.fixture
    def client(self, registry: Repository) -> Iterator[TestClient]:
        later_versions(registry)
        app = create_app(WebConfig(), today=lambda: dt.date(2024, 7, 1))
        app.state.registry = registry
        with TestClient(app, base_url="http://localhost") as c:
            yield c

    def test_the_pages_of_an_earlier_day(self, client: TestClient) -> None:
        """The worklist download and Z1's page as of 2024-02-01: suspended with the
        critical alert; Z3 is not listed."""
        rows = client.get(f"/registry/worklist.csv?on={DAY.isoformat()}").text.splitlines()
        assert [r.split(",")[:2] for r in rows[1:]] == [["Z1", "suspended"], ["Z2", "overdue"]]
        page = client.get(f"/registry/patients/Z1?on={DAY.isoformat()}").text
        assert "Relapse recorded as an outcome, but the case holds none" in page
        assert "cannot be assessed" not in page
        assert client.get(
            f"/registry/patients/Z3/plan.ics?on={DAY.isoformat()}").status_code == 404
