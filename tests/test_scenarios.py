"""Golden scenarios: the decision summary of every scenario matches expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pecoma import assess, load_knowledge, parse_case_json, to_jsonable

from followup_tools import plan_record_ids
from scenario_tools import ON, SCENARIOS, failed_checks, run, scenario_names, summary

NAMES = scenario_names()


def test_there_are_scenarios() -> None:
    """The suite is not empty: a missing folder would silently test nothing."""
    assert len(NAMES) >= 40


@pytest.mark.parametrize("name", NAMES)
class TestScenario:
    def test_matches_expected(self, name: str) -> None:
        """The assessment's decision summary equals the reviewed expected.json."""
        expected = json.loads((SCENARIOS / name / "expected.json").read_text())
        assert summary(run(name)) == expected

    def test_clinical_facts_hold(self, name: str) -> None:
        """The hand-written clinical facts of assert.toml hold (each with its reason)."""
        assert failed_checks(name, run(name)) == []

    def test_says_what_it_shows(self, name: str) -> None:
        """Each scenario has a one-line about.md."""
        about = (SCENARIOS / name / "about.md").read_text().strip()
        assert about and "\n" not in about

    def test_is_deterministic(self, name: str) -> None:
        """Two runs give byte-identical JSON."""
        text = (SCENARIOS / name / "case.json").read_text()
        first = json.dumps(to_jsonable(assess(parse_case_json(text), ON)), sort_keys=True)
        second = json.dumps(to_jsonable(assess(parse_case_json(text), ON)), sort_keys=True)
        assert first == second

    def test_every_item_has_provenance(self, name: str) -> None:
        """Guideline items name statements and refs; supplementary ones a citation."""
        a = run(name)
        provenances = [i.provenance for i in a.items()]
        provenances += [m.provenance for m in a.missing]
        provenances += [f.provenance for f in a.risk.features]
        for p in provenances:
            if p.kind == "guideline":
                assert p.statements and p.refs and not p.sources
            else:
                assert p.sources and all(s.citation for s in p.sources)
                assert not p.statements

    def test_provisional_items_name_reported_missing_facts(self, name: str) -> None:
        """An item marked provisional points at a missing fact the output lists."""
        a = run(name)
        missing = {m.id for m in a.missing}
        for item in a.items():
            assert set(item.conditional_on) <= missing, item.id


    def test_each_missing_fact_names_what_is_provisional_on_it(self, name: str) -> None:
        """What a missing fact 'affects' lists every item provisional on it: the list is
        what the team reads as what the answer would change (REC-REFER-SURGERY had been
        provisional on MISS-SURGERY-STATUS without being listed)."""
        a = run(name)
        affects = {m.id: set(m.affects) for m in a.missing}
        for item in a.items():
            for missing_id in item.conditional_on:
                assert item.id in affects[missing_id], (item.id, missing_id)


    def test_the_plan_lists_what_its_reasons_wait_on(self, name: str) -> None:
        """A reason of the dated plan provisional on a missing fact finds it in the plan's
        own list (the plan is shown and exported on its own: FU-INDETERMINATE and
        FU-MALIGNANT-LOW-RISK had named facts the plan did not list), and the plan does
        not call the risk indeterminate-and-waiting where the assessment settled it."""
        from pecoma import plan_surveillance

        text = (SCENARIOS / name / "case.json").read_text()
        case = parse_case_json(text)
        a = assess(case, ON)
        plan = plan_surveillance(case, a, ON)
        listed = {m.id: set(m.affects) for m in plan.missing}
        for r in (*plan.reasons, *plan.flags):
            for missing_id in r.conditional_on:
                assert r.id in listed.get(missing_id, set()), (r.id, missing_id)
        settled = [i for i in a.followup if i.id == "FU-MALIGNANT-LOW-RISK"
                   and not i.conditional_on]
        if settled:
            assert "FU-INDETERMINATE" not in {r.id for r in plan.reasons}


#: Records no assessment produces, each issued by a CDS Hooks service and held by the
#: test named: the allergy list is no fact of the case.
CDS_ONLY_RECORDS = {
    "ALERT-DRUG-INTOLERANCE": "tests/test_cds_safety.py::TestAllergyListDecidesTheProposal::"
                              "test_the_allergy_card_cites_its_knowledge_record",
}


def test_every_record_is_produced_by_some_scenario() -> None:
    """Every knowledge record and missing-fact record appears in at least one scenario,
    but the few a CDS Hooks service issues itself (each held by its own test)."""
    k = load_knowledge()
    produced: set[str] = set()
    for name in NAMES:
        produced |= set(run(name).record_ids())
    produced |= plan_record_ids()  # surveillance-plan records, from the golden plans
    assert set(k.records) | set(k.missing) <= produced | set(CDS_ONLY_RECORDS)
    assert not set(CDS_ONLY_RECORDS) & produced  # listed here only if no scenario has it
    for test in CDS_ONLY_RECORDS.values():
        path, cls, name = test.split("::")
        text = (Path(__file__).resolve().parent.parent / path).read_text(encoding="utf-8")
        assert f"class {cls}" in text and f"def {name}(" in text, test


def test_every_statement_is_produced_by_some_scenario() -> None:
    """Each statement S01-S28 is carried by an item that some scenario produces."""
    produced: set[str] = set()
    for name in NAMES:
        a = run(name)
        for item in a.items():
            produced |= set(item.provenance.statements)
        for f in a.risk.features:
            if f.state == "present":
                produced |= set(f.provenance.statements)
    assert produced == {f"S{i:02d}" for i in range(1, 29)}
