"""A medication named only by ``medicationReference.display`` is read the same way in the
record (a line given, in `to-case` and on patient-view) as on a draft order: one reading,
``pecoma.fhir.medications.agent_of``. And a medication pecoma cannot identify gets a note
that says truly what the record holds.

An everolimus line written ``"medicationReference": {"display": "Everolimus 10 mg
tablet"}`` is everolimus (I15 and S12 turn on which mTOR inhibitor was given). A name
written where FHIR R4 has no element for it (``"medicationCodeableConcept": {"display":
...}``: a CodeableConcept has ``coding`` and ``text``, no ``display``) is not read, and the
lines already given are then not fully known (the safe reading), but the note had said
the medication had "neither a code nor a text", hiding the name the team should see.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.medications import agent_of, unreadable_medication
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"


def _statement(**medication: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "id": "ms-1", "status": "active",
            "subject": {"reference": "Patient/pat-1003"},
            "effectiveDateTime": "2025-03-01", **medication}


def _read(statement: dict[str, Any]) -> BundleCase:
    bundle = example(PATIENT)
    bundle["entry"].append({"resource": statement})
    return case_from_bundle(bundle, on=ON)


BY_DISPLAY = {"medicationReference": {"display": "Everolimus 10 mg tablet"}}


def test_a_line_named_by_its_reference_display_is_read() -> None:
    """The statement named only by its reference's display is an everolimus line, and
    nothing is left unidentified."""
    bc = _read(_statement(**BY_DISPLAY))
    assert [t.agent.value for t in bc.case.systemic.therapies] == ["everolimus"]
    assert bc.unidentified_medications == ()


def test_the_record_and_a_draft_read_the_display_alike() -> None:
    """A draft order with the same display (and a reference to a Medication nobody
    sent) is everolimus too: the same function reads both."""
    draft = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
             "medicationReference": {"reference": "Medication/zzz",
                                     "display": "Everolimus 10 mg"}}
    found = agent_of(draft)
    assert found is not None and found.value == "everolimus"
    assert agent_of(_statement(**BY_DISPLAY)) is found


def test_patient_view_reads_the_line_as_to_case_does(tmp_path: Any) -> None:
    """patient-view on the same record: the line is known, so no card lists 'the drug of
    some medication records' among the parts not read."""
    bundle = example(PATIENT)
    bundle["entry"].append({"resource": _statement(**BY_DISPLAY)})
    client = TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                             cds=CdsSettings()), today=lambda: ON),
                        base_url="http://localhost")
    r = client.post(f"/cds-services/{PATIENT_VIEW}",
                    json=hook_request("patient-view", "pat-1003", prefetch=prefetch_of(bundle)))
    assert r.status_code == 200, r.text
    assert not any("MedicationStatement/ms-1" in c["detail"] for c in r.json()["cards"])


class TestTrueNotes:
    def test_a_name_in_a_display_a_codeableconcept_lacks_is_quoted(self) -> None:
        """`medicationCodeableConcept: {"display": "Everolimus 10 mg tablet"}`: not read
        (no such element), the history not fully known, and the note quotes the name and
        says why, instead of "neither a code nor a text"."""
        bc = _read(_statement(medicationCodeableConcept={"display": "Everolimus 10 mg tablet"}))
        assert bc.case.systemic.therapies == ()
        [said] = bc.unidentified_medications
        assert "Everolimus 10 mg tablet" in said and "display" in said
        assert "neither a code nor a text" not in said

    def test_a_reference_with_an_identifier_only_is_said_so(self) -> None:
        """`medicationReference: {"identifier": …}` is given: the note had said that
        neither medicationCodeableConcept nor medicationReference was given."""
        why = unreadable_medication(_statement(medicationReference={
            "identifier": {"system": "urn:ndc", "value": "0078-0566-51"}}))
        assert why is not None
        assert "neither medicationCodeableConcept nor medicationReference" not in why
        assert "medicationReference" in why and "0078-0566-51" in why

    @pytest.mark.parametrize("medication", [{}, {"medicationCodeableConcept": {}}],
                             ids=["none", "empty-concept"])
    def test_a_medication_given_no_name_still_says_so(self, medication: dict[str, Any]
                                                      ) -> None:
        """Nothing naming the drug: the notes that were true stay."""
        why = unreadable_medication(_statement(**medication))
        assert why in ("neither medicationCodeableConcept nor medicationReference is given",
                       "the medication has neither a code nor a text")
