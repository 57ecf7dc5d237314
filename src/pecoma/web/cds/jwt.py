"""Verification of the JWT an EHR sends with each CDS Hooks call (CDS Hooks 2.0.1).

Rules, each failure the same 401 (problem details that never say which rule failed):

* ``Authorization: Bearer <JWT>`` (the scheme in any case, RFC 7235); the header's
  ``alg`` is RS384 or ES384 and it names a ``kid`` (required by the specification);
* ``iss`` is a trusted issuer; a ``jku`` header, when present, is on that issuer's
  allow-list of JWK Set URLs (keys come from the allow-listed URL, or from keys configured
  for the issuer);
* the signature verifies; ``aud`` equals the URL of the service called; ``exp`` and
  ``iat`` are finite numbers (not booleans, strings, NaN or an integer beyond a float's
  range); ``exp`` is in the future (with a small leeway) and at most an hour ahead;
  ``iat`` is not in the future; ``nbf``, when given, is such a number and not in the
  future either (RFC 7519: not accepted before that time; the same leeway); ``sub``
  is optional, but a string when given; ``jti`` is present and has not been seen by any
  worker (the replay cache is the ``cds_jti`` table of the registry database, which keeps
  each ``jti`` until its token expires).

JWK Sets fetched from ``jku`` URLs are cached per process for five minutes (public keys,
not state). Tokens are never logged, echoed or stored (only a digest of the ``jti``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from pecoma.web.cds.settings import TrustedIssuer

__all__ = ["ALGORITHMS", "Claim", "JwtVerifier", "Unauthorized"]

ALGORITHMS = ("RS384", "ES384")
_MIN_REFETCH_SECONDS = 60.0

#: Records a ``(issuer, jti, expires)``; False when it was seen already (a replay).
Claim = Callable[[str, str, dt.datetime], Awaitable[bool]]


class Unauthorized(Exception):
    """The call is not authenticated; becomes the one 401. Carries no detail on purpose."""


def _number(value: Any) -> float | None:
    """A JSON number as a finite float; ``None`` for anything else (a boolean, NaN,
    infinity, an integer too large for a float: ``10**400`` is valid JSON)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


class JwtVerifier:
    """Checks a bearer token against the trusted issuers; raises :class:`Unauthorized`."""

    def __init__(
        self,
        issuers: Mapping[str, TrustedIssuer],
        *,
        leeway_seconds: int = 30,
        max_lifetime_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
        fetch_timeout: float = 5.0,
        jwks_ttl_seconds: float = 300.0,
    ) -> None:
        self.issuers = dict(issuers)
        self.leeway = leeway_seconds
        self.max_lifetime = max_lifetime_seconds
        self.clock = clock
        self.fetch_timeout = fetch_timeout
        self.jwks_ttl = jwks_ttl_seconds
        self._jwks: dict[str, tuple[float, KeySet]] = {}
        self._lock = threading.Lock()

    async def verify(self, authorization: str | None, audiences: tuple[str, ...],
                     claim: Claim) -> dict[str, Any]:
        """The verified claims of the bearer token in ``authorization``."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":  # auth schemes are case-insensitive (RFC 7235)
            raise Unauthorized
        token = token.strip()
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.protected
            unverified = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError, RecursionError):
            raise Unauthorized from None
        if header.get("alg") not in ALGORITHMS or not isinstance(unverified, dict):
            raise Unauthorized
        if not isinstance(header.get("kid"), str) or not header["kid"]:
            raise Unauthorized
        issuer = unverified.get("iss")
        trust = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if trust is None or not isinstance(issuer, str):
            raise Unauthorized
        keys = await self._keys(trust, header.get("jku"))
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError, TypeError):
            # The EHR may have rotated its keys since they were cached: fetch once more
            # (at most once a minute per URL), then give up.
            fresh = await self._keys(trust, header.get("jku"), refresh=True)
            if fresh is keys:
                raise Unauthorized from None
            try:
                decoded = jwt.decode(token, fresh, algorithms=list(ALGORITHMS))
            except (JoseError, ValueError, TypeError):
                raise Unauthorized from None
        claims = decoded.claims
        now = self.clock()
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not any(a in audiences for a in auds if isinstance(a, str)):
            raise Unauthorized
        exp = _number(claims.get("exp"))
        if exp is None or exp + self.leeway < now or exp - now > self.max_lifetime:
            raise Unauthorized
        iat = _number(claims.get("iat"))
        if iat is None or iat - self.leeway > now:
            raise Unauthorized
        if "nbf" in claims:  # RFC 7519: not to be accepted before this time
            nbf = _number(claims["nbf"])
            if nbf is None or nbf - self.leeway > now:
                raise Unauthorized
        if "sub" in claims and not isinstance(claims["sub"], str):
            raise Unauthorized
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > 1000:
            raise Unauthorized
        expires = dt.datetime.fromtimestamp(exp + self.leeway, dt.UTC)
        if not await claim(issuer, jti, expires):
            raise Unauthorized
        return dict(claims)

    async def _keys(self, trust: TrustedIssuer, jku: Any, refresh: bool = False) -> KeySet:
        if jku is not None:
            if not isinstance(jku, str) or jku not in trust.jwks_urls:
                raise Unauthorized
            return await self._fetch(jku, refresh)
        if trust.jwks is not None:
            try:
                return KeySet.import_key_set(trust.jwks)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError):
                raise Unauthorized from None
        if trust.jwks_urls:
            return await self._fetch(trust.jwks_urls[0], refresh)
        raise Unauthorized

    async def _fetch(self, url: str, refresh: bool = False) -> KeySet:
        now = self.clock()
        with self._lock:
            cached = self._jwks.get(url)
        if cached is not None and cached[0] > now:
            fetched_at = cached[0] - self.jwks_ttl
            if not refresh or now - fetched_at < _MIN_REFETCH_SECONDS:
                return cached[1]
        try:
            async with httpx.AsyncClient(timeout=self.fetch_timeout,
                                         follow_redirects=False) as client:
                response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, JoseError, ValueError, TypeError):
            raise Unauthorized from None
        with self._lock:
            self._jwks[url] = (now + self.jwks_ttl, keys)
        return keys
