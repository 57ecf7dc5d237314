"""The registry summary PDF: it opens, carries the survival figures with their n and
numbers at risk worked out by hand for a small registry, the surveillance quality
figures, the concordance figures (recorded treatment and recorded decisions, from the
same rows as the web page and the JSON), and no count under the suppression threshold nor
one that could be worked out from the others by subtraction."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from pecoma.registry.outcomes import record_outcome
from pecoma.registry.quality import (
    SurveillanceQuality,
    concordance_of,
    plans_before_relapse,
    surveillance_quality,
)
from pecoma.registry.service import record_case
from pecoma.registry.summary import Ratio, Summary, summarise
from pecoma.registry.summary_pdf import summary_pdf, survival_reports
from pecoma.registry.worklist import build_worklist, evaluate
from pecoma.settings import default_settings
from pecoma.store import Repository, open_registry
from pecoma.store.cds import CdsStore, FeedbackRecord
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig
from test_board_concordance import decide

from registry_support import ON, db_url, high_risk, low_risk, metastatic, repo, ticking_clock

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
    2025-01-06: H1 local recurrence 2025-07-10 at a scheduled scan; H2 seen alive with
    disease 2026-06-10; H3 alive 2026-03-10; H4 died of the disease 2026-02-10. Two
    low-risk kidney tumours (Folpe: benign) resected 2024-03-01, alive 2026-09-01.

    With a threshold of 3, by hand:
    - RFS, high: n 4; events H1 (0.50 y), H4 (1.09 y) and H2 (1.41 y: resected R0, the
      disease was back by the contact that says alive with disease) = 3, shown; at risk
      at 1 year: H2 (1.41 y), H3 (1.16 y), H4 (1.09 y) = 3; low: n 2 -> suppressed
      ("< 3").
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


def render(repo: Repository, min_cell: int, on: dt.date = ON) -> bytes:
    settings = default_settings()
    evaluated = evaluate(repo.states(), on, settings)
    summary = summarise(evaluated, build_worklist(evaluated, on), on, settings)
    quality = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), on,
                                   plans_before_relapse(repo, evaluated, on, settings))
    concord = concordance_of(repo, evaluated, on, settings)
    return summary_pdf(summary, quality, concord, survival_reports(repo, on, min_cell),
                       min_cell)


def text_of(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    return re.sub(r"[ \t]+", " ", text), len(reader.pages)


def flat(pdf: bytes) -> str:
    """The PDF's text on one line, as a reader reads it: table cells wrap inside their
    column, so every run of white space is one space, and a word the layout broke after
    its hyphen ("first-" at a line's end, "line" on the next) is one word again."""
    return re.sub(r"(?<=\w-) (?=\w)", "", " ".join(text_of(pdf)[0].split()))


#: How the summary PDF names a recommendation: its title, its record id beside it in
#: small print (the board's PDF does the same).
MTOR = "An mTOR inhibitor is the first-line systemic treatment [REC-MTOR-FIRST-LINE]"
DONE = "Complete resection achieved [REC-RESECTION-DONE]"
TRIALS = "Refer to a sarcoma reference centre; offer a trial or registry [REC-REFER-TRIALS]"


def section(text: str, title: str) -> str:
    """The text from ``title`` to the next survival title (or the end)."""
    start = text.index(title)
    ends = [text.find(t, start + len(title)) for t in
            ("Recurrence-free survival by", "Overall survival by")]
    end = min([e for e in ends if e > 0], default=len(text))
    return text[start:end]


TITLES = ("Recurrence-free survival by guideline risk group",
          "Recurrence-free survival by Folpe 2005 category",
          "Overall survival by guideline risk group",
          "Overall survival by Folpe 2005 category")


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
        for title in TITLES:
            # 4 high-risk (malignant) + 2 low-risk (benign) patients = 6; the 2 is "< 3"
            # and the 4 stays shown beside its curve, so 6 - 4 would give the 2: the
            # total is the count suppressed
            assert f"{title}, as of 2026-11-28 (n suppressed)" in text, title
            assert f"{title}, as of 2026-11-28 (n 6)" not in text, title

    def test_patient_counts(self, text: str) -> None:
        # 6 patients = high 4 + low 2: the 2 is "< 3" and 6 - 4 would give it, so high
        # (the only other non-zero group) is suppressed; all 6 are localized
        assert "6 patients, from every patient's latest case" in text
        assert "Guideline risk group (S05–S09, I1) high suppressed, low < 3" in text, text
        assert not re.search(r"high 4,", text)

    def test_hand_computed_rows(self, text: str) -> None:
        rfs = section(text, "Recurrence-free survival by guideline risk group")
        # high: n 4, events 3 (H1, H4, H2); S(1 y) = 3/4 after H1's recurrence at
        # 0.50 y; Greenwood sum 1/(4*3), se of log(-log S) = 0.2887/0.2877 = 1.0035,
        # 95 % CI exp(-exp(-1.2459 +- 1.96*1.0035)) = 0.128-0.961; median 1.08 y (H4's
        # death takes S to 0.75*2/3 = 0.5); H2's relapse at 1.41 y, the longest time,
        # leaves no estimate at 3 years
        assert "high 4 3 75.0 (12.8–96.1) — — — 1.08 y" in rfs, rfs
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
        """The suppressed counts (low/benign n 2; overall survival's 1 event; one
        recurrence found at a scheduled scan) appear only as "< 3"."""
        assert not re.search(r"\b(low|benign) 2\b", text)
        assert not re.search(r"\b(high|malignant) 4 [12]\b", text)
        assert "scheduled scan < 3" in text
        assert not re.search(r"scheduled scan [12]\b", text)

    def test_log_rank_and_quality(self, text: str) -> None:
        # a single group is shown: no test between groups
        assert "Log-rank test not computed (fewer than two groups shown)" in text
        # the low-risk (benign) group is not drawn, and the note says so
        assert "Not drawn (fewer than 3 patients, no estimate shown): low." in text
        assert "Surveillance quality" in text and "Visits whose window has closed" in text


def test_default_threshold_suppresses_every_group(registry: Repository) -> None:
    """With the default threshold 5 the four high-risk patients are suppressed too."""
    text, _ = text_of(render(registry, min_cell=5))
    rfs = section(text, "Recurrence-free survival by guideline risk group")
    assert re.search(r"high < 5 suppressed", rfs), rfs
    assert not re.search(r"\bhigh 4\b", text)


def test_nothing_small_nothing_suppressed(registry: Repository) -> None:
    """Threshold 2: no group is under it (4 and 2), so every count is shown: n 6."""
    text, _ = text_of(render(registry, min_cell=2))
    for title in TITLES:
        assert f"{title}, as of 2026-11-28 (n 6)" in text, title
    assert "Guideline risk group (S05–S09, I1) high 4, low 2" in text, text
    assert "Not drawn" not in text


class TestSuppress:
    def test_counts_and_shares(self) -> None:
        """The PDF's counts and shares through :meth:`Summary.cells` (threshold 5): 40
        patients with a plan, 3 overdue + 12 due + 25 upcoming; 10 with the full panel."""
        s = Summary(ON, 40, by_worklist_status={"overdue": 3, "due": 12, "upcoming": 25},
                    overdue=Ratio(3, 40), ihc_complete=Ratio(10, 40))
        c = s.cells(5)
        # the 3 is "< 5" and 40 - 12 - 25 would give it: 12 (the smallest other) goes
        assert [c.text(f"worklist:{k}") for k in ("overdue", "due", "upcoming", "done")] == [
            "< 5", "suppressed", "25", "0"]
        assert c.ratio_text("worklist:overdue", "active") == "< 5/40"  # no share
        assert c.ratio_text("ihc_complete", "evaluable") == "10/40 (25.0%)"
        assert Summary(ON, 0).cells(5).ratio_text("worklist:overdue", "active") == (
            "0/0 (n/a)")


class TestPatientCounts:
    """:meth:`Summary.cells` on hand-made counts."""

    def test_group_of_two_recoverable_from_the_total(self) -> None:
        # 6 = high 4 + low 2 at threshold 3: low "< 3", high suppressed (6 - 4 = 2)
        s = Summary(ON, 6, by_risk={"high": 4, "low": 2}, by_disease_status={"localized": 6},
                    by_worklist_status={"upcoming": 6}, overdue=Ratio(0, 6),
                    ihc_complete=Ratio(6, 6))
        c = s.cells(3)
        assert [c.text(k) for k in ("patients", "risk:high", "risk:low",
                                    "status:localized", "worklist:upcoming")] == [
            "6", "suppressed", "< 3", "6", "6"]
        assert c.ratio_text("worklist:overdue", "active") == "0/6 (0.0%)"

    def test_not_evaluable_is_one_count_in_every_breakdown(self) -> None:
        # 9 = 7 evaluable + 2 not evaluable ("< 5"): with 9 shown the 7 would give the
        # 2, so evaluable (the other part) goes; evaluable = high 7 = localized 7 would
        # then give the 7 back, so high and localized go too
        s = Summary(ON, 9, by_risk={"high": 7, "not evaluable": 2},
                    by_disease_status={"localized": 7, "not evaluable": 2})
        c = s.cells(5)
        assert [c.text(k) for k in ("patients", "not_evaluable", "evaluable", "risk:high",
                                    "status:localized")] == [
            "9", "< 5", "suppressed", "suppressed", "suppressed"]


@pytest.fixture
def client(registry: Repository) -> Iterator[TestClient]:
    app = create_app(WebConfig(min_cell=3), today=lambda: ON)
    app.state.registry = registry
    with TestClient(app, base_url="http://localhost") as c:
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
    assert "high 4 3 75.0 (12.8–96.1)" in text
    # the concordance names each recommendation in words, its id beside it
    assert f"{DONE} 2026 6 no recorded decision to compare" in flat(out.read_bytes())
    r = pecoma("registry", "summary", "--format", "pdf", "--database-url", db_url)
    assert r.returncode != 0 and "--format pdf needs --output FILE" in r.stderr


# --- concordance ----------------------------------------------------------------------

LATER = dt.date(2027, 2, 1)


@pytest.fixture
def decided(repo: Repository, db_url: str) -> Repository:
    """H1, H2: high-risk uterine tumours, resected (recommendations REC-RESECTION-DONE,
    REC-REFER-TRIALS, …); M1: metastatic, everolimus first line (REC-MTOR-FIRST-LINE, …);
    all recorded on 2026-11-28. The board accepted REC-REFER-TRIALS for H1 and H2 on
    2026-11-28 and declined REC-RESECTION-DONE for H2 on 2027-01-15 (the patient's
    preference)."""
    for rid, case in (("H1", high_risk()), ("H2", high_risk()), ("M1", metastatic())):
        add(repo, rid, case)
    decide(repo, "H1", "REC-REFER-TRIALS", "accepted")
    decide(repo, "H2", "REC-REFER-TRIALS", "accepted")
    later = open_registry(db_url, clock=ticking_clock(dt.datetime(2027, 1, 15, 10, 0,
                                                                  tzinfo=dt.UTC)))
    try:
        decide(later, "H2", "REC-RESECTION-DONE", "declined", "patient-preference")
    finally:
        later.close()
    return repo


def test_concordance_in_two_years(decided: Repository) -> None:
    """As of 2027-02-01 with nothing suppressed (threshold 1), by hand:
    - recorded treatment: REC-MTOR-FIRST-LINE first recommended in 2026 to M1 only, whose
      first line is everolimus (an mTOR inhibitor): recommended 1, followed 1, not followed
      0, not recorded 0, 1/1 (100.0%); REC-RESECTION-DONE (2026, H1 and H2) has no
      recorded treatment to compare;
    - decisions: REC-REFER-TRIALS 2026 board: decided 2, accepted 2, 0 declined, 0
      deferred, 2/2 (100.0%), no reason; REC-RESECTION-DONE 2027 board: decided 1,
      accepted 0, declined 1, 0 deferred, 0/1 (0.0%), reason "declined: Patient's
      preference" 1."""
    text = flat(render(decided, min_cell=1, on=LATER))
    assert "Concordance with the recommendations" in text
    assert f"{MTOR} 2026 1 1 0 0 1/1 (100.0%) —" in text, text
    assert f"{DONE} 2026 2 no recorded decision to compare" in text, text
    assert f"{TRIALS} 2026 board 2 2 0 0 2/2 (100.0%) —" in text, text
    assert (f"{DONE} 2027 board 1 0 1 0 0/1 (0.0%) declined: Patient's "
            "preference (1)") in text, text
    # as of 2026-12-31 the 2027 decision is not made yet
    text = flat(render(decided, min_cell=1, on=dt.date(2026, 12, 31)))
    assert f"{DONE} 2027" not in text
    assert f"{TRIALS} 2026 board 2 2 0 0 2/2 (100.0%)" in text


def test_recommendations_named_by_their_title(decided: Repository) -> None:
    """A reader of the shared summary needs each recommendation in words: every record
    id in the PDF stands in brackets right after its record's title, never alone (the
    table had named recommendations by id only)."""
    from pecoma.knowledge import load_knowledge

    records = load_knowledge().records
    text = flat(render(decided, min_cell=1, on=LATER))
    ids = re.findall(r"REC-[A-Z0-9-]*[A-Z0-9]", text)
    assert "REC-MTOR-FIRST-LINE" in ids and "REC-RESECTION-DONE" in ids
    for rid in ids:
        assert f"{records[rid].title} [{rid}]" in text, rid
    assert not re.search(r"(?<!\[)REC-", text), text


@pytest.fixture
def answered(repo: Repository) -> Repository:
    """M1 (metastatic, everolimus) and nine CDS Hooks answers on 2026-12-02 to cards
    carrying REC-MTOR-FIRST-LINE: six accepted, three overridden (clinical trial)."""
    add(repo, "M1", metastatic())
    at = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    CdsStore(repo.engine).add_feedback([
        FeedbackRecord(card=f"card-{i}", service="pecoma-order-select",
                       outcome="accepted" if i < 6 else "overridden", outcome_at=at,
                       accepted_suggestions=("s",) if i < 6 else (),
                       override_code=None if i < 6 else "clinical-trial",
                       record_ids=("REC-MTOR-FIRST-LINE",), knowledge_version="1",
                       decision_ids=("REC-MTOR-FIRST-LINE",))
        for i in range(9)])
    return repo


class TestSmallCellsEverywhere:
    """REC-MTOR-FIRST-LINE 2026 cds-hooks with threshold 5: declined 3 is "< 5"; decided 9
    = accepted 6 + declined 3 + deferred 0, so with accepted shown the 3 would be 9 - 6 -
    0: accepted (the smallest other non-zero count) is suppressed too, and with it the
    share. The reason (declined: clinical trial, 3) is "< 5"."""

    ROW = ("REC-MTOR-FIRST-LINE 2026 cds-hooks: decided 9; accepted suppressed, declined "
           "< 5, deferred 0; accepted suppressed; reasons: declined: Treated within a "
           "clinical trial (< 5)")

    def test_pdf(self, answered: Repository) -> None:
        text = flat(render(answered, min_cell=5, on=LATER))
        assert (f"{MTOR} 2026 cds-hooks 9 suppressed < 5 0 suppressed/9 "
                "declined: Treated within a clinical trial (< 5)") in text, text
        assert not re.search(r"cds-hooks 9 6\b", text)
        assert "66.7" not in text and "33.3" not in text

    def test_web(self, answered: Repository) -> None:
        app = create_app(WebConfig(min_cell=5), today=lambda: LATER)
        app.state.registry = answered
        with TestClient(app, base_url="http://localhost") as c:
            page = c.get("/registry/summary").text
            pdf = c.get("/registry/summary.pdf").content
        named = self.ROW.replace(  # the page names the record by its title
            "REC-MTOR-FIRST-LINE", "“An mTOR inhibitor is the first-line systemic treatment”")
        assert named.replace("< 5", "&lt; 5").replace("'", "&#39;") in page, page
        text = flat(pdf)
        assert f"{MTOR} 2026 cds-hooks 9 suppressed < 5 0 suppressed/9" in text, text

    def test_json(self, db_url: str, answered: Repository) -> None:
        from test_registry_cli import pecoma

        r = pecoma("registry", "summary", "--format", "json", "--on", LATER.isoformat(),
                   "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        row = next(d for d in json.loads(r.stdout)["concordance"]["decisions"]
                   if d["source"] == "cds-hooks")
        assert row == {
            "record": "REC-MTOR-FIRST-LINE", "year": 2026, "source": "cds-hooks",
            "decided": 9, "accepted": "suppressed", "declined": "<5", "deferred": 0,
            "share_accepted": "suppressed",
            "reasons": [{"reason": "declined: Treated within a clinical trial", "n": "<5"}],
        }


def test_quality_complementary_suppression() -> None:
    """10 visits whose window has closed: 6 on time, 0 early, 3 late, 1 missed (9 done).
    With threshold 5, late 3 and missed 1 are "< 5"; 10 = done + missed would give missed
    from done, so done (9) is suppressed too, and the median delay of the 9 is not
    printed; late 3 stays "< 5" and its median lateness is not printed."""
    q = SurveillanceQuality(ON, windows_closed=10, on_time=6, early=0, late=3, missed=1,
                            delays=[0] * 6 + [40, 41, 42], lateness=[5, 6, 7])
    html = summary_pdf_html_of(q, min_cell=5)
    assert ("Visits whose window has closed: 10; done inside the window 6/10 (60.0%); "
            "early 0, late &lt; 5, missed &lt; 5") in html
    assert "Median delay from the due date to the scan: not shown (n suppressed)" in html
    assert "Median lateness past the window: not shown (n &lt; 5)" in html


def summary_pdf_html_of(q: SurveillanceQuality, min_cell: int) -> str:
    from pecoma.registry.quality import Concordance
    from pecoma.registry.summary import Summary
    from pecoma.registry.summary_pdf import summary_pdf_html

    return summary_pdf_html(Summary(ON, 0), q, Concordance(ON, ("recorded treatment",)),
                            [], min_cell)
