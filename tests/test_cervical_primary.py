"""A cervical PEComa is a uterine one (S15), however it is recorded.

The uterine cervix (cervix uteri) is part of the uterus: S15's epirubicin with
ifosfamide, reported for malignant uterine PEComa, is an option for a cervical primary.
The same cervical PEComa recorded as 'uterus' got S15 and, recorded as
'other_gynecologic', lost it with nothing asked; and the FHIR reader read one SNOMED CT
code, 71252005 "Cervix uteri structure", as the uterus or as another gynecologic site
depending on its display words. Now:

* a known SNOMED CT code decides the primary site, whatever the display says (display
  words only when no code is known): the uterus and its parts as 'uterus', the broad
  ligament as 'broad_ligament', the ovary, fallopian tube, vagina and vulva as
  'other_gynecologic';
* a primary at 'other_gynecologic' not recorded as outside the cervix may be cervical:
  where S15 is at stake (advanced disease, its conditions otherwise met) it is shown,
  provisional on the question MISS-PRIMARY-CERVIX (unknown is not absent; same disease,
  same advice); recorded as not the cervix, it is not shown and nothing is asked;
* 'tumour.cervix' 'yes' beside a site other than 'uterus' is refused, naming both.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import InputError, assess, parse_case
from pecoma.engine import Assessment
from pecoma.fhir.reader import case_from_bundle

ON = dt.date(2026, 12, 10)
SNOMED = "http://snomed.info/sct"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RECORD = Path(__file__).parent / "data" / "mcode" / "uterus-localized.json"

#: A cervical PEComa, 6 cm with every feature present, R0 in 2022, a metachronous
#: unresectable lung metastasis in 2024; mTOR inhibitors unavailable.
CERVICAL: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2022-01-05",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "other_gynecologic", "size": {"value": 6, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present",
                  "nuclear_pleomorphism_or_giant_cells": "present", "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "mitf": "positive",
                             "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2024-01-05"}],
              "extrapulmonary_disease": "no", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "performed", "date": "2022-02-01", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "no", "mtor_inhibitor_contraindicated": "no",
                 # recorded: these tests are about the primary site, and S14/S15 would
                 # otherwise wait on MISS-ANTHRACYCLINE-CONTRAINDICATED as well
                 "anthracycline_contraindicated": "no"},
}


def recorded(site: str, cervix: str | None = None) -> Assessment:
    data = copy.deepcopy(CERVICAL)
    data["tumour"]["primary_site"] = site
    if cervix is not None:
        data["tumour"]["cervix"] = cervix
    return assess(parse_case(data), ON)


def recs(a: Assessment) -> dict[str, tuple[str, ...]]:
    return {r.id: tuple(r.conditional_on) for r in a.recommendations}


class TestTheEngine:
    def test_recorded_as_uterus_s15_is_offered(self) -> None:
        """The cervix is part of the uterus: S15 is an option, nothing asked; S14's
        doxorubicin stays (mTOR inhibitors unavailable)."""
        r = recs(recorded("uterus"))
        assert r["REC-UTERINE-EPI-IFO"] == ()
        assert "REC-ANTHRACYCLINE" in r

    @pytest.mark.parametrize("cervix", ["yes", "no"])
    def test_uterus_body_or_cervix_alike(self, cervix: str) -> None:
        assert recs(recorded("uterus", cervix))["REC-UTERINE-EPI-IFO"] == ()

    def test_other_gynecologic_asks_and_keeps_s15_provisional(self) -> None:
        """Same disease, same advice: S15 is not dropped for the label; it waits on the
        question whether the primary arose in the cervix, which says what the answer
        would change."""
        a = recorded("other_gynecologic")
        r = recs(a)
        assert r["REC-UTERINE-EPI-IFO"] == ("MISS-PRIMARY-CERVIX",)
        assert set(r) == set(recs(recorded("uterus")))
        [miss] = [m for m in a.missing if m.id == "MISS-PRIMARY-CERVIX"]
        assert miss.field == "tumour.cervix"
        assert miss.affects == ("REC-UTERINE-EPI-IFO",)
        assert "cervix" in miss.question and "uterus" in miss.question
        assert "S15" in miss.would_change
        # S15, and the guideline's silence after progression (S28) that holds outside the
        # uterus, shown beside S15 where the disease has progressed on the line before it
        assert miss.provenance.statements == ("S15", "S28")
        item = next(x for x in a.recommendations if x.id == "REC-UTERINE-EPI-IFO")
        shown = {(f.path, str(f.value)) for f in item.triggered_by}
        assert ("tumour.primary_site", "other_gynecologic") in shown
        assert ("tumour.cervix", "unknown") in shown

    def test_other_gynecologic_outside_the_cervix_gets_no_s15(self) -> None:
        """An ovarian, tubal, vaginal or vulvar primary (not the cervix): S15 is for a
        uterine primary, so it is not shown and nothing is asked; doxorubicin (S14)
        stays."""
        a = recorded("other_gynecologic", "no")
        assert "REC-UTERINE-EPI-IFO" not in recs(a)
        assert "REC-ANTHRACYCLINE" in recs(a)
        assert "MISS-PRIMARY-CERVIX" not in {m.id for m in a.missing}

    def test_nothing_asked_where_s15_is_not_at_stake(self) -> None:
        """Localized disease resected R0: no systemic advice, so the question would change
        nothing and is not asked."""
        data = copy.deepcopy(CERVICAL)
        data["stage"] = {"status": "localized", "lymph_nodes": "negative"}
        a = assess(parse_case(data), ON)
        assert "MISS-PRIMARY-CERVIX" not in {m.id for m in a.missing}

    @pytest.mark.parametrize("site", ["other_gynecologic", "broad_ligament", "kidney"])
    def test_cervix_yes_beside_another_site_is_refused(self, site: str) -> None:
        data = copy.deepcopy(CERVICAL)
        data["tumour"].update(primary_site=site, cervix="yes")
        with pytest.raises(InputError) as info:
            parse_case(data)
        [issue] = info.value.issues
        assert issue.path == "tumour.cervix"
        assert f"'tumour.primary_site' '{site}'" in issue.rule
        assert "recorded as 'uterus'" in issue.rule


def with_body_site(code: str, display: str) -> dict[str, Any]:
    bundle = copy.deepcopy(json.loads(RECORD.read_text(encoding="utf-8")))
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] in ("Condition", "Procedure") and "bodySite" in res:
            res["bodySite"] = [{"coding": [{"system": SNOMED, "code": code,
                                            "display": display}]}]
    return bundle


class TestTheFhirReader:
    @pytest.mark.parametrize(("code", "display", "site"), [
        ("71252005", "Cervix uteri structure (body structure)", "uterus"),
        ("71252005", "Structure of cervix (body structure)", "uterus"),
        ("71252005", "Ovarian structure", "uterus"),  # the code decides, not the words
        ("2739003", "Endometrial structure (body structure)", "uterus"),
        ("35039007", "Uterine structure (body structure)", "uterus"),
        ("15497006", "Ovarian structure (body structure)", "other_gynecologic"),
        ("15497006", "Cervix uteri structure", "other_gynecologic"),
        ("31435000", "Fallopian tube structure (body structure)", "other_gynecologic"),
        ("76784001", "Vaginal structure (body structure)", "other_gynecologic"),
        ("45292006", "Vulval structure (body structure)", "other_gynecologic"),
        ("34411009", "Broad ligament structure", "broad_ligament"),
    ])
    def test_a_known_snomed_code_decides_the_site(self, code: str, display: str,
                                                   site: str) -> None:
        bc = case_from_bundle(with_body_site(code, display), on=ON)
        assert bc.case.tumour.primary_site.value == site

    @pytest.mark.parametrize(("display", "site"), [
        ("Cervix uteri structure", "uterus"),
        ("Structure of cervix", "uterus"),
        ("Corpus uteri", "uterus"),
        ("Myometrium", "uterus"),
        ("Ovary", "other_gynecologic"),
        ("Vulval structure", "other_gynecologic"),
    ])
    def test_with_no_known_code_the_words_decide_alike(self, display: str,
                                                       site: str) -> None:
        """A code pecoma does not know (a local one): the organ named in the words, the
        cervix read as the uterus whichever way it is written."""
        bundle = with_body_site("123", display)
        for entry in bundle["entry"]:
            for concept in entry["resource"].get("bodySite", []):
                concept["coding"][0]["system"] = "http://example.org/local-sites"
        bc = case_from_bundle(bundle, on=ON)
        assert bc.case.tumour.primary_site.value == site


def test_the_web_form_records_the_cervix_and_refuses_yes_beside_another_site() -> None:
    """The form carries 'tumour.cervix' (round trip), and refuses 'yes' beside another
    gynecologic site at its control, saying to record the uterus."""
    from pecoma.web import forms

    data = copy.deepcopy(CERVICAL)
    data["tumour"]["cervix"] = "no"
    case = parse_case(data)
    values = forms.case_to_values(case, ON)
    assert values["tumour.cervix"] == "no"
    assert forms.form_to_case(values).case == case
    values["tumour.cervix"] = "yes"
    result = forms.form_to_case(values)
    assert result.case is None
    [message] = result.errors["tumour.cervix"]
    assert "recorded as 'uterus'" in message


def condition_and_resection(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    by_id = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    return by_id["pecoma-diagnosis"], by_id["resection"]


def codes_of(resource: dict[str, Any]) -> set[tuple[str, str]]:
    return {(x["system"], x["code"]) for concept in resource["bodySite"]
            for x in concept["coding"]}


def cervix_extensions(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [x for x in resource.get("extension", [])
            if x["url"] == "https://pecoma.example/fhir/StructureDefinition/primary-in-cervix"]


class TestTheFhirRoundTrip:
    """'tumour.cervix' survives case -> Bundle -> case (``pecoma fhir from-case``, then
    ``to-case``): a recorded answer is never dropped. Where the primary arose decides S15
    (an 'other_gynecologic' primary recorded as outside the cervix gets no epirubicin
    with ifosfamide and nothing asked; one not so recorded is asked MISS-PRIMARY-CERVIX
    again), so the answer written must be the one read back."""

    @staticmethod
    def round_trip(site: str, cervix: str | None) -> tuple[dict[str, Any], Assessment,
                                                           Assessment]:
        from pecoma.fhir.careplan import validate_resources
        from pecoma.fhir.writer import bundle_from_case

        data = copy.deepcopy(CERVICAL)
        data["tumour"]["primary_site"] = site
        if cervix is not None:
            data["tumour"]["cervix"] = cervix
        case = parse_case(data)
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        back = case_from_bundle(bundle, on=ON, validate="full").case
        assert back == case
        return bundle, assess(case, ON), assess(back, ON)

    def test_uterus_cervix_yes(self) -> None:
        """A cervical primary (recorded as 'uterus', the cervix being part of it) is coded
        on its bodySite as SNOMED CT 71252005 "Cervix uteri structure", on the Condition
        and on the resection, beside the uterus, and read back as 'yes'."""
        bundle, _before, _after = self.round_trip("uterus", "yes")
        for resource in condition_and_resection(bundle):
            assert {(SNOMED, "71252005"), (SNOMED, "35039007")} <= codes_of(resource)
        assert not cervix_extensions(condition_and_resection(bundle)[0])

    def test_uterus_cervix_no(self) -> None:
        """A primary of the uterine body is coded ICD-O-3 topography C54.9 "Corpus uteri"
        beside the uterus and read back as 'no'."""
        bundle, _before, _after = self.round_trip("uterus", "no")
        for resource in condition_and_resection(bundle):
            assert (ICDO3, "C54.9") in codes_of(resource)
            assert (SNOMED, "71252005") not in codes_of(resource)

    def test_other_gynecologic_cervix_no(self) -> None:
        """An ovarian, tubal, vaginal or vulvar primary recorded as outside the cervix: no
        standard code says "not the cervix" of it, so the project extension
        primary-in-cervix 'no' on the Condition carries it. Read back, S15 is still not
        shown and MISS-PRIMARY-CERVIX not asked again (it was answered)."""
        bundle, before, after = self.round_trip("other_gynecologic", "no")
        condition, resection = condition_and_resection(bundle)
        assert [x["valueCode"] for x in cervix_extensions(condition)] == ["no"]
        assert not codes_of(resection) & {(SNOMED, "71252005"), (ICDO3, "C54.9")}
        for a in (before, after):
            assert "REC-UTERINE-EPI-IFO" not in recs(a)
            assert "MISS-PRIMARY-CERVIX" not in {m.id for m in a.missing}

    @pytest.mark.parametrize("site", ["broad_ligament", "kidney"])
    def test_another_site_cervix_no(self, site: str) -> None:
        """'no' beside any site outside the uterus is carried the same way."""
        bundle, _before, _after = self.round_trip(site, "no")
        assert [x["valueCode"] for x in
                cervix_extensions(condition_and_resection(bundle)[0])] == ["no"]

    @pytest.mark.parametrize("site", ["uterus", "other_gynecologic"])
    @pytest.mark.parametrize("cervix", [None, "unknown"])
    def test_unknown_writes_nothing(self, site: str, cervix: str | None) -> None:
        """Unknown is not absent: nothing is written (no cervix or corpus code, no
        extension), and it reads back unknown, so an 'other_gynecologic' primary keeps S15
        provisional on MISS-PRIMARY-CERVIX."""
        bundle, before, after = self.round_trip(site, cervix)
        for resource in condition_and_resection(bundle):
            assert not codes_of(resource) & {(SNOMED, "71252005"), (ICDO3, "C54.9")}
            assert not cervix_extensions(resource)
        assert recs(before) == recs(after)
        if site == "other_gynecologic":
            assert recs(after)["REC-UTERINE-EPI-IFO"] == ("MISS-PRIMARY-CERVIX",)


def with_cervix_extension(bundle: dict[str, Any], value: str) -> dict[str, Any]:
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Condition" and "bodySite" in res:
            res.setdefault("extension", []).append(
                {"url": "https://pecoma.example/fhir/StructureDefinition/primary-in-cervix",
                 "valueCode": value})
    return bundle


class TestTheFhirReaderOfTheExtension:
    """The extension primary-in-cervix as an EHR may send it: beside a coded site that
    agrees it is read; beside one that contradicts it the answer cannot be told and
    stays unknown, with a note (as other disagreements are read)."""

    def test_no_beside_the_ovary_is_read(self) -> None:
        bc = case_from_bundle(with_cervix_extension(
            with_body_site("15497006", "Ovarian structure"), "no"), on=ON)
        assert bc.case.tumour.primary_site.value == "other_gynecologic"
        assert bc.case.tumour.cervix.value == "no"
        assert bc.sources["tumour.cervix"].endswith(".extension(primary-in-cervix)")

    def test_yes_beside_the_ovary_is_unknown_with_a_note(self) -> None:
        """The cervix is part of the uterus: 'yes' beside an ovarian site is a
        contradiction (a case file refuses it); the record is read, the answer left
        unknown and said."""
        bc = case_from_bundle(with_cervix_extension(
            with_body_site("15497006", "Ovarian structure"), "yes"), on=ON)
        assert bc.case.tumour.cervix.value == "unknown"
        assert any("primary-in-cervix" in n and "outside the uterus" in n for n in bc.notes)

    @pytest.mark.parametrize(("code", "said", "coded"), [
        ("71252005", "no", "yes"),  # the cervix coded, the extension says not the cervix
        ("2739003", "yes", "no"),  # the endometrium coded, the extension says the cervix
    ])
    def test_a_coded_site_contradicting_it_is_unknown_with_a_note(
            self, code: str, said: str, coded: str) -> None:
        bc = case_from_bundle(with_cervix_extension(
            with_body_site(code, "Uterine part"), said), on=ON)
        assert bc.case.tumour.primary_site.value == "uterus"
        assert bc.case.tumour.cervix.value == "unknown"
        assert any("primary-in-cervix" in n and f"'{said}'" in n and f"'{coded}'" in n
                   for n in bc.notes)

    def test_a_value_it_does_not_know_is_noted_and_not_read(self) -> None:
        bc = case_from_bundle(with_cervix_extension(
            with_body_site("15497006", "Ovarian structure"), "maybe"), on=ON)
        assert bc.case.tumour.cervix.value == "unknown"
        assert any("primary-in-cervix" in n and "'maybe'" in n for n in bc.notes)


def test_the_registry_bulk_export_carries_the_answer() -> None:
    """The FHIR bulk export writes each case through the same writer: a cervical primary
    keeps its cervix code, an ovarian one recorded outside the cervix its extension."""
    from pecoma.registry.fhir_bulk_resources import build_bulk

    patients = []
    for rid, site, cervix in (("C1", "uterus", "yes"), ("O1", "other_gynecologic", "no")):
        data = copy.deepcopy(CERVICAL)
        data["tumour"].update(primary_site=site, cervix=cervix)
        patients.append((rid, data, None))
    by_type, left_out = build_bulk(patients, {}, ON)
    assert not left_out
    primary = {c["subject"]["reference"]: c for c in map(json.loads, by_type["Condition"])
               if c["id"].endswith("-pecoma-diagnosis")}
    assert (SNOMED, "71252005") in codes_of(primary["Patient/C1"])
    assert [x["valueCode"] for x in cervix_extensions(primary["Patient/O1"])] == ["no"]
