"""A localized PEComa whose surgery is recorded as planned for a day the evaluation date
has passed: a stale record (the operation was likely done, moved or dropped). It is
asked, the day shown among the facts, the operation taken as not done meanwhile (the
tumour in place, its removal advised, no surveillance calendar), never refused: the
evaluation date moves, and a case valid the day before stays valid."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.engine.schedule import plan_surveillance
from pecoma.registry.service import record_case
from pecoma.registry.worklist import build_worklist, evaluate
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web import WebConfig, create_app

from registry_support import db_url, repo

__all__ = ["db_url", "repo"]

ASKED = "MISS-PLANNED-OPERATION-PASSED"
ON = dt.date(2025, 6, 1)

#: Soft-tissue PEComa, 8 cm, with necrosis: high risk; an operation planned for
#: 2023-02-14, the record never updated (28 months before the evaluation date).
CASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-02-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present",
                  "nuclear_pleomorphism_or_giant_cells": "present",
                  "mitoses_per_50_hpf": 4},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                             "sma": "positive", "tfe3": "negative"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "planned", "date": "2023-02-14"},
}


def test_a_planned_day_passed_is_asked_and_shown() -> None:
    """28 months after the planned day the operation was most likely done (or dropped):
    had the record not been updated, a resected patient would get no surveillance and
    nobody would be told. The question names the day; the resection advice and the
    absence of a calendar are provisional on it, and the day is among their facts."""
    a = assess(parse_case(CASE), ON)
    asked = {m.id: m for m in a.missing}
    assert ASKED in asked
    assert "the operation planned for 2023-02-14" in asked[ASKED].question
    by_id = {i.id: i for i in (*a.recommendations, *a.followup)}
    # meanwhile the safer branch: the tumour is taken as in place, its removal advised
    # (S01, S03), no calendar counted from a day that may have removed nothing (I20)
    for rid in ("REC-RESECTION", "REC-REFER-SURGERY", "FU-NO-PLAN-PRIMARY-IN-PLACE"):
        assert ASKED in by_id[rid].conditional_on, rid
        assert ("surgery.date", "2023-02-14, planned, passed") in {
            (f.path, str(f.value)) for f in by_id[rid].triggered_by}, rid
    assert set(asked[ASKED].affects) == {"REC-RESECTION", "REC-REFER-SURGERY",
                                         "FU-NO-PLAN-PRIMARY-IN-PLACE"}
    plan = plan_surveillance(parse_case(CASE), a, ON, (), default_settings())
    assert plan.status == "not_drawn" and plan.visits == ()
    assert ASKED in plan.reasons[-1].conditional_on


def test_before_and_on_the_planned_day_nothing_is_asked() -> None:
    """The same record evaluated before the operation's day (or on it) is a plan still
    to come: nothing to ask, and the case is never refused as the date moves."""
    for on in (dt.date(2023, 2, 10), dt.date(2023, 2, 14)):
        a = assess(parse_case(CASE), on)
        assert ASKED not in {m.id for m in a.missing}, on
        resection = next(i for i in a.recommendations if i.id == "REC-RESECTION")
        assert resection.conditional_on == (), on


def test_free_of_disease_names_the_planned_day_in_its_own_question() -> None:
    """Metastatic PEComa, primary never operated on, free of disease since 2025-06-01 by
    nab-sirolimus, its operation recorded as planned for 2025-03-01: whether it was done
    since is asked by MISS-OPERATION-PLANNED-WHILE-FREE, whose question now names the
    planned day (the output had dropped it); one question, not two."""
    from test_primary_never_removed_after_clearance import CLEARED
    case = copy.deepcopy(CLEARED)
    case["surgery"] = {"status": "planned", "date": "2025-03-01"}
    a = assess(parse_case(case), dt.date(2026, 12, 7))
    asked = {m.id: m for m in a.missing}
    assert ASKED not in asked
    assert ("the operation planned for 2025-03-01"
            in asked["MISS-OPERATION-PLANNED-WHILE-FREE"].question)


def test_the_worklist_row_and_the_web_report_ask_it(repo: Repository) -> None:
    """The registry's worklist and the web report read the engine's output: the row of
    this patient carries the question beside its 'no calendar' reason, and the report
    shows the question and the planned day."""
    s = default_settings()
    record_case(repo, "P-01", CASE, on_date=dt.date(2023, 2, 2), settings=s,
                actor="clinic", source="test")
    rows = build_worklist(evaluate(repo.states(as_of=ON), ON, s), ON)
    row = next(r for r in rows if r.registry_id == "P-01")
    assert row.record == "FU-NO-PLAN-PRIMARY-IN-PLACE"
    assert ASKED in {alert.id for alert in row.alerts}

    client = TestClient(create_app(WebConfig(), today=lambda: ON),
                        raise_server_exceptions=False, base_url="http://localhost")
    r = client.post("/report.json", data={"case": parse_case(CASE).model_dump_json(),
                                          "on": ON.isoformat(), "imaging": ""})
    assert r.status_code == 200
    missing = {m["id"]: m for m in r.json()["assessment"]["missing"]}
    assert "the operation planned for 2023-02-14" in missing[ASKED]["question"]


#: The same stale planned day outside localized disease, as the stage section of each
#: case; the primary otherwise as in CASE (2023-02-14, passed on ON).
_ADVANCED_STAGES: dict[str, dict[str, Any]] = {
    "recurrent": {"status": "recurrent", "lymph_nodes": "negative",
                  "local_recurrence": "yes", "extrapulmonary_disease": "yes",
                  "resectable": "yes"},
    "metastatic": {"status": "metastatic", "lymph_nodes": "negative",
                   "metastases": [{"site": "lung", "detected_on": "2023-01-20",
                                   "timing": "synchronous"}],
                   "extrapulmonary_disease": "no", "resectable": "yes",
                   "complete_excision_feasible": "yes"},
    "locally advanced": {"status": "locally_advanced_unresectable",
                         "lymph_nodes": "negative", "resectable": "no"},
}


def test_outside_localized_disease_every_item_the_question_affects_is_provisional() -> None:
    """Locally advanced, recurrent or metastatic disease with the operation's day passed:
    the operation may have removed the disease the advice rests on, so its removal, the
    treatment of the disease left and the reason no calendar is drawn are shown
    provisional on the question, as for localized disease, and the question names
    exactly those items (a report keyed on either must show the same). Items the answer
    does not change (the trial referral, the schedule's description) stay firm."""
    systemic = {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no",
                "anthracycline_contraindicated": "no"}
    must = {
        # removal of every focus (S19) and the surgeon's referral; postoperative and
        # systemic treatment of the disease left (reassessed once it is operated)
        "recurrent": {"REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY", "FU-AFTER-RELAPSE"},
        "metastatic": {"REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY", "REC-ADJ-NODES-METS",
                       "REC-MTOR-FIRST-LINE", "FU-AFTER-RELAPSE"},
        # unresectable disease: the systemic treatment and the reason no calendar is
        # drawn while the tumour is present
        "locally advanced": {"REC-MTOR-FIRST-LINE", "FU-NO-PLAN-ACTIVE-DISEASE"},
    }
    for stage, section in _ADVANCED_STAGES.items():
        case = copy.deepcopy(CASE)
        case["stage"] = section
        case["systemic"] = systemic
        a = assess(parse_case(case), ON)
        asked = {m.id: m for m in a.missing}
        assert ASKED in asked, stage
        items = (*a.recommendations, *a.alerts, *a.followup)
        provisional = {i.id for i in items if ASKED in i.conditional_on}
        assert set(asked[ASKED].affects) == provisional, stage
        assert must[stage] <= provisional, (stage, provisional)
        assert not provisional & {"REC-REFER-TRIALS", "FU-HIGH-INTENSIVE",
                                  "ALERT-LONG-TERM-FOLLOW-UP"}, stage
