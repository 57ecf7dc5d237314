"""A FHIR REST client that talks only to allow-listed servers.

Used wherever pecoma reads a record from an EHR's FHIR server on a caller's behalf (the
CDS Hooks ``fhirServer``, the SMART launch ``iss``). The caller names the server; the
allow-list, parsed as URLs, decides whether it may be contacted at all:

* a server URL is ``http(s)://host[:port][/path]``: ASCII only, no user info (``user@``),
  no backslash, no percent escapes, no whitespace or control characters, no query or
  fragment, no empty, ``.`` or ``..`` path segments (a segment's ``;`` parameters left
  aside: ``..;x`` is ``..``), a port of digits within 1–65535; the host is a
  DNS name of letters, digits and hyphens (IDN must be written as its ``xn--`` form), a
  dotted-quad IPv4 address or a bracketed IPv6 address (no numeric shorthand such as
  ``2130706433`` or ``0x7f.1``);
* it is allowed when an allow-list entry has the same scheme, host and port (default
  ports made explicit) and the entry's path is a whole-segment prefix of its path;
* paging ``next`` links (the relation in any case) are followed only when they fall under
  the same allowed server (same origin and path prefix); redirects are never followed;
* a search is read only from Bundles of type ``searchset`` (or ``collection``), to its
  last page, and a read only from the resource asked for: anything else (a 404, an empty
  body, ``{}``, a ``next`` link with no URL or back to a page already read) is a failure,
  never an empty result;
* the access token goes only with requests to that server;
* every failure raises :class:`FhirFetchError` whose message names the query but never the
  network cause (refused, reset, timed out, TLS, HTTP status all read the same), so a
  caller cannot use the service to probe which ports are open; two causes that retrying
  will not change are named, as the allowed server itself said them: a search refused as
  asked (:class:`SearchRefused`: a 4xx answer, 401 and 403 aside, that is an
  OperationOutcome, such as Epic's "Both patient and code or category are required") and
  a search whose pages run past the page limit (:class:`TooManyPages`).

Each search asks for :data:`PAGE_COUNT` entries a page (``_count``); a server may send
fewer. The Observation search (:meth:`FhirClient.search_observations`) refused as asked,
or running past the page limit, is made again by category
(:data:`OBSERVATION_CATEGORIES`); what it then read is said to be only part of the
Observations (:attr:`Found.partial`): those of other categories, or of none, are unknown.

Timeouts are bounded per request and for a whole query (all its pages); a page's body is
bounded in bytes. Nothing here logs URLs (they carry patient ids) or tokens.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from pecoma.fhir import searches
from pecoma.fhir.entries import nested_bundles, walk
from pecoma.fhir.medications import MEDICATION_BY_ID

#: The most Medications read by id for one record (each is a request to the EHR).
MEDICATION_READS_MAX = 20
#: The largest answer taken for one Medication read (a Medication is a few kB).
MEDICATION_BYTES_MAX = 256 * 1024

__all__ = [
    "MEDICATION_BYTES_MAX",
    "MEDICATION_READS_MAX",
    "OBSERVATION_CATEGORIES",
    "PAGE_COUNT",
    "AllowList",
    "FhirClient",
    "FhirFetchError",
    "Found",
    "SearchRefused",
    "ServerNotAllowed",
    "ServerUrl",
    "TooManyPages",
    "parse_endpoint_url",
    "parse_server_url",
]

LOG = logging.getLogger("pecoma.fhir.client")
# httpx and httpcore log every request URL at INFO and DEBUG; FHIR query URLs carry the
# patient's id, which must never reach a log.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$")
_QUERY = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*$")


class ServerNotAllowed(ValueError):
    """A server URL is malformed or not on the allow-list (the message says which rule)."""


class FhirFetchError(Exception):
    """A FHIR query gave no usable answer; the message never tells the network cause."""


#: The answers that refuse a search for how it was asked (bad request, not found,
#: unprocessable): asking otherwise may be answered. Access (401, 403), a rate limit or
#: a timeout (429, 408) and an expired page (410) are not: they fail as any other answer.
_REFUSED_AS_ASKED: Final = frozenset({400, 404, 422})


class SearchRefused(FhirFetchError):
    """The server refused a search as asked: a 4xx answer (401 and 403 aside: those are
    about access) that is an OperationOutcome; ``said`` is its words (the first issue's
    ``details.text`` or ``diagnostics``, cut short), ``status`` the HTTP status. Asking
    again unchanged gets the same answer."""

    def __init__(self, label: str, status: int, said: str) -> None:
        self.status, self.said = status, said
        super().__init__(f"the FHIR server refused the {label} search as pecoma asks it "
                         f"(HTTP {status}{': ' + said if said else ''})")


class TooManyPages(FhirFetchError):
    """A search whose answer runs past the page limit (``pages``): the rest of it was not
    read, so none of it is used. Asking again unchanged stops at the same page."""

    def __init__(self, label: str, pages: int) -> None:
        self.pages = pages
        super().__init__(f"the {label} search has more than {pages} pages (of up to "
                         f"{PAGE_COUNT} entries asked for each): it stopped at the page "
                         "limit, and none of it was used")


#: The entries asked for on each page of a search (``_count``); a server may send fewer.
PAGE_COUNT: Final = 200

#: The Observation categories (HL7 observation-category, the codes US Core and Epic
#: search by) a search is made again by when the server refuses the Observation search
#: by patient alone (Epic: "Both patient and code or category are required"; US Core's
#: required Observation search is patient and category), or when it runs past the page
#: limit: those pecoma's facts are recorded under (pathology, immunohistochemistry,
#: margins and genomic results: ``laboratory``; tumour size, disease status, TNM
#: staging, pecoma's own findings: ``exam``, ``imaging``, ``procedure``, ``survey``;
#: vital status: ``social-history``; treatment findings: ``therapy``). ``vital-signs``
#: and ``activity``, which hold none of them, are left out. An Observation of another
#: category, or of none, is then not read: unknown, never absent.
OBSERVATION_CATEGORIES: Final = ("laboratory", "exam", "imaging", "procedure", "survey",
                                 "social-history", "therapy")


@dataclass(frozen=True, slots=True)
class Found:
    """What a search read: its resources, and, when they are only part of its result
    (made again by category), why and what was and was not read (else ``None``)."""

    resources: list[dict[str, Any]]
    partial: str | None = None
    #: Why the search was made again by category (it was refused as asked, or ran past
    #: the page limit), when it was.
    stopped: FhirFetchError | None = None
    #: The categories whose search was read in full, when made by category.
    categories: tuple[str, ...] = ()


def _outcome_words(data: Any) -> str:
    """The words of an OperationOutcome's first issue that has some (``details.text``,
    else ``diagnostics``), one line of at most 160 characters; ``""`` when none."""
    issues = data.get("issue") if isinstance(data, dict) else None
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict):
            continue
        details = issue.get("details")
        for said in (details.get("text") if isinstance(details, dict) else None,
                     issue.get("diagnostics")):
            if isinstance(said, str) and said.strip():
                return " ".join(said.split())[:160]
    return ""


@dataclass(frozen=True, slots=True)
class ServerUrl:
    """A parsed FHIR server base URL (scheme, host, port and path, all normalised)."""

    scheme: str
    host: str
    port: int
    path: str  # "" or "/a/b" (no trailing slash)

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def base(self) -> str:
        """The URL written back, with the port only when it is not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if _DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    def contains(self, other: ServerUrl) -> bool:
        """Whether ``other`` lies under this URL (same origin, whole-segment path prefix)."""
        if other.origin != self.origin:
            return False
        return other.path == self.path or other.path.startswith(self.path + "/")


def _host(raw: str) -> str:
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise ServerNotAllowed("the host's IPv6 address must be closed by ']'")
        try:
            address = ipaddress.IPv6Address(raw[1:-1])
        except ValueError:
            raise ServerNotAllowed("the host is not a valid IPv6 address") from None
        if address.scope_id:
            raise ServerNotAllowed("the host must not carry an IPv6 zone")
        return str(address)
    host = raw.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise ServerNotAllowed("the URL has no host")
    if _IPV4.match(host):
        return host
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels) or len(host) > 253:
        raise ServerNotAllowed(
            "the host must be a DNS name of letters, digits and hyphens (IDN written as "
            "xn--), a dotted IPv4 address or a bracketed IPv6 address"
        )
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        raise ServerNotAllowed("the host looks like a shortened or hexadecimal IP address")
    return host


def _split(url: str, *, allow_query: bool) -> tuple[ServerUrl, str]:
    if not isinstance(url, str) or not url:
        raise ServerNotAllowed("the URL must be a non-empty string")
    if len(url) > 2048:
        raise ServerNotAllowed("the URL is longer than 2048 characters")
    if not url.isascii():
        raise ServerNotAllowed("the URL must be ASCII (write an IDN host as xn--)")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ServerNotAllowed("the URL must not contain whitespace or control characters")
    if "\\" in url:
        raise ServerNotAllowed("the URL must not contain a backslash")
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise ServerNotAllowed("the URL must start with https:// or http://")
    if "#" in rest:
        raise ServerNotAllowed("the URL must not have a fragment")
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0),
                        default=len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        raise ServerNotAllowed("the URL must not carry user information ('user@host')")
    if "%" in authority:
        raise ServerNotAllowed("the host must not contain percent escapes")
    if authority.startswith("["):
        close = authority.find("]")
        host_raw, port_raw = authority[: close + 1], authority[close + 1:]
        if port_raw and not port_raw.startswith(":"):
            raise ServerNotAllowed("the port must follow the host as ':digits'")
        port_raw = port_raw[1:] if port_raw else ""
        has_port = close + 1 < len(authority)
    else:
        host_raw, has_colon, port_raw = authority.partition(":")
        has_port = bool(has_colon)
    if has_port:
        if (not port_raw.isdigit() or port_raw.startswith("0") or len(port_raw) > 5
                or not 1 <= int(port_raw) <= 65535):
            raise ServerNotAllowed("the port must be a number from 1 to 65535 (no leading "
                                   "zero)")
        port = int(port_raw)
    else:
        port = _DEFAULT_PORTS[scheme]
    path, qmark, query = tail.partition("?")
    if qmark and not allow_query:
        raise ServerNotAllowed("a server URL must not have a query")
    if qmark and not _QUERY.match(query):
        raise ServerNotAllowed("the query has characters that must be escaped")
    segments = path.split("/")[1:] if path else []
    if path.endswith("/"):
        segments = segments[:-1]
    for segment in segments:
        # A segment's ';' parameters are dropped by some servers (servlet containers)
        # before '.' and '..' are resolved: '..;x' is '..' to them.
        name = segment.partition(";")[0]
        if name in (".", "..") or not name:
            raise ServerNotAllowed("the path must not have empty, '.' or '..' segments "
                                   "(with or without ';' parameters)")
        if not _PATH_SEGMENT.match(segment):
            raise ServerNotAllowed("the path must not contain percent escapes or characters "
                                   "a URL must escape (space, '%', '[', ']', non-ASCII)")
    norm = "".join("/" + s for s in segments)
    return ServerUrl(scheme, _host(host_raw), port, norm), query if qmark else ""


def parse_server_url(url: str) -> ServerUrl:
    """A FHIR server base URL, checked and normalised; :class:`ServerNotAllowed` if bad."""
    return _split(url, allow_query=False)[0]


def parse_endpoint_url(url: str) -> tuple[ServerUrl, str]:
    """An OAuth 2.0 endpoint URL, checked as a server URL is (scheme, host, port, path, no
    user information, no fragment) except that it may have a query (RFC 6749 §3.1, §3.2):
    the parsed URL and the query as written (``""`` when there is none);
    :class:`ServerNotAllowed` if bad."""
    return _split(url, allow_query=True)


@dataclass(frozen=True, slots=True)
class AllowList:
    """The FHIR servers pecoma may contact, as parsed URLs."""

    servers: tuple[ServerUrl, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """From configured URL strings; :class:`ServerNotAllowed` names the bad entry."""
        out = []
        for i, entry in enumerate(entries):
            try:
                out.append(parse_server_url(entry))
            except ServerNotAllowed as exc:
                raise ServerNotAllowed(f"allow-list entry {i + 1}: {exc}") from None
        return cls(tuple(out))

    def check(self, url: str) -> ServerUrl:
        """The parsed server when ``url`` is allowed; else :class:`ServerNotAllowed`."""
        server = parse_server_url(url)
        if not any(allowed.contains(server) for allowed in self.servers):
            raise ServerNotAllowed("the FHIR server is not on this service's allow-list")
        return server


def _searched(query: str) -> tuple[str, tuple[str, ...]]:
    """The resource type a query asks for (``Condition?...``, ``Medication/id``), and the
    types it ``_include``s (a medication search's Medications)."""
    kind = query.lstrip("/").split("?")[0].split("/")[0]
    return kind, ("Medication",) if "_include=" in query else ()


def _resources(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a Bundle page (OperationOutcome entries left out), those of a
    Bundle an entry holds among them, as the FHIR reader reads them
    (:func:`pecoma.fhir.entries.walk`)."""
    out = []
    for held in walk(page):
        res = held.resource
        if isinstance(res, dict) and isinstance(res.get("resourceType"), str) and (
            res["resourceType"] not in ("OperationOutcome", "Bundle")
        ):
            out.append(res)
    return out


class FhirClient:
    """Reads FHIR queries from one allowed server, with that server's access token.

    Build it with :meth:`for_server` (which applies the allow-list); use it as an async
    context manager. ``transport`` lets tests stand in a mock server.
    """

    def __init__(
        self,
        server: ServerUrl,
        *,
        token: str | None = None,
        timeout_seconds: float = 10.0,
        max_pages: int = 10,
        max_page_bytes: int = 8 * 1024 * 1024,
        transport: httpx.AsyncBaseTransport | None = None,
        deadline: float | None = None,
    ) -> None:
        if not 0 < timeout_seconds <= 120:
            raise ValueError("timeout_seconds must be within (0, 120]")
        self.server = server
        self._token = token
        self.timeout = timeout_seconds
        self.deadline = deadline  # time.monotonic() by which every query must have ended
        self.max_pages = max_pages
        self.max_page_bytes = max_page_bytes
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, 5.0)),
            transport=transport, follow_redirects=False, trust_env=False,
        )

    @classmethod
    def for_server(
        cls, url: str, allow: AllowList, *, token: str | None = None, **kwargs: Any
    ) -> FhirClient:
        """A client for ``url`` when the allow-list admits it (else ServerNotAllowed)."""
        return cls(allow.check(url), token=token, **kwargs)

    async def __aenter__(self) -> FhirClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _url(self, query: str) -> str:
        """The absolute URL of a relative query (``Patient/1``, ``Condition?patient=1``)."""
        query = query.lstrip("/")
        url = f"{self.server.base}/{query}"
        if not self._within(url):
            raise FhirFetchError("the query leaves the FHIR server's base")
        return url

    def _within(self, url: str) -> bool:
        try:
            target, _ = _split(url, allow_query=True)
        except ServerNotAllowed:
            return False
        return self.server.contains(target)

    async def _page(self, url: str, label: str, max_bytes: int | None = None) -> Any:
        if not self._within(url):  # the token never leaves the allowed server
            raise FhirFetchError(f"the {label} query pointed outside the FHIR server")
        headers = {"Accept": "application/fhir+json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            async with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > (max_bytes or self.max_page_bytes):
                        raise FhirFetchError(f"the answer to the {label} query is too large")
                    chunks.append(chunk)
        except httpx.HTTPError:
            raise FhirFetchError(f"the FHIR server gave no usable answer to the {label} "
                                 "query") from None
        if status >= 300:  # a 404 too: a Patient not found is not read, nor a search
            LOG.info("fhir query refused", extra={"query": label, "status": status})
            if status in _REFUSED_AS_ASKED and "?" in url:
                try:
                    data = json.loads(b"".join(chunks)) if chunks else None
                except (ValueError, RecursionError):
                    data = None
                if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
                    raise SearchRefused(label, status, _outcome_words(data))
            raise FhirFetchError(f"the FHIR server gave no usable answer to the {label} query")
        try:
            data = json.loads(b"".join(chunks)) if chunks else None
        except (ValueError, RecursionError):
            raise FhirFetchError(f"the FHIR server's answer to the {label} query is not "
                                 "valid JSON") from None
        return data

    async def _search(self, query: str, label: str) -> list[dict[str, Any]]:
        url: str | None = self._url(query)
        kind, included = _searched(query)
        resources: list[dict[str, Any]] = []
        seen: set[str] = set()
        total: Any = None  # the matches the server says it found, and those returned
        held = 0
        for _ in range(self.max_pages):
            assert url is not None
            seen.add(url)
            page = await self._page(url, label)
            if isinstance(page, dict) and page.get("resourceType") == "OperationOutcome":
                raise FhirFetchError(f"the FHIR server answered the {label} query with an "
                                     "OperationOutcome")
            if "?" not in query:  # a read by id: the resource asked for, nothing else
                if not isinstance(page, dict) or page.get("resourceType") != kind:
                    raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                         f"is not the {kind} asked for")
                return [page]
            if not isinstance(page, dict) or page.get("resourceType") != "Bundle" or (
                    page.get("type") not in searches.RESULT_TYPES):
                # nothing (204, null, {}), one resource, a Bundle of no or another type:
                # whether it is the whole result cannot be told
                raise FhirFetchError(f"the FHIR server's answer to the {label} query is "
                                     "not a search result (a Bundle of type searchset)")
            failed = searches.outcome_issues(page)
            if failed:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                     "failed or left entries out (OperationOutcome: "
                                     f"{'; '.join(failed[0][1][:3])})")
            said = (searches.caveat(page) if kind in searches.CAVEAT_TYPES
                    else searches.medication_caveat(page)
                    if kind in searches.MEDICATION_TYPES else None)
            if said is not None:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query is "
                                     f"not known to be whole: {said}")
            unread = searches.unreadable_outcomes(page)
            if unread:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                     "cannot be read in full: an OperationOutcome in it "
                                     f"cannot be read ({unread[0][1]}), so whether the "
                                     "search failed cannot be told")
            links = searches.unreadable_links(page)
            if links is not None:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                     f"cannot be read in full: {links}")
            label_said = searches.withheld_label(page)
            if label_said is not None:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                     f"cannot be read in full: the Bundle is {label_said}")
            unusable = searches.unusable_entry(page)
            if unusable is not None:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                     f"cannot be read in full: {unusable}")
            malformed = searches.bad_total(page)
            if malformed is not None:
                raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                     f"cannot be read in full: {malformed}")
            for at, nested in nested_bundles(page):
                # a Bundle an entry holds is read as the page's: whole, or not at all
                why = searches.incomplete(nested, (kind,))
                if why is not None:
                    raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                         f"cannot be read in full: the Bundle held in "
                                         f"{at} is not the whole result: {why}")
            total = page.get("total") if total is None else total
            held += searches.matches(page, (kind,))
            resources += _resources(page)
            url = self._next_url(page, label, seen)
            if url is None:
                if isinstance(total, int) and not isinstance(total, bool) and total > held:
                    raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                         f"found {total} but returned {held}: entries were "
                                         "left out")
                other = searches.foreign(resources, kind, included)
                if other is not None:
                    raise FhirFetchError(f"the FHIR server's answer to the {label} query "
                                         f"is not its result: {other}")
                return resources
        raise TooManyPages(label, self.max_pages)

    def _next_url(self, page: dict[str, Any], label: str, seen: set[str]) -> str | None:
        """The URL of the page after ``page``, or ``None`` when it is the last one. A
        ``next`` link (its relation in any case: :func:`searches.next_urls`) that cannot
        be followed, having no URL, naming several, leading off the server or back to a
        page already read, is :class:`FhirFetchError`: the rest of the result is unknown."""
        urls = searches.next_urls(page)
        if not urls:
            return None
        url = urls[0]
        if not isinstance(url, str) or not url or any(other != url for other in urls):
            raise FhirFetchError(f"the FHIR server's answer to the {label} query was not "
                                 "read in full: its next page has no single URL")
        if not self._within(url):
            raise FhirFetchError(f"the {label} query's next page is on another server; "
                                 "it was not followed")
        if url in seen:
            raise FhirFetchError(f"the FHIR server's answer to the {label} query was not "
                                 "read in full: its next page is one already read")
        return url

    def _time_left(self, label: str) -> float:
        """How long one query may take: twice the request timeout, and no later than the
        deadline (:class:`FhirFetchError` when it has passed)."""
        limit = self.timeout * 2
        if self.deadline is not None:
            limit = min(limit, self.deadline - time.monotonic())
            if limit <= 0:
                raise FhirFetchError(f"no time was left for the {label} query")
        return limit

    async def search(self, query: str, label: str = "FHIR") -> list[dict[str, Any]]:
        """Every resource the query returns, over its pages (bounded in time and pages).

        A search (``Type?...``) must be answered by Bundles of type ``searchset`` (or
        ``collection``), each page's ``next`` link followed until the last; a read
        (``Type/id``) by the resource asked for. Anything else (an HTTP error, a 404
        included, an empty body, ``null``, ``{}``, an OperationOutcome, a page that says
        it left entries out or says so in a form that cannot be read
        (:func:`searches.unreadable_outcomes`, :func:`searches.unreadable_links`), an
        allergy search's page saying it may not hold the entire record
        (:func:`searches.caveat`: Epic's 4119), a ``next`` link that cannot be followed)
        is no usable answer:
        :class:`FhirFetchError`, never an empty list.
        """
        limit = self._time_left(label)
        try:
            return await asyncio.wait_for(self._search(query, label), timeout=limit)
        except TimeoutError:
            raise FhirFetchError(f"the FHIR server gave no usable answer to the {label} "
                                 "query") from None

    async def search_all(self, queries: Sequence[tuple[str, str]]) -> list[
        list[dict[str, Any]] | FhirFetchError
    ]:
        """Several ``(label, query)`` searches at once; a failed one is its error."""
        async def one(label: str, query: str) -> list[dict[str, Any]] | FhirFetchError:
            try:
                return await self.search(query, label)
            except FhirFetchError as exc:
                return exc
        return list(await asyncio.gather(*(one(lbl, q) for lbl, q in queries)))

    async def search_observations(self, query: str, label: str = "Observation") -> Found:
        """The Observation search ``query`` (``Observation?patient=...``), read in full;
        when the server refuses it as asked (:class:`SearchRefused`) or it runs past the
        page limit (:class:`TooManyPages`), made again once per category of
        :data:`OBSERVATION_CATEGORIES` (``&category=laboratory``, ...), each read in full.
        What those read is then :attr:`Found.partial`: the categories read, those that
        failed, and that Observations of other categories or of none were not read. When
        no category search gives an answer, or the first failure is another one,
        :class:`FhirFetchError`."""
        try:
            return Found(await self.search(query, label))
        except (SearchRefused, TooManyPages) as exc:
            first = exc
        results = await self.search_all(
            [(f"{label} ({cat})", f"{query}&category={cat}") for cat in OBSERVATION_CATEGORIES])
        read = [cat for cat, got in zip(OBSERVATION_CATEGORIES, results, strict=True)
                if not isinstance(got, FhirFetchError)]
        failed = [str(got) for got in results if isinstance(got, FhirFetchError)]
        if not read:
            raise FhirFetchError(f"{first}; made again by category "
                                 f"({', '.join(OBSERVATION_CATEGORIES)}), no search gave a "
                                 f"usable answer ({failed[0]})") from first
        resources = [res for got in results if not isinstance(got, FhirFetchError)
                     for res in got]
        why = (f"{first}; searched again by category, only {', '.join(read)} were read"
               + (f" ({'; '.join(failed[:3])})" if failed else "")
               + ": Observations of any other category, or of none, were not read, so what "
               "they would give is unknown, not absent")
        return Found(resources, why, first, tuple(read))

    async def read_medications(self, references: Sequence[str]) -> list[dict[str, Any]]:
        """The Medication resources behind ``references`` (``Medication/id``, or an
        absolute URL under this server; as
        :func:`~pecoma.fhir.medications.unheld_medications` lists them), read one by one.
        Each is one GET (no paging) of at most :data:`MEDICATION_BYTES_MAX`, kept only if
        it is the Medication asked for. An absolute reference elsewhere is never asked
        for, nor more than :data:`MEDICATION_READS_MAX` Medications. One not read is left
        out: the line naming it stays unidentified, and the reader says so."""
        base = self.server.base + "/"
        queries = [query for query in (ref.removeprefix(base) for ref in references)
                   if MEDICATION_BY_ID.fullmatch(query)]  # a read by id, nothing else
        queries = queries[:MEDICATION_READS_MAX]

        async def read(number: int, query: str) -> dict[str, Any] | None:
            try:  # one GET, no paging, a Medication's size at most
                data = await self.document(query, f"medication {number}",
                                           max_bytes=MEDICATION_BYTES_MAX)
            except FhirFetchError:
                return None
            if isinstance(data, dict) and data.get("resourceType") == "Medication" and (
                    f"Medication/{data.get('id')}" == query):
                return data
            return None

        found = await asyncio.gather(*(read(i + 1, q) for i, q in enumerate(queries)))
        return [res for res in found if res is not None]

    async def document(self, path: str, label: str, *, max_bytes: int | None = None) -> Any:
        """The JSON of one GET under the server, as sent (no paging, no resource check).

        For documents that are not FHIR resources, such as
        ``.well-known/smart-configuration``. Raises :class:`FhirFetchError` when the
        answer is not a 2xx JSON document.
        """
        limit = self._time_left(label)
        try:
            data = await asyncio.wait_for(
                self._page(self._url(path), label, max_bytes), timeout=limit)
        except TimeoutError:
            raise FhirFetchError(f"the FHIR server gave no usable answer to the {label} "
                                 "query") from None
        if data is None:
            raise FhirFetchError(f"the FHIR server gave no usable answer to the {label} query")
        return data
