"""HTTP under load: ``POST /api/v1/assess`` and CDS Hooks ``patient-view`` on loopback.

Run: .venv/bin/python bench/bench_http.py [--workers 1,2] [--connections 1,4,16]
        [--duration 10] [--endpoints assess,patient-view,patient-view-other] [--prefetch-kib 15]
        [--database-url postgresql+psycopg://…/db [--fresh-database]]

Starts a real ``pecoma serve --workers N`` on 127.0.0.1 (a free port, logs at the default
level written to a temporary file, as in production), waits for ``/healthz``, and drives
it with ``wrk`` (Debian package ``wrk``) using a generated Lua script that cycles through
seeded request bodies (bench/cases.py). Each run is bounded by ``--duration`` seconds;
wrk runs one thread on the same machine, so it competes with the server for the cores.
Prints requests/s, p50/p90/p99 latency and non-2xx counts, and the CPU time per answer
of the server's processes (the workers, and with ``--database-url`` on PostgreSQL the
backends serving that database), read from ``/proc/<pid>/stat`` before and after each run:
on a shared machine that figure moves far less than the latencies. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import generate

ROOT = Path(__file__).resolve().parent.parent
PECOMA = ROOT / ".venv" / "bin" / "pecoma"
ON = "2026-11-28"
BODIES = 200


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def server_pids(group: int) -> list[int]:
    """The processes of the server's process group except the supervisor (the workers)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == group:
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[2]) == group:
            out.append(int(entry.name))
    return sorted(out)


def backend_pids(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their title names it)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if database and title.startswith("postgres: ") and f" {database} " in title:
            out.append(int(entry.name))
    return sorted(out)


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: _cpu_seconds(pid) for pid in pids}


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assess_bodies(n: int) -> list[str]:
    return [json.dumps({"case": c, "on": ON}) for c in generate(n, seed=7)]


def padded(text: str, kib: float) -> str:
    """The bundle with unrelated vital-sign Observations added (as an EHR's Observation
    search returns them) until its JSON is about ``kib`` KiB."""
    from bench_fhir import with_unrelated

    if kib <= 0 or len(text) >= kib * 1024:
        return text
    each = (len(with_unrelated(text, 10)) - len(text)) / 10
    return with_unrelated(text, max(1, round((kib * 1024 - len(text)) / each)))


def patient_view_bodies(n: int, kib: float = 15) -> list[str]:
    """patient-view requests of PEComa patients, each prefetch about ``kib`` KiB."""
    from bench_fhir import bundles, prefetch

    out = []
    for text in bundles(n):
        b = json.loads(padded(text, kib))
        pid = b["entry"][0]["resource"]["id"]
        out.append(json.dumps({
            "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": pid},
            "prefetch": prefetch(b),
        }))
    return out


def other_patient_bodies(n: int, kib: float = 15) -> list[str]:
    """patient-view requests for patients without PEComa (hypertension, diabetes; vitals)."""
    from bench_fhir import prefetch

    out = []
    for i in range(n):
        pid = f"other-{i}"
        b = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "id": pid, "gender": "female",
                          "birthDate": "1961-04-02"}},
            {"resource": {"resourceType": "Condition", "id": "c1", "subject": {
                "reference": f"Patient/{pid}"}, "code": {"coding": [{
                    "system": "http://snomed.info/sct", "code": "59621000",
                    "display": "Essential hypertension"}]}}},
            {"resource": {"resourceType": "Condition", "id": "c2", "subject": {
                "reference": f"Patient/{pid}"}, "code": {"coding": [{
                    "system": "http://snomed.info/sct", "code": "44054006",
                    "display": "Diabetes mellitus type 2"}]}}}]}
        out.append(json.dumps({
            "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/1", "patientId": pid},
            "prefetch": prefetch(json.loads(padded(json.dumps(b), kib))),
        }))
    return out


def lua_script(bodies: list[str], path: str) -> str:
    """A wrk script posting the bodies in turn (long-bracket strings: no escaping)."""
    parts = []
    for body in bodies:
        assert "]==]" not in body
        parts.append(f"[==[{body}]==]")
    table = ",\n".join(parts)
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"local bodies = {{\n{table}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #bodies + 1\n"
        f'  return wrk.format("POST", "{path}", nil, bodies[i])\n'
        "end\n"
    )


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_wrk(out: str) -> Result:
    pct = {int(m.group(1)): _ms(m.group(2))
           for m in re.finditer(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.M)}
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if not (total and rps and pct):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return Result(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2) + total.group(3)) / 1e3,
        rps=float(rps.group(1)),
        p50_ms=pct.get(50, float("nan")),
        p90_ms=pct.get(90, float("nan")),
        p99_ms=pct.get(99, float("nan")),
        non_2xx=int(non.group(1)) if non else 0,
        errors=sum(int(g) for g in errs.groups()) if errs else 0,
    )


@contextlib.contextmanager
def server(workers: int, log: Path, database_url: str | None = None,
           pecoma: Path = PECOMA) -> Iterator[tuple[str, int]]:
    """A ``pecoma serve`` on a free loopback port, with the registry at ``database_url``
    (by default a fresh SQLite file next to its log; the CDS service stores cards and
    reports there); yields its address and process group; stopped afterwards."""
    port = free_port()
    env = {**os.environ, "PECOMA_LOG_LEVEL": os.environ.get("PECOMA_LOG_LEVEL", "info"),
           "PECOMA_DATABASE_URL": database_url or f"sqlite:///{log.with_suffix('.db')}"}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(pecoma), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"pecoma serve exited ({proc.returncode}); see {log}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("pecoma serve did not answer /healthz within 90 s")
            time.sleep(0.25)
        yield base, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of ``url`` (``pecoma_bench_<hex>``,
    made through the server's ``postgres`` database), dropped afterwards; yields its URL.

    A database reused from run to run keeps every pruned CDS report as a dead tuple where
    autovacuum is off (as on some test machines), and the server's CPU per answer grows
    run after run; a fresh one per server start compares like with like."""
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = target.set(drivername="postgresql", database="postgres")
    name = f"pecoma_bench_{uuid.uuid4().hex[:12]}"
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield target.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wrk(base: str, script: Path, connections: int, duration: float,
        workers: list[int] | None = None) -> tuple[Result, str]:
    """One wrk run; with the worker processes, also how wrk's connections are spread over
    them, read once the run is under way (e.g. "6/10": one worker serves 6 of the 16
    keep-alive connections for the whole run, the other 10). The kernel spreads
    connections over the workers' sockets by a hash of their addresses, so a split
    differs from run to run, and the tail latency with it."""
    proc = subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "5s",
         "--latency", "-s", str(script), base],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    split = ""
    if workers:
        time.sleep(min(2.0, duration / 2))
        split = connection_split(int(base.rsplit(":", 1)[1]), workers)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err}")
    return parse_wrk(out), split


def connection_split(port: int, workers: list[int]) -> str:
    """Established connections to ``port`` per worker process ('/'-separated, in the
    order of ``workers``), read from ``ss``; '' when ``ss`` is not there."""
    if shutil.which("ss") is None:
        return ""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    serving = [pid for pid in workers  # not multiprocessing's resource tracker
               if b"resource_tracker" not in _cmdline(pid)]
    return "/".join(str(len(re.findall(rf"pid={pid},", out))) for pid in serving)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def warm(base: str, script: Path) -> None:
    """Load every worker's code paths and caches before measuring."""
    wrk(base, script, 4, 3)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", default="1,2", help="worker counts to try (comma-separated)")
    ap.add_argument("--connections", default="1,4,16",
                    help="concurrent connections to try (comma-separated)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per run")
    ap.add_argument("--database-url", default=None,
                    help="the registry the servers use (default: a fresh SQLite file per "
                    "server; several workers are meant to share PostgreSQL)")
    ap.add_argument("--fresh-database", action="store_true",
                    help="with a PostgreSQL --database-url: serve each worker count from a "
                    "new database on that server, dropped afterwards")
    ap.add_argument("--endpoints", default="assess,patient-view,patient-view-other",
                    help="assess, patient-view, patient-view-other (comma-separated)")
    ap.add_argument("--pecoma", type=Path, default=PECOMA,
                    help="the pecoma command to serve with (another checkout's, to compare "
                    "code before and after in the same minutes)")
    ap.add_argument("--prefetch-kib", type=float, default=15,
                    help="pad each prefetch with unrelated Observations to about this size")
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")
    workers = [int(w) for w in args.workers.split(",")]
    conns = [int(c) for c in args.connections.split(",")]
    endpoints = args.endpoints.split(",")
    postgres = bool(args.database_url and args.database_url.startswith("postgresql"))
    if args.fresh_database and not postgres:
        sys.exit("--fresh-database needs a PostgreSQL --database-url")
    load = os.getloadavg()
    print(f"pecoma HTTP benchmark · wrk, 1 thread, {args.duration:g} s per run · "
          f"{os.cpu_count()} cores · load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        scripts = {}
        if "assess" in endpoints:
            bodies = assess_bodies(BODIES)
            scripts["POST /api/v1/assess"] = folder / "assess.lua"
            scripts["POST /api/v1/assess"].write_text(lua_script(bodies, "/api/v1/assess"))
            print(f"assess: {len(bodies)} generated cases, "
                  f"{sum(map(len, bodies)) / len(bodies) / 1024:.1f} KiB per body (mean)")
        pv = "/cds-services/pecoma-patient-view"
        if "patient-view" in endpoints:
            bodies = patient_view_bodies(BODIES, args.prefetch_kib)
            scripts[f"POST {pv} (PEComa)"] = folder / "pv.lua"
            scripts[f"POST {pv} (PEComa)"].write_text(lua_script(bodies, pv))
            print(f"patient-view: {len(bodies)} PEComa prefetch bundles, "
                  f"{sum(map(len, bodies)) / len(bodies) / 1024:.1f} KiB per body (mean)")
        if "patient-view-other" in endpoints:
            bodies = other_patient_bodies(BODIES, args.prefetch_kib)
            scripts[f"POST {pv} (no PEComa)"] = folder / "pv-other.lua"
            scripts[f"POST {pv} (no PEComa)"].write_text(lua_script(bodies, pv))
            print(f"patient-view-other: {len(bodies)} patients without PEComa, "
                  f"{sum(map(len, bodies)) / len(bodies) / 1024:.1f} KiB per body (mean)")
        for n in workers:
            with contextlib.ExitStack() as stack:
                url = args.database_url
                if args.fresh_database:
                    url = stack.enter_context(fresh_database(url))
                database = url.rsplit("/", 1)[-1].split("?")[0] if postgres else ""
                base, group = stack.enter_context(
                    server(n, folder / f"serve-{n}.log", url, args.pecoma))
                for name, script in scripts.items():
                    warm(base, script)
                    print(f"\n{name} · {n} worker(s)")
                    print(f"  {'conns':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} "
                          f"{'p90 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'errors':>7} "
                          f"{'cpu ms/answer: workers':>22} {'db':>5} {'load':>5} split")
                    for c in conns:
                        workers_pids = server_pids(group)
                        before = cpu_of(workers_pids + backend_pids(database))
                        r, split = wrk(base, script, c, args.duration, workers_pids)
                        db = backend_pids(database)  # new connections included
                        after = cpu_of(workers_pids + db)
                        ms = 1e3 / max(r.requests, 1)
                        workers_ms = sum(after[p] - before[p] for p in workers_pids) * ms
                        db_ms = sum(after[p] - before.get(p, 0.0) for p in db) * ms
                        print(f"  {c:>5} {r.requests:>9} {r.rps:>8.0f} {r.p50_ms:>8.2f} "
                              f"{r.p90_ms:>8.2f} {r.p99_ms:>8.2f} {r.non_2xx:>8} "
                              f"{r.errors:>7} {workers_ms:>22.2f} {db_ms:>5.2f} "
                              f"{os.getloadavg()[0]:>5.1f} {split}")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("goal: POST /api/v1/assess at 500 requests/s with p99 under 50 ms")
    print("goal: patient-view (PEComa, ~15 kB prefetch) p99 <= 50 ms at 16 connections on "
          "2 workers; a patient without PEComa answered in <= 2 ms")


if __name__ == "__main__":
    main()
