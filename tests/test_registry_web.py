"""The registry's web pages, in the same application as the clinician's form."""

from __future__ import annotations

import csv
import datetime as dt
import html as html_text
import io
import json
import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from pecoma.registry.decisions import check_decision
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.service import record_case, record_scan
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.decisions import record_decision
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from cli_support import run_cli
from registry_support import (
    ON,
    db_url,
    high_risk,
    low_risk,
    metastatic,
    record_unchecked,
    repo,
    store_before_a_check,
)

__all__ = ["db_url", "repo"]


def _client(repo: Repository, *modalities: str) -> Iterator[TestClient]:
    for rid, c in {"PEC-0001": high_risk(), "PEC-0002": low_risk(),
                   "PEC-0003": metastatic()}.items():
        record_case(repo, rid, c, on_date=ON, settings=default_settings(), actor="clinic",
                    source="test")
    for modality in modalities:
        record_scan(repo, "PEC-0001", "2026-11-20", modality, "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        yield c


@pytest.fixture
def client(repo: Repository) -> Iterator[TestClient]:
    """PEC-0001's visit of 2026-11-20 done with both examinations planned at a high-risk
    visit (chest CT, MRI of the primary: S21, S22): "done" until its next window."""
    yield from _client(repo, "chest_ct", "mri_primary")


@pytest.fixture
def ct_only(repo: Repository) -> Iterator[TestClient]:
    """PEC-0001's visit of 2026-11-20 with the chest CT alone: the MRI of the primary,
    never done since the surgery of 2025-01-10, is flagged missing at that visit and
    owed on its own clock (the next visit is the MRI's, overdue)."""
    yield from _client(repo, "chest_ct")


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class TestPatients:
    def test_list(self, client: TestClient) -> None:
        r = client.get("/registry")
        assert r.status_code == 200
        page = text(r.text)
        assert "3 patients" in page
        # two scans: the chest CT and the MRI of the visit of 2026-11-20
        assert re.search(r"PEC-0001 1 high localized 2 Done recently 2027-02-20", page)
        assert re.search(r"PEC-0002 1 low localized 0 Overdue 2024-07-01", page)
        assert re.search(r"PEC-0003 1 not applicable metastatic 0 No dated plan", page)
        assert 'href="/registry"' in r.text  # in the main navigation

    def test_timeline(self, client: TestClient) -> None:
        r = client.get("/registry/patients/PEC-0001")
        assert r.status_code == 200
        page = text(r.text)
        assert "Next scan: Done recently · due 2027-02-20, latest 2027-03-20" in page
        assert "Case version 1 recorded" in page
        assert "Assessment as of 2026-11-28 (case) · risk high" in page
        assert "Scan 2026-11-20 · chest CT · No evidence of disease · recorded by radiology" \
            in page
        assert "guideline S18" in page
        assert "create imaging event" in page

    def test_plan_calendar(self, client: TestClient) -> None:
        r = client.get("/registry/patients/PEC-0002/plan.ics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in r.text
        assert client.get("/registry/patients/PEC-9999/plan.ics").status_code == 404
        # Each event names the patient by the registry id and the visit, and reminds 14
        # days (the default settings) before its window opens.
        unfolded = r.text.replace("\r\n ", "")
        assert "SUMMARY:PEC-0002: PEComa surveillance visit 1: " in unfolded
        assert "TRIGGER;RELATED=START:-P14D" in unfolded

    def test_unknown_patient(self, client: TestClient) -> None:
        assert client.get("/registry/patients/PEC-9999").status_code == 404
        assert client.get("/registry/patients/PEC-9999/scan").status_code == 404

    def test_bad_date_shows_a_message_and_today(self, client: TestClient) -> None:
        r = client.get("/registry?on=yesterday")
        assert r.status_code == 200
        assert "&#39;on&#39; must be a date as YYYY-MM-DD" in r.text


class TestRecordScan:
    def test_form(self, client: TestClient) -> None:
        r = client.get("/registry/patients/PEC-0002/scan")
        assert r.status_code == 200
        assert 'value="2026-11-28"' in r.text
        assert '<option value="mri_primary">MRI of the primary site</option>' in r.text

    def test_errors_next_to_the_fields_and_nothing_stored(
        self, client: TestClient, repo: Repository
    ) -> None:
        before = repo.count()
        r = client.post("/registry/patients/PEC-0002/scan",
                        data={"date": "2027-01-01", "modality": "", "finding": "cured"})
        assert r.status_code == 422
        date_err = re.search(r'<p class="field-error" id="scan-date-err">(.*?)</p>', r.text)
        assert date_err and "must not be after the evaluation date (2026-11-28)" in \
            date_err.group(1)
        mod_err = re.search(r'<p class="field-error" id="scan-modality-err">(.*?)</p>', r.text)
        assert mod_err and "is required" in mod_err.group(1)
        find_err = re.search(r'<p class="field-error" id="scan-finding-err">(.*?)</p>', r.text)
        assert find_err and "&#39;cured&#39;" in find_err.group(1)
        assert 'aria-invalid="true"' in r.text
        assert 'value="2027-01-01"' in r.text  # what was typed stays in the form
        assert repo.count() == before

    def test_a_field_sent_twice_is_refused_and_nothing_stored(
        self, client: TestClient, repo: Repository
    ) -> None:
        """Two dates in one post (a script or a tampered form): which one was meant is
        unknown, so nothing is stored and the field is named with both values (the last
        one was stored silently)."""
        before = repo.count()
        r = client.post("/registry/patients/PEC-0002/scan",
                        content="date=2026-01-03&date=2026-01-04&modality=chest_ct"
                                "&finding=no_evidence_of_disease",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        date_err = re.search(r'<p class="field-error" id="scan-date-err">(.*?)</p>', r.text)
        assert date_err and "was sent more than once" in date_err.group(1)
        assert "2026-01-03" in date_err.group(1) and "2026-01-04" in date_err.group(1)
        assert repo.count() == before

    def test_a_proxy_user_named_in_utf8_is_recorded_by_name(
        self, client: TestClient, repo: Repository
    ) -> None:
        """HTTP headers reach the app as Latin-1: 'Dvořák' sent as UTF-8 read 'DvoÅ\x99Ã¡k'
        (a control character, then refused as an actor). The proxy's name is kept."""
        r = client.post("/registry/patients/PEC-0002/scan",
                        data={"date": "2026-11-27", "modality": "chest_ct",
                              "finding": "no_evidence_of_disease"},
                        headers={"X-Remote-User": "Dvořák".encode()}, follow_redirects=False)
        assert r.status_code == 303, r.text
        assert repo.audit()[-1].actor == "Dvořák"

    def test_recorded_then_redirected_to_the_timeline(
        self, client: TestClient, repo: Repository
    ) -> None:
        r = client.post("/registry/patients/PEC-0002/scan",
                        data={"date": "2026-11-27", "modality": "mri_primary",
                              "finding": "equivocal"},
                        headers={"X-Remote-User": "dr.who"}, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/registry/patients/PEC-0002?recorded=1"
        last = repo.audit()[-1]
        assert (last.actor, last.entity, last.detail["finding"]) == (
            "dr.who", "imaging_event", "equivocal")
        page = text(client.get(r.headers["location"]).text)
        assert "Scan 2026-11-27 · MRI of the primary site · Equivocal · recorded by dr.who" in page


def worklist_row(html: str, registry_id: str) -> str:
    """The text of the worklist row of one patient."""
    rows = [r for r in html.split("<tr") if f">{registry_id}</a>" in r]
    assert len(rows) == 1, registry_id
    return text("<tr" + rows[0].split("</tr>")[0])


class TestPlanAlerts:
    """Equivocal scans and missing imaging are shown where the team looks: the worklist
    row and the top of the patient page (the plan's own flags, S21, S22, S26, S27)."""

    @pytest.fixture
    def client(self, ct_only: TestClient) -> TestClient:
        """PEC-0001 with the chest CT alone at its visit of 2026-11-20."""
        return ct_only

    def test_missing_mri_then_equivocal_mri(self, client: TestClient, repo: Repository) -> None:
        # PEC-0001 (high risk) had a chest CT on 2026-11-20 but no MRI of the primary: the
        # visit's planned MRI (S22) is missing.
        html = client.get("/registry/worklist").text
        assert "Not every planned examination is recorded" in worklist_row(html, "PEC-0001")
        # the MRI, never done since the surgery of 2025-01-10, keeps its own clock: the
        # next visit is the MRI's alone, dated by its own first window (due 2025-04-10,
        # overdue after 2025-05-10: S18, S22, I2), overdue since then, not by the window
        # of the visit that lacked it (2026-10-10 to 2026-11-10, visit 7), which made a
        # 22-month-old gap read as a visit just due; the row says so rather than showing
        # a second routine visit
        row = worklist_row(html, "PEC-0001")
        assert "Overdue" in row and "2025-04-10" in row and "2025-05-10" in row
        assert ("MRI primary site owed since visit #7, the first visit done without it; "
                "not done since 2025-01-10, the end of treatment; due 2025-04-10 on its "
                "own clock, overdue after 2025-05-10") in row
        # no scan, window passed: no alert badge
        assert not re.search(r"\b(critical|warning)\b", worklist_row(html, "PEC-0002"))
        page = text(client.get("/registry/patients/PEC-0001").text)
        assert "Alerts from the surveillance plan" in page
        assert "Not every planned examination is recorded" in page
        assert "not recorded: MRI of the primary site" in page
        # The MRI of the same day is then recorded, read as equivocal: the gap closes and
        # the equivocal scan needs the team's decision (S26, S27).
        record_scan(repo, "PEC-0001", "2026-11-20", "mri_primary", "equivocal",
                    on_date=ON, actor="radiology")
        row = worklist_row(client.get("/registry/worklist").text, "PEC-0001")
        assert "Equivocal scan: decide before the next routine visit" in row
        assert "Not every planned examination" not in row
        page = text(client.get("/registry/patients/PEC-0001").text)
        assert page.index("Equivocal scan") < page.index("Timeline")
        assert "equivocal (MRI of the primary site, 2026-11-20)" in page
        assert "guideline S26, S27" in page

    def test_no_alert_once_the_patient_left_surveillance(
        self, client: TestClient, repo: Repository
    ) -> None:
        """PEC-0001 has the missing-MRI alert; once a death is recorded the row is
        "deceased" and neither the row nor the page asks for imaging any more."""
        record_outcome(repo, "PEC-0001", "death", "2026-11-25", "dead_of_other_cause", None,
                       on_date=ON, actor="clinic")
        row = worklist_row(client.get("/registry/worklist").text, "PEC-0001")
        assert "Deceased" in row or "deceased" in row
        assert not re.search(r"\b(critical|warning)\b", row)
        page = client.get("/registry/patients/PEC-0001").text
        assert "Alerts from the surveillance plan" not in page

    def test_a_stored_case_that_cannot_be_evaluated_is_a_warning(
        self, client: TestClient, repo: Repository
    ) -> None:
        """PEC-0004 (high risk, resected 2025-01-10) was stored by an earlier release with
        a sirolimus line recorded as adjuvant but begun before the surgery, which this
        release refuses: no visit can be dated, so the worklist row and the patient page
        say so with a warning, why in the form's words, and what to do; the row is
        listed before the routine visits, not last (S18: it must not leave the queue)."""
        case = high_risk()
        case["systemic"] = {"therapies": [{"agent": "sirolimus", "setting": "adjuvant",
                                           "started_on": "2025-01-08"}]}
        store_before_a_check(repo, "PEC-0004", case, high_risk())
        html = client.get("/registry/worklist").text
        row = worklist_row(html, "PEC-0004")
        assert "warning The stored case cannot be evaluated" in row
        assert "Therapy line 1: Setting: contradicts" in row
        assert "record a corrected case version" in row
        assert text(html).index("PEC-0004") < text(html).index("PEC-0002")
        page = text(client.get("/registry/patients/PEC-0004").text)
        assert "Alerts from the surveillance plan" in page
        assert "warning The stored case cannot be evaluated" in page
        assert "Therapy line 1: Setting: contradicts" in page
        rows = list(csv.DictReader(io.StringIO(client.get("/registry/worklist.csv").text)))
        [r] = [r for r in rows if r["registry_id"] == "PEC-0004"]
        assert (r["status"], r["alert_level"]) == ("not_evaluable", "warning")

    def test_no_alert_without_a_flag(self, client: TestClient) -> None:
        """PEC-0003 (metastatic, no dated plan) and PEC-0002 (never scanned, so no visit
        was done and none is flagged) have no alert section."""
        for rid in ("PEC-0002", "PEC-0003"):
            assert "Alerts from the surveillance plan" not in client.get(
                f"/registry/patients/{rid}").text


# The worklist of ``client`` as of 2026-11-28, by hand: PEC-0002 (low risk, resected
# 2024-03-01; I3: a visit 4 to 6 months on) overdue since 2024-09-01, 818 days; PEC-0001
# (high risk, resected 2025-01-10, every 3-4 months: S18, I2) scanned 2026-11-20, 8 days
# ago: done, its visit 8 counted from that scan, window 2027-02-20 to 2027-03-20;
# PEC-0003 (metastatic) has no dated plan.
OVERDUE_ROW = "PEC-0002 Overdue (818 days) 2024-07-01 2024-09-01"
DONE_ROW = "PEC-0001 Done recently"
DONE_WINDOW = "2027-02-20 2027-03-20"
NO_PLAN_ROW = "PEC-0003 No dated plan"


class TestWorklist:
    def test_page_and_filters(self, client: TestClient) -> None:
        """Every patient in priority order (overdue, done, no plan), each with its status
        and window; the overdue filter shows PEC-0002's row alone."""
        page = text(client.get("/registry/worklist").text)
        assert "3 of 3 patients shown" in page
        rows = [page.index(r) for r in (OVERDUE_ROW, DONE_ROW, DONE_WINDOW, NO_PLAN_ROW)]
        assert rows == sorted(rows), page
        page = text(client.get("/registry/worklist?status=overdue").text)
        assert "1 of 3 patients shown" in page and OVERDUE_ROW in page
        assert "PEC-0001" not in page and "PEC-0003" not in page

    def test_downloads(self, client: TestClient) -> None:
        """The overdue CSV is PEC-0002's row; the calendar has one event per patient:
        the next visit, spanning its window (the end exclusive), or on the evaluation
        date when overdue; PEC-0003 has none dated, its event cancelled."""
        r = client.get("/registry/worklist.csv?status=overdue")
        assert r.headers["content-type"].startswith("text/csv")
        lines = r.text.splitlines()
        assert len(lines) == 2  # the header and PEC-0002
        assert lines[1].startswith("PEC-0002,overdue,2024-07-01,2024-09-01,818,")
        r = client.get("/registry/worklist.ics?on=2026-11-28")
        assert r.headers["content-type"].startswith("text/calendar")
        assert "attachment" in r.headers["content-disposition"]
        from icalendar import Calendar

        events = [(str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"))
                  for e in Calendar.from_ical(r.content).walk("VEVENT")]
        assert events == [
            # overdue since 2024-09-02: on the evaluation date, not its past window
            ("PEC-0002: surveillance visit 1: chest ct + mri primary (OVERDUE since "
             "2024-09-02)", ON, ON + dt.timedelta(days=1)),
            ("PEC-0001: surveillance visit 8: chest ct + mri primary (upcoming, the previous "
             "visit done)",
             dt.date(2027, 2, 20), dt.date(2027, 3, 21)),
            ("PEC-0003: no surveillance visit (not drawn)", ON, ON + dt.timedelta(days=1)),
        ]


    @pytest.mark.parametrize("query, named", [
        ("on=2026-02-30", "'on' names no day of the calendar (February 2026 has 28 days)"),
        ("status=overdu", "'status' must be one or more of"),
        ("risk=hihg", "'risk' must be one or more of"),
        ("sort=dew", "'sort' must be one of"),
    ])
    def test_a_download_is_never_made_of_a_query_it_could_not_read(
        self, client: TestClient, query: str, named: str
    ) -> None:
        """'on=2026-02-30&status=overdu' gave today's whole worklist under a file name
        with today's date: another list than asked for, looking right. Now: 400, the
        parameter and what it allows named, no file."""
        for path in ("/registry/worklist.csv", "/registry/worklist.ics"):
            r = client.get(f"{path}?{query}")
            assert r.status_code == 400, (path, r.status_code)
            assert "attachment" not in r.headers.get("content-disposition", "")
            assert named in unescape(text(r.text)), text(r.text)
        if query.startswith("on="):
            r = client.get(f"/registry/patients/PEC-0001/plan.ics?{query}")
            assert r.status_code == 400 and named in unescape(text(r.text))

    FILES = ("/registry/worklist.csv", "/registry/worklist.ics",
             "/registry/patients/PEC-0001/plan.ics", "/registry/summary.pdf",
             "/registry/survival.svg", "/registry/summary.svg")
    PAGES = ("/registry", "/registry/worklist", "/registry/summary",
             "/registry/patients/PEC-0001")
    BAD_DAYS = (("2023-02-30", "'on' names no day of the calendar (February 2023 has 28 "
                 "days): it must be a date as YYYY-MM-DD between 1900-01-01 and 2199-12-31 "
                 "(got '2023-02-30')"),
                ("1800-01-01", "'on' must be a date as YYYY-MM-DD between 1900-01-01 and "
                 "2199-12-31 (got '1800-01-01')"),
                ("garbage", "'on' must be a date as YYYY-MM-DD between 1900-01-01 and "
                 "2199-12-31 (got 'garbage')"))

    @pytest.mark.parametrize("path", FILES)
    def test_no_file_is_made_for_a_date_it_could_not_read(
        self, client: TestClient, path: str
    ) -> None:
        """The summary PDF, the survival chart and the summary chart were made as of
        today, with 200, for '?on=2023-02-30' (and 1800-01-01, 'garbage'): the figures of
        another day than asked, the date dropped without a word. Every file that takes
        'on' is refused (400) as the worklist downloads are, naming the parameter, the
        value and the dates allowed, with nothing to save."""
        for bad, named in self.BAD_DAYS:
            r = client.get(path, params={"on": bad})
            assert r.status_code == 400, (path, bad, r.status_code)
            assert r.headers["content-type"].startswith("text/html")
            assert "attachment" not in r.headers.get("content-disposition", "")
            assert named in unescape(text(r.text)), text(r.text)
        assert client.get(path, params={"on": "2026-11-28"}).status_code == 200

    def test_a_chart_names_every_parameter_it_could_not_read(
            self, client: TestClient) -> None:
        r = client.get("/registry/survival.svg",
                       params={"on": "2023-02-30", "endpoint": "dfs", "by": "age"})
        assert r.status_code == 400
        said = unescape(text(r.text))
        assert "(got '2023-02-30')" in said
        assert "'endpoint' must be one of rfs, os (got 'dfs')" in said
        assert "'by' must be one of risk, folpe (got 'age')" in said

    @pytest.mark.parametrize("path", PAGES)
    def test_a_page_shows_today_and_says_the_date_it_could_not_read(
        self, client: TestClient, path: str
    ) -> None:
        """A page, unlike a file, has a place for a message: it shows today's registry
        (2026-11-28) and says which date it could not read, through the same reading of
        'on' as the files."""
        for bad, named in self.BAD_DAYS:
            r = client.get(path, params={"on": bad})
            assert r.status_code == 200, (path, bad)
            assert f"{named}; showing today" in unescape(text(r.text)), (path, bad)

    def test_the_page_says_which_filter_it_left_out(self, client: TestClient) -> None:
        page = text(client.get("/registry/worklist?status=overdu,overdue").text)
        assert "1 of 3 patients shown" in page
        assert "'status' must be one or more of" in unescape(page)
        assert "(left out)" in page


    @pytest.mark.parametrize("query", ["sort=", "status=due,%20Overdue", "risk=High&sort=Due"])
    def test_a_hand_made_link_with_spaces_or_capitals_is_read(
        self, client: TestClient, query: str
    ) -> None:
        for path in ("/registry/worklist.csv", "/registry/worklist.ics"):
            assert client.get(f"{path}?{query}").status_code == 200, (path, query)


def test_a_case_stored_with_midnight_dates_is_read(repo: Repository) -> None:
    """An earlier version stored cases as submitted, dates as the midnight of the day
    included ('2025-01-06 00:00:00', '…T00:00:00+01:00'): they stay evaluable, and the
    summary, which reads the stored dates directly, is no 500."""
    case = high_risk()
    case["diagnosis"]["date"] = f"{case['diagnosis']['date']} 00:00:00"
    case["surgery"]["date"] = f"{case['surgery']['date']}T00:00:00+01:00"
    record_case(repo, "PEC-0009", case, on_date=ON, settings=default_settings(),
                actor="clinic", source="test")
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        assert c.get("/registry/summary").status_code == 200
        rows = c.get("/registry/worklist.csv").text.splitlines()
    [row] = [r for r in rows if r.startswith("PEC-0009,")]
    assert row.split(",")[1] not in ("not_evaluable", "not_drawn"), row


class TestLargeRegistries:
    def test_pages_of_rows(self, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        from pecoma.web import registry_pages

        monkeypatch.setattr(registry_pages, "PAGE_SIZE", 2)
        page = text(client.get("/registry/worklist").text)
        assert "3 of 3 patients shown (page 1 of 2)" in page
        assert "PEC-0003" not in page
        page = text(client.get("/registry/worklist?page=2").text)
        assert "PEC-0003" in page and "PEC-0002" not in page
        page = text(client.get("/registry?page=2").text)
        assert "Page 2 of 2" in page and "PEC-0003" in page

    def test_cached_worklist_follows_every_write(self, client: TestClient) -> None:
        assert "PEC-0002 Overdue" in text(client.get("/registry/worklist").text)
        # both examinations planned at a low-risk visit (I12), each written through the
        # form: the cached row follows each write, and is done once both are recorded
        client.post("/registry/patients/PEC-0002/scan",
                    data={"date": "2026-11-27", "modality": "chest_ct", "finding": ""})
        # the chest CT alone: the MRI, never done since the surgery (2024-03-01), is owed
        # on its own clock (due 2024-07-01, overdue after 2024-09-01), so the row stays
        # overdue, for the MRI alone, until it is recorded (it said "due" in the CT's
        # window, the MRI not done for 2 years and 8 months)
        page = text(client.get("/registry/worklist").text)
        assert re.search(r"PEC-0002 Overdue \(\d+ days\).*?2024-07-01 2024-09-01 MRI", page)
        client.post("/registry/patients/PEC-0002/scan",
                    data={"date": "2026-11-27", "modality": "mri_primary", "finding": ""})
        assert "PEC-0002 Done recently" in text(client.get("/registry/worklist").text)


class TestSummary:
    def test_page_with_inline_chart(self, client: TestClient) -> None:
        r = client.get("/registry/summary")
        assert r.status_code == 200
        assert "<svg" in r.text and "<script" not in r.text.split("<svg")[1].split("</svg>")[0]
        page = text(r.text)
        assert "Overdue rate (overdue among patients with an active plan) 1/2 (50.0%)" in page
        assert "First-line mTOR inhibitor in advanced disease (S02, S12, S13) 1/1 (100.0%)" \
            in page
        assert "Complete immunohistochemistry panel (S24) 2/3 (66.7%)" in page

    def test_a_grouping_it_cannot_read_is_said(self, client: TestClient) -> None:
        """'by=bogus' was grouped by risk without a word."""
        page = unescape(text(client.get("/registry/summary?by=bogus").text))
        assert "'by' must be one of risk, folpe (got 'bogus'); grouped by risk" in page

    def test_svg_download(self, client: TestClient) -> None:
        r = client.get("/registry/summary.svg")
        assert r.headers["content-type"].startswith("image/svg+xml")
        assert r.text.startswith("<svg")


def web_rows(page: str) -> list[tuple[str, str, list[str]]]:
    """(registry id, status, alerts as "level: title") of each row of a worklist page."""
    out = []
    for row in page.split('<tr class="row-')[1:]:
        row = row.split("</tr>")[0]
        rid = re.search(r'">([^<]+)</a>', row)
        assert rid is not None
        alerts = re.findall(r'<span class="badge level-(\w+)">(\w+)</span> ([^<]+)</li>', row)
        assert all(css == word for css, word, _title in alerts)  # the level in words
        out.append((rid.group(1), row.split('"')[0],
                    [f"{word}: {html_text.unescape(t)}" for _css, word, t in alerts]))
    return out


class TestOneWorklist:
    @pytest.fixture
    def client(self, ct_only: TestClient) -> TestClient:
        """PEC-0001 with the chest CT alone at its visit of 2026-11-20."""
        return ct_only

    def test_the_web_page_and_the_command_line_list_the_same_rows(
        self, client: TestClient, repo: Repository, db_url: str
    ) -> None:
        """Same patients, order, statuses and alerts: PEC-0001's visit lacks the MRI of
        the primary (S22), PEC-0003 has no dated plan (metastatic), and after a death is
        recorded for PEC-0002 both list it as deceased, without alerts."""
        record_outcome(repo, "PEC-0002", "death", "2026-11-25", "dead_of_other_cause", None,
                       on_date=ON, actor="clinic")
        web = web_rows(client.get("/registry/worklist?on=2026-11-28&page=1").text)
        r = run_cli("registry", "worklist", "--on", "2026-11-28", "--format", "json",
                    "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        cli = [(i["registry_id"], i["status"],
                [f'{a["level"]}: {a["title"]}' for a in i["alerts"]])
               for i in json.loads(r.stdout)["items"]]
        assert cli == web
        by_id = {rid: (status, alerts) for rid, status, alerts in web}
        assert by_id["PEC-0001"][1] == ["warning: Not every planned examination is recorded"]
        assert by_id["PEC-0002"] == ("deceased", [])
        assert by_id["PEC-0003"] == ("not_drawn", [])


DEC_6 = dt.date(2026, 12, 6)


class TestWorklistPriority:
    """The worklist a nurse works top down, as of 2026-12-06: PEC-1 (high risk, operated
    2026-09-15) with a chest CT on 2026-12-02 read as equivocal and its MRI clear; PEC-2
    (low risk, operated 2026-05-04, never scanned: overdue since 2026-11-05, I3); PEC-3
    (high risk, operated 2026-02-10) whose chest CT on 2026-11-30 found a metastasis (plan
    suspended, S27); PEC-4 (high risk, operated 2026-08-20, never scanned: visit 1's
    window 2026-11-20 to 2026-12-20 open, S18, I2)."""

    @pytest.fixture
    def clinic(self, repo: Repository) -> Iterator[TestClient]:
        s = default_settings()
        for rid, c in {"PEC-1": high_risk("2026-09-15"), "PEC-2": low_risk("2026-05-04"),
                       "PEC-3": high_risk("2026-02-10"),
                       "PEC-4": high_risk("2026-08-20")}.items():
            # recorded when operated
            record_case(repo, rid, c, on_date=dt.date.fromisoformat(c["surgery"]["date"]),
                        settings=s, actor="clinic", source="test")
        record_scan(repo, "PEC-1", "2026-12-02", "chest_ct", "equivocal", on_date=DEC_6,
                    actor="radiology")
        record_scan(repo, "PEC-1", "2026-12-02", "mri_primary", "no_evidence_of_disease",
                    on_date=DEC_6, actor="radiology")
        record_scan(repo, "PEC-3", "2026-11-30", "chest_ct", "metastasis", on_date=DEC_6,
                    actor="radiology")
        app = create_app(WebConfig(), today=lambda: DEC_6)
        app.state.registry = repo
        with TestClient(app, base_url="http://localhost") as c:
            yield c

    def test_the_scans_the_team_decides_on_come_first_with_their_level(
        self, clinic: TestClient, db_url: str
    ) -> None:
        """Was: PEC-2 overdue, PEC-4 due, PEC-1 done (equivocal), PEC-3 (metastasis)
        last, every alert an amber "Alert". Now the metastasis, then the equivocal scan
        (both critical: the team decides now, S26, S27, as on the report), then the
        routine visits; the command line lists the same rows in the same order."""
        web = web_rows(clinic.get("/registry/worklist").text)
        assert web == [
            ("PEC-3", "suspended", ["critical: Surveillance suspended: a scan found disease"]),
            ("PEC-1", "done",
             ["critical: Equivocal scan: decide before the next routine visit"]),
            ("PEC-2", "overdue", []),
            ("PEC-4", "due", []),
        ]
        r = run_cli("registry", "worklist", "--on", "2026-12-06", "--format", "json",
                    "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        cli = [(i["registry_id"], i["status"],
                [f'{a["level"]}: {a["title"]}' for a in i["alerts"]])
               for i in json.loads(r.stdout)["items"]]
        assert cli == web
        row = worklist_row(clinic.get("/registry/worklist").text, "PEC-3")
        assert "critical Surveillance suspended" in row  # the level in words, not colour
        # the CSV download and the command line's CSV carry the same levels and alerts,
        # each with its record id (they had none)
        expected = [
            ("PEC-3", "critical",
             "critical: Surveillance suspended: a scan found disease [FU-SUSPENDED-RECURRENCE]"),
            ("PEC-1", "critical",
             "critical: Equivocal scan: decide before the next routine visit [FU-EQUIVOCAL]"),
            ("PEC-2", "", ""),
            ("PEC-4", "", ""),
        ]
        r = run_cli("registry", "worklist", "--on", "2026-12-06", "--format", "csv",
                    "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        for got in (clinic.get("/registry/worklist.csv").text, r.stdout):
            rows = [(d["registry_id"], d["alert_level"], d["alerts"])
                    for d in csv.DictReader(io.StringIO(got))]
            assert rows == expected
        page = text(clinic.get("/registry/patients/PEC-1").text)
        assert "critical Equivocal scan: decide before the next routine visit" in page
        # the alert says why in the report's words, each fact by its label ("Why: equivocal
        # (…)" had listed bare values, "not recorded; not recorded" for others)
        why = re.findall(r"Why: ([^\n]*)", page)
        assert why and all(re.match(r"[A-Z][^:;]*: ", w) for w in why), why

    def test_lost_to_follow_up_with_a_finding_and_disease_the_case_does_not_hold(
        self, clinic: TestClient, repo: Repository, db_url: str
    ) -> None:
        """PEC-3 lost to follow-up on 2026-12-01 after its metastasis, PEC-1 on 2026-12-03
        after its equivocal scan: each keeps its critical alert and its place at the top
        (was: both last, no alert, the findings named nowhere; S17, S27, I16). PEC-4
        (resected 2026-08-20, no relapse recorded) seen alive with disease on 2026-10-01:
        routine visits suspended, with the critical alert asking for the new case version
        or the corrected vital status (was: "due", nothing said). The command line lists
        the same rows; the patient's page shows the alert and what to do."""
        for rid, day, vital in (("PEC-3", "2026-12-01", "lost_to_follow_up"),
                                ("PEC-1", "2026-12-03", "lost_to_follow_up"),
                                ("PEC-4", "2026-10-01", "alive_with_disease")):
            record_outcome(repo, rid, "last_contact", day, vital, None, on_date=DEC_6,
                           actor="clinic")
        reported = ("critical: Alive with disease recorded, but the case holds no disease: "
                    "record the relapse in a new case version or correct the vital status")
        web = web_rows(clinic.get("/registry/worklist").text)
        assert web == [
            ("PEC-3", "lost_to_follow_up",
             ["critical: Surveillance suspended: a scan found disease"]),
            ("PEC-1", "lost_to_follow_up",
             ["critical: Equivocal scan: decide before the next routine visit"]),
            ("PEC-4", "suspended", [reported]),
            ("PEC-2", "overdue", []),
        ]
        r = run_cli("registry", "worklist", "--on", "2026-12-06", "--format", "json",
                    "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        assert [(i["registry_id"], i["status"],
                 [f'{a["level"]}: {a["title"]}' for a in i["alerts"]])
                for i in json.loads(r.stdout)["items"]] == web
        row = worklist_row(clinic.get("/registry/worklist").text, "PEC-3")
        assert "a scan found disease that no case version records: trace the patient " \
            "first" in row
        page = text(clinic.get("/registry/patients/PEC-3").text)
        assert "critical Surveillance suspended: a scan found disease" in page
        assert page.index("Surveillance suspended: a scan found disease") < \
            page.index("Timeline")
        page = text(clinic.get("/registry/patients/PEC-4").text)
        assert reported.replace(":", "", 1) in page
        assert "or correct the vital status (the last contact entered again on that day)" \
            in page

    def test_lost_to_follow_up_after_a_metastasis_recorded_as_an_outcome(
        self, clinic: TestClient, repo: Repository, db_url: str
    ) -> None:
        """PEC-2 (low risk, resected): a distant metastasis found by symptoms on
        2026-09-01, recorded as an outcome, then lost to follow-up on 2026-11-10. A known
        metastasis no one has decided on, and the patient gone: the one to trace first
        (S17, S27). Was: a plain lost row at the bottom of the web worklist, the CSV
        download and the command line, no alert. Now: the critical alert kept, ranked
        after the scans that found disease, "trace the patient first" in the row and on
        the patient's page, the same on every surface."""
        record_outcome(repo, "PEC-2", "distant_metastasis", "2026-09-01", None, "symptoms",
                       on_date=DEC_6, actor="clinic")
        record_outcome(repo, "PEC-2", "last_contact", "2026-11-10", "lost_to_follow_up",
                       None, on_date=DEC_6, actor="clinic")
        relapse = ("critical: Relapse recorded as an outcome, but the case holds none: "
                   "record it in a new case version")
        web = web_rows(clinic.get("/registry/worklist").text)
        assert web == [
            ("PEC-3", "suspended",
             ["critical: Surveillance suspended: a scan found disease"]),
            ("PEC-1", "done",
             ["critical: Equivocal scan: decide before the next routine visit"]),
            ("PEC-2", "lost_to_follow_up", [relapse]),
            ("PEC-4", "due", []),
        ]
        r = run_cli("registry", "worklist", "--on", "2026-12-06", "--format", "json",
                    "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        assert [(i["registry_id"], i["status"],
                 [f'{a["level"]}: {a["title"]}' for a in i["alerts"]])
                for i in json.loads(r.stdout)["items"]] == web
        row = worklist_row(clinic.get("/registry/worklist").text, "PEC-2")
        assert "distant metastasis recorded on 2026-09-01, found by symptoms, which the " \
            "case does not hold: trace the patient first" in row
        got = {d["registry_id"]: (d["status"], d["alert_level"]) for d in
               csv.DictReader(io.StringIO(clinic.get("/registry/worklist.csv").text))}
        assert got["PEC-2"] == ("lost_to_follow_up", "critical")
        page = text(clinic.get("/registry/patients/PEC-2").text)
        assert relapse.replace(":", "", 1) in page
        assert "trace the patient first" in page

    def test_a_scan_that_found_disease_stays_on_top_when_the_case_cannot_be_evaluated(
        self, clinic: TestClient, repo: Repository, db_url: str
    ) -> None:
        """PEC-3's case, stored again with the surgery on 2026-12-01 (a version written
        before such a version was refused), puts the operation after the chest CT of
        2026-11-30: the case cannot be evaluated. The CT found a metastasis all the same:
        PEC-3 was listed 'not evaluable' below every patient followed, without alert,
        and left the suspended list. It stays suspended, first, with the critical alert
        (S27, S17); the reason names the scan, then why the case cannot be evaluated."""
        record_unchecked(repo, "PEC-3", high_risk("2026-12-01"), DEC_6)
        web = web_rows(clinic.get("/registry/worklist").text)
        assert web[0] == ("PEC-3", "suspended",
                          ["critical: Surveillance suspended: a scan found disease"])
        assert [rid for rid, _s, _a in web] == ["PEC-3", "PEC-1", "PEC-2", "PEC-4"]
        r = run_cli("registry", "worklist", "--on", "2026-12-06", "--status", "suspended",
                    "--format", "json", "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        [item] = json.loads(r.stdout)["items"]
        assert (item["registry_id"], item["record"]) == ("PEC-3", "FU-SUSPENDED-RECURRENCE")
        assert item["reason"].startswith(
            "Surveillance suspended: a scan found disease: metastasis on the chest_ct of "
            "2026-11-30; the case cannot be evaluated as of the date: ")
        assert "must not be before the surgery (2026-12-01)" in item["reason"]

    def test_a_past_date_reads_the_page_as_its_worklist_row(self, clinic: TestClient) -> None:
        """As of 2026-11-25, PEC-1's scans of 2026-12-02 are not known yet: the worklist
        leaves them out (visit 1's window 2026-12-15 to 2027-01-15 not open: upcoming), and
        the patient's page had assessed with them, saying the case could not be assessed
        ("Scan 1: Date must not be after the evaluation date") beside that row."""
        page = text(clinic.get("/registry/patients/PEC-1?on=2026-11-25").text)
        assert "cannot be assessed" not in page
        assert "must not be after the evaluation date" not in page
        assert "Equivocal scan" not in page  # a scan of a later day decides nothing yet
        row = worklist_row(clinic.get("/registry/worklist?on=2026-11-25").text, "PEC-1")
        assert "Upcoming" in row or "upcoming" in row
        r = clinic.get("/registry/patients/PEC-1/plan.ics?on=2026-11-25")
        assert r.status_code == 200, r.text  # its calendar too (it had been refused)
        assert "20261202" not in r.text  # no visit done by a scan not known yet


RECORD_ID = re.compile(r"\b(?:ALERT|CLS|FU|MISS|REC|RISK|SUPP)-[A-Z0-9-]+")


class TestPlainWords:
    def test_registry_pages_read_in_the_forms_words(
        self, client: TestClient, repo: Repository
    ) -> None:
        """What a clinician reads on the registry's pages, forms and refusals names facts by
        the labels and values of the case form and the report: no field path, no
        snake_case code (``mri_primary``, ``not_applicable``), no program phase id
        (``high-intensive``), and the board's decisions, on the pages and in the PDF, by
        the recommendation's title, never by its record id alone (``REC-REFER-TRIALS
        declined``): a record id is shown only beside the title, as its source. Also why
        a case cannot be assessed: PEC-0009's case version, stored before such versions
        were refused, moves its surgery after a recorded scan (the patient's page and the
        worklist's row said "'imaging[0].date' must not be before …")."""
        from test_web_summary import VisibleText, assert_plain

        record_case(repo, "PEC-0009", high_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        record_scan(repo, "PEC-0009", "2026-11-20", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        record_unchecked(repo, "PEC-0009", {**high_risk(), "surgery": {
            "status": "performed", "date": "2026-11-25", "margin": "R0"}})

        record_outcome(repo, "PEC-0002", "last_contact", "2026-11-25", "alive_without_disease",
                       None, on_date=ON, actor="clinic")
        record_decision(repo, "PEC-0001", 1, check_decision(
            "REC-REFER-TRIALS", "declined", "patient-preference", ""), "clinic", None)
        record_decision(repo, "PEC-0003", 3, check_decision(
            "REC-MTOR-FIRST-LINE", "accepted", "", ""), "clinic", None)
        pages = {
            url: client.get(url) for url in (
                "/registry", "/registry/worklist", "/registry/summary",
                "/registry/patients/PEC-0001", "/registry/patients/PEC-0002",
                "/registry/patients/PEC-0003", "/registry/patients/PEC-0001/scan",
                "/registry/patients/PEC-0001/outcome",
                "/registry/patients/PEC-0001/assessments/1",
                "/registry/patients/PEC-0009",
            )
        }
        pages["refused scan"] = client.post("/registry/patients/PEC-0001/scan", data={
            "date": "2026-12-24", "modality": "chest_ct", "finding": ""})
        pages["refused outcome"] = client.post("/registry/patients/PEC-0001/outcome", data={
            "event": "death", "date": "2026-11-20", "vital_status": "", "found_by": ""})
        pdf = client.get("/registry/patients/PEC-0001/assessments/1/report.pdf")
        assert pdf.status_code == 200
        pdf_text = " ".join(" ".join(
            p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
        for where, r in pages.items():
            assert r.status_code in (200, 422), where
            seen = VisibleText(r.text).text
            assert_plain(seen, where)
            assert "high-intensive" not in seen, where
            # a record id only in the <code> beside the title it names
            named = VisibleText(re.sub(r"<code>[^<]*</code>", "", r.text)).text
            assert not RECORD_ID.findall(named), where
        assert_plain(pdf_text, "PDF")
        assert not RECORD_ID.findall(re.sub(r"\[[^]]*\]", "", pdf_text))  # ids: [sources]
        trials = "Refer to a sarcoma reference centre; offer a trial or registry"
        box = re.sub(r"\s", "", pdf_text.split("Decision of the board")[-1])  # words split
        assert re.sub(r"\s", "", f"{trials} [REC-REFER-TRIALS] Declined") in box
        assert (f"1 decision recorded: {trials}: declined"
                in text(pages["/registry/patients/PEC-0001"].text))
        assert ("1 decision recorded: An mTOR inhibitor is the first-line systemic treatment: "
                "accepted" in text(pages["/registry/patients/PEC-0003"].text))
        assert re.search(rf"“{trials}” 20\d\d board: decided < 5; accepted 0, declined < 5",
                         html_text.unescape(text(pages["/registry/summary"].text)))
        assert "chest CT, MRI of the primary site" in text(pages["/registry/worklist"].text)
        assert "(every 3-4 months for the first years)" in text(
            pages["/registry/patients/PEC-0001"].text)
        refused = text(pages["refused scan"].text)
        assert re.search(r"Date of the scan ?: must not be after", refused)
        assert "<title>Error: Record a scan" in pages["refused scan"].text
        assert "dead of disease, dead of other cause" in text(pages["refused outcome"].text)
        why = "Scan 1: Date: must not be before the surgery (2026-11-25)"
        patient = text(pages["/registry/patients/PEC-0009"].text)
        assert f"The latest case cannot be assessed as of this date: {why}" in patient
        assert why in worklist_row(pages["/registry/worklist"].text, "PEC-0009")

    def test_decision_forms_are_named_by_the_recommendation(self, client: TestClient) -> None:
        page = client.get("/registry/patients/PEC-0001/assessments/1").text
        legends = re.findall(r"<legend>([^<]*)</legend>", page)
        buttons = re.findall(r"<button type=\"submit\">(Record the decision[^<]*)</button>", page)
        assert legends and len(buttons) == len(legends)
        for words in (*legends, *buttons):
            assert not re.search(r"\b[A-Z]+(?:-[A-Z]+)+\b", words), words  # no record id
        titles = re.findall(r"<h3>([^<]*) <code>", page)
        assert [html_text.unescape(t) for t in titles] == [
            html_text.unescape(w).removeprefix("Decision about “").removesuffix("”")
            for w in legends
        ]
