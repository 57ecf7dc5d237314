"""Settings of the CDS Hooks service: the ``cds`` part of :class:`~pecoma.web.config.WebConfig`.

In a TOML file they are the ``[web.cds]`` table; in the environment each is
``PECOMA_CDS_<NAME>`` (lists comma-separated, ``trusted_issuers`` as JSON). See
docs/cds-hooks.md for the table of settings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pecoma.fhir import codes as c
from pecoma.fhir.client import AllowList, ServerNotAllowed
from pecoma.fhir.reader import Validation

__all__ = ["CdsAuth", "CdsSettings", "TrustedIssuer"]

#: ``auto``: JWT verification on in server mode (auth on, or bound beyond loopback), off
#: on a loopback-only desktop; ``jwt``: always on; ``open``: off even in server mode (an
#: explicit choice, warned about at start).
CdsAuth = Literal["auto", "jwt", "open"]


class TrustedIssuer(BaseModel):
    """An EHR allowed to call: the JWK Set URLs it may name in ``jku``, or its keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    jwks_urls: tuple[str, ...] = Field((), description="allow-list of JWK Set URLs (jku)")
    jwks: dict[str, Any] | None = Field(None, description="a JWK Set given in configuration")


class CdsSettings(BaseModel):
    """Everything the CDS Hooks service is configured by; immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: CdsAuth = Field("auto", description="EHR JWT verification: auto, jwt or open")
    base_url: str | None = Field(
        None, description="public base URL of this server (a JWT's aud is base_url + "
        "path; report links start with it); default http://host:port on loopback, "
        "required beyond it")
    source_url: str = Field(c.PLAN_DEFINITION_URL,
                            description="the URL every card's source names")
    trusted_issuers: dict[str, TrustedIssuer] = Field(
        default_factory=dict, description="issuer (iss) -> allowed jku URLs / keys")
    jwt_leeway_seconds: Annotated[int, Field(ge=0, le=300)] = 30
    cors_origins: tuple[str, ...] = Field(
        (), description="browser origins allowed to call; '*' for any")
    fhir_servers: tuple[str, ...] = Field(
        (), description="allow-list of FHIR server base URLs fhirServer may name")
    fhir_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    fhir_max_pages: Annotated[int, Field(ge=1, le=1000)] = Field(
        50, description="pages read per fhirServer search, at most")
    validation: Validation = "engine"
    report_links: bool = Field(True, description="cards link to the full report")
    smart_links: bool = Field(False, description="cards link to the SMART launch")
    report_ttl_seconds: Annotated[float, Field(gt=0, le=7 * 24 * 3600)] = 3600.0
    max_reports: Annotated[int, Field(ge=10, le=10_000_000)] = 5_000
    max_jti: Annotated[int, Field(ge=100, le=100_000_000)] = 200_000
    card_days: Annotated[float, Field(gt=0, le=3650)] = 400.0
    max_cards: Annotated[int, Field(ge=100, le=100_000_000)] = 500_000
    feedback_days: Annotated[float, Field(gt=0, le=36500)] = 3650.0
    max_feedback: Annotated[int, Field(ge=100, le=100_000_000)] = 500_000

    @field_validator("fhir_servers")
    @classmethod
    def _servers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            AllowList.parse(value)
        except ServerNotAllowed as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("base_url", "source_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value

    def allow_list(self) -> AllowList:
        return AllowList.parse(self.fhir_servers)

    @classmethod
    def env_values(cls, env: dict[str, str]) -> dict[str, Any]:
        """The raw values of ``PECOMA_CDS_*`` variables, keyed by setting name."""
        import json

        out: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            raw = env.get(f"PECOMA_CDS_{name.upper()}")
            if raw is None or raw == "":
                continue
            if name == "trusted_issuers":
                try:
                    out[name] = json.loads(raw)
                except ValueError:
                    out[name] = raw  # validation names the setting
            elif "tuple" in str(info.annotation):
                out[name] = tuple(v.strip() for v in raw.split(",") if v.strip())
            else:
                out[name] = raw
        return out
