"""The clinician's pages: the case form, the report and its downloads, the knowledge base.

Everything works as plain HTML forms (server-side rendering, no JavaScript needed). The
server keeps no patient data: the report page carries the validated case (as JSON in
hidden fields) so that the downloads post it back; "edit the case" is a GET address
carrying it signed (see :mod:`pecoma.web.links`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from pecoma.case import Case, parse_case_json
from pecoma.dates import date_rule, parse_day
from pecoma.engine import assess, to_jsonable
from pecoma.engine.imaging import ImagingEvent, parse_imaging
from pecoma.engine.model import Assessment, Item, MissingFact, UsedInterpretation
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.jsonin import loads
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.render.ics import plan_to_ics
from pecoma.render.knowledge import MISSING_TITLE, missing_listing
from pecoma.render.schedule import COLUMNS, STATUS_LABELS, plan_rows
from pecoma.render.text import SECTION_TITLES, section_title, sections_in_decision_order
from pecoma.render.timeline_web import timeline_web_svg
from pecoma.settings import Settings
from pecoma.web import form_layout, form_messages, forms
from pecoma.web.form_input import read_form, repeated_fields
from pecoma.web.summary import (
    BoardSummary,
    board_summary,
    fact_words,
    field_label,
    value_words,
)

__all__ = [
    "ReportView",
    "build_report_view",
    "label_of",
    "render_case_form",
    "render_form",
    "render_report",
    "router",
]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(include_in_schema=False)
    r.add_api_route("/", form_page, methods=["GET"])
    r.add_api_route("/form", form_again, methods=["POST"])
    r.add_api_route("/form/s/{token}", form_of_link, methods=["GET"])
    r.add_api_route("/report", report_page, methods=["POST"])
    r.add_api_route("/edit", edit_page, methods=["POST"])
    r.add_api_route("/report.json", report_json, methods=["POST"])
    r.add_api_route("/report.pdf", report_pdf, methods=["POST"])
    r.add_api_route("/report.ics", report_ics, methods=["POST"])
    r.add_api_route("/rules", rules_page, methods=["GET"])
    return r


STATE_WORDS = {"present": "present", "absent": "absent", "unknown": "unknown"}


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def example_cases() -> dict[str, str]:
    """The bundled example cases by name (JSON text)."""
    folder = resources.files("pecoma").joinpath("examples")
    return {
        entry.name.removesuffix(".json"): entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".json")
    }


def render_form(
    request: Request,
    values: Mapping[str, str],
    errors: Mapping[str, list[str]] | None = None,
    general: list[str] | None = None,
    status_code: int = 200,
    notice: Mapping[str, Any] | None = None,
) -> Response:
    """The case form; ``notice`` tells where pre-filled values came from (SMART launch):
    ``source``, ``not_found`` (the form's labels), ``failed`` (kind, what it gives),
    ``warnings``, ``notes`` and ``vital_status`` (a
    :class:`~pecoma.web.vital_status.VitalStatusWarning` said first, or ``None``)."""
    groups = []
    for group in form_layout.FORM:
        count = forms.row_count(values, group.rows) if group.rows is not None else 0
        groups.append({"group": group, "rows": list(range(count))})
    summary = [
        (name, form_layout.control_id(name), label_of(name), message)
        for name, messages in (errors or {}).items()
        for message in messages
    ]
    return _templates(request).TemplateResponse(
        request,
        "form.html",
        {
            "groups": groups,
            "values": values,
            "errors": errors or {},
            "general": general or [],
            "summary": summary,
            "control_id": form_layout.control_id,
            "controls": form_layout.CONTROLS,
            "companions": form_layout.COMPANIONS,
            "max_rows": form_layout.MAX_ROWS,
            "examples": [] if notice else list(example_cases()),
            "notice": notice,
        },
        status_code=status_code,
    )


def label_of(name: str) -> str:
    """The form's label of a case path (the path itself when the form has none)."""
    return form_messages.label_for(name) or name


async def form_page(request: Request, example: str | None = None) -> Response:
    today: dt.date = request.app.state.today()
    if example:
        texts = example_cases()
        if example not in texts:
            return RedirectResponse("/", status_code=303)
        values = forms.case_to_values(parse_case_json(texts[example]), today)
    else:
        values = forms.default_values(today)
    return render_form(request, values)


async def form_again(request: Request) -> Response:
    """The form again with one more row of a repeated group ("add another" without
    JavaScript): nothing is checked or assessed, everything entered is kept; a field
    sent more than once is named beside the form (422), never read as its last value, and
    so is a field the form cannot read (it would be missing from the form shown again).
    Answered with a redirect to the form's own GET address, so Back and reload never ask
    to resubmit (in place only when the values are too many for an address)."""
    from pecoma.web.board_pages import form_link

    posted = await read_form(request, forms.MAX_FIELDS, forms.TOO_MANY_FIELDS)
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    values = forms.more_rows(form)
    # which of the values was meant? a field the form cannot read (a row numbered [01])
    # would vanish from the form shown again: each named beside the form, as on /report
    refused = [str(i) for i in repeated_fields(posted)] + forms.unread_fields(form)
    if refused:
        return render_form(request, values, general=refused, status_code=422)
    target = form_link(request, values)
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return render_form(request, values)


async def form_of_link(request: Request, token: str) -> Response:
    """The form holding the values of its own address; values already refused once are
    checked again and shown with the same messages (422)."""
    from pecoma.web.board_pages import form_values

    got = form_values(request, token)
    if isinstance(got, Response):
        return got
    if "_checked" not in got:
        return render_form(request, got)
    form = {k: v for k, v in got.items() if k != "_checked"}
    return _checked(request, form, [])


async def report_page(request: Request) -> Response:
    posted = await read_form(request, forms.MAX_FIELDS, forms.TOO_MANY_FIELDS)
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    refused = [str(i) for i in repeated_fields(posted)] + forms.unread_fields(form)
    return _checked(request, form, refused, post=True)


def _checked(
    request: Request, form: dict[str, str], refused: list[str], post: bool = False
) -> Response:
    """The report of a checked form (303 to its own address), else the form with what
    was refused. A refused post is redirected to the form's own GET address (Back from
    the report made after the correction never asks to resubmit); a request whose
    fields themselves were refused (a field repeated or unknown: no browser sends
    those), or whose values are too many for an address, is answered in place."""
    result = forms.form_to_case(form)
    result.general.extend(refused)

    def again() -> Response:
        from pecoma.web.board_pages import form_link

        target = form_link(request, {**form, "_checked": "1"}) if post and not refused else None
        if target is not None:
            return RedirectResponse(target, status_code=303)
        return render_form(request, result.values, result.errors, result.general, 422)

    if result.case is None or result.on_date is None or refused:
        return again()
    case, on = result.case, result.on_date
    try:
        # No imaging rows: the scan history was not given (I13).
        imaging = parse_imaging(
            result.imaging, case=case, on_date=on, source="imaging"
        ) if result.imaging else None
        assessment, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
    except InputError as exc:
        forms.add_issues(result, exc.issues, result.origins)
        return again()
    # Post/redirect/get: the report has an address of its own (pecoma.web.links).
    from pecoma.web.board_pages import report_link

    target = report_link(request, case, on, result.imaging or None)
    if target is not None:
        return RedirectResponse(target, status_code=303)
    return render_report(request, case, assessment, plan)


def render_report(
    request: Request,
    case: Case,
    assessment: Assessment,
    plan: SurveillancePlan,
    board: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The report page; ``board``: its address, or its registry record and the board's
    decisions (see :mod:`pecoma.web.board_pages`, :mod:`pecoma.web.board_decisions`)."""
    from pecoma.web.board_pages import report_link

    view = build_report_view(case, assessment, load_knowledge(), plan)
    # "Edit the case" is a GET address: a stored case's is the registry's own (it needs
    # what the stored page needs, checked when opened); an unsaved case's is its signed
    # link (which never carries a registry case); else a post
    token = board.get("token") if board else None
    if board and board.get("kind") == "stored":
        edit_href: str | None = (
            f"/registry/patients/{board['registry_id']}/assessments/{board['assessment_id']}/edit"
        )
    elif token:
        edit_href = f"/report/s/{token}/edit"
    else:
        link = report_link(
            request, case, assessment.evaluated_on,
            json.loads(view.imaging_json) if view.imaging_json else None,
        )
        edit_href = f"{link}/edit" if link else None
    return _templates(request).TemplateResponse(
        request,
        "report.html",
        {"r": view, "a": assessment, "board": board, "edit_href": edit_href},
        status_code=status_code,
    )


def assess_and_plan(
    case: Case, on: dt.date, imaging: tuple[ImagingEvent, ...] | None, settings: Settings
) -> tuple[Assessment, SurveillancePlan]:
    """The assessment and the surveillance plan of one case (both pure); ``imaging`` None:
    no scan history was given (I13)."""
    assessment = assess(case, on, settings)
    plan = plan_surveillance(case, assessment, on, imaging=imaging, settings=settings)
    return assessment, plan


async def _posted_case(
    request: Request,
) -> tuple[Case, dt.date, tuple[ImagingEvent, ...] | None]:
    posted = await read_form(request)
    repeated = repeated_fields(posted, ("case", "on", "imaging"))
    if repeated:  # two cases, two dates: the file would be of the last one, unsaid
        raise InputError(repeated, "request")
    text = posted.get("case")
    on_text = posted.get("on")
    imaging_text = posted.get("imaging")
    missing = [
        FieldIssue(name, "(missing)", "is required")
        for name, value in (("case", text), ("on", on_text))
        if not isinstance(value, str)
    ]
    if missing or not isinstance(text, str) or not isinstance(on_text, str):
        raise InputError(missing, "request")
    try:
        case = parse_case_json(text, source="case")
    except RecursionError:
        raise InputError(
            [FieldIssue("case", "deeply nested text", "must be a case as JSON")], "request"
        ) from None
    on = parse_day(on_text)
    if on is None:
        raise InputError([FieldIssue("on", show_value(on_text), date_rule(on_text))], "request")
    imaging: tuple[ImagingEvent, ...] | None = None  # not given (I13)
    if isinstance(imaging_text, str) and imaging_text.strip():
        try:  # read as every JSON input is: a key named twice is refused, never last-wins
            data = loads(imaging_text, "imaging")
        except InputError as exc:
            raise InputError(
                [FieldIssue("imaging" if i.path == "(json)"
                            else f"imaging{'' if i.path.startswith('[') else '.'}{i.path}",
                            i.value, i.rule) for i in exc.issues], "request") from None
        imaging = parse_imaging(
            data, case=case, on_date=on, source="imaging"
        )
    return case, on, imaging


async def edit_page(request: Request) -> Response:
    case, on, imaging = await _posted_case(request)
    return render_case_form(request, case, on, imaging)


def render_case_form(
    request: Request, case: Case, on: dt.date, imaging: tuple[ImagingEvent, ...] | None
) -> Response:
    """The case form holding ``case`` ("Edit the case"), or the rows it cannot hold
    refused (never a case shown cut short)."""
    values = forms.case_to_values(case, on, imaging or ())
    beyond = forms.rows_beyond(values)
    if beyond:
        raise InputError(beyond, "case")
    return render_form(request, values)


def case_key(case: Case) -> str:
    """A short key of the case content (no identifier): names downloaded files."""
    blob = json.dumps(case.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def report_json(request: Request) -> Response:
    case, on, imaging = await _posted_case(request)
    a, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
    data = {"assessment": to_jsonable(a), "surveillance_plan": plan.to_dict()}
    body = json.dumps(data, indent=2, ensure_ascii=False).encode()
    return _attachment(body, "application/json", f"pecoma-{case_key(case)}-{on}.json")


async def report_pdf(request: Request) -> Response:
    from pecoma.web.pdf import report_pdf_bytes

    case, on, imaging = await _posted_case(request)
    a, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
    view = build_report_view(case, a, load_knowledge(), plan)
    pdf = report_pdf_bytes(_templates(request), view, a)
    return _attachment(pdf, "application/pdf", f"pecoma-{case_key(case)}-{on}.pdf")


async def report_ics(request: Request) -> Response:
    case, on, imaging = await _posted_case(request)
    _, plan = assess_and_plan(case, on, imaging, request.app.state.settings)
    body = plan_to_ics(plan, calendar_key(case),
                       reminder_days=request.app.state.settings.followup.calendar_reminder_days)
    return _attachment(body, "text/calendar", f"pecoma-{case_key(case)}-{on}.ics")


def calendar_key(case: Case) -> str:
    """The key that keeps calendar events stable: the team's label, else the content.

    The calendar hashes it, so the label never appears in the file.
    """
    return case.label or case_key(case)


async def rules_page(request: Request) -> Response:
    # the schedule's wording says the rhythm of this server's settings
    k = load_knowledge().worded(request.app.state.settings.wording())
    return _templates(request).TemplateResponse(
        request,
        "rules.html",
        {
            "k": k,
            "carried": k.statements_carried(),
            "section_titles": SECTION_TITLES,
            # what pecoma asks and does meanwhile, as `pecoma rules` lists it
            "missing": missing_listing(k),
            "missing_title": MISSING_TITLE,
        },
    )


# --------------------------------------------------------------------------- report view


@dataclass(frozen=True, slots=True)
class SectionView:
    key: str
    title: str
    guideline: tuple[Item, ...]
    supplementary: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class ReportView:
    """What the report templates (page and PDF) show, arranged for reading."""

    case: Case
    case_json: str
    imaging_json: str
    on: str
    sections: tuple[SectionView, ...]
    statements: Mapping[str, str]
    guideline_refs: tuple[int, ...]
    sources: tuple[tuple[str, str], ...]
    missing: Mapping[str, MissingFact]
    facts: tuple[tuple[str, str, str], ...]
    extra: Mapping[str, Any]
    summary: BoardSummary
    #: The interpretations the assessment and the surveillance plan rest on (the plan's
    #: imaging at low-risk visits, I12, among them), each once.
    interpretations: tuple[UsedInterpretation, ...] = ()

    def because(self, item: Item) -> list[tuple[str, str]]:
        """The facts ``item`` rests on, as (label, value) in the form's words."""
        return [fact_words(f) for f in item.triggered_by]

    def provisional_on(self, item: Item) -> list[tuple[str, str]]:
        """What ``item`` waits for: (anchor id, the missing fact in words)."""
        return [
            (f"missing-{c}", field_label(self.missing[c].field) if c in self.missing else c)
            for c in item.conditional_on
        ]

    def label(self, path: str) -> str:
        return field_label(path)

    def words(self, value: Any) -> str:
        return value_words(value)


def _split(items: tuple[Item, ...] | list[Item]) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    return (
        tuple(i for i in items if i.provenance.kind == "guideline"),
        tuple(i for i in items if i.provenance.kind == "supplementary"),
    )


def build_report_view(
    case: Case, a: Assessment, k: Knowledge, plan: SurveillancePlan | None = None
) -> ReportView:
    sections: list[SectionView] = []
    known = set(SECTION_TITLES)
    for key in sections_in_decision_order(a):
        title = section_title(key, a)
        items = (
            list(a.followup)
            if key == "follow-up"
            else [i for i in a.recommendations if i.section == key]
        )
        g, s = _split(items)
        if g or s:
            sections.append(SectionView(key, title, g, s))
    other = [i for i in a.recommendations if i.section not in known]
    if other:
        g, s = _split(other)
        sections.append(SectionView("other", "Other recommendations", g, s))
    used = {s for item in a.items() for s in item.provenance.statements}
    used |= {s for f in a.risk.features for s in f.provenance.statements}
    used |= {s for m in a.missing for s in m.provenance.statements}
    refs = sorted(
        {r for item in a.items() for r in item.provenance.refs}
        | {r for f in a.risk.features for r in f.provenance.refs}
        | {r for m in a.missing for r in m.provenance.refs}
    )
    sources: dict[str, str] = {}
    for item in a.items():
        for src in item.provenance.sources:
            sources[src.id] = src.citation
    for m in a.missing:
        for src in m.provenance.sources:
            sources[src.id] = src.citation
    extra: dict[str, Any] = {}
    imaging_json = ""
    if plan is not None:
        extra = plan_extras(plan)
        # the scans the plan was drawn with, handed on to the downloads: none recorded is
        # "[]" (a history given, with no scan), never left out, which reads as no history
        # given (I13) and redraws the plan otherwise; only a history not given is left out
        if plan.imaging or not plan.history_missing:
            imaging_json = json.dumps(
                [
                    {"date": e.date.isoformat(), "modality": e.modality.value,
                     "finding": e.finding.value}
                    for e in plan.imaging
                ]
            )
        planned = [p.provenance for v in plan.visits for p in v.imaging]
        for item in (*plan.reasons, *plan.flags, *(p.item for p in plan.phases)):
            used |= set(item.provenance.statements)
            for src in item.provenance.sources:
                sources[src.id] = src.citation
        used |= {s for prov in planned for s in prov.statements}
    return ReportView(
        case=case,
        case_json=case.model_dump_json(exclude_defaults=True),
        imaging_json=imaging_json,
        on=a.evaluated_on.isoformat(),
        sections=tuple(sections),
        statements={s: k.statements[s].text for s in sorted(used) if s in k.statements},
        guideline_refs=tuple(refs),
        sources=tuple(sources.items()),
        missing={m.id: m for m in (*a.missing, *(plan.missing if plan else ()))},
        facts=tuple(forms.entered_facts(case)),
        extra=extra,
        summary=board_summary(a, plan),
        interpretations=tuple({i.id: i for i in (
            *a.interpretations, *(plan.interpretations if plan else ()))}.values()),
    )


def inline_svg(svg: str) -> str:
    """An SVG document as an element to put inside HTML (no XML prolog or doctype),
    labelled for screen readers."""
    start = svg.find("<svg")
    element = svg[start:] if start >= 0 else svg
    return element.replace(
        "<svg", '<svg role="img" aria-labelledby="timeline-caption"', 1
    )


def plan_extras(plan: SurveillancePlan) -> dict[str, Any]:
    """What the report shows of the surveillance plan (the timeline drawn directly as SVG:
    a Matplotlib figure would take most of the answer's time)."""
    rows = plan_rows(plan)
    nxt = plan.next_visit
    upcoming = [r for r, v in zip(rows, plan.visits, strict=True) if v.open][:6]
    svg = timeline_web_svg(plan)
    return {
        "plan": plan,
        "timeline_svg": svg,
        "timeline_inline": inline_svg(svg),
        "rows": rows,
        "next_visit": nxt,
        "next_rows": upcoming,
        "columns": [c for c in COLUMNS if c != "Source"],
        "status_labels": STATUS_LABELS,
    }
