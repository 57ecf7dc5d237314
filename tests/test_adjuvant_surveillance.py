"""Surveillance around adjuvant treatment (I22): an adjuvant line without a recorded end,
and scans taken after the surgery but before the end of curative treatment.

The story behind these tests: a high-risk uterine PEComa (11.5 cm, all four high-risk
features) resected R0 on 2024-03-05, adjuvant doxorubicin begun 2024-04-01, the end of
treatment not recorded. The plan counted from the surgery as if it were the end, asked
nothing, and the registry took a scan during the chemotherapy (2024-06-10) as a visit.
Once the real end (2024-08-15) was recorded, that scan made the patient "not evaluable":
off the overdue, due and upcoming lists, with no next visit. The rules: the unknown end is
asked for and the visits meanwhile come early rather than late (provisional); a scan
during treatment is kept, shown and counts as no visit; a scan before the surgery is
refused; the plan, the command line, the registry, its worklist, its calendar and its web
pages follow the one rule.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import InputError, assess, parse_case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding, parse_imaging
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.registry.importer import import_file
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.worklist import WorkStatus, stored_worklist, to_ics, worklist_uid
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from cli_support import run_cli as pecoma
from registry_support import db_url, repo, rows_of, write_csv

__all__ = ["db_url", "repo"]

SURGERY = dt.date(2024, 3, 5)
ADJUVANT_START = dt.date(2024, 4, 1)
END = dt.date(2024, 8, 15)
ON = dt.date(2025, 12, 1)


def story_case(end: str | None = None, adjuvant: bool = True) -> dict[str, Any]:
    """The reported patient: high risk (all four features), R0 on 2024-03-05."""
    data: dict[str, Any] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-03-01",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "uterus", "size": {"value": 11.5, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "vascular_invasion": "present", "mitoses_per_50_hpf": 12},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": SURGERY.isoformat(), "margin": "R0"},
    }
    if adjuvant:
        data["systemic"] = {"therapies": [{"agent": "doxorubicin", "setting": "adjuvant",
                                           "line": 1,
                                           "started_on": ADJUVANT_START.isoformat()}]}
    if end is not None:
        data["primary_treatment_end"] = end
    return data


def plan(data: dict[str, Any], on: dt.date = ON,
         imaging: tuple[ImagingEvent, ...] | None = ()) -> SurveillancePlan:
    case = parse_case(data)
    s = default_settings()
    return plan_surveillance(case, assess(case, on, s), on, imaging, s)


def scan(day: str, finding: ScanFinding = ScanFinding.no_evidence_of_disease,
         modality: Modality = Modality.chest_ct) -> ImagingEvent:
    return ImagingEvent(dt.date.fromisoformat(day), modality, finding)


# --------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------


class TestAdjuvantEndNotRecorded:
    def test_the_end_is_asked_and_the_plan_is_provisional_from_the_surgery(self) -> None:
        """With an adjuvant line and no end, the end of treatment is unknown (the case
        format takes the surgery date only when no adjuvant line is recorded): the plan
        asks MISS-ADJUVANT-END, says it counts from the surgery meanwhile (the earliest
        the end can be), and every phase waits on the answer. Visit 1 is due 3 months
        after the surgery (2024-06-05): early rather than late."""
        p = plan(story_case(), dt.date(2024, 5, 1))
        assert [m.id for m in p.missing] == ["MISS-ADJUVANT-END"]
        reason = next(r for r in p.reasons if r.id == "FU-ADJUVANT-END-NOT-RECORDED")
        assert reason.conditional_on == ("MISS-ADJUVANT-END",)
        assert "I22" in reason.provenance.interpretations
        assert all("MISS-ADJUVANT-END" in ph.item.conditional_on for ph in p.phases)
        assert (p.anchor, p.anchor_basis) == (SURGERY, "surgery")
        assert p.next_visit is not None and p.next_visit.due == dt.date(2024, 6, 5)
        # an alert wherever alerts are listed (registry worklist, patient page)
        assert "FU-ADJUVANT-END-NOT-RECORDED" in [a.id for a in p.alerts]

    @pytest.mark.parametrize("end", ["2024-04-01", "2024-08-15", "2025-03-05"])
    def test_no_visit_is_later_than_once_the_end_is_recorded(self, end: str) -> None:
        """Whatever the end turns out to be (on the adjuvant start, after a usual course,
        after a year), no provisional visit is due later than the same visit of the plan
        counted from that end: visits count from the surgery, and the intensive phase
        runs from the start of the line (2024-04-01 + 3 years), not from the surgery."""
        provisional = plan(story_case(), dt.date(2024, 5, 1))
        intensive = provisional.phases[0]
        assert intensive.ends == dt.date(2027, 4, 1)
        assert "MISS-ADJUVANT-END" in intensive.item.conditional_on
        recorded = plan(story_case(end), dt.date(2024, 5, 1) if end < "2024-05-01"
                        else dt.date.fromisoformat(end))
        for before, after in zip(provisional.visits, recorded.visits, strict=False):
            assert before.due <= after.due, (before.index, before.due, after.due)

    def test_the_assessment_schedule_waits_on_the_end_too(self) -> None:
        """The assessment's follow-up items (the same schedule) are provisional on the
        same question, so the report and the plan say the same."""
        case = parse_case(story_case())
        a = assess(case, dt.date(2024, 5, 1), default_settings())
        fu = {i.id: i for i in a.followup}
        assert "MISS-ADJUVANT-END" in fu["FU-HIGH-INTENSIVE"].conditional_on
        assert "MISS-ADJUVANT-END" in [m.id for m in a.missing]

    def test_no_adjuvant_line_counts_from_the_surgery_as_the_end(self) -> None:
        """Neighbour: no adjuvant line, no end recorded: the surgery is the end of
        treatment (the case format), nothing is provisional or asked, and a scan before
        the surgery is refused as pre-operative imaging."""
        p = plan(story_case(adjuvant=False), dt.date(2024, 5, 1))
        assert (p.anchor, p.anchor_basis) == (SURGERY, "treatment_end")
        assert p.missing == ()
        assert "FU-ADJUVANT-END-NOT-RECORDED" not in [r.id for r in p.reasons]
        with pytest.raises(InputError) as info:
            plan(story_case(adjuvant=False), dt.date(2024, 5, 1), (scan("2024-03-04"),))
        assert "before the surgery (2024-03-05)" in str(info.value)


class TestScansDuringTreatment:
    def test_a_scan_during_treatment_is_kept_and_no_visit(self) -> None:
        """The reported scan (2024-06-10, during the chemotherapy that ended 2024-08-15)
        is no error: kept, shown as a scan during treatment, and the plan counts from the
        end of treatment, so visit 1 is due 2024-11-15 and, with nothing since, overdue
        on 2025-12-01."""
        p = plan(story_case("2024-08-15"), ON, (scan("2024-06-10"),))
        assert p.status == "active" and p.anchor == END
        assert p.during_treatment == (scan("2024-06-10"),)
        reason = next(r for r in p.reasons if r.id == "FU-SCANS-DURING-TREATMENT")
        assert reason.triggered_by[0].path == "imaging[0].date"
        first = p.visits[0]
        assert (first.due, first.status, first.scans) == (dt.date(2024, 11, 15), "overdue", ())
        assert p.missing == ()

    def test_a_scan_on_the_day_of_the_end_is_a_baseline_scan(self) -> None:
        """Neighbour: a scan on the end date itself is the baseline of surveillance, as
        before: no visit, not 'during treatment'."""
        p = plan(story_case("2024-08-15"), ON, (scan("2024-08-15"),))
        assert p.baseline == (scan("2024-08-15"),)
        assert p.during_treatment == ()
        assert "FU-SCANS-DURING-TREATMENT" not in [r.id for r in p.reasons]
        assert p.visits[0].due == dt.date(2024, 11, 15)

    def test_a_scan_before_the_surgery_is_still_refused(self) -> None:
        """Neighbour: a scan before the surgery (2024-03-01) is pre-operative imaging, no
        follow-up: refused naming the field, the value and the rule."""
        with pytest.raises(InputError) as info:
            plan(story_case("2024-08-15"), ON, (scan("2024-03-01"),))
        [issue] = info.value.issues
        assert issue.path == "imaging[0].date" and issue.value == "2024-03-01"
        assert "before the surgery (2024-03-05)" in issue.rule

    def test_a_scan_on_the_day_of_the_surgery_is_during_treatment(self) -> None:
        """Neighbour: the surgery's own day is the first day a scan is accepted; with an
        adjuvant line ended later it is a scan during treatment."""
        p = plan(story_case("2024-08-15"), ON, (scan("2024-03-05"),))
        assert p.during_treatment == (scan("2024-03-05"),)

    def test_disease_found_during_treatment_suspends_the_plan(self) -> None:
        """A metastasis on a scan during treatment is disease found: the plan is
        suspended (S27, S17), not read past because it came before the end."""
        p = plan(story_case("2024-08-15"), ON, (scan("2024-06-10", ScanFinding.metastasis),))
        assert p.status == "suspended"
        assert p.reasons[0].id == "FU-SUSPENDED-RECURRENCE"

    def test_an_equivocal_scan_during_treatment_is_an_alert_until_read_again(self) -> None:
        """An equivocal finding during treatment needs the team like one on the first
        day of surveillance; a later visit that reads the same examination settles it."""
        p = plan(story_case("2024-08-15"), dt.date(2024, 9, 1),
                 (scan("2024-06-10", ScanFinding.equivocal),))
        assert "FU-EQUIVOCAL" in [a.id for a in p.alerts]
        later = plan(story_case("2024-08-15"), dt.date(2024, 12, 1),
                     (scan("2024-06-10", ScanFinding.equivocal), scan("2024-11-15")))
        assert "FU-EQUIVOCAL" not in [a.id for a in later.alerts]

    def test_parse_imaging_follows_the_same_rule(self) -> None:
        """The imaging parser, used by the command line, the web form and the API, reads
        the same limit from the case: the day of the surgery is accepted, the day before
        is not."""
        case = parse_case(story_case("2024-08-15"))
        ok = parse_imaging([{"date": "2024-03-05", "modality": "chest_ct"}], case=case,
                           on_date=ON)
        assert ok[0].date == SURGERY
        with pytest.raises(InputError):
            parse_imaging([{"date": "2024-03-04", "modality": "chest_ct"}], case=case,
                          on_date=ON)


class TestCommandLine:
    def test_followup_with_a_scan_during_treatment(self, tmp_path: Path) -> None:
        """`pecoma followup --imaging` takes the scan during treatment (exit 0), shows it
        as such, and its calendar's first visit is three months after the end."""
        case = tmp_path / "case.json"
        case.write_text(json.dumps(story_case("2024-08-15")))
        history = tmp_path / "scans.csv"
        history.write_text("date,modality,finding\n2024-06-10,chest_ct,no_evidence_of_disease\n")
        r = pecoma("followup", str(case), "--imaging", str(history), "--on", "2025-12-01",
                   "--format", "json")
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        assert data["during_treatment"][0]["date"] == "2024-06-10"
        assert data["next_visit"]["due"] == "2024-11-15"
        r = pecoma("followup", str(case), "--imaging", str(history), "--on", "2025-12-01",
                   "--format", "ics")
        assert r.returncode == 0, r.stderr
        # overdue as of 2025-12-01: the event is on that date, its window kept
        assert "X-PECOMA-DUE:2024-11-15" in r.stdout
        assert "DTSTART;VALUE=DATE:20251201" in r.stdout

    def test_followup_without_the_end_names_the_question(self, tmp_path: Path) -> None:
        """The reported command: the plan names the missing end of treatment and says it
        counts from the surgery, provisionally."""
        case = tmp_path / "case.json"
        case.write_text(json.dumps(story_case()))
        r = pecoma("followup", str(case), "--on", "2024-05-01", "--format", "markdown")
        assert r.returncode == 0, r.stderr
        assert "Counted from the surgery (end of adjuvant treatment not recorded: " \
            "provisional) (2024-03-05)." in r.stdout
        assert "MISS-ADJUVANT-END" in r.stdout


# --------------------------------------------------------------------------------------
# The registry: import, scan, re-import with the end, worklist and calendar
# --------------------------------------------------------------------------------------


def _import(repo: Repository, path: Path, data: dict[str, Any], on: dt.date = ON) -> Any:
    write_csv(path, rows_of({"PEC-0021": data}))
    return import_file(repo, path, on_date=on, settings=default_settings(), actor="importer")


def _row(repo: Repository, on: dt.date = ON) -> Any:
    return next(i for i in stored_worklist(repo, on, default_settings())
                if i.registry_id == "PEC-0021")


class TestRegistryStory:
    def test_recording_the_end_keeps_the_patient_on_the_worklist(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """The reported story end to end. Before the end is known, the worklist shows the
        provisional visit with the alert asking for the end. The scan during the
        chemotherapy is accepted. Recording the real end (re-import) writes no warning
        and the patient stays on the worklist: overdue, visit 1 due 2024-11-15 (three
        months after 2024-08-15; the scan during treatment is no visit), with a calendar
        event, and the alert gone."""
        report = _import(repo, tmp_path / "cases.csv", story_case())
        assert report.committed
        row = _row(repo)
        assert row.due == dt.date(2024, 6, 5)
        assert "FU-ADJUVANT-END-NOT-RECORDED" in [a.id for a in row.alerts]
        assert record_scan(repo, "PEC-0021", "2024-06-10", "chest_ct",
                           "no_evidence_of_disease", on_date=ON, actor="radiology")
        report = _import(repo, tmp_path / "cases.csv", story_case("2024-08-15"))
        assert report.committed and report.warnings == []
        row = _row(repo)
        assert row.status is WorkStatus.overdue
        assert (row.due, row.latest, row.visit) == (dt.date(2024, 11, 15),
                                                    dt.date(2024, 12, 15), 1)
        assert row.last_scan == dt.date(2024, 6, 10)
        assert "FU-ADJUVANT-END-NOT-RECORDED" not in [a.id for a in row.alerts]
        ics = to_ics([row], ON, reminder_days=14).decode().replace("\r\n ", "")
        # overdue since 2024-12-16: the event is on the evaluation date, named by its visit
        assert f"UID:{worklist_uid('PEC-0021')}" in ics
        assert "(OVERDUE since 2024-12-16)" in ics

    def test_a_scan_before_the_surgery_is_refused_by_the_registry(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Neighbour: the registry refuses a scan before the surgery, naming the field,
        the value and the rule, and stores nothing."""
        _import(repo, tmp_path / "cases.csv", story_case("2024-08-15"))
        before = repo.count()
        with pytest.raises(InputError) as info:
            record_scan(repo, "PEC-0021", "2024-03-04", "chest_ct", "no_evidence_of_disease",
                        on_date=ON, actor="radiology")
        [issue] = info.value.issues
        assert (issue.path, issue.value) == ("date", "2024-03-04")
        assert "before the surgery (2024-03-05)" in issue.rule
        assert repo.count() == before

    def test_a_response_scan_a_scan_on_the_day_of_the_end_then_a_visit(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Neighbours with the end recorded first: a response scan during treatment
        (2024-06-10), a scan on the end date (baseline) and a visit on 2024-11-20: all
        accepted; the next visit counts from that visit (2025-02-20), as it would have
        without the two earlier scans."""
        # recorded on the day the worklist is read: a view of a day reads the case
        # version current then (one recorded later is not yet known)
        _import(repo, tmp_path / "cases.csv", story_case("2024-08-15"), dt.date(2025, 1, 10))
        for day in ("2024-06-10", "2024-08-15", "2024-11-20"):
            for modality in ("chest_ct", "mri_primary"):
                record_scan(repo, "PEC-0021", day, modality, "no_evidence_of_disease",
                            on_date=dt.date(2025, 1, 10), actor="radiology")
        row = _row(repo, dt.date(2025, 1, 10))
        assert (row.status, row.due) == (WorkStatus.upcoming, dt.date(2025, 2, 20))


# --------------------------------------------------------------------------------------
# The registry's web pages
# --------------------------------------------------------------------------------------


@pytest.fixture
def client(repo: Repository) -> Iterator[TestClient]:
    record_case(repo, "PEC-0021", story_case(), on_date=ON, settings=default_settings(),
                actor="clinic", source="test")
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class TestRegistryPages:
    def test_scan_during_treatment_then_the_end_recorded(
        self, client: TestClient, repo: Repository
    ) -> None:
        """Through the pages: the scan during the chemotherapy is recorded (303); once
        the end is recorded the patient list shows the patient overdue from 2024-11-15,
        not 'not evaluable'."""
        r = client.post("/registry/patients/PEC-0021/scan",
                        data={"date": "2024-06-10", "modality": "chest_ct",
                              "finding": "no_evidence_of_disease"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        record_case(repo, "PEC-0021", story_case("2024-08-15"), on_date=ON,
                    settings=default_settings(), actor="clinic", source="test")
        page = _text(client.get("/registry").text)
        assert re.search(r"PEC-0021 2 high localized 1 Overdue 2024-11-15", page), page
        patient = _text(client.get("/registry/patients/PEC-0021").text)
        assert "due 2024-11-15" in patient
        assert "not evaluable" not in patient.lower()

    def test_scan_before_the_surgery_is_refused_next_to_the_date(
        self, client: TestClient, repo: Repository
    ) -> None:
        before = repo.count()
        r = client.post("/registry/patients/PEC-0021/scan",
                        data={"date": "2024-03-04", "modality": "chest_ct",
                              "finding": "no_evidence_of_disease"})
        assert r.status_code == 422
        err = re.search(r'<p class="field-error" id="scan-date-err">(.*?)</p>', r.text)
        assert err and "before the surgery (2024-03-05)" in err.group(1)
        assert repo.count() == before

