"""What an OperationOutcome in an allergy search's answer says, in an EHR's own words, and
a prefetch Bundle that gives ``null`` where FHIR JSON gives a value or nothing.

The record (``allergy_support``): metastatic kidney PEComa, no line given, mTOR
inhibitors recorded available and not contraindicated. With the allergy list read whole
and empty, a doxorubicin draft gets the first-line warning and the suggestion "Replace
with an mTOR inhibitor (here sirolimus ...)".

1. An allergy search answered by no allergy but an OperationOutcome saying
   "Allergies: Not on File" (Epic's wording for an allergy list never documented; a list
   taken and empty is "No Known Allergies") or "Some allergy entries are confidential"
   (entries withheld) was read as the whole list, empty, and sirolimus was proposed. An
   allergy to sirolimus may be what was never documented or withheld: unknown is not
   absent (I15, S13-S14). Such words, their close variants, and any words not known to
   leave the list whole (an issue of an allergy search's answer is read as harmless only
   when every sentence of it says no more than an empty searchset: "No results found",
   "Search completed", "No known allergies", Epic's 4101) make the allergy list not
   whole: nothing is proposed, the card quotes the EHR's words.
2. ``"entry": null`` (or ``link``, ``meta``, ``meta.security``, ``meta.tag``, ``total``
   null) in a prefetch Bundle was read as absent, the part taken as whole. FHIR JSON has
   no nulls: such an answer is malformed and whether it is whole cannot be told, so the
   part is not read in full (the safer branch), for every search key, and the reason names
   the element.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.searches import PARTS, incomplete

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
    return make_client(tmp_path_factory.mktemp("outcome-words"))


ALLERGIES = ("AllergyIntolerance",)


def issue(words: str | None, severity: str = "information",
          code: str = "informational") -> dict[str, Any]:
    out: dict[str, Any] = {"severity": severity, "code": code}
    if words is not None:
        out["diagnostics"] = words
    return out


def outcome_only(*issues: dict[str, Any]) -> dict[str, Any]:
    """An allergy searchset holding no allergy, only an outcome entry with ``issues``."""
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"fullUrl": "urn:uuid:oo1",
                       "resource": {"resourceType": "OperationOutcome",
                                    "issue": [copy.deepcopy(x) for x in issues]},
                       "search": {"mode": "outcome"}}]}


#: Words saying the allergy list was never taken or documented, or that entries were
#: withheld: the list is not whole (the first two as EHRs send them).
NOT_WHOLE = [
    "Allergies: Not on File",                       # Epic: never documented
    "Some allergy entries are confidential",        # entries withheld
    "Allergy list not on file",
    "Allergies restricted",
    "Allergy entries withheld",
    "Allergies not documented",
    "Allergy history not recorded",
    "Allergy history: unable to obtain",
    "Allergies not assessed",
    "Allergy status: unknown",
    "No known allergies on file",                   # not the NKA wording: ambiguous
    "Allergieliste nicht erfasst",                  # words pecoma does not know at all
    "Check with pharmacy",                          # a message pecoma cannot place
]

#: Words saying no more than an empty searchset does: the list read and empty.
WHOLE = [
    "No Known Allergies",
    "No known drug allergies.",
    "NKDA",
    "No results found",
    "Search completed successfully.",
    "0 results",
    "Resource request returns no results.",
]


class TestWordsOfAnAllergySearchOutcome:
    @pytest.mark.parametrize("words", NOT_WHOLE)
    def test_not_taken_or_withheld_or_unknown_words_make_the_list_not_whole(
            self, words: str) -> None:
        """Whatever the issue's code and severity (here the mildest: information,
        informational), the allergy search is not whole and the reason quotes the words."""
        why = incomplete(outcome_only(issue(words)), ALLERGIES)
        assert why is not None
        assert words.split(":")[0] in why

    def test_an_issue_with_no_words_makes_the_list_not_whole(self) -> None:
        """An issue that says nothing cannot be read as saying the list is whole."""
        why = incomplete(outcome_only(issue(None)), ALLERGIES)
        assert why is not None and "(no words)" in why

    @pytest.mark.parametrize("words", WHOLE)
    def test_words_of_an_empty_answer_leave_the_list_whole(self, words: str) -> None:
        """"No Known Allergies" is a list taken and empty; "No results found" says what
        an empty searchset says: read whole."""
        assert incomplete(outcome_only(issue(words)), ALLERGIES) is None
        assert incomplete(outcome_only(issue(words, "warning", "processing")),
                          ALLERGIES) is None

    @pytest.mark.parametrize("words", ["Allergies: Not on File", "Check with pharmacy"])
    def test_other_searches_are_read_as_sent(self, words: str) -> None:
        """The rule is the allergy list's (the list a drug is proposed from): a search of
        conditions with the same outcome is read as sent."""
        assert incomplete(outcome_only(issue(words)), ("Condition",)) is None

    def test_confidential_entries_leave_any_search_not_whole(self) -> None:
        """'Confidential' entries are entries withheld, whatever was searched."""
        bundle = outcome_only(issue("Some medication entries are confidential"))
        assert incomplete(bundle, ("MedicationStatement",)) is not None

    @pytest.mark.parametrize("words", ["Allergies: Not on File",
                                       "Some allergy entries are confidential"])
    def test_order_select_proposes_nothing(self, client: TestClient, words: str) -> None:
        """The reported reproduction: a doxorubicin draft, the allergy search answered
        only by that outcome: no mTOR inhibitor proposed, the draft said not checked."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = outcome_only(issue(words))

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert cards and not proposed(cards)
        text = details(cards).replace("\\", "")
        assert "No mTOR-inhibitor order is proposed:" in text
        assert "allergies and intolerances could not be read" in text

    @pytest.mark.parametrize("words", ["No Known Allergies", "No results found"])
    def test_a_benign_outcome_leaves_the_proposal(self, client: TestClient,
                                                  words: str) -> None:
        """The reference point: the list read whole and empty, sirolimus proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = outcome_only(issue(words))

        assert proposed(order_select(client, record(), DOXORUBICIN, change))

    def test_an_allergy_sent_beside_still_rules_its_drug_out(self,
                                                             client: TestClient) -> None:
        """A sirolimus allergy beside "Allergies: Not on File" still makes a sirolimus
        draft critical: what the list holds is read."""
        def change(prefetch: dict[str, Any]) -> None:
            bundle = outcome_only(issue("Allergies: Not on File"))
            bundle["entry"].insert(0, {"resource": allergy(code=SIROLIMUS),
                                       "search": {"mode": "match"}})
            prefetch["allergies"] = bundle

        assert critical(order_select(client, record(), SIROLIMUS, change))

    def test_to_case_keeps_no_not_contraindicated(self, tmp_path: Path) -> None:
        """A record bundle holding the outcome: the recorded 'mTOR inhibitor not
        contraindicated' is not kept (asked), the rest of the record is read."""
        bundle = record()
        bundle["entry"].append(outcome_only(issue("Allergies: Not on File"))["entry"][0])
        found = to_case(tmp_path, bundle)
        assert set(found["unread"]) == {"allergies"}
        assert "Not on File" in found["unread"]["allergies"]
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]
        assert found["case"]["stage"]["status"] == "metastatic"


#: A Bundle element given as ``null``: FHIR JSON forbids it; whether the answer is whole
#: cannot be told.
NULLS = [
    pytest.param({"entry": None}, "'entry' is not a list of entries (null", id="entry"),
    pytest.param({"link": None}, "'link' is null", id="link"),
    pytest.param({"meta": None}, "meta is null", id="meta"),
    pytest.param({"meta": {"security": None}}, "meta.security is null", id="meta.security"),
    pytest.param({"meta": {"tag": None}}, "meta.tag is null", id="meta.tag"),
    pytest.param({"total": None}, "'total' is not a count", id="total"),
]


def with_null(fields: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", **copy.deepcopy(fields)}


class TestNullInAPrefetchBundle:
    @pytest.mark.parametrize(("fields", "said"), NULLS)
    def test_null_is_unreadable_not_absent(self, fields: dict[str, Any], said: str) -> None:
        """For any search, typed or not: the answer is not whole, the reason names it."""
        for searched in (ALLERGIES, ("MedicationStatement",), None):
            why = incomplete(with_null(fields), searched)
            assert why is not None and said in why

    def test_the_same_elements_absent_leave_the_answer_whole(self) -> None:
        """The reference point: absent, they say nothing (an empty searchset)."""
        assert incomplete(with_null({}), ALLERGIES) is None
        assert incomplete(with_null({"meta": {}}), ALLERGIES) is None

    @pytest.mark.parametrize(("fields", "said"), NULLS)
    def test_order_select_proposes_nothing(self, client: TestClient,
                                           fields: dict[str, Any], said: str) -> None:
        """The reported reproduction: the allergy key so answered, a doxorubicin draft:
        nothing proposed, the card names the element."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = with_null(fields)

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert cards and not proposed(cards)
        assert said in details(cards).replace("\\", "")

    @pytest.mark.parametrize("key", ["medications", "medication_requests",
                                     "medication_administrations", "medication_dispenses",
                                     "conditions", "observations", "procedures"])
    def test_every_search_key_so_answered_is_not_read(self, client: TestClient,
                                                      key: str) -> None:
        """Each search key with ``"entry": null``: listed among the parts that could not
        be read, the element named."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch[key] = with_null({"entry": None})

        cards = patient_view(client, record(), change)
        not_read = " ".join(cards[0]["detail"].split()).split(
            "**Parts of the record that could not be read**")[1]
        assert f"{PARTS[key]}:" in not_read.replace("\\", "")
        assert "'entry' is not a list of entries (null" in not_read.replace("\\", "")
