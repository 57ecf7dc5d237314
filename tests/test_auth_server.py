"""Server mode on a real ``pecoma serve --workers 2``: one session works on every worker;
a serve bound beyond loopback with authentication off warns in its log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pecoma.store import open_registry
from pecoma.store.tokens import TokenStore
from test_faults import ROOT, free_port, start_server


def test_a_session_is_valid_on_every_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    repo = open_registry(url)
    _, token = TokenStore(repo.engine).create("desk", "reader", "t")
    repo.close()
    port = free_port()
    log = tmp_path / "server.log"
    env = {"PECOMA_DATABASE_URL": url, "PECOMA_AUTH": "on", "PECOMA_LOG_LEVEL": "info"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pecoma.cli import main; main()",
         "serve", "--port", str(port), "--workers", "2"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as c:
            r = c.post("/login", data={"token": token, "next": "/registry"})
            assert r.status_code == 303
            # Fresh connections, spread over both workers: every one accepts the cookie.
            cookie = c.cookies["pecoma_session"]
        for _ in range(12):
            with httpx.Client(base_url=base, timeout=10,
                              cookies={"pecoma_session": cookie}) as fresh:
                assert fresh.get("/registry").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert token not in log.read_text()


def test_auth_off_beyond_loopback_is_logged(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {"PECOMA_DATA_DIR": str(tmp_path), "PECOMA_AUTH": "off", "PECOMA_HOST": "0.0.0.0"}
    proc = start_server(port, env, log)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/registry", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    assert any(rec["level"] == "warning" and "authentication is off" in rec["message"]
               for rec in lines)
