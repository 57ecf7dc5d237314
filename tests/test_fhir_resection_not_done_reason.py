"""A resection of the primary recorded as not done, and why, read as the EHR writes it.

tests/data/mcode/uterus-localized.json holds a localized uterine PEComa and its
hysterectomy (SNOMED CT 236886002, the reasonReference the PEComa Condition). An EHR
records an operation that was not carried out as a Procedure ``not-done`` with a
``statusReason`` ("Tumour unresectable: encases iliac vessels"), no day and no outcome.
Before, that record was read as the surgery not performed and its reason silently
dropped: no note quoted it, the resection ("Complete resection with adequate margins",
S01, S03) was shown beside a record saying the tumour cannot be removed, and the CDS
summary card was informational. The same words on a ``stopped`` resection were quoted and
resectability asked. Now one reading serves both (and any status given with a reason):
the reason is quoted in a note; words saying the tumour cannot be removed are not read as
``stage.resectable`` (resectability is not read from words) but make the fact found and
not read (never "not found"), so resectability is asked (MISS-PRIMARY-RESECTABLE), the
resection advice waits on it (never "unresectable" assumed, nor "resectable"), and the
summary card is a warning.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import SurgeryStatus, YesNo
from pecoma.engine import assess
from pecoma.fhir import codes as c
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import hook_request, patient_id, prefetch_of

ON = dt.date(2026, 6, 1)
MCODE = Path(__file__).parent / "data" / "mcode"
HYSTERECTOMY = "Procedure/cancer-related-surgical-procedure-hysterectomy"
UNRESECTABLE = {"text": "Tumour unresectable: encases iliac vessels"}


def _record(status: str, reason: dict[str, Any] | None) -> dict[str, Any]:
    """The mCODE example with its hysterectomy recorded as an EHR records one not
    carried out: ``status``, the ``statusReason`` given, no day, no outcome."""
    data: dict[str, Any] = json.loads((MCODE / "uterus-localized.json").read_text("utf-8"))
    proc = next(e["resource"] for e in data["entry"]
                if f"Procedure/{e['resource']['id']}" == HYSTERECTOMY)
    proc["status"] = status
    for key in ("performedDateTime", "outcome"):
        proc.pop(key, None)
    if reason is not None:
        proc["statusReason"] = reason
    return data


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="none", on=ON)


class TestNotDoneBecauseUnresectable:
    @pytest.mark.parametrize("reason", [
        UNRESECTABLE,
        {"text": "Inoperable - tumour encasing the iliac vessels"},
        {"text": "Not resectable (MDT 12/03)"},
        {"coding": [{"system": "http://example.org/local", "code": "NR",
                     "display": "Tumor non-resectable"}]},
    ], ids=["unresectable", "inoperable", "not-resectable", "display-non-resectable"])
    def test_the_reason_is_quoted_and_resectability_asked(self,
                                                          reason: dict[str, Any]) -> None:
        """Hand-written expectation: the surgery is not performed (as recorded); the
        reason is quoted in a note naming the Procedure; stage.resectable is neither
        'yes' nor taken from the words ('no'): it is found but not read (not "not
        found"), so MISS-PRIMARY-RESECTABLE is asked and REC-RESECTION waits on it."""
        bc = _read(_record("not-done", reason))
        assert bc.case.surgery.status is SurgeryStatus.not_performed
        assert bc.case.stage.resectable is YesNo.unknown
        words = reason.get("text") or reason["coding"][0]["display"]
        assert any(n.startswith(HYSTERECTOMY) and words in n and "stage.resectable" in n
                   for n in bc.notes), bc.notes
        assert HYSTERECTOMY in bc.unreadable["stage.resectable"]
        assert "stage.resectable" not in bc.not_found
        a = assess(bc.case, ON)
        assert "MISS-PRIMARY-RESECTABLE" in [m.id for m in a.missing]
        resection = next(r for r in a.recommendations if r.id == "REC-RESECTION")
        assert "MISS-PRIMARY-RESECTABLE" in resection.conditional_on

    def test_a_resectability_recorded_stays_and_the_words_are_noted(self) -> None:
        """A pecoma#resectable Observation saying 'yes' (the team's later statement, say
        after downstaging) is read as recorded; the reason is still quoted, with a note
        to check one against the other, and nothing is marked not read."""
        b = _record("not-done", UNRESECTABLE)
        b["entry"].append({"resource": {
            "resourceType": "Observation", "id": "resectable", "status": "final",
            "code": {"coding": [{"system": c.PECOMA_SYSTEM, "code": "resectable"}]},
            "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
            "effectiveDateTime": "2024-06-01", "valueBoolean": True}})
        bc = _read(b)
        assert bc.case.stage.resectable is YesNo.yes
        assert "stage.resectable" not in bc.unreadable
        assert any(UNRESECTABLE["text"] in n and "check it against" in n
                   for n in bc.notes), bc.notes


class TestAnyStatusGivenWithAReason:
    @pytest.mark.parametrize("status, read", [
        ("not-done", SurgeryStatus.not_performed),
        ("on-hold", SurgeryStatus.planned),
        ("unknown", SurgeryStatus.unknown),
    ])
    def test_the_reason_is_quoted(self, status: str, read: SurgeryStatus) -> None:
        """A reason that says nothing of resectability ('Patient declined surgery') is
        quoted, never dropped; resectability is then simply not found (nothing in the
        record states it)."""
        reason = {"text": "Patient declined surgery"}
        bc = _read(_record(status, reason))
        assert bc.case.surgery.status is read
        assert any(n.startswith(HYSTERECTOMY) and "Patient declined surgery" in n
                   for n in bc.notes), bc.notes
        assert "stage.resectable" not in bc.unreadable

    def test_not_done_with_no_reason_adds_no_note(self) -> None:
        """Nothing to quote: no note about the Procedure (the reading is as before)."""
        bc = _read(_record("not-done", None))
        assert bc.case.surgery.status is SurgeryStatus.not_performed
        assert not any(n.startswith(HYSTERECTOMY) for n in bc.notes), bc.notes


def test_the_stopped_reading_is_the_same_one() -> None:
    """A ``stopped`` resection with no margin and the same reason: surgery status unknown
    (as before), the reason quoted, and resectability found but not read, as for
    ``not-done``."""
    bc = _read(_record("stopped", UNRESECTABLE))
    assert bc.case.surgery.status is SurgeryStatus.unknown
    assert HYSTERECTOMY in bc.unreadable["stage.resectable"]
    assert any(UNRESECTABLE["text"] in n and "stopped" in n for n in bc.notes), bc.notes


def test_the_cds_summary_card_is_a_warning(tmp_path: Path) -> None:
    """patient-view: the resection advice waits on a fact the record states in words
    pecoma does not read, so the summary card is a warning (it was 'info'), and its
    detail quotes the reason."""
    client = TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp_path / 'registry.db'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")
    bundle = _record("not-done", UNRESECTABLE)
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request(
        "patient-view", patient_id(bundle), prefetch=prefetch_of(bundle)))
    assert r.status_code == 200, r.text
    cards = r.json()["cards"]
    summary = next(c for c in cards if c["summary"].startswith("PEComa"))
    assert summary["indicator"] == "warning", summary
    assert "Tumour unresectable: encases iliac vessels" in summary["detail"]
    assert "stage.resectable" in summary["detail"]
