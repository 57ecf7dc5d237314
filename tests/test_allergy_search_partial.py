"""An allergy search answered by a partial result, or by a Bundle that is no search result.

An EHR integrator sent the ``allergies`` prefetch as a searchset holding only an
OperationOutcome *warning* of code ``timeout`` ("Search timed out; partial results
returned"), ``throttled``, or ``processing`` "Results limited to active allergies"; or as
a Bundle of type ``history`` or ``transaction``. Each was taken as the whole allergy list,
read and empty, and a doxorubicin draft got the suggestion "Replace with an mTOR inhibitor
(sirolimus) draft".

FHIR R4 IssueType ``timeout`` ("an internal timeout has occurred") and ``throttled`` are
transient failures: what the server sent may be partial, whatever the severity. A
``history`` (versions) or ``transaction`` (what is to be written) Bundle answers no
search. An allergy to sirolimus may be among what is missing: unknown is not absent, so no
drug is proposed (I15, S13-S14; the allergy list read in full is the condition for a
proposal), and ``pecoma fhir to-case`` leaves the recorded "mTOR inhibitor not
contraindicated" unknown, as for an outcome of code ``suppressed``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.searches import failed_issues

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
    return make_client(tmp_path_factory.mktemp("partial"))


def outcome(severity: str, code: str, diagnostics: str | None = None) -> dict[str, Any]:
    issue = {"severity": severity, "code": code}
    if diagnostics is not None:
        issue["diagnostics"] = diagnostics
    return {"resource": {"resourceType": "OperationOutcome", "issue": [issue]},
            "search": {"mode": "outcome"}}


PARTIAL = [
    pytest.param(outcome("warning", "timeout", "Search timed out; partial results returned"),
                 "warning: timeout", id="timeout-warning"),
    pytest.param(outcome("information", "timeout"), "information: timeout",
                 id="timeout-information"),
    pytest.param(outcome("warning", "throttled"), "warning: throttled", id="throttled"),
    pytest.param(outcome("warning", "processing", "Results limited to active allergies"),
                 "warning: processing", id="processing-results-limited"),
    pytest.param(outcome("information", "informational",
                         "Only the first 50 results were returned"),
                 "information: informational", id="informational-first-results"),
]


class TestTheOutcomeSaysTheResultIsPartial:
    @pytest.mark.parametrize(("entry", "said"), PARTIAL)
    def test_the_issue_makes_the_search_not_whole(self, entry: dict[str, Any],
                                                  said: str) -> None:
        """The issue is among those saying the search left things out."""
        assert failed_issues(entry["resource"]) == [said]

    def test_an_issue_saying_nothing_of_the_results_leaves_it_whole(self) -> None:
        """The reference point: an informational issue that does not speak of the results
        (a parameter the server ignored) says nothing of the list being partial."""
        assert failed_issues(outcome("information", "informational",
                                     "Search completed in 12 ms")["resource"]) == []

    @pytest.mark.parametrize(("entry", "said"), PARTIAL)
    def test_order_select_proposes_nothing(self, client: TestClient, entry: dict[str, Any],
                                           said: str) -> None:
        """The doxorubicin draft keeps its first-line warning, but no mTOR inhibitor is
        proposed and the card says the allergies could not be read, quoting the issue."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "searchset",
                                     "entry": [copy.deepcopy(entry)]}

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert not proposed(cards)
        assert "allergies and intolerances could not be read" in details(cards)
        assert said in details(cards)

    @pytest.mark.parametrize(("entry", "said"), PARTIAL[:3])
    def test_patient_view_lists_the_part_not_read(self, client: TestClient,
                                                  entry: dict[str, Any], said: str) -> None:
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "searchset",
                                     "entry": [copy.deepcopy(entry)]}

        cards = patient_view(client, record(), change)
        assert cards[0]["indicator"] == "warning"
        assert said in details(cards)

    @pytest.mark.parametrize(("entry", "said"), PARTIAL)
    def test_to_case_keeps_no_not_contraindicated(self, tmp_path: Path,
                                                  entry: dict[str, Any], said: str) -> None:
        """A bundle holding such an outcome is not the whole record: the allergies are not
        read in full, and the recorded 'not contraindicated' is not kept (found and set
        aside, with why, not said to be missing from the record; asked)."""
        assert to_case(tmp_path, record())["case"]["systemic"][
            "mtor_inhibitor_contraindicated"] == "no"  # the whole record says no
        bundle = record()
        bundle["type"] = "searchset"
        bundle["entry"].append(copy.deepcopy(entry))
        found = to_case(tmp_path, bundle)
        assert said in found["unread"]["allergies"]
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]
        assert "systemic.mtor_inhibitor_contraindicated" not in found["not_found"]
        assert "allergy list could not be read" in found["found_set_aside"][
            "systemic.mtor_inhibitor_contraindicated"]


class TestABundleThatIsNoSearchResult:
    @pytest.mark.parametrize("kind", ["history", "transaction", "batch", "document"])
    def test_the_allergies_part_is_not_read(self, client: TestClient, kind: str) -> None:
        """An allergies prefetch that is a Bundle of type history or transaction (no
        entries at all) is no answer to the allergy search: not read, no proposal."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": kind, "entry": []}

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert not proposed(cards)
        assert "allergies and intolerances could not be read" in details(cards)
        assert f"a Bundle of type '{kind}', not the result of a search" in details(cards)

    @pytest.mark.parametrize("kind", ["searchset", "collection"])
    def test_a_searchset_or_collection_is_read(self, client: TestClient, kind: str) -> None:
        """The reference point: an empty searchset, or a collection (docs/cds-hooks.md
        accepts both), is the list read and empty: the sirolimus draft is proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": kind, "entry": []}

        assert proposed(order_select(client, record(), DOXORUBICIN, change))

    def test_what_a_history_bundle_holds_still_rules_a_drug_out(
            self, client: TestClient) -> None:
        """The entries of an allergy Bundle that is not read in full still rule their
        drug out: a history holding a sirolimus allergy makes a sirolimus draft
        critical."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "history", "entry": [
                {"resource": allergy(code=SIROLIMUS)}]}

        cards = order_select(client, record(), SIROLIMUS, change)
        assert critical(cards)
