"""A value coded two ways that disagree, a Condition naming two primary sites, a PEComa
Condition set aside for a modifierExtension: the FHIR reader never lets the order of a
list decide, and never says a diagnosis it set aside is absent.

The codings of one CodeableConcept are one meaning in several code systems (FHIR R4
datatypes, CodeableConcept); a bodySite list has no order that means anything. Each
record below is the shipped liver example with one change; each expectation is written
by hand with its reason."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pecoma.case import YesNo
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle

from fhir_support import example

PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
SNOMED = "http://snomed.info/sct"


def _record() -> dict[str, Any]:
    bundle = example("advanced-mtor-contraindicated")
    # without its sirolimus allergy: nothing else decides the mTOR items
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "AllergyIntolerance"]
    return bundle


def _resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"]
                                 if e["resource"].get("id") == rid)
    return found


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full")


def _refused(bundle: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(InputError) as caught:
        _read(bundle)
    return [(i.path, i.value, i.rule) for i in caught.value.issues]


@pytest.mark.parametrize("order", [("localized", "metastatic"), ("metastatic", "localized")])
def test_a_disease_status_coded_two_ways_is_refused_whatever_the_order(
    order: tuple[str, str]
) -> None:
    """'localized' beside 'metastatic' in one value: the first coding had been taken (the
    liver PEComa locally advanced in one order, metastatic in the other, each with its
    own advice and no note). The disease status decides every branch: refused, naming
    the Observation and both codes."""
    bundle = _record()
    _resource(bundle, "disease-status")["valueCodeableConcept"] = {
        "coding": [{"system": PECOMA, "code": code} for code in order]}
    issues = _refused(bundle)
    assert ("Observation/disease-status.valueCodeableConcept", "'localized, metastatic'"
            ) in [(p, v) for p, v, _r in issues]


@pytest.mark.parametrize("yes_first", [True, False])
def test_a_yes_no_coded_both_ways_is_unknown_with_a_note(yes_first: bool) -> None:
    """mTOR inhibitor available coded SNOMED Yes (373066001) and No (373067005): it had
    read 'yes' in either order. It is unknown (the engine then asks), with a note."""
    bundle = _record()
    codes = [{"system": SNOMED, "code": "373066001"}, {"system": SNOMED, "code": "373067005"}]
    obs = _resource(bundle, "mtor-available")
    obs.pop("valueBoolean", None)
    obs["valueCodeableConcept"] = {"coding": codes if yes_first else codes[::-1]}
    got = _read(bundle)
    assert got.case.systemic.mtor_inhibitor_available is YesNo.unknown
    assert any("mtor-available" in n and "coded both ways" in n for n in got.notes)


def test_necrosis_coded_present_and_absent_is_unknown() -> None:
    """Present and absent in one value: the feature is unknown (the risk then
    indeterminate and followed as high risk, the feature asked for), never one side
    picked by the order of the codings."""
    bundle = _record()
    _resource(bundle, "histology-necrosis")["valueCodeableConcept"] = {"coding": [
        {"system": SNOMED, "code": "2667000"}, {"system": SNOMED, "code": "52101004"}]}
    got = _read(bundle)
    assert got.case.histology.necrosis.value == "unknown"
    assert any("histology-necrosis" in n and "coded both ways" in n for n in got.notes)


@pytest.mark.parametrize("sites", [
    [("site-liver", "liver"), ("site-uterus", "uterus")],
    [("site-uterus", "uterus"), ("site-liver", "liver")],
])
def test_a_pecoma_condition_naming_two_organs_is_refused(
    sites: list[tuple[str, str]]
) -> None:
    """bodySite [liver, uterus]: the first had been taken as the primary (uterine advice,
    S15's options and MRI of the uterus, in one order only). Where the PEComa arose cannot
    be told: refused naming the Condition's bodySite and the two sites."""
    bundle = _record()
    _resource(bundle, "pecoma-diagnosis")["bodySite"] = [
        {"coding": [{"system": PECOMA, "code": code}], "text": text} for code, text in sites]
    issues = _refused(bundle)
    (path, value, rule), *_ = issues
    assert path == "Condition/pecoma-diagnosis.bodySite"
    assert set(value.strip("'()").split(", ")) == {"liver", "uterus"}
    assert "must name one primary site" in rule


def test_a_side_given_as_a_bodysite_of_its_own_is_no_second_site() -> None:
    """bodySite [liver, 'Right']: a side written as a concept of its own names no organ;
    the liver is read, nothing refused."""
    bundle = _record()
    _resource(bundle, "pecoma-diagnosis")["bodySite"] = [
        {"coding": [{"system": PECOMA, "code": "site-liver"}], "text": "liver"},
        {"coding": [{"system": SNOMED, "code": "24028007"}], "text": "Right"}]
    assert _read(bundle).case.tumour.primary_site.value == "liver"


def test_a_pecoma_condition_set_aside_is_named_not_said_absent() -> None:
    """The PEComa Condition carries a modifierExtension pecoma does not understand: it is
    not read (FHIR), but the record does hold it. The refusal names that Condition and the
    extension (it had said the bundle held no diagnosis, '(none found)')."""
    bundle = _record()
    url = "http://hospital.example/ext/not-patient-own"
    _resource(bundle, "pecoma-diagnosis")["modifierExtension"] = [
        {"url": url, "valueBoolean": True}]
    issues = _refused(bundle)
    assert [(p, v) for p, v, _r in issues] == [
        ("Condition/pecoma-diagnosis.modifierExtension", repr(url))]
    assert "(none found)" not in " ".join(r for _p, _v, r in issues)


def test_the_unchanged_record_reads() -> None:
    """The example itself: liver, locally advanced unresectable, mTOR available."""
    got = _read(copy.deepcopy(_record()))
    assert got.case.tumour.primary_site.value == "liver"
    assert got.case.stage.status.value == "locally_advanced_unresectable"


CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFIED = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@pytest.mark.parametrize("order", [("confirmed", "refuted"), ("refuted", "confirmed")])
def test_a_metastasis_confirmed_and_refuted_is_kept_whatever_the_order(
    order: tuple[str, str]
) -> None:
    """A lung metastasis whose verificationStatus says confirmed and refuted: any coding
    saying refuted had dropped it (the metastasis gone from the case, its advice with
    it). Which is meant cannot be told: it is read as confirmed, the reading that keeps the
    disease in view, with a note naming the contradiction."""
    bundle = example("metastatic-lung-metachronous")
    _resource(bundle, "metastasis-1")["verificationStatus"] = {
        "coding": [{"system": VERIFIED, "code": code} for code in order]}
    got = _read(bundle)
    assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
    assert any("metastasis-1" in n and "confirmed and refuted" in n for n in got.notes)


@pytest.mark.parametrize("order", [("resolved", "active"), ("active", "resolved")])
def test_a_metastasis_active_and_resolved_is_present_whatever_the_order(
    order: tuple[str, str]
) -> None:
    """clinicalStatus resolved beside active: the first coding had decided (resolved
    first: history, the patient read as free of disease). It is present disease, the
    safer reading, in either order, with a note."""
    bundle = example("metastatic-lung-metachronous")
    _resource(bundle, "metastasis-1")["clinicalStatus"] = {
        "coding": [{"system": CLINICAL, "code": code} for code in order]}
    got = _read(bundle)
    assert got.case.free_of_disease is None
    assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
    assert any("metastasis-1" in n and "active and resolved" in n for n in got.notes)


@pytest.mark.parametrize(("beside", "said"), [
    ({"text": "Thigh"}, "thigh"),
    ({"coding": [{"system": SNOMED, "code": "68367000", "display": "Thigh structure"}]},
     "thigh"),
])
def test_a_body_part_beside_the_organ_is_said(beside: dict[str, Any], said: str) -> None:
    """bodySite [liver, thigh]: the thigh names no site pecoma reads, so the liver is read,
    but the thigh may be where the tumour is (a soft-tissue PEComa, other advice): a note
    names it for the team (it had been dropped without a word)."""
    bundle = _record()
    _resource(bundle, "pecoma-diagnosis")["bodySite"] = [
        {"coding": [{"system": PECOMA, "code": "site-liver"}], "text": "liver"}, beside]
    got = _read(bundle)
    assert got.case.tumour.primary_site.value == "liver"
    assert any(f"also names {said}" in n and "check the primary site" in n
               for n in got.notes)


@pytest.mark.parametrize("beside", [
    {"text": "Right"}, {"text": "Segment VI of liver"}, {"text": "Upper abdomen"},
    {"coding": [{"system": SNOMED, "code": "24028007", "display": "Right"}]},
])
def test_a_side_or_region_beside_the_organ_is_no_other_site(beside: dict[str, Any]) -> None:
    """A side, a part of the liver or a region holding it is no other body part: read as
    the liver, no note about the site."""
    bundle = _record()
    _resource(bundle, "pecoma-diagnosis")["bodySite"] = [
        {"coding": [{"system": PECOMA, "code": "site-liver"}], "text": "liver"}, beside]
    got = _read(bundle)
    assert got.case.tumour.primary_site.value == "liver"
    assert not any("also names" in n for n in got.notes)


def test_a_diagnosis_coded_confirmed_and_provisional_asks_how_it_was_made() -> None:
    """The PEComa Condition's verificationStatus says confirmed and provisional: for the
    diagnosis the safer reading is the one that asks (diagnosis.method stays unknown,
    a missing fact), never 'confirmed' because that coding came first or ranks first."""
    bundle = _record()
    _resource(bundle, "pecoma-diagnosis")["verificationStatus"] = {"coding": [
        {"system": VERIFIED, "code": "confirmed"}, {"system": VERIFIED, "code": "provisional"}]}
    got = _read(bundle)
    assert got.case.diagnosis.method.value == "unknown"
    assert any("'provisional', not confirmed" in n for n in got.notes)
