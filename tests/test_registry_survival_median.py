"""The median of a Kaplan–Meier curve: the smallest time at which the estimate is at or
below 50 %, also when the curve lands on exactly 50 % (3/6 computed in floating point is
0.5000000000000001); the same rule for the median follow-up (the reverse curve) and in
every output. Each expected value is worked out by hand in the test's docstring."""

from __future__ import annotations

import json

import pytest

from pecoma.registry.survival import (
    YEAR,
    Endpoint,
    Grouping,
    Subject,
    analyse,
    km_median,
    to_json,
    to_text,
)

from registry_support import ON


def subjects(events: list[float], censored: list[float]) -> list[Subject]:
    return [*(Subject(f"E{i}", "high", t, True) for i, t in enumerate(events)),
            *(Subject(f"C{i}", "high", t, False) for i, t in enumerate(censored))]


@pytest.mark.parametrize(("events", "censored", "median"), [
    # n = 2: an event at 1 (S = 1 - 1/2 = 1/2), the other censored at 2: at 50 % from 1
    ([1.0], [2.0], 1.0),
    # n = 4: events at 1 (S = 3/4) and 2 (S = 3/4 x 2/3 = 1/2), censored at 3 and 4
    ([1.0, 2.0], [3.0, 4.0], 2.0),
    # n = 6: events at 1, 2, 3 (S = 5/6, 4/6, 3/6 = 1/2), censored at 4, 5, 6
    ([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], 3.0),
    # n = 5: events at 1, 2, 3 (S = 4/5, 3/5, 2/5): crosses below 50 % at 3, not at 2
    ([1.0, 2.0, 3.0], [4.0, 5.0], 3.0),
    # n = 4: one event at 1 (S = 3/4), the rest censored: never at 50 %, not reached
    ([1.0], [2.0, 3.0, 4.0], None),
    # n = 4, two events tied at 2 (S = 1 - 2/4 = 1/2): at 50 % from 2
    ([2.0, 2.0], [3.0, 4.0], 2.0),
])
def test_median_is_the_first_time_at_or_below_half(
        events: list[float], censored: list[float], median: float | None) -> None:
    """Standard definition: the smallest t with S(t) <= 0.5 (None: never reached)."""
    times = [*events, *censored]
    observed = [True] * len(events) + [False] * len(censored)
    assert km_median(times, observed) == median
    (curve,) = analyse(subjects(events, censored), Endpoint.rfs, Grouping.risk, ON,
                       min_cell=1).curves
    assert curve.median == median


def test_a_censored_time_equal_to_an_event_time_is_at_risk_at_it() -> None:
    """Events at 1 and 2, censored at 2 and 3. The curve: 4 at risk at 1 (S = 3/4), 3
    at 2, one event: S = 3/4 x 2/3 = 1/2, the median 2. The reverse curve (censoring as
    the event) decides the convention: at 2 the patient whose relapse is at 2 is still
    at risk of being censored, 3 at risk, one censored: 2/3; at 3 the last one: 0. The
    median follow-up is 3 (2, had the tie been taken out first: 1 - 1/2)."""
    (curve,) = analyse(subjects([1.0, 2.0], [2.0, 3.0]), Endpoint.rfs, Grouping.risk, ON,
                       min_cell=1).curves
    assert curve.median == 2.0
    assert curve.median_follow_up == 3.0


def test_median_follow_up_at_exactly_half() -> None:
    """Censored at 1 and 2, events at 3 and 4: the reverse curve (censoring as the event)
    is 3/4 at 1 and 3/4 x 2/3 = 1/2 at 2, so the median follow-up is 2 (never "not
    reached" on a curve at 50 %). The curve itself: 1/2 at 3 (2 at risk, one event),
    the median 3."""
    (curve,) = analyse(subjects([3.0, 4.0], [1.0, 2.0]), Endpoint.rfs, Grouping.risk, ON,
                       min_cell=1).curves
    assert curve.median_follow_up == 2.0
    assert curve.median == 3.0


def test_six_resected_patients_three_relapses_every_output() -> None:
    """Six patients operated on the same day: relapses at 182, 366 and 731 days,
    censored at 1096, 1461 and 1827 days. S = 5/6, 4/6, then 3/6 = 50 % at 731 days
    (2.00 y), where the curve stays: the median is 2.00 y, printed beside "3 y: 50.0 %",
    never "not reached". A fourth relapse after it (1247 days) does not move it: the
    curve was at 50 % already at 731 days."""
    events = [d / YEAR for d in (182, 366, 731)]
    censored = [d / YEAR for d in (1096, 1461, 1827)]
    r = analyse(subjects(events, censored), Endpoint.rfs, Grouping.risk, ON, min_cell=1)
    (curve,) = r.curves
    assert curve.median == 731 / YEAR
    text = to_text(r)
    assert "median 2.00 y" in text and "not reached" not in text
    assert "3 y: 50.0 %" in text
    assert json.loads(to_json(r))["groups"][0]["median"] == 731 / YEAR
    later = analyse(subjects([*events, 1247 / YEAR], censored[:1] + censored[2:]),
                    Endpoint.rfs, Grouping.risk, ON, min_cell=1)
    assert later.curves[0].median == 731 / YEAR


def test_median_follow_up_not_reached_is_said_alike_everywhere() -> None:
    """One patient relapsed at 5 years: the survival curve falls to 0 at 5 (median 5.00
    y); the reverse curve (censoring as the event) never falls, as nobody was censored:
    the median follow-up is not reached. The text, the PDF's table and the web page's
    table all say "not reached" (the web page and PDF said "—"); JSON gives null."""
    from pecoma.registry.summary_pdf import _survival_view
    from pecoma.web.app import make_templates

    r = analyse(subjects([5.0], []), Endpoint.rfs, Grouping.risk, ON, min_cell=1)
    (curve,) = r.curves
    assert (curve.median, curve.median_follow_up) == (5.0, None)
    assert "median 5.00 y, median follow-up not reached" in to_text(r)
    (row,) = _survival_view(r)["rows"]
    assert (row["median"], row["follow_up"]) == ("5.00 y", "not reached")
    page_filter = make_templates().env.filters["median"]
    assert (page_filter(5.0), page_filter(None)) == ("5.00 y", "not reached")
    assert json.loads(to_json(r))["groups"][0]["median_follow_up"] is None
