"""Systemic advice after a treatment has failed: the guideline's silence for a uterine
primary, epirubicin with ifosfamide after progression on doxorubicin, and nab-sirolimus
after progression on any mTOR inhibitor; S15 after progression on ifosfamide.

S15 reports that epirubicin with ifosfamide has shown efficacy in malignant uterine
PEComa; it names no line after another. After progression on an mTOR inhibitor (or on
doxorubicin where mTOR inhibitors cannot be used) the guideline names no next line, for a
uterine primary as for any other. Epirubicin after doxorubicin is a second anthracycline
(I26); after progression on ifosfamide, alone or with doxorubicin, S15's regimen would
give again a drug the disease grew on. nab-Sirolimus is sirolimus bound to albumin (I15):
after progression on either it is the drug that failed, and its trial (AMPECT) enrolled
patients never given an mTOR inhibitor: after progression on any of them it is not
proposed, whatever line followed. A later mTOR line not progressed on leaves the
guideline's silence in place, named beside it as the treatment under way (I19).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2025, 6, 1)


def case(site: str = "uterus", *, contraindicated: str = "no",
         therapies: list[dict[str, Any]]) -> dict[str, Any]:
    """A malignant PEComa resected R0 in 2023, a lung metastasis beyond surgery in 2024
    (advanced disease, I6), mTOR inhibitors available."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2023-01-05",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": site, "size": {"value": 9, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "mitoses_per_50_hpf": 6},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": "2024-01-10"}],
                  "extrapulmonary_disease": "no", "resectable": "no",
                  "complete_excision_feasible": "no"},
        "surgery": {"status": "performed", "date": "2023-02-01", "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes",
                     "mtor_inhibitor_contraindicated": contraindicated,
                     "anthracycline_contraindicated": "no",
                     "therapies": therapies},
    }


SIROLIMUS_PD = {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
                "progressed": "yes"}


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def rec(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.recommendations if i.id == record_id)


def ids(a: Assessment) -> list[str]:
    return [i.id for i in a.recommendations]


def facts(item: Item) -> dict[str, str]:
    return {f.path: str(f.value) for f in item.triggered_by}


class TestTheSilenceForAUterinePrimary:
    def test_after_progression_on_an_mtor_inhibitor(self) -> None:
        """Uterine, progressed on sirolimus: the guideline names no next line, said as for
        a renal primary (it had been dropped because S15 was shown); S15's report stands
        beside it, naming the mTOR progression, and the published experience stays apart
        after the guideline's own items."""
        a = run(case(therapies=[SIROLIMUS_PD]))
        order = ids(a)
        assert "REC-NO-NEXT-LINE" in order
        assert rec(a, "REC-NO-NEXT-LINE").conditional_on == ()
        assert order.index("REC-NO-NEXT-LINE") < order.index("REC-UTERINE-EPI-IFO") \
            < order.index("SUPP-AFTER-MTOR")
        s15 = rec(a, "REC-UTERINE-EPI-IFO")
        assert s15.strength == "option"
        # its facts say the mTOR inhibitor failed, and its reason no longer calls mTOR
        # inhibition the first choice without condition
        assert facts(s15)["systemic.therapies.agent"] == "sirolimus"
        assert facts(s15)["systemic.therapies.progressed"] == "yes"
        assert "does not displace mTOR inhibition as first choice" not in s15.rationale
        assert "where the disease has progressed on one" in s15.rationale
        # the kidney case says the same silence
        kidney = run(case("kidney", therapies=[SIROLIMUS_PD]))
        assert "REC-NO-NEXT-LINE" in ids(kidney)
        assert "REC-UTERINE-EPI-IFO" not in ids(kidney)

    def test_after_progression_on_doxorubicin_mtor_contraindicated(self) -> None:
        """Uterine, mTOR inhibitors contraindicated, progressed on doxorubicin: the
        guideline names no further line (it had been dropped for a uterine primary);
        S15's regimen is shown beside it, naming the mTOR contraindication."""
        a = run(case(contraindicated="yes", therapies=[
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"}]))
        assert rec(a, "REC-NO-LINE-AFTER-ANTHRACYCLINE").conditional_on == ()
        s15 = rec(a, "REC-UTERINE-EPI-IFO")
        assert facts(s15)["systemic.mtor_inhibitor_contraindicated"] == "yes"


class TestEpirubicinAfterDoxorubicin:
    def test_named_as_a_second_anthracycline(self) -> None:
        """Progressed on doxorubicin: epirubicin is the same class. S15's item names the
        doxorubicin line the disease progressed on and says it would be a second
        anthracycline course, for the team to weigh, citing I26; its force stays an
        option, never stronger than the guideline's 'has shown efficacy'."""
        a = run(case(contraindicated="yes", therapies=[
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"}]))
        s15 = rec(a, "REC-UTERINE-EPI-IFO")
        f = facts(s15)
        assert f["systemic.therapies[0].agent"] == "doxorubicin"
        assert f["systemic.therapies[0].progressed"] == "yes"
        said = f["derived.after_anthracycline_progression"]
        assert "second anthracycline" in said and "to weigh" in said and "I26" in said
        assert "I26" in s15.provenance.interpretations
        assert "I26" in {i.id for i in a.interpretations}
        assert s15.strength == "option"
        # a doxorubicin line the disease has not progressed on is no failure: S15 is not
        # worded as after one, and I26 is not cited
        working = run(case(contraindicated="yes", therapies=[
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "progressed": "no"}]))
        s15 = rec(working, "REC-UTERINE-EPI-IFO")
        assert "derived.after_anthracycline_progression" not in facts(s15)
        assert "I26" not in s15.provenance.interpretations

    def test_after_mtor_and_doxorubicin(self) -> None:
        """Progressed on sirolimus, then on doxorubicin: the silence after mTOR
        progression, and S15 naming the doxorubicin progression (I26)."""
        a = run(case(therapies=[SIROLIMUS_PD, {
            "agent": "doxorubicin", "line": 2, "started_on": "2024-09-01",
            "progressed": "yes"}]))
        assert "REC-NO-NEXT-LINE" in ids(a)
        s15 = rec(a, "REC-UTERINE-EPI-IFO")
        assert "derived.after_anthracycline_progression" in facts(s15)


class TestNabSirolimusAfterSirolimusFailed:
    def test_withheld_after_sirolimus_progression_with_everolimus_since(self) -> None:
        """Progressed on sirolimus, everolimus since and working: nab-sirolimus is the
        drug that failed (I15) and AMPECT enrolled patients not given an mTOR inhibitor:
        not proposed. The guideline names no line after progression on an mTOR
        inhibitor: its silence is said, the everolimus line named beside it as the
        treatment under way (I19), never as S12's treatment of choice."""
        a = run(case("kidney", therapies=[SIROLIMUS_PD, {
            "agent": "everolimus", "line": 2, "started_on": "2024-06-01",
            "progressed": "no"}]))
        assert "SUPP-NAB-SIROLIMUS" not in ids(a)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        silent = rec(a, "REC-NO-NEXT-LINE")
        f = facts(silent)
        assert f["systemic.therapies.agent"] == "sirolimus"
        assert f["systemic.therapies[1].agent"] == "everolimus"
        assert "nab-Sirolimus is not proposed" in f["derived.mtor_after_progression"]
        assert "I15" in silent.provenance.interpretations
        # no sirolimus line, everolimus working: nab-sirolimus stays listed (the rule is
        # about a progression on an mTOR inhibitor, not about any mTOR inhibitor given)
        everolimus = run(case("kidney", therapies=[
            {"agent": "everolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "no"}]))
        assert "SUPP-NAB-SIROLIMUS" in ids(everolimus)
        assert "derived.mtor_after_progression" not in facts(
            rec(everolimus, "REC-MTOR-FIRST-LINE"))

    def test_withheld_after_nab_sirolimus_progression(self) -> None:
        """Progressed on nab-sirolimus itself, everolimus since: never proposed again."""
        a = run(case("kidney", therapies=[
            {"agent": "nab_sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"},
            {"agent": "everolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        assert "SUPP-NAB-SIROLIMUS" not in ids(a)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        # the drug is named as one drug, not as a regimen 'nab with sirolimus'
        said = facts(rec(a, "REC-NO-NEXT-LINE"))["derived.mtor_after_progression"]
        assert "progressed on nab-sirolimus:" in said

    def test_provisional_when_an_earlier_sirolimus_outcome_is_unknown(self) -> None:
        """Sirolimus first, whether the disease progressed on it not recorded, everolimus
        since and working: if it did, nab-sirolimus is the drug that failed. It had been
        listed plainly (the same sirolimus line alone makes it provisional); it now waits
        on the same question, the sirolimus line named. The first-line item, the
        treatment under way, does not wait on it."""
        a = run(case("kidney", therapies=[
            {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "unknown"},
            {"agent": "everolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        nab = rec(a, "SUPP-NAB-SIROLIMUS")
        assert "MISS-MTOR-PROGRESSION" in nab.conditional_on
        f = facts(nab)
        assert f["systemic.therapies[0].agent"] == "sirolimus"
        assert f["systemic.therapies[0].progressed"] == "unknown"
        assert "MISS-MTOR-PROGRESSION" not in rec(a, "REC-MTOR-FIRST-LINE").conditional_on
        asked = next(m for m in a.missing if m.id == "MISS-MTOR-PROGRESSION")
        assert "SUPP-NAB-SIROLIMUS" in asked.affects
        # recorded as not progressed: listed plainly again
        plain = run(case("kidney", therapies=[
            {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "no"},
            {"agent": "everolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        assert rec(plain, "SUPP-NAB-SIROLIMUS").conditional_on == ()
        # an adjuvant sirolimus course: whether the disease recurred during it is asked
        adjuvant = run(case("kidney", therapies=[
            {"agent": "sirolimus", "setting": "adjuvant", "started_on": "2023-03-01",
             "progressed": "unknown"},
            {"agent": "everolimus", "line": 1, "started_on": "2024-06-01",
             "progressed": "no"}]))
        assert rec(adjuvant, "SUPP-NAB-SIROLIMUS").conditional_on == (
            "MISS-MTOR-ADJUVANT-RELAPSE",)


class TestNabSirolimusAfterAnyMtorFailed:
    def test_withheld_after_everolimus_progression_with_sirolimus_since(self) -> None:
        """Progressed on everolimus, sirolimus since and working: the mTOR class has
        failed once and AMPECT enrolled patients never given an mTOR inhibitor, as after
        everolimus progression alone (where it is not shown): not proposed. The silence
        names the progression and the sirolimus line, and cites I19 (continuing it is
        the team's decision)."""
        a = run(case("kidney", therapies=[
            {"agent": "everolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"},
            {"agent": "sirolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        assert "SUPP-NAB-SIROLIMUS" not in ids(a)
        silent = rec(a, "REC-NO-NEXT-LINE")
        f = facts(silent)
        assert f["systemic.therapies.agent"] == "everolimus"
        assert f["systemic.therapies.progressed"] == "yes"
        assert f["systemic.therapies[1].agent"] == "sirolimus"
        assert "I19" in silent.provenance.interpretations

    def test_withheld_after_temsirolimus_progression_with_sirolimus_since(self) -> None:
        """Progressed on temsirolimus, sirolimus since and working: withheld as well
        (the class failed once, whatever line came after)."""
        a = run(case("kidney", therapies=[
            {"agent": "temsirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"},
            {"agent": "sirolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        assert "SUPP-NAB-SIROLIMUS" not in ids(a)
        assert facts(rec(a, "REC-NO-NEXT-LINE"))[
            "systemic.therapies.agent"] == "temsirolimus"


class TestSilenceAfterAnyMtorProgression:
    """Once the disease has progressed on an mTOR inhibitor the guideline names no next
    line (S28; S12 and S13 name the class as the first line): another mTOR inhibitor
    after it is outside the guideline, the class taken as one (I15). A later mTOR line
    recorded as not progressed had made the first-line item 'treatment of choice'
    settled again and dropped the silence, while a doxorubicin line in its place kept
    it: the same progression gave two answers by the drug that came next."""

    LATER_NOT_PROGRESSED = (
        ("sirolimus", "everolimus"), ("everolimus", "sirolimus"),
        ("temsirolimus", "nab_sirolimus"), ("nab_sirolimus", "everolimus"),
        ("sirolimus", "sirolimus"))

    def test_silence_stays_whatever_mtor_line_came_after(self) -> None:
        for failed, later in self.LATER_NOT_PROGRESSED:
            a = run(case("kidney", therapies=[
                {"agent": failed, "line": 1, "started_on": "2024-02-01",
                 "progressed": "yes"},
                {"agent": later, "line": 2, "started_on": "2024-06-01",
                 "progressed": "no"}]))
            got = ids(a)
            assert "REC-NO-NEXT-LINE" in got, (failed, later)
            assert rec(a, "REC-NO-NEXT-LINE").conditional_on == (), (failed, later)
            # S12's force is not given to a line after progression on the class
            assert "REC-MTOR-FIRST-LINE" not in got, (failed, later)
            assert "SUPP-NAB-SIROLIMUS" not in got, (failed, later)
            said = facts(rec(a, "REC-NO-NEXT-LINE"))["derived.mtor_after_progression"]
            assert "not its treatment of choice" in said
            assert "treatment under way" in said

    def test_the_same_as_after_a_doxorubicin_line(self) -> None:
        """Neighbour: sirolimus progressed, doxorubicin since and working: the silence
        was kept, and is; no mTOR line after it, so nothing is named as under way."""
        a = run(case("kidney", therapies=[SIROLIMUS_PD, {
            "agent": "doxorubicin", "line": 2, "started_on": "2024-06-01",
            "progressed": "no"}]))
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        assert "derived.mtor_after_progression" not in facts(rec(a, "REC-NO-NEXT-LINE"))

    def test_an_earlier_line_not_progressed_is_not_named_under_way(self) -> None:
        """Neighbour: everolimus stopped without progression, sirolimus since, progressed
        on: the silence as before, the earlier everolimus line not named as under way."""
        a = run(case("kidney", therapies=[
            {"agent": "everolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "no"},
            {"agent": "sirolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "yes"}]))
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "derived.mtor_after_progression" not in facts(rec(a, "REC-NO-NEXT-LINE"))


class TestALineOfAnotherDrugUnderWay:
    """A line of another drug begun after the progression, not ended and not progressed
    on (a trial drug, recorded as 'other') is the treatment under way (I19): the silence
    names it, so that 'look for a clinical trial' does not read as if nothing were being
    given. It had been named nowhere in the output (a pazopanib line only by the
    published series' item)."""

    TRIAL: ClassVar[dict[str, Any]] = {
        "agent": "other", "setting": "advanced", "line": 2, "started_on": "2024-06-01",
        "best_response": "stable", "progressed": "no"}

    def test_a_trial_drug_after_nab_sirolimus_is_named_on_the_silence(self) -> None:
        a = run(case("retroperitoneum", therapies=[
            {"agent": "nab_sirolimus", "setting": "advanced", "line": 1,
             "started_on": "2023-07-01", "ended_on": "2024-05-01",
             "progressed": "yes"}, self.TRIAL]))
        item = rec(a, "REC-NO-NEXT-LINE")
        got = facts(item)
        # the line under way, as entered: the second line recorded
        assert got["systemic.therapies[1].agent"] == "other"
        assert got["systemic.therapies[1].best_response"] == "stable"
        said = got["derived.line_under_way"]
        assert "another anticancer agent" in said and "treatment under way" in said
        # whether to continue it is the team's (I19); not an mTOR line, so the class
        # taken as one (I15) is not cited for it
        assert item.provenance.interpretations == ("I19",)
        assert item.conditional_on == ()

    def test_another_chemotherapy_is_named_in_words(self) -> None:
        """'other_chemotherapy' is the case format's word for a chemotherapy it does not
        name: it was written 'other with chemotherapy', as if a regimen."""
        a = run(case("retroperitoneum", therapies=[
            {"agent": "nab_sirolimus", "setting": "advanced", "line": 1,
             "started_on": "2023-07-01", "ended_on": "2024-05-01",
             "progressed": "yes"}, {**self.TRIAL, "agent": "other_chemotherapy"}]))
        said = facts(rec(a, "REC-NO-NEXT-LINE"))["derived.line_under_way"]
        assert "another chemotherapy" in said and "other with chemotherapy" not in said

    def test_a_line_ended_is_not_named_under_way(self) -> None:
        """Neighbour: the same line with an end date recorded is past, not under way."""
        a = run(case("kidney", therapies=[
            SIROLIMUS_PD, {**self.TRIAL, "ended_on": "2025-01-01"}]))
        assert "derived.line_under_way" not in facts(rec(a, "REC-NO-NEXT-LINE"))

    def test_a_line_before_the_progression_is_not_named_under_way(self) -> None:
        """Neighbour: the trial drug given before sirolimus, which then failed."""
        a = run(case("kidney", therapies=[
            {**self.TRIAL, "line": 1, "started_on": "2024-01-15"},
            {**SIROLIMUS_PD, "line": 2}]))
        assert "derived.line_under_way" not in facts(rec(a, "REC-NO-NEXT-LINE"))

    def test_named_on_the_silence_after_doxorubicin(self) -> None:
        """The same after doxorubicin where mTOR inhibitors cannot be used: gemcitabine
        with docetaxel since, working, named beside REC-NO-LINE-AFTER-ANTHRACYCLINE."""
        a = run(case("kidney", contraindicated="yes", therapies=[
            {"agent": "doxorubicin", "line": 1, "started_on": "2024-02-01",
             "progressed": "yes"},
            {"agent": "gemcitabine_docetaxel", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        got = facts(rec(a, "REC-NO-LINE-AFTER-ANTHRACYCLINE"))
        assert got["systemic.therapies[1].agent"] == "gemcitabine_docetaxel"
        assert "gemcitabine with docetaxel" in got["derived.line_under_way"]


IFOSFAMIDE = {"agent": "ifosfamide", "line": 1, "started_on": "2024-02-01"}


class TestEpirubicinWithIfosfamideAfterIfosfamide:
    def test_withheld_after_progression_on_ifosfamide_alone(self) -> None:
        """Uterine, mTOR inhibitors contraindicated, progressed on ifosfamide: S15's
        regimen would give again a drug the disease grew on, as after epirubicin (it had
        been listed as a plain option, the failed drug never named). Doxorubicin,
        never given, stays the option (S14)."""
        a = run(case(contraindicated="yes", therapies=[{**IFOSFAMIDE, "progressed": "yes"}]))
        assert "REC-UTERINE-EPI-IFO" not in ids(a)
        assert "REC-ANTHRACYCLINE" in ids(a)
        # doxorubicin since, still given: S15 stays withheld
        later = run(case(contraindicated="yes", therapies=[
            {**IFOSFAMIDE, "progressed": "yes"},
            {"agent": "doxorubicin", "line": 2, "started_on": "2024-09-01",
             "progressed": "no"}]))
        assert "REC-UTERINE-EPI-IFO" not in ids(later)
        # mTOR inhibitors usable: the first-line advice, without S15
        usable = run(case(therapies=[{**IFOSFAMIDE, "progressed": "yes"}]))
        assert "REC-MTOR-FIRST-LINE" in ids(usable)
        assert "REC-UTERINE-EPI-IFO" not in ids(usable)

    def test_provisional_when_the_ifosfamide_outcome_is_unknown(self) -> None:
        """Whether the disease progressed on ifosfamide is not recorded: S15's regimen is
        shown (the guideline's option), provisional on that question, the line named;
        recorded as not progressed on, it is shown plainly."""
        a = run(case(contraindicated="yes", therapies=[{**IFOSFAMIDE, "progressed": "unknown"}]))
        s15 = rec(a, "REC-UTERINE-EPI-IFO")
        assert s15.conditional_on == ("MISS-IFOSFAMIDE-PROGRESSION",)
        assert facts(s15)["systemic.therapies[0].agent"] == "ifosfamide"
        assert "I26" in s15.provenance.interpretations
        # the question is asked of ifosfamide, not of an anthracycline
        assert "MISS-ANTHRACYCLINE-PROGRESSION" not in {m.id for m in a.missing}
        working = run(case(contraindicated="yes", therapies=[{**IFOSFAMIDE, "progressed": "no"}]))
        assert rec(working, "REC-UTERINE-EPI-IFO").conditional_on == ()


class TestWhyS15IsAbsent:
    """S15's regimen withheld after progression on a drug it holds (I26) had left nothing
    in the output: a clinician who expected epirubicin with ifosfamide for a uterine
    primary could not tell a reading of the record from an oversight. An item now says
    it, naming the line, with I26 and S15 in its provenance; it offers nothing (the
    regimen stays withheld) and keeps the guideline's force: an option the record rules
    out, said as the project's reading, not advice against the regimen."""

    def test_after_progression_on_ifosfamide_alone(self) -> None:
        a = run(case(contraindicated="yes", therapies=[{**IFOSFAMIDE, "progressed": "yes"}]))
        assert "REC-UTERINE-EPI-IFO" not in ids(a)
        past = rec(a, "REC-UTERINE-EPI-IFO-PAST")
        assert past.provenance.statements == ("S15",)
        assert "I26" in past.provenance.interpretations
        assert past.strength == "project's reading (I26), not the guideline's advice"
        f = facts(past)
        assert f["tumour.primary_site"] == "uterus"
        assert f["systemic.therapies[0].agent"] == "ifosfamide"
        assert f["systemic.therapies[0].progressed"] == "yes"
        assert "the disease progressed on ifosfamide" in f["derived.regimen_past"]
        assert "not offered (I26)" in f["derived.regimen_past"]
        # the guideline's own option where mTOR inhibitors cannot be used stays
        assert "REC-ANTHRACYCLINE" in ids(a)

    def test_after_progression_on_epirubicin_with_ifosfamide_after_mtor(self) -> None:
        """Progressed on sirolimus, then on epirubicin with ifosfamide: the guideline's
        silence is said, and the item says why S15 is not beside it."""
        a = run(case(therapies=[SIROLIMUS_PD, {
            "agent": "epirubicin_ifosfamide", "line": 2, "started_on": "2024-09-01",
            "progressed": "yes"}]))
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "REC-UTERINE-EPI-IFO" not in ids(a)
        f = facts(rec(a, "REC-UTERINE-EPI-IFO-PAST"))
        assert f["systemic.therapies[1].agent"] == "epirubicin_ifosfamide"
        assert "epirubicin with ifosfamide" in f["derived.regimen_past"]

    def test_not_said_where_s15_is_shown_or_never_applies(self) -> None:
        """S15 shown (the ifosfamide outcome not recorded: provisional), or a primary
        outside the uterus (S15 never applies): nothing to explain."""
        open_ = run(case(contraindicated="yes",
                         therapies=[{**IFOSFAMIDE, "progressed": "unknown"}]))
        assert "REC-UTERINE-EPI-IFO" in ids(open_)
        assert "REC-UTERINE-EPI-IFO-PAST" not in ids(open_)
        kidney = run(case("kidney", contraindicated="yes",
                          therapies=[{**IFOSFAMIDE, "progressed": "yes"}]))
        assert "REC-UTERINE-EPI-IFO-PAST" not in ids(kidney)


class TestTheMtorQuestionNamesItsLine:
    """MISS-MTOR-PROGRESSION asked "the mTOR inhibitor already recorded" while two were
    recorded: sirolimus, its outcome not recorded, then everolimus, working. The team
    could not tell which line was meant, and answering it of everolimus (not progressed)
    would have left nab-sirolimus shown after a sirolimus failure. The question now
    names the line it is asked of, by its drug and place, in plain words (the web report
    shows no field path)."""

    def test_an_earlier_line_is_named(self) -> None:
        a = run(case("kidney", therapies=[
            {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "unknown"},
            {"agent": "everolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "no"}]))
        asked = next(m for m in a.missing if m.id == "MISS-MTOR-PROGRESSION")
        assert asked.question == (
            "Has the disease progressed on the mTOR inhibitor already recorded? Asked of: "
            "sirolimus (therapy line 1 of those recorded; line number 1; started "
            "2024-02-01).")
        assert "everolimus" not in asked.question

    def test_two_lines_asked_of_are_each_named(self) -> None:
        """Neither outcome recorded: the one question is asked of each line."""
        a = run(case("kidney", therapies=[
            {"agent": "sirolimus", "line": 1, "started_on": "2024-02-01",
             "progressed": "unknown"},
            {"agent": "everolimus", "line": 2, "started_on": "2024-06-01",
             "progressed": "unknown"}]))
        asked = next(m for m in a.missing if m.id == "MISS-MTOR-PROGRESSION")
        assert "Asked of each: " in asked.question
        assert ("everolimus (therapy line 2 of those recorded; line number 2; started "
                "2024-06-01)") in asked.question
        assert ("sirolimus (therapy line 1 of those recorded; line number 1; started "
                "2024-02-01)") in asked.question

    def test_an_adjuvant_course_is_named_as_one(self) -> None:
        a = run(case("kidney", therapies=[
            {"agent": "sirolimus", "setting": "adjuvant", "started_on": "2023-03-01",
             "progressed": "unknown"},
            {"agent": "everolimus", "line": 1, "started_on": "2024-06-01",
             "progressed": "no"}]))
        asked = next(m for m in a.missing if m.id == "MISS-MTOR-ADJUVANT-RELAPSE")
        assert asked.question.endswith(
            " Asked of: sirolimus (therapy line 1 of those recorded; adjuvant; started "
            "2023-03-01).")

    def test_the_knowledge_listing_keeps_the_general_question(self) -> None:
        """The record itself, listed without a case, names no line."""
        from pecoma import load_knowledge

        assert load_knowledge().missing["MISS-MTOR-PROGRESSION"].question == (
            "Has the disease progressed on the mTOR inhibitor already recorded?")
