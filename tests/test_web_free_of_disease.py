"""The case form carries the free-of-disease date after a relapse (I8), and the report's
plan counts from it."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from pecoma import parse_case
from pecoma.web import form_layout, forms

ON = dt.date(2023, 12, 1)

RELAPSED = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "gastrointestinal", "size": {"value": 4, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    from pecoma.web.app import create_app
    from pecoma.web.config import WebConfig

    return TestClient(create_app(WebConfig()), base_url="http://localhost")


class TestForm:
    def test_fields_have_controls_and_round_trip(self) -> None:
        case = parse_case(RELAPSED)
        values = forms.case_to_values(case, ON)
        assert values["free_of_disease.since"] == "2023-08-01"
        assert values["free_of_disease.by"] == "surgery"
        assert {"free_of_disease.since", "free_of_disease.by"} <= set(form_layout.CONTROLS)
        result = forms.form_to_case(values)
        assert result.case == case, result.errors

    def test_left_blank_means_not_given(self) -> None:
        """A blank 'how' with no date does not create the fact."""
        values = forms.case_to_values(parse_case({**RELAPSED, "free_of_disease": None}), ON)
        values["free_of_disease.by"] = ""
        result = forms.form_to_case(values)
        assert result.case is not None and result.case.free_of_disease is None

    def test_localized_with_free_of_disease_is_an_error_at_the_field(self) -> None:
        values = forms.case_to_values(parse_case(RELAPSED), ON)
        values["stage.status"] = "localized"
        for key in [k for k in values if k.startswith("stage.metastases")]:
            del values[key]
        result = forms.form_to_case(values)
        assert result.case is None
        assert "free_of_disease.since" in result.errors
        # In words: the label of the status, never its field path.
        assert "“Disease status”" in result.errors["free_of_disease.since"][0]
        assert "stage.status" not in result.errors["free_of_disease.since"][0]


class TestReport:
    def test_plan_counts_from_the_free_of_disease_date(self, client: TestClient) -> None:
        """Metastasectomy 2023-08-01: high-risk visit due 2023-11-01 (3 months)."""
        values = forms.case_to_values(parse_case(RELAPSED), ON)
        r = client.post("/report", data=values)
        assert r.status_code == 200, r.text[:500]
        text = " ".join(r.text.split())
        assert "counted from the date free of disease again 2023-08-01" in text
        assert "high-risk schedule" in text
        assert "2023-11-01" in text
