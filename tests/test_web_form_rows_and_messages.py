"""The case form's row numbers and its messages.

A row numbered with a leading zero (``stage.suspected_metastases[01].site``) used to be
neither read nor refused: the case was assessed without that row, and nothing said so
(a suspected liver lesion, a brain metastasis lost). Every row number the form cannot
read as written is now refused, naming the field, the row number and how one is written.

A value that cannot be read (a scan dated 2026-02-30) used to get a second, false message
("Is required") from the check that then found no value; and a therapy line of 1.5 got
the validation library's wording. One problem now gets one message, in plain words.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from pecoma.case import parse_case
from pecoma.errors import InputError
from pecoma.web import WebConfig, create_app, form_layout, forms
from pecoma.web.form_layout import ROWSPECS

ON = "2026-12-07"
KIDNEY = {"on": ON, "tumour.primary_site": "kidney", "stage.status": "localized"}
METASTATIC = {"on": ON, "tumour.primary_site": "kidney", "stage.status": "metastatic",
              "stage.metastases[0].site": "lung",
              "stage.metastases[0].detected_on": "2026-01-01"}
REPORT = "Summary for the board"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: dt.date(2026, 12, 7)),
                      raise_server_exceptions=False, base_url="http://localhost")


def words_of(html: str) -> str:
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


# Row numbers the form never writes: leading zeros, signs, spaces, other bases and
# separators, and characters that str.isdigit() or int() take for digits but are not
# ASCII 0-9 (Arabic-Indic one, full-width one, superscript two, Devanagari one).
NOT_CANONICAL = ["01", "00", "007", "+1", "-1", " 1", "1 ", "0x1", "0_0", "1.0", "",
                 "\u0661", "\uff11", "\u00b2", "\u0967"]


class TestRowNumbers:
    @pytest.mark.parametrize("row", NOT_CANONICAL)
    @pytest.mark.parametrize("path", ["/report", "/form"])
    def test_a_row_number_not_written_as_the_form_writes_it_is_refused(
        self, client: TestClient, path: str, row: str
    ) -> None:
        """The suspected liver lesion of a row numbered ``[01]`` was dropped: the report
        lost MISS-SUSPECTED-METASTASIS. Now the form comes back (422, no report),
        naming the field, the row number and what a row number is."""
        name = f"stage.suspected_metastases[{row}].site"
        r = client.post(path, data={**KIDNEY, name: "liver"}, follow_redirects=False)
        assert r.status_code == 422, row
        text = words_of(r.text)
        assert REPORT not in text
        assert "stage.suspected_metastases[" in text
        assert "has the row number" in text and "leading zeros" in text
        assert "0, 1, 2" in text

    def test_the_message_names_field_value_and_rule(self) -> None:
        [message] = forms.unread_fields({**KIDNEY, "stage.suspected_metastases[01].site":
                                         "liver"})
        assert message == (
            "Field 'stage.suspected_metastases[01].site' has the row number '01', which "
            "the form cannot read: a row number is written in the digits 0 to 9 without "
            "a sign, spaces or leading zeros (0, 1, 2 … 99).")

    def test_a_row_sent_as_0_and_00_is_refused_not_halved(self, client: TestClient
                                                          ) -> None:
        """``[0]`` lung and ``[00]`` brain: the brain metastasis was lost, so the advice
        could have been that for lung metastases alone. Now nothing is assessed."""
        posted = {**METASTATIC, "stage.metastases[00].site": "brain"}
        r = client.post("/report", data=posted, follow_redirects=False)
        assert r.status_code == 422
        text = words_of(r.text)
        assert REPORT not in text
        assert "Field 'stage.metastases[00].site' has the row number '00'" in text

    def test_a_row_number_written_canonically_is_read(self) -> None:
        """Row 1 alone (no row 0) is read: the suspected liver lesion is in the case
        (the form's own numbering, and the control for the test above)."""
        posted = {**KIDNEY, "stage.suspected_metastases[1].site": "liver"}
        assert forms.unread_fields(posted) == []
        result = forms.form_to_case(posted)
        assert result.case is not None
        assert [s.site.value for s in result.case.stage.suspected_metastases] == ["liver"]

    @pytest.mark.parametrize("prefix", list(ROWSPECS))
    def test_every_group_refuses_a_leading_zero(self, prefix: str) -> None:
        spec = ROWSPECS[prefix]
        name = f"{prefix}[05].{spec.key}"
        [message] = forms.unread_fields({**KIDNEY, name: "x"})
        assert "has the row number '05'" in message


def _number_and_date_controls() -> list[str]:
    names = [c.name for c in form_layout.CONTROLS.values() if c.kind in ("number", "date")]
    for spec in ROWSPECS.values():
        names += [spec.name(0, c) for c in spec.controls if c.kind in ("number", "date")]
    return names


# A case where every row group has a row whose key is set, so any dated or numeric field
# of a row can be given.
FULL = {**METASTATIC, "systemic.therapies[0].agent": "sirolimus",
        "systemic.therapies[0].setting": "advanced",
        "imaging[0].modality": "chest_ct", "imaging[0].finding": "no_evidence_of_disease",
        "imaging[0].date": "2026-06-01"}


class TestOneProblemOneMessage:
    def test_an_impossible_scan_date_gets_one_message(self) -> None:
        """2026-02-30 names no day: that is said once; "Is required" was false (a date
        was entered) and counted the problem twice."""
        result = forms.form_to_case({**FULL, "imaging[0].date": "2026-02-30"})
        assert result.case is None
        assert result.errors == {"imaging[0].date": [
            "Names no day of the calendar (February 2026 has 28 days): it must be a date "
            "as YYYY-MM-DD or day, month name, year (2026-12-02 or 2 Dec 2026), between "
            "1900-01-01 and 2199-12-31 — entered: '2026-02-30'."]}
        assert len(result.issues) == 1

    @pytest.mark.parametrize("name", _number_and_date_controls())
    def test_every_unreadable_value_gets_one_message(self, name: str) -> None:
        control = form_layout.control_of(name)
        assert control is not None
        bad = ["abc", "1.2.3"] if control.kind == "number" else [
            "2026-02-30", "abc", "1700-01-01", "12/02/2026"]
        assert forms.form_to_case(FULL).case is not None  # the case is fine without it
        for value in bad:
            result = forms.form_to_case({**FULL, name: value})
            assert result.case is None
            assert list(result.errors) == [name], (value, result.errors)
            assert len(result.errors[name]) == 1, (value, result.errors)
            assert "required" not in result.errors[name][0].lower()
            assert len(result.issues) == 1


LIBRARY_WORDING = ("valid integer", "unable to parse", "Input should", "input should",
                   "valid number", "fractional part")


def _integer_controls() -> list[str]:
    return [n for n in _number_and_date_controls()
            if (c := form_layout.control_of(n)) is not None and c.step == "1"]


class TestPlainWordsForWholeNumbers:
    def test_the_form_has_integer_fields(self) -> None:
        assert "systemic.therapies[0].line" in _integer_controls()

    @pytest.mark.parametrize("value", ["1.5", "1,5", "abc", "0", "-1", "21", "1e2", "+",
                                       "99999999999999999999999"])
    @pytest.mark.parametrize("name", _integer_controls())
    def test_a_bad_whole_number_is_explained_in_words(
        self, client: TestClient, name: str, value: str
    ) -> None:
        """Line 1.5 showed "Must be a valid integer, unable to parse string as an
        integer": the library's wording. Each integer field says what to write."""
        control = form_layout.control_of(name)
        assert control is not None and control.minimum is not None
        r = client.post("/report", data={**FULL, name: value}, follow_redirects=False)
        assert r.status_code in (303, 422)
        if r.status_code == 303:
            r = client.get(r.headers["location"])
        text = words_of(r.text)
        assert REPORT not in text
        for wording in LIBRARY_WORDING:
            assert wording not in text, (value, wording)
        lo, hi = int(control.minimum), int(control.maximum or 0)
        assert f"Must be a whole number from {lo} to {hi}" in text

    def test_a_whole_number_written_with_a_zero_fraction_is_read(self) -> None:
        """2.0 (or 2,0) is the whole number 2: read as line 2."""
        for value in ("2", "2.0", "2,0", " 2 "):
            result = forms.form_to_case({**FULL, "systemic.therapies[0].line": value})
            assert result.case is not None, (value, result.errors)
            assert result.case.systemic.therapies[0].line == 2

    @pytest.mark.parametrize("line", ["1.5", 1.5, "abc", "2.5e0"])
    def test_the_case_format_says_whole_number_too(self, line: object) -> None:
        """A case file (command line, JSON API) with line 1.5 is refused in the project's
        words too ("abc" and "2.5e0" already were: a plain decimal is asked for)."""
        data = {"tumour": {"primary_site": "kidney"}, "stage": {"status": "metastatic"},
                "systemic": {"therapies": [{"agent": "sirolimus", "line": line}]}}
        with pytest.raises(InputError) as err:
            parse_case(data)
        [issue] = err.value.issues
        assert issue.path == "systemic.therapies[0].line"
        if line in ("1.5", 1.5):
            assert issue.rule == "must be a whole number (1, 2, 3 …)"
        for wording in LIBRARY_WORDING:
            assert wording not in issue.rule
