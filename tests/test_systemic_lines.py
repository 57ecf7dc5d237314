"""Advice on systemic treatment of advanced disease, as the lines already given decide it:
the facts an item names are the facts recorded, never one inferred and shown as entered."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Item

ON = dt.date(2026, 11, 28)
SCENARIOS = Path(__file__).parent / "scenarios"


def _with_line(line: dict[str, object]) -> dict[str, object]:
    case = json.loads((SCENARIOS / "progressed-on-mtor" / "case.json").read_text())
    case["systemic"]["therapies"] = [line]
    return case


def _facts(case: dict[str, object], record: str) -> dict[str, str]:
    a = assess(parse_case(case), ON)
    [item] = [r for r in a.recommendations if r.id == record]
    return {f.path: f.value for f in item.triggered_by}


def test_progression_as_best_response_is_shown_as_recorded() -> None:
    """Sirolimus with progression as its best response and 'progressed' not recorded: the
    guideline's silence after progression rests on the best response, which is what the
    item names (it once showed 'progressed = yes', a fact nobody entered)."""
    facts = _facts(_with_line({"agent": "sirolimus", "line": 1, "started_on": "2024-10-01",
                               "best_response": "progression"}), "REC-NO-NEXT-LINE")
    assert facts["systemic.therapies.best_response"] == "progression"
    assert "systemic.therapies.progressed" not in facts


def test_progression_recorded_is_shown_as_recorded() -> None:
    facts = _facts(_with_line({"agent": "sirolimus", "line": 1, "started_on": "2024-10-01",
                               "best_response": "partial", "progressed": "yes"}),
                   "REC-NO-NEXT-LINE")
    assert facts["systemic.therapies.progressed"] == "yes"
    assert facts["systemic.therapies.agent"] == "sirolimus"


def _scenario(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((SCENARIOS / name / "case.json").read_text())
    return data


class TestAnthracyclineGivenBefore:
    """S14 offers anthracycline-based chemotherapy as a first line when mTOR inhibitors
    cannot be used. A record that already holds an anthracycline line must not get that
    option as if it were new: the output names the lines given (agent, line number,
    setting, start, result as entered), and the option keeps its force."""

    def test_lines_given_are_named_beside_the_option(self) -> None:
        """Doxorubicin (line 1, stopped without progression), then doxorubicin with
        ifosfamide (line 2, responding): the option had been shown alone, as for a
        patient never given an anthracycline. (Had the disease progressed on the first,
        the guideline's silence would be said instead: the class taken as one, I15.)"""
        case = _scenario("mtor-unavailable-responding-to-anthracycline")
        case["systemic"]["therapies"][0].update(best_response="stable", progressed="no")
        a = assess(parse_case(case), ON)
        [rec] = [r for r in a.recommendations if r.id == "REC-ANTHRACYCLINE"]
        assert rec.strength == "can be considered"
        rec_facts = {(f.path, f.value) for f in rec.triggered_by}
        assert {("systemic.therapies[0].agent", "doxorubicin"),
                ("systemic.therapies[1].agent", "doxorubicin_ifosfamide")} <= rec_facts
        [alert] = [i for i in a.alerts if i.id == "ALERT-ANTHRACYCLINE-GIVEN"]
        facts = {(f.path, f.value) for f in alert.triggered_by}
        assert {("systemic.therapies[0].line", "1"), ("systemic.therapies[1].line", "2"),
                ("systemic.therapies[1].started_on", "2025-06-01"),
                ("systemic.therapies[1].setting", "advanced"),
                ("systemic.therapies[1].progressed", "no")} <= facts
        assert alert.level == "warning" and alert.provenance.kind == "guideline"

    def test_adjuvant_anthracycline_is_named_too(self) -> None:
        """Doxorubicin given after surgery of the primary (adjuvant, no line number), now
        metastatic with mTOR inhibitors contraindicated: the earlier course is said with
        its setting, and nothing is invented for what was not entered."""
        case = _scenario("mtor-unavailable-responding-to-anthracycline")
        case["systemic"] = {"mtor_inhibitor_available": "yes",
                            "mtor_inhibitor_contraindicated": "yes",
                            "therapies": [{"agent": "doxorubicin", "setting": "adjuvant",
                                           "started_on": "2023-04-01", "progressed": "no"}]}
        a = assess(parse_case(case), ON)
        assert "REC-ANTHRACYCLINE" in {r.id for r in a.recommendations}
        [alert] = [i for i in a.alerts if i.id == "ALERT-ANTHRACYCLINE-GIVEN"]
        facts = {f.path: f.value for f in alert.triggered_by}
        assert facts["systemic.therapies[0].setting"] == "adjuvant"
        assert "systemic.therapies[0].line" not in facts
        assert "systemic.therapies[0].best_response" not in facts

    def test_uterine_regimen_after_doxorubicin(self) -> None:
        """Epirubicin with ifosfamide (S15) after progression on doxorubicin: the regimen
        is an anthracycline too, and the doxorubicin given is said beside it."""
        a = assess(parse_case(_scenario("uterine-progressed-on-doxorubicin-mtor-unavailable")),
                   ON)
        [rec] = [r for r in a.recommendations if r.id == "REC-UTERINE-EPI-IFO"]
        assert ("systemic.therapies[0].agent", "doxorubicin") in {
            (f.path, f.value) for f in rec.triggered_by}
        assert "ALERT-ANTHRACYCLINE-GIVEN" in {i.id for i in a.alerts}

    def test_no_anthracycline_given_no_alert(self) -> None:
        case = _scenario("mtor-unavailable-responding-to-anthracycline")
        case["systemic"] = {"mtor_inhibitor_available": "no",
                            "mtor_inhibitor_contraindicated": "no", "therapies": []}
        a = assess(parse_case(case), ON)
        assert "REC-ANTHRACYCLINE" in {r.id for r in a.recommendations}
        assert "ALERT-ANTHRACYCLINE-GIVEN" not in {i.id for i in a.alerts}

    def test_no_alert_where_no_anthracycline_is_advised(self) -> None:
        """Progressed on doxorubicin, mTOR inhibitors unavailable, not uterine: the
        guideline names no further line, which already names the doxorubicin."""
        a = assess(parse_case(_scenario("mtor-unavailable-progressed-on-doxorubicin")), ON)
        assert "REC-NO-LINE-AFTER-ANTHRACYCLINE" in {r.id for r in a.recommendations}
        assert "ALERT-ANTHRACYCLINE-GIVEN" not in {i.id for i in a.alerts}


def _scenario_assessed(name: str) -> tuple[set[str], dict[str, Item]]:
    """The recommendation ids, and the alerts by id, of a scenario's case."""
    a = assess(parse_case(_scenario(name)), ON)
    return {r.id for r in a.recommendations}, {x.id: x for x in a.alerts}


class TestMtorGivenBefore:
    """S12/S13 make an mTOR inhibitor the first line. Beside a record that already holds
    an mTOR-inhibitor line the advice must not read as a treatment to start, or as a
    reason to switch to nab-sirolimus: the output names the line given."""

    def test_a_responding_line_is_named_beside_the_advice(self) -> None:
        """Everolimus line 1 since 2024-10-01, partial response, not progressed: the
        first-line advice and nab-sirolimus stood with nothing saying the patient is on
        everolimus already."""
        recs, alerts = _scenario_assessed("on-mtor-responding")
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"} <= recs
        alert = alerts["ALERT-MTOR-GIVEN"]
        facts = {(f.path, f.value) for f in alert.triggered_by}
        assert {("systemic.therapies[0].agent", "everolimus"),
                ("systemic.therapies[0].line", "1"),
                ("systemic.therapies[0].started_on", "2024-10-01"),
                ("systemic.therapies[0].best_response", "partial"),
                ("systemic.therapies[0].progressed", "no")} <= facts
        assert alert.level == "info"

    def test_progression_unknown_names_the_line_too(self) -> None:
        """Everolimus with no response or progression recorded: the advice is provisional
        on MISS-MTOR-PROGRESSION, and the line it may be continuing is named."""
        recs, alerts = _scenario_assessed("on-mtor-progression-unknown")
        assert "REC-MTOR-FIRST-LINE" in recs and "ALERT-MTOR-GIVEN" in alerts

    def test_no_alert_without_the_first_line_advice(self) -> None:
        """Progressed on the mTOR inhibitor: the guideline names no next line
        (REC-NO-NEXT-LINE), so there is no first-line advice to qualify; and with mTOR
        inhibitors contraindicated the line is the subject of another warning."""
        for name in ("progressed-on-mtor", "mtor-given-now-contraindicated"):
            recs, alerts = _scenario_assessed(name)
            assert "REC-MTOR-FIRST-LINE" not in recs, name
            assert "ALERT-MTOR-GIVEN" not in alerts, name

    def test_no_mtor_line_no_alert(self) -> None:
        """Metastatic disease with no line recorded: the advice is a treatment to start."""
        recs, alerts = _scenario_assessed("lung-metachronous-eligible")
        assert "REC-MTOR-FIRST-LINE" in recs
        assert "ALERT-MTOR-GIVEN" not in alerts


class TestLinesInAnOrderNotRecorded:
    """Two lines of one treatment, one the disease progressed on and one it did not,
    with neither start dates nor line numbers: the order they were typed in decided the
    advice (everolimus then sirolimus-progressed gave "no further line", the reverse
    "first-line advice under way"). For anthracyclines, which came last is not recorded:
    no line is read as the latest, the treatment is not taken as past, and the order is
    asked. For mTOR inhibitors the order decides nothing: after progression on any of
    them the guideline is silent."""

    @staticmethod
    def case(lines: list[dict[str, object]], **systemic: object) -> dict[str, object]:
        data = _with_line(lines[0])
        data["systemic"] = {"mtor_inhibitor_available": "yes",
                            "mtor_inhibitor_contraindicated": "no", **systemic,
                            "therapies": lines}
        return data

    def test_the_order_typed_in_does_not_decide(self) -> None:
        """mTOR inhibitors: after progression on any of them the guideline is silent
        whatever came after, so the order decides nothing and is not asked; the line not
        progressed on is named beside the silence (it may be the treatment under way)."""
        working = {"agent": "everolimus", "progressed": "no"}
        failed = {"agent": "sirolimus", "progressed": "yes"}
        results = []
        for lines in ([working, failed], [failed, working]):
            a = assess(parse_case(self.case(lines)), ON)
            rec = {i.id: i for i in a.recommendations}
            assert rec["REC-NO-NEXT-LINE"].conditional_on == ()
            assert "REC-MTOR-FIRST-LINE" not in rec
            assert "MISS-LINE-ORDER" not in {m.id for m in a.missing}
            assert "derived.mtor_after_progression" in {
                f.path for f in rec["REC-NO-NEXT-LINE"].triggered_by}
            results.append(sorted(i.id for i in (*a.recommendations, *a.alerts)))
        assert results[0] == results[1]

    def test_anthracyclines_in_an_order_not_recorded(self) -> None:
        """mTOR inhibitors unavailable; doxorubicin progressed on, doxorubicin with
        ifosfamide responding, undated and unnumbered: as for the mTOR inhibitors, the
        progression on the class stands whatever line came after (I15, I26), so the
        order decides nothing and is not asked: the guideline's silence is said in
        either order typed in, the line not progressed on named beside it."""
        lines = [{"agent": "doxorubicin", "progressed": "yes"},
                 {"agent": "doxorubicin_ifosfamide", "progressed": "no"}]
        for order in (lines, lines[::-1]):
            a = assess(parse_case(self.case(order, mtor_inhibitor_available="no")), ON)
            rec = {i.id: i for i in a.recommendations}
            assert "REC-ANTHRACYCLINE" not in rec
            assert rec["REC-NO-LINE-AFTER-ANTHRACYCLINE"].conditional_on == ()
            assert "MISS-LINE-ORDER" not in {m.id for m in a.missing}
            assert "derived.anthracycline_after_progression" in {
                f.path for f in rec["REC-NO-LINE-AFTER-ANTHRACYCLINE"].triggered_by}

    def test_dated_or_numbered_lines_decide_without_a_question(self) -> None:
        lines = [{"agent": "everolimus", "progressed": "no", "line": 2},
                 {"agent": "sirolimus", "progressed": "yes", "line": 1}]
        a = assess(parse_case(self.case(lines)), ON)
        assert "MISS-LINE-ORDER" not in {m.id for m in a.missing}
        assert {i.id: i for i in a.recommendations}["REC-NO-NEXT-LINE"].conditional_on == ()


class TestLatestLineOpen:
    """A later line of a treatment the disease progressed on, its outcome not recorded:
    it may be working now (I19), so whether the disease progressed on it is asked (it
    had been said as settled, the later line read as failed). The progression on the
    earlier line stands whatever line of the class came after (I15, I26): the silence
    is said either way, not provisional on the answer, which decides only whether the
    line is named beside it as the treatment under way."""

    @staticmethod
    def data(lines: list[dict[str, Any]], mtor_ok: bool = True) -> dict[str, Any]:
        return {
            "diagnosis": {"method": "histology_with_ihc", "date": "2020-03-01"},
            "tumour": {"primary_site": "retroperitoneum", "size": {"value": 12, "unit": "cm"}},
            "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                     "sma": "positive"},
            "stage": {"status": "recurrent", "lymph_nodes": "negative", "resectable": "no"},
            "surgery": {"status": "performed", "date": "2020-03-20", "margin": "R0"},
            "systemic": {"mtor_inhibitor_available": "yes",
                         "mtor_inhibitor_contraindicated": "no" if mtor_ok else "yes",
                         "therapies": lines}}

    def items(self, data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        """Each item's conditions, and under "asked" the missing facts asked."""
        a = assess(parse_case(data), dt.date(2026, 6, 1))
        return {**{i.id: i.conditional_on for i in a.items()},
                "asked": tuple(m.id for m in a.missing)}

    def test_a_second_mtor_line_with_no_outcome_is_asked_about(self) -> None:
        got = self.items(self.data([
            {"agent": "everolimus", "started_on": "2024-01-01", "progressed": "yes"},
            {"agent": "nab_sirolimus", "started_on": "2025-01-01"}]))
        assert "MISS-LATEST-LINE-PROGRESSION" in got["asked"]
        assert got["REC-NO-NEXT-LINE"] == ()

    def test_a_second_mtor_line_progressed_on_too_settles_it(self) -> None:
        got = self.items(self.data([
            {"agent": "everolimus", "started_on": "2024-01-01", "progressed": "yes"},
            {"agent": "nab_sirolimus", "started_on": "2025-01-01", "progressed": "yes"}]))
        assert got["REC-NO-NEXT-LINE"] == ()
        assert "MISS-LATEST-LINE-PROGRESSION" not in got["asked"]

    def test_a_later_anthracycline_line_with_no_outcome_is_asked_about(self) -> None:
        got = self.items(self.data([
            {"agent": "doxorubicin", "started_on": "2024-01-01", "progressed": "yes"},
            {"agent": "epirubicin_ifosfamide", "started_on": "2025-01-01"}], mtor_ok=False))
        assert "MISS-LATEST-LINE-PROGRESSION" in got["asked"]
        assert "MISS-LATEST-LINE-PROGRESSION" not in got["REC-NO-LINE-AFTER-ANTHRACYCLINE"]

    @pytest.mark.parametrize("reverse", [False, True])
    @pytest.mark.parametrize(("first", "second"), [
        # neither dated nor numbered
        ({"agent": "everolimus", "progressed": "yes"}, {"agent": "sirolimus"}),
        # one numbered, the other dated: which is later cannot be told either
        ({"agent": "everolimus", "line": 1, "progressed": "yes"},
         {"agent": "sirolimus", "started_on": "2025-09-01"}),
    ])
    def test_the_order_typed_in_decides_nothing(self, first: dict[str, Any],
                                                second: dict[str, Any],
                                                reverse: bool) -> None:
        """Which line is the latest cannot be told: the one with no recorded outcome may
        be, whatever order the lines were typed in (it had been asked in one order and
        read as failed in the other)."""
        lines = [second, first] if reverse else [first, second]
        got = self.items(self.data(lines))
        assert "MISS-LATEST-LINE-PROGRESSION" in got["asked"]
        assert got["REC-NO-NEXT-LINE"] == ()


class TestPublishedExperienceAfterMtor:
    """After progression on an mTOR inhibitor the guideline names no next line; the
    supplementary item SUPP-AFTER-MTOR names the classes a published series reported
    some activity for (anthracycline-based, gemcitabine-based chemotherapy, VEGFR
    inhibitors). A class the record rules out by an intolerance (I15) or already gave
    (I19) had been named with no word of it: the item now says so, class by class,
    naming the intolerance or the line, and keeps its provenance and force."""

    @staticmethod
    def _case(therapies: list[dict[str, object]], intolerant: list[str]
              ) -> dict[str, object]:
        case = _with_line({"agent": "sirolimus", "line": 1, "started_on": "2024-10-01",
                           "progressed": "yes"})
        systemic: dict[str, Any] = case["systemic"]  # type: ignore[assignment]
        systemic["therapies"] = [*systemic["therapies"], *therapies]
        systemic["intolerances"] = [{"agent": a} for a in intolerant]
        return case

    def _item(self, case: dict[str, object]) -> Item:
        a = assess(parse_case(case), ON)
        [item] = [r for r in a.recommendations if r.id == "SUPP-AFTER-MTOR"]
        return item

    def test_the_drugs_not_tolerated_are_named_as_not_proposed(self) -> None:
        """Doxorubicin, epirubicin, gemcitabine with docetaxel and pazopanib recorded as
        not tolerated: under each class the item names, the drugs not tolerated are said
        not to be proposed, with the intolerance (the drug, not the class: whether an
        intolerance holds for the class is asked where an item proposes a drug of it);
        I15 is cited, the item stays supplementary published evidence."""
        item = self._item(self._case([], ["doxorubicin", "epirubicin",
                                          "gemcitabine_docetaxel", "pazopanib"]))
        facts = {f.path: f.value for f in item.triggered_by}
        said = facts["derived.after_mtor_classes"]
        assert ("anthracycline-based chemotherapy: doxorubicin, epirubicin recorded as not "
                "tolerated: doxorubicin, epirubicin not proposed (I15)") in said
        assert ("gemcitabine-based chemotherapy: gemcitabine with docetaxel recorded as not "
                "tolerated: gemcitabine with docetaxel not proposed (I15)") in said
        assert ("VEGFR inhibitors: pazopanib recorded as not tolerated: pazopanib not "
                "proposed (I15)") in said
        assert "not an option" not in item.text + said
        assert facts["systemic.intolerances[3].agent"] == "pazopanib"
        assert item.provenance.kind == "supplementary"
        assert item.strength == "published evidence, not guideline"
        assert "I15" in item.provenance.interpretations
        assert "the facts say so, class by class" in item.text

    def test_the_classes_given_already_are_named(self) -> None:
        """Epirubicin with ifosfamide and gemcitabine with docetaxel given after the
        sirolimus, both progressed on: the item says they were given and that giving them
        again is the team's decision (I19: never that a class given is no treatment to
        try, which I19 does not say); pazopanib, neither given nor ruled out, is not
        mentioned."""
        item = self._item(self._case([
            {"agent": "epirubicin_ifosfamide", "line": 2, "started_on": "2025-01-10",
             "progressed": "yes"},
            {"agent": "gemcitabine_docetaxel", "line": 3, "started_on": "2025-06-10",
             "best_response": "progression"}], []))
        facts = {f.path: f.value for f in item.triggered_by}
        said = facts["derived.after_mtor_classes"]
        again = ": whether to give it again is the sarcoma team's decision with that course " \
                "in view (I19)"
        assert ("anthracycline-based chemotherapy: epirubicin with ifosfamide given already, "
                f"the disease progressed on it{again}") in said
        assert ("gemcitabine-based chemotherapy: gemcitabine with docetaxel given already, "
                f"the disease progressed on it{again}") in said
        assert "not a treatment still to try" not in item.text
        assert "VEGFR" not in said
        assert facts["systemic.therapies[2].agent"] == "gemcitabine_docetaxel"
        assert "I19" in item.provenance.interpretations
        # a record silent on those classes adds nothing (an ifosfamide intolerance names
        # no class the item names)
        silent = self._item(self._case([], ["ifosfamide"]))
        assert not any(f.path == "derived.after_mtor_classes" for f in silent.triggered_by)
        assert silent.provenance.interpretations == ()

    @pytest.mark.parametrize("agent", ["doxorubicin", "epirubicin"])
    def test_an_anthracycline_intolerance_of_the_class_names_the_class(self,
                                                                       agent: str) -> None:
        """An anthracycline not tolerated, recorded as of the class ('yes'): every
        anthracycline is ruled out (I15), so the item says the anthracyclines are not
        proposed (it had named the drug alone, the other anthracycline reading as an
        option left open). The judgement not recorded: the class is ruled out meanwhile,
        as for an mTOR inhibitor, said so and the item provisional on the question (it
        had named the drug alone). Of that drug alone ('no'): the drug alone is named,
        nothing asked."""
        case = self._case([], [agent])
        systemic: dict[str, Any] = case["systemic"]  # type: ignore[assignment]
        systemic["intolerances"] = [{"agent": agent, "class_wide": "yes"}]
        facts = {f.path: f.value for f in self._item(case).triggered_by}
        said = facts["derived.after_mtor_classes"]
        assert said.startswith("anthracycline-based chemotherapy: anthracyclines not "
                               f"proposed: {agent} recorded as not tolerated, of the "
                               "class (I15)")
        assert f"{agent} not proposed" not in said
        assert facts["systemic.intolerances[0].class_wide"] == "yes"
        systemic["intolerances"] = [{"agent": agent, "class_wide": "unknown"}]
        unjudged = self._item(case)
        said = {f.path: f.value for f in unjudged.triggered_by}["derived.after_mtor_classes"]
        assert said.startswith("anthracycline-based chemotherapy: anthracyclines not "
                               f"proposed meanwhile: {agent} recorded as not tolerated, "
                               "whether the intolerance is of the class not recorded")
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" in unjudged.conditional_on
        systemic["intolerances"] = [{"agent": agent, "class_wide": "no"}]
        only = self._item(case)
        said = {f.path: f.value for f in only.triggered_by}["derived.after_mtor_classes"]
        assert said.startswith(f"anthracycline-based chemotherapy: {agent} recorded "
                               f"as not tolerated: {agent} not proposed (I15)")
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" not in only.conditional_on


class TestAWorkingMtorLineBesideAClassWideIntolerance:
    """An everolimus intolerance recorded as of the class beside a sirolimus line with a
    partial response and no progression: the class is contraindicated (derived, I15),
    exactly as if the team had recorded 'mTOR inhibitor contraindicated: yes'. The same
    facts give the same items: the alert that a working mTOR-inhibitor line stays the
    treatment (S13 before S14) beside S14's option, naming the intolerance and the line
    (it had been dropped, only 'doxorubicin can be considered as first-line' shown)."""

    @staticmethod
    def _case(intolerance: bool, therapies: list[dict[str, object]]) -> dict[str, object]:
        case = _with_line({"agent": "sirolimus", "line": len(therapies) + 1,
                           "started_on": "2025-07-01", "best_response": "partial",
                           "progressed": "no"})
        systemic: dict[str, Any] = case["systemic"]  # type: ignore[assignment]
        systemic["therapies"] = [*therapies, *systemic["therapies"]]
        if intolerance:
            systemic["intolerances"] = [{"agent": "everolimus", "class_wide": "yes"}]
            systemic["mtor_inhibitor_contraindicated"] = "unknown"
        else:
            systemic["mtor_inhibitor_contraindicated"] = "yes"
        return case

    @pytest.mark.parametrize("earlier", [
        [], [{"agent": "everolimus", "line": 1, "started_on": "2025-03-01",
              "progressed": "no"}]])
    def test_the_alert_stands_as_for_a_recorded_contraindication(
            self, earlier: list[dict[str, object]]) -> None:
        """With or without an everolimus line stopped before the sirolimus one."""
        derived = assess(parse_case(self._case(True, earlier)), ON)
        recorded = assess(parse_case(self._case(False, earlier)), ON)
        assert "ALERT-MTOR-LINE-WITHOUT-PROGRESSION" in recorded.record_ids()
        assert derived.record_ids() == recorded.record_ids()
        [alert] = [r for r in derived.alerts if r.id == "ALERT-MTOR-LINE-WITHOUT-PROGRESSION"]
        facts = {f.path: f.value for f in alert.triggered_by}
        assert facts["systemic.therapies.agent"] == "sirolimus"
        assert facts["systemic.therapies.progressed"] == "no"
        assert facts["systemic.intolerances[0].class_wide"] == "yes"
        assert facts["derived.mtor_inhibitor_contraindicated"].startswith("yes: everolimus")
        assert "I15" in alert.provenance.interpretations
        assert "REC-ANTHRACYCLINE" in derived.record_ids()
