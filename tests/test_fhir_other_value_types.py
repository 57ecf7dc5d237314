"""A result in another FHIR value type than the one pecoma expects leaves only that fact
unknown, with a note quoting the value given; the rest of the record is read.

Observation.value[x] may be any of eleven types, and EHR pathology feeds send a size as
text ("9.5 cm"), a mitotic count as a ratio (3 per 50 HPF), a feature as an integer. One
such result had refused the whole record (exit 3; on patient-view "Nothing was assessed"),
and the message said the value was "(missing)". A value that says the fact plainly is
read (a size in inches or metres converted to cm; "9.5 cm"; 3/50 HPF); any other leaves
the fact unknown, never absent (I1), so the engine asks for it.

Each record is the shipped low-risk example (a kidney PEComa resected R0, 3.2 cm, every
worrisome feature absent, 0 mitoses per 50 HPF, HMB-45 positive) with one result changed
by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Feature, IHCResult
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from cli_support import run_cli
from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 6)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def _record(rid: str, **value: Any) -> dict[str, Any]:
    """The low-risk example with the value[x] of Observation ``rid`` replaced."""
    bundle = example("low-risk")
    obs = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid)
    for key in [k for k in obs if k.startswith("value")]:
        del obs[key]
    obs.update(value)
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def _noted(bc: BundleCase, rid: str, quoted: str) -> bool:
    return any(f"Observation/{rid}" in n and quoted in n for n in bc.notes)


class TestFeatureInAnotherType:
    @pytest.mark.parametrize(("value", "quoted"), [
        ({"valueInteger": 1}, "valueInteger 1"),
        ({"valueQuantity": {"value": 30, "unit": "%", "system": UCUM, "code": "%"}},
         "valueQuantity"),
        ({"interpretation": [{"coding": [{"system": V3, "code": "A"}]}]}, "interpretation"),
    ], ids=["integer", "quantity-percent", "interpretation-abnormal"])
    def test_necrosis_not_said_plainly_is_unknown_and_the_rest_is_read(
            self, value: dict[str, Any], quoted: str) -> None:
        """Necrosis as valueInteger 1, as 30 %, or only an interpretation 'A' (abnormal):
        none says present or absent. The record had been refused; necrosis is now unknown
        (the risk then indeterminate, I1), the note quotes the value, and the size and the
        other features are still read."""
        bc = _read(_record("histology-necrosis", **value))
        assert bc.case.histology.necrosis is Feature.unknown
        assert _noted(bc, "histology-necrosis", quoted), bc.notes
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 3.2
        assert bc.case.histology.vascular_invasion is Feature.absent

    def test_necrosis_given_only_as_interpretation_pos_is_present(self) -> None:
        """Only interpretation POS, as a stain's result is read: present (the higher
        risk), not a refused record."""
        bc = _read(_record("histology-necrosis",
                           interpretation=[{"coding": [{"system": V3, "code": "POS"}]}]))
        assert bc.case.histology.necrosis is Feature.present

    def test_a_loinc_stain_given_only_as_interpretation_abnormal_is_unknown(self) -> None:
        """An mCODE TumorMarkerTest of HMB-45 (LOINC 10487-7) whose only result is
        interpretation 'A': neither positive nor negative; unknown, with a note, not a
        refused record."""
        bundle = _record("ihc-hmb45", interpretation=[{"coding": [{"system": V3, "code": "A"}]}])
        obs = next(e["resource"] for e in bundle["entry"]
                   if e["resource"].get("id") == "ihc-hmb45")
        obs["code"] = {"coding": [{"system": LOINC, "code": "10487-7"}]}
        bc = _read(bundle)
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.unknown
        assert _noted(bc, "ihc-hmb45", "interpretation"), bc.notes


class TestSizeInAnotherForm:
    @pytest.mark.parametrize(("value", "cm"), [
        ({"valueString": "9.5 cm"}, 9.5),
        ({"valueString": "9,5 cm"}, 9.5),
        ({"valueString": "4,5 cm"}, 4.5),
        ({"valueQuantity": {"value": 2, "unit": "in", "system": UCUM, "code": "[in_i]"}}, 5.08),
        ({"valueQuantity": {"value": 0.095, "unit": "m", "system": UCUM, "code": "m"}}, 9.5),
        # just over S06's 5 cm: rounded to six decimals they were read as 5 cm, low risk
        ({"valueQuantity": {"value": 1.96850394, "unit": "in", "system": UCUM,
                            "code": "[in_i]"}}, 5.0000000076),
        ({"valueQuantity": {"value": 0.0500000001, "unit": "m", "system": UCUM, "code": "m"}},
         5.00000001),
    ], ids=["text-cm", "text-decimal-comma", "text-decimal-comma-small", "inches", "metres",
            "inches-just-over-5-cm", "metres-just-over-5-cm"])
    def test_a_plain_size_is_read_in_cm(self, value: dict[str, Any], cm: float) -> None:
        """"9.5 cm" as text, "9,5 cm" and "4,5 cm" (a decimal comma, as a language with
        one writes it: 4.5 cm is at most 5 cm, S06's size criterion absent, where unknown
        would leave it open), 2 inches (5.08 cm: above S06's 5 cm, so the conversion must
        not round it to 5), 0.095 m: each a length said plainly, read in cm. The record
        had been refused."""
        bc = _read(_record("tumour-size", **value))
        assert bc.case.tumour.size is not None
        assert (bc.case.tumour.size.value, bc.case.tumour.size.unit.value) == (cm, "cm")

    @pytest.mark.parametrize(("value", "quoted"), [
        ({"valueString": "9.5 x 6 cm"}, "'9.5 x 6 cm'"),
        ({"valueString": "about 9 cm"}, "'about 9 cm'"),
        ({"valueRange": {"low": {"value": 9, "unit": "cm"}, "high": {"value": 10, "unit": "cm"}}},
         "valueRange"),
        ({"valueQuantity": {"value": 9.5, "unit": "mL", "system": UCUM, "code": "mL"}}, "'mL'"),
        ({"valueInteger": 9}, "valueInteger 9"),
        ({"valueString": "1,500 mm"}, "'1,500 mm'"),
        ({"valueString": "9,5,0 cm"}, "'9,5,0 cm'"),
    ], ids=["two-dimensions", "about", "range", "volume", "integer-no-unit",
            "thousands-or-decimal", "two-commas"])
    def test_a_size_not_said_plainly_is_unknown(self, value: dict[str, Any],
                                                quoted: str) -> None:
        """A text that is more than a number and cm or mm, a range, a volume, a number
        with no unit, a comma that may separate thousands (1.5 or 1500 mm?): which size
        is meant is not plain. The size is unknown (asked; S06's
        size criterion open), the note quotes the value, the rest is read."""
        bc = _read(_record("tumour-size", **value))
        assert bc.case.tumour.size is None
        assert _noted(bc, "tumour-size", quoted), bc.notes
        assert bc.case.histology.necrosis is Feature.absent
        # found, but its value could not be read: said so, not "not found"
        assert "tumour.size" not in bc.not_found
        assert "Observation/tumour-size" in bc.unreadable["tumour.size"]


class TestMitosesInAnotherForm:
    @pytest.mark.parametrize("value", [
        {"valueRatio": {"numerator": {"value": 3},
                        "denominator": {"value": 50, "unit": "HPF"}}},
        {"valueString": "3/50 HPF"},
        {"valueString": "3 mitoses per 50 high-power fields"},
    ], ids=["ratio", "text", "text-words"])
    def test_a_count_per_50_hpf_said_plainly_is_read(self, value: dict[str, Any]) -> None:
        """3 per 50 HPF as a ratio or as text: the count S18's criterion (more than
        1/50 HPF) reads. The record had been refused."""
        bc = _read(_record("histology-mitoses", **value))
        assert bc.case.histology.mitoses_per_50_hpf == 3.0

    @pytest.mark.parametrize(("value", "quoted"), [
        ({"valueRatio": {"numerator": {"value": 3},
                         "denominator": {"value": 10, "unit": "HPF"}}}, "valueRatio"),
        ({"valueString": "<1/50 HPF"}, "'<1/50 HPF'"),
        ({"valueString": "3/10 HPF"}, "'3/10 HPF'"),
    ], ids=["ratio-per-10", "text-less-than", "text-per-10"])
    def test_any_other_count_is_unknown(self, value: dict[str, Any], quoted: str) -> None:
        """Per 10 HPF (the area of a field differs between microscopes: not converted),
        or "<1": unknown, with the value quoted; never 0."""
        bc = _read(_record("histology-mitoses", **value))
        assert bc.case.histology.mitoses_per_50_hpf is None
        assert _noted(bc, "histology-mitoses", quoted), bc.notes


def test_a_refusal_quotes_the_value_given() -> None:
    """A value still refused (the end of primary treatment, a date the case needs) names
    the value given, never "(missing)"."""
    bundle = example("localized-high-risk")
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "end", "status": "final",
        "subject": {"reference": f"Patient/{patient_id(bundle)}"},
        "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                             "code": "primary-treatment-end"}]},
        "valueString": "spring 2025"}})
    with pytest.raises(InputError) as caught:
        case_from_bundle(bundle)
    values = [i.value for i in caught.value.issues if "Observation/end" in i.path]
    assert values and "spring 2025" in values[0] and "(missing)" not in values[0]


def test_to_case_reads_the_record_and_quotes_the_value(tmp_path: Path) -> None:
    """`pecoma fhir to-case` on necrosis valueInteger 1: it had exited 3 with "got
    '(missing)'"; it prints the case, necrosis not found, and a note quoting the value."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_record("histology-necrosis", valueInteger=1)), "utf-8")
    run = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
    assert run.returncode == 0, run.stderr
    assert "necrosis" not in json.loads(run.stdout).get("histology", {})
    assert "valueInteger 1" in run.stderr.replace("\n", " ")


def test_patient_view_assesses_the_record(tmp_path: Path) -> None:
    """patient-view on the same record had given one card, "Nothing was assessed"; it
    now assesses it, necrosis unknown (no low risk claimed)."""
    client = TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                             cds=CdsSettings()), today=lambda: ON),
                        base_url="http://localhost")
    bundle = _record("histology-necrosis", valueInteger=1)
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    assert not any("not possible" in c["summary"] or "Nothing was assessed" in c["detail"]
                   for c in cards), cards
    assert "risk low" not in cards[0]["summary"]


def test_to_case_prints_a_unit_code_as_written(tmp_path: Path) -> None:
    """A size of 2 [in_i] is read as 5.08 cm, and the note says so with the UCUM code as
    the record writes it: the console had read '[in_i]' as markup and dropped it ("the
    size 2 is read as 5.08 cm"), hiding the unit the conversion came from."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_record("tumour-size", valueQuantity={
        "value": 2, "unit": "in", "system": UCUM, "code": "[in_i]"})), "utf-8")
    run = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
    assert run.returncode == 0, run.stderr
    assert "the size 2 [in_i] is read as 5.08 cm" in " ".join(run.stderr.split())


def test_a_feature_found_but_not_read_is_not_said_not_found() -> None:
    """Necrosis given as valueInteger 1: the record holds it, pecoma cannot read it. It is
    unknown either way (unknown is not absent), but "not found in the bundle" would send
    the reader looking for a result that is there: it is listed as found and not read,
    with where and why."""
    bc = _read(_record("histology-necrosis", valueInteger=1))
    assert "histology.necrosis" not in bc.not_found
    assert "valueInteger 1" in bc.unreadable["histology.necrosis"]


def test_to_case_says_the_size_was_found_but_not_read(tmp_path: Path) -> None:
    """`pecoma fhir to-case` on a size written '9.5 x 6 cm': the header had listed
    tumour.size as "not found in the bundle" beside a note saying it was found; it is now
    listed as found and not read, quoting the value, and not as not found."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_record("tumour-size", valueString="9.5 x 6 cm")), "utf-8")
    run = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
    assert run.returncode == 0, run.stderr
    said = " ".join(run.stderr.split())
    not_found = said.split("not found in the bundle (unknown, not absent): ")[1]
    assert "tumour.size" not in not_found.split(" found but not read")[0], run.stderr
    assert ("found but not read (unknown, not absent): tumour.size: "
            "Observation/tumour-size: the size is given as the text '9.5 x 6 cm'") in said


def test_the_cds_card_says_found_but_not_read_apart() -> None:
    """The CDS card lists the size written '9.5 x 6 cm' as found but not read, not among
    the facts not found (and not dropped: it is still said to be unknown)."""
    from pecoma.web.cds.cards import md_not_found

    said = md_not_found(_read(_record("tumour-size", valueString="9.5 x 6 cm")))
    not_found, _, unread = said.partition("**Found but not read**")
    assert "`tumour.size`" in unread and "`tumour.size`" not in not_found
