"""The tumour-board PDF summary: its text carries statement ids, references, intended use."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from importlib import resources

import pytest
from pypdf import PdfReader

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.engine.model import Assessment
from pecoma.engine.schedule import plan_surveillance
from pecoma.knowledge import load_knowledge
from pecoma.web.app import make_templates
from pecoma.web.pages import build_report_view
from pecoma.web.pdf import MAX_PAGES, render_pdf_html, report_pdf_bytes
from report_support import R1_NODES_UNKNOWN

ON = dt.date(2026, 11, 28)
EXAMPLES = ["high-risk-uterine", "metachronous-lung", "indeterminate-retroperitoneal",
            "low-risk-kidney", "advanced-mtor-contraindicated", "imaging-only"]


def pdf_of(name: str, max_pages: int = MAX_PAGES) -> tuple[str, int, Assessment]:
    text = resources.files("pecoma").joinpath(f"examples/{name}.json").read_text("utf-8")
    case = parse_case(json.loads(text))
    a = assess(case, ON)
    plan = plan_surveillance(case, a, ON)
    view = build_report_view(case, a, load_knowledge(), plan)
    pdf = report_pdf_bytes(make_templates(), view, a, max_pages=max_pages)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    extracted = "\n".join(page.extract_text() or "" for page in reader.pages)
    return " ".join(extracted.split()), len(reader.pages), a


@pytest.fixture(scope="module", params=EXAMPLES)
def rendered(request: pytest.FixtureRequest) -> tuple[str, int, Assessment]:
    return pdf_of(request.param)


class TestPdfText:
    def test_one_to_two_pages(self, rendered: tuple[str, int, Assessment]) -> None:
        _, pages, _ = rendered
        assert 1 <= pages <= 2

    def test_intended_use(self, rendered: tuple[str, int, Assessment]) -> None:
        text, _, a = rendered
        note = " ".join(a.intended_use.split())
        assert note[:80] in text

    def test_every_page_carries_its_footer(self, rendered: tuple[str, int, Assessment]) -> None:
        """The page footer (what the document is, and 'page n of m', so a missing page is
        noticed) is on every page: the stylesheet holding it had been escaped as HTML text
        and dropped by the renderer."""
        text, pages, _ = rendered
        for n in range(1, pages + 1):
            assert f"page {n} of {pages}" in text
        assert "decision support, not a prescription" in text

    def test_statement_ids_and_references(self, rendered: tuple[str, int, Assessment]) -> None:
        """Every guideline statement behind the assessment's items appears, with refs."""
        text, _, a = rendered
        for item in a.items():
            for sid in item.provenance.statements:
                assert re.search(rf"\b{sid}\b", text), sid
            for ref in item.provenance.refs:
                assert f"[{ref}]" in text
        assert "guideline ref [1]" in text

    def test_supplementary_labelled(self, rendered: tuple[str, int, Assessment]) -> None:
        text, _, a = rendered
        supplementary = [i for i in a.items()
                         if i.provenance.kind == "supplementary"]
        if supplementary:
            assert "Supplementary — not from the guideline" in text or \
                "supplementary — not from the guideline" in text
            for item in supplementary:
                for src in item.provenance.sources:
                    assert src.short in text

    def test_risk_and_alerts(self, rendered: tuple[str, int, Assessment]) -> None:
        text, _, a = rendered
        assert f"Risk: {a.risk.group.replace('_', ' ').upper()}" in text
        for alert in a.alerts:
            assert alert.title in text

    def test_board_box_names_each_recommendation_by_its_title(
        self, rendered: tuple[str, int, Assessment]
    ) -> None:
        """The box the board fills in names every recommendation by its title, in either
        layout: the compact one had named them by record id only ("REC-ADJ-NODES-METS:
        ☐ ☐ ☐"), which a chair cannot read."""
        text, _, a = rendered
        box = squash(text.split("Decision of the board")[-1].split("References")[0])
        for item in a.recommendations:
            assert squash(item.title) in box, item.id
        assert "☐☐☐" not in box

    def test_every_missing_fact_keeps_what_is_done_meanwhile(
        self, rendered: tuple[str, int, Assessment]
    ) -> None:
        """A missing fact is reported with the safer branch taken meanwhile, in either
        layout: the compact one had dropped the "Meanwhile" column."""
        text, _, a = rendered
        for m in a.missing:
            assert squash(m.meanwhile) in squash(text), m.id


def squash(text: str) -> str:
    """The text without white space (the PDF's text extraction splits some words)."""
    return re.sub(r"\s+", "", text)


def test_imaging_only_compact_pdf_says_treatment_waits_for_tissue() -> None:
    """A tumour seen on imaging alone runs long enough for the compact layout; its PDF
    still says that every treatment recommendation waits for the tissue diagnosis (S24,
    I11), and the board's box names radiotherapy as the consideration it is."""
    from weasyprint import HTML

    text = resources.files("pecoma").joinpath("examples/imaging-only.json").read_text()
    case = parse_case(json.loads(text))
    a = assess(case, ON)
    view = build_report_view(case, a, load_knowledge(), plan_surveillance(case, a, ON))
    full = HTML(string=render_pdf_html(make_templates(), view, a)).render()
    assert len(full.pages) > 2  # so the PDF is set compact
    words, pages, _ = pdf_of("imaging-only")
    assert pages <= 2
    assert "visit windows" not in words  # the compact layout: no timeline picture
    assert squash("Every treatment recommendation and the surveillance schedule are shown "
                  "conditional on the tissue diagnosis") in squash(words)
    box = squash(words.split("Decision of the board")[-1])
    assert squash("Consider adjuvant radiotherapy [REC-ADJ-RADIOTHERAPY] ☐ · ☐ · ☐") in box


def test_high_risk_case_specifics() -> None:
    """The full layout of the high-risk case (three pages since the guideline's silence on
    adjuvant systemic treatment is said beside S10, I28; over the two-page budget the
    summary is set compact, tested below)."""
    text, _, _ = pdf_of("high-risk-uterine", max_pages=3)
    for sid in ("S06", "S07", "S08", "S09", "S10", "S18", "S21", "S22"):
        assert re.search(rf"\b{sid}\b", text), sid
    assert "Surveillance plan" in text
    assert "chest CT" in text
    assert "visit windows" in text  # the timeline picture, drawn as vector text


def test_no_network_fetch() -> None:
    """The PDF renderer refuses any URL other than data: (hospital networks are closed)."""
    text = resources.files("pecoma").joinpath("examples/low-risk-kidney.json").read_text()
    case = parse_case(json.loads(text))
    a = assess(case, ON)
    view = build_report_view(case, a, load_knowledge(), None)
    html = render_pdf_html(make_templates(), view, a)
    assert "http://" not in html and "https://" not in html


def test_compact_when_too_long() -> None:
    """Over the page budget, the summary is set compact: fewer pages, the same sources."""
    text = resources.files("pecoma").joinpath("examples/high-risk-uterine.json").read_text()
    case = parse_case(json.loads(text))
    a = assess(case, ON)
    view = build_report_view(case, a, load_knowledge(), plan_surveillance(case, a, ON))
    full = PdfReader(io.BytesIO(report_pdf_bytes(make_templates(), view, a, max_pages=9)))
    compact = PdfReader(io.BytesIO(report_pdf_bytes(make_templates(), view, a, max_pages=1)))
    assert len(compact.pages) <= len(full.pages)
    full_words = " ".join(" ".join(p.extract_text() or "" for p in full.pages).split())
    words = " ".join(" ".join(p.extract_text() or "" for p in compact.pages).split())
    assert "visit windows" in full_words and "visit windows" not in words  # no picture
    assert len(words) < len(full_words)
    assert "Next visit" in words
    for sid in ("S06", "S07", "S08", "S10", "S27"):
        assert re.search(rf"\b{sid}\b", words), sid
    assert "supports, and never replaces" in words


@pytest.mark.parametrize("name", ["high-risk-uterine", "indeterminate-retroperitoneal",
                                  "imaging-only"])
def test_no_table_row_split_across_pages(name: str) -> None:
    """Laid out by WeasyPrint, every table row lies on one page (a row cut in two would
    show half a visit or half a missing fact at the foot of a page); header rows repeat
    on the next page by design."""
    from weasyprint import HTML

    text = resources.files("pecoma").joinpath(f"examples/{name}.json").read_text("utf-8")
    case = parse_case(json.loads(text))
    a = assess(case, ON)
    view = build_report_view(case, a, load_knowledge(), plan_surveillance(case, a, ON))
    for compact in (False, True):
        doc = HTML(string=render_pdf_html(make_templates(), view, a, compact=compact)).render()
        seen: dict[int, int] = {}
        rows = 0
        for number, page in enumerate(doc.pages):
            stack = [page._page_box]
            while stack:
                box = stack.pop()
                element = getattr(box, "element", None)
                header = element is not None and all(c.tag == "th" for c in element)
                if getattr(box, "element_tag", None) == "tr" and not header:
                    rows += 1
                    assert box.style["break_inside"] == "avoid"  # what keeps it whole
                    first = seen.setdefault(id(element), number)
                    assert first == number, f"{name}: a table row runs over pages"
                stack.extend(getattr(box, "children", ()))
        assert rows > 5  # the walk did find the tables


#: A case as entered at its first board, with most facts not yet known: only the primary
#: site and the disease status (the form's two required fields).
FIRST_BOARD = {"tumour": {"primary_site": "uterus"}, "stage": {"status": "localized"}}


def _questions_in_pdf(case_data: dict[str, object], max_pages: int) -> tuple[list[str], str, int]:
    """(every missing fact's question, the PDF's text squashed, its pages)."""
    case = parse_case(case_data)
    a = assess(case, ON)
    plan = plan_surveillance(case, a, ON)
    view = build_report_view(case, a, load_knowledge(), plan)
    reader = PdfReader(io.BytesIO(report_pdf_bytes(make_templates(), view, a,
                                                   max_pages=max_pages)))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    questions = [rm.fact.question for rm in view.summary.missing]
    return questions, squash(text), len(reader.pages)


@pytest.mark.parametrize("name", [*EXAMPLES, "first-board"])
@pytest.mark.parametrize("layout", ["full", "compact"])
def test_every_missing_fact_keeps_its_question(name: str, layout: str) -> None:
    """The PDF is the tumour-board handout: each missing fact is reported with the question
    to put to the pathologist or the surgeon, as on the web report, in the full layout and
    in the compact one alike. The PDF's table had kept what each fact would change and what
    pecoma does meanwhile, but not the question, so the board could not see what to ask."""
    if name == "first-board":
        data: dict[str, object] = FIRST_BOARD
    else:
        data = json.loads(resources.files("pecoma").joinpath(f"examples/{name}.json")
                          .read_text("utf-8"))
    # max_pages=0: the full layout never fits, so the compact one is set
    questions, text, _ = _questions_in_pdf(data, 99 if layout == "full" else 0)
    if name == "first-board":
        assert len(questions) >= 10  # most facts are missing at a first board
    for question in questions:
        assert squash(question) in text, (name, layout, question)


def test_summary_alert_table_marks_a_provisional_alert() -> None:
    """The board sheet's alert table says that the critical alert is provisional on the
    nodal status: it had read as settled ("Malignant tumour may have been left behind")
    while only the full Alerts section further down said it was provisional."""
    case = parse_case(R1_NODES_UNKNOWN)
    a = assess(case, ON)
    alert = next(i for i in a.alerts if i.id == "ALERT-INCOMPLETE-RESECTION")
    assert alert.level == "critical" and alert.conditional_on == ("MISS-NODES",)
    view = build_report_view(case, a, load_knowledge(), plan_surveillance(case, a, ON))
    for compact in (False, True):
        html = render_pdf_html(make_templates(), view, a, compact=compact)
        table = html.split('<table class="summary-alerts">')[1].split("</table>")[0]
        row = next(r for r in table.split("<tr") if alert.title in r)
        assert "Provisional until supplied:" in row, compact
        settled = next(r for r in table.split("<tr") if "Long-term follow-up" in r)
        assert "Provisional" not in settled, compact
