"""Which recommendation heads the patient-view summary card, for patients whose disease
progressed on an mTOR inhibitor. Each record is the golden scenario's case written as FHIR
by pecoma's own writer; the expected headline is written by hand with its reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pecoma.case import parse_case
from pecoma.fhir.writer import bundle_from_case
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig
from pecoma.web.smart.settings import SmartSettings

from fhir_support import as_searched, hook_request, patient_id, prefetch_of

SCENARIOS = Path(__file__).parent / "scenarios"
ON = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    db = tmp_path_factory.mktemp("headline") / "registry.db"
    app = create_app(WebConfig(database_url=f"sqlite:///{db}", cds=CdsSettings(),
                               smart=SmartSettings()), today=lambda: ON)
    return TestClient(app, base_url="http://localhost")


def headline(client: TestClient, scenario: str) -> str:
    case = json.loads((SCENARIOS / scenario / "case.json").read_text("utf-8"))
    bundle = as_searched(bundle_from_case(parse_case(case)))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request(
        "patient-view", patient_id(bundle), prefetch=prefetch_of(bundle)))
    assert r.status_code == 200, r.text
    summary: str = r.json()["cards"][0]["summary"]
    return summary.split(": ", 1)[1]


@pytest.mark.parametrize(("scenario", "expected"), [
    # uterine primary progressed on sirolimus: S15's epirubicin with ifosfamide is the
    # guideline's option; the card had been headed by a supplementary item ("Published
    # experience after mTOR inhibitors"), knowledge from outside the guideline
    ("uterine-progressed-on-sirolimus", "Uterine primary: epirubicin with ifosfamide is an "
                                        "option"),
    # whether the cervix is involved is not recorded: S15 is provisional on it, shown first,
    # the guideline's silence beside it (the other answer) after it
    ("other-gynecologic-progressed-on-mtor-cervix-unknown",
     "(provisional) Uterine primary: epirubicin with ifosfamide is an option"),
    # not a uterine primary: the guideline names no next line (unchanged)
    ("progressed-on-mtor", "After progression on an mTOR inhibitor the guideline names no "
                           "next line"),
])
def test_the_headline_after_progression_on_an_mtor_inhibitor(
    client: TestClient, scenario: str, expected: str
) -> None:
    assert headline(client, scenario).startswith(expected)
