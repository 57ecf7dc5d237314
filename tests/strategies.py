"""Hypothesis strategies for cases: valid ones (built coherent) and raw near-valid dicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from pecoma.case import (
    Agent,
    DiagnosisMethod,
    DiseaseStatus,
    Feature,
    IHCResult,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    Response,
    SurgeryStatus,
    YesNo,
)

ON = dt.date(2026, 11, 28)
FEATURES = ("necrosis", "infiltrative_growth", "high_nuclear_grade_and_cellularity",
            "vascular_invasion", "nuclear_pleomorphism_or_giant_cells")
MARKERS = ("hmb45", "melan_a", "mitf", "cathepsin_k", "sma", "desmin", "h_caldesmon", "tfe3")


def _values(enum: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([e.value for e in enum])


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def case_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A coherent case as a JSON-like dict; every fact may be left out (unknown)."""
    diagnosed = draw(st.dates(dt.date(2010, 1, 1), dt.date(2026, 6, 1)))
    status = draw(_values(DiseaseStatus))
    data: dict[str, Any] = {
        "diagnosis": {
            "method": draw(_values(DiagnosisMethod)),
            "date": diagnosed.isoformat(),
            "prior_diagnosis": draw(_values(PriorDiagnosis)),
        },
        "tumour": {"primary_site": draw(_values(PrimarySite))},
        "histology": {f: draw(_values(Feature)) for f in FEATURES
                      if draw(st.booleans())},
        "immunohistochemistry": {m: draw(_values(IHCResult)) for m in MARKERS
                                 if draw(st.booleans())},
        "stage": {"status": status, "lymph_nodes": draw(_values(NodeStatus))},
    }
    if draw(st.booleans()):
        unit = draw(st.sampled_from(["cm", "mm"]))
        top = 100.0 if unit == "cm" else 1000.0
        data["tumour"]["size"] = {
            "value": draw(st.floats(0.1, top, allow_nan=False).map(lambda x: round(x, 1))),
            "unit": unit,
        }
    mitoses = draw(_maybe(st.integers(0, 60)))
    if mitoses is not None:
        data["histology"]["mitoses_per_50_hpf"] = mitoses
    surgery_status = draw(_values(SurgeryStatus))
    surgery: dict[str, Any] = {"status": surgery_status}
    operated = diagnosed + dt.timedelta(days=draw(st.integers(0, 120)))
    if surgery_status == SurgeryStatus.performed.value:
        surgery["margin"] = draw(_values(Margin))
        if draw(st.booleans()):
            surgery["date"] = operated.isoformat()
    data["surgery"] = surgery
    anchor = operated if "date" in surgery else None
    if status != DiseaseStatus.localized.value:
        for key in ("resectable", "complete_excision_feasible"):
            data["stage"][key] = draw(_values(YesNo))
        if status == DiseaseStatus.locally_advanced_unresectable.value:
            data["stage"]["resectable"] = draw(st.sampled_from(["no", "unknown"]))
    if status in (DiseaseStatus.metastatic.value, DiseaseStatus.recurrent.value):
        mets = []
        for _ in range(draw(st.integers(0, 3))):
            met: dict[str, Any] = {"site": draw(_values(MetastasisSite))}
            if draw(st.booleans()):
                found = diagnosed + dt.timedelta(days=draw(st.integers(0, 3000)))
                met["detected_on"] = min(found, ON).isoformat()
            elif anchor is None and draw(st.booleans()):
                met["timing"] = draw(st.sampled_from(["synchronous", "metachronous"]))
            mets.append(met)
        data["stage"]["metastases"] = mets
        if not any(m["site"] != "lung" for m in mets):
            data["stage"]["extrapulmonary_disease"] = draw(_values(YesNo))
        if draw(st.booleans()) and not any("detected_on" in m for m in mets):
            data["stage"]["disease_free_interval_months"] = draw(st.integers(0, 120))
    therapies = []
    for line in range(1, draw(st.integers(0, 3)) + 1):
        therapies.append({
            "agent": draw(_values(Agent)),
            "line": line,
            "best_response": draw(_values(Response)),
            "progressed": draw(st.sampled_from(["yes", "unknown"])),
        })
    data["systemic"] = {
        "mtor_inhibitor_available": draw(_values(YesNo)),
        "mtor_inhibitor_contraindicated": draw(_values(YesNo)),
        "therapies": therapies,
    }
    return data
