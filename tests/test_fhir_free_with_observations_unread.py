"""FHIR in: every metastasis read is resolved, the Conditions read in full, but the
Observations were not all read.

The record is the kidney corpus with only its liver metastasis left, resolved on
2024-03-05, and a full remission stated on 2025-03-02 (as in
tests/test_fhir_free_with_conditions_unread.py: read in full, the patient is free of
disease since 2024-03-05). The reader refused to derive "free of disease" from the
resolved metastases when the Conditions were not all read, but derived it when the
Observations were not: a CDS prefetch whose ``observations`` key is null, absent, an
OperationOutcome or the first page of its search (a ``next`` link), or, in a bundle given
to ``pecoma fhir to-case``, a disease-status Observation whose patient cannot be
confirmed. A disease-status Observation (mCODE CancerDiseaseStatus, LOINC 97509-4) saying
the disease progressed after the abatement, among those not read, makes the disease
present again (tests/test_fhir_present_after_abatement.py): the patient was advised as
free of disease after relapse (REC-NO-ADJUVANT-AFTER-RELAPSE) instead of for present
metastatic disease (the first-line mTOR inhibitor, S12, S13).

Expected, each by hand: free of disease is a conclusion that the disease is not present,
and a statement of present disease may be among the Observations not read (unknown is
not absent). With the Observations not all read it is not derived: the disease is taken
as possibly present (the safer reading: 'metastatic', the advice for present disease,
the first-line mTOR inhibitor), the resolved metastasis is history, not listed as
present disease, where the disease is now is asked (MISS-METASTASIS-DETAILS), and a note
says why (the Observations not all read, naming why) and what to record. A
free-of-disease Observation read (the patient recorded free of disease since a day) is a
statement, not a derivation, and still counts as before.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import DiseaseStatus
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle
from test_fhir_present_after_abatement import FIRST_LINE, FREE, _status

from cli_support import run_cli
from fhir_support import as_searched, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 6, 1)
ABATED = dt.date(2024, 3, 5)
FULL_REMISSION = "550991000124107"
PROGRESSION = "271299001"  # SNOMED CT: patient's condition worsened
NOTE = "free_of_disease not derived from the resolved metastases"
WHY = "the Observations were not all read"


def _free() -> dict[str, Any]:
    """The record read in full: free of disease since 2024-03-05 (the control)."""
    return _status(FULL_REMISSION)


def _unattributed_progression() -> dict[str, Any]:
    """The record with a CancerDiseaseStatus of 2025-09-01 saying the disease worsened,
    whose subject is given by an identifier only (a legal R4 Reference): whose it is
    cannot be confirmed, so it is not read and the Observations are not all read."""
    bundle = _free()
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "status-unattributed", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "97509-4"}]},
        "subject": {"identifier": {"system": "urn:oid:2.16.840.1.113883.19.5",
                                   "value": "778899"}},
        "effectiveDateTime": "2025-09-01",
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                             "code": PROGRESSION}]}}})
    return bundle


def _diagnosis_on_the_condition() -> dict[str, Any]:
    """The record read in full, its PEComa diagnosis also on the primary Condition (the
    mCODE histology-morphology-behavior extension, ICD-O-3 8714/3), so that the case is
    assessed with the Observations not read (the corpus gives it by an Observation)."""
    bundle = _free()
    primary = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["id"] == "primary-cancer-condition-kidney")
    primary["extension"] = [{
        "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
               "mcode-histology-morphology-behavior",
        "valueCodeableConcept": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "8714/3"}]}}]
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def test_control_read_in_full_the_patient_is_free_of_disease() -> None:
    """The same record read in full: free of disease since the abatement, as before."""
    bc = _read(_free())
    assert not bc.unread
    assert bc.case.free_of_disease is not None
    assert bc.case.free_of_disease.since == ABATED


def test_a_status_not_attributed_leaves_free_of_disease_unknown() -> None:
    """A bundle (as `pecoma fhir to-case` reads it) whose disease-status Observation saying
    progression cannot be attributed to the patient: the Observations are not all read
    (the Conditions are), so no free of disease; the disease is taken as possibly present
    ('metastatic'), the resolved liver metastasis is not listed as present, the advice is
    for present disease and where the disease is now is asked."""
    bc = _read(_unattributed_progression())
    assert "observations" in bc.unread and "conditions" not in bc.unread
    assert bc.case.free_of_disease is None
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert not bc.case.stage.metastases
    (note,) = [n for n in bc.notes if n.startswith(NOTE)]
    assert "2024-03-05" in note and WHY in note and "possibly present" in note
    assert "Observation/status-unattributed" in note  # why they were not all read
    a = assess(bc.case, ON)
    ids = set(a.record_ids())
    assert FIRST_LINE in ids and FREE not in ids
    assert "MISS-METASTASIS-DETAILS" in {m.id for m in a.missing}


def test_to_case_command_agrees(tmp_path: Path) -> None:
    """`pecoma fhir to-case` prints the same: no free_of_disease, status 'metastatic',
    and the note among the details."""
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_unattributed_progression()), encoding="utf-8")
    run = run_cli("fhir", "to-case", "--details", "--on", ON.isoformat(), str(path))
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert "free_of_disease" not in data["case"]
    assert data["case"]["stage"]["status"] == "metastatic"
    assert any(n.startswith(NOTE) and WHY in n for n in data["notes"])


def test_a_free_of_disease_statement_still_counts() -> None:
    """A free-of-disease Observation read is the clinician's statement, not a
    derivation: with the Observations not all read it is still read (as it is with the
    Conditions not all read), and no note says the derivation was withheld."""
    bundle = _unattributed_progression()
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "free-stated", "status": "final",
        "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                             "code": "free-of-disease"}]},
        "subject": {"reference": f"Patient/{patient_id(bundle)}"},
        "valueDateTime": "2024-03-05"}})
    bc = _read(bundle)
    assert bc.case.free_of_disease is not None
    assert bc.case.free_of_disease.since == ABATED
    assert not [n for n in bc.notes if n.startswith(NOTE)]


def _null(prefetch: dict[str, Any]) -> None:
    prefetch["observations"] = None


def _absent(prefetch: dict[str, Any]) -> None:
    del prefetch["observations"]


def _outcome(prefetch: dict[str, Any]) -> None:
    prefetch["observations"] = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout", "diagnostics": "search timed out"}]}


def _next_page(prefetch: dict[str, Any]) -> None:
    prefetch["observations"]["link"] = [
        {"relation": "next", "url": "https://ehr.example/fhir/Observation?page=2"}]


#: Ways the EHR sends the Observations not in full, each by hand (CDS Hooks: a prefetch
#: key absent or null, an OperationOutcome, a searchset with a next page, is no data).
CDS_UNREAD: dict[str, Callable[[dict[str, Any]], None]] = {
    "null": _null, "absent": _absent, "operation-outcome": _outcome, "next-link": _next_page,
}


@pytest.mark.parametrize("kind", list(CDS_UNREAD))
def test_cds_patient_view_with_observations_unread(kind: str, tmp_path: Path) -> None:
    """CDS patient-view, the Conditions sent in full and the Observations not (no
    fhirServer to read them from): the card is for present metastatic disease, heading the
    first-line mTOR inhibitor, never "free of disease after relapse"."""
    from pecoma.web.app import create_app
    from pecoma.web.cds.discovery import PATIENT_VIEW
    from pecoma.web.cds.settings import CdsSettings
    from pecoma.web.config import WebConfig
    from pecoma.web.smart.settings import SmartSettings

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                               cds=CdsSettings(), smart=SmartSettings()), today=lambda: ON)
    client = TestClient(app, base_url="http://localhost")
    bundle = as_searched(_diagnosis_on_the_condition())
    prefetch = prefetch_of(bundle)
    CDS_UNREAD[kind](prefetch)
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200
    (card,) = [c for c in r.json()["cards"] if c["summary"].startswith("PEComa")]
    assert card["summary"].startswith("PEComa (metastatic)"), card["summary"]
    assert "Free of disease" not in card["summary"]
    assert "mTOR inhibitor is the first-line" in card["summary"]
    assert "Free of disease after relapse" not in card["detail"]


def test_cds_patient_view_control_in_full(tmp_path: Path) -> None:
    """The control: the same prefetch sent in full gives the free-of-disease card."""
    from pecoma.web.app import create_app
    from pecoma.web.cds.discovery import PATIENT_VIEW
    from pecoma.web.cds.settings import CdsSettings
    from pecoma.web.config import WebConfig
    from pecoma.web.smart.settings import SmartSettings

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                               cds=CdsSettings(), smart=SmartSettings()), today=lambda: ON)
    client = TestClient(app, base_url="http://localhost")
    bundle = as_searched(_diagnosis_on_the_condition())
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200
    (card,) = [c for c in r.json()["cards"] if c["summary"].startswith("PEComa")]
    assert "Free of disease after relapse" in card["summary"]
