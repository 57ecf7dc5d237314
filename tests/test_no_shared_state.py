"""Nothing computed for one patient is reused for another.

The engine computes every assessment afresh; what it returns belongs to the caller. A
caller that edits one result (its JSON data, a provenance label in it) changes no other
result, and the same case assessed twice gives equal, not identical, mutable data.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from pecoma import assess, load_knowledge, parse_case
from pecoma.engine.jsonbytes import dumps
from pecoma.engine.model import to_jsonable
from pecoma.settings import default_settings

from strategies import ON, case_dicts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from cases import generate

SETTINGS, KNOWLEDGE = default_settings(), load_knowledge()

LOCALIZED = {
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 8, "unit": "cm"}},
    "histology": {"necrosis": "present"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "margin": "R0", "date": "2025-06-01"},
}
METASTATIC = {
    "tumour": {"primary_site": "uterus", "size": {"value": 6, "unit": "cm"}},
    "stage": {"status": "metastatic", "metastases": [{"site": "lung"}]},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}


def _data(case: dict[str, Any]) -> Any:
    return to_jsonable(assess(parse_case(case), ON, SETTINGS, KNOWLEDGE))


def _text(case: dict[str, Any]) -> str:
    return json.dumps(_data(case), sort_keys=True)


def _deface(data: Any) -> None:
    """Change every dict and list of ``data`` in place, provenance labels included."""
    if isinstance(data, dict):
        for key in list(data):
            if key == "label" or key == "text":
                data[key] = "DEFACED"
            else:
                _deface(data[key])
        data["defaced"] = True
    elif isinstance(data, list):
        for value in data:
            _deface(value)
        data.append("DEFACED")


class TestToJsonable:
    def test_editing_one_result_leaves_the_next_patient_unchanged(self) -> None:
        """A caller editing one result's provenance label and texts in place cannot
        change what another patient (or the same one) is told afterwards."""
        before = _text(METASTATIC)
        first = _data(LOCALIZED)
        _deface(first)
        assert _text(METASTATIC) == before
        assert "DEFACED" not in _text(LOCALIZED)

    def test_editing_one_items_provenance_leaves_every_other_item_unchanged(self) -> None:
        """Items of the same record in two results share no mutable data."""
        one, two = _data(METASTATIC), _data(METASTATIC)
        rec = one["recommendations"][0]
        rec["provenance"]["label"] = "supplementary (not from the guideline)"
        rec["provenance"]["statements"].append("S99")
        assert two["recommendations"][0]["provenance"]["label"].startswith("guideline")
        assert "S99" not in two["recommendations"][0]["provenance"]["statements"]
        assert "S99" not in _text(METASTATIC)

    def test_same_case_twice_gives_equal_but_not_identical_data(self) -> None:
        one, two = _data(LOCALIZED), _data(LOCALIZED)
        assert one == two
        assert one is not two
        for key in ("risk", "recommendations", "alerts", "followup", "missing"):
            assert one[key] is not two[key], key
        for a, b in zip(one["recommendations"], two["recommendations"], strict=True):
            assert a is not b
            assert a["provenance"] is not b["provenance"]
            assert a["provenance"]["sources"] is not b["provenance"]["sources"]

    def test_json_bytes_unchanged_after_a_caller_edits_a_result(self) -> None:
        """The API's JSON writer keeps nothing a caller could have edited."""
        a = assess(parse_case(METASTATIC), ON, SETTINGS, KNOWLEDGE)
        before = dumps(a)
        _deface(to_jsonable(a))
        assert dumps(assess(parse_case(METASTATIC), ON, SETTINGS, KNOWLEDGE)) == before


class TestAssess:
    def test_same_case_twice_gives_equal_assessments_with_fresh_lists(self) -> None:
        case = parse_case(METASTATIC)
        one = assess(case, ON, SETTINGS, KNOWLEDGE)
        two = assess(case, ON, SETTINGS, KNOWLEDGE)
        assert one == two
        assert one is not two
        assert one.recommendations is not two.recommendations
        assert one.missing is not two.missing

    def test_a_batch_in_any_order_gives_what_each_case_gives_alone(self) -> None:
        cases = generate(600, seed=7)
        alone = {i: _text(c) for i, c in enumerate(cases)}
        order = list(range(len(cases)))
        random.Random(11).shuffle(order)
        assert {i: _text(cases[i]) for i in order} == alone

    @settings(max_examples=examples(50), deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(case_dicts(), min_size=2, max_size=5))
    def test_any_sequence_of_cases_gives_what_each_case_gives_alone(
        self, datas: list[dict[str, Any]]
    ) -> None:
        alone = [_text(d) for d in datas]
        assert [_text(d) for d in reversed(datas)] == alone[::-1]

    def test_negative_zero_reads_as_zero(self) -> None:
        """-0.0 and 0.0 are the same count whichever came first."""
        def with_mitoses(value: float) -> dict[str, Any]:
            data = json.loads(json.dumps(METASTATIC))
            data["histology"] = {"mitoses_per_50_hpf": value}
            return data

        assert _text(with_mitoses(-0.0)) == _text(with_mitoses(0.0))
        assert '"-0' not in _text(with_mitoses(-0.0))


def test_the_engine_has_no_per_patient_cache() -> None:
    """Only knowledge compiled at load may be kept: no ``lru_cache``/``cache`` in the
    engine's rule, fact, model or JSON modules except the knowledge-keyed template table."""
    engine = Path(__file__).resolve().parents[1] / "src" / "pecoma" / "engine"
    allowed = {"collect.py": 1}
    for path in sorted(engine.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        count = text.count("@lru_cache") + text.count("@cache") + text.count("@functools.")
        assert count <= allowed.get(path.name, 0), path.name
    assert not (engine / "memo.py").exists()
    assert not (engine / "groups.py").exists()
