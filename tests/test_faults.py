"""Faults: a process killed mid-write, a server killed and restarted, a database that is down.

Tests taking ``db_url`` run on SQLite and on PostgreSQL. The killed processes are real
``pecoma`` command lines in a subprocess, stopped with SIGKILL while their transaction is
open (a SQLAlchemy hook announces the moment, then waits to be killed).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import POSTGRES_ADMIN_URL
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository, StoreError, open_registry
from pecoma.store.tokens import TokenStore
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from cli_support import CliRun, run_cli
from registry_support import ON, db_url, high_risk, low_risk, metastatic, rows_of, write_csv

__all__ = ["db_url"]

ROOT = Path(__file__).resolve().parent.parent
CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/pecoma"

# Runs `pecoma …` after arming a hook: on the first INSERT into TABLE, write MARKER and
# sleep inside the open transaction until killed.
KILLABLE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    marker, table = Path(sys.argv[1]), sys.argv[2]

    def _writes_table(statement):
        words = str(statement).replace('"', "").upper().split()
        return words[:3] == ["INSERT", "INTO", table.upper()] or words[:2] == [
            "COPY", table.upper()]

    def _hold():
        marker.write_text("in transaction")
        time.sleep(120)

    @event.listens_for(Engine, "after_cursor_execute")
    def _pause(conn, cursor, statement, parameters, context, executemany):
        if _writes_table(statement):
            _hold()

    # bulk writes on PostgreSQL go through the driver's COPY, not through SQLAlchemy
    import contextlib
    import psycopg

    _copy = psycopg.Cursor.copy

    @contextlib.contextmanager
    def _copy_then_pause(self, statement, *args, **kwargs):
        with _copy(self, statement, *args, **kwargs) as copy:
            yield copy
        if _writes_table(statement):
            _hold()

    psycopg.Cursor.copy = _copy_then_pause

    sys.argv = ["pecoma", *sys.argv[3:]]
    from pecoma.cli import main
    main()
""")


def pecoma(*args: str) -> CliRun:
    """A command line run in-process (the set-up and the messages need no process of their
    own; the killed writers and the server below are real processes)."""
    return run_cli(*args, cwd=ROOT)


def kill_inside_transaction(tmp_path: Path, table: str, *args: str) -> None:
    """Run ``pecoma *args``; SIGKILL it while its transaction has inserted into ``table``."""
    marker = tmp_path / f"marker-{uuid.uuid4().hex}"
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(marker), table, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                _out, err = proc.communicate()
                pytest.fail(f"the command ended before the pause: {err.decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the command never reached the pause")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def counts(url: str) -> dict[str, int]:
    repo = open_registry(url)
    try:
        return repo.count()
    finally:
        repo.close()


@pytest.fixture
def cases_csv(tmp_path: Path) -> Path:
    rows = rows_of({f"PEC-{i:04d}": c for i, c in enumerate(
        [high_risk(), low_risk(), metastatic()] * 20, start=1)})
    return write_csv(tmp_path / "cases.csv", rows)


class TestKilledWriter:
    def test_import_killed_mid_transaction_leaves_nothing(
        self, db_url: str, cases_csv: Path, tmp_path: Path
    ) -> None:
        """SIGKILL after the import inserted case versions: no patient, no version, no
        audit row survives, and the next import runs normally (no stale lock)."""
        db = ("--database-url", db_url)
        assert pecoma("registry", "init", *db).returncode == 0
        before = counts(db_url)
        kill_inside_transaction(tmp_path, "case_version", "registry", "import",
                                str(cases_csv), "--on", ON.isoformat(), *db)
        assert counts(db_url) == before
        r = pecoma("registry", "import", str(cases_csv), "--on", ON.isoformat(), *db)
        assert r.returncode == 0, r.stderr
        after = counts(db_url)
        assert after["patient"] == 60 and after["case_version"] == 60

    def test_scan_killed_mid_transaction_leaves_nothing(
        self, db_url: str, cases_csv: Path, tmp_path: Path
    ) -> None:
        db = ("--database-url", db_url)
        r = pecoma("registry", "import", str(cases_csv), "--on", ON.isoformat(), *db)
        assert r.returncode == 0, r.stderr
        before = counts(db_url)
        scan = ("registry", "record-scan", "PEC-0001", "--date", "2026-11-20",
                "--modality", "chest_ct", "--finding", "no_evidence_of_disease",
                "--on", ON.isoformat(), *db)
        kill_inside_transaction(tmp_path, "imaging_event", *scan)
        assert counts(db_url) == before
        r = pecoma(*scan)
        assert r.returncode == 0, r.stderr
        assert counts(db_url)["imaging_event"] == before["imaging_event"] + 1

    def test_sqlite_stays_in_wal_mode_and_intact(self, cases_csv: Path, tmp_path: Path
                                                 ) -> None:
        """After a kill the file is in WAL mode, passes integrity_check, and is writable."""
        path = tmp_path / "wal.sqlite3"
        url = f"sqlite:///{path}"
        kill_inside_transaction(tmp_path, "case_version", "registry", "import",
                                str(cases_csv), "--on", ON.isoformat(), "--database-url", url)
        with sqlite3.connect(path, timeout=5) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM patient").fetchone()[0] == 0
        r = pecoma("registry", "import", str(cases_csv), "--on", ON.isoformat(),
                   "--database-url", url)
        assert r.returncode == 0, r.stderr


# --- the server: kill -9 and start again ---------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as f:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from pecoma.cli import main; main()", "serve",
             "--port", str(port)],
            stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **env}, cwd=ROOT,
        )
    deadline = time.monotonic() + 90  # a bound, not a wait: a loaded machine starts slowly
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


@pytest.fixture
def server_env(db_url: str, tmp_path: Path, cases_csv: Path) -> Iterator[dict[str, str]]:
    r = pecoma("registry", "import", str(cases_csv), "--on", ON.isoformat(),
               "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    yield {"PECOMA_DATABASE_URL": db_url, "PECOMA_LOG_LEVEL": "info",
           "PECOMA_DATA_DIR": str(tmp_path / "data")}


def test_server_killed_and_restarted_on_the_same_port(
    server_env: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    """kill -9 a serving `pecoma serve` after a write; the same command on the same port
    and data starts, is ready, shows the data and writes again."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    proc = start_server(port, server_env, log)
    try:
        assert httpx.get(f"{base}/readyz", timeout=10).json()["database"] == "ok"
        r = httpx.post(f"{base}/registry/patients/PEC-0001/scan", timeout=10, data={
            "date": "2026-11-20", "modality": "chest_ct", "finding": "no_evidence_of_disease"})
        assert r.status_code == 303
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc = start_server(port, server_env, log)
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        page = httpx.get(f"{base}/registry/patients/PEC-0001", timeout=30)
        assert page.status_code == 200
        assert "chest CT" in page.text
        r = httpx.post(f"{base}/registry/patients/PEC-0002/scan", timeout=10, data={
            "date": "2026-11-21", "modality": "chest_ct", "finding": "equivocal"})
        assert r.status_code == 303
        assert counts(db_url)["imaging_event"] == 2
    finally:
        proc.kill()
        proc.wait(timeout=10)


# --- a database that is down -----------------------------------------------------------


def down_client(url: str, **config: object) -> TestClient:
    cfg = WebConfig(database_url=url, db_timeout_seconds=2, **config)  # type: ignore[arg-type]
    return TestClient(create_app(cfg, today=lambda: ON), raise_server_exceptions=False,
                      base_url="http://localhost")


def assert_unavailable(c: TestClient, token: str | None = None) -> None:
    """503 in seconds: a readable page, problem+json on the API; liveness still up."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    page = c.get("/registry", headers=headers)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "The registry is not available" in page.text
    assert "Traceback" not in page.text
    if token is not None:  # server mode: the API needs the database to check the token
        api = c.get("/api/v1/tokens", headers=headers)
        assert api.status_code == 503
        assert api.headers["content-type"] == "application/problem+json"
        assert api.json()["type"] == "urn:pecoma:problem:database-unavailable"
        assert api.headers["retry-after"] == "5"
    ready = c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "degraded" and ready.json()["database"] == "unavailable"
    assert c.get("/healthz").status_code == 200
    assert c.get("/").status_code == 200  # the clinician's form needs no database
    assert time.monotonic() - started < 30


class TestDatabaseDown:
    def test_closed_port(self) -> None:
        assert_unavailable(down_client(CLOSED_PORT_URL))

    def test_closed_port_with_authentication_on(self) -> None:
        c = down_client(CLOSED_PORT_URL, auth="on")
        assert_unavailable(c, token="pecoma_x")
        assert "detail" not in c.get("/readyz").json()  # the reason is logged, not shown
        assert "port 1" in down_client(CLOSED_PORT_URL).get("/readyz").json()["detail"]

    def test_unreachable_host_is_bounded_by_the_timeout(self) -> None:
        """A blackholed address (TEST-NET-1) answers within the connect timeout."""
        started = time.monotonic()
        c = down_client("postgresql://postgres@192.0.2.1:5432/pecoma")
        assert c.get("/readyz").status_code == 503
        assert time.monotonic() - started < 15

    def test_sqlite_file_that_cannot_be_created(self, tmp_path: Path) -> None:
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("x")
        assert_unavailable(down_client(f"sqlite:///{blocker / 'sub' / 'r.sqlite3'}"))

    @pytest.mark.postgres
    def test_postgres_database_dropped_while_serving(self, postgres_database: str) -> None:
        """Serving, then the database disappears: 503 at once; liveness still up."""
        import psycopg
        from sqlalchemy.engine import make_url

        clients: list[TestClient] = []
        repo = open_registry(postgres_database)
        record_case(repo, "PEC-0001", high_risk(), on_date=ON, settings=default_settings(),
                    actor="t", source="t")
        _, token = TokenStore(repo.engine).create("ops", "admin", "t")
        repo.close()
        for auth in ("off", "on"):
            c = down_client(postgres_database, auth=auth)
            h = {"Authorization": f"Bearer {token}"}
            assert c.get("/registry", headers=h).status_code == 200
            assert c.get("/readyz").json()["database"] == "ok"
            clients.append(c)
        name = make_url(postgres_database).database
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        assert_unavailable(clients[0])
        assert_unavailable(clients[1], token=token)

    def test_open_registry_raises_store_error(self) -> None:
        started = time.monotonic()
        with pytest.raises(StoreError, match="cannot open the registry database"):
            open_registry(CLOSED_PORT_URL, timeout=2)
        assert time.monotonic() - started < 10


class TestCliDatabaseDown:
    @pytest.mark.parametrize("args", [
        ("registry", "worklist"),
        ("registry", "record-scan", "PEC-0001", "--date", "2026-11-20", "--modality",
         "chest_ct"),
        ("registry", "init"),
        ("token", "list"),
        ("token", "create", "--role", "reader", "--name", "x"),
    ])
    def test_message_and_exit_code_not_a_traceback(self, args: tuple[str, ...]) -> None:
        r = pecoma(*args, "--database-url", CLOSED_PORT_URL)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr + r.stdout
        assert "cannot open the registry database" in " ".join(r.stderr.split())


# --- a database that hangs --------------------------------------------------------------


@pytest.fixture
def hung_server() -> Iterator[str]:
    """A loopback socket that accepts connections and never answers: a hung database."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)  # kept open, never read from, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/pecoma"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


class TestServerModeHidesTheDatabase:
    """In server mode the reason a database is down (its host, port, user, the driver's
    error) can help an attacker: a caller, signed in or not, is told only that the
    registry database is unavailable, and the reason goes to the server log, the URL's
    password hidden. (/readyz already did so; every other route told it to anyone.)"""

    URL = "postgresql://admin:S3cretPw@127.0.0.1:1/pecoma"
    LEAKS = ("127.0.0.1", "port 1", "admin", "S3cretPw", "refused", "connect", "psycopg")

    def test_no_caller_learns_where_the_database_is(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level("WARNING", logger="pecoma.web")
        c = down_client(self.URL, auth="on")
        bearer = {"Authorization": "Bearer pecoma_made_up"}
        answers = {
            "api": c.get("/api/v1/tokens", headers=bearer),
            "page": c.get("/registry/worklist", headers=bearer),
            "write": c.post("/registry/patients/PEC-1/outcome", headers=bearer, data={}),
            "sign-in": c.post("/login", data={"token": "pecoma_made_up"}),
        }
        for name, r in answers.items():
            assert r.status_code == 503, name
            assert r.headers["retry-after"] == "5", name
            assert "the registry database is unavailable; try again" in r.text, name
            for leak in self.LEAKS:
                assert leak not in r.text, (name, leak)
        assert answers["api"].json()["type"] == "urn:pecoma:problem:database-unavailable"
        assert answers["api"].json()["detail"] == (
            "the registry database is unavailable; try again")
        reasons = [str(getattr(rec, "reason", "")) for rec in caplog.records]
        assert any("port 1" in reason for reason in reasons)  # the operator still learns it
        assert not any("S3cretPw" in reason for reason in reasons)

    def test_the_logged_reason_hides_the_password(self) -> None:
        """Should a driver quote the URL's password, the log line does not."""
        from types import SimpleNamespace

        from pecoma.web.store_access import loggable

        state = SimpleNamespace(config=WebConfig(database_url=self.URL))
        said = loggable(state, "bad DSN 'password=S3cretPw host=127.0.0.1'")
        assert "S3cretPw" not in said and "***" in said

    def test_a_workstation_still_shows_the_reason(self) -> None:
        """Authentication off (one workstation, the user holds the database): the reason
        is shown, as before."""
        page = down_client(self.URL).get("/registry")
        assert page.status_code == 503
        assert "port 1" in page.text
        assert "S3cretPw" not in page.text


class TestHungDatabase:
    TIMEOUT = 2.0

    def test_parallel_requests_fail_each_on_its_own(self, hung_server: str) -> None:
        """8 parallel registry requests and /readyz against a database that accepts and
        never answers: each gets 503 with Retry-After within the timeout (plus slack),
        none waits for another's attempt to finish."""
        from concurrent.futures import ThreadPoolExecutor

        c = down_client(hung_server)
        paths = ["/registry", "/registry/worklist", "/registry/summary", "/readyz",
                 "/registry", "/registry/worklist.csv", "/registry/patients/PEC-1",
                 "/readyz"]

        def call(path: str) -> tuple[str, int, str | None, float]:
            started = time.monotonic()
            r = c.get(path)
            return path, r.status_code, r.headers.get("retry-after"), \
                time.monotonic() - started

        with c, ThreadPoolExecutor(len(paths)) as pool:
            started = time.monotonic()
            results = list(pool.map(call, paths))
            total = time.monotonic() - started
        for path, status, retry_after, took in results:
            assert status == 503, (path, status)
            assert retry_after is not None, path
            assert took < 2 * self.TIMEOUT + 3, (path, took)
        assert total < 2 * self.TIMEOUT + 4, total


# --- a database re-created empty --------------------------------------------------------


class TestDatabaseRecreatedEmpty:
    def test_registry_routes_and_readyz_say_why(self, db_url: str) -> None:
        """Serving, then the database loses its schema (re-created empty): every registry
        route answers 503 naming the reason, /readyz reports it, nothing is written; once
        the schema is back (``pecoma registry init``), the same process serves again."""
        from pecoma.store.db import downgrade, upgrade

        repo = open_registry(db_url)
        record_case(repo, "PEC-0001", high_risk(), on_date=ON, settings=default_settings(),
                    actor="t", source="t")
        app = create_app(WebConfig(database_url=db_url), today=lambda: ON)
        app.state.registry = repo
        try:
            with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:
                assert c.get("/registry").status_code == 200
                assert c.get("/readyz").json()["database"] == "ok"
                downgrade(repo.engine, "base")
                for path in ["/registry", "/registry/worklist", "/registry/summary",
                             "/registry/worklist.csv", "/registry/patients/PEC-0001",
                             "/registry/patients/PEC-0001/plan.ics"]:
                    r = c.get(path)
                    assert r.status_code == 503, (path, r.status_code)
                    assert r.headers["retry-after"], path
                    assert "no schema" in r.text, (path, r.text[:300])
                r = c.post("/registry/patients/PEC-0001/scan",
                           data={"date": "2026-11-20", "modality": "chest_ct"})
                assert r.status_code == 503
                ready = c.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["database"] == "unavailable"
                assert "no schema" in ready.json()["detail"]
                upgrade(repo.engine)
                assert c.get("/readyz").status_code == 200
                assert c.get("/registry").status_code == 200
                assert repo.count()["patient"] == 0  # nothing partial was written
        finally:
            repo.close()


# --- a full disk ------------------------------------------------------------------------


class TestDiskFull:
    """Every write fails as on a full disk (SQLITE_FULL, raised by the driver on each
    INSERT or UPDATE): the answer is a clear error (503 on the web, StoreError for the
    command line) and nothing partial remains; reading still works."""

    @staticmethod
    def full_registry(tmp_path: Path) -> tuple[str, Repository]:
        from sqlalchemy import event

        url = f"sqlite:///{tmp_path / 'full.sqlite3'}"
        repo = open_registry(url)
        record_case(repo, "PEC-0001", high_risk(), on_date=ON, settings=default_settings(),
                    actor="t", source="t")

        @event.listens_for(repo.engine, "before_cursor_execute")
        def _full(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                raise sqlite3.OperationalError("database or disk is full")

        return url, repo

    def test_import_on_a_full_disk_writes_nothing(self, tmp_path: Path, cases_csv: Path
                                                  ) -> None:
        from pecoma.registry.importer import import_file

        _url, repo = self.full_registry(tmp_path)
        before = repo.count()
        with pytest.raises(StoreError, match="full"):
            import_file(repo, cases_csv, on_date=ON, settings=default_settings(), actor="t")
        assert repo.count() == before
        repo.close()

    def test_scan_on_a_full_disk_answers_503(self, tmp_path: Path) -> None:
        url, repo = self.full_registry(tmp_path)
        app = create_app(WebConfig(database_url=url), today=lambda: ON)
        app.state.registry = repo
        before = repo.count()
        with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:
            r = c.post("/registry/patients/PEC-0001/scan",
                       data={"date": "2026-11-20", "modality": "chest_ct",
                             "finding": "no_evidence_of_disease"})
            assert r.status_code == 503, r.text[:300]
            assert r.headers["retry-after"]
            assert "full" in r.text
            assert c.get("/registry").status_code == 200  # reading still works
        assert repo.count() == before
        repo.close()

    def test_cli_import_on_a_full_disk(self, tmp_path: Path, cases_csv: Path) -> None:
        """The command line says the disk is full and exits non-zero, no traceback."""
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        assert pecoma("registry", "init", "--database-url", url).returncode == 0
        before = counts(url)
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        def _full(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO PATIENT"):
                raise sqlite3.OperationalError("database or disk is full")

        event.listen(Engine, "before_cursor_execute", _full)
        try:
            r = pecoma("registry", "import", str(cases_csv), "--on", str(ON),
                       "--database-url", url)
        finally:
            event.remove(Engine, "before_cursor_execute", _full)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr + r.stdout
        assert "full" in r.stderr
        assert counts(url) == before
