"""The OAuth 2.0 side of a SMART launch, with Authlib: authorization URL and token exchange.

The authorization request carries ``response_type=code``, the client id, the redirect
URI, the scopes, ``state``, ``aud`` (the FHIR server), ``launch`` (the EHR's launch
context) and a PKCE S256 challenge. The token request sends the code, the redirect URI
and the PKCE verifier; a confidential client authenticates with HTTP Basic
(``client_secret_basic``), a public one sends its ``client_id`` in the body.

The token response is checked before Authlib or the HTTP client use it (an Authlib
``access_token_response`` hook): ``access_token`` a bearer token (RFC 6750 ``b64token``,
:mod:`pecoma.web.bearer`), ``token_type`` Bearer, ``expires_in`` and ``expires_at``, when
given, finite numbers not below zero (RFC 6749 section 5.1). Any other shape is the EHR's
unusable answer (502), never an error of pecoma's.

The access token is returned to the caller in a :class:`Grant` whose ``repr`` hides it;
nothing here logs or stores it.
"""

from __future__ import annotations

import math
import re
import secrets
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx

with warnings.catch_warnings():
    # Authlib announces a move of its httpx client to httpx2; pecoma pins an Authlib that
    # still has it (see pyproject.toml), so the notice says nothing a user can act on.
    import authlib.deprecate  # sets its own "always" filter on import; ours goes after it

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from pecoma.web.bearer import is_bearer_token
from pecoma.web.smart.errors import LaunchError
from pecoma.web.smart.settings import SmartSettings

__all__ = ["Grant", "authorization_url", "exchange_code", "new_secret"]

_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")
#: A FHIR resource id (FHIR R4 ``id`` datatype).
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True, slots=True)
class Grant:
    """What the token endpoint granted: the token (hidden from ``repr``) and the patient."""

    access_token: str = field(repr=False)
    patient: str
    scope: str


def new_secret() -> str:
    """A random value for ``state``, the PKCE verifier or the browser key (256 bits)."""
    return secrets.token_urlsafe(32)


def _client(config: SmartSettings, timeout: float,
            transport: httpx.AsyncBaseTransport | None) -> AsyncOAuth2Client:
    secret = config.client_secret
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=secret.get_secret_value() if secret is not None else None,
        token_endpoint_auth_method="client_secret_basic" if secret is not None else "none",
        scope=config.scopes,
        redirect_uri=config.redirect_uri,
        code_challenge_method="S256",
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        transport=transport,
    )


def authorization_url(config: SmartSettings, endpoint: str, *, iss: str, launch: str,
                      state: str, verifier: str) -> str:
    """Where to send the browser to ask the EHR for authorization."""
    client = _client(config, config.timeout_seconds, None)
    url, _ = client.create_authorization_url(
        endpoint, state=state, code_verifier=verifier, aud=iss, launch=launch
    )
    return str(url)


def _refused(detail: str) -> LaunchError:
    return LaunchError(502, "The EHR did not grant access", detail)


def _number(value: Any) -> bool:
    """A JSON number of seconds: finite and not below zero (never a boolean, a string, a
    list or an object)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def _shape_problem(token: dict[str, Any]) -> str | None:
    """What is wrong with the shape of a token response granting access (in words, naming
    the field, never its value: it may be the token), or ``None``."""
    if not is_bearer_token(token.get("access_token")):
        return ("its 'access_token' is missing or is not a bearer token (RFC 6750 "
                "b64token: ASCII letters, digits and -._~+/)")
    kind = token.get("token_type")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        return "its 'token_type' is not Bearer"
    for key in ("expires_in", "expires_at"):
        if key in token and token[key] is not None and not _number(token[key]):
            return f"its '{key}' is not a number of seconds"
    return None


def _checked(response: httpx.Response) -> httpx.Response:
    """Authlib's ``access_token_response`` hook: a response granting access (a JSON object
    without ``error``) whose shape is wrong is refused here, before Authlib reads its
    expiry and the token reaches an HTTP header. Other answers (an OAuth error, no JSON
    object) are left to Authlib, which refuses them."""
    try:
        body = response.json()
    except ValueError:
        return response
    if isinstance(body, dict) and "error" not in body:
        problem = _shape_problem(body)
        if problem is not None:
            raise _refused(f"The EHR's token response is not usable: {problem}. Try again "
                           "from the EHR; if it keeps failing, tell the EHR's administrator.")
    return response


def _grant(token: Any) -> Grant:
    problem = _shape_problem(token) if isinstance(token, dict) else "it is not a JSON object"
    if problem is not None:
        raise _refused(f"The EHR's token response is not usable: {problem}.")
    patient = token.get("patient")
    if not isinstance(patient, str) or not _FHIR_ID.match(patient):
        raise LaunchError(422, "The EHR gave no patient",
                          "The launch carries no patient context (the token response has no "
                          "valid 'patient'). Open pecoma from a patient's chart.")
    scope = token.get("scope")
    return Grant(token["access_token"], patient, scope if isinstance(scope, str) else "")


async def exchange_code(config: SmartSettings, token_endpoint: str, *, code: str,
                        verifier: str,
                        transport: httpx.AsyncBaseTransport | None = None) -> Grant:
    """Exchange the authorization code for an access token at the EHR's token endpoint."""
    async with _client(config, config.timeout_seconds, transport) as client:
        client.register_compliance_hook("access_token_response", _checked)
        try:
            token = await client.fetch_token(
                token_endpoint, grant_type="authorization_code", code=code,
                code_verifier=verifier, redirect_uri=config.redirect_uri,
            )
        except OAuthError as exc:
            error = str(exc.error) if _ERROR_CODE.match(str(exc.error)) else "an error"
            raise _refused(f"The EHR's authorization server refused the code ({error}). "
                           "Start again from the EHR.") from None
        except (httpx.HTTPError, ValueError):
            raise _refused("The EHR's authorization server gave no usable answer to the "
                           "token request. Try again from the EHR.") from None
    return _grant(token)
