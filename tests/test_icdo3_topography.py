"""A primary site given as an ICD-O-3 topography code is read as the site it names.

ICD-O-3 topography (the C00-C80 axis) is how cancer registries code a primary site, and
pecoma already reads ICD-O-3 for the morphology. A uterine PEComa whose bodySite was
ICD-O-3 C54.9 "Corpus uteri", C54.3 "Fundus uteri" or C55.9 with no display was read as
site 'other' ("names no site the guideline distinguishes"): S15's epirubicin with
ifosfamide (REC-UTERINE-EPI-IFO), reported for malignant uterine PEComa, was lost, and
the gynecologic risk criteria (risk.py) no longer applied. Same disease, same advice,
whatever label the EHR picked: the code decides the site, whatever its display says.

Where each code comes from (NCI SEER, staging.seer.cancer.gov: the staging schemas'
primary-site lists and the SEER training modules; the SEER site recode table for the
digestive ranges):

* C53.0 endocervix, C53.1 exocervix, C53.8 overlapping lesion, C53.9 cervix uteri
  (schema "Cervix Uteri") -> uterus: the cervix is part of the uterus (S15), and
  ``tumour.cervix`` yes;
* C54.0 isthmus uteri, C54.1 endometrium, C54.2 myometrium, C54.3 fundus uteri, C54.8
  overlapping lesion of corpus uteri, C54.9 corpus uteri, C55.9 uterus NOS (schema
  "Corpus Uteri; Uterus, NOS") -> uterus; the corpus, endometrium, myometrium and fundus
  are no cervix (``tumour.cervix`` no); the isthmus (the lower uterine segment, next to
  the cervix), an overlapping lesion and the uterus NOS say neither (unknown);
* C56.9 ovary (schema "Ovary"), C57.0 fallopian tube (schema "Fallopian Tube"), C57.2
  round ligament, C57.3 parametrium, C57.4 uterine adnexa (SEER training, ovarian
  abstracting tips: the "Adnexa Uterine Other" schema), C51.0-C51.2, C51.8, C51.9 vulva
  (schema "Vulva"), C52.9 vagina NOS (schema "Vagina") -> other_gynecologic;
* C57.1 broad ligament (the same training page) -> broad_ligament;
* C64.9 kidney (SEER coding guidelines, kidney), C22.0 liver and C22.1 intrahepatic bile
  duct (schema "Liver"), C34.0-C34.3, C34.8, C34.9 lung (schema "Lung"), C48.0
  retroperitoneum (schema "Retroperitoneum"), C49.0-C49.6, C49.8, C49.9 connective,
  subcutaneous and other soft tissues (schema "Soft Tissue"), C67.0-C67.9 bladder
  (schema "Bladder"), C15-C21 oesophagus to anus and C25 pancreas (schema "Pancreas"; the
  site's words already read the pancreas as gastrointestinal) -> those sites;
* C48.2 peritoneum NOS (schema "Retroperitoneum") names no site of the case format: read
  as an unknown site is, 'other', with the note.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from cli_support import run_cli
from fhir_support import hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 6)
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
SNOMED = "http://snomed.info/sct"
#: A metastatic uterine PEComa (hysterectomy R0 in 2023, a lung metastasis in 2025)
#: whose primary site is given only as ICD-O-3 C54.9, no display, no text.
RECORD = Path(__file__).parent / "data" / "icdo3" / "corpus-uteri-metastatic.json"
S15 = "REC-UTERINE-EPI-IFO"
NO_SITE_NOTE = "names no site the guideline distinguishes"


def record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORD.read_text(encoding="utf-8"))
    return data


def with_site(*concepts: dict[str, Any]) -> dict[str, Any]:
    """The record with the PEComa's and the hysterectomy's bodySite replaced."""
    bundle = copy.deepcopy(record())
    for entry in bundle["entry"]:
        if "bodySite" in entry["resource"]:
            entry["resource"]["bodySite"] = copy.deepcopy(list(concepts))
    return bundle


def coded(code: str, display: str | None = None, system: str = ICDO3) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON)


class TestTheReader:
    @pytest.mark.parametrize(("code", "display"), [
        ("C54.9", None), ("C54.9", "Corpus uteri"), ("C549", None),
        ("C54.3", "Fundus uteri"), ("C54.1", "Endometrium"), ("C54.2", "Myometrium"),
        ("C54.0", "Isthmus uteri"), ("C54.8", None), ("C55.9", None),
        ("C55.9", "Uterus, NOS"), ("C53.9", None), ("C53.0", "Endocervix"),
    ])
    def test_the_uterus_and_its_parts_are_the_uterus(self, code: str,
                                                     display: str | None) -> None:
        """C53 cervix uteri, C54 corpus uteri, C55.9 uterus NOS: the uterus (S15's
        uterine primary, the gynecologic criteria), with no note that the guideline does
        not distinguish the site."""
        bc = read(with_site(coded(code, display)))
        assert bc.case.tumour.primary_site.value == "uterus"
        assert not any(NO_SITE_NOTE in n for n in bc.notes)

    @pytest.mark.parametrize("system", ["urn:oid:2.16.840.1.113883.6.43.1",
                                        "http://hl7.org/fhir/sid/icd-o-3"])
    def test_the_other_names_of_the_code_system(self, system: str) -> None:
        """The OID and the older URI of ICD-O-3, as the morphology is read."""
        bc = read(with_site(coded("C54.9", system=system)))
        assert bc.case.tumour.primary_site.value == "uterus"

    @pytest.mark.parametrize(("code", "site"), [
        ("C56.9", "other_gynecologic"), ("C57.0", "other_gynecologic"),
        ("C57.1", "broad_ligament"), ("C57.3", "other_gynecologic"),
        ("C51.9", "other_gynecologic"), ("C51.0", "other_gynecologic"),
        ("C52.9", "other_gynecologic"),
        ("C64.9", "kidney"), ("C22.0", "liver"), ("C22.1", "liver"),
        ("C34.1", "lung"), ("C34.9", "lung"), ("C48.0", "retroperitoneum"),
        ("C49.2", "soft_tissue"), ("C49.9", "soft_tissue"), ("C67.9", "bladder"),
        ("C67.2", "bladder"), ("C16.9", "gastrointestinal"), ("C18.7", "gastrointestinal"),
        ("C20.9", "gastrointestinal"), ("C15.5", "gastrointestinal"),
        ("C25.9", "gastrointestinal"),
    ])
    def test_each_site_of_the_case_format(self, code: str, site: str) -> None:
        bundle = with_site(coded(code))
        # the hysterectomy is the resection of a uterine primary only
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"]["resourceType"] != "Procedure"]
        assert read(bundle).case.tumour.primary_site.value == site

    @pytest.mark.parametrize(("code", "display", "site"), [
        ("C56.9", "Corpus uteri", "other_gynecologic"),
        ("C54.9", "Ovary", "uterus"),
        ("C53.9", "Vagina", "uterus"),
    ])
    def test_the_code_decides_whatever_the_display_says(self, code: str, display: str,
                                                        site: str) -> None:
        """One code, one site (as for a known SNOMED CT code): the display does not
        change it."""
        assert read(with_site(coded(code, display))).case.tumour.primary_site.value == site

    def test_a_topography_the_format_does_not_distinguish_is_other_with_the_note(
            self) -> None:
        """C48.2 peritoneum NOS: no site of the case format; read as an unknown site is
        ('other', noted), not guessed."""
        bc = read(with_site(coded("C48.2")))
        assert bc.case.tumour.primary_site.value == "other"
        assert any(NO_SITE_NOTE in n for n in bc.notes)

    @pytest.mark.parametrize("text", ["Corpus uteri", "Fundus uteri", "Uterine fundus",
                                      "Uterine corpus"])
    def test_the_words_of_the_uterine_body_with_no_known_code(self, text: str) -> None:
        """No code pecoma knows: the words name the uterus."""
        bc = read(with_site({"text": text}))
        assert bc.case.tumour.primary_site.value == "uterus"
        assert bc.case.tumour.cervix.value == "unknown"  # words never say


def test_a_metastasis_site_by_topography() -> None:
    """A secondary cancer with no site of its own (SNOMED CT 128462008) whose bodySite is
    ICD-O-3 C34.9 lung: a lung metastasis (S16's metastasectomy criteria), not 'other'."""
    bundle = record()
    met = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == "met1")
    met["code"] = coded("128462008", system=SNOMED)
    met["bodySite"] = [coded("C34.9")]
    assert [x.site.value for x in read(bundle).case.stage.metastases] == ["lung"]


class TestTheCervix:
    """A code of the cervix says the uterine primary is cervical ('tumour.cervix' yes); a
    code of the uterine body (corpus, endometrium, myometrium, fundus) that it is not
    (no); the isthmus (the lower uterine segment, next to the cervix), an overlapping
    lesion, the uterus NOS, the uterus's SNOMED CT code and words say neither
    (unknown)."""

    @pytest.mark.parametrize(("concept", "cervix"), [
        (coded("C53.9"), "yes"), (coded("C53.1", "Exocervix"), "yes"),
        (coded("71252005", "Cervix uteri structure", SNOMED), "yes"),
        (coded("C54.9"), "no"), (coded("C54.3"), "no"), (coded("C54.1"), "no"),
        (coded("C54.2"), "no"), (coded("2739003", "Endometrial structure", SNOMED), "no"),
        (coded("C54.0"), "unknown"), (coded("C54.8"), "unknown"), (coded("C55.9"), "unknown"),
        (coded("35039007", "Uterine structure", SNOMED), "unknown"),
        ({"text": "Cervix uteri"}, "unknown"),
    ])
    def test_by_code(self, concept: dict[str, Any], cervix: str) -> None:
        bc = read(with_site(concept))
        assert bc.case.tumour.primary_site.value == "uterus"
        assert bc.case.tumour.cervix.value == cervix
        if cervix != "unknown":
            assert bc.sources["tumour.cervix"] == "Condition/pecoma.bodySite"

    def test_the_cervix_beside_the_corpus_is_unknown(self) -> None:
        """Both named: where in the uterus it arose cannot be told."""
        bc = read(with_site(coded("C53.9"), coded("C54.9")))
        assert bc.case.tumour.primary_site.value == "uterus"
        assert bc.case.tumour.cervix.value == "unknown"


def test_to_case_reads_c54_9_as_the_uterus(tmp_path: Path) -> None:
    """`pecoma fhir to-case` on the record coded only by C54.9: the uterus, the corpus
    (not the cervix), and no note that the site is one the guideline does not
    distinguish."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(record()), encoding="utf-8")
    run = run_cli("fhir", "to-case", "--on", ON.isoformat(), str(path), columns=200)
    assert run.returncode == 0, run.stderr
    case = parse_case(json.loads(run.stdout))
    assert case.tumour.primary_site.value == "uterus"
    assert case.tumour.cervix.value == "no"
    assert NO_SITE_NOTE not in " ".join(run.stderr.split())


def test_patient_view_shows_s15_for_a_corpus_uteri_primary(tmp_path: Path) -> None:
    """CDS patient-view on the metastatic corpus-uteri PEComa coded only by C54.9: the
    assessment card carries S15's epirubicin with ifosfamide, as for the same record
    coded by SNOMED CT 35039007 (uterus)."""
    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                               cds=CdsSettings()), today=lambda: ON)
    client = TestClient(app, base_url="http://localhost")

    def detail(bundle: dict[str, Any]) -> str:
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        cards = r.json()["cards"]
        assert cards[0]["summary"].startswith("PEComa (metastatic)")
        return str(cards[0]["detail"])

    shown = detail(record())
    assert "Uterine primary: epirubicin with ifosfamide is an option" in shown
    assert "guideline S15" in shown
    assert detail(with_site(coded("35039007", "Uterine structure", SNOMED))) == shown
    assert S15 in {item.id for item in assess(read(record()).case, ON).recommendations}
