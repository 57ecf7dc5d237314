"""Fuzzing the case form and the report downloads: no 500, no traceback, ever.

The form posts field paths as control names; a report's downloads post the case back as
JSON text in hidden fields. Both are input from a browser that anyone can forge.
Derandomized; ``PECOMA_FUZZ_EXAMPLES`` raises the number of examples.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma.web import WebConfig, create_app
from pecoma.web.form_layout import CONTROLS, FORM

from strategies import ODD_TEXT, near_valid_case_dicts

ON = dt.date(2026, 11, 28)
FUZZ = settings(
    max_examples=int(os.environ.get("PECOMA_FUZZ_EXAMPLES", "0")) or 60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', "site-packages")
ROW_NAMES = [
    g.rows.name(row, c) for g in FORM if g.rows for c in g.rows.controls for row in (0, 1, 49, 50)
]
NAMES = sorted(CONTROLS) + ROW_NAMES + ["on", "imaging", "unknown_field", "case"]
JUNK = st.sampled_from(
    [*ODD_TEXT, "nan", "inf", "-inf", "-1", "0", "1e400", "9" * 5000, "2026-02-30", "10000-01-01",
     "present", "R0", "cm", "mm", "  ", "\x00", "<b>x</b>", "{{ 7*7 }}", "%s%s%s"]
)


def _values(name: str) -> st.SearchStrategy[str]:
    control = CONTROLS.get(name)
    if control is not None and control.options:
        return st.sampled_from([o.value for o in control.options]) | JUNK
    return JUNK | st.text(max_size=20)


@st.composite
def forms(draw: st.DrawFn) -> dict[str, str]:
    form = {"on": ON.isoformat(), "tumour.primary_site": "uterus", "stage.status": "localized"}
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=12, unique=True)):
        form[name] = draw(_values(name))
    return form


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(WebConfig(), today=lambda: ON),
                    raise_server_exceptions=False, base_url="http://localhost") as c:
        yield c


def check(r: Any) -> None:
    assert r.status_code < 500, r.text[:500]
    for mark in TRACEBACK_MARKS:
        assert mark not in r.text, r.text[:500]


def _encode(form: dict[str, str]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(form, encoding="utf-8", errors="backslashreplace").encode()


FORM_TYPE = {"content-type": "application/x-www-form-urlencoded"}


class TestCaseForm:
    @FUZZ
    @given(forms())
    def test_any_form(self, client: TestClient, form: dict[str, str]) -> None:
        """Any mix of known and unknown controls, valid options and junk: a report (200)
        or the form again with the errors next to their fields (422)."""
        r = client.post("/report", content=_encode(form), headers=FORM_TYPE)
        check(r)
        assert r.status_code in (200, 422)

    @FUZZ
    @given(st.binary(max_size=300))
    def test_any_bytes(self, client: TestClient, body: bytes) -> None:
        for ctype in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
            check(client.post("/report", content=body, headers={"content-type": ctype}))


class TestDownloads:
    @FUZZ
    @given(near_valid_case_dicts(),
           st.sampled_from(["/report.json", "/report.ics", "/edit", "/report"]),
           st.sampled_from(["2026-11-28", "", "2026-02-30", "\x00"]),
           st.sampled_from(["", "[]", "{", "[" * 5000, '[{"date": "2026-01-01"}]', "null"]))
    def test_posted_case(self, client: TestClient, data: dict[str, Any], path: str, on: str,
                         imaging: str) -> None:
        """A forged case (near-valid JSON), date and imaging behind a download button."""
        form = {"case": json.dumps(data), "on": on, "imaging": imaging}
        check(client.post(path, content=_encode(form), headers=FORM_TYPE))

    @pytest.mark.parametrize("path", ["/report.json", "/report.ics", "/edit"])
    @pytest.mark.parametrize("case", ["", "[" * 100_000, "1" * 5000, "\ud800", "null"])
    def test_named_edges(self, client: TestClient, path: str, case: str) -> None:
        form = {"case": case, "on": ON.isoformat()}
        r = client.post(path, content=_encode(form), headers=FORM_TYPE)
        check(r)
        assert 400 <= r.status_code < 500

    def test_a_valid_case_still_downloads(self, client: TestClient) -> None:
        text = resources.files("pecoma").joinpath("examples/high-risk-uterine.json").read_text()
        form = {"case": text, "on": ON.isoformat()}
        r = client.post("/report.json", content=_encode(form), headers=FORM_TYPE)
        assert r.status_code == 200
