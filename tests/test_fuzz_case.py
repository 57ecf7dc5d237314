"""Fuzzing the way in: near-valid cases are rejected with field paths, never another error.

Runs are derandomized (the same examples every run, so CI is reproducible); set
``PECOMA_FUZZ_EXAMPLES`` to run more examples locally.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import examples
from pecoma import InputError, assess, parse_case
from pecoma.engine import to_jsonable
from pecoma.errors import FieldIssue, show_value

from strategies import ON, Mutation, case_mutations, near_valid_case_dicts

FUZZ = settings(
    max_examples=int(os.environ.get("PECOMA_FUZZ_EXAMPLES", examples(100))),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
#: An error path: dotted field names with list indices, or "(case)" for the whole case.
PATH = re.compile(r"\(case\)|[^.\[\]]+(\[\d+\])*(\.[^.\[\]]+(\[\d+\])*)*")


def _related(issue_path: str, mutated: str) -> bool:
    """The issue names the mutated field, one of its parts, or the part holding it."""
    a, b = issue_path, mutated
    return (a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))
            or a.split(".")[0].split("[")[0] == b.split(".")[0].split("[")[0])


def check_issues(issues: list[FieldIssue]) -> None:
    assert issues, "an InputError must list at least one issue"
    for issue in issues:
        assert isinstance(issue.path, str) and PATH.fullmatch(issue.path), issue
        assert isinstance(issue.value, str), issue
        assert isinstance(issue.rule, str) and issue.rule.strip(), issue
        str(issue)  # printable


def outcome(data: Any) -> list[FieldIssue] | None:
    """None when the case is accepted and assessed; else the issues it was rejected with."""
    try:
        case = parse_case(data)
        result = assess(case, ON)
    except InputError as exc:
        check_issues(exc.issues)
        return exc.issues
    json.dumps(to_jsonable(result), allow_nan=False)
    return None


class TestNearValidCases:
    @FUZZ
    @given(case_mutations())
    def test_a_rejection_is_an_input_error_naming_the_field(self, m: Mutation) -> None:
        """Every near-valid case is assessed or rejected with an InputError whose issues
        name a field path, the value and the rule; the path names what was changed."""
        issues = outcome(m.data)
        if issues is None:
            return
        assert any(_related(i.path, m.path) for i in issues), (m.kind, m.path, issues)

    @FUZZ
    @given(near_valid_case_dicts())
    def test_the_case_survives_a_json_round_trip_the_same_way(self, data: Any) -> None:
        """Sent as JSON text (NaN written as NaN, keys as strings), the outcome is the same
        kind: assessed, or rejected with field paths."""
        text = json.dumps(data)
        try:
            again = json.loads(text)
        except ValueError:  # integers past the conversion limit
            return
        outcome(again)

    @pytest.mark.parametrize(
        ("data", "path"),
        [
            ({"tumour": {"primary_site": "kidney", "size": {"value": float("nan"), "unit": "cm"}},
              "stage": {"status": "localized"}}, "tumour.size.value"),
            ({"tumour": {"primary_site": "kidney", "size": {"value": float("inf"), "unit": "cm"}},
              "stage": {"status": "localized"}}, "tumour.size.value"),
            ({"tumour": {"primary_site": "kidney", "size": {"value": 10**400, "unit": "cm"}},
              "stage": {"status": "localized"}}, "tumour.size.value"),
            ({"tumour": {"primary_site": "kidney"}, "stage": {"status": "localized"},
              "label": "a\ud800b"}, "label"),
            ({"tumour": {"primary_site": "kidney"}, "stage": {"status": "localized"},
              "histology": {"mitoses_per_50_hpf": float("-inf")}},
             "histology.mitoses_per_50_hpf"),
            ({"tumour": {"primary_site": "kidney"}, "stage": {"status": "localized"},
              "diagnosis": {"date": "2026-02-30"}}, "diagnosis.date"),
        ],
    )
    def test_known_edges(self, data: dict[str, Any], path: str) -> None:
        """Non-finite and huge numbers, a lone surrogate and an impossible date."""
        issues = outcome(data)
        assert issues is not None
        assert path in [i.path for i in issues]


def test_an_integer_past_the_conversion_limit_is_an_input_error() -> None:
    """A 5000-digit integer is rejected as a value, not with a ValueError."""
    assert "too large" in show_value(10**5000)
    issues = outcome({"tumour": {"primary_site": "kidney", "size": {"value": 10**5000,
                                                                     "unit": "cm"}},
                      "stage": {"status": "localized"}})
    assert issues is not None
    assert [i.path for i in issues] == ["tumour.size.value"]
