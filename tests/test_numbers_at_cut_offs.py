"""A number the engine compares with a cut-off (S06's size > 5 cm, Folpe's mitoses
> 1/50 HPF, S16's disease-free interval >= 12 months) is shown and written back exactly as
it was given: in the report, the JSON download, the case form filled again by "Edit the
case", the OMOP export and a FHIR size read in inches. Rounded to six digits (``:g``), a
size of 5.000001 cm was shown as "5 cm" beside "larger than 5 cm: present", and "Edit the
case" filled in 5: assessed again unchanged, the case turned from high to low risk."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.numbers import number_text
from pecoma.web import WebConfig, create_app, forms

ON = dt.date(2026, 12, 5)
#: A kidney PEComa resected with clear margins, none of the four worrisome features: its
#: risk rests on the size alone.
FORM = {"label": "edge", "on": ON.isoformat(), "tumour.primary_site": "kidney",
        "stage.status": "localized", "diagnosis.method": "histology_with_ihc",
        "diagnosis.date": "2026-10-01", "surgery.status": "performed",
        "surgery.date": "2026-10-01", "surgery.margin": "R0", "none_of_four": "yes"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


def words_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def form_value(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', html)
    assert found, name
    return unescape(found.group(1))


def report(client: TestClient, values: dict[str, str]) -> tuple[str, str]:
    """(the report's address, its page) of the case form ``values``."""
    r = client.post("/report", data=values, follow_redirects=False)
    assert r.status_code == 303, words_of(r.text)[:2000]
    where = r.headers["location"]
    return where, client.get(where).text


def download_json(client: TestClient, page: str) -> Any:
    """The JSON download of a report page, posted as its button posts it."""
    data = {k: form_value(page, k) for k in ("case", "on", "imaging")}
    r = client.post("/report.json", data=data)
    assert r.status_code == 200, r.text
    return r.json()


class TestNumberText:
    @pytest.mark.parametrize(("value", "text"), [
        (5.000001, "5.000001"),  # :g wrote 5: on S06's cut-off, not over it
        (50.000001, "50.000001"),
        (5.000000000000001, "5.000000000000001"),  # the nearest double above 5
        (4.9999999, "4.9999999"),  # :g wrote 5: at Bennett's inclusive 5 cm, not under it
        (1.000001, "1.000001"),
        (11.9999999, "11.9999999"),  # :g wrote 12: at S16's 12 months, not under them
        (5.0, "5"),
        (1e-07, "0.0000001"),  # no exponent: the form reads no exponent
        (1500.0, "1500"),
        (-0.0, "0"),  # a zero is a zero, whatever its sign
    ])
    def test_the_shortest_exact_decimal(self, value: float, text: str) -> None:
        """Each value written as the shortest plain decimal that reads back as exactly
        it, never rounded, no exponent."""
        assert number_text(value) == text
        assert float(text) == value or value == 0


class TestSizeThroughTheForm:
    @pytest.mark.parametrize(("typed", "unit", "shown", "present"), [
        ("5,000001", "cm", "5.000001 cm", True),  # just over S06's 5 cm: high risk
        ("50,000001", "mm", "50.000001 mm", True),
        ("5.000000000000001", "cm", "5.000000000000001 cm", True),
        ("5", "cm", "5 cm", False),  # at the cut-off: not larger than 5 cm, low risk
        ("50", "mm", "50 mm", False),
        ("4,9999999", "cm", "4.9999999 cm", False),  # :g had shown it as 5 cm
    ])
    def test_report_json_and_edit_keep_the_size_entered(
        self, client: TestClient, typed: str, unit: str, shown: str, present: bool
    ) -> None:
        """The report and its JSON show the size entered beside S06's state; "Edit the
        case" fills in that same number, and the case assessed again unchanged keeps its
        risk (it had turned from high to low)."""
        risk = "high" if present else "low"
        state = "present" if present else "absent"
        values = {**FORM, "tumour.size.value": typed, "tumour.size.unit": unit}
        where, page = report(client, values)
        text = words_of(page)
        assert f"Risk: {risk}" in text
        assert f"Tumour larger than 5 cm {state} {shown}" in text
        body = download_json(client, page)
        size = next(f for f in body["assessment"]["risk"]["features"]
                    if f["id"] == "RISK-SIZE")
        assert (size["state"], size["value"]) == (state, shown)
        edit = client.get(where + "/edit")
        assert edit.status_code == 200
        refilled = form_value(edit.text, "tumour.size.value")
        assert float(refilled) == float(typed.replace(",", "."))
        _again, page2 = report(client, {**values, "tumour.size.value": refilled})
        assert f"Risk: {risk}" in words_of(page2)
        assert f"Tumour larger than 5 cm {state} {shown}" in words_of(page2)

    @pytest.mark.parametrize(("typed", "shown", "present"), [
        ("1,000001", "1.000001", True),  # just over Folpe's 1/50 HPF
        ("1", "1", False),  # at it: not above
    ])
    def test_mitoses_are_shown_and_refilled_exactly(
        self, client: TestClient, typed: str, shown: str, present: bool
    ) -> None:
        """Folpe's mitoses criterion (> 1/50 HPF) beside the count entered, never a count
        rounded onto the cut-off, and the same count filled in again."""
        values = {**FORM, "tumour.size.value": "4", "tumour.size.unit": "cm",
                  "histology.mitoses_per_50_hpf": typed}
        where, page = report(client, values)
        state = "present" if present else "absent"
        assert f"mitoses: {state} ({shown}/50 HPF)" in words_of(page)
        refilled = form_value(client.get(where + "/edit").text, "histology.mitoses_per_50_hpf")
        assert float(refilled) == float(typed.replace(",", "."))


_METASTATIC = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-02-20",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2024-09-01"}],
              "extrapulmonary_disease": "no", "complete_excision_feasible": "yes",
              "resectable": "yes"},
    "surgery": {"status": "performed", "margin": "R0"},
}


class TestDiseaseFreeInterval:
    @pytest.mark.parametrize(("months", "shown"), [
        (11.9999999, "11.9999999"),  # just under S16's 12 months: :g showed 12
        (12.0, "12"),
    ])
    def test_a_stated_interval_is_shown_and_refilled_exactly(
        self, months: float, shown: str
    ) -> None:
        """A stated disease-free interval (no surgery date: the dates give none) is shown
        as stated beside S16's 12 months, and the case form is filled with it again."""
        data = json.loads(json.dumps(_METASTATIC))
        data["stage"]["disease_free_interval_months"] = months
        case = parse_case(data)
        a = assess(case, ON)
        derived = {f.path: f.value for f in a.derived}
        assert derived["derived.disease_free_interval_months"] == f"{shown} months (stated)"
        values = forms.case_to_values(case, ON)
        assert values["stage.disease_free_interval_months"] == shown

