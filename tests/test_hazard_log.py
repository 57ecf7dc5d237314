"""The hazard log (docs/safety): every hazard is complete, names tests that exist, and the
rendered Markdown is the rendering of the data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hazard_tools import (
    LIKELIHOOD,
    MATRIX,
    RENDERED,
    SEVERITY,
    load,
    problems_of,
    render,
    risk,
    unresolved,
    unresolved_scenario,
)

HAZARDS = load()
IDS = [h.id for h in HAZARDS]


def test_the_log_is_not_empty() -> None:
    """A missing or emptied data file would silently check nothing."""
    assert len(HAZARDS) >= 15


def test_ids_are_unique_and_in_order() -> None:
    """HAZ-001, HAZ-002, ...: unique, numbered in order (a hazard is never renumbered)."""
    assert all(re.fullmatch(r"HAZ-\d{3}", i) for i in IDS)
    assert sorted(set(IDS)) == IDS


@pytest.mark.parametrize("hazard_id", IDS)
def test_every_named_test_exists(hazard_id: str) -> None:
    """Each node id a hazard names is a test defined in that file (read with ast)."""
    hazard = next(h for h in HAZARDS if h.id == hazard_id)
    assert hazard.tests
    assert [u for t in hazard.tests if (u := unresolved(t))] == []


@pytest.mark.parametrize("hazard_id", IDS)
def test_every_named_scenario_has_checks(hazard_id: str) -> None:
    """Each golden scenario a hazard cites exists and has its assert.toml."""
    hazard = next(h for h in HAZARDS if h.id == hazard_id)
    assert [u for n in hazard.scenarios if (u := unresolved_scenario(n))] == []


def test_a_missing_scenario_is_reported() -> None:
    assert unresolved_scenario("no-such-scenario") is not None
    assert unresolved_scenario("low-risk-complete") is None


class TestResolver:
    def test_existing_test_in_a_class(self) -> None:
        assert unresolved("tests/test_hazard_log.py::TestResolver::test_existing_test_in_a_class") \
            is None

    def test_existing_function(self) -> None:
        assert unresolved("tests/test_hazard_log.py::test_the_log_is_not_empty") is None

    def test_missing_test_is_reported(self) -> None:
        """A renamed or deleted test fails the log (the check can fail)."""
        out = unresolved("tests/test_hazard_log.py::test_that_does_not_exist")
        assert out is not None and "defines no test" in out

    def test_missing_file_is_reported(self) -> None:
        out = unresolved("tests/test_nowhere.py::test_x")
        assert out is not None and "no test file" in out

    def test_method_outside_its_class_is_reported(self) -> None:
        """A method named without its class is not the same node id."""
        assert unresolved("tests/test_hazard_log.py::test_existing_function") is not None

    def test_parameters_and_bad_shapes_are_reported(self) -> None:
        assert unresolved("tests/test_hazard_log.py::test_every_named_test_exists[HAZ-001]")
        assert unresolved("tests/test_hazard_log.py")
        assert unresolved("src/pecoma/case.py::Case")


class TestCompleteness:
    def test_a_hazard_without_tests_is_refused(self) -> None:
        raw = {"id": "HAZ-999", "title": "t", "harm": "h", "cause": "c",
               "severity": "major", "likelihood": "low", "mitigation": "m",
               "residual_likelihood": "very low", "status": "mitigated", "tests": []}
        assert any("at least one test" in p for p in problems_of(raw))

    def test_missing_fields_and_bad_scales_are_named(self) -> None:
        raw = {"id": "HAZ-999", "severity": "huge", "status": "open", "tests": ["x"]}
        problems = " ".join(problems_of(raw))
        for field in ("title", "harm", "cause", "likelihood", "mitigation",
                      "residual_likelihood", "severity", "pending"):
            assert field in problems

    @pytest.mark.parametrize("hazard_id", IDS)
    def test_residual_risk_is_not_above_initial(self, hazard_id: str) -> None:
        hazard = next(h for h in HAZARDS if h.id == hazard_id)
        assert hazard.residual_risk <= hazard.initial_risk

    def test_every_behaviour_of_issue_12_has_a_hazard(self) -> None:
        """Behaviours 1-10 of the clinical safety issue each have their hazard."""
        assert {h.issue_behaviour for h in HAZARDS} >= set(range(1, 11))

    @pytest.mark.parametrize(
        "title",
        [
            "Unknown treated as absent",
            "Supplementary knowledge shown as guideline",
            "Wrong dates in a surveillance plan",
            "One patient's data in another's output",
            "Chemotherapy advised before an mTOR inhibitor",
            "Unreadable intolerance data from an EHR",
            "Stale surveillance state in the registry worklist",
            "Wrong patient in an import row or a FHIR bundle",
        ],
    )
    def test_named_hazards_are_logged(self, title: str) -> None:
        assert title in {h.title for h in HAZARDS}


class TestRiskMatrix:
    def test_corners(self) -> None:
        """DCB0129: minor and very low is 1; catastrophic and very high is 5."""
        assert risk("minor", "very low") == 1
        assert risk("catastrophic", "very high") == 5

    def test_never_lower_for_worse_severity_or_likelihood(self) -> None:
        for likelihood in LIKELIHOOD:
            row = MATRIX[likelihood]
            assert list(row) == sorted(row)
        for i in range(len(SEVERITY)):
            column = [MATRIX[lk][i] for lk in LIKELIHOOD]
            assert column == sorted(column)


def test_rendered_log_is_up_to_date() -> None:
    """docs/safety/hazard-log.md is the rendering of hazards.toml: after editing the data,
    run `python tests/hazard_tools.py --write`."""
    assert RENDERED.read_text(encoding="utf-8") == render(HAZARDS)


def test_rendered_log_shows_every_hazard_and_test() -> None:
    text = RENDERED.read_text(encoding="utf-8")
    for h in HAZARDS:
        assert f"## {h.id}" in text
        for t in h.tests:
            assert f"`{t}`" in text


def test_the_readme_says_how_to_render() -> None:
    readme = (Path(RENDERED).parent / "README.md").read_text(encoding="utf-8")
    assert "python tests/hazard_tools.py --write" in readme


def test_no_change_is_left_as_a_comment() -> None:
    """A change to a hazard is made in its fields: a comment saying what to add to one
    (harm, mitigation or tests) is text no renderer shows, and the hazard stays without
    it (HAZ-180's extension for HAZ-204 had been left so)."""
    from hazard_tools import DATA

    notes = [
        (n, line) for n, line in enumerate(DATA.read_text(encoding="utf-8").splitlines(), 1)
        if line.startswith("#") and re.search(r"\b(add to|add tests|extend)\b", line, re.I)
    ]
    assert notes == []
