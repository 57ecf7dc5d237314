"""The case form reads what people type: decimal commas, dates in ISO or with the month's
name (never a numeric date that reads two ways), "none of the four worrisome features",
every problem in one pass in words, and repeated rows with or without JavaScript."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape as html_unescape
from html.parser import HTMLParser
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from pecoma.case import Feature
from pecoma.engine import assess
from pecoma.store.tokens import Role
from pecoma.web import WebConfig, create_app, form_input, form_layout, forms
from pecoma.web.auth import needed_role

ON = dt.date(2026, 11, 28)
BASE = {"on": "2026-11-28", "tumour.primary_site": "kidney", "stage.status": "localized"}
FOUR = form_layout.WORRISOME_FOUR


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON), raise_server_exceptions=False, base_url="http://localhost")


def words_of(html: str) -> str:
    """A page's text without its tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class Summary(HTMLParser):
    """The error summary's links (href, words) and the ids of the page's controls."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.items: list[str] = []
        self.ids: set[str] = set()
        self._in = 0
        self._href: str | None = None
        self._item: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("input", "select") and "id" in a:
            self.ids.add(a["id"])
        if a.get("id") == "error-summary":
            self._in = 1
        elif self._in and tag == "section":
            self._in += 1
        if self._in and tag == "li":
            self._item = []
        if self._in and tag == "a":
            self._href = a.get("href", "")

    def handle_endtag(self, tag: str) -> None:
        if self._in and tag == "section":
            self._in -= 1
        if self._in and tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)
        if self._href is not None:
            self.links.append((self._href, data.strip()))
            self._href = None


class TestNumbers:
    @pytest.mark.parametrize(
        ("typed", "read"),
        [
            ("3,5", "3.5"),
            ("3.5", "3.5"),
            ("0,25", "0.25"),
            (" 12 ", "12"),
            (",5", ".5"),
            ("7,", "7."),
            ("-1", "-1"),
        ],
    )
    def test_read(self, typed: str, read: str) -> None:
        assert form_input.parse_form_number(typed) == read

    @pytest.mark.parametrize(
        "typed",
        ["", "seven", "1.234,5", "1,234.5", "3,5,1", "3e2", "nan", "inf", "3 5", "0x10", "½", "٣"],
    )
    def test_refused(self, typed: str) -> None:
        assert form_input.parse_form_number(typed) is None

    @pytest.mark.parametrize(
        "name", [c.name for c in form_layout.CONTROLS.values() if c.kind == "number"]
    )
    def test_every_number_field_takes_a_decimal_comma(self, name: str) -> None:
        """The same case whether the decimal is written with a point or a comma."""
        values = {**BASE, "stage.status": "metastatic", name: "2,5"}
        with_comma = forms.form_to_case(values)
        with_point = forms.form_to_case({**values, name: "2.5"})
        assert with_comma.errors == with_point.errors
        assert with_comma.case == with_point.case
        assert with_comma.case is not None

    def test_row_numbers_take_a_decimal_comma(self) -> None:
        """The line of a therapy row is a number too: '2,0' is line 2; '2,5' is refused
        as what it is, not a whole number (not as unreadable), naming what a line takes."""
        row = {**BASE, "stage.status": "metastatic", "systemic.therapies[0].agent": "sirolimus",
               "systemic.therapies[0].setting": "advanced"}
        whole = forms.form_to_case({**row, "systemic.therapies[0].line": "2,0"})
        assert whole.case is not None and whole.case.systemic.therapies[0].line == 2
        half = forms.form_to_case({**row, "systemic.therapies[0].line": "2,5"})
        (message,) = half.errors["systemic.therapies[0].line"]
        assert "decimal comma" not in message and "2,5" in message
        assert "Must be a whole number from 1 to 20" in message

    def test_size_with_a_comma_in_the_case(self) -> None:
        result = forms.form_to_case({**BASE, "tumour.size.value": "3,5"})
        assert result.case is not None and result.case.tumour.size is not None
        assert result.case.tumour.size.value == 3.5

    def test_unreadable_number_names_the_forms_allowed(self) -> None:
        result = forms.form_to_case({**BASE, "histology.mitoses_per_50_hpf": "1.234,5"})
        (message,) = result.errors["histology.mitoses_per_50_hpf"]
        assert "3.5 or 3,5" in message and "1.234,5" in message

    @pytest.mark.parametrize(("typed", "readings"), [
        ("5.000", "write 5,0 (or 5) if the point is a decimal point, or 5000 if it"),
        ("12.500", "write 12,5 if the point is a decimal point, or 12500 if it"),
    ])
    def test_a_thousands_point_is_refused_naming_both_readings(
        self, typed: str, readings: str
    ) -> None:
        """The form takes a decimal comma, so its point may be a thousands separator
        (5.000 is five thousand where 5,5 is five and a half): neither reading is taken;
        the message says how to write each, for the size and the mitoses alike."""
        for name in ("tumour.size.value", "histology.mitoses_per_50_hpf"):
            result = forms.form_to_case({**BASE, name: typed})
            assert result.case is None
            (message,) = result.errors[name]
            assert readings in " ".join(message.split()) and typed in message

    @pytest.mark.parametrize(("typed", "readings"), [
        ("1,500", "write 1.5 if the comma is a decimal comma, or 1500 if it"),
        ("12,250", "write 12.25 if the comma is a decimal comma, or 12250 if it"),
    ])
    def test_a_thousands_comma_is_refused_naming_both_readings(
        self, typed: str, readings: str
    ) -> None:
        """'1,500' typed in a size in mm read as 1.5 mm, where English writes fifteen
        hundred so: neither reading is taken, the field, the value and how to write each
        reading named, as for 5.000. 1,5 and 12,25 (no group of three) still read."""
        for name in ("tumour.size.value", "histology.mitoses_per_50_hpf"):
            result = forms.form_to_case({**BASE, name: typed})
            assert result.case is None
            (message,) = result.errors[name]
            assert readings in " ".join(message.split()) and typed in message
        for kept, number in (("1,5", 1.5), ("12,25", 12.25)):
            result = forms.form_to_case({**BASE, "tumour.size.value": kept})
            assert result.case is not None and result.case.tumour.size is not None
            assert result.case.tumour.size.value == number

    @pytest.mark.parametrize("size", [2.125, 1.234, 10.125, 5.0, 12.5, 0.125])
    def test_a_stored_size_is_shown_so_that_it_reads_back(self, size: float) -> None:
        """A case edited again shows its numbers so that the form reads them back as the
        same numbers: 2.125 (a thousands point beside decimal commas) is shown 2.1250."""
        result = forms.form_to_case({**BASE, "tumour.size.value": "1"})
        assert result.case is not None and result.case.tumour.size is not None
        size_obj = result.case.tumour.size.model_copy(update={"value": size})
        case = result.case.model_copy(update={"tumour": result.case.tumour.model_copy(
            update={"size": size_obj})})
        values = forms.case_to_values(case, ON)
        again = forms.form_to_case(values)
        assert again.errors == {}
        assert again.case is not None and again.case.tumour.size is not None
        assert again.case.tumour.size.value == size

    @given(st.decimals(min_value=0, max_value=400, places=3, allow_nan=False))
    def test_any_decimal_reads_the_same_with_a_comma(self, number: object) -> None:
        """... unless it reads two ways (1,500: a thousands comma?), then refused."""
        text = f"{number}"
        typed = text.replace(".", ",")
        two_ways = re.fullmatch(r"[1-9]\d{0,2},\d{3}", typed) is not None
        assert form_input.parse_form_number(typed) == (None if two_ways else text)


class TestDates:
    @pytest.mark.parametrize(
        "typed",
        [
            "2026-12-02",
            "2026-12-2",
            "2 Dec 2026",
            "02 Dec 2026",
            "2 December 2026",
            "2 dec 2026",
            "2-Dec-2026",
            "2 Dec. 2026",
            "2 DECEMBER 2026",
            " 2 Dec 2026 ",
        ],
    )
    def test_read(self, typed: str) -> None:
        assert form_input.parse_form_date(typed) == dt.date(2026, 12, 2)

    def test_september_abbreviations(self) -> None:
        assert form_input.parse_form_date("3 Sept 2025") == dt.date(2025, 9, 3)
        assert form_input.parse_form_date("3 Sep 2025") == dt.date(2025, 9, 3)

    @pytest.mark.parametrize("typed", ["12/02/2026", "02.12.2026", "2-12-2026", "12/2/2026"])
    def test_two_readings_refused_with_both(self, typed: str) -> None:
        rule = form_input.parse_form_date(typed)
        assert isinstance(rule, str)
        assert "12 Feb 2026" in rule and "2 Dec 2026" in rule
        assert "YYYY-MM-DD" in rule

    @pytest.mark.parametrize(
        "typed",
        [
            "31/12/2026",
            "12/31/2026",
            "12/02/26",
            "2026/12/02",
            "2026-02-30",
            "30 Feb 2026",
            "2 Foo 2026",
            "yesterday",
            "20261202",
            "2 Dez 2026",
        ],
    )
    def test_refused(self, typed: str) -> None:
        rule = form_input.parse_form_date(typed)
        assert isinstance(rule, str) and "YYYY-MM-DD" in rule

    def test_outside_the_supported_range(self) -> None:
        rule = form_input.parse_form_date("31 Dec 1899")
        assert isinstance(rule, str) and "1900-01-01" in rule

    def test_shown_again_in_iso(self) -> None:
        """A date typed with the month's name is shown back as YYYY-MM-DD."""
        result = forms.form_to_case(
            {**BASE, "diagnosis.date": "2 Dec 2025", "histology.mitoses_per_50_hpf": "x"}
        )
        assert result.case is None
        assert result.values["diagnosis.date"] == "2025-12-02"

    def test_ambiguous_date_rejected_with_the_field_label(self, client: TestClient) -> None:
        r = client.post("/report", data={**BASE, "diagnosis.date": "12/02/2026"})
        assert r.status_code == 422
        page = Summary(r.text)
        assert ("#f-diagnosis-date", "Date of diagnosis") in page.links
        (item,) = page.items
        assert "12 Feb 2026" in item and "2 Dec 2026" in item and "12/02/2026" in item

    def test_evaluation_date_with_the_month_name(self, client: TestClient) -> None:
        r = client.post("/report", data={**BASE, "on": "28 Nov 2026"})
        assert r.status_code == 200, r.text[:2000]
        assert re.search(r"Risk:\s*indeterminate", words_of(r.text))


class TestNoneOfFour:
    """Precedence: the box turns each of the four left unknown (or blank) into absent; an
    explicit 'absent' stays absent; an explicit 'present' is never overwritten: it is
    reported as contradicting the box, and the case is not assessed."""

    def test_unknown_become_absent(self) -> None:
        result = forms.form_to_case(
            {**BASE, "none_of_four": "yes", **{name: "unknown" for name in FOUR}}
        )
        assert result.case is not None
        h = result.case.histology
        assert (
            h.necrosis,
            h.infiltrative_growth,
            h.high_nuclear_grade_and_cellularity,
            h.vascular_invasion,
        ) == (Feature.absent,) * 4
        # Pleomorphism is not one of the four: it stays unknown.
        assert h.nuclear_pleomorphism_or_giant_cells is Feature.unknown

    def test_blank_or_missing_become_absent(self) -> None:
        result = forms.form_to_case({**BASE, "none_of_four": "yes", FOUR[0]: ""})
        assert result.case is not None and result.case.histology.necrosis is Feature.absent

    def test_shown_again_as_entered(self, client: TestClient) -> None:
        """A refused form comes back with the box ticked and the four as entered (unknown),
        not as the box made them: unticking it then leaves them unknown, without
        JavaScript as with it; shown as absent, an untick would keep four facts absent
        that nobody reported, and turn an indeterminate risk into low (I1)."""
        posted = {**BASE, "none_of_four": "yes", **{name: "unknown" for name in FOUR},
                  "tumour.size.value": "3,0", "on": "bad"}
        result = forms.form_to_case(posted)
        assert [result.values[name] for name in FOUR] == ["unknown"] * 4
        r = client.post("/report", data=posted)
        assert r.status_code == 422
        assert re.search(r'name="none_of_four" value="yes" checked', r.text)
        for name in FOUR:
            control = re.search(rf'<select[^>]*name="{re.escape(name)}".*?</select>', r.text, re.S)
            assert control is not None
            assert re.findall(r'<option value="(\w*)" selected', control.group()) == ["unknown"]
        # The box unticked on that page, the date corrected: what the browser then posts.
        again = {k: v for k, v in posted.items() if k != "none_of_four"} | {"on": "28 Nov 2026"}
        ok = client.post("/report", data=again)
        assert ok.status_code == 200, ok.text[:2000]
        assert re.search(r"Risk:\s*indeterminate", words_of(ok.text))

    def test_explicit_present_is_never_overwritten(self) -> None:
        values = {**BASE, "none_of_four": "yes", "histology.infiltrative_growth": "present"}
        result = forms.form_to_case(values)
        assert result.case is None
        assert result.values["histology.infiltrative_growth"] == "present"
        (message,) = result.errors["histology.infiltrative_growth"]
        assert "None of these histology features" in message
        assert list(result.errors) == ["histology.infiltrative_growth"]

    def test_explicit_absent_with_the_box(self) -> None:
        result = forms.form_to_case({**BASE, "none_of_four": "yes", FOUR[1]: "absent"})
        assert result.case is not None
        assert result.case.histology.infiltrative_growth is Feature.absent

    def test_without_the_box_unknown_stays_unknown(self) -> None:
        result = forms.form_to_case({**BASE, **{name: "unknown" for name in FOUR}})
        assert result.case is not None
        assert result.case.histology.necrosis is Feature.unknown

    @pytest.mark.parametrize("ticked", ["no", "on", "<script>", "YES"])
    def test_other_values_are_refused(self, ticked: str) -> None:
        result = forms.form_to_case({**BASE, "none_of_four": ticked})
        assert result.case is None and "none_of_four" in result.errors

    def test_small_kidney_with_the_box_is_low_risk(self) -> None:
        """3 cm and the box: every guideline high-risk feature absent, so low risk (I1)."""
        result = forms.form_to_case({**BASE, "none_of_four": "yes", "tumour.size.value": "3,0"})
        assert result.case is not None
        assert assess(result.case, ON).risk.group == "low"
        without = forms.form_to_case({**BASE, "tumour.size.value": "3,0"})
        assert without.case is not None
        assert assess(without.case, ON).risk.group == "indeterminate"


PATH = re.compile(r"\b[a-z_]+\.[a-z_]+|\[\d+\]")


class TestAllErrorsAtOnce:
    FORM: ClassVar[dict[str, str]] = {
        "on": "2026-11-28",
        "tumour.size.value": "seven",  # unreadable number
        # unreadable: a fact no contradiction compares (a date of diagnosis unreadable
        # would hold the contradictions back, as they might depend on it)
        "histology.mitoses_per_50_hpf": "a few",
        "stage.status": "localized",
        "stage.extrapulmonary_disease": "yes",  # contradicts localized
        "stage.metastases[0].site": "lung",  # contradicts localized
        "surgery.margin": "R0",  # contradicts surgery not performed
        "primary_treatment_end": "2027-01-05",  # after the evaluation date
        "imaging[0].modality": "chest_ct",  # a scan without its date
        # tumour.primary_site left out: required
    }
    EXPECTED: ClassVar[list[str]] = [
        "tumour.primary_site",
        "tumour.size.value",
        "histology.mitoses_per_50_hpf",
        "stage.extrapulmonary_disease",
        "stage.metastases[0].site",
        "surgery.margin",
        "primary_treatment_end",
        "imaging[0].date",
    ]

    def test_every_problem_in_one_pass(self) -> None:
        result = forms.form_to_case(self.FORM)
        assert result.case is None
        assert list(result.errors) == self.EXPECTED  # in the order of the form
        assert result.general == []

    def test_contradictions_found_beside_unreadable_required_facts(self) -> None:
        """With the disease status unreadable the other contradictions are still found."""
        result = forms.form_to_case({**self.FORM, "stage.status": "spreading"})
        assert "stage.status" in result.errors
        assert "surgery.margin" in result.errors
        # Those that depend on the status cannot be judged without it.
        assert "stage.extrapulmonary_disease" not in result.errors

    def test_summary_in_words_each_linked(self, client: TestClient) -> None:
        r = client.post("/report", data=self.FORM)
        assert r.status_code == 422
        page = Summary(r.text)
        assert len(page.items) == len(self.EXPECTED)
        for href, _ in page.links:
            assert href.startswith("#") and href[1:] in page.ids, href
        labels = [words for _, words in page.links]
        assert labels[:3] == ["Primary site", "Largest dimension", "Mitoses"]
        assert "Metastasis 1: Site" in labels and "Scan 1: Date" in labels
        for item in page.items:
            assert not PATH.search(item.replace("Metastasis 1", "")), item
        assert "<title>Error: " in r.text

    def test_no_field_path_in_any_contradiction(self) -> None:
        """The case format's contradictions, in words (labels for paths, words for
        values)."""
        result = forms.form_to_case(
            {
                **BASE,
                "stage.status": "locally_advanced_unresectable",
                "stage.resectable": "yes",
                "surgery.status": "performed",
                "surgery.date": "2024-01-10",
                "diagnosis.date": "2024-02-01",
            }
        )
        messages = [m for ms in result.errors.values() for m in ms]
        assert len(messages) == 2
        for m in messages:
            assert not PATH.search(m), m
        assert any("“Disease status” is 'locally advanced, unresectable'" in m for m in messages)
        assert any("“Date of diagnosis”" in m for m in messages)


def rows_of(html: str, prefix: str) -> list[int]:
    return sorted({int(n) for n in re.findall(rf'name="{re.escape(prefix)}\[(\d+)\]\.', html)})


class TestRowsWithoutJavaScript:
    def test_no_rows_before_the_status_is_known(self, client: TestClient) -> None:
        html = client.get("/").text
        assert rows_of(html, "stage.metastases") == []
        assert "Add a metastasis" in html
        assert "Add an intolerance" in html  # the article follows the noun

    def test_status_decides_the_blank_rows(self) -> None:
        spec = {g.rows.prefix: g.rows for g in form_layout.FORM if g.rows}
        for status, expected in [
            ("", (0, 0, 0)),
            ("localized", (0, 0, 1)),
            ("locally_advanced_unresectable", (0, 1, 0)),
            ("recurrent", (1, 1, 1)),
            ("metastatic", (1, 1, 1)),
        ]:
            counts = tuple(
                forms.row_count({"stage.status": status}, spec[p])
                for p in ("stage.metastases", "systemic.therapies", "imaging")
            )
            assert counts == expected, status

    def test_a_row_number_of_thousands_of_digits_is_no_500(self, client: TestClient
                                                          ) -> None:
        """int() does not read 5,000 digits: such a row name is not a row of the form."""
        for path in ("/report", "/form"):
            r = client.post(path, data={**BASE, "stage.status": "metastatic",
                                        f"systemic.therapies[{'9' * 5000}].agent":
                                        "sirolimus"}, follow_redirects=False)
            assert r.status_code < 500, (path, r.status_code)

    def test_a_field_sent_twice_is_refused_naming_both_values(self, client: TestClient
                                                               ) -> None:
        """'tumour.size.value=80&tumour.size.value=3' was read as 3 cm, silently (the risk
        turns on the size): the form comes back naming the field and both values."""
        from urllib.parse import urlencode

        body = urlencode([*BASE.items(), ("tumour.size.value", "80"),
                          ("tumour.size.value", "3")])
        r = client.post("/report", content=body, follow_redirects=False,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        assert "tumour.size.value" in r.text and "was sent more than once" in r.text
        assert "&#39;80&#39;, &#39;3&#39;" in r.text

    @pytest.mark.parametrize(("field", "first", "second"), [
        ("tumour.size.value", "4", "6"),  # a number the risk turns on (S06)
        ("tumour.size.unit", "cm", "mm"),  # a choice
        ("diagnosis.date", "2025-01-06", "2 Dec 2025"),  # a date
        ("stage.metastases[0].site", "lung", "liver"),  # a row's field
        ("_add", "stage.metastases", "systemic.therapies"),  # which row to add?
    ])
    @pytest.mark.parametrize("path", ["/report", "/form"])
    def test_a_field_sent_twice_is_refused_on_every_post_of_the_case_form(
        self, client: TestClient, path: str, field: str, first: str, second: str
    ) -> None:
        """"Add another row" (POST /form) kept the last of a field sent twice and showed
        the form filled with it (size 6, no word), although the report's post refused
        it. Both posts of the case form now come back (422, in place) naming the field
        and both values beside the form, as docs/web.md says."""
        from urllib.parse import urlencode

        pairs = [*BASE.items(), (field, first), (field, second)]
        if path == "/form" and field != "_add":
            pairs.append(("_add", "imaging"))
        r = client.post(path, content=urlencode(pairs), follow_redirects=False,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        text = html_unescape(r.text)
        assert f"'{field}' was sent more than once" in text
        assert f"(got '{first}', '{second}')" in text

    def test_rows_shown_takes_only_ascii_digits(self) -> None:
        """The hidden count of rows shown is a number the form wrote: '²' or Arabic-Indic
        digits (str.isdigit() accepts both, int() refuses '²') count as no rows, not a
        500."""
        spec = {g.rows.prefix: g.rows for g in form_layout.FORM if g.rows}
        rows = spec["systemic.therapies"]
        for text in ("²", "١", "2²", "-1", "", "1000"):
            assert forms.rows_shown({"_rows.systemic.therapies": text}, rows) == 0, text
        assert forms.rows_shown({"_rows.systemic.therapies": "2"}, rows) == 2

    def test_add_another_keeps_everything_typed(self, client: TestClient) -> None:
        posted = {
            **BASE,
            "stage.status": "metastatic",
            "tumour.size.value": "3,5",
            "diagnosis.date": "2 Dec 2025",
            "none_of_four": "yes",
            "_rows.stage.metastases": "1",
            "stage.metastases[0].site": "lung",
            "_add": "stage.metastases",
        }
        r = client.post("/form", data=posted)
        assert r.status_code == 200
        assert rows_of(r.text, "stage.metastases") == [0, 1]
        assert 'value="3,5"' in r.text and 'value="2 Dec 2025"' in r.text
        assert re.search(r'name="none_of_four" value="yes" checked', r.text)
        assert re.search(r'<option value="lung" selected>', r.text)
        assert "error-summary" not in r.text  # nothing is checked yet
        again = client.post("/form", data={**posted, "_rows.stage.metastases": "2"})
        assert rows_of(again.text, "stage.metastases") == [0, 1, 2]

    def test_first_row_from_no_rows(self, client: TestClient) -> None:
        r = client.post("/form", data={**BASE, "_add": "systemic.therapies"})
        assert rows_of(r.text, "systemic.therapies") == [0]

    def test_the_form_then_reaches_the_report(self, client: TestClient) -> None:
        r = client.post(
            "/report",
            data={
                **BASE,
                "stage.status": "metastatic",
                "tumour.size.value": "8",
                "_rows.stage.metastases": "2",
                "stage.metastases[0].site": "lung",
                "stage.metastases[0].detected_on": "20 Oct 2024",
                "stage.metastases[1].timing": "unknown",  # a blank row left as offered
                "surgery.status": "performed",
                "surgery.date": "2023-02-14",
            },
        )
        assert r.status_code == 200, r.text[:3000]
        assert re.search(r"Risk:\s*not applicable", words_of(r.text))

    def test_enter_assesses(self, client: TestClient) -> None:
        """The form's first submit button (the one Enter presses) assesses the case."""
        html = client.get("/").text
        form = html[html.index('<form method="post" action="/report"') :]
        first = re.search(r"<button[^>]*>", form)
        assert first is not None and 'type="submit"' in first[0]
        assert "formaction" not in first[0] and "_add" not in first[0]

    @pytest.mark.parametrize(
        "posted",
        [
            {"_add": "nonsense"},
            {"_add": "stage.metastases", "_rows.stage.metastases": "999999"},
            {"_add": "imaging", "_rows.imaging": "-3"},
            {"_rows.evil": "4", "_add": ""},
            {"_add": "stage.metastases", "stage.metastases[49].site": "lung"},
        ],
    )
    def test_hostile_posts(self, client: TestClient, posted: dict[str, str]) -> None:
        r = client.post("/form", data={**BASE, **posted})
        # a field the form cannot read is named, as on /report, not left out unseen
        unread = forms.unread_fields(posted)
        assert r.status_code == (422 if unread else 200)
        assert all(html_unescape(u) in html_unescape(words_of(r.text)) for u in unread)
        for prefix in ("stage.metastases", "systemic.therapies", "imaging"):
            assert len(rows_of(r.text, prefix)) <= form_layout.MAX_ROWS


def _scans(n: int) -> dict[str, str]:
    """``n`` scans, one a month from 2016, each a chest CT without recurrence."""
    out: dict[str, str] = {}
    for i in range(n):
        day = dt.date(2016 + i // 12, 1 + i % 12, 1)
        out[f"imaging[{i}].date"] = day.isoformat()
        out[f"imaging[{i}].modality"] = "chest_ct"
        out[f"imaging[{i}].finding"] = "no_evidence_of_disease"
    return out


class TestNothingPostedIsLeftOut:
    """A posted field the form cannot read used to be dropped without a word: a misspelt
    field of a scripted post, and the rows after the 50th (a browser with JavaScript could
    add them), so a patient's latest scans were missing from the plan. Such a form is now
    refused, naming the field; the form takes 100 rows per group."""

    MITOSES = "histology.mitoses_per_50_hpf"

    @pytest.mark.parametrize(
        ("name", "says"),
        [
            ("histology.mitoses_per_50hpf", "is not a field of the case form"),
            ("stage.metastases[0].sites", "is not a field of a row of metastases"),
            ("imaging[100].date", "is row 101: the form reads at most 100 rows of scans"),
            (f"systemic.therapies[{'9' * 5000}].agent", "is not a field of the case form"),
        ],
    )
    def test_a_field_the_form_cannot_read_is_refused(
        self, client: TestClient, name: str, says: str
    ) -> None:
        r = client.post("/report", data={**BASE, name: "12"}, follow_redirects=False)
        assert r.status_code == 422
        text = words_of(r.text)
        assert says in text
        assert name[:40] in text

    def test_many_unread_fields_are_counted(self, client: TestClient) -> None:
        posted = {**BASE, **{f"extra_{i}": "1" for i in range(13)}}
        r = client.post("/report", data=posted, follow_redirects=False)
        assert r.status_code == 422
        assert "3 more fields cannot be read either" in words_of(r.text)

    def test_the_form_own_fields_are_no_facts_and_are_accepted(self, client: TestClient
                                                               ) -> None:
        posted = {**BASE, "_rows.imaging": "1", "_rows.stage.metastases": "0"}
        r = client.post("/report", data=posted, follow_redirects=False)
        assert r.status_code == 303

    def test_a_hundred_scans_are_all_read(self, client: TestClient) -> None:
        """100 rows: 50 visits, each a chest CT and an MRI of the primary on one day (the
        two examinations of a high-risk visit, S21, S22), every 2 months from 2016-01-01.
        A visit holds every scan up to its latest date and the next counts from its last
        day (every 3 months, then every 6, then yearly: S18-S20, I1, the risk
        indeterminate): visit 1 (due 2016-03-01) holds 2016-01-01 and 2016-03-01, visit 2
        (due 2016-06-01) 2016-05-01 and 2016-07-01, and so on, the yearly visit 17 (due
        2024-03-01) the scans of 2023-05-01 to 2024-03-01. So the 100th row (2024-03-01,
        the latest) re-anchors the plan: the next is visit 18, due a year after it, on
        2025-03-01; with the rows after the 50th left out it would count from
        2020-01-01."""
        rows: dict[str, str] = {}
        for i in range(100):
            k = i // 2
            day = dt.date(2016 + (2 * k) // 12, 1 + (2 * k) % 12, 1)
            rows[f"imaging[{i}].date"] = day.isoformat()
            rows[f"imaging[{i}].modality"] = ("chest_ct", "mri_primary")[i % 2]
            rows[f"imaging[{i}].finding"] = "no_evidence_of_disease"
        posted = {**BASE, "diagnosis.date": "2015-11-01", "surgery.status": "performed",
                  "surgery.date": "2015-12-01",
                  "surgery.margin": "R0", **rows}
        result = forms.form_to_case(posted)
        assert result.case is not None and len(result.imaging) == 100
        assert result.imaging[-1]["date"] == "2024-03-01"
        assert forms.unread_fields(posted) == []
        r = client.post("/report", data=posted)
        assert r.status_code == 200
        assert "Next visit: #18 due 2025-03-01" in words_of(r.text)

    def test_the_add_button_stops_at_the_limit(self, client: TestClient) -> None:
        full = client.post("/form", data={**BASE, **_scans(100), "_rows.imaging": "100",
                                          "_add": "imaging"})
        assert rows_of(full.text, "imaging") == list(range(100))
        button = re.search(r'<button[^>]*value="imaging"[^>]*>', full.text)
        assert button is not None and "disabled" in button[0]
        assert "The form takes at most 100 scans." in words_of(full.text)
        fewer = client.post("/form", data={**BASE, **_scans(3), "_add": "imaging"})
        button = re.search(r'<button[^>]*value="imaging"[^>]*>', fewer.text)
        assert button is not None and "disabled" not in button[0]

    def test_a_case_too_long_for_the_form_is_not_shown_cut_short(self, client: TestClient
                                                                  ) -> None:
        """Editing a case of 101 scans would have shown 50 (the rest lost on the next
        submit): it is refused, naming the group and the way that takes it."""
        import json

        scans = [{"date": f"{2000 + i // 12}-{1 + i % 12:02d}-01", "modality": "chest_ct"}
                 for i in range(101)]
        case = {"format": "pecoma-case/1", "tumour": {"primary_site": "kidney"},
                "stage": {"status": "localized"}}
        r = client.post("/edit", data={"case": json.dumps(case), "on": "2026-11-28",
                                       "imaging": json.dumps(scans)})
        assert r.status_code == 422
        text = words_of(r.text)
        assert "101 scans" in text and "at most 100" in text
        ok = client.post("/edit", data={"case": json.dumps(case), "on": "2026-11-28",
                                        "imaging": json.dumps(scans[:100])})
        assert ok.status_code == 200
        assert rows_of(ok.text, "imaging") == list(range(100))


def test_add_another_is_open_as_the_assessment_is() -> None:
    """In server mode "add another" (POST /form) needs what assessing a case needs."""
    assert needed_role("POST", "/form", WebConfig(auth="on")) == needed_role(
        "POST", "/report", WebConfig(auth="on")
    )
    closed = WebConfig(auth="on", open_assessment=False)
    assert needed_role("POST", "/form", closed) is Role.reader


class TestAnyText:
    """Whatever is typed is read or named at its field: never dropped, never a crash."""

    @given(st.text(max_size=14))
    def test_number_field(self, text: str) -> None:
        result = forms.form_to_case({**BASE, "histology.mitoses_per_50_hpf": text})
        if result.case is None:
            assert list(result.errors) == ["histology.mitoses_per_50_hpf"]
            return
        read = result.case.histology.mitoses_per_50_hpf
        if text.strip():
            assert read == float(text.strip().replace(",", "."))
        else:
            assert read is None

    @given(st.text(max_size=20))
    def test_date_field(self, text: str) -> None:
        result = forms.form_to_case({**BASE, "diagnosis.date": text})
        if result.case is None:
            assert list(result.errors) == ["diagnosis.date"]
            return
        day = result.case.diagnosis.date
        assert (day is None) == (not text.strip())
        if day is not None:
            assert form_input.parse_form_date(text) == day


class TestLongLabel:
    def test_label_over_80_characters_in_words(self, client: TestClient) -> None:
        """A label typed past the limit (the field's maxlength can be bypassed) is
        refused in words on the form, with the length given."""
        result = forms.form_to_case({**BASE, "label": "x" * 87})
        assert result.errors["label"] == ["Must be at most 80 characters — entered: 87 "
                                          "characters."]
        r = client.post("/report", data={**BASE, "label": "x" * 87})
        assert r.status_code == 422
        assert "at most 80 characters" in words_of(r.text)
        assert "items" not in words_of(r.text)


# A uterine PEComa of 8 cm with necrosis, regional nodes positive, resected R0 on
# 2 March 2026; doxorubicin + ifosfamide started on 1 April 2026, after the operation.
ADJUVANT_CASE: dict[str, str] = {
    "on": "2026-12-06",
    "tumour.primary_site": "uterus",
    "tumour.size.value": "8",
    "histology.necrosis": "present",
    "diagnosis.method": "histology_with_ihc",
    "stage.status": "localized",
    "stage.lymph_nodes": "positive",
    "surgery.status": "performed",
    "surgery.date": "2026-03-02",
    "surgery.margin": "R0",
    "_rows.systemic.therapies": "1",
    "systemic.therapies[0].agent": "doxorubicin_ifosfamide",
    "systemic.therapies[0].started_on": "2026-04-01",
}


class TestTherapySettingIsChosen:
    """A therapy line's setting decides how surveillance is counted (I22): the form
    never puts one in that the clinician did not choose."""

    def test_a_new_line_offers_no_setting(self, client: TestClient) -> None:
        """The line added for a localized case starts on "— choose —", not on 'advanced'
        (which, left untouched, made a postoperative course a line for advanced disease)."""
        r = client.post("/form", data={**BASE, "_add": "systemic.therapies"})
        select = re.search(r'<select id="f-systemic-therapies-0-setting".*?</select>', r.text,
                           re.S)
        assert select is not None
        options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>',
                             select[0])
        assert options[0] == ("", " selected", "— choose —")
        assert not any(selected for _, selected, _ in options[1:])

    def test_a_line_left_without_its_setting_is_refused_then_read_as_chosen(
        self, client: TestClient
    ) -> None:
        """Left blank: refused with the field named, in the same pass as an unreadable
        mitotic count; nothing assessed. Chosen 'adjuvant': the surveillance plan counts
        from the surgery only provisionally and asks for the end of adjuvant treatment
        (I22), instead of stating 2 March 2026 as the end of treatment of a course that
        began on 1 April 2026."""
        result = forms.form_to_case({**ADJUVANT_CASE, "histology.mitoses_per_50_hpf": "many"})
        assert result.case is None
        assert list(result.errors) == ["histology.mitoses_per_50_hpf",
                                       "systemic.therapies[0].setting"]
        (message,) = result.errors["systemic.therapies[0].setting"]
        assert "'adjuvant'" in message and "'advanced'" in message
        r = client.post("/report", data=ADJUVANT_CASE)
        assert r.status_code == 422
        page = Summary(r.text)
        assert any(item.startswith("Therapy line 1: Setting: Must be chosen")
                   for item in page.items), page.items
        chosen = {**ADJUVANT_CASE, "systemic.therapies[0].setting": "adjuvant"}
        case = forms.form_to_case(chosen).case
        assert case is not None
        a = assess(case, dt.date(2026, 12, 6))
        assert "MISS-ADJUVANT-END" in {m.id for m in a.missing}
        report = client.post("/report", data=chosen)
        assert report.status_code == 200
        assert "End of adjuvant treatment not recorded" in words_of(report.text)


    def test_advanced_chosen_for_a_line_after_the_resection_is_refused_naming_it(
        self,
    ) -> None:
        """'advanced' chosen for the course begun a month after the R0 resection of this
        localized case, no relapse recorded: it was accepted and the course named nowhere.
        Refused on the line's setting, naming the status and both ways out."""
        result = forms.form_to_case({**ADJUVANT_CASE,
                                     "systemic.therapies[0].setting": "advanced"})
        assert result.case is None
        (message,) = result.errors["systemic.therapies[0].setting"]
        assert "“Disease status” 'localized'" in message
        assert "record the recurrence" in message and "'adjuvant'" in message


class TestMetastasisRowOfALocalizedCase:
    """A metastasis row left in a case changed to localized (the nodule was benign)."""

    CASE: ClassVar[dict[str, str]] = {
        "on": "2026-12-06",
        "tumour.primary_site": "soft_tissue",
        "tumour.size.value": "4,5",
        "diagnosis.method": "histology_with_ihc",
        "stage.status": "localized",
        "_rows.stage.metastases": "1",
        "stage.metastases[0].site": "lung",
        "stage.metastases[0].detected_on": "2026-11-20",
    }

    def test_one_message_naming_every_field_to_clear(self) -> None:
        """One message on the row, naming both fields that hold data and the status;
        clearing them (as it says) gives a case, in one more pass only."""
        result = forms.form_to_case(self.CASE)
        assert result.errors.keys() == {"stage.metastases[0].site"}
        (message,) = result.errors["stage.metastases[0].site"]
        assert message.startswith("Clear this row (“Site” and “Detected on”)"), message
        assert "“Disease status”" in message and not PATH.search(message)
        cleared = forms.form_to_case({**self.CASE, "stage.metastases[0].site": "",
                                      "stage.metastases[0].detected_on": ""})
        assert cleared.case is not None and cleared.case.stage.metastases == ()

    def test_a_row_without_its_site_names_what_is_in_it(self) -> None:
        """The site set to "— none —", the date left: the message names the date (the
        field in the way), not the site alone."""
        result = forms.form_to_case({**self.CASE, "stage.metastases[0].site": ""})
        (message,) = result.errors["stage.metastases[0].site"]
        assert "clear “Detected on” to leave the row out" in message, message

    def test_the_row_help_says_what_is_ignored(self, client: TestClient) -> None:
        html = client.post("/form", data={**self.CASE, "_add": "stage.metastases"}).text
        assert 'Rows left on "— none —" are ignored' not in html
        assert "A row with nothing entered" in words_of(html)


def test_the_nodal_status_says_what_unknown_does_to_surveillance() -> None:
    """Left at its default (unknown, not reported), the nodal status puts a low-risk
    tumour on the high-risk schedule until answered (I10); the form says so beside the
    field, and that 'not assessed' is the answer when no nodes were examined."""
    from fastapi.testclient import TestClient

    from pecoma.web.app import create_app
    from pecoma.web.config import WebConfig

    page = TestClient(create_app(WebConfig()), base_url="http://localhost").get("/").text
    at = page.index("Regional lymph nodes")
    near = page[at:at + 2000]
    assert "surveillance follows the high-risk schedule until it is answered" in near
    assert "choose not assessed when no nodes were examined" in near


class _Posted(HTMLParser):
    """The fields a browser posts from the case form: every named input (a checkbox when
    checked, hidden ones too), select and text area outside a row template; no button."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = self._template = 0
        self._select: tuple[str, list[str], list[str]] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "case-form" in a.get("class", ""):
            self._in_form = 1
        if tag == "template":
            self._template += 1
        if not self._in_form or self._template or (tag != "option" and "name" not in a):
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self._select = (a["name"], [], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append(a.get("value", ""))
            if "selected" in a:
                self._select[2].append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template -= 1
        if tag == "form":
            self._in_form = 0
        if tag == "select" and self._select is not None:
            name, options, chosen = self._select
            self.fields.append((name, (chosen or options or [""])[0]))
            self._select = None


class TestAHundredRowsOfEachKind:
    """The form takes 100 rows of each kind (metastases, suspected metastases, therapy
    lines, intolerances, scans), but its post was read with the web library's bound of
    1,000 fields: 100 metastases, therapy lines and scans (1,349 fields) got a bare 400
    "Too many fields", naming no field and not showing the form again. The bound is now
    the fields of the fullest form (:data:`pecoma.web.forms.MAX_FIELDS`, computed from
    the form's own rows and fields); a post over it is refused in words naming the bound
    and the rows it allows."""

    #: The fields of the fullest form: 50 controls, the size's unit, the hidden count of
    #: rows shown of each of the 5 groups, the CSRF token, the "add another" button, and
    #: 100 rows of metastases (4 fields), suspected metastases (1), therapy lines (7),
    #: intolerances (2) and scans (3).
    FULLEST = 50 + 1 + 5 + 1 + 1 + 100 * (4 + 1 + 7 + 2 + 3)

    def test_the_fullest_form_is_posted_and_read(self, client: TestClient) -> None:
        """The form showing 100 blank rows of every kind, posted as it is: more than
        1,000 fields, within the bound, and assessed (blank rows are no facts)."""
        shown = {f"_rows.{prefix}": "100" for prefix in form_layout.ROWSPECS}
        page = client.post("/form", data={**BASE, **shown})
        for prefix in form_layout.ROWSPECS:
            assert rows_of(page.text, prefix) == list(range(100))
        fields = _Posted(page.text).fields
        r = client.post("/report", data=dict(fields), follow_redirects=False)
        assert r.status_code == 303
        assert 1_000 < len(fields) <= self.FULLEST == 1_758
        assert forms.MAX_FIELDS == self.FULLEST

    def test_a_case_of_100_metastases_therapy_lines_and_scans_goes_through_the_form(
        self, client: TestClient
    ) -> None:
        """"Edit the case" of a metastatic case with 100 metastases, 100 therapy lines
        and 100 scans shows every row; "Assess the case" posts 1,350 fields and gives the
        report, whose case holds every row (the 100th metastasis, of the peritoneum found
        2021-02-18, and the 100th line, sirolimus from 2021-03-21), and whose "Edit the
        case" shows the 100 scans again, the last of 2021-02-27."""
        import json

        start = dt.date(2013, 1, 1)
        case = {
            "format": "pecoma-case/1", "diagnosis": {"date": "2012-01-01"},
            "tumour": {"primary_site": "retroperitoneum", "size": {"value": 9, "unit": "cm"}},
            "stage": {"status": "metastatic", "extrapulmonary_disease": "yes",
                      "resectable": "no", "metastases": [
                          {"site": ("lung", "liver", "bone", "peritoneum")[i % 4],
                           "detected_on": (start + dt.timedelta(days=30 * i)).isoformat()}
                          for i in range(100)]},
            "surgery": {"status": "performed", "date": "2012-01-15", "margin": "R1"},
            "systemic": {"therapies": [
                {"agent": ("everolimus", "doxorubicin", "pazopanib", "sirolimus")[i % 4],
                 "setting": "advanced", "progressed": "yes",
                 "started_on": (start + dt.timedelta(days=31 + 30 * i)).isoformat()}
                for i in range(100)]},
        }
        scans = [{"date": (start + dt.timedelta(days=9 + 30 * i)).isoformat(),
                  "modality": "chest_ct", "finding": "metastasis"} for i in range(100)]
        form = client.post("/edit", data={"case": json.dumps(case), "on": "2026-11-28",
                                          "imaging": json.dumps(scans)})
        assert form.status_code == 200
        for prefix in ("stage.metastases", "systemic.therapies", "imaging"):
            assert rows_of(form.text, prefix) == list(range(100))
        fields = dict(_Posted(form.text).fields)
        # 1,349, the hidden count of suspected metastases (0), the adjuvant radiotherapy
        # and local recurrence controls, the gross residue cleared (date, by) and the
        # anthracycline contraindication controls, the surgery's latest day (for an
        # operation whose day is not known), and an end date on each of the 100 therapy
        # lines
        assert len(fields) == 1_456
        assert fields["systemic.therapies[99].started_on"] == "2021-03-21"
        r = client.post("/report", data=fields)
        assert r.status_code == 200
        text = words_of(r.text)
        assert "Too many fields" not in text
        assert "Metastasis 100 site peritoneum; detected on 2021-02-18" in text
        assert ("Therapy line 100 agent sirolimus; setting advanced; started on 2021-03-21"
                in text)
        edit = re.search(r'<p class="edit-link"><a href="([^"]+)"', r.text)
        assert edit is not None
        again = dict(_Posted(client.get(html_unescape(edit[1])).text).fields)
        assert again == fields and again["imaging[99].date"] == "2021-02-27"

    @pytest.mark.parametrize("path", ["/report", "/form"])
    def test_a_post_of_more_fields_than_the_form_has_is_refused_in_words(
        self, client: TestClient, path: str
    ) -> None:
        """One field more than the fullest form: a 422 naming the bound and the rows of
        each kind the form takes, never the library's bare 400."""
        extra = {f"x{i}": "" for i in range(self.FULLEST - len(BASE) + 1)}
        r = client.post(path, data={**BASE, **extra}, follow_redirects=False)
        assert r.status_code == 422
        text = words_of(r.text)
        assert "Too many fields" not in text
        assert ("must hold at most 1758 fields, the most the case form "
                "posts (at most 100 rows of each kind: metastases (4 fields a row), "
                "suspected metastases (1 field a row), "
                "therapy lines (7 fields a row)") in html_unescape(text)
