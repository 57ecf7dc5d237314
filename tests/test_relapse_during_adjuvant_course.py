"""A metastasis found during an adjuvant course answers whether the disease progressed on
it (HAZ-527).

MISS-MTOR-ADJUVANT-RELAPSE (and MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE) ask whether the
disease recurred during the adjuvant course or soon after it; disease that recurred
during it is counted as having progressed on it. When the record's own dates say so (a
metastasis found after the course's first day and on or before its recorded end) the
question is already answered: after progression on an mTOR inhibitor the guideline names
no next line (S12, S13, STATEMENTS "After mTOR-inhibitor progression"), and nab-sirolimus,
whose trial enrolled patients never given an mTOR inhibitor, is not proposed. Where the
dates do not tell (found after the end: soon or long after is the team's judgement; no
end recorded; no day of finding), the question stays asked, the treatment of choice shown
meanwhile (I19). So does a metastasis found within the first 3 months of the course (I29's
work-up window, counted from the course's start: it may have been there before the drug
could act) or one whose timing the team states synchronous (present at presentation,
before the course): the record leaves doubt, and a patient who never had a real trial of
the mTOR inhibitor must not lose the treatment of choice (HAZ-548).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2025, 6, 1)


def case(agent: str = "sirolimus", *, detected_on: str = "2024-01-15",
         started_on: str | None = "2023-03-01", ended_on: str | None = "2024-02-01",
         progressed: str = "unknown", mtor_available: str = "yes",
         timing: str | None = None) -> dict[str, Any]:
    """A malignant PEComa resected R0 on 2023-02-14, an adjuvant course after it, and a
    liver metastasis beyond surgery found on ``detected_on`` (advanced disease, I6)."""
    line: dict[str, Any] = {"agent": agent, "setting": "adjuvant", "progressed": progressed}
    if started_on is not None:
        line["started_on"] = started_on
    if ended_on is not None:
        line["ended_on"] = ended_on
    metastasis: dict[str, Any] = {"site": "liver", "detected_on": detected_on}
    if timing is not None:
        metastasis["timing"] = timing
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2023-02-01",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "mitoses_per_50_hpf": 4},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [metastasis],
                  "extrapulmonary_disease": "yes", "resectable": "no",
                  "complete_excision_feasible": "no"},
        "surgery": {"status": "performed", "date": "2023-02-14", "margin": "R0",
                    "adjuvant_radiotherapy": "no"},
        "systemic": {"mtor_inhibitor_available": mtor_available,
                     "mtor_inhibitor_contraindicated": "no",
                     "anthracycline_contraindicated": "no",
                     "therapies": [line]},
    }


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def ids(a: Assessment) -> set[str]:
    return {i.id for i in a.recommendations}


def asked(a: Assessment) -> set[str]:
    return {m.id for m in a.missing}


class TestFoundDuringTheCourse:
    def test_the_guideline_silence_is_said_and_nothing_asked(self) -> None:
        # the liver metastasis was found on 2024-01-15, while adjuvant sirolimus was
        # given (2023-03-01 to 2024-02-01): the disease grew on the mTOR inhibitor; the
        # guideline names no next line after that, so neither the treatment of choice
        # nor nab-sirolimus (mTOR-naive trial) is proposed, and nothing is asked
        a = run(case())
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in ids(a)
        assert "MISS-MTOR-ADJUVANT-RELAPSE" not in asked(a)
        silence = next(i for i in a.recommendations if i.id == "REC-NO-NEXT-LINE")
        assert silence.conditional_on == ()

    def test_the_derived_fact_says_why(self) -> None:
        # the record says nothing of progression: the silence rests on the dates, and
        # the facts shown say so rather than claim a progression was recorded
        a = run(case())
        silence = next(i for i in a.recommendations if i.id == "REC-NO-NEXT-LINE")
        why = [f for f in silence.triggered_by if f.path == "derived.relapse_during_adjuvant"]
        assert len(why) == 1
        assert "2024-01-15" in str(why[0].value)
        assert "during the course" in str(why[0].value)
        assert "I29" in str(why[0].value)
        assert not any(f.path == "systemic.therapies.progressed" for f in silence.triggered_by)
        assert any(f.path == "derived.relapse_during_adjuvant" for f in a.derived)

    def test_found_three_months_in_is_counted(self) -> None:
        # 2023-06-01 is 3 months after the start (2023-03-01): past I29's work-up
        # window, found during the course, its timing not stated: counted
        a = run(case(detected_on="2023-06-01"))
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "MISS-MTOR-ADJUVANT-RELAPSE" not in asked(a)

    def test_stated_metachronous_three_months_in_is_counted(self) -> None:
        # a stated metachronous timing agrees with growth during the course
        a = run(case(detected_on="2023-06-01", timing="metachronous"))
        assert "REC-NO-NEXT-LINE" in ids(a)

    def test_the_first_reported_case_is_still_counted(self) -> None:
        # a soft-tissue PEComa resected R0 on 2023-02-14, adjuvant sirolimus 2023-03-01
        # to 2024-02-01, a liver metastasis found on 2024-01-15, some 10.5 months into the
        # course: growth on the mTOR inhibitor, the guideline's silence said, nothing asked
        data = case()
        data["histology"].update({"vascular_invasion": "present",
                                  "nuclear_pleomorphism_or_giant_cells": "present"})
        data["immunohistochemistry"]["tfe3"] = "negative"
        data["molecular"] = {"tsc1": "wild_type", "tsc2": "pathogenic",
                             "tfe3_fusion": "absent"}
        a = run(data)
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        assert "MISS-MTOR-ADJUVANT-RELAPSE" not in asked(a)

    def test_found_on_the_last_day_of_the_course(self) -> None:
        # the recorded end is a day of the course: found that day, found during it
        a = run(case(detected_on="2024-02-01"))
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "MISS-MTOR-ADJUVANT-RELAPSE" not in asked(a)

    def test_an_adjuvant_anthracycline_course_is_counted_the_same(self) -> None:
        # mTOR inhibitors unavailable: S14's doxorubicin would be the option, but the
        # metastasis was found during adjuvant doxorubicin: the disease grew on it, the
        # guideline names no line after it (S14) and doxorubicin is not proposed again
        a = run(case("doxorubicin", mtor_available="no"))
        assert "REC-NO-LINE-AFTER-ANTHRACYCLINE" in ids(a)
        assert "REC-ANTHRACYCLINE" not in ids(a)
        assert "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE" not in asked(a)


class TestTheDatesDoNotTell:
    def test_found_after_the_course_ended_is_asked(self) -> None:
        # found 2024-03-01, a month after the course ended: soon or long after is the
        # team's judgement, not the dates': asked, the treatment of choice shown meanwhile
        a = run(case(detected_on="2024-03-01"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        first = next(i for i in a.recommendations if i.id == "REC-MTOR-FIRST-LINE")
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in first.conditional_on

    def test_no_end_recorded_is_asked(self) -> None:
        # the course's end is not recorded: it may have ended before the metastasis was
        # found, so whether it was found during the course is not known
        a = run(case(ended_on=None))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)

    def test_found_on_the_second_day_is_asked(self) -> None:
        # a course stopped after 4 days, the metastasis found on its second day: no trial
        # of the drug at all; the disease was there before it could act
        a = run(case(detected_on="2023-03-02", ended_on="2023-03-05"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)
        assert not any(f.path == "derived.relapse_during_adjuvant" for f in a.derived)

    def test_found_on_the_ninth_day_is_asked(self) -> None:
        # found 9 days into a year's course: the first restaging of the disease, not
        # growth on the drug; the mTOR inhibitor stays the treatment of choice, provisional
        a = run(case(detected_on="2023-03-10"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        first = next(i for i in a.recommendations if i.id == "REC-MTOR-FIRST-LINE")
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in first.conditional_on

    def test_found_a_day_short_of_three_months_is_asked(self) -> None:
        # 2023-05-31 is a day short of 3 months after the start (2023-03-01): still
        # within I29's work-up window, so the dates leave doubt
        a = run(case(detected_on="2023-05-31"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)

    def test_stated_synchronous_is_asked_whatever_the_day(self) -> None:
        # the team states the metastasis was present at presentation: it was there
        # before the course began, even though found (2024-01-15) during it, so it is
        # not counted as progression on the course
        a = run(case(timing="synchronous"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)

    def test_found_on_the_first_day_is_asked(self) -> None:
        # found the day the course began: present before the drug could act, not
        # progression on it by the dates
        a = run(case(detected_on="2023-03-01"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)

    def test_recorded_not_progressed_is_kept(self) -> None:
        # the team recorded that the disease did not progress on the course: its
        # judgement stands (the first-line advice, nothing asked)
        a = run(case(progressed="no"))
        assert "REC-MTOR-FIRST-LINE" in ids(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)
        assert "MISS-MTOR-ADJUVANT-RELAPSE" not in asked(a)

    def test_the_meanwhile_names_the_reading_and_the_dates(self) -> None:
        from pecoma import load_knowledge

        record = load_knowledge().missing["MISS-MTOR-ADJUVANT-RELAPSE"]
        assert "I19" in record.meanwhile
        assert "found during the course" in record.meanwhile
        assert "3 months or more after its start" in record.meanwhile
        assert "synchronous" in record.meanwhile

    def test_the_anthracycline_meanwhile_says_the_same(self) -> None:
        # both questions are answered by the dates the same way; both records say so
        from pecoma import load_knowledge

        record = load_knowledge().missing["MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE"]
        assert "found during the course" in record.meanwhile
        assert "3 months or more after its start" in record.meanwhile
        assert "I29" in record.interpretations


CONFIRM = "MISS-ADJUVANT-NO-PROGRESSION-DATES"


def provisional(a: Assessment, missing_id: str) -> set[str]:
    return {i.id for i in (*a.recommendations, *a.followup) if missing_id in i.conditional_on}


class TestRecordedNotProgressedAgainstTheDates:
    """'Progressed: no' on an adjuvant course while the record's dates put a metastasis
    inside it (the window the dates count progression by when it is not recorded): the
    team's answer is kept, but not silently. Progression on the course would take away
    the drug class the disease grew on (REC-NO-NEXT-LINE after an mTOR inhibitor), so
    the answer is asked to be confirmed, naming the course and the metastasis, and the
    advice of that class is provisional on it (HAZ-556)."""

    def test_the_recorded_no_is_kept_and_asked_to_be_confirmed(self) -> None:
        a = run(case(progressed="no"))
        # the team's answer stands: the first-line mTOR advice, no silence
        assert "REC-MTOR-FIRST-LINE" in ids(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)
        question = next(m for m in a.missing if m.id == CONFIRM)
        # the question names the course and the day the metastasis was found
        assert "sirolimus, adjuvant, 2023-03-01 to 2024-02-01" in question.question
        assert "found on 2024-01-15" in question.question
        assert "no next line" in question.would_change
        # the mTOR advice (and nab-sirolimus, enrolled mTOR-naive) provisional on it
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"} <= provisional(a, CONFIRM)
        assert set(question.affects) == provisional(a, CONFIRM)

    def test_an_adjuvant_anthracycline_recorded_no_is_asked_the_same(self) -> None:
        a = run(case("doxorubicin", progressed="no", mtor_available="no"))
        assert "REC-ANTHRACYCLINE" in ids(a)
        assert "REC-ANTHRACYCLINE" in provisional(a, CONFIRM)

    def test_an_adjuvant_ifosfamide_recorded_no_holds_s15_provisional(self) -> None:
        """Progression on ifosfamide takes S15's epirubicin with ifosfamide away
        (REC-UTERINE-EPI-IFO-PAST): with a uterine primary and ifosfamide recorded not
        progressed on while the dates put a metastasis in the course, the regimen is
        provisional on the confirmation, not shown firm."""
        a = run(uterine(case("ifosfamide", progressed="no")))
        assert "REC-UTERINE-EPI-IFO" in provisional(a, CONFIRM)
        question = next(m for m in a.missing if m.id == CONFIRM)
        assert set(question.affects) == provisional(a, CONFIRM)
        assert "after ifosfamide" in question.would_change

    def test_a_course_whose_progression_changes_no_advice_is_not_asked(self) -> None:
        """Adjuvant pazopanib recorded not progressed on: the guideline names no advice
        that progression on it would change, so the question would affect nothing (a
        question asked for nothing is noise beside the ones that matter)."""
        a = run(case("pazopanib", progressed="no"))
        assert CONFIRM not in asked(a)

    def test_the_question_does_not_point_at_the_timing(self) -> None:
        """Recording the metastasis as synchronous to clear the question would feed the
        lung-metastasectomy rules a timing nobody judged: the question asks for the
        team's confirmation and names only the progression."""
        question = next(m for m in run(case(progressed="no")).missing if m.id == CONFIRM)
        assert "synchronous" not in question.question

    def test_no_doubt_from_the_dates_nothing_asked(self) -> None:
        # found after the course ended (the team's judgement), within the first 3
        # months (may have been there before the drug could act, I29), or stated
        # synchronous: the dates do not contradict the recorded 'no'
        for data in (case(progressed="no", detected_on="2024-03-01"),
                     case(progressed="no", detected_on="2023-04-15"),
                     case(progressed="no", timing="synchronous")):
            a = run(data)
            assert CONFIRM not in asked(a)
            assert provisional(a, CONFIRM) == set()


class TestRecordedNotProgressedOnACourseWithoutAnEnd:
    """'Progressed: no' on an adjuvant course whose end is not recorded (lines read from
    EHR orders never carry one): the course may still have been running when the
    metastasis was found, so a metastasis found 3 months or more after its start may
    contradict the recorded 'no' as much as one inside a dated course. The answer is
    kept and asked to be confirmed, the question saying the end is not recorded; the
    dates never count progression on such a course (HAZ-559)."""

    def test_found_four_months_in_is_asked(self) -> None:
        # sirolimus begun 2023-03-01, no end, a liver metastasis on 2023-07-01: if the
        # course was still running the disease grew on it, and the mTOR first line and
        # nab-sirolimus (mTOR-naive trial) would be wrong; the team is asked
        a = run(case(progressed="no", ended_on=None, detected_on="2023-07-01"))
        assert "REC-MTOR-FIRST-LINE" in ids(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)
        question = next(m for m in a.missing if m.id == CONFIRM)
        assert "sirolimus, adjuvant, from 2023-03-01, its end not recorded" in question.question
        assert "found on 2023-07-01" in question.question
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"} <= provisional(a, CONFIRM)
        assert set(question.affects) == provisional(a, CONFIRM)

    def test_found_two_months_in_is_not_asked(self) -> None:
        # within I29's window of about 3 months from the start the metastasis may have
        # been there before the drug could act: the recorded 'no' is not contradicted
        a = run(case(progressed="no", ended_on=None, detected_on="2023-05-01"))
        assert CONFIRM not in asked(a)
        assert provisional(a, CONFIRM) == set()

    def test_stated_synchronous_is_not_asked(self) -> None:
        # a synchronous metastasis was present at presentation, before the course
        a = run(case(progressed="no", ended_on=None, detected_on="2023-07-01",
                     timing="synchronous"))
        assert CONFIRM not in asked(a)

    def test_unrecorded_progression_is_still_not_counted(self) -> None:
        # progression not recorded on a course without an end: the course may have
        # ended before the metastasis, so nothing is counted; the relapse question is
        # asked as before and no confirmation of a 'no' nobody recorded
        a = run(case(ended_on=None, detected_on="2023-07-01"))
        assert "MISS-MTOR-ADJUVANT-RELAPSE" in asked(a)
        assert CONFIRM not in asked(a)
        assert "REC-NO-NEXT-LINE" not in ids(a)
        assert not any(f.path == "derived.relapse_during_adjuvant" for f in a.derived)


def uterine(data: dict[str, Any]) -> dict[str, Any]:
    """The same case with a uterine primary, the cervix not involved (S15 applies)."""
    data["tumour"] = {"primary_site": "uterus", "cervix": "no",
                      "size": {"value": 8, "unit": "cm"}}
    return data


class TestEarlyMetastasisOnAdjuvantDoxorubicin:
    """A uterine primary, adjuvant doxorubicin, a metastasis found 40 days in (I29's
    window: the dates do not tell). Had the disease progressed on the doxorubicin, S15's
    epirubicin with ifosfamide would be a second anthracycline course, shown with that
    caveat (I26), so the regimen is provisional on the relapse question, as the question's
    meanwhile says, with or without an mTOR inhibitor to give (HAZ-557)."""

    def test_without_an_mtor_inhibitor_both_anthracycline_items_wait_on_it(self) -> None:
        a = run(uterine(case("doxorubicin", detected_on="2023-04-10",
                             mtor_available="no")))
        relapse = "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE"
        assert {"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO"} <= provisional(a, relapse)
        assert "provisional on this answer" in next(
            m for m in a.missing if m.id == relapse).meanwhile

    def test_with_an_mtor_inhibitor_the_regimen_is_asked_of_too(self) -> None:
        # the mTOR first line stands whatever the answer; S15's regimen does not
        a = run(uterine(case("doxorubicin", detected_on="2023-04-10")))
        relapse = "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE"
        assert relapse in asked(a)
        assert provisional(a, relapse) == {"REC-UTERINE-EPI-IFO"}

    def test_counted_as_progression_nothing_is_asked(self) -> None:
        # found 3 months or more into the course: counted, the I26 caveat shown, the
        # regimen firm
        a = run(uterine(case("doxorubicin", detected_on="2023-06-20")))
        assert "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE" not in asked(a)
        epi = next(i for i in a.recommendations if i.id == "REC-UTERINE-EPI-IFO")
        assert "derived.after_anthracycline_progression" in {f.path for f in epi.triggered_by}
        assert epi.conditional_on == ()


class TestAnAnthracyclineCourseTheSame:
    def test_found_nine_days_in_is_asked(self) -> None:
        # mTOR inhibitors unavailable, adjuvant doxorubicin begun 2023-03-01: a metastasis
        # found 9 days in may have been there before the drug could act, so doxorubicin
        # stays the option, provisional on the answer
        a = run(case("doxorubicin", detected_on="2023-03-10", mtor_available="no"))
        assert "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE" in asked(a)
        assert "REC-NO-LINE-AFTER-ANTHRACYCLINE" not in ids(a)


def uterine_doxorubicin() -> dict[str, Any]:
    """A uterine primary, adjuvant doxorubicin 2023-03-01 to 2023-08-01 with its
    progression not recorded, a liver metastasis found on 2023-07-01 (4 months in):
    counted as progression on the course."""
    data = case("doxorubicin", detected_on="2023-07-01", ended_on="2023-08-01")
    data["tumour"]["primary_site"] = "uterus"
    return data


class TestTheCountedProgressionIsShownAsDerived:
    """Every item listing a counted line shows the derived fact, never a progression
    'yes' that was not entered (HAZ-529)."""

    def test_the_alert_on_the_anthracycline_given(self) -> None:
        a = run(uterine_doxorubicin())
        alert = next(i for i in a.alerts if i.id == "ALERT-ANTHRACYCLINE-GIVEN")
        paths = {f.path: f.value for f in alert.triggered_by}
        # 'progressed' was never entered: the line's facts say why it is counted
        assert paths.get("systemic.therapies[0].progressed") != "yes"
        assert "derived.relapse_during_adjuvant" in paths

    def test_the_uterine_regimen(self) -> None:
        a = run(uterine_doxorubicin())
        rec = next(i for i in a.recommendations if i.id == "REC-UTERINE-EPI-IFO")
        assert not any(f.path.endswith(".progressed") and f.value == "yes"
                       for f in rec.triggered_by)
        assert any(f.path == "derived.relapse_during_adjuvant" for f in rec.triggered_by)

    def test_no_item_shows_a_progression_not_entered(self) -> None:
        # sirolimus and doxorubicin both adjuvant, the metastasis found during both
        data = case(detected_on="2023-07-01", ended_on="2023-08-01")
        data["tumour"]["primary_site"] = "uterus"
        data["systemic"]["therapies"].append(
            {"agent": "doxorubicin", "setting": "adjuvant", "progressed": "unknown",
             "started_on": "2023-03-01", "ended_on": "2023-08-01"})
        a = run(data)
        items = [*a.recommendations, *a.alerts]
        assert items
        for item in items:
            assert not any(f.path.endswith("progressed") and f.value == "yes"
                           for f in item.triggered_by), item.id
