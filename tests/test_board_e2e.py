"""The tumour board's workflow end to end in Debian's headless chromium, on a server in
server mode (tokens, sessions, CSRF) over SQLite and over PostgreSQL.

A clinician signs in, assesses a case, lands on the report's own address (reload and
Back work, nothing is posted again), saves it to the registry, records the board's
decision about a recommendation (a decline without a reason is refused, naming the
field), finds it on the patient's page and in the PDF's "Decision of the board" box, and
imports a file from the browser. Screenshots go to ``artifacts/e2e/``.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from conftest import WORKER
from test_web_e2e import ARTIFACTS, ROOT, free_port

from registry_support import high_risk, rows_of, write_csv

pytestmark = pytest.mark.browser

RID = "PEC-E2E-7"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def board_server(
    request: pytest.FixtureRequest, tmp_path: Path, chromium_path: str
) -> Iterator[tuple[str, str, str]]:
    """``pecoma serve`` with authentication on; yields (base URL, clinician token, db)."""
    from pecoma.store import open_registry
    from pecoma.store.tokens import TokenStore

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")
    repo = open_registry(url)
    _info, token = TokenStore(repo.engine).create("Dr Board", "clinician", "setup")
    repo.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = ARTIFACTS / f"server-board-{request.param}-{WORKER}.log"
    env = {
        **os.environ,
        "PECOMA_LOG_LEVEL": "info",
        "PECOMA_DATABASE_URL": url,
        "PECOMA_AUTH": "on",
        "PECOMA_SESSION_SECRET": "e2e-secret-" + "x" * 32,
    }
    env.pop("PECOMA_WEB_CONFIG", None)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from pecoma.cli import main; main()",
                "serve",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            yield base, token, request.param
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    logs = log_path.read_text(encoding="utf-8")
    assert token not in logs and RID not in logs  # no token, no registry id in the log
    assert '"status": 500' not in logs


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((p.extract_text() or "") for p in reader.pages).split())


def test_decision_flow(board_server: tuple[str, str, str], browser: Any, tmp_path: Path) -> None:
    base, token, db = board_server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(base + "/login?next=/")
        page.get_by_label(re.compile(r"^API token")).fill(token)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()

        # post/redirect/get: the report has its own address
        page.goto(base + "/?example=high-risk-uterine")
        with page.expect_navigation():
            page.get_by_role("button", name="Assess the case").click()
        assert "/report/s/" in page.url
        report_url = page.url
        assert page.get_by_role("heading", name=re.compile(r"^Risk: high", re.I)).is_visible()
        page.reload()  # no "confirm form resubmission": an ordinary GET
        assert page.url == report_url
        assert page.get_by_role("heading", name=re.compile(r"^Risk: high", re.I)).is_visible()
        page.go_back()
        page.go_forward()
        assert page.url == report_url
        page.screenshot(path=str(ARTIFACTS / f"board-report-link-{db}.png"))

        # save to registry
        page.get_by_label(re.compile(r"^Registry id of the patient")).fill(RID)
        with page.expect_navigation():
            page.get_by_role("button", name="Save to registry").click()
        assert re.search(rf"/registry/patients/{RID}/assessments/\d+", page.url)
        assert "Saved to the registry." in page.locator("main").inner_text()

        # a decline without a reason is refused, naming the field
        box = page.locator("#decision-REC-REFER-TRIALS")
        box.get_by_label("Declined").check()
        with page.expect_navigation():
            box.get_by_role("button", name=re.compile("Record the decision")).click()
        # the summary at the top has the focus, names the recommendation by its title and
        # the field by its label, and links to the field on the form that failed
        assert page.title().startswith("Error: ")
        assert page.evaluate("document.activeElement.id") == "error-summary"
        errors = page.locator("#error-summary").inner_text()
        assert ("The decision about “Refer to a sarcoma reference centre; offer a trial or "
                "registry” was not recorded") in errors
        assert "Reason: Required to decline: choose the reason." in errors
        page.locator("#error-summary a", has_text="Reason").click()
        assert page.evaluate("document.activeElement.id") == "reason-REC-REFER-TRIALS"
        box = page.locator("#decision-REC-REFER-TRIALS")
        assert box.locator("#reason-REC-REFER-TRIALS-err").inner_text().endswith(
            "Required to decline: choose the reason.")
        assert box.get_by_label("Declined").is_checked()  # what was entered is kept

        box.get_by_label("Reason (required to decline)").select_option("not-available")
        box.get_by_label(re.compile("In the team's words")).fill("no trial open nearby")
        with page.expect_navigation():
            box.get_by_role("button", name=re.compile("Record the decision")).click()
        current = page.locator("#decision-REC-REFER-TRIALS .decision-current").inner_text()
        assert "Declined" in current and "Treatment or trial not available" in current
        assert "no trial open nearby" in current and "Dr Board" in current
        page.screenshot(path=str(ARTIFACTS / f"board-decision-{db}.png"), full_page=True)
        assessment_url = page.url.split("?")[0]

        # the PDF carries the decision
        with page.expect_download() as info:
            page.get_by_role("link", name="PDF with the board's decisions").click()
        target = ARTIFACTS / f"board-decision-{db}.pdf"
        info.value.save_as(target)
        text = pdf_text(target.read_bytes())
        assert "Decision of the board" in text and "Declined" in text

        # the patient's page links to the report, and the report back to the patient
        with page.expect_navigation():
            page.get_by_role("link", name="back to the patient").click()
        listing = page.locator(".assessments").inner_text()
        assert ("1 decision recorded: Refer to a sarcoma reference centre; offer a trial or "
                "registry: declined") in listing
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile(r"^Full report of assessment")).click()
        assert page.url.split("?")[0] == assessment_url

        # import from the browser: the same report of rejected cells as the CLI
        good, bad = rows_of({"PEC-E2E-8": high_risk(), "PEC-E2E-9": high_risk()})
        bad["tumour.size.value"] = "huge"
        path = write_csv(tmp_path / "board-import.csv", [good, bad])
        page.goto(base + "/registry/import")
        page.get_by_label(re.compile(r"^File")).set_input_files(str(path))
        with page.expect_navigation():
            page.get_by_role("button", name="Import").click()
        result = page.locator(".import-report").inner_text()
        assert "Nothing was written" in result and "tumour.size.value" in result
        page.screenshot(path=str(ARTIFACTS / f"board-import-{db}.png"), full_page=True)
    finally:
        context.close()
