"""Settings of SMART App Launch: the ``smart`` part of :class:`~pecoma.web.config.WebConfig`.

In a TOML file they are the ``[web.smart]`` table; in the environment each is
``PECOMA_SMART_<NAME>`` (``issuers`` space- or comma-separated). Launch is off until
``client_id`` is set; it then needs ``issuers`` and ``redirect_base``.

==================  ========================================================  ==========
setting             meaning                                                   default
==================  ========================================================  ==========
client_id           the client id the EHR registered pecoma under             none (off)
client_secret       secret of a confidential client (HTTP Basic at the        none
                    token endpoint); unset: a public client (PKCE only)
issuers             FHIR server base URLs (``iss``) that may launch pecoma    none
scopes              scopes asked for (SMART 2 ``.rs``; SMART 1 ``.read``)     see below
redirect_base       pecoma's public URL; the redirect URI registered with     none
                    the EHR is this plus ``/smart/callback``
launch_seconds      how long the EHR's authorization may take                 600
max_pending         launches in progress at once, at most                     10000
timeout_seconds     bound on each request to the EHR                          10
fhir_max_pages      pages read per search of the record, at most (each of     50
                    up to 200 entries); a search running past it is named
==================  ========================================================  ==========

The default scopes are ``launch openid fhirUser patient/*.rs``; an EHR on SMART 1 takes
``launch openid fhirUser patient/*.read``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from pecoma.fhir.client import AllowList, ServerNotAllowed, parse_server_url

__all__ = ["DEFAULT_SCOPES", "SmartSettings"]

DEFAULT_SCOPES = "launch openid fhirUser patient/*.rs"
_ENV = "PECOMA_SMART_"


class SmartSettings(BaseModel):
    """Everything SMART App Launch is configured by; immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str | None = Field(
        None, min_length=1, max_length=200,
        description="client id registered with the EHR (launch is off when unset)",
    )
    client_secret: SecretStr | None = Field(
        None, description="secret of a confidential client (a public client when unset)"
    )
    issuers: tuple[str, ...] = Field(
        (), description="FHIR server base URLs (iss) allowed to launch pecoma"
    )
    scopes: str = Field(
        DEFAULT_SCOPES, pattern=r"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$",
        description="scopes asked for, space-separated",
    )
    redirect_base: str | None = Field(
        None, description="pecoma's public base URL, e.g. https://pecoma.example.org"
    )
    launch_seconds: Annotated[int, Field(ge=30, le=3600)] = 600
    max_pending: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0
    fhir_max_pages: Annotated[int, Field(ge=1, le=1000)] = Field(
        50, description="pages read per search of the patient's record, at most")

    @field_validator("issuers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(v for v in value.replace(",", " ").split() if v)
        return value

    @field_validator("issuers")
    @classmethod
    def _issuers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            AllowList.parse(value)
        except ServerNotAllowed as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("redirect_base")
    @classmethod
    def _redirect_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parse_server_url(value)
        except ServerNotAllowed as exc:
            raise ValueError(f"must be pecoma's public URL: {exc}") from None
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> SmartSettings:
        if self.client_id is not None:
            if not self.issuers:
                raise ValueError("'smart.issuers' must name at least one FHIR server when "
                                 "'smart.client_id' is set")
            if self.redirect_base is None:
                raise ValueError("'smart.redirect_base' must be set when 'smart.client_id' "
                                 "is set")
        return self

    @property
    def enabled(self) -> bool:
        """Whether SMART App Launch is configured (``/smart/*`` answers)."""
        return self.client_id is not None

    def allow_list(self) -> AllowList:
        return AllowList.parse(self.issuers)

    @property
    def redirect_uri(self) -> str:
        return f"{self.redirect_base}/smart/callback"

    @classmethod
    def env_values(cls, env: dict[str, str]) -> dict[str, Any]:
        """The raw values of ``PECOMA_SMART_*`` variables, keyed by setting name."""
        out: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(f"{_ENV}{name.upper()}")
            if raw is not None and raw != "":
                out[name] = raw
        return out
