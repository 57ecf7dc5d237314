"""The CDS service's memory in the registry database: replay cache, reports, cards,
feedback; each bounded in retention and size. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from pecoma.store import Repository, open_registry
from pecoma.store.cds import CardRecord, CdsLimits, CdsStore, FeedbackRecord
from pecoma.store.models import CdsJti

from registry_support import db_url  # noqa: F401 (fixture)

T0 = dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:  # noqa: F811
    r = open_registry(db_url)
    yield r
    r.close()


def store(repo: Repository, clock: Clock, **limits: float) -> CdsStore:
    return CdsStore(repo.engine, CdsLimits(**limits), clock)  # type: ignore[arg-type]


def card(n: int, suggestions: tuple[str, ...] = ()) -> CardRecord:
    return CardRecord(uuid=f"00000000-0000-4000-8000-{n:012d}", service="pecoma-order-select",
                      hook_instance="h", indicator="warning", summary="s",
                      record_ids=("ALERT-CHEMO-BEFORE-MTOR",), knowledge_version="1.0",
                      suggestions=suggestions, override_reasons=("sys|code",))


def test_jti_once_per_issuer_until_it_expires(repo: Repository) -> None:
    clock = Clock()
    s = store(repo, clock)
    exp = T0 + dt.timedelta(minutes=5)
    assert s.claim_jti("iss-a", "j1", exp)
    assert not s.claim_jti("iss-a", "j1", exp)  # replay
    assert s.claim_jti("iss-b", "j1", exp)  # another issuer's jti
    other_worker = store(repo, clock)
    assert not other_worker.claim_jti("iss-a", "j1", exp)
    clock.now = exp + dt.timedelta(seconds=1)  # expired tokens are refused by exp anyway
    assert s.claim_jti("iss-a", "j1", clock.now + dt.timedelta(minutes=5))


def test_full_replay_cache_fails_closed(repo: Repository) -> None:
    clock = Clock()
    s = store(repo, clock, max_jti=3, prune_every=1)
    exp = T0 + dt.timedelta(minutes=5)
    assert all(s.claim_jti("i", f"j{n}", exp) for n in range(3))
    assert not s.claim_jti("i", "j-new", exp)  # refused rather than forgetting one
    clock.now = exp + dt.timedelta(seconds=1)  # once they expire, room again
    assert s.claim_jti("i", "j-new", clock.now + dt.timedelta(minutes=5))


def _jti_rows(repo: Repository) -> int:
    with repo.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(CdsJti)) or 0


def _answer(s: CdsStore, n: int, expires: dt.datetime) -> None:
    """One hook call with cards, as the router makes it: the JWT's jti claimed, the cards
    issued, and the cards pruned when that write is due."""
    assert s.claim_jti("iss", f"call-{n}", expires)
    s.issue([card(n)])
    if s.prune_due():
        s.prune_cards()


def test_expired_tokens_go_while_calls_give_cards(repo: Repository) -> None:
    """A call with cards claims a jti and then issues its cards. The two had drawn on one
    counter of writes, so every pruning turn fell to the cards and the replay cache was
    never pruned: its expired rows stayed for ever. Now each job counts its own turns."""
    clock = Clock()
    s = store(repo, clock, prune_every=2)
    soon = T0 + dt.timedelta(seconds=1)
    for n in range(10):
        _answer(s, n, soon)
    assert _jti_rows(repo) == 10
    clock.now = soon + dt.timedelta(seconds=1)  # those ten tokens have expired
    for n in range(10, 20):
        _answer(s, n, clock.now + dt.timedelta(minutes=5))
    assert _jti_rows(repo) == 10  # only the unexpired ones are kept


def test_replay_cache_never_passes_its_bound(repo: Repository) -> None:
    """max_jti had been looked at on one claim in prune_every (200) only, and with cards
    never: 750 rows were kept with max_jti = 100. Now two workers together keep at most
    max_jti unexpired tokens and refuse the rest (fail closed), and a replay is still
    refused."""
    clock = Clock()
    workers = [store(repo, clock, max_jti=100), store(repo, clock, max_jti=100)]
    exp = T0 + dt.timedelta(minutes=5)
    taken = [workers[n % 2].claim_jti("iss", f"j{n}", exp) for n in range(150)]
    assert sum(taken) == 100 and taken[:100] == [True] * 100
    assert _jti_rows(repo) == 100
    assert not workers[0].claim_jti("iss", "j1", exp)  # a replay
    clock.now = exp + dt.timedelta(seconds=1)  # once they expire, room again
    assert workers[1].claim_jti("iss", "j-new", clock.now + dt.timedelta(minutes=5))
    assert _jti_rows(repo) == 1


def test_report_expires_and_token_is_not_stored(repo: Repository) -> None:
    clock = Clock()
    s = store(repo, clock, report_ttl_seconds=60)
    token = s.new_token()
    s.issue([card(1)], [(token, "# report")])
    assert s.report(token) == "# report"
    assert s.report(token + "x") is None
    with repo.engine.connect() as conn:
        from sqlalchemy import text

        stored = conn.execute(text("SELECT digest, text FROM cds_report")).all()
    assert all(token not in row[0] for row in stored)
    clock.now += dt.timedelta(seconds=61)
    assert s.report(token) is None


def test_report_and_card_text_kept_as_written(repo: Repository) -> None:
    """A report and a card summary outside ASCII (a size '≥ 5 cm', the middle dot of the
    report's lists, a name with accents, a quote and a backslash) are read back as they
    were written: on PostgreSQL they go to the server as the JSON bytes orjson writes."""
    s = store(repo, Clock())
    token = s.new_token()
    text = "# Report\n\n- tumour ≥ 5 cm · Müller-Lüdenscheidt \"R1\" \\ 10⁹/L\n"
    written = CardRecord(uuid=card(2).uuid, service="pecoma-patient-view",
                         hook_instance="h", indicator="info", summary="risk ≥ high · é",
                         record_ids=("RISK-HIGH",), knowledge_version="1.0")
    s.issue([written], [(token, text)])
    assert s.report(token) == text
    kept = s.card(written.uuid)
    assert kept is not None and kept.summary == "risk ≥ high · é"


def test_cards_and_reports_bounded_in_number(repo: Repository) -> None:
    clock = Clock()
    s = store(repo, clock, max_cards=5, max_reports=2, prune_every=1)
    tokens = []
    for n in range(8):
        clock.now += dt.timedelta(seconds=1)
        tokens.append(s.new_token())
        s.issue([card(n)], [(tokens[-1], f"r{n}")])
        assert s.prune_due()  # prune_every=1
        s.prune_cards()
    assert s.card(card(7).uuid) is not None and s.card(card(0).uuid) is None
    with repo.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM cds_card")).scalar_one() <= 5
        assert conn.execute(text("SELECT count(*) FROM cds_report")).scalar_one() <= 2
    assert s.report(tokens[-1]) == "r7"


def test_a_table_far_from_its_bound_is_not_counted_at_every_pruning(repo: Repository) -> None:
    """Counting half a million cards costs the database tens of milliseconds: after a
    count, a process counts a table again only once it has added its share (1/SHARERS) of
    the room that was left below the bound; near the bound, at every pruning."""
    from sqlalchemy import event

    from pecoma.store.cds import SHARERS

    clock = Clock()
    s = store(repo, clock, max_cards=1000, max_reports=1000, prune_every=1)
    counts: list[str] = []

    def log(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "count(" in statement.lower():
            counts.append(statement)

    event.listen(repo.engine, "before_cursor_execute", log)
    try:
        s.issue([card(0)])
        s.prune_cards()
        assert len(counts) == 2  # cards and reports, counted once
        share = (1000 - 1) // SHARERS  # 62 rows of this process before the next count
        for n in range(1, share):
            s.issue([card(n)])
        s.prune_cards()
        assert len(counts) == 2  # the cards' share not used up; no report was added
        s.issue([card(share)])
        s.prune_cards()
        assert len(counts) == 3  # the cards counted again
    finally:
        event.remove(repo.engine, "before_cursor_execute", log)


def test_cards_kept_for_their_retention(repo: Repository) -> None:
    clock = Clock()
    s = store(repo, clock, card_days=1, prune_every=1)
    s.issue([card(1)])
    clock.now += dt.timedelta(days=2)
    s.issue([card(2)])
    s.prune_cards()
    assert s.card(card(1).uuid) is None and s.card(card(2).uuid) is not None


def test_feedback_round_trip_and_bounds(repo: Repository) -> None:
    clock = Clock()
    s = store(repo, clock, max_feedback=3, prune_every=1)
    s.issue([card(1, ("sug-1",))])
    issued = s.card(card(1).uuid)
    assert issued is not None and issued.suggestions == ("sug-1",)
    for n in range(5):
        clock.now += dt.timedelta(seconds=1)
        s.add_feedback([FeedbackRecord(
            card=issued.uuid, service=issued.service, outcome="accepted",
            outcome_at=T0, accepted_suggestions=("sug-1",), record_ids=issued.record_ids,
            knowledge_version="1.0", user_comment=f"c{n}")])
    kept = s.feedback()
    assert len(kept) <= 3 and kept[-1].user_comment == "c4"
    assert kept[-1].record_ids == ("ALERT-CHEMO-BEFORE-MTOR",)


def _wal_flushes(conn: Any) -> int:
    """WAL flushes to disk so far, all processes (PostgreSQL 15-17: pg_stat_wal; 18 and
    later: pg_stat_io), after this backend's own counts are flushed to the statistics
    (``conn`` in autocommit: the flush happens at the end of a transaction)."""
    conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")
    conn.exec_driver_sql("SELECT 1")  # the flush happens at the end of a transaction
    if conn.dialect.server_version_info >= (18,):
        sql = "SELECT coalesce(sum(fsyncs), 0) FROM pg_stat_io WHERE object = 'wal'"
    else:
        sql = "SELECT wal_sync FROM pg_stat_wal"
    return int(conn.exec_driver_sql(sql).scalar_one())


@pytest.mark.postgres
def test_only_cards_and_reports_skip_the_flush_wait(postgres_database: str) -> None:
    """On PostgreSQL the cards and report of an answer commit asynchronously (they are a
    cache of what the EHR already has); the replay cache and the feedback (with its board
    decisions and audit entries) must wait for the disk. Measured, not read off the SQL:
    on one connection, 30 answers cause (almost) no WAL flush, 30 JWT claims at least 30.
    The setting ends with its transaction: the connection commits synchronously
    afterwards. PostgreSQL only (SQLite has no asynchronous commit)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    repo = open_registry(postgres_database)  # creates the tables
    repo.close()
    engine = create_engine(postgres_database, poolclass=StaticPool)
    try:
        s = CdsStore(engine, CdsLimits(), Clock())
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert conn.exec_driver_sql("SHOW fsync").scalar() == "on", "needs fsync on"
            before = _wal_flushes(conn)
        for n in range(30):
            s.issue([card(n)], [(CdsStore.new_token(), "# report")])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            answers = _wal_flushes(conn) - before
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        for n in range(30):
            assert s.claim_jti("iss", f"j{n}", T0 + dt.timedelta(minutes=5))
        s.add_feedback([FeedbackRecord(
            card=card(1).uuid, service="pecoma-order-select", outcome="overridden",
            outcome_at=T0, record_ids=card(1).record_ids, knowledge_version="1.0")])
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            durable = _wal_flushes(conn) - before - answers
        assert answers < 10, answers  # the WAL writer's own flushes, at most a few
        assert durable >= 31, durable
        assert s.card(card(29).uuid) is not None  # the answers were stored all the same
    finally:
        engine.dispose()


def test_a_burst_waits_for_pooled_connections(repo: Repository) -> None:
    """Sixteen answers at once in one process open no more connections than the pool
    keeps (each overflow connection would be a new server process and a log-in, closed
    again on return), and every answer is stored."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import event

    repo.engine.dispose()
    opened: list[object] = []
    event.listen(repo.engine, "connect", lambda conn, record: opened.append(conn))
    s = store(repo, Clock())
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: s.issue([card(n)], [(f"token-{n}", "# r")]), range(48)))
    assert 1 <= len(opened) <= repo.engine.pool.size()  # type: ignore[attr-defined]
    assert all(s.card(card(n).uuid) is not None for n in range(48))


@pytest.mark.postgres
def test_waiting_for_a_connection_is_bounded(postgres_database: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """When every turn is taken (a database that hangs), the next call gives up after the
    bound with a StoreError (a 503, or a refused JWT), never waits for ever. PostgreSQL
    only: SQLite has one writer per process on a lock, bounded by its busy timeout."""
    import time

    import pecoma.store.cds as cds
    from pecoma.store.db import StoreError

    repo = open_registry(postgres_database)
    monkeypatch.setattr(cds, "DB_TIMEOUT_S", 0.2)
    s = store(repo, Clock())
    taken = 0
    while s._gate.acquire(blocking=False):
        taken += 1
    assert taken == repo.engine.pool.size()  # type: ignore[attr-defined]
    started = time.monotonic()
    with pytest.raises(StoreError, match="busy"):
        s.issue([card(1)])
    assert time.monotonic() - started < 5
    for _ in range(taken):
        s._gate.release()
    s.issue([card(1)])
    repo.close()
    assert s.card(card(1).uuid) is not None


def test_registry_summary_reads_the_feedback(repo: Repository) -> None:
    """Concordance with the order-select warning (S13, S14): accepted among the outcomes
    on that warning's cards; overrides by reason; other cards' feedback left aside."""
    from pecoma.registry.summary import summarise
    from pecoma.settings import default_settings

    clock = Clock()
    s = store(repo, clock)

    def fb(outcome: str, records: tuple[str, ...], code: str | None = None) -> FeedbackRecord:
        return FeedbackRecord(card="c", service="pecoma-order-select", outcome=outcome,
                              outcome_at=T0, override_code=code, record_ids=records,
                              knowledge_version="1.0")

    alert = ("ALERT-CHEMO-BEFORE-MTOR", "REC-MTOR-FIRST-LINE")
    s.add_feedback([fb("accepted", alert), fb("overridden", alert, "clinical-trial"),
                    fb("overridden", alert), fb("overridden", ("RISK-HIGH",))])
    summary = summarise([], [], T0.date(), default_settings(), s.feedback())
    assert (summary.cds_mtor_accepted.numerator,
            summary.cds_mtor_accepted.denominator) == (1, 3)
    assert summary.cds_override_reasons == {"(none given)": 1, "clinical-trial": 1}
    assert "suggestion accepted (S13, S14): 1/3" in "\n".join(summary.lines())
