"""Kept rule-group results never change an assessment.

The engine keeps the results of its rule groups (pecoma.engine.memo) and reuses them for
later cases with the same facts. These tests assess the same cases with every kept result
forgotten before each case (so every rule runs) and with results kept from other cases,
in several orders, and require the same output, byte for byte.
"""

from __future__ import annotations

import inspect
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma import assess, load_knowledge, parse_case
from pecoma.engine import memo
from pecoma.engine.model import to_jsonable
from pecoma.settings import default_settings

from strategies import ON, case_dicts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from cases import generate

SETTINGS, KNOWLEDGE = default_settings(), load_knowledge()


def _json(data: dict[str, Any]) -> str:
    a = assess(parse_case(data), ON, SETTINGS, KNOWLEDGE)
    return json.dumps(to_jsonable(a), sort_keys=True)


def _fresh(data: dict[str, Any]) -> str:
    memo.clear()
    return _json(data)


def test_batch_with_kept_results_equals_every_case_computed_afresh() -> None:
    cases = generate(3000, seed=7)
    fresh = [_fresh(c) for c in cases]
    memo.clear()
    kept = [_json(c) for c in cases]
    assert kept == fresh
    order = list(range(len(cases)))
    random.Random(11).shuffle(order)
    assert [_json(cases[i]) for i in order] == [fresh[i] for i in order]
    reused = sum(s.hits for s in memo.stats().values())
    assert reused > len(cases), "the batch should reuse kept results"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(case_dicts(), min_size=2, max_size=6))
def test_any_sequence_of_cases_gives_what_each_case_gives_alone(
    datas: list[dict[str, Any]],
) -> None:
    alone = [_fresh(d) for d in datas]
    # Results kept from the earlier cases of the sequence, in both directions.
    assert [_json(d) for d in datas] == alone
    assert [_json(d) for d in reversed(datas)] == alone[::-1]


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("mitoses", ("histology", "mitoses_per_50_hpf")),
        ("stated interval", ("stage", "disease_free_interval_months")),
    ],
)
def test_negative_zero_reads_as_zero_whatever_came_first(field: str, path: tuple[str, str]) -> None:
    base: dict[str, Any] = {
        "tumour": {"primary_site": "uterus", "size": {"value": 6, "unit": "cm"}},
        "stage": {"status": "metastatic", "metastases": [{"site": "lung"}]},
        "surgery": {"status": "performed", "margin": "R0"},
    }

    def with_value(value: float) -> dict[str, Any]:
        data = json.loads(json.dumps(base))
        data.setdefault(path[0], {})[path[1]] = value
        return data

    memo.clear()
    first = [_json(with_value(0.0)), _json(with_value(-0.0))]
    memo.clear()
    second = [_json(with_value(-0.0)), _json(with_value(0.0))]
    assert first[0] == first[1] == second[0] == second[1], field
    assert not re.search(r'"-0[ /"]', first[0])


def test_kept_results_are_bounded() -> None:
    for c in generate(2000, seed=3):
        _json(c)
    stats = memo.stats()
    assert stats
    for name, s in stats.items():
        # Every group has a finite bound (an unbounded cache would grow with each new case).
        assert isinstance(s.maxsize, int) and 0 < s.maxsize <= 16384, name
        assert s.size <= s.maxsize, name


_FORBIDDEN = {"Case", "Derived", "Collector", "Settings", "EngineSettings", "Any", "object"}


def test_rule_groups_see_only_small_immutable_facts() -> None:
    """A kept result is right only if the group reads nothing but its arguments: no case,
    no collector, no settings object (a setting it uses is passed as a value)."""
    groups = memo.groups()
    assert len(groups) >= 8
    for name, fn in groups.items():
        params = inspect.signature(fn).parameters
        assert next(iter(params)) == "knowledge", name
        for p in params.values():
            assert isinstance(p.annotation, str), f"{name}({p.name}) has no annotation"
            words = set(re.findall(r"[A-Za-z_]+", p.annotation))
            assert not words & _FORBIDDEN, f"{name}({p.name}: {p.annotation})"


def _settings(**engine: Any) -> Any:
    base = default_settings()
    return base.model_copy(update={"engine": base.engine.model_copy(update=engine)})


OTHER_SETTINGS = [
    _settings(bennett_malignant_min_features=2),
    _settings(metastasectomy_min_dfi_months=36),
    _settings(high_risk_sites=()),
    _settings(
        guideline_size_cm=default_settings().engine.guideline_size_cm.model_copy(
            update={"value": 10.0}
        )
    ),
]


@pytest.mark.parametrize("other", OTHER_SETTINGS, ids=["bennett", "dfi", "sites", "size"])
def test_results_kept_under_one_settings_never_serve_another(other: Any) -> None:
    """Settings reach the groups as values (a threshold's verdict, a site's standing), so
    a result kept under the defaults cannot answer for other settings, nor the reverse."""
    cases = [parse_case(c) for c in generate(400, seed=13)]

    def run(settings: Any) -> list[str]:
        out = []
        for c in cases:
            data = to_jsonable(assess(c, ON, settings, KNOWLEDGE))
            data.pop("settings_digest")  # differs anyway: compare what the rules said
            out.append(json.dumps(data, sort_keys=True))
        return out

    memo.clear()
    fresh_default = run(SETTINGS)
    memo.clear()
    fresh_other = run(other)
    assert fresh_default != fresh_other, "the setting should change some assessment"
    memo.clear()
    for _ in range(2):
        assert run(SETTINGS) == fresh_default
        assert run(other) == fresh_other
