"""A non-adherence said not to be, and Epic's 4119 code beside other words.

The record (``allergy_support``): metastatic kidney PEComa, no systemic line given, mTOR
inhibitors recorded available and not contraindicated.

1. A stopped everolimus whose statusReason said "Disease progression despite full
   adherence, no missed doses" (or "non-compliance ruled out", "not non-adherent") was
   read as progression unknown, and the note said everolimus "was not taken as
   prescribed: 'missed doses'": the words of non-adherence were matched inside their
   own negation. A non-adherence denied is no non-adherence: the reason reads as a
   progression on the drug, as "Disease progression" alone does.
2. An issue of a medication search coded with Epic's 4119 ("may not contain the entire
   record") was skipped whatever its words, so one saying "Medications: Not on File"
   left the list read as whole (the lines already given "none"). The code is harmless
   only with no words or with the notice's own words; other words are judged as they
   are without the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pecoma.case import YesNo
from pecoma.fhir.medications import Progression, not_taken_said, progression_said
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.searches import incomplete

from allergy_support import ON, RXNORM, make_client, patient_view, record

EVEROLIMUS = {"coding": [{"system": RXNORM, "code": "141704"}]}
EPIC_MESSAGES = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"
MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration",
                    "MedicationDispense")


def stopped(text: str) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "id": "ev1", "status": "stopped",
            "subject": {"reference": "Patient/pat-1003"},
            "medicationCodeableConcept": EVEROLIMUS,
            "effectivePeriod": {"start": "2026-01-01", "end": "2026-09-01"},
            "statusReason": [{"text": text}]}


#: Each says the disease progressed and the drug was taken as prescribed: the
#: non-adherence words stand only inside their own negation.
ADHERENT = [
    "Disease progression despite full adherence, no missed doses",
    "Progressive disease; adherence confirmed, no missed doses",
    "Progression of disease; non-compliance ruled out",
    "Disease progression, non-compliance excluded",
    "Disease progression; compliance good, patient not non-adherent",
    "Progressed on treatment, pill count: no missed tablets",
    "Progression on everolimus. Not taking as prescribed was excluded",
    "Disease progression; non-adherence denied",
    "Disease progression; has not missed any doses",
    "Disease progression; missed doses: none",
]
#: Non-adherence said as a finding (beside a negation of something else, or after a
#: negation that is not its own): the progression is not shown on the drug, asked.
NON_ADHERENT = [
    "Disease progression; not tolerated and missed doses",
    "Disease progression; no improvement, non-adherent",
    "Disease progression; non-compliance confirmed",
    "Disease progression; missed doses, non-compliance not ruled out",
    "Disease progression. Adherent? No, missed doses",
    "Disease progression after missed doses. None of the scans after that were read",
]


class TestNegatedNonAdherence:
    @pytest.mark.parametrize("text", ADHERENT)
    def test_a_denied_non_adherence_is_none(self, text: str) -> None:
        """The record says the drug was taken: no words of non-adherence are quoted, and
        the progression is on the drug (clear), as "Disease progression" alone."""
        assert not_taken_said(stopped(text)) is None
        assert progression_said(stopped(text)) is Progression.clear

    @pytest.mark.parametrize("text", NON_ADHERENT)
    def test_a_non_adherence_said_is_still_read(self, text: str) -> None:
        """The drug not taken as prescribed: whether it progressed on it is asked."""
        assert not_taken_said(stopped(text)) is not None
        assert progression_said(stopped(text)) is Progression.unclear

    def test_the_reported_record_reads_progression_on_everolimus(self) -> None:
        """The reported reproduction: progressed yes, and no note saying everolimus was
        not taken as prescribed (the opposite of the record)."""
        read = case_from_bundle(record(stopped(
            "Disease progression despite full adherence, no missed doses")), on=ON)
        [line] = read.case.systemic.therapies
        assert line.progressed is YesNo.yes
        notes = " ".join(read.notes)
        assert "not taken as prescribed" not in notes
        assert "read as the disease having progressed on everolimus" in notes


def outcome_only(text: str | None, code: str = "4119") -> dict[str, Any]:
    """A searchset holding only an outcome whose issue carries Epic's message ``code``
    and the words ``text`` (none when ``None``), as Epic sends a warning."""
    details: dict[str, Any] = {"coding": [{"system": EPIC_MESSAGES, "code": code}]}
    if text is not None:
        details["text"] = text
    return {"resourceType": "Bundle", "type": "searchset", "total": 0,
            "entry": [{"fullUrl": "urn:uuid:oo1", "search": {"mode": "outcome"},
                       "resource": {"resourceType": "OperationOutcome", "issue": [
                           {"severity": "warning", "code": "processing",
                            "details": details}]}}]}


EPIC_4119 = ("This response includes information available to the authorized user at the "
             "time of the request. It may not contain the entire record available in the "
             "system.")


class TestEpicCodeBesideOtherWords:
    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", ["Medications: Not on File",
                                       "Some medications were filtered",
                                       "Check with pharmacy"])
    def test_other_words_are_judged_as_without_the_code(self, kind: str, words: str
                                                        ) -> None:
        """Words not known to leave the list whole: not whole, the words quoted, as the
        same words without the code are."""
        why = incomplete(outcome_only(words), (kind,))
        assert why is not None and words.split(":")[0] in why

    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", [None, EPIC_4119, EPIC_4119.split(".")[1],
                                       "No results found"])
    def test_the_notice_alone_leaves_the_list_whole(self, kind: str, words: str | None
                                                    ) -> None:
        """The code with no words, with the notice's own words, or with words of an
        empty result: Epic sends it with every answer, read as sent."""
        assert incomplete(outcome_only(words), (kind,)) is None

    def test_the_reported_record_asks_for_the_lines(self) -> None:
        """Every medication search answered only by "Medications: Not on File" coded
        4119: the lines already given are unknown (asked), never read as none."""
        bundle = record()
        bundle["entry"].append(outcome_only("Medications: Not on File")["entry"][0])
        read = case_from_bundle(bundle, on=ON)
        assert "medications" in read.unread and "Not on File" in read.unread["medications"]
        assert read.history_doubt is not None

    def test_patient_view_asks_for_the_lines(self, tmp_path: Path) -> None:
        """The reported reproduction through CDS Hooks: each medication prefetch only
        that coded issue. The card is a warning with the lines unknown (as for the same
        words without the code: 5 facts unknown), not the plain info card with only the
        1 fact the record leaves unknown when its lists are read as whole."""
        def change(prefetch: dict[str, Any]) -> None:
            for key in ("medications", "medication_requests", "medication_administrations",
                        "medication_dispenses"):
                prefetch[key] = outcome_only("Medications: Not on File")

        [card] = [c for c in patient_view(make_client(tmp_path), record(), change)
                  if c["summary"].startswith("PEComa")]
        assert card["indicator"] == "warning"
        assert "1 fact(s) unknown" not in card["summary"]
