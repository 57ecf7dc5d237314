"""The registry summary PDF: it opens, carries the survival figures with their n and
numbers at risk worked out by hand for a small registry, the surveillance quality
figures, and no count under the suppression threshold."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from pecoma.registry.outcomes import record_outcome
from pecoma.registry.quality import surveillance_quality
from pecoma.registry.service import record_case
from pecoma.registry.summary import Ratio, summarise
from pecoma.registry.summary_pdf import Suppress, summary_pdf, survival_reports
from pecoma.registry.worklist import build_worklist, evaluate
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import ON, db_url, high_risk, low_risk, repo

__all__ = ["db_url", "repo"]


def add(repo: Repository, rid: str, case: dict[str, object]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


def outcome(repo: Repository, rid: str, event: str, date: str, vital: str | None = None,
            found: str | None = None) -> None:
    record_outcome(repo, rid, event, date, vital, found, on_date=ON, actor="dr-a")


@pytest.fixture
def registry(repo: Repository) -> Repository:
    """Four high-risk uterine tumours (Folpe: malignant) resected 2025-01-10, diagnosed
    2025-01-06: H1 local recurrence 2025-07-10 at a scheduled scan; H2 alive 2026-06-10;
    H3 alive 2026-03-10; H4 died of the disease 2026-02-10. Two low-risk kidney tumours
    (Folpe: benign) resected 2024-03-01, alive 2026-09-01.

    With a threshold of 3, by hand:
    - RFS, high: n 4; events H1 (0.50 y) and H4 (1.09 y) = 2 -> "< 3"; at risk at 1 year:
      H2 (1.41 y), H3 (1.16 y), H4 (1.09 y) = 3; low: n 2 -> suppressed ("< 3").
    - OS, high (from the diagnosis): H1 censored at the recurrence 2025-07-10 (0.51 y),
      H2 1.43 y, H3 1.18 y, H4 died 1.10 y: n 4, events 1 -> "< 3", at risk at 1 year 3.
    - Recurrences by how found: scheduled scan 1 -> "< 3".
    """
    for rid in ("H1", "H2", "H3", "H4"):
        add(repo, rid, high_risk())
    for rid in ("L1", "L2"):
        add(repo, rid, low_risk())
    outcome(repo, "H1", "local_recurrence", "2025-07-10", found="scheduled_scan")
    outcome(repo, "H2", "last_contact", "2026-06-10", "alive_with_disease")
    outcome(repo, "H3", "last_contact", "2026-03-10", "alive_without_disease")
    outcome(repo, "H4", "death", "2026-02-10", "dead_of_disease")
    for rid in ("L1", "L2"):
        outcome(repo, rid, "last_contact", "2026-09-01", "alive_without_disease")
    return repo


def render(repo: Repository, min_cell: int) -> bytes:
    settings = default_settings()
    evaluated = evaluate(repo.states(), ON, settings)
    summary = summarise(evaluated, build_worklist(evaluated, ON), ON, settings)
    quality = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), ON)
    return summary_pdf(summary, quality, survival_reports(repo, ON, min_cell), min_cell)


def text_of(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    return re.sub(r"[ \t]+", " ", text), len(reader.pages)


def section(text: str, title: str) -> str:
    """The text from ``title`` to the next survival title (or the end)."""
    start = text.index(title)
    ends = [text.find(t, start + len(title)) for t in
            ("Recurrence-free survival by", "Overall survival by")]
    end = min([e for e in ends if e > 0], default=len(text))
    return text[start:end]


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    """The PDF's text per database: the same registry gives the same PDF, so the tests of
    TestContent read one rendering on each database."""
    return {}


class TestContent:
    @pytest.fixture
    def text(self, request: pytest.FixtureRequest, db_url: str, texts: dict[str, str]
             ) -> str:
        backend = request.node.callspec.params["db_url"]
        if backend not in texts:
            pdf = render(request.getfixturevalue("registry"), min_cell=3)
            assert pdf.startswith(b"%PDF-")
            text, pages = text_of(pdf)
            assert pages >= 1
            texts[backend] = text
        return texts[backend]

    def test_every_survival_figure_with_its_n(self, text: str) -> None:
        for title in ("Recurrence-free survival by guideline risk group",
                      "Recurrence-free survival by Folpe 2005 category",
                      "Overall survival by guideline risk group",
                      "Overall survival by Folpe 2005 category"):
            # 4 high-risk (malignant) + 2 low-risk (benign) patients = 6
            assert f"{title}, as of 2026-11-28 (n 6)" in text, title

    def test_hand_computed_rows(self, text: str) -> None:
        rfs = section(text, "Recurrence-free survival by guideline risk group")
        # high: n 4, events 2 shown as "< 3"; S(1 y) = 3/4 after H1's recurrence at
        # 0.50 y; Greenwood sum 1/(4*3), se of log(-log S) = 0.2887/0.2877 = 1.0035,
        # 95 % CI exp(-exp(-1.2459 +- 1.96*1.0035)) = 0.128-0.961; median 1.08 y (H4's
        # death takes S to 0.75*2/3 = 0.5)
        assert "high 4 < 3 75.0 (12.8–96.1) — — — 1.08 y" in rfs, rfs
        # numbers at risk at 0, 1, 3, 5 and 10 years: 4, 3 (H2, H3, H4), 0, 0, 0
        assert "high 4 3 0 0 0" in rfs, rfs
        assert re.search(r"low < 3 suppressed \(fewer than 3 patients\)", rfs), rfs
        assert "low < 3 < 3 0 0 0" in rfs, rfs
        os_ = section(text, "Overall survival by Folpe 2005 category")
        # no death before 1 year (H4 died at 1.10 y): 100 %; at risk at 1 year H2, H3, H4
        assert "malignant 4 < 3 100.0" in os_, os_
        assert "malignant 4 3 0 0 0" in os_, os_
        assert re.search(r"benign < 3 suppressed", os_), os_

    def test_small_cells_not_printed(self, text: str) -> None:
        """The suppressed counts (low/benign n 2; events 2 and 1; one recurrence found at
        a scheduled scan) appear only as "< 3"."""
        assert not re.search(r"\b(low|benign) 2\b", text)
        assert not re.search(r"\b(high|malignant) 4 [12]\b", text)
        assert "scheduled scan < 3" in text
        assert not re.search(r"scheduled scan [12]\b", text)

    def test_log_rank_and_quality(self, text: str) -> None:
        # a single group is shown: no test between groups
        assert "Log-rank test not computed (fewer than two groups shown)" in text
        assert "Surveillance quality" in text and "Visits whose window has closed" in text


def test_default_threshold_suppresses_every_group(registry: Repository) -> None:
    """With the default threshold 5 the four high-risk patients are suppressed too."""
    text, _ = text_of(render(registry, min_cell=5))
    rfs = section(text, "Recurrence-free survival by guideline risk group")
    assert re.search(r"high < 5 suppressed", rfs), rfs
    assert not re.search(r"\bhigh 4\b", text)


class TestSuppress:
    def test_counts_and_shares(self) -> None:
        s = Suppress(5)
        assert [s.n(v) for v in (0, 1, 4, 5, 12)] == ["0", "< 5", "< 5", "5", "12"]
        assert s.ratio(Ratio(3, 40)) == "< 5/40"  # no share that would reveal the 3
        assert s.ratio(Ratio(10, 40)) == "10/40 (25.0%)"
        assert s.ratio(Ratio(0, 0)) == "0/0 (n/a)"
        assert s.median(12.0, 3, "days") == "not shown (n < 5)"
        assert s.median(12.0, 7, "days") == "12 days (n 7)"


@pytest.fixture
def client(registry: Repository) -> Iterator[TestClient]:
    app = create_app(WebConfig(min_cell=3), today=lambda: ON)
    app.state.registry = registry
    with TestClient(app) as c:
        yield c


def test_web_download(client: TestClient) -> None:
    page = client.get("/registry/summary").text
    assert 'href="/registry/summary.pdf?on=2026-11-28"' in page
    r = client.get("/registry/summary.pdf?on=2026-11-28")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "pecoma-registry-summary-2026-11-28.pdf" in r.headers["content-disposition"]
    text, _ = text_of(r.content)
    assert "high 4 3 0 0 0" in text


def test_cli(db_url: str, registry: Repository, tmp_path: Path) -> None:
    from test_registry_cli import pecoma

    out = tmp_path / "summary.pdf"
    r = pecoma("registry", "summary", "--format", "pdf", "-o", str(out), "--min-cell", "3",
               "--on", "2026-11-28", "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    text, _ = text_of(out.read_bytes())
    assert "high 4 < 3 75.0 (12.8–96.1)" in text
    r = pecoma("registry", "summary", "--format", "pdf", "--database-url", db_url)
    assert r.returncode != 0 and "--format pdf needs --output FILE" in r.stderr
