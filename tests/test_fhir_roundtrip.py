"""Case -> FHIR Bundle -> Case keeps every known fact and every unknown."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import examples
from pecoma.case import Agent, Case, Intolerance, parse_case, parse_case_json
from pecoma.errors import InputError
from pecoma.fhir.careplan import validate_resources
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case

from scenario_tools import ON, SCENARIOS, scenario_names
from strategies import case_dicts


def _examples() -> list[tuple[str, str]]:
    folder = resources.files("pecoma").joinpath("examples")
    return sorted((e.name, e.read_text("utf-8")) for e in folder.iterdir()
                  if e.name.endswith(".json"))


@st.composite
def full_cases(draw: st.DrawFn) -> Case:
    """Coherent cases, with the facts the shared strategy leaves out drawn as well."""
    data: dict[str, Any] = draw(case_dicts())
    if draw(st.booleans()):
        # a label FHIR R4 can hold (a space or a character that is no whitespace): one of
        # other whitespace only is not carried (test_a_label_of_other_spaces_only_...)
        data["label"] = draw(st.text(
            st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
            max_size=80).filter(lambda text: re.search(r"[ \S]", text) is not None))
    diagnosed = dt.date.fromisoformat(data["diagnosis"]["date"])
    if draw(st.booleans()):
        del data["diagnosis"]["date"]
    for met in data["stage"].get("metastases", []):
        if "detected_on" in met:
            # the day it was found is written as the onset; the latest it can have been,
            # which nothing reads beside that day, is not written (its recordedDate is
            # only read for a Condition with no onset)
            met.pop("detected_on_or_before", None)
    for t in data["systemic"]["therapies"]:
        t["setting"] = draw(st.sampled_from(["adjuvant", "advanced"]))
        if draw(st.booleans()):
            t["line"] = None if draw(st.booleans()) else t["line"]
        if draw(st.booleans()):
            t["started_on"] = (diagnosed + dt.timedelta(days=draw(st.integers(0, 900)))
                               ).isoformat()
    surgery = data["surgery"]
    if surgery["status"] == "planned" and draw(st.booleans()):
        surgery["date"] = (diagnosed + dt.timedelta(days=30)).isoformat()
    if surgery.get("date") and draw(st.booleans()):
        data["primary_treatment_end"] = (
            dt.date.fromisoformat(surgery["date"]) + dt.timedelta(days=draw(st.integers(0, 200)))
        ).isoformat()
    data["molecular"] = {
        "tsc1": draw(st.sampled_from(["pathogenic", "vus", "wild_type", "not_done", "unknown"])),
        "tsc2": draw(st.sampled_from(["pathogenic", "vus", "wild_type", "not_done", "unknown"])),
        "tfe3_fusion": draw(st.sampled_from(["present", "absent", "not_done", "unknown"])),
    }
    if draw(st.booleans()):
        data["free_of_disease"] = {
            "since": (diagnosed + dt.timedelta(days=draw(st.integers(0, 2000)))).isoformat(),
            "by": draw(st.sampled_from(["surgery", "systemic_therapy", "other", "unknown"])),
        }
    if draw(st.booleans()):
        data["histology"]["mitoses_per_50_hpf"] = draw(
            st.floats(0, 500, allow_nan=False).map(lambda x: round(x, 2)))
    data["systemic"]["intolerances"] = draw(st.lists(
        _intolerances(), max_size=3, unique_by=_one_row_per_drug))
    try:
        return parse_case(data)
    except InputError:
        assume(False)
        raise


def _intolerances() -> st.SearchStrategy[dict[str, Any]]:
    """A drug not tolerated, any agent of the case format ('other' included), with the
    team's judgement whether it is of the drug's class where the format records one (an
    mTOR inhibitor, an anthracycline or a regimen holding one), or left out."""
    def row(agent: Agent) -> st.SearchStrategy[dict[str, Any]]:
        judged = agent.is_mtor_inhibitor or agent.is_anthracycline_based
        if not judged:
            return st.just({"agent": agent.value})
        return st.sampled_from([None, "yes", "no", "unknown"]).map(
            lambda wide: {"agent": agent.value} if wide is None
            else {"agent": agent.value, "class_wide": wide})
    return st.sampled_from(list(Agent)).flatmap(row)


def _one_row_per_drug(row: dict[str, Any]) -> object:
    """Rows of ``systemic.intolerances`` are drawn one per agent: a drug listed twice is
    one fact, read back once (``test_a_drug_listed_twice_is_read_back_once``); 'other'
    may repeat, each row a drug not identified, read back one row each."""
    return object() if row["agent"] == Agent.other.value else row["agent"]


class TestRoundTrip:
    @pytest.mark.parametrize(("name", "text"), _examples())
    def test_bundled_case_examples(self, name: str, text: str) -> None:
        """Every bundled case example survives Case -> Bundle -> Case unchanged."""
        case = parse_case_json(text)
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        assert case_from_bundle(bundle, validate="full").case == case, name

    def test_a_metastasis_known_only_by_the_day_it_was_recorded(self) -> None:
        """A lung metastasis found on or before a day (its exact day unknown) is written
        as a Condition recorded that day with no onset, and read back so: never as the
        day it was found."""
        text = dict(_examples())["metachronous-lung.json"]
        data = parse_case_json(text).model_dump(mode="json", exclude_none=True)
        met = data["stage"]["metastases"][0]
        met["detected_on_or_before"] = met.pop("detected_on")
        case = parse_case(data)
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        assert case_from_bundle(bundle, validate="full").case == case

    @given(full_cases())
    @settings(max_examples=examples(50), deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    def test_generated_cases(self, case: Case) -> None:
        """Any coherent case: the bundle is valid R4B and reads back to the same case."""
        bundle = bundle_from_case(case, patient_id="p-1")
        validate_resources(bundle)
        back = case_from_bundle(bundle)
        assert back.case == case
        dumped = case.model_dump(mode="json")
        for path in back.not_found:
            node: Any = dumped
            for part in path.split("."):
                node = node[part]
            assert node in (None, "unknown"), path

    @given(full_cases())
    @settings(max_examples=examples(50), deadline=None,
              suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
    def test_generated_cases_with_intolerances(self, case: Case) -> None:
        """The same, for cases that record drugs not tolerated: every agent, the team's
        judgement whether it is of the class, beside each answer to 'mTOR inhibitors
        contraindicated'. Cases without one are drawn by the test above; these make sure
        the intolerance facts are drawn every time (a 'no' beside an intolerance of
        'other' had been dropped on the way back, and nothing drew it)."""
        assume(case.systemic.intolerances)
        bundle = bundle_from_case(case, patient_id="p-1")
        validate_resources(bundle)
        assert case_from_bundle(bundle).case == case

    @pytest.mark.parametrize("name", scenario_names())
    def test_every_scenario(self, name: str) -> None:
        """Every golden scenario's case survives Case -> Bundle -> Case unchanged, read on
        the scenarios' day: the scenarios hold the combinations of facts the engine is
        checked on (an intolerance of 'other' beside 'mTOR inhibitors not contraindicated:
        no' had come back with the 'no' dropped, and the advice then asked it again)."""
        case = parse_case_json((SCENARIOS / name / "case.json").read_text("utf-8"))
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        assert case_from_bundle(bundle, on=ON, validate="full").case == case

    def test_unknown_fact_is_left_out_not_written_absent(self) -> None:
        """An unknown feature produces no observation at all (never 'absent')."""
        case = parse_case({"tumour": {"primary_site": "kidney"},
                           "stage": {"status": "localized"}})
        bundle = bundle_from_case(case)
        ids = {e["resource"]["id"] for e in bundle["entry"]}
        assert not any(i.startswith("histology-") for i in ids)
        assert "tumour-size" not in ids
        assert case_from_bundle(bundle).case == case

    def test_empty_label_is_not_carried(self) -> None:
        """FHIR strings cannot be empty: an empty label comes back as no label."""
        case = parse_case({"label": "", "tumour": {"primary_site": "kidney"},
                           "stage": {"status": "localized"}})
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        assert case_from_bundle(bundle).case.label is None

    @pytest.mark.parametrize("label", ["\u00a0", "\u2003\u3000"], ids=["nbsp", "em-ideographic"])
    def test_a_label_of_other_spaces_only_is_not_carried(self, label: str) -> None:
        """A label made only of whitespace other than the space (a non-breaking space):
        no FHIR R4 string can hold it, and the bundle written had been refused by its
        own reader ('must be valid FHIR R4'). It is not carried, as an empty one is
        not: the bundle is valid and reads back with no label, every fact the same."""
        case = parse_case({"label": label, "tumour": {"primary_site": "kidney"},
                           "stage": {"status": "localized"}})
        bundle = bundle_from_case(case)
        validate_resources(bundle)
        back = case_from_bundle(bundle, validate="full").case
        assert back.label is None
        assert back == case.model_copy(update={"label": None})

    def test_a_drug_listed_twice_is_read_back_once(self) -> None:
        """Sirolimus listed twice, once judged of that drug alone and once with no
        judgement: one fact, one allergy entry each way back in; read back as one row
        with the safer judgement (unknown: every mTOR inhibitor ruled out meanwhile, the
        question asked), which is what the two rows gave the engine."""
        case = parse_case({"tumour": {"primary_site": "kidney"},
                           "stage": {"status": "metastatic"},
                           "systemic": {"intolerances": [
                               {"agent": "sirolimus", "class_wide": "no"},
                               {"agent": "sirolimus"}]}})
        back = case_from_bundle(bundle_from_case(case)).case
        assert back.systemic.intolerances == (Intolerance(agent=Agent.sirolimus),)
        assert back.systemic.mtor_contraindication == case.systemic.mtor_contraindication
        assert back.systemic.mtor_class_undecided == case.systemic.mtor_class_undecided

    def test_same_case_same_bundle(self) -> None:
        case = parse_case_json(_examples()[0][1])
        assert bundle_from_case(case) == bundle_from_case(case)
