"""A loopback SMTP server for tests, on aiosmtpd, run as its own process.

::

    python -m tests.servers.smtp_sink --port 0 --out DIR
        [--starttls | --tls] [--cert CERT --key KEY] [--auth user:pass]
        [--refuse ADDRESS ...] [--hang-first N]

It writes each accepted message to ``DIR`` as ``<n>-<pid>.eml`` (the raw
message with ``X-Sink-Mail-From``, ``X-Sink-Rcpt-To`` and ``X-Sink-TLS``
headers put in front), written to a temporary name and renamed, so a reader
never sees half a message, and only then answers ``250``. Options:

* ``--starttls``: offer STARTTLS and require it before ``MAIL``;
  ``--tls``: implicit TLS on the whole connection (port 465 style);
* ``--auth user:pass``: require ``AUTH`` (PLAIN or LOGIN) with this login;
* ``--refuse ADDRESS``: answer ``550`` to that recipient (a permanent refusal);
* ``--hang-first N``: for the first N messages, never answer ``DATA`` (a stalled
  server; it drops a ``hung-<n>`` marker in ``DIR`` so a test can kill it then).

It prints ``READY <port>`` once it listens (``ServerProcess`` in
``tests/integration/conftest.py`` waits for that line) and runs until killed;
SIGKILL is the point: tests kill it mid-run and start it again on the same port.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["SinkHandler", "main"]


class SinkHandler:
    """aiosmtpd handler: refuses listed recipients, hangs if told, stores what it accepts."""

    def __init__(self, out: Path, refuse: set[str], hang_first: int) -> None:
        self.out = out
        self.refuse = {address.lower() for address in refuse}
        self.hang_left = hang_first
        self.count = 0

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        """Refuse listed recipients with 550, accept the others."""
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: recipient refused by the test sink"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Store the message (atomically), then answer 250; or hang without answering."""
        if self.hang_left > 0:
            self.hang_left -= 1
            (self.out / f"hung-{self.hang_left}-{os.getpid()}").write_text("hung\n")
            await asyncio.Event().wait()
        self.count += 1
        content = envelope.original_content or b""
        implicit = server.transport is not None and server.transport.get_extra_info("ssl_object")
        tls = "yes" if session.ssl is not None or implicit else "no"
        head = (
            f"X-Sink-Mail-From: {envelope.mail_from}\r\n"
            f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Sink-TLS: {tls}\r\n"
            f"X-Sink-Auth: {'yes' if session.authenticated else 'no'}\r\n"
        ).encode()
        name = f"{self.count:06d}-{os.getpid()}.eml"
        partial = self.out / f".{name}.part"
        partial.write_bytes(head + content)
        partial.replace(self.out / name)
        return "250 2.0.0 stored"


def _authenticator(login: str, password: str) -> Any:
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == login
            and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


def _context(cert: str | None, key: str | None) -> ssl.SSLContext:
    if cert is None or key is None:
        raise SystemExit("--starttls and --tls need --cert and --key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def _serve(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    handler = SinkHandler(out, set(args.refuse), args.hang_first)
    starttls = _context(args.cert, args.key) if args.starttls else None
    implicit = _context(args.cert, args.key) if args.tls else None
    auth = args.auth.partition(":") if args.auth else None

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="sink.test",
            tls_context=starttls,
            require_starttls=starttls is not None,
            auth_required=auth is not None,
            authenticator=_authenticator(auth[0], auth[2]) if auth else None,
            auth_require_tls=True,
            timeout=60,
        )

    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(protocol, args.host, args.port, ssl=implicit)
    except OSError as exc:
        sys.stderr.write(f"cannot listen on {args.host}:{args.port}: {exc}\n")
        raise SystemExit(1) from exc
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Run the sink until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--starttls", action="store_true")
    mode.add_argument("--tls", action="store_true")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--auth", help="user:pass")
    parser.add_argument("--refuse", action="append", default=[])
    parser.add_argument("--hang-first", type=int, default=0)
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
