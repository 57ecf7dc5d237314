"""What is done meanwhile while a localized tumour waits on its resection specimen.

MISS-RESECTION-SPECIMEN is asked by the risk group when the features recorded give a low
risk, and by the pathology categories whenever a tumour not resected leaves their range
open, whatever the risk group. Its "meanwhile" said "The risk is shown as low,
provisional on the resection specimen" for every case, so a tumour with its size and
necrosis unknown, shown as risk indeterminate (I1: high-risk surveillance meanwhile), was
told beside it that the risk was shown as low (reported for a hysterectomy recorded
not-done). The text now holds for every risk shown: a low risk is provisional on the
specimen, an indeterminate or high one stands as shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 7)


def _assess(**histology: Any) -> Assessment:
    """A 4 cm uterine PEComa, localized, nodes negative, its hysterectomy not done: the
    features were read on a biopsy."""
    features = {"necrosis": "absent", "infiltrative_growth": "absent",
                "high_nuclear_grade_and_cellularity": "absent",
                "vascular_invasion": "absent",
                "nuclear_pleomorphism_or_giant_cells": "absent",
                "mitoses_per_50_hpf": 0, **histology}
    return assess(parse_case({
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-03-18",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "uterus", "size": {"value": 4, "unit": "cm"}},
        "histology": features,
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "desmin": "negative",
                                 "tfe3": "negative"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "not_performed"},
    }), ON)


def _meanwhile(a: Assessment) -> str:
    return next(m.meanwhile for m in a.missing if m.id == "MISS-RESECTION-SPECIMEN")


def test_beside_an_indeterminate_risk_it_does_not_say_low() -> None:
    """Necrosis unknown: the risk is indeterminate (I1), so the text must not say the
    risk is shown as low; it says an indeterminate risk stands as shown."""
    a = _assess(necrosis="unknown")
    assert a.risk.group == "indeterminate"
    said = _meanwhile(a)
    assert "risk is shown as low, provisional" not in said
    assert "indeterminate or high stands as shown" in said


def test_beside_a_low_risk_it_says_low_is_provisional() -> None:
    """Every feature recorded absent: the risk is low, provisional on the specimen (the
    risk item waits on it), and the text says so."""
    a = _assess()
    assert a.risk.group == "low"
    assert "MISS-RESECTION-SPECIMEN" in a.risk.item.conditional_on
    assert "shown as low provisional on the resection specimen" in _meanwhile(a)
