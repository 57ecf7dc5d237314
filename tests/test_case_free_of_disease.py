"""``free_of_disease``: when it may be given, and the dates it must respect.

A patient is free of disease after treatment only of a relapse or of unresectable locally
advanced disease cleared without surgery (I8): the field belongs to a case whose stage is
'recurrent', 'metastatic' or 'locally_advanced_unresectable', and its date cannot come
before the disease it ends (the diagnosis, the primary's treatment, the metastases found).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import InputError, parse_case

RELAPSED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
    "stage": {"status": "metastatic",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
}


def relapsed(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(RELAPSED)
    for path, value in changes.items():
        node = data
        parts = path.split("__")
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    return data


def issues_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_case(data)
    found: dict[str, str] = {}
    for i in info.value.issues:
        found[i.path] = (found.get(i.path, "") + " | " + i.rule).strip(" |")
    return found


class TestWhereItBelongs:
    def test_after_metastatic_relapse_it_is_accepted(self) -> None:
        case = parse_case(RELAPSED)
        assert case.free_of_disease is not None
        assert case.free_of_disease.since == dt.date(2023, 8, 1)

    def test_after_local_recurrence_it_is_accepted(self) -> None:
        data = relapsed(stage={"status": "recurrent", "resectable": "yes"})
        assert parse_case(data).free_of_disease is not None

    def test_localized_label_is_rejected_naming_both_fields(self) -> None:
        """'localized' says the disease never spread or came back; being free of disease
        *again* contradicts it, and accepting it would put a relapsed patient on the
        low-risk schedule."""
        data = relapsed(stage={"status": "localized"})
        rule = issues_of(data)["free_of_disease"]
        assert "'stage.status'" in rule and "'localized'" in rule
        assert "'recurrent', 'metastatic' or 'locally_advanced_unresectable'" in rule

    def test_locally_advanced_disease_cleared_without_surgery_is_accepted(self) -> None:
        """An unresectable tumour that systemic treatment made undetectable: the date is
        what surveillance counts from (I8). It could not be recorded, while the
        assessment told the team to record it."""
        data = relapsed(stage={"status": "locally_advanced_unresectable"},
                        surgery={"status": "not_performed"},
                        free_of_disease={"since": "2023-08-01", "by": "systemic_therapy"})
        fod = parse_case(data).free_of_disease
        assert fod is not None and fod.by.value == "systemic_therapy"

    def test_cleared_by_systemic_therapy_before_any_therapy_started(self) -> None:
        """Free of disease by systemic therapy from a date before the only line started:
        surveillance would have counted from a date the record contradicts."""
        data = relapsed(stage={"status": "locally_advanced_unresectable"},
                        surgery={"status": "not_performed"},
                        systemic={"therapies": [{"agent": "sirolimus",
                                                 "started_on": "2023-09-01"}]},
                        free_of_disease={"since": "2023-08-01", "by": "systemic_therapy"})
        rule = issues_of(data)["free_of_disease.since"]
        assert "2023-09-01" in rule and "systemic therapy" in rule

    def test_locally_advanced_disease_removed_by_surgery_is_localized(self) -> None:
        """A primary removed after downstaging is localized, with its surgery: 'by
        surgery' contradicts 'cannot be removed'."""
        data = relapsed(stage={"status": "locally_advanced_unresectable"},
                        surgery={"status": "not_performed"})
        rule = issues_of(data)["free_of_disease.by"]
        assert "'localized'" in rule and "'primary_treatment_end'" in rule

    def test_how_defaults_to_unknown(self) -> None:
        data = relapsed(free_of_disease={"since": "2023-08-01"})
        case = parse_case(data)
        assert case.free_of_disease is not None
        assert case.free_of_disease.by.value == "unknown"


class TestDates:
    def test_before_diagnosis(self) -> None:
        data = relapsed(free_of_disease={"since": "2019-02-01"})
        assert "'diagnosis.date' (2019-03-01)" in issues_of(data)["free_of_disease.since"]

    def test_before_the_end_of_primary_treatment(self) -> None:
        data = relapsed(free_of_disease={"since": "2019-03-10"},
                        stage={"status": "recurrent"})
        assert "2019-03-15" in issues_of(data)["free_of_disease.since"]

    def test_before_a_metastasis_was_found(self) -> None:
        data = relapsed(free_of_disease={"since": "2023-05-01"})
        rule = issues_of(data)["free_of_disease.since"]
        assert "'stage.metastases[0].detected_on' (2023-05-10)" in rule

    def test_a_relapse_after_the_date_is_refused_saying_the_rule_and_what_to_do(
            self) -> None:
        """Free of disease since 2023-08-01 after the lung metastasis was removed, then a
        liver metastasis found on 2026-06-01: a relapse after a disease-free period, the
        commonest story (S26, S27). The refusal must not say the patient cannot have been
        free of disease before it (false); it says that 'free_of_disease' describes the
        patient now, that the new metastasis means the disease is present again, and what
        to do (remove 'free_of_disease', or date it from the day the new metastasis was
        cleared), naming the fields and the values; never to move the metastasis's date."""
        data = relapsed(stage={"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2023-05-10"},
            {"site": "liver", "detected_on": "2026-06-01"}]})
        rule = issues_of(data)["free_of_disease.since"]
        assert "cannot be free of disease before" not in rule
        assert "'stage.metastases[1].detected_on' (2026-06-01)" in rule
        assert "free of disease now" in rule
        assert "present again" in rule
        assert "remove 'free_of_disease'" in rule
        assert "'free_of_disease.since' the day it was (on or after 2026-06-01)" in rule
        assert "keep the day the metastasis was found" in rule
        with pytest.raises(InputError) as info:
            parse_case(data)
        assert "(got 2023-08-01)" in str(info.value)

    def test_a_metastasis_recorded_after_the_date_is_refused_naming_both_fields(
            self) -> None:
        """Free of disease since 2023-08-01, and a liver metastasis known only by the day
        it was recorded, 2025-05-01 ('detected_on_or_before': found that day or earlier).
        It may have been found after the patient became free of disease, when the
        disease is present again; it had been accepted, the metastasis taken as one the
        patient was freed of: "free of disease, surveillance only", no mTOR inhibitor
        (S12), no metastasectomy question (S16). As for a 'detected_on' after the date,
        the case is refused, naming both fields and how to record either story: found by
        then (an upper bound no later than the date), or found after (the disease
        present: remove 'free_of_disease' while it is)."""
        data = relapsed(stage={"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2023-05-10"},
            {"site": "liver", "detected_on_or_before": "2025-05-01"}]})
        rule = issues_of(data)["free_of_disease.since"]
        assert "'stage.metastases[1].detected_on_or_before' (2025-05-01)" in rule
        assert "may have been found after 'free_of_disease.since'" in rule
        assert "present again" in rule
        assert "give 'detected_on_or_before' no later than it" in rule
        assert "remove 'free_of_disease'" in rule

    @pytest.mark.parametrize("recorded", ["2023-08-01", "2023-07-01"])
    def test_a_metastasis_recorded_by_the_date_is_accepted(self, recorded: str) -> None:
        """Recorded on or before the day the patient became free of disease: found by
        then, so it is one the patient was freed of."""
        data = relapsed(stage={"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2023-05-10"},
            {"site": "liver", "detected_on_or_before": recorded}]})
        assert parse_case(data).free_of_disease is not None

    def test_same_day_as_the_metastasis_is_accepted(self) -> None:
        """Found and removed the same day (a resected solitary nodule): free from then."""
        data = relapsed(free_of_disease={"since": "2023-05-10"})
        assert parse_case(data).free_of_disease is not None

    def test_after_the_evaluation_date(self) -> None:
        from pecoma import assess

        case = parse_case(RELAPSED)
        with pytest.raises(InputError, match=r"free_of_disease\.since"):
            assess(case, dt.date(2023, 7, 1))


def with_line(**line: Any) -> dict[str, Any]:
    """The relapsed case (free of disease since 2023-08-01, after the lung metastasis of
    2023-05-10 was removed) with one line of systemic treatment."""
    return relapsed(systemic={"therapies": [{"agent": "sirolimus", **line}]})


class TestALineAfterTheDate:
    """Free of disease since a day, and a line begun on or after that day on which the
    disease progressed, or was measured responding other than completely: the disease was
    present again after that day, and the record says both. Read as free of disease, the
    patient progressing on sirolimus was given no systemic advice and routine surveillance;
    the record is refused naming both fields, as the other contradictions are (the stale
    'free_of_disease' left after a new relapse is the likely error)."""

    def test_progressed_on_a_line_begun_after_it_is_refused_naming_both(self) -> None:
        data = with_line(line=1, started_on="2024-02-01", best_response="progression",
                         progressed="yes")
        rule = issues_of(data)["free_of_disease.since"]
        assert "'systemic.therapies[0].progressed' 'yes'" in rule
        assert "started 2024-02-01" in rule
        # what to record instead: the relapse, and the date or its removal
        assert "record the relapse" in rule and "remove 'free_of_disease'" in rule

    def test_progression_as_best_response_alone_is_refused(self) -> None:
        """'progressed' not recorded: a best response of progression says it anyway."""
        data = with_line(started_on="2024-02-01", best_response="progression")
        rule = issues_of(data)["free_of_disease.since"]
        assert "'systemic.therapies[0].best_response' 'progression'" in rule

    @pytest.mark.parametrize("response", ["partial", "stable"])
    def test_a_response_measured_on_a_line_begun_after_it_is_refused(
            self, response: str) -> None:
        """A partial response or stable disease is measured on disease present (I21): a
        line for advanced disease begun eight months after the date, stable on it, is
        disease present after that date."""
        data = relapsed(systemic={"therapies": [
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "best_response": response, "progressed": "no"}]})
        rule = issues_of(data)["free_of_disease.since"]
        assert f"'systemic.therapies[0].best_response' '{response}'" in rule

    def test_progressed_on_postoperative_treatment_is_refused(self) -> None:
        """A line recorded as adjuvant after the metastasectomy on which the disease
        progressed: the disease came back during it."""
        data = with_line(setting="adjuvant", started_on="2023-09-01", progressed="yes")
        rule = issues_of(data)["free_of_disease.since"]
        assert "'systemic.therapies[0].progressed' 'yes'" in rule

    def test_a_line_begun_the_same_day_counts_as_after(self) -> None:
        """Progression on a line begun the day the patient was free of disease came
        after that day: the disease was there again."""
        data = with_line(started_on="2023-08-01", progressed="yes")
        assert "started 2023-08-01" in issues_of(data)["free_of_disease.since"]

    def test_each_line_is_named(self) -> None:
        data = relapsed(systemic={"therapies": [
            {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"},
            {"agent": "doxorubicin", "line": 2, "started_on": "2024-09-01",
             "best_response": "stable"}]})
        rule = issues_of(data)["free_of_disease.since"]
        assert "'systemic.therapies[0].progressed'" in rule
        assert "'systemic.therapies[1].best_response'" in rule

    def test_postoperative_treatment_with_no_response_recorded_is_accepted(self) -> None:
        """A line recorded as adjuvant after the metastasectomy, with nothing recorded of
        its result, is the treatment after the operation, not disease; the same line
        progressed on is refused."""
        assert parse_case(with_line(setting="adjuvant", started_on="2023-09-01"))
        refused = with_line(setting="adjuvant", started_on="2023-09-01", progressed="yes")
        assert "free_of_disease.since" in issues_of(refused)

    @pytest.mark.parametrize("setting", ["adjuvant", "advanced"])
    def test_a_complete_response_is_accepted(self, setting: str) -> None:
        """A complete response leaves the patient free of disease, as recorded (at worst
        the date is earlier than it should be: the visits come earlier, the safer
        error); a partial one on a line for advanced disease is refused (on an adjuvant
        line, see below)."""
        assert parse_case(with_line(setting=setting, started_on="2023-09-01",
                                    best_response="complete", progressed="no"))
        refused = with_line(setting="advanced", started_on="2023-09-01",
                            best_response="partial")
        assert "free_of_disease.since" in issues_of(refused)

    @pytest.mark.parametrize("response", ["partial", "stable"])
    def test_a_response_on_postoperative_treatment_is_accepted(
            self, response: str) -> None:
        """Doxorubicin recorded as adjuvant after the metastasectomy (free of disease
        since 2023-08-01 by surgery), its best response 'stable' or 'partial': a line
        given with no disease known measures nothing, and such records write its
        responses loosely for an uneventful course (I21), as after the resection of a
        localized primary, where the same line is accepted. Only progression on it says
        the disease came back (I8): the case had been refused, told to record a relapse
        nothing recorded shows. The same response on a line for advanced disease is
        still refused."""
        line = {"agent": "doxorubicin", "started_on": "2023-09-01",
                "best_response": response, "progressed": "no"}
        case = parse_case(relapsed(systemic={"therapies": [
            {**line, "setting": "adjuvant"}]}))
        assert case.free_of_disease is not None
        assert case.free_of_disease.since == dt.date(2023, 8, 1)
        refused = relapsed(systemic={"therapies": [{**line, "setting": "advanced"}]})
        assert f"'systemic.therapies[0].best_response' '{response}'" in issues_of(
            refused)["free_of_disease.since"]
        progressed = relapsed(systemic={"therapies": [
            {**line, "setting": "adjuvant", "progressed": "yes"}]})
        assert "'systemic.therapies[0].progressed' 'yes'" in issues_of(
            progressed)["free_of_disease.since"]

    def test_a_line_that_progressed_before_the_date_was_the_earlier_disease(self) -> None:
        """Sirolimus begun on the metastasis and progressed on, then the metastasectomy
        that left the patient free of disease: accepted. The same line begun after the
        date is refused."""
        data = with_line(line=1, started_on="2023-05-20", progressed="yes")
        assert parse_case(data).free_of_disease is not None
        later = with_line(line=1, started_on="2023-08-20", progressed="yes")
        assert "free_of_disease.since" in issues_of(later)

    def test_a_line_with_no_start_date_is_accepted(self) -> None:
        """A line with no start date cannot be placed before or after the date: an
        unknown order is evidence of neither, and no record is refused on a guess (the
        patient's disease is read as the record says, free since the date). Dated after
        it, the same line is refused."""
        assert parse_case(with_line(line=1, progressed="yes")).free_of_disease is not None
        dated = with_line(line=1, started_on="2024-01-01", progressed="yes")
        assert "free_of_disease.since" in issues_of(dated)


class TestALocalRecurrencePresent:
    """'stage.local_recurrence' 'yes' records a local recurrence present now;
    'free_of_disease' records the patient free of disease now. Both cannot hold: a local
    recurrence that has been treated is the relapse 'free_of_disease' records, so the
    field records it 'no' (or leaves it out). The field has no date that could place the
    recurrence before 'free_of_disease.since', so 'yes' beside it is refused, naming both
    fields and what to record instead."""

    def test_yes_beside_free_of_disease_is_refused_naming_both_fields(self) -> None:
        data = relapsed(stage={"status": "recurrent", "resectable": "yes",
                               "local_recurrence": "yes"})
        rule = issues_of(data)["stage.local_recurrence"]
        assert "'free_of_disease'" in rule
        assert "present now" in rule
        # what to record instead: the recurrence treated is the relapse free_of_disease
        # records ('no'), or the recurrence present now (free_of_disease removed)
        assert "record 'no'" in rule
        assert "remove 'free_of_disease'" in rule

    def test_the_value_is_shown(self) -> None:
        data = relapsed(stage={"status": "recurrent", "local_recurrence": "yes"})
        with pytest.raises(InputError) as info:
            parse_case(data)
        [issue] = [i for i in info.value.issues if i.path == "stage.local_recurrence"]
        assert issue.value == "'yes'"

    @pytest.mark.parametrize("answer", ["no", "unknown"])
    def test_no_or_unknown_beside_free_of_disease_is_accepted(self, answer: str) -> None:
        """'no': the local recurrence was removed, the patient free of disease since."""
        data = relapsed(stage={"status": "recurrent", "resectable": "yes",
                               "local_recurrence": answer})
        assert parse_case(data).free_of_disease is not None

    def test_yes_without_free_of_disease_is_accepted(self) -> None:
        data = relapsed(stage={"status": "recurrent", "resectable": "yes",
                               "local_recurrence": "yes"})
        del data["free_of_disease"]
        assert parse_case(data).stage.local_recurrence.value == "yes"
