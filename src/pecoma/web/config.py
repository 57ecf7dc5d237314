"""The web application's configuration: one pydantic object, from the environment or a file.

``WebConfig.from_env()`` reads ``PECOMA_*`` variables; ``WebConfig.from_file(path)`` reads
the ``[web]`` table of a TOML file. Both are called once, at start-up (``pecoma serve``,
or :func:`~pecoma.web.app.create_app_from_env`); nothing in the application reads the
environment itself: ``create_app(config)`` receives the object, CDS Hooks (``cds``) and
SMART App Launch (``smart``) settings included, and every part of the application reads
``app.state.config``. ``WebConfig()`` is the defaults, whatever the environment holds.

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
PECOMA_DATA_DIR            folder of the SQLite file pecoma.sqlite3     ./data
PECOMA_DB_TIMEOUT_SECONDS  connect / pool wait bound for the database   5
PECOMA_AUTH                auto (on unless bound to loopback), on, off  auto
PECOMA_OPEN_ASSESSMENT     case form, report and /api/v1 open to all    true
PECOMA_SESSION_SECRET      key signing browser session cookies          random
PECOMA_SESSION_HOURS       lifetime of a browser session                8
PECOMA_BEHIND_TLS          HTTPS proxy in front: HSTS, Secure cookies   false
PECOMA_ALLOWED_HOSTS       more host names the server answers to        none
                           (comma-separated; see :mod:`.guards`)
PECOMA_MIN_CELL            registry figures: smaller counts suppressed  5
PECOMA_WEB_CONFIG          a TOML file with a ``[web]`` table           none
PECOMA_CDS_*               CDS Hooks settings (``[web.cds]``; see        see
                           docs/cds-hooks.md and :mod:`.cds.settings`)  docs
PECOMA_SMART_*             SMART App Launch (``[web.smart]``; see        off
                           docs/smart.md and :mod:`.smart.settings`)
=========================  ===========================================  ==============

Authentication (see docs/security.md): with ``auth = "auto"`` it is on when ``host`` is
not a loopback address. ``open_assessment`` keeps the clinician form, the report and the
stateless ``/api/v1`` assessment endpoints usable without a token (they hold no data).
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pecoma.errors import ConfigError, hide_password
from pecoma.settings import Settings, load_settings
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.smart.settings import SmartSettings

__all__ = ["ENV_PREFIX", "WebConfig", "is_loopback"]

ENV_PREFIX = "PECOMA_"

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
    data_dir: Path | None = Field(
        None, description="folder of the registry's SQLite file when no database_url "
        "(default ./data)"
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
    report_link_hours: Annotated[float, Field(gt=0, le=24 * 90)] = Field(
        72.0,
        description="how long a report's own address (a signed link that carries "
        "the case) stays valid",
    )
    min_cell: Annotated[int, Field(ge=1, le=1000)] = Field(
        5, description="registry figures: groups and counts below this many patients are "
        "suppressed (privacy)"
    )
    behind_tls: bool = Field(
        False, description="served over HTTPS by a proxy: send HSTS, mark cookies Secure"
    )
    allowed_hosts: tuple[str, ...] = Field(
        (), description="host names (no port) the server answers to besides the public "
        "base URL's and, bound to loopback, the loopback names; others get 400")
    cds: CdsSettings = Field(default_factory=CdsSettings,
                             description="the CDS Hooks service ([web.cds], PECOMA_CDS_*)")
    smart: SmartSettings = Field(
        default_factory=SmartSettings,
        description="SMART App Launch ([web.smart], PECOMA_SMART_*); off by default")

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        names = tuple(v.strip().lower().removeprefix("[").removesuffix("]") for v in value)
        for name in names:
            if not name or any(c in name for c in "/@ *") or name.count(":") == 1:
                raise ValueError("must be host names without scheme, port or path "
                                 "(e.g. 'pecoma.example.org')")
        return names

    @model_validator(mode="after")
    def _smart_links_need_launch(self) -> WebConfig:
        # a card's smart link opens /smart/launch, which answers 404 while launch is off
        if self.cds.smart_links and not self.smart.enabled:
            raise ValueError(
                "'cds.smart_links' is true but SMART launch is off ('smart.client_id' is "
                "not set): every CDS card would carry an 'Open the case in pecoma' link "
                "that answers 404. Set 'smart.client_id' (with 'smart.issuers' and "
                "'smart.redirect_base'), or set 'cds.smart_links' to false")
        return self

    @property
    def auth_required(self) -> bool:
        """Whether requests need a token (or a session) on protected routes."""
        if self.auth == "auto":
            return not is_loopback(self.host)
        return self.auth == "on"

    @property
    def server_mode(self) -> bool:
        """Whether the server runs in server mode: authentication on, or bound beyond
        loopback (reachable from the network, whatever ``auth`` says)."""
        return self.auth_required or not is_loopback(self.host)

    @property
    def cds_jwt_required(self) -> bool:
        """Whether ``/cds-services`` calls must carry a verified EHR JWT: with ``auto``, in
        server mode (auth on, or bound beyond loopback; turning ``auth`` off does not
        open the CDS service: ``cds.auth = "open"`` does, warned about at start)."""
        if self.cds.auth == "auto":
            return self.server_mode
        return self.cds.auth == "jwt"

    @property
    def public_base_url(self) -> str:
        """The server's public base URL (``cds.base_url``, else http://host:port)."""
        if self.cds.base_url:
            return self.cds.base_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def cds_base_url(self) -> str | None:
        """The base URL of the CDS service's card links and JWT audience: ``cds.base_url``;
        bound to loopback, http://host:port without it; ``None`` when the server is bound
        beyond loopback without it (the bound address, 0.0.0.0 say, is no address an EHR
        or a browser can use: the service then refuses calls until it is set)."""
        if self.cds.base_url or is_loopback(self.host):
            return self.public_base_url
        return None

    def registry_url(self) -> str:
        """The registry database: ``database_url``, else the SQLite file in ``data_dir``."""
        from pecoma.store.db import database_url  # the database stack: only when used

        return database_url(self.database_url, {}, self.data_dir)

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
            given = err.get("input")
            if isinstance(given, Mapping):  # a rule across a table's fields: it names them
                raise ConfigError(f"{origin}: '{where}': {message}" if where
                                  else f"{origin}: {message}") from exc
            # a secret is never written out, nor a URL's user information (a password)
            shown = "(hidden)" if "secret" in where else hide_password(repr(given))
            raise ConfigError(f"{origin}: '{where}' {message} (got {shown})") from exc

    @classmethod
    def from_file(cls, path: Path) -> WebConfig:
        """The ``[web]`` table of a TOML file (every key optional)."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read web config {path.name}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"web config {path.name} is not UTF-8 text (byte "
                              f"{exc.start + 1})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"web config {path.name} is not valid TOML: {exc}") from exc
        table = data.get("web", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path.name}: '[web]' must be a table")
        return cls.build(table, path.name)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        file: Path | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> WebConfig:
        """``options`` (the command line's) over ``PECOMA_*`` variables over a TOML file:
        ``file``, else the one ``PECOMA_WEB_CONFIG`` names (if any).

        ``environ`` defaults to the process environment: this is where the web
        application's settings are read from it, once, at start-up.
        """
        env = os.environ if environ is None else environ
        base: dict[str, Any] = {}
        named = env.get(ENV_PREFIX + "WEB_CONFIG")
        if file is None and named:
            file = Path(named)
        if file is not None:
            base = cls.from_file(file).model_dump(exclude_unset=True)
        for name in cls.model_fields:
            if name in ("cds", "smart"):
                continue
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                base[name] = (tuple(v.strip() for v in raw.split(",") if v.strip())
                              if name == "allowed_hosts" else raw)
        cds = CdsSettings.env_values(dict(env))
        if cds:
            base["cds"] = {**base.get("cds", {}), **cds}
        smart = SmartSettings.env_values(dict(env))
        if smart:
            base["smart"] = {**base.get("smart", {}), **smart}
        config = cls.build(base, "environment")
        if options:
            config = cls.build({**base, **options}, "command line")
        return config
