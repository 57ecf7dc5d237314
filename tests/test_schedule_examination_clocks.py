"""Each planned examination keeps its own clock (S18, S21, S22, I2).

A chest CT and an MRI of the primary site are planned at every high-risk visit, every 3
months and overdue after 4 (S18, I2). The plan keeps one window per visit but counts the
next visit from the examination done longest ago, each by its last scan: no examination
waits longer than its rhythm. Two defects are held here:

* the second examination of a visit a few days past its window became a visit of its
  own, "done early", and the next visit was counted from it: a chest CT went almost 5
  months without being shown overdue, while the same MRI a month past the window after a
  CT on the window's last day joined the visit (the grouping depended on where the CT
  fell in the window);
* a visit done with the MRI alone reset the chest CT's clock.

The case: high risk (uterus, 7 cm, necrosis), resected 2025-01-10 (R1, nodes negative):
visit 1 due 2025-04-10, overdue after 2025-05-10; visit 2 due 2025-07-10, overdue after
2025-08-10. Every expected date below is worked out by hand from those rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.errors import InputError
from pecoma.registry.importer import ImportMode, import_file
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.worklist import build_worklist, evaluate, stored_worklist
from pecoma.render.ics import plan_to_ics
from pecoma.render.schedule import markdown_plan
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import db_url, repo, rows_of, write_csv

__all__ = ["db_url", "repo"]

CASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "uterus", "size": {"value": 7, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent",
                  "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent",
                  "mitoses_per_50_hpf": 3},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                             "sma": "positive", "tfe3": "negative"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R1"},
}

CT, MRI = Modality.chest_ct, Modality.mri_primary
CLEAR = ScanFinding.no_evidence_of_disease
D = dt.date.fromisoformat


def _history(*rows: tuple[str, Modality]) -> tuple[ImagingEvent, ...]:
    return tuple(ImagingEvent(D(day), modality, CLEAR) for day, modality in rows)


#: visit 1, both examinations on its due date
VISIT_1 = (("2025-04-10", CT), ("2025-04-10", MRI))


def _plan(on: str, *rows: tuple[str, Modality], case: dict[str, Any] = CASE
          ) -> SurveillancePlan:
    c = parse_case(case)
    day = D(on)
    return plan_surveillance(c, assess(c, day), day, _history(*VISIT_1, *rows))


def _dates(plan: SurveillancePlan, index: int) -> tuple[object, ...]:
    v = plan.visits[index - 1]
    return (v.due.isoformat(), v.latest.isoformat(), v.counted_from.isoformat(), v.status,
            v.timeliness)


@pytest.mark.parametrize(("ct_day", "mri_day", "visit_3"), [
    # h03.csv: CT a day before visit 2 was due, MRI 5 days after its window closed:
    # one visit, late; visit 3 counts from the CT (2025-07-09 + 3 months = 2025-10-09,
    # + 4 months = 2025-11-09), overdue on 2025-12-01 (the CT 4 months and 3 weeks old)
    ("2025-07-09", "2025-08-15", ("2025-10-09", "2025-11-09", "2025-07-09", "overdue", None)),
    # h03c.csv: CT on visit 2's due date, the same MRI: one visit, late; visit 3 from the
    # CT: 2025-10-10 .. 2025-11-10, overdue on 2025-12-01. It was visit 3 "done early"
    # by the MRI alone and visit 4 counted from the MRI, "due" on 2025-12-01.
    ("2025-07-10", "2025-08-15", ("2025-10-10", "2025-11-10", "2025-07-10", "overdue", None)),
    # h03b.csv: CT on the window's last day, MRI 30 days later: one visit, late (as
    # before); visit 3 from the CT: 2025-11-10 .. 2025-12-10, due on 2025-12-01
    ("2025-08-10", "2025-09-09", ("2025-11-10", "2025-12-10", "2025-08-10", "due", None)),
])
def test_the_second_examination_of_a_split_visit_is_that_visits_wherever_the_first_fell(
        ct_day: str, mri_day: str, visit_3: tuple[object, ...]) -> None:
    """A planned examination the visit does not hold yet joins it until the next visit
    would be due (counted from the visit's first examination): the visit is late (the
    MRI after 2025-08-10), the next counts from the CT, so the CT never waits past its
    4 months unseen."""
    plan = _plan("2025-12-01", (ct_day, CT), (mri_day, MRI))
    second = plan.visits[1]
    assert (second.status, second.timeliness, second.done_on) == ("done", "late", D(mri_day))
    assert [e.modality for e in second.scans] == [CT, MRI]
    assert second.flags == ()  # nothing missing: both examinations at visit 2
    assert _dates(plan, 3) == visit_3
    assert plan.next_visit is plan.visits[2]
    assert plan.counted_from == D(ct_day)


def test_a_visit_done_with_the_mri_alone_leaves_the_chest_ct_on_its_own_clock() -> None:
    """Both examinations on 2025-07-10 (visit 2), then the MRI alone on 2025-10-10
    (visit 3, on time, the chest CT flagged missing). The CT was last done on 2025-07-10:
    it is due 2025-10-10 and overdue after 2025-11-10 (S18, S21, I2), whatever the MRI.
    Visit 4 is that CT's: due 2025-10-10, overdue after 2025-11-10, counted from
    2025-07-10, overdue on 2025-11-20. It was due 2026-01-10, counted from the MRI: the
    CT 6 months apart."""
    plan = _plan("2025-11-20", ("2025-07-10", CT), ("2025-07-10", MRI),
                 ("2025-10-10", MRI))
    third = plan.visits[2]
    assert (third.status, third.timeliness) == ("done", "on_time")
    assert [f.id for f in third.flags] == ["FU-IMAGING-INCOMPLETE"]
    assert _dates(plan, 4) == ("2025-10-10", "2025-11-10", "2025-07-10", "overdue", None)
    assert plan.next_visit is plan.visits[3]
    assert "FU-IMAGING-INCOMPLETE" in {a.id for a in plan.alerts}
    # once the CT is done (2025-10-20, before visit 4 would be due from the MRI) it joins
    # visit 3, and the next visit counts from the MRI of 2025-10-10: 2026-01-10
    done = _plan("2025-11-20", ("2025-07-10", CT), ("2025-07-10", MRI),
                 ("2025-10-10", MRI), ("2025-10-20", CT))
    assert [e.modality for e in done.visits[2].scans] == [MRI, CT]
    assert _dates(done, 4) == ("2026-01-10", "2026-02-10", "2025-10-10", "upcoming", None)


def test_an_examination_owed_and_passed_is_not_listed_again_as_missed() -> None:
    """Both examinations on 2025-04-10 (visit 1), then MRIs alone on 2025-07-10 and
    2025-10-10. With the CT lacking at visits 2 and 3 each is flagged
    (FU-IMAGING-INCOMPLETE); the CT's period a later MRI passed is not listed again as a
    visit missed. The open visit after the last MRI is the CT's, dated on the CT's own
    clock (S18, S21, I2): last done 2025-04-10, so due 2025-07-10 and overdue after
    2025-08-10, owed since visit 2 (the first visit done without it). On 2025-11-20 it is
    overdue, as it has been since 2025-08-11. It was dated 2025-10-10 to 2025-11-10
    (the window of the latest MRI visit), which said "due" inside that window while the
    CT was 3 months past its own."""
    plan = _plan("2025-11-20", ("2025-07-10", MRI), ("2025-10-10", MRI))
    assert [v.status for v in plan.visits[:4]] == ["done", "done", "done", "overdue"]
    assert [[f.id for f in v.flags] for v in plan.visits[1:3]] == [
        ["FU-IMAGING-INCOMPLETE"], ["FU-IMAGING-INCOMPLETE"]]
    assert _dates(plan, 4) == ("2025-07-10", "2025-08-10", "2025-04-10", "overdue", None)
    assert (plan.visits[3].owed_since, plan.visits[3].owed) == (2, (CT,))
    assert plan.late == (plan.visits[3],)


def test_a_chest_ct_missing_at_three_visits_is_overdue_inside_the_last_visits_window(
        repo: Repository) -> None:
    """Review case C3b: both examinations on 2025-04-10, then the MRI alone on
    2025-07-10, 2025-10-10 and 2026-01-10. Evaluated on 2026-01-15, inside the last MRI
    visit's window (2026-01-10 to 2026-02-10): the chest CT, last done 2025-04-10, was
    due 2025-07-10 and overdue after 2025-08-10 (S18, S21, I2). It is overdue, 5 months
    past, and the plan, its note and the registry worklist say so. It read "due now",
    due 2026-01-10, and "owed since visit #4"."""
    rows = (("2025-07-10", MRI), ("2025-10-10", MRI), ("2026-01-10", MRI))
    plan = _plan("2026-01-15", *rows)
    owed = plan.next_visit
    assert owed is plan.visits[4]
    assert (owed.due, owed.latest, owed.status) == (D("2025-07-10"), D("2025-08-10"),
                                                    "overdue")
    assert (owed.owed_since, [p.modality for p in owed.imaging]) == (2, [CT])
    # the routine visit after it counts on from the CT's clock: 2026-04-10, upcoming
    assert _dates(plan, 6) == ("2026-04-10", "2026-05-10", "2025-04-10", "upcoming", None)
    words = ("chest CT owed since visit #2, the first visit done without it; last done 2025-04-10; "
             "due 2025-07-10 on its own clock, overdue after 2025-08-10: this visit is for "
             "it alone")
    assert words in markdown_plan(plan)
    s = default_settings()
    on = D("2026-01-15")
    record_case(repo, "T3-05", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for day, modality in (*VISIT_1, *rows):
        record_scan(repo, "T3-05", day, modality.value, "no_evidence_of_disease",
                    on_date=on, actor="radiology")
    [item] = build_worklist(evaluate(repo.states(as_of=on), on, s), on)
    assert (item.status.value, item.due, item.latest, item.imaging) == (
        "overdue", D("2025-07-10"), D("2025-08-10"), ("chest_ct",))


def test_a_chest_ct_never_done_is_overdue_on_the_day_of_an_mri_visit() -> None:
    """Review case C3: resected 2025-01-10, the MRI alone on 2025-04-10, 2025-07-10,
    2025-10-10 and 2026-01-10, never a chest CT. Evaluated on 2026-01-10, the day of the
    fourth MRI: the CT, not done since the end of treatment, was due 2025-04-10 and
    overdue after 2025-05-10. It is overdue (a year past), owed since visit 1. It read
    "due now", its window the day's visit's (2026-01-10 to 2026-02-10)."""
    c = parse_case(CASE)
    day = D("2026-01-10")
    plan = plan_surveillance(c, assess(c, day), day, _history(
        ("2025-04-10", MRI), ("2025-07-10", MRI), ("2025-10-10", MRI), ("2026-01-10", MRI)))
    owed = plan.next_visit
    assert owed is not None
    assert (owed.due, owed.latest, owed.status, owed.owed_since) == (
        D("2025-04-10"), D("2025-05-10"), "overdue", 1)
    assert [p.modality for p in owed.imaging] == [CT]
    assert ("chest CT owed since visit #1, the first visit done without it; not done since "
            "2025-01-10, the end of treatment; due 2025-04-10 on its own clock, overdue "
            "after 2025-05-10") in markdown_plan(plan)


# the routine visit (2025-10-10 to 2025-11-10) due, and overdue
@pytest.mark.parametrize("on", ["2025-10-15", "2026-01-15"])
def test_an_owed_ct_and_the_routine_visit_both_open_are_one_visit_asking_for_both(
        repo: Repository, on: str) -> None:
    """HAZ-439: both examinations on 2025-04-10, the MRI alone on 2025-07-10, nothing
    after. The CT is owed since visit 2, due 2025-07-10 and overdue after 2025-08-10 on
    its own clock; the routine visit of both is due 2025-10-10, overdue after 2025-11-10
    (the CT's clock, 2025-04-10, + 6 and + 7 months; the MRI's 2025-07-10 + 3 and + 4
    months alike). Once that routine visit is due too (on and after 2025-10-10), one
    visit asks for the chest CT and the MRI, dated by the CT (overdue since 2025-08-11),
    the routine window said beside it: the next visit, the calendar and the registry
    worklist (stored and recomputed alike) ask for both. They asked for the CT alone and
    left the MRI out (overdue since 2025-11-11 on 2026-01-15), and the calendar held two
    overdue events."""
    plan = _plan(on, ("2025-07-10", MRI))
    v = plan.next_visit
    assert v is plan.visits[2]
    assert (v.due, v.latest, v.status) == (D("2025-07-10"), D("2025-08-10"), "overdue")
    assert [p.modality for p in v.imaging] == [CT, MRI]
    assert (v.owed_since, v.owed, v.joined_routine) == (
        2, (CT,), (D("2025-10-10"), D("2025-11-10")))
    # the visit after is the next routine one, counted on: 2026-01-10 to 2026-02-10
    assert (plan.visits[3].due, plan.visits[3].owed_since) == (D("2026-01-10"), None)
    words = ("chest CT owed since visit #2, the first visit done without it; last done "
             "2025-04-10; due 2025-07-10 on its own clock, overdue after 2025-08-10; "
             "joined to the routine visit due 2025-10-10, overdue after 2025-11-10, for "
             "the MRI primary site")
    assert words in markdown_plan(plan)
    ics = plan_to_ics(plan, "T3-06").decode().replace("\r\n ", "")
    # one overdue event asking for both, not a second one for the routine window
    assert [line for line in ics.split("\r\n")
            if line.startswith("SUMMARY") and "OVERDUE" in line] == [
        "SUMMARY:PEComa surveillance visit 3: chest CT + MRI primary site "
        "(OVERDUE since 2025-08-11)"]
    s = default_settings()
    day = D(on)
    record_case(repo, "T3-06", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for d, modality in (*VISIT_1, ("2025-07-10", MRI)):
        record_scan(repo, "T3-06", d, modality.value, "no_evidence_of_disease",
                    on_date=day, actor="radiology")
    [item] = build_worklist(evaluate(repo.states(as_of=day), day, s), day)
    assert (item.status.value, item.due, item.imaging) == (
        "overdue", D("2025-07-10"), ("chest_ct", "mri_primary"))
    assert stored_worklist(repo, day, s) == [item]


def test_the_stored_worklist_asks_for_the_mri_once_the_routine_visit_comes_due(
        repo: Repository) -> None:
    """HAZ-439: the same history, its last scan (the MRI of 2025-07-10) recorded on
    2025-07-15, nothing recorded after. The state stored then holds the owed CT's visit
    alone; on 2025-10-10 the routine visit of both (2025-10-10 to 2025-11-10) comes due
    and the MRI must be asked as well. So the stored state holds up to 2025-10-09 (its
    valid-until), and from 2025-10-10 the worklist asks for both, on every day as a
    recomputation does: 2025-08-20 the CT alone (overdue), 2025-10-09 the CT alone,
    2025-10-10 and 2025-11-11 (the MRI past its own 4 months) and 2026-01-15 both,
    dated by the CT."""
    s = default_settings()
    record_case(repo, "T3-07", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for d, modality in (*VISIT_1, ("2025-07-10", MRI)):
        record_scan(repo, "T3-07", d, modality.value, "no_evidence_of_disease",
                    on_date=D("2025-07-15"), actor="radiology")
    (row,) = repo.state_rows()
    assert row.state is not None
    assert (row.state.valid_from, row.state.valid_until) == (D("2025-07-10"),
                                                             D("2025-10-09"))
    expected = {"2025-08-20": ("chest_ct",), "2025-10-09": ("chest_ct",),
                "2025-10-10": ("chest_ct", "mri_primary"),
                "2025-11-11": ("chest_ct", "mri_primary"),
                "2026-01-15": ("chest_ct", "mri_primary")}
    for on, imaging in expected.items():
        day = D(on)
        [item] = stored_worklist(repo, day, s)
        assert (item.status.value, item.due, item.latest, item.imaging) == (
            "overdue", D("2025-07-10"), D("2025-08-10"), imaging), on
        assert [item] == build_worklist(evaluate(repo.states(as_of=day), day, s), day), on
    # a state stored after the routine visit came due holds from that day on only
    record_scan(repo, "T3-07", "2025-06-01", "ultrasound", "no_evidence_of_disease",
                on_date=D("2025-10-20"), actor="radiology")
    (row,) = repo.state_rows()
    assert row.state is not None
    assert (row.state.valid_from, row.state.valid_until) == (D("2025-10-10"), None)
    for on, imaging in expected.items():
        [item] = stored_worklist(repo, D(on), s)
        assert item.imaging == imaging, on


def test_an_mri_alone_does_not_do_the_owed_chest_cts_visit() -> None:
    """Both examinations on 2025-04-10, the MRI alone on 2025-07-10 (visit 2, the CT
    flagged missing) and again on 2025-09-15, no chest CT since 2025-04-10. The CT is
    owed since visit 2, due 2025-07-10, overdue after 2025-08-10 on its own clock: an
    MRI does not do its visit (it read "done (late)" on 2025-09-15 while the CT was not
    done). On 2025-12-01 the owed visit is open and overdue (since 2025-08-11), joined
    to the routine visit due 2025-10-10, overdue after 2025-11-10 (due by then): one
    visit asking for the chest CT, the MRI of 2025-09-15 shown with it as done (not due
    again before 2025-12-15, HAZ-519). The MRI counts for the MRI's clock all the same
    (next item)."""
    plan = _plan("2025-12-01", ("2025-07-10", MRI), ("2025-09-15", MRI))
    assert [v.status for v in plan.visits[:3]] == ["done", "done", "overdue"]
    owed = plan.visits[2]
    assert plan.next_visit is owed
    assert (owed.due, owed.latest, owed.owed_since, owed.joined_routine) == (
        D("2025-07-10"), D("2025-08-10"), 2, (D("2025-10-10"), D("2025-11-10")))
    assert [p.modality for p in owed.imaging] == [CT]
    assert [(e.date, e.modality) for e in owed.scans] == [(D("2025-09-15"), MRI)]
    assert not any(v.status == "done" and v.owed_since is not None for v in plan.visits)
    # the routine visit after it: 2026-01-10 to 2026-02-10
    assert _dates(plan, 4) == ("2026-01-10", "2026-02-10", "2025-04-10", "upcoming", None)


def test_the_mri_done_before_the_owed_ct_counts_for_the_mris_clock() -> None:
    """The same, then the chest CT on 2025-12-05: done after the next visit would have
    been due (2025-10-10), so the routine visit of 2025-10-10 to 2025-11-10 is done,
    late (the CT after 2025-11-10), with both examinations: the MRI of 2025-09-15 and
    the CT. The owed visit is not listed again (the CT was flagged at visit 2). The next
    visit counts from the examination done longest ago, the MRI of 2025-09-15: due
    2025-12-15, overdue after 2026-01-15, so the MRI never waits past its 4 months
    (counted from the CT grid it would wait to 2026-02-10). No examination is flagged
    missing at visit 3 (the MRI was not lacking)."""
    plan = _plan("2025-12-10", ("2025-07-10", MRI), ("2025-09-15", MRI),
                 ("2025-12-05", CT))
    third = plan.visits[2]
    assert (third.due, third.latest, third.status, third.timeliness, third.owed_since) == (
        D("2025-10-10"), D("2025-11-10"), "done", "late", None)
    assert [(p.modality, p.done_on) for p in third.imaging] == [
        (CT, D("2025-12-05")), (MRI, D("2025-09-15"))]
    assert third.flags == ()
    assert _dates(plan, 4) == ("2025-12-15", "2026-01-15", "2025-09-15", "upcoming", None)
    assert not any(v.status == "done" and v.owed_since is not None for v in plan.visits)


def test_a_window_is_listed_once_for_the_routine_visit_and_once_for_what_it_owes() -> None:
    """Both examinations on 2025-04-10, then the MRI alone on 2025-05-20 (visit 2,
    2025-07-10 to 2025-08-10, done early, the chest CT flagged missing) and again on
    2025-08-13. The chest CT is owed since visit 2 on its own clock (last done
    2025-04-10: due 2025-07-10, overdue after 2025-08-10). That window was listed three
    times: visit 2, an owed visit "done (late)" by the MRI of 2025-08-13, and the owed
    CT's visit again, overdue. Now twice: visit 2 (done) and visit 3, the owed CT's
    (overdue), joined on 2026-03-01 to the routine visit due 2025-10-10, overdue after
    2025-11-10 (counted from the CT's clock, + 6 and + 7 months), so the chest CT is
    asked once; visit 4 is 2026-01-10 to 2026-02-10 (+ 9 and + 10 months), overdue."""
    plan = _plan("2026-03-01", ("2025-05-20", MRI), ("2025-08-13", MRI))
    assert [(v.due.isoformat(), v.latest.isoformat(), v.status, v.owed_since)
            for v in plan.visits[:5]] == [
        ("2025-04-10", "2025-05-10", "done", None),
        ("2025-07-10", "2025-08-10", "done", None),
        ("2025-07-10", "2025-08-10", "overdue", 2),
        ("2026-01-10", "2026-02-10", "overdue", None),
        ("2026-04-10", "2026-05-10", "upcoming", None)]
    assert plan.visits[2].joined_routine == (D("2025-10-10"), D("2025-11-10"))
    assert [p.modality for p in plan.visits[2].imaging] == [CT, MRI]
    assert [v.index for v in plan.visits if v.open and CT in
            {p.modality for p in v.imaging} and v.due == D("2025-07-10")] == [3]


def test_an_owed_ct_before_the_routine_visit_is_due_is_its_own_visit() -> None:
    """The same history on 2025-08-20: the owed CT is overdue (since 2025-08-11), the
    routine visit of both (2025-10-10) not yet due: the CT's visit is for it alone."""
    plan = _plan("2025-08-20", ("2025-07-10", MRI))
    owed, routine = plan.visits[2], plan.visits[3]
    assert (owed.status, [p.modality for p in owed.imaging], owed.joined_routine) == (
        "overdue", [CT], None)
    assert (routine.due, routine.latest, routine.status) == (
        D("2025-10-10"), D("2025-11-10"), "upcoming")


def test_the_report_says_what_the_next_visit_counts_from() -> None:
    """The Notes name the date and what it is: the last scan of the examination done
    longest ago (the CT of 2025-07-10, not the MRI of the same visit)."""
    plan = _plan("2025-12-01", ("2025-07-10", CT), ("2025-08-15", MRI))
    assert ("counted from 2025-07-10, the last scan of the examination done longest ago"
            in markdown_plan(plan))


def test_the_registry_worklist_shows_the_same_visit(repo: Repository) -> None:
    """The worklist draws the same plan (one implementation): h03c recorded in the
    registry, on 2025-12-01 the patient is overdue for visit 3, window 2025-10-10 to
    2025-11-10 (it said "due", 2025-11-15 to 2025-12-15)."""
    s = default_settings()
    on = D("2025-12-01")
    record_case(repo, "T3-03", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for day, modality in (*VISIT_1, ("2025-07-10", CT), ("2025-08-15", MRI)):
        record_scan(repo, "T3-03", day, modality.value, "no_evidence_of_disease",
                    on_date=on, actor="radiology")
    [item] = build_worklist(evaluate(repo.states(as_of=on), on, s), on)
    assert (item.status.value, item.due, item.latest) == (
        "overdue", D("2025-10-10"), D("2025-11-10"))


def test_the_visit_of_an_owed_examination_says_so_in_every_output(repo: Repository) -> None:
    """Visit 3 done with the MRI alone (2025-10-10, window 2025-10-10 to 2025-11-10):
    the chest CT, last done 2025-07-10, is owed on its own clock, due 2025-10-10 and
    overdue after 2025-11-10, the window of visit 3 itself. Visit 4 is that CT's alone:
    a coordinator must not see two visits with one window, as if the schedule were
    wrong, nor book a second MRI a month after the last. So visit 4 lists the chest CT
    only, is marked owed since visit 3, and the report, the calendar and the registry
    worklist say so; visit 5 (due 2026-01-10, both examinations) is a routine visit
    again, counted from the CT's clock."""
    rows = (("2025-07-10", CT), ("2025-07-10", MRI), ("2025-10-10", MRI))
    plan = _plan("2025-11-20", *rows)
    owed, routine = plan.visits[3], plan.visits[4]
    assert (owed.due, owed.latest) == (plan.visits[2].due, plan.visits[2].latest)
    assert owed.owed_since == 3
    assert [p.modality for p in owed.imaging] == [CT]
    assert routine.owed_since is None
    assert [p.modality for p in routine.imaging] == [CT, MRI]
    assert (routine.due, routine.latest) == (D("2026-01-10"), D("2026-02-10"))
    words = ("chest CT owed since visit #3, the first visit done without it; last done 2025-07-10; "
             "due 2025-10-10 on its own clock, overdue after 2025-11-10: this visit is for "
             "it alone")
    assert words in markdown_plan(plan)
    ics = plan_to_ics(plan, "T3-04").decode().replace("\r\n ", "")
    assert "Chest CT owed since visit #3" in ics.replace("\\,", ",")
    # a visit of every examination is not marked
    assert _plan("2025-11-20", ("2025-07-10", CT), ("2025-07-10", MRI)).visits[2].owed_since \
        is None
    # the registry worklist's reason says it too (the same plan, one implementation)
    s = default_settings()
    on = D("2025-11-20")
    record_case(repo, "T3-04", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for day, modality in (*VISIT_1, *rows):
        record_scan(repo, "T3-04", day, modality.value, "no_evidence_of_disease",
                    on_date=on, actor="radiology")
    [item] = build_worklist(evaluate(repo.states(as_of=on), on, s), on)
    assert (item.status.value, item.due, item.latest, item.imaging) == (
        "overdue", D("2025-10-10"), D("2025-11-10"), ("chest_ct",))
    assert words in item.reason


# --------------------------------------------------------------------------------------
# The plan's flags follow the alerts' rule: an equivocal scan read again is settled
# --------------------------------------------------------------------------------------

C14N: dict[str, Any] = {
    **CASE,
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-15",
                  "prior_diagnosis": "none"},
    "surgery": {"status": "performed", "date": "2025-01-31", "margin": "R0"},
}


def test_an_equivocal_baseline_scan_read_again_leaves_the_plans_flags() -> None:
    """High risk, resected 2025-01-31: a chest CT on the surgery date reported equivocal
    (a baseline scan: FU-EQUIVOCAL, "decide before the next routine visit", I16), then
    chest CT and MRI clear on 2025-04-30 (visit 1, done). The chest CT was read again at
    a later visit: the question is settled (docs: "stays an alert until a later visit
    reads that examination again"). On 2025-06-10 the plan's flags, its baseline flags,
    its alerts and every report agree: nothing to decide. The baseline scan stays, with
    its finding."""
    c = parse_case(C14N)
    on = D("2025-06-10")
    history = (ImagingEvent(D("2025-01-31"), CT, ScanFinding.equivocal),
               ImagingEvent(D("2025-04-30"), CT, CLEAR),
               ImagingEvent(D("2025-04-30"), MRI, CLEAR))
    plan = plan_surveillance(c, assess(c, on), on, history)
    assert plan.visits[0].status == "done"
    assert plan.flags == () and plan.baseline_flags == () and plan.alerts == ()
    assert plan.baseline == history[:1]
    assert "Equivocal" not in markdown_plan(plan)
    assert "FU-EQUIVOCAL" not in str(plan.to_dict()["flags"])
    # before that visit it is open, everywhere alike
    early = plan_surveillance(c, assess(c, D("2025-03-01")), D("2025-03-01"), history[:1])
    assert [f.id for f in early.flags] == ["FU-EQUIVOCAL"]
    assert [f.id for f in early.baseline_flags] == ["FU-EQUIVOCAL"]
    assert [a.id for a in early.alerts] == ["FU-EQUIVOCAL"]


def test_an_equivocal_scan_not_read_again_stays_among_the_flags() -> None:
    """The MRI alone at visit 1: the chest CT that was equivocal was not read again, so
    the flag stays open (critical), in the flags and the alerts alike."""
    c = parse_case(C14N)
    on = D("2025-06-10")
    history = (ImagingEvent(D("2025-01-31"), CT, ScanFinding.equivocal),
               ImagingEvent(D("2025-04-30"), MRI, CLEAR))
    plan = plan_surveillance(c, assess(c, on), on, history)
    assert [f.id for f in plan.baseline_flags] == ["FU-EQUIVOCAL"]
    assert [f.id for f in plan.flags] == ["FU-EQUIVOCAL", "FU-IMAGING-INCOMPLETE"]
    assert [a.id for a in plan.alerts] == ["FU-EQUIVOCAL", "FU-IMAGING-INCOMPLETE"]


# --------------------------------------------------------------------------------------
# A size's value left empty beside its unit: the refusal says why and what is allowed
# --------------------------------------------------------------------------------------


def test_a_blank_size_beside_its_unit_says_why_and_what_is_allowed(
        repo: Repository, tmp_path: Any) -> None:
    """A registry row with 'tumour.size.value' empty and 'tumour.size.unit' = cm: an
    empty cell means unknown (docs/registry.md), but a unit without its number is no
    size. It is refused, naming the column, the filled unit cell that makes it required,
    and what is allowed: give the size, or empty the unit too to record the size as
    unknown. Nothing is written. The other half, a number without its unit, alike."""
    row = rows_of({"PEC-017": CASE})[0]
    row["tumour.size.value"] = ""
    report = import_file(repo, write_csv(tmp_path / "r.csv", [row]), on_date=D("2026-12-07"),
                         settings=default_settings(), actor="importer",
                         mode=ImportMode.all_or_nothing)
    assert [(i.row, i.column, i.value) for i in report.issues] == [
        (2, "tumour.size.value", "(missing)")]
    assert report.issues[0].rule == (
        "is required because 'tumour.size.unit' is filled in ('cm'): give the size's "
        "value, or leave 'tumour.size.unit' empty too to record the size as unknown")
    assert repo.states() == []
    # the case format says the same of a JSON case
    with pytest.raises(InputError) as caught:
        parse_case({**CASE, "tumour": {"primary_site": "uterus", "size": {"value": 6.5}}})
    assert ("'tumour.size.unit' is required because 'tumour.size.value' is filled in (6.5):"
            " give the size's unit, or leave 'tumour.size.value' empty too to record the "
            "size as unknown") in str(caught.value)


# --------------------------------------------------------------------------------------
# A joined visit asks only for what is due: an examination done within it counts as done
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", ["2025-10-10", "2025-12-01", "2025-12-14"])
def test_a_joined_visit_does_not_ask_for_an_mri_done_weeks_before(
        repo: Repository, on: str) -> None:
    """HAZ-519: docs/surveillance.md's example. Both examinations on 2025-04-10, the MRI
    alone on 2025-07-10 (visit 2, the chest CT lacking) and again on 2025-09-15. The CT is
    owed since visit 2 (due 2025-07-10, overdue after 2025-08-10 on its own clock); from
    2025-10-10 on it is joined to the routine visit due 2025-10-10, overdue after
    2025-11-10. The MRI, last done 2025-09-15, is due again on its own clock on
    2025-12-15 (+ 3 months), after the routine visit's window: the joined visit asks for
    the chest CT alone, the MRI of 2025-09-15 shown with it as done, and says when the
    MRI falls due again. It asked for both, an MRI 3 to 12 weeks after the last one, the
    very MRI the plan counts as this visit's once the CT is done (the next test above:
    visit 3 done with the MRI of 2025-09-15, visit 4 due 2025-12-15). The registry
    worklist, stored and recomputed, and the calendar say the same."""
    rows = (("2025-07-10", MRI), ("2025-09-15", MRI))
    plan = _plan(on, *rows)
    v = plan.next_visit
    assert v is plan.visits[2]
    assert (v.due, v.latest, v.status, v.owed_since, v.joined_routine) == (
        D("2025-07-10"), D("2025-08-10"), "overdue", 2, (D("2025-10-10"), D("2025-11-10")))
    assert [p.modality for p in v.imaging] == [CT]
    assert v.due_again == ((MRI, D("2025-12-15")),)
    assert [(e.date, e.modality) for e in v.scans] == [(D("2025-09-15"), MRI)]
    words = ("joined to the routine visit due 2025-10-10, overdue after 2025-11-10; the "
             "MRI primary site done 2025-09-15 counts for it (due again 2025-12-15 on its "
             "own clock)")
    text = markdown_plan(plan)
    assert words in text
    assert "MRI primary site ✓ 2025-09-15" in text
    assert "not a planned examination" not in text
    ics = plan_to_ics(plan, "T3-08").decode().replace("\r\n ", "")
    assert [line for line in ics.split("\r\n")
            if line.startswith("SUMMARY") and "OVERDUE" in line] == [
        "SUMMARY:PEComa surveillance visit 3: chest CT (OVERDUE since 2025-08-11)"]
    # the plan holds so up to the day before the MRI is due again
    assert plan.drawn_alike == (D("2025-10-10"), D("2025-12-14"))
    s = default_settings()
    day = D(on)
    record_case(repo, "T3-08", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for d, modality in (*VISIT_1, *rows):
        record_scan(repo, "T3-08", d, modality.value, "no_evidence_of_disease",
                    on_date=day, actor="radiology")
    [item] = build_worklist(evaluate(repo.states(as_of=day), day, s), day)
    assert (item.status.value, item.due, item.imaging) == (
        "overdue", D("2025-07-10"), ("chest_ct",))
    assert stored_worklist(repo, day, s) == [item]


def test_a_joined_visit_asks_for_the_mri_once_its_own_clock_makes_it_due(
        repo: Repository) -> None:
    """HAZ-519: the same history, the chest CT still not done. On 2025-12-15 the MRI of
    2025-09-15 is due again on its own clock (+ 3 months; overdue after 2026-01-15): the
    joined visit asks for the chest CT and the MRI, so the MRI never waits past its rhythm
    behind the owed CT. The stored worklist state, written on 2025-10-20 (valid from
    2025-10-10, the routine due date, up to 2025-12-14), is left from 2025-12-15 on, and
    the worklist agrees with a recomputation on every day around that bound."""
    rows = (("2025-07-10", MRI), ("2025-09-15", MRI))
    plan = _plan("2025-12-15", *rows)
    v = plan.next_visit
    assert v is plan.visits[2]
    assert [p.modality for p in v.imaging] == [CT, MRI]
    assert plan.drawn_alike == (D("2025-12-15"), None)
    assert "joined to the routine visit due 2025-10-10, overdue after 2025-11-10, for the " \
           "MRI primary site" in markdown_plan(plan)
    s = default_settings()
    record_case(repo, "T3-09", CASE, on_date=D("2025-01-20"), settings=s, actor="clinic",
                source="test")
    for d, modality in (*VISIT_1, *rows):
        record_scan(repo, "T3-09", d, modality.value, "no_evidence_of_disease",
                    on_date=D("2025-10-20"), actor="radiology")
    (row,) = repo.state_rows()
    assert row.state is not None
    assert (row.state.valid_from, row.state.valid_until) == (D("2025-10-10"),
                                                             D("2025-12-14"))
    expected = {"2025-09-20": ("chest_ct",), "2025-10-09": ("chest_ct",),
                "2025-10-10": ("chest_ct",), "2025-12-14": ("chest_ct",),
                "2025-12-15": ("chest_ct", "mri_primary"),
                "2026-01-20": ("chest_ct", "mri_primary")}
    for on, imaging in expected.items():
        day = D(on)
        [item] = stored_worklist(repo, day, s)
        assert item.imaging == imaging, on
        assert [item] == build_worklist(evaluate(repo.states(as_of=day), day, s), day), on


def test_a_joined_visit_asks_for_an_mri_due_within_the_routine_window() -> None:
    """HAZ-519: both examinations on 2025-04-10, the MRI alone on 2025-05-20 (visit 2,
    done early, the chest CT lacking) and again on 2025-07-20, before the routine visit of
    2025-10-10 to 2025-11-10. That MRI is due again on 2025-10-20, within the routine
    window the joined visit stands for: on 2025-10-12 the joined visit asks for both (the
    MRI at most a few days early, the safer error), not the CT alone."""
    plan = _plan("2025-10-12", ("2025-05-20", MRI), ("2025-07-20", MRI))
    v = plan.next_visit
    assert v is not None and v.joined_routine == (D("2025-10-10"), D("2025-11-10"))
    assert [p.modality for p in v.imaging] == [CT, MRI]
    assert v.due_again == ((MRI, D("2025-10-20")),)
