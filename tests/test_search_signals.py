"""What a search result says of itself, in an EHR's own words or in a malformed form.

An allergy search of an advanced kidney PEComa (mTOR inhibitors recorded available and not
contraindicated, no line given) answered by a searchset holding no allergy but Epic's
warning for a client not authorized for a sub-type of allergies (severity ``warning``,
code ``processing``, details "... Results of this sub-type will not be returned.",
diagnostics "... Search results of this type have not been included.") was taken as the
whole list, read and empty: a doxorubicin draft got "Replace with an mTOR inhibitor
(sirolimus) draft", and ``pecoma fhir to-case`` kept "mTOR inhibitor not
contraindicated". The same held for "Some resources were not returned because the user
lacks access" and "Resources with confidential flag were excluded": the words saying the
results are partial knew "limited" and "partial", not "not returned", "not included",
"excluded", "withheld", "hidden" or "not authorized".

A signal sent in a form that cannot be read was not read at all, in the default
validation mode: an OperationOutcome whose ``issue`` is an object and not a list, a
``Bundle.link`` that is one link object (relation ``next``) and not a list, a
``meta.security`` that is the string ``"REDACTED"``. Each search was taken as whole.

An allergy to sirolimus may be among what was not sent: unknown is not absent, so the
allergies are not read in full, no drug is proposed (a proposal needs the allergy list
read in full: I15, S13-S14), the cards say why, and to-case leaves "not contraindicated"
unknown. An ordinary informational outcome ("Search completed", "0 results") says nothing
of the list being partial: the list is read and the proposal stands.
"""

from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.client import AllowList, FhirClient, FhirFetchError
from pecoma.fhir.searches import failed_issues, incomplete

from allergy_support import (
    DOXORUBICIN,
    SIROLIMUS,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
    to_case,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("signals"))


#: Epic's OperationOutcome for a client not authorized for a sub-type of a search (as
#: published in the ONC g(10) test kit's issue tracker), its diagnostics naming the
#: allergies.
EPIC = {
    "severity": "warning", "code": "processing",
    "details": {
        "coding": [{
            "system": "urn:oid:1.2.840.114350.1.13.1.1.7.2.657369", "code": "59204",
            "display": "The authenticated client's search request applies to a "
                       "sub-resource that the client is not authorized for. Results of "
                       "this sub-type will not be returned."}],
        "text": "The authenticated client's search request applies to a sub-resource that "
                "the client is not authorized for. Results of this sub-type will not be "
                "returned."},
    "diagnostics": "Client not authorized for AllergyIntolerance - Patient-Reported "
                   "Allergies. Search results of this type have not been included."}


def issue(severity: str, code: str, words: str | None = None,
          where: str = "diagnostics") -> dict[str, Any]:
    """One issue; its words in ``diagnostics``, ``details.text`` or a coding's display."""
    out: dict[str, Any] = {"severity": severity, "code": code}
    if words is not None and where == "diagnostics":
        out["diagnostics"] = words
    elif words is not None and where == "text":
        out["details"] = {"text": words}
    elif words is not None:
        out["details"] = {"coding": [{"system": "urn:oid:1.2.3", "code": "1",
                                      "display": words}]}
    return out


def unescaped(cards: list[dict[str, Any]]) -> str:
    """The cards' details with the Markdown escapes of the record's words taken out."""
    return details(cards).replace("\\", "")


def searchset(*entries: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": list(entries), **fields}


def outcome_entry(*issues: Any, raw: Any = None) -> dict[str, Any]:
    """An outcome entry holding ``issues`` (or ``raw`` as its ``issue``, as sent)."""
    return {"resource": {"resourceType": "OperationOutcome",
                         "issue": list(issues) if raw is None else raw},
            "search": {"mode": "outcome"}}


#: Issues saying the search left entries out, each as an EHR sends it.
PARTIAL = [
    pytest.param(EPIC, id="epic-sub-type-not-returned"),
    pytest.param(issue("warning", "processing",
                       "Some resources were not returned because the user lacks access"),
                 id="not-returned-lacks-access"),
    pytest.param(issue("warning", "processing",
                       "Resources with confidential flag were excluded"), id="excluded"),
    pytest.param(issue("information", "informational",
                       "Records withheld at the patient's request", "text"),
                 id="withheld-informational"),
    pytest.param(issue("warning", "processing",
                       "Some records are hidden due to break-the-glass restrictions",
                       "display"), id="hidden-in-a-coding-display"),
    pytest.param(issue("information", "informational",
                       "This search returns only allergies documented in the last 5 years"),
                 id="returns-only"),
    pytest.param(issue("warning", "informational", "Sensitive entries weren't sent"),
                 id="were-not-sent"),
    pytest.param(issue("warning", "business-rule",
                       "User is not authorized to view confidential allergies"),
                 id="not-authorized"),
    pytest.param(issue("information", "informational",
                       "Allergies from the external source are not available"),
                 id="not-available"),
    # codes saying so whatever their severity and words
    pytest.param(issue("information", "suppressed"), id="code-suppressed"),
    pytest.param(issue("warning", "incomplete"), id="code-incomplete"),
    pytest.param(issue("information", "too-costly"), id="code-too-costly"),
    pytest.param(issue("warning", "throttled"), id="code-throttled"),
    pytest.param(issue("warning", "expired"), id="code-expired"),
    pytest.param(issue("warning", "exception"), id="code-exception"),
    pytest.param(issue("information", "transient"), id="code-transient"),
]

#: Informational outcomes that say nothing of the list being partial.
WHOLE = [
    pytest.param(issue("information", "informational", "Search completed"),
                 id="search-completed"),
    pytest.param(issue("information", "informational", "0 results"), id="zero-results"),
    pytest.param(issue("information", "not-found", "No results found"),
                 id="no-results-found"),
    pytest.param(issue("information", "informational",
                       "Search completed successfully; all matching resources were "
                       "returned", "text"), id="all-returned"),
    pytest.param(issue("warning", "not-supported",
                       "The search parameter _sort is not supported and was ignored"),
                 id="parameter-ignored"),
    pytest.param(issue("information", "informational", "Duplicate entries removed",
                       "display"), id="duplicates-removed"),
]


class TestTheWordsOfAPartialResult:
    @pytest.mark.parametrize("said", PARTIAL)
    def test_the_issue_says_the_search_left_entries_out(self, said: dict[str, Any]) -> None:
        """Each issue says entries were left out (its words in any of the three places an
        EHR puts them, or its code): the search is not whole."""
        entry = outcome_entry(said)
        assert failed_issues(entry["resource"]) == [f"{said['severity']}: {said['code']}"]
        assert incomplete(searchset(entry)) is not None

    @pytest.mark.parametrize("said", WHOLE)
    def test_an_ordinary_outcome_leaves_the_search_whole(self, said: dict[str, Any]) -> None:
        """A search that completed, found nothing, or ignored a parameter (a broader
        search, not a narrower one) says nothing of entries left out."""
        entry = outcome_entry(said)
        assert failed_issues(entry["resource"]) == []
        assert incomplete(searchset(entry)) is None

    @pytest.mark.parametrize("said", PARTIAL[:3])
    def test_order_select_proposes_nothing(self, client: TestClient,
                                           said: dict[str, Any]) -> None:
        """The doxorubicin draft keeps its first-line warning, but no mTOR inhibitor is
        proposed, and the card says the allergies could not be read, naming the issue."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset(outcome_entry(copy.deepcopy(said)))

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert cards and not proposed(cards)
        assert "allergies and intolerances could not be read" in details(cards)
        assert "warning: processing" in details(cards)

    @pytest.mark.parametrize("said", WHOLE[:3])
    def test_an_ordinary_outcome_leaves_the_proposal(self, client: TestClient,
                                                     said: dict[str, Any]) -> None:
        """The reference point: an allergy search that completed with nothing found is
        the list read and empty: sirolimus is proposed in place of doxorubicin."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset(outcome_entry(copy.deepcopy(said)))

        assert proposed(order_select(client, record(), DOXORUBICIN, change))

    def test_patient_view_lists_the_allergies_as_not_read(self, client: TestClient) -> None:
        """Epic's warning on the allergy search: the summary is a warning and lists the
        allergies among the parts not read, quoting the issue."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset(outcome_entry(copy.deepcopy(EPIC)))

        cards = patient_view(client, record(), change)
        assert cards[0]["indicator"] == "warning"
        assert "allergies and intolerances" in details(cards)
        assert "warning: processing" in details(cards)

    def test_what_the_list_holds_still_rules_a_drug_out(self, client: TestClient) -> None:
        """The entries sent beside the warning still count: a sirolimus allergy makes a
        sirolimus draft critical though the list is not whole."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset({"resource": allergy(code=SIROLIMUS)},
                                              outcome_entry(copy.deepcopy(EPIC)))

        assert critical(order_select(client, record(), SIROLIMUS, change))

    @pytest.mark.parametrize("said", PARTIAL[:3])
    def test_to_case_keeps_no_not_contraindicated(self, tmp_path: Path,
                                                  said: dict[str, Any]) -> None:
        """A bundle holding the warning is not the whole record: the allergies are not
        read in full, and the recorded 'not contraindicated' is not kept (it is asked)."""
        bundle = record()
        bundle["type"] = "searchset"
        bundle["entry"].append(outcome_entry(copy.deepcopy(said)))
        found = to_case(tmp_path, bundle)
        assert "warning: processing" in found["unread"]["allergies"]
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]
        # found in the record and set aside, said so, never as "not found" (HAZ-401)
        assert "systemic.mtor_inhibitor_contraindicated" not in found["not_found"]
        assert "systemic.mtor_inhibitor_contraindicated" in found["found_set_aside"]

    def test_to_case_reads_a_bundle_with_an_ordinary_outcome_whole(
            self, tmp_path: Path) -> None:
        """The reference point: 'Search completed' leaves the record whole, the recorded
        'not contraindicated' kept."""
        bundle = record()
        bundle["type"] = "searchset"
        bundle["entry"].append(outcome_entry(issue("information", "informational",
                                                   "Search completed")))
        found = to_case(tmp_path, bundle)
        assert found["unread"] == {}
        assert found["case"]["systemic"]["mtor_inhibitor_contraindicated"] == "no"


def _issue_object(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(outcome_entry(raw={
        "severity": "error", "code": "exception",
        "diagnostics": "AllergyIntolerance search failed"}))


def _issue_severity_unknown(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(outcome_entry(raw=[{"severity": "ERROR", "code": "processing"}]))


def _issue_empty(bundle: dict[str, Any]) -> None:
    bundle["entry"].append(outcome_entry(raw=[]))


def _link_object(bundle: dict[str, Any]) -> None:
    bundle["link"] = {"relation": "next", "url": "https://ehr.example.org/fhir?page=2"}


def _link_without_relation(bundle: dict[str, Any]) -> None:
    bundle["link"] = [{"url": "https://ehr.example.org/fhir?page=2"}]


def _security_string(bundle: dict[str, Any]) -> None:
    bundle["meta"] = {"security": "REDACTED"}


def _tag_object(bundle: dict[str, Any]) -> None:
    bundle["meta"] = {"tag": {"code": "SUBSETTED"}}


#: A signal of a partial result in a form that cannot be read, and the words of the
#: reason given for it.
MALFORMED = [
    pytest.param(_issue_object, "its 'issue' is an object, not a list of issues",
                 id="issue-an-object"),
    pytest.param(_issue_severity_unknown,
                 "its issue[0].severity is not a FHIR R4 issue severity (got 'ERROR')",
                 id="issue-severity-not-fhir"),
    pytest.param(_issue_empty, "it holds no issue", id="issue-empty"),
    pytest.param(_link_object, "its 'link' is an object, not a list of links",
                 id="link-an-object-with-next"),
    pytest.param(_link_without_relation, "its link[0] is not a link with a relation",
                 id="link-without-relation"),
    pytest.param(_security_string,
                 "meta.security is a string 'REDACTED', not a list of labels",
                 id="security-the-string-redacted"),
    pytest.param(_tag_object, "meta.tag is an object, not a list of labels",
                 id="tag-an-object"),
]


class TestASignalThatCannotBeRead:
    @pytest.mark.parametrize(("malform", "said"), MALFORMED)
    def test_the_search_is_not_taken_as_whole(self, malform: Any, said: str) -> None:
        """Whether the search failed or left entries out cannot be told: it is not
        whole (before, each was read past and the search taken as whole)."""
        bundle = searchset()
        malform(bundle)
        why = incomplete(bundle)
        assert why is not None and said in why

    @pytest.mark.parametrize(("malform", "said"), MALFORMED)
    def test_order_select_proposes_nothing(self, client: TestClient, malform: Any,
                                           said: str) -> None:
        """The allergy search so sent is not read in full: no drug is proposed, the card
        says why."""
        def change(prefetch: dict[str, Any]) -> None:
            malform(prefetch["allergies"])

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert cards and not proposed(cards)
        assert "allergies and intolerances could not be read" in details(cards)
        assert said in unescaped(cards)

    @pytest.mark.parametrize(("malform", "said"), MALFORMED)
    def test_patient_view_lists_the_part_not_read(self, client: TestClient, malform: Any,
                                                  said: str) -> None:
        def change(prefetch: dict[str, Any]) -> None:
            malform(prefetch["allergies"])

        cards = patient_view(client, record(), change)
        assert cards[0]["indicator"] == "warning"
        assert said in unescaped(cards)

    def test_observations_sent_with_a_link_object_are_not_read_in_full(
            self, client: TestClient) -> None:
        """The same for another part: observations whose link is one object naming a
        next page are not the whole result (the summary is a warning naming them)."""
        def change(prefetch: dict[str, Any]) -> None:
            _link_object(prefetch["observations"])

        cards = patient_view(client, record(), change)
        assert cards[0]["indicator"] == "warning"
        assert "observations" in details(cards)
        assert "its 'link' is an object, not a list of links" in unescaped(cards)

    @pytest.mark.parametrize(("malform", "said"), MALFORMED)
    def test_to_case_reads_no_part_in_full(self, tmp_path: Path, malform: Any,
                                           said: str) -> None:
        """In the default validation mode (it had been refused only with
        --full-validation, and read as whole otherwise): every part but the Patient is
        not read in full, and 'not contraindicated' is not kept."""
        bundle = record()
        bundle["type"] = "searchset"
        malform(bundle)
        found = to_case(tmp_path, bundle)
        assert said in found["unread"]["allergies"]
        assert set(found["unread"]) >= {"conditions", "observations", "allergies"}
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]

    @pytest.mark.parametrize(("malform", "said"), MALFORMED)
    def test_the_fhir_client_refuses_such_a_page(self, malform: Any, said: str) -> None:
        """A page fetched from the FHIR server so sent is no usable answer: an error (the
        part stays unknown), not the entries it happens to hold."""
        page = searchset({"resource": {"resourceType": "Condition", "id": "a"},
                          "search": {"mode": "match"}})
        malform(page)
        async def fetch() -> list[dict[str, Any]]:
            async with FhirClient.for_server(
                    "https://ehr.example.org/fhir",
                    AllowList.parse(["https://ehr.example.org/fhir"]), token="tok",
                    transport=httpx.MockTransport(
                        lambda request: httpx.Response(200, json=page))) as fhir:
                return await fhir.search("Condition?patient=p1", "conditions")

        # in a thread of its own: a browser test of this process may have an event loop
        # running in this one, and asyncio.run refuses then
        with ThreadPoolExecutor(1) as pool, pytest.raises(
                FhirFetchError, match="cannot be read in full"):
            pool.submit(asyncio.run, fetch()).result()


#: Epic's code system for its OperationOutcome messages, as its public sandbox sends it
#: (the middle part names the organisation).
EPIC_SYSTEM = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"
#: The words of Epic's message 4119.
EPIC_4119_WORDS = ("This response includes information available to the authorized user "
                   "at the time of the request. It may not contain the entire record "
                   "available in the system.")


def epic(code: str, words: str | None, severity: str = "warning",
         kind: str = "informational",
         system: str = EPIC_SYSTEM) -> dict[str, Any]:
    """An issue as Epic sends it: its message code and words in ``details``."""
    coding: dict[str, Any] = {"system": system, "code": code}
    out: dict[str, Any] = {"severity": severity, "code": kind,
                           "details": {"coding": [coding]}}
    if words is not None:
        coding["display"] = words
        out["details"]["text"] = words
    return out


#: Epic's 4101 "Resource request returns no results.": a search that found nothing.
EPIC_4101 = epic("4101", "Resource request returns no results.", kind="processing")

#: Issues saying the answer *may* not hold the entire record, each as an EHR sends it.
CAVEATS = [
    pytest.param([EPIC_4101, epic("4119", EPIC_4119_WORDS)], id="epic-4101-and-4119"),
    pytest.param([epic("4119", EPIC_4119_WORDS, kind="processing",
                       system="urn:oid:1.2.840.114350.1.13.5325.1.7.2.657369")],
                 id="epic-4119-another-organisation"),
    pytest.param([epic("4119", None)], id="epic-4119-by-its-code-alone"),
    pytest.param([issue("information", "informational",
                        "It may not contain the entire record available in the system.")],
                 id="its-words-alone"),
    pytest.param([issue("warning", "informational", "Results may not be complete", "text")],
                 id="may-not-be-complete"),
    pytest.param([issue("information", "informational",
                        "Shows information available to the current user", "display")],
                 id="available-to-the-current-user"),
    # the allergy list not taken at all: what it would hold is unknown, never none
    pytest.param([issue("information", "informational",
                        "Patient has not been screened for allergies")],
                 id="not-screened-for-allergies"),
    pytest.param([issue("warning", "informational", "Allergy status unknown", "text")],
                 id="allergy-status-unknown"),
]


class TestAnAnswerThatMayNotHoldTheEntireRecord:
    """Epic sends its warning 4119 ("... It may not contain the entire record available
    in the system.") beside the results of a search, or beside 4101 "Resource request
    returns no results.". Its words say nothing was left out in the words the rule of
    partial results knows ("may not contain the entire record": no 'not returned', no
    'excluded'), so an allergy search holding no entry but 4101 and 4119 was taken as
    the whole list, read and empty: a doxorubicin draft got "Replace with an mTOR
    inhibitor (sirolimus) draft", and ``pecoma fhir to-case`` kept "mTOR inhibitor not
    contraindicated". The EHR says the allergy list may be incomplete: an allergy to
    sirolimus may be among what it did not send (unknown is not absent, I15, S13-S14).

    The allergy list is then not read in full, and nothing is proposed. The other parts
    are read as sent beside it: they are what the assessment rests on, and an EHR that
    sends the caveat with every answer would otherwise leave no chart checked."""

    @pytest.mark.parametrize("said", CAVEATS)
    def test_an_allergy_search_so_answered_is_not_whole(self, said: list[Any]) -> None:
        """Recognised by Epic's code (any organisation's part of its system) or by the
        words, whatever the issue's code and severity: the allergy search is not whole,
        and the reason quotes the issue."""
        bundle = searchset(outcome_entry(*copy.deepcopy(said)))
        why = incomplete(bundle, ("AllergyIntolerance",))
        assert why is not None and "may not hold the entire record" in why
        assert "a drug is proposed only from an allergy search the EHR answers" in why

    @pytest.mark.parametrize("said", CAVEATS)
    def test_other_searches_are_read_as_sent(self, said: list[Any]) -> None:
        """The same answer to a search of conditions (or one whose type is not known) is
        read as sent: the caveat withholds a proposal, not the assessment."""
        bundle = searchset(outcome_entry(*copy.deepcopy(said)))
        assert incomplete(bundle, ("Condition",)) is None
        assert incomplete(bundle) is None

    @pytest.mark.parametrize("said", [
        pytest.param([EPIC_4101], id="epic-4101-no-results"),
        pytest.param([epic("4119", "Search completed", system="urn:oid:1.2.3.4")],
                     id="code-4119-of-another-system"),
        pytest.param([issue("information", "informational",
                            "All available allergies were returned")],
                     id="all-available-returned"),
    ])
    def test_an_ordinary_outcome_leaves_the_allergy_search_whole(
            self, said: list[Any]) -> None:
        """Epic's 4101 alone says the search found nothing: the list is read and empty.
        4119 in another code system is not Epic's message; words saying all were sent
        are no caveat."""
        bundle = searchset(outcome_entry(*copy.deepcopy(said)))
        assert incomplete(bundle, ("AllergyIntolerance",)) is None

    @pytest.mark.parametrize("said", CAVEATS[:3])
    def test_order_select_proposes_nothing_and_says_why(self, client: TestClient,
                                                        said: list[Any]) -> None:
        """The doxorubicin draft keeps its first-line warning, no mTOR inhibitor is
        proposed, and the card says why (the EHR's caveat, quoted) and what the EHR would
        need to send."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset(outcome_entry(*copy.deepcopy(said)))

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert cards and not proposed(cards)
        text = unescaped(cards)
        assert "No mTOR-inhibitor order is proposed:" in text
        assert "allergies and intolerances could not be read" in text
        assert "Epic message 4119" in text
        assert ("a drug is proposed only from an allergy search the EHR answers without "
                "such a caveat") in text

    def test_epic_4101_alone_leaves_the_proposal(self, client: TestClient) -> None:
        """The reference point: Epic's 'no results' alone is the allergy list read and
        empty: sirolimus is proposed in place of doxorubicin."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset(outcome_entry(copy.deepcopy(EPIC_4101)))

        assert proposed(order_select(client, record(), DOXORUBICIN, change))

    def test_patient_view_reads_the_rest_of_a_record_so_sent(self,
                                                            client: TestClient) -> None:
        """4101 and 4119 on every search, as Epic sends them: the PEComa is still
        assessed (the summary names it), the allergies alone are listed as not read, and
        the summary is a warning."""
        def change(prefetch: dict[str, Any]) -> None:
            for value in prefetch.values():
                if isinstance(value, dict) and value.get("resourceType") == "Bundle":
                    value.setdefault("entry", []).append(outcome_entry(
                        copy.deepcopy(EPIC_4101), epic("4119", EPIC_4119_WORDS)))

        cards = patient_view(client, record(), change)
        assert cards[0]["indicator"] == "warning"
        assert cards[0]["summary"].startswith("PEComa (metastatic)")
        not_read = cards[0]["detail"].split("**Parts of the record that could not be "
                                            "read**")[1]
        assert "the allergies and intolerances:" in not_read
        assert "the conditions" not in not_read and "the observations" not in not_read

    def test_what_the_list_holds_still_rules_a_drug_out(self, client: TestClient) -> None:
        """A sirolimus allergy sent beside 4119 still makes a sirolimus draft critical."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = searchset({"resource": allergy(code=SIROLIMUS)},
                                              outcome_entry(epic("4119", EPIC_4119_WORDS)))

        assert critical(order_select(client, record(), SIROLIMUS, change))

    def test_to_case_reads_the_allergies_not_in_full(self, tmp_path: Path) -> None:
        """A bundle holding 4101 and 4119: the allergies are not read in full (the
        recorded 'not contraindicated' not kept, and asked); the other parts are read."""
        bundle = record()
        bundle["type"] = "searchset"
        bundle["entry"].append(outcome_entry(copy.deepcopy(EPIC_4101),
                                             epic("4119", EPIC_4119_WORDS)))
        found = to_case(tmp_path, bundle)
        assert set(found["unread"]) == {"allergies"}
        assert "Epic message 4119" in found["unread"]["allergies"]
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]
        # found in the record and set aside, said so, never as "not found" (HAZ-401)
        assert "systemic.mtor_inhibitor_contraindicated" not in found["not_found"]
        assert "systemic.mtor_inhibitor_contraindicated" in found["found_set_aside"]
        assert found["case"]["stage"]["status"] == "metastatic"

    @pytest.mark.parametrize(("query", "refused"), [
        ("AllergyIntolerance?patient=p1", True), ("Condition?patient=p1", False)])
    def test_the_fhir_client_refuses_such_an_allergy_page(self, query: str,
                                                          refused: bool) -> None:
        """An allergy search the FHIR server answers with 4119 is no usable answer (the
        part stays unknown); a search of conditions so answered gives its entries."""
        kind = query.split("?")[0]
        page = searchset({"resource": {"resourceType": kind, "id": "a"},
                          "search": {"mode": "match"}},
                         outcome_entry(epic("4119", EPIC_4119_WORDS)))

        async def fetch() -> list[dict[str, Any]]:
            async with FhirClient.for_server(
                    "https://ehr.example.org/fhir",
                    AllowList.parse(["https://ehr.example.org/fhir"]), token="tok",
                    transport=httpx.MockTransport(
                        lambda request: httpx.Response(200, json=page))) as fhir:
                return await fhir.search(query, "part")

        with ThreadPoolExecutor(1) as pool:
            if refused:
                with pytest.raises(FhirFetchError, match="may not hold the entire record"):
                    pool.submit(asyncio.run, fetch()).result()
            else:
                assert [r["id"] for r in pool.submit(asyncio.run, fetch()).result()] == ["a"]
