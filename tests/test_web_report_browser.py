"""The report in Debian's headless chromium: the answer on the first screen, axe clean.

Uses the server and browser of ``test_web_e2e`` (one ``pecoma serve`` on a free port, Playwright
driving /usr/bin/chromium). Accessibility is checked with axe-core as packaged by
axe-playwright-python, injected into the page: no network. Screenshots are written
under ``artifacts/e2e/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from test_web_e2e import ARTIFACTS, server  # noqa: F401  (shared fixture)

from axe_support import axe_violations

pytestmark = pytest.mark.browser

EXAMPLES = [
    "high-risk-uterine",
    "metachronous-lung",
    "imaging-only",
    "indeterminate-retroperitoneal",
    "low-risk-kidney",
    "advanced-mtor-contraindicated",
]
SCREENS = {"desktop": (1366, 768), "phone": (390, 844)}
#: Four weeks after the operation of the high-risk uterine example (2025-01-10): the time
#: of the re-excision and radiotherapy decisions its report is about. Evaluated today, more
#: than 6 months after the operation, they are decisions to confirm instead (I30).
WEEKS_AFTER = "2025-02-07"


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    yield ctx
    ctx.close()


def open_report(
    ctx: Any, base: str, example: str, size: tuple[int, int], on: str | None = None
) -> Any:
    """The report of ``example``, evaluated today or ``on`` (the form's evaluation date)."""
    pg = ctx.new_page()
    pg.set_default_timeout(20_000)
    pg.set_viewport_size({"width": size[0], "height": size[1]})
    pg.goto(f"{base}/?example={example}")
    if on is not None:
        pg.get_by_label(re.compile("^Evaluation date")).fill(on)
    with pg.expect_navigation():
        pg.get_by_role("button", name="Assess the case").click()
    pg.wait_for_load_state("load")
    return pg


@pytest.mark.parametrize("example", EXAMPLES)
def test_axe_no_violation_at_any_impact(
    server: str,  # noqa: F811
    context: Any,
    example: str,
) -> None:
    """axe-core's default rules (WCAG 2 A/AA and best practices, heading-order included):
    no violation of any impact with every <details> opened. The report as it opens (every
    <details> closed) is checked at desktop and phone width by
    ``test_web_screens.py::test_page_fits_and_passes_axe``."""
    pg = open_report(context, server, example, SCREENS["desktop"])
    pg.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert axe_violations(pg) == []
    # The check can fail: a heading out of order and an image without text are caught
    # on this page (the two rules alone, run again on the same page).
    pg.evaluate(
        "document.querySelector('main').insertAdjacentHTML('beforeend',"
        " '<h6>deep</h6><img src=\"data:,\">')"
    )
    found = {v["id"] for v in axe_violations(pg, ["heading-order", "image-alt"])}
    assert {"heading-order", "image-alt"} <= found, found


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("example", ["high-risk-uterine", "metachronous-lung", "imaging-only"])
def test_risk_and_summary_on_the_first_screen(
    server: str,  # noqa: F811
    context: Any,
    example: str,
    screen: str,
) -> None:
    """Without scrolling, the summary for the board and the risk are in view; the missing
    facts are one link away."""
    width, height = SCREENS[screen]
    pg = open_report(context, server, example, (width, height))
    for selector in ("#summary-title", "#summary-risk"):
        box = pg.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= -1 and box["y"] + box["height"] <= height, (selector, box)
    pg.screenshot(path=str(ARTIFACTS / f"report-first-screen-{example}-{screen}.png"))
    risk = pg.locator("#summary-risk").inner_text()
    assert risk.startswith("Risk:")
    if example == "metachronous-lung":
        assert "not applicable: recurrent or metastatic disease" in risk.lower()
    link = pg.locator('#board-summary a[href="#missing-title"]')
    if link.count():
        link.click()
        assert pg.evaluate("location.hash") == "#missing-title"
        box = pg.locator("#missing-title").bounding_box()
        assert box is not None and -1 <= box["y"] < height


def test_summary_content_in_the_browser(server: str, context: Any) -> None:  # noqa: F811
    """High-risk uterine case four weeks after the operation: the critical alert first,
    the risk high, re-excision first."""
    pg = open_report(context, server, "high-risk-uterine", SCREENS["desktop"], WEEKS_AFTER)
    alerts = pg.locator(".summary-alerts li")
    assert alerts.first.inner_text().lower().startswith("critical")
    assert "Malignant tumour may have been left behind" in alerts.first.inner_text()
    assert pg.locator("#summary-risk").inner_text().strip().lower() == "risk: high"
    first_action = pg.locator(".summary-actions li").first.inner_text()
    assert first_action.startswith("Margins not clear")
    # The guideline-section view is one click away, without JavaScript needed.
    pg.get_by_role("link", name="View by guideline section").click()
    assert pg.evaluate("location.hash") == "#by-section"
    heading = pg.get_by_role("heading", name="Localized disease: surgery")
    assert heading.is_visible()
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < SCREENS["desktop"][1]


def test_statement_text_on_tap(server: str, browser: Any) -> None:  # noqa: F811
    """On a touch screen without JavaScript, a tap on the statement ids shows the text."""
    ctx = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, java_script_enabled=False
    )
    try:
        pg = open_report(ctx, server, "high-risk-uterine", SCREENS["phone"], WEEKS_AFTER)
        details = pg.locator("#item-REC-RERESECTION details.statement-texts")
        text = details.locator("dd").first
        assert not text.is_visible()
        details.locator("summary").tap()
        assert text.is_visible()
        assert re.search(r"\w", text.inner_text())
        pg.screenshot(path=str(ARTIFACTS / "report-statement-tap-phone.png"))
    finally:
        ctx.close()


def test_a_refused_save_moves_the_focus_to_its_summary(
    server: str,  # noqa: F811
    context: Any,
) -> None:
    """A patient's name typed as the registry id: the page comes back titled "Error: …",
    the focus on the error summary on the first screen, naming the field by its label and
    linking to it; the link takes the focus to the field, which says it is invalid. axe
    finds nothing on that page."""
    width, height = SCREENS["desktop"]
    pg = open_report(context, server, "high-risk-uterine", (width, height))
    pg.get_by_label(re.compile("^Registry id of the patient")).fill("Anna Schmidt")
    with pg.expect_navigation():
        pg.get_by_role("button", name="Save to registry").click()
    pg.wait_for_load_state("load")
    assert pg.title().startswith("Error: ")
    assert pg.evaluate("document.activeElement.id") == "error-summary"
    box = pg.locator("#error-summary").bounding_box()
    assert box is not None and 0 <= box["y"] < height
    summary = pg.locator("#error-summary").inner_text()
    assert "Registry id of the patient: Must be a pseudonymous registry code" in summary
    assert "registry_id" not in pg.locator("main").inner_text()
    pg.locator("#error-summary a", has_text="Registry id of the patient").click()
    assert pg.evaluate("document.activeElement.id") == "save-registry-id"
    field = pg.locator("#save-registry-id")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "Anna Schmidt"
    assert axe_violations(pg) == []
