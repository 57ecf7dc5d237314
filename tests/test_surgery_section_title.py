"""The heading of the surgery section follows the disease.

S04's referral for surgical planning at a sarcoma reference centre (REC-REFER-SURGERY)
applies to metastatic and recurrent disease as well as to localized disease: it sits in
the section of the surgery of the primary. For a metastatic or recurrent patient the
reports had printed it under "Localized disease: surgery", a heading a clinician can read
as the disease being classed localized (on a tumour-board summary most of all). The
section keeps that name for localized disease and is named "Surgery" otherwise, in the
text and Markdown reports and in the web report alike.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from rich.console import Console

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report, print_report
from pecoma.web.pages import build_report_view

ON = dt.date(2026, 12, 7)
LOCALIZED_TITLE = "Localized disease: surgery"


def _case(status: str, **stage: Any) -> dict[str, Any]:
    """A kidney PEComa of 8.5 cm with necrosis, resected R0 on 2024-05-01."""
    return {
        "label": "section-title",
        "diagnosis": {"method": "histology_with_ihc", "prior_diagnosis": "none"},
        "tumour": {"primary_site": "kidney", "size": {"value": 8.5, "unit": "cm"}},
        "histology": {"necrosis": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive"},
        "stage": {"status": status, "lymph_nodes": "negative", **stage},
        "surgery": {"status": "performed", "date": "2024-05-01", "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    }


NOT_LOCALIZED = {
    "metachronous lung metastasis, resectable": _case(
        "metastatic", metastases=[{"site": "lung", "detected_on": "2025-09-01"}],
        extrapulmonary_disease="no", resectable="yes", complete_excision_feasible="yes"),
    "liver metastasis, resectable": _case(
        "metastatic", metastases=[{"site": "liver", "detected_on": "2025-09-01"}],
        resectable="yes", complete_excision_feasible="yes"),
    "local recurrence, resectable": _case("recurrent", resectable="yes"),
    "recurrence with a lung metastasis": _case(
        "recurrent", metastases=[{"site": "lung", "detected_on": "2025-09-01"}],
        resectable="yes", complete_excision_feasible="yes"),
}


def _text(a: Assessment) -> str:
    buf = io.StringIO()
    print_report(a, Console(file=buf, width=120, color_system=None))
    return buf.getvalue()


def _web_titles(data: dict[str, Any], a: Assessment) -> list[str]:
    view = build_report_view(parse_case(data), a, load_knowledge())
    return [s.title for s in view.sections]


@pytest.mark.parametrize("name", list(NOT_LOCALIZED))
def test_not_localized_disease_gets_no_localized_heading(name: str) -> None:
    data = NOT_LOCALIZED[name]
    a = assess(parse_case(data), ON)
    assert "REC-REFER-SURGERY" in {r.id for r in a.recommendations}
    assert LOCALIZED_TITLE not in _text(a)
    assert LOCALIZED_TITLE not in markdown_report(a)
    assert "## Surgery\n" in markdown_report(a)
    titles = _web_titles(data, a)
    assert LOCALIZED_TITLE not in titles and "Surgery" in titles


def test_localized_disease_keeps_its_heading() -> None:
    data = _case("localized")
    a = assess(parse_case(data), ON)
    assert "REC-RESECTION-DONE" in {r.id for r in a.recommendations}
    assert LOCALIZED_TITLE in _text(a)
    assert f"## {LOCALIZED_TITLE}\n" in markdown_report(a)
    assert LOCALIZED_TITLE in _web_titles(data, a)
