"""The top actions of the board summary (web report and tumour-board PDF): which three
recommendations a tumour board reads first.

The rule (``pecoma.engine.order.board_order``): the decision order, except that the
systemic treatment of advanced disease (S12-S15) comes before the postoperative
considerations (S10, S11). An mTOR inhibitor is the treatment of choice for advanced
disease and takes priority over conventional chemotherapy (S12, S13); S11 only asks to
*consider* postoperative chemotherapy or radiotherapy. Local treatment whose criteria are
met keeps the lead (S16, S17). The full list of recommendations keeps the decision order.

The expected lists are written by hand from the guideline, case by case.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from pecoma.case import Case, parse_case
from pecoma.engine import assess
from pecoma.engine.model import Assessment
from pecoma.engine.order import LOCAL
from pecoma.engine.schedule import plan_surveillance
from pecoma.knowledge import load_knowledge
from pecoma.web.app import make_templates
from pecoma.web.pages import build_report_view
from pecoma.web.pdf import render_pdf_html
from pecoma.web.summary import TOP_ACTIONS, BoardSummary, board_summary

ON = dt.date(2026, 11, 28)
SCENARIOS = Path(__file__).resolve().parent / "scenarios"

MTOR = "REC-MTOR-FIRST-LINE"
S11 = "REC-ADJ-NODES-METS"


def scenario(name: str) -> Case:
    return parse_case(json.loads((SCENARIOS / name / "case.json").read_text()))


def summary_of(case: Case) -> tuple[BoardSummary, Assessment]:
    a = assess(case, ON)
    return board_summary(a, plan_surveillance(case, a, ON)), a


def top(name: str) -> list[str]:
    s, _ = summary_of(scenario(name))
    return [i.id for i in s.actions]


class TestTopActionsByDisease:
    def test_metastatic_resectable_first_line_before_postoperative(self) -> None:
        """A lung metastasis present at presentation, resectable: the board must see the
        operation (S17; at a reference centre, S04) and then the mTOR inhibitor as the
        first-line systemic treatment (S12, S13), not S11's postoperative chemotherapy,
        which the first line takes priority over (S13)."""
        s, a = summary_of(scenario("lung-metastasis-on-staging-ct-before-biopsy"))
        assert [i.id for i in s.actions] == [
            "REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY", MTOR]
        # the full list is untouched: S11 stays there, in the decision order
        ids = [i.id for i in a.recommendations]
        assert ids.index(S11) < ids.index(MTOR)

    def test_postoperative_consideration_after_the_first_line_when_both_shown(self) -> None:
        """Recorded as metastatic with positive nodes after an R0 resection: S11 applies,
        and the first line (S12) is read before it, even while the first line is
        provisional on where the metastases are (the safer branch: treat as advanced)."""
        assert top("metastatic-label-nodes-positive-no-sites") == [
            MTOR, S11, "REC-AGGRESSIVE-SURGERY"]

    def test_postoperative_treatment_recorded_does_not_push_out_the_first_line(self) -> None:
        """A postoperative treatment already given (S11, acted on) is history, not a
        decision: the first line (S12) takes the third place."""
        assert top("lung-metastasis-after-adjuvant-end-unrecorded") == [
            "REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY", MTOR]

    def test_metastatic_not_resectable_first_line_leads(self) -> None:
        """Metastatic disease surgery cannot remove: the mTOR inhibitor is the first
        action (S12), and S11 does not apply (no operation to follow)."""
        ids = top("metastatic-unresectable-foci-excisable")
        assert ids[0] == MTOR
        assert S11 not in ids

    def test_oligometastatic_lung_meeting_s16_surgery_leads(self) -> None:
        """Metachronous lung metastases, disease-free interval of a year or more, no
        disease outside the lungs, complete excision feasible: metastasectomy is the
        treatment (S16, S17, at a reference centre, S04); these lead, unchanged."""
        assert top("lung-metachronous-eligible") == [
            "REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY", "REC-LUNG-METASTASECTOMY"]

    def test_locally_advanced_unresectable_first_line_leads(self) -> None:
        """Unresectable locally advanced disease is advanced (I6): the mTOR inhibitor
        first (S12), then the referral to a reference centre and a trial (S28)."""
        assert top("locally-advanced") == [MTOR, "REC-REFER-TRIALS"]

    def test_localized_disease_unchanged(self) -> None:
        """No systemic treatment applies: the top actions are the decision order's first
        three, the operation first (R1 of a high-risk tumour: re-excision, S03)."""
        s, a = summary_of(scenario("margin-r1"))
        guideline = [i.id for i in a.recommendations if i.provenance.kind == "guideline"]
        assert [i.id for i in s.actions] == guideline[:TOP_ACTIONS]


def _all_scenarios() -> list[str]:
    return sorted(d.name for d in SCENARIOS.iterdir() if (d / "case.json").is_file())


def test_the_rule_holds_for_every_scenario() -> None:
    """For every golden scenario: no postoperative consideration (S10, S11) stands before
    a systemic treatment of advanced disease (S12-S15) among the top actions; local
    treatment whose criteria are met keeps the lead (S16, S17); without a systemic
    treatment the top actions are the decision order's first three; and every alert is
    in the summary (the short list of actions never hides an alert)."""
    for name in _all_scenarios():
        s, a = summary_of(scenario(name))
        ids = [i.id for i in s.actions]
        guideline = [i for i in a.recommendations if i.provenance.kind == "guideline"]
        sections = [i.section for i in s.actions]
        if "advanced" in sections and "adjuvant" in sections:
            assert sections.index("advanced") < sections.index("adjuvant"), name
        first = guideline[0] if guideline else None
        if first is not None and first.id in LOCAL and not first.conditional_on:
            assert ids[0] == first.id, name
        if not any(i.section == "advanced" for i in guideline):
            assert ids == [i.id for i in guideline[:TOP_ACTIONS]], name
        assert set(ids) <= {i.id for i in guideline}, name
        assert {x.anchor for x in s.alerts} >= {f"#item-{i.id}" for i in a.alerts}, name


def test_pdf_lists_the_first_line_before_the_postoperative_consideration() -> None:
    """The tumour-board PDF (full and compact) shows the same top actions as the page:
    the mTOR inhibitor (S12) before the postoperative consideration (S11)."""
    case = scenario("metastatic-label-nodes-positive-no-sites")
    a = assess(case, ON)
    view = build_report_view(case, a, load_knowledge(), plan_surveillance(case, a, ON))
    titles = {r.id: r.title for r in load_knowledge().records.values()}
    for compact in (False, True):
        html = render_pdf_html(make_templates(), view, a, compact=compact)
        block = re.search(r'<ol class="actions">(.*?)</ol>', html, re.S)
        assert block is not None
        text = " ".join(block.group(1).split())
        assert titles[MTOR] in text and titles[S11] in text
        assert text.index(titles[MTOR]) < text.index(titles[S11])


@pytest.mark.parametrize("name", ["lung-synchronous", "dfi-zero-single-metastasis"])
def test_synchronous_metastases_first_line_shown(name: str) -> None:
    """Metastases at presentation with an operation planned: the systemic treatment of
    choice (S12) is among the top three; S11 is not shown before it (S13)."""
    ids = top(name)
    assert MTOR in ids
    assert S11 not in ids[: ids.index(MTOR)]
