"""Molecular facts (TSC1/TSC2, TFE3 fusion): published experience shown as supplementary
items with full references; the test asked for only where it would change what is shown;
the guideline's recommendations never change."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma import assess, parse_case
from pecoma.case import FusionStatus, VariantStatus
from pecoma.engine.model import Assessment

from strategies import ON, case_dicts

ADVANCED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 12, "unit": "cm"}},
    "stage": {"status": "locally_advanced_unresectable", "lymph_nodes": "negative"},
    "surgery": {"status": "not_performed"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}


def run(data: dict[str, Any], **molecular: str) -> Assessment:
    data = copy.deepcopy(data)
    if molecular:
        data["molecular"] = molecular
    return assess(parse_case(data), ON)


def ids(a: Assessment) -> set[str]:
    return set(a.record_ids())


def item(a: Assessment, rid: str) -> Any:
    return next(i for i in a.items() if i.id == rid)


class TestShown:
    def test_tsc2_pathogenic_shows_responder_evidence_with_references(self) -> None:
        a = run(ADVANCED, tsc2="pathogenic")
        supp = item(a, "SUPP-TSC-ALTERED")
        assert supp.provenance.kind == "supplementary"
        citations = " ".join(s.citation for s in supp.provenance.sources)
        assert "J Clin Oncol. 2021" in citations and "Int J Cancer. 2013" in citations
        assert "MISS-MOLECULAR" not in ids(a)

    def test_tfe3_fusion_shows_it_may_respond_less(self) -> None:
        a = run(ADVANCED, tfe3_fusion="present")
        supp = item(a, "SUPP-TFE3-FUSION")
        assert supp.provenance.kind == "supplementary"
        citations = " ".join(s.citation for s in supp.provenance.sources)
        assert "Am J Surg Pathol. 2010" in citations and "Am J Surg Pathol. 2015" in citations

    def test_after_progression_on_an_mtor_inhibitor_the_alert_urges_no_rechallenge(
        self,
    ) -> None:
        """After progression on nab-sirolimus the guideline names no next line
        (REC-NO-NEXT-LINE): the TSC2 alert beside that advice had said it "supports the
        guideline's choice of an mTOR inhibitor", a choice not made there, readable as an
        argument to give the class again. Its words now hold beside either advice: support
        where an mTOR inhibitor is the advice, and no reason to give one again after
        progression on one."""
        data = copy.deepcopy(ADVANCED)
        data["systemic"]["therapies"] = [{
            "agent": "nab_sirolimus", "line": 1, "setting": "advanced",
            "started_on": "2024-01-10", "ended_on": "2025-03-01",
            "best_response": "partial", "progressed": "yes"}]
        a = run(data, tsc2="pathogenic")
        assert "REC-NO-NEXT-LINE" in ids(a) and "REC-MTOR-FIRST-LINE" not in ids(a)
        text = " ".join(item(a, "SUPP-TSC-ALTERED").text.split())
        assert "guideline's choice of an mTOR inhibitor" not in text
        assert "after progression on an mTOR inhibitor it is no reason to give one again" \
            in text

    def test_vus_is_not_an_alteration(self) -> None:
        assert "SUPP-TSC-ALTERED" not in ids(run(ADVANCED, tsc2="vus"))


class TestAskedOnlyWhereItChangesWhatIsShown:
    def test_asked_when_an_mtor_inhibitor_is_being_decided(self) -> None:
        a = run(ADVANCED)
        miss = next(m for m in a.missing if m.id == "MISS-MOLECULAR")
        assert set(miss.affects) == {"SUPP-TSC-ALTERED", "SUPP-TFE3-FUSION"}
        assert miss.provenance.kind == "supplementary"

    def test_not_asked_for_localized_disease(self) -> None:
        data = copy.deepcopy(ADVANCED)
        data["stage"] = {"status": "localized", "lymph_nodes": "negative"}
        assert "MISS-MOLECULAR" not in ids(run(data))

    def test_not_asked_when_mtor_inhibitors_cannot_be_used(self) -> None:
        data = copy.deepcopy(ADVANCED)
        data["systemic"]["mtor_inhibitor_available"] = "no"
        assert "MISS-MOLECULAR" not in ids(run(data))

    def test_not_asked_when_every_test_has_a_result(self) -> None:
        a = run(ADVANCED, tsc1="wild_type", tsc2="wild_type", tfe3_fusion="absent")
        assert "MISS-MOLECULAR" not in ids(a)
        assert not {"SUPP-TSC-ALTERED", "SUPP-TFE3-FUSION"} & ids(a)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case_dicts(),
    st.sampled_from(list(VariantStatus)),
    st.sampled_from(list(VariantStatus)),
    st.sampled_from(list(FusionStatus)),
)
def test_molecular_facts_never_change_the_guideline_recommendations(
    data: dict[str, Any], tsc1: VariantStatus, tsc2: VariantStatus, fusion: FusionStatus
) -> None:
    """Guideline recommendations, their order and conditions are the same whatever the
    molecular results; only supplementary items and the missing-fact question differ."""
    plain = copy.deepcopy(data)
    plain.pop("molecular", None)
    base = assess(parse_case(plain), ON)
    tested = run(plain, tsc1=tsc1.value, tsc2=tsc2.value, tfe3_fusion=fusion.value)

    def guideline(a: Assessment) -> list[tuple[str, tuple[str, ...]]]:
        return [
            (i.id, i.conditional_on) for i in a.recommendations
            if i.provenance.kind == "guideline"
        ]

    assert guideline(tested) == guideline(base)
    assert tested.risk.group == base.risk.group


class TestEntry:
    """Users can enter the molecular facts: web form and registry columns."""

    def test_web_form_reads_the_molecular_fields(self) -> None:
        from pecoma.web import form_layout, forms

        result = forms.form_to_case({
            "on": "2026-11-28", "tumour.primary_site": "kidney",
            "stage.status": "metastatic", "molecular.tsc2": "pathogenic",
            "molecular.tfe3_fusion": "absent",
        })
        assert result.case is not None, result.errors
        assert result.case.molecular.tsc2 is VariantStatus.pathogenic
        assert result.case.molecular.tfe3_fusion is FusionStatus.absent
        assert result.case.molecular.tsc1 is VariantStatus.unknown
        for name in ("molecular.tsc1", "molecular.tsc2", "molecular.tfe3_fusion"):
            assert name in form_layout.CONTROLS

    def test_web_form_rejects_an_unknown_value_naming_the_field(self) -> None:
        from pecoma.web import forms

        result = forms.form_to_case({
            "on": "2026-11-28", "tumour.primary_site": "kidney",
            "stage.status": "metastatic", "molecular.tsc2": "positive",
        })
        assert result.case is None
        assert "molecular.tsc2" in result.errors

    def test_registry_columns_hold_the_molecular_fields(self) -> None:
        from pecoma.registry.columns import COLUMN_NAMES, COLUMNS

        for name in ("molecular.tsc1", "molecular.tsc2", "molecular.tfe3_fusion"):
            assert name in COLUMN_NAMES
        tsc2 = next(c for c in COLUMNS if c.name == "molecular.tsc2")
        assert set(tsc2.allowed) == {v.value for v in VariantStatus}
