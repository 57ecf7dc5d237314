"""The case form in Debian's headless chromium: the three cases a tumour board sees most,
entered with the keyboard only; rows offered by the disease status; the form without
JavaScript; axe-core finding nothing on the form.

Each keyboard run records its keystrokes and wall time in
``artifacts/e2e/form-keyboard.json`` (the figures in ``bench/RESULTS.md`` come from there);
the time itself is not asserted here: speed is a bench figure, not a test.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from test_web_e2e import ARTIFACTS, fill, named, page, select, server, submit

from axe_support import axe_violations

__all__ = ["page", "server"]  # fixtures shared with test_web_e2e

pytestmark = pytest.mark.browser


# Keystroke-level model (Card, Moran & Newell 1980): an average skilled typist takes
# 0.28 s a keystroke, and 1.35 s to decide before each fact entered.
KLM_KEY_S = 0.28
KLM_THINK_S = 1.35


@dataclass
class Keyboard:
    """Drives the form with Tab, typing, Space and Enter only, counting every key."""

    pg: Any
    keys: int = 0
    facts: int = 0
    log: list[str] = field(default_factory=list)

    def press(self, key: str) -> None:
        self.pg.keyboard.press(key)
        self.keys += 1

    def active_name(self) -> str:
        name: str = self.pg.evaluate(
            "document.activeElement.getAttribute('name') || document.activeElement.textContent"
        )
        return name.strip()

    def tab_to(self, name: str, limit: int = 80) -> None:
        """Tab forward until the control named ``name`` (or the button saying it) has focus."""
        for _ in range(limit):
            self.press("Tab")
            if self.active_name() == name:
                return
        raise AssertionError(f"Tab never reached {name!r}")

    def type(self, name: str, text: str) -> None:
        """Tab to a field and type ``text`` (replacing what it held)."""
        self.tab_to(name)
        self.facts += 1
        if self.pg.evaluate("document.activeElement.value") != "":
            self.press("Control+a")
        self.pg.keyboard.type(text)
        self.keys += len(text)

    def choose(self, name: str, typed: str, value: str) -> None:
        """Tab to a select and type the start of an option's words (type-ahead)."""
        self.tab_to(name)
        self.facts += 1
        self.pg.keyboard.type(typed)
        self.keys += len(typed)
        got = self.pg.evaluate("document.activeElement.value")
        assert got == value, f"{name}: typing {typed!r} chose {got!r}, not {value!r}"

    def tick(self, name: str) -> None:
        self.tab_to(name)
        self.facts += 1
        self.press("Space")
        assert self.pg.evaluate("document.activeElement.checked")

    def assess(self) -> None:
        """Enter in the next text field: the form's default button assesses the case (never
        "add another")."""
        for _ in range(20):
            self.press("Tab")
            if self.pg.evaluate(
                "document.activeElement.tagName === 'INPUT'"
                " && document.activeElement.type === 'text'"
            ):
                break
        with self.pg.expect_navigation():
            self.press("Enter")
        assert "/form" not in self.pg.url  # not the "add another" button


def record(case: str, kb: Keyboard, seconds: float) -> None:
    path = ARTIFACTS / "form-keyboard.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[case] = {
        "keystrokes": kb.keys,
        "facts": kb.facts,
        "browser_seconds": round(seconds, 2),
        "klm_seconds": round(kb.keys * KLM_KEY_S + kb.facts * KLM_THINK_S, 1),
    }
    path.write_text(json.dumps(runs, indent=2) + "\n")
    print(case, runs[case])


def report_text(pg: Any) -> str:
    text: str = pg.locator("main").inner_text()
    return " ".join(text.split())


def test_keyboard_small_localized_kidney(server: str, page: Any) -> None:
    """A 3.5 cm renal PEComa, completely resected, none of the four worrisome features.
    Expected: low risk, because every one of the guideline's four high-risk features is
    absent (I1, S06-S09): 3.5 cm is not above 5 cm, and necrosis, infiltrative growth and
    high nuclear grade with cellularity are absent (set by the one checkbox)."""
    page.goto(server + "/")
    start = time.monotonic()
    kb = Keyboard(page)
    kb.choose("tumour.primary_site", "k", "kidney")
    kb.type("tumour.size.value", "3,5")  # a decimal comma
    kb.tick("none_of_four")
    kb.choose("stage.status", "localiz", "localized")
    kb.choose("surgery.status", "pe", "performed")
    kb.type("surgery.date", "15 Jun 2026")
    kb.choose("surgery.margin", "r0", "R0")
    kb.assess()
    seconds = time.monotonic() - start
    text = report_text(page)
    assert re.search(r"Risk: low\b", text, re.I), text[:1500]
    assert "3.5 cm" in text
    record("small localized kidney", kb, seconds)


def test_keyboard_high_risk_uterine(server: str, page: Any) -> None:
    """A 7.2 cm uterine PEComa with necrosis, resected with R1 margins. Expected: high
    risk, because the tumour is larger than 5 cm (S06) and necrosis is present (S07);
    either alone makes it high risk (I1)."""
    page.goto(server + "/")
    start = time.monotonic()
    kb = Keyboard(page)
    kb.choose("tumour.primary_site", "u", "uterus")
    kb.type("tumour.size.value", "7,2")
    kb.choose("histology.necrosis", "p", "present")
    kb.choose("stage.status", "localiz", "localized")
    kb.choose("surgery.status", "pe", "performed")
    kb.type("surgery.date", "2026-03-10")
    kb.choose("surgery.margin", "r1", "R1")
    kb.assess()
    seconds = time.monotonic() - start
    text = report_text(page)
    assert re.search(r"Risk: high\b", text, re.I), text[:1500]
    for sid in ("S06", "S07"):
        assert sid in text, sid
    record("high-risk uterine", kb, seconds)


def test_keyboard_metachronous_lung_metastases(server: str, page: Any) -> None:
    """An 8 cm soft-tissue PEComa resected in February 2023; one lung metastasis found in
    October 2024, nothing outside the lungs, resectable. Expected: risk stratification no
    longer applies (metastatic disease, I8: "not applicable") and metastasectomy is a
    guideline option (S16), because the metastasis came 20 months after the primary was
    treated and complete excision is feasible. The metastasis row appears when the status
    is chosen, without any "add" key."""
    page.goto(server + "/")
    start = time.monotonic()
    kb = Keyboard(page)
    kb.choose("tumour.primary_site", "so", "soft_tissue")
    kb.type("tumour.size.value", "8")
    kb.choose("stage.status", "m", "metastatic")
    kb.choose("stage.extrapulmonary_disease", "n", "no")
    kb.choose("stage.resectable", "y", "yes")
    kb.choose("stage.complete_excision_feasible", "y", "yes")
    kb.choose("stage.metastases[0].site", "lu", "lung")
    kb.type("stage.metastases[0].detected_on", "20 Oct 2024")
    kb.choose("surgery.status", "pe", "performed")
    kb.type("surgery.date", "2023-02-14")
    kb.choose("surgery.margin", "r0", "R0")
    kb.assess()
    seconds = time.monotonic() - start
    text = report_text(page)
    assert re.search(r"Risk: not applicable", text, re.I), text[:1500]
    assert page.get_by_role(
        "heading", name="Surgery of metastatic or recurrent disease"
    ).is_visible()
    assert "S16" in text
    record("metachronous lung metastases", kb, seconds)


def rows(pg: Any, prefix: str) -> int:
    count: int = pg.locator(f'.rows[data-prefix="{prefix}"] fieldset.row').count()
    return count


def test_rows_follow_the_disease_status(server: str, page: Any) -> None:
    """No row before the status is known; metastatic offers a metastasis, a therapy line
    and a scan; localized takes the blank metastasis and therapy rows away but keeps a
    filled one (never dropped: the server then names the contradiction)."""
    page.goto(server + "/")
    assert rows(page, "stage.metastases") == 0
    assert page.get_by_role("button", name="Add a metastasis").is_visible()
    select(page, "Disease status", "metastatic")
    assert rows(page, "stage.metastases") == 1
    assert rows(page, "systemic.therapies") == 1
    assert rows(page, "imaging") == 1
    assert page.get_by_role("button", name="Add another metastasis").is_visible()
    select(page, "Disease status", "localized")
    assert rows(page, "stage.metastases") == 0
    assert rows(page, "systemic.therapies") == 0
    assert rows(page, "imaging") == 1
    select(page, "Disease status", "metastatic")
    page.locator('[name="stage.metastases[0].site"]').select_option("liver")
    select(page, "Disease status", "localized")
    assert rows(page, "stage.metastases") == 1  # it holds data: kept
    fill(page, "Evaluation date", "2026-11-28")
    select(page, "Primary site", "kidney")
    submit(page)
    assert rows(page, "stage.metastases") == 1  # shown again, with the data
    select(page, "Disease status", "localized")  # rendered by the server with data: kept
    assert rows(page, "stage.metastases") == 1
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "Metastasis 1: Site" in summary.inner_text()


def test_a_suspected_metastasis_row_beside_disease_not_metastatic(server: str, page: Any
                                                                  ) -> None:
    """Whether a suspected metastasis is confirmed is asked beside disease not recorded as
    metastatic: a blank row is offered for localized disease and taken away for
    metastatic disease; one holding a site is kept, and the report asks about it."""
    prefix = "stage.suspected_metastases"
    page.goto(server + "/")
    assert rows(page, prefix) == 0
    select(page, "Disease status", "metastatic")
    assert rows(page, prefix) == 0
    select(page, "Disease status", "localized")
    assert rows(page, prefix) == 1
    page.get_by_label("Suspected, not confirmed metastasis — site").select_option("lung")
    select(page, "Disease status", "metastatic")
    select(page, "Disease status", "localized")
    assert rows(page, prefix) == 1  # it holds data: kept
    fill(page, "Evaluation date", "2026-11-28")
    select(page, "Primary site", "kidney")
    submit(page)
    assert ("Is the suspected metastasis confirmed (imaging or biopsy), or excluded?"
            in report_text(page))


def test_add_another_stops_where_the_server_stops_reading(server: str, page: Any) -> None:
    """The script added rows without end, and the server read only the first 50: the
    latest scans of a long follow-up were dropped without a word. The button now stops
    at the rows the server reads (100), and the page says so."""
    page.goto(server + "/")
    select(page, "Disease status", "metastatic")
    button = page.locator('button.add-row[value="imaging"]')
    page.evaluate("b => { for (let i = 0; i < 150; i++) b.click(); }", button.element_handle())
    assert rows(page, "imaging") == 100
    assert button.is_disabled()
    assert page.get_by_text("The form takes at most 100 scans.").is_visible()
    assert page.locator('input[name="_rows.imaging"]').input_value() == "100"


def test_none_of_four_sets_and_stays_editable(server: str, page: Any) -> None:
    page.goto(server + "/")
    select(page, "Necrosis", "present")
    page.locator('[name="none_of_four"]').check()
    values = page.evaluate(
        "['necrosis','infiltrative_growth','high_nuclear_grade_and_cellularity',"
        "'vascular_invasion'].map(n => document.querySelector("
        "`select[name='histology.${n}']`).value)"
    )
    assert values == ["present", "absent", "absent", "absent"]  # an explicit 'present' stays
    select(page, "Necrosis", "absent")
    select(page, "Vascular invasion", "unknown")  # edited afterwards: the box is cleared
    assert not page.locator('[name="none_of_four"]').is_checked()


FOUR_VALUES = (
    "['necrosis','infiltrative_growth','high_nuclear_grade_and_cellularity',"
    "'vascular_invasion'].map(n => document.querySelector("
    "`select[name='histology.${n}']`).value)"
)


def small_kidney(page: Any) -> None:
    """A 3 cm renal PEComa resected R0, the four features left unknown: indeterminate
    (I1: low needs every high-risk feature known absent)."""
    select(page, "Primary site", "kidney")
    fill(page, "Largest dimension", "3")
    select(page, "Disease status", "localized")
    select(page, "Surgery of the primary", "performed")
    fill(page, "Date of surgery", "4 May 2026")
    select(page, "Resection margin", "R0")


def test_unticking_none_of_four_gives_unknown_back(server: str, page: Any) -> None:
    """An accidental tick, then an untick: the features the tick turned from unknown to
    absent are unknown again, so the risk stays indeterminate (not low, I1), as the same
    unticked box reads without JavaScript. A feature set by hand stays as set."""
    page.goto(server + "/")
    small_kidney(page)
    select(page, "Necrosis", "absent")  # set by hand before the tick
    box = page.locator('[name="none_of_four"]')
    box.check()
    assert page.evaluate(FOUR_VALUES) == ["absent"] * 4
    select(page, "Vascular invasion", "absent")  # confirmed by hand after the tick
    box.uncheck()
    assert page.evaluate(FOUR_VALUES) == ["absent", "unknown", "unknown", "absent"]
    select(page, "Vascular invasion", "unknown")
    submit(page)
    text = report_text(page)
    assert re.search(r"Risk: indeterminate", text, re.I), text[:1500]


def test_unticking_none_of_four_on_a_form_shown_again(server: str, page: Any) -> None:
    """A form refused with the box ticked comes back ticked, the four as entered; the box
    still applies (absent on the page), and unticking it gives the unknown ones back."""
    page.goto(server + "/")
    small_kidney(page)
    fill(page, "Largest dimension", "three")
    page.locator('[name="none_of_four"]').check()
    submit(page)
    assert page.locator("#error-summary").is_visible()
    box = page.locator('[name="none_of_four"]')
    assert box.is_checked()
    assert page.evaluate(FOUR_VALUES) == ["absent"] * 4
    box.uncheck()
    assert page.evaluate(FOUR_VALUES) == ["unknown"] * 4
    fill(page, "Largest dimension", "3")
    submit(page)
    text = report_text(page)
    assert re.search(r"Risk: indeterminate", text, re.I), text[:1500]


def test_a_feature_that_clears_none_of_four_gives_back_what_the_tick_set(
        server: str, page: Any) -> None:
    """Tick the box, then set necrosis present: the box is cleared, and the features the
    tick had turned from unknown to absent are unknown again, as they were before it. They
    had stayed absent, so the case was assessed with a grade and a vascular invasion the
    clinician never chose absent (S09: an unknown grade is asked, never read as absent,
    I1), while without JavaScript the same steps are refused as a contradiction and
    nothing is assessed. A feature set by hand (infiltrative growth, absent) stays as set."""
    page.goto(server + "/")
    small_kidney(page)
    select(page, "Infiltrative growth", "absent")  # set by hand before the tick
    box = page.locator('[name="none_of_four"]')
    box.check()
    assert page.evaluate(FOUR_VALUES) == ["absent"] * 4
    select(page, "Necrosis", "present")
    assert not box.is_checked()
    assert page.evaluate(FOUR_VALUES) == ["present", "absent", "unknown", "unknown"]
    submit(page)
    case = json.loads(page.locator('input[name="case"]').first.input_value())
    assert case["histology"] == {"necrosis": "present", "infiltrative_growth": "absent"}
    text = report_text(page)
    assert re.search(r"Risk: high", text, re.I), text[:1500]


def test_add_another_without_javascript(server: str, browser: Any) -> None:
    """Without JavaScript "Add a metastasis" posts the form and it comes back with the row
    and everything typed kept as typed; the case then reaches the report."""
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    try:
        pg.goto(server + "/")
        assert rows(pg, "stage.metastases") == 0
        fill(pg, "Evaluation date", "28 Nov 2026")
        select(pg, "Primary site", "soft_tissue")
        fill(pg, "Largest dimension", "8,0")
        select(pg, "Disease status", "metastatic")
        with pg.expect_navigation():
            pg.get_by_role("button", name="Add a metastasis").click()
        assert rows(pg, "stage.metastases") == 1
        assert pg.get_by_label("Largest dimension", exact=True).input_value() == "8,0"
        assert pg.get_by_label(re.compile("^Disease status")).input_value() == "metastatic"
        with pg.expect_navigation():
            pg.get_by_role("button", name="Add another metastasis").click()
        assert rows(pg, "stage.metastases") == 2
        pg.locator('[name="stage.metastases[0].site"]').select_option("lung")
        pg.locator('[name="stage.metastases[0].detected_on"]').fill("2024-10-20")
        select(pg, "Surgery of the primary", "performed")
        fill(pg, "Date of surgery", "2023-02-14")
        submit(pg)
        text = report_text(pg)
        assert re.search(r"Risk: not applicable", text, re.I), text[:1500]
    finally:
        context.close()


def test_axe_finds_nothing_on_the_form(server: str, browser: Any) -> None:
    """axe-core: no violation of any impact on the blank form, with rows and the box, and
    with the error summary (the page's own content policy is bypassed to inject axe)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        check_axe(server, context.new_page())
    finally:
        context.close()


def check_axe(server: str, page: Any) -> None:
    page.goto(server + "/")
    assert axe_violations(page) == []
    select(page, "Disease status", "metastatic")
    page.get_by_role("button", name="Add another metastasis").click()
    page.locator('[name="none_of_four"]').check()
    assert axe_violations(page) == []
    fill(page, "Evaluation date", "12/02/2026")
    fill(page, "Largest dimension", "seven")
    submit(page)
    assert page.locator("#error-summary").is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "form-errors-in-one-pass.png"), full_page=True)


def test_a_therapy_line_needs_its_setting_chosen(server: str, page: Any) -> None:
    """A uterine PEComa of 8 cm with necrosis, regional nodes positive, resected R0 on
    2 March 2026; "Add a therapy line": doxorubicin + ifosfamide from 1 April 2026, the
    setting not touched. The line's setting had started on 'advanced': the plan counted
    from the surgery as the end of treatment, a date before the chemotherapy began, and
    the end of the adjuvant course was never asked for. The line now starts on
    "— choose —" and the form names it; chosen 'adjuvant', the plan is provisional and
    asks for that end (I22)."""
    page.goto(server + "/")
    fill(page, "Evaluation date", "2026-12-06")
    select(page, "Primary site", "uterus")
    fill(page, "Largest dimension", "8")
    select(page, "Necrosis", "present")
    select(page, "Disease status", "localized")
    select(page, "Regional lymph nodes", "positive")
    select(page, "Surgery of the primary", "performed")
    fill(page, "Date of surgery", "2026-03-02")
    select(page, "Resection margin", "R0")
    page.get_by_role("button", name="Add a therapy line").click()
    setting = page.locator('[name="systemic.therapies[0].setting"]')
    assert setting.input_value() == ""
    page.locator('[name="systemic.therapies[0].agent"]').select_option("doxorubicin_ifosfamide")
    page.locator('[name="systemic.therapies[0].started_on"]').fill("2026-04-01")
    submit(page)
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "Therapy line 1: Setting" in summary.inner_text()
    page.locator('[name="systemic.therapies[0].setting"]').select_option("adjuvant")
    submit(page)
    text = report_text(page)
    assert "End of adjuvant treatment not recorded" in text, text[:1500]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_change_of_mind_on_the_disease_status_in_one_pass(
    server: str, browser: Any, javascript: bool
) -> None:
    """Metastatic with a lung metastasis found on 20 November 2026, then localized (the
    nodule was benign). The form had said the site must be empty, then, the site
    cleared, that the site was required: the date in the row was never named. One
    message now names both fields; clearing them gives the report."""
    context = browser.new_context(java_script_enabled=javascript)
    pg = context.new_page()
    try:
        pg.goto(server + "/")
        fill(pg, "Evaluation date", "2026-12-06")
        select(pg, "Primary site", "soft_tissue")
        fill(pg, "Largest dimension", "4,5")
        select(pg, "Disease status", "metastatic")
        if not javascript:
            with pg.expect_navigation():
                pg.get_by_role("button", name="Add a metastasis").click()
        pg.locator('[name="stage.metastases[0].site"]').select_option("lung")
        pg.locator('[name="stage.metastases[0].detected_on"]').fill("2026-11-20")
        select(pg, "Disease status", "localized")
        submit(pg)
        items = pg.locator("#error-summary li").all_inner_texts()
        assert len(items) == 1, items
        assert items[0].startswith(
            "Metastasis 1: Site: Clear this row (“Site” and “Detected on”)"), items
        assert "“Disease status”" in items[0]
        pg.locator('[name="stage.metastases[0].site"]').select_option("")
        pg.locator('[name="stage.metastases[0].detected_on"]').fill("")
        submit(pg)
        assert pg.locator("#error-summary").count() == 0
        assert re.search(r"Risk: \w+", report_text(pg))
    finally:
        context.close()


def test_back_from_the_report_shows_the_form_as_served_and_says_so(
        server: str, page: Any) -> None:
    """Back from a report to the case form: the browser had put back the selects but not
    the size or the dates, and assessing that form again turned a high-risk case into an
    indeterminate one under the same label. The form is shown as it was served, every
    field alike (the case label too: it had been put back, and the next patient's report
    carried the previous one's label), with a notice saying so and how to change the case
    (Edit the case)."""
    page.goto(server + "/")
    fill(page, "Case label", "board 12, first case")
    select(page, "Primary site", "uterus")
    fill(page, "Largest dimension", "9")
    select(page, "Disease status", "localized")
    submit(page)
    assert "/report" in page.url
    with page.expect_navigation():
        page.go_back()
    page.wait_for_load_state("load")
    notice = page.locator("#back-notice")
    assert notice.is_visible()
    assert "Edit the case" in notice.inner_text()
    # every field as served, none half put back
    assert page.get_by_label(named("Largest dimension")).input_value() == ""
    # the previous case's label too: the next patient's report would carry it
    assert page.get_by_label(named("Case label")).input_value() == ""
    assert page.get_by_label(named("Primary site")).input_value() in ("", "unknown")


def test_back_from_the_report_puts_the_notice_in_view_with_a_way_forward(
        server: str, browser: Any) -> None:
    """Back from the report of a long case: the browser had put the page back scrolled to
    the "Assess the case" button at its foot, so the notice at the top saying the form is
    shown as served (and how to change the case) was out of sight, and the clinician saw
    only an empty form. The notice is now on screen, holds the focus (read out), axe finds
    nothing on it, and its button goes forward again to the report, whose "Edit the case"
    gives the case back (the page's content policy is bypassed to inject axe)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 720})
    try:
        back_notice_in_view(server, context.new_page())
    finally:
        context.close()


def back_notice_in_view(server: str, page: Any) -> None:
    page.goto(server + "/?example=metachronous-lung")
    submit(page)
    report = page.url
    assert "/report/s/" in report
    with page.expect_navigation():
        page.go_back()
    page.wait_for_load_state("load")
    notice = page.locator("#back-notice")
    assert notice.is_visible()
    in_view = notice.evaluate("e => { const r = e.getBoundingClientRect(); "
                              "return r.top >= 0 && r.bottom <= innerHeight; }")
    assert in_view, page.evaluate("scrollY")
    assert page.evaluate("document.activeElement.id") == "back-notice"
    assert axe_violations(page) == []
    with page.expect_navigation():
        notice.get_by_role("button", name="Go forward").click()
    page.wait_for_load_state("load")
    assert page.url == report
    with page.expect_navigation():
        page.get_by_role("link", name="Edit the case").click()
    assert page.get_by_label(named("Case label")).input_value().startswith("Example")
