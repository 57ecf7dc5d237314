"""Advice for a relapsed patient who is free of disease again.

The recorded facts say no disease is detectable since ``free_of_disease.since``: advice to
start first-line systemic treatment or to resect metastases that were already removed
does not follow from those facts (I8). The treatment pathway reads the derived fact
``free_of_disease`` (``engine/facts.py``); more cases in ``test_disease_states.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pecoma import assess, parse_case_json

SCENARIO = Path(__file__).resolve().parent / "scenarios" / "relapse-free-after-metastasectomy"


def test_no_treatment_of_present_disease_once_free_of_disease() -> None:
    """Metastasectomy done 2026-09-01, free of disease since: neither 'start an mTOR
    inhibitor' (S12, for present advanced disease) nor 'resect the lung metastases'
    (S16, already done) is advised as if the disease were still there."""
    case = parse_case_json((SCENARIO / "case.json").read_text(encoding="utf-8"))
    ids = set(assess(case, dt.date(2026, 11, 28)).record_ids())
    assert not ids & {"REC-MTOR-FIRST-LINE", "REC-LUNG-METASTASECTOMY", "SUPP-NAB-SIROLIMUS"}
