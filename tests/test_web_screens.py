"""Every page on a phone (390 x 844) and a laptop (1366 x 768), in Debian's chromium.

For each page of the list: nothing is wider than the viewport
(``document.documentElement.scrollWidth`` <= the viewport width; wide tables scroll inside
their own box), and axe-core (from axe-playwright-python) reports no violation of any
impact. Each page's width and axe count are appended to ``measurements.jsonl`` in the
directory named by ``PECOMA_SCREENSHOTS``, else in ``artifacts/screens/`` (git-ignored,
beside the e2e test's ``artifacts/e2e/``); with ``PECOMA_SCREENSHOTS`` set, a full-page
screenshot of every page at both sizes is written there too (half a second of the
browser's time each, so only when asked). With ``PECOMA_DOC_IMAGES=1`` the screenshots
that ``docs/web.md`` shows are written to ``docs/img`` (``scripts/doc-screenshots``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pecoma.registry.service import record_case, record_scan
from pecoma.settings import default_settings
from pecoma.store import open_registry
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from axe_support import axe_violations
from registry_support import ON, high_risk, low_risk, metastatic

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
DOC_IMAGES = ROOT / "docs" / "img"
SIZES = {"phone": (390, 844), "desktop": (1366, 768)}
# The screenshots docs/web.md shows: (page, size) -> file name in docs/img.
DOC_SHOTS = {
    ("report-high-risk-uterine", "phone"): "screen-report-phone.png",
    ("report-high-risk-uterine", "desktop"): "screen-report-desktop.png",
    ("registry-worklist", "phone"): "screen-worklist-phone.png",
    ("registry-worklist", "desktop"): "screen-worklist-desktop.png",
    ("registry-patient-equivocal", "phone"): "screen-patient-phone.png",
}
EXAMPLES = (
    "high-risk-uterine",
    "low-risk-kidney",
    "metachronous-lung",
    "advanced-mtor-contraindicated",
    "indeterminate-retroperitoneal",
    "imaging-only",
)


def shots_dir() -> Path:
    where = os.environ.get("PECOMA_SCREENSHOTS")
    path = Path(where) if where else ROOT / "artifacts" / "screens"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[str]:
    """The application with a small registry, served by uvicorn on a free port."""
    import uvicorn

    repo = open_registry(f"sqlite:///{tmp_path_factory.mktemp('screens') / 'r.sqlite3'}")
    conf = default_settings()
    for rid, case in {
        "PEC-0001": high_risk(),
        "PEC-0002": low_risk(),
        "PEC-0003": metastatic(),
        "PEC-0004": high_risk(),
        "PEC-0005": high_risk(),
    }.items():
        record_case(repo, rid, case, on_date=ON, settings=conf, actor="clinic", source="test")
    record_scan(
        repo,
        "PEC-0001",
        "2026-11-20",
        "chest_ct",
        "no_evidence_of_disease",
        on_date=ON,
        actor="radiology",
    )
    record_scan(
        repo,
        "PEC-0001",
        "2026-11-20",
        "mri_primary",
        "no_evidence_of_disease",
        on_date=ON,
        actor="radiology",
    )
    # PEC-0004: the last visit's chest CT was equivocal (S26, S27).
    record_scan(
        repo, "PEC-0004", "2026-11-20", "chest_ct", "equivocal", on_date=ON, actor="radiology"
    )
    record_scan(
        repo,
        "PEC-0004",
        "2026-11-20",
        "mri_primary",
        "no_evidence_of_disease",
        on_date=ON,
        actor="radiology",
    )
    # PEC-0005: the last visit had its chest CT only; the MRI of the primary is missing.
    record_scan(
        repo,
        "PEC-0005",
        "2026-11-20",
        "chest_ct",
        "no_evidence_of_disease",
        on_date=ON,
        actor="radiology",
    )
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        repo.close()


def _report(example: str) -> Callable[[Any, str], None]:
    def go(pg: Any, base: str) -> None:
        pg.goto(f"{base}/?example={example}")
        with pg.expect_navigation():
            pg.get_by_role("button", name="Assess the case").click()
        pg.wait_for_load_state("load")

    return go


def _goto(path: str) -> Callable[[Any, str], None]:
    def go(pg: Any, base: str) -> None:
        pg.goto(base + path)

    return go


def _form_with_errors(pg: Any, base: str) -> None:
    pg.goto(base + "/")
    pg.get_by_label("Largest dimension").first.fill("-3")
    with pg.expect_navigation():
        pg.get_by_role("button", name="Assess the case").click()


def _edit_the_case(pg: Any, base: str) -> None:
    _report(EXAMPLES[0])(pg, base)
    with pg.expect_navigation():
        pg.get_by_role("link", name="Edit the case").click()


def _scan_form_with_errors(pg: Any, base: str) -> None:
    pg.goto(base + "/registry/patients/PEC-0001/scan")
    with pg.expect_navigation():
        pg.get_by_role("button", name="Record the scan").click()


def _login_with_a_wrong_token(pg: Any, base: str) -> None:
    pg.goto(base + "/login")
    pg.get_by_label("API token").fill("not-a-token")
    with pg.expect_navigation():
        pg.get_by_role("button", name="Sign in").click()


def _save_refused(pg: Any, base: str) -> None:
    """A report whose "Save to registry" was refused: a name typed as the registry id."""
    _report("high-risk-uterine")(pg, base)
    pg.get_by_label(re.compile("^Registry id of the patient")).fill("Anna Schmidt")
    with pg.expect_navigation():
        pg.get_by_role("button", name="Save to registry").click()
    assert pg.locator("#error-summary").count() == 1


def _decision_refused(pg: Any, base: str) -> None:
    """A stored assessment whose second recommendation's decision was refused: declined
    for "Other" without the team's words."""
    pg.goto(base + "/registry/patients/PEC-0001")
    pg.goto(base + pg.locator('a[href*="/assessments/"]').first.get_attribute("href"))
    box = pg.locator("#decision-RISK-ASSESS")
    box.get_by_label("Declined").check()
    box.get_by_label(re.compile("^Reason")).select_option("other")
    with pg.expect_navigation():
        box.get_by_role("button", name=re.compile("Record the decision")).click()
    assert pg.locator("#reason-text-RISK-ASSESS-err").count() == 1


ON_Q = f"?on={ON.isoformat()}"
PAGES: dict[str, Callable[[Any, str], None]] = {
    **{f"report-{e}": _report(e) for e in EXAMPLES},
    "form": _goto("/"),
    "form-example": _goto("/?example=metachronous-lung"),
    "form-errors": _form_with_errors,
    "form-edit": _edit_the_case,
    "rules": _goto("/rules"),
    "login": _goto("/login"),
    "login-error": _login_with_a_wrong_token,
    "not-found": _goto("/no-such-page"),
    "smart-launch-not-configured": _goto("/smart/launch?iss=https://ehr.invalid&launch=x"),
    "registry-no-such-patient": _goto("/registry/patients/PEC-9999" + ON_Q),
    "registry-unknown-parameter": _goto("/registry/worklist?ON=2025-06-01&on=2025-06-01"
                                        "&on=2026-11-28"),
    "registry-patients": _goto("/registry" + ON_Q),
    "registry-worklist": _goto("/registry/worklist" + ON_Q),
    "registry-summary": _goto("/registry/summary" + ON_Q),
    "registry-patient": _goto("/registry/patients/PEC-0001" + ON_Q),
    "registry-patient-equivocal": _goto("/registry/patients/PEC-0004" + ON_Q),
    "registry-patient-metastatic": _goto("/registry/patients/PEC-0003" + ON_Q),
    "registry-scan-form": _goto("/registry/patients/PEC-0001/scan"),
    "registry-scan-form-errors": _scan_form_with_errors,
    "registry-outcome-form": _goto("/registry/patients/PEC-0001/outcome"),
    "report-save-refused": _save_refused,
    "stored-assessment-decision-refused": _decision_refused,
}


@dataclass
class Measured:
    width: int
    scroll_width: int
    violations: list[dict[str, Any]]


def measure(browser: Any, base: str, name: str, size: str) -> Measured:
    w, h = SIZES[size]
    # bypass_csp: the pages allow no inline script, and axe is injected as one.
    context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True)
    try:
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        PAGES[name](pg, base)
        pg.wait_for_load_state("load")
        scroll_width = int(pg.evaluate("document.documentElement.scrollWidth"))
        if os.environ.get("PECOMA_SCREENSHOTS"):
            pg.screenshot(path=str(shots_dir() / f"{name}-{size}.png"), full_page=True)
        if os.environ.get("PECOMA_DOC_IMAGES") == "1" and (name, size) in DOC_SHOTS:
            pg.screenshot(path=str(DOC_IMAGES / DOC_SHOTS[name, size]), full_page=False)
        result = axe_violations(pg)
        with (shots_dir() / "measurements.jsonl").open("a", encoding="utf-8") as log:
            log.write(json.dumps({"page": name, "size": size, "viewport": w,
                                  "scroll_width": scroll_width,
                                  "axe_violations": len(result)}) + "\n")
        return Measured(w, scroll_width, list(result))
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_and_passes_axe(browser: Any, site: str, name: str, size: str) -> None:
    m = measure(browser, site, name, size)
    assert m.scroll_width <= m.width, (
        f"{name} is {m.scroll_width} px wide on a {m.width} px viewport"
    )
    assert m.violations == [], json.dumps(m.violations, indent=1)


def test_worklist_rows_carry_the_plan_alerts(browser: Any, site: str) -> None:
    """PEC-0004's last chest CT was equivocal and PEC-0005's last visit lacks the MRI of
    the primary (S21, S22): their worklist rows say so; PEC-0001, complete and clear, and
    PEC-0002 (no scan recorded) carry no such alert."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        pg = context.new_page()
        pg.goto(f"{site}/registry/worklist{ON_Q}")

        def row(rid: str) -> str:
            text: str = pg.locator("tr", has=pg.get_by_role("link", name=rid)).inner_text()
            return text

        assert "Equivocal scan" in row("PEC-0004")
        assert "Not every planned examination" in row("PEC-0005")
        assert "Equivocal scan" not in row("PEC-0005")
        for rid in ("PEC-0001", "PEC-0002"):
            assert "Equivocal" not in row(rid) and "Not every planned" not in row(rid)
    finally:
        context.close()


def test_patient_page_shows_the_alert_near_the_top(browser: Any, site: str) -> None:
    """On the phone, the equivocal-scan alert is on the first screen of the patient page."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        pg = context.new_page()
        pg.goto(f"{site}/registry/patients/PEC-0004{ON_Q}")
        alert = pg.locator(".alerts")
        assert "Equivocal scan" in alert.inner_text()
        assert "2026-11-20" in alert.inner_text()
        box = alert.bounding_box()
        assert box is not None and box["y"] < 844
    finally:
        context.close()


def test_screenshot_directory_can_be_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PECOMA_SCREENSHOTS", str(tmp_path / "shots"))
    assert shots_dir() == tmp_path / "shots" and (tmp_path / "shots").is_dir()


def test_timeline_keeps_a_legible_size_on_the_phone(browser: Any, site: str) -> None:
    """The picture is 1000 units wide with labels of 13 units and up: squeezed into 358 px
    they would be under 5 px high. On the phone it keeps a legible size (its smallest
    label near 10 px or more) and scrolls sideways in its own focusable box; the page
    itself does not."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        pg = context.new_page()
        _report("high-risk-uterine")(pg, site)
        figure = pg.locator("figure.timeline")
        # The smallest label as drawn, in CSS px: its font size in picture units times
        # the rendered px per unit (the web picture is drawn in px-sized units).
        smallest = pg.evaluate(
            "() => { const s = document.querySelector('figure.timeline svg');"
            " const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;"
            " const sizes = [...s.querySelectorAll('text')]"
            "   .map(t => parseFloat(t.getAttribute('font-size')));"
            " return Math.min(...sizes) * scale; }")
        assert smallest >= 9.5, smallest  # labels near 10 px and up
        assert figure.evaluate("f => f.scrollWidth > f.clientWidth")
        assert figure.get_attribute("tabindex") == "0"
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
