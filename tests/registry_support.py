"""Fixtures and builders shared by the store and registry tests.

``db_url`` runs a test twice: on a new SQLite file and on a PostgreSQL database of its
own (a new copy of the template, or the previous test's, emptied: conftest.py; marked
``postgres``; skipped when the server is absent unless services are
required), each holding an empty registry at the newest revision; ``empty_db_url`` gives
databases without any schema, for the tests of the migrations. Import the fixtures into a
test module to use them.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import dataclasses
import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry.columns import COLUMN_NAMES, flatten
from pecoma.store import Repository, open_registry

ON = dt.date(2026, 11, 28)
T0 = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def ticking_clock(start: dt.datetime = T0) -> Any:
    """A clock that advances one second per call: audit times are predictable."""
    counter = itertools.count()
    return lambda: start + dt.timedelta(seconds=next(counter))


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty registry database at the newest revision, this test's own: a copy of
    the process's template (conftest.py), made by the migrations once per process (on
    PostgreSQL, possibly the previous test's database, emptied and checked)."""
    if request.param == "sqlite":
        path = tmp_path / "registry.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_registry_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_registry_database")
    return url


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database (no schema): for the tests of the migrations themselves."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    r = open_registry(db_url, clock=ticking_clock())
    yield r
    r.close()


# --- cases ------------------------------------------------------------------------

COMPLETE_IHC = {
    "hmb45": "positive", "melan_a": "positive", "mitf": "not_done", "cathepsin_k": "positive",
    "sma": "positive", "desmin": "negative", "h_caldesmon": "not_done", "tfe3": "negative",
}
ALL_ABSENT = {
    "necrosis": "absent", "infiltrative_growth": "absent",
    "high_nuclear_grade_and_cellularity": "absent", "vascular_invasion": "absent",
    "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0,
}


def high_risk(surgery: str = "2025-01-10") -> dict[str, Any]:
    """Localized uterine PEComa, 8 cm with necrosis, R0 resection: high risk."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-06",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "uterus", "size": {"value": 8, "unit": "cm"}},
        "histology": {**ALL_ABSENT, "necrosis": "present"},
        "immunohistochemistry": dict(COMPLETE_IHC),
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": surgery, "margin": "R0"},
    }


def low_risk(surgery: str = "2024-03-01") -> dict[str, Any]:
    """Localized kidney PEComa, 3 cm, every high-risk feature absent: low risk."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-02-20",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "kidney", "size": {"value": 30, "unit": "mm"}},
        "histology": dict(ALL_ABSENT),
        "immunohistochemistry": {"hmb45": "positive"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": surgery, "margin": "R0"},
    }


def indeterminate(surgery: str = "2026-05-15") -> dict[str, Any]:
    """3 cm, necrosis unknown: indeterminate risk, followed as high risk (I1)."""
    c = low_risk(surgery)
    c["diagnosis"]["date"] = "2026-05-01"
    c["histology"] = {k: v for k, v in ALL_ABSENT.items() if k != "necrosis"}
    return c


def metastatic(agent: str | None = "everolimus") -> dict[str, Any]:
    """Metastatic disease at presentation; first-line ``agent`` (or none recorded)."""
    c: dict[str, Any] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-06-01",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "retroperitoneum", "size": {"value": 12, "unit": "cm"}},
        "histology": {**ALL_ABSENT, "necrosis": "present"},
        "immunohistochemistry": dict(COMPLETE_IHC),
        "stage": {"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2025-06-01", "timing": "synchronous"}]},
        "surgery": {"status": "not_performed"},
    }
    if agent is not None:
        c["systemic"] = {"therapies": [
            {"agent": agent, "setting": "advanced", "line": 1, "started_on": "2025-07-01"}]}
    return c


def variant(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy with dotted-path changes: variant(c, **{"tumour.size.value": 9})."""
    out = copy.deepcopy(case)
    for path, value in changes.items():
        node = out
        parts = path.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


# --- files ------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    header = columns or list(COLUMN_NAMES)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    from openpyxl import Workbook

    header = columns or list(COLUMN_NAMES)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "cases"
    ws.append(header)
    for r in rows:
        values = []
        for h in header:
            v = r.get(h)
            if isinstance(v, str) and len(v) == 10 and v[4] == "-" and v[7] == "-":
                with contextlib.suppress(ValueError):
                    v = dt.datetime.fromisoformat(v)  # a real spreadsheet date cell
            values.append(v)
        ws.append(values)
    wb.save(path)
    return path


def rows_of(cases: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [flatten(c, rid) for rid, c in cases.items()]


def record_unchecked(repo: Repository, registry_id: str, data: dict[str, Any],
                     on_date: dt.date = ON) -> None:
    """A case version stored as ``record_case`` stores it, without its checks against the
    patient's recorded death, scans and outcomes: a version written before those checks,
    which a registry may still hold."""
    from pecoma import assess, parse_case
    from pecoma.registry.state import plan_and_state
    from pecoma.registry.stored import assessment_data
    from pecoma.settings import default_settings
    from pecoma.store.repository import CaseSubmission, case_digest

    s = default_settings()
    case = parse_case(data)
    a = assess(case, on_date, s)
    st = repo.state(registry_id)
    planned = plan_and_state(case, a, on_date, st.scans if st else (), s)
    due = planned.due
    # stamped as record_case stamps it: with the scan stamp read before the scans
    state = dataclasses.replace(planned.state, scan_stamp=st.scan_stamp if st else 0)
    repo.add_cases([CaseSubmission(
        registry_id=registry_id, submitted=data,
        digest=case_digest(case.model_dump(mode="json")), source="before the checks",
        assessment=assessment_data(a, due, "case"), state=state)], "clinic")


def store_before_a_check(repo: Repository, registry_id: str, data: dict[str, Any],
                         accepted: dict[str, Any], on_date: dt.date = ON) -> None:
    """``data`` stored as the patient's case by a release whose checks accepted it, which
    this release refuses: stored with the assessment and worklist state of ``accepted``
    (the same case without what is refused now), the state marked as computed by that
    earlier release, as a registry holds it after an upgrade."""
    import dataclasses

    from pecoma import assess, parse_case
    from pecoma.registry.state import plan_and_state
    from pecoma.registry.stored import assessment_data
    from pecoma.settings import default_settings
    from pecoma.store.repository import CaseSubmission, case_digest

    s = default_settings()
    case = parse_case(accepted)
    a = assess(case, on_date, s)
    planned = plan_and_state(case, a, on_date, (), s)
    repo.add_cases([CaseSubmission(
        registry_id=registry_id, submitted=data, digest=case_digest(data),
        source="the earlier release", assessment=assessment_data(a, planned.due, "case"),
        # (planned without scans: stored only for a patient without any, stamp 0)
        state=dataclasses.replace(planned.state, knowledge_version="0.0.0-earlier",
                                  scan_stamp=0))],
        "clinic")
