"""A metastasis found after the day a patient was free of disease: a relapse after a
disease-free period, the commonest story of PEComa (S26, S27). The case is refused, since
'free_of_disease' says the patient is free of disease now, and every way in (the case
file, the web form, the registry import, the JSON API) says the same rule and what to do:
remove 'free_of_disease' while the new metastasis is present, or give it the day the
metastasis was cleared; never that the patient could not have been free of disease
before it (false), which could lead a user to move the metastasis's date instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.registry.columns import flatten
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import RawRow
from pecoma.settings import default_settings
from pecoma.web import forms

ON = dt.date(2026, 12, 10)

#: Soft-tissue primary resected R0 on 2022-02-01; a lung metastasis on 2023-03-01,
#: resected, free of disease since 2023-05-01; a new liver metastasis on 2026-06-01.
RELAPSED_AGAIN: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2022-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 10, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "mitf": "positive",
                             "sma": "positive"},
    "surgery": {"status": "performed", "date": "2022-02-01", "margin": "R0"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2023-03-01"},
                             {"site": "liver", "detected_on": "2026-06-01"}],
              "extrapulmonary_disease": "yes", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    "free_of_disease": {"since": "2023-05-01", "by": "surgery"},
}


def says_the_rule_and_what_to_do(rule: str) -> None:
    assert "cannot be free of disease before" not in rule
    assert "2026-06-01" in rule
    assert "free of disease now" in rule and "present again" in rule
    assert "remove" in rule and "once it has been cleared" in rule
    assert "keep the day the metastasis was found" in rule


class TestEveryWayIn:
    def test_web_form_says_it_in_the_form_s_words(self) -> None:
        from pecoma import parse_case

        without = {k: v for k, v in RELAPSED_AGAIN.items() if k != "free_of_disease"}
        values = forms.case_to_values(parse_case(without), ON)
        values["free_of_disease.since"] = "2023-05-01"
        values["free_of_disease.by"] = "surgery"
        result = forms.form_to_case(values)
        assert result.case is None
        message = result.errors["free_of_disease.since"][0]
        says_the_rule_and_what_to_do(message)
        # the controls by their labels: the date to clear or change, and the metastasis
        assert "“Free of disease since”" in message
        assert "“Metastasis 2: Detected on”" in message
        assert "entered: 2023-05-01" in message

    def test_registry_import_names_the_column_and_value(self) -> None:
        row = RawRow(2, flatten(RELAPSED_AGAIN, "PEC-0065"))
        good, issues = validate_rows([row], ON, default_settings(), assess_rows=False)
        assert good == []
        [issue] = [i for i in issues if i.column == "free_of_disease.since"]
        assert issue.value == "2023-05-01"
        says_the_rule_and_what_to_do(issue.rule)

    def test_json_api_names_the_path_and_value(self) -> None:
        from pecoma.web.app import create_app
        from pecoma.web.config import WebConfig

        client = TestClient(create_app(WebConfig()), base_url="http://localhost")
        r = client.post("/api/v1/assess?on=2026-12-10", json={"case": RELAPSED_AGAIN})
        assert r.status_code == 422, r.text[:300]
        [err] = [e for e in r.json()["errors"] if e["path"] == "case.free_of_disease.since"]
        assert err["value"] == "2023-05-01"
        says_the_rule_and_what_to_do(err["rule"])


@pytest.mark.parametrize("since", ["2026-06-01", "2026-08-01"])
def test_free_of_disease_again_after_the_new_metastasis_is_accepted(since: str) -> None:
    """Doing what the message says: dated the day the liver metastasis was cleared (or
    the day it was found, removed that day), the case is accepted (I8)."""
    from pecoma import parse_case

    case = parse_case({**RELAPSED_AGAIN, "free_of_disease": {"since": since,
                                                            "by": "surgery"}})
    assert case.free_of_disease is not None


def test_only_the_import_adds_the_registry_s_way() -> None:
    """The registry import adds how the relapse is recorded there ('pecoma registry
    add-case' or the case form: an import row cannot empty stored cells); the case's own
    rule, read by the form, the API and the case file, does not name the registry."""
    from pecoma import parse_case
    from pecoma.errors import InputError

    row = RawRow(2, flatten(RELAPSED_AGAIN, "PEC-0065"))
    _good, issues = validate_rows([row], ON, default_settings(), assess_rows=False)
    [issue] = [i for i in issues if i.column == "free_of_disease.since"]
    assert "record that case version with 'pecoma registry add-case'" in issue.rule
    with pytest.raises(InputError) as exc:
        parse_case(RELAPSED_AGAIN)
    [rule] = [i.rule for i in exc.value.issues if i.path == "free_of_disease.since"]
    says_the_rule_and_what_to_do(rule)
    assert "registry" not in rule
    assert issue.rule.startswith(rule)
