"""A resection of the primary coded by its procedure code alone, and what the cards say of
a procedure set aside.

A Coding's ``display`` is optional (FHIR R4): an EHR may send a nephrectomy as SNOMED CT
175905003, CPT 50230 or ICD-10-PCS 0TT10ZZ with no words. Read by words only, such a
nephrectomy of a kidney PEComa with an R1 margin was "not a resection of the primary
tumour": the critical R1 card disappeared and the summary proposed resecting a kidney
removed three years before, and no card said a Procedure had been set aside. The codes are
those of :mod:`pecoma.fhir.resection_codes` (each with its published source); a biopsy stays
a biopsy; a Procedure done for the PEComa whose code pecoma does not know is named on the
card, never silently dropped.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import PrimarySite, SurgeryStatus
from pecoma.fhir import case_from_bundle
from pecoma.fhir.resection_codes import RESECTION_CODES, SYSTEMS
from pecoma.web import WebConfig, create_app
from pecoma.web.cds.discovery import PATIENT_VIEW

from fhir_support import as_searched, hook_request, prefetch_of

ON = dt.date(2026, 12, 6)
ROOT = Path(__file__).resolve().parent
SCT = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
NEPHRECTOMY = "cancer-related-surgical-procedure-nephrectomy"
PECOMA = "primary-cancer-condition-kidney"


def kidney_record(code: dict[str, Any], *, reason: bool = True) -> dict[str, Any]:
    """A localized kidney PEComa (the mCODE kidney record without its metastases, with a
    HistoryOfMetastaticCancer stating none at diagnosis), resected on 2023-06-20 with a
    margin positive (R1, in the Procedure's note), the nephrectomy coded ``code`` and,
    with ``reason``, linked to the PEComa by ``reasonReference``."""
    record: dict[str, Any] = as_searched(json.loads(
        (ROOT / "data/mcode/kidney-metastatic.json").read_text()))
    pid = record["entry"][0]["resource"]["id"]
    kept = []
    for entry in record["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Condition" and res["id"] != PECOMA:
            continue  # the metastases
        if res["resourceType"] in ("Observation",) and res["id"].startswith("cancer-disease"):
            continue
        if res["resourceType"].startswith("Medication") or res["resourceType"] == "Medication":
            continue
        if res["id"] == NEPHRECTOMY:
            res["code"] = code
            if reason:
                res["reasonReference"] = [{"reference": f"Condition/{PECOMA}"}]
        kept.append(entry)
    kept.append({"resource": {
        "resourceType": "Observation", "id": "no-history-of-metastases", "status": "final",
        "code": {"coding": [{"system": SCT, "code": "1287652008"}]},
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2023-05-15",
        "valueBoolean": False, "focus": [{"reference": f"Condition/{PECOMA}"}]}})
    record["entry"] = kept
    return record


TEXT = {"text": "Radical nephrectomy, left"}
CODED = [
    pytest.param({"coding": [{"system": SCT, "code": "175905003"}]}, id="sct-total-nephrectomy"),
    pytest.param({"coding": [{"system": SCT, "code": "108022006"}]}, id="sct-kidney-excision"),
    pytest.param({"coding": [{"system": SCT, "code": "116033007"}]}, id="sct-radical"),
    pytest.param({"coding": [{"system": SCT, "code": "81516001"}]}, id="sct-partial"),
    pytest.param({"coding": [{"system": CPT, "code": "50230"}]}, id="cpt-50230"),
    pytest.param({"coding": [{"system": CPT, "code": "50220"}]}, id="cpt-50220"),
    pytest.param({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.12", "code": "50230"}]},
                 id="cpt-by-oid"),
    pytest.param({"coding": [{"system": PCS, "code": "0TT10ZZ"}]}, id="pcs-left-kidney"),
    pytest.param({"coding": [{"system": PCS, "code": "0TT00ZZ"}]}, id="pcs-right-kidney"),
    pytest.param({"coding": [{"system": PCS, "code": "0TB14ZZ"}]}, id="pcs-partial-lap"),
    pytest.param({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.4", "code": "0tt10zz"}]},
                 id="pcs-by-oid-lower-case"),
    pytest.param({"coding": [{"system": SCT, "code": "999999999"},
                             {"system": SCT, "code": "175905003"}]}, id="second-coding"),
]


class TestReadByCode:
    @pytest.mark.parametrize("code", CODED)
    def test_code_only_reads_as_the_text(self, code: dict[str, Any]) -> None:
        """The nephrectomy coded only by a resection code reads exactly as when named in
        words: performed on 2023-06-20, margin R1 from its note (the facts of the
        record, not of its shape)."""
        by_text = case_from_bundle(kidney_record(TEXT), on=ON).case.surgery
        bc = case_from_bundle(kidney_record(code), on=ON)
        assert bc.case.surgery == by_text
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.date == dt.date(2023, 6, 20)
        assert bc.case.surgery.margin is not None and bc.case.surgery.margin.value == "R1"
        assert not any(line.startswith("Procedure: linked") for line in bc.not_read)

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": SCT, "code": "175905003"}]}, id="sct"),
        pytest.param({"coding": [{"system": PCS, "code": "0TT10ZZ"}]}, id="pcs")])
    def test_without_reason_the_organ_of_the_code_decides(self, code: dict[str, Any]) -> None:
        """No reasonReference: a code that removes the kidney beside a kidney PEComa is
        the resection of the primary, as the word 'nephrectomy' is."""
        bc = case_from_bundle(kidney_record(code, reason=False), on=ON)
        assert bc.case.surgery.status is SurgeryStatus.performed

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": SCT, "code": "116140006"}]}, id="sct-hysterectomy"),
        pytest.param({"coding": [{"system": CPT, "code": "58150"}]}, id="cpt-hysterectomy"),
        pytest.param({"coding": [{"system": PCS, "code": "0FT00ZZ"}]}, id="pcs-liver")])
    def test_another_organ_without_reason_is_not_the_primary(self, code: dict[str, Any]
                                                             ) -> None:
        """A hysterectomy or a liver resection, not linked to the kidney PEComa, is not
        its resection: listed as not read (a resection of another site)."""
        bc = case_from_bundle(kidney_record(code, reason=False), on=ON)
        assert "surgery.status" in bc.not_found
        assert any("not shown to be of the PEComa primary" in line and NEPHRECTOMY in line
                   for line in bc.not_read)

    @pytest.mark.parametrize("words", ["Renal biopsy", "Core needle biopsy of kidney",
                                       "Radiofrequency ablation of renal mass"])
    def test_a_biopsy_stays_a_biopsy(self, words: str) -> None:
        """Words naming a biopsy or an ablation keep the Procedure no resection even when
        it carries a nephrectomy code (the record contradicts itself: the safer reading
        takes no resection as done, and the card names the Procedure)."""
        code = {"text": words, "coding": [{"system": SCT, "code": "175905003"}]}
        bc = case_from_bundle(kidney_record(code), on=ON)
        assert "surgery.status" in bc.not_found
        assert any(line.startswith("Procedure: a biopsy, aspiration, ablation or "
                                   "embolization") and NEPHRECTOMY in line
                   for line in bc.not_read)

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": CPT, "code": "50545"}]}, id="cpt-not-listed"),
        pytest.param({"coding": [{"system": SCT, "code": "387713003"}]}, id="sct-surgery"),
        pytest.param({"coding": [{"system": "urn:oid:1.2.3", "code": "NEPH-01"}]},
                     id="local-code")])
    def test_linked_but_unknown_code_is_said(self, code: dict[str, Any]) -> None:
        """A Procedure done for the PEComa (reasonReference) whose code pecoma does not
        know is not read as the resection (its kind is unknown, not 'no resection'):
        listed as linked to the PEComa with its code, and a note asks to check the
        surgery facts."""
        bc = case_from_bundle(kidney_record(code), on=ON)
        assert "surgery.status" in bc.not_found
        (line,) = [x for x in bc.not_read if NEPHRECTOMY in x]
        assert line.startswith("Procedure: linked to the PEComa, but its code (")
        assert code["coding"][0]["code"] in line
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a procedure for the PEComa")
                   and "surgery.status" in n for n in bc.notes)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cds-resection') / 'registry.db'}"
    app = create_app(WebConfig(database_url=url), today=lambda: ON)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def cards(client: TestClient, record: dict[str, Any]) -> list[dict[str, Any]]:
    pid = record["entry"][0]["resource"]["id"]
    r = client.post(f"/cds-services/{PATIENT_VIEW}",
                    json=hook_request("patient-view", pid, prefetch=prefetch_of(record)))
    assert r.status_code == 200, r.text[:300]
    out: list[dict[str, Any]] = r.json()["cards"]
    return out


class TestPatientView:
    @pytest.mark.parametrize("code", CODED[:1] + CODED[4:5] + CODED[7:8])
    def test_the_r1_card_stays(self, client: TestClient, code: dict[str, Any]) -> None:
        """The coded nephrectomy gives the same cards as the one named in words: the
        critical card that tumour may have been left behind (R1 margin), and no summary
        proposing a first resection of a kidney already removed."""
        by_text = cards(client, kidney_record(TEXT))
        coded = cards(client, kidney_record(code))
        assert [(c["indicator"], c["summary"]) for c in coded] == \
            [(c["indicator"], c["summary"]) for c in by_text]
        assert any(c["indicator"] == "critical" and "left behind" in c["summary"]
                   for c in coded)
        assert "Complete resection with adequate margins" not in coded[0]["summary"]

    def test_a_procedure_set_aside_is_on_the_card(self, client: TestClient) -> None:
        """A Procedure for the PEComa whose code pecoma does not know, and the biopsy of
        the record, are named on the summary card with why they were set aside, so the
        team can check that none of them removed the tumour (before, only the command
        line's stderr said so)."""
        got = cards(client, kidney_record({"coding": [{"system": CPT, "code": "50545"}]}))
        summary = next(c for c in got if c["summary"].startswith("PEComa ("))
        detail = summary["detail"]
        assert "**Procedures not read as the resection of the primary**" in detail
        assert "linked to the PEComa, but its code (cpt 50545)" in detail
        assert NEPHRECTOMY.replace("-", "-") in detail.replace("\\", "")
        assert "biopsy-lung-pecoma-k" in detail.replace("\\", "")

    def test_nothing_set_aside_says_nothing(self, client: TestClient) -> None:
        """A record whose only Procedure is the resection read: no such section."""
        record = kidney_record(TEXT)
        record["entry"] = [e for e in record["entry"]
                           if e["resource"]["id"] != "biopsy-lung-pecoma-k"]
        summary = cards(client, record)[0]
        assert "Procedures not read as the resection" not in summary["detail"]


class TestTable:
    def test_every_entry_is_a_resection_of_a_guideline_site(self) -> None:
        """Each code names an organ pecoma reads as a primary site, under a known system,
        and no entry is a biopsy, a destruction, a transplant or a diagnostic excision
        (ICD-10-PCS: medical and surgical section 0, root operation Resection T or
        Excision B, qualifier not X 'Diagnostic')."""
        systems = set(SYSTEMS.values())
        for (system, code), (organ, name) in RESECTION_CODES.items():
            assert system in systems and isinstance(organ, PrimarySite), code
            low = name.lower()
            assert not any(w in low for w in ("biops", "destruction", "transplant",
                                              "donor", "diagnostic", "ablation")), name
            if system == PCS:
                assert len(code) == 7 and code[0] == "0" and code[2] in "TB", code
                assert code[6] != "X" and name.startswith(("Resection of", "Excision of"))
            else:
                assert code.isdigit(), code

    def test_the_reported_codes_are_listed(self) -> None:
        """The codes of the reported records, with their published names."""
        assert RESECTION_CODES[(SCT, "175905003")] == (PrimarySite.kidney,
                                                        "Total nephrectomy (procedure)")
        assert RESECTION_CODES[(PCS, "0TT10ZZ")] == (PrimarySite.kidney,
                                                      "Resection of Left Kidney, Open Approach")
        assert RESECTION_CODES[(CPT, "50230")][0] is PrimarySite.kidney
        assert RESECTION_CODES[(SCT, "236886002")] == (PrimarySite.uterus,
                                                        "Hysterectomy (procedure)")


def test_the_uterine_record_coded_only() -> None:
    """The mCODE uterine record's hysterectomy coded SNOMED CT 236886002 with no words
    reads as the words do (the site of the guideline's broad-ligament and uterine
    statements)."""
    record = json.loads((ROOT / "data/mcode/uterus-localized.json").read_text())
    words = case_from_bundle(copy.deepcopy(record), on=ON).case.surgery
    for entry in record["entry"]:
        if entry["resource"]["resourceType"] == "Procedure":
            entry["resource"]["code"] = {"coding": [{"system": SCT, "code": "236886002"}]}
    assert case_from_bundle(record, on=ON).case.surgery == words
    assert words.status is SurgeryStatus.performed
