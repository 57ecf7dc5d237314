"""Access control in server mode: tokens, roles, sessions, CSRF, secure headers, body limits.

Tests taking ``repo`` run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape as html_escape
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pecoma.errors import InputError
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.tokens import Role, TokenStore, token_digest
from pecoma.web.app import create_app
from pecoma.web.auth import SessionSigner, needed_role, safe_next
from pecoma.web.config import WebConfig, is_loopback

from registry_support import ON, db_url, high_risk, low_risk, repo

__all__ = ["db_url", "repo"]

RID = "PEC-7001"


@dataclass
class Server:
    client: TestClient
    repo: Repository
    tokens: dict[str, str]  # role -> token
    ids: dict[str, int]


def make_server(repo: Repository, **config: Any) -> Server:
    store = TokenStore(repo.engine)
    tokens, ids = {}, {}
    for role in ("reader", "clinician", "admin"):
        info, token = store.create(f"{role} one", role, "setup")
        tokens[role], ids[role] = token, info.id
    app = create_app(WebConfig(**{"auth": "on", **config}), today=lambda: ON)
    app.state.registry = repo
    client = TestClient(app, follow_redirects=False, base_url="http://localhost")
    return Server(client, repo, tokens, ids)


@pytest.fixture
def server(repo: Repository) -> Iterator[Server]:
    record_case(repo, RID, high_risk(), on_date=ON, settings=default_settings(),
                actor="clinic", source="test")
    s = make_server(repo)
    with s.client:
        yield s


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def scan_form(date: str = "2026-11-20", **extra: str) -> dict[str, str]:
    return {"date": date, "modality": "chest_ct", "finding": "no_evidence_of_disease",
            **extra}


class TestTokenStore:
    def test_create_stores_only_the_digest(self, repo: Repository) -> None:
        """The token is random, prefixed, shown once; the table holds its SHA-256 only."""
        store = TokenStore(repo.engine)
        info, token = store.create("Ana B", "clinician", "admin-cli")
        assert re.fullmatch(r"pecoma_[A-Za-z0-9_-]{43}", token)
        assert info.role is Role.clinician and info.active
        with repo.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM api_token")).mappings().all()
        assert len(rows) == 1
        assert rows[0]["digest"] == hashlib.sha256(token.encode()).hexdigest()
        assert token not in json.dumps([dict(r) for r in rows], default=str)

    def test_verify_and_revoke(self, repo: Repository) -> None:
        store = TokenStore(repo.engine)
        info, token = store.create("lab-system", "reader", "x")
        assert store.verify(token) == info
        assert store.verify(token + "x") is None
        assert store.verify("not-a-token") is None
        revoked = store.revoke("lab-system", "x")
        assert not revoked.active
        assert store.verify(token) is None
        with pytest.raises(InputError, match="already revoked"):
            store.revoke(str(info.id), "x")

    def test_revoke_by_a_name_of_other_digits(self, repo: Repository) -> None:
        """A 30-digit token name is revoked by its name, not taken for an id (which
        overflows the column); '²' names no token (int() once raised on it)."""
        store = TokenStore(repo.engine)
        store.create("1" * 30, "reader", "x")
        assert not store.revoke("1" * 30, "x").active
        with pytest.raises(InputError):
            store.revoke("²", "x")

    def test_audit_names_the_token_never_its_value(self, repo: Repository) -> None:
        store = TokenStore(repo.engine)
        info, token = store.create("ops", "admin", "root")
        store.revoke("ops", "root")
        entries = [e for e in repo.audit() if e.entity == "api_token"]
        assert [(e.action, e.entity_id, e.actor) for e in entries] == [
            ("create", info.id, "root"), ("revoke", info.id, "root")]
        blob = json.dumps([e.detail for e in entries])
        assert token not in blob and token_digest(token) not in blob

    @pytest.mark.parametrize(("name", "role", "field"), [
        ("", "reader", "name"), ("x" * 81, "reader", "name"), ("<script>", "reader", "name"),
        ("ok", "root", "role"), ("ok", "", "role"),
    ])
    def test_bad_input_names_the_field(self, repo: Repository, name: str, role: str,
                                       field: str) -> None:
        with pytest.raises(InputError) as exc:
            TokenStore(repo.engine).create(name, role, "x")
        assert exc.value.issues[0].path == field
        assert TokenStore(repo.engine).listing() == []

    def test_names_are_unique(self, repo: Repository) -> None:
        store = TokenStore(repo.engine)
        store.create("same", "reader", "x")
        with pytest.raises(InputError, match="must be unique"):
            store.create("same", "admin", "x")


class TestWhenAuthIsOn:
    def test_loopback_means_off_unless_forced(self) -> None:
        for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
            assert is_loopback(host)
            assert not WebConfig(host=host).auth_required
            assert WebConfig(host=host, auth="on").auth_required
        for host in ("0.0.0.0", "::", "10.1.2.3", "pecoma.example.org"):
            assert not is_loopback(host)
            assert WebConfig(host=host).auth_required
            assert not WebConfig(host=host, auth="off").auth_required

    def test_off_by_default_on_a_workstation(self, repo: Repository) -> None:
        app = create_app(WebConfig(), today=lambda: ON)
        app.state.registry = repo
        with TestClient(app, base_url="http://localhost") as c:
            assert c.get("/registry").status_code == 200

    def test_route_policy(self) -> None:
        cfg = WebConfig(auth="on")
        closed = WebConfig(auth="on", open_assessment=False)
        assert needed_role("GET", "/healthz", cfg) == "public"
        assert needed_role("GET", "/readyz", cfg) == "public"
        assert needed_role("POST", "/cds-services/pecoma-patient-view", cfg) == "public"
        assert needed_role("GET", "/registry/worklist.csv", cfg) is Role.reader
        assert needed_role("POST", "/registry/patients/P-1/scan", cfg) is Role.clinician
        assert needed_role("GET", "/api/v1/tokens", cfg) is Role.admin
        assert needed_role("POST", "/api/v1/assess", cfg) == "public"
        assert needed_role("POST", "/api/v1/assess", closed) is Role.reader
        assert needed_role("GET", "/", closed) is Role.reader
        assert needed_role("GET", "/anything-else", cfg) is Role.reader

    def test_safe_next_stays_on_this_site(self) -> None:
        assert safe_next("/registry/worklist?on=2026-01-01") == "/registry/worklist?on=2026-01-01"
        for bad in ("//evil.example", "https://evil.example/", "\\\\evil", "", None):
            assert safe_next(bad) == "/registry"


class TestRoles:
    def test_no_token(self, server: Server) -> None:
        """Pages send the browser to sign in; APIs answer 401 problem+json."""
        c = server.client
        r = c.get("/registry/worklist?on=2026-11-28")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=%2Fregistry%2Fworklist%3Fon%3D2026-11-28"
        r = c.get("/api/v1/tokens")
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert c.post(f"/registry/patients/{RID}/scan", data=scan_form()).status_code == 401
        assert c.get("/registry", headers=bearer("pecoma_wrong")).status_code == 303
        assert c.get("/registry", headers={"Authorization": "Basic abc"}).status_code == 303

    def test_reader(self, server: Server) -> None:
        c, h = server.client, bearer(server.tokens["reader"])
        for path in ("/registry", f"/registry/patients/{RID}", "/registry/worklist",
                     "/registry/worklist.csv", "/registry/worklist.ics", "/registry/summary"):
            assert c.get(path, headers=h).status_code == 200, path
        r = c.post(f"/registry/patients/{RID}/scan", data=scan_form(), headers=h)
        assert r.status_code == 403
        assert "clinician" in r.text
        assert c.get("/api/v1/tokens", headers=h).status_code == 403
        assert server.repo.count()["imaging_event"] == 0

    def test_clinician_records_and_is_audited_by_token(self, server: Server) -> None:
        c = server.client
        h = {**bearer(server.tokens["clinician"]), "X-Remote-User": "mallory"}
        r = c.post(f"/registry/patients/{RID}/scan", data=scan_form(), headers=h)
        assert r.status_code == 303
        assert server.repo.count()["imaging_event"] == 1
        scan = next(e for e in server.repo.audit() if e.entity == "imaging_event")
        assert scan.actor == f"token:{server.ids['clinician']}:clinician one"
        assert c.get("/api/v1/tokens", headers=h).status_code == 403

    def test_admin_lists_tokens_without_values(self, server: Server) -> None:
        r = server.client.get("/api/v1/tokens", headers=bearer(server.tokens["admin"]))
        assert r.status_code == 200
        assert [t["role"] for t in r.json()] == ["reader", "clinician", "admin"]
        for token in server.tokens.values():
            assert token not in r.text

    def test_revoked_token_stops_at_once(self, server: Server) -> None:
        h = bearer(server.tokens["reader"])
        assert server.client.get("/registry", headers=h).status_code == 200
        TokenStore(server.repo.engine).revoke("reader one", "admin")
        assert server.client.get("/registry", headers=h).status_code == 303

    def test_open_routes(self, server: Server) -> None:
        """Health, CDS Hooks (own JWT check) and the stateless assessment stay open."""
        c = server.client
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").json()["database"] == "ok"
        assert c.get("/cds-services").status_code == 200
        assert c.get("/").status_code == 200
        assert c.get("/rules").status_code == 200
        assert c.post("/api/v1/assess", json=low_risk()).status_code == 200
        assert c.get("/login").status_code == 200

    def test_closed_assessment(self, repo: Repository) -> None:
        s = make_server(repo, open_assessment=False)
        with s.client as c:
            assert c.get("/").status_code == 303
            r = c.post("/api/v1/assess", json=low_risk())
            assert r.status_code == 401
            r = c.post("/api/v1/assess", json=low_risk(), headers=bearer(s.tokens["reader"]))
            assert r.status_code == 200
            assert c.get("/cds-services").status_code == 200


class TestBrowserSession:
    def sign_in(self, c: TestClient, token: str, next_: str = "/registry") -> Any:
        return c.post("/login", data={"token": token, "next": next_})

    @pytest.mark.parametrize("field", ["token", "next"])
    def test_a_sign_in_field_sent_twice_is_refused(self, server: Server, field: str) -> None:
        """Two tokens or two pages to go back to in one sign-in (a scripted post): which
        was meant is unknown, so nobody is signed in and the field is named, the tokens
        never shown back. The last 'next' had been followed."""
        from urllib.parse import urlencode

        second = server.tokens["clinician"] if field == "token" else "/x"
        pairs = [("token", server.tokens["reader"]), ("next", "/registry"), (field, second)]
        r = server.client.post("/login", content=urlencode(pairs),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422
        assert f"&#39;{field}&#39; was sent more than once" in r.text
        assert "set-cookie" not in r.headers
        assert server.tokens["reader"] not in r.text and server.tokens["clinician"] not in r.text

    @pytest.mark.parametrize("which", ["reader", "clinician", "wrong"])
    @pytest.mark.parametrize("where", ["end", "start", "middle"])
    @pytest.mark.parametrize("odd", ["\x1b", "\x00", "\x07", "\x1f", "\ufffe"])
    def test_a_token_breaking_the_text_rule_is_never_shown_back(
        self, server: Server, which: str, where: str, odd: str
    ) -> None:
        """A token pasted with a control character (a terminal's copy can leave an ESC)
        is refused (422) naming the field, as every form's text; the token, valid or
        not, is a credential and never shown back, in any form (raw, escaped, cut)."""
        token = server.tokens.get(which, "pecoma_wrongwrongwrongwrong")
        half = len(token) // 2
        sent = {"end": token + odd, "start": odd + token,
                "middle": token[:half] + odd + token[half:]}[where]
        r = server.client.post("/login", data={"token": sent, "next": "/registry"})
        assert r.status_code == 422
        assert "&#39;token&#39;" in r.text  # the field is named
        assert "set-cookie" not in r.headers
        for part in (token, token[:half], token[half:], token[:20], token[-20:]):
            assert part not in r.text and html_escape(part) not in r.text

    @pytest.mark.parametrize("odd", ["\x1b", "\x00"])
    def test_a_token_breaking_the_text_rule_counts_as_a_refused_sign_in(
        self, server: Server, odd: str
    ) -> None:
        """Such an attempt is a refused sign-in as a wrong token is: counted per client
        address toward the limit, after which even a valid token waits (429)."""
        from pecoma.store.sessions import LOGIN_ATTEMPTS

        c = server.client
        for _ in range(LOGIN_ATTEMPTS):
            r = self.sign_in(c, server.tokens["reader"] + odd)
            assert r.status_code == 422
        r = self.sign_in(c, server.tokens["reader"])
        assert r.status_code == 429
        assert "set-cookie" not in r.headers
        # and over the limit the refusal shows no token back either
        r = self.sign_in(c, server.tokens["clinician"] + odd)
        assert r.status_code == 429
        assert server.tokens["clinician"] not in r.text

    def test_sign_in_sets_a_strict_httponly_cookie(self, server: Server) -> None:
        r = self.sign_in(server.client, server.tokens["clinician"], "/registry/worklist")
        assert r.status_code == 303
        assert r.headers["location"] == "/registry/worklist"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("pecoma_session=")
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie
        assert server.tokens["clinician"] not in cookie
        page = server.client.get("/registry")
        assert page.status_code == 200
        assert "Sign out (clinician one)" in page.text

    def test_secure_cookie_and_hsts_behind_tls(self, repo: Repository) -> None:
        s = make_server(repo, behind_tls=True)
        with s.client as c:
            r = self.sign_in(c, s.tokens["reader"])
            assert "Secure" in r.headers["set-cookie"]
            assert r.headers["strict-transport-security"].startswith("max-age=")

    def test_wrong_token_is_refused(self, server: Server) -> None:
        r = self.sign_in(server.client, "pecoma_guess")
        assert r.status_code == 401
        assert "API token: must be a valid API token" in r.text
        assert "&#39;token&#39;" not in r.text
        assert "set-cookie" not in r.headers
        r = self.sign_in(server.client, server.tokens["reader"], "//evil.example/x")
        assert r.headers["location"] == "/registry"

    def test_form_posts_need_the_csrf_token(self, server: Server) -> None:
        c = server.client
        self.sign_in(c, server.tokens["clinician"])
        r = c.post(f"/registry/patients/{RID}/scan", data=scan_form())
        assert r.status_code == 403
        assert "CSRF" in r.text
        r = c.post(f"/registry/patients/{RID}/scan", data=scan_form(csrf_token="forged"))
        assert r.status_code == 403
        assert server.repo.count()["imaging_event"] == 0
        form = c.get(f"/registry/patients/{RID}/scan").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        r = c.post(f"/registry/patients/{RID}/scan", data=scan_form(csrf_token=csrf[1]),
                   headers={"Origin": "https://evil.example"})
        assert r.status_code == 403
        r = c.post(f"/registry/patients/{RID}/scan", data=scan_form(csrf_token=csrf[1]))
        assert r.status_code == 303
        assert server.repo.count()["imaging_event"] == 1

    def test_tampered_expired_and_revoked_sessions(self, server: Server) -> None:
        c = server.client
        value = self.sign_in(c, server.tokens["reader"]).cookies["pecoma_session"]
        payload, _, sig = value.partition(".")
        c.cookies.clear()
        forged = "yy" if sig.endswith("xx") else "xx"
        c.cookies.set("pecoma_session", f"{payload}.{sig[:-2]}{forged}")
        assert c.get("/registry").status_code == 303
        signer = SessionSigner("s" * 32, 60)
        cookie, _ = signer.issue(1, now=1000.0)
        assert signer.check(cookie, now=1030.0) is not None
        assert signer.check(cookie, now=1061.0) is None
        assert SessionSigner("t" * 32, 60).check(cookie, now=1030.0) is None
        c.cookies.clear()
        c.cookies.set("pecoma_session", value)
        assert c.get("/registry").status_code == 200
        TokenStore(server.repo.engine).revoke("reader one", "admin")
        assert c.get("/registry").status_code == 303

    def test_sign_out(self, server: Server) -> None:
        c = server.client
        self.sign_in(c, server.tokens["reader"])
        page = c.get("/registry").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        r = c.post("/logout", data={"csrf_token": csrf[1]})
        assert r.status_code == 303
        assert 'pecoma_session=""' in r.headers["set-cookie"]
        c.cookies.clear()
        assert c.get("/registry").status_code == 303

    def test_sign_out_ends_the_session_on_every_worker(self, server: Server) -> None:
        """Signing out ends the session in the database: the same cookie, replayed on
        this worker or another one (same database and key), is refused afterwards."""
        secret = "k" * 40
        workers = []
        for _ in range(2):
            app = create_app(WebConfig(auth="on", session_secret=secret), today=lambda: ON)
            app.state.registry = server.repo
            workers.append(TestClient(app, follow_redirects=False, base_url="http://localhost"))
        first, second = workers
        value = self.sign_in(first, server.tokens["reader"]).cookies["pecoma_session"]
        second.cookies.set("pecoma_session", value)
        assert second.get("/registry").status_code == 200  # one session, any worker
        page = first.get("/registry").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        assert first.post("/logout", data={"csrf_token": csrf[1]}).status_code == 303
        for c in workers:
            c.cookies.clear()
            c.cookies.set("pecoma_session", value)
            assert c.get("/registry").status_code == 303  # ask to sign in again

    def test_cookie_without_a_stored_session_is_refused(self, server: Server) -> None:
        """A cookie signed with the right key but for no started session is refused."""
        signer = SessionSigner("k" * 40, 3600)
        app = create_app(WebConfig(auth="on", session_secret="k" * 40), today=lambda: ON)
        app.state.registry = server.repo
        c = TestClient(app, follow_redirects=False, base_url="http://localhost")
        for session in ("", "never-started"):
            value, _ = signer.issue(server.ids["reader"], session=session)
            c.cookies.set("pecoma_session", value)
            assert c.get("/registry").status_code == 303

    def test_sign_in_attempt_limit_per_address(self, server: Server) -> None:
        """Ten refused sign-ins from one address: the next attempt, even with a valid
        token, answers 429 with a clear message and Retry-After, on every worker."""
        from pecoma.store.sessions import LOGIN_ATTEMPTS

        c = server.client
        for _ in range(LOGIN_ATTEMPTS):
            assert self.sign_in(c, "pecoma_wrong").status_code == 401
        r = self.sign_in(c, server.tokens["reader"])
        assert r.status_code == 429
        assert "Too many refused sign-ins from this address" in r.text
        assert int(r.headers["retry-after"]) > 0
        other = create_app(WebConfig(auth="on"), today=lambda: ON)
        other.state.registry = server.repo
        r = TestClient(other, follow_redirects=False, base_url="http://localhost").post(
            "/login", data={"token": server.tokens["reader"], "next": "/registry"})
        assert r.status_code == 429

    def test_a_good_sign_in_clears_the_count(self, server: Server) -> None:
        from pecoma.store.sessions import LOGIN_ATTEMPTS

        c = server.client
        for _ in range(LOGIN_ATTEMPTS - 1):
            assert self.sign_in(c, "pecoma_wrong").status_code == 401
        assert self.sign_in(c, server.tokens["reader"]).status_code == 303
        for _ in range(LOGIN_ATTEMPTS - 1):
            assert self.sign_in(c, "pecoma_wrong").status_code == 401
        assert self.sign_in(c, server.tokens["reader"]).status_code == 303

    @pytest.mark.parametrize("parallel", [12, 24])
    def test_parallel_sign_ins_never_pass_the_limit(self, server: Server,
                                                    parallel: int) -> None:
        """At most 10 refused sign-ins per client address in 15 minutes, however the
        attempts arrive: many posted at once (a script, several workers) must not each be
        checked against a count taken before the others were written. Of the wrong
        tokens posted together from one address exactly 10 are refused as wrong (401),
        the rest by the limit (429), and the table holds no more than 10 for it; then a
        valid token is refused too (the limit holds on every worker)."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        from pecoma.store.sessions import LOGIN_ATTEMPTS

        barrier = threading.Barrier(parallel)

        def attempt(n: int) -> int:
            app = create_app(WebConfig(auth="on"), today=lambda: ON)  # one "worker" each
            app.state.registry = server.repo
            c = TestClient(app, follow_redirects=False, base_url="http://localhost")
            barrier.wait()
            return c.post("/login", data={"token": f"pecoma_wrong{n}"}).status_code

        with ThreadPoolExecutor(parallel) as pool:
            codes = list(pool.map(attempt, range(parallel)))
        assert sorted(set(codes)) == [401, 429], codes
        assert codes.count(401) == LOGIN_ATTEMPTS, codes
        with server.repo.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM login_failure")).scalar()
        assert stored == LOGIN_ATTEMPTS
        assert self.sign_in(server.client, server.tokens["reader"]).status_code == 429

    def test_the_store_admits_at_most_the_limit_at_once(self, server: Server) -> None:
        """The store's own answer, asked from many threads at once for one address: as
        many attempts admitted as the limit allows, the others refused; another address
        keeps its own count; a good sign-in (clear) starts the count again."""
        import threading
        from concurrent.futures import ThreadPoolExecutor

        from pecoma.store.sessions import LOGIN_ATTEMPTS, SessionStore

        sessions = SessionStore(server.repo.engine)
        parallel = 3 * LOGIN_ATTEMPTS
        barrier = threading.Barrier(parallel)

        def attempt(n: int) -> bool:
            barrier.wait()
            return sessions.attempt("192.0.2.7" if n % 3 else "192.0.2.8")

        with ThreadPoolExecutor(parallel) as pool:
            admitted = list(pool.map(attempt, range(parallel)))
        first = [ok for n, ok in enumerate(admitted) if n % 3]
        second = [ok for n, ok in enumerate(admitted) if not n % 3]
        assert first.count(True) == LOGIN_ATTEMPTS  # 20 asked, 10 admitted
        assert second.count(True) == LOGIN_ATTEMPTS  # 10 asked, all admitted
        assert not sessions.attempt("192.0.2.7")
        sessions.clear_failures("192.0.2.7")
        assert sessions.attempt("192.0.2.7")

    @pytest.mark.parametrize("cookie", ["pecoma_session=\u00e9t\u00e9.sig",
                                        "pecoma_session=abc.\u00ff\u00fe",
                                        "pecoma_session=\u6f22\u5b57"])
    def test_non_ascii_cookie_is_no_session(self, server: Server, cookie: str) -> None:
        """A session cookie with non-ASCII bytes is no session: the page asks to sign in
        (303) and the API answers 401, never a 500 before authentication."""
        c = server.client
        c.cookies.clear()
        raw = {"cookie": cookie.encode("utf-8")}
        assert c.get("/registry", headers=raw).status_code == 303
        r = c.get("/api/v1/tokens", headers=raw)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")


EXPECTED_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class TestHeaders:
    @pytest.mark.parametrize("path", ["/", "/registry", "/api/v1/rules", "/cds-services",
                                      "/healthz", "/nowhere", "/login"])
    def test_every_response(self, server: Server, path: str) -> None:
        r = server.client.get(path, headers=bearer(server.tokens["reader"]))
        for name, value in EXPECTED_HEADERS.items():
            assert r.headers[name] == value
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "http:" not in csp and "https:" not in csp and "*" not in csp
        assert "strict-transport-security" not in r.headers

    def test_pages_with_patient_data_are_not_cached(self, server: Server) -> None:
        h = bearer(server.tokens["reader"])
        for path in ("/registry", f"/registry/patients/{RID}", "/registry/worklist.csv"):
            assert server.client.get(path, headers=h).headers["cache-control"] == "no-store"


class TestBodyLimits:
    def test_cds_services_has_its_own_larger_limit(self) -> None:
        c = TestClient(create_app(WebConfig(max_body_bytes=4096), today=lambda: ON), base_url="http://localhost")
        big = json.dumps({"hook": "patient-view", "pad": "x" * 20_000})
        r = c.post("/api/v1/assess", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = c.post("/cds-services/pecoma-patient-view", content=big,
                   headers={"content-type": "application/json"})
        assert r.status_code != 413

    def test_413_is_problem_json_for_cds_services(self) -> None:
        c = TestClient(create_app(WebConfig(cds_max_body_bytes=4096), today=lambda: ON), base_url="http://localhost")
        r = c.post("/cds-services/pecoma-patient-view", content=b"x" * 5000,
                   headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "the request body must be at most 4096 bytes"
        r = c.post("/report", content=b"x" * 300_000)
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("text/html")
