"""The web application's configuration: one pydantic object, from the environment or a file.

``WebConfig.from_env()`` reads ``PECOMA_*`` variables; ``WebConfig.from_file(path)`` reads
the ``[web]`` table of a TOML file. Nothing in the application reads the environment
itself: ``create_app(config)`` receives the object.

=========================  ===========================================  ==============
variable                   meaning                                      default
=========================  ===========================================  ==============
PECOMA_HOST                address to bind                              127.0.0.1
PECOMA_PORT                TCP port                                     8000
PECOMA_SETTINGS            engine settings file (see defaults.toml)     embedded
PECOMA_MAX_BODY_BYTES      largest request body accepted                262144
PECOMA_CDS_MAX_BODY_BYTES  largest body accepted under /cds-services      4194304
PECOMA_LOG_LEVEL           debug, info, warning or error                info
PECOMA_DATABASE_URL        registry database (else the SQLite file)     data dir
PECOMA_DB_TIMEOUT_SECONDS  connect / pool wait bound for the database   5
PECOMA_AUTH                auto (on unless bound to loopback), on, off  auto
PECOMA_OPEN_ASSESSMENT     case form, report and /api/v1 open to all    true
PECOMA_SESSION_SECRET      key signing browser session cookies          random
PECOMA_SESSION_HOURS       lifetime of a browser session                8
PECOMA_BEHIND_TLS          HTTPS proxy in front: HSTS, Secure cookies   false
PECOMA_WEB_CONFIG          a TOML file with a ``[web]`` table           none
PECOMA_SMART_CLIENT_ID     SMART App Launch client id (launch is off    none
                           until it is set)
PECOMA_SMART_CLIENT_SECRET secret of a confidential client              none (public)
PECOMA_SMART_ISSUERS       FHIR servers (``iss``) that may launch       none
                           pecoma, space- or comma-separated
PECOMA_SMART_SCOPES        scopes asked for                             see below
PECOMA_SMART_REDIRECT_BASE pecoma's public URL; the redirect URI is     none
                           this plus ``/smart/callback``
PECOMA_SMART_LAUNCH_SECONDS how long a launch may take to come back     600
PECOMA_SMART_MAX_PENDING   launches in progress at once, at most        10000
PECOMA_SMART_TIMEOUT_SECONDS bound on each request to the EHR           10
=========================  ===========================================  ==============

Authentication (see docs/security.md): with ``auth = "auto"`` it is on when ``host`` is
not a loopback address. ``open_assessment`` keeps the clinician form, the report and the
stateless ``/api/v1`` assessment endpoints usable without a token (they hold no data).

SMART App Launch (see docs/smart.md) is on when ``smart_client_id`` is set; it then needs
``smart_issuers`` and ``smart_redirect_base``. The default scopes are the SMART 2
``launch openid fhirUser patient/*.rs``; an EHR on SMART 1 takes ``launch openid fhirUser
patient/*.read``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from pecoma.errors import ConfigError
from pecoma.fhir.client import AllowList, ServerNotAllowed, parse_server_url
from pecoma.settings import Settings, load_settings

__all__ = ["ENV_PREFIX", "WebConfig", "is_loopback"]

ENV_PREFIX = "PECOMA_"

DEFAULT_SMART_SCOPES = "launch openid fhirUser patient/*.rs"

_SECRETS = frozenset({"session_secret", "smart_client_secret"})

LogLevel = Literal["debug", "info", "warning", "error"]
AuthMode = Literal["auto", "on", "off"]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; false for 0.0.0.0 and anything else."""
    if host.strip().lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebConfig(BaseModel):
    """Everything the server needs to know; immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="address to bind (loopback by default)")
    port: Annotated[int, Field(ge=1, le=65535, description="TCP port")] = 8000
    settings: Path | None = Field(
        None, description="engine settings file (TOML, same shape as defaults.toml)"
    )
    max_body_bytes: Annotated[
        int, Field(ge=1024, le=16 * 1024 * 1024, description="largest request body accepted")
    ] = 256 * 1024
    cds_max_body_bytes: Annotated[
        int,
        Field(ge=1024, le=64 * 1024 * 1024,
              description="largest request body accepted under /cds-services (prefetch)"),
    ] = 4 * 1024 * 1024
    log_level: LogLevel = "info"
    database_url: str | None = Field(
        None, description="registry database URL (default: the SQLite file in the data dir)"
    )
    db_timeout_seconds: Annotated[
        float, Field(gt=0, le=120, description="bound on connecting to / waiting for the DB")
    ] = 5.0
    auth: AuthMode = Field(
        "auto", description="token authentication: auto (on unless bound to loopback)"
    )
    open_assessment: bool = Field(
        True, description="case form, reports and /api/v1 usable without a token"
    )
    session_secret: str | None = Field(
        None, min_length=32,
        description="key signing session cookies (random per process when not given)",
    )
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 8.0
    behind_tls: bool = Field(
        False, description="served over HTTPS by a proxy: send HSTS, mark cookies Secure"
    )

    smart_client_id: str | None = Field(
        None, min_length=1, max_length=200,
        description="SMART App Launch client id registered with the EHR (off when unset)",
    )
    smart_client_secret: SecretStr | None = Field(
        None, description="client secret of a confidential SMART client (public when unset)"
    )
    smart_issuers: tuple[str, ...] = Field(
        (), description="FHIR server base URLs (iss) allowed to launch pecoma"
    )
    smart_scopes: str = Field(
        DEFAULT_SMART_SCOPES, pattern=r"^[!#-\[\]-~]+( [!#-\[\]-~]+)*$",
        description="scopes asked for, space-separated (SMART 2 .rs or SMART 1 .read style)",
    )
    smart_redirect_base: str | None = Field(
        None, description="pecoma's public base URL, e.g. https://pecoma.example.org"
    )
    smart_launch_seconds: Annotated[int, Field(ge=30, le=3600)] = 600
    smart_max_pending: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    smart_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 10.0

    @field_validator("smart_issuers", mode="before")
    @classmethod
    def _split_issuers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(v for v in value.replace(",", " ").split() if v)
        return value

    @field_validator("smart_issuers")
    @classmethod
    def _check_issuers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            AllowList.parse(value)
        except ServerNotAllowed as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("smart_redirect_base")
    @classmethod
    def _check_redirect_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parse_server_url(value)
        except ServerNotAllowed as exc:
            raise ValueError(f"must be pecoma's public URL: {exc}") from None
        return value.rstrip("/")

    @model_validator(mode="after")
    def _smart_complete(self) -> WebConfig:
        if self.smart_client_id is not None:
            if not self.smart_issuers:
                raise ValueError("smart_issuers must name at least one FHIR server when "
                                 "smart_client_id is set")
            if self.smart_redirect_base is None:
                raise ValueError("smart_redirect_base must be set when smart_client_id is set")
        return self

    @property
    def smart_enabled(self) -> bool:
        """Whether SMART App Launch is configured (``/smart/*`` answers)."""
        return self.smart_client_id is not None

    @property
    def smart_allow_list(self) -> AllowList:
        return AllowList.parse(self.smart_issuers)

    @property
    def auth_required(self) -> bool:
        """Whether requests need a token (or a session) on protected routes."""
        if self.auth == "auto":
            return not is_loopback(self.host)
        return self.auth == "on"

    def engine_settings(self) -> Settings:
        """The engine settings this server passes to every assessment."""
        return load_settings(self.settings)

    @classmethod
    def build(cls, values: Mapping[str, Any], origin: str) -> WebConfig:
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            if not where:  # a rule across fields: the message names them
                raise ConfigError(f"{origin}: {message}") from exc
            shown = "(hidden)" if where in _SECRETS else repr(err.get("input"))
            raise ConfigError(f"{origin}: '{where}' {message} (got {shown})") from exc

    @classmethod
    def from_file(cls, path: Path) -> WebConfig:
        """The ``[web]`` table of a TOML file (every key optional)."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read web config {path.name}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"web config {path.name} is not valid TOML: {exc}") from exc
        table = data.get("web", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path.name}: '[web]' must be a table")
        return cls.build(table, path.name)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebConfig:
        """``PECOMA_*`` variables over the file named by ``PECOMA_WEB_CONFIG`` (if any)."""
        env = os.environ if environ is None else environ
        base: dict[str, Any] = {}
        file = env.get(ENV_PREFIX + "WEB_CONFIG")
        if file:
            base = cls.from_file(Path(file)).model_dump(exclude_unset=True)
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                base[name] = raw
        return cls.build(base, "environment")
