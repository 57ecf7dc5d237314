"""Invariants of the engine over generated cases."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pecoma import InputError, assess, parse_case
from pecoma.engine.model import Assessment

from strategies import FEATURES, ON, case_dicts

# Risk stratification no longer applies to relapsed disease, which is always followed on
# the high-risk schedule (I8): it ranks with high risk.
RISK_ORDER = {"low": 0, "indeterminate": 1, "high": 2, "not_applicable": 2}
INTENSITY = {"low": 0, "high": 1}
GUIDELINE_FEATURES = ("necrosis", "infiltrative_growth", "high_nuclear_grade_and_cellularity")
COMMON = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _assess(data: dict[str, Any]) -> Assessment | None:
    try:
        case = parse_case(data)
    except InputError:
        return None
    return assess(case, ON)


@COMMON
@given(case_dicts())
def test_engine_never_raises_on_a_valid_case(data: dict[str, Any]) -> None:
    """Any case the model accepts gets an assessment, with provenance on every item."""
    try:
        case = parse_case(data)
    except InputError:
        assume(False)
        return
    a = assess(case, ON)
    assert a.risk.group in RISK_ORDER
    for item in a.items():
        assert item.provenance.statements or item.provenance.sources


@COMMON
@given(case_dicts(), st.sampled_from(GUIDELINE_FEATURES))
def test_adding_a_present_feature_never_lowers_the_risk(data: dict[str, Any], f: str) -> None:
    before = _assess(data)
    assume(before is not None)
    assert before is not None
    changed = copy.deepcopy(data)
    changed["histology"][f] = "present"
    after = _assess(changed)
    assert after is not None
    assert after.risk.group == ("not_applicable" if before.risk.group == "not_applicable"
                                else "high")
    assert RISK_ORDER[after.risk.group] >= RISK_ORDER[before.risk.group]


@COMMON
@given(case_dicts(), st.sampled_from((*FEATURES, "size")))
def test_absent_to_unknown_never_lightens_surveillance(data: dict[str, Any], f: str) -> None:
    """Turning a known fact into unknown never gives a less intensive surveillance."""
    before = _assess(data)
    assume(before is not None)
    assert before is not None
    changed = copy.deepcopy(data)
    if f == "size":
        changed["tumour"].pop("size", None)
    else:
        changed["histology"].pop(f, None)
    after = _assess(changed)
    assert after is not None
    assert INTENSITY[after.risk.surveillance_group] >= INTENSITY[before.risk.surveillance_group]
    assert RISK_ORDER[after.risk.group] >= min(RISK_ORDER[before.risk.group], 1)


@COMMON
@given(case_dicts(), st.sampled_from(("positive", "negative", "not_assessed")))
def test_nodes_to_unknown_never_lightens_surveillance(data: dict[str, Any], nodes: str
                                                      ) -> None:
    """Whatever nodal status is recorded, the record not giving it never gives a less
    intensive surveillance (I10: unknown is not absent, the safer branch meanwhile). The
    tumour is small with the four high-risk features absent, where the nodes can decide
    the schedule."""
    data = copy.deepcopy(data)
    data["tumour"]["size"] = {"value": 3, "unit": "cm"}
    data["histology"].update({f: "absent" for f in GUIDELINE_FEATURES})
    data["stage"]["lymph_nodes"] = nodes
    before = _assess(data)
    assume(before is not None)
    assert before is not None
    changed = copy.deepcopy(data)
    changed["stage"]["lymph_nodes"] = "unknown"
    after = _assess(changed)
    assert after is not None
    assert INTENSITY[after.risk.surveillance_group] >= INTENSITY[before.risk.surveillance_group]


@COMMON
@given(case_dicts())
def test_unknown_features_are_always_reported_missing(data: dict[str, Any]) -> None:
    """An indeterminate risk lists a missing fact for every unknown feature."""
    a = _assess(data)
    assume(a is not None)
    assert a is not None
    if a.risk.group == "indeterminate":
        fields = {m.field for m in a.missing}
        assert set(a.risk.unknown) <= fields
        assert a.risk.surveillance_group == "high"
