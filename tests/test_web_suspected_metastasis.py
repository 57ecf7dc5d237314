"""A metastasis suspected and not confirmed (``stage.suspected_metastases``) in the case
form: it can be entered, and a case holding one keeps it when opened for editing.

Clinical fact: a metastasis suspected (on imaging, say) and not confirmed beside disease
not recorded as metastatic leaves the pathway open: confirmed, the disease is metastatic
and the treatment of advanced disease applies (S02, S12, S16's lung metastasectomy);
excluded, the localized advice stands. The report asks it (MISS-SUSPECTED-METASTASIS) and
holds every treatment recommendation and the surveillance schedule provisional on it.

The form had no control for the field: a clinician could not enter it, and a case holding
it opened with "Edit the case" (a report's button or link, a registry case, a SMART launch
reading it from the record) lost it without a word when assessed again, the report then
showing the localized advice as settled.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import types
import typing
from html import unescape as html_unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from pecoma.case import Case
from pecoma.web import WebConfig, create_app, form_layout, forms
from test_web_form_input import _Posted, rows_of, words_of

ON = dt.date(2026, 11, 28)
PREFIX = "stage.suspected_metastases"
QUESTION = "Is the suspected metastasis confirmed (imaging or biopsy), or excluded?"
BASE = {"on": "2026-11-28", "tumour.primary_site": "kidney", "stage.status": "localized"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


def _case(status: str, sites: list[str]) -> dict[str, Any]:
    """A kidney PEComa of ``status`` with metastases suspected at ``sites``; resected R0
    when localized, not operated otherwise."""
    case: dict[str, Any] = {
        "format": "pecoma-case/1",
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-03-01"},
        "tumour": {"primary_site": "kidney", "size": {"value": 7.5, "unit": "cm"}},
        "stage": {"status": status, "lymph_nodes": "negative",
                  "suspected_metastases": [{"site": s} for s in sites]},
        "surgery": ({"status": "performed", "date": "2025-03-20", "margin": "R0"}
                    if status == "localized" else {"status": "not_performed"}),
    }
    if status == "metastatic":
        case["stage"]["metastases"] = [{"site": "peritoneum",
                                        "detected_on": "2025-03-01"}]
    return case


# -- every fact of the case has a control ------------------------------------------------


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every leaf field path of ``model`` in the form's notation (a list's row as [0])."""
    out: list[str] = []
    for name, f in model.model_fields.items():
        todo: list[tuple[bool, Any]] = [(False, f.annotation)]
        while todo:
            listed, t = todo.pop()
            origin = typing.get_origin(t)
            if origin in (typing.Union, types.UnionType):
                todo += [(listed, a) for a in typing.get_args(t) if a is not type(None)]
            elif origin is tuple:
                todo += [(True, a) for a in typing.get_args(t) if a is not Ellipsis]
            elif isinstance(t, type) and issubclass(t, BaseModel):
                out += _leaves(t, f"{prefix}{name}{'[0]' if listed else ''}.")
            else:
                out.append(f"{prefix}{name}")
    return list(dict.fromkeys(out))


def test_every_fact_of_the_case_has_a_control() -> None:
    """A case opened for editing is shown as form values (``case_to_values``) and read
    back from what the form posts: a fact with no control is not posted, so it is lost on
    the next "Assess the case" without a word. Every field of the case format has one
    (``format`` is the format's version, not a fact)."""
    leaves = _leaves(Case)
    assert f"{PREFIX}[0].site" in leaves and "stage.metastases[0].site" in leaves
    assert [p for p in leaves if p != "format" and form_layout.control_of(p) is None] == []


# -- a case holding it, edited -----------------------------------------------------------


CASES = [
    ("localized", ["lung"]),
    ("localized", ["liver", "bone"]),
    ("locally_advanced_unresectable", ["peritoneum"]),
    ("recurrent", ["lung", "distant_lymph_node"]),  # a local recurrence, none confirmed
    ("metastatic", ["brain"]),
]


@pytest.mark.parametrize(("status", "sites"), CASES)
def test_edit_the_case_keeps_a_suspected_metastasis(
    client: TestClient, status: str, sites: list[str]
) -> None:
    """"Edit the case" (the report's button, POST /edit with the case as JSON) shows each
    suspected metastasis in a row; "Assess the case" posts them and the report still asks
    whether it is confirmed (not beside metastatic disease, already treated as advanced:
    the row is kept all the same); the report's own "Edit the case" link shows them
    again."""
    form = client.post("/edit", data={"case": json.dumps(_case(status, sites)),
                                      "on": ON.isoformat()})
    assert form.status_code == 200
    # each one, and a blank row after them where the status is not metastatic
    blank = 0 if status == "metastatic" else 1
    assert rows_of(form.text, PREFIX) == list(range(len(sites) + blank))
    fields = dict(_Posted(form.text).fields)
    assert [fields[f"{PREFIX}[{i}].site"] for i in range(len(sites))] == sites
    r = client.post("/report", data=fields)
    assert r.status_code == 200
    text = html_unescape(words_of(r.text))
    assert (QUESTION in text) is (status != "metastatic")
    for i, site in enumerate(sites):
        assert f"Suspected metastasis {i + 1} " in text and site.replace("_", " ") in text
    edit = re.search(r'<p class="edit-link"><a href="([^"]+)"', r.text)
    assert edit is not None
    again = dict(_Posted(client.get(html_unescape(edit[1])).text).fields)
    assert again == fields


def test_case_to_values_and_back_is_the_same_case() -> None:
    """The values a case is shown with read back to the same case, for each status."""
    for status, sites in CASES:
        case = Case.model_validate(_case(status, sites))
        values = forms.case_to_values(case, ON)
        assert forms.unread_fields(values) == [], status
        result = forms.form_to_case(values)
        assert result.case == case, (status, result.errors, result.general)


# -- entered in the form ---------------------------------------------------------------


@pytest.mark.parametrize("status", ["localized", "locally_advanced_unresectable", "recurrent"])
def test_entered_in_the_form_the_report_asks_whether_it_is_confirmed(
    client: TestClient, status: str
) -> None:
    posted = {**BASE, "stage.status": status, f"{PREFIX}[0].site": "lung"}
    if status == "localized":
        posted |= {"surgery.status": "performed", "surgery.margin": "R0"}
    r = client.post("/report", data=posted)
    assert r.status_code == 200
    assert QUESTION in html_unescape(words_of(r.text))
    blank = {**posted, f"{PREFIX}[0].site": ""}  # a row left blank is no fact
    r = client.post("/report", data=blank)
    assert r.status_code == 200
    assert QUESTION not in html_unescape(words_of(r.text))


def test_the_row_is_offered_beside_disease_not_metastatic() -> None:
    """The question is asked beside disease not recorded as metastatic: a blank row is
    offered for those statuses, none before the status is chosen nor for metastatic
    disease (a row entered is kept whatever the status)."""
    spec = form_layout.ROWSPECS[PREFIX]
    for status, rows in [("", 0), ("localized", 1), ("locally_advanced_unresectable", 1),
                         ("recurrent", 1), ("metastatic", 0)]:
        assert forms.row_count({"stage.status": status}, spec) == rows, status
    kept = {"stage.status": "metastatic", f"{PREFIX}[0].site": "lung"}
    assert forms.row_count(kept, spec) == 1


def test_the_form_says_it_in_plain_words(client: TestClient) -> None:
    page = client.post("/form", data={**BASE, "_add": PREFIX})
    text = html_unescape(words_of(page.text))
    assert "Suspected, not confirmed metastasis — site" in text
    assert "Add another suspected metastasis" in text
    assert f'name="{PREFIX}[0].site"' in page.text
