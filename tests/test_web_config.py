"""One configuration object: the web application follows the ``WebConfig`` it is given and
reads no environment variable after start-up; importing ``pecoma.web`` builds nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from registry_support import ON

ROOT = Path(__file__).resolve().parent.parent

#: Every value here disagrees with the configuration the tests give create_app.
CONFLICTING = {
    "PECOMA_AUTH": "off",
    "PECOMA_HOST": "127.0.0.1",
    "PECOMA_MAX_BODY_BYTES": "16777216",
    "PECOMA_MIN_CELL": "1",
    "PECOMA_CDS_AUTH": "open",
    "PECOMA_SMART_CLIENT_ID": "from-the-environment",
    "PECOMA_SMART_ISSUERS": "https://ehr.example/fhir",
    "PECOMA_SMART_REDIRECT_BASE": "https://pecoma.example",
    "PECOMA_SESSION_SECRET": "e" * 40,
}


class WatchedEnviron(dict[str, str]):
    """``os.environ`` stand-in that notes every read of a ``PECOMA_*`` variable (and every
    walk over all of them, which reads them too)."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: list[str] = []

    def _note(self, key: object) -> None:
        if isinstance(key, str) and key.startswith("PECOMA_"):
            self.read.append(key)

    def __getitem__(self, key: str) -> str:
        self._note(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.read.append("(all)")
        return super().__iter__()

    def items(self) -> Any:
        self.read.append("(all)")
        return super().items()

    def copy(self) -> dict[str, str]:
        self.read.append("(all)")
        return dict(super().items())


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[WatchedEnviron]:
    watched = WatchedEnviron({**os.environ, **CONFLICTING})
    monkeypatch.setattr(os, "environ", watched)
    yield watched


def test_the_app_follows_its_config_not_the_environment(
    environ: WatchedEnviron, tmp_path: Path
) -> None:
    """Server mode from the configuration (host beyond loopback: every guard on) although
    the environment says auth off, loopback, no body limit, CDS open and SMART on; the
    registry is the configuration's SQLite file, not the one PECOMA_DATA_DIR names."""
    env_dir, cfg_dir = tmp_path / "from-env", tmp_path / "from-config"
    environ["PECOMA_DATA_DIR"] = str(env_dir)
    config = WebConfig(host="0.0.0.0", max_body_bytes=4096, data_dir=cfg_dir,
                       cds=CdsSettings(auth="auto", base_url="http://localhost"),
                       allowed_hosts=("localhost",))
    assert config.auth_required and config.cds_jwt_required  # what the test relies on
    environ.read.clear()
    app = create_app(config, today=lambda: ON)
    with TestClient(app, follow_redirects=False, base_url="http://localhost") as c:
        # Authentication on: the registry asks for a sign-in, the token list for a token.
        assert c.get("/registry").status_code == 303
        assert c.get("/api/v1/tokens").status_code == 401
        # The configuration's body limit (4096 bytes), not the environment's 16 MiB.
        assert c.post("/api/v1/assess", content=b"{" + b" " * 5000 + b"}",
                      headers={"content-type": "application/json"}).status_code == 413
        # CDS Hooks: JWT required (auto in server mode), not open as the environment says.
        r = c.post("/cds-services/pecoma-patient-view", json={})
        assert r.status_code == 401
        # SMART launch: off (no client id in the configuration).
        assert c.get("/smart/launch").status_code == 404
        # The registry database is opened from the configuration.
        assert c.get("/readyz").json()["database"] == "ok"
    assert (cfg_dir / "pecoma.sqlite3").is_file()
    assert not env_dir.exists()
    assert environ.read == []  # not one PECOMA_* variable was read after start-up


def test_loopback_config_is_open_whatever_the_environment(environ: WatchedEnviron) -> None:
    """The other way round: a loopback configuration (desktop) stays open although the
    environment asks for authentication and a closed assessment."""
    environ.update({"PECOMA_AUTH": "on", "PECOMA_OPEN_ASSESSMENT": "false"})
    environ.read.clear()
    app = create_app(WebConfig(), today=lambda: ON)
    with TestClient(app, follow_redirects=False, base_url="http://localhost") as c:
        assert c.get("/").status_code == 200
        assert c.get("/api/v1/rules").status_code == 200
    assert environ.read == []


def test_webconfig_defaults_ignore_the_environment(environ: WatchedEnviron) -> None:
    """``WebConfig()`` is the defaults; only ``from_env`` reads variables."""
    environ.read.clear()
    assert WebConfig() == WebConfig.from_env({})
    assert environ.read == []
    assert WebConfig.from_env().auth == "off"  # from_env does read them (once, at start)


def test_data_dir_from_the_environment_at_start(tmp_path: Path) -> None:
    """PECOMA_DATA_DIR is read with the other variables, into the object."""
    config = WebConfig.from_env({"PECOMA_DATA_DIR": str(tmp_path)})
    assert config.registry_url() == f"sqlite:///{tmp_path / 'pecoma.sqlite3'}"
    url = "postgresql+psycopg://pecoma@db.internal/pecoma"
    assert WebConfig.from_env({"PECOMA_DATA_DIR": str(tmp_path),
                               "PECOMA_DATABASE_URL": url}).registry_url() == url
    assert WebConfig().registry_url() == "sqlite:///data/pecoma.sqlite3"


def test_two_apps_in_one_process_keep_their_own_config(tmp_path: Path) -> None:
    """Routers and settings belong to each application: two built side by side differ."""
    one = create_app(WebConfig(data_dir=tmp_path / "one", min_cell=3), today=lambda: ON)
    two = create_app(WebConfig(data_dir=tmp_path / "two", auth="on"), today=lambda: ON)
    assert one.state.config.min_cell == 3 and two.state.config.min_cell == 5
    routes_one = {id(r) for r in one.routes}
    assert routes_one.isdisjoint(id(r) for r in two.routes)
    with TestClient(one, follow_redirects=False, base_url="http://localhost") as c1, \
            TestClient(two, follow_redirects=False, base_url="http://localhost") as c2:
        assert c1.get("/registry").status_code == 200
        assert c2.get("/registry").status_code == 303
    assert (tmp_path / "one" / "pecoma.sqlite3").is_file()
    assert not (tmp_path / "two").exists()  # never opened: the sign-in came first


_IMPORT_ALL = """
import gc, importlib, pkgutil
import pecoma.web
from fastapi import APIRouter
from pydantic import BaseModel
from pecoma.settings import Settings
names = sorted(m.name for m in pkgutil.walk_packages(pecoma.web.__path__, "pecoma.web."))
for name in names:
    importlib.import_module(name)
from pecoma.web.config import WebConfig
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.smart.settings import SmartSettings
built = [type(o).__name__ for o in gc.get_objects()
         if isinstance(o, (APIRouter, WebConfig, CdsSettings, SmartSettings, Settings))]
print(len(names), sorted(built))
"""


def test_importing_the_web_package_builds_no_router_or_settings() -> None:
    """Every module of pecoma.web imported in a fresh interpreter: no router, no
    configuration and no engine settings exist until an application is created."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PECOMA_")}
    out = subprocess.run([sys.executable, "-c", _IMPORT_ALL], capture_output=True,
                         text=True, timeout=120, cwd=ROOT, env=env, check=True).stdout
    count, built = out.split(" ", 1)
    assert int(count) >= 30  # the walk found the modules (pages, api, cds, smart, ...)
    assert built.strip() == "[]"


def test_config_files_that_are_not_utf8_are_named(tmp_path: Path) -> None:
    """A settings or web config file saved in another encoding is a ConfigError naming
    the file (the command line says it and exits 5), not an internal error."""
    from pecoma.errors import ConfigError
    from pecoma.settings import load_settings

    path = tmp_path / "latin1.toml"
    path.write_bytes("[web]\ntitle = \"Clinique de l'\xe9t\xe9\"\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml is not UTF-8 text"):
        load_settings(path)
    with pytest.raises(ConfigError, match=r"latin1\.toml is not UTF-8 text"):
        WebConfig.from_file(path)


#: A follow-up table that made the high-risk plan yearly from year 1 (outside S18-S19).
YEARLY_FROM_YEAR_ONE = (
    "[followup]\nhigh_intensive_due_months = 6\nhigh_intensive_overdue_months = 9\n"
    "high_intensive_years = 1\nhigh_middle_interval_months = 12\n"
    "high_middle_overdue_months = 14\nlow_due_months = 12\nlow_overdue_months = 14\n"
    "low_frequent_years = 1\n"
)


def test_an_app_with_settings_outside_the_guideline_is_not_built(tmp_path: Path) -> None:
    """The server's settings serve every assessment and the registry's worklist: a file
    outside the guideline's schedule (S18) is refused when the application is built,
    naming the setting, its range and the value."""
    from pecoma.errors import ConfigError

    path = tmp_path / "yearly.toml"
    path.write_text(YEARLY_FROM_YEAR_ONE)
    with pytest.raises(ConfigError) as info:
        create_app(WebConfig(settings=path), today=lambda: ON)
    assert "'followup.high_intensive_due_months' must be from 3 to 4 months" in str(info.value)
    assert str(info.value).endswith("(got 6)")


def test_serve_refuses_settings_outside_the_guideline_before_any_worker(
    tmp_path: Path,
) -> None:
    """``pecoma serve --workers 2`` with such a file (PECOMA_SETTINGS) stops with the
    message and exit 5 before a worker starts, rather than serving, or each worker
    failing on its own."""
    path = tmp_path / "yearly.toml"
    path.write_text(YEARLY_FROM_YEAR_ONE)
    env = {**os.environ, "PECOMA_SETTINGS": str(path), "PECOMA_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pecoma", "serve", "--port", "1", "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail("the server started with settings outside the guideline")
    assert proc.returncode == 5, stderr
    assert "high_intensive_due_months" in stderr and "Traceback" not in stderr


def test_the_rules_say_the_rhythm_of_the_servers_settings(tmp_path: Path) -> None:
    """The knowledge listings of a server (the rules page and /api/v1/rules) word the
    schedule with the settings the server draws its plans with, as its reports do."""
    path = tmp_path / "four-monthly.toml"
    path.write_text("[followup]\nhigh_intensive_due_months = 4\nhigh_intensive_years = 2\n"
                    "low_due_months = 6\nlow_overdue_months = 6\n")
    client = TestClient(create_app(WebConfig(settings=path), today=lambda: ON),
                        base_url="http://localhost")
    said = ("Surveillance visit every 4 months (overdue after 4) during the first 2 years "
            "after treatment.")
    records = {r["id"]: r for r in client.get("/api/v1/rules").json()["records"]}
    assert records["FU-HIGH-INTENSIVE"]["text"] == said
    assert all("{" not in r["text"] for r in records.values())
    page = client.get("/rules").text
    assert said in page and "{high_intensive" not in page
