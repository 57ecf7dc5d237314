"""The example in docs/library.md runs as written and says what the guideline says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "library.md"


def _run_example() -> str:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "library_example"})
    return out.getvalue()


def test_the_example_prints_the_clinical_facts() -> None:
    lines = _run_example().splitlines()
    # 3.2 cm renal PEComa, no necrosis, no infiltration, 0 mitoses: no worrisome
    # feature, so low risk.
    assert lines[0] == "risk: low"
    # R0 after resection: the guideline's standard is met, said with its force (S03).
    assert "- Complete resection achieved [standard met] (guideline S03 · ref [1], [2])" in lines
    # The prior diagnosis was left blank: asked for, not assumed absent.
    assert "missing: Did the tumour carry another diagnosis before PEComa?" in lines
    # Low-risk schedule (defaults: every 4 months, window closes at 6; a chest CT and an
    # MRI of the primary's site at each visit): both done on 2026-03-02, so the next
    # visit counts from it, due 2026-07-02 and late after 2026-09-02; on 2026-06-01 it
    # is still ahead. (With the chest CTs alone, the MRI never done since the operation
    # would be overdue: each examination keeps its own clock.)
    assert lines[-1] == "next scan due 2026-07-02 at the latest 2026-09-02 (upcoming)"


def test_results_are_frozen_dataclasses() -> None:
    import dataclasses
    import datetime as dt

    import pytest

    import pecoma

    case = pecoma.parse_case({"tumour": {"primary_site": "uterus"},
                              "stage": {"status": "metastatic"}})
    a = pecoma.assess(case, dt.date(2026, 1, 5))
    for value in (a, a.risk, a.recommendations[0], a.recommendations[0].provenance, a.missing[0]):
        assert dataclasses.is_dataclass(value)
        first = dataclasses.fields(value)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, first, "changed")
    # An item's JSON is flat: the record's fields, then the facts behind it.
    item = pecoma.to_jsonable(a.recommendations[0])
    assert list(item) == ["id", "kind", "section", "title", "text", "rationale", "strength",
                          "level", "provenance", "triggered_by", "conditional_on"]
    assert list(item["provenance"]) == ["kind", "statements", "refs", "sources",
                                        "interpretations", "label"]
