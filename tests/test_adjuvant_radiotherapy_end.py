"""S16's disease-free interval when adjuvant radiotherapy followed the resection of the
primary and its end is not recorded (I5).

The interval runs from the end of curative treatment of the primary, adjuvant treatment
included (I5). A course of adjuvant radiotherapy begins once the wound has healed, 4-8
weeks after the operation (by 6 months it is given or set aside, I30), and runs 5-7
weeks: it ends months after the operation. With its end not recorded, the interval
counted from the operation is only an upper bound, and a lung metastasis found 13 months
after an R1 resection may be found 10 months after the end of the radiotherapy: short of
S16's 12 months. The end is then asked (radiotherapy recorded as given), or whether it
was given and when it ended (not recorded either way), and S16's metastasectomy waits on
the answer. Every expected outcome below is written by hand, with its clinical reason.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 7)
ASKED = "MISS-ADJUVANT-RADIOTHERAPY-END"


def patient(*, radiotherapy: str = "yes", found: str = "2026-03-20",
            **extra: Any) -> dict[str, Any]:
    """A 7 cm soft-tissue PEComa (necrosis, high grade: malignant) resected R1 on
    2025-02-20, adjuvant radiotherapy as ``radiotherapy`` says; one lung metastasis
    found on ``found``, nothing outside the lungs, complete excision feasible."""
    case: dict[str, Any] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-02-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 7, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "present",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 3},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "cathepsin_k": "positive", "sma": "positive",
                                 "desmin": "negative", "tfe3": "negative"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": found}],
                  "extrapulmonary_disease": "no", "resectable": "yes",
                  "complete_excision_feasible": "yes"},
        "surgery": {"status": "performed", "date": "2025-02-20", "margin": "R1",
                    "adjuvant_radiotherapy": radiotherapy},
        "systemic": {"mtor_inhibitor_available": "yes",
                     "mtor_inhibitor_contraindicated": "no"},
    }
    case.update(copy.deepcopy(extra))
    return case


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def lung_item(a: Assessment) -> Item:
    return next(i for i in a.recommendations if i.id.startswith("REC-LUNG-METASTASECTOMY"))


def asked(a: Assessment) -> str | None:
    return next((m.question for m in a.missing if m.id == ASKED), None)


def test_radiotherapy_given_its_end_not_recorded_asks_it() -> None:
    """Radiotherapy given after the R1 resection, the lung metastasis 13 months after the
    operation: counted from the end of the radiotherapy (typically 2-4 months after the
    operation) the interval is about 10 months, short of 12. Not recommended outright:
    provisional on the day the radiotherapy ended, which is asked; the item names the
    radiotherapy as the reason."""
    a = run(patient())
    rec = lung_item(a)
    assert rec.id == "REC-LUNG-METASTASECTOMY-PENDING"
    assert ASKED in rec.conditional_on
    assert ("surgery.adjuvant_radiotherapy", "yes") in {
        (f.path, f.value.split(",")[0]) for f in rec.triggered_by}
    question = asked(a)
    assert question is not None and "recorded as given" in question
    assert "REC-LUNG-METASTASECTOMY" in next(
        m.affects for m in a.missing if m.id == ASKED)


def test_radiotherapy_not_recorded_asks_whether_given_and_when_it_ended() -> None:
    """Whether radiotherapy was given is not recorded (unknown is not absent): after an R1
    resection it commonly is (S10), and then the interval is shorter. Asked whether it
    was given and when it ended; the metastasectomy waits on it."""
    a = run(patient(radiotherapy="unknown"))
    rec = lung_item(a)
    assert rec.id == "REC-LUNG-METASTASECTOMY-PENDING"
    assert ASKED in rec.conditional_on
    question = asked(a)
    assert question is not None and "not recorded either way" in question


def test_no_radiotherapy_the_interval_from_the_operation_decides() -> None:
    """No adjuvant radiotherapy (nor other adjuvant treatment): curative treatment ended
    with the operation, 13 months before the metastasis. All three S16 criteria met:
    recommended, nothing asked about radiotherapy."""
    a = run(patient(radiotherapy="no"))
    assert lung_item(a).id == "REC-LUNG-METASTASECTOMY"
    assert asked(a) is None


def test_end_recorded_ten_months_before_not_met() -> None:
    """The radiotherapy ended on 2025-04-25 (recorded): 10 months to the metastasis,
    short of S16's 12. Not met, and nothing left to ask."""
    a = run(patient(primary_treatment_end="2025-04-25"))
    assert lung_item(a).id == "REC-LUNG-METASTASECTOMY-NOT-MET"
    assert asked(a) is None


def test_end_recorded_a_year_before_met() -> None:
    """The radiotherapy ended on 2025-03-15 (recorded): 12 months to the metastasis.
    Met: recommended, nothing asked."""
    a = run(patient(primary_treatment_end="2025-03-15"))
    assert lung_item(a).id == "REC-LUNG-METASTASECTOMY"
    assert asked(a) is None


def test_short_from_the_operation_not_met_either_way() -> None:
    """The metastasis 10 months after the operation: short of 12 months counted from the
    operation, shorter still from the end of the radiotherapy. Not met, not asked."""
    a = run(patient(found="2025-12-20"))
    assert lung_item(a).id == "REC-LUNG-METASTASECTOMY-NOT-MET"
    assert asked(a) is None


def test_long_after_the_operation_no_course_changes_it() -> None:
    """The metastasis 21 months after the operation: a course of adjuvant radiotherapy
    ends within 8 months of the operation (begun by 6 months, I30, lasting 5-7 weeks), so
    at least 13 months ran from its end. Met whatever the day it ended: recommended,
    nothing asked."""
    for radiotherapy in ("yes", "unknown"):
        a = run(patient(radiotherapy=radiotherapy, found="2026-11-20"))
        assert asked(a) is None, radiotherapy
    a = run(patient(found="2026-11-20"))
    assert lung_item(a).id == "REC-LUNG-METASTASECTOMY"


def test_stated_interval_decides() -> None:
    """The team states the disease-free interval (13 months): it counts from the end of
    curative treatment, which the team knows; it decides S16, nothing asked."""
    data = patient()
    data["stage"]["disease_free_interval_months"] = 13
    a = run(data)
    assert lung_item(a).id == "REC-LUNG-METASTASECTOMY"
    assert asked(a) is None
