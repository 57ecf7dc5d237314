"""What the registry's pages and the tumour board's pages share: the application's
templates, registry, settings and clock as a request sees them (``?on=`` read as the
evaluation date), who makes a change and whether they may, and the error pages (the
registry unavailable, no such patient).

Who made a change is the signed-in API token (name and id) when authentication is on;
otherwise the ``X-Remote-User`` header set by an authenticating proxy in front of the
service, else ``web``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from pecoma.dates import date_rule, parse_day
from pecoma.engine.plan import alert_level
from pecoma.errors import show_value
from pecoma.knowledge import load_knowledge
from pecoma.registry.worklist import CASE_NOT_EVALUABLE, Alert, WorkItem, WorkStatus
from pecoma.settings import Settings
from pecoma.store import Repository, StoreError
from pecoma.store.tokens import Role
from pecoma.web.auth import principal_of
from pecoma.web.form_messages import plain
from pecoma.web.store_access import registry_of, unavailable_reason
from pecoma.web.summary import field_label, value_words

__all__ = ["FINDING_LABELS", "STATUS_LABELS", "can_write", "problem_words"]


STATUS_LABELS = {
    "overdue": "Overdue",
    "due": "Due (window open)",
    "upcoming": "Upcoming",
    "done": "Done recently",
    "suspended": "Suspended",
    "not_drawn": "No dated plan",
    "not_evaluable": "Not evaluable",
    "deceased": "Deceased (left surveillance)",
    "lost_to_follow_up": "Lost to follow-up (left surveillance)",
}
FINDING_LABELS = {
    "no_evidence_of_disease": "No evidence of disease",
    "equivocal": "Equivocal",
    "local_recurrence": "Local recurrence",
    "metastasis": "Metastasis",
    "not_recorded": "Not recorded",
}


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def _registry(request: Request) -> Repository:
    return registry_of(request.app.state)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _actor(request: Request) -> str:
    """Who makes a change: the signed-in token, else (authentication off) the proxy's
    ``X-Remote-User``, else ``web``."""
    who = principal_of(request.state)
    if who is not None:
        return who.actor
    if request.app.state.config.auth_required:
        return "web"  # never trust a header when tokens decide who is calling
    return (_utf8(request.headers.get("x-remote-user") or "web")).strip()[:80] or "web"


def _utf8(header: str) -> str:
    """A header's text as the proxy wrote it: HTTP headers reach the app as Latin-1, so a
    UTF-8 name ('Dvořák') would read 'DvoÅ\x99Ã¡k'; text that is not UTF-8 stays as read."""
    try:
        return header.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header


def _on(request: Request, value: str | None) -> dt.date | str:
    """THE reading of ``?on=`` on every registry page and file: the day asked (today when
    not given), or what is wrong with it (the parameter, the value given and the dates
    allowed)."""
    if not value:
        today: dt.date = request.app.state.today()
        return today
    day = parse_day(value)
    return day if day is not None else f"'on' {date_rule(value)} (got {show_value(value)})"


def _day(request: Request, value: str | None) -> tuple[dt.date, str | None]:
    """A page's evaluation date (:func:`_on`): when ``?on=`` cannot be read, today, with
    the message the page shows above it."""
    day = _on(request, value)
    if isinstance(day, str):
        today: dt.date = request.app.state.today()
        return today, f"{day}; showing today"
    return day, None


def _file_day(request: Request, value: str | None, problems: list[str] | None = None
              ) -> dt.date | Response:
    """A file's evaluation date (:func:`_on`: a download, a chart, the PDF), or the 400
    page naming ``on`` when it cannot be read and each of ``problems`` (the file's other
    parameters it could not read): a file is never made for another day or list than
    asked (it carries no message, and a figure of today under a name that looks right
    would pass for the one asked)."""
    day = _on(request, value)
    wrong = [*([day] if isinstance(day, str) else []), *(problems or [])]
    if wrong or isinstance(day, str):
        return _error(request, 400, "The download was not made", "; ".join(wrong) + ".")
    return day


#: The field path that opens each issue of a case's problem ("'surgery.date' must not be
#: after …", the issues joined by "; ").
_ISSUE_PATH = re.compile(r"(?:^|(?<=; ))'([^'\s]+)' ")


def problem_words(problem: str) -> str:
    """Why a case cannot be assessed (its issues as :class:`~pecoma.errors.FieldIssue`
    writes them, joined by "; ") in the form's words, as the registry's forms name a
    field: "Date of surgery: must not be after …", never "'surgery.date' …". The stored
    reason and the command line keep the paths."""
    return value_words(plain(_ISSUE_PATH.sub(lambda m: f"{field_label(m[1])}: ", problem)))


def _record_title(request: Request) -> Callable[[str], str]:
    """A knowledge record (a recommendation, a surveillance phase) named by its title, as
    the report names it ("Consider postoperative chemotherapy or radiotherapy", never
    "REC-ADJ-NODES-METS"); a record id the knowledge does not hold is left as it is."""
    records = load_knowledge().worded(_settings(request).wording()).records

    def title(record_id: str) -> str:
        record = records.get(record_id)
        return record.title if record is not None else record_id

    return title


def _reason_words(request: Request) -> Callable[[WorkItem], str]:
    """A row's reason with the phase named by its title, as the report names it
    ("visit 2 (every 3-4 months for the first years)", never "(high-intensive)"), and
    why a case cannot be assessed in the form's words (:func:`problem_words`)."""
    title_of = _record_title(request)

    def words(item: WorkItem) -> str:
        if item.status is WorkStatus.not_evaluable:
            return problem_words(item.reason)
        if not item.phase or not item.record or f"({item.phase})" not in item.reason:
            return item.reason
        title = title_of(item.record)
        if title == item.record:
            return item.reason
        return item.reason.replace(f"({item.phase})", f"({title[:1].lower()}{title[1:]})")

    return words


def alert_words(alert: Alert) -> str:
    """A worklist alert's title as the registry's pages show it: why a stored case cannot
    be evaluated in the form's words (:func:`problem_words`), as its row's reason."""
    return problem_words(alert.title) if alert.id == CASE_NOT_EVALUABLE else alert.title


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return _templates(request).TemplateResponse(
        request, f"registry/{name}",
        {"status_labels": STATUS_LABELS, "alert_level": alert_level,
         "can_write": can_write(request), "reason_words": _reason_words(request),
         "record_title": _record_title(request), "alert_words": alert_words,
         "not_evaluable_alert": CASE_NOT_EVALUABLE, **context},
        status_code=status,
    )


def can_write(request: Request) -> bool:
    """Whether the caller may change the registry (clinician role in server mode)."""
    if not request.app.state.config.auth_required:
        return True
    who = principal_of(request.state)
    return who is not None and who.token.role.allows(Role.clinician)


def _error(request: Request, status: int, title: str, detail: str) -> Response:
    return _templates(request).TemplateResponse(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        status_code=status,
    )


def _unavailable(request: Request, exc: StoreError) -> Response:
    return _error(
        request,
        503,
        "The registry is not available",
        unavailable_reason(request.app.state, str(exc)),
    )


def _no_such_patient(request: Request) -> Response:
    return _error(
        request,
        404,
        "No such patient",
        "There is no patient with this registry id in the registry.",
    )
