"""A worklist row put on the high-risk schedule only because a fact is missing names why
and asks for the fact, as the patient's plan does.

A 3 cm kidney PEComa without any of the four high-risk features is low risk (S05-S09),
followed yearly after the first years (I3). Without its nodal status it is followed on
the high-risk schedule meanwhile (I10, FU-NODES-UNKNOWN-LOW-RISK, asking MISS-NODES);
without its mitotic count and vascular invasion, while the Folpe classification may be
malignant, likewise (I14, FU-MAY-BE-MALIGNANT-LOW-RISK, asking MISS-MITOSES and
MISS-VASCULAR-INVASION). Getting the fact is the coordinator's job and would halve the
patient's scans: the row says so, with the question, on every surface of the worklist.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.registry.service import record_case
from pecoma.registry.worklist import (
    WorkItem,
    apply_routine,
    build_worklist,
    evaluate,
    routine_facts,
    stored_worklist,
    to_csv,
    to_json,
)
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import db_url, repo

__all__ = ["db_url", "repo"]

DAY = dt.date(2025, 6, 15)
NODES_Q = "Are regional lymph nodes involved?"
MITOSES_Q = "What is the mitotic count per 50 HPF?"
VASCULAR_Q = "Is there (lympho)vascular invasion?"


def small_kidney(**histology: Any) -> dict[str, Any]:
    """3 cm kidney PEComa, none of the four high-risk features, resected R0."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-05"},
        "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 0, **histology},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "desmin": "positive"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": "2025-02-01", "margin": "R0"},
    }


@pytest.fixture
def registry(repo: Repository) -> Repository:
    nodes = small_kidney()
    nodes["stage"] = {"status": "localized"}
    open_class = small_kidney()
    del open_class["histology"]["vascular_invasion"], open_class["histology"][
        "mitoses_per_50_hpf"]
    not_assessed = small_kidney()
    not_assessed["stage"] = {"status": "localized", "lymph_nodes": "not_assessed"}
    for rid, case in (("PEC-0031", nodes), ("PEC-0032", open_class),
                      ("PEC-0033", small_kidney()), ("PEC-0034", not_assessed)):
        record_case(repo, rid, case, on_date=dt.date(2025, 3, 15),
                    settings=default_settings(), actor="registrar", source="test")
    return repo


def rows(repo: Repository) -> dict[str, WorkItem]:
    s = default_settings()
    stored = stored_worklist(repo, DAY, s)
    assert stored == apply_routine(build_worklist(
        evaluate(repo.states(as_of=DAY), DAY, s), DAY), routine_facts(repo, DAY))
    return {i.registry_id: i for i in stored}


class TestWorklistRow:
    def test_nodal_status_not_recorded(self, registry: Repository) -> None:
        """I10: the row names the schedule's reason and its source, and asks for the
        nodal status, as a warning."""
        row = rows(registry)["PEC-0031"]
        assert (row.risk_group, row.phase) == ("low", "high-intensive")
        assert "Nodal status not recorded: high-risk surveillance meanwhile" in row.reason
        assert row.provenance is not None and "I10" in row.provenance
        assert [(a.id, a.title, a.level) for a in row.alerts] == [
            ("FU-NODES-UNKNOWN-LOW-RISK",
             "Nodal status not recorded: high-risk surveillance meanwhile", "warning"),
            ("MISS-NODES", NODES_Q, "warning")]

    def test_classification_open_on_missing_facts(self, registry: Repository) -> None:
        """I14: may be malignant by the Folpe classification while the mitotic count and
        vascular invasion are not recorded."""
        row = rows(registry)["PEC-0032"]
        assert row.phase == "high-intensive"
        assert "May be malignant by classification" in row.reason
        assert row.provenance is not None and "I14" in row.provenance
        ids = [a.id for a in row.alerts]
        assert ids[0] == "FU-MAY-BE-MALIGNANT-LOW-RISK"
        assert {"MISS-MITOSES", "MISS-VASCULAR-INVASION"} <= set(ids)
        titles = {a.title for a in row.alerts}
        assert {MITOSES_Q, VASCULAR_Q} <= titles
        assert {a.level for a in row.alerts} == {"warning"}

    def test_nodes_not_assessed(self, registry: Repository) -> None:
        """I10: nodes recorded as not assessed keep the low-risk schedule, provisional on
        them (FU-NODES-NOT-ASSESSED, asking MISS-NODES): positive nodes would put the
        patient on the high-risk schedule. The row had shown the low-risk visit with no
        alert, as if the schedule were settled; docs/surveillance.md says such a schedule
        is not kept silently. The row names the reason and its source and asks for the
        nodes, as warnings (the schedule itself is the low-risk one)."""
        row = rows(registry)["PEC-0034"]
        assert (row.risk_group, row.phase) == ("low", "low-frequent")
        assert ("Lymph nodes not assessed: the low-risk schedule, provisional on them"
                in row.reason)
        assert row.provenance is not None and "I10" in row.provenance
        assert [(a.id, a.title, a.level) for a in row.alerts] == [
            ("FU-NODES-NOT-ASSESSED",
             "Lymph nodes not assessed: the low-risk schedule, provisional on them",
             "warning"),
            ("MISS-NODES", NODES_Q, "warning")]

    def test_a_low_risk_patient_with_every_fact_has_no_warning(self, registry: Repository
                                                               ) -> None:
        row = rows(registry)["PEC-0033"]
        assert (row.phase, row.alerts) == ("low-frequent", ())

    def test_csv_and_json(self, registry: Repository) -> None:
        items = list(rows(registry).values())
        data = json.loads(to_json(items, DAY))["items"]
        (nodes,) = [i for i in data if i["registry_id"] == "PEC-0031"]
        assert {"id": "MISS-NODES", "title": NODES_Q, "level": "warning"} in nodes["alerts"]
        line = next(x for x in to_csv(items).splitlines() if x.startswith("PEC-0031,"))
        assert "I10" in line and "Nodal status not recorded" in line
        line = next(x for x in to_csv(items).splitlines() if x.startswith("PEC-0034,"))
        assert "warning" in line and "MISS-NODES" in line


class TestPages:
    @pytest.fixture
    def client(self, registry: Repository) -> Iterator[TestClient]:
        app = create_app(WebConfig(), today=lambda: DAY)
        app.state.registry = registry
        with TestClient(app, base_url="http://localhost") as c:
            yield c

    def test_worklist_and_patient_page_ask_for_the_fact(self, client: TestClient) -> None:
        def words(html: str) -> str:
            return " ".join(re.sub(r"<[^>]+>", " ", html).split())

        worklist = words(client.get("/registry/worklist").text)
        assert NODES_Q in worklist and MITOSES_Q in worklist
        assert worklist.count(NODES_Q) == 2  # PEC-0031 and PEC-0034 (not assessed)
        page = words(client.get("/registry/patients/PEC-0031").text)
        assert NODES_Q in page
        assert "Nodal status not recorded: high-risk surveillance meanwhile" in page
        assert "I10" in page
