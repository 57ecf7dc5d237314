"""A resection read by what its words say was done.

* Words naming a resection beside a biopsy of something else ("Nephrectomy with lymph
  node biopsy", "Nephrectomy; biopsy of para-aortic node", "Radical nephrectomy after
  prior biopsy") are the resection: an operation report names the nodes sampled with it.
  Dropped as "a biopsy: no resection", the surgery facts were "not found" and the advice
  was to resect a kidney already removed (S01, S03), the surveillance anchor lost (S18).
* Words naming only a biopsy beside a resection code ("Excisional biopsy of renal mass"
  coded 175905003 Total nephrectomy) disagree with the code: found but not read, the
  surgery facts asked, never "not found".
* Words saying the operation was not carried out ("Aborted nephrectomy", "Nephrectomy
  abandoned", "Attempted", "Open and close"), an exploration only, or a British spelling
  of a procedure that removes nothing ("embolisation", "biopsied") are never the
  resection: read as such, a tumour left in place was put on surveillance.
* A margin "free" with a distance given ("closest 0.1 mm") is a close margin: uncertain
  (S10 considers radiotherapy where margins are uncertain), never R0; a margin result
  not read is "found but not read", to correct in the record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.case import Margin
from pecoma.engine import assess
from pecoma.fhir import case_from_bundle
from pecoma.fhir.mcode import margin_in_text
from test_fhir_resection_codes import NEPHRECTOMY, SCT, kidney_record

ON = dt.date(2026, 12, 10)
SURGERY = ("surgery.status", "surgery.date", "surgery.margin")


def _record(words: str, *, coded: bool = True, margin_note: bool = True) -> dict[str, Any]:
    """The kidney record (nephrectomy of 2023-06-20 for the PEComa, an R1 margin in its
    note unless not ``margin_note``) with the operation named ``words``: as its text and
    the display of SNOMED CT 175905003 Total nephrectomy, or, not ``coded``, as its text
    alone."""
    code: dict[str, Any] = {"text": words}
    if coded:
        code["coding"] = [{"system": SCT, "code": "175905003", "display": words}]
    record = kidney_record(code)
    if not margin_note:
        for entry in record["entry"]:
            if entry["resource"]["id"] == NEPHRECTOMY:
                entry["resource"].pop("note", None)
    return record


def _asked(bc: Any) -> None:
    """The operation set aside and its surgery facts found but not read: asked, each
    listed under "found but not read", none under "not found"."""
    assert bc.case.surgery.status is None or bc.case.surgery.status.value == "unknown"
    assert bc.case.surgery.date is None
    assert all(p in bc.unreadable for p in SURGERY), bc.unreadable
    assert not any(p.startswith("surgery.") for p in bc.not_found), bc.not_found


BESIDE_A_BIOPSY = ["Nephrectomy with lymph node biopsy", "Nephrectomy; biopsy of para-aortic node",
                   "Radical nephrectomy, para-aortic lymph node biopsy",
                   "Radical nephrectomy + lymph node biopsy",
                   "Radical nephrectomy and lymph node biopsy",
                   "Radical nephrectomy after prior biopsy", "Nephrectomy/adrenal biopsy",
                   "Radical nephrectomy; hilar nodes biopsied"]


class TestResectionBesideABiopsy:
    @pytest.mark.parametrize("coded", [True, False], ids=["coded", "words-only"])
    @pytest.mark.parametrize("words", BESIDE_A_BIOPSY)
    def test_is_the_resection(self, words: str, coded: bool) -> None:
        """The nephrectomy was done, the biopsy of the nodes (or an earlier biopsy) beside
        it: the resection of 2023-06-20, its R1 margin read, nothing set aside."""
        bc = case_from_bundle(_record(words, coded=coded), on=ON)
        assert bc.case.surgery.status is not None
        assert bc.case.surgery.status.value == "performed"
        assert bc.case.surgery.date == dt.date(2023, 6, 20)
        assert bc.case.surgery.margin is not None and bc.case.surgery.margin.value == "R1"
        assert not any(NEPHRECTOMY in x for x in bc.not_read), bc.not_read

    def test_an_excisional_biopsy_coded_as_a_nephrectomy_is_asked(self) -> None:
        """An excisional biopsy may have removed the lesion whole, but the code says a
        nephrectomy: the code and its words disagree, so it is listed as not read naming
        both, with a note, and the surgery facts are found but not read (asked)."""
        bc = case_from_bundle(_record("Excisional biopsy of renal mass"), on=ON)
        _asked(bc)
        (line,) = [x for x in bc.not_read if NEPHRECTOMY in x]
        assert "175905003" in line and "'Excisional biopsy of renal mass'" in line
        assert "disagree" in line
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: ") for n in bc.notes)

    @pytest.mark.parametrize("words", ["Preoperative embolisation and nephrectomy",
                                       "Renal mass biopsy instead of nephrectomy",
                                       "Renal biopsy; nephrectomy planned",
                                       "Renal biopsy; nephrectomy not possible"])
    def test_a_resection_beside_an_embolization_or_deferred_is_asked(
            self, words: str) -> None:
        """Words naming a resection beside a treatment in place, or beside a biopsy and
        words deferring or negating the resection: which was done cannot be told. Found
        but not read, asked; never the resection, never "not found"."""
        for coded in (True, False):
            bc = case_from_bundle(_record(words, coded=coded), on=ON)
            _asked(bc)
            assert any(NEPHRECTOMY in x for x in bc.not_read)

    @pytest.mark.parametrize("words", ["Renal biopsy", "Renal mass biopsied",
                                       "Transarterial embolization",
                                       "Transarterial embolisation", "Cryoablation of renal mass"])
    def test_a_procedure_removing_nothing_is_no_resection(self, words: str) -> None:
        """Unchanged neighbours, in US and British spellings alike: a biopsy, an
        embolization or an ablation named alone is no resection (words only: listed as
        such, the surgery facts not found, as with no operation), and beside a resection
        code the code and its words disagree (found but not read, asked)."""
        bc = case_from_bundle(_record(words, coded=False), on=ON)
        assert bc.case.surgery.date is None
        (line,) = [x for x in bc.not_read if NEPHRECTOMY in x]
        assert "no resection" in line
        bc = case_from_bundle(_record(words), on=ON)
        _asked(bc)
        (line,) = [x for x in bc.not_read if NEPHRECTOMY in x]
        assert "disagree" in line


NOT_CARRIED_OUT = ["Aborted nephrectomy", "Nephrectomy abandoned",
                   "Attempted laparoscopic nephrectomy", "Open and close laparotomy",
                   "Nephrectomy not performed; biopsy taken", "Nephrectomy: tumour unresectable"]


class TestOperationNotCarriedOut:
    @pytest.mark.parametrize(("words", "coded"), [
        *((w, True) for w in NOT_CARRIED_OUT),
        # words alone naming a resection ("Open and close laparotomy" names none)
        *((w, False) for w in NOT_CARRIED_OUT if "nephrectomy" in w.lower())])
    def test_is_asked_as_a_stopped_one(self, words: str, coded: bool) -> None:
        """Recorded ``completed``, its own words say the nephrectomy was not carried out:
        the tumour may be in place. As for a ``stopped`` operation with no margin: the
        surgery status unknown, asked, never performed (no surveillance calendar from it),
        a note quoting the words."""
        bc = case_from_bundle(_record(words, coded=coded, margin_note=False), on=ON)
        assert bc.case.surgery.status is not None
        assert bc.case.surgery.status.value == "unknown"
        assert bc.case.surgery.date is None
        (note,) = [n for n in bc.notes if n.startswith(f"Procedure/{NEPHRECTOMY}: ")]
        assert "say it was not carried out" in note and "left unknown" in note

    @pytest.mark.parametrize("words", [
        "Nephrectomy: tumour unresectable", "Nephrectomy - tumour not resectable",
        "Nephrectomy: could not be resected", "Nephrectomy - irresectable"])
    def test_every_word_for_unresectable_is_not_carried_out(self, words: str) -> None:
        """Recorded ``completed``, its words say the tumour could not be removed, in any
        of the words the reader knows for it ("not resectable", "could not be resected",
        "irresectable" were read as a resection performed, its margin unknown, before:
        one list of those words now serves both readings). Hand-written expectation: the
        surgery status unknown (never performed), its date not taken, and the words make
        resectability found but not read, so it is asked (MISS-PRIMARY-RESECTABLE)."""
        bc = case_from_bundle(_record(words, margin_note=False), on=ON)
        assert bc.case.surgery.status is not None
        assert bc.case.surgery.status.value == "unknown"
        assert bc.case.surgery.date is None
        assert f"Procedure/{NEPHRECTOMY}" in bc.unreadable["stage.resectable"]
        assert "stage.resectable" not in bc.not_found
        assert "MISS-PRIMARY-RESECTABLE" in {m.id for m in assess(bc.case, ON).missing}

    def test_with_its_margin_recorded_it_is_read_with_a_note(self) -> None:
        """As for a ``stopped`` one: a margin recorded for it says what it removed and
        left (R1 here): performed, its margin read, a note asks to check the margin."""
        bc = case_from_bundle(_record("Aborted nephrectomy"), on=ON)
        assert bc.case.surgery.status is not None
        assert bc.case.surgery.status.value == "performed"
        assert bc.case.surgery.margin is not None and bc.case.surgery.margin.value == "R1"
        (note,) = [n for n in bc.notes if n.startswith(f"Procedure/{NEPHRECTOMY}: ")]
        assert "not carried out" in note and "check the margin" in note

    def test_an_exploratory_laparotomy_coded_as_a_nephrectomy_is_asked(self) -> None:
        """An exploration removes nothing: beside a nephrectomy code the code and its
        words disagree (asked); an exploration followed by the nephrectomy is the
        resection."""
        _asked(case_from_bundle(_record("Exploratory laparotomy", margin_note=False), on=ON))
        bc = case_from_bundle(_record("Exploratory laparotomy and radical nephrectomy"), on=ON)
        assert bc.case.surgery.date == dt.date(2023, 6, 20)

    def test_a_plain_nephrectomy_is_unchanged(self) -> None:
        bc = case_from_bundle(_record("Radical nephrectomy", margin_note=False), on=ON)
        assert bc.case.surgery.status is not None
        assert bc.case.surgery.status.value == "performed"
        assert bc.case.surgery.date == dt.date(2023, 6, 20)


def _with_margin(value: str) -> dict[str, Any]:
    """The kidney record, the nephrectomy's note removed, a margin result of 2023-06-25
    (code text "Surgical margin") valued ``value``."""
    record = _record("Radical nephrectomy", margin_note=False)
    pid = record["entry"][0]["resource"]["id"]
    record["entry"].append({"resource": {
        "resourceType": "Observation", "id": "margin", "status": "final",
        "code": {"text": "Surgical margin"}, "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": "2023-06-25", "valueString": value}})
    return record


class TestMarginWords:
    @pytest.mark.parametrize(("text", "margin"), [
        ("Margins free (closest 0.1 mm)", Margin.uncertain),
        ("Margins clear, closest 2 mm", Margin.uncertain),
        ("Margins negative; tumour 5 mm from the renal vein margin", Margin.uncertain),
        # neighbours: unchanged
        ("Margins clear", Margin.R0),
        ("Margins clear; no lymphovascular invasion", Margin.R0),
        ("Tumour 0 mm from the margin", Margin.R1),
        ("Tumour 1 mm from the margin", Margin.uncertain),
    ])
    def test_a_clear_margin_with_a_distance_is_close(self, text: str, margin: Margin) -> None:
        """A distance from the margin given beside "free" is a close margin whose
        clearance is not assured: uncertain, never R0 (S10)."""
        assert margin_in_text(text) is margin

    def test_a_close_margin_result_is_read_uncertain(self) -> None:
        bc = case_from_bundle(_with_margin("Margins free (closest 0.1 mm)"), on=ON)
        assert bc.case.surgery.margin is not None
        assert bc.case.surgery.margin.value == "uncertain"

    @pytest.mark.parametrize("value", ["Tumour focally present at the renal vein margin",
                                       "Renal sinus margin involved; other margins clear"])
    def test_a_margin_result_not_read_is_found_but_not_read(self, value: str) -> None:
        """The record holds the margin in words pecoma does not read: the margin is
        unknown, asked, and listed as found but not read (to correct in the record),
        never as not found in the bundle."""
        bc = case_from_bundle(_with_margin(value), on=ON)
        assert bc.case.surgery.margin is None or bc.case.surgery.margin.value == "unknown"
        assert "surgery.margin" in bc.unreadable
        assert "Observation/margin" in bc.unreadable["surgery.margin"]
        assert "surgery.margin" not in bc.not_found
