"""A resolved metastasis whose abatement is given but holds no single day.

When every metastasis is resolved, free of disease is counted from the day the last one
resolved, and the disease status cannot be derived without that day. A metastasis whose
``abatementDateTime`` is a year ("2025", a legal FHIR R4 dateTime) or a month, or whose
abatement is text or an age of years, refused the record saying the Conditions "give no
abatementDateTime" with the value "(not found)": the integrator was sent looking for an
element that is there. The refusal names the element, the value given and why it is not
enough (a year or a month holds no single day), as the reader does for an onset without
its day; an abatement truly missing is still said missing.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma.errors import FieldIssue, InputError
from pecoma.fhir.reader import case_from_bundle

from fhir_support import example

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
MET = "Condition/metastasis-1"
ON = dt.date(2026, 6, 1)


def _resolved(**abatement: Any) -> dict[str, Any]:
    """The metachronous lung-metastasis record with no disease status of its own and its
    lung metastasis resolved, its abatement as given."""
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"].get("id") != "disease-status"]
    met = next(e["resource"] for e in bundle["entry"]
               if e["resource"].get("id") == "metastasis-1")
    met["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": "resolved"}]}
    met.update(abatement)
    return bundle


def _status_refused(bundle: dict[str, Any]) -> FieldIssue:
    with pytest.raises(InputError) as caught:
        case_from_bundle(bundle, on=ON)
    (issue,) = [i for i in caught.value.issues if i.path == "stage.status"]
    return issue


#: (abatement given, the element and value the refusal must name, why it holds no day)
WITHOUT_DAY = [
    ({"abatementDateTime": "2025"}, "abatementDateTime", "'2025'", "a year"),
    ({"abatementDateTime": "2025-06"}, "abatementDateTime", "'2025-06'", "a month"),
    ({"abatementString": "summer 2025"}, "abatementString", "'summer 2025'", "text"),
    ({"abatementAge": {"value": 45, "unit": "years", "system": "http://unitsofmeasure.org",
                       "code": "a"}}, "abatementAge", "45", "an age of 45"),
]


@pytest.mark.parametrize(("given", "element", "value", "why"), WITHOUT_DAY)
def test_the_refusal_names_the_element_its_value_and_why(
        given: dict[str, Any], element: str, value: str, why: str) -> None:
    """The status cannot be derived (free of disease since when is not known; never
    taken from a guessed first or last day), and the refusal says the abatement is
    there but holds no single day, naming the element and its value; never that it is
    absent."""
    issue = _status_refused(_resolved(**given))
    said = f"{issue.value} {issue.rule}"
    assert f"{MET}.{element}" in said
    assert value in said
    assert why in said
    assert "no single day" in said
    assert "give no abatementDateTime" not in said
    assert issue.value != "(not found)"


def test_an_abatement_truly_missing_is_said_missing() -> None:
    """Resolved with no abatement at all: the day it resolved is not given; said so,
    naming the Condition."""
    issue = _status_refused(_resolved())
    said = f"{issue.value} {issue.rule}"
    assert MET in said
    assert "no abatement" in said


def test_an_abatement_with_its_day_gives_free_of_disease() -> None:
    """The control: a day given is the day free of disease is counted from."""
    bc = case_from_bundle(_resolved(abatementDateTime="2025-06-15"), on=ON)
    assert bc.case.free_of_disease is not None
    assert bc.case.free_of_disease.since == dt.date(2025, 6, 15)
