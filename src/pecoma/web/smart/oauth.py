"""The OAuth 2.0 side of a SMART launch, with Authlib: authorization URL and token exchange.

The authorization request carries ``response_type=code``, the client id, the redirect
URI, the scopes, ``state``, ``aud`` (the FHIR server), ``launch`` (the EHR's launch
context) and a PKCE S256 challenge. The token request sends the code, the redirect URI
and the PKCE verifier; a confidential client authenticates with HTTP Basic
(``client_secret_basic``), a public one sends its ``client_id`` in the body.

The access token is returned to the caller in a :class:`Grant` whose ``repr`` hides it;
nothing here logs or stores it.
"""

from __future__ import annotations

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


def _grant(token: Any) -> Grant:
    access = token.get("access_token") if isinstance(token, dict) else None
    if not isinstance(access, str) or not access:
        raise _refused("The EHR's token response holds no access token.")
    kind = token.get("token_type")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise _refused("The EHR's token response is not a Bearer token.")
    patient = token.get("patient")
    if not isinstance(patient, str) or not _FHIR_ID.match(patient):
        raise LaunchError(422, "The EHR gave no patient",
                          "The launch carries no patient context (the token response has no "
                          "valid 'patient'). Open pecoma from a patient's chart.")
    scope = token.get("scope")
    return Grant(access, patient, scope if isinstance(scope, str) else "")


async def exchange_code(config: SmartSettings, token_endpoint: str, *, code: str,
                        verifier: str,
                        transport: httpx.AsyncBaseTransport | None = None) -> Grant:
    """Exchange the authorization code for an access token at the EHR's token endpoint."""
    async with _client(config, config.timeout_seconds, transport) as client:
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
