"""The registry's summary: the page (counts, the surveillance quality, the board's
concordance and survival, with server-rendered SVG charts), its charts on their own and
the PDF to share, every count under the ``min_cell`` setting suppressed. The page shows
today when ``?on=`` cannot be read, and says so; a chart or the PDF is refused (400)."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from pecoma.errors import show_value
from pecoma.registry.summary import summarise, summary_svg
from pecoma.store import StoreError
from pecoma.store.cds import CdsStore
from pecoma.web.registry_cache import _survival, _worklist
from pecoma.web.registry_common import (
    _day,
    _file_day,
    _page,
    _record_title,
    _registry,
    _settings,
    _unavailable,
)


def summary_page(request: Request, on: str | None = None, by: str | None = None
                 ) -> Response:
    day, warning = _day(request, on)
    try:
        evaluated, items = _worklist(request, day)
    except StoreError as exc:
        return _unavailable(request, exc)
    from pecoma.registry.quality import (
        plans_before_relapse,
        registry_decisions,
        registry_quality,
    )
    from pecoma.registry.survival import Endpoint, Grouping

    try:
        feedback = CdsStore(_registry(request).engine).feedback()
    except StoreError as exc:
        return _unavailable(request, exc)
    summary = summarise(evaluated, items, day, _settings(request), feedback)
    asked = by or "risk"
    by = Grouping(asked) if asked in Grouping.__members__ else Grouping.risk
    if asked != by.value:
        wrong = f"'by' must be one of risk, folpe (got {show_value(asked)}); grouped by risk"
        warning = f"{warning}; {wrong}" if warning else wrong

    repo = _registry(request)
    try:
        survival = [_survival(request, e, by, day) for e in (Endpoint.rfs, Endpoint.os)]
        quality, concord = registry_quality(
            evaluated, repo.outcomes_by_registry_id(), repo.recommendation_history(), day,
            _settings(request), registry_decisions(repo),
            before_relapse=plans_before_relapse(repo, evaluated, day, _settings(request)))
    except StoreError as exc:
        return _unavailable(request, exc)
    min_cell: int = request.app.state.config.min_cell
    title = _record_title(request)
    return _page(request, "summary.html", {
        "s": summary, "svg": summary_svg(summary), "day": day, "warning": warning,
        "survival": survival, "by": by.value, "quality": quality.lines(min_cell)[1:],
        "concordance": concord.lines(min_cell, lambda record: f"“{title(record)}”"),
        "min_cell": min_cell,
    })


def survival_chart(request: Request, endpoint: str = "rfs", by: str = "risk",
                   on: str | None = None) -> Response:
    from pecoma.registry.survival import Endpoint, Grouping, to_figure

    problems = []
    if endpoint not in Endpoint.__members__:
        problems.append(f"'endpoint' must be one of rfs, os (got {show_value(endpoint)})")
    if by not in Grouping.__members__:
        problems.append(f"'by' must be one of risk, folpe (got {show_value(by)})")
    day = _file_day(request, on, problems)
    if isinstance(day, Response):
        return day
    try:
        report = _survival(request, Endpoint(endpoint), Grouping(by), day)
    except StoreError as exc:
        return _unavailable(request, exc)
    return Response(to_figure(report, "svg"), media_type="image/svg+xml")


def summary_chart(request: Request, on: str | None = None) -> Response:
    day = _file_day(request, on)
    if isinstance(day, Response):
        return day
    try:
        evaluated, items = _worklist(request, day)
        feedback = CdsStore(_registry(request).engine).feedback()
    except StoreError as exc:
        return _unavailable(request, exc)
    return Response(summary_svg(summarise(evaluated, items, day, _settings(request),
                                          feedback)),
                    media_type="image/svg+xml")


def summary_pdf_download(request: Request, on: str | None = None) -> Response:
    """The summary to share as PDF: counts, surveillance quality, concordance and
    survival, every count under the ``min_cell`` setting suppressed."""
    from pecoma.registry.quality import (
        concordance_of,
        plans_before_relapse,
        surveillance_quality,
    )
    from pecoma.registry.summary_pdf import summary_pdf, survival_reports

    day = _file_day(request, on)
    if isinstance(day, Response):
        return day
    min_cell: int = request.app.state.config.min_cell
    repo = _registry(request)
    try:
        evaluated, items = _worklist(request, day)
        feedback = CdsStore(repo.engine).feedback()
        summary = summarise(evaluated, items, day, _settings(request), feedback)
        quality = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), day,
                                       plans_before_relapse(repo, evaluated, day,
                                                            _settings(request)))
        concord = concordance_of(repo, evaluated, day, _settings(request))
        reports = survival_reports(repo, day, min_cell, _settings(request))
    except StoreError as exc:
        return _unavailable(request, exc)
    return Response(
        summary_pdf(summary, quality, concord, reports, min_cell), media_type="application/pdf",
        headers={"content-disposition":
                 f'attachment; filename="pecoma-registry-summary-{day.isoformat()}.pdf"'},
    )
