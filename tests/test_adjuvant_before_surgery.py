"""A line recorded as adjuvant but begun before the operation.

Adjuvant treatment is given after the operation that removed the disease. A line
recorded 'adjuvant' whose start is before 'surgery.date' was accepted, and the engine then
said the adjuvant treatment "followed the surgery" against the dates: the end of curative
treatment was taken as unknown (on or after the surgery), so a lung metastasis found 20
months after an R0 resection had its timing and disease-free interval unknown, and S16's
metastasectomy, whose criteria the dates meet, was shown only as pending (I5, I7, I22).
The mirror contradiction (a line for advanced disease begun after a localized R0
resection) is refused; so is this one, naming the field, the value, and how the case
format records pre-operative (neoadjuvant) treatment: the setting 'advanced' with
'tumour.features_before_systemic_therapy' (I17). Every way in says so: the case file, the
web form, the registry import and a FHIR record with the setting stated; a FHIR line with
no setting begun before the resection is never read as adjuvant.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from pecoma import InputError, assess, parse_case
from pecoma.engine.model import to_jsonable
from pecoma.registry.columns import flatten
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import RawRow
from pecoma.settings import default_settings
from pecoma.web import forms

ON = dt.date(2027, 7, 1)

#: Kidney primary, 7 cm with necrosis, sirolimus begun 2025-07-01, R0 resection on
#: 2025-10-01, a single resectable lung metastasis on 2027-06-01 (20 months later).
STORY: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-06-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "kidney", "size": {"value": 7, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "mitf": "positive",
                             "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2027-06-01"}],
              "extrapulmonary_disease": "no", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "surgery": {"status": "performed", "date": "2025-10-01", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no",
                 "therapies": [{"agent": "sirolimus", "setting": "adjuvant",
                                "started_on": "2025-07-01"}]},
}


def story(setting: str = "adjuvant", started_on: str = "2025-07-01",
          **tumour: Any) -> dict[str, Any]:
    data = copy.deepcopy(STORY)
    data["systemic"]["therapies"][0].update(setting=setting, started_on=started_on)
    data["tumour"].update(tumour)
    return data


def says_what_is_allowed(rule: str) -> None:
    assert "2025-07-01" in rule and "2025-10-01" in rule
    assert "adjuvant treatment is given after the operation" in rule
    assert "neoadjuvant" in rule
    assert "'advanced'" in rule
    assert ("'tumour.features_before_systemic_therapy'" in rule
            or "“Size and features recorded before any systemic therapy”" in rule)


class TestTheCase:
    def test_an_adjuvant_line_begun_before_the_surgery_is_refused(self) -> None:
        with pytest.raises(InputError) as info:
            parse_case(story())
        [issue] = info.value.issues
        assert (issue.path, issue.value) == ("systemic.therapies[0].setting", "'adjuvant'")
        assert "'systemic.therapies[0].started_on' (2025-07-01)" in issue.rule
        assert "'surgery.date' (2025-10-01)" in issue.rule
        assert "'tumour.features_before_systemic_therapy'" in issue.rule
        says_what_is_allowed(issue.rule)

    def test_also_in_a_localized_case(self) -> None:
        """The contradiction is in the dates, whatever the stage."""
        data = story()
        data["stage"] = {"status": "localized", "lymph_nodes": "negative"}
        with pytest.raises(InputError, match=r"systemic\.therapies\[0\]\.setting"):
            parse_case(data)

    @pytest.mark.parametrize("started_on", ["2025-10-01", "2025-11-15"])
    def test_begun_on_or_after_the_surgery_it_is_accepted(self, started_on: str) -> None:
        """Adjuvant treatment begun the day of the operation or after it."""
        data = story(started_on=started_on)
        data["stage"] = {"status": "localized", "lymph_nodes": "negative"}
        assert parse_case(data).systemic.therapies[0].setting.value == "adjuvant"

    def test_recorded_as_the_message_says_s16_is_met(self) -> None:
        """Recorded as the refusal says (the setting 'advanced', the features those before
        treatment), the dates give the story: the primary's treatment ended with the
        resection of 2025-10-01, the metastasis is metachronous, the disease-free interval
        is 20 months (>= 12, I5), no disease outside the lungs and complete excision
        feasible: S16's metastasectomy is recommended, not pending; nothing says an
        adjuvant treatment followed the surgery."""
        a = assess(parse_case(story(setting="advanced",
                                    features_before_systemic_therapy="no")), ON)
        recs = {r.id: r for r in a.recommendations}
        assert "REC-LUNG-METASTASECTOMY" in recs
        assert not recs["REC-LUNG-METASTASECTOMY"].conditional_on
        assert "REC-LUNG-METASTASECTOMY-PENDING" not in recs
        assert "MISS-ADJUVANT-END" not in {m.id for m in a.missing}
        assert "followed the surgery" not in json.dumps(to_jsonable(a))


class TestEveryWayIn:
    def test_web_form_at_the_line_s_setting(self) -> None:
        good = parse_case(story(setting="advanced"))
        values = forms.case_to_values(good, ON)
        [key] = [k for k in values if k.startswith("systemic.therapies[")
                 and k.endswith("].setting")]
        values[key] = "adjuvant"
        result = forms.form_to_case(values)
        assert result.case is None
        [message] = result.errors[key]
        says_what_is_allowed(message)

    def test_registry_import_names_the_column(self) -> None:
        row = RawRow(2, flatten(story(), "PEC-0079"))
        good, issues = validate_rows([row], ON, default_settings(), assess_rows=False)
        assert good == []
        [issue] = issues
        assert (issue.row, issue.column) == (2, "systemic.therapies[0].setting")
        says_what_is_allowed(issue.rule)
