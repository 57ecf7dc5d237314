"""A reference names the same resource however FHIR lets it be written: the reader's one
rule (``pecoma.fhir.references``) for every link it follows.

The significance of a genomic variant given by another Observation (a genomics-reporting
DiagnosticImplication ``derivedFrom`` the variant) had been found only when the link was
written exactly ``Observation/<id>``: a transaction Bundle's ``urn:uuid``, an absolute URL
on the record's server or a version ``/_history/n`` left a TSC2 'pathogenic' unknown, with
a note saying the significance was "not given" and the variant listed as "a variant of a
gene other than TSC1, TSC2 or TFE3". Whose an Observation's ``focus`` is had been told by
cutting the reference's text: a versioned reference to another patient or a relative, or
a ``urn:uuid`` naming a RelatedPerson, was read as this patient's result.

Records: tests/data/mcode/uterus-localized.json (a uterine PEComa; its TSC2 variant
Observation/genomic-variant-tsc2-pecoma-u is present and its significance, pathogenic, is
on Observation/genomic-diagnostic-implication-tsc2-pecoma-u, derivedFrom the variant) and
the shipped example localized-high-risk (necrosis present).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Feature, VariantStatus
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.references import resolver_for
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from cli_support import run_cli
from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
MCODE = Path(__file__).parent / "data" / "mcode"
VARIANT = "genomic-variant-tsc2-pecoma-u"
IMPLICATION = "genomic-diagnostic-implication-tsc2-pecoma-u"
#: The server of the record's fullUrls (its Patient's among them).
SERVER = "http://example.org/fhir"


def _uterus() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MCODE / "uterus-localized.json").read_text("utf-8"))
    return data


def _resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid)


def _derived_from(ref: str) -> dict[str, Any]:
    """The uterine record with the implication's derivedFrom written ``ref``."""
    b = _uterus()
    _resource(b, IMPLICATION)["derivedFrom"] = [{"reference": ref}]
    return b


def _transaction(bundle: dict[str, Any]) -> dict[str, Any]:
    """The record as a transaction Bundle: each entry's fullUrl a ``urn:uuid``, every
    reference to it written so, the resources without ids (as a client POSTs them)."""
    out = copy.deepcopy(bundle)
    out["type"] = "transaction"
    urls = {f"{e['resource']['resourceType']}/{e['resource']['id']}":
            f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, e['resource']['id'])}"
            for e in out["entry"]}
    text = json.dumps(out)
    for ref, url in urls.items():
        text = text.replace(f'"{ref}"', f'"{url}"')
    read: dict[str, Any] = json.loads(text)
    for e in read["entry"]:
        res = e["resource"]
        e["fullUrl"] = urls[f"{res['resourceType']}/{res.pop('id')}"]
        e["request"] = {"method": "POST", "url": res["resourceType"]}
    return read


def _tsc2_notes(bc: BundleCase) -> list[str]:
    return [n for n in bc.notes if "TSC2" in n]


class TestTheVariantASignificanceIsDerivedFrom:
    @pytest.mark.parametrize("ref", [
        "Observation/genomic-variant-tsc2-pecoma-u",
        f"{SERVER}/Observation/genomic-variant-tsc2-pecoma-u",
        "Observation/genomic-variant-tsc2-pecoma-u/_history/2",
        f"{SERVER}/Observation/genomic-variant-tsc2-pecoma-u/_history/2",
        "HTTP://EXAMPLE.ORG/fhir/Observation/genomic-variant-tsc2-pecoma-u",
    ], ids=["relative", "absolute-on-the-record-s-server", "versioned",
            "absolute-versioned", "server-in-another-case"])
    def test_each_way_of_writing_the_link_gives_the_significance(self, ref: str) -> None:
        """The implication says pathogenic for the record's TSC2 variant, however its
        derivedFrom is written: the server of the Patient's fullUrl is the record's (a
        host compared in any case), and a version names the variant the record holds.
        Expected: molecular.tsc2 'pathogenic' from the variant, no note saying the
        significance is not given, the variant and the implication both read. Only the
        relative form had given it."""
        bc = case_from_bundle(_derived_from(ref), on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.pathogenic
        assert bc.sources["molecular.tsc2"] == f"Observation/{VARIANT}"
        assert not any("not given" in n for n in _tsc2_notes(bc)), bc.notes
        assert not any("other than TSC1" in x or "genomic" in x for x in bc.not_read), \
            bc.not_read

    def test_a_transaction_bundle_of_urn_uuids(self) -> None:
        """The same record as a transaction Bundle (urn:uuid fullUrls and references, no
        ids), as a client posts it: the subject and the related Condition already
        resolved by their urn:uuid, the variant's significance did not. Expected: tsc2
        'pathogenic', as the collection Bundle reads."""
        bc = case_from_bundle(_transaction(_uterus()), on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.pathogenic
        assert bc.case.molecular == case_from_bundle(_uterus(), on=ON).case.molecular
        assert not any("not given" in n for n in _tsc2_notes(bc)), bc.notes
        assert not any("other than TSC1" in x for x in bc.not_read), bc.not_read

    def test_the_command_line_reads_the_transaction_bundle(self, tmp_path: Path) -> None:
        """`pecoma fhir to-case` on that transaction Bundle: the case file it prints
        holds molecular.tsc2 'pathogenic' (it had printed it unknown)."""
        path = tmp_path / "txn.json"
        path.write_text(json.dumps(_transaction(_uterus())), "utf-8")
        run = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["molecular"]["tsc2"] == "pathogenic"
        assert "other than TSC1" not in run.stderr

    @pytest.mark.parametrize("ref", [
        "https://other.example/fhir/Observation/genomic-variant-tsc2-pecoma-u",
        "Observation/not-in-the-record",
        "urn:uuid:0b7c1d3e-0000-4000-8000-000000000009",
    ], ids=["another-server", "not-held", "urn-uuid-of-no-entry"])
    def test_a_link_to_no_variant_of_the_record_is_said(self, ref: str) -> None:
        """A derivedFrom naming no variant the record holds (on another server the same
        id may be another patient's variant): the significance is taken for no variant,
        so tsc2 stays unknown (never pathogenic by guess). Expected: the variant's note
        says a significance is given for a variant the record does not hold, quoting the
        link, instead of a bare "not given"; the implication is listed as not read with
        why; the variant as a TSC2 variant whose significance is not given (it had been
        listed as "a variant of a gene other than TSC1, TSC2 or TFE3")."""
        bc = case_from_bundle(_derived_from(ref), on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.unknown
        note = next(n for n in _tsc2_notes(bc) if "not given" in n)
        assert "a variant the record does not hold" in note and ref[:60] in note
        listed = " ".join(bc.not_read)
        assert f"Observation/{IMPLICATION}" in listed
        assert "a clinical significance of a variant the record does not hold" in listed
        assert "a TSC2 variant whose clinical significance is not given" in listed
        assert "other than TSC1" not in listed

    def test_a_tsc2_variant_with_no_significance_is_not_called_another_gene(self) -> None:
        """The variant with no implication at all: tsc2 unknown, the note saying its
        significance is not given, and the variant listed as a TSC2 variant whose
        significance is not given (it had been listed as a variant of another gene)."""
        b = _uterus()
        b["entry"] = [e for e in b["entry"] if e["resource"]["id"] != IMPLICATION]
        bc = case_from_bundle(b, on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.unknown
        assert any("not given" in n for n in _tsc2_notes(bc))
        listed = " ".join(bc.not_read)
        assert "a TSC2 variant whose clinical significance is not given" in listed
        assert "other than TSC1" not in listed


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("references")
    return TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp / 'cds.sqlite3'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")


class TestPatientView:
    def test_a_versioned_link_in_the_prefetch_gives_the_tsc2_support(
            self, client: TestClient) -> None:
        """The uterine record with a lung metastasis (ICD-10-CM C78.00, 2025-06-01: the
        mTOR inhibitor is the first line) sent as prefetch, the implication derivedFrom
        the variant by 'Observation/<id>/_history/2' (a server's versioned reference).
        Expected: the card's supplementary note that a TSC1/TSC2 alteration was found
        (SUPP-TSC-ALTERED), as with the plain reference, and no note that the
        significance is not given; the card had asked for the molecular tests instead."""
        details = []
        for ref in (f"Observation/{VARIANT}", f"Observation/{VARIANT}/_history/2"):
            b = _derived_from(ref)
            b["entry"].append({"resource": {
                "resourceType": "Condition", "id": "met-lung",
                "clinicalStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active"}]},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                     "code": "C78.00"}]},
                "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
                "onsetDateTime": "2025-06-01"}})
            body = hook_request("patient-view", patient_id(b), prefetch=prefetch_of(b))
            r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
            assert r.status_code == 200, r.text
            details.append(" ".join(c["detail"] for c in r.json()["cards"]))
        for detail in details:
            assert "TSC1/TSC2 alteration found" in detail
            assert "clinical significance is not given" not in detail


class TestTheFocusOfAResult:
    """The necrosis result of the example localized-high-risk, its focus written each
    way: a focus on another person leaves it not read (necrosis stays unknown), one on
    this patient or the tumour reads it (necrosis present)."""

    def _read(self, focus: str, extra: list[tuple[str, dict[str, Any]]] | None = None
              ) -> BundleCase:
        bundle = copy.deepcopy(example("localized-high-risk"))
        _resource(bundle, "histology-necrosis")["focus"] = [{"reference": focus}]
        bundle["entry"] += [{"fullUrl": url, "resource": res} for url, res in extra or []]
        return case_from_bundle(bundle)

    @pytest.mark.parametrize("focus", [
        "Patient/someone-else/_history/2",
        "RelatedPerson/mother/_history/1",
        "FamilyMemberHistory/fmh-1/_history/3",
    ])
    def test_a_versioned_focus_on_another_person_is_not_read(self, focus: str) -> None:
        """A version on the reference had hidden whom it names (the text was cut at its
        last two parts, '_history/2'): the result was read as the patient's necrosis.
        Expected: not read, the note saying its focus is not this patient."""
        bc = self._read(focus)
        assert bc.case.histology.necrosis is Feature.unknown
        assert any("its focus" in n and "is not this patient" in n for n in bc.notes)

    def test_a_urn_uuid_focus_naming_a_relative_is_not_read(self) -> None:
        """A focus 'urn:uuid:…' that is the fullUrl of a RelatedPerson entry (a
        transaction Bundle's way): it had been read as the patient's result. Expected:
        not read, as 'RelatedPerson/mother' is."""
        url = "urn:uuid:5d4f1c2e-0000-4000-8000-00000000a001"
        pid = patient_id(example("localized-high-risk"))
        bc = self._read(url, [(url, {"resourceType": "RelatedPerson", "id": "mother",
                                     "patient": {"reference": f"Patient/{pid}"}})])
        assert bc.case.histology.necrosis is Feature.unknown
        assert any("its focus" in n and "RelatedPerson" in n for n in bc.notes)

    def test_a_focus_on_the_patient_on_another_server_is_not_attributed(self) -> None:
        """A focus 'https://other.example/fhir/Patient/<the patient's id>': on another
        server the same id may be another person, as the subject rule says. It had been
        read as this patient's result (the id alone was compared). Expected: not read,
        listed as a result whose patient cannot be confirmed, the observations not read
        in full."""
        pid = patient_id(example("localized-high-risk"))
        bc = self._read(f"https://other.example/fhir/Patient/{pid}")
        assert bc.case.histology.necrosis is Feature.unknown
        assert any("its patient cannot be confirmed" in x and "its focus" in x
                   for x in bc.not_read), bc.not_read
        assert "observations" in bc.unread

    @pytest.mark.parametrize("how", ["relative", "versioned", "urn-uuid"])
    def test_a_focus_on_this_patient_is_read(self, how: str) -> None:
        """The focus names this patient (relative, with a version, or by the urn:uuid
        fullUrl of the patient's own Patient entry): the result is read, necrosis
        present (the safe reading of a result about the patient)."""
        bundle = copy.deepcopy(example("localized-high-risk"))
        pid = patient_id(bundle)
        entry = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        focus = {"relative": f"Patient/{pid}", "versioned": f"Patient/{pid}/_history/4",
                 "urn-uuid": str(entry.get("fullUrl"))}[how]
        _resource(bundle, "histology-necrosis")["focus"] = [{"reference": focus}]
        assert case_from_bundle(bundle).case.histology.necrosis is Feature.present


class TestTheRule:
    def test_a_reference_with_a_trailing_slash_names_nothing(self) -> None:
        """'…/Medication/m1/' is no FHIR reference (its id is empty), as the subject rule
        already said of 'Patient/p1/': it resolves to nothing, on the record's server too
        (the medication is then not identified, said), never to the Medication m1."""
        med = {"resourceType": "Medication", "id": "m1"}
        resolve = resolver_for([med], None, ["https://ehr.example/fhir"])
        assert resolve("https://ehr.example/fhir/Medication/m1") is med
        assert resolve("https://ehr.example/fhir/Medication/m1/") is None

    def test_a_versioned_full_url_resolves(self) -> None:
        """An entry's fullUrl given with a version (urn or absolute) names that entry."""
        med = {"resourceType": "Medication", "id": "m1"}
        resolve = resolver_for([med], {"https://ehr.example/fhir/Medication/m1": med})
        assert resolve("https://ehr.example/fhir/Medication/m1/_history/7") is med


class TestTheServerOfAReference:
    """Two ways of writing one server's base name it alike (RFC 3986 section 6.2.3,
    scheme-based normalisation): the scheme's default port written or not (80 for http,
    443 for https), the scheme and host in any case. A reference written
    'http://example.org:80/fhir/...' beside fullUrls 'http://example.org/fhir/...' had been
    read as on another server: every reference of the record resolved to nothing and the
    bundle was refused (18 problems, "the bundle must hold the PEComa diagnosis")."""

    @pytest.mark.parametrize("base", [
        "http://example.org:80/fhir", "HTTP://Example.ORG:80/fhir",
        "http://example.org:/fhir"])
    def test_every_reference_with_the_default_port_reads_the_record(self, base: str
                                                                    ) -> None:
        """The uterine record with every relative reference rewritten '<base>/Type/id',
        its fullUrls 'http://example.org/fhir/...': read as the record written with
        relative references (the same case, the same sources)."""
        text = json.dumps(_uterus())
        for e in _uterus()["entry"]:
            ref = f"{e['resource']['resourceType']}/{e['resource']['id']}"
            text = text.replace(f'"reference": "{ref}"', f'"reference": "{base}/{ref}"')
        assert base in text
        bc = case_from_bundle(json.loads(text), on=ON)
        plain = case_from_bundle(_uterus(), on=ON)
        assert bc.case == plain.case
        assert bc.sources == plain.sources

    def test_the_default_port_of_each_scheme(self) -> None:
        """https with 443 written is the server without it, http with 80 too; another
        port (8080, or 443 on http) is another server: its Type/id may be another
        resource, so it resolves to nothing."""
        med = {"resourceType": "Medication", "id": "m1"}
        https = resolver_for([med], None, ["https://ehr.example/fhir"])
        assert https("https://EHR.example:443/fhir/Medication/m1") is med
        assert https("https://ehr.example:8443/fhir/Medication/m1") is None
        assert https("http://ehr.example/fhir/Medication/m1") is None
        http = resolver_for([med], None, ["http://ehr.example:80/fhir/"])
        assert http("http://ehr.example/fhir/Medication/m1") is med
        assert http("http://ehr.example:443/fhir/Medication/m1") is None
        assert http("http://ehr.example:8080/fhir/Medication/m1") is None
        assert http("http://ehr.example/FHIR/Medication/m1") is None  # a path keeps its case


UNCERTAIN = {"coding": [{"system": "http://loinc.org", "code": "LA26333-7",
                         "display": "Uncertain significance"}]}


def _second_implication(effective: str, first: bool = False) -> dict[str, Any]:
    """The uterine record with a second implication for its TSC2 variant, saying
    'uncertain significance' (the first says pathogenic, effective 2024-04-25), dated
    ``effective``; ``first``: its entry before the first implication's."""
    b = _uterus()
    second = copy.deepcopy(_resource(b, IMPLICATION))
    second["id"] = "implication-2"
    second["effectiveDateTime"] = effective
    second["component"][0]["valueCodeableConcept"] = UNCERTAIN
    entry = {"fullUrl": f"{SERVER}/Observation/implication-2", "resource": second}
    at = next(i for i, e in enumerate(b["entry"]) if e["resource"]["id"] == IMPLICATION)
    b["entry"].insert(at if first else at + 1, entry)
    return b


class TestImplicationsThatDisagree:
    """Two DiagnosticImplications give one variant different clinical significances. The
    reader put each on the variant in turn, so the one read last won without a word,
    whatever their times. Now they follow the rule for results of one fact that disagree
    (docs/fhir.md): the later wins, with a note naming the earlier one set aside; two of
    one time that disagree leave the significance unknown, noted with both."""

    @pytest.mark.parametrize("first", [False, True], ids=["in-time-order", "entries-reversed"])
    def test_the_later_wins_and_the_earlier_is_named(self, first: bool) -> None:
        """Pathogenic on 2024-04-25, reclassified as uncertain significance on 2025-02-01:
        the later says what is known now, so tsc2 is 'vus' (not 'pathogenic'), whatever
        the order of the entries, and a note names the pathogenic one set aside."""
        bc = case_from_bundle(_second_implication("2025-02-01", first), on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.vus
        note = next(n for n in bc.notes if "set aside" in n)
        assert note == (f"Observation/{VARIANT}: the clinical significance "
                        "Observation/implication-2 gives (uncertain), the later result, is "
                        f"kept; the earlier Observation/{IMPLICATION} (pathogenic) is set "
                        "aside")

    @pytest.mark.parametrize("effective", ["2024-04-25", "2024-04"],
                             ids=["same-day", "month-holding-the-day"])
    def test_two_of_one_time_leave_it_unknown(self, effective: str) -> None:
        """Pathogenic and uncertain significance of one time (the same day, or a month
        holding it): which is right cannot be told, and the bundle's order says nothing,
        so tsc2 is unknown (it had been whichever came last), noted with both, and the
        variant listed as not read with why (never 'significance not given')."""
        for first in (False, True):
            bc = case_from_bundle(_second_implication(effective, first), on=ON)
            assert bc.case.molecular.tsc2 is VariantStatus.unknown
            note = next(n for n in bc.notes if "given differently" in n
                        and n.startswith(f"Observation/{VARIANT}: its"))
            assert "Observation/implication-2 (uncertain)" in note
            assert f"Observation/{IMPLICATION} (pathogenic)" in note
            assert note.endswith("its significance is unknown")
            assert not any("not given" in n for n in _tsc2_notes(bc)), bc.notes
            listed = " ".join(bc.not_read)
            assert ("a TSC2 variant whose clinical significance the Observations derived "
                    "from it give differently, of one time") in listed

    def test_the_same_significance_twice_is_no_disagreement(self) -> None:
        """Control: a second implication of one time saying pathogenic too changes
        nothing: tsc2 'pathogenic', no note of a disagreement."""
        b = _second_implication("2024-04-25")
        _resource(b, "implication-2")["component"][0]["valueCodeableConcept"] = copy.deepcopy(
            _resource(b, IMPLICATION)["component"][0]["valueCodeableConcept"])
        bc = case_from_bundle(b, on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.pathogenic
        assert not any("differently" in n or "set aside" in n for n in bc.notes), bc.notes

    def test_patient_view_shows_no_tsc_support_on_a_disagreement(
            self, client: TestClient) -> None:
        """The record of one time's disagreement, with a lung metastasis, on patient-view:
        no 'TSC1/TSC2 alteration found' support (it rested on the pathogenic one read
        last), and the card says the significances disagree."""
        b = _second_implication("2024-04-25")
        b["entry"].append({"resource": _LUNG_METASTASIS})
        body = hook_request("patient-view", patient_id(b), prefetch=prefetch_of(b))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        detail = " ".join(c["detail"] for c in r.json()["cards"])
        assert "TSC1/TSC2 alteration found" not in detail
        assert "give its clinical significance differently" in detail


_LUNG_METASTASIS: dict[str, Any] = {
    "resourceType": "Condition", "id": "met-lung",
    "clinicalStatus": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
        "code": "active"}]},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.00"}]},
    "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
    "onsetDateTime": "2025-06-01"}


class TestAnImplicationOfAVariantNotRead:
    """An implication whose derivedFrom names a variant the reader does not read (entered
    in error) gave nothing, yet was counted as read: nothing said why it was left."""

    def test_a_variant_entered_in_error(self) -> None:
        """The TSC2 variant withdrawn (status entered-in-error): tsc2 stays unknown, and
        the implication is listed as not read, naming the variant and its status."""
        b = _uterus()
        _resource(b, VARIANT)["status"] = "entered-in-error"
        bc = case_from_bundle(b, on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.unknown
        listed = next(x for x in bc.not_read if f"Observation/{IMPLICATION}" in x)
        assert (f"a clinical significance of a variant not read (Observation/{VARIANT}: "
                "status 'entered-in-error')") in listed

    def test_a_variant_of_another_tumour(self) -> None:
        """The TSC2 variant's focus names another Condition of the record (a lung
        metastasis's Condition is the PEComa's; a breast cancer's is not): the variant is
        not read as the PEComa's, so neither is its implication, listed with the variant's
        own reason."""
        b = _uterus()
        b["entry"].append({"resource": {
            "resourceType": "Condition", "id": "breast-ca",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                 "code": "C50.911"}]},
            "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
            "onsetDateTime": "2023-01-10"}})
        _resource(b, VARIANT)["focus"] = [{"reference": "Condition/breast-ca"}]
        bc = case_from_bundle(b, on=ON)
        assert bc.case.molecular.tsc2 is VariantStatus.unknown
        listed = next(x for x in bc.not_read if f"Observation/{IMPLICATION}" in x)
        assert f"a clinical significance of a variant not read (Observation/{VARIANT}: " \
               in listed

    def test_the_command_line_lists_it(self, tmp_path: Path) -> None:
        """`pecoma fhir to-case` on the record with the variant entered in error: its
        stderr lists the implication as not read, saying why."""
        b = _uterus()
        _resource(b, VARIANT)["status"] = "entered-in-error"
        path = tmp_path / "record.json"
        path.write_text(json.dumps(b), "utf-8")
        run = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
        assert run.returncode == 0, run.stderr
        assert "tsc2" not in json.loads(run.stdout).get("molecular", {})
        assert "a clinical significance of a variant not read" in run.stderr
