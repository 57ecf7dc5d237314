"""The allow-listed FHIR client: which servers it contacts, where its token goes, paging."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pecoma.fhir.client import (
    AllowList,
    FhirClient,
    FhirFetchError,
    ServerNotAllowed,
    parse_server_url,
)

ALLOW = AllowList.parse(["https://ehr.example.org/fhir", "http://127.0.0.1:8080/r4"])


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.example.org/fhir",
        "https://ehr.example.org/fhir/",
        "https://EHR.example.org:443/fhir",
        "https://ehr.example.org/fhir/tenant-1",
        "http://127.0.0.1:8080/r4",
    ],
)
def test_allowed_servers(url: str) -> None:
    assert ALLOW.check(url).host in ("ehr.example.org", "127.0.0.1")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        # user@host: the real host is evil.example
        ("https://ehr.example.org@evil.example/fhir", "user information"),
        ("https://ehr.example.org:443@evil.example/fhir", "user information"),
        ("https://user:pw@ehr.example.org/fhir", "user information"),
        # backslash: some parsers read it as a path separator
        ("https://evil.example\\@ehr.example.org/fhir", "backslash"),
        ("https://ehr.example.org\\.evil.example/fhir", "backslash"),
        # another scheme, port or host
        ("http://ehr.example.org/fhir", "allow-list"),
        ("https://ehr.example.org:8443/fhir", "allow-list"),
        ("https://ehr.example.org:0443/fhir", "leading"),
        ("https://ehr.example.org:99999/fhir", "port"),
        ("https://ehr.example.org:+443/fhir", "port"),
        ("https://ehr.example.org:/fhir", "port"),
        ("https://ehr.example.org.evil.example/fhir", "allow-list"),
        ("https://evil-ehr.example.org/fhir", "allow-list"),
        # path prefix must be whole segments, no dot tricks
        ("https://ehr.example.org/fhirx", "allow-list"),
        ("https://ehr.example.org/other", "allow-list"),
        ("https://ehr.example.org/fhir/../admin", "'..'"),
        ("https://ehr.example.org/fhir/%2e%2e/admin", "percent"),
        ("https://ehr.example.org/fhir%2fx", "percent"),
        # IDN and percent tricks on the host
        ("https://ehr.exаmple.org/fhir", "ASCII"),  # Cyrillic 'а'
        ("https://ehr%2eexample.org/fhir", "percent"),
        ("https://ehr.example.org%00/fhir", "percent"),
        # numeric IP shorthands, zones
        ("https://ehr.example.org:²/fhir", "ASCII"),  # a digit to str.isdigit(), not to int()
        ("https://ehr.example.org:٤٤٣/fhir", "ASCII"),  # Arabic-Indic 443
        ("http://2130706433:8080/r4", "IP address"),
        ("http://0x7f.1:8080/r4", "IP address"),
        ("http://[fe80::1%25eth0]:8080/r4", "percent"),
        # whitespace, query, fragment, other schemes
        ("https://ehr.example.org/fhir ", "whitespace"),
        ("https://ehr.example.org/fhir?x=1", "query"),
        ("https://ehr.example.org/fhir#x", "fragment"),
        ("file:///etc/passwd", "https://"),
        ("ftp://ehr.example.org/fhir", "https://"),
        ("//ehr.example.org/fhir", "https://"),
        ("", "non-empty"),
    ],
)
def test_refused_servers(url: str, why: str) -> None:
    with pytest.raises(ServerNotAllowed, match=why):
        ALLOW.check(url)


def test_empty_allow_list_allows_nothing() -> None:
    with pytest.raises(ServerNotAllowed, match="allow-list"):
        AllowList().check("https://ehr.example.org/fhir")


def test_bad_allow_list_entry_is_named() -> None:
    with pytest.raises(ServerNotAllowed, match=r"entry 2: .*user information"):
        AllowList.parse(["https://ok.example/fhir", "https://a@b.example/fhir"])


@given(st.text(max_size=80))
def test_parser_never_crashes(text: str) -> None:
    try:
        server = parse_server_url("https://" + text)
    except ServerNotAllowed:
        return
    # whatever is accepted is written back in a form that parses to the same server
    assert parse_server_url(server.base) == server


def _bundle(resources: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset",
                            "entry": [{"resource": r} for r in resources]}
    if next_url:
        page["link"] = [{"relation": "next", "url": next_url}]
    return page


def _run(handler: Any, query: str = "Condition?patient=p1", token: str | None = "tok",
         label: str = "conditions", **kwargs: Any) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with FhirClient.for_server(
            "https://ehr.example.org/fhir", ALLOW, token=token,
            transport=httpx.MockTransport(handler), **kwargs,
        ) as client:
            return await client.search(query, label)
    # In a thread of its own: once a browser test of this process has started Playwright's
    # synchronous API, this thread has an event loop running, and asyncio.run refuses.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


def test_paging_on_the_same_server_with_the_token() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        if "page=2" in str(request.url):
            return httpx.Response(200, json=_bundle([{"resourceType": "Condition", "id": "b"}]))
        return httpx.Response(200, json=_bundle(
            [{"resourceType": "Condition", "id": "a"}],
            "https://ehr.example.org/fhir/Condition?patient=p1&page=2"))

    out = _run(handler)
    assert [r["id"] for r in out] == ["a", "b"]
    assert [auth for _, auth in seen] == ["Bearer tok", "Bearer tok"]
    assert seen[0][0] == "https://ehr.example.org/fhir/Condition?patient=p1"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/fhir/Condition?page=2",
        "https://ehr.example.org@evil.example/fhir/Condition?page=2",
        "https://ehr.example.org:8443/fhir/Condition?page=2",
        "http://ehr.example.org/fhir/Condition?page=2",
        "https://ehr.example.org/other/Condition?page=2",
        "https://ehr.example.org/fhir/../other/Condition",
    ],
)
def test_next_link_elsewhere_is_not_followed_and_gets_no_token(next_url: str) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(str(request.url))
        return httpx.Response(200, json=_bundle([{"resourceType": "Condition", "id": "a"}],
                                                next_url))

    with pytest.raises(FhirFetchError, match=r"not followed|outside"):
        _run(handler)
    assert hosts == ["https://ehr.example.org/fhir/Condition?patient=p1"]


def test_redirects_are_not_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})

    with pytest.raises(FhirFetchError):
        _run(handler)
    assert calls == ["https://ehr.example.org/fhir/Condition?patient=p1"]


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("Connection refused"), httpx.ConnectTimeout("timed out"),
     httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("reset")],
)
def test_network_failures_read_the_same(failure: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(FhirFetchError) as info:
        _run(handler)
    message = str(info.value)
    assert message == "the FHIR server gave no usable answer to the conditions query"


@pytest.mark.parametrize("status", [301, 401, 403, 500, 502, 503])
def test_http_errors_read_like_network_failures(status: int) -> None:
    with pytest.raises(FhirFetchError) as info:
        _run(lambda request: httpx.Response(status, text="secret internals"))
    assert str(info.value) == "the FHIR server gave no usable answer to the conditions query"


def test_operation_outcome_answer_is_an_error_not_an_empty_list() -> None:
    outcome = {"resourceType": "OperationOutcome",
               "issue": [{"severity": "error", "code": "forbidden"}]}
    with pytest.raises(FhirFetchError, match="OperationOutcome"):
        _run(lambda request: httpx.Response(200, json=outcome))


@pytest.mark.parametrize(("page", "said"), [
    # an outcome entry saying entries were suppressed (a warning): not the whole result
    ({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Condition", "id": "a"}, "search": {"mode": "match"}},
        {"resource": {"resourceType": "OperationOutcome",
                      "issue": [{"severity": "warning", "code": "suppressed"}]},
         "search": {"mode": "outcome"}}]}, "left entries out"),
    # 3 found, 1 returned, no next page
    ({"resourceType": "Bundle", "type": "searchset", "total": 3, "entry": [
        {"resource": {"resourceType": "Condition", "id": "a"}, "search": {"mode": "match"}}]},
     "found 3 but returned 1"),
])
def test_a_search_the_server_says_is_incomplete_is_an_error(page: dict[str, Any],
                                                            said: str) -> None:
    """A fetched search that says it left entries out is no complete answer: an error
    (the part stays unknown), not the entries it happens to hold."""
    with pytest.raises(FhirFetchError, match=said):
        _run(lambda request: httpx.Response(200, json=page))


@pytest.mark.parametrize(("page", "said"), [
    # a match whose resource the server left out (masked), or not a resource at all
    ({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"fullUrl": "https://ehr.example.org/fhir/Condition/a", "search": {"mode": "match"}}]},
     "holds no FHIR resource"),
    ({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"id": "a"}}]},
     "holds no FHIR resource"),
    ({"resourceType": "Bundle", "type": "searchset", "entry": {"resource": {
        "resourceType": "Condition", "id": "a"}}}, "not a list of entries"),
    # the answer to another query: Observations, or a Patient, for a Condition search
    ({"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "id": "o"}}]},
     "holds no Condition but Observation"),
    # one resource for a search: whether it is the whole result cannot be told
    ({"resourceType": "Patient", "id": "p1"}, "not a search result"),
])
def test_an_answer_that_cannot_be_the_whole_result_is_an_error(page: dict[str, Any],
                                                              said: str) -> None:
    """A page whose entry holds no resource had been read without it, and a page
    answering another query as the search's result ('no condition recorded'): each is
    no usable answer, the part stays unknown."""
    with pytest.raises(FhirFetchError, match=said):
        _run(lambda request: httpx.Response(200, json=page))


@pytest.mark.parametrize(("page", "said"), [
    # a total that is no count: how many were found is unknown
    ({"resourceType": "Bundle", "type": "searchset", "total": "3", "entry": [
        {"resource": {"resourceType": "Condition", "id": "a"}}]},
     "'total' is not a count of matches"),
    # 2 found; the second entry, with no mode, is no Condition (an included resource)
    ({"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": [
        {"resource": {"resourceType": "Condition", "id": "a"}},
        {"resource": {"resourceType": "Patient", "id": "p1"}}]},
     "found 2 but returned 1"),
])
def test_a_total_the_answer_does_not_hold_is_an_error(page: dict[str, Any],
                                                      said: str) -> None:
    """A total that is no count ("3") was ignored, and an entry with no search mode was
    counted as a match whatever its type: both answers were taken as the whole result.
    Only the type searched for counts without a mode; a total that is no count is no
    usable answer."""
    with pytest.raises(FhirFetchError, match=said):
        _run(lambda request: httpx.Response(200, json=page))


def test_a_total_over_several_pages_is_the_whole_result() -> None:
    """total counts the matches of every page: 2 over two pages is complete."""
    def handler(request: httpx.Request) -> httpx.Response:
        if "page=2" in str(request.url):
            return httpx.Response(200, json=_bundle([{"resourceType": "Condition", "id": "b"}]))
        first = _bundle([{"resourceType": "Condition", "id": "a"}],
                        "https://ehr.example.org/fhir/Condition?patient=p1&page=2")
        return httpx.Response(200, json={**first, "total": 2})

    assert [r["id"] for r in _run(handler)] == ["a", "b"]


def test_bad_json_and_oversized_pages() -> None:
    with pytest.raises(FhirFetchError, match="not valid JSON"):
        _run(lambda request: httpx.Response(200, text="{" * 5000))
    with pytest.raises(FhirFetchError, match="too large"):
        _run(lambda request: httpx.Response(200, text="x" * 5000), max_page_bytes=1000)


def test_endless_paging_is_bounded() -> None:
    count = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal count
        count += 1
        return httpx.Response(200, json=_bundle(
            [], f"https://ehr.example.org/fhir/Condition?page={count + 1}"))

    with pytest.raises(FhirFetchError, match="more than 3 pages"):
        _run(handler, max_pages=3)
    assert count == 3


def test_query_cannot_leave_the_base() -> None:
    with pytest.raises(FhirFetchError):
        _run(lambda request: httpx.Response(200, json=_bundle([])), query="../admin/x")


@pytest.mark.parametrize("answer", [
    httpx.Response(404, json={"resourceType": "OperationOutcome",
                              "issue": [{"severity": "error", "code": "not-found"}]}),
    httpx.Response(404),
    httpx.Response(200),
    httpx.Response(200, json={}),
    httpx.Response(200, json={"resourceType": "Bundle", "type": "searchset"}),
], ids=["404-outcome", "404", "empty-body", "empty-object", "bundle"])
def test_a_read_not_answered_by_its_resource_is_not_read(answer: httpx.Response) -> None:
    """A 404 to ``Patient/{id}`` (the token may not see the patient, or the id is wrong)
    was read as "read, no Patient": the CDS record then lost its patient part silently,
    and with it the check that the patient died. A read gives the resource asked for or
    fails; so do an empty answer and a Bundle, which are no resource either."""
    with pytest.raises(FhirFetchError, match="patient query"):
        _run(lambda request: answer, query="Patient/p1", label="patient")


def test_a_read_answered_by_its_resource_is_read() -> None:
    """Control: the Patient asked for is the answer."""
    patient = {"resourceType": "Patient", "id": "p1"}
    assert _run(lambda request: httpx.Response(200, json=patient), query="Patient/p1") == [
        patient]


def test_search_the_server_does_not_answer_is_not_empty() -> None:
    """404 to a search (e.g. a resource type the server lacks): unknown, not 'none'."""
    with pytest.raises(FhirFetchError, match="no usable answer"):
        _run(lambda request: httpx.Response(404), query="MedicationAdministration?patient=1")


def test_no_token_no_authorization_header() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        return httpx.Response(200, json=_bundle([]))

    _run(handler, token=None)
    assert seen == [None]


def test_a_medication_read_is_one_small_get_of_the_medication_asked_for() -> None:
    """Each Medication is read by one GET (no paging), at most MEDICATION_BYTES_MAX, and
    kept only if it is the Medication asked for; references that are no read by id, or
    name another server, are never asked."""
    from pecoma.fhir.client import MEDICATION_BYTES_MAX

    seen: list[str] = []
    medication = {"resourceType": "Medication", "code": {"text": "sirolimus"}}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        rid = request.url.path.rsplit("/", 1)[1]
        if rid == "ok":
            return httpx.Response(200, json={**medication, "id": "ok"})
        if rid == "paged":  # a Bundle with a next link: not a read's answer
            return httpx.Response(200, json=_bundle(
                [{**medication, "id": "paged"}], "https://ehr.example.org/fhir/x?page=2"))
        if rid == "other":
            return httpx.Response(200, json={**medication, "id": "someone-else"})
        if rid == "huge":
            return httpx.Response(200, json={**medication, "id": "huge",
                                             "text": {"div": "x" * MEDICATION_BYTES_MAX}})
        return httpx.Response(404)

    async def go() -> list[dict[str, Any]]:
        async with FhirClient.for_server("https://ehr.example.org/fhir", ALLOW, token="t",
                                         transport=httpx.MockTransport(handler)) as client:
            return await client.read_medications([
                "Medication/ok", "Medication/paged", "Medication/other", "Medication/huge",
                "https://ehr.example.org/fhir/Medication/ok",
                "https://elsewhere.example/fhir/Medication/x",
                "Medication/ok?_include=x", "Patient/p1/Medication/y"])

    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(asyncio.run, go()).result()
    assert [m["id"] for m in found] == ["ok", "ok"]
    assert sorted(seen) == sorted(["/fhir/Medication/ok", "/fhir/Medication/paged",
                                   "/fhir/Medication/other", "/fhir/Medication/huge",
                                   "/fhir/Medication/ok"])


PAGE_2 = "https://ehr.example.org/fhir/Condition?patient=p1&page=2"


def _two_pages(links: list[dict[str, Any]], first: dict[str, Any] | None = None) -> Any:
    """A handler whose first page holds Condition a and ``links``; page 2 holds b."""
    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == PAGE_2:
            return httpx.Response(200, json=_bundle([{"resourceType": "Condition", "id": "b"}]))
        page = _bundle([{"resourceType": "Condition", "id": "a"}])
        return httpx.Response(200, json={**page, **(first or {}), "link": links})
    return handler


@pytest.mark.parametrize("relation", ["Next", "NEXT", " next "])
def test_a_next_link_in_any_case_is_followed(relation: str) -> None:
    """Link relations are case-insensitive (RFC 8288), and the prefetch check reads them
    so; the client followed only "next": a page linking "Next" was taken as the last,
    and what the later pages held (an allergy to sirolimus) was lost unsaid."""
    out = _run(_two_pages([{"relation": relation, "url": PAGE_2}]))
    assert [r["id"] for r in out] == ["a", "b"]


def test_a_next_link_in_lower_case_is_followed() -> None:
    """Control: the usual spelling."""
    assert [r["id"] for r in _run(_two_pages([{"relation": "next", "url": PAGE_2}]))] == [
        "a", "b"]


@pytest.mark.parametrize("answer", [
    httpx.Response(204),
    httpx.Response(200),
    httpx.Response(200, json=None),
    httpx.Response(200, json={}),
    httpx.Response(200, json=[]),
    httpx.Response(200, json="none"),
    httpx.Response(200, json={"resourceType": "Condition", "id": "a"}),
    httpx.Response(200, json={"resourceType": "Bundle", "entry": []}),
    httpx.Response(200, json={"resourceType": "Bundle", "type": "transaction-response",
                              "entry": []}),
], ids=["204", "empty-body", "null", "empty-object", "list", "string", "one-resource",
        "bundle-without-type", "bundle-of-another-type"])
def test_an_answer_that_is_no_search_result_is_an_error(answer: httpx.Response) -> None:
    """A search answered with nothing (204, an empty body, null, {}), one bare resource
    or a Bundle that is no search result was read as its entries: no allergy recorded.
    A search answers a searchset Bundle (FHIR R4 http.html#search); anything else is no
    usable answer, the part unknown, as it is for the same prefetch value."""
    with pytest.raises(FhirFetchError, match="not a search result"):
        _run(lambda request: answer)


@pytest.mark.parametrize("kind", ["searchset", "collection"])
def test_a_search_result_bundle_is_read(kind: str) -> None:
    """Control: a searchset, or a collection of the results, is read."""
    page = {**_bundle([{"resourceType": "Condition", "id": "a"}]), "type": kind}
    assert [r["id"] for r in _run(lambda request: httpx.Response(200, json=page))] == ["a"]


@pytest.mark.parametrize(("links", "first"), [
    # back to the page itself, the server having said it found 2
    ([{"relation": "next", "url": "https://ehr.example.org/fhir/Condition?patient=p1"}],
     {"total": 2}),
    # the same, no total
    ([{"relation": "next", "url": "https://ehr.example.org/fhir/Condition?patient=p1"}],
     {}),
    # a next link with no url (href is no FHIR element), a null, empty or numeric one
    ([{"relation": "next", "href": PAGE_2}], {}),
    ([{"relation": "next", "url": None}], {"total": 2}),
    ([{"relation": "next", "url": ""}], {}),
    ([{"relation": "next", "url": 2}], {}),
    # two next links naming two pages: which one holds the rest cannot be told
    ([{"relation": "next", "url": PAGE_2},
      {"relation": "next", "url": PAGE_2 + "&x=1"}], {}),
], ids=["loop-with-total", "loop", "href", "null-url", "empty-url", "number-url",
        "two-urls"])
def test_a_next_link_that_cannot_be_followed_is_an_error(links: list[dict[str, Any]],
                                                         first: dict[str, Any]) -> None:
    """A next link back to a page already read, or one with no usable URL, ended the
    search as complete: the total check was skipped and the rest of the result (an
    allergy on the page not read) was lost unsaid. The result was not read in full: no
    usable answer, the part unknown."""
    with pytest.raises(FhirFetchError, match="not read in full"):
        _run(_two_pages(links, first))


def test_a_loop_back_from_a_later_page_is_an_error() -> None:
    """Page 2 links back to page 1: not read in full, however many pages are allowed."""
    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == PAGE_2:
            return httpx.Response(200, json=_bundle(
                [{"resourceType": "Condition", "id": "b"}],
                "https://ehr.example.org/fhir/Condition?patient=p1"))
        return httpx.Response(200, json=_bundle([{"resourceType": "Condition", "id": "a"}],
                                                PAGE_2))

    with pytest.raises(FhirFetchError, match="not read in full"):
        _run(handler)


@pytest.mark.parametrize("url", [
    "https://ehr.example.org/fhir/..;/admin",
    "https://ehr.example.org/fhir/..;x=1/admin",
    "https://ehr.example.org/fhir/tenant/.;/..;/..;/other",
    "https://ehr.example.org/fhir/.;/Condition",
    "https://ehr.example.org/fhir/;x/Condition",
])
def test_dot_segments_with_parameters_are_refused(url: str) -> None:
    """Servlet containers drop a segment's ';' parameters before resolving dot segments:
    to them '..;' is '..', and '/fhir/..;/admin' is '/admin', outside the allowed path.
    Such a URL passed the allow-list; a segment is read by its name before ';'."""
    with pytest.raises(ServerNotAllowed, match=r"'\.\.' segments"):
        ALLOW.check(url)


def test_parameters_on_a_named_segment_stay_under_the_path() -> None:
    """Control: a segment with parameters that is no dot segment stays where it is."""
    assert ALLOW.check("https://ehr.example.org/fhir/tenant;v=1").path == "/fhir/tenant;v=1"


def test_a_next_link_climbing_out_with_parameters_gets_no_token() -> None:
    """A next link '/fhir/..;/..;/other/...' is read as '/other/...' by servlet containers:
    it was followed with the access token. It is not followed, nor asked."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json=_bundle(
            [{"resourceType": "Condition", "id": "a"}],
            "https://ehr.example.org/fhir/..;/..;/other/Condition?page=2"))

    with pytest.raises(FhirFetchError, match="not followed"):
        _run(handler)
    assert asked == ["https://ehr.example.org/fhir/Condition?patient=p1"]
