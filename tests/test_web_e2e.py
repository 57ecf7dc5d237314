"""End to end in Debian's headless chromium: the real server, the form, the report, the PDF.

The server is started with ``pecoma serve`` on a free loopback port; Playwright drives
``/usr/bin/chromium`` (never a downloaded browser). Screenshots and downloaded files are
written under ``artifacts/e2e/`` for people to look at.
"""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from conftest import E2E_LABEL as LABEL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "e2e"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(e2e_server: str) -> str:
    """The base URL of the real ``pecoma serve`` every browser test of this process uses
    (``e2e_server`` in conftest.py: started once, its logs checked at the end)."""
    return e2e_server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    # a guard against a hang, not a speed goal: a full-page screenshot of a long report
    # had taken over 20 s on a loaded machine
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def named(label: str) -> re.Pattern[str]:
    """A control's accessible name: its label, with "(required)" on required ones."""
    return re.compile(rf"^{re.escape(label)}( \(required\))?$")


def select(pg: Any, label: str, value: str) -> None:
    pg.get_by_label(named(label)).select_option(value)


def fill(pg: Any, label: str, value: str) -> None:
    pg.get_by_label(named(label)).fill(value)


def submit(pg: Any) -> None:
    with pg.expect_navigation():
        pg.get_by_role("button", name="Assess the case").click()
    pg.wait_for_load_state("load")


def download(pg: Any, button: str, name: str) -> bytes:
    with pg.expect_download() as info:
        pg.get_by_role("button", name=button).click()
    target = ARTIFACTS / name
    info.value.save_as(target)
    return target.read_bytes()


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())
    return text, len(reader.pages)


def test_high_risk_case(server: str, page: Any) -> None:
    """A high-risk uterine case entered by hand: risk panel, alerts, surveillance, PDF."""
    page.goto(server + "/")
    fill(page, "Case label", LABEL)
    fill(page, "Evaluation date", "2026-11-28")
    select(page, "Primary site", "uterus")
    fill(page, "Largest dimension", "72")
    select(page, "Unit of the largest dimension", "mm")
    select(page, "How the diagnosis was made", "histology_with_ihc")
    fill(page, "Date of diagnosis", "2025-01-06")
    select(page, "Earlier diagnosis of this tumour", "leiomyosarcoma")
    select(page, "Necrosis", "present")
    select(page, "Infiltrative growth", "present")
    select(page, "High nuclear grade and cellularity", "absent")
    select(page, "HMB-45", "positive")
    select(page, "Disease status", "localized")
    select(page, "Regional lymph nodes", "negative")
    select(page, "Surgery of the primary", "performed")
    fill(page, "Date of surgery", "2025-01-10")
    select(page, "Resection margin", "R1")
    select(page, "mTOR inhibitor available", "yes")
    scan = page.locator('.rows[data-prefix="imaging"] fieldset.row[data-row="0"]')
    scan.get_by_label("Date").fill("2025-04-15")
    scan.get_by_label("Examination").select_option("chest_ct")
    scan.get_by_label("Finding").select_option("no_evidence_of_disease")
    submit(page)

    assert page.get_by_role("heading", name=re.compile(r"^Risk: high", re.I)).is_visible()
    first_visit = page.locator("#surveillance-plan table.visits tbody tr").first
    assert "done 2025-04-15" in first_visit.inner_text()
    assert page.locator(".alerts").is_visible()
    features = page.locator("table.features")
    assert "present" in features.inner_text() and "absent" in features.inner_text()
    body = page.locator("main").inner_text()
    for sid in ("S06", "S07", "S08", "S10", "S18", "S21", "S22"):
        assert sid in body, sid
    assert "supports, and never replaces" in body
    assert "Supplementary — not from the guideline" in body
    assert page.locator("#surveillance-plan table.visits tbody tr").count() > 5
    assert page.locator("#surveillance-plan figure.timeline svg").is_visible()
    page.screenshot(path=str(ARTIFACTS / "report-high-risk.png"), full_page=True)

    text, pages = pdf_text(download(page, "Download PDF (tumour-board summary)",
                                    "report-high-risk.pdf"))
    assert pages <= 2
    for sid in ("S06", "S07", "S08", "S10", "S18", "S21", "S22", "S25", "S27"):
        assert re.search(rf"\b{sid}\b", text), sid
    assert "ref [1]" in text and "guideline ref [4]" in text
    assert "supports, and never replaces" in text
    assert "Risk: HIGH" in text

    ics = download(page, "Download iCalendar (surveillance visits)", "report-high-risk.ics")
    assert ics.startswith(b"BEGIN:VCALENDAR") and b"BEGIN:VEVENT" in ics


def test_metastatic_case(server: str, page: Any) -> None:
    """Metachronous lung metastases, a row added with JavaScript: metastasectomy (S16).
    Choosing "metastatic" offers the first metastasis row; "add another" a second."""
    page.goto(server + "/")
    fill(page, "Evaluation date", "2026-11-28")
    select(page, "Primary site", "soft_tissue")
    fill(page, "Largest dimension", "8")
    select(page, "Necrosis", "present")
    fill(page, "Date of diagnosis", "2023-02-01")
    select(page, "Disease status", "metastatic")
    select(page, "Disease outside the lungs", "no")
    select(page, "Resectable", "yes")
    select(page, "Complete excision of metastases feasible", "yes")
    add = page.get_by_role("button", name="Add another metastasis")
    assert add.is_visible()
    add.click()
    row = page.locator('fieldset.row[data-row="1"]')
    assert row.locator("legend").inner_text().strip() == "Metastasis 2"
    row.get_by_label("Site").select_option("lung")
    row.get_by_label("Detected on", exact=True).fill("2024-10-20")
    select(page, "Surgery of the primary", "performed")
    fill(page, "Date of surgery", "2023-02-14")
    select(page, "Resection margin", "R0")
    select(page, "mTOR inhibitor available", "yes")
    select(page, "mTOR inhibitor contraindicated", "no")
    submit(page)

    assert page.locator("#item-REC-LUNG-METASTASECTOMY").is_visible()  # S16, in decision order
    page.get_by_role("link", name="View by guideline section").click()  # one click away
    assert page.get_by_role("heading", name="Surgery of metastatic or recurrent disease")\
        .is_visible()
    body = page.locator("main").inner_text()
    assert "metastatic" in body
    for sid in ("S16", "S12", "S13"):
        assert sid in body, sid
    page.screenshot(path=str(ARTIFACTS / "report-metastatic.png"), full_page=True)

    text, pages = pdf_text(download(page, "Download PDF (tumour-board summary)",
                                    "report-metastatic.pdf"))
    assert pages <= 2
    for sid in ("S16", "S12", "S13", "S28"):
        assert re.search(rf"\b{sid}\b", text), sid
    assert "ref [1]" in text
    assert "supports, and never replaces" in text

    # Edit the case again: the form comes back filled, the added row included.
    with page.expect_navigation():
        page.get_by_role("link", name="Edit the case").click()
    assert page.get_by_label("Largest dimension", exact=True).input_value() == "8"
    first = page.locator('fieldset.row[data-row="0"]').first
    assert first.get_by_label("Site").input_value() == "lung"


def test_errors_next_to_the_field(server: str, page: Any) -> None:
    page.goto(server + "/?example=high-risk-uterine")
    fill(page, "Largest dimension", "seven")
    fill(page, "Evaluation date", "2026-11-28")
    submit(page)
    error = page.locator("#f-tumour-size-value-err")
    assert error.is_visible()
    assert "number" in error.inner_text()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.screenshot(path=str(ARTIFACTS / "form-error.png"))
    summary.get_by_role("link", name="Largest dimension").click()
    assert page.evaluate("location.hash") == "#f-tumour-size-value"


def test_works_without_javascript(server: str, browser: Any) -> None:
    """Plain HTML form posts: no row before the disease status is known, and "Add a
    metastasis" is a plain submit button (see test_web_form_e2e for its round trip)."""
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    try:
        pg.goto(server + "/")
        assert pg.get_by_role("button", name="Add a metastasis").is_visible()
        assert pg.locator('.rows[data-prefix="stage.metastases"] fieldset.row').count() == 0
        fill(pg, "Evaluation date", "2026-11-28")
        select(pg, "Primary site", "kidney")
        select(pg, "Disease status", "localized")
        submit(pg)
        heading = pg.get_by_role("heading", name=re.compile(r"^Risk: indeterminate", re.I))
        assert heading.is_visible()
        assert "Missing facts" in pg.locator("main").inner_text()
        pg.screenshot(path=str(ARTIFACTS / "report-no-js.png"), full_page=True)
    finally:
        context.close()


def test_keyboard_only(server: str, page: Any) -> None:
    """Tab reaches the skip link first; focus is always visibly outlined."""
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    for _ in range(6):
        page.keyboard.press("Tab")
        tag = page.evaluate("document.activeElement.tagName")
        if tag in ("SELECT", "INPUT"):
            break
    assert tag in ("SELECT", "INPUT")
    style = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert style[0] != "none" and style[1] != "0px"
    # The whole form can be submitted from the keyboard.
    page.get_by_label(named("Primary site")).focus()
    page.keyboard.press("ArrowDown")
    page.get_by_label(named("Disease status")).focus()
    page.keyboard.press("ArrowDown")
    page.get_by_role("button", name="Assess the case").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", name=re.compile(r"^Risk:")).is_visible()


def test_print_stylesheet(server: str, page: Any) -> None:
    """Printed, the report drops navigation and buttons but keeps the intended use."""
    page.goto(server + "/?example=metachronous-lung")
    submit(page)
    page.emulate_media(media="print")
    assert not page.locator(".downloads").is_visible()
    assert not page.locator(".site-header nav").is_visible()
    assert page.locator(".intended-use-box").is_visible()
    pdf = page.pdf(format="A4")
    (ARTIFACTS / "report-printed.pdf").write_bytes(pdf)
    text, _ = pdf_text(pdf)
    assert "supports, and never replaces" in text
