"""A result's code read against its own words: a code and a text, a display or an
interpretation of the same result that disagree leave the fact unknown, with a note.

FHIR R4 CodeableConcept.text is what the user entered: a necrosis result coded 2667000
"Absent" whose text says "Present" has not been read as absent. Nor does the order of
code and text decide: which one the pathologist meant cannot be told, so the fact is
unknown (I1: unknown is never counted as absent), the engine asks for it, and the risk is
indeterminate rather than low (S18-S22 rather than S23's lighter follow-up). Words that
only restate the code ("Absent", "not present") are no disagreement.

Each record is the shipped low-risk example (a kidney PEComa resected R0, 3.2 cm, every
worrisome feature absent, HMB-45 positive, TFE3 negative) with one result changed by hand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Feature, IHCResult, YesNo
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 6)
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ABSENT = {"system": SNOMED, "code": "2667000", "display": "Absent"}
NEGATIVE = {"system": SNOMED, "code": "260385009", "display": "Negative"}
POSITIVE = {"system": SNOMED, "code": "10828004", "display": "Positive"}


def _record(rid: str, **value: Any) -> dict[str, Any]:
    """The low-risk example with the value[x] of Observation ``rid`` replaced."""
    bundle = example("low-risk")
    obs = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid)
    for key in [k for k in obs if k.startswith("value") or k == "interpretation"]:
        del obs[key]
    obs.update(value)
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def _noted(bc: BundleCase, rid: str) -> list[str]:
    return [n for n in bc.notes if f"Observation/{rid}" in n and "says otherwise" in n]


class TestNecrosisCodeAgainstText:
    def test_the_example_as_shipped_is_low_risk(self) -> None:
        """The baseline: every feature absent, 3.2 cm, kidney: low risk."""
        bc = _read(example("low-risk"))
        assert bc.case.histology.necrosis is Feature.absent
        assert assess(bc.case, ON).risk.group == "low"

    @pytest.mark.parametrize("concept", [
        {"coding": [ABSENT], "text": "Present"},
        {"coding": [{**ABSENT, "display": "Present"}]},
        {"coding": [ABSENT], "text": "Focal necrosis present (5%)"},
        {"coding": [POSITIVE], "text": "Not identified"},
        {"coding": [ABSENT], "text": "Equivocal"},
    ], ids=["text-present", "display-present", "text-focal-present", "present-code-text-not",
            "text-equivocal"])
    def test_a_code_and_words_that_disagree_leave_necrosis_unknown(
            self, concept: dict[str, Any]) -> None:
        """Code 2667000 Absent with the text "Present" (or a display, or "Focal necrosis
        present (5%)"): it had been read as absent, with no note, and the risk was low.
        Necrosis is unknown, the note names the Observation and what disagrees, and the
        risk is indeterminate (I1), not low."""
        bc = _read(_record("histology-necrosis", valueCodeableConcept=concept))
        assert bc.case.histology.necrosis is Feature.unknown
        assert _noted(bc, "histology-necrosis"), bc.notes
        assert assess(bc.case, ON).risk.group != "low"

    @pytest.mark.parametrize("text", ["Absent", "absent.", "Not present", "No necrosis",
                                      "Necrosis not identified", "None seen", "Necrosis"])
    def test_words_that_restate_absent_are_no_disagreement(self, text: str) -> None:
        """A text that says what the code says ("Absent", "not present", "No necrosis"),
        or nothing of the answer ("Necrosis"), changes nothing: absent, low risk."""
        bc = _read(_record("histology-necrosis",
                           valueCodeableConcept={"coding": [ABSENT], "text": text}))
        assert bc.case.histology.necrosis is Feature.absent
        assert not _noted(bc, "histology-necrosis")
        assert assess(bc.case, ON).risk.group == "low"

    def test_a_value_beside_an_interpretation_that_disagrees_is_unknown(self) -> None:
        """Absent with interpretation POS: the two parts of one result disagree."""
        bc = _read(_record("histology-necrosis", valueCodeableConcept={"coding": [ABSENT]},
                           interpretation=[{"coding": [{"system": V3, "code": "POS"}]}]))
        assert bc.case.histology.necrosis is Feature.unknown
        assert _noted(bc, "histology-necrosis")


class TestStainCodeAgainstWords:
    def test_hmb45_coded_negative_with_the_text_positive_is_unknown(self) -> None:
        """HMB-45 (LOINC 10487-7 in mCODE records; the project's code here) coded
        260385009 Negative with the text "Positive": it had been read as negative. The
        stain is unknown (the diagnosis panel asks for it), with a note."""
        bc = _read(_record("ihc-hmb45",
                           valueCodeableConcept={"coding": [NEGATIVE], "text": "Positive"}))
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.unknown
        assert _noted(bc, "ihc-hmb45"), bc.notes

    def test_a_loinc_stain_negative_beside_interpretation_pos_is_unknown(self) -> None:
        """An mCODE TumorMarkerTest of HMB-45 (LOINC 10487-7) valued Negative with
        interpretation POS: it had been read as negative, with no note."""
        bundle = _record("ihc-hmb45")
        obs = next(e["resource"] for e in bundle["entry"]
                   if e["resource"].get("id") == "ihc-hmb45")
        obs["code"] = {"coding": [{"system": LOINC, "code": "10487-7"}]}
        obs["valueCodeableConcept"] = {"coding": [NEGATIVE]}
        obs["interpretation"] = [{"coding": [{"system": V3, "code": "POS"}]}]
        bc = _read(bundle)
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.unknown
        assert _noted(bc, "ihc-hmb45"), bc.notes

    def test_a_stain_whose_words_restate_its_code_is_read(self) -> None:
        """Negative with the text "Negative in tumour cells" and interpretation NEG: one
        answer said three ways, read as negative."""
        bc = _read(_record("ihc-tfe3",
                           valueCodeableConcept={"coding": [NEGATIVE],
                                                 "text": "Negative in tumour cells"},
                           interpretation=[{"coding": [{"system": V3, "code": "NEG"}]}]))
        assert bc.case.immunohistochemistry.tfe3 is IHCResult.negative
        assert not _noted(bc, "ihc-tfe3")


def test_nodes_coded_negative_with_the_text_positive_are_unknown() -> None:
    """The regional lymph nodes coded Negative with the text "Positive (1/12)": not
    read as negative (S11 turns on it); unknown, with a note."""
    bc = _read(_record("lymph-nodes",
                       valueCodeableConcept={"coding": [NEGATIVE], "text": "Positive (1/12)"}))
    assert bc.case.stage.lymph_nodes.value == "unknown"
    assert _noted(bc, "lymph-nodes")


def test_a_yes_coded_with_the_text_no_is_unknown() -> None:
    """A yes/no fact (mTOR inhibitor available) coded SNOMED CT Yes with the text "No":
    unknown, with a note; the engine asks."""
    bundle = example("advanced-mtor-contraindicated")
    obs = next(e["resource"] for e in bundle["entry"]
               if e["resource"].get("id") == "mtor-available")
    obs.pop("valueBoolean", None)
    obs["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": "373066001"}],
                                   "text": "No"}
    bc = _read(bundle)
    assert bc.case.systemic.mtor_inhibitor_available is YesNo.unknown
    assert _noted(bc, "mtor-available")


def test_patient_view_says_what_the_reader_says(tmp_path: Any) -> None:
    """patient-view reads the record as to-case does: necrosis coded Absent with the
    text "Present" had given "risk low" on the summary card; it now names no low risk,
    and the card's reading of the record names the disagreement."""
    client = TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                             cds=CdsSettings()), today=lambda: ON),
                        base_url="http://localhost")
    bundle = _record("histology-necrosis",
                     valueCodeableConcept={"coding": [ABSENT], "text": "Present"})
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    summary = r.json()["cards"][0]
    assert "risk low" not in summary["summary"], summary["summary"]
    assert "says otherwise" in summary["detail"]
