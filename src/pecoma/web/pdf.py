"""The tumour-board summary as PDF (WeasyPrint), one to two A4 pages as a rule: past two,
it is set compact; the compact layout cuts nothing, so a case with most facts missing can
still take a third page.

The PDF is rendered from ``templates/report_pdf.html`` with ``static/pdf.css``; it fetches
nothing from any network (only ``data:`` URLs, for the timeline picture, are allowed).
"""

from __future__ import annotations

import base64
from importlib import resources
from typing import Any

from fastapi.templating import Jinja2Templates
from weasyprint import HTML, URLFetcher  # type: ignore[import-untyped]

from pecoma.engine.model import Assessment

__all__ = ["pdf_css", "render_pdf_html", "report_pdf_bytes", "svg_data_uri"]


def pdf_css() -> str:
    return resources.files("pecoma.web").joinpath("static/pdf.css").read_text(encoding="utf-8")


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


MAX_PAGES = 2


def render_pdf_html(
    templates: Jinja2Templates,
    view: Any,
    a: Assessment,
    compact: bool = False,
    decisions: Any = None,
) -> str:
    """The HTML the PDF is made from (also useful to inspect in tests); ``decisions``:
    the board's decisions of a stored assessment (else the box is left to fill in)."""
    template = templates.env.get_template("report_pdf.html")
    timeline = view.extra.get("timeline_svg")
    return template.render(
        r=view,
        a=a,
        css=pdf_css(),
        compact=compact,
        timeline_uri=svg_data_uri(timeline) if timeline and not compact else None,
        decisions=decisions,
    )


def report_pdf_bytes(
    templates: Jinja2Templates,
    view: Any,
    a: Assessment,
    max_pages: int = MAX_PAGES,
    decisions: Any = None,
) -> bytes:
    """The PDF of the tumour-board summary.

    When the full summary runs over ``max_pages``, it is rendered again compact (smaller
    type, no timeline picture, no visit table); the missing facts keep what is done
    meanwhile and the board's box names each recommendation by its title, as in the full
    layout. The web report keeps everything.
    """
    fetcher = URLFetcher(allowed_protocols=["data"], timeout=1)
    for compact in (False, True):
        html = render_pdf_html(templates, view, a, compact=compact, decisions=decisions)
        document = HTML(string=html, url_fetcher=fetcher, base_url=None).render()
        if compact or len(document.pages) <= max_pages:
            break
    pdf: bytes = document.write_pdf()
    return pdf
