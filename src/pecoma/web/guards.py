"""Which requests the server answers at all, in every mode: the ``Host`` it is addressed
by, and where a request that changes data comes from (:class:`RequestGuard`, applied by
the outermost layer, :class:`~pecoma.web.edge._Edge`, before any route or credential).

**Host** (against DNS rebinding: a page of another site whose name is made to point at
this server's address). A request is answered only when the host it is addressed to
(RFC 9112 §3.2: that of its target when the target is in absolute form,
``GET http://name/path``, else that of its one ``Host`` header) names

- the host of the public base URL (``cds.base_url``; by default ``http://host:port``, the
  bound address) or of SMART's ``redirect_base``,
- a name in ``allowed_hosts``, or
- when the server is bound to a loopback address, a loopback name (``localhost``,
  ``127.0.0.1``, ``[::1]``), with any port;

anything else gets 400, and so does a request with more than one ``Host`` line (which
one a proxy in front would read is not known). A name an attacker controls is never among
them.

**Origin** (against cross-site requests, CSRF: a form on another site posted to this
server by the clinician's browser). A request other than GET, HEAD and OPTIONS is refused
with 403 when its ``Origin`` is ``null`` or is not this server's own origin (scheme,
host and port: the scheme is ``https`` when ``behind_tls``), or, without ``Origin``, when
the browser marks it ``Sec-Fetch-Site: cross-site`` (or ``same-site``: a sibling site is
another origin too). The origins of ``cds.base_url`` and of SMART's ``redirect_base``
are this server's as well, and under ``/cds-services`` so is every origin of
``cds.cors_origins`` (the EHR's browser app). A request without either header (curl, an
EHR server, a script) is not refused here: credentials, where needed, are checked next
(:mod:`pecoma.web.auth`).

Both answers are problem details; nothing of the configuration is quoted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

from pecoma.web.config import WebConfig, is_loopback
from pecoma.web.logs import APP
from pecoma.web.problems import problem

__all__ = ["RequestGuard"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def _split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a ``Host`` value (``name``, ``name:port``, ``[v6]:port``), else
    None."""
    try:
        parts = urlsplit(f"//{value.strip()}")
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not name or parts.path or parts.query or parts.username is not None:
        return None
    return name.lower(), port


def _addressed_host(scope: Scope) -> tuple[str, int | None] | None:
    """(name, port) a request is addressed to (RFC 9112 §3.2): the host of a target in
    absolute form (a ``raw_path`` not starting with ``/``, e.g. ``http://name/path``; the
    Host header is then ignored), else that of the Host header; None when it names no
    host of an ``http``/``https`` URL without user information."""
    raw = scope.get("raw_path") or b"/"
    if raw.startswith(b"/") or raw == b"*":
        return _split_host(Headers(scope=scope).get("host", ""))
    target = raw.decode("latin-1")
    try:
        userinfo = urlsplit(target).username is not None
    except ValueError:
        return None
    named = _origin(target)
    return None if named is None or userinfo else (named[1], named[2])


def _origin(url: str) -> Origin | None:
    """(scheme, host, port) of an origin or URL, the default port made explicit."""
    try:
        parts = urlsplit(url.strip())
        scheme, name, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not name:
        return None
    return scheme, name.lower(), port or _DEFAULT_PORTS[scheme]


def _unspecified(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_unspecified
    except ValueError:
        return False


def _is_cds(path: str) -> bool:
    return path == "/cds-services" or path.startswith("/cds-services/")


class RequestGuard:
    """The Host and Origin rules of one application (see the module docstring)."""

    def __init__(self, config: WebConfig) -> None:
        public = _origin(config.public_base_url)
        smart = _origin(config.smart.redirect_base or "")
        self.loopback = is_loopback(config.host)
        self.hosts = frozenset(config.allowed_hosts) | {o[1] for o in (public, smart) if o}
        self.publics = {o for o in (public if config.cds.base_url else None, smart) if o}
        self.https = config.behind_tls
        self.cors = frozenset(config.cds.cors_origins)

    @property
    def names_nothing(self) -> bool:
        """Bound to every address (0.0.0.0, ::) with no host name configured: no client
        can name the server, every request will be refused."""
        return not self.loopback and all(_unspecified(name) for name in self.hosts)

    def host_allowed(self, name: str) -> bool:
        return name in self.hosts or (self.loopback and is_loopback(name))

    def refusal(self, scope: Scope) -> Response | None:
        """The answer refusing this request, or None to let it through."""
        headers = Headers(scope=scope)
        path = scope["path"]
        if len(headers.getlist("host")) > 1:
            APP.info("request refused: more than one Host")
            return problem(400, "unknown-host", "the request must carry exactly one Host "
                           "header (RFC 9112 section 3.2)", instance=path)
        host = _addressed_host(scope)
        if host is None or not self.host_allowed(host[0]):
            APP.info("request refused: host not served")
            return problem(400, "unknown-host", "the request's Host header (or the host of "
                           "an absolute request target) must name this server (a host name "
                           "it is configured to answer to; see "
                           "'allowed_hosts' in docs/security.md)", instance=path)
        if scope["method"] in _SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is None:
            site = headers.get("sec-fetch-site", "").strip().lower()
            if site not in ("cross-site", "same-site"):
                return None
            why = f"the browser marked it {site}"
        else:
            if _is_cds(path) and ("*" in self.cors or origin.strip() in self.cors):
                return None
            scheme = "https" if self.https else str(scope.get("scheme", "http"))
            own = (scheme, host[0], host[1] or _DEFAULT_PORTS.get(scheme, 80))
            given = _origin(origin) if origin.strip() != "null" else None
            if given is not None and (given == own or given in self.publics):
                return None
            why = "its Origin is another site" if given else "its Origin is 'null' or unreadable"
        APP.info("request refused: cross-origin", extra={"method": scope["method"]})
        return problem(403, "cross-origin", "a request that changes data must come from this "
                       f"server's own pages ({why})", instance=path)
