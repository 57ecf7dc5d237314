"""The outermost ASGI layer of the application (:class:`_Edge`): the Host and Origin
rules (:mod:`pecoma.web.guards`), the request-size limit, the refusal of a body sent with
a content coding, the security headers (``Retry-After`` on every 503), HEAD answered as
GET without the body, and the access log; and the two path tests the error handlers
share (an API path, a CDS Hooks path)."""

from __future__ import annotations

import time
import uuid

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pecoma.errors import FieldIssue, show_value
from pecoma.web.auth import RETRY_AFTER_SECONDS, _replay
from pecoma.web.guards import RequestGuard
from pecoma.web.logs import ACCESS, access_extra
from pecoma.web.problems import problem

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_SECURITY_HEADERS = [
    (b"content-security-policy", _CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer, Chromium sends "Origin: null" on
    # form posts, and the Origin check of sign-in and CSRF refuses every browser form.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _is_api(path: str) -> bool:
    return path.startswith("/api/")


def _is_cds(path: str) -> bool:
    return path == "/cds-services" or path.startswith("/cds-services/")


#: What a request's ``Content-Encoding`` may say: nothing, or ``identity`` (RFC 9110
#: 8.4.1). pecoma reads every body as sent; a compressed one is refused, not read as text.
ENCODING_RULE = ("must be absent or 'identity': pecoma reads a request body as sent, "
                 "never compressed (send it without gzip, deflate or br)")


def content_coding(scope: Scope) -> str | None:
    """The ``Content-Encoding`` a request sends when it names a coding other than
    ``identity`` (every such header, joined as sent), or ``None``."""
    said = [value.decode("latin-1") for name, value in scope.get("headers", [])
            if name.lower() == b"content-encoding"]
    codings = [c.strip().lower() for value in said for c in value.split(",")]
    return ", ".join(said) if any(c and c != "identity" for c in codings) else None


def _allow_with_head(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A 405's ``Allow`` with HEAD beside GET (every GET address answers HEAD)."""
    out = []
    for name, value in headers:
        if name.lower() == b"allow":
            methods = [m.strip() for m in value.split(b",")]
            if b"GET" in methods and b"HEAD" not in methods:
                methods.insert(methods.index(b"GET") + 1, b"HEAD")
            value = b", ".join(methods)
        out.append((name, value))
    return out


class _Edge:
    """Outermost ASGI layer: the Host and Origin rules (``guard``, in every mode), the
    request-size limit, security headers (and ``Retry-After`` on every 503), access log.

    HEAD (RFC 9110 §9.3.2) is passed to the application as GET, whose routes answer it:
    the same checks (query, sign-in, roles) and the same status and headers, the security
    headers and ``Content-Length`` included, but no body is sent. An address without GET
    refuses HEAD as it refuses GET (405), and a 405's ``Allow`` names HEAD beside GET.

    The body is read here, up to the limit, and replayed to the application, so a body
    too large is refused with 413 before any route sees it, whatever its Content-Length.
    ``/cds-services`` has its own, larger limit (an EHR's prefetch can be big). A request
    whose ``Content-Encoding`` names a coding other than ``identity`` (a gzip body) is
    refused with 415 before its body is read (:func:`content_coding`): no route decodes
    one, and read as it is it would pass for text that is not UTF-8, or, holding plain
    JSON under the header, be read though the header says otherwise.
    """

    def __init__(self, app: ASGIApp, guard: RequestGuard, limit: int,
                 cds_limit: int | None = None, hsts: bool = False) -> None:
        self.app = app
        self.guard = guard
        self.limit = limit
        self.cds_limit = cds_limit or limit
        self.headers = _SECURITY_HEADERS + ([_HSTS] if hsts else [])

    def _limit(self, path: str) -> int:
        return self.cds_limit if _is_cds(path) else self.limit

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body must be at most {self._limit(scope['path'])} bytes"
        response: Response
        if _is_api(scope["path"]) or _is_cds(scope["path"]):
            response = problem(413, "too-large", detail, instance=scope["path"])
        else:
            response = HTMLResponse(
                f"<!doctype html><title>Request too large</title><p>{detail}.</p>",
                status_code=413,
            )
        await response(scope, receive, send)

    async def _encoded(self, scope: Scope, receive: Receive, send: Send, said: str) -> None:
        """415 for a body sent with a content coding (RFC 9110 15.5.16: ``Accept-Encoding``
        names the codings taken, here none but ``identity``)."""
        detail = (f"the request body is sent with Content-Encoding {show_value(said)}; "
                  "pecoma reads a body only as sent, uncompressed")
        response: Response
        if _is_api(scope["path"]) or _is_cds(scope["path"]):
            response = problem(415, "unsupported-content-encoding", detail,
                               [FieldIssue("Content-Encoding", show_value(said),
                                           ENCODING_RULE)],
                               instance=scope["path"], headers={"Accept-Encoding": "identity"})
        else:
            response = HTMLResponse(
                "<!doctype html><title>Unsupported content coding</title><p>The request "
                "body must be sent without a content coding (Content-Encoding absent or "
                "'identity').</p>", status_code=415, headers={"Accept-Encoding": "identity"})
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:12]
        status = 500
        head = scope["method"] == "HEAD"
        # the application answers HEAD as GET; the server's own scope keeps HEAD
        inner = {**scope, "method": "GET"} if head else scope

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in self.headers if h[0] not in present]
                if status == 503 and b"retry-after" not in present:
                    # Every 503 says when to try again (a database that is down or busy).
                    headers.append((b"retry-after", RETRY_AFTER_SECONDS.encode()))
                if status == 405:
                    headers = _allow_with_head(headers)
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # no body for HEAD: only the end of it is sent, empty
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            refused = self.guard.refusal(scope)
            if refused is not None:
                await refused(scope, receive, send_wrapped)
                return
            said = content_coding(scope)
            if said is not None:
                await self._encoded(inner, receive, send_wrapped, said)
                return
            body = await self._read_body(scope, receive)
            if body is None:
                await self._too_large(inner, receive, send_wrapped)
                return
            await self.app(inner, _replay(body, receive), send_wrapped)
        finally:
            route = inner.get("route")
            ACCESS.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": getattr(route, "path", None) or "(unmatched)",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    **access_extra(inner),
                },
            )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None when it is larger than the limit."""
        limit = self._limit(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        return None
                except ValueError:
                    return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
