"""The guideline's silence after progression beside S15, settled or provisional.

S15 reports that epirubicin with ifosfamide has shown efficacy in malignant uterine
PEComa; it is no stated line after another. The guideline's silence after progression
(on an mTOR inhibitor, REC-NO-NEXT-LINE; on anthracycline-based chemotherapy where mTOR
inhibitors cannot be used, REC-NO-LINE-AFTER-ANTHRACYCLINE) holds whatever the site, so
it is said beside S15 and waits on none of S15's questions (the primary may lie outside
the uterus, the disease may have progressed on a line that puts S15 in the past, an
intolerance may rule out its drugs): those decide S15 alone. (It had been dropped
whenever S15 stood settled, and shown provisional on S15's questions otherwise.)
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
    # both contraindications recorded as absent: what S15 waits on here is the site alone
    # (an anthracycline contraindication not recorded is asked beside it, HAZ-528)
    systemic: dict[str, Any] = {
        "mtor_inhibitor_available": mtor_available, "mtor_inhibitor_contraindicated": "no",
        "anthracycline_contraindicated": "no",
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
        cervical (uterine), S15's report of efficacy applies; the guideline names no
        further line whatever the site. S15 is provisional on the site, the silence is
        settled (it had waited on the site, and been dropped for a uterine primary)."""
        a = run(case())
        r = recs(a)
        assert r[S15] == ("MISS-PRIMARY-CERVIX",)
        assert r[SILENT_MTOR] == ()
        # the question decides S15 alone
        assert affects(a, "MISS-PRIMARY-CERVIX") == (S15,)
        # the guideline's silence is read first, S15's report beside it
        ids = list(r)
        assert ids.index(SILENT_MTOR) < ids.index(S15)
        # the guideline's force is kept: silence, not a directive
        silent = next(i for i in a.recommendations if i.id == SILENT_MTOR)
        assert silent.strength == "guideline silent"
        # answered: outside the uterus the silence alone; uterine, both, settled
        outside = recs(run(case(cervix="no")))
        assert outside[SILENT_MTOR] == () and S15 not in outside
        uterine = recs(run(case(site="uterus")))
        assert uterine[S15] == () and uterine[SILENT_MTOR] == ()

    def test_progressed_on_doxorubicin_mtor_unavailable(self) -> None:
        """mTOR inhibitors unavailable, progressed on doxorubicin (S14's first line): the
        guideline names no further line, whatever the site; for a uterine primary S15 is
        shown beside it, a second anthracycline for the team to weigh (I26). The site not
        recorded: S15 provisional on it, the silence settled."""
        a = run(case(mtor_available="no", therapies=[
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"}]))
        r = recs(a)
        assert r[S15] == ("MISS-PRIMARY-CERVIX",)
        assert r[SILENT_CHEMO] == ()
        assert affects(a, "MISS-PRIMARY-CERVIX") == (S15,)

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
        the guideline names no further line. S15 waits on that answer; the silence
        beside it holds either way, settled."""
        a = run(case(site="uterus", therapies=[
            {"agent": "epirubicin_ifosfamide", "line": 1, "started_on": "2023-01-10",
             "progressed": "unknown"},
            {"agent": "sirolimus", "line": 2, "started_on": "2024-02-01",
             "progressed": "yes"}]))
        r = recs(a)
        assert "MISS-ANTHRACYCLINE-PROGRESSION" in r[S15]
        assert r[SILENT_MTOR] == ()

    def test_an_intolerance_that_may_be_of_the_class(self) -> None:
        """Uterine primary, progressed on sirolimus, doxorubicin recorded as not
        tolerated without saying whether of the class: of the class, epirubicin is ruled
        out and S15 withheld (I15). S15 is withheld meanwhile, the item saying so
        provisional on the question (I15; it had been shown provisional); the guideline's
        silence beside it holds either way, settled."""
        a = run(case(site="uterus", intolerances=[{"agent": "doxorubicin"}]))
        r = recs(a)
        assert S15 not in r
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" in r["REC-REGIMEN-NOT-TOLERATED"]
        assert r[SILENT_MTOR] == ()
