"""The timeline picture: deterministic SVG and PNG with phases, windows, marks, legend."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from pecoma import Case, assess, parse_case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.render.timeline import timeline_figure, timeline_png, timeline_svg

CASE = parse_case({
    "label": "timeline test",
    "tumour": {"primary_site": "uterus", "size": {"value": 7, "unit": "cm"}},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R0"},
})
ON = dt.date(2026, 11, 28)


def _plan(*scans: ImagingEvent, case: Case = CASE) -> SurveillancePlan:
    return plan_surveillance(case, assess(case, ON), ON, scans)


def _scan(day: str, finding: ScanFinding = ScanFinding.no_evidence_of_disease) -> ImagingEvent:
    return ImagingEvent(dt.date.fromisoformat(day), Modality.chest_ct, finding)


class TestTimelineSvg:
    def test_is_deterministic_and_well_formed(self) -> None:
        """Same plan, same bytes; the SVG parses as XML; no creation date inside."""
        plan = _plan(_scan("2025-04-12"), _scan("2025-09-01", ScanFinding.equivocal))
        svg = timeline_svg(plan)
        assert svg == timeline_svg(plan)
        ET.fromstring(svg)
        assert "<dc:date>" not in svg
        assert "Matplotlib v" not in svg

    def test_shows_phases_status_legend_and_today(self) -> None:
        """Phases, the status legend, the finding legend and today's marker are drawn."""
        svg = timeline_svg(_plan(_scan("2025-04-12"), _scan("2025-09-01", ScanFinding.equivocal)))
        for text in ("Every 3-4 months for the first years", "Every 6 months up to year 5",
                     "Yearly after year 5, without end", "done", "missed", "OVERDUE",
                     "upcoming", "scan: equivocal", "today 2026-11-28", "next #",
                     "guideline S18", "I2 Ranges become windows"):
            assert text in svg, text

    def test_differs_when_the_plan_differs(self) -> None:
        """A new scan changes the picture (the test can fail)."""
        assert timeline_svg(_plan()) != timeline_svg(_plan(_scan("2025-04-12")))

    def test_suspended_plan_shows_cancelled_and_recurrence(self) -> None:
        svg = timeline_svg(_plan(_scan("2025-04-12", ScanFinding.metastasis)))
        assert "SUSPENDED" in svg and "cancelled" in svg and "scan: metastasis" in svg

    @pytest.mark.parametrize(("surgery", "why"), [
        ({"status": "performed"}, "start of surveillance is not known"),
        ({"status": "planned"}, "No surveillance calendar while the primary tumour is in"),
    ])
    def test_not_drawn_plan_says_why(self, surgery: dict[str, str], why: str) -> None:
        """Without an anchor (a resection without its date), or with the primary still
        in place (I20), the picture states the reason instead of inventing dates."""
        case = parse_case({"tumour": {"primary_site": "kidney"},
                           "stage": {"status": "localized"},
                           "surgery": surgery})
        svg = timeline_svg(_plan(case=case))
        assert "No dated surveillance plan can be drawn." in svg
        assert why in svg


class TestTimelinePng:
    def test_png_is_deterministic(self) -> None:
        plan = _plan(_scan("2025-04-12"))
        png = timeline_png(plan)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert png == timeline_png(plan)
        assert len(png) > 10_000

    def test_figure_for_embedding(self) -> None:
        """The figure itself is exposed for other documents (web report, PDF)."""
        fig = timeline_figure(_plan())
        assert fig.get_figwidth() == 11.0 and fig.axes


def test_after_relapse_the_axis_starts_at_the_free_of_disease_date() -> None:
    """I8: the picture names what the plan counts from, not 'end of treatment'."""
    case = parse_case({
        "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
        "stage": {"status": "metastatic",
                  "metastases": [{"site": "lung", "detected_on": "2025-05-10"}]},
        "surgery": {"status": "performed", "date": "2022-01-20", "margin": "R0"},
        "free_of_disease": {"since": "2025-08-01", "by": "surgery"},
    })
    plan = plan_surveillance(case, assess(case, ON), ON, ())
    text = timeline_svg(plan)
    assert "free of disease again 2025-08-01" in text
    assert "end of treatment" not in text
