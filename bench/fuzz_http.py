"""The long fuzzing run: random requests against every HTTP surface of real servers on
loopback; prints how many answered with each status class, and every 5xx.

Run: .venv/bin/python bench/fuzz_http.py [--requests 100000] [--seed 14] [--pdf-every 500]

Starts two uvicorn servers in this process on 127.0.0.1 (free ports; authentication off,
and on with a clinician token; one SQLite registry seeded with two patients), then sends
``--requests`` requests, alternating servers, from ``tests/fuzz_requests.py``'s
generator (forms, report downloads, registry pages and query parameters, the scan form,
sign-in, the JSON API, CDS Hooks services and feedback). A fifth of the requests on the
authenticated server carry no credentials. PDF downloads are slow (WeasyPrint), so only
one request in ``--pdf-every`` may be one. Each check is the suite's own
(``check_answer``): no 5xx, no traceback, no HTML error where JSON is expected. Bounded:
every request has a 60 s timeout; the run stops at the first 20 failures.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import logging
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pecoma.store import open_registry  # noqa: E402
from pecoma.store.tokens import TokenStore  # noqa: E402
from pecoma.web import WebConfig, create_app  # noqa: E402

from fuzz_requests import ON, check_answer, random_request, seed_registry  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(config: WebConfig, repo_url: str) -> tuple[uvicorn.Server, str]:
    app = create_app(config, today=lambda: ON)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="critical", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("a server did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--pdf-every", type=int, default=500)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the servers' logs are not what is measured

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'fuzz.sqlite3'}"
        repo = open_registry(url)
        seed_registry(repo)
        _info, token = TokenStore(repo.engine).create("fuzz", "clinician", "fuzz")
        repo.close()
        servers = [serve(WebConfig(auth="off", database_url=url), url),
                   serve(WebConfig(auth="on", database_url=url), url)]
        rng = random.Random(args.seed)
        counts: collections.Counter[str] = collections.Counter()
        by_path: collections.Counter[str] = collections.Counter()
        failures: list[str] = []
        started = time.monotonic()
        clients = [httpx.Client(base_url=base, timeout=60, follow_redirects=False)
                   for _server, base in servers]
        try:
            for n in range(args.requests):
                which = n % 2
                method, path, kwargs = random_request(
                    rng, pdf=rng.randrange(args.pdf_every) == 0)
                if which == 1 and rng.random() >= 0.2:
                    kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {token}"
                try:
                    r = clients[which].request(method, path, **kwargs)
                    counts[f"{r.status_code // 100}xx"] += 1
                    by_path[path.split("?")[0] if "/patients/" not in path
                            else "/registry/patients/…"] += 1
                    check_answer(method, path, r.status_code,
                                 r.headers.get("content-type", ""), r.text)
                except (AssertionError, httpx.HTTPError) as exc:
                    failures.append(f"#{n} {type(exc).__name__}: {str(exc)[:300]}")
                    if len(failures) >= 20:
                        break
                if n and n % 10_000 == 0:
                    print(f"{n} requests, {time.monotonic() - started:.0f} s, "
                          f"{dict(counts)}", flush=True)
        finally:
            for c in clients:
                c.close()
            for server, _base in servers:
                server.should_exit = True
        took = time.monotonic() - started
        total = sum(counts.values())
        print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, seed {args.seed}")
        print(f"requests answered: {total} in {took:.0f} s ({total / took:.0f}/s)")
        print("by status class: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        print(f"distinct routes hit: {len(by_path)}")
        print(f"failures (5xx, traceback, HTML where JSON expected, transport): "
              f"{len(failures)}")
        for f in failures:
            print("  " + f)
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
