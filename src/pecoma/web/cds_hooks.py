"""CDS Hooks 2.0 service: discovery, ``patient-view``, ``order-select`` and feedback.

Routes (an :class:`fastapi.APIRouter`; see docs/cds-hooks.md)::

    GET  /cds-services                          discovery
    POST /cds-services/pecoma-patient-view      patient-view: assessment cards
    POST /cds-services/pecoma-order-select      order-select: chemotherapy before mTOR
    POST /cds-services/{id}/feedback            accepted / overridden, kept for audit
    GET  /cds-services/reports/{token}          the full report a card links to

The service reads the patient's record from ``prefetch`` (templates in discovery) or,
for whatever prefetch lacks, from ``fhirServer`` with the ``fhirAuthorization`` token
(httpx); with neither it answers 412. The record becomes a :class:`~pecoma.case.Case`
through :mod:`pecoma.fhir.reader`; the engine decides; this module only renders cards.
Spec rules kept here: optional fields are omitted (never null or empty), ``summary`` is
under 140 characters, ``indicator`` is info, warning or critical, every card has a
``source`` with label and URL and names the knowledge version. Malformed requests get
RFC 9457 problem details; a bad patient record gets an error card. With
``require_jwt`` every service call must carry a valid EHR JWT (:mod:`.cds_auth`), or it
gets a bare 401. Tokens and patient identifiers are never logged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import JSONResponse, PlainTextResponse, Response

from pecoma.case import Case, TherapyLine, TherapySetting
from pecoma.engine import assess
from pecoma.engine.model import Assessment, Item, MissingFact
from pecoma.errors import ConfigError, FieldIssue, InputError
from pecoma.fhir import codes as c
from pecoma.fhir.reader import BundleCase, Validation, agent_of, case_from_bundle
from pecoma.fhir.writer import concept
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report
from pecoma.settings import Settings, default_settings
from pecoma.web.cds_auth import JwtVerifier, TrustedIssuer, Unauthorized
from pecoma.web.cds_store import (
    CardRecord,
    FeedbackEntry,
    FeedbackStore,
    JsonlFeedbackStore,
    MemoryFeedbackStore,
    ReportStore,
)

__all__ = [
    "ORDER_SELECT",
    "PATIENT_VIEW",
    "PREFETCH",
    "CdsHooksSettings",
    "CdsService",
    "build_router",
    "router",
]

LOG = logging.getLogger("pecoma.web.cds_hooks")
# httpx and httpcore log every request URL at INFO and DEBUG; the FHIR queries' URLs carry
# the patient's id, which must never reach a log.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

PATIENT_VIEW = "pecoma-patient-view"
ORDER_SELECT = "pecoma-order-select"
SUMMARY_MAX = 139
PROBLEM_JSON = "application/problem+json"

#: Prefetch templates: every resource type the FHIR reader uses.
PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}

OVERRIDE_REASONS: tuple[tuple[str, str], ...] = (
    ("mtor-unavailable", "No mTOR inhibitor is available for this patient"),
    ("mtor-contraindicated", "mTOR inhibitor contraindicated (not yet recorded)"),
    ("clinical-trial", "Treatment within a clinical trial protocol"),
    ("team-decision", "Sarcoma team decision, documented in the record"),
)


class CdsHooksSettings(BaseModel):
    """Settings of the CDS Hooks service (environment: ``PECOMA_CDS_*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="public base URL of this server; a JWT's aud must be base_url + path",
    )
    require_jwt: bool = Field(False, description="verify the EHR's JWT on every call")
    trusted_issuers: dict[str, TrustedIssuer] = Field(
        default_factory=dict, description="issuer (iss) -> allowed jku URLs / keys"
    )
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    cors_allow_origins: tuple[str, ...] = Field(
        (), description="browser origins allowed to call (e.g. a SMART EHR); '*' for any"
    )
    fhir_timeout_seconds: float = Field(10.0, gt=0, le=120)
    fhir_server_prefixes: tuple[str, ...] = Field(
        (), description="if given, fhirServer must start with one of these"
    )
    fhir_max_pages: int = Field(10, ge=1, le=100)
    validation: Validation = "engine"
    feedback_file: Path | None = Field(None, description="JSON Lines audit file")
    report_links: bool = Field(True, description="cards link to the full report")
    report_ttl_seconds: float = Field(3600.0, gt=0)
    source_url: str = Field(
        c.PLAN_DEFINITION_URL, description="the URL named in every card's source"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CdsHooksSettings:
        """Settings from ``PECOMA_CDS_*`` variables (issuers as JSON)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        simple = {
            "BASE_URL": "base_url",
            "REQUIRE_JWT": "require_jwt",
            "FHIR_TIMEOUT_SECONDS": "fhir_timeout_seconds",
            "FEEDBACK_FILE": "feedback_file",
            "VALIDATION": "validation",
        }
        for key, name in simple.items():
            if f"PECOMA_CDS_{key}" in env:
                values[name] = env[f"PECOMA_CDS_{key}"]
        for key, name in (("CORS_ORIGINS", "cors_allow_origins"),
                          ("FHIR_SERVER_PREFIXES", "fhir_server_prefixes")):
            if f"PECOMA_CDS_{key}" in env:
                values[name] = tuple(v.strip() for v in env[f"PECOMA_CDS_{key}"].split(",")
                                     if v.strip())
        if "PECOMA_CDS_TRUSTED_ISSUERS" in env:
            try:
                values["trusted_issuers"] = json.loads(env["PECOMA_CDS_TRUSTED_ISSUERS"])
            except ValueError as exc:
                raise ConfigError("'PECOMA_CDS_TRUSTED_ISSUERS' must be JSON: "
                                  "{issuer: {jwks_urls: [...]}}") from exc
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"CDS Hooks setting '{where}' {err['msg']}") from exc


class CdsService:
    """The state of one mounted service: settings, verifier, stores, engine settings."""

    def __init__(
        self,
        settings: CdsHooksSettings,
        *,
        engine_settings: Settings | None = None,
        store: FeedbackStore | None = None,
        today: Callable[[], dt.date] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.engine_settings = engine_settings
        self.today = today
        self.transport = transport
        if store is None:
            store = (JsonlFeedbackStore(settings.feedback_file) if settings.feedback_file
                     else MemoryFeedbackStore())
        self.store = store
        self.reports = ReportStore(settings.report_ttl_seconds)
        self.verifier = JwtVerifier(settings.trusted_issuers,
                                    leeway_seconds=settings.jwt_leeway_seconds)


# ---------------------------------------------------------------------- small functions


class _Problem(Exception):
    def __init__(self, status: int, slug: str, detail: str,
                 issues: tuple[FieldIssue, ...] = ()) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail, self.issues = status, slug, detail, issues


_TITLES = {400: "Malformed request", 404: "Not found", 412: "Precondition failed",
           415: "Unsupported media type", 502: "FHIR server error"}


def _problem(p: _Problem, instance: str, headers: Mapping[str, str]) -> JSONResponse:
    body: dict[str, Any] = {"type": f"urn:pecoma:problem:{p.slug}",
                            "title": _TITLES.get(p.status, "Error"), "status": p.status,
                            "detail": p.detail, "instance": instance}
    if p.issues:
        body["errors"] = [i.to_dict() for i in p.issues]
    return JSONResponse(body, status_code=p.status, media_type=PROBLEM_JSON,
                        headers=dict(headers))


def _clean(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects (CDS Hooks: omit, never null)."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _cors(request: Request, settings: CdsHooksSettings) -> dict[str, str]:
    origin = request.headers.get("origin")
    allowed = settings.cors_allow_origins
    if not origin or not allowed:
        return {}
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    if origin in allowed:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


# --------------------------------------------------------------------------- discovery


def discovery(knowledge_version: str) -> dict[str, Any]:
    """The discovery document (CDS Hooks 2.0)."""
    return {"services": [
        {
            "hook": "patient-view",
            "id": PATIENT_VIEW,
            "title": "PEComa guideline assessment",
            "description": "Risk, guideline recommendations, alerts, missing facts and "
            f"surveillance for a patient with PEComa (pecoma knowledge {knowledge_version}).",
            "prefetch": dict(PREFETCH),
            "usageRequirements": "Reads the PEComa Condition (ICD-O-3 8714/0 or 8714/3), "
            "Observations, Procedures, MedicationStatements and AllergyIntolerances; see the "
            "mapping table in the service documentation.",
        },
        {
            "hook": "order-select",
            "id": ORDER_SELECT,
            "title": "PEComa: mTOR inhibitor before chemotherapy",
            "description": "Warns when a draft order starts conventional chemotherapy as the "
            "first line for advanced PEComa while mTOR inhibitors are neither unavailable "
            f"nor contraindicated (S13, S14; pecoma knowledge {knowledge_version}).",
            "prefetch": dict(PREFETCH),
        },
    ]}


# ------------------------------------------------------------------- reading the record


def _request_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Problem(400, "malformed-json", "The request body must be JSON.") from None
    if not isinstance(body, dict):
        raise _Problem(400, "malformed-request", "The request body must be a JSON object.")
    return body


def _check_request(body: Mapping[str, Any], hook: str) -> tuple[dict[str, Any], str]:
    issues = []
    if body.get("hook") != hook:
        issues.append(FieldIssue("hook", repr(body.get("hook", "(missing)")),
                                 f"must be '{hook}' for this service"))
    instance = body.get("hookInstance")
    if not isinstance(instance, str) or not instance:
        issues.append(FieldIssue("hookInstance", repr(instance), "must be a string (a UUID)"))
    context = body.get("context")
    if not isinstance(context, dict):
        issues.append(FieldIssue("context", repr(type(context).__name__), "must be an object"))
        context = {}
    elif not isinstance(context.get("patientId"), str) or not context["patientId"]:
        issues.append(FieldIssue("context.patientId", "(missing)", "must be a string"))
    for key in ("prefetch", "fhirAuthorization"):
        if body.get(key) is not None and not isinstance(body.get(key), dict):
            issues.append(FieldIssue(key, repr(type(body[key]).__name__),
                                     "must be an object when given"))
    server = body.get("fhirServer")
    if server is not None and (not isinstance(server, str)
                               or not server.startswith(("https://", "http://"))):
        issues.append(FieldIssue("fhirServer", "(not shown)", "must be an http(s) URL"))
    if issues:
        raise _Problem(400, "invalid-hook-request",
                       f"The {hook} request breaks the CDS Hooks 2.0 rules.", tuple(issues))
    return context, str(instance)


def _entries(value: Any) -> list[dict[str, Any]]:
    """Resources of a prefetch value: a resource, or a Bundle of them."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        out = []
        entries = value.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict) and res.get("resourceType") not in (
                "OperationOutcome", None
            ):
                out.append(res)
        return out
    return [value] if isinstance(value.get("resourceType"), str) else []


def _template(query: str, context: Mapping[str, Any]) -> str:
    return query.replace("{{context.patientId}}", quote(str(context["patientId"]), safe=""))


async def _fetch_missing(
    body: Mapping[str, Any], context: Mapping[str, Any], missing: list[str], svc: CdsService
) -> dict[str, Any]:
    server = str(body["fhirServer"]).rstrip("/")
    prefixes = svc.settings.fhir_server_prefixes
    if prefixes and not server.startswith(prefixes):
        raise _Problem(400, "fhir-server-not-allowed",
                       "fhirServer is not among the FHIR servers this service may query.")
    headers = {"Accept": "application/fhir+json"}
    auth = body.get("fhirAuthorization")
    if isinstance(auth, dict) and isinstance(auth.get("access_token"), str):
        headers["Authorization"] = f"Bearer {auth['access_token']}"
    fetched: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=svc.settings.fhir_timeout_seconds,
                                 transport=svc.transport) as client:
        async def get(key: str) -> None:
            url = f"{server}/{_template(PREFETCH[key], context)}"
            resources: list[dict[str, Any]] = []
            for _page in range(svc.settings.fhir_max_pages):
                try:
                    response = await client.get(url, headers=headers)
                except httpx.HTTPError:
                    raise _Problem(502, "fhir-server-unreachable",
                                   "The FHIR server could not be reached.") from None
                if response.status_code == 404 and key == "patient":
                    break
                if response.status_code >= 400:
                    raise _Problem(502, "fhir-server-error",
                                   f"The FHIR server answered HTTP {response.status_code} "
                                   f"to the {key} query.")
                try:
                    data = response.json()
                except ValueError:
                    raise _Problem(502, "fhir-server-error",
                                   f"The FHIR server's answer to the {key} query is not "
                                   "JSON.") from None
                resources += _entries(data)
                links = data.get("link") if isinstance(data, dict) else None
                nxt = [link.get("url") for link in (links if isinstance(links, list) else [])
                       if isinstance(link, dict) and link.get("relation") == "next"]
                if not nxt or not isinstance(nxt[0], str):
                    break
                url = nxt[0]
            fetched[key] = {"resourceType": "Bundle", "type": "searchset",
                            "entry": [{"resource": r} for r in resources]}

        results = await asyncio.gather(*(get(k) for k in missing), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return fetched


async def _record(body: Mapping[str, Any], context: Mapping[str, Any],
                  svc: CdsService) -> dict[str, Any]:
    """One collection Bundle of the patient's record, from prefetch and the FHIR server."""
    prefetch = body.get("prefetch") or {}
    missing = [k for k in PREFETCH if prefetch.get(k) is None]
    fetched: dict[str, Any] = {}
    if missing:
        if not body.get("fhirServer"):
            raise _Problem(412, "prefetch-missing",
                           "Prefetch lacks " + ", ".join(missing) + " and no fhirServer was "
                           "given to fetch it from.")
        fetched = await _fetch_missing(body, context, missing, svc)
    entries = []
    seen: set[tuple[str, str]] = set()
    for key in PREFETCH:
        for res in _entries(prefetch.get(key) if key not in fetched else fetched[key]):
            ident = (str(res.get("resourceType")), str(res.get("id")))
            if res.get("id") is not None and ident in seen:
                continue
            seen.add(ident)
            entries.append({"resource": res})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


# -------------------------------------------------------------------------------- cards


def _source(version: str, svc: CdsService, topic: Item | None = None) -> dict[str, Any]:
    src: dict[str, Any] = {"label": f"pecoma · PEComa guideline, knowledge {version}",
                           "url": svc.settings.source_url}
    if topic is not None:
        src["topic"] = {"system": c.PECOMA_SYSTEM, "code": topic.id, "display": topic.title}
    return src


def _md_item(item: Item) -> str:
    lines = [f"**{item.title}** — {item.text}", "", f"*Why:* {item.rationale}",
             "", f"*Source:* {item.provenance.label}"]
    lines += [f"  \n{src.citation}" for src in item.provenance.sources]
    return "\n".join(lines)


def _md_missing(missing: tuple[MissingFact, ...], only: tuple[str, ...] | None = None) -> str:
    chosen = [m for m in missing if only is None or m.id in only]
    if not chosen:
        return ""
    lines = ["", "**Missing facts** (unknown, not absent):"]
    for m in chosen:
        lines.append(f"- `{m.field}`: {m.question} *Would change:* {m.would_change} "
                     f"*Meanwhile:* {m.meanwhile}")
    return "\n".join(lines)


def _links(report: str | None, svc: CdsService) -> list[dict[str, str]]:
    if not report or not svc.settings.report_links:
        return []
    token = svc.reports.put(report)
    url = f"{svc.settings.base_url.rstrip('/')}/cds-services/reports/{token}"
    return [{"label": "Full pecoma report", "url": url, "type": "absolute"}]


def _card(
    svc: CdsService, service: str, instance: str, version: str, *, summary: str,
    indicator: Literal["info", "warning", "critical"], detail: str,
    records: tuple[str, ...], topic: Item | None = None,
    links: list[dict[str, str]] | None = None, extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    card_uuid = str(uuid.uuid4())
    summary = _summary(summary)
    card: dict[str, Any] = {
        "uuid": card_uuid,
        "summary": summary,
        "indicator": indicator,
        "detail": detail + f"\n\n*pecoma knowledge {version}.*",
        "source": _source(version, svc, topic),
        "links": links or [],
        **(extra or {}),
    }
    svc.store.remember(CardRecord(
        uuid=card_uuid, service=service, hook_instance=instance, indicator=indicator,
        summary=summary, record_ids=records, knowledge_version=version,
        issued_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    ))
    return _clean(card)  # type: ignore[no-any-return]


def _error_card(svc: CdsService, service: str, instance: str, exc: InputError) -> dict[str, Any]:
    version = load_knowledge().version
    lines = [f"pecoma could not read this patient's record ({len(exc.issues)} problem"
             f"{'s' if len(exc.issues) != 1 else ''}). Nothing was assessed; correct the "
             "record and reopen the chart.", ""]
    lines += [f"- `{i.path}`: {i.rule} (got {i.value})" for i in exc.issues[:20]]
    if len(exc.issues) > 20:
        lines.append(f"- … and {len(exc.issues) - 20} more")
    return _card(svc, service, instance, version,
                 summary=f"PEComa guideline check not possible: {len(exc.issues)} problem(s) "
                 "in the FHIR record",
                 indicator="warning", detail="\n".join(lines), records=())


def _not_found_md(bc: BundleCase) -> str:
    if not bc.not_found:
        return ""
    return ("\n\n**Not found in the record** (treated as unknown): "
            + ", ".join(f"`{p}`" for p in bc.not_found))


#: Which recommendation heads the summary card, most decisive first.
_HEADLINE = (
    "REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-PENDING", "REC-RERESECTION",
    "REC-RESECTION", "REC-MTOR-FIRST-LINE", "REC-ANTHRACYCLINE", "REC-NO-NEXT-LINE",
    "REC-AGGRESSIVE-SURGERY", "REC-ADJ-RADIOTHERAPY", "REC-ADJ-NODES-METS",
    "REC-RESECTION-DONE",
)


def _assessment_cards(
    svc: CdsService, instance: str, bc: BundleCase, a: Assessment
) -> list[dict[str, Any]]:
    version = a.knowledge_version
    report = markdown_report(a)
    links = _links(report, svc)
    ranked = sorted(a.recommendations, key=lambda r: _HEADLINE.index(r.id)
                    if r.id in _HEADLINE else len(_HEADLINE))
    head = ranked[0].title if ranked else "see the report"
    status = a.disease_status.replace("_", " ")
    summary = f"PEComa ({status}), risk {a.risk.group.replace('_', ' ')}: {head}"
    if a.missing:
        summary += f"; {len(a.missing)} fact(s) missing"
    recs = "\n\n".join(_md_item(r) for r in (a.risk.item, *a.recommendations))
    info_alerts = [x for x in a.alerts if x.level == "info"]
    follow = "\n".join(f"- {f.title} ({f.provenance.label})" for f in a.followup)
    detail = (recs
              + ("\n\n" + "\n\n".join(_md_item(x) for x in info_alerts) if info_alerts else "")
              + ("\n\n**Surveillance**\n" + follow if follow else "")
              + _md_missing(a.missing) + _not_found_md(bc)
              + f"\n\n*{a.intended_use}*")
    records = tuple(i.id for i in (a.risk.item, *a.recommendations, *info_alerts,
                                   *a.followup))
    cards = [_card(svc, PATIENT_VIEW, instance, version, summary=summary, indicator="info",
                   detail=detail, records=records, links=links)]
    for alert in a.alerts:
        if alert.level not in ("warning", "critical"):
            continue
        indicator: Literal["warning", "critical"] = (
            "critical" if alert.level == "critical" else "warning")
        cards.append(_card(
            svc, PATIENT_VIEW, instance, version, summary=alert.title, indicator=indicator,
            detail=_md_item(alert) + _md_missing(a.missing, alert.conditional_on),
            records=(alert.id,), topic=alert, links=links,
        ))
    return cards


def _today(request: Request, svc: CdsService) -> dt.date:
    if svc.today is not None:
        return svc.today()
    clock = getattr(request.app.state, "today", None)
    return clock() if callable(clock) else dt.date.today()


def _engine_settings(request: Request, svc: CdsService) -> Settings:
    if svc.engine_settings is not None:
        return svc.engine_settings
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else default_settings()


async def patient_view(body: Mapping[str, Any], request: Request,
                       svc: CdsService) -> dict[str, Any]:
    context, instance = _check_request(body, "patient-view")
    bundle = await _record(body, context, svc)
    try:
        bc = case_from_bundle(bundle, validate=svc.settings.validation, source="FHIR record")
        a = assess(bc.case, _today(request, svc), _engine_settings(request, svc))
    except InputError as exc:
        return {"cards": [_error_card(svc, PATIENT_VIEW, instance, exc)]}
    return {"cards": _assessment_cards(svc, instance, bc, a)}


def _draft_orders(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    orders = context.get("draftOrders")
    if not isinstance(orders, dict) or orders.get("resourceType") != "Bundle":
        raise _Problem(400, "invalid-hook-request", "context.draftOrders must be a FHIR Bundle.",
                       (FieldIssue("context.draftOrders", "(not a Bundle)",
                                   "must be a FHIR Bundle of draft orders"),))
    selections = context.get("selections")
    chosen = set(selections) if isinstance(selections, list) and selections else None
    out = []
    for res in _entries(orders):
        if res.get("resourceType") != "MedicationRequest":
            continue
        ref = f"MedicationRequest/{res.get('id')}"
        if chosen is None or ref in chosen:
            out.append(res)
    return out


def _first_line_case(case: Case, draft: TherapyLine) -> Case | None:
    """The case as if the draft were given; None when it would not be the first line."""
    if any(t.setting is TherapySetting.advanced for t in case.systemic.therapies):
        return None
    systemic = case.systemic.model_copy(update={"therapies": (*case.systemic.therapies, draft)})
    return case.model_copy(update={"systemic": systemic})


def _replace_suggestion(order: Mapping[str, Any], patient_id: str) -> dict[str, Any]:
    proposal = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": concept(c.agent_code(_SUGGESTED), "sirolimus (mTOR "
                                             "inhibitor)"),
        "subject": {"reference": f"Patient/{patient_id}"},
        "note": [{"text": "Proposed by pecoma in place of first-line chemotherapy (guideline "
                          "S13). Choose the mTOR inhibitor and dose with the sarcoma team."}],
    }
    actions = [{"type": "create", "description": "Draft an mTOR-inhibitor order for review",
                "resource": proposal}]
    if order.get("id"):
        actions.insert(0, {"type": "delete",
                           "description": "Remove the draft chemotherapy order",
                           "resourceId": f"MedicationRequest/{order['id']}"})
    return {"label": "Replace with an mTOR inhibitor (sirolimus) draft",
            "uuid": str(uuid.uuid4()), "isRecommended": True, "actions": actions}


_SUGGESTED = c.AGENT_BY_CODE["agent-sirolimus"]


async def order_select(body: Mapping[str, Any], request: Request,
                       svc: CdsService) -> dict[str, Any]:
    context, instance = _check_request(body, "order-select")
    drafts = []
    for order in _draft_orders(context):
        agent = agent_of(order.get("medicationCodeableConcept"))
        if agent is not None and agent.is_conventional_chemotherapy:
            drafts.append((order, agent))
    if not drafts:
        return {"cards": []}
    bundle = await _record(body, context, svc)
    try:
        bc = case_from_bundle(bundle, validate=svc.settings.validation, source="FHIR record")
    except InputError as exc:
        return {"cards": [_error_card(svc, ORDER_SELECT, instance, exc)]}
    cards = []
    day = _today(request, svc)
    for order, agent in drafts:
        trial = _first_line_case(bc.case, TherapyLine(agent=agent, line=1))
        if trial is None:
            continue
        try:
            a = assess(trial, day, _engine_settings(request, svc))
        except InputError as exc:
            return {"cards": [_error_card(svc, ORDER_SELECT, instance, exc)]}
        alert = next((x for x in a.alerts if x.id == "ALERT-CHEMO-BEFORE-MTOR"), None)
        if alert is None:
            continue
        rec = load_knowledge().records["REC-MTOR-FIRST-LINE"]
        detail = (_md_item(alert)
                  + f"\n\n**{rec.title}** — {rec.text}\n\n*Why:* {rec.rationale}"
                  + f"\n\nDraft order: {agent.value.replace('_', ' ')}."
                  + _md_missing(a.missing, alert.conditional_on) + _not_found_md(bc))
        extra = {
            "suggestions": [_replace_suggestion(order, str(context["patientId"]))],
            "selectionBehavior": "at-most-one",
            "overrideReasons": [{"system": c.PECOMA_SYSTEM, "code": code, "display": text}
                                for code, text in OVERRIDE_REASONS],
        }
        cards.append(_card(
            svc, ORDER_SELECT, instance, a.knowledge_version,
            summary="Chemotherapy first line for advanced PEComa: the guideline puts an mTOR "
                    "inhibitor first",
            indicator="warning", detail=detail,
            records=(alert.id, "REC-MTOR-FIRST-LINE"), topic=alert,
            links=_links(markdown_report(a), svc), extra=extra,
        ))
    return {"cards": cards}


# ----------------------------------------------------------------------------- feedback


def _feedback_entries(body: Mapping[str, Any], service: str, svc: CdsService) -> list[
    FeedbackEntry
]:
    items = body.get("feedback")
    if not isinstance(items, list) or not items:
        raise _Problem(400, "invalid-feedback", "The body must be {\"feedback\": [...]} with "
                       "at least one entry.")
    issues: list[FieldIssue] = []
    out = []
    received = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for i, item in enumerate(items):
        path = f"feedback[{i}]"
        if not isinstance(item, dict):
            issues.append(FieldIssue(path, repr(type(item).__name__), "must be an object"))
            continue
        card = item.get("card")
        outcome = item.get("outcome")
        stamp = item.get("outcomeTimestamp")
        if not isinstance(card, str) or not card:
            issues.append(FieldIssue(f"{path}.card", repr(card), "must be the card's uuid"))
        if outcome not in ("accepted", "overridden"):
            issues.append(FieldIssue(f"{path}.outcome", repr(outcome),
                                     "must be 'accepted' or 'overridden'"))
        if not isinstance(stamp, str) or not stamp:
            issues.append(FieldIssue(f"{path}.outcomeTimestamp", repr(stamp),
                                     "must be an ISO 8601 date-time"))
        accepted = item.get("acceptedSuggestions") or []
        if not isinstance(accepted, list) or not all(
            isinstance(x, dict) and isinstance(x.get("id"), str) for x in accepted
        ):
            issues.append(FieldIssue(f"{path}.acceptedSuggestions", "(invalid)",
                                     "must be a list of {\"id\": suggestion uuid}"))
            accepted = []
        reason = item.get("overrideReason")
        if reason is not None and not isinstance(reason, dict):
            issues.append(FieldIssue(f"{path}.overrideReason", repr(type(reason).__name__),
                                     "must be an object with 'reason' and/or 'userComment'"))
            reason = None
        if outcome == "accepted" and reason is not None:
            issues.append(FieldIssue(f"{path}.overrideReason", "(given)",
                                     "must be left out when the outcome is 'accepted'"))
        if issues:
            continue
        comment = reason.get("userComment") if reason else None
        out.append(FeedbackEntry(
            card=str(card), service=service, outcome=str(outcome),
            outcome_timestamp=str(stamp),
            accepted_suggestions=tuple(str(x["id"]) for x in accepted),
            override_reason=reason.get("reason") if reason and isinstance(
                reason.get("reason"), dict) else None,
            user_comment=str(comment) if isinstance(comment, str) else None,
            received_at=received, issued=svc.store.issued(str(card)),
        ))
    if issues:
        raise _Problem(400, "invalid-feedback", "The feedback breaks the CDS Hooks 2.0 rules.",
                       tuple(issues))
    return out


# ------------------------------------------------------------------------------ router

_SERVICES = {PATIENT_VIEW: patient_view, ORDER_SELECT: order_select}


@lru_cache(maxsize=1)
def _env_service() -> CdsService:
    return CdsService(CdsHooksSettings.from_env())


def build_router(service: CdsService | CdsHooksSettings | None = None) -> APIRouter:
    """The CDS Hooks router; without arguments its settings come from ``PECOMA_CDS_*``."""
    fixed = CdsService(service) if isinstance(service, CdsHooksSettings) else service
    api = APIRouter(tags=["CDS Hooks"])

    def state() -> CdsService:
        return fixed if fixed is not None else _env_service()

    async def authorized(request: Request, svc: CdsService, path: str) -> Response | None:
        if not svc.settings.require_jwt:
            return None
        base = svc.settings.base_url.rstrip("/")
        audiences: tuple[str, ...] = (f"{base}{path}",)
        if path.endswith("/feedback"):
            audiences += (f"{base}{path.removesuffix('/feedback')}",)
        try:
            await svc.verifier.verify(request.headers.get("authorization"), audiences)
        except Unauthorized:
            return Response(status_code=401, headers=_cors(request, svc.settings))
        return None

    @api.get("/cds-services", summary="CDS Hooks discovery")
    async def discover(request: Request) -> JSONResponse:
        svc = state()
        return JSONResponse(discovery(load_knowledge().version),
                            headers=_cors(request, svc.settings))

    @api.options("/cds-services", include_in_schema=False)
    @api.options("/cds-services/{rest:path}", include_in_schema=False)
    async def preflight(request: Request, rest: str = "") -> Response:
        del rest
        svc = state()
        headers = _cors(request, svc.settings)
        if headers:
            headers.update({
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            })
        return Response(status_code=204, headers=headers)

    @api.post("/cds-services/{service_id}", summary="Call a CDS service")
    async def call(service_id: str, request: Request) -> Response:
        svc = state()
        path = f"/cds-services/{service_id}"
        headers = _cors(request, svc.settings)
        handler = _SERVICES.get(service_id)
        if handler is None:
            return _problem(_Problem(404, "unknown-service",
                                     f"No CDS service '{service_id[:40]}'; see "
                                     "/cds-services."), path, headers)
        denied = await authorized(request, svc, path)
        if denied is not None:
            return denied
        try:
            body = _request_body(await request.body())
            result = await handler(body, request, svc)
        except _Problem as p:
            LOG.info("cds-hooks request refused", extra={"service": service_id,
                                                         "status": p.status})
            return _problem(p, path, headers)
        LOG.info("cds-hooks cards", extra={"service": service_id,
                                           "cards": len(result["cards"])})
        return JSONResponse(result, headers=headers)

    @api.post("/cds-services/{service_id}/feedback", summary="Feedback on cards")
    async def feedback(service_id: str, request: Request) -> Response:
        svc = state()
        path = f"/cds-services/{service_id}/feedback"
        headers = _cors(request, svc.settings)
        if service_id not in _SERVICES:
            return _problem(_Problem(404, "unknown-service",
                                     f"No CDS service '{service_id[:40]}'."), path, headers)
        denied = await authorized(request, svc, path)
        if denied is not None:
            return denied
        try:
            entries = _feedback_entries(_request_body(await request.body()), service_id, svc)
        except _Problem as p:
            return _problem(p, path, headers)
        for entry in entries:
            svc.store.add(entry)
        LOG.info("cds-hooks feedback", extra={"service": service_id, "entries": len(entries)})
        return Response(status_code=200, headers=headers)

    @api.get("/cds-services/reports/{token}", summary="The full report a card links to")
    async def report(token: str, request: Request) -> Response:
        svc = state()
        text = svc.reports.get(token)
        if text is None:
            return _problem(_Problem(404, "report-not-found",
                                     "This report link has expired or never existed."),
                            "/cds-services/reports", _cors(request, svc.settings))
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8",
                                 headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})

    return api


#: The router the web application includes (settings from ``PECOMA_CDS_*``).
router = build_router()
