"""The HTTP/1.1 protocol ``pecoma serve`` runs uvicorn with: uvicorn's C parser
(httptools), keeping an absolute-form request target (``GET http://name/path``) in the
scope's ``raw_path`` as sent, as uvicorn's pure-Python parser (h11) does.

uvicorn's httptools protocol hands the application only the path of such a target, so
the host it names would be lost; RFC 9112 §3.2.2 makes that host, not the Host header,
the one the request is addressed to. The Host rule (:mod:`pecoma.web.guards`) reads it
from ``raw_path``. The routed ``path`` is unchanged.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["TargetKeepingHttpTools"]


class TargetKeepingHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, an absolute-form target kept in ``raw_path``."""

    def on_headers_complete(self) -> None:
        # uvicorn's own attributes (``url``, ``scope``), read defensively: should a later
        # uvicorn name them otherwise, requests are served as by uvicorn itself (the Host
        # header checked, an absolute-form target's host not seen), never refused
        target = getattr(self, "url", None)
        super().on_headers_complete()
        scope = getattr(self, "scope", None)
        # The request's task was only scheduled by now (it runs on the next turn of the
        # event loop), and reads this same scope.
        if isinstance(target, bytes) and target and not target.startswith(b"/") \
                and isinstance(scope, dict) and "raw_path" in scope:
            scope["raw_path"] = target.partition(b"?")[0]
