"""A malignant primary never resected, with the disease cleared on imaging without
surgery (an mTOR inhibitor's complete response): S27 and S17 (I27).

S27: malignant PEComa not completely resected will recur and metastasise. A primary
resected R1 and cleared since keeps the alert that tumour may have been left at its bed,
because imaging cannot show microscopic tumour gone (I27). A primary never removed is the
fuller case of the same: no resection at all, the tumour seen gone on imaging only. It
gets the same alert, and S17 (attempt removal of the primary and of the metastatic foci
whenever possible) is raised for the sarcoma team to consider, with the guideline's force
kept ("consider": no disease is seen, so nothing is to be removed as a matter of course).
Every expected outcome below is written by hand, with its clinical reason.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from pecoma import assess, load_knowledge, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 7)
CONSIDER = "REC-PRIMARY-SITE-AFTER-CLEARANCE"

#: Retroperitoneal PEComa 11 cm with necrosis, infiltrative growth, high grade, vascular
#: invasion, 8 mitoses/50 HPF (Folpe malignant); liver and lung metastases at
#: presentation; the primary never operated on; nab-sirolimus first line, complete
#: response; free of disease since 2025-06-01 by systemic therapy.
CLEARED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-04-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 11, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present",
                  "nuclear_pleomorphism_or_giant_cells": "present",
                  "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "negative",
                             "cathepsin_k": "positive", "sma": "negative",
                             "desmin": "negative", "tfe3": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2024-04-10"},
                             {"site": "lung", "detected_on": "2024-04-10"}],
              "extrapulmonary_disease": "no", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "not_performed"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no",
                 "therapies": [{"agent": "nab_sirolimus", "setting": "advanced", "line": 1,
                                "started_on": "2024-05-01", "best_response": "complete",
                                "progressed": "no"}]},
    "molecular": {"tsc1": "wild_type", "tsc2": "wild_type", "tfe3_fusion": "present"},
    "free_of_disease": {"since": "2025-06-01", "by": "systemic_therapy"},
}


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def with_surgery(**surgery: Any) -> dict[str, Any]:
    data = copy.deepcopy(CLEARED)
    data["surgery"] = surgery
    return data


def find(a: Assessment, record_id: str) -> Item | None:
    return next((i for i in a.items() if i.id == record_id), None)


def test_never_removed_gets_the_s27_alert() -> None:
    """Malignant (Folpe malignant, metastatic), the primary never removed, cleared on
    imaging only: the critical S27 alert, as for an R1-resected primary cleared the same
    way, resting on the primary never removed and the day free of disease (I27)."""
    a = run(CLEARED)
    alert = find(a, "ALERT-INCOMPLETE-RESECTION")
    assert alert is not None
    assert alert.level == "critical"
    facts = {(f.path, f.value) for f in alert.triggered_by}
    assert ("surgery.status", "not_performed") in facts
    assert ("free_of_disease.since", "2025-06-01") in facts
    assert "I27" in alert.provenance.interpretations
    assert "never removed" in alert.text


def test_never_removed_is_not_less_warned_than_r1() -> None:
    """The same patient with the primary resected R1 gets the alert: never resected is
    the worse situation, and gets it too, at the same level."""
    r1 = run(with_surgery(status="performed", date="2024-04-20", margin="R1"))
    never = run(CLEARED)
    r1_alert = find(r1, "ALERT-INCOMPLETE-RESECTION")
    never_alert = find(never, "ALERT-INCOMPLETE-RESECTION")
    assert r1_alert is not None and never_alert is not None
    assert never_alert.level == r1_alert.level


def test_s17_removal_of_the_primary_site_is_raised_to_consider() -> None:
    """S17: attempt removal of the primary and the metastatic foci whenever possible. No
    disease is seen, so it is raised as a consideration for the sarcoma team (force:
    consider, provenance S17, S27), never as an instruction to operate; the disease
    recorded as not resectable (perhaps before the response) is among its facts."""
    a = run(CLEARED)
    rec = find(a, CONSIDER)
    assert rec is not None
    assert rec.strength.startswith("consider")
    assert "S17" in rec.provenance.statements
    assert rec.text.startswith("Consider")
    facts = {(f.path, f.value) for f in rec.triggered_by}
    assert ("surgery.status", "not_performed") in facts
    assert ("stage.resectable", "no") in facts
    # present disease is not claimed: S17's item for present disease stays out
    assert find(a, "REC-AGGRESSIVE-SURGERY") is None


def test_record_keeps_the_guideline_force() -> None:
    rec = load_knowledge().records[CONSIDER]
    assert rec.strength == "consider"
    assert rec.statements[0] == "S17"


def test_resected_r0_primary_gets_neither() -> None:
    """The primary resected R0 before the metastases were cleared: nothing left at its
    bed is suspected (S27 does not apply), and its removal is done: neither item."""
    a = run(with_surgery(status="performed", date="2024-04-20", margin="R0"))
    assert find(a, "ALERT-INCOMPLETE-RESECTION") is None
    assert find(a, CONSIDER) is None


def test_operation_planned_waits_on_whether_it_was_done() -> None:
    """The operation recorded as planned while the patient is free of disease: the
    primary is not removed yet, so the alert shows, provisional on whether the operation
    was done (asked); the removal is already planned, so S17 is not raised again."""
    a = run(with_surgery(status="planned"))
    alert = find(a, "ALERT-INCOMPLETE-RESECTION")
    assert alert is not None
    assert "MISS-OPERATION-PLANNED-WHILE-FREE" in alert.conditional_on
    assert find(a, CONSIDER) is None


def test_surgery_not_recorded_takes_the_never_removed_branch_provisionally() -> None:
    """Whether the primary was ever removed is not recorded (surgery.status unknown) for a
    patient cleared by systemic therapy: unknown is not absent. It may be exactly the
    never-resected case, where imaging cannot show microscopic tumour gone (I27) and
    tumour left will recur (S27), so the safer branch is taken: the S27 alert and S17's
    consideration of removing the primary's site are both shown, each provisional on the
    question whether the tumour was resected (MISS-SURGERY-STATUS), which is asked. Force
    kept: "consider", never an operation due."""
    for status, extra in (("metastatic", {}),
                          ("locally_advanced_unresectable",
                           {"metastases": [], "extrapulmonary_disease": "no"})):
        data = with_surgery(status="unknown")
        data["stage"] = {**data["stage"], "status": status, **extra}
        a = run(data)
        assert "MISS-SURGERY-STATUS" in {m.id for m in a.missing}, status
        alert = find(a, "ALERT-INCOMPLETE-RESECTION")
        assert alert is not None, status
        assert alert.level == "critical"
        assert "MISS-SURGERY-STATUS" in alert.conditional_on
        assert ("surgery.status", "unknown") in {(f.path, f.value)
                                                 for f in alert.triggered_by}
        rec = find(a, CONSIDER)
        assert rec is not None, status
        assert rec.strength.startswith("consider")
        assert "MISS-SURGERY-STATUS" in rec.conditional_on
        assert ("surgery.status", "unknown") in {(f.path, f.value) for f in rec.triggered_by}
        assert find(a, "REC-AGGRESSIVE-SURGERY") is None
