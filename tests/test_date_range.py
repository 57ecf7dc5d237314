"""The supported date range, 1900-01-01 to 2199-12-31, held at every edge.

Dates outside it (``on=9999-12-31``, a surgery on 0001-01-01) once gave 500s and
"internal error"; now each edge names the field and the range, and any plan drawn from
dates inside the range builds without overflowing the calendar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma import InputError, assess, parse_case
from pecoma.dates import EARLIEST, LATEST, parse_day
from pecoma.engine.imaging import parse_imaging
from pecoma.engine.schedule import plan_surveillance
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import open_registry
from pecoma.web import WebConfig, create_app
from pecoma.web.forms import case_to_values

from cli_support import CliRun, run_cli
from registry_support import rows_of, write_csv

ON = dt.date(2026, 11, 28)
ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ["9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"]
RANGE_TEXT = "between 1900-01-01 and 2199-12-31"
EXAMPLES = int(os.environ.get("PECOMA_FUZZ_EXAMPLES", "0"))


def example_case() -> dict[str, Any]:
    text = resources.files("pecoma").joinpath("examples/high-risk-uterine.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def with_surgery_on(day: str) -> dict[str, Any]:
    case = example_case()
    case["surgery"] = {**case["surgery"], "date": day}
    case.pop("primary_treatment_end", None)
    case["diagnosis"] = {**case["diagnosis"], "date": None}
    return case


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(WebConfig(), today=lambda: ON),
                    raise_server_exceptions=False, base_url="http://localhost") as c:
        yield c


class TestParseDay:
    def test_bounds(self) -> None:
        """The first and last supported days parse; the days beyond them do not."""
        assert parse_day("1900-01-01") == EARLIEST
        assert parse_day("2199-12-31") == LATEST
        for text in [*OUTSIDE, "", "2026-13-01", "20261128", "2026-11-28T00:00", "x"]:
            assert parse_day(text) is None, text

    def test_case_fact_out_of_range_names_the_field(self) -> None:
        with pytest.raises(InputError) as caught:
            parse_case(with_surgery_on("0001-01-01"))
        (issue,) = caught.value.issues
        assert issue.path == "surgery.date"
        assert RANGE_TEXT in issue.rule


class TestApi:
    @pytest.mark.parametrize("on", OUTSIDE)
    @pytest.mark.parametrize("route", ["/api/v1/assess", "/api/v1/followup"])
    def test_on_outside_the_range(self, client: TestClient, route: str, on: str) -> None:
        body = example_case() if route.endswith("assess") else {"case": example_case()}
        r = client.post(f"{route}?on={on}", json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert errors[0]["path"] == "on" and RANGE_TEXT in errors[0]["rule"]

    @pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
    def test_surgery_date_outside_the_range(self, client: TestClient, day: str) -> None:
        r = client.post(f"/api/v1/followup?on={ON}", json={"case": with_surgery_on(day)})
        assert r.status_code == 422, r.text
        paths = {e["path"] for e in r.json()["errors"]}
        assert "case.surgery.date" in paths

    def test_last_day_of_the_range_is_served(self, client: TestClient) -> None:
        """A plan evaluated on the last supported day, surgery that same day: served."""
        r = client.post("/api/v1/followup?on=2199-12-31",
                        json={"case": with_surgery_on("2199-12-31")})
        assert r.status_code == 200, r.text


class TestPages:
    @pytest.mark.parametrize("route", ["/report.pdf", "/report.ics", "/report.json", "/edit"])
    @pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01"])
    def test_downloads(self, client: TestClient, route: str, on: str) -> None:
        r = client.post(route, data={"case": json.dumps(example_case()), "on": on})
        assert r.status_code == 422, r.text[:300]
        assert "2199-12-31" in r.text

    @pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01"])
    def test_form(self, client: TestClient, on: str) -> None:
        values = case_to_values(parse_case(example_case()), ON)
        values["on"] = on
        r = client.post("/report", data=values)
        assert r.status_code == 422
        assert "2199-12-31" in r.text

    def test_form_surgery_date(self, client: TestClient) -> None:
        values = case_to_values(parse_case(example_case()), ON)
        values["surgery.date"] = "0001-01-01"
        r = client.post("/report", data=values)
        assert r.status_code == 422
        assert "2199-12-31" in r.text


REGISTRY_PAGES = ["/registry", "/registry/worklist", "/registry/worklist.csv",
                  "/registry/worklist.ics", "/registry/summary", "/registry/summary.svg",
                  "/registry/summary.pdf", "/registry/patients/PEC-0001",
                  "/registry/patients/PEC-0001/plan.ics", "/registry/patients/PEC-0001/scan"]


@pytest.fixture(scope="module")
def registry_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dates') / 'r.sqlite3'}"
    repo = open_registry(url)
    record_case(repo, "PEC-0001", example_case(), on_date=ON,
                settings=default_settings(), actor="clinic", source="test")
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:
        yield c
    repo.close()


class TestRegistryPages:
    @pytest.mark.parametrize("page", REGISTRY_PAGES)
    @pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01", "2199-12-31", "1900-01-01"])
    def test_on_any_date(self, registry_client: TestClient, page: str, on: str) -> None:
        """No date in ``?on=`` gives a 5xx: outside the range a page shows today and
        says why; a file (download, chart, PDF) is refused (400)."""
        r = registry_client.get(page, params={"on": on})
        assert r.status_code < 500, r.text[:300]
        if page in ("/registry", "/registry/worklist", "/registry/summary") and \
                on in ("9999-12-31", "0001-01-01"):
            assert "2199-12-31" in r.text

    def test_scan_date_outside_the_range(self, registry_client: TestClient) -> None:
        r = registry_client.post("/registry/patients/PEC-0001/scan",
                                 data={"date": "0001-01-01", "modality": "chest_ct",
                                       "finding": "no_evidence_of_disease"})
        assert r.status_code == 422
        assert "2199-12-31" in r.text


def pecoma(*args: str, cwd: Path) -> CliRun:
    """The command line in-process, as a fresh process runs it (no PECOMA_* settings)."""
    return run_cli(*args, cwd=cwd, columns=200)


class TestCommandLine:
    def test_every_command(self, tmp_path: Path) -> None:
        """followup, assess, add-case, import, summary, record-scan: a message naming
        the field and the range, never "internal error"."""
        case = tmp_path / "case.json"
        case.write_text(json.dumps(example_case()))
        early = tmp_path / "early.json"
        early.write_text(json.dumps(with_surgery_on("0001-01-01")))
        db = ("--database-url", f"sqlite:///{tmp_path / 'r.sqlite3'}")
        assert pecoma("registry", "add-case", "PEC-0001", str(case), "--on", str(ON), *db,
                      cwd=tmp_path).returncode == 0
        csv_file = write_csv(tmp_path / "cases.csv",
                             rows_of({"PEC-0002": with_surgery_on("0001-01-01")}))
        runs = [
            ("followup", str(case), "--on", "9999-12-31"),
            ("assess", str(case), "--on", "9999-12-31"),
            ("assess", str(early), "--on", str(ON)),
            ("followup", str(early), "--on", str(ON)),
            ("registry", "add-case", "PEC-0002", str(case), "--on", "9999-12-31", *db),
            ("registry", "add-case", "PEC-0002", str(early), "--on", str(ON), *db),
            ("registry", "import", str(csv_file), "--on", str(ON), *db),
            ("registry", "summary", "--on", "9999-12-31", *db),
            ("registry", "worklist", "--on", "0001-01-01", *db),
            ("registry", "record-scan", "PEC-0001", "--date", "0001-01-01",
             "--modality", "chest_ct", "--on", str(ON), *db),
            ("registry", "record-scan", "PEC-0001", "--date", "2026-11-01",
             "--modality", "chest_ct", "--on", "9999-12-31", *db),
        ]
        for args in runs:
            done = pecoma(*args, cwd=tmp_path)
            assert done.returncode in (2, 3), (args, done.stderr)
            assert "internal error" not in done.stderr, (args, done.stderr)
            assert "Traceback" not in done.stderr, (args, done.stderr)
            assert "2199-12-31" in done.stderr + done.stdout, (args, done.stderr)


DAYS = st.dates(min_value=EARLIEST, max_value=LATEST)


class TestPlansInsideTheRange:
    @settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(surgery=DAYS, later=st.integers(min_value=0, max_value=300 * 366),
           scan_after=st.integers(min_value=0, max_value=3000))
    def test_any_dates_draw_a_plan(self, surgery: dt.date, later: int, scan_after: int
                                   ) -> None:
        """Surgery on any supported day, evaluated on any later supported day, with a scan
        in between: the assessment and the plan are drawn without an error, and every
        visit date is a real date."""
        on = min(surgery + dt.timedelta(days=later), LATEST)
        case = parse_case(with_surgery_on(surgery.isoformat()))
        a = assess(case, on, default_settings())
        scan_day = min(surgery + dt.timedelta(days=scan_after), on)
        imaging = parse_imaging([{"date": scan_day.isoformat(), "modality": "chest_ct",
                                  "finding": "no_evidence_of_disease"}],
                                case=case, on_date=on)
        plan = plan_surveillance(case, a, on, imaging=imaging, settings=default_settings())
        for visit in plan.visits:
            assert visit.due <= visit.latest
