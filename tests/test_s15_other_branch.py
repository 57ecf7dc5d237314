"""S15's other branch: the guideline's silence after progression beside a provisional S15.

S15 names epirubicin with ifosfamide for malignant uterine PEComa. Where it is offered
the guideline does name a further line, so its silence after progression (on an mTOR
inhibitor, REC-NO-NEXT-LINE; on anthracycline-based chemotherapy where mTOR inhibitors
cannot be used, REC-NO-LINE-AFTER-ANTHRACYCLINE) is not said. But while S15 is offered
only provisionally, on a question whose other answer leaves it out (the primary may lie
outside the uterus, the disease may have progressed on a line that puts it in the past,
an intolerance may rule out its drugs), the silence is that other answer: unknown is not
absent, so it is shown beside S15, provisional on the same question, never dropped.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 11, 28)
S15 = "REC-UTERINE-EPI-IFO"
SILENT_MTOR = "REC-NO-NEXT-LINE"
SILENT_CHEMO = "REC-NO-LINE-AFTER-ANTHRACYCLINE"


def case(site: str = "other_gynecologic", cervix: str | None = None,
         therapies: list[dict[str, Any]] | None = None, mtor_available: str = "yes",
         intolerances: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A malignant gynecologic PEComa resected R0 in 2022, a lung metastasis in 2024
    that surgery cannot remove (advanced disease, I6); by default progressed on
    sirolimus."""
    tumour: dict[str, Any] = {"primary_site": site, "size": {"value": 6, "unit": "cm"}}
    if cervix is not None:
        tumour["cervix"] = cervix
    systemic: dict[str, Any] = {
        "mtor_inhibitor_available": mtor_available, "mtor_inhibitor_contraindicated": "no",
        "therapies": therapies if therapies is not None else [
            {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"}]}
    if intolerances is not None:
        systemic["intolerances"] = intolerances
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2022-01-05",
                      "prior_diagnosis": "none"},
        "tumour": tumour,
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "vascular_invasion": "present",
                      "nuclear_pleomorphism_or_giant_cells": "present",
                      "mitoses_per_50_hpf": 8},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "mitf": "positive", "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": "2024-01-05"}],
                  "extrapulmonary_disease": "no", "resectable": "no",
                  "complete_excision_feasible": "no"},
        "surgery": {"status": "performed", "date": "2022-02-01", "margin": "R0"},
        "systemic": systemic,
    }


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def recs(a: Assessment) -> dict[str, tuple[str, ...]]:
    return {i.id: i.conditional_on for i in a.recommendations}


def affects(a: Assessment, missing_id: str) -> tuple[str, ...]:
    return next(m.affects for m in a.missing if m.id == missing_id)


class TestThePrimaryMayLieOutsideTheUterus:
    def test_progressed_on_an_mtor_inhibitor(self) -> None:
        """Another gynecologic site, the cervix not recorded, progressed on sirolimus:
        cervical (uterine), S15 is the guideline's further line; outside the uterus the
        guideline names none. Both are shown, each provisional on the site; the silence
        had been dropped."""
        a = run(case())
        r = recs(a)
        assert r[S15] == ("MISS-PRIMARY-CERVIX",)
        assert r[SILENT_MTOR] == ("MISS-PRIMARY-CERVIX",)
        # the question names both items it decides between
        assert set(affects(a, "MISS-PRIMARY-CERVIX")) == {S15, SILENT_MTOR}
        # the guideline's own option is read first, the silence after it
        ids = list(r)
        assert ids.index(S15) < ids.index(SILENT_MTOR)
        # the guideline's force is kept: silence, not a directive
        silent = next(i for i in a.recommendations if i.id == SILENT_MTOR)
        assert silent.strength == "guideline silent"
        # answered, one of the two stands alone, settled
        outside = recs(run(case(cervix="no")))
        assert outside[SILENT_MTOR] == () and S15 not in outside
        uterine = recs(run(case(site="uterus")))
        assert uterine[S15] == () and SILENT_MTOR not in uterine

    def test_progressed_on_doxorubicin_mtor_unavailable(self) -> None:
        """mTOR inhibitors unavailable, progressed on doxorubicin (S14's first line): for
        a uterine primary S15 still stands (a different regimen), outside the uterus the
        guideline names no further line. The site not recorded: both shown, each
        provisional on it; the silence had been dropped."""
        a = run(case(mtor_available="no", therapies=[
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"}]))
        r = recs(a)
        assert r[S15] == ("MISS-PRIMARY-CERVIX",)
        assert r[SILENT_CHEMO] == ("MISS-PRIMARY-CERVIX",)
        assert set(affects(a, "MISS-PRIMARY-CERVIX")) == {S15, SILENT_CHEMO}

    def test_the_question_says_what_it_decides(self) -> None:
        """The question's text names the silence outside the uterus and says it is shown
        meanwhile, so the team knows why the two items stand together."""
        a = run(case())
        miss = next(m for m in a.missing if m.id == "MISS-PRIMARY-CERVIX")
        assert "no further line" in miss.would_change
        assert "silence" in miss.meanwhile
        assert "S28" in miss.provenance.statements


class TestOtherQuestionsS15WaitsOn:
    def test_a_line_of_its_regimen_progression_not_recorded(self) -> None:
        """Uterine primary, progressed on sirolimus, an earlier epirubicin with
        ifosfamide line whose outcome is not recorded: progressed on it, S15 is past and
        the guideline names no further line. S15 waits on that answer, and so does the
        silence beside it; the silence had been dropped."""
        a = run(case(site="uterus", therapies=[
            {"agent": "epirubicin_ifosfamide", "line": 1, "started_on": "2023-01-10",
             "progressed": "unknown"},
            {"agent": "sirolimus", "line": 2, "started_on": "2024-02-01",
             "progressed": "yes"}]))
        r = recs(a)
        assert "MISS-ANTHRACYCLINE-PROGRESSION" in r[S15]
        assert "MISS-ANTHRACYCLINE-PROGRESSION" in r[SILENT_MTOR]

    def test_an_intolerance_that_may_be_of_the_class(self) -> None:
        """Uterine primary, progressed on sirolimus, doxorubicin recorded as not
        tolerated without saying whether of the class: of the class, epirubicin is ruled
        out and S15 withheld (I15), leaving the guideline's silence. S15 is shown
        provisional on the question (I15), and the silence beside it; it had been
        dropped."""
        a = run(case(site="uterus", intolerances=[{"agent": "doxorubicin"}]))
        r = recs(a)
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" in r[S15]
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" in r[SILENT_MTOR]
