"""S11 is a decision at presentation: positive lymph nodes, or distant metastases present
at presentation, call for considering chemotherapy or radiotherapy after the operation.

- A relapse after the primary's treatment (a local recurrence, or a metastasis found
  after that treatment: metachronous, I7) puts S11 in the past, wherever the relapse
  arises, resectable or not, present or cleared (I8): the same disease gets the same
  advice. A metastasis whose timing is not recorded may be such a relapse: S11 is then
  shown provisional on the timing.
- At presentation an operation not performed (yet) is one S11 may follow, as a planned
  one is, unless the facts say surgery cannot remove the tumour.
- S11 does not wait on whether surgery can remove the disease when every metastatic
  focus is recorded excisable: surgery of it is then advised as for resectable disease
  (S17), and S11 follows that operation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Fact

ON = dt.date(2026, 11, 28)
S11 = "REC-ADJ-NODES-METS"
S11_IDS = (S11, "REC-ADJ-NODES-METS-GIVEN", "REC-ADJ-NODES-METS-AFTER-RERESECTION")


def case(stage: dict[str, Any], surgery: dict[str, Any] | None = None,
         free_by: str | None = None) -> dict[str, Any]:
    """A 9 cm retroperitoneal PEComa with every high-risk feature, diagnosed 2023-02-20;
    by default resected R0 on 2023-03-01."""
    data: dict[str, Any] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2023-02-20",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "retroperitoneum", "size": {"value": 9, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "mitoses_per_50_hpf": 8},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "tfe3": "negative"},
        "stage": stage,
        "surgery": surgery if surgery is not None else {
            "status": "performed", "date": "2023-03-01", "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes",
                     "mtor_inhibitor_contraindicated": "no"},
    }
    if free_by is not None:
        data["free_of_disease"] = {"since": "2026-05-01", "by": free_by}
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def recs(a: Assessment) -> dict[str, tuple[str, ...]]:
    return {i.id: i.conditional_on for i in a.recommendations}


def s11_shown(a: Assessment) -> list[str]:
    return [i.id for i in a.recommendations if i.id in S11_IDS]


#: A node-positive primary resected R0 in 2023, and a relapse found in 2024.
LUNG_RELAPSE = {"status": "metastatic", "lymph_nodes": "positive",
                "metastases": [{"site": "lung", "detected_on": "2024-06-15"}],
                "extrapulmonary_disease": "no", "complete_excision_feasible": "yes",
                "resectable": "yes"}
LOCAL_RELAPSE = {"status": "recurrent", "lymph_nodes": "positive", "resectable": "yes"}


class TestARelapsePutsS11InThePast:
    def test_resectable_metachronous_lung_metastasis_of_a_node_positive_primary(
            self) -> None:
        """Nodes positive at presentation (2023), R0 resection, no adjuvant radiotherapy,
        a lung metastasis 15 months later: a relapse after the primary's treatment. S11's
        decision was at presentation and is past; the relapse gets its own advice (S16,
        S17, S12). It had been offered anew."""
        a = run(case(LUNG_RELAPSE, {"status": "performed", "date": "2023-03-01",
                                    "margin": "R0", "adjuvant_radiotherapy": "no"}))
        r = recs(a)
        # the relapse's own advice: metastasectomy (S16 met), surgery of every focus
        # (S17), the mTOR inhibitor for metastatic disease (S12)
        assert {"REC-LUNG-METASTASECTOMY", "REC-AGGRESSIVE-SURGERY",
                "REC-MTOR-FIRST-LINE"} <= set(r)
        # S11 is past: not offered, and not asked about either
        assert s11_shown(a) == []
        assert "MISS-METASTASIS-TIMING" not in [m.id for m in a.missing]

    def test_local_recurrence_and_lung_relapse_get_the_same_s11_answer(self) -> None:
        """The same node-positive primary relapsing locally or in the lung: the same
        answer on S11 (past in both), not one for each site; present or cleared alike."""
        local = run(case(LOCAL_RELAPSE))
        lung = run(case(LUNG_RELAPSE))
        assert s11_shown(local) == s11_shown(lung) == []
        # the local recurrence is removed (S17) as the lung relapse is
        assert "REC-AGGRESSIVE-SURGERY" in recs(local)
        # free of disease after either relapse was removed: the guideline names no
        # adjuvant systemic treatment (I8), and S11 is not offered
        for stage in (LUNG_RELAPSE, LOCAL_RELAPSE):
            a = run(case(stage, free_by="surgery"))
            assert s11_shown(a) == []
            assert "REC-NO-ADJUVANT-AFTER-RELAPSE" in recs(a)

    @pytest.mark.parametrize("resectable", ["yes", "unknown"])
    def test_past_whether_the_relapse_is_resectable_or_not(self, resectable: str) -> None:
        """Past whatever surgery can do for the relapse: resectable or not known, as
        beyond surgery (advanced disease, the systemic sequence, S12-S14)."""
        stage = {**LUNG_RELAPSE, "resectable": resectable,
                 "complete_excision_feasible": "unknown"}
        assert s11_shown(run(case(stage))) == []
        beyond = {**stage, "resectable": "no"}
        assert s11_shown(run(case(beyond))) == []

    def test_a_relapse_after_metastases_present_at_presentation(self) -> None:
        """A lung metastasis present at presentation removed with the primary in 2023,
        and a new one in 2026: the second is a relapse, which puts S11 in the past,
        although the first was present at presentation."""
        stage = {"status": "metastatic", "lymph_nodes": "negative",
                 "metastases": [{"site": "lung", "detected_on": "2023-02-10"},
                                {"site": "lung", "detected_on": "2026-04-15"}],
                 "extrapulmonary_disease": "no", "complete_excision_feasible": "yes",
                 "resectable": "yes"}
        assert s11_shown(run(case(stage))) == []

    def test_a_metastasis_of_unknown_timing_may_be_a_relapse(self) -> None:
        """Positive nodes at presentation, and a liver metastasis whose timing is not
        recorded (no date, no stated interval): it may have been there at presentation
        (S11 stands) or be a relapse (S11 past). S11 is shown, the safer branch,
        provisional on the timing, which is asked. It had been shown as settled."""
        stage = {"status": "metastatic", "lymph_nodes": "positive",
                 "metastases": [{"site": "liver"}], "resectable": "yes"}
        a = run(case(stage))
        assert "MISS-METASTASIS-TIMING" in recs(a)[S11]
        [timing] = [m for m in a.missing if m.id == "MISS-METASTASIS-TIMING"]
        assert S11 in timing.affects
        assert "relapse" in timing.would_change

    def test_the_reading_is_said_in_the_knowledge(self) -> None:
        """Where the engine says why S11 is absent after a relapse, it says the rule:
        the interpretation of relapse (I8) and the record's rationale."""
        a = run(case(LUNG_RELAPSE, free_by="surgery"))
        i8 = next(i for i in a.interpretations if i.id == "I8")
        assert "metachronous" in i8.text and "S11" in i8.text
        assert "not offered again" in i8.text


#: A node-negative primary in place with one lung metastasis found at staging, both
#: present at presentation.
SYNCHRONOUS = {"status": "metastatic", "lymph_nodes": "negative",
               "metastases": [{"site": "lung", "detected_on": "2023-02-10"}],
               "extrapulmonary_disease": "no"}


class TestAnOperationNotPerformedYet:
    def test_synchronous_metastasis_resectable(self) -> None:
        """The primary not removed yet, a lung metastasis at presentation, the disease
        recorded resectable: the operation still to come is one S11 follows, whether
        recorded as planned or as not performed. It was missing for 'not_performed'."""
        a = run(case({**SYNCHRONOUS, "resectable": "yes"}, {"status": "not_performed"}))
        # shown as a consideration, provisional on nothing: every fact it rests on is
        # recorded
        assert recs(a)[S11] == ()
        s11 = next(i for i in a.recommendations if i.id == S11)
        assert s11.strength == "consider"
        assert Fact("derived.metastases[0].timing", "synchronous") in s11.triggered_by
        planned = run(case({**SYNCHRONOUS, "resectable": "yes"}, {"status": "planned"}))
        assert recs(planned)[S11] == recs(a)[S11]
        # recorded as beyond surgery, no operation done: there is no operation for S11
        # to follow; the disease is advanced and its systemic sequence leads (S12)
        beyond = run(case({**SYNCHRONOUS, "resectable": "no"}, {"status": "not_performed"}))
        assert s11_shown(beyond) == []
        assert "REC-MTOR-FIRST-LINE" in recs(beyond)

    def test_synchronous_metastasis_resectability_unknown(self) -> None:
        """Whether surgery can remove the disease is not recorded: S11 is shown,
        provisional on that question (its removal, S17, waits on it too)."""
        a = run(case({**SYNCHRONOUS, "resectable": "unknown"}, {"status": "not_performed"}))
        assert recs(a)[S11] == ("MISS-RESECTABLE",)
        assert recs(a)["REC-AGGRESSIVE-SURGERY"] == ("MISS-RESECTABLE",)


class TestEveryFocusRecordedExcisable:
    def test_s11_does_not_wait_on_resectability(self) -> None:
        """Positive nodes and liver and bone metastases at presentation, never operated
        on, resectability not recorded but complete excision of every focus recorded
        feasible: surgery of the disease is advised outright (S17), and S11, which
        follows it, waits on no question. It had waited on MISS-RESECTABLE."""
        stage = {"status": "metastatic", "lymph_nodes": "positive",
                 "metastases": [{"site": "liver", "detected_on": "2023-02-10"},
                                {"site": "bone", "detected_on": "2023-02-10"}],
                 "complete_excision_feasible": "yes"}
        a = run(case(stage, {"status": "not_performed"}))
        r = recs(a)
        assert r["REC-AGGRESSIVE-SURGERY"] == ()
        assert r[S11] == ()
        assert "MISS-RESECTABLE" not in [m.id for m in a.missing]
        # complete excision not recorded either: the question stays, as for the
        # surgery itself
        open_ = run(case({**stage, "complete_excision_feasible": "unknown"},
                         {"status": "not_performed"}))
        assert recs(open_)[S11] == ("MISS-RESECTABLE",)
