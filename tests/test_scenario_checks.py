"""The hand-written checks of the golden scenarios: every scenario has them, and the
checker can fail on each key (a check that cannot fail would hold nothing)."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from scenario_tools import CHECK_KEYS, SCENARIOS, failed_checks, load_checks, run, scenario_names

NAMES = scenario_names()

# low-risk-complete: 3 cm renal PEComa, every feature absent, R0 on 2025-01-10.
EXAMPLE = "low-risk-complete"

#: For each key, a value the example breaks and one it keeps.
BREAKS_AND_HOLDS: dict[str, tuple[Any, Any]] = {
    "risk_group": ("high", "low"),
    "risk_group_not": ("low", "high"),
    "surveillance": ("high", "low"),
    "advanced": (True, False),
    "present": (["REC-MTOR-FIRST-LINE"], ["REC-RESECTION-DONE"]),
    "absent": (["REC-RESECTION-DONE"], ["REC-MTOR-FIRST-LINE"]),
    "classification": ({"CLS-ICDO3": "8714/3"}, {"CLS-ICDO3": "8714/0"}),
    "classification_not": ({"CLS-ICDO3": "8714/0"}, {"CLS-ICDO3": "8714/3"}),
    "strength": ({"REC-RESECTION-DONE": "consider"}, {"REC-RESECTION-DONE": "standard met"}),
    "conditional_on": ({"REC-RESECTION-DONE": ["MISS-MARGIN"]}, {"REC-RESECTION-DONE": []}),
    "unconditional": (["REC-MTOR-FIRST-LINE"], ["REC-RESECTION-DONE"]),
    "conditional": (["REC-RESECTION-DONE"], None),  # held in TestConditional
    "level_not": ({"ALERT-LONG-TERM-FOLLOW-UP": "info"}, {"ALERT-LONG-TERM-FOLLOW-UP": "critical"}),
    "order": (["REC-REFER-TRIALS", "RISK-ASSESS"], ["RISK-ASSESS", "REC-REFER-TRIALS"]),
    # resected in 2025, no scan history given: a visit is due on the evaluation date (I13)
    "first_visit_due": ("1999-01-01", "2026-11-28"),
    "first_visit_due_from": ("2999-01-01", "2025-01-10"),
    "plan_status": ("not_drawn", "active"),
    # resected in 2025 and no scan history given: the plan asks for it (I13)
    "plan_present": (["FU-AFTER-RELAPSE"], ["MISS-SCAN-HISTORY", "FU-LOW-LESS-INTENSIVE"]),
}


def test_every_key_is_tested() -> None:
    """The table below covers every key the checker accepts."""
    assert set(BREAKS_AND_HOLDS) == CHECK_KEYS


class TestCheckKey:
    @pytest.mark.parametrize("key", sorted(BREAKS_AND_HOLDS))
    def test_can_fail(self, key: str) -> None:
        """A check the example breaks is reported, naming the key and the reason."""
        bad, _good = BREAKS_AND_HOLDS[key]
        out = failed_checks(EXAMPLE, run(EXAMPLE), [{"why": "a reason", key: bad}])
        assert len(out) == 1
        assert key in out[0] and "a reason" in out[0]

    # 'conditional' has no value the example keeps: TestConditional holds it elsewhere
    @pytest.mark.parametrize(
        "key", sorted(k for k, (_bad, good) in BREAKS_AND_HOLDS.items() if good is not None)
    )
    def test_can_hold(self, key: str) -> None:
        """A check the example keeps is not reported."""
        _bad, good = BREAKS_AND_HOLDS[key]
        assert failed_checks(EXAMPLE, run(EXAMPLE), [{"why": "a reason", key: good}]) == []


class TestConditional:
    def test_holds_for_a_provisional_item(self) -> None:
        """An item provisional on a missing fact keeps a 'conditional' check."""
        name = "margin-unknown"  # margin not reported: radiotherapy shown pending MISS-MARGIN
        check = {"why": "r", "conditional": ["REC-ADJ-RADIOTHERAPY"]}
        assert failed_checks(name, run(name), [check]) == []


class TestCheckShape:
    def test_check_without_reason_fails(self) -> None:
        """A check with no 'why' is itself a failure."""
        out = failed_checks(EXAMPLE, run(EXAMPLE), [{"risk_group": "low"}])
        assert out and "needs a 'why'" in out[0]

    def test_unknown_key_fails(self) -> None:
        """A misspelt key is reported, never silently ignored."""
        out = failed_checks(EXAMPLE, run(EXAMPLE), [{"why": "r", "risk_grup": "low"}])
        assert out and "risk_grup" in out[0]


@pytest.mark.parametrize("name", NAMES)
def test_every_scenario_has_reviewed_checks(name: str) -> None:
    """Each scenario has an assert.toml with at least one check, each with a reason and
    only known keys (expected.json alone is a snapshot, not a reviewed fact)."""
    path = SCENARIOS / name / "assert.toml"
    assert path.exists(), f"{name} has no assert.toml"
    checks = tomllib.loads(path.read_text(encoding="utf-8")).get("check", [])
    assert checks, f"{name}/assert.toml has no [[check]]"
    assert checks == load_checks(name)
    for check in checks:
        assert str(check.get("why", "")).strip(), check
        keys = set(check) - {"why"}
        assert keys and keys <= CHECK_KEYS, sorted(keys - CHECK_KEYS)
