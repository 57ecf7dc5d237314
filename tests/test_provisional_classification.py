"""A classification that waits on a missing fact is shown provisional in every report.

The ICD-O-3 code is PEComa's code: while the PEComa diagnosis is not confirmed (every
melanocytic marker tested negative: the tumour may be another sarcoma, coded otherwise,
S24, S25) the code is provisional on that confirmation (I11), as the treatment and the
surveillance schedule are. The text, Markdown, web and PDF reports say so beside the
code with the words they use for a recommendation ("Provisional until supplied"), so a
reader copying the code into a registry sees that it is not firm.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from rich.console import Console
from starlette.requests import Request

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.engine.schedule import plan_surveillance
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report, print_report
from pecoma.web.app import create_app, make_templates
from pecoma.web.config import WebConfig
from pecoma.web.pages import build_report_view, render_report
from pecoma.web.pdf import render_pdf_html

ON = dt.date(2025, 6, 1)
DOUBT = "MISS-MELANOCYTIC-EVIDENCE"


def _case(melanocytic: str) -> dict[str, Any]:
    """Metastatic uterine PEComa diagnosed on histology with immunohistochemistry, nodes
    negative (so the code is 8714/3, behaviour shown, and waits on nothing else): only
    the melanocytic markers vary."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-06",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "uterus", "cervix": "yes",
                   "size": {"value": 72, "unit": "mm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "vascular_invasion": "absent", "mitoses_per_50_hpf": 3},
        "immunohistochemistry": {"hmb45": melanocytic, "melan_a": melanocytic,
                                 "mitf": melanocytic, "cathepsin_k": "positive",
                                 "sma": "positive", "tfe3": "negative"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative", "resectable": "no",
                  "metastases": [{"site": "liver"}]},
        "surgery": {"status": "not_performed"},
        "systemic": {"mtor_inhibitor_available": "yes"},
    }


def _assess(melanocytic: str) -> tuple[Any, Assessment]:
    case = parse_case(_case(melanocytic))
    return case, assess(case, ON)


def _icdo3_text_row(a: Assessment) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    print_report(a, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    start = text.index("ICD-O-3 morphology code")
    return text[start:text.index("\n", text.index("\n", start) + 1)]


def _icdo3_markdown(a: Assessment) -> str:
    md = markdown_report(a)
    start = md.index("- **ICD-O-3 morphology code**")
    end = md.find("\n- ", start + 1)
    return md[start:end if end > 0 else None].split("\n\n")[0]


def test_text_report_marks_the_code_provisional_on_the_confirmation() -> None:
    """All melanocytic markers negative: the code row says what it waits on (I11)."""
    _, a = _assess("negative")
    icdo3 = next(c for c in a.classifications if c.id == "CLS-ICDO3")
    assert icdo3.category == "8714/3" and icdo3.item.conditional_on == (DOUBT,)
    row = _icdo3_text_row(a)
    assert "8714/3" in row
    assert f"Provisional until supplied: {DOUBT}" in row


def test_markdown_report_marks_the_code_provisional_on_the_confirmation() -> None:
    _, a = _assess("negative")
    line = _icdo3_markdown(a)
    assert "8714/3" in line
    assert f"Provisional until supplied: {DOUBT}" in line


def test_a_confirmed_diagnosis_leaves_the_code_firm() -> None:
    """Melanocytic markers positive: the diagnosis is confirmed, metastatic disease is
    coded malignant whatever else (I9): the code waits on nothing, no mark."""
    _, a = _assess("positive")
    assert "Provisional until supplied" not in _icdo3_text_row(a)
    assert "Provisional until supplied" not in _icdo3_markdown(a)


def _web_and_pdf(melanocytic: str) -> tuple[str, str]:
    case, a = _assess(melanocytic)
    plan = plan_surveillance(case, a, ON)
    app = create_app(WebConfig(session_secret="k" * 40))
    request = Request({"type": "http", "app": app, "router": app.router, "method": "GET",
                       "path": "/", "headers": [], "query_string": b""})
    html = bytes(render_report(request, case, a, plan).body).decode()
    view = build_report_view(case, a, load_knowledge(), plan)
    return html, render_pdf_html(make_templates(), view, a)


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_web_report_and_pdf_mark_the_code_provisional() -> None:
    html, pdf = _web_and_pdf("negative")
    web_row = _words(html[html.index('class="classifications"'):])
    web_row = web_row[web_row.index("ICD-O-3 morphology code"):][:300]
    assert "Provisional until supplied: Immunohistochemistry" in web_row
    pdf_words = _words(pdf)
    code = pdf_words[pdf_words.index("ICD-O-3 morphology code: 8714/3"):][:200]
    assert "provisional until supplied: Immunohistochemistry" in code


def test_web_report_and_pdf_leave_a_confirmed_code_firm() -> None:
    html, pdf = _web_and_pdf("positive")
    web_row = _words(html[html.index('class="classifications"'):])
    web_row = web_row[web_row.index("ICD-O-3 morphology code"):]
    web_row = web_row[:web_row.index("WHO Classification")]
    assert "Provisional" not in web_row
    pdf_words = _words(pdf)
    code = pdf_words[pdf_words.index("ICD-O-3 morphology code: 8714/3"):]
    assert "provisional" not in code[:code.index("WHO Classification")]
