"""The reason given for high-risk surveillance of a tumour not yet resected.

A localized PEComa with none of the four high-risk features, every criterion of the
pathology classification recorded (mitoses 0, vascular invasion absent), whose resection
is planned or whose surgery status is not recorded: the features were read on a biopsy
or imaging, which cannot show a feature absent from the whole tumour (I6), so Folpe 2005
stays open up to malignant and surveillance follows the high-risk schedule meanwhile
(I14). The reason shown had said the classification was open on "the mitotic count,
vascular invasion", both recorded: the real reason is that the tumour is not resected
yet (or that the record does not say), and what settles it is the resection specimen or
the surgery status. A tumour resected with the mitotic count or vascular invasion
unknown keeps the reason naming them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case, plan_surveillance
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 6, 1)
NOT_RESECTED = "FU-MAY-BE-MALIGNANT-NOT-RESECTED"
OPEN_ON_CRITERIA = "FU-MAY-BE-MALIGNANT-LOW-RISK"

FEATURES_ABSENT = {"necrosis": "absent", "infiltrative_growth": "absent",
                   "high_nuclear_grade_and_cellularity": "absent",
                   "vascular_invasion": "absent",
                   "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0}


def _case(surgery: dict[str, Any], site: str = "liver", **histology: Any) -> dict[str, Any]:
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2026-01-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": site, "size": {"value": 4, "unit": "cm"}},
        "histology": {**FEATURES_ABSENT, **histology},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "desmin": "negative",
                                 "tfe3": "negative", "cathepsin_k": "positive",
                                 "mitf": "positive", "h_caldesmon": "not_done"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": surgery,
    }


def _item(a: Assessment, rid: str) -> Item:
    found = [i for i in a.followup if i.id == rid]
    assert found, [i.id for i in a.followup]
    return found[0]


#: (surgery recorded, the missing fact the range waits on)
NOT_YET = [({"status": "planned"}, "MISS-RESECTION-SPECIMEN"),
           ({"status": "unknown"}, "MISS-SURGERY-STATUS")]


@pytest.mark.parametrize(("surgery", "asked"), NOT_YET)
@pytest.mark.parametrize("site", ["liver", "kidney", "soft_tissue"])
def test_the_reason_is_the_resection_still_to_come(
        surgery: dict[str, Any], asked: str, site: str) -> None:
    """High-risk surveillance meanwhile (I14), its reason the resection not done yet or
    not recorded, provisional on that question; never the mitotic count or vascular
    invasion, both recorded."""
    a = assess(parse_case(_case(surgery, site)), ON)
    assert a.risk.surveillance_group == "high"
    assert OPEN_ON_CRITERIA not in {i.id for i in a.followup}
    fu = _item(a, NOT_RESECTED)
    assert fu.conditional_on == (asked,)
    words = f"{fu.title} {fu.text}".lower()
    assert "resect" in words
    assert "mitotic count" not in words and "vascular invasion" not in words
    assert {"I6", "I14"} <= set(fu.provenance.interpretations)
    assert {"S27", "S18"} <= set(fu.provenance.statements)


@pytest.mark.parametrize(("surgery", "asked"), NOT_YET)
def test_the_dated_plan_names_the_same_reason(surgery: dict[str, Any], asked: str) -> None:
    """The surveillance plan's reason for the high-risk schedule is the same record."""
    case = parse_case(_case(surgery))
    plan = plan_surveillance(case, assess(case, ON), ON, ())
    reasons = {r.id: r for r in plan.reasons}
    assert NOT_RESECTED in reasons and OPEN_ON_CRITERIA not in reasons


@pytest.mark.parametrize("site", ["liver", "kidney", "soft_tissue"])
def test_resected_with_the_criteria_unknown_keeps_the_criteria_reason(site: str) -> None:
    """The other situation: resected R0, the mitotic count and vascular invasion unknown:
    Folpe is open from benign to malignant on those criteria, and the reason names them."""
    surgery = {"status": "performed", "date": "2026-01-20", "margin": "R0"}
    a = assess(parse_case(_case(surgery, site, mitoses_per_50_hpf=None,
                                vascular_invasion="unknown")), ON)
    fu = _item(a, OPEN_ON_CRITERIA)
    assert NOT_RESECTED not in {i.id for i in a.followup}
    assert "mitotic count" in fu.text
    assert not {"MISS-RESECTION-SPECIMEN", "MISS-SURGERY-STATUS"} & set(fu.conditional_on)
