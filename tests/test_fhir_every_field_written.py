"""`pecoma fhir from-case` writes every fact of the case, and `to-case` reads each back:
Case -> Bundle -> Case gives the same case (docs/fhir.md, "Writing"). A fact the writer
leaves out is lost without a word on the way back in, and the advice then differs.

Three facts had been left out: gross tumour left by the resection (R2) cleared without a
further resection (``surgery.gross_residue_cleared``, its day and how), every
anthracycline contraindicated (``systemic.anthracycline_contraindicated``) and whether the
size and features recorded are those before systemic therapy
(``tumour.features_before_systemic_therapy``). Each is now a project Observation, and
:func:`test_every_field_of_the_case_is_written` walks the case format's fields so that the
next field added without FHIR support fails here."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from pecoma.case import Case, parse_case
from pecoma.engine import assess
from pecoma.fhir import codes as c
from pecoma.fhir.careplan import validate_resources
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case

ON = dt.date(2026, 12, 7)


def _r2_case(cleared: dict[str, Any] | None) -> dict[str, Any]:
    """Retroperitoneal PEComa, 9 cm, resected on 2021-02-10 leaving gross tumour (R2);
    a lung metastasis found on 2024-09-01."""
    surgery: dict[str, Any] = {"status": "performed", "date": "2021-02-10", "margin": "R2"}
    if cleared is not None:
        surgery["gross_residue_cleared"] = cleared
    return {"diagnosis": {"date": "2021-01-20", "method": "histology_with_ihc"},
            "tumour": {"primary_site": "retroperitoneum", "size": {"value": 9, "unit": "cm"}},
            "stage": {"status": "recurrent", "extrapulmonary_disease": "no",
                      "metastases": [{"site": "lung", "detected_on": "2024-09-01"}]},
            "surgery": surgery}


def _ids(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}


class TestGrossResidueCleared:
    @pytest.mark.parametrize("cleared", [
        {"date": "2021-08-01", "by": "radiotherapy"},
        {"date": "2021-08-01", "by": "ablation"},
        {"date": "2021-08-01", "by": "systemic_therapy"},
        {"by": "other"},
        {"date": "2021-08-01"},
        {},
    ], ids=["radiotherapy", "ablation", "systemic", "undated-other", "how-unknown",
            "neither-known"])
    def test_comes_back_as_it_was_written(self, cleared: dict[str, Any]) -> None:
        """The clearance comes back with its day and how, each as recorded; recorded with
        neither known it still comes back (cleared, day and means not recorded), not as
        no clearance."""
        written = parse_case(_r2_case(cleared))
        bundle = bundle_from_case(written)
        validate_resources(bundle)
        back = case_from_bundle(bundle, on=ON, validate="full").case
        assert back.surgery.gross_residue_cleared is not None
        assert back.surgery.gross_residue_cleared == written.surgery.gross_residue_cleared
        assert back == written

    def test_the_interval_counts_from_the_day_it_was_cleared(self) -> None:
        """Cleared by radiotherapy on 2021-08-01: the patient is free of disease from that
        day, the end of curative treatment of the primary (I5), S16's interval counting
        from it, not from the operation on 2021-02-10 (which had been read back: the
        clearance lost, the interval six months too long)."""
        written = parse_case(_r2_case({"date": "2021-08-01", "by": "radiotherapy"}))
        back = case_from_bundle(bundle_from_case(written), on=ON).case
        assert back.treatment_end == dt.date(2021, 8, 1)

    def test_written_as_the_project_observation(self) -> None:
        """One Observation pecoma#gross-residue-cleared: how it was cleared as its coded
        value, the day it was seen cleared as its effective time."""
        written = parse_case(_r2_case({"date": "2021-08-01", "by": "systemic_therapy"}))
        obs = _ids(bundle_from_case(written))["gross-residue-cleared"]
        assert obs["code"]["coding"][0] == {
            "system": c.PECOMA_SYSTEM, "code": "gross-residue-cleared",
            "display": c.OBS_GROSS_RESIDUE_CLEARED[1]}
        assert obs["valueCodeableConcept"]["coding"][0]["code"] == "systemic-therapy"
        assert obs["effectiveDateTime"] == "2021-08-01"

    def test_none_recorded_writes_none(self) -> None:
        """No clearance recorded: no Observation (never one saying it was not cleared),
        and none read back."""
        written = parse_case(_r2_case(None))
        bundle = bundle_from_case(written)
        assert "gross-residue-cleared" not in _ids(bundle)
        assert case_from_bundle(bundle, on=ON).case.surgery.gross_residue_cleared is None

    def test_a_means_not_of_the_project_is_refused_naming_it(self) -> None:
        """A coded value pecoma has no meaning for is refused, naming the element, the
        value and the codes allowed: never read as some means of clearance."""
        from pecoma.errors import InputError

        bundle = bundle_from_case(parse_case(_r2_case({"date": "2021-08-01",
                                                       "by": "radiotherapy"})))
        obs = _ids(bundle)["gross-residue-cleared"]
        obs["valueCodeableConcept"] = {"coding": [{"system": c.PECOMA_SYSTEM,
                                                   "code": "surgery"}]}
        with pytest.raises(InputError) as err:
            case_from_bundle(bundle, on=ON)
        text = str(err.value)
        assert "valueCodeableConcept" in text and "surgery" in text
        assert "radiotherapy" in text and "systemic-therapy" in text

    def test_beside_a_margin_that_left_no_gross_tumour_it_is_refused(self) -> None:
        """A clearance beside an R0 margin contradicts it (no gross tumour was left to
        clear): the record is refused as a case file is, naming the field, the value and
        the Observation it came from, never read as a free-of-disease day."""
        from pecoma.errors import InputError

        bundle = bundle_from_case(parse_case(_r2_case({"date": "2021-08-01",
                                                       "by": "radiotherapy"})))
        _ids(bundle)["resection-margin"]["valueCodeableConcept"]["coding"][0]["code"] = "R0"
        with pytest.raises(InputError) as err:
            case_from_bundle(bundle, on=ON)
        text = str(err.value)
        assert "surgery.gross_residue_cleared" in text
        assert "Observation/gross-residue-cleared" in text and "R0" in text

    def test_a_day_not_whole_leaves_the_day_unknown(self) -> None:
        """Seen cleared in August 2021 (a month, not a day): cleared, its day not
        recorded; the interval is not counted from a guessed day, with a note."""
        bundle = bundle_from_case(parse_case(_r2_case({"date": "2021-08-01",
                                                       "by": "radiotherapy"})))
        _ids(bundle)["gross-residue-cleared"]["effectiveDateTime"] = "2021-08"
        read = case_from_bundle(bundle, on=ON)
        cleared = read.case.surgery.gross_residue_cleared
        assert cleared is not None and cleared.date is None
        assert cleared.by.value == "radiotherapy"
        assert any("2021-08" in note and "gross_residue_cleared" in note
                   for note in read.notes)


def _sarcoma(contraindicated: str | None) -> dict[str, Any]:
    """Uterine PEComa metastatic to the liver, mTOR inhibitors not available: S14 and S15
    would name anthracycline regimens (doxorubicin; epirubicin with ifosfamide)."""
    systemic: dict[str, Any] = {"mtor_inhibitor_available": "no"}
    if contraindicated is not None:
        systemic["anthracycline_contraindicated"] = contraindicated
    return {"diagnosis": {"date": "2025-03-01", "method": "histology_with_ihc"},
            "tumour": {"primary_site": "uterus"},
            "stage": {"status": "metastatic", "resectable": "no",
                      "extrapulmonary_disease": "yes",
                      "metastases": [{"site": "liver", "detected_on": "2025-03-01"}]},
            "systemic": systemic}


class TestAnthracyclineContraindicated:
    @pytest.mark.parametrize("given", ["yes", "no", "unknown", None])
    def test_comes_back_as_it_was_written(self, given: str | None) -> None:
        written = parse_case(_sarcoma(given))
        bundle = bundle_from_case(written)
        validate_resources(bundle)
        back = case_from_bundle(bundle, on=ON, validate="full").case
        assert (back.systemic.anthracycline_contraindicated
                == written.systemic.anthracycline_contraindicated)
        assert back == written

    def test_written_as_the_project_observation(self) -> None:
        """As 'mTOR inhibitors contraindicated' is: Observation
        pecoma#anthracycline-contraindicated, valueBoolean; unknown writes none."""
        yes = _ids(bundle_from_case(parse_case(_sarcoma("yes"))))
        assert yes["anthracycline-contraindicated"]["valueBoolean"] is True
        assert yes["anthracycline-contraindicated"]["code"]["coding"][0]["code"] == \
            "anthracycline-contraindicated"
        assert "anthracycline-contraindicated" not in _ids(
            bundle_from_case(parse_case(_sarcoma(None))))

    def test_no_anthracycline_is_proposed_after_the_round_trip(self) -> None:
        """Every anthracycline contraindicated (a reduced ejection fraction): read back
        from the bundle the advice still proposes none, as on the case itself (the fact
        had been dropped, and doxorubicin came back proposed)."""
        written = parse_case(_sarcoma("yes"))
        back = case_from_bundle(bundle_from_case(written), on=ON).case
        assert back.systemic.anthracycline_contraindicated.value == "yes"
        ids = [i.id for i in assess(back, ON).recommendations]
        assert ids == [i.id for i in assess(written, ON).recommendations]


class TestFeaturesBeforeSystemicTherapy:
    @pytest.mark.parametrize("given", ["yes", "no", "unknown"])
    def test_comes_back_as_it_was_written(self, given: str) -> None:
        """A kidney PEComa given neoadjuvant sirolimus before its resection: whether the
        size and features recorded are those before it decides the schedule (I17); it
        comes back as recorded."""
        data = {"diagnosis": {"date": "2024-01-10", "method": "histology_with_ihc"},
                "tumour": {"primary_site": "kidney", "size": {"value": 6, "unit": "cm"},
                           "features_before_systemic_therapy": given},
                "stage": {"status": "localized"},
                "surgery": {"status": "performed", "date": "2024-06-01", "margin": "R0"},
                "systemic": {"therapies": [{"agent": "sirolimus", "setting": "advanced",
                                            "started_on": "2024-02-01",
                                            "ended_on": "2024-05-15"}]}}
        written = parse_case(data)
        bundle = bundle_from_case(written)
        validate_resources(bundle)
        back = case_from_bundle(bundle, on=ON, validate="full").case
        assert back.tumour.features_before_systemic_therapy.value == given
        assert back == written


# --- every field of the case format -----------------------------------------------------

#: Fields that are no fact of the patient: the case format's version.
NOT_A_FACT = frozenset({"format"})


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every leaf field path of ``model`` (a list's row as [0])."""
    out: list[str] = []
    for name, f in model.model_fields.items():
        todo: list[tuple[bool, Any]] = [(False, f.annotation)]
        while todo:
            listed, t = todo.pop()
            origin = typing.get_origin(t)
            if origin in (typing.Union, types.UnionType, typing.Annotated):
                todo += [(listed, a) for a in typing.get_args(t)[:None if origin is not
                                                               typing.Annotated else 1]
                         if a is not type(None)]
            elif origin is tuple:
                todo += [(True, a) for a in typing.get_args(t) if a is not Ellipsis]
            elif isinstance(t, type) and issubclass(t, BaseModel):
                out += _leaves(t, f"{prefix}{name}{'[0]' if listed else ''}.")
            else:
                out.append(f"{prefix}{name}")
    return list(dict.fromkeys(out))


def _set_leaves(node: BaseModel, prefix: str = "") -> set[str]:
    """The leaf paths of ``node`` holding something other than their field's default
    (a list's rows all as [0])."""
    out: set[str] = set()
    for name, f in type(node).model_fields.items():
        value = getattr(node, name)
        rows = value if isinstance(value, tuple) else (value,)
        row_prefix = f"{prefix}{name}{'[0]' if isinstance(value, tuple) else ''}"
        for row in rows:
            if isinstance(row, BaseModel):
                out |= _set_leaves(row, f"{row_prefix}.")
            elif row != f.get_default(call_default_factory=True):
                out.add(row_prefix)
    return out


#: Coherent cases that together give every field of the case format a value other than
#: its default; each must survive Case -> Bundle -> Case.
FULL_CASES: dict[str, dict[str, Any]] = {
    "recurrent-after-r2-cleared": {
        "label": "board 2026-12",
        "diagnosis": {"method": "histology_with_ihc", "date": "2021-01-20",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "uterus", "cervix": "yes",
                   "size": {"value": 9.5, "unit": "cm"},
                   "features_before_systemic_therapy": "yes"},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "present",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 4},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "negative", "mitf": "positive",
                                 "cathepsin_k": "positive", "sma": "positive",
                                 "desmin": "not_done", "h_caldesmon": "negative",
                                 "tfe3": "negative"},
        "stage": {"status": "recurrent", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": "2024-09-01"},
                                 {"site": "lung", "detected_on_or_before": "2024-09-20"}],
                  "suspected_metastases": [{"site": "liver"}],
                  "extrapulmonary_disease": "no", "local_recurrence": "no",
                  "resectable": "yes", "complete_excision_feasible": "yes"},
        "surgery": {"status": "performed", "date": "2021-02-10", "margin": "R2",
                    "completion": {"date": "2021-03-15", "margin": "R2"},
                    "gross_residue_cleared": {"date": "2021-08-01", "by": "radiotherapy"},
                    "adjuvant_radiotherapy": "yes"},
        "primary_treatment_end": "2021-08-01",
        "systemic": {"mtor_inhibitor_available": "yes",
                     "mtor_inhibitor_contraindicated": "no",
                     "anthracycline_contraindicated": "yes",
                     "therapies": [{"agent": "sirolimus", "setting": "advanced", "line": 1,
                                    "started_on": "2021-01-25", "ended_on": "2021-01-30",
                                    "best_response": "stable", "progressed": "yes"},
                                   {"agent": "everolimus", "setting": "adjuvant",
                                    "started_on": "2021-09-01", "ended_on": "2022-09-01"}],
                     "intolerances": [{"agent": "doxorubicin", "class_wide": "yes"}]},
        "molecular": {"tsc1": "wild_type", "tsc2": "pathogenic", "tfe3_fusion": "absent"},
    },
    "metastatic-free-of-disease": {
        "tumour": {"primary_site": "kidney"},
        "stage": {"status": "metastatic", "disease_free_interval_months": 0,
                  "metastases": [{"site": "liver", "timing": "synchronous"}]},
        "free_of_disease": {"since": "2025-05-01", "by": "surgery"},
    },
    # a resection the record gives only by the patient's age: its latest day
    "localized-resected-by-age": {
        "tumour": {"primary_site": "uterus"},
        "stage": {"status": "localized"},
        "surgery": {"status": "performed", "date_on_or_before": "2024-05-01",
                    "margin": "R1"},
    },
}


def test_every_field_of_the_case_is_written() -> None:
    """Every field of the case format holds a value other than its default in one of
    :data:`FULL_CASES`, and each of those cases reads back from its bundle unchanged: a
    field the writer cannot write fails here (a field added to the case format without
    FHIR support is first reported missing from these cases; given a value there, it
    fails the round trip until it is written and read)."""
    held: set[str] = set()
    for name, data in FULL_CASES.items():
        case = parse_case(data)
        held |= _set_leaves(case)
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        back = case_from_bundle(bundle, on=ON, validate="full").case
        differ = sorted(_set_leaves(case) ^ _set_leaves(back))
        assert back == case, f"{name}: not carried through FHIR: {differ}"
    missing = [p for p in _leaves(Case) if p not in held and p not in NOT_A_FACT]
    assert not missing, ("fields no full case sets (give each a value in FULL_CASES, "
                         f"and write it to FHIR): {missing}")
