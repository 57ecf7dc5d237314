"""The Host and Origin rules (pecoma.web.guards), in every mode: a page of another site
can neither read the registry through a rebinding name nor write to it through the
clinician's browser; the server's own pages, curl and EHR servers work as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.errors import ConfigError
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.app import create_app
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of
from registry_support import ON, db_url, high_risk, repo

__all__ = ["db_url", "repo"]

RID = "PEC-0003"
DEATH = {"event": "death", "date": "2026-11-01", "vital_status": "dead_of_disease"}
IMPORT_CSV = ("registry_id,tumour.primary_site,stage.status,outcome.death.date,"
              "outcome.death.vital_status\nPEC-0003,lung,localized,2024-06-01,"
              "dead_of_other_cause\n")
LOCAL = "http://localhost"


def make_client(repo: Repository, base_url: str = LOCAL, **config: Any) -> TestClient:
    app = create_app(WebConfig(**config), today=lambda: ON)
    app.state.registry = repo
    return TestClient(app, base_url=base_url, follow_redirects=False)


@pytest.fixture
def workstation(repo: Repository) -> Iterator[TestClient]:
    """The default mode: bound to 127.0.0.1, no sign-in; one patient in the registry."""
    record_case(repo, RID, high_risk(), on_date=ON, settings=default_settings(),
                actor="clinic", source="test")
    with make_client(repo) as c:
        yield c


def deceased(c: TestClient) -> bool:
    return "deceased" in c.get("/registry/worklist.csv").text


def assert_problem(r: Any, status: int, slug: str) -> None:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == f"urn:pecoma:problem:{slug}"
    assert r.headers["x-frame-options"] == "DENY"  # still the edge's answer, with its headers


class TestHost:
    """DNS rebinding: a page of another site, its name pointed at 127.0.0.1, reads nothing."""

    def test_a_rebinding_host_reads_nothing_in_workstation_mode(
        self, workstation: TestClient
    ) -> None:
        """The worklist CSV, asked for under another name (as a rebinding page would), is
        refused with 400; under the loopback names it is served."""
        r = workstation.get("/registry/worklist.csv", headers={"Host": "attacker.example:8713"})
        assert_problem(r, 400, "unknown-host")
        assert RID not in r.text
        assert "attacker.example" not in r.text
        for host in ("localhost", "localhost:8721", "127.0.0.1:8721", "[::1]:8721"):
            r = workstation.get("/registry/worklist.csv", headers={"Host": host})
            assert r.status_code == 200, host
            assert RID in r.text

    @pytest.mark.parametrize("host", ["", "evil.example", "127.0.0.1.evil.example",
                                      "localhost.evil.example:80", "local host", "a:b:c"])
    def test_other_and_malformed_hosts_are_refused(self, workstation: TestClient,
                                                   host: str) -> None:
        """Anything but a loopback name is refused, never a 500."""
        assert_problem(workstation.get("/", headers={"Host": host}), 400, "unknown-host")

    def test_server_mode_refuses_a_rebinding_host_before_anything_else(
        self, repo: Repository
    ) -> None:
        """Server mode is at least as strict: the host is checked before credentials."""
        with make_client(repo, auth="on") as c:
            assert c.get("/registry").status_code == 303  # to the sign-in page
            assert_problem(c.get("/registry", headers={"Host": "evil.example"}), 400,
                           "unknown-host")
            assert_problem(c.post("/login", data={"token": "x"},
                                  headers={"Host": "evil.example"}), 400, "unknown-host")

    def test_beyond_loopback_the_public_hosts_are_served(self, repo: Repository) -> None:
        """Bound to every address: the public base URL's host and the allowed hosts are
        served; loopback names and the machine's address only when allowed."""
        with make_client(repo, base_url="https://pecoma.example.org", host="0.0.0.0",
                         allowed_hosts=("pecoma.internal",),
                         cds=CdsSettings(base_url="https://pecoma.example.org")) as c:
            assert c.get("/healthz").status_code == 200
            assert c.get("/healthz", headers={"Host": "PECOMA.internal:8000"}).status_code == 200
            for host in ("localhost:8000", "10.1.2.3:8000", "evil.example"):
                assert_problem(c.get("/healthz", headers={"Host": host}), 400, "unknown-host")

    def test_a_loopback_bound_server_behind_a_proxy_serves_its_public_name(
        self, repo: Repository
    ) -> None:
        """A proxy on the same machine passes the public name as Host: it is served once
        configured (cds.base_url or allowed_hosts), and refused before."""
        with make_client(repo) as c:
            assert_problem(c.get("/", headers={"Host": "pecoma.example.org"}), 400,
                           "unknown-host")
        with make_client(repo, allowed_hosts=("pecoma.example.org",)) as c:
            assert c.get("/", headers={"Host": "pecoma.example.org"}).status_code == 200

    def test_allowed_hosts_from_the_environment_and_bad_values(self) -> None:
        """PECOMA_ALLOWED_HOSTS is comma-separated; a value with a port or scheme stops
        the server at start with a message naming the setting."""
        config = WebConfig.from_env({"PECOMA_ALLOWED_HOSTS": "a.example, B.example,[::1]"})
        assert config.allowed_hosts == ("a.example", "b.example", "::1")
        for bad in ("a.example:8000", "https://a.example", "a.example/x"):
            with pytest.raises(ConfigError, match="'allowed_hosts'"):
                WebConfig.from_env({"PECOMA_ALLOWED_HOSTS": bad})


class TestCrossSiteWrites:
    """CSRF in workstation mode: the write a page of another site makes is refused."""

    @pytest.mark.parametrize("headers", [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:9999"},  # another port: another origin
        {"Origin": "https://localhost"},  # another scheme
        {"Origin": "not a url"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ])
    def test_a_cross_site_death_is_refused(self, workstation: TestClient, repo: Repository,
                                           headers: dict[str, str]) -> None:
        """The form post of the report (a death recorded from another site's page) gets
        403 problem details and records nothing."""
        before = repo.count()
        r = workstation.post(f"/registry/patients/{RID}/outcome", data=DEATH, headers=headers)
        assert_problem(r, 403, "cross-origin")
        assert repo.count() == before
        assert not deceased(workstation)

    def test_a_cross_site_import_is_refused(self, workstation: TestClient,
                                            repo: Repository) -> None:
        """The multipart import of the report: refused, nothing written."""
        before = repo.count()
        r = workstation.post("/registry/import", headers={"Origin": "http://evil.example"},
                             files={"file": ("x.csv", IMPORT_CSV, "text/csv")},
                             data={"mode": "good-rows"})
        assert_problem(r, 403, "cross-origin")
        assert repo.count() == before

    @pytest.mark.parametrize("headers", [
        {},  # curl, scripts: no Origin
        {"Origin": "http://localhost"},  # the app's own page
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed by the user
    ])
    def test_same_origin_and_non_browser_writes_pass(
        self, workstation: TestClient, repo: Repository, headers: dict[str, str]
    ) -> None:
        """The app's own form post (same origin) and a client sending no Origin record the
        death as before."""
        r = workstation.post(f"/registry/patients/{RID}/outcome", data=DEATH, headers=headers)
        assert r.status_code == 303, r.text[:300]
        assert deceased(workstation)

    def test_the_own_origin_follows_the_host_and_port(self, repo: Repository) -> None:
        """Origin is compared with the Host the request came by (scheme, host, port)."""
        record_case(repo, RID, high_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        with make_client(repo, base_url="http://127.0.0.1:8721") as c:
            h = {"Origin": "http://localhost:8721"}
            assert_problem(c.post(f"/registry/patients/{RID}/outcome", data=DEATH,
                                  headers=h), 403, "cross-origin")
            r = c.post(f"/registry/patients/{RID}/outcome", data=DEATH,
                       headers={"Origin": "http://127.0.0.1:8721"})
            assert r.status_code == 303
            assert deceased(c)

    def test_behind_tls_the_own_origin_is_https(self, repo: Repository) -> None:
        """Behind a TLS proxy the browser's Origin is https://…; plain http is refused."""
        with make_client(repo, auth="on", behind_tls=True,
                         allowed_hosts=("pecoma.example.org",)) as c:
            h = {"Host": "pecoma.example.org"}
            r = c.post("/login", data={"token": "x"},
                       headers={**h, "Origin": "https://pecoma.example.org"})
            assert r.status_code == 401  # past the guard: the token is what is wrong
            r = c.post("/login", data={"token": "x"},
                       headers={**h, "Origin": "http://pecoma.example.org"})
            assert_problem(r, 403, "cross-origin")

    def test_the_case_form_post_is_checked_too(self, repo: Repository) -> None:
        """Every state-changing method is checked, not only the registry's."""
        with make_client(repo) as c:
            r = c.post("/report", data={}, headers={"Origin": "http://evil.example"})
            assert_problem(r, 403, "cross-origin")
            r = c.post("/api/v1/assess", json={}, headers={"Origin": "null"})
            assert_problem(r, 403, "cross-origin")


class TestCdsHooks:
    """The CDS routes keep their own CORS allow-list; EHR servers send no Origin."""

    def call(self, c: TestClient, headers: dict[str, str]) -> Any:
        bundle = example("localized-high-risk")
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        return c.post("/cds-services/pecoma-patient-view", json=body, headers=headers)

    def test_an_allowed_ehr_origin_and_an_ehr_server_are_served(
        self, repo: Repository
    ) -> None:
        """A browser call from the allowed EHR origin, and one without Origin, get cards;
        another origin (not allowed by CORS either) gets 403."""
        with make_client(repo, cds=CdsSettings(cors_origins=("https://ehr.example",))) as c:
            r = self.call(c, {"Origin": "https://ehr.example"})
            assert r.status_code == 200, r.text[:300]
            assert r.json()["cards"]
            assert r.headers["access-control-allow-origin"] == "https://ehr.example"
            assert self.call(c, {}).status_code == 200
            assert_problem(self.call(c, {"Origin": "https://evil.example"}), 403,
                           "cross-origin")
            # the preflight (OPTIONS) is not a write: answered as before
            r = c.options("/cds-services/pecoma-patient-view", headers={
                "Origin": "https://ehr.example", "Access-Control-Request-Method": "POST"})
            assert r.status_code == 204

    def test_a_wildcard_cors_setting_admits_any_origin(self, repo: Repository) -> None:
        with make_client(repo, cds=CdsSettings(cors_origins=("*",))) as c:
            assert self.call(c, {"Origin": "https://any.example"}).status_code == 200


def guard_answer(scope_headers: list[tuple[bytes, bytes]], raw_path: bytes = b"/registry",
                 method: str = "GET", **config: Any) -> Any:
    """The Host rule's answer to one raw ASGI request, as a server hands it over: each
    header line as sent (duplicates kept) and the request target's ``raw_path``."""
    from pecoma.web.guards import RequestGuard

    scope = {"type": "http", "method": method, "scheme": "http", "path": "/registry",
             "raw_path": raw_path, "query_string": b"", "headers": scope_headers}
    return RequestGuard(WebConfig(**config)).refusal(scope)


class TestHostAsTheRequestNamesIt:
    """RFC 9112 §3.2: the host a request is addressed to is the one of its target when
    that target is in absolute form (``GET http://name/path``; the Host header is then
    ignored), else that of its Host header; a request with more than one Host line is
    refused with 400, whichever line comes first. A proxy or cache in front of the server
    that reads the other value must not get the registry served under a name the server
    does not answer to."""

    @pytest.mark.parametrize("lines", [
        [b"localhost", b"evil.example"],
        [b"evil.example", b"localhost"],
        [b"localhost", b"localhost"],  # even the same name twice: RFC 9112 says 400
        [b"127.0.0.1:8713", b"[::1]:8713"],
        [b"localhost", b""],
    ])
    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_more_than_one_host_line_is_refused(self, lines: list[bytes],
                                                method: str) -> None:
        refused = guard_answer([(b"host", v) for v in lines], method=method)
        assert refused is not None and refused.status_code == 400
        assert b"exactly one Host" in refused.body

    def test_more_than_one_host_line_through_the_application(
        self, workstation: TestClient
    ) -> None:
        """The whole application, the worklist asked for with two Host lines: 400, no
        registry id in the answer."""
        for pair in (["localhost", "evil.example"], ["evil.example", "localhost"]):
            r = workstation.get("/registry/worklist.csv",
                                headers=[("Host", pair[0]), ("Host", pair[1])])
            assert_problem(r, 400, "unknown-host")
            assert RID not in r.text

    @pytest.mark.parametrize("target", [
        b"http://evil.example/registry",
        b"http://evil.example:8713/registry",
        b"https://evil.example/registry",
        b"http://localhost.evil.example/registry",
        b"http://127.0.0.1.evil.example/registry",
        b"http://user@evil.example/registry",
        b"ftp://localhost/registry",  # a scheme HTTP does not serve
        b"http:///registry",  # no host at all
    ])
    def test_an_absolute_target_naming_another_host_is_refused(self, target: bytes) -> None:
        """The Host line names the server, the target another host: the target counts."""
        refused = guard_answer([(b"host", b"localhost:8713")], raw_path=target)
        assert refused is not None and refused.status_code == 400

    @pytest.mark.parametrize("target", [
        b"http://localhost/registry", b"http://127.0.0.1:8713/registry",
        b"HTTP://LOCALHOST:8713/registry", b"http://[::1]:8713/registry",
    ])
    def test_an_absolute_target_naming_this_server_is_served(self, target: bytes) -> None:
        """The target names the server: served even when the Host line says otherwise
        (RFC 9112 §3.2.2: the Host header is ignored then)."""
        assert guard_answer([(b"host", b"evil.example")], raw_path=target) is None

    def test_the_origin_check_compares_with_the_absolute_target(self) -> None:
        """A post's own origin is the host it is addressed to: the target's."""
        headers = [(b"host", b"evil.example"), (b"origin", b"http://localhost:8713")]
        assert guard_answer(headers, raw_path=b"http://localhost:8713/registry",
                            method="POST") is None
        headers = [(b"host", b"localhost:8713"), (b"origin", b"http://localhost:8713")]
        refused = guard_answer(headers, raw_path=b"http://127.0.0.1:8713/registry",
                               method="POST")
        assert refused is not None and refused.status_code == 403


class TestHostOnTheWire:
    """The server ``pecoma serve`` runs, spoken to over a socket: the forms a browser never
    sends reach the Host rule as they were sent (uvicorn's C parser keeps only the path of
    an absolute-form target unless told otherwise)."""

    @pytest.fixture
    def server(self, workstation: TestClient) -> Iterator[int]:
        import socket
        import threading
        import time

        import uvicorn

        from pecoma.web.http_target import TargetKeepingHttpTools

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        server = uvicorn.Server(uvicorn.Config(workstation.app, http=TargetKeepingHttpTools,
                                               log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.01)
        try:
            yield port
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()

    @staticmethod
    def send(port: int, request: bytes) -> bytes:
        import socket

        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(request)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        return answer

    @pytest.mark.parametrize("head", [
        b"GET http://evil.example/registry/worklist.csv HTTP/1.1\r\nHost: localhost\r\n",
        b"GET http://evil.example:80/registry/worklist.csv?on=2026-12-01 HTTP/1.1\r\n"
        b"Host: localhost\r\n",
        b"GET /registry/worklist.csv HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n",
        b"GET /registry/worklist.csv HTTP/1.1\r\nHost: evil.example\r\nHost: localhost\r\n",
    ])
    def test_the_worklist_is_not_served_under_another_name(self, server: int,
                                                          head: bytes) -> None:
        answer = self.send(server, head + b"Connection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
        assert RID.encode() not in answer

    def test_an_absolute_target_naming_this_server_is_served(self, server: int) -> None:
        answer = self.send(server, b"GET http://localhost/registry/worklist.csv HTTP/1.1\r\n"
                           b"Host: localhost\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        assert RID.encode() in answer
