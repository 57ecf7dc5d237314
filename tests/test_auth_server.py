"""Server mode on a real ``pecoma serve --workers 2``: one session works on every worker,
and connections are spread over the workers;
a serve bound beyond loopback with authentication off warns in its log."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pecoma.store import open_registry
from pecoma.store.tokens import TokenStore
from test_faults import ROOT, free_port, start_server


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return inodes


def listening_workers(supervisor: int, port: int) -> int:
    """How many worker processes hold a socket listening on ``port`` (Linux /proc): a
    worker still starting (importing, on a loaded machine) has none yet, and the kernel
    gives every connection to the others meanwhile."""
    wanted = f"{port:04X}"
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[1].endswith(":" + wanted) and f[3] == "0A":  # local port, LISTEN
                listening.add(f[9])
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return sum(1 for pid in map(int, children) if _socket_inodes(pid) & listening)


def connections_per_worker(supervisor: int, port: int, n: int) -> list[int]:
    """Open ``n`` keep-alive connections at once (as an EHR's client pool does), make one
    request on each, and count, per worker process, the connections it holds (Linux
    /proc). With one shared listening socket, the first worker to wake took them all; on
    a socket of its own each (SO_REUSEPORT) the kernel spreads them: fewer than 6 of 32
    on either worker happens by chance about once in 10,000 runs."""
    conns = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(n)]
    try:
        for c in conns:
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        for c in conns:
            assert c.recv(1024).startswith(b"HTTP/1.1 200")
        held: dict[int, int] = {}
        wanted = f"{port:04X}"
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                f = line.split()
                if f[1].endswith(":" + wanted) and f[3] == "01":  # local port, ESTABLISHED
                    established.add(f[9])  # inode
        children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
        for pid in map(int, children):
            inodes = _socket_inodes(pid)
            if inodes & established:
                held[pid] = len(inodes & established)
        return sorted(held.values())
    finally:
        for c in conns:
            c.close()


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
        if sys.platform.startswith("linux"):
            while listening_workers(proc.pid, port) < 2:  # both started (deadline above)
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            spread = connections_per_worker(proc.pid, port, 32)
            assert len(spread) == 2 and min(spread) >= 6, spread
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert token not in log.read_text()


def test_auth_off_beyond_loopback_is_logged(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {"PECOMA_DATA_DIR": str(tmp_path), "PECOMA_AUTH": "off", "PECOMA_HOST": "0.0.0.0",
           "PECOMA_ALLOWED_HOSTS": "127.0.0.1"}
    proc = start_server(port, env, log)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/registry", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    assert any(rec["level"] == "warning" and "authentication is off" in rec["message"]
               for rec in lines)
