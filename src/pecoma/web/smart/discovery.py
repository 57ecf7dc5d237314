"""The EHR's ``.well-known/smart-configuration``: fetched from an allowed server, checked.

Only the fields pecoma uses are read: the authorization and token endpoints (absolute
URLs without user information or fragment; HTTPS unless the allow-listed FHIR server
itself is plain HTTP, as on a test bench) and ``code_challenge_methods_supported``
(when present it must offer ``S256``: pecoma always sends a PKCE challenge). Other fields
(capabilities, scopes supported, …) are ignored whatever their values (null, a string, a
number, an object): pecoma does not use them, so an odd value there never stops a launch.

An endpoint may have a query (``application/x-www-form-urlencoded``, RFC 6749 §3.1 and
§3.2: a tenant or a policy, say): it is kept as written, pecoma's own parameters added
after it (the authorization request) or the request posted to it (the token request).
A query that names one of the parameters pecoma sends to that endpoint is refused: one
of the two would be dropped or read first by the EHR, and pecoma's must never be
overridden nor sent twice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from pecoma.fhir.client import (
    AllowList,
    FhirClient,
    FhirFetchError,
    ServerNotAllowed,
    ServerUrl,
    parse_endpoint_url,
)
from pecoma.web.smart.errors import LaunchError

__all__ = ["SmartConfiguration", "discover"]

WELL_KNOWN = ".well-known/smart-configuration"


class SmartConfiguration(BaseModel):
    """The part of the configuration document pecoma relies on; nothing else is read (an
    unused field, whatever its value, is dropped unchecked)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    authorization_endpoint: str
    token_endpoint: str
    code_challenge_methods_supported: tuple[str, ...] | None = None


#: The parameters pecoma sends to each endpoint (the authorization request's query, the
#: token request's form body, with the client's credentials): an endpoint's own query
#: must name none of them.
OWN_PARAMETERS: dict[str, frozenset[str]] = {
    "authorization_endpoint": frozenset({
        "response_type", "client_id", "redirect_uri", "scope", "state", "aud", "launch",
        "code_challenge", "code_challenge_method",
    }),
    "token_endpoint": frozenset({
        "grant_type", "code", "redirect_uri", "code_verifier", "client_id",
        "client_secret",
    }),
}


def _endpoint(name: str, url: str, iss: ServerUrl) -> str:
    try:
        parsed, query = parse_endpoint_url(url)
    except ServerNotAllowed as exc:
        raise LaunchError(502, "The EHR's SMART configuration is not usable",
                          f"Its {name} is not a usable absolute URL: {exc}.") from None
    if parsed.scheme != "https" and iss.scheme == "https":
        raise LaunchError(502, "The EHR's SMART configuration is not usable",
                          f"Its {name} must use HTTPS.")
    names = {key for key, _ in parse_qsl(query, keep_blank_values=True)}
    clash = sorted(names & OWN_PARAMETERS[name])
    if clash:
        raise LaunchError(502, "The EHR's SMART configuration is not usable",
                          f"The query of its {name} names {', '.join(clash)}, which pecoma "
                          f"sends itself ({', '.join(sorted(OWN_PARAMETERS[name]))} may not "
                          "be in that query); ask the EHR's administrator to remove it.")
    # checked, and used as the EHR wrote it (a trailing slash may matter; the query is
    # kept: RFC 6749 §3.1, §3.2)
    return url


def check_configuration(data: Any, iss: ServerUrl) -> SmartConfiguration:
    """The configuration document, checked; :class:`LaunchError` naming what is wrong."""
    try:
        doc = SmartConfiguration.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "(document)"
        said = ("must be a JSON array of strings" if err["type"] == "tuple_type"
                else err["msg"])
        raise LaunchError(502, "The EHR's SMART configuration is not usable",
                          f"'{where}' {said}.") from None
    methods = doc.code_challenge_methods_supported
    if methods is not None and "S256" not in methods:
        raise LaunchError(502, "The EHR's SMART configuration is not usable",
                          "Its authorization server does not offer PKCE with S256 "
                          "(code_challenge_methods_supported), which pecoma requires.")
    return doc.model_copy(update={
        "authorization_endpoint": _endpoint("authorization_endpoint",
                                            doc.authorization_endpoint, iss),
        "token_endpoint": _endpoint("token_endpoint", doc.token_endpoint, iss),
    })


def allowed_server(iss: str, allow: AllowList) -> ServerUrl:
    """The FHIR server of ``iss`` when the allow-list admits it; else :class:`LaunchError`."""
    try:
        return allow.check(iss)
    except ServerNotAllowed as exc:
        raise LaunchError(400, "This EHR may not launch pecoma",
                          f"The FHIR server (iss) was refused: {exc}. Ask the pecoma "
                          "administrator to add it to smart.issuers.") from None


async def discover(server: ServerUrl, *, timeout: float,
                   transport: httpx.AsyncBaseTransport | None = None) -> SmartConfiguration:
    """Read and check the configuration document of an allowed FHIR server."""
    async with FhirClient(server, timeout_seconds=timeout, transport=transport) as client:
        try:
            data = await client.document(WELL_KNOWN, "SMART configuration")
        except FhirFetchError:
            raise LaunchError(502, "The EHR could not be reached",
                              "Its FHIR server gave no usable SMART configuration "
                              "(.well-known/smart-configuration). Try again, or ask the "
                              "EHR's administrator.") from None
    return check_configuration(data, server)
