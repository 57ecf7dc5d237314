"""A scan and a death recorded at the same moment for one patient: the scan's date is
checked against the death inside the scan's writing transaction, the patient locked, so
a death committed between the scan's first check and its write is seen and the scan
refused (no follow-up after death), on SQLite and PostgreSQL, from the command's service
and from the web form alike.

The race is made deterministic: the death is recorded by another writer at the point
where the scan's own transaction is about to begin (after every check made before it),
or, on PostgreSQL, the scan's transaction is made to wait for the lock of a death's
transaction still open."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from pecoma.errors import InputError
from pecoma.registry.outcomes import check_outcomes, record_outcome
from pecoma.registry.service import record_case, record_scan
from pecoma.settings import default_settings
from pecoma.store import Repository, open_registry
from pecoma.store.repository import OutcomeData
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import ON, db_url, high_risk, repo

__all__ = ["db_url", "repo"]

DEATH = "2026-03-01"
SCAN = "2026-04-01"  # a month after the death: follow-up after death


def _patient(repo: Repository) -> None:
    """PEC-1: high risk, resected 2025-01-10 (a scan in 2026 is in follow-up)."""
    record_case(repo, "PEC-1", high_risk(), on_date=ON, settings=default_settings(),
                actor="clinic", source="test")


def _death_before_the_scan_is_written(monkeypatch: pytest.MonkeyPatch, db: str) -> None:
    """Every scan write of this test first lets another writer (its own connection)
    record PEC-1's death on 2026-03-01 and commit it: the order of the race in which the
    death lands after the scan's date was checked against what was stored."""
    original = Repository.add_scan

    def racing(self: Repository, *args: Any, **kwargs: Any) -> int | None:
        other = open_registry(db)
        try:
            record_outcome(other, "PEC-1", "death", DEATH, "dead_of_other_cause",
                           on_date=ON, actor="ward")
        finally:
            other.close()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Repository, "add_scan", racing)


class TestDeathBetweenCheckAndWrite:
    def test_the_scan_is_refused(self, repo: Repository, db_url: str,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """Died 2026-03-01, committed while the scan of 2026-04-01 was between its check
        and its write: the scan is refused naming the death, and nothing of it stored
        (it had been stored: a scan dated after the recorded death)."""
        _patient(repo)
        _death_before_the_scan_is_written(monkeypatch, db_url)
        with pytest.raises(InputError) as e:
            record_scan(repo, "PEC-1", SCAN, "chest_ct", "no_evidence_of_disease",
                        on_date=ON, actor="radiology")
        assert [i.path for i in e.value.issues] == ["date"]
        assert "after the recorded death (2026-03-01)" in e.value.issues[0].rule
        assert repo.count()["imaging_event"] == 0
        assert [a.entity for a in repo.audit()].count("imaging_event") == 0

    def test_a_scan_before_the_death_is_stored(self, repo: Repository, db_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
        """The same race with a scan on 2026-02-01, before the death: nothing
        contradicts it, it is stored."""
        _patient(repo)
        _death_before_the_scan_is_written(monkeypatch, db_url)
        assert record_scan(repo, "PEC-1", "2026-02-01", "chest_ct",
                           "no_evidence_of_disease", on_date=ON,
                           actor="radiology") is not None
        assert repo.count()["imaging_event"] == 1

    def test_the_web_form_refuses_it_too(self, repo: Repository, db_url: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
        """The web form records a scan the same way: the death committed meanwhile is
        named next to the date (422), and no scan is stored (it answered 303 and stored
        the scan)."""
        _patient(repo)
        app = create_app(WebConfig(), today=lambda: ON)
        app.state.registry = repo
        _death_before_the_scan_is_written(monkeypatch, db_url)
        with TestClient(app, base_url="http://localhost") as c:
            r = c.post("/registry/patients/PEC-1/scan", data={
                "date": SCAN, "modality": "chest_ct", "finding": "no_evidence_of_disease"},
                follow_redirects=False)
        assert r.status_code == 422
        assert "after the recorded death (2026-03-01)" in r.text
        assert repo.count()["imaging_event"] == 0


@pytest.fixture
def postgres_repo(postgres_registry_database: str) -> Iterator[Repository]:
    """A registry on PostgreSQL (row locks; SQLite takes the database's write lock)."""
    r = open_registry(postgres_registry_database)
    yield r
    r.close()


def _waiting_for_a_lock(repo: Repository) -> int:
    with repo.engine.connect() as c:
        return int(c.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()")).scalar_one())


@pytest.mark.postgres
def test_postgresql_scan_waits_for_the_death_and_sees_it(postgres_repo: Repository) -> None:
    """On PostgreSQL: a death's transaction holds PEC-1's lock, open; a scan dated after
    it is recorded meanwhile. Its first check sees no death (not committed), then it
    waits for the patient's lock; the death commits; the scan's check, made under the
    lock, sees the death and refuses the scan. (The scan used to be stored: its check
    ran before the lock only.)"""
    repo = postgres_repo
    _patient(repo)
    inside = threading.Event()
    release = threading.Event()

    def held(case: dict[str, Any] | None, stored: Any, scans: Any,
             new: Any) -> list[OutcomeData]:
        checked = list(check_outcomes(case, stored, scans, new, ON))
        inside.set()  # the patient is locked; the death not committed yet
        assert release.wait(30)
        return checked

    death = OutcomeData("death", dt.date.fromisoformat(DEATH), "dead_of_other_cause")
    writer = threading.Thread(target=repo.add_outcomes, args=("PEC-1", [death], "ward", held))
    writer.start()
    try:
        assert inside.wait(30)
        refused: list[InputError] = []

        def scan() -> None:
            try:
                record_scan(repo, "PEC-1", SCAN, "chest_ct", "no_evidence_of_disease",
                            on_date=ON, actor="radiology")
            except InputError as exc:
                refused.append(exc)

        scanner = threading.Thread(target=scan)
        scanner.start()
        deadline = time.monotonic() + 30
        while _waiting_for_a_lock(repo) == 0 and scanner.is_alive():
            assert time.monotonic() < deadline, "the scan never waited for the lock"
            time.sleep(0.02)
    finally:
        release.set()
        writer.join(30)
    scanner.join(30)
    assert [i.path for e in refused for i in e.issues] == ["date"]
    assert "after the recorded death (2026-03-01)" in refused[0].issues[0].rule
    assert repo.count()["imaging_event"] == 0
    assert repo.death_date("PEC-1") == dt.date(2026, 3, 1)
