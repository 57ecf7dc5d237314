"""The clinician pages, in-process: the form, its validation, the report and downloads."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from pecoma.case import Case, Feature, Histology, parse_case
from pecoma.web import WebConfig, create_app, form_layout, forms

ON = dt.date(2026, 11, 28)


def example_text(name: str) -> str:
    return resources.files("pecoma").joinpath(f"examples/{name}.json").read_text("utf-8")


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON), raise_server_exceptions=False, base_url="http://localhost")


class Page(HTMLParser):
    """The parts of a page the tests read: controls, labels, fieldsets, texts by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: list[dict[str, str]] = []
        self.labels: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.fieldsets = 0
        self.legends = 0
        self.links: list[str] = []
        self.texts: dict[str, str] = {}
        self._select: str | None = None
        self._template = 0
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._capture: list[tuple[str, str, int]] = []
        self._depth = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._depth += 1
        if "id" in a:
            self._capture.append((a["id"], tag, self._depth))
            self.texts[a["id"]] = ""
        if tag in ("link", "script", "img") or (tag == "a" and "href" in a):
            self.links.append(a.get("href") or a.get("src") or "")
        if tag in ("meta", "link", "input", "img", "br"):
            self._depth -= 1
        if tag == "template":
            self._template += 1
        if self._template:
            return
        if tag == "fieldset":
            self.fieldsets += 1
        if tag == "legend":
            self.legends += 1
        if tag == "label":
            self._label_for = a.get("for")
            self._label_text = []
        if tag == "input" and a.get("type") != "hidden":
            self.controls.append(a)
            if a.get("type") != "checkbox" or "checked" in a:  # as a browser posts it
                self.values[a["name"]] = a.get("value", "")
        if tag == "select":
            self.controls.append(a)
            self._select = a["name"]
            self.values.setdefault(self._select, "")
        if tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if self._capture and self._capture[-1][2] == self._depth:
            self._capture.pop()
        self._depth -= 1
        if tag == "template":
            self._template -= 1
        if tag == "select":
            self._select = None
        if tag == "label" and self._label_for:
            self.labels[self._label_for] = "".join(self._label_text).strip()
            self._label_for = None

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self._label_text.append(data)
        for ident, _, _ in self._capture:
            self.texts[ident] += data


def submit(client: TestClient, values: dict[str, str]) -> Any:
    return client.post("/report", data=values)


def form_values(client: TestClient, url: str = "/") -> dict[str, str]:
    """What a browser would post from the form at ``url``, unchanged."""
    return Page(client.get(url).text).values


class TestForm:
    def test_every_control_has_a_label(self, client: TestClient) -> None:
        page = Page(client.get("/").text)
        assert page.controls
        for c in page.controls:
            assert c.get("id"), c
            assert page.labels.get(c["id"]), f"no label for {c['name']}"

    @pytest.mark.parametrize("url", ["/", "/?example=advanced-mtor-contraindicated",
                                     "/?example=high-risk-uterine"])
    def test_no_control_is_filled_in_by_the_browser(self, client: TestClient,
                                                    url: str) -> None:
        """Back from a report put the previous patient's case label into the form (the
        label was the one text field without autocomplete="off"); the next patient's report,
        PDF and calendar carried it, the calendar's event ids derived from it colliding with
        the first patient's. Every control of the case form, the served form and the form
        redrawn with an error alike, says autocomplete="off": the browser fills in nothing."""
        pages = [Page(client.get(url).text)]
        values = form_values(client, url)
        values["tumour.size.value"] = "seven"
        redrawn = submit(client, values)
        assert redrawn.status_code == 422
        pages.append(Page(redrawn.text))
        for page in pages:
            assert any(c["name"] == "label" for c in page.controls)
            left = [c["name"] for c in page.controls if c.get("autocomplete") != "off"]
            assert left == []

    def test_fieldsets_have_legends(self, client: TestClient) -> None:
        page = Page(client.get("/").text)
        assert page.fieldsets >= 7
        assert page.legends == page.fieldsets

    def test_every_case_field_has_a_control(self) -> None:
        """A case with every field set maps onto form controls, and back to the same case."""
        full = json.loads(example_text("advanced-mtor-contraindicated"))
        full["histology"] = {k: "present" for k in Histology.model_fields}
        full["histology"]["mitoses_per_50_hpf"] = 4
        case = parse_case({
            **full,
            "label": "all fields",
            "primary_treatment_end": "2025-03-01",
            "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-01",
                          "prior_diagnosis": "gist"},
            "stage": {"status": "metastatic", "lymph_nodes": "positive",
                      "metastases": [{"site": "liver", "detected_on": "2025-06-01",
                                      "timing": "metachronous"}],
                      "extrapulmonary_disease": "yes", "resectable": "no",
                      "complete_excision_feasible": "no", "disease_free_interval_months": 3},
            "surgery": {"status": "performed", "date": "2025-02-01", "margin": "R0"},
            "immunohistochemistry": {k: "positive" for k in
                                     ("hmb45", "melan_a", "mitf", "cathepsin_k", "sma",
                                      "desmin", "h_caldesmon", "tfe3")},
            "systemic": {"mtor_inhibitor_available": "yes",
                         "mtor_inhibitor_contraindicated": "no",
                         "therapies": [{"agent": "sirolimus", "setting": "advanced",
                                        "line": 1, "started_on": "2025-07-01",
                                        "best_response": "partial", "progressed": "no"}]},
        })
        values = forms.case_to_values(case, ON)
        known = set(form_layout.CONTROLS)
        for name in values:
            generic = re.sub(r"\[\d+\]", "", name)
            row_prefix = generic.rsplit(".", 1)[0]
            assert name in known or row_prefix in {"stage.metastases", "systemic.therapies"}, name
        result = forms.form_to_case(values)
        assert result.case == case, result.errors

    def test_blank_form_is_unknown_not_absent(self) -> None:
        """Facts left blank or on 'unknown' stay unknown in the case."""
        result = forms.form_to_case({"on": "2026-11-28", "tumour.primary_site": "kidney",
                                     "stage.status": "localized",
                                     "histology.necrosis": "unknown",
                                     "histology.infiltrative_growth": ""})
        assert result.case is not None
        assert result.case.histology.necrosis is Feature.unknown
        assert result.case.histology.infiltrative_growth is Feature.unknown
        assert result.case.tumour.size is None

    def test_defaults_shown_are_unknown(self, client: TestClient) -> None:
        values = form_values(client)
        assert values["histology.necrosis"] == "unknown"
        assert values["immunohistochemistry.hmb45"] == "unknown"
        assert values["surgery.margin"] == "unknown"
        assert values["on"] == ON.isoformat()
        assert values["tumour.primary_site"] == ""

    def test_example_prefills_the_form(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        assert values["tumour.size.value"] == "72"
        assert values["tumour.size.unit"] == "mm"
        assert values["surgery.margin"] == "R1"

    def test_no_asset_from_the_internet(self, client: TestClient) -> None:
        for url in ("/", "/rules"):
            page = Page(client.get(url).text)
            assert page.links
            for link in page.links:
                assert not link.startswith(("http:", "https:", "//")), link

    def test_static_assets_are_served(self, client: TestClient) -> None:
        for asset in ("pecoma.css", "pecoma.js", "favicon.svg"):
            assert client.get(f"/static/{asset}").status_code == 200


class TestValidation:
    def test_invalid_field_is_shown_next_to_it(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        values["tumour.size.value"] = "seven"
        r = submit(client, values)
        assert r.status_code == 422
        page = Page(r.text)
        err = page.texts["f-tumour-size-value-err"]
        assert "number" in err and "'seven'" in err
        assert "error-summary" in page.texts
        control = next(c for c in page.controls if c["name"] == "tumour.size.value")
        assert control.get("aria-invalid") == "true"
        assert "f-tumour-size-value-err" in control.get("aria-describedby", "")
        assert page.values["tumour.size.value"] == "seven"  # what was typed is kept
        assert page.values["surgery.margin"] == "R1"  # and the rest of the form too

    def test_required_fields(self, client: TestClient) -> None:
        page = Page(submit(client, {"on": "2026-11-28"}).text)
        assert "Required" in page.texts["f-tumour-primary-site-err"]
        assert "Required" in page.texts["f-stage-status-err"]

    def test_contradiction_lands_on_the_rows(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        values["stage.metastases[0].site"] = "lung"
        r = submit(client, values)
        assert r.status_code == 422
        assert "localized" in Page(r.text).texts["f-stage-metastases-0-site-err"]

    def test_row_errors_keep_their_row(self, client: TestClient) -> None:
        """An error in the second filled row is shown on that row, not on the first."""
        values = form_values(client, "/?example=metachronous-lung")
        values["stage.metastases[2].site"] = "lung"
        values["stage.metastases[2].detected_on"] = "2027-01-01"
        r = submit(client, values)
        assert r.status_code == 422
        page = Page(r.text)
        assert "evaluation date" in page.texts["f-stage-metastases-2-detected-on-err"]
        assert "f-stage-metastases-0-detected-on-err" not in page.texts

    def test_row_without_its_key(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        values["systemic.therapies[1].line"] = "2"
        page = Page(submit(client, values).text)
        assert "agent" in page.texts["f-systemic-therapies-1-agent-err"]

    def test_fact_after_the_evaluation_date(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        values["on"] = "2024-06-01"
        page = Page(submit(client, values).text)
        assert "evaluation date" in page.texts["f-diagnosis-date-err"]

    def test_bad_evaluation_date(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        values["on"] = "28.11.2026"
        page = Page(submit(client, values).text)
        assert "YYYY-MM-DD" in page.texts["f-on-err"]

    def test_bad_imaging_row(self, client: TestClient) -> None:
        values = form_values(client, "/?example=high-risk-uterine")
        values["imaging[0].modality"] = "chest_ct"
        values["imaging[0].date"] = "2024-01-01"
        page = Page(submit(client, values).text)
        assert "end of curative treatment" in page.texts["f-imaging-0-date-err"]

    def test_unknown_form_names_are_ignored(self) -> None:
        result = forms.form_to_case({"on": "2026-11-28", "tumour.primary_site": "kidney",
                                     "stage.status": "localized", "evil": "x",
                                     "stage.metastases[999].site": "lung"})
        assert result.case is not None


class TestReport:
    @pytest.fixture
    def report(self, client: TestClient) -> str:
        values = form_values(client, "/?example=high-risk-uterine")
        r = submit(client, values)
        assert r.status_code == 200, r.text[:2000]
        return r.text

    def test_intended_use(self, report: str) -> None:
        assert report.count("supports, and never replaces") >= 2  # the note and the footer

    def test_risk_panel(self, report: str) -> None:
        page = Page(report)
        risk = page.texts["risk-title"]
        assert "high" in risk
        for sid in ("S06", "S07", "S08", "S09"):
            assert sid in report
        assert "present" in report and "absent" in report

    def test_recommendations_in_decision_order_with_sections_a_click_away(
        self, client: TestClient
    ) -> None:
        # Re-excision of the R1 margin (local treatment, S10) comes before the referral,
        # evaluated four weeks after the example's operation of 2025-01-10, when it is
        # decided (more than 6 months after it, it is a decision to confirm, I30).
        values = form_values(client, "/?example=high-risk-uterine")
        values[form_layout.EVALUATION_DATE] = "2025-02-07"
        r = submit(client, values)
        assert r.status_code == 200, r.text[:2000]
        report = r.text
        assert report.index('id="item-REC-RERESECTION"') < report.index(
            'id="item-REC-REFER-TRIALS"'
        )
        by_section = report[report.index('id="by-section"'):]
        assert "Localized disease: surgery" in by_section
        assert 'href="#by-section"' in report
        assert "Why" in report and "Strength" in report
        assert "ref [1]" in report

    def test_supplementary_kept_apart(self, report: str) -> None:
        assert "Supplementary — not from the guideline" in report
        assert "supplementary-block" in report

    def test_alerts_are_prominent(self, report: str) -> None:
        assert 'class="alerts"' in report
        assert report.index('id="alerts-title"') < report.index('id="risk-title"')

    def test_surveillance_plan(self, report: str) -> None:
        page = Page(report)
        assert "surveillance-plan" in page.texts
        assert "Next visit" in page.texts["surveillance-plan"]
        assert "chest CT" in page.texts["surveillance-plan"]
        figure = report[report.index('id="surveillance-plan"'):]
        assert '<svg role="img" aria-labelledby="timeline-caption"' in figure
        assert "<?xml" not in report

    def test_missing_facts(self, client: TestClient) -> None:
        values = form_values(client, "/?example=indeterminate-retroperitoneal")
        page = Page(submit(client, values).text)
        assert "Would change" in page.texts["missing-title"] or "would change" in \
            page.texts["missing-title"]
        assert "indeterminate" in page.texts["risk-title"]
        html = submit(client, values).text
        # Provisional items name the missing fact by its form label and link to its row.
        for link in re.findall(r'href="#(missing-[A-Z0-9-]+)"', html):
            assert f'id="{link}"' in html
        assert '<a href="#missing-MISS-INFILTRATIVE">Infiltrative growth</a>' in html
        assert "<code>histology." not in html

    def test_downloads(self, client: TestClient) -> None:
        case = parse_case(json.loads(example_text("high-risk-uterine")))
        data = {"case": case.model_dump_json(), "on": "2026-11-28", "imaging": ""}
        j = client.post("/report.json", data=data)
        assert j.status_code == 200
        assert "attachment" in j.headers["content-disposition"]
        assert j.json()["assessment"]["risk"]["group"] == "high"
        assert j.json()["surveillance_plan"]["visits"]
        ics = client.post("/report.ics", data=data)
        assert ics.headers["content-type"].startswith("text/calendar")
        assert b"BEGIN:VEVENT" in ics.content
        pdf = client.post("/report.pdf", data=data)
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

    @pytest.mark.parametrize("path", ["/report.json", "/report.ics", "/report.pdf", "/edit"])
    @pytest.mark.parametrize("field", ["case", "on", "imaging"])
    def test_a_field_sent_twice_is_refused(
        self, client: TestClient, path: str, field: str
    ) -> None:
        """Two cases, two dates or two scan histories in one download (or "Edit the
        case"): the file had been made from the last one, another case or date than the
        first posted, without a word. Refused naming the field, as every other form."""
        from urllib.parse import urlencode

        case = parse_case(json.loads(example_text("high-risk-uterine")))
        first = {"case": case.model_dump_json(), "on": "2026-11-28", "imaging": "[]"}
        second = {"case": case.model_copy(update={"label": "SECOND"}).model_dump_json(),
                  "on": "2027-05-01", "imaging": "[]"}
        pairs = [*first.items(), (field, second[field])]
        r = client.post(path, content=urlencode(pairs),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        assert f"'{field}' was sent more than once" in html.unescape(r.text)

    def test_download_with_a_broken_case(self, client: TestClient) -> None:
        r = client.post("/report.json", data={"case": '{"tumour": 1}', "on": "2026-11-28"})
        assert r.status_code == 422
        assert "tumour" in r.text and "Traceback" not in r.text
        r = client.post("/report.pdf", data={"case": "[" * 50_000, "on": "2026-11-28"})
        assert r.status_code == 422

    def test_the_plans_interpretations_are_listed(self, client: TestClient) -> None:
        """A low-risk report plans chest CT and MRI at each visit, the project's reading
        I12: the page lists I12 among the interpretations used, as the plan rests on it
        (the list had held the assessment's only: I1, I3)."""
        r = client.get("/?example=low-risk-kidney")
        values = Page(r.text).values
        page = client.post("/report", data=values, follow_redirects=True)
        assert page.status_code == 200
        words = html.unescape(page.text)
        listed = words.split("Interpretations used")[1].split("</section>")[0]
        assert "I12 Imaging at low-risk visits" in listed

    def test_imaging_naming_a_key_twice_is_refused(self, client: TestClient) -> None:
        """The scans carried with a report are read as every JSON input is: a scan whose
        date is given twice ("2024-03-01", then "2030-01-01") is refused naming the key
        and its place, never read as the last one (the case text beside it was already)."""
        case = parse_case(json.loads(example_text("metachronous-lung")))
        imaging = '[{"date": "2024-03-01", "date": "2030-01-01", "modality": "chest_ct"}]'
        r = client.post("/report.json", data={"case": case.model_dump_json(),
                                               "on": "2026-11-28", "imaging": imaging})
        assert r.status_code == 422
        words = html.unescape(r.text)
        assert "imaging[0].date" in words and "'date' twice" in words
        assert "Traceback" not in words

    def test_edit_round_trip(self, client: TestClient) -> None:
        case = parse_case(json.loads(example_text("metachronous-lung")))
        imaging = json.dumps([{"date": "2024-03-01", "modality": "chest_ct"}])
        r = client.post("/edit", data={"case": case.model_dump_json(), "on": "2026-11-28",
                                       "imaging": imaging})
        values = Page(r.text).values
        assert values["stage.metastases[0].site"] == "lung"
        assert values["imaging[0].modality"] == "chest_ct"
        result = forms.form_to_case(values)
        assert result.case == case
        assert isinstance(result.case, Case)

    def test_rules_page(self, client: TestClient) -> None:
        r = client.get("/rules")
        assert r.status_code == 200
        for sid in ("S01", "S28"):
            assert sid in r.text

    def test_rules_page_lists_the_missing_facts(self, client: TestClient) -> None:
        """The page listed no missing-fact record, though its statements table names
        them as carrying statements (S11 by MISS-NODES): a committee member could not see
        what pecoma asks and what it does meanwhile, the safer branch. Each is a row now,
        as ``pecoma rules`` lists it: id, field, question, what the answer would change,
        meanwhile and provenance."""
        from pecoma.knowledge import load_knowledge
        from pecoma.render.knowledge import missing_listing

        page = Page(client.get("/rules").text)
        table = " ".join(page.texts["miss-title"].split())
        assert table == "Missing facts"
        text = " ".join(html.unescape(client.get("/rules").text).split())
        rows = missing_listing(load_knowledge())
        # 54, MISS-OTHER-LINE-AGENT, MISS-RESIDUAL-REMOVAL, MISS-METASTASIS-EARLY-TIMING,
        # MISS-SUSPECTED-METASTASIS, MISS-ADJUVANT-RADIOTHERAPY, MISS-REEXCISION-DECIDED (I30)
        # MISS-EARLIER-LINES (I19), MISS-GROSS-RESIDUE-CLEARED (I5) and
        # MISS-LOCAL-RECURRENCE (S16, I6), MISS-ADJUVANT-RADIOTHERAPY-END (S16, I5),
        # MISS-PLANNED-OPERATION-PASSED (S01, S03, I20), MISS-ANTHRACYCLINE-CONTRAINDICATED
        # (S14, S15) and MISS-ADJUVANT-NO-PROGRESSION-DATES (an adjuvant course recorded
        # not progressed while a metastasis was found during it, I29)
        assert len(rows) == 67
        for m in rows:
            assert (f"<code>{m.id}</code><br><code>{m.field}</code></th><td>{m.question}"
                    f"</td><td>{m.would_change}</td><td>{m.meanwhile}</td><td>"
                    f"{m.provenance}</td>") in text, m.id
        assert "Are regional lymph nodes involved?" in text

    def test_oversized_form(self, client: TestClient) -> None:
        r = client.post("/report", data={"label": "x" * 300_000})
        assert r.status_code == 413

    def test_unknown_page(self, client: TestClient) -> None:
        r = client.get("/nowhere")
        assert r.status_code == 404
        assert "text/html" in r.headers["content-type"]


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class TestContrast:
    """The stylesheet's colour pairs meet WCAG AA (text 4.5:1, focus outline 3:1)."""

    @pytest.fixture(scope="class")
    def colours(self) -> dict[str, str]:
        css = resources.files("pecoma.web").joinpath("static/pecoma.css").read_text("utf-8")
        root = css[css.index(":root") : css.index("}", css.index(":root"))]
        found = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", root))
        found["white"] = "#ffffff"
        return found

    @pytest.mark.parametrize(
        ("fg", "bg"),
        [("ink", "paper"), ("muted", "paper"), ("muted", "panel"), ("brand", "paper"),
         ("white", "brand"), ("high", "high-bg"), ("high", "paper"), ("ok", "ok-bg"),
         ("warn", "warn-bg"), ("supp", "supp-bg"), ("supp", "paper"), ("white", "high"),
         ("white", "warn"), ("white", "info"), ("muted", "supp-bg")],
    )
    def test_text(self, colours: dict[str, str], fg: str, bg: str) -> None:
        assert contrast(colours[fg], colours[bg]) >= 4.5

    def test_focus_outline(self, colours: dict[str, str]) -> None:
        assert contrast(colours["focus"], colours["paper"]) >= 3.0
        assert contrast(colours["focus"], colours["panel"]) >= 3.0


def test_no_calendar_without_dated_visits(client: TestClient) -> None:
    """Active metastatic disease has no dated plan: no calendar download is offered."""
    values = form_values(client, "/?example=metachronous-lung")
    html = submit(client, values).text
    assert 'action="/report.pdf"' in html
    assert 'action="/report.ics"' not in html
    values = form_values(client, "/?example=high-risk-uterine")
    assert 'action="/report.ics"' in submit(client, values).text


def test_facts_entered_are_listed(client: TestClient) -> None:
    """The report lists the known facts in words, and only those (unknown ones are not)."""
    facts = forms.entered_facts(parse_case(json.loads(example_text("high-risk-uterine"))))
    listed = {label: value for _, label, value in facts}
    assert listed["Largest dimension"] == "72 mm"
    assert listed["Resection margin"].startswith("R1")
    assert listed["Mitoses"] == "3 per 50 HPF"
    assert "Vascular invasion" in listed  # absent is a fact
    minimal = forms.entered_facts(parse_case({"tumour": {"primary_site": "kidney"},
                                              "stage": {"status": "localized"}}))
    assert [label for _, label, _ in minimal] == ["Primary site", "Disease status"]
    html = submit(client, form_values(client, "/?example=metachronous-lung")).text
    assert "Metastasis 1" in html and "Disease-free interval in months (derived)" in html
    assert "derived.disease_free_interval_months" not in html


@pytest.mark.parametrize("url", ["/", "/?example=metachronous-lung", "/rules"])
def test_ids_are_unique(client: TestClient, url: str) -> None:
    html = client.get(url).text
    html = re.sub(r"<template.*?</template>", "", html, flags=re.S)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for ref in re.findall(r'aria-(?:describedby|labelledby)="([^"]+)"', html):
        for target in ref.split():
            assert target in ids, target


def test_report_ids_are_unique(client: TestClient) -> None:
    html = submit(client, form_values(client, "/?example=high-risk-uterine")).text
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_report_calendar_follows_the_server_settings(tmp_path: Path) -> None:
    """A server whose settings file says calendar_reminder_days = 7: the report's calendar
    reminds 7 days before each open window; the high-risk example (surgery 2025-01-10,
    nothing scanned, evaluated 2026-11-28) has its next visit due on the evaluation date
    (I13), so that reminder is set for 2026-11-21."""
    conf = tmp_path / "s.toml"
    conf.write_text("[followup]\ncalendar_reminder_days = 7\n", encoding="utf-8")
    client = TestClient(create_app(WebConfig(settings=conf), today=lambda: dt.date(2026, 11, 28)), base_url="http://localhost")
    case = parse_case(json.loads(example_text("high-risk-uterine")))
    r = client.post("/report.ics", data={"case": case.model_dump_json(), "on": "2026-11-28",
                                         "imaging": ""})
    assert r.status_code == 200
    events = [e for e in Calendar.from_ical(r.content).walk("VEVENT") if e.walk("VALARM")]
    assert events
    for ev in events:
        assert ev.walk("VALARM")[0].decoded("TRIGGER") == -dt.timedelta(days=7)
    first = min(events, key=lambda e: e.decoded("DTSTART"))
    assert first.decoded("DTSTART") == dt.date(2026, 11, 28)
    assert str(first["SUMMARY"]).startswith(f"{case.label}: PEComa surveillance visit ")
