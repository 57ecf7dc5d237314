"""The registry summary as a PDF to share (WeasyPrint): the counts of the summary, the
surveillance quality figures, the concordance with the recommendations (the recorded
treatment and the decisions recorded by the tumour board and through CDS Hooks, from
:func:`pecoma.registry.quality.concordance_of`, as on the web page), and recurrence-free
and overall survival by guideline risk group and by Folpe 2005 category (Kaplan–Meier
curves with 95 % bands, numbers at risk at 1, 3, 5 and 10 years, median follow-up,
log-rank test).

A shared report protects privacy as the registry's exports do: every count below
``min_cell`` (the ``min_cell`` setting, default 5) is printed as "< min_cell", a share
whose numerator or denominator is suppressed is not printed, a median of fewer than
``min_cell`` values is not printed, and a survival group under ``min_cell`` patients
shows no estimate and is not drawn (see :mod:`pecoma.registry.survival`). Every figure
also gets complementary suppression (:mod:`pecoma.registry.suppression`), so that no
suppressed count can be worked out by subtraction: the patient counts
(:meth:`pecoma.registry.summary.Summary.cells`), the survival figures' totals
(:meth:`pecoma.registry.survival.SurvivalReport.cells`), and the surveillance quality and
concordance figures, from the same cells and lines as the web page, the text and the JSON
(:mod:`pecoma.registry.quality_text`). Every figure carries its n.

Rendered from ``web/templates/registry_summary_pdf.html`` with ``static/pdf.css`` and
``static/registry_pdf.css``; nothing is fetched from any network (the curves are
``data:`` URLs of the survival module's SVG).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from pecoma.knowledge import load_knowledge
from pecoma.registry.quality_text import quality_lines
from pecoma.registry.summary import Summary
from pecoma.registry.suppression import Cells
from pecoma.registry.survival import (
    HORIZONS,
    Endpoint,
    Grouping,
    SurvivalReport,
    analyse,
    cohort,
    median_text,
    registry_cohort,
    to_figure,
)

if TYPE_CHECKING:
    from pecoma.registry.quality import Concordance, SurveillanceQuality
    from pecoma.settings import Settings
    from pecoma.store.repository import Repository

__all__ = ["summary_pdf", "summary_pdf_html", "survival_reports"]

# the four survival figures, in the order printed
FIGURES = ((Endpoint.rfs, Grouping.risk), (Endpoint.rfs, Grouping.folpe),
           (Endpoint.os, Grouping.risk), (Endpoint.os, Grouping.folpe))


def survival_reports(repo: Repository, on_date: dt.date, min_cell: int,
                     settings: Settings | None = None) -> list[SurvivalReport]:
    """The four survival figures of the registry as of ``on_date`` (one read)."""
    rows = registry_cohort(repo, on_date, settings)
    outcomes = repo.outcomes()
    out = []
    for endpoint, grouping in FIGURES:
        subjects, excluded = cohort(rows, outcomes, endpoint, grouping, on_date)
        out.append(analyse(subjects, endpoint, grouping, on_date, min_cell, excluded))
    return out


def _title(record_id: str) -> str:
    """A recommendation record named by its title, as the report and the web page name it
    ("An mTOR inhibitor is the first-line systemic treatment"); a record id the knowledge
    does not hold (one of an earlier knowledge version) is left as it is."""
    record = load_knowledge().records.get(record_id)
    return record.title if record is not None else record_id


def _concordance_view(concord: Concordance, min_cell: int) -> dict[str, Any]:
    """The rows of both concordance tables, every count through the rows' own cells, each
    recommendation named by its title (its record id beside it, in small print)."""
    rows = []
    for r in concord.rows:
        c = r.cells(min_cell)
        rows.append({
            "record": r.record, "title": _title(r.record), "year": r.year,
            "recommended": c.text("recommended"),
            "compared": r.compared, "followed": c.text("followed"),
            "not_followed": c.text("not_followed"), "unknown": c.text("unknown"),
            "share": c.ratio_text("followed", "recorded"),
            "reasons": [f"{k} ({c.text(f'reason:{k}')})" for k, _ in r.reasons],
        })
    decisions = []
    for d in concord.decisions:
        c = d.cells(min_cell)
        decisions.append({
            "record": d.record, "title": _title(d.record), "year": d.year,
            "source": d.source,
            "decided": c.text("decided"), "accepted": c.text("accepted"),
            "declined": c.text("declined"), "deferred": c.text("deferred"),
            "share": c.ratio_text("accepted", "decided"),
            "reasons": [f"{k} ({c.text(f'reason:{k}')})" for k, _ in d.reasons],
        })
    return {"sources": ", ".join(concord.sources), "rows": rows, "decisions": decisions}


def _counts(d: dict[str, int], c: Cells, prefix: str) -> str:
    """A breakdown; the patients without an evaluable case are the one ``not_evaluable``
    count of every breakdown (see :meth:`Summary.cells`)."""
    def key(k: str) -> str:
        return "not_evaluable" if k == "not evaluable" else f"{prefix}:{k}"

    return ", ".join(f"{k.replace('_', ' ')} {c.text(key(k))}" for k in d) or "none"


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _survival_view(r: SurvivalReport) -> dict[str, Any]:
    cells = r.cells()
    rows = []
    for c in r.curves:
        n = cells.text(f"n:{c.group}")
        at_risk = [cells.text(f"at_risk:{c.group}:{h.years}") for h in c.horizons]
        if c.suppressed:
            rows.append({"group": c.group, "n": n, "suppressed": True, "at_risk": at_risk})
            continue
        rows.append({
            "group": c.group, "n": n, "events": cells.text(f"events:{c.group}"),
            "suppressed": False,
            "at_risk": at_risk,
            "at": [{"estimate": h.text(words=False)} for h in c.horizons],
            "median": median_text(c.median),
            "follow_up": median_text(c.median_follow_up),
        })
    lr = r.log_rank
    return {
        "title": r.title,
        "figure": _data_uri(to_figure(r, "svg")),
        "n": cells.text("n"),
        "note": r.note,
        "ci_note": r.ci_note,
        "rows": rows,
        "log_rank": None if lr is None else
        f"chi-square {lr.statistic:.2f}, df {lr.df}, p = {lr.p_value:.4g} "
        f"({', '.join(lr.groups)})",
        "excluded": [(reason, cells.text(f"excluded:{reason}")) for reason in sorted(r.excluded)],
    }


def summary_pdf_html(
    summary: Summary,
    quality: SurveillanceQuality,
    concordance: Concordance,
    survival: Sequence[SurvivalReport],
    min_cell: int,
    generated: dt.datetime | None = None,
) -> str:
    """The HTML the PDF is made from (also what the tests read)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("pecoma.web", "templates"),
        autoescape=select_autoescape(("html", "xml"), default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    static = resources.files("pecoma.web").joinpath("static")
    css = "\n".join(static.joinpath(name).read_text(encoding="utf-8")
                    for name in ("pdf.css", "registry_pdf.css"))
    c = summary.cells(min_cell)
    return env.get_template("registry_summary_pdf.html").render(
        css=css, day=summary.on_date.isoformat(), min_cell=min_cell,
        generated=None if generated is None else generated.strftime("%Y-%m-%d %H:%M UTC"),
        patients=c.text("patients"),
        counts=[("Guideline risk group (S05–S09, I1)", _counts(summary.by_risk, c, "risk")),
                ("Disease status", _counts(summary.by_disease_status, c, "status")),
                ("Worklist status", _counts(summary.by_worklist_status, c, "worklist")),
                ("Overdue among patients with an active plan",
                 c.ratio_text("worklist:overdue", "active")),
                ("Complete immunohistochemistry panel (S24)",
                 c.ratio_text("ihc_complete", "evaluable"))],
        quality=quality_lines(quality, min_cell),
        concordance=_concordance_view(concordance, min_cell),
        survival=[_survival_view(r) for r in survival],
        horizons=HORIZONS,
    )


def summary_pdf(
    summary: Summary,
    quality: SurveillanceQuality,
    concordance: Concordance,
    survival: Sequence[SurvivalReport],
    min_cell: int,
    generated: dt.datetime | None = None,
) -> bytes:
    """The registry summary PDF (see the module docstring)."""
    from weasyprint import HTML, URLFetcher  # type: ignore[import-untyped]

    html = summary_pdf_html(summary, quality, concordance, survival, min_cell, generated)
    fetcher = URLFetcher(allowed_protocols=["data"], timeout=1)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf()
    return pdf
