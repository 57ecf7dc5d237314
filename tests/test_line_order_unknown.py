"""Lines of systemic therapy whose order the record does not tell (a line with no start date
and no line number beside another): unknown is not absent.

Whether the first line for advanced disease was an mTOR inhibitor decides the alert
ALERT-CHEMO-BEFORE-MTOR (S02, S12, S13: mTOR inhibitors first, ahead of chemotherapy).
A doxorubicin line with no start date beside a dated sirolimus line had silently lost the
alert, as if chemotherapy had come after, and nothing asked when it was given. When an
mTOR-inhibitor line and a line of another agent may each have come first, the alert is
shown (the safer reading), provisional on MISS-LINE-ORDER, which is asked; where the order
cannot change it (one line, lines all of one kind, the order told by dates or line
numbers) nothing new is asked.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pecoma import assess, parse_case
from pecoma.case import TherapyLine, lines_in_order
from pecoma.engine.model import Assessment, Item
from pecoma.errors import InputError

EXAMPLE = (Path(__file__).resolve().parents[1] / "src" / "pecoma" / "examples"
           / "advanced-mtor-contraindicated.json")
ON = dt.date(2026, 9, 1)
ALERT = "ALERT-CHEMO-BEFORE-MTOR"
ORDER = "MISS-LINE-ORDER"


def case_with(*lines: dict[str, Any], contraindicated: str = "no") -> dict[str, Any]:
    """Unresectable hepatic PEComa (diagnosed 2026-05-04), mTOR inhibitors available and,
    unless told, not contraindicated, with these lines for advanced disease."""
    case: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    case["systemic"] = {"mtor_inhibitor_available": "yes",
                        "mtor_inhibitor_contraindicated": contraindicated,
                        "therapies": [{"setting": "advanced", **x} for x in lines]}
    return case


def assessed(case: dict[str, Any]) -> Assessment:
    return assess(parse_case(case), ON)


def alert(a: Assessment) -> Item | None:
    return next((x for x in a.alerts if x.id == ALERT), None)


def asked(a: Assessment) -> dict[str, tuple[str, ...]]:
    return {m.id: m.affects for m in a.missing}


DOXORUBICIN_PROGRESSED = {"agent": "doxorubicin", "progressed": "yes"}
SIROLIMUS_WORKING = {"agent": "sirolimus", "started_on": "2026-07-01", "progressed": "no"}


class TestTheReproducer:
    def test_undated_doxorubicin_beside_dated_sirolimus_alerts_provisionally_and_asks(
            self) -> None:
        """Doxorubicin with no start date, sirolimus from 2026-07-01: doxorubicin may have
        been the first line (a departure from S12/S13) or may have followed sirolimus.
        The alert stands meanwhile, provisional on the order, which is asked (it had
        been dropped, nothing asked)."""
        a = assessed(case_with(DOXORUBICIN_PROGRESSED, SIROLIMUS_WORKING))
        found = alert(a)
        assert found is not None
        assert ORDER in found.conditional_on
        assert ALERT in asked(a)[ORDER]
        # both lines are named: which of them was first is what is not known
        paths = {f.path for f in found.triggered_by}
        assert {"systemic.therapies[0].agent", "systemic.therapies[1].agent"} <= paths

    def test_doxorubicin_dated_before_sirolimus_alerts_plainly(self) -> None:
        """Dated 2026-06-01, doxorubicin was the first line: the alert, not provisional on
        the order, and the order is not asked."""
        a = assessed(case_with({**DOXORUBICIN_PROGRESSED, "started_on": "2026-06-01"},
                               SIROLIMUS_WORKING))
        found = alert(a)
        assert found is not None
        assert ORDER not in found.conditional_on
        assert ORDER not in asked(a)

    def test_doxorubicin_dated_after_sirolimus_is_no_departure(self) -> None:
        """Sirolimus from 2026-07-01, then doxorubicin from 2026-08-01: the first line was
        the mTOR inhibitor, no alert and nothing asked of the order."""
        a = assessed(case_with({**DOXORUBICIN_PROGRESSED, "started_on": "2026-08-01"},
                               SIROLIMUS_WORKING))
        assert alert(a) is None
        assert ORDER not in asked(a)


@pytest.mark.parametrize("other", ["doxorubicin", "pazopanib", "gemcitabine_docetaxel",
                                   "other"])
@pytest.mark.parametrize("mtor", ["sirolimus", "everolimus", "nab_sirolimus"])
@pytest.mark.parametrize("undated", ["other", "mtor", "both"])
def test_an_mtor_and_another_line_in_an_order_not_told_alert_provisionally(
        other: str, mtor: str, undated: str) -> None:
    """Whichever line lacks its start date (the other agent's, the mTOR inhibitor's, or
    both), and in either order entered, the first line may not have been an mTOR
    inhibitor: the alert is provisional on the order, and the order is asked."""
    first = {"agent": other, "progressed": "yes"}
    second = {"agent": mtor, "progressed": "no"}
    if undated == "mtor":
        first["started_on"] = "2026-06-01"
    if undated == "other":
        second["started_on"] = "2026-07-01"
    for lines in ((first, second), (second, first)):
        a = assessed(case_with(*lines))
        found = alert(a)
        assert found is not None, lines
        assert ORDER in found.conditional_on
        assert ALERT in asked(a)[ORDER]


class TestNothingAskedWhenTheOrderCannotMatter:
    def test_a_single_undated_chemotherapy_line_is_the_first_line(self) -> None:
        """One line for advanced disease is the first line whatever its date: the alert,
        plainly, and no question of order."""
        a = assessed(case_with(DOXORUBICIN_PROGRESSED))
        found = alert(a)
        assert found is not None
        assert ORDER not in found.conditional_on
        assert ORDER not in asked(a)

    def test_a_single_undated_mtor_line_asks_nothing_of_order(self) -> None:
        a = assessed(case_with({"agent": "sirolimus", "progressed": "no"}))
        assert alert(a) is None
        assert ORDER not in asked(a)

    def test_undated_lines_none_an_mtor_inhibitor_alert_plainly(self) -> None:
        """Doxorubicin and pazopanib, neither dated nor numbered: whichever came first, it
        was not an mTOR inhibitor. The alert is shown, not provisional (it had been
        absent), naming both lines; the order is not asked."""
        a = assessed(case_with(DOXORUBICIN_PROGRESSED,
                               {"agent": "pazopanib", "progressed": "yes"}))
        found = alert(a)
        assert found is not None
        assert ORDER not in found.conditional_on
        assert ORDER not in asked(a)
        paths = {f.path for f in found.triggered_by}
        assert {"systemic.therapies[0].agent", "systemic.therapies[1].agent"} <= paths

    def test_undated_lines_all_mtor_inhibitors_are_no_departure(self) -> None:
        a = assessed(case_with({"agent": "sirolimus", "progressed": "no"},
                               {"agent": "everolimus", "progressed": "no"}))
        assert alert(a) is None
        assert ORDER not in asked(a)

    @pytest.mark.parametrize(("chemo_line", "mtor_line", "alerted"),
                             [(1, 2, True), (2, 1, False)])
    def test_line_numbers_tell_the_order_without_dates(
            self, chemo_line: int, mtor_line: int, alerted: bool) -> None:
        """No start dates, but every line numbered: the numbers tell which came first."""
        a = assessed(case_with({**DOXORUBICIN_PROGRESSED, "line": chemo_line},
                               {"agent": "sirolimus", "line": mtor_line, "progressed": "no"}))
        assert (alert(a) is not None) is alerted
        assert ORDER not in asked(a)

    def test_an_mtor_line_numbered_1_is_the_first(self) -> None:
        """Sirolimus recorded as line 1, doxorubicin undated and unnumbered: the team's
        number says sirolimus was the first line."""
        a = assessed(case_with(DOXORUBICIN_PROGRESSED,
                               {"agent": "sirolimus", "line": 1, "progressed": "no"}))
        assert alert(a) is None
        assert ORDER not in asked(a)

    def test_mtor_contraindicated_the_order_is_not_asked(self) -> None:
        """mTOR inhibitors contraindicated: chemotherapy first is no departure whatever the
        order, so the order is not asked for the alert."""
        a = assessed(case_with(DOXORUBICIN_PROGRESSED, SIROLIMUS_WORKING,
                               contraindicated="yes"))
        assert alert(a) is None
        assert ALERT not in asked(a).get(ORDER, ())


@pytest.mark.parametrize("entered", ["working_first", "unknown_first"])
def test_an_mtor_line_of_unknown_outcome_in_an_order_not_told_is_asked_about(
        entered: str) -> None:
    """Sirolimus recorded as not progressed, everolimus with its outcome not recorded, one
    of them undated: either may be the latest. Whether the disease progressed on
    everolimus decides between the first-line advice and the guideline's silence after
    progression, so it is asked whatever the order the lines were entered in (it had
    been asked only when everolimus was entered last)."""
    working = {"agent": "sirolimus", "progressed": "no"}
    unknown = {"agent": "everolimus", "started_on": "2026-07-01"}
    lines = (working, unknown) if entered == "working_first" else (unknown, working)
    a = assessed(case_with(*lines))
    assert "MISS-MTOR-PROGRESSION" in asked(a)


class TestLinesInOrder:
    """The one rule of the order of lines (:func:`pecoma.case.lines_in_order`)."""

    def test_by_start_date_then_by_line_number(self) -> None:
        a = TherapyLine.model_validate({"agent": "sirolimus", "started_on": "2026-07-01",
                                        "line": 1})
        b = TherapyLine.model_validate({"agent": "doxorubicin", "started_on": "2026-06-01",
                                        "line": 2})
        assert lines_in_order([a, b]) == [[b], [a]]
        c = TherapyLine.model_validate({"agent": "doxorubicin", "line": 2})
        assert lines_in_order([c, a]) == [[a], [c]]

    def test_a_line_with_neither_beside_another_leaves_the_order_untold(self) -> None:
        a = TherapyLine.model_validate({"agent": "sirolimus", "started_on": "2026-07-01"})
        b = TherapyLine.model_validate({"agent": "doxorubicin"})
        assert lines_in_order([a, b]) is None
        assert lines_in_order([b]) == [[b]]

    def test_lines_of_one_day_are_one_group(self) -> None:
        a = TherapyLine.model_validate({"agent": "sirolimus", "started_on": "2026-07-01"})
        b = TherapyLine.model_validate({"agent": "doxorubicin", "started_on": "2026-07-01"})
        assert lines_in_order([a, b]) == [[a, b]]


class TestLinesStartedTheSameDay:
    """Two lines for advanced disease started the same day, no line numbers telling them
    apart: a combination given together or an order not recorded. Which came first is not
    told, whichever row was typed first (doxorubicin entered first had given the alert
    plainly, sirolimus entered first no alert: the same facts, two advices)."""

    SAME_DAY = ({"agent": "doxorubicin", "started_on": "2026-06-01", "progressed": "yes"},
                {"agent": "sirolimus", "started_on": "2026-06-01", "progressed": "no"})

    @pytest.mark.parametrize("entered", ["doxorubicin_first", "sirolimus_first"])
    def test_an_mtor_and_a_chemotherapy_line_of_one_day_alert_provisionally(
            self, entered: str) -> None:
        """The mTOR inhibitor may have come first (no departure) or doxorubicin may have
        (a departure from S12/S13): the alert stands, provisional on the order, which is
        asked; both lines are named, in either order entered."""
        lines = self.SAME_DAY if entered == "doxorubicin_first" else self.SAME_DAY[::-1]
        a = assessed(case_with(*lines))
        found = alert(a)
        assert found is not None
        assert ORDER in found.conditional_on
        assert ALERT in asked(a)[ORDER]
        paths = {f.path for f in found.triggered_by}
        assert {"systemic.therapies[0].agent", "systemic.therapies[1].agent"} <= paths

    def test_the_alert_text_does_not_assert_an_order_not_recorded(self) -> None:
        """The alert, provisional on the order, says that when the record does not tell
        which line came first every line that may have been the first is named and the
        alert waits on the order (it had said only 'the line is named below', as if one
        line were known to be first)."""
        a = assessed(case_with(*self.SAME_DAY))
        found = alert(a)
        assert found is not None
        assert "every line that may have been the first is named" in found.text
        assert "provisional on the order" in found.text
        assert "not guideline-concordant" in found.strength
        assert ORDER in asked(a)

    @pytest.mark.parametrize(("chemo_line", "mtor_line", "alerted"),
                             [(1, 2, True), (2, 1, False)])
    def test_line_numbers_tell_apart_lines_of_one_day(
            self, chemo_line: int, mtor_line: int, alerted: bool) -> None:
        """Started the same day but numbered by the team: the numbers tell which came
        first, so the alert is plain or absent and the order not asked, whichever row was
        entered first."""
        chemo = {**self.SAME_DAY[0], "line": chemo_line}
        mtor = {**self.SAME_DAY[1], "line": mtor_line}
        for lines in ((chemo, mtor), (mtor, chemo)):
            a = assessed(case_with(*lines))
            found = alert(a)
            assert (found is not None) is alerted
            assert ORDER not in asked(a)

    def test_chemotherapy_lines_of_one_day_alert_plainly(self) -> None:
        """Doxorubicin and pazopanib started the same day: whichever came first, it was
        not an mTOR inhibitor. The alert, not provisional; the order not asked."""
        a = assessed(case_with(self.SAME_DAY[0], {"agent": "pazopanib",
                                                  "started_on": "2026-06-01"}))
        found = alert(a)
        assert found is not None
        assert ORDER not in found.conditional_on
        assert ORDER not in asked(a)

    def test_an_earlier_mtor_line_is_the_first_whatever_a_later_day_holds(self) -> None:
        """Sirolimus from 2026-05-11, then doxorubicin and pazopanib the same later day:
        the first line was the mTOR inhibitor, no alert and nothing asked."""
        a = assessed(case_with({"agent": "sirolimus", "started_on": "2026-05-11",
                                "progressed": "yes"},
                               self.SAME_DAY[0],
                               {"agent": "pazopanib", "started_on": "2026-06-01"}))
        assert alert(a) is None
        assert ORDER not in asked(a)

    @pytest.mark.parametrize("entered", ["working_last", "progressed_last"])
    def test_mtor_lines_of_one_latest_day_are_not_taken_by_entry_order(
            self, entered: str) -> None:
        """Everolimus progressed on from 2026-05-11; sirolimus (not progressed) and
        nab-sirolimus (progressed) both from 2026-07-01: which of the two is the latest is
        not told, but it decides nothing: after progression on an mTOR inhibitor the
        guideline names no next line whatever came after (S28), so the silence is said,
        settled, the order not asked, and the sirolimus line named beside it, whichever
        row was entered last."""
        late = [{"agent": "sirolimus", "started_on": "2026-07-01", "progressed": "no"},
                {"agent": "nab_sirolimus", "started_on": "2026-07-01", "progressed": "yes"}]
        if entered == "working_last":
            late.reverse()
        a = assessed(case_with({"agent": "everolimus", "started_on": "2026-05-11",
                                "progressed": "yes"}, *late))
        assert ORDER not in asked(a)
        silent = next(i for i in a.recommendations if i.id == "REC-NO-NEXT-LINE")
        assert silent.conditional_on == ()
        assert "REC-MTOR-FIRST-LINE" not in {i.id for i in a.recommendations}
        assert "derived.mtor_after_progression" in {f.path for f in silent.triggered_by}


def signature(a: Assessment) -> tuple[Any, ...]:
    """What the assessment advises, asks and derives, without the row numbers the facts
    cite (a row moved is the same fact)."""
    def items(xs: tuple[Item, ...]) -> list[tuple[str, tuple[str, ...]]]:
        return sorted((x.id, tuple(sorted(x.conditional_on))) for x in xs)
    return (a.disease_status, a.advanced, items(a.recommendations), items(a.alerts),
            items(a.followup), sorted((m.id, tuple(sorted(m.affects))) for m in a.missing))


_LINE = st.fixed_dictionaries(
    {"agent": st.sampled_from(["sirolimus", "everolimus", "nab_sirolimus", "doxorubicin",
                               "pazopanib", "epirubicin_ifosfamide"])},
    optional={
        "setting": st.sampled_from(["advanced", "adjuvant"]),
        "started_on": st.sampled_from(["2026-05-11", "2026-06-01", "2026-07-01"]),
        "line": st.integers(min_value=1, max_value=3),
        "progressed": st.sampled_from(["yes", "no", "unknown"]),
    })


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(lines=st.lists(_LINE, min_size=2, max_size=3), data=st.data())
def test_the_order_rows_are_entered_in_never_changes_the_assessment(
        lines: list[dict[str, Any]], data: st.DataObject) -> None:
    """Property: the rows of systemic.therapies shuffled, the advice, the alerts, the
    follow-up and the questions are the same (the order lines were typed in says nothing
    of the order they were given)."""
    case = case_with()
    case["systemic"]["therapies"] = lines
    try:
        parsed = parse_case(case)
    except InputError:
        assume(False)
        return
    shuffled = data.draw(st.permutations(lines))
    case["systemic"]["therapies"] = shuffled
    assert signature(assess(parsed, ON)) == signature(assessed(case))
