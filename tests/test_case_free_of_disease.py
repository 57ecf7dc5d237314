"""``free_of_disease``: when it may be given, and the dates it must respect.

A patient is free of disease after treatment only of a relapse or of unresectable locally
advanced disease cleared without surgery (I8): the field belongs to a case whose stage is
'recurrent', 'metastatic' or 'locally_advanced_unresectable', and its date cannot come
before the disease it ends (the diagnosis, the primary's treatment, the metastases found).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import InputError, parse_case

RELAPSED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
    "stage": {"status": "metastatic",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
}


def relapsed(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(RELAPSED)
    for path, value in changes.items():
        node = data
        parts = path.split("__")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    return data


def issues_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_case(data)
    found: dict[str, str] = {}
    for i in info.value.issues:
        found[i.path] = (found.get(i.path, "") + " | " + i.rule).strip(" |")
    return found


class TestWhereItBelongs:
    def test_after_metastatic_relapse_it_is_accepted(self) -> None:
        case = parse_case(RELAPSED)
        assert case.free_of_disease is not None
        assert case.free_of_disease.since == dt.date(2023, 8, 1)

    def test_after_local_recurrence_it_is_accepted(self) -> None:
        data = relapsed(stage={"status": "recurrent", "resectable": "yes"})
        assert parse_case(data).free_of_disease is not None

    def test_localized_label_is_rejected_naming_both_fields(self) -> None:
        """'localized' says the disease never spread or came back; being free of disease
        *again* contradicts it, and accepting it would put a relapsed patient on the
        low-risk schedule."""
        data = relapsed(stage={"status": "localized"})
        rule = issues_of(data)["free_of_disease"]
        assert "'stage.status'" in rule and "'localized'" in rule
        assert "'recurrent', 'metastatic' or 'locally_advanced_unresectable'" in rule

    def test_locally_advanced_disease_cleared_without_surgery_is_accepted(self) -> None:
        """An unresectable tumour that systemic treatment made undetectable: the date is
        what surveillance counts from (I8). It could not be recorded, while the
        assessment told the team to record it."""
        data = relapsed(stage={"status": "locally_advanced_unresectable"},
                        surgery={"status": "not_performed"},
                        free_of_disease={"since": "2023-08-01", "by": "systemic_therapy"})
        fod = parse_case(data).free_of_disease
        assert fod is not None and fod.by.value == "systemic_therapy"

    def test_cleared_by_systemic_therapy_before_any_therapy_started(self) -> None:
        """Free of disease by systemic therapy from a date before the only line started:
        surveillance would have counted from a date the record contradicts."""
        data = relapsed(stage={"status": "locally_advanced_unresectable"},
                        surgery={"status": "not_performed"},
                        systemic={"therapies": [{"agent": "sirolimus",
                                                 "started_on": "2023-09-01"}]},
                        free_of_disease={"since": "2023-08-01", "by": "systemic_therapy"})
        rule = issues_of(data)["free_of_disease.since"]
        assert "2023-09-01" in rule and "systemic therapy" in rule

    def test_locally_advanced_disease_removed_by_surgery_is_localized(self) -> None:
        """A primary removed after downstaging is localized, with its surgery: 'by
        surgery' contradicts 'cannot be removed'."""
        data = relapsed(stage={"status": "locally_advanced_unresectable"},
                        surgery={"status": "not_performed"})
        rule = issues_of(data)["free_of_disease.by"]
        assert "'localized'" in rule and "'primary_treatment_end'" in rule

    def test_how_defaults_to_unknown(self) -> None:
        data = relapsed(free_of_disease={"since": "2023-08-01"})
        case = parse_case(data)
        assert case.free_of_disease is not None
        assert case.free_of_disease.by.value == "unknown"


class TestDates:
    def test_before_diagnosis(self) -> None:
        data = relapsed(free_of_disease={"since": "2019-02-01"})
        assert "'diagnosis.date' (2019-03-01)" in issues_of(data)["free_of_disease.since"]

    def test_before_the_end_of_primary_treatment(self) -> None:
        data = relapsed(free_of_disease={"since": "2019-03-10"},
                        stage={"status": "recurrent"})
        assert "2019-03-15" in issues_of(data)["free_of_disease.since"]

    def test_before_a_metastasis_was_found(self) -> None:
        data = relapsed(free_of_disease={"since": "2023-05-01"})
        rule = issues_of(data)["free_of_disease.since"]
        assert "'stage.metastases[0].detected_on' (2023-05-10)" in rule

    def test_same_day_as_the_metastasis_is_accepted(self) -> None:
        """Found and removed the same day (a resected solitary nodule): free from then."""
        data = relapsed(free_of_disease={"since": "2023-05-10"})
        assert parse_case(data).free_of_disease is not None

    def test_after_the_evaluation_date(self) -> None:
        from pecoma import assess

        case = parse_case(RELAPSED)
        with pytest.raises(InputError, match=r"free_of_disease\.since"):
            assess(case, dt.date(2023, 7, 1))
