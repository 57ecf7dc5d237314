"""``pecoma token create | list | revoke`` on SQLite and PostgreSQL (in this process, see
``cli_support``)."""

from __future__ import annotations

import json

from pecoma.store import open_registry
from pecoma.store.tokens import TokenStore

from cli_support import CliRun, run_cli
from registry_support import db_url

__all__ = ["db_url"]


def pecoma(*args: str) -> CliRun:
    return run_cli(*args, columns=200)


def test_create_list_revoke(db_url: str) -> None:
    """The token is printed once on stdout; the list never shows it; revoke stops it."""
    db = ("--database-url", db_url)
    r = pecoma("token", "create", "--role", "clinician", "--name", "Ward 3 desk",
               "--actor", "it-admin", *db)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("pecoma_") and "\n" not in token
    assert "shown once" in r.stderr and token not in r.stderr
    r = pecoma("token", "list", *db)
    assert r.returncode == 0
    assert "Ward 3 desk" in r.stdout and "clinician" in r.stdout and "active" in r.stdout
    assert token not in r.stdout + r.stderr
    listed = json.loads(pecoma("token", "list", "--format", "json", *db).stdout)
    assert listed[0]["name"] == "Ward 3 desk" and listed[0]["revoked_at"] is None
    repo = open_registry(db_url)
    try:
        assert TokenStore(repo.engine).verify(token) is not None
        r = pecoma("token", "revoke", "Ward 3 desk", "--actor", "it-admin", *db)
        assert r.returncode == 0, r.stderr
        assert TokenStore(repo.engine).verify(token) is None
        audit = [(e.action, e.actor) for e in repo.audit() if e.entity == "api_token"]
        assert audit == [("create", "it-admin"), ("revoke", "it-admin")]
    finally:
        repo.close()
    assert "revoked" in pecoma("token", "list", *db).stdout


def test_bad_input_is_explained(db_url: str) -> None:
    db = ("--database-url", db_url)
    r = pecoma("token", "create", "--role", "superuser", "--name", "x", *db)
    assert r.returncode == 3
    assert "'role' must be one of reader, clinician, admin (got 'superuser')" in r.stderr
    r = pecoma("token", "revoke", "nobody", *db)
    assert r.returncode == 3
    assert "'token' must be the id or name of a token" in " ".join(r.stderr.split())
    assert "Traceback" not in r.stderr
    r = pecoma("token", "list", "--format", "json", *db)
    assert json.loads(r.stdout) == []
