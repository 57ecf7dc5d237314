"""FHIR in: metastases all resolved, then a later statement that the disease is present.

The record is the kidney corpus (tests/data/mcode/kidney-metastatic.json) with only its
liver metastasis left, resolved on 2024-03-05 (abatementDateTime), no mTOR order and no
sirolimus allergy. The reader had derived ``free_of_disease.since`` 2024-03-05 from that
abatement even when the record said, on 2025-03-02, that the disease was present: a
CancerDiseaseStatus "distant metastasis present", a cM1, the project's own status
'metastatic', the PEComa Condition's clinicalStatus 'recurrence', or a status "worsened",
"stable", "improved" or "partial remission". The patient, with present metastatic disease,
was then told "free of disease, surveillance" (REC-NO-ADJUVANT-AFTER-RELAPSE) and not
given the first-line mTOR-inhibitor advice (S12, S13). The case model refuses the same
contradiction when it comes from a free-of-disease Observation.

Expected, each by hand: a statement of present disease dated after the latest abatement
date makes the disease present again, so no free of disease is derived (said, naming
the statement); one that cannot be placed before or after that day (undated, the same
day, a partial date holding it) is taken the safer way, the disease present, and said;
a full remission or "not detected" after it, or any statement before it, keeps the
patient free of disease since the abatement.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import DiseaseStatus
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle

from fhir_support import as_searched, hook_request, patient_id, prefetch_of

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
ABATED = dt.date(2024, 3, 5)
LATER = "2025-03-02"
STATUS = "cancer-disease-status-worsened-pecoma-k"
PRIMARY = "primary-cancer-condition-kidney"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
FIRST_LINE = "REC-MTOR-FIRST-LINE"
FREE = "REC-NO-ADJUVANT-AFTER-RELAPSE"


def _res(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)


def _resolved_liver_only() -> dict[str, Any]:
    """The corpus with only the liver metastasis (resolved 2024-03-05), no everolimus
    order and no sirolimus allergy (so that an mTOR inhibitor can be advised), and its
    CancerDiseaseStatus as the corpus writes it (worsened, 2025-03-02)."""
    bundle: dict[str, Any] = json.loads((DATA / "kidney-metastatic.json").read_text("utf-8"))
    gone = {"secondary-cancer-condition-lung-mets", "secondary-cancer-condition-brain-mets",
            "cancer-related-medication-request-everolimus", "allergy-sirolimus-pecoma-k"}
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in gone]
    return bundle


def _status(value: str, *, day: str | None = LATER, **more: Any) -> dict[str, Any]:
    """The record with its CancerDiseaseStatus valued SNOMED CT ``value`` and dated
    ``day`` (``None``: no effective time)."""
    bundle = _resolved_liver_only()
    obs = _res(bundle, STATUS)
    obs["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": value}]}
    obs.pop("effectiveDateTime")
    if day is not None:
        obs["effectiveDateTime"] = day
    obs.update(more)
    return bundle


def _result(code: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """The record with its CancerDiseaseStatus replaced by another result of 2025-03-02."""
    bundle = _resolved_liver_only()
    obs = _res(bundle, STATUS)
    obs.update(id="later-result", code=code, valueCodeableConcept=value)
    return bundle


def _recurrence() -> dict[str, Any]:
    """The record with no disease status at all, and the PEComa Condition's own
    clinicalStatus 'recurrence' (FHIR: the status it has now)."""
    bundle = _resolved_liver_only()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] != STATUS]
    _res(bundle, PRIMARY)["clinicalStatus"]["coding"][0]["code"] = "recurrence"
    return bundle


#: Each statement of present disease of 2025-03-02, with where it is.
PRESENT = {
    "distant-metastasis-present": (lambda: _status("399409002"), f"Observation/{STATUS}"),
    "worsened": (lambda: _status("271299001"), f"Observation/{STATUS}"),
    "stable": (lambda: _status("359746009"), f"Observation/{STATUS}"),
    "improved": (lambda: _status("268910001"), f"Observation/{STATUS}"),
    "partial-remission": (lambda: _status("551001000124108"), f"Observation/{STATUS}"),
    "cM1": (lambda: _result({"coding": [{"system": LOINC, "code": "21907-1"}]},
                            {"coding": [{"system": SNOMED, "code": "1229903009"}]}),
            "Observation/later-result"),
    "pecoma-metastatic": (lambda: _result({"coding": [{"system": PECOMA,
                                                       "code": "disease-status"}]},
                                          {"coding": [{"system": PECOMA,
                                                       "code": "metastatic"}]}),
                          "Observation/later-result"),
    "recurrence": (_recurrence, f"Condition/{PRIMARY}.clinicalStatus 'recurrence'"),
}


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def _ids(bc: BundleCase) -> set[str]:
    return set(assess(bc.case, ON).record_ids())


def _said(bc: BundleCase) -> str:
    (note,) = [n for n in bc.notes if n.startswith("free_of_disease not derived")]
    return note


class TestPresentAgain:
    """A statement of present disease dated after the latest abatement date."""

    @pytest.mark.parametrize("kind", list(PRESENT))
    def test_not_free_of_disease(self, kind: str) -> None:
        """The liver metastasis resolved on 2024-03-05; a year later the record says the
        disease is there. Free of disease since 2024-03-05 had been derived; expected:
        none, the disease metastatic (present again), the resolved liver metastasis not
        listed as present disease (where the disease is now is not recorded), and a
        note naming the statement and saying the disease is present again."""
        build, where = PRESENT[kind]
        bc = _read(build())
        assert bc.case.free_of_disease is None
        assert bc.case.stage.status is DiseaseStatus.metastatic
        assert bc.case.stage.metastases == ()
        note = _said(bc)
        assert where in note and "the disease is present again" in note
        assert "2024-03-05" in note

    @pytest.mark.parametrize("kind", list(PRESENT))
    def test_advice_for_present_disease(self, kind: str) -> None:
        """The advice follows the disease present: the first-line mTOR inhibitor (S12,
        S13) is advised, and "free of disease after relapse" (I8) is not given, nor
        the surveillance-only reading it led to; where the metastases are is asked."""
        build, _where = PRESENT[kind]
        ids = _ids(_read(build()))
        assert FIRST_LINE in ids
        assert FREE not in ids
        assert "MISS-METASTASIS-DETAILS" in ids


class TestCannotBePlaced:
    """A statement of the disease that cannot be placed before or after the abatement
    date, or whose value does not say whether the disease is gone: whether the patient
    is free of disease is not known, so the safer reading is taken (present disease)."""

    @pytest.mark.parametrize(("day", "said"), [
        (None, "undated"),
        ("2024-03-05", "the same day"),
        ("2024-03-05T16:00:00+01:00", "the same day"),
        ("2024-03", "a partial date holding that day"),
    ], ids=["undated", "same-day", "same-day-time", "month-holding-it"])
    def test_distant_metastasis_present_not_placed(self, day: str | None, said: str) -> None:
        """"Distant metastasis present" with no effective time, of the abatement's own
        day, or of its month: it may be the metastasis that resolved or a new one. Free
        of disease had been derived; expected: not, with a note saying why."""
        bc = _read(_status("399409002", day=day))
        assert bc.case.free_of_disease is None
        assert bc.case.stage.status is DiseaseStatus.metastatic
        note = _said(bc)
        assert said in note and "cannot be placed before or after that day" in note
        ids = _ids(bc)
        assert FIRST_LINE in ids and FREE not in ids

    def test_issued_after_with_no_effective_time(self) -> None:
        """Issued after the abatement, with no effective time: it may be of any earlier
        time, so it cannot be placed either."""
        bc = _read(_status("271299001", day=None, issued="2025-03-02T10:00:00Z"))
        assert bc.case.free_of_disease is None
        assert "issued 2025-03-02T10:00:00Z" in _said(bc)

    @pytest.mark.parametrize("value", [
        {"coding": [{"system": SNOMED, "code": "709137006"}]},
        {"text": "Progressing"},
    ], ids=["undetermined", "words-only"])
    def test_a_status_not_saying_the_disease_is_gone(self, value: dict[str, Any]) -> None:
        """"Undetermined", or a value in words only (pecoma reads a status by its code),
        after the abatement: it does not say the disease is gone, so the patient is not
        taken as free of disease."""
        bundle = _status("709137006")
        _res(bundle, STATUS)["valueCodeableConcept"] = value
        bc = _read(bundle)
        assert bc.case.free_of_disease is None
        assert "does not say the disease is gone" in _said(bc)
        assert FREE not in _ids(bc)


class TestStillFreeOfDisease:
    """Statements that say the disease is gone after the abatement, or that speak of the
    disease before it resolved, keep free of disease since the abatement (as before)."""

    @pytest.mark.parametrize("bundle", [
        pytest.param(lambda: _status("550991000124107"), id="full-remission-after"),
        pytest.param(lambda: _status("103338009"), id="full-remission-old-code-after"),
        pytest.param(lambda: _status("260415000"), id="not-detected-after"),
        pytest.param(lambda: _status("399409002", day="2024-02-01"),
                     id="distant-metastasis-present-before"),
        pytest.param(lambda: _status("271299001", day="2024-02"), id="worsened-month-before"),
        pytest.param(lambda: _status("271299001", day=None, issued="2024-03-04T09:00:00Z"),
                     id="issued-before"),
        pytest.param(lambda: _status("399409002", effectiveDateTime="2025-03-02",
                                     status="entered-in-error"), id="entered-in-error"),
    ])
    def test_free_since_the_abatement(self, bundle: Any) -> None:
        """Free of disease since 2024-03-05, the resolved liver metastasis listed (its
        history), "free of disease after relapse" advised and no first line."""
        bc = _read(bundle())
        assert bc.case.free_of_disease is not None
        assert bc.case.free_of_disease.since == ABATED
        assert [m.site.value for m in bc.case.stage.metastases] == ["liver"]
        assert not [n for n in bc.notes if n.startswith("free_of_disease not derived")]
        ids = _ids(bc)
        assert FREE in ids and FIRST_LINE not in ids


def test_cds_patient_view_gives_the_present_disease_card(tmp_path: Path) -> None:
    """CDS Hooks patient-view reads the record with the same reader: with "distant
    metastasis present" dated after the liver metastasis resolved, the assessment card
    had said "Free of disease after relapse"; expected: the card for present metastatic
    disease, heading the first-line mTOR inhibitor, with the reader's note shown."""
    from pecoma.web.app import create_app
    from pecoma.web.cds.discovery import PATIENT_VIEW
    from pecoma.web.cds.settings import CdsSettings
    from pecoma.web.config import WebConfig
    from pecoma.web.smart.settings import SmartSettings

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                               cds=CdsSettings(), smart=SmartSettings()), today=lambda: ON)
    client = TestClient(app, base_url="http://localhost")
    bundle = as_searched(_status("399409002"))
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200
    cards = r.json()["cards"]
    (card,) = [c for c in cards if c["summary"].startswith("PEComa (metastatic)")]
    assert "Free of disease" not in card["summary"]
    assert "mTOR inhibitor is the first-line" in card["summary"]
    assert "Free of disease after relapse" not in card["detail"]
    assert "free\\_of\\_disease not derived" in card["detail"] \
        or "free_of_disease not derived" in card["detail"]



# --------------------------------------------------------------------------------------
# A free-of-disease Observation the team wrote, beside a later statement of the disease
# --------------------------------------------------------------------------------------

FREE_DAY = "2024-04-01"


def _with_free(bundle: dict[str, Any], day: str = FREE_DAY) -> dict[str, Any]:
    """The record with the project's free-of-disease Observation valued ``day`` (the team
    recorded the patient free of disease since then, after the liver metastasis
    resolved on 2024-03-05)."""
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "free-of-disease", "status": "final",
        "code": {"coding": [{"system": PECOMA, "code": "free-of-disease"}]},
        "subject": _res(bundle, PRIMARY)["subject"], "valueDateTime": day}})
    return bundle


def _not_read(bc: BundleCase) -> str:
    (note,) = [n for n in bc.notes if n.startswith("free_of_disease not read")]
    return note


class TestFreeOfDiseaseRecordContradicted:
    """The same statements held against a free-of-disease record: it had been read as
    such whatever came after it, so a patient recorded free of disease in April 2024 and
    with distant metastases present in March 2025 was told "free of disease after
    relapse" and given no systemic advice."""

    @pytest.mark.parametrize("kind", [k for k in PRESENT if k != "pecoma-metastatic"])
    def test_a_later_statement_of_present_disease(self, kind: str) -> None:
        """Expected: the free-of-disease record not read, named with its day and the
        statement, the disease taken as present (the safer reading): the first-line mTOR
        inhibitor advised (S12, S13), never "free of disease after relapse" (I8)."""
        build, where = PRESENT[kind]
        bc = _read(_with_free(build()))
        assert bc.case.free_of_disease is None
        note = _not_read(bc)
        assert "Observation/free-of-disease" in note and FREE_DAY in note and where in note
        ids = _ids(bc)
        assert FIRST_LINE in ids and FREE not in ids

    def test_an_undated_statement_is_taken_the_safer_way(self) -> None:
        """"Distant metastasis present" with no effective time: it may be of before the
        patient became free of disease, or after. Expected: not read as free of disease,
        the note saying it cannot be placed."""
        bc = _read(_with_free(_status("399409002", day=None)))
        assert bc.case.free_of_disease is None
        assert "cannot be placed before or after that day" in _not_read(bc)
        assert FREE not in _ids(bc)

    def test_a_statement_before_the_day_speaks_of_the_disease_that_resolved(self) -> None:
        """"Worsened" on 2024-03-20, before the patient was recorded free of disease on
        2024-04-01: it speaks of the disease then. Expected: free of disease since the
        record's day (after the metastasis resolved), no note."""
        bc = _read(_with_free(_status("271299001", day="2024-03-20")))
        assert bc.case.free_of_disease is not None
        assert bc.case.free_of_disease.since == dt.date(2024, 4, 1)
        assert not [n for n in bc.notes if n.startswith("free_of_disease not")]
        assert FREE in _ids(bc)

    def test_the_projects_own_status_names_the_disease_the_patient_had(self) -> None:
        """The project's disease status 'metastatic' dated after the day: in pecoma's
        case model it names the disease the patient had beside the day they became free
        of it (its writer sends both together). Expected: free of disease kept, since
        the record's day, with no note that the disease is taken as present."""
        build, _where = PRESENT["pecoma-metastatic"]
        bc = _read(_with_free(build()))
        assert bc.case.free_of_disease is not None
        assert bc.case.free_of_disease.since == dt.date(2024, 4, 1)
        assert not [n for n in bc.notes if "taken as present" in n]

    def test_with_no_metastasis_and_no_status_the_status_is_asked(self) -> None:
        """No metastasis Condition and no disease status, only the free-of-disease record
        and a later "worsened": nothing says what the disease is, so the status is not
        guessed. Expected: refused naming stage.status, the free-of-disease record and
        the statement in the reason."""
        bundle = _with_free(_status("271299001"))
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"]["resourceType"] != "Condition"
                           or e["resource"]["id"] == PRIMARY]
        with pytest.raises(InputError) as caught:
            _read(bundle)
        text = str(caught.value)
        assert "stage.status" in text and "free-of-disease record is not read" in text
