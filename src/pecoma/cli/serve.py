"""``pecoma serve``: the clinician web application and the JSON API on uvicorn.

The configuration is resolved once, here (the ``--config`` file, ``PECOMA_*`` variables,
the options), and handed to the application as one object: to ``create_app`` in this
process, or, with ``--workers N``, pickled to each worker process as its factory's
argument (the environment is neither read nor written for it).

The web stack (FastAPI, uvicorn, the database) is imported when the command runs, so that
every other command starts without it.
"""

from __future__ import annotations

import functools
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import uvicorn

__all__ = ["serve_cmd"]

#: Seconds a worker process may take to answer the supervisor (first answer included).
WORKER_HEALTHCHECK_S = 60


def serve_cmd(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to bind (default 127.0.0.1, or PECOMA_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", help="TCP port (default 8000, or PECOMA_PORT)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file with a \\[web] table (host, port, database_url, auth, "
            "\\[web.cds], \\[web.smart], …; see docs/web.md) instead of PECOMA_WEB_CONFIG; "
            "PECOMA_* variables override it.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Worker processes (default 1); more use more cores for the same port.",
        ),
    ] = 1,
) -> None:
    """Start the web application (case form, report, JSON API under /api/v1)."""
    import uvicorn

    from pecoma.web.app import worker_app
    from pecoma.web.config import WebConfig, is_loopback
    from pecoma.web.http_target import TargetKeepingHttpTools
    from pecoma.web.logs import APP, configure_logging

    options = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    cfg = WebConfig.from_env(file=config, options=options)
    if cfg.session_secret is None:
        # One key for every worker process, so that a session and a report's own address
        # (a signed link) work on all of them. Several machines need one configured key.
        import secrets

        cfg = cfg.model_copy(update={"session_secret": secrets.token_urlsafe(32)})
    # The engine settings are read, and checked against the guideline's ranges, before
    # any worker starts: a file out of range stops the command with its message (exit 5)
    # rather than each worker process failing on its own.
    cfg.engine_settings()
    configure_logging(cfg.log_level)
    APP.info(
        "starting",
        extra={"host": cfg.host, "port": cfg.port, "workers": workers, "auth": cfg.auth_required},
    )
    if not cfg.auth_required and not is_loopback(cfg.host):
        APP.warning(
            "authentication is off on a non-loopback address: anyone who can "
            "reach this port can read and change the registry"
        )
    if workers == 1:
        uvicorn.run(
            worker_app(cfg),
            host=cfg.host,
            port=cfg.port,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            http=TargetKeepingHttpTools,
        )
        return
    # Each worker process builds its own application from this same object: uvicorn
    # starts workers with multiprocessing's "spawn", which pickles the factory and its
    # argument to the child (the secrets too, without putting them in the environment).
    _serve_workers(
        uvicorn.Config(
            functools.partial(worker_app, cfg),
            factory=True,
            workers=workers,
            host=cfg.host,
            port=cfg.port,
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
            http=TargetKeepingHttpTools,
            # A worker answers the supervisor's health check only once it has imported
            # pecoma: on a busy host that takes longer than uvicorn's 5 s default, and
            # the workers were killed and restarted without end.
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        )
    )


def _serve_workers(config: uvicorn.Config) -> None:
    """uvicorn's multi-process supervisor, each worker on a listening socket of its own.

    With one shared listening socket, the first worker to wake accepts every connection
    waiting: a burst of keep-alive connections (an EHR's client pool, a load test) all
    went to one of two workers, which then did all the work while the other idled. On
    Linux each worker therefore opens its own socket on the address with SO_REUSEPORT,
    and the kernel spreads new connections evenly over them (:class:`_OwnListener`).
    Elsewhere the workers share one socket, as uvicorn does.

    Either socket says IPPROTO_TCP: asyncio switches Nagle's algorithm off only on
    accepted sockets whose protocol is IPPROTO_TCP, and uvicorn binds with protocol 0, so
    every keep-alive response would wait ~40 ms for the client's delayed ACK (uvicorn
    issue #3149).
    """
    from uvicorn.supervisors import Multiprocess

    listener = config.bind_socket()
    if listener.family in (socket.AF_INET, socket.AF_INET6):
        address = listener.getsockname()
        family = listener.family
        listener = socket.socket(family, listener.type, socket.IPPROTO_TCP,
                                 fileno=listener.detach())
        if hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith("linux"):
            # The address is free (bound just now, nothing else listens on it): the
            # workers may now each listen on it.
            listener.close()
            listener = _OwnListener(family, address)
    Multiprocess(config, sockets=[listener]).run()


class _OwnListener(socket.socket):
    """A socket bound (not listening) to the server's address with SO_REUSEPORT, which
    each worker process replaces by one of its own: pickled to a worker (uvicorn's
    supervisor hands its sockets to every worker it starts, restarted ones too), it
    becomes a new socket bound to the same address, on which that worker listens.

    Only sockets of the same user may join the address, and only while one of them is
    bound: a second ``pecoma serve`` on the port still fails ("address in use") when it
    binds its first socket without SO_REUSEPORT."""

    def __init__(self, family: int, address: tuple[Any, ...]) -> None:
        super().__init__(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.bind(address)
        self._address = address

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return (_worker_socket, (self.family, self._address))


def _worker_socket(family: int, address: tuple[Any, ...]) -> socket.socket:
    """A worker's own socket on ``address`` (see :class:`_OwnListener`); the worker's
    event loop makes it listen. A worker that cannot bind it stops as a start-up failure,
    so that the supervisor stops too rather than restart it without end."""
    from uvicorn.config import STARTUP_FAILURE

    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        print(f"pecoma serve: a worker could not bind {address}: {exc}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from None
    return sock
