"""The Observation search of a long record, or of an EHR that requires a category.

pecoma searched ``Observation?patient=<id>`` with no ``_count`` and gave up after 10 pages,
with no setting to change it. A patient followed for a year has hundreds of laboratory and
vital-sign results: at 50 to a page (a usual server page size) about 500 Observations ended
every launch on the 422 page "No PEComa case could be read ... Try again from the EHR
later", a wrong cause and a wrong fix. An EHR that requires ``category`` or ``code`` on an
Observation search (Epic: "Both patient and code or category are required"; US Core's
required Observation search is patient and category) refused the search, with the same
page on every launch.

Now each search asks for 200 entries a page (``_count``), reads at most
``smart.fhir_max_pages`` (``cds.fhir_max_pages``) pages, 50 by default, and a search that
runs past that limit, or that the EHR refuses as asked, is named with that cause and the
setting. The Observation search so ended is made again by category; the Observations read
are used, and the page says that only those categories were read, so that results filed
under another category, or none, are unknown, not absent: the disease is never taken as
localized from what the record does not hold when its Observations were not all read.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from pecoma.errors import ConfigError, InputError
from pecoma.fhir.client import (
    OBSERVATION_CATEGORIES,
    FhirClient,
    FhirFetchError,
    SearchRefused,
    TooManyPages,
    parse_server_url,
)
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig
from test_smart_launch import (
    fhir_requests,
    form_value,
    integrator_details,
    launch_and_return,
    not_found_list,
    pecoma,
    seen_by_clinician,
)

from fhir_support import example, fhir_server, hook_request, patient_id
from registry_support import db_url
from smart_ehr import Ehr, running

__all__ = ["db_url"]

ON = dt.date(2026, 11, 28)
CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
REFUSAL: Final = "Both patient and code or category are required."
CATEGORIES: Final = "laboratory, exam, imaging, procedure, survey, social-history, therapy"


def haemoglobins(n: int, pid: str = "pat-1001") -> list[dict[str, Any]]:
    """``n`` ordinary laboratory results (haemoglobin), as any treated patient has."""
    return [{"resourceType": "Observation", "id": f"hb-{i}", "status": "final",
             "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}],
             "code": {"coding": [{"system": "http://loinc.org", "code": "718-7",
                                  "display": "Hemoglobin"}]},
             "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2025-03-01",
             "valueQuantity": {"value": 13.1, "unit": "g/dL"}} for i in range(n)]


@pytest.fixture
def ehr() -> Iterator[Ehr]:
    with running(Ehr(record=example("localized-high-risk"))) as server:
        yield server


def observation_queries(ehr: Ehr) -> list[str]:
    return [r["url"].split("/fhir/", 1)[1] for r in fhir_requests(ehr)
            if "/fhir/Observation?" in r["url"]]


def notice(html: str) -> str:
    """The "Filled in from the EHR" section, as text."""
    m = re.search(r'<section class="ehr-notice".*?</section>', html, re.S)
    assert m, "no EHR notice"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0)))


def assert_filled_in(html: str) -> None:
    """The localized high-risk record's facts, from its Observations and Conditions (by
    hand from the bundle: a 72 mm uterine PEComa, necrosis present, R1, localized)."""
    assert form_value(html, "tumour.primary_site") == "uterus"
    assert form_value(html, "tumour.size.value") == "72"
    assert form_value(html, "histology.necrosis") == "present"
    assert form_value(html, "surgery.margin") == "R1"
    assert form_value(html, "stage.status") == "localized"


class TestALongRecord:
    def test_600_more_observations_at_50_a_page_fill_the_form(self, ehr: Ehr,
                                                              tmp_path: Path) -> None:
        """Before: 600 haemoglobin results beside the PEComa record, 50 to a page, ran
        past the 10 pages read and the launch ended on 'No PEComa case could be read ...
        try again later'. Now 13 pages are read (the limit is 50 by default), each search
        asks for 200 a page, and the form is filled in as for a short record, nothing
        said to be read in part."""
        ehr.behaviour.update(page_size=50, observations=haemoglobins(600))
        with pecoma(ehr, tmp_path) as client:
            page = launch_and_return(client, ehr)
        assert page.status_code == 200, page.text
        assert_filled_in(page.text)
        queries = observation_queries(ehr)
        assert len(queries) == 13  # 617 Observations, 50 a page
        assert all("_count=200" in q for q in queries)
        assert all("_count=200" in r["url"] for r in fhir_requests(ehr) if "?" in r["url"])
        assert "Read only in part" not in page.text
        assert "Not read from the EHR" not in page.text


class TestAnEhrRequiringACategory:
    def test_the_launch_reads_the_observations_by_category(self, ehr: Ehr,
                                                           tmp_path: Path) -> None:
        """Before: the EHR answered the search by patient alone with 400 ('Both patient
        and code or category are required') and every launch ended on the 422 page. Now
        the search is made again once per category pecoma's facts are filed under, the
        form is filled in from what they hold, and the notice says the Observations were
        read only in part: which categories, and that those of another or of none stay
        unknown."""
        ehr.behaviour["require_category"] = True
        with pecoma(ehr, tmp_path) as client:
            page = launch_and_return(client, ehr)
        assert page.status_code == 200, page.text
        assert_filled_in(page.text)
        queries = observation_queries(ehr)
        assert queries[0] == "Observation?patient=pat-1001&_count=200"
        assert sorted(q.split("&category=")[1] for q in queries[1:] if "page=" not in q) == (
            sorted(OBSERVATION_CATEGORIES))
        said = notice(page.text)
        assert "Read only in part from the EHR" in said
        assert f"read those filed under {CATEGORIES}" in said
        assert "any filed under another category, or under none, were not read" in said
        assert "the EHR refused the search as pecoma asks it" in said
        assert REFUSAL in said  # the EHR's own words, for the integrator
        assert "Try again" not in page.text

    def test_a_result_filed_under_no_category_is_not_read_and_stays_unknown(
            self, ehr: Ehr, tmp_path: Path) -> None:
        """The necrosis result filed under no category is not found by a category search:
        necrosis is then not found and listed, never taken as absent."""
        for e in ehr.record["entry"]:
            res = e["resource"]
            if res["resourceType"] == "Observation" and res["code"]["coding"][0]["code"] == (
                    "necrosis"):
                del res["category"]
        ehr.behaviour["require_category"] = True
        with pecoma(ehr, tmp_path) as client:
            page = launch_and_return(client, ehr)
        assert page.status_code == 200, page.text
        assert form_value(page.text, "histology.necrosis") == "unknown"
        assert "Necrosis" in " ".join(not_found_list(page.text))


class TestThePageLimit:
    def test_a_limit_reached_by_every_search_is_named_not_try_again(
            self, ehr: Ehr, tmp_path: Path) -> None:
        """With smart.fhir_max_pages 1, the Observation search (two pages) and each search
        by category run past it: the 422 page says the answer runs to more than 1 page,
        names the setting, and does not say to try again later (it would end the same
        way)."""
        with pecoma(ehr, tmp_path, fhir_max_pages=1) as client:
            page = launch_and_return(client, ehr)
        assert page.status_code == 422
        seen = seen_by_clinician(page.text)
        assert "more than 1 pages" in seen
        assert "smart.fhir_max_pages" in seen
        assert "Try again from the EHR later" not in seen
        assert "Observation search has more than 1 pages" in integrator_details(page.text)

    def test_a_limit_reached_by_one_category_reads_the_others(self, ehr: Ehr,
                                                               tmp_path: Path) -> None:
        """600 laboratory results at 50 a page and smart.fhir_max_pages 3: the search by
        patient runs past it, so does the laboratory category; the other categories are
        read. The form is filled in from them (size, status), the pathology results of the
        laboratory category are not found and listed, and the notice names the limit, the
        setting and the categories read."""
        ehr.behaviour.update(page_size=50, observations=haemoglobins(600))
        with pecoma(ehr, tmp_path, fhir_max_pages=3) as client:
            page = launch_and_return(client, ehr)
        assert page.status_code == 200, page.text
        html = page.text
        assert form_value(html, "tumour.size.value") == "72"
        assert form_value(html, "stage.status") == "localized"
        assert form_value(html, "histology.necrosis") == "unknown"
        said = notice(html)
        assert "more than 3 pages" in said and "smart.fhir_max_pages (3)" in said
        assert "read those filed under exam, imaging, procedure, survey, social-history, " \
               "therapy:" in said
        assert "Observation (laboratory) search has more than 3 pages" in said

    def test_the_setting_from_the_environment_and_a_file(self, tmp_path: Path) -> None:
        """smart.fhir_max_pages is a setting as the others are: PECOMA_SMART_FHIR_MAX_PAGES,
        [web.smart] in a TOML file; 50 by default; cds.fhir_max_pages too. Zero is refused
        naming the setting."""
        assert WebConfig().smart.fhir_max_pages == 50
        assert WebConfig().cds.fhir_max_pages == 50
        env = WebConfig.from_env({"PECOMA_SMART_FHIR_MAX_PAGES": "120",
                                  "PECOMA_CDS_FHIR_MAX_PAGES": "80"})
        assert (env.smart.fhir_max_pages, env.cds.fhir_max_pages) == (120, 80)
        toml = tmp_path / "web.toml"
        toml.write_text("[web.smart]\nfhir_max_pages = 200\n", encoding="utf-8")
        assert WebConfig.from_file(toml).smart.fhir_max_pages == 200
        with pytest.raises(ConfigError, match=r"smart\.fhir_max_pages"):
            WebConfig.from_env({"PECOMA_SMART_FHIR_MAX_PAGES": "0"})


class TestTheClient:
    @pytest.mark.parametrize(("status", "refused"), [(400, True), (422, True), (404, True),
                                                     (401, False), (403, False),
                                                     (408, False), (410, False),
                                                     (429, False), (500, False)])
    def test_a_search_refused_as_asked_is_named(self, status: int, refused: bool) -> None:
        """A 4xx answer that is an OperationOutcome is a refusal of the search as asked
        (named, with its words), 401 and 403 aside (about access, as any other failure);
        a rate limit (429), a timeout (408) or an expired page (410) had been taken for
        one too, setting off seven more searches at a server already limiting and telling
        the clinician that trying again would end the same way; they and a 5xx are no
        refusal."""
        bundle = example("localized-high-risk")

        def answer(_base: str, _path: str) -> tuple[int, Any]:
            return status, {"resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "required", "diagnostics": REFUSAL}]}

        with fhir_server(bundle, answer=answer) as (url, _rec), pytest.raises(
                FhirFetchError) as exc:
            search(url, 10)
        assert isinstance(exc.value, SearchRefused) is refused
        assert (REFUSAL in str(exc.value)) is refused

    def test_the_page_limit_is_named(self) -> None:
        """A search of 3 pages with a limit of 2 is TooManyPages, 'more than 2 pages'."""
        bundle = example("localized-high-risk")
        with fhir_server(bundle, page_size=5) as (url, _rec), pytest.raises(
                TooManyPages, match="more than 2 pages"):
            search(url, 2)


def search(url: str, max_pages: int) -> list[dict[str, Any]]:
    """The loopback server's Observation search, read by the FHIR client."""
    async def go() -> list[dict[str, Any]]:
        async with FhirClient(parse_server_url(url), max_pages=max_pages) as client:
            return await client.search("Observation?patient=pat-1001", "Observation")
    # In a thread of its own: once a browser test of this process has started Playwright's
    # synchronous API, this thread has an event loop running, and asyncio.run refuses.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def _requiring_category(_base: str, path: str) -> tuple[int, Any] | None:
    if path.startswith("/fhir/Observation?") and "category=" not in path and (
            "code=" not in path):
        return 400, {"resourceType": "OperationOutcome", "issue": [
            {"severity": "fatal", "code": "required", "details": {"text": REFUSAL}}]}
    return None


class TestCdsFhirServer:
    def test_observations_read_by_category_are_assessed_and_said_in_part(
            self, db_url: str) -> None:
        """A patient-view call without prefetch to a FHIR server that requires a category:
        before, the observations part was unknown and nothing was assessed. Now they are
        read by category; the summary card assesses the case (localized, from the
        disease-status result filed under 'exam') and lists the observations as read in
        part, naming the categories read."""
        bundle = example("localized-high-risk")
        with fhir_server(bundle, page_size=50, answer=_requiring_category) as (url, rec):
            app = create_app(WebConfig(database_url=db_url,
                                       cds=CdsSettings(fhir_servers=(url,))),
                             today=lambda: ON)
            body = hook_request("patient-view", patient_id(bundle), fhirServer=url)
            r = TestClient(app, base_url="http://localhost").post(
                f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        cards = r.json()["cards"]
        summary = cards[0]
        assert summary["summary"].startswith("PEComa (localized)"), summary["summary"]
        assert summary["indicator"] == "warning"
        assert "read from fhirServer in part" in summary["detail"]
        assert "only laboratory, exam, imaging, procedure, survey, social-history, " \
               "therapy were read" in summary["detail"]
        assert "Observations of any other category, or of none, were not read" in (
            summary["detail"])
        paths = [p for p, _auth in rec.requests if p.startswith("/fhir/Observation?")]
        assert all("_count=200" in p for p in paths)
        assert sum("category=" in p for p in paths) == len(OBSERVATION_CATEGORIES)

    def test_the_page_limit_names_the_cds_setting(self, db_url: str) -> None:
        """A fhirServer search running past cds.fhir_max_pages (here 1, the observations
        and each category of 2 or more pages): the card's reason says so and names the
        setting."""
        bundle = example("localized-high-risk")
        with fhir_server(bundle, page_size=1) as (url, _rec):
            app = create_app(WebConfig(database_url=db_url, cds=CdsSettings(
                fhir_servers=(url,), fhir_max_pages=1)), today=lambda: ON)
            body = hook_request("patient-view", patient_id(bundle), fhirServer=url)
            r = TestClient(app, base_url="http://localhost").post(
                f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        text = json.dumps(r.json()).replace("\\\\_", "_")  # markdown's escape
        assert "more than 1 pages" in text
        assert "cds.fhir_max_pages" in text


CORPUS: Final = Path(__file__).parent / "data" / "mcode" / "uterus-localized.json"


class TestLocalizedOnlyFromWhatWasRead:
    def test_no_localized_status_from_silence_when_observations_are_not_all_read(
            self) -> None:
        """The uterine record is localized only by its 'no history of metastatic cancer'
        Observation and the absence of any metastasis or stage IV. Read whole, it is
        localized (unchanged). With its Observations read only in part (by category), a
        stage IV or an M1 among those not read is unknown: the disease status is not
        derived, and the record says why, never 'localized' on a guess."""
        bundle = json.loads(CORPUS.read_text("utf-8"))
        whole = case_from_bundle(copy.deepcopy(bundle), on=ON)
        assert whole.case.stage.status.value == "localized"
        with pytest.raises(InputError) as exc:
            case_from_bundle(copy.deepcopy(bundle), on=ON,
                             unread={"observations": "read by category only"})
        status = [i for i in exc.value.issues if i.path == "stage.status"]
        assert status and "the Observations were not all read (read by category only)" in (
            status[0].rule)
