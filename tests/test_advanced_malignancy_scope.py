"""The guideline's systemic treatment of advanced disease is stated for advanced
*malignant* PEComa (S12, S13, S15; S14 in the same section). Whether the tumour counts as
malignant is decided once, as for the S27 alert (I9): a malignant pathology category,
recurrence, metastasis or nodal spread. Advanced disease not shown malignant gets the
mTOR inhibitor as the sarcoma team's to consider, never as the treatment of choice; a
category that a missing fact could make malignant keeps the advice, provisional on that
fact (I25)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 1, 15)

#: The reported case: 4 cm retroperitoneal, none of the four high-risk features, no
#: mitoses, no vascular invasion, nodes negative; resected R2, the residue recorded as
#: not resectable. Folpe 2005: benign.
R2_BENIGN: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 4, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent",
                  "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent",
                  "mitoses_per_50_hpf": 0},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive",
                             "tfe3": "negative"},
    "stage": {"status": "locally_advanced_unresectable", "lymph_nodes": "negative",
              "resectable": "no"},
    "surgery": {"status": "performed", "date": "2025-03-10", "margin": "R2"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}

NOT_SHOWN = "REC-MTOR-MALIGNANCY-NOT-SHOWN"
FIRST_LINE = "REC-MTOR-FIRST-LINE"


def _variant(**changes: dict[str, Any]) -> dict[str, Any]:
    case = copy.deepcopy(R2_BENIGN)
    for section, values in changes.items():
        case[section].update(values)
    return case


def _assess(case: dict[str, Any]) -> Assessment:
    return assess(parse_case(case), ON)


def _item(a: Assessment, record: str) -> Item:
    [item] = [r for r in a.recommendations if r.id == record]
    return item


def _ids(a: Assessment) -> set[str]:
    return {r.id for r in a.recommendations}


def _facts(item: Item) -> dict[str, str]:
    return {f.path: f.value for f in item.triggered_by}


class TestNotShownMalignant:
    """Advanced disease that the facts give at most benign or uncertain malignant
    potential: S12 is not stated as the treatment of choice."""

    def test_r2_residue_not_resectable_folpe_benign(self) -> None:
        """The reported case: the S27 alert already says benign or UMP (I9); the
        systemic item must not drop S12's 'malignant' (it said 'treatment of choice' and
        showed nab-sirolimus with no condition)."""
        a = _assess(R2_BENIGN)
        assert FIRST_LINE not in _ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in _ids(a)  # approved for malignant PEComa
        item = _item(a, NOT_SHOWN)
        assert item.strength != "treatment of choice"
        assert "consider" in item.strength
        assert "S12" in item.provenance.statements
        assert {"I9", "I25"} <= set(item.provenance.interpretations)
        facts = _facts(item)
        assert facts["classification.folpe_2005"] == "benign"
        assert facts["derived.malignancy"].startswith("not shown")
        assert "malignant PEComa" in item.text
        # the alert and the systemic item now rest on the same premise
        assert "ALERT-GROSS-RESIDUAL-UNCERTAIN-BEHAVIOUR" in {x.id for x in a.alerts}

    def test_localized_recorded_not_resectable_never_operated(self) -> None:
        """c55: localized, recorded not resectable, not operated: derived locally advanced
        (I6). Folpe is open up to malignant only because the features were read without a
        resection specimen (I6), which is no evidence of malignancy (I25)."""
        case = _variant(stage={"status": "localized"})
        case["surgery"] = {"status": "not_performed"}
        a = _assess(case)
        assert FIRST_LINE not in _ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in _ids(a)
        facts = _facts(_item(a, NOT_SHOWN))
        assert facts["classification.folpe_2005"] == "benign to malignant"
        assert facts["derived.disease_status"] == "locally_advanced_unresectable"

    @pytest.mark.parametrize(("why", "changes", "category"), [
        ("a high-risk size alone: Folpe uncertain malignant potential, not malignant (I9)",
         {"tumour": {"size": {"value": 7, "unit": "cm"}}}, "uncertain malignant potential"),
        ("pleomorphism alone: Folpe uncertain malignant potential",
         {"histology": {"nuclear_pleomorphism_or_giant_cells": "present"}},
         "uncertain malignant potential"),
        ("mitoses unknown, nothing else worrisome: at most uncertain malignant potential, "
         "so the count cannot make it malignant and is no reason to keep S12",
         {"histology": {"mitoses_per_50_hpf": None}}, "benign to uncertain malignant potential"),
    ])
    def test_class_of_not_malignant_categories(self, why: str, changes: dict[str, Any],
                                               category: str) -> None:
        a = _assess(_variant(**changes))
        assert FIRST_LINE not in _ids(a), why
        item = _item(a, NOT_SHOWN)
        assert _facts(item)["classification.folpe_2005"] == category, why
        assert not {"MISS-MITOSES"} & set(item.conditional_on), why

    def test_uterine_bennett_ump_chemotherapy_names_the_condition(self) -> None:
        """mTOR inhibitors contraindicated, uterine primary classed benign (Folpe) and UMP
        (Bennett): S14 and S15 are options to consider already; they keep that force, never
        more, and name that malignancy is not shown (S15 is stated for malignant uterine
        PEComa)."""
        a = _assess(_variant(tumour={"primary_site": "uterus"},
                             systemic={"mtor_inhibitor_contraindicated": "yes"}))
        for record, strength in (("REC-ANTHRACYCLINE", "can be considered"),
                                 ("REC-UTERINE-EPI-IFO", "option")):
            item = _item(a, record)
            assert item.strength == strength
            assert _facts(item)["derived.malignancy"].startswith("not shown"), record
            assert "I25" in item.provenance.interpretations, record


class TestMalignantKeepsForce:
    """Where the facts make the tumour count as malignant (I9), the guideline's advice
    stands as given: treatment of choice, nab-sirolimus beside it, no I25 condition."""

    @pytest.mark.parametrize(("why", "changes"), [
        ("Folpe malignant: necrosis and infiltrative growth (two worrisome features)",
         {"histology": {"necrosis": "present", "infiltrative_growth": "present"}}),
        ("Folpe malignant: size over 5 cm and 3 mitoses per 50 HPF",
         {"tumour": {"size": {"value": 7, "unit": "cm"}},
          "histology": {"mitoses_per_50_hpf": 3}}),
        ("nodal spread is evidence of malignancy whatever Folpe says (I9)",
         {"stage": {"lymph_nodes": "positive"}}),
    ])
    def test_treatment_of_choice(self, why: str, changes: dict[str, Any]) -> None:
        a = _assess(_variant(**changes))
        assert NOT_SHOWN not in _ids(a), why
        item = _item(a, FIRST_LINE)
        assert item.strength == "treatment of choice", why
        assert "I25" not in item.provenance.interpretations, why
        assert "derived.malignancy" not in _facts(item), why
        assert item.conditional_on == (), why
        assert "SUPP-NAB-SIROLIMUS" in _ids(a), why


class TestMalignancyOpenOnMissingFacts:
    """A category a missing fact could make malignant: the safer branch, S12 as the
    guideline gives it, provisional on that fact, which is asked (I25)."""

    @pytest.mark.parametrize(("why", "changes", "asked"), [
        ("mitoses and vascular invasion unknown: Folpe benign to malignant",
         {"histology": {"mitoses_per_50_hpf": None, "vascular_invasion": "unknown"}},
         {"MISS-MITOSES", "MISS-VASCULAR-INVASION"}),
        ("size over 5 cm, mitoses unknown: Folpe uncertain malignant potential to malignant",
         {"tumour": {"size": {"value": 7, "unit": "cm"}},
          "histology": {"mitoses_per_50_hpf": None}}, {"MISS-MITOSES"}),
    ])
    def test_provisional_on_the_missing_facts(self, why: str, changes: dict[str, Any],
                                              asked: set[str]) -> None:
        a = _assess(_variant(**changes))
        assert NOT_SHOWN not in _ids(a), why
        for record in (FIRST_LINE, "SUPP-NAB-SIROLIMUS"):
            item = _item(a, record)
            assert asked <= set(item.conditional_on), (why, record)
            assert "I25" in item.provenance.interpretations, (why, record)
        assert _item(a, FIRST_LINE).strength == "treatment of choice"
        missing = {m.id: m for m in a.missing}
        for m in asked:
            assert FIRST_LINE in missing[m].affects, (why, m)
