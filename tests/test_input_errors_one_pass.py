"""A case with several independent problems has them all reported at once: by the case
form, the JSON API and the command line alike.

A fact dated after the evaluation date cannot have happened yet, and a contradiction
between facts (distant metastases in a case recorded as localized, an adjuvant line begun
before the operation, a margin for a tumour not operated on) is a contradiction whatever
the dates. Neither depends on the other, so a clinician who entered both must be told of
both in one pass, not of the contradictions first and of the future date only once they
are fixed (the README: the form "reports every problem in one pass"). One check of the
dates serves every surface.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web import WebConfig, create_app, forms

from cli_support import run_cli

ON = dt.date(2026, 12, 7)
AFTER = "must not be after the evaluation date (2026-12-07)"

#: (name, the case, {path: words of the rule expected there}); every problem independent
#: of the others.
CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    (
        # a lung primary recorded localized beside a liver metastasis; an adjuvant line
        # begun before the operation; an operation dated after the evaluation date
        "localized-with-metastasis-adjuvant-before-future-surgery",
        {"tumour": {"primary_site": "lung"},
         "stage": {"status": "localized", "metastases": [{"site": "liver"}]},
         "surgery": {"status": "performed", "date": "2026-12-20", "margin": "R0"},
         "systemic": {"therapies": [{"agent": "sirolimus", "setting": "adjuvant",
                                     "started_on": "2026-11-01"}]}},
        {"stage.metastases": "must be empty",
         "systemic.therapies[0].setting": "adjuvant treatment is given after the operation",
         "surgery.date": AFTER},
    ),
    (
        # a margin for a tumour not operated on; a diagnosis dated next year
        "margin-without-surgery-future-diagnosis",
        {"diagnosis": {"date": "2027-02-01"},
         "tumour": {"primary_site": "kidney", "size": {"value": 4, "unit": "cm"}},
         "stage": {"status": "localized"},
         "surgery": {"status": "not_performed", "margin": "R0"}},
        {"surgery.margin": "can only be given", "diagnosis.date": AFTER},
    ),
    (
        # the cervix is part of the uterus, not of a kidney primary; a metastasis found
        # after the evaluation date; curative treatment ended after it
        "cervix-of-a-kidney-future-metastasis-and-end",
        {"tumour": {"primary_site": "kidney", "cervix": "yes"},
         "stage": {"status": "metastatic",
                   "metastases": [{"site": "lung", "detected_on": "2027-01-01"}]},
         "surgery": {"status": "performed", "date": "2026-01-01", "margin": "R0"},
         "primary_treatment_end": "2027-03-01"},
        {"tumour.cervix": "part of the uterus",
         "stage.metastases[0].detected_on": AFTER,
         "primary_treatment_end": AFTER},
    ),
    (
        # distant metastases recorded in a localized case, and a therapy line begun after
        # the evaluation date
        "localized-with-metastasis-future-line",
        {"tumour": {"primary_site": "retroperitoneum"},
         "stage": {"status": "localized", "metastases": [{"site": "lung"}]},
         "surgery": {"status": "performed", "date": "2026-01-01", "margin": "R1"},
         "systemic": {"therapies": [{"agent": "doxorubicin", "setting": "adjuvant",
                                     "started_on": "2027-01-15"}]}},
        {"stage.metastases": "must be empty",
         "systemic.therapies[0].started_on": AFTER},
    ),
]
IDS = [name for name, _case, _expected in CASES]


def form_fields(case: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The case as the form posts it: one field per fact, rows as name[index].field."""
    out: dict[str, str] = {}
    for key, value in case.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= form_fields(value, name + ".")
        elif isinstance(value, list):
            for i, row in enumerate(value):
                out |= form_fields(row, f"{name}[{i}].")
        else:
            out[name] = str(value)
    return out


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


def assert_all_found(found: dict[str, str], expected: dict[str, str]) -> None:
    for path, words in expected.items():
        hits = [rule for p, rule in found.items() if p == path or p.startswith(path + "[")]
        assert any(words in rule for rule in hits), (path, found)


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=IDS)
def test_form_reports_every_problem_at_once(
        name: str, case: dict[str, Any], expected: dict[str, str]) -> None:
    fields = form_fields(case)
    fields["tumour.size.value"] = fields.pop("tumour.size.value", "")
    result = forms.form_to_case({"on": ON.isoformat(), "label": name, **fields})
    assert result.case is None
    assert_all_found({i.path: i.rule for i in result.issues}, expected)


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=IDS)
def test_form_page_lists_every_problem(
        client: TestClient, name: str, case: dict[str, Any], expected: dict[str, str]) -> None:
    r = client.post("/report", data={"on": ON.isoformat(), **form_fields(case)})
    assert r.status_code == 422, r.text[:2000]
    words = " ".join(re.sub(r"<[^>]+>", " ", r.text).split())
    assert re.search(rf"{len(expected)} problems", words), words[:2000]


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=IDS)
def test_api_reports_every_problem_at_once(
        client: TestClient, name: str, case: dict[str, Any], expected: dict[str, str]) -> None:
    r = client.post("/api/v1/assess", json={"case": case, "on": ON.isoformat()})
    assert r.status_code == 422, r.text
    body = r.json()
    found = {e["path"].removeprefix("case."): e["rule"] for e in body["errors"]}
    assert_all_found(found, expected)
    assert len(body["errors"]) == len(expected), body["errors"]


@pytest.mark.parametrize(("name", "case", "expected"), CASES, ids=IDS)
def test_command_line_reports_every_problem_at_once(
        tmp_path: Path, name: str, case: dict[str, Any], expected: dict[str, str]) -> None:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    for command in (("assess",), ("followup",)):
        r = run_cli(*command, str(path), "--on", ON.isoformat(), columns=600)
        assert r.returncode == 3, (r.stdout, r.stderr)
        assert f"({len(expected)} problems)" in r.stderr, r.stderr
        found = dict(re.findall(r"^\s+- '([^']+)' (.*)$", r.stderr, re.M))
        assert_all_found(found, expected)


def test_no_problem_without_a_date_after_the_evaluation_date(client: TestClient) -> None:
    """The same contradictions evaluated a year later: only they are reported (the date
    check adds nothing that is not so)."""
    _name, case, expected = CASES[0]
    later = {p: w for p, w in expected.items() if w != AFTER}
    r = client.post("/api/v1/assess", json={"case": case, "on": "2027-12-07"})
    body = r.json()
    found = {e["path"].removeprefix("case."): e["rule"] for e in body["errors"]}
    assert_all_found(found, later)
    assert len(found) == len(later), found
