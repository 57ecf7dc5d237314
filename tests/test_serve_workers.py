"""``pecoma serve --workers N``: the configuration reaches every worker; Nagle stays off."""

from __future__ import annotations

import logging
import os
import pickle
import socket
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import uvicorn
from typer.testing import CliRunner

from pecoma.cli import app as cli_app
from pecoma.web.config import WebConfig


class FakeSupervisor:
    """Stands in for uvicorn's Multiprocess: records what it was given, starts nothing."""

    seen: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        FakeSupervisor.seen.clear()
        FakeSupervisor.seen.update(config=config, sockets=sockets,
                                   env={k: v for k, v in os.environ.items()
                                        if k.startswith("PECOMA_")})

    @staticmethod
    def worker_config() -> WebConfig:
        """The configuration a worker process receives: the factory's argument, after the
        pickling that multiprocessing's "spawn" does to start the worker."""
        factory = pickle.loads(pickle.dumps(FakeSupervisor.seen["config"].app))
        [config] = factory.args
        assert isinstance(config, WebConfig)
        return config

    def run(self) -> None:
        for s in FakeSupervisor.seen["sockets"]:
            s.close()


@pytest.fixture(autouse=True)
def logging_restored() -> Iterator[None]:
    """``serve`` configures logging for the process; put it back afterwards."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled)
             for lg in map(logging.getLogger, names)]
    yield
    for lg, handlers, level, propagate, disabled in saved:
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled


@pytest.fixture
def supervisor(monkeypatch: pytest.MonkeyPatch) -> type[FakeSupervisor]:
    import uvicorn.supervisors

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeSupervisor)
    for name in list(os.environ):
        if name.startswith("PECOMA_"):
            monkeypatch.delenv(name)
    return FakeSupervisor


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_workers_share_a_tcp_socket_with_nagle_off(
    supervisor: type[FakeSupervisor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared socket says IPPROTO_TCP, so asyncio sets TCP_NODELAY on each connection
    (uvicorn's own socket says 0: a ~40 ms delayed-ACK wait per keep-alive request)."""
    port = _free_port()
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", str(port), "--workers", "2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    seen = supervisor.seen
    assert seen["config"].workers == 2
    assert seen["config"].factory is True
    [sock] = seen["sockets"]
    assert sock.proto == socket.IPPROTO_TCP
    worker = supervisor.worker_config()
    assert (worker.host, worker.port) == ("127.0.0.1", port)


def test_workers_get_the_resolved_object_not_the_environment(
    supervisor: type[FakeSupervisor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file, the variables and the options are resolved once, in the supervisor; the
    worker's factory receives that object and the command writes no PECOMA_* variable."""
    monkeypatch.setenv("PECOMA_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("PECOMA_DATABASE_URL", "sqlite:////srv/pecoma/registry.sqlite3")
    port = _free_port()
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", str(port), "--workers", "2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert supervisor.seen["env"] == {  # what the test set, nothing more
        "PECOMA_MAX_BODY_BYTES": "4096",
        "PECOMA_DATABASE_URL": "sqlite:////srv/pecoma/registry.sqlite3"}
    worker = supervisor.worker_config()
    assert worker.port == port  # the option, over PECOMA_PORT (unset) and the default
    assert worker.max_body_bytes == 4096
    assert worker.registry_url() == "sqlite:////srv/pecoma/registry.sqlite3"


def test_a_worker_builds_the_app_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``create_app_from_env``, for uvicorn run directly, reads PECOMA_* once."""
    from pecoma.web.app import create_app_from_env

    monkeypatch.setenv("PECOMA_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("PECOMA_LOG_LEVEL", "warning")
    app = create_app_from_env()
    assert app.state.config.max_body_bytes == 4096


def test_workers_receive_the_smart_settings(
    supervisor: type[FakeSupervisor], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """The [web.smart] table of --config reaches every worker, the client secret in
    clear (a masked '**********' would break the token exchange), and the [web.cds]
    table whole although a PECOMA_CDS_* variable overrides one of its settings."""
    config = tmp_path / "web.toml"
    config.write_text('[web.smart]\nclient_id = "pecoma"\nclient_secret = "s3cret-value"\n'
                      'issuers = ["https://ehr.example/fhir", "https://ehr2.example/r4"]\n'
                      'redirect_base = "https://pecoma.example"\n'
                      '[web.cds]\nauth = "jwt"\nfhir_servers = ["https://ehr.example/fhir"]\n'
                      '[web.cds.trusted_issuers."https://ehr.example"]\n'
                      'jwks_urls = ["https://ehr.example/jwks"]\n', encoding="utf-8")
    monkeypatch.setenv("PECOMA_CDS_SMART_LINKS", "true")
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", str(_free_port()), "--workers", "2", "--config",
                  str(config)], catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    worker = supervisor.worker_config()
    assert worker.smart == WebConfig.from_file(config).smart
    assert worker.cds == WebConfig.from_file(config).cds.model_copy(
        update={"smart_links": True})
    secret = worker.smart.client_secret
    assert secret is not None and secret.get_secret_value() == "s3cret-value"


def test_workers_share_one_link_key_with_authentication_off(
    supervisor: type[FakeSupervisor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On loopback (authentication off) a report's own address is still signed: every
    worker gets the same key, so a link made by one opens on the others."""
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", str(_free_port()), "--workers", "2"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    key = supervisor.worker_config().session_secret or ""
    assert len(key) >= 32


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_keeps_an_absolute_form_target_for_the_host_rule(
    supervisor: type[FakeSupervisor], monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """With one worker or several, uvicorn runs the protocol that keeps the host of an
    absolute-form target (``GET http://name/path``), which RFC 9112 makes the host the
    request is addressed to: without it the Host rule would check the Host header
    instead (tests/test_web_guards.py::TestHostOnTheWire speaks to it over a socket)."""
    from pecoma.web.http_target import TargetKeepingHttpTools

    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.update(options))
    result = CliRunner().invoke(
        cli_app, ["serve", "--port", str(_free_port()), "--workers", workers],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    options = ran if workers == "1" else vars(supervisor.seen["config"])
    assert options["http"] is TargetKeepingHttpTools
    # the class reaches a worker process by name (multiprocessing's "spawn" pickles it)
    assert pickle.loads(pickle.dumps(TargetKeepingHttpTools)) is TargetKeepingHttpTools
