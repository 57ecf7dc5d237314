"""A database URL that cannot be read (a port that is no number, an IPv6 host whose
bracket is not closed) is a malformed setting: a message naming the database URL and
what it must look like, its password written ``***``, exit 5 (docs/registry.md, "Exit
codes"; docs/web.md: a malformed value stops the server at start, exit 5), for the
command line and ``pecoma serve`` alike. It was an "internal error" (exit 1), the
operator left to guess which setting was wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pecoma.errors import ConfigError
from pecoma.store.db import create_db_engine

PASSWORD = "S3cretPw"

MALFORMED = [
    f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/x",  # a port that is no number
    f"postgresql://u:{PASSWORD}@127.0.0.1:/x",  # a colon with no port
    f"postgresql://u:{PASSWORD}@127.0.0.1:1e3/x",
    f"postgresql://u:{PASSWORD}@127.0.0.1:5432:5433/x",  # two ports
    f"postgresql://u:{PASSWORD}@[::1/x",  # the IPv6 bracket not closed
    f"postgresql://u:{PASSWORD}@[::1",
    f"postgresql+psycopg://u:{PASSWORD}@db.example:port/x",
    f"://u:{PASSWORD}@h/x",  # no scheme (refused before too: now without the password)
]


@pytest.mark.parametrize("url", MALFORMED)
def test_the_library_refuses_it_naming_the_setting(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        create_db_engine(url)
    said = str(info.value)
    assert "'database URL'" in said and "must look like" in said
    assert PASSWORD not in said
    assert "***" in said


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    full.pop("PECOMA_WEB_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "pecoma", *args], capture_output=True,
                          text=True, env=full, timeout=120)


@pytest.mark.parametrize("url", [*MALFORMED[::3], MALFORMED[4]])
def test_the_command_line_says_it_and_exits_5(url: str, tmp_path: Path) -> None:
    run = _run("registry", "worklist", "--database-url", url)
    assert run.returncode == 5, run.stderr
    assert "database URL" in run.stderr
    assert "internal error" not in run.stderr
    assert PASSWORD not in run.stderr + run.stdout


@pytest.mark.parametrize("url", [MALFORMED[0], MALFORMED[4]])
def test_serve_stops_at_start_with_exit_5(url: str, tmp_path: Path) -> None:
    run = _run("serve", "--port", "8851", env={"PECOMA_DATABASE_URL": url,
                                               "PECOMA_DATA_DIR": str(tmp_path)})
    assert run.returncode == 5, run.stderr
    assert "database URL" in run.stderr
    assert "internal error" not in run.stderr
    assert PASSWORD not in run.stderr + run.stdout
