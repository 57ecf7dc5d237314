"""A metastasis recorded as suspected (not confirmed) beside disease read as localized.

The record is the uterine corpus (tests/data/mcode/uterus-localized.json: a resected
uterine PEComa, no metastasis, a denial of metastatic history) with a metastasis
Condition whose verificationStatus is provisional, differential or unconfirmed, found
in 2025. The reader rightly did not read it as present disease, but said so only in a
reading note: the case was localized with nothing asked, the CDS summary card was an
informational one, and the localized pathway read as settled.

Expected, each by hand: whether the disease has spread is unknown (unknown is not
absent). The suspected site is recorded in the case (stage.suspected_metastases), the
disease stays as recorded (localized: a suspected lesion is no present disease), and
the engine asks whether the suspected metastasis is confirmed (MISS-SUSPECTED-METASTASIS,
naming the site), saying what the answer changes (confirmed: the treatment of advanced
disease, the mTOR inhibitor first, S02, S12; the lung metastasectomy of S16) and that
every treatment recommendation and the surveillance schedule are provisional on it
meanwhile. The CDS summary card is a warning while it is asked. Beside disease already
read as metastatic the advanced pathway applies already; a suspected site outside the
lungs beside lung metastases is asked only as S16's condition (confined to the lungs).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import DiseaseStatus, MetastasisSite, SuspectedMetastasis
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.writer import bundle_from_case

from fhir_support import as_searched, hook_request, patient_id, prefetch_of

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
PRIMARY = "primary-cancer-condition-uterus"
ASKED = "MISS-SUSPECTED-METASTASIS"
#: SNOMED CT body structures of the sites (lung, liver).
SITES = {"lung": ("39607008", "Lung structure"), "liver": ("10200004", "Liver structure")}


def _with_metastasis(verification: str, site: str = "lung", rid: str = "met-1",
                     bundle: dict[str, Any] | None = None) -> dict[str, Any]:
    if bundle is None:
        bundle = json.loads((DATA / "uterus-localized.json").read_text("utf-8"))
    primary = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == PRIMARY)
    code, display = SITES[site]
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "id": rid,
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": verification}]},
        "code": {"text": "Secondary malignant neoplasm"},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": code,
                                  "display": display}]}],
        "extension": [{
            "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                   "mcode-related-primary-cancer-condition",
            "valueReference": {"reference": f"Condition/{PRIMARY}"}}],
        "onsetDateTime": "2025-06-15", "subject": primary["subject"]}})
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


@pytest.mark.parametrize("site", list(SITES))
@pytest.mark.parametrize("verification", ["provisional", "differential", "unconfirmed"])
def test_a_suspected_metastasis_is_asked(verification: str, site: str) -> None:
    """Localized, no metastasis listed, the site recorded as suspected; the question
    asked naming the site, with what it changes, and every treatment recommendation
    provisional on it."""
    bc = _read(_with_metastasis(verification, site))
    assert bc.case.stage.status is DiseaseStatus.localized
    assert not bc.case.stage.metastases
    assert bc.case.stage.suspected_metastases == (SuspectedMetastasis(site=MetastasisSite(site)),)
    a = assess(bc.case, ON)
    (miss,) = [m for m in a.missing if m.id == ASKED]
    assert site in miss.question
    assert {"S02", "S12", "S16"} <= set(miss.provenance.statements)
    assert "mTOR inhibitor" in miss.would_change and "S16" in miss.would_change
    assert "provisional" in miss.meanwhile
    treatment = [r for r in a.recommendations
                 if r.section in ("localized", "adjuvant", "advanced")]
    assert treatment
    assert all(ASKED in r.conditional_on for r in treatment)


def test_a_confirmed_lung_metastasis_beside_a_suspected_liver_one_holds_s16() -> None:
    """A confirmed lung metastasis makes the disease metastatic: the advanced pathway
    applies already, so the first line does not rest on the suspected liver one. But
    S16's lung metastasectomy needs the disease confined to the lungs, which the
    suspected liver lesion leaves unknown: it is asked, naming the liver, as a
    condition of the metastasectomy only."""
    bundle = _with_metastasis("confirmed", "lung")
    bc = _read(_with_metastasis("provisional", "liver", "met-2", bundle))
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert bc.case.stage.suspected_metastases == (SuspectedMetastasis(site=MetastasisSite.liver),)
    a = assess(bc.case, ON)
    miss = {m.id: m for m in a.missing}[ASKED]
    assert "liver" in miss.question
    held = {i.id for i in a.items() if ASKED in i.conditional_on}
    assert held == {"REC-LUNG-METASTASECTOMY-PENDING"}
    assert any("S16" in n for n in bc.notes)


def test_confirmed_nothing_is_asked() -> None:
    """The control: the same metastasis confirmed is present disease, as before."""
    bc = _read(_with_metastasis("confirmed"))
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert not bc.case.stage.suspected_metastases


def test_written_back_as_suspected() -> None:
    """`fhir from-case` writes a suspected metastasis as a provisional Condition, read
    back the same."""
    case = _read(_with_metastasis("provisional")).case
    again = _read(bundle_from_case(case)).case
    assert again.stage.suspected_metastases == (SuspectedMetastasis(site=MetastasisSite.lung),)
    assert again.stage.status is DiseaseStatus.localized


def test_cds_summary_card_is_a_warning_asking_it(tmp_path: Path) -> None:
    """patient-view: the summary card is a warning (not info) and asks the question."""
    from pecoma.web.app import create_app
    from pecoma.web.cds.discovery import PATIENT_VIEW
    from pecoma.web.cds.settings import CdsSettings
    from pecoma.web.config import WebConfig
    from pecoma.web.smart.settings import SmartSettings

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}",
                               cds=CdsSettings(), smart=SmartSettings()), today=lambda: ON)
    client = TestClient(app, base_url="http://localhost")
    bundle = as_searched(_with_metastasis("provisional"))
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200
    (card,) = [c for c in r.json()["cards"] if c["summary"].startswith("PEComa (localized)")]
    assert card["indicator"] == "warning"
    assert "suspected metastasis" in card["detail"]
