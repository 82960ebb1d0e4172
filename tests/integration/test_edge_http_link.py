"""``HttpEdgeLink`` against real HTTP servers on loopback: failover, errors, the wire.

Each server is a ``ThreadingHTTPServer`` answering with a scripted status and
body (a stand-in control plane that can fail on demand: 503, 401, 429, a
proxy's HTML page). The link's behaviour against the real control plane is
tested end to end in the edge integration tests.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from argus.adapters.edge.http_link import HttpEdgeLink
from argus.domain.edge import (
    EdgeConfig,
    ItemResult,
    NodeRegistration,
    OutboxItem,
    RegistrationReply,
    SyncBatch,
    SyncReply,
)
from argus.domain.errors import ConfigError, ValidationError
from argus.domain.event_ids import new_event_id
from argus.ports.edge_link import EdgeLink, LinkDown, LinkUnauthorized

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = "ak_test_node_key"


@dataclass
class Script:
    """What one server answers, and what it was asked."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        return None  # a client that refuses the certificate is expected, not news


class Server:
    """A loopback HTTP server answering every request with its ``Script``.

    Args:
        tls: Serve HTTPS with this server context.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script = Script()
        script_of = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                script = script_of.script
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                script.requests.append((self.command, self.path, dict(self.headers), body))
                if script.delay:
                    time.sleep(script.delay)
                self.send_response(script.status)
                for name, value in script.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(script.body)))
                self.end_headers()
                self.wfile.write(script.body)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def answer(self, status: int, body: object, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **headers}
        self.script = Script(status, raw, headers, requests=self.script.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made = [Server(), Server()]
    yield made
    for server in made:
        server.close()


def _dead_url() -> str:
    with socket.socket() as sock:  # a port that was free a moment ago: connection refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _batch() -> SyncBatch:
    item = OutboxItem(id=new_event_id(T0), kind="event", body={"event_id": "x", "n": 1})
    return SyncBatch(node_id="node-1", sent_at=T0, items=(item,))


def _reply(batch: SyncBatch) -> dict[str, object]:
    results = tuple(ItemResult(item.id, "stored") for item in batch.items)
    return SyncReply(results, T0).to_dict()


async def test_sync_posts_the_batch_with_the_key_and_reads_the_reply(
    servers: list[Server],
) -> None:
    batch = _batch()
    servers[0].answer(200, _reply(batch))
    link = HttpEdgeLink([servers[0].url], KEY)
    assert isinstance(link, EdgeLink)
    try:
        reply = await link.sync(batch)
    finally:
        await link.close()
    assert reply.results[0].status == "stored"
    assert reply.server_time == T0
    method, path, headers, body = servers[0].script.requests[0]
    assert (method, path) == ("POST", "/api/v1/edge/sync")
    assert headers["X-API-Key"] == KEY
    assert headers["Content-Type"] == "application/json"
    assert SyncBatch.from_dict(json.loads(body)) == batch


async def test_register_and_config_long_poll(servers: list[Server]) -> None:
    key = base64.b64encode(bytes(32)).decode()
    servers[0].answer(200, RegistrationReply("node-1", key, 30.0, T0).to_dict())
    link = HttpEdgeLink([servers[0].url + "/"], KEY)
    try:
        reg = NodeRegistration("node-1", "1.0", ("yolov7-tiny@1",), ("tamper",), "box")
        assert (await link.register(reg)).key_bytes() == bytes(32)
        config = EdgeConfig.build(
            "node-1", [], health_interval_s=30.0, pre_roll_s=5.0, post_roll_s=5.0, server_time=T0
        )
        servers[0].answer(200, config.to_dict())
        assert await link.fetch_config("node-1", config.revision, 25.0) == config
        assert await link.fetch_config("node-1", None, 25.0) == config
    finally:
        await link.close()
    (_, register_path, _, body), (_, polled, _, _), (_, plain, _, _) = servers[0].script.requests
    assert register_path == "/api/v1/edge/register"
    assert NodeRegistration.from_dict(json.loads(body)) == reg
    assert urlsplit(polled).path == "/api/v1/edge/config"
    assert parse_qs(urlsplit(polled).query) == {
        "node_id": ["node-1"],
        "after": [config.revision],
        "wait": ["25"],
    }
    assert parse_qs(urlsplit(plain).query) == {"node_id": ["node-1"]}


async def test_fails_over_to_the_next_url_and_stays_on_the_one_that_answered(
    servers: list[Server],
) -> None:
    failing, good = servers
    batch = _batch()
    failing.answer(503, {"detail": "database unavailable"})
    good.answer(200, _reply(batch))
    link = HttpEdgeLink([_dead_url(), failing.url, good.url], KEY)
    try:
        await link.sync(batch)
        assert link.current_url == good.url
        await link.sync(batch)
    finally:
        await link.close()
    assert len(failing.script.requests) == 1
    assert len(good.script.requests) == 2


async def test_every_url_down_is_link_down_with_the_servers_hint(servers: list[Server]) -> None:
    servers[0].answer(503, {"detail": "starting"}, **{"Retry-After": "5"})
    link = HttpEdgeLink([_dead_url(), servers[0].url], KEY)
    try:
        with pytest.raises(LinkDown) as raised:
            await link.sync(_batch())
    finally:
        await link.close()
    assert raised.value.retry_after == 5.0
    assert "ConnectError" in str(raised.value)
    assert "HTTP 503" in str(raised.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_key_is_unauthorized_without_failover(
    servers: list[Server], status: int
) -> None:
    servers[0].answer(status, {"detail": "invalid API key"})
    servers[1].answer(200, _reply(_batch()))
    link = HttpEdgeLink([servers[0].url, servers[1].url], KEY)
    try:
        with pytest.raises(LinkUnauthorized) as raised:
            await link.sync(_batch())
    finally:
        await link.close()
    assert raised.value.status == status
    assert "invalid API key" in str(raised.value)
    assert not servers[1].script.requests


async def test_rate_limited_is_link_down_with_retry_after(servers: list[Server]) -> None:
    servers[0].answer(429, {"detail": "slow down"}, **{"Retry-After": "7"})
    link = HttpEdgeLink([servers[0].url], KEY)
    try:
        with pytest.raises(LinkDown) as raised:
            await link.sync(_batch())
    finally:
        await link.close()
    assert raised.value.retry_after == 7.0


async def test_a_proxy_page_with_status_200_is_not_an_acknowledgement(
    servers: list[Server],
) -> None:
    servers[0].answer(200, b"<html>captive portal</html>")
    link = HttpEdgeLink([servers[0].url], KEY)
    try:
        with pytest.raises(LinkDown):
            await link.sync(_batch())
    finally:
        await link.close()


async def test_a_request_the_server_cannot_read_is_a_validation_error(
    servers: list[Server],
) -> None:
    servers[0].answer(422, {"detail": "items.0.kind: not a valid kind"})
    link = HttpEdgeLink([servers[0].url], KEY)
    try:
        with pytest.raises(ValidationError, match="not a valid kind"):
            await link.sync(_batch())
    finally:
        await link.close()


async def test_a_server_too_slow_to_answer_is_link_down(servers: list[Server]) -> None:
    servers[0].answer(200, _reply(_batch()))
    servers[0].script.delay = 2.0
    link = HttpEdgeLink([servers[0].url], KEY, timeout_s=0.2)
    try:
        with pytest.raises(LinkDown, match="Timeout"):
            await link.sync(_batch())
    finally:
        await link.close()


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        HttpEdgeLink([], KEY)
    with pytest.raises(ConfigError):
        HttpEdgeLink(["ftp://example"], KEY)
    with pytest.raises(ConfigError):
        HttpEdgeLink(["https://example"], KEY, ca_file=tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ConfigError):
        HttpEdgeLink(["https://example"], KEY, ca_file=tmp_path / "junk.pem")


def _certificates(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A private CA's certificate file, and a server context with a certificate it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    start, end = datetime(2020, 1, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("argus test ca"))
        .issuer_name(name("argus test ca"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = (directory / n for n in ("ca.pem", "cert.pem", "key.pem"))
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context


async def test_tls_is_verified_against_the_given_ca(tmp_path: Path) -> None:
    ca_file, context = _certificates(tmp_path)
    server = Server(context)
    batch = _batch()
    server.answer(200, _reply(batch))
    try:
        trusting = HttpEdgeLink([server.url], KEY, ca_file=ca_file)
        system = HttpEdgeLink([server.url], KEY)
        unchecked = HttpEdgeLink([server.url], KEY, verify_tls=False)
        try:
            assert (await trusting.sync(batch)).results[0].status == "stored"
            with pytest.raises(LinkDown, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
                await system.sync(batch)
            assert (await unchecked.sync(batch)).results[0].status == "stored"
        finally:
            for link in (trusting, system, unchecked):
                await link.close()
    finally:
        server.close()
