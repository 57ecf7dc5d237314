"""Treatment waits on a diagnosis confirmed on tissue (S24, S25, I11), and the missing
fact that says so is true to what the engine does.

Each missing fact of ``DIAGNOSIS_CONDITIONS`` says, as its 'meanwhile', that every
treatment recommendation is shown conditional on it: when it is reported, that holds; and
a marker whose result is unknown is no result, so it confirms nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings

from conftest import examples
from pecoma import InputError, assess, parse_case
from pecoma.engine.collect import DIAGNOSIS_CONDITIONS, TREATMENT_SECTIONS
from pecoma.engine.model import Assessment

from strategies import ON, case_dicts

PANEL = {"hmb45": "positive", "melan_a": "positive", "sma": "positive"}
MTOR_OK = {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"}


def case(method: str, ihc: dict[str, str], **over: Any) -> dict[str, Any]:
    """A 7 cm soft-tissue tumour resected R1 in 2026-10 (localized) unless ``over``
    says otherwise: some 8 weeks before the evaluation date, when re-excision (S03) and
    adjuvant radiotherapy (S10) are decided, so both are shown as the advice of the weeks
    after the operation (more than 6 months after it they are decisions to confirm, I30)."""
    data: dict[str, Any] = {
        "diagnosis": {"method": method, "date": "2026-09-20", "prior_diagnosis": "none"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 7, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent"},
        "immunohistochemistry": ihc,
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": "2026-10-01", "margin": "R1"},
        "systemic": dict(MTOR_OK),
    }
    data.update(over)
    return data


METASTATIC = {
    "stage": {"status": "metastatic", "lymph_nodes": "negative", "resectable": "no",
              "metastases": [{"site": "liver", "detected_on": "2026-09-25"}]},
    "surgery": {"status": "not_performed"},
}


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def treatment(a: Assessment) -> list[Any]:
    return [i for i in a.recommendations if i.section in TREATMENT_SECTIONS]


def missing(a: Assessment) -> dict[str, Any]:
    return {m.id: m for m in a.missing}


class TestMethodNotRecorded:
    def test_a_recorded_panel_answers_the_question(self) -> None:
        """HMB-45, Melan-A and SMA results can only come from tissue: the diagnosis was
        made on histology with immunohistochemistry, whatever the method field leaves
        blank (S24 is met). Re-excision and radiotherapy are not provisional on it, and
        the method is not asked with a 'meanwhile' (every treatment conditional) that
        would not be true."""
        a = run(case("unknown", dict(PANEL)))
        assert "MISS-DIAGNOSIS-METHOD" not in missing(a)
        for rid in ("REC-RERESECTION", "REC-ADJ-RADIOTHERAPY"):
            rec = next(i for i in a.recommendations if i.id == rid)
            assert rec.conditional_on == (), rid

    def test_a_panel_showing_no_melanocytic_marker_asks_that_not_the_method(self) -> None:
        a = run(case("unknown", {"hmb45": "negative", "melan_a": "negative",
                                 "sma": "positive"}))
        assert "MISS-DIAGNOSIS-METHOD" not in missing(a)
        assert "MISS-MELANOCYTIC-EVIDENCE" in missing(a)

    def test_without_a_panel_every_treatment_waits_on_the_method(self) -> None:
        """No panel recorded either: the diagnosis may have been made on imaging alone,
        so, as its 'meanwhile' says, every treatment recommendation is conditional."""
        a = run(case("unknown", {}))
        miss = missing(a)["MISS-DIAGNOSIS-METHOD"]
        recs = treatment(a)
        assert {"REC-RERESECTION", "REC-ADJ-RADIOTHERAPY"} <= {r.id for r in recs}
        for rec in recs:
            assert "MISS-DIAGNOSIS-METHOD" in rec.conditional_on, rec.id
            assert rec.id in miss.affects, rec.id
        assert "every treatment recommendation" in miss.meanwhile


class TestMarkersNotRecorded:
    """'Histology with immunohistochemistry' and no marker result: nothing confirms the
    PEComa, and the mTOR inhibitor is PEComa-specific advice (S24, S25, I11)."""

    def test_every_marker_absent_makes_treatment_provisional(self) -> None:
        a = run(case("histology_with_ihc", {}, **METASTATIC))
        mtor = next(i for i in a.recommendations if i.id == "REC-MTOR-FIRST-LINE")
        assert "MISS-IHC-CONFIRMATION" in mtor.conditional_on
        assert "REC-MTOR-FIRST-LINE" in missing(a)["MISS-IHC-CONFIRMATION"].affects
        assert "ALERT-IHC-INCOMPLETE" in a.record_ids()

    def test_every_marker_unknown_is_no_result(self) -> None:
        unknown = {m: "unknown" for m in ("hmb45", "melan_a", "mitf", "sma", "desmin")}
        a = run(case("histology_with_ihc", unknown, **METASTATIC))
        for rec in treatment(a):
            assert "MISS-IHC-CONFIRMATION" in rec.conditional_on, rec.id

    def test_smooth_muscle_marker_alone_confirms_nothing(self) -> None:
        a = run(case("histology_with_ihc", {"sma": "positive"}, **METASTATIC))
        assert "MISS-IHC-CONFIRMATION" in missing(a)

    def test_a_positive_melanocytic_marker_with_the_panel_incomplete(self) -> None:
        """HMB-45 positive on tissue: melanocytic differentiation shown; the incomplete
        panel is flagged (S24), the advice is not held back."""
        a = run(case("histology_with_ihc", {"hmb45": "positive"}, **METASTATIC))
        assert not DIAGNOSIS_CONDITIONS & set(missing(a))
        assert "ALERT-IHC-INCOMPLETE" in a.record_ids()


@settings(max_examples=examples(150), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case_dicts())
def test_a_diagnosis_condition_reported_holds_every_treatment(data: dict[str, Any]) -> None:
    """Whatever the case, a diagnosis condition reported (its 'meanwhile': every
    treatment recommendation conditional on it) makes every treatment recommendation
    conditional on it, and names each among what it affects."""
    try:
        c = parse_case(copy.deepcopy(data))
    except InputError:
        return
    a = assess(c, ON)
    for mid in DIAGNOSIS_CONDITIONS & set(missing(a)):
        affects = missing(a)[mid].affects
        for rec in treatment(a):
            assert mid in rec.conditional_on, (mid, rec.id)
            assert rec.id in affects, (mid, rec.id)
