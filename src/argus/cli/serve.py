"""``argus serve``: the control plane (REST API) on uvicorn."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import typer
import uvicorn

from argus.api.app import create_app
from argus.config import Settings

__all__ = ["serve"]


class _Server(uvicorn.Server):
    """Uvicorn's server, exiting with status 0 after a graceful stop on SIGTERM or SIGINT.

    Uvicorn re-raises the stopping signal once it has shut down, so the process
    would die of it (status -15) even though nothing went wrong.
    """

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


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port (0: any free)."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="State directory (default: ARGUS_DATA_DIR or the user data dir)."
    ),
) -> None:
    """Serve the REST API (/api/v1, docs at /api/docs) until SIGINT or SIGTERM."""
    settings = Settings(data_dir=data_dir) if data_dir is not None else Settings()
    config = uvicorn.Config(
        create_app(settings), host=host, port=port, lifespan="on", log_config=None
    )
    server = _Server(config)
    server.run()
    if not server.started:
        typer.secho("error: the server did not start (see the log above)", fg="red", err=True)
        raise typer.Exit(3)
