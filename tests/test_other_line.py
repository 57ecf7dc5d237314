"""A line of systemic treatment recorded as 'other', and the advice it may change (I19).

'other' is a drug the case format names no agent for: a drug given in a clinical trial,
which may be an mTOR inhibitor (ridaforolimus, nab-sirolimus given in a trial) or an
anthracycline under another name. A line of it the disease had progressed on was read in
silence as "not an mTOR inhibitor": the first-line mTOR advice and nab-sirolimus stood
unconditioned, and ALERT-CHEMO-BEFORE-MTOR said the first line was not an mTOR inhibitor,
no question asked, while the same 'other' as an intolerance makes the advice provisional
on which drug it is. If it was an mTOR inhibitor the guideline is silent on a next line
(REC-NO-NEXT-LINE) and nab-sirolimus is not proposed. The advice is now shown as for a drug
of neither class, provisional on MISS-OTHER-LINE-AGENT, the line named.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Fact, Item

ON = dt.date(2026, 11, 28)
ASKED = "MISS-OTHER-LINE-AGENT"
MTOR = "REC-MTOR-FIRST-LINE"
NAB = "SUPP-NAB-SIROLIMUS"
ALERT = "ALERT-CHEMO-BEFORE-MTOR"

#: Malignant soft-tissue PEComa resected R0 in 2023, a liver metastasis in 2024 that
#: cannot be removed (advanced disease, I6); mTOR inhibitors available, not
#: contraindicated; a first line recorded as 'other' on which the disease progressed.
BASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-02-20",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present", "mitoses_per_50_hpf": 5},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2024-09-01"}],
              "extrapulmonary_disease": "yes", "resectable": "no"},
    "surgery": {"status": "performed", "date": "2023-03-01", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}


def case_of(agent: str = "other", progressed: str = "yes", site: str = "soft_tissue",
            available: str = "yes", before: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["tumour"]["primary_site"] = site
    data["systemic"]["mtor_inhibitor_available"] = available
    lines = list(before or [])
    lines.append({"agent": agent, "line": len(lines) + 1, "started_on": "2024-10-01",
                  "progressed": progressed})
    data["systemic"]["therapies"] = lines
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.items() if i.id == record_id)


def other_fact(i: Item) -> str:
    return next(f.value for f in i.triggered_by if f.path == "derived.other_line")


class TestProgressedOnADrugNotNamed:
    def test_the_mtor_first_line_waits_on_which_drug_it_was(self) -> None:
        """Progressed on 'other': the mTOR inhibitor stays the treatment of choice (S12,
        S13; the force is the guideline's), provisional on which drug the line was,
        naming the line and why (it may have been an mTOR inhibitor, and then the
        guideline names no next line); I19 is cited. It had stood unconditioned."""
        a = run(case_of())
        rec = item(a, MTOR)
        assert rec.strength == "treatment of choice"
        assert ASKED in rec.conditional_on
        assert Fact("systemic.therapies[0].agent", "other") in rec.triggered_by
        assert Fact("systemic.therapies[0].progressed", "yes") in rec.triggered_by
        assert "may be one" in other_fact(rec) and "not recorded" in other_fact(rec)
        assert "I19" in rec.provenance.interpretations
        assert "REC-NO-NEXT-LINE" not in a.record_ids()

    def test_nab_sirolimus_waits_on_it_too(self) -> None:
        """nab-Sirolimus is not proposed after progression on any mTOR inhibitor: with
        the line's drug unknown it is provisional on the same question."""
        rec = item(run(case_of()), NAB)
        assert ASKED in rec.conditional_on
        assert Fact("systemic.therapies[0].agent", "other") in rec.triggered_by

    def test_the_chemotherapy_first_alert_no_longer_says_it_in_silence(self) -> None:
        """The alert that the first line was not an mTOR inhibitor stays (the warning is
        the safer branch) but provisional on which drug it was, the derived fact saying
        that, had it been one, the alert would not apply."""
        rec = item(run(case_of()), ALERT)
        assert ASKED in rec.conditional_on
        assert "this alert does not apply" in other_fact(rec)
        assert "I19" in rec.provenance.interpretations

    def test_the_question_names_what_it_changes(self) -> None:
        """Asked once, naming every item waiting on it; it says how to answer (the agent
        where the format has one) and what each answer changes."""
        a = run(case_of())
        [m] = [m for m in a.missing if m.id == ASKED]
        assert set(m.affects) == {MTOR, NAB, ALERT}
        assert "clinical trial" in m.question and "ridaforolimus" in m.question
        assert "REC-NO-NEXT-LINE" in m.would_change
        assert "nab-sirolimus is not proposed" in m.would_change
        assert "shown as for a drug of neither class" in m.meanwhile

    def test_where_mtor_inhibitors_cannot_be_used_s14_and_s15_wait(self) -> None:
        """mTOR inhibitors unavailable: the 'other' line may have been an anthracycline,
        after which the guideline names no next line: S14's doxorubicin (can be
        considered) and, for a uterine primary, S15's regimen (an option) are provisional
        on the same question, their force kept."""
        a = run(case_of(site="uterus", available="no"))
        s14 = item(a, "REC-ANTHRACYCLINE")
        assert s14.strength == "can be considered" and ASKED in s14.conditional_on
        s15 = item(a, "REC-UTERINE-EPI-IFO")
        assert s15.strength == "option" and ASKED in s15.conditional_on
        assert Fact("systemic.therapies[0].agent", "other") in s15.triggered_by


class TestOnceTheDrugIsRecorded:
    def test_nab_sirolimus_given_in_a_trial(self) -> None:
        """Recorded by its agent, nab-sirolimus progressed on: the guideline's silence
        (REC-NO-NEXT-LINE), no mTOR first line, no nab-sirolimus, no alert, nothing
        asked of the line."""
        a = run(case_of("nab_sirolimus"))
        ids = set(a.record_ids())
        assert "REC-NO-NEXT-LINE" in ids
        assert not {MTOR, NAB, ALERT, ASKED} & ids

    def test_another_chemotherapy(self) -> None:
        """Recorded as other chemotherapy (no mTOR inhibitor, no anthracycline): the
        first line and nab-sirolimus plain, the alert plain, nothing asked."""
        a = run(case_of("other_chemotherapy"))
        assert item(a, MTOR).conditional_on == ()
        assert ASKED not in item(a, NAB).conditional_on
        assert item(a, ALERT).conditional_on == ()
        assert ASKED not in a.record_ids()


class TestWhereTheLineDecidesNothing:
    def test_an_other_first_line_still_given_asks_nothing(self) -> None:
        """A first line of 'other' not progressed on: nothing it could be puts the mTOR
        advice in the past (an mTOR inhibitor still given is the treatment under way), so
        the advice is plain and nothing is asked; the alert that the first line was not
        an mTOR inhibitor stays plain too, the warning being the safer error (a draft
        order of an identified drug the format names no agent for, pembrolizumab, is
        assessed as such a line)."""
        a = run(case_of(progressed="no"))
        assert ASKED not in item(a, MTOR).conditional_on
        assert item(a, ALERT).conditional_on == ()
        assert ASKED not in a.record_ids()

    def test_a_later_other_line_leaves_the_alert_on_the_first(self) -> None:
        """Dacarbazine first, then 'other' progressed on: the alert rests on dacarbazine,
        the recorded first line, plain; the mTOR advice and nab-sirolimus wait on the
        'other' line."""
        first = {"agent": "dacarbazine", "line": 1, "started_on": "2024-09-15",
                 "progressed": "yes"}
        a = run(case_of(before=[first]))
        alert = item(a, ALERT)
        assert Fact("systemic.therapies.first_line", "dacarbazine") in alert.triggered_by
        assert ASKED not in alert.conditional_on
        assert ASKED in item(a, MTOR).conditional_on

    def test_no_other_line_no_question(self) -> None:
        """Dacarbazine alone progressed on: as before, the alert and the advice plain."""
        a = run(case_of("dacarbazine"))
        assert item(a, ALERT).conditional_on == ()
        assert item(a, MTOR).conditional_on == ()
        assert ASKED not in a.record_ids()
