"""Concordance of the recorded decisions (tumour board and CDS Hooks answers), with the
expected figures worked out by hand on a small registry, on SQLite and PostgreSQL.

The registry (every case recorded as of 2026-11-28):

- H1, H2: high-risk uterine PEComa, R0 resected: recommendations REC-RESECTION-DONE,
  RISK-ASSESS, REC-REFER-TRIALS;
- M1: metastatic, everolimus first line: REC-MTOR-FIRST-LINE, …, REC-REFER-TRIALS.

Decisions recorded (the board's, from 2026-11-28 on, one in 2027):

- H1 REC-REFER-TRIALS declined (patient's preference), then accepted: the decline is
  superseded and counts no more;
- H2 REC-REFER-TRIALS declined (not available); M1 REC-REFER-TRIALS deferred (more
  information needed); M1 REC-MTOR-FIRST-LINE accepted;
- H2 REC-RESECTION-DONE declined on 2027-01-15 (other, with text);
- CDS Hooks, 2026-12-02: one card on ALERT-CHEMO-BEFORE-MTOR and REC-MTOR-FIRST-LINE
  accepted, one overridden with the reason "clinical-trial".

So, as of 2027-02-01, REC-REFER-TRIALS 2026 (board): 3 decided, 1 accepted, 1 declined,
1 deferred, accepted 1/3 (33.3 %); REC-MTOR-FIRST-LINE 2026: board 1/1, CDS Hooks 1/2;
REC-RESECTION-DONE 2027 (board): 0/1. As of 2026-12-31 the 2027 row is absent.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from pecoma.registry.decisions import check_decision
from pecoma.registry.quality import concordance_of, registry_decisions, registry_quality
from pecoma.registry.service import record_case
from pecoma.registry.worklist import evaluate
from pecoma.settings import default_settings
from pecoma.store import Repository, open_registry
from pecoma.store.cds import CdsStore, FeedbackRecord
from pecoma.store.decisions import patient_decisions, record_decision

from registry_support import ON, db_url, high_risk, metastatic, repo, ticking_clock

__all__ = ["db_url", "repo"]

LATER = dt.date(2027, 2, 1)


def decide(
    repo: Repository,
    rid: str,
    record: str,
    decision: str,
    code: str = "",
    text: str = "",
    supersedes: int | None = None,
) -> int:
    aid = repo.state(rid).latest.id  # type: ignore[union-attr]
    return record_decision(
        repo, rid, aid, check_decision(record, decision, code, text), "board chair", supersedes
    )


@pytest.fixture
def registry(repo: Repository, db_url: str) -> Repository:
    s = default_settings()
    for rid, case in (("H1", high_risk()), ("H2", high_risk()), ("M1", metastatic())):
        record_case(repo, rid, case, on_date=ON, settings=s, actor="clinic", source="test")
    first = decide(repo, "H1", "REC-REFER-TRIALS", "declined", "patient-preference")
    decide(repo, "H1", "REC-REFER-TRIALS", "accepted", supersedes=first)
    decide(repo, "H2", "REC-REFER-TRIALS", "declined", "not-available")
    decide(repo, "M1", "REC-REFER-TRIALS", "deferred", "more-information")
    decide(repo, "M1", "REC-MTOR-FIRST-LINE", "accepted")
    later = open_registry(
        db_url, clock=ticking_clock(dt.datetime(2027, 1, 15, 10, 0, tzinfo=dt.UTC))
    )
    try:
        decide(
            later,
            "H2",
            "REC-RESECTION-DONE",
            "declined",
            "other",
            "margin review pending at the reference centre",
        )
    finally:
        later.close()
    records = ("ALERT-CHEMO-BEFORE-MTOR", "REC-MTOR-FIRST-LINE")
    at = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    CdsStore(repo.engine).add_feedback(
        [
            FeedbackRecord(
                card="card-1",
                service="pecoma-order-select",
                outcome="accepted",
                outcome_at=at,
                accepted_suggestions=("s",),
                record_ids=records,
                knowledge_version="1",
                decision_ids=records,
            ),
            FeedbackRecord(
                card="card-2",
                service="pecoma-order-select",
                outcome="overridden",
                outcome_at=at,
                override_code="clinical-trial",
                record_ids=records,
                knowledge_version="1",
                decision_ids=records,
            ),
        ]
    )
    return repo


def rows_of(repo: Repository, on: dt.date) -> dict[tuple[str, int, str], object]:
    s = default_settings()
    c = concordance_of(repo, evaluate(repo.states(), on, s), on, s)
    return {(d.record, d.year, d.source): d for d in c.decisions}


def test_hand_worked_figures(registry: Repository) -> None:
    rows = rows_of(registry, LATER)
    trials = rows[("REC-REFER-TRIALS", 2026, "board")]
    assert (
        trials.decided,
        trials.accepted,
        trials.declined,  # type: ignore[attr-defined]
        trials.deferred,
    ) == (3, 1, 1, 1)  # type: ignore[attr-defined]
    assert str(trials.share) == "1/3 (33.3%)"  # type: ignore[attr-defined]
    # the superseded decline (patient's preference) is not a reason any more
    assert trials.reasons == (  # type: ignore[attr-defined]
        ("declined: Treatment or trial not available", 1),
        ("deferred: More information needed first (missing facts, review)", 1),
    )
    mtor_board = rows[("REC-MTOR-FIRST-LINE", 2026, "board")]
    assert str(mtor_board.share) == "1/1 (100.0%)"  # type: ignore[attr-defined]
    mtor_cds = rows[("REC-MTOR-FIRST-LINE", 2026, "cds-hooks")]
    assert str(mtor_cds.share) == "1/2 (50.0%)"  # type: ignore[attr-defined]
    # the CDS override code 'clinical-trial' is also a board reason code: same label
    assert mtor_cds.reasons == (  # type: ignore[attr-defined]
        ("declined: Treated within a clinical trial", 1),
    )
    alert = rows[("ALERT-CHEMO-BEFORE-MTOR", 2026, "cds-hooks")]
    assert (alert.accepted, alert.declined) == (1, 1)  # type: ignore[attr-defined]
    resection = rows[("REC-RESECTION-DONE", 2027, "board")]
    assert (resection.decided, resection.declined) == (1, 1)  # type: ignore[attr-defined]
    # free text is never aggregated: only the coded reason
    assert resection.reasons == (  # type: ignore[attr-defined]
        ("declined: Other (say what in the text)", 1),
    )
    assert len(rows) == 5


def test_by_evaluation_date(registry: Repository) -> None:
    """As of 2026-12-31, the 2027 decision is not yet made."""
    rows = rows_of(registry, dt.date(2026, 12, 31))
    assert ("REC-RESECTION-DONE", 2027, "board") not in rows
    assert rows[("REC-REFER-TRIALS", 2026, "board")].decided == 3  # type: ignore[attr-defined]


def test_small_cells_suppressed(registry: Repository) -> None:
    s = default_settings()
    _, c = registry_quality(
        evaluate(registry.states(), LATER, s),
        {},
        registry.recommendation_history(),
        LATER,
        s,
        registry_decisions(registry),
        before_relapse={},
    )
    text = "\n".join(c.lines(min_cell=5))
    assert (
        "REC-REFER-TRIALS 2026 board: decided < 5; accepted < 5, declined < 5, "
        "deferred < 5; accepted suppressed"
    ) in text
    assert "33.3%" not in text
    data = c.to_jsonable(min_cell=5)
    row = next(r for r in data["decisions"] if r["record"] == "REC-REFER-TRIALS")
    assert row["decided"] == "<5" and row["share_accepted"] == "suppressed"
    shown = "\n".join(c.lines(min_cell=1))
    assert (
        "REC-REFER-TRIALS 2026 board: decided 3; accepted 1, declined 1, deferred 1; "
        "accepted 33.3%; reasons: declined: Treatment or trial not available (1); "
        "deferred: More information needed first (missing facts, review) (1)"
    ) in shown


def test_cds_answers_are_in_the_decision_table_with_audit(registry: Repository) -> None:
    from sqlalchemy import select

    from pecoma.store.models import AuditEntry, BoardDecision

    with registry.engine.connect() as conn:
        cds = conn.execute(
            select(
                BoardDecision.card_uuid,
                BoardDecision.record_id,
                BoardDecision.decision,
                BoardDecision.reason_code,
                BoardDecision.patient_id,
            )
            .where(BoardDecision.source == "cds-hooks")
            .order_by(BoardDecision.id)
        ).all()
        audited = conn.execute(
            select(AuditEntry.entity_id).where(
                AuditEntry.entity == "board_decision", AuditEntry.actor.like("cds-hooks:%")
            )
        ).all()
    assert [tuple(r) for r in cds] == [
        ("card-1", "ALERT-CHEMO-BEFORE-MTOR", "accepted", None, None),
        ("card-1", "REC-MTOR-FIRST-LINE", "accepted", None, None),
        ("card-2", "ALERT-CHEMO-BEFORE-MTOR", "declined", "clinical-trial", None),
        ("card-2", "REC-MTOR-FIRST-LINE", "declined", "clinical-trial", None),
    ]
    assert len(audited) == 4
    # a patient's page lists the board's decisions only (CDS answers name no patient)
    assert {d.source for d in patient_decisions(registry, "M1")} == {"board"}


def test_cli_summary_and_web_summary(registry: Repository, db_url: str) -> None:
    from fastapi.testclient import TestClient

    from pecoma.web.app import create_app
    from pecoma.web.config import WebConfig
    from test_registry_cli import pecoma

    r = pecoma(
        "registry",
        "summary",
        "--on",
        LATER.isoformat(),
        "--format",
        "json",
        "--min-cell",
        "1",
        "--database-url",
        db_url,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    row = next(
        d
        for d in data["concordance"]["decisions"]
        if (d["record"], d["source"]) == ("REC-REFER-TRIALS", "board")
    )
    assert row["share_accepted"] == {"numerator": 1, "denominator": 3, "share": 0.3333}
    r = pecoma("registry", "summary", "--on", LATER.isoformat(), "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    assert "REC-REFER-TRIALS 2026 board: decided < 5" in r.stdout  # default threshold 5

    app = create_app(WebConfig(min_cell=1), today=lambda: LATER)
    app.state.registry = registry
    with TestClient(app, base_url="http://localhost") as c:
        page = c.get("/registry/summary").text
    assert ("“Complete resection achieved” 2027 board: decided 1; accepted 0, declined 1"
            in page)  # named by its title on the page


def test_migration_copies_stored_feedback(tmp_path: object) -> None:
    """Feedback stored before revision 0008 lands in the decision table on upgrade."""
    from sqlalchemy import text

    from pecoma.store.db import create_db_engine, upgrade

    engine = create_db_engine(f"sqlite:///{tmp_path}/old.sqlite3")
    upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cds_feedback (card_uuid, service, outcome, outcome_at, "
                "accepted_suggestions, override_system, override_code, user_comment, "
                "record_ids, knowledge_version, received_at) VALUES ('c1', 'svc', "
                "'overridden', '2026-01-02 03:04:05', '[]', 'sys', 'team-decision', 'note', "
                "'[\"REC-A\", \"REC-B\"]', '1', '2026-01-02 03:04:05')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT source, card_uuid, record_id, decision, reason_code, reason_text "
                "FROM board_decision ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [
        ("cds-hooks", "c1", "REC-A", "declined", "team-decision", "note"),
        ("cds-hooks", "c1", "REC-B", "declined", "team-decision", "note"),
    ]
