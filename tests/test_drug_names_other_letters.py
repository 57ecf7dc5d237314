"""Drug names holding a look-alike letter of another alphabet, or an invisible character.

Beside a recorded sirolimus allergy, a text-only draft order
"Sirolimus 1 mg tablet" got the critical card, while "Sirоlimus 1 mg tablet" (a Cyrillic
о, U+043E), "Evеrolimus 10 mg tablet" (a Cyrillic е, U+0435) and "Siro\\u200blimus 1 mg
tablet" (a zero-width space) got no card at all, though an EHR shows each as the drug it
imitates. The -limus rule that marks a name pecoma does not know as possibly anticancer
did not fire on a word holding a letter outside a to z, and the zero-width space split
the word in two halves that named nothing. In the medication history, a course of
"Evеrolimus" was read as no line, and the first-line mTOR advice lost its "conditional".

The facts the tests hold:

* a format character (Unicode category Cf: a zero-width space, joiner or non-joiner, a
  word joiner, a soft hyphen, a byte-order mark, a direction mark) is no part of a name:
  "Siro\\u200blimus" is sirolimus, in a draft order, in the medication history and in an
  allergy entry alike (one normalisation, ``pecoma.text.name_form``);
* a name holding a letter that is no letter a to z once accents, case and compatibility
  forms are set aside (a look-alike of another alphabet, or another alphabet) is never
  taken for the name it imitates, nor for no drug: the medication is *not identified*,
  whatever else it names (a drug it may be is unknown, not absent). A draft so named
  beside an allergy list ruling drugs out gets the warning "drug not identified: check it
  against the allergy list"; a course so named leaves the lines already given not fully
  known (the first-line advice conditional); an allergy entry so named is an entry not
  identified. What its codes and its other words name is still checked against the
  allergy list (an RxNorm everolimus code beside the text "Evеrolimus" is the critical
  card);
* the micro sign of a unit ("10 µg") is no such letter;
* a value of the case format written with such a letter is refused naming the letter, the
  value shown escaped (as it looks, it reads as the value allowed).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent, parse_case
from pecoma.errors import InputError
from pecoma.fhir.allergies import read_allergy
from pecoma.fhir.medications import (
    agent_named,
    agent_of,
    unidentified_names,
    unread_words,
    unreadable_medication,
)
from pecoma.fhir.reader import case_from_bundle
from pecoma.text import name_form, odd_words
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from allergy_support import allergy as medication_allergy
from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
#: Metastatic PEComa, mTOR inhibitors available and not contraindicated, no systemic line.
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}

#: The names of the report, with a look-alike letter: a Cyrillic о, a Cyrillic е;
#: and their kind: a Greek ο (U+03BF), a Cyrillic е in "temsirolimus" (a name inside the
#: word must not be read: "sirolimus"), a Turkish dotless ı, the name in Cyrillic.
LOOK_ALIKE = ["Sir\u043elimus 1 mg tablet", "Ev\u0435rolimus 10 mg tablet",
              "Sir\u03bflimus 1 mg", "T\u0435msirolimus 25 mg",
              "S\u0131rolimus 1 mg", "\u0421\u0438\u0440\u043e\u043b\u0438\u043c\u0443\u0441"]
#: Sirolimus with an invisible character: zero-width space, non-joiner, joiner, word
#: joiner, soft hyphen, byte-order mark, a right-to-left mark before it.
INVISIBLE = ["Siro\u200blimus 1 mg tablet", "Siro\u200climus", "Siro\u200dlimus",
             "Siro\u2060limus", "Siro\u00adlimus", "\ufeffSirolimus", "\u200fSirolimus 1 mg"]


def draft(text: str, coding: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text, **({"coding": coding} if coding else {})}
    return {"resourceType": "MedicationRequest", "id": "d-1", "status": "draft",
            "intent": "order", "medicationCodeableConcept": concept}


class TestTheNameForm:
    @pytest.mark.parametrize("text", INVISIBLE)
    def test_a_format_character_is_no_part_of_a_name(self, text: str) -> None:
        assert name_form(text).split()[0] == "sirolimus"
        assert odd_words(text) == []

    @pytest.mark.parametrize(("text", "word"), [
        ("Sir\u043elimus 1 mg", "sir\u043elimus"), ("Sir\u03bflimus", "sir\u03bflimus"),
        ("S\u0131rolimus", "s\u0131rolimus"), ("Sirolim\u03bcs", "sirolim\u03bcs"),
    ])
    def test_a_letter_of_another_alphabet_stays_one(self, text: str, word: str) -> None:
        """Never folded to the Latin letter it looks like (a Greek mu inside a word
        included): the word is found, as it is."""
        assert odd_words(text) == [word]

    @pytest.mark.parametrize("text", ["Everolimus 10 µg", "10\u03bcg daily", "Évérolimus",
                                      "Afinitor® 10 mg", "75 mg/m²", "ＳＩＲＯＬＩＭＵＳ"])
    def test_units_accents_signs_and_wide_letters_are_no_odd_letters(self, text: str) -> None:
        """The micro sign of a unit reads as "u" ("ug"); accents, a registered sign, a
        superscript two and full-width letters hold no letter beyond a to z."""
        assert odd_words(text) == []


class TestAMedicationNamedWithALookAlike:
    @pytest.mark.parametrize("text", LOOK_ALIKE)
    def test_it_is_not_identified_and_says_which_letter(self, text: str) -> None:
        """Before: read as "no drug" (``unreadable_medication`` gave ``None``); or, for
        "Tеmsirolimus", as sirolimus, read inside the word."""
        assert agent_of(draft(text)) is None
        why = unreadable_medication(draft(text))
        assert why is not None
        assert "which is no letter a to z" not in why  # the medication's own wording
        assert "written with a letter that is no letter a to z (U+" in why
        assert "it may be any drug" in why

    def test_the_letter_is_named_and_escaped(self) -> None:
        why = unreadable_medication(draft("Sir\u043elimus 1 mg tablet"))
        assert why is not None
        assert "'sir\\u043elimus'" in why
        assert "U+043E CYRILLIC SMALL LETTER O" in why

    def test_beside_a_drug_it_names_it_is_still_not_identified(self) -> None:
        """"Dоxorubicin and ifosfamide" (a Cyrillic о) was read as ifosfamide alone: a
        doxorubicin allergy had then cleared it. What it names beside the word is what
        the allergy check reads (``agent_named``); the medication is not identified."""
        order = draft("D\u043exorubicin and ifosfamide")
        assert agent_of(order) is None
        assert unreadable_medication(order) is not None
        assert agent_named(order) is Agent.ifosfamide

    def test_a_code_beside_it_still_names_its_drug_for_the_allergy_check(self) -> None:
        order = draft("Ev\u0435rolimus", [{"system": RXNORM, "code": "141704"}])
        assert agent_of(order) is None
        assert agent_named(order) is Agent.everolimus

    @pytest.mark.parametrize("text", INVISIBLE)
    def test_an_invisible_character_leaves_the_name_as_it_shows(self, text: str) -> None:
        assert agent_of(draft(text)) is Agent.sirolimus
        assert unreadable_medication(draft(text)) is None
        assert unidentified_names(draft(text)) == ()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('letters') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def cards_for(client: TestClient, order: dict[str, Any],
              allergy: dict[str, Any] | None = SIROLIMUS) -> list[dict[str, Any]]:
    """The order-select cards for the draft ``order`` (the patient with an active,
    confirmed allergy coded ``allergy``, or none)."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    if allergy is not None:
        prefetch["allergies"]["entry"].append(
            {"resource": medication_allergy("a1", code=allergy)})
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/d-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {**order, "subject": {"reference": f"Patient/{pid}"}}}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


class TestOrderSelect:
    @pytest.mark.parametrize("text", LOOK_ALIKE)
    def test_a_look_alike_draft_beside_a_sirolimus_allergy_is_a_warning(
            self, client: TestClient, text: str) -> None:
        """The case reported: no card before. The drug cannot be identified, and the
        list rules out sirolimus and, by the class, every mTOR inhibitor (I15): the draft
        is to be checked against it."""
        [card] = cards_for(client, draft(text))
        assert card["indicator"] == "warning"
        assert card["summary"] == ("Draft order's drug not identified: check it against "
                                   "the allergy list")
        assert "no letter a to z (U+" in card["detail"]
        assert "sirolimus" in card["detail"]
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    @pytest.mark.parametrize("text", INVISIBLE)
    def test_an_invisible_character_in_a_sirolimus_draft_is_the_critical_card(
            self, client: TestClient, text: str) -> None:
        [card] = cards_for(client, draft(text))
        assert card["indicator"] == "critical"
        assert card["summary"] == ("Draft order of sirolimus: the record lists an allergy "
                                   "or intolerance to sirolimus")

    def test_the_code_of_a_look_alike_draft_still_gives_the_critical_card(
            self, client: TestClient) -> None:
        """RxNorm 141704 (everolimus) beside the text "Evеrolimus": the code names
        everolimus, which the sirolimus allergy rules out; that card stands alone (a
        "not identified" warning beside it would contradict it)."""
        [card] = cards_for(client, draft("Ev\u0435rolimus 10 mg",
                                         [{"system": RXNORM, "code": "141704"}]))
        assert card["indicator"] == "critical"
        assert card["summary"] == ("Draft order of everolimus: the record lists an allergy "
                                   "or intolerance to an mTOR inhibitor (sirolimus)")

    def test_with_no_allergy_the_unidentified_draft_is_still_said(
            self, client: TestClient) -> None:
        """Advanced PEComa with no systemic line: a draft pecoma cannot identify may be
        chemotherapy, which the guideline puts after an mTOR inhibitor (S13, S14)."""
        [card] = cards_for(client, draft("Sir\u043elimus 1 mg"), allergy=None)
        assert card["summary"] == ("Draft order's drug not identified: if it is "
                                   "chemotherapy, the guideline puts an mTOR inhibitor first")

    def test_a_plain_paracetamol_draft_stays_silent(self, client: TestClient) -> None:
        assert cards_for(client, draft("Paracetamol 1 g")) == []


def with_course(text: str) -> dict[str, Any]:
    """The patient's record with a course completed in 2025, named ``text``."""
    bundle = copy.deepcopy(example(PATIENT))
    pid = patient_id(bundle)
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"text": text},
        "effectivePeriod": {"start": "2025-10-01", "end": "2025-12-01"}}})
    return bundle


class TestTheMedicationHistory:
    def test_a_look_alike_course_leaves_the_lines_not_fully_known(self) -> None:
        """"Evеrolimus 10 mg tablet" given in 2025: read as no line before, the patient
        then offered an mTOR inhibitor as if none had been given."""
        bc = case_from_bundle(with_course("Ev\u0435rolimus 10 mg tablet"), on=ON)
        assert bc.case.systemic.therapies == ()
        assert bc.history_doubt is not None
        assert any("MedicationStatement/ms1" in note and "U+0435" in note
                   for note in bc.notes)

    def test_an_invisible_character_in_a_course_is_its_line(self) -> None:
        bc = case_from_bundle(with_course("Evero\u200blimus 10 mg tablet"), on=ON)
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.everolimus]
        assert bc.history_doubt is None

    def test_the_summary_card_makes_the_first_line_conditional(
            self, client: TestClient) -> None:
        """The patient-view reported: an ``info`` card with the plain first-line mTOR
        advice before; a warning, the advice conditional on the lines given."""
        bundle = with_course("Ev\u0435rolimus 10 mg tablet")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        card = r.json()["cards"][0]
        assert card["indicator"] == "warning"
        assert ("**Conditional:** the lines of systemic therapy already given are not "
                "fully known") in card["detail"]


class TestAllergyEntries:
    @pytest.mark.parametrize("text", INVISIBLE)
    def test_an_invisible_character_in_an_entry_is_read_through(self, text: str) -> None:
        reading = read_allergy(medication_allergy("a1", code={"text": text}))
        assert reading.agents == {Agent.sirolimus}
        assert not reading.unidentified

    def test_a_look_alike_entry_is_not_identified_shown_escaped(self) -> None:
        """Not read as sirolimus, nor as nothing: an entry not identified (it may be to a
        drug pecoma proposes), its word shown with the odd letter escaped."""
        reading = read_allergy(medication_allergy("a1", code={"text": "Sir\u043elimus"}))
        assert reading.unidentified
        assert reading.not_identified == ("sir\\u043elimus",)
        assert unread_words({"text": "Sir\u043elimus"}) == ("sir\\u043elimus",)

    def test_no_known_allergy_written_with_a_format_character_or_a_look_alike(self) -> None:
        """"NKDA" with a zero-width space after it says no known drug allergy; with a
        Cyrillic А it says nothing pecoma can read: never cleared as "none"."""
        assert read_allergy(medication_allergy(
            "a1", code={"text": "NKDA\u200b"})).left_aside is not None
        odd = read_allergy(medication_allergy("a1", code={"text": "NKD\u0410"}))
        assert odd.left_aside is None and odd.unidentified

    def test_a_look_alike_entry_makes_an_everolimus_draft_unchecked(
            self, client: TestClient) -> None:
        """The entry may be to sirolimus: an everolimus draft beside it cannot be
        checked, and says so."""
        cards = cards_for(client, draft("Everolimus 10 mg"), {"text": "Sir\u043elimus"})
        assert [c["indicator"] for c in cards] == ["warning"]
        assert "could not be matched to a drug" in json.dumps(cards)


def test_a_case_value_with_a_look_alike_letter_is_refused_naming_it() -> None:
    """The case format's values are words of a to z: 'sirоlimus' is refused, as any
    value it does not allow is, and the message names the letter (as it looks, the value
    reads as 'sirolimus', allowed beside it)."""
    text = resources.files("pecoma").joinpath(
        "examples/advanced-mtor-contraindicated.json").read_text("utf-8")
    data = json.loads(text)
    data["systemic"]["intolerances"] = [{"agent": "sir\u043elimus", "class_wide": "unknown"}]
    with pytest.raises(InputError) as caught:
        parse_case(data)
    [issue] = caught.value.issues
    assert issue.path == "systemic.intolerances[0].agent"
    assert issue.value == "'sir\\u043elimus'"
    assert issue.rule.endswith("; it holds U+043E CYRILLIC SMALL LETTER O, which is no "
                               "letter a to z")
