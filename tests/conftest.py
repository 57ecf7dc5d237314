"""Shared fixtures.

Tests that need a real service (PostgreSQL, Debian's chromium) are skipped when it is
absent, unless PECOMA_REQUIRE_SERVICES=1 (set by CI), in which case they fail.

The suite runs in several processes (pytest-xdist, ``-n auto`` in pyproject.toml): every
database, port and file a test makes is its own (random names, free ports, ``tmp_path``,
or a name carrying :data:`WORKER`); ``-n 0`` runs it in one process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

REQUIRE_SERVICES = os.environ.get("PECOMA_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ON = dt.date(2026, 11, 28)
# The xdist worker running this process ("gw0", "gw1", …), "main" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


# --- Hypothesis: how many examples the heaviest property tests draw ----------------------
# The ordinary run draws enough to catch what a change breaks, in seconds. For a longer
# search (before a release, or after touching what a property covers):
#   PECOMA_HYPOTHESIS_PROFILE=deep scripts/test
# draws ten times as many in the tests sized with examples(), and 1,000 in the tests that
# set no number of their own.
# No example has a deadline: how long one takes depends on the machine's load, and speed
# goals live in bench/, never in timed unit tests (a loaded machine had failed a property
# test on a 200 ms deadline).
HYPOTHESIS_PROFILE = os.environ.get("PECOMA_HYPOTHESIS_PROFILE", "default")
settings.register_profile("default", deadline=None)
settings.register_profile("deep", max_examples=1000, deadline=None)
settings.load_profile(HYPOTHESIS_PROFILE)


def examples(ordinary: int) -> int:
    """The number of examples for a property test: ``ordinary`` in the ordinary run, ten
    times as many under the ``deep`` profile."""
    return ordinary * 10 if HYPOTHESIS_PROFILE == "deep" else ordinary


def service_missing(what: str) -> None:
    """Skip the test, or fail it when services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (PECOMA_REQUIRE_SERVICES=1) but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def on_date() -> dt.date:
    return ON


# --- PostgreSQL: a fresh database per test, dropped afterwards -------------------------
POSTGRES_ADMIN_URL = os.environ.get(
    "PECOMA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextlib.contextmanager
def _new_postgres_database(template: str | None = None) -> Iterator[str]:
    """A newly created PostgreSQL database (``pecoma_test_<random>``), a copy of
    ``template`` if given, dropped afterwards; yields its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pecoma_test_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as c:
            c.execute(f'CREATE DATABASE "{name}"{copy}')
    except psycopg.OperationalError:
        service_missing("PostgreSQL (PECOMA_TEST_POSTGRES_URL)")
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a newly created, empty PostgreSQL database (``pecoma_test_<random>``)."""
    with _new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def _postgres_registry_template() -> Iterator[str]:
    """A PostgreSQL database upgraded to the registry's newest revision, made once in each
    process of the run (with its own migrations: a copy is what a fresh ``open_registry``
    would have made, without the upgrade's cost in every test)."""
    from pecoma.store import open_registry

    with _new_postgres_database() as url:
        open_registry(url).close()  # no connection may stay open on a template
        yield url


@pytest.fixture(scope="session")
def _sqlite_registry_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite registry file at the newest revision, made once in each process of the
    run; tests copy it rather than upgrade a new file each (see registry_support.db_url)."""
    from pecoma.store import open_registry

    path = tmp_path_factory.mktemp("registry-template") / "registry.sqlite3"
    open_registry(f"sqlite:///{path}").close()
    return path


# What a registry database holds besides its rows: schemas, columns, indexes, constraints,
# triggers, functions, views, types, sequences (with their position), extensions, the
# database's own settings and the migration revision. Two databases with the same answer
# and no rows are the same empty registry to every test.
_SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (
  SELECT format('ns %s', nspname) FROM pg_namespace
   WHERE nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
  UNION ALL SELECT format('col %s.%s.%s %s %s %s %s', table_schema, table_name, column_name,
         ordinal_position, data_type, is_nullable, column_default)
    FROM information_schema.columns
   WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT format('idx %s', indexdef) FROM pg_indexes
   WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace <> 'pg_catalog'::regnamespace
  UNION ALL SELECT format('trg %s', pg_get_triggerdef(oid)) FROM pg_trigger
   WHERE NOT tgisinternal
  UNION ALL SELECT format('fn %s %s', p.oid::regprocedure, md5(p.prosrc))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT format('view %s.%s %s', schemaname, viewname, definition) FROM pg_views
   WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL SELECT format('type %s', t.oid::regtype) FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL SELECT format('seq %s.%s %s %s %s', schemaname, sequencename, start_value,
         increment_by, last_value) FROM pg_sequences
  UNION ALL SELECT format('ext %s %s', extname, extversion) FROM pg_extension
  UNION ALL SELECT format('set %s', array_to_string(setconfig, ','))
    FROM pg_db_role_setting WHERE setdatabase =
         (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL SELECT format('rev %s', version_num) FROM alembic_version
) AS t(x)
"""


def _emptied(url: str, fingerprint: str) -> bool:
    """Empty the registry database at ``url`` for the next test: its other connections
    ended (as ``DROP DATABASE … WITH (FORCE)`` ends them), every table but the revision's
    truncated, sequences restarted. True when it is then the empty registry the template
    is (same :data:`_SCHEMA_FINGERPRINT`); False when a test changed more than rows (a
    migration, a dropped table, a dropped database), and the database must not serve
    again."""
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as c:
            c.execute("SET statement_timeout = '30s'")
            c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = current_database() AND pid <> pg_backend_pid()")
            tables = [f'"{schema}"."{name}"' for schema, name in c.execute(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname"
                " NOT IN ('pg_catalog', 'information_schema')"
                " AND tablename <> 'alembic_version'").fetchall()]
            sequences = [f'"{schema}"."{name}"' for schema, name in c.execute(
                "SELECT schemaname, sequencename FROM pg_sequences").fetchall()]
            with c.transaction():
                c.execute("SET LOCAL session_replication_role = replica")
                for table in tables:
                    c.execute(f"DELETE FROM {table}")
                for sequence in sequences:
                    c.execute(f"ALTER SEQUENCE {sequence} RESTART")
            row = c.execute(_SCHEMA_FINGERPRINT).fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == fingerprint


@pytest.fixture(scope="session")
def _postgres_registry_fingerprint(_postgres_registry_template: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(_postgres_registry_template).set(
        drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as c:
        row = c.execute(_SCHEMA_FINGERPRINT).fetchone()
    assert row is not None
    fingerprint: str = row[0]
    return fingerprint


@pytest.fixture(scope="session")
def _postgres_registry_spare() -> Iterator[list[tuple[str, contextlib.ExitStack]]]:
    """The registry database a finished test left, emptied, for the next test of this
    process (its URL and what drops it; at most one; dropped at the end of the run)."""
    spare: list[tuple[str, contextlib.ExitStack]] = []
    yield spare
    for _url, drop in spare:
        drop.close()


@pytest.fixture
def postgres_registry_database(
    _postgres_registry_template: str,
    _postgres_registry_fingerprint: str,
    _postgres_registry_spare: list[tuple[str, contextlib.ExitStack]],
) -> Iterator[str]:
    """The URL of a PostgreSQL database holding an empty registry at the newest revision,
    this test's own: a copy of :func:`_postgres_registry_template`, or the one the
    previous test of this process used, emptied and checked to be that same empty
    registry again (:func:`_emptied`; creating and dropping a database for every test cost
    about a quarter of the suite's time). Tests of the migrations themselves take
    :func:`postgres_database`."""
    if _postgres_registry_spare:
        url, drop = _postgres_registry_spare.pop()
    else:
        drop = contextlib.ExitStack()
        url = drop.enter_context(_new_postgres_database(_postgres_registry_template))
    try:
        yield url
    finally:
        if _emptied(url, _postgres_registry_fingerprint):
            _postgres_registry_spare.append((url, drop))
        else:
            drop.close()


# --- Browser: Debian's chromium, driven by Playwright (never a downloaded browser) -------
CHROMIUM = os.environ.get("PECOMA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The path of Debian's chromium; browser tests skip (or fail in CI) without it."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        service_missing(f"chromium ({CHROMIUM})")
    return CHROMIUM


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless chromium for every browser test of this process (each test opens its
    own context: no cookies, storage or pages are shared)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


# --- The real server of the browser tests: one ``pecoma serve`` per process --------------
# A case label the browser tests type in: the server's logs must never carry it.
E2E_LABEL = "E2E-TEAM-LABEL-42"


@pytest.fixture(scope="session")
def e2e_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``pecoma serve`` on a free port, started once in each process of the run for the
    browser tests of test_web_e2e, test_web_form_e2e and test_web_report_browser (not
    once a module); yields its base URL and checks its logs at the end. Its registry is a
    SQLite file in a temporary folder (not ./data of the checkout); none of these tests
    writes to it."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    artifacts = ROOT / "artifacts" / "e2e"
    artifacts.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = artifacts / f"server-{WORKER}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}
    env.update({"PECOMA_LOG_LEVEL": "info",
                "PECOMA_DATA_DIR": str(tmp_path_factory.mktemp("e2e-data"))})
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from pecoma.cli import main; main()", "serve",
             "--port", str(port)],
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
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    logs = log_path.read_text(encoding="utf-8")
    assert '"route": "/report"' in logs  # structured access lines were written
    assert E2E_LABEL not in logs  # and they carry no case label
