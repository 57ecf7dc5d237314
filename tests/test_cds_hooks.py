"""CDS Hooks 2.0 service: discovery, patient-view, order-select, feedback, CORS, errors."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.medicationrequest import MedicationRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from conftest import examples
from pecoma import assess
from pecoma.fhir.reader import case_from_bundle
from pecoma.knowledge import load_knowledge
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW, PREFETCH
from pecoma.web.cds.service import CdsService
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig
from pecoma.web.smart.settings import SmartSettings

from fhir_support import (
    EXAMPLES,
    bearer,
    example,
    fhir_server,
    hook_request,
    patient_id,
    prefetch_of,
)

ON = dt.date(2026, 11, 28)
VERSION = load_knowledge().version


def now_stamp(offset: dt.timedelta | None = None) -> str:
    """Now (the CDS store's clock) as an EHR writes an outcomeTimestamp: feedback is
    given after the card was issued and not in the future."""
    stamp = dt.datetime.now(dt.UTC)
    return (stamp.astimezone(dt.timezone(offset)) if offset is not None else stamp).isoformat()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One registry database for the module (the CDS tables live in it)."""
    return f"sqlite:///{tmp_path_factory.mktemp('cds') / 'registry.db'}"


_DB: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _remember_db(db_url: str) -> None:
    _DB["url"] = db_url


def make_client(smart: SmartSettings | None = None,
                **settings: Any) -> tuple[TestClient, CdsService]:
    """The whole web application on loopback (JWT off), with these CDS settings (and
    these SMART settings, launch off when none)."""
    app = create_app(WebConfig(database_url=_DB["url"], cds=CdsSettings(**settings),
                               smart=smart or SmartSettings()),
                     today=lambda: ON)
    svc: CdsService = app.state.cds
    return TestClient(app, base_url="http://localhost"), svc


@pytest.fixture
def client() -> TestClient:
    return make_client()[0]


def no_empty(value: Any, where: str = "") -> None:
    """CDS Hooks: optional fields are omitted, never null or empty."""
    assert value is not None, where
    if isinstance(value, dict):
        assert value, where
        for k, v in value.items():
            no_empty(v, f"{where}.{k}")
    elif isinstance(value, list):
        assert value, where
        for i, v in enumerate(value):
            no_empty(v, f"{where}[{i}]")
    elif isinstance(value, str):
        assert value != "", where


def check_card(card: dict[str, Any]) -> None:
    """The spec's rules for a card, and the project's: version named, provenance shown."""
    no_empty(card, "card")
    assert set(card) <= {"uuid", "summary", "detail", "indicator", "source", "suggestions",
                         "selectionBehavior", "overrideReasons", "links"}
    assert isinstance(card["summary"], str) and len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"] and card["source"]["url"].startswith("https://")
    assert VERSION in card["source"]["label"] and VERSION in card["detail"]
    assert len(card["uuid"]) == 36
    for link in card.get("links", []):
        assert link["type"] in ("absolute", "smart") and link["label"] and link["url"]
    if "suggestions" in card:
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for s in card["suggestions"]:
            assert s["label"] and s["uuid"]
            for action in s["actions"]:
                assert action["type"] in ("create", "update", "delete")
                assert action["description"]


def patient_view(client: TestClient, name: str, **extra: Any) -> Any:
    bundle = example(name)
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle),
                        **extra)
    return client.post(f"/cds-services/{PATIENT_VIEW}", json=body)


class TestDiscovery:
    def test_services(self, client: TestClient) -> None:
        r = client.get("/cds-services")
        assert r.status_code == 200
        data = r.json()
        no_empty(data)
        hooks = {s["id"]: s["hook"] for s in data["services"]}
        assert hooks == {PATIENT_VIEW: "patient-view", ORDER_SELECT: "order-select"}
        for s in data["services"]:
            assert s["prefetch"] == PREFETCH
            assert VERSION in s["description"]

    def test_included_in_the_web_app(self) -> None:
        from pecoma.web.app import create_app

        r = TestClient(create_app(WebConfig()), base_url="http://localhost").get("/cds-services")
        assert r.status_code == 200 and len(r.json()["services"]) == 2


class TestPatientView:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_cards_obey_the_spec(self, client: TestClient, name: str) -> None:
        r = patient_view(client, name)
        assert r.status_code == 200
        cards = r.json()["cards"]
        assert cards
        for card in cards:
            check_card(card)
        assert "*Source:* guideline" in cards[0]["detail"]

    def test_summary_card_content(self, client: TestClient) -> None:
        """Metastatic lung: the headline is the metastasectomy; rationale and refs shown."""
        cards = patient_view(client, "metastatic-lung-metachronous").json()["cards"]
        head = cards[0]
        assert head["indicator"] == "info"
        assert "Resect the metachronous lung metastases" in head["summary"]
        assert "*Why:*" in head["detail"] and "S16" in head["detail"]
        assert "Not found in the record" in head["detail"]

    def test_free_of_disease_beside_a_later_progression_is_never_disease_free_advice(
            self, client: TestClient) -> None:
        """A record free of disease since 2023-08-01 (the lung metastasis removed) holding
        sirolimus begun on 2024-02-01 on which the disease progressed: the card had been
        'Free of disease after relapse ...' with no systemic advice for a patient
        progressing. The record contradicts itself: the card says nothing was assessed and
        names both fields. Begun before the date (the earlier disease), it is assessed."""
        from pecoma import parse_case
        from pecoma.fhir.writer import bundle_from_case

        case = {
            "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
            "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
            "stage": {"status": "metastatic",
                      "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
            "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
            "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
            "systemic": {"therapies": [{"agent": "sirolimus", "line": 1,
                                        "started_on": "2023-05-20", "progressed": "yes"}]},
        }
        bundle = bundle_from_case(parse_case(case))

        def cards(start: str) -> Any:
            for e in bundle["entry"]:
                if e["resource"]["resourceType"] == "MedicationStatement":
                    e["resource"]["effectivePeriod"]["start"] = start
            body = hook_request("patient-view", patient_id(bundle),
                                prefetch=prefetch_of(bundle))
            r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
            assert r.status_code == 200
            return r.json()["cards"]

        assert cards("2023-05-20")[0]["indicator"] == "info"  # assessed
        [card] = cards("2024-02-01")
        check_card(card)
        assert card["indicator"] == "warning"
        assert "Nothing was assessed" in card["detail"]
        assert "free_of_disease.since" in card["detail"]
        assert "'systemic.therapies[0].progressed' 'yes'" in card["detail"]
        assert "Free of disease" not in card["summary"]

    def test_source_and_links_follow_the_settings(self) -> None:
        """The hospital's own source URL and public base URL on every card, and the
        SMART launch link when switched on (CDS Hooks 2.0: a link of type smart; SMART
        launch configured, as the configuration requires)."""
        settings = {"source_url": "https://hospital.example/pecoma/guideline",
                    "base_url": "https://cds.hospital.example/pecoma", "smart_links": True}
        smart = SmartSettings(client_id="pecoma", issuers=("https://ehr.example/fhir",),
                              redirect_base="https://cds.hospital.example/pecoma")
        cards = patient_view(make_client(smart, **settings)[0],
                             "localized-high-risk").json()["cards"]
        assert cards
        for card in cards:
            check_card(card)
            assert card["source"]["url"] == "https://hospital.example/pecoma/guideline"
            report, smart = card["links"]
            assert report["type"] == "absolute" and report["url"].startswith(
                "https://cds.hospital.example/pecoma/cds-services/reports/")
            assert smart == {"label": "Open the case in pecoma", "type": "smart",
                             "url": "https://cds.hospital.example/pecoma/smart/launch"}
        plain = patient_view(make_client()[0], "localized-high-risk").json()["cards"]
        assert all(link["type"] != "smart" for c in plain for link in c["links"])

    def test_alert_cards_carry_their_level(self, client: TestClient) -> None:
        cards = patient_view(client, "localized-high-risk").json()["cards"]
        levels = {c["source"].get("topic", {}).get("code"): c["indicator"] for c in cards}
        assert levels["ALERT-PRIOR-DIAGNOSIS"] == "warning"
        assert levels["ALERT-INCOMPLETE-RESECTION"] == "critical"

    @pytest.mark.parametrize("observations", ["no margin", "null"])
    def test_an_alert_on_the_safer_reading_says_it_is_provisional_in_its_summary(
            self, client: TestClient, observations: str) -> None:
        """Metachronous lung metastases after a resection whose margin the record does not
        give (the margin Observation left out, or no observations sent at all): whether
        tumour was left behind is unknown, and the engine takes the safer branch, the
        critical alert that tumour may have been left (ALERT-INCOMPLETE-RESECTION, waiting
        on MISS-PRIMARY-MARGIN; not ALERT-GROSS-RESIDUAL, whose "was left behind" states a
        finding the record does not hold). An EHR shows the summary first: it begins
        "(provisional) ", as the summary card's headline does, and stays under 140
        characters. With the margin given (R0) there is no such alert."""
        bundle = example("metastatic-lung-metachronous")
        prefetch = prefetch_of(bundle)
        if observations == "null":
            prefetch["observations"] = None
        else:
            prefetch["observations"]["entry"] = [
                e for e in prefetch["observations"]["entry"]
                if e["resource"].get("id") != "resection-margin"]
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        cards = client.post(f"/cds-services/{PATIENT_VIEW}", json=body).json()["cards"]
        codes = [c["source"].get("topic", {}).get("code") for c in cards]
        assert "ALERT-GROSS-RESIDUAL" not in codes
        [alert] = [c for c in cards if c["source"].get("topic", {}).get("code")
                   == "ALERT-INCOMPLETE-RESECTION"]
        assert alert["indicator"] == "critical"
        assert alert["summary"] == "(provisional) Malignant tumour may have been left behind"
        assert "MISS-PRIMARY-MARGIN" in alert["detail"]
        check_card(alert)
        given = patient_view(client, "metastatic-lung-metachronous").json()["cards"]
        assert not any(c["source"].get("topic", {}).get("code") in (
            "ALERT-GROSS-RESIDUAL", "ALERT-INCOMPLETE-RESECTION") for c in given)
        # a settled alert keeps its title as it is
        settled = patient_view(client, "localized-high-risk").json()["cards"]
        [incomplete] = [c for c in settled if c["source"].get("topic", {}).get("code")
                        == "ALERT-INCOMPLETE-RESECTION"]
        assert not incomplete["summary"].startswith("(provisional)")

    def test_missing_facts_in_detail(self, client: TestClient) -> None:
        bundle = example("low-risk")
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"].get("id") != "histology-necrosis"]
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        cards = client.post(f"/cds-services/{PATIENT_VIEW}", json=body).json()["cards"]
        assert "fact(s) unknown" in cards[0]["summary"]
        assert "`histology.necrosis`" in cards[0]["detail"]
        assert "unknown, not absent" in cards[0]["detail"]

    def test_report_link(self, client: TestClient) -> None:
        card = patient_view(client, "low-risk").json()["cards"][0]
        url = card["links"][0]["url"]
        assert url.startswith("http://127.0.0.1:8000/cds-services/reports/")
        r = client.get(url.removeprefix("http://127.0.0.1:8000"))
        assert r.status_code == 200 and r.text.startswith("# pecoma assessment")
        assert client.get("/cds-services/reports/nope").status_code == 404

    def test_reports_kept_within_their_bound_by_the_service(self) -> None:
        """The service prunes after its answers (a background task, so no answer waits):
        with room for two reports, three answers leave the newest two, and the newest
        link opens."""
        client, svc = make_client()
        store = svc.store()
        store.limits = dataclasses.replace(store.limits, prune_every=1, max_reports=2)
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM cds_report"))
        urls = [patient_view(client, "low-risk").json()["cards"][0]["links"][0]["url"]
                for _ in range(3)]
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cds_report")).scalar_one() == 2
        assert client.get(urls[-1].removeprefix("http://127.0.0.1:8000")).status_code == 200
        assert client.get(urls[0].removeprefix("http://127.0.0.1:8000")).status_code == 404

    def test_null_prefetch_part_is_unknown_and_said_so(self, client: TestClient) -> None:
        """Observations sent as null, no fhirServer: cards still come, and say that the
        observations could not be read (not that there are none)."""
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        prefetch["observations"] = None
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        cards = r.json()["cards"]
        for card in cards:
            check_card(card)
        text = " ".join(c["detail"] for c in cards)
        assert "the observations (tumour size, pathology, markers, status)" in text
        assert "prefetch null" in text and "no fhirServer" in text


MCODE = Path(__file__).parent / "data" / "mcode"


def _mcode(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MCODE / f"{name}.json").read_text("utf-8"))
    return data


def _entry(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid)


def _summaries(client: TestClient, bundle: dict[str, Any]) -> list[str]:
    """The summaries of patient-view's cards, the body sent as raw UTF-8 (not
    \\u-escaped), as most EHRs send non-ASCII text."""
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}",
                    content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    return [c["summary"] for c in r.json()["cards"]]


class TestRecordsAsEhrsWriteThem:
    """tests/data/mcode/uterus-localized.json (a resected uterine PEComa, high risk, R0)
    with one thing written as an EHR may write it."""

    @pytest.mark.parametrize("between", ["\u00a0", "  ", "-"],
                             ids=["nbsp", "double-space", "hyphen"])
    def test_the_pecoma_named_with_another_blank_gets_its_cards(
            self, client: TestClient, between: str) -> None:
        """The PEComa named only in the Condition's text (ICD-10-CM C55, no histology
        result), resource ids opaque so nothing else spells 'pecoma': with a
        non-breaking space, two spaces or a hyphen between 'Perivascular' and
        'epithelioid', patient-view had answered no cards at all. Expected: the same
        assessment card as the plain spelling, headed 'PEComa (localized)'."""
        b = _mcode("uterus-localized")
        b["entry"] = [e for e in b["entry"]
                      if e["resource"]["id"] != "histologic-behavior-and-type-pecoma-u"]
        _entry(b, "primary-cancer-condition-uterus")["code"] = {
            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C55"}],
            "text": f"Perivascular{between}epithelioid cell tumour of uterus"}
        b = json.loads(json.dumps(b).replace("pecoma-u", "x1"))
        raw = json.dumps(b, ensure_ascii=False).lower()
        assert "pecoma" not in raw and "8714" not in raw and "perivascular epith" not in raw
        summaries = _summaries(client, b)
        assert summaries and summaries[0].startswith("PEComa (localized), risk high")

    def test_a_pecoma_diagnosed_on_the_hysterectomy_specimen_is_assessed(
            self, client: TestClient) -> None:
        """The Condition's onset and recordedDate 2024-04-16, the pathology report of the
        hysterectomy of 2024-04-09: the card had said the record could not be read
        ('surgery before diagnosis', correct the record). Expected: the assessment, as
        for the record dated 2024-03-04, and no 'check not possible' card."""
        b = _mcode("uterus-localized")
        cond = _entry(b, "primary-cancer-condition-uterus")
        cond["onsetDateTime"] = cond["recordedDate"] = "2024-04-16"
        summaries = _summaries(client, b)
        assert summaries and summaries[0].startswith("PEComa (localized), risk high")
        assert not any("not possible" in s for s in summaries)

    def test_a_lymph_node_secondary_by_body_site_is_not_metastatic_disease(
            self, client: TestClient) -> None:
        """An mCODE SecondaryCancerCondition coded 128462008 with bodySite 'Structure of
        lymph node' (59441001): the card had been headed 'PEComa (metastatic)' with the
        mTOR-inhibitor first line. Expected: node-positive localized disease, as the
        same fact coded ICD-10-CM C77.5 reads: headed 'PEComa (localized)'."""
        b = _with_node_secondary("59441001", "Structure of lymph node", "2024-03-10")
        summaries = _summaries(client, b)
        assert summaries and summaries[0].startswith("PEComa (localized)")
        assert not any("metastatic" in s for s in summaries)

    def test_a_lymph_node_secondary_found_after_the_resection_is_a_relapse(
            self, client: TestClient) -> None:
        """The same Condition with its onset 2025-06-01, 14 months after the R0
        hysterectomy of 2024-04-09 (a supraclavicular node relapse): the card had been
        headed 'PEComa (localized)', with S11's postoperative consideration, from the
        'no history of metastatic cancer' stated at diagnosis. Expected: headed 'PEComa
        (metastatic)', as a relapse at any other site is."""
        b = _with_node_secondary("21814001", "Structure of supraclavicular lymph node",
                                 "2025-06-01")
        summaries = _summaries(client, b)
        assert summaries and summaries[0].startswith("PEComa (metastatic)")
        assert not any("localized" in s for s in summaries)


    @pytest.mark.parametrize(("obs_code", "value"), [
        (("http://snomed.info/sct", "399387003"), "1229903009"),  # AJCC cM1
        (("http://snomed.info/sct", "371497001"), "1229916009"),  # AJCC pM1
    ], ids=["cM1", "pM1"])
    def test_an_m1_coded_by_snomed_alone_is_metastatic_disease(
            self, client: TestClient, obs_code: tuple[str, str], value: str) -> None:
        """An mCODE TNMDistantMetastasesCategory valued by SNOMED CT code with no display,
        beside the 'no history of metastatic cancer' stated at diagnosis: the card had
        been headed 'PEComa (localized)' (completion of the resection, no mTOR inhibitor).
        Expected: headed 'PEComa (metastatic)', as the same value with its display is."""
        b = _mcode("uterus-localized")
        b["entry"].append(_staging_entry(obs_code, {"coding": [{
            "system": "http://snomed.info/sct", "code": value}]}))
        summaries = _summaries(client, b)
        assert summaries and summaries[0].startswith("PEComa (metastatic)")
        assert not any("localized" in s for s in summaries)

    @pytest.mark.parametrize(("obs_code", "value"), [
        (("http://loinc.org", "21908-9"), {"coding": [{
            "system": "http://snomed.info/sct", "code": "1222837003"}]}),  # stage IV
        (("http://loinc.org", "21907-1"), {"coding": [{
            "system": "http://hospital.example/tnm", "code": "M-99"}]}),
    ], ids=["stage-IV-code", "unknown-M-code"])
    def test_a_stage_iv_or_unreadable_m_is_never_localized(
            self, client: TestClient, obs_code: tuple[str, str],
            value: dict[str, Any]) -> None:
        """A stage group IV by SNOMED CT code alone, or an M category coded in a way
        pecoma cannot read: the card had been headed 'PEComa (localized)'. Whether there
        are distant metastases is not known from the record: no assessment as localized,
        the 'check not possible' card instead, naming the staging result."""
        b = _mcode("uterus-localized")
        b["entry"].append(_staging_entry(obs_code, value))
        body = hook_request("patient-view", patient_id(b), prefetch=prefetch_of(b))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        cards = r.json()["cards"]
        assert not any("localized" in c["summary"] for c in cards)
        assert any("not possible" in c["summary"] for c in cards)
        assert "Observation/tnm" in json.dumps(cards)

    def test_a_lung_metastasis_by_snomed_alone_gets_the_lung_advice(
            self, client: TestClient) -> None:
        """A lung metastasis 14 months after the R0 hysterectomy, an mCODE
        SecondaryCancerCondition coded SNOMED CT 94391008 with no display: it had been
        read as site 'other' and the cards headed with the mTOR inhibitor, the lung
        metastasectomy question (S16) gone. Expected: the same cards as with ICD-10-CM
        C78.00, the S16 question among them."""
        texts = []
        for coding in ({"system": "http://snomed.info/sct", "code": "94391008"},
                       {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.00"}):
            b = _mcode("uterus-localized")
            b["entry"].append({"resource": {
                "resourceType": "Condition", "id": "met-lung",
                "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/"
                                     "mcode-secondary-cancer-condition"]},
                "clinicalStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active"}]},
                "code": {"coding": [coding]},
                "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
                "onsetDateTime": "2025-06-01"}})
            body = hook_request("patient-view", patient_id(b), prefetch=prefetch_of(b))
            r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
            assert r.status_code == 200
            texts.append([(c["summary"], c.get("detail", "")) for c in r.json()["cards"]])
        assert texts[0] == texts[1]
        assert texts[0][0][0].startswith("PEComa (metastatic)")
        assert "S16" in json.dumps(texts[0])

    def test_lung_metastases_found_months_apart_wait_on_the_interval(
            self, client: TestClient) -> None:
        """The metachronous-lung example (R0 resection 2023-02-14, disease status
        'metastatic', nothing outside the lungs, resectable) with its lung metastases as
        two mCODE SecondaryCancerConditions, onset 2024-10-20 and 2025-05-15: the card had
        been headed 'Resect the metachronous lung metastases', the 20 months counted from
        the primary, while the same facts labelled 'recurrent' waited on the interval
        after a relapse treated in between. Expected: the headline item is the pending
        S16 item, as for the case read from the record (the question asked), and with
        one metastasis the metastasectomy as before."""
        def bundle(*onsets: str) -> dict[str, Any]:
            b = example("metastatic-lung-metachronous")
            b["entry"] = [e for e in b["entry"] if e["resource"]["id"] != "metastasis-1"]
            for n, onset in enumerate(onsets):
                b["entry"].append({"resource": {
                    "resourceType": "Condition", "id": f"scc-{n}",
                    "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/"
                                         "mcode-secondary-cancer-condition"]},
                    "clinicalStatus": {"coding": [{
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active"}]},
                    "code": {"coding": [{"system": "http://snomed.info/sct",
                                         "code": "94391008"}]},
                    "subject": {"reference": f"Patient/{patient_id(b)}"},
                    "onsetDateTime": onset}})
            return b

        two = bundle("2024-10-20", "2025-05-15")
        case = case_from_bundle(two).case
        assert [m.detected_on.isoformat() for m in case.stage.metastases
                if m.detected_on] == ["2024-10-20", "2025-05-15"]
        a = assess(case, ON)
        assert [(i.id, i.conditional_on) for i in a.recommendations
                if i.id.startswith("REC-LUNG-META")] == [
            ("REC-LUNG-METASTASECTOMY-PENDING", ("MISS-DFI-AFTER-RELAPSE",))]
        summaries = _summaries(client, two)
        assert "lung-metastasectomy criteria are met is not known yet" in summaries[0]
        assert not any("Resect the metachronous lung metastases" in s for s in summaries)
        one = _summaries(client, bundle("2024-10-20"))
        assert "Resect the metachronous lung metastases" in one[0]

    def test_lung_metastases_of_one_work_up_are_one_presentation(
            self, client: TestClient) -> None:
        """The same record with its lung metastasis as two SecondaryCancerConditions
        four days apart (2024-10-20, the CT; 2024-10-24, the PET/CT that confirms it: one
        Condition per imaging study): no relapse can have been found, treated and
        followed by a scan in between (I5), so the card is headed 'Resect the
        metachronous lung metastases', as with one Condition. It had been the pending
        S16 item, asking about a relapse treated between the two scans."""
        b = example("metastatic-lung-metachronous")
        scan = next(e for e in b["entry"] if e["resource"]["id"] == "metastasis-1")
        pet = copy.deepcopy(scan)
        pet["resource"]["id"] = "metastasis-pet"
        pet["fullUrl"] = scan["fullUrl"].replace("metastasis-1", "metastasis-pet")
        for key in [k for k in pet["resource"] if k.startswith("onset")]:
            del pet["resource"][key]
        pet["resource"]["onsetDateTime"] = "2024-10-24"
        b["entry"].append(pet)
        case = case_from_bundle(b).case
        assert sorted(m.detected_on.isoformat() for m in case.stage.metastases
                      if m.detected_on) == ["2024-10-20", "2024-10-24"]
        a = assess(case, ON)
        assert [(i.id, i.conditional_on) for i in a.recommendations
                if i.id.startswith("REC-LUNG-META")] == [("REC-LUNG-METASTASECTOMY", ())]
        assert "Resect the metachronous lung metastases" in _summaries(client, b)[0]


def _staging_entry(code: tuple[str, str], value: dict[str, Any]) -> dict[str, Any]:
    """A TNM staging Observation of the uterine record, dated 2026-10-01, naming no
    focus."""
    return {"resource": {
        "resourceType": "Observation", "id": "tnm", "status": "final",
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "effectiveDateTime": "2026-10-01", "valueCodeableConcept": value,
        "subject": {"reference": "Patient/cancer-patient-pecoma-u"}}}


def _with_node_secondary(code: str, display: str, onset: str) -> dict[str, Any]:
    """The uterine mCODE record (R0 hysterectomy 2024-04-09) with an active
    SecondaryCancerCondition coded 128462008, its bodySite the lymph node ``code``."""
    b = _mcode("uterus-localized")
    b["entry"].append({"resource": {
        "resourceType": "Condition", "id": "ln2",
        "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/"
                             "mcode-secondary-cancer-condition"]},
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "128462008"}]},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": code,
                                  "display": display}]}],
        "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
        "onsetDateTime": onset}})
    return b


def _server_client(url: str) -> TestClient:
    """A client whose allow-list admits the loopback FHIR server at ``url``."""
    return make_client(fhir_servers=(url,))[0]


class TestFhirServerFallback:
    def test_no_prefetch_is_served_by_the_fhir_server(self, client: TestClient) -> None:
        """A real HTTP server on loopback answers the queries, paged, with the token."""
        bundle = example("localized-high-risk")
        with fhir_server(bundle, token="tok-123", page_size=4) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), fhirServer=url,
                                fhirAuthorization=bearer("tok-123"))
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        direct = patient_view(client, "localized-high-risk").json()["cards"]
        assert [c["summary"] for c in r.json()["cards"]] == [c["summary"] for c in direct]
        paths = [p for p, _auth in rec.requests]
        assert any(p.startswith("/fhir/Observation?patient=pat-1001&_count=200&_page=")
                   for p in paths)
        assert {auth for _p, auth in rec.requests} == {"Bearer tok-123"}
        assert len({p.split("?")[0] for p in paths}) == len(PREFETCH)

    def test_partial_prefetch_fetches_only_what_is_missing(self) -> None:
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        del prefetch["observations"]
        with fhir_server(bundle) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url)
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        assert {p.split("?")[0] for p, _a in rec.requests} == {"/fhir/Observation"}

    def test_operation_outcome_prefetch_is_fetched_again(self) -> None:
        """An OperationOutcome in place of the allergies: asked again of the server."""
        bundle = example("advanced-mtor-contraindicated")
        prefetch = prefetch_of(bundle)
        prefetch["allergies"] = {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "timeout"}]}
        with fhir_server(bundle) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url)
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert {p.split("?")[0] for p, _a in rec.requests} == {"/fhir/AllergyIntolerance"}
        assert "could not be read" not in " ".join(c["detail"] for c in r.json()["cards"])

    def test_server_not_on_the_allow_list_is_not_asked(self, client: TestClient) -> None:
        """fhirServer not allowed: nothing is fetched; the parts are unknown, said why."""
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        prefetch["observations"] = None
        with fhir_server(bundle) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url, fhirAuthorization=bearer("tok-x"))
            r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200 and rec.requests == []
        assert "not on this service's allow-list" in r.json()["cards"][0]["detail"]

    @pytest.mark.parametrize("status", [500, 401])
    def test_server_failure_leaves_the_part_unknown(self, status: int) -> None:
        """An error from the server is not 'no data': the part is unknown, and the answer
        does not tell the HTTP status (nor echo the token)."""
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        prefetch["observations"] = None
        with fhir_server(bundle, status=status) as (url, _rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url, fhirAuthorization=bearer("tok-wrong"))
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        detail = r.json()["cards"][0]["detail"]
        assert "no usable answer to the observations query" in detail
        assert str(status) not in detail.replace("2026", "") and "tok-wrong" not in r.text

    def test_a_patient_the_server_does_not_find_stays_unknown(self) -> None:
        """The Patient not sent (prefetch null), and the server answering 404 to
        Patient/{id} (a wrong id, or one the token may not see): the part was taken as
        read, and the card dropped to 'info' without saying the patient resource, where
        pecoma learns whether the patient died, was never read. It stays unknown."""
        bundle = example("metastatic-lung-metachronous")
        prefetch = prefetch_of(bundle)
        prefetch["patient"] = None
        served = {**bundle, "entry": [e for e in bundle["entry"]
                                      if e["resource"]["resourceType"] != "Patient"]}
        with fhir_server(served) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url)
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert rec.requests == [(f"/fhir/Patient/{patient_id(bundle)}", None)]
        # said first: whether the patient died is unknown (the Patient was not read)
        first, card = r.json()["cards"][:2]
        assert first["summary"].startswith("Whether this patient has died is unknown")
        assert card["indicator"] == "warning"
        assert "the patient resource: " in card["detail"]
        assert "no usable answer to the patient query" in card["detail"]

    def test_a_patient_the_server_finds_is_read(self) -> None:
        """Control: the server has the Patient; the part is read, the card says nothing
        of it."""
        bundle = example("metastatic-lung-metachronous")
        prefetch = prefetch_of(bundle)
        prefetch["patient"] = None
        with fhir_server(bundle) as (url, _rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url)
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        card = r.json()["cards"][0]
        assert card["indicator"] == "info"
        assert "the patient resource" not in card["detail"]

    def test_unreachable_and_closed_ports_read_alike(self) -> None:
        """A closed port and a server that answers 500 give the same words on the card."""
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        prefetch["observations"] = None
        closed = "http://127.0.0.1:9/fhir"
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                            fhirServer=closed)
        r1 = _server_client(closed).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        with fhir_server(bundle, status=500) as (url, _rec):
            body["fhirServer"] = url
            r2 = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        d1, d2 = (r.json()["cards"][0]["detail"] for r in (r1, r2))
        assert d1.split("*pecoma knowledge")[0] == d2.split("*pecoma knowledge")[0]

    @pytest.mark.parametrize("token", ["tökén-é", "tok en", "tok\r\nX-Other: 1", "=abc"])
    def test_an_access_token_that_is_no_bearer_token_is_a_400(self, token: str) -> None:
        """A bearer token is ASCII (RFC 6750 b64token): a non-ASCII access_token had made
        the call a 500 with no card at all (the HTTP client cannot write it in a header).
        Now a 400 naming the field, without its value, and the server is not asked."""
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        prefetch["observations"] = None
        with fhir_server(bundle) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url, fhirAuthorization=bearer(token))
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        [error] = r.json()["errors"]
        assert (error["path"], error["value"]) == ("fhirAuthorization.access_token",
                                                   "(not shown)")
        assert "b64token" in error["rule"] and rec.requests == []

    def test_a_jwt_or_opaque_access_token_is_sent(self) -> None:
        """Control: a token of every b64token character (a JWT's dots, base64's +/ and
        padding) is accepted and sent to the allowed server as it came."""
        bundle = example("low-risk")
        prefetch = prefetch_of(bundle)
        prefetch["observations"] = None
        token = "eyJhbGci.eyJzdWIi-_~+/9.sig=="
        with fhir_server(bundle, token=token) as (url, rec):
            body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch,
                                fhirServer=url, fhirAuthorization=bearer(token))
            r = _server_client(url).post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        assert {auth for _p, auth in rec.requests} == {f"Bearer {token}"}


class TestBadRequests:
    def test_nothing_readable_says_so(self, client: TestClient) -> None:
        """No prefetch and no server: no silent 'nothing found', one card saying the
        conditions could not be read."""
        r = client.post(f"/cds-services/{PATIENT_VIEW}",
                        json=hook_request("patient-view", "pat-1"))
        assert r.status_code == 200
        [card] = r.json()["cards"]
        check_card(card)
        assert card["indicator"] == "warning"
        assert "Whether this patient has a PEComa could not be checked" in card["detail"]

    def test_deep_json_is_400(self, client: TestClient) -> None:
        deep = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=deep,
                        headers={"content-type": "application/json"})
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        medium = b"[" * 200 + b"]" * 200
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=medium,
                        headers={"content-type": "application/json"})
        assert r.status_code == 400

    def test_a_request_in_utf16_or_with_odd_text_is_400_not_silent(
            self, client: TestClient) -> None:
        """A PEComa patient's request in UTF-16 had been answered 200 with no cards; a lone
        surrogate in the patient id had made a 500 (the id is echoed in card text)."""
        bundle = example("localized-high-risk")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.post(f"/cds-services/{PATIENT_VIEW}",
                        content=json.dumps(body).encode("utf-16"),
                        headers={"content-type": "application/json"})
        assert r.status_code == 400
        assert "not UTF-8" in r.json()["detail"]
        raw = json.dumps(body).replace(patient_id(bundle), patient_id(bundle) + "\\ud800",
                                       1).encode()
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=raw,
                        headers={"content-type": "application/json"})
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")

    @pytest.mark.parametrize(("extra", "path"), [
        ({"fhirAuthorization": bearer("t")}, "fhirAuthorization"),
        ({"fhirServer": "https://ehr.example/fhir",
          "fhirAuthorization": {"access_token": "t", "token_type": "Bearer"}},
         "fhirAuthorization.expires_in"),
        ({"fhirServer": "ftp://ehr.example/fhir"}, "fhirServer"),
        ({"hookInstance": "not-a-uuid"}, "hookInstance"),
        ({"prefetch": {"patient": "Patient/1"}}, "prefetch.patient"),
    ])
    def test_spec_rules(self, client: TestClient, extra: dict[str, Any], path: str) -> None:
        body = hook_request("patient-view", "pat-1", **extra)
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 400
        assert path in {e["path"] for e in r.json()["errors"]}

    @pytest.mark.parametrize("user", ["dr smith", "Practitioner/1\n"])
    def test_user_id_must_be_a_reference(self, client: TestClient, user: str) -> None:
        """A reference to the user and nothing else: a trailing newline had passed the
        pattern's end anchor."""
        body = hook_request("patient-view", "pat-1")
        body["context"]["userId"] = user
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "context.userId"

    @pytest.mark.parametrize("service", [PATIENT_VIEW, ORDER_SELECT])
    def test_user_id_is_required(self, client: TestClient, service: str) -> None:
        """CDS Hooks 2.0.1 requires context.userId of both hooks; a call without it was
        answered as if it were complete. A 400 naming the field."""
        hook = "patient-view" if service == PATIENT_VIEW else "order-select"
        body = hook_request(hook, "pat-1")
        del body["context"]["userId"]
        r = client.post(f"/cds-services/{service}", json=body)
        assert r.status_code == 400
        assert "context.userId" in {e["path"] for e in r.json()["errors"]}

    @pytest.mark.parametrize("service", [PATIENT_VIEW, ORDER_SELECT])
    @pytest.mark.parametrize("encounter", [5, None, "", ["enc-1"], "Encounter/enc-1"])
    def test_encounter_id_of_the_wrong_type_is_400(self, client: TestClient, service: str,
                                                   encounter: Any) -> None:
        """Both hooks define context.encounterId as a string, the Encounter's FHIR id, left
        out when there is none (CDS Hooks 2.0.1: never null or empty). An integer was
        taken in silence while every other context field of the wrong type is refused;
        the field is named with the value sent."""
        hook = "patient-view" if service == PATIENT_VIEW else "order-select"
        body = hook_request(hook, "pat-1")
        body["context"]["encounterId"] = encounter
        r = client.post(f"/cds-services/{service}", json=body)
        assert r.status_code == 400
        errors = {e["path"]: e for e in r.json()["errors"]}
        assert "context.encounterId" in errors
        assert errors["context.encounterId"]["value"] == repr(encounter)

    def test_an_encounter_id_that_is_a_fhir_id_is_taken(self, client: TestClient) -> None:
        """The control: a well-formed encounterId changes nothing (it is not read)."""
        r = patient_view(client, "metastatic-lung-metachronous")
        body = hook_request("patient-view", patient_id(example("metastatic-lung-metachronous")),
                            prefetch=prefetch_of(example("metastatic-lung-metachronous")))
        body["context"]["encounterId"] = "enc-89284"
        again = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == again.status_code == 200
        assert ([c["summary"] for c in again.json()["cards"]]
                == [c["summary"] for c in r.json()["cards"]])

    @pytest.mark.parametrize("key", ["fhirServer", "fhirAuthorization", "prefetch"])
    def test_request_fields_put_inside_context_are_400(self, client: TestClient,
                                                      key: str) -> None:
        """fhirServer, fhirAuthorization and prefetch are fields of the request, no hook's
        context field: sent inside context they had been ignored and the cards said no
        FHIR server was given, without pointing at the misplaced field. Refused, naming
        it and where it belongs; a token sent there is never shown."""
        misplaced = {"fhirServer": "https://ehr.example/fhir",
                     "fhirAuthorization": bearer("secret-token-9"),
                     "prefetch": {"patient": {"resourceType": "Patient", "id": "pat-1"}}}
        body = hook_request("patient-view", "pat-1")
        body["context"][key] = misplaced[key]
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 400
        errors = {e["path"]: e for e in r.json()["errors"]}
        assert "top level" in errors[f"context.{key}"]["rule"]
        assert "secret-token-9" not in r.text

    def test_an_unknown_context_field_is_ignored(self, client: TestClient) -> None:
        """A hook gains OPTIONAL context fields in a minor version (CDS Hooks 2.0.1,
        Changes to a Hook): an EHR on a later version must still get its cards."""
        body = hook_request("patient-view",
                            patient_id(example("metastatic-lung-metachronous")),
                            prefetch=prefetch_of(example("metastatic-lung-metachronous")))
        body["context"]["appointments"] = {"resourceType": "Bundle", "type": "collection"}
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200 and r.json()["cards"]

    def test_unparseable_json(self, client: TestClient) -> None:
        r = client.post(f"/cds-services/{PATIENT_VIEW}", content=b"{oops",
                        headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["type"].endswith("malformed-json")

    def test_wrong_hook_and_missing_context(self, client: TestClient) -> None:
        r = client.post(f"/cds-services/{PATIENT_VIEW}",
                        json={"hook": "order-sign", "context": "x"})
        assert r.status_code == 400
        paths = {e["path"] for e in r.json()["errors"]}
        assert paths == {"hook", "hookInstance", "context"}

    def test_unknown_service(self, client: TestClient) -> None:
        r = client.post("/cds-services/nothing", json={})
        assert r.status_code == 404

    @pytest.mark.parametrize("breakage", ["dates", "types", "invalid"])
    def test_bad_record_gets_an_error_card(self, client: TestClient, breakage: str) -> None:
        """Contradictory dates, a wrong resource type, invalid FHIR: a clear error card."""
        bundle = copy.deepcopy(example("localized-high-risk"))
        prefetch = prefetch_of(bundle)
        if breakage == "dates":
            for e in prefetch["procedures"]["entry"]:
                e["resource"]["performedDateTime"] = "2020-01-01"
            expected = "surgery.date"
        elif breakage == "types":
            # the conditions key answering the Patient read (the Patient as the patient
            # key sends it: read where it belongs, one resource sent twice)
            prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset",
                                      "entry": [{"resource": copy.deepcopy(
                                          prefetch["patient"])}]}
            expected = "8714/0 or 8714/3"
        else:
            prefetch["observations"]["entry"][0]["resource"]["status"] = 7
            expected = "must be valid FHIR R4"
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        cards = r.json()["cards"]
        assert len(cards) == 1
        check_card(cards[0])
        assert cards[0]["indicator"] == "warning"
        assert expected in cards[0]["detail"]


def order_body(name: str, medication: dict[str, Any], **context: Any) -> dict[str, Any]:
    bundle = example(name)
    pid = patient_id(bundle)
    order = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "medicationCodeableConcept": medication,
             "subject": {"reference": f"Patient/{pid}"}}
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle))
    body["context"].update({"selections": ["MedicationRequest/draft-1"],
                            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                            "entry": [{"resource": order}]}, **context})
    return body


class TestOrderSelect:
    def test_chemotherapy_first_line_warns(self, client: TestClient) -> None:
        """Metastatic, mTOR available: doxorubicin first line gets a warning (S13, S14)."""
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=order_body("metastatic-lung-metachronous",
                                        {"text": "Doxorubicin 75 mg/m2"}))
        assert r.status_code == 200
        cards = r.json()["cards"]
        assert len(cards) == 1
        card = cards[0]
        check_card(card)
        assert card["indicator"] == "warning"
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
        assert "S13, S14" in card["detail"]
        actions = card["suggestions"][0]["actions"]
        assert actions[0] == {"type": "delete", "description": "Remove the draft chemotherapy "
                              "order (MedicationRequest/draft-1)",
                              "resourceId": "MedicationRequest/draft-1"}
        created = actions[1]["resource"]
        MedicationRequest.model_validate(created)
        assert created["subject"]["reference"] == "Patient/pat-1003"
        assert card["overrideReasons"]

    def test_the_linked_report_says_the_draft_is_assessed_as_if_given(
            self, client: TestClient) -> None:
        """The doxorubicin draft of the metachronous-lung case is assessed as if given, so
        the report the card links to names doxorubicin as the first line ("A first line
        other than an mTOR inhibitor recorded …"). The record holds no such line: it is
        the draft being signed. A clinician who opens or prints the report apart from the
        card must read that first, under its title, naming the draft; the patient-view
        report, of the record alone, says nothing of the kind."""
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=order_body("metastatic-lung-metachronous",
                                        {"text": "Doxorubicin 75 mg/m2"}))
        [card] = r.json()["cards"]
        url = card["links"][0]["url"].removeprefix("http://127.0.0.1:8000")
        report = client.get(url).text
        title, blank, caveat = report.splitlines()[:3]
        assert title == "# pecoma assessment" and blank == ""
        assert caveat == ("> **Draft order assessed as if given.** The first line this report "
                          "names is the draft order of the order set (doxorubicin "
                          "(MedicationRequest/draft-1)), assessed as if given to show what "
                          "the guideline says of it: not a line the record holds.")
        head = patient_view(client, "metastatic-lung-metachronous").json()["cards"][0]
        own = client.get(head["links"][0]["url"].removeprefix("http://127.0.0.1:8000")).text
        assert "as if given" not in own

    def test_contraindicated_mtor_is_quiet(self, client: TestClient) -> None:
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=order_body("advanced-mtor-contraindicated", {"text": "doxorubicin"}))
        assert r.json() == {"cards": []}

    def test_localized_disease_is_quiet(self, client: TestClient) -> None:
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=order_body("localized-high-risk", {"text": "doxorubicin"}))
        assert r.json() == {"cards": []}

    def test_mtor_order_is_quiet_and_needs_no_record(self, client: TestClient) -> None:
        body = order_body("metastatic-lung-metachronous", {"text": "sirolimus"})
        del body["prefetch"]
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 200 and r.json() == {"cards": []}

    def test_unselected_order_is_ignored(self, client: TestClient) -> None:
        """The session holds the doxorubicin draft and a CT order; only the CT order is
        selected: the first-line warning is about the doxorubicin draft, not selected, so
        no card."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"},
                          selections=["ServiceRequest/ct-1"])
        body["context"]["draftOrders"]["entry"].append({"resource": {
            "resourceType": "ServiceRequest", "id": "ct-1", "status": "draft",
            "intent": "order", "code": {"text": "CT chest"},
            "subject": {"reference": "Patient/pat-1003"}}})
        assert client.post(f"/cds-services/{ORDER_SELECT}", json=body).json() == {"cards": []}

    @pytest.mark.parametrize("selected", ["MedicationRequest/draft-9",
                                          "MedicationRequest/other"])
    def test_a_selection_naming_no_draft_is_400(self, client: TestClient,
                                                selected: str) -> None:
        """A selected order the draft orders do not hold cannot be checked: it had been
        ignored in silence (200, no card, even for a drug the allergy list rules out)."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"},
                          selections=[selected])
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400
        assert r.json()["errors"][0]["path"] == "context.selections[0]"

    def test_a_versioned_selection_names_its_order(self, client: TestClient) -> None:
        """'MedicationRequest/draft-1/_history/1' is the draft-1 order: it is checked
        (the first-line warning), not ignored."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"},
                          selections=["MedicationRequest/draft-1/_history/1"])
        cards = client.post(f"/cds-services/{ORDER_SELECT}", json=body).json()["cards"]
        assert len(cards) == 1 and cards[0]["indicator"] == "warning"

    def test_second_line_is_quiet(self, client: TestClient) -> None:
        """An earlier advanced-setting line exists: the draft is not first line."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"})
        body["prefetch"]["medications"]["entry"].append({"resource": {
            "resourceType": "MedicationStatement", "id": "m1", "status": "completed",
            "medicationCodeableConcept": {"text": "sirolimus"},
            "subject": {"reference": "Patient/pat-1003"},
            "extension": [{"url": "https://pecoma.example/fhir/StructureDefinition/"
                                  "therapy-setting", "valueCode": "advanced"}]}})
        assert client.post(f"/cds-services/{ORDER_SELECT}", json=body).json() == {"cards": []}

    def test_draft_orders_must_be_a_bundle(self, client: TestClient) -> None:
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"},
                          draftOrders=[1])
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "context.draftOrders"

    @pytest.mark.parametrize(("entry", "path"), [
        ({"a": 1}, "context.draftOrders.entry"),
        (["x"], "context.draftOrders.entry[0]"),
        ([{"fullUrl": "urn:uuid:11111111-2222-3333-4444-555555555555"}],
         "context.draftOrders.entry[0]"),
    ])
    def test_draft_entries_that_hold_no_order_are_400(self, client: TestClient, entry: Any,
                                                      path: str) -> None:
        """draftOrders.entry an object, a list of strings, or an entry with no resource:
        the drafts were dropped and the answer was 200 with no card, as if nothing were
        ordered. The request is malformed: 400 naming the field."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"})
        body["context"]["draftOrders"]["entry"] = entry
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert error["path"] == path
        assert "Bundle entr" in error["rule"]

    @pytest.mark.parametrize(("field", "value"), [("doNotPerform", "true"),
                                                  ("doNotPerform", 1),
                                                  ("status", ["draft"])])
    def test_a_draft_field_of_the_wrong_type_is_400(self, client: TestClient, field: str,
                                                    value: Any) -> None:
        """A doxorubicin draft with doNotPerform "true" (a string, not FHIR's true) was
        read as an order to give the drug: the card warned about first-line chemotherapy
        and offered to delete it. What the clinician ordered cannot be told: 400 naming
        the field, its value and what is allowed."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"})
        body["context"]["draftOrders"]["entry"][0]["resource"][field] = value
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert error["path"] == f"context.draftOrders.entry[0].resource.{field}"
        assert error["rule"].startswith("must be a FHIR")

    def test_an_empty_selection_is_400(self, client: TestClient) -> None:
        """selections [] was read as "every draft selected": the doxorubicin draft got a
        card and an offer to delete it though the clinician selected nothing. The hook
        is called when one or more orders are selected (CDS Hooks order-select): an
        empty list is a malformed call, 400 naming it."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"},
                          selections=[])
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert (error["path"], error["value"]) == ("context.selections", "[]")
        assert "at least one selected order" in error["rule"]


class TestFeedback:
    def _card(self, client: TestClient) -> dict[str, Any]:
        r = client.post(f"/cds-services/{ORDER_SELECT}",
                        json=order_body("metastatic-lung-metachronous", {"text": "doxorubicin"}))
        card: dict[str, Any] = r.json()["cards"][0]
        return card

    def _send(self, client: TestClient, **item: Any) -> Any:
        return client.post(f"/cds-services/{ORDER_SELECT}/feedback", json={"feedback": [{
            "outcomeTimestamp": now_stamp(), **item}]})

    def test_overridden_with_reason_is_kept_with_the_card(self) -> None:
        client, svc = make_client()
        card = self._card(client)
        reason = card["overrideReasons"][0]
        r = self._send(client, card=card["uuid"], outcome="overridden",
                       overrideReason={"reason": reason, "userComment": "trial protocol"})
        assert r.status_code == 200
        entry = svc.store().feedback()[-1]
        assert entry.card == card["uuid"] and entry.outcome == "overridden"
        assert (entry.override_system, entry.override_code) == (reason["system"],
                                                                 reason["code"])
        assert entry.user_comment == "trial protocol"
        assert entry.record_ids[0] == "ALERT-CHEMO-BEFORE-MTOR"
        assert entry.knowledge_version == VERSION

    def test_accepted_suggestion(self) -> None:
        client, svc = make_client()
        card = self._card(client)
        suggestion = card["suggestions"][0]["uuid"]
        r = self._send(client, card=card["uuid"], outcome="accepted",
                       acceptedSuggestions=[{"id": suggestion}])
        assert r.status_code == 200
        assert svc.store().feedback()[-1].accepted_suggestions == (suggestion,)

    def test_rules_against_the_card_as_issued(self, client: TestClient) -> None:
        card = self._card(client)
        cases = [
            ({"outcome": "accepted"}, "acceptedSuggestions"),  # accepted needs one
            ({"outcome": "accepted", "acceptedSuggestions": [{"id": "not-offered"}]},
             "acceptedSuggestions"),
            ({"outcome": "overridden",
              "overrideReason": {"reason": {"system": "x", "code": "made-up"}}},
             "overrideReason.reason"),
            ({"outcome": "overridden", "acceptedSuggestions": []}, "acceptedSuggestions"),
            ({"outcome": "overridden", "outcomeTimestamp": "2026-11-28"}, "outcomeTimestamp"),
            ({"outcome": "overridden", "outcomeTimestamp": "2026-11-28T10:00:00"},
             "outcomeTimestamp"),
        ]
        for item, field in cases:
            r = self._send(client, card=card["uuid"], **item)
            assert r.status_code == 400, item
            assert any(e["path"].endswith(field) for e in r.json()["errors"]), item

    @pytest.mark.parametrize(("item", "field"), [
        ({"outcome": "overridden", "acceptedSuggestions": None, "overrideReason": None},
         "acceptedSuggestions"),
        ({"outcome": "overridden", "overrideReason": None}, "overrideReason"),
        ({"outcome": "overridden", "overrideReason": {}}, "overrideReason"),
        ({"outcome": "overridden", "overrideReason": {"userComment": ""}},
         "overrideReason.userComment"),
        ({"outcome": "overridden", "overrideReason": {"reason": {}}},
         "overrideReason.reason"),
        ({"outcome": "overridden", "overrideReason": {"reason": None,
                                                      "userComment": "trial protocol"}},
         "overrideReason.reason"),
        ({"outcome": "overridden", "extension": {}}, "extension"),
    ])
    def test_null_or_empty_members_are_400_and_nothing_is_stored(
            self, item: dict[str, Any], field: str) -> None:
        """CDS Hooks 2.0.1: JSON attributes are never null, objects never empty; an
        optional one with no value is left out. An EHR whose override-reason mapping
        sends null or {} where the clinician picked a reason had every such override
        filed as declined with no reason, counted so in the concordance figures. Each is
        a 400 naming the field, and neither the feedback nor a decision is stored."""
        client, svc = make_client()
        card = self._card(client)
        before = len(svc.store().feedback())
        r = self._send(client, card=card["uuid"], **item)
        assert r.status_code == 400, item
        paths = [e["path"] for e in r.json()["errors"]]
        assert f"feedback[0].{field}" in paths, paths
        assert len(svc.store().feedback()) == before

    @pytest.mark.parametrize("comment", [" ", "\n", "   "])
    def test_a_blank_comment_beside_a_reason_is_kept(self, comment: str) -> None:
        """CDS Hooks 2.0.1 prohibits null, "", [] and {} only: a comment of spaces or a
        line break (a clinician pressing Enter in the comment box) is a non-empty string.
        Refused, the override and the reason picked were lost, as an EHR does not retry
        a 400; it is stored as sent, with its reason."""
        client, svc = make_client()
        card = self._card(client)
        reason = card["overrideReasons"][0]
        r = self._send(client, card=card["uuid"], outcome="overridden",
                       overrideReason={"reason": {**reason, "display": "  "},
                                       "userComment": comment})
        assert r.status_code == 200, r.text
        entry = svc.store().feedback()[-1]
        assert (entry.override_system, entry.override_code) == (reason["system"],
                                                                 reason["code"])
        assert entry.user_comment == comment

    @pytest.mark.parametrize("extension", [{"com.example.list": []},
                                           {"com.example.note": ""},
                                           {"com.example.obj": {"x": None}}])
    def test_what_an_extension_holds_is_not_checked(self, extension: dict[str, Any]) -> None:
        """The specification leaves extension's content to the implementer, and members
        it does not define are ignored: an empty member inside an extension (on the entry
        or inside overrideReason) does not refuse the feedback."""
        client, svc = make_client()
        card = self._card(client)
        reason = card["overrideReasons"][0]
        before = len(svc.store().feedback())
        r = self._send(client, card=card["uuid"], outcome="overridden",
                       overrideReason={"reason": reason, "extension": extension},
                       extension=extension)
        assert r.status_code == 200, r.text
        assert len(svc.store().feedback()) == before + 1

    def test_null_beside_an_accepted_suggestion_is_400(self) -> None:
        """An acceptance with overrideReason: null (or a suggestion entry with an empty
        member) is refused as well: the rule holds for every member of an entry."""
        client, svc = make_client()
        card = self._card(client)
        offered = card["suggestions"][0]["uuid"]
        before = len(svc.store().feedback())
        for item, field in [
            ({"acceptedSuggestions": [{"id": offered}], "overrideReason": None},
             "overrideReason"),
            ({"acceptedSuggestions": [{"id": offered}, {}]}, "acceptedSuggestions[1]"),
            ({"acceptedSuggestions": [{"id": ""}]}, "acceptedSuggestions[0].id"),
        ]:
            r = self._send(client, card=card["uuid"], outcome="accepted", **item)
            assert r.status_code == 400, item
            assert f"feedback[0].{field}" in [e["path"] for e in r.json()["errors"]]
        assert len(svc.store().feedback()) == before
        # the control: the same acceptance without the empty member is taken
        r = self._send(client, card=card["uuid"], outcome="accepted",
                       acceptedSuggestions=[{"id": offered}])
        assert r.status_code == 200 and len(svc.store().feedback()) == before + 1

    @pytest.mark.parametrize("item", [
        {"card": "x", "outcome": "ignored", "outcomeTimestamp": "t"},
        {"outcome": "accepted", "outcomeTimestamp": "t"},
        {"card": "x", "outcome": "accepted"},
        {"card": "x", "outcome": "accepted", "outcomeTimestamp": "t",
         "overrideReason": {"userComment": "no"}},
    ])
    def test_invalid_feedback(self, client: TestClient, item: dict[str, Any]) -> None:
        r = client.post(f"/cds-services/{PATIENT_VIEW}/feedback", json={"feedback": [item]})
        assert r.status_code == 400 and r.json()["errors"]

    def test_card_of_another_service_is_refused(self, client: TestClient) -> None:
        card = self._card(client)
        r = client.post(f"/cds-services/{PATIENT_VIEW}/feedback", json={"feedback": [{
            "card": card["uuid"], "outcome": "overridden",
            "outcomeTimestamp": now_stamp()}]})
        assert r.status_code == 400 and r.json()["errors"][0]["path"] == "feedback[0].card"

    def test_nothing_stored_when_one_item_is_bad(self) -> None:
        client, svc = make_client()
        card = self._card(client)
        before = len(svc.store().feedback())
        good = {"card": card["uuid"], "outcome": "overridden",
                "outcomeTimestamp": now_stamp()}
        r = client.post(f"/cds-services/{ORDER_SELECT}/feedback",
                        json={"feedback": [good, {**good, "outcome": "maybe"}]})
        assert r.status_code == 400 and len(svc.store().feedback()) == before

    @pytest.mark.parametrize("stamp", ["9999-12-31T23:00:00-05:00",
                                       "0001-01-01T01:00:00+05:00",
                                       "2200-01-01T00:00:00Z", "1899-12-31T23:59:59Z"])
    def test_a_timestamp_outside_the_dates_pecoma_accepts_is_a_400(self, stamp: str) -> None:
        """outcomeTimestamp near the calendar's ends (valid ISO 8601: its instant in UTC
        is in year 10000 or year 0) had made a 500 and lost the whole batch; a time
        outside 1900-2199 (pecoma's dates everywhere) had been written to the board's
        decisions. Now a 400 problem on the field, and nothing is stored."""
        client, svc = make_client()
        card = self._card(client)
        before = len(svc.store().feedback())
        r = self._send(client, card=card["uuid"], outcome="overridden",
                       outcomeTimestamp=stamp)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        [error] = r.json()["errors"]
        assert error["path"] == "feedback[0].outcomeTimestamp"
        assert "between 1900-01-01 and 2199-12-31" in error["rule"]
        assert len(svc.store().feedback()) == before

    @pytest.mark.parametrize("hours", [-5, 1, 14, -12])
    def test_a_timestamp_with_any_offset_is_kept_as_its_instant(self, hours: int) -> None:
        """Control: a time with an offset is kept, as the instant it names (in UTC)."""
        client, svc = make_client()
        card = self._card(client)
        stamp = now_stamp(dt.timedelta(hours=hours))
        r = self._send(client, card=card["uuid"], outcome="overridden",
                       outcomeTimestamp=stamp)
        assert r.status_code == 200, r.text
        kept = svc.store().feedback()[-1].outcome_at
        given = dt.datetime.fromisoformat(stamp).astimezone(dt.UTC).replace(tzinfo=None)
        assert kept.replace(tzinfo=None) == given

    @pytest.mark.parametrize("tail", ["-garbage", "0", " "])
    def test_a_card_uuid_with_more_after_it_names_no_card(self, tail: str) -> None:
        """The card is named by its whole uuid: one with anything after it had been taken
        as the card its first 36 characters name, and the feedback stored against it."""
        client, svc = make_client()
        card = self._card(client)
        before = len(svc.store().feedback())
        r = self._send(client, card=card["uuid"] + tail, outcome="overridden")
        assert r.status_code == 400
        assert r.json()["errors"][0]["path"] == "feedback[0].card"
        assert len(svc.store().feedback()) == before


#: Markdown and HTML a FHIR server's answer might carry in its own words.
EVIL = "[Open chart](http://evil.example/phish) <img src=x onerror=alert(1)>"
#: A link or an HTML tag that a Markdown renderer would act on (not escaped).
_LIVE = re.compile(r"(?<!\\)\[Open chart|(?<!\\)\]\(http|(?<!\\)<img")


def _spelling_markdown(prefetch: dict[str, Any]) -> None:
    """Prefetch parts whose answer quotes Markdown: an OperationOutcome issue's code and
    severity, a resourceType, a ``total`` (each makes its part unknown, with why)."""
    def outcome(severity: str, code: str) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code}]}}]}
    prefetch["allergies"] = outcome("error", EVIL)
    prefetch["medications"] = outcome(EVIL, "suppressed")
    prefetch["medication_dispenses"] = {"resourceType": "Bundle", "type": "searchset",
                                        "entry": [{"resource": {"resourceType": EVIL,
                                                                "id": "x"}}]}
    prefetch["procedures"]["total"] = EVIL


class TestUnreadPartsOnTheCard:
    """The reasons a part of the record could not be read quote the EHR's or the FHIR
    server's answer; on a card they are escaped, as every word from the record is."""

    def test_patient_view_reasons_spell_no_link_or_html(self, client: TestClient) -> None:
        """The list "Parts of the record that could not be read" (and the conditional
        recommendations quoting the allergy list's reason) had printed the answer's
        severity, code, total and resourceType as they came: a card could carry a
        clickable link or raw HTML."""
        bundle = example("metastatic-lung-metachronous")
        prefetch = prefetch_of(bundle)
        _spelling_markdown(prefetch)
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200
        details = [c["detail"] for c in r.json()["cards"]]
        unread = [d.split("**Parts of the record that could not be read**")[1]
                  for d in details if "**Parts of the record that could not be read**" in d]
        assert unread and all(d.count("evil.example") >= 4 for d in unread)
        assert all(not _LIVE.search(d) for d in details), details
        assert "\\[Open chart\\](http://evil.example/phish) \\<img" in unread[0]

    def test_order_select_reasons_spell_no_link_or_html(self, client: TestClient) -> None:
        """The same on order-select's card, where the allergy list's reason is also why
        no mTOR-inhibitor order is proposed."""
        body = order_body("metastatic-lung-metachronous", {"text": "doxorubicin"})
        _spelling_markdown(body["prefetch"])
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 200
        details = [c["detail"] for c in r.json()["cards"]]
        assert any("evil.example" in d for d in details)
        assert all(not _LIVE.search(d) for d in details), details

    @pytest.mark.parametrize("drug", ["paclitaxel", "gemcitabine"])
    def test_an_allergy_id_spells_no_link_on_the_critical_card(
            self, client: TestClient, drug: str) -> None:
        """The critical card for a draft of a drug pecoma files under a catch-all agent
        (other chemotherapy), which the allergy list rules out drug by drug, names the
        AllergyIntolerance by its id, the EHR's own text: an id that spells a Markdown
        link (no FHIR id, but nothing in the card's way checks it) had been written as
        it came, a clickable link on the card the clinician must act on."""
        body = order_body("metastatic-lung-metachronous", {"text": drug})
        body["prefetch"]["allergies"] = {"resourceType": "Bundle", "type": "searchset",
                                         "entry": [{"resource": {
            "resourceType": "AllergyIntolerance", "id": EVIL,
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "code": {"text": drug}, "patient": {"reference": "Patient/pat-1003"}}}]}
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 200
        critical = [c for c in r.json()["cards"] if c["indicator"] == "critical"]
        assert critical, r.json()  # the draft is still flagged
        details = [c["detail"] for c in critical]
        assert any("evil.example" in d for d in details)
        assert all(not _LIVE.search(d) for d in details), details

    def test_plain_reasons_read_as_before(self, client: TestClient) -> None:
        """Control: a reason in plain words is written as it was."""
        bundle = example("metastatic-lung-metachronous")
        prefetch = prefetch_of(bundle)
        prefetch["allergies"] = None
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert ("- the allergies and intolerances: the EHR sent no data for it (prefetch "
                "null or absent); no fhirServer was given to fetch it from"
                in r.json()["cards"][0]["detail"])


class TestWrongMethodOrAddress:
    """A wrong method or an address the service does not have gets problem+json naming
    what is allowed, as /api/v1 does: it had been an HTML page saying only OPTIONS was
    allowed (the CORS preflight route matched every address under /cds-services)."""

    @pytest.mark.parametrize(("method", "path", "allow"), [
        ("GET", f"/cds-services/{PATIENT_VIEW}", "POST"),
        ("PUT", f"/cds-services/{ORDER_SELECT}", "POST"),
        ("GET", f"/cds-services/{ORDER_SELECT}/feedback", "POST"),
        ("DELETE", "/cds-services", "GET, HEAD"),
    ])
    def test_a_wrong_method_is_a_405_problem_naming_the_allowed_one(
            self, client: TestClient, method: str, path: str, allow: str) -> None:
        r = client.request(method, path)
        assert r.status_code == 405, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "urn:pecoma:problem:method-not-allowed"
        assert r.headers["allow"] == allow

    def test_an_address_the_service_does_not_have_is_a_404_problem(
            self, client: TestClient) -> None:
        r = client.get("/cds-services/foo/bar")
        assert r.status_code == 404, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "<html" not in r.text


class TestCors:
    def test_allowed_origin(self) -> None:
        client, _svc = make_client(cors_origins=("https://ehr.example",))
        r = client.get("/cds-services", headers={"Origin": "https://ehr.example"})
        assert r.headers["access-control-allow-origin"] == "https://ehr.example"
        pre = client.options(f"/cds-services/{PATIENT_VIEW}",
                             headers={"Origin": "https://ehr.example",
                                      "Access-Control-Request-Method": "POST"})
        assert pre.status_code == 204
        assert "Authorization" in pre.headers["access-control-allow-headers"]

    def test_preflight_of_feedback_and_discovery(self) -> None:
        """The preflight answers at each address the service has: discovery, a service,
        its feedback."""
        client, _svc = make_client(cors_origins=("https://ehr.example",))
        for path in ("/cds-services", f"/cds-services/{PATIENT_VIEW}/feedback"):
            pre = client.options(path, headers={"Origin": "https://ehr.example",
                                                "Access-Control-Request-Method": "POST"})
            assert pre.status_code == 204, path
            assert pre.headers["access-control-allow-origin"] == "https://ehr.example"

    def test_other_origin(self) -> None:
        client, _svc = make_client(cors_origins=("https://ehr.example",))
        r = client.get("/cds-services", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers

    def test_settings_from_env(self) -> None:
        config = WebConfig.from_env({
            "PECOMA_CDS_BASE_URL": "https://cds.example/", "PECOMA_CDS_AUTH": "jwt",
            "PECOMA_CDS_CORS_ORIGINS": "https://a.example, https://b.example",
            "PECOMA_CDS_FHIR_SERVERS": "https://ehr.example/fhir",
            "PECOMA_CDS_TRUSTED_ISSUERS": '{"https://ehr.example": {"jwks_urls": '
                                          '["https://ehr.example/jwks"]}}'})
        s = config.cds
        assert config.cds_jwt_required and config.public_base_url == "https://cds.example"
        assert s.cors_origins == ("https://a.example", "https://b.example")
        assert s.fhir_servers == ("https://ehr.example/fhir",)
        assert s.trusted_issuers["https://ehr.example"].jwks_urls == ("https://ehr.example/jwks",)

    def test_bad_allow_list_entry_is_a_config_error(self) -> None:
        from pecoma.errors import ConfigError

        with pytest.raises(ConfigError, match="user information"):
            WebConfig.from_env({"PECOMA_CDS_FHIR_SERVERS": "https://a@b.example/fhir"})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=5,
)


@given(st.data())
@settings(max_examples=int(__import__("os").environ.get("FUZZ", examples(50))), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_mutated_requests_never_crash(data: st.DataObject) -> None:
    """Any part of a hook request replaced by any JSON: cards or a 4xx, never a 500."""
    client, _svc = make_client()
    bundle = example(data.draw(st.sampled_from(EXAMPLES)))
    hook = data.draw(st.sampled_from(["patient-view", "order-select"]))
    body = hook_request(hook, patient_id(bundle), prefetch=prefetch_of(bundle))
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": "d", "status": "draft",
                      "intent": "order", "medicationCodeableConcept": {"text": "doxorubicin"},
                      "subject": {"reference": f"Patient/{patient_id(bundle)}"}}}]}

    def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        out = [prefix]
        if isinstance(node, dict):
            for k, v in node.items():
                out += paths(v, (*prefix, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out += paths(v, (*prefix, i))
        return out

    for _ in range(data.draw(st.integers(1, 2))):
        path = data.draw(st.sampled_from([p for p in paths(body) if p]))
        node: Any = body
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = data.draw(_JSON)
    service = PATIENT_VIEW if hook == "patient-view" else ORDER_SELECT
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        for card in r.json()["cards"]:
            check_card(card)


def test_fhir_queries_leave_no_patient_id_or_token_in_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The FHIR fallback's URLs carry the patient id; no logger may record them."""
    caplog.set_level(logging.DEBUG)
    bundle = example("low-risk")
    with fhir_server(bundle, token="tok-secret") as (url, rec):
        client = _server_client(url)
        body = hook_request("patient-view", patient_id(bundle), fhirServer=url,
                            fhirAuthorization=bearer("tok-secret"))
        assert client.post(f"/cds-services/{PATIENT_VIEW}", json=body).status_code == 200
    assert rec.requests
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "pat-1002" not in text and "tok-secret" not in text


def test_one_access_line_per_call_with_the_service_and_the_count(
    client: TestClient, caplog: pytest.LogCaptureFixture,
) -> None:
    """Each call is logged once, on the access line, with its request id and status and
    the service called and the number of cards (or of feedback entries): no second line
    to tie back to it, and never a patient id."""
    caplog.set_level(logging.INFO)
    r = patient_view(client, "localized-high-risk")
    assert r.status_code == 200
    uuid = r.json()["cards"][0]["uuid"]
    refused = client.post(f"/cds-services/{PATIENT_VIEW}", json={"hook": "patient-view"})
    assert refused.status_code == 400
    feedback = client.post(f"/cds-services/{PATIENT_VIEW}/feedback", json={"feedback": [{
        "card": uuid, "outcome": "overridden", "outcomeTimestamp": now_stamp()}]})
    assert feedback.status_code == 200
    info = [x for x in caplog.records if x.levelno == logging.INFO
            and x.name.startswith("pecoma")]
    assert [x.name for x in info] == ["pecoma.web.access"] * 3, [x.msg for x in info]
    (answer, bad, fed) = info
    assert (answer.service, answer.cards, answer.status) == (  # type: ignore[attr-defined]
        PATIENT_VIEW, len(r.json()["cards"]), 200)
    assert (bad.service, bad.status) == (PATIENT_VIEW, 400)  # type: ignore[attr-defined]
    assert not hasattr(bad, "cards")
    assert (fed.service, fed.entries, fed.status) == (  # type: ignore[attr-defined]
        PATIENT_VIEW, 1, 200)
    bundle = example("localized-high-risk")
    assert patient_id(bundle) not in " ".join(str(x.__dict__) for x in caplog.records)


def test_supplementary_cards_cite_the_full_reference(client: TestClient) -> None:
    """TFE3-positive (supplementary, not from the guideline): the card cites Argani 2010."""
    cards = patient_view(client, "advanced-mtor-contraindicated").json()["cards"]
    tfe3 = next(c for c in cards if c["source"].get("topic", {}).get("code") == "SUPP-TFE3")
    assert "supplementary (not from the guideline)" in tfe3["detail"]
    assert "Argani P" in tfe3["detail"] and "Am J Surg Pathol" in tfe3["detail"]


class TestSpecExamples:
    """The request shapes of the CDS Hooks 2.0.1 specification's own examples
    (cds-hooks/docs, docs/specification/current.md), as input."""

    SPEC_REQUEST: dict[str, Any] = {  # noqa: RUF012
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "http://hooks.smarthealthit.org:9080",
        "hook": "patient-view",
        "fhirAuthorization": {
            "access_token": "some-opaque-fhir-access-token", "token_type": "Bearer",
            "expires_in": 300, "scope": "user/Patient.read user/Observation.read",
            "subject": "cds-service4"},
        "context": {"userId": "Practitioner/example", "patientId": "1288992",
                    "encounterId": "89284"},
        "prefetch": {"patientToGreet": {"resourceType": "Patient", "gender": "male",
                                        "birthDate": "1925-12-23", "id": "1288992",
                                        "active": True}},
    }

    def test_spec_request_to_a_server_not_allowed(self, client: TestClient) -> None:
        """Valid per the spec; its fhirServer is not on the allow-list: nothing is fetched,
        the card says the PEComa check could not be made and why (never 'no PEComa')."""
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=self.SPEC_REQUEST)
        assert r.status_code == 200
        [card] = r.json()["cards"]
        check_card(card)
        assert "could not be checked" in card["detail"]
        assert "not on this service's allow-list" in card["detail"]
        assert "some-opaque-fhir-access-token" not in r.text

    def test_spec_feedback_shapes(self) -> None:
        """The spec's three feedback examples (accepted; overridden without and with a
        reason), with this service's card and suggestion ids, an offered reason, and a
        time after the card was issued (the spec's own, 2020-2021, are before it)."""
        client, svc = make_client()
        card = TestFeedback()._card(client)
        offered = card["overrideReasons"][1]
        examples = [
            {"card": card["uuid"], "outcome": "accepted",
             "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
             "outcomeTimestamp": now_stamp()},
            {"card": card["uuid"], "outcome": "overridden",
             "outcomeTimestamp": now_stamp()},
            {"card": card["uuid"], "outcome": "overridden",
             "overrideReason": {"reason": {"code": offered["code"],
                                           "system": offered["system"]},
                                "userComment": "A comment entered by the clinician."},
             "outcomeTimestamp": now_stamp()},
        ]
        r = client.post(f"/cds-services/{ORDER_SELECT}/feedback", json={"feedback": examples})
        assert r.status_code == 200
        assert [e.outcome for e in svc.store().feedback()[-3:]] == [
            "accepted", "overridden", "overridden"]
        # the spec's own reason code was not offered by this card: refused
        examples[2]["overrideReason"]["reason"] = {
            "code": "d7ecf885", "system": "https://example.com/cds-hooks/override-reason-system"}
        r = client.post(f"/cds-services/{ORDER_SELECT}/feedback",
                        json={"feedback": [examples[2]]})
        assert r.status_code == 400
