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
meanwhile (I19).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2025, 6, 1)


def case(agent: str = "sirolimus", *, detected_on: str = "2024-01-15",
         started_on: str | None = "2023-03-01", ended_on: str | None = "2024-02-01",
         progressed: str = "unknown", mtor_available: str = "yes") -> dict[str, Any]:
    """A malignant PEComa resected R0 on 2023-02-14, an adjuvant course after it, and a
    liver metastasis beyond surgery found on ``detected_on`` (advanced disease, I6)."""
    line: dict[str, Any] = {"agent": agent, "setting": "adjuvant", "progressed": progressed}
    if started_on is not None:
        line["started_on"] = started_on
    if ended_on is not None:
        line["ended_on"] = ended_on
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
                  "metastases": [{"site": "liver", "detected_on": detected_on}],
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
        assert not any(f.path == "systemic.therapies.progressed" for f in silence.triggered_by)
        assert any(f.path == "derived.relapse_during_adjuvant" for f in a.derived)

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
