"""Report links: a signed, expiring URL that carries the case, for post/redirect/get.

``POST /report`` checks the form and answers ``303 See Other`` to
``/report/s/<token>``; that page is an ordinary GET, so Back, reload and sharing the
address work, with no "confirm form resubmission". The server keeps nothing: the token
is the case (JSON, compressed), the evaluation date, the scans entered and an expiry,
signed with HMAC-SHA256 under a key derived from ``session_secret`` (random per process
when none is configured: links then last until the server restarts and work on one
worker only). A token that was changed, cut, or signed with another key is refused as
"not valid", an old one as "expired", each with a page that says so (never a 500).

The same signer, under a key of another purpose (``purpose``), carries the values typed in
the case form to its own GET address, ``/form/s/<token>``: the form again after "add
another row" without JavaScript or after a refused case. "Edit the case" is the GET
address ``/report/s/<token>/edit``. A link carries only a case typed into the form (or
read from the EHR), never one read out of the registry: a stored assessment's "Edit the
case" is a registry address, which needs the role its page needs.

The token is signed, not encrypted: whoever holds the link can read the case in it, as
they could read the report. Pages under ``/report`` need the ``reader`` role when the
server is not open for assessment (see :mod:`pecoma.web.auth`); the access log records
the route only, never the address, and pages are sent with ``Referrer-Policy:
same-origin`` (no Referer to other sites) and ``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import zlib
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["MAX_TOKEN_CHARS", "LinkPayload", "LinkSigner"]

#: Longer tokens are not issued (an address must fit the server's request-line limit):
#: such a report is shown without a link of its own.
MAX_TOKEN_CHARS = 12_000
_MAX_INFLATED = 1_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class LinkPayload:
    case: dict[str, Any]
    on: str
    imaging: list[Any] | None
    expires: float


class LinkSigner:
    """Issues and checks report tokens: ``payload.signature``, both base64url."""

    def __init__(
        self, secret: str, max_age_seconds: float, purpose: bytes = b"pecoma-report-link"
    ) -> None:
        # one key per purpose: a token issued for a form is never taken for a report
        self._key = hashlib.sha256(purpose + b"\x00" + secret.encode()).digest()
        self.max_age = max_age_seconds

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(
        self, case: dict[str, Any], on: str, imaging: list[Any] | None, now: float | None = None
    ) -> tuple[str, float]:
        """A token for the case and its expiry (seconds since the epoch)."""
        expires = int((now if now is not None else time.time()) + self.max_age)
        blob = json.dumps(
            {"c": case, "o": on, "i": imaging, "e": expires}, separators=(",", ":"), sort_keys=True
        ).encode()
        payload = _b64(zlib.compress(blob, 9))
        return f"{payload}.{self._sign(payload)}", float(expires)

    def check(
        self, token: str, now: float | None = None
    ) -> LinkPayload | Literal["invalid", "expired"]:
        """The payload of a valid token, else why not."""
        if not token.isascii() or len(token) > MAX_TOKEN_CHARS:
            return "invalid"
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return "invalid"
        try:
            inflater = zlib.decompressobj()
            blob = inflater.decompress(_unb64(payload), _MAX_INFLATED)
            if inflater.unconsumed_tail:
                return "invalid"
            data = json.loads(blob)
            case, on, imaging, expires = data["c"], data["o"], data["i"], float(data["e"])
        except (ValueError, KeyError, TypeError, zlib.error, RecursionError):
            return "invalid"
        if (
            not isinstance(case, dict)
            or not isinstance(on, str)
            or not (imaging is None or isinstance(imaging, list))
        ):
            return "invalid"
        if expires < (now if now is not None else time.time()):
            return "expired"
        return LinkPayload(case, on, imaging, expires)
