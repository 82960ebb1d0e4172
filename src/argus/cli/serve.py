"""``argus serve``: the control plane (REST API) on uvicorn."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
import uvicorn

from argus.api.streams import StreamSlots
from argus.bootstrap.app import build_app
from argus.cli._settings import load_settings

__all__ = ["GRACEFUL_SHUTDOWN_S", "serve"]

GRACEFUL_SHUTDOWN_S = 5
"""Seconds a stopping server lets open responses (live video) finish before cancelling them."""


class _Server(uvicorn.Server):
    """Uvicorn's server, exiting with status 0 after a graceful stop on SIGTERM or SIGINT.

    Uvicorn re-raises the stopping signal once it has shut down, so the process
    would die of it (status -15) even though nothing went wrong. Once listening
    it prints where the API is (the real port when ``--port 0`` asked for any).
    """

    scheme = "http"

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Uvicorn waits for open responses before the app's shutdown; live video never
        # ends by itself, so end it first.
        state = getattr(getattr(self, "lifespan", None), "state", None)
        runtime = state.get("runtime") if isinstance(state, dict) else None
        streams = getattr(runtime, "streams", None)
        if isinstance(streams, StreamSlots):
            streams.close()
        await super().shutdown(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.should_exit:  # start-up failed (lifespan error, port taken)
            return
        for server in self.servers:
            for sock in server.sockets:
                address: Any = sock.getsockname()
                host, port = str(address[0]), int(address[1])
                shown = f"[{host}]" if ":" in host else host
                base = f"{self.scheme}://{shown}:{port}"
                typer.echo(f"Argus is serving on {base}: API {base}/api/v1, docs {base}/api/docs")


def _private_directory(path: Path) -> None:
    """Create the data directory for this account only, and narrow an existing one."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port (0: any free)."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="State directory (default: ARGUS_DATA_DIR or the user data dir)."
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Register the demo camera (bikes.mp4, looped in real time, with a counting "
        "line, a zone and alert rules) if it is missing; builds its model pack first if needed.",
    ),
    tls_cert: Path | None = typer.Option(
        None,
        "--tls-cert",
        exists=True,
        dir_okay=False,
        help="PEM certificate (chain) to serve HTTPS and WSS with; needs --tls-key.",
    ),
    tls_key: Path | None = typer.Option(
        None,
        "--tls-key",
        exists=True,
        dir_okay=False,
        help="PEM private key of --tls-cert.",
    ),
) -> None:
    """Serve the REST API (/api/v1, docs at /api/docs) until SIGINT or SIGTERM."""
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    # Everything the server creates (database, keys, evidence, one-time password) is
    # for this account only.
    os.umask(0o077)
    settings = load_settings(data_dir, **({"demo": True} if demo else {}))
    _private_directory(settings.data_dir)
    config = uvicorn.Config(
        build_app(settings),
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        ws="websockets-sansio",  # /ws; uvicorn's other websockets protocol is deprecated
        # A backstop: responses still open after this are cancelled (see _Server.shutdown).
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # Forwarded headers are the app's business (ARGUS_TRUSTED_PROXIES); uvicorn's own
        # default would believe any X-Forwarded-For sent from loopback.
        proxy_headers=False,
        forwarded_allow_ips="",
        ssl_certfile=str(tls_cert) if tls_cert is not None else None,
        ssl_keyfile=str(tls_key) if tls_key is not None else None,
    )
    server = _Server(config)
    if tls_cert is not None:
        server.scheme = "https"
    server.run()
    if not server.started:
        typer.secho("error: the server did not start (see the log above)", fg="red", err=True)
        raise typer.Exit(3)
