"""The anthracycline contraindication not recorded is asked, never read as 'no' (HAZ-528).

A cardiac contraindication (a reduced left-ventricular ejection fraction, the cumulative
dose already given) rules doxorubicin (S14) and epirubicin with ifosfamide (S15) out
(I15). Left unknown, it is asked, and the items proposing an anthracycline stand
provisional on it, as the mTOR-inhibitor contraindication is asked beside the mTOR advice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2025, 6, 1)


def case(site: str = "soft_tissue", anthracycline: str | None = None) -> dict[str, Any]:
    """Metastatic malignant PEComa beyond surgery (advanced, I6), mTOR inhibitors
    unavailable: S14's anthracycline option is the advice."""
    systemic: dict[str, Any] = {"mtor_inhibitor_available": "no"}
    if anthracycline is not None:
        systemic["anthracycline_contraindicated"] = anthracycline
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": site, "size": {"value": 9, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "liver", "timing": "synchronous"}],
                  "extrapulmonary_disease": "yes", "resectable": "no",
                  "complete_excision_feasible": "no"},
        "surgery": {"status": "not_performed"},
        "systemic": systemic,
    }


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def conditions(a: Assessment, item: str) -> tuple[str, ...]:
    return next(i for i in a.recommendations if i.id == item).conditional_on


class TestAsked:
    def test_unknown_makes_doxorubicin_provisional(self) -> None:
        # not recorded: a cardiac contraindication may rule doxorubicin out; it is still
        # shown (the option S14 gives), provisional on the question
        for anthracycline in (None, "unknown"):
            a = run(case(anthracycline=anthracycline))
            assert "MISS-ANTHRACYCLINE-CONTRAINDICATED" in {m.id for m in a.missing}
            assert "MISS-ANTHRACYCLINE-CONTRAINDICATED" in conditions(a, "REC-ANTHRACYCLINE")
            rec = next(i for i in a.recommendations if i.id == "REC-ANTHRACYCLINE")
            assert any(f.path == "systemic.anthracycline_contraindicated"
                       for f in rec.triggered_by)

    def test_the_uterine_regimen_waits_on_it_too(self) -> None:
        # epirubicin is an anthracycline: S15's regimen is as provisional as S14's
        a = run(case("uterus"))
        assert "MISS-ANTHRACYCLINE-CONTRAINDICATED" in conditions(a, "REC-UTERINE-EPI-IFO")

    def test_recorded_no_asks_nothing(self) -> None:
        # the team recorded no contraindication: the option stands, nothing asked
        a = run(case("uterus", anthracycline="no"))
        assert "MISS-ANTHRACYCLINE-CONTRAINDICATED" not in {m.id for m in a.missing}
        assert conditions(a, "REC-ANTHRACYCLINE") == ()

    def test_recorded_yes_withholds_it(self) -> None:
        # contraindicated: no anthracycline is proposed (I15), nothing asked
        a = run(case(anthracycline="yes"))
        assert "REC-ANTHRACYCLINE" not in {i.id for i in a.recommendations}
        assert "MISS-ANTHRACYCLINE-CONTRAINDICATED" not in {m.id for m in a.missing}

    def test_the_question_reads_on_a_card_too(self) -> None:
        # asked on the web form and on a CDS card read inside the EHR, where there is no
        # form field to name: a plain question, as MISS-MTOR-CONTRAINDICATED's is
        from pecoma import load_knowledge

        record = load_knowledge().missing["MISS-ANTHRACYCLINE-CONTRAINDICATED"]
        assert record.question.endswith("contraindicated, for a cardiac reason (a reduced "
                                        "left-ventricular ejection fraction, the cumulative "
                                        "dose already given) or another?")
        assert "Record the answer" not in record.question

    def test_the_meanwhile_names_what_is_shown(self) -> None:
        # a uterine case with mTOR inhibitors usable shows S15's regimen alone (S14's
        # option is the alternative where mTOR inhibitors cannot be used): the meanwhile
        # names either, as the case gives them, not S14's option as always shown
        from pecoma import load_knowledge

        record = load_knowledge().missing["MISS-ANTHRACYCLINE-CONTRAINDICATED"]
        assert "S14's option (and" not in record.meanwhile
        assert "as the case gives them" in record.meanwhile


class TestFromAnEhr:
    """Read from a FHIR bundle (import, CDS card), the contraindication not sent is listed
    as not found in the record, as the mTOR-inhibitor one is: the card asks it and says it
    is unknown, not absent."""

    def test_not_sent_is_listed_as_not_found(self) -> None:
        from pecoma.fhir.reader import case_from_bundle
        from pecoma.fhir.writer import bundle_from_case

        back = case_from_bundle(bundle_from_case(parse_case(case())))
        assert "systemic.anthracycline_contraindicated" in back.not_found
        assert "MISS-ANTHRACYCLINE-CONTRAINDICATED" in {
            m.id for m in assess(back.case, ON).missing}

    def test_sent_is_not_listed(self) -> None:
        from pecoma.fhir.reader import case_from_bundle
        from pecoma.fhir.writer import bundle_from_case

        back = case_from_bundle(bundle_from_case(parse_case(case(anthracycline="no"))))
        assert "systemic.anthracycline_contraindicated" not in back.not_found
