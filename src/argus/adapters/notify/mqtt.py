"""MQTT with aiomqtt: ``MqttSender`` (the ``mqtt`` notification channel) and ``MqttConnection``.

``MqttSender`` implements the ``Sender`` port: it publishes a rendered
message's body (JSON from the channel's template) on the channel's topic with
its QoS and retain flag, and returns once the broker acknowledged it (QoS 1
and 2). It keeps one connection per channel and reuses it; a connection the
broker dropped while idle is replaced and the publish tried once more, so a
broker restart between two alerts costs no failed attempt. The host is
checked (and, without TLS, pinned) by the ``DestinationPolicy`` like the other
senders; with TLS the client connects by name so the certificate is verified
against it.

``MqttConnection`` implements the ``MqttLink`` port for the state bridge: one
long-lived connection with a last will (``<prefix>/status`` = ``offline``,
retained), ``online`` published retained on every connect, the listened
topics subscribed, and reconnection with exponential backoff and full jitter
after any loss. ``stop`` publishes ``offline`` itself, since a clean
disconnect does not fire the will.

Errors are translated into ``DeliveryError``: a broker that refuses the login
(bad user name or password, not authorised) is ``permanent``; a refused or
dropped connection or a timeout is not, and is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import ssl
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiomqtt

from argus.adapters.notify.destinations import DestinationPolicy, DestinationRefusedError
from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.notify import Channel, ChannelKind, DeliveryError, Message, MqttChannelSettings
from argus.domain.notify.mqtt_topics import BrokerEndpoint
from argus.ports.mqtt import OnConnect, OnMessage

__all__ = ["MqttConnection", "MqttSender", "payload_of"]

log = logging.getLogger(__name__)

_LOGIN_REFUSED = frozenset({4, 5, 134, 135})
"""CONNACK codes of a refused login: MQTT 3.1.1 (4, 5) and MQTT 5 (0x86, 0x87)."""


def _code(exc: aiomqtt.MqttError) -> int | None:
    rc = getattr(exc, "rc", None)
    if rc is None:
        return None
    value = getattr(rc, "value", rc)
    return value if isinstance(value, int) else None


def _translate(exc: aiomqtt.MqttError, what: str) -> DeliveryError:
    code = _code(exc)
    return DeliveryError(f"{what}: {exc}", permanent=code in _LOGIN_REFUSED)


def payload_of(message: Message) -> bytes:
    """What is published: the rendered body, or the payload as JSON when the body is empty."""
    if message.body:
        return message.body.encode("utf-8")
    return json.dumps(dict(message.payload), separators=(",", ":"), default=str).encode("utf-8")


@dataclass(slots=True)
class _Cached:
    settings: MqttChannelSettings
    client: aiomqtt.Client
    stack: AsyncExitStack


class MqttSender:
    """Publishes MQTT channels' messages, one reused connection per channel.

    Args:
        destinations: Which hosts may be reached; ``None`` checks nothing (tests, the CLI).
        tls_context: TLS settings for ``tls`` channels; the system defaults when ``None``.
        timeout_s: Seconds a connect or an acknowledged publish may take.
    """

    kind: ChannelKind = "mqtt"

    def __init__(
        self,
        destinations: DestinationPolicy | None,
        *,
        tls_context: ssl.SSLContext | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._destinations = destinations
        self._tls = tls_context
        self._timeout = timeout_s
        self._clients: dict[str, _Cached] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def send(self, channel: Channel, message: Message) -> None:
        """Publish ``message`` on the channel's topic.

        Raises:
            DeliveryError: Not published (``permanent`` for a refused host or login).
        """
        settings = channel.settings
        if not isinstance(settings, MqttChannelSettings):
            raise DeliveryError(f"channel {channel.id} is not an MQTT channel", permanent=True)
        payload = payload_of(message)
        lock = self._locks.setdefault(channel.id, asyncio.Lock())
        async with lock:
            reused = channel.id in self._clients
            client = await self._client(channel.id, settings)
            try:
                await self._publish(client, settings, payload)
                return
            except DeliveryError:
                await self._drop(channel.id)
                if not reused:
                    raise
            # The cached connection had died while idle: one fresh try.
            client = await self._client(channel.id, settings)
            try:
                await self._publish(client, settings, payload)
            except DeliveryError:
                await self._drop(channel.id)
                raise

    async def _publish(
        self, client: aiomqtt.Client, settings: MqttChannelSettings, payload: bytes
    ) -> None:
        try:
            await client.publish(
                settings.topic,
                payload,
                qos=settings.qos,
                retain=settings.retain,
                timeout=self._timeout,
            )
        except aiomqtt.MqttError as exc:
            raise _translate(exc, f"publishing on {settings.topic!r} failed") from exc
        finally:
            _raise_if_cancelling()

    async def _client(self, channel_id: str, settings: MqttChannelSettings) -> aiomqtt.Client:
        cached = self._clients.get(channel_id)
        if cached is not None and cached.settings == settings:
            return cached.client
        if cached is not None:
            await self._drop(channel_id)
        host = await self._host(settings)
        client = aiomqtt.Client(
            host,
            settings.port,
            username=settings.username,
            password=settings.password if settings.username else None,
            identifier=f"argus-notify-{channel_id[-12:]}-{secrets.token_hex(3)}",
            timeout=self._timeout,
            tls_context=self._tls_context() if settings.tls else None,
        )
        stack = AsyncExitStack()
        try:
            await stack.enter_async_context(client)
        except aiomqtt.MqttError as exc:
            raise _translate(exc, f"connecting to {settings.host}:{settings.port} failed") from exc
        self._clients[channel_id] = _Cached(settings, client, stack)
        return client

    async def _host(self, settings: MqttChannelSettings) -> str:
        if self._destinations is None:
            return settings.host
        try:
            address, _, _ = await self._destinations.pin(settings.host, settings.port)
        except DestinationRefusedError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        except OSError as exc:
            raise DeliveryError(f"{settings.host} does not resolve: {exc}") from exc
        # With TLS the name is kept, so the certificate is checked against it.
        return settings.host if settings.tls else address

    def _tls_context(self) -> ssl.SSLContext:
        return self._tls if self._tls is not None else ssl.create_default_context()

    async def _drop(self, channel_id: str) -> None:
        cached = self._clients.pop(channel_id, None)
        if cached is not None:
            with contextlib.suppress(aiomqtt.MqttError, OSError, TimeoutError):
                await cached.stack.aclose()

    async def close(self) -> None:
        """Disconnect every cached connection."""
        for channel_id in list(self._clients):
            await self._drop(channel_id)


class MqttConnection:
    """A self-healing broker connection with a last will (the ``MqttLink`` port).

    Args:
        endpoint: The broker.
        status_topic: Where ``online`` / ``offline`` (the will) are published, retained.
        listen: Topics subscribed on every connect (Home Assistant's birth topic).
        client_id: The MQTT client identifier (unique per process).
        timeout_s: Seconds a connect or an acknowledged publish may take.
        keepalive_s: Keep-alive interval; a silent broker is detected after 1.5 of them.
        backoff: Delays between reconnection attempts.
        tls_context: TLS settings for ``mqtts://``; the system defaults when ``None``.
    """

    def __init__(
        self,
        endpoint: BrokerEndpoint,
        *,
        status_topic: str,
        listen: Sequence[str] = (),
        client_id: str,
        timeout_s: float = 10.0,
        keepalive_s: int = 30,
        backoff: BackoffPolicy | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._status = status_topic
        self._listen = tuple(listen)
        self._client_id = client_id
        self._timeout = timeout_s
        self._keepalive = keepalive_s
        self._backoff = Backoff(backoff or BackoffPolicy(initial=0.5, max_delay=30.0))
        self._tls = tls_context
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self.connects = 0
        """Connections the broker accepted so far."""
        self.last_error: str | None = None
        """Why the latest connection failed or dropped."""

    @property
    def connected(self) -> bool:
        """Whether the broker accepted the connection and it has not dropped since."""
        return self._client is not None

    def start(self, on_connect: OnConnect, on_message: OnMessage) -> None:
        """Connect in the background, now and after every loss (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(on_connect, on_message), name="argus-mqtt-link"
            )

    async def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 1
    ) -> None:
        """Publish one message (acknowledged with QoS 1 and 2).

        Raises:
            DeliveryError: Not connected, or the broker did not take it.
        """
        client = self._client
        if client is None:
            raise DeliveryError(f"not connected to the MQTT broker ({self.last_error})")
        try:
            await client.publish(topic, payload, qos=qos, retain=retain, timeout=self._timeout)
        except aiomqtt.MqttError as exc:
            raise _translate(exc, f"publishing on {topic!r} failed") from exc

    def check(self) -> tuple[bool, str]:
        """Whether the link is connected, and a one-line reason."""
        where = f"{self._endpoint.host}:{self._endpoint.port}"
        if self._task is None:
            return False, "MQTT link not started"
        if self.connected:
            return True, f"MQTT broker {where} connected"
        return False, f"MQTT broker {where} unreachable: {self.last_error or 'connecting'}"

    async def stop(self) -> None:
        """Publish ``offline``, disconnect and stop reconnecting. Idempotent."""
        task, self._task = self._task, None
        if task is None:
            return
        client = self._client
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await client.publish(self._status, b"offline", qos=1, retain=True, timeout=2.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._client = None

    async def _run(self, on_connect: OnConnect, on_message: OnMessage) -> None:
        while True:
            try:
                await self._session(on_connect, on_message)
                self.last_error = "the broker closed the connection"
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
            except Exception as exc:  # top of a task loop: log, back off, reconnect
                self.last_error = str(exc) or type(exc).__name__
                log.exception("MQTT link failed")
            finally:
                self._client = None
            _raise_if_cancelling()
            delay = self._backoff.next_delay()
            log.warning(
                "MQTT broker %s:%d: %s; reconnecting in %.1f s",
                self._endpoint.host,
                self._endpoint.port,
                self.last_error,
                delay,
            )
            await asyncio.sleep(delay)

    async def _session(self, on_connect: OnConnect, on_message: OnMessage) -> None:
        endpoint = self._endpoint
        tls = None
        if endpoint.tls:
            tls = self._tls if self._tls is not None else ssl.create_default_context()
        async with aiomqtt.Client(
            endpoint.host,
            endpoint.port,
            username=endpoint.username,
            password=endpoint.password if endpoint.username else None,
            identifier=self._client_id,
            will=aiomqtt.Will(self._status, b"offline", qos=1, retain=True),
            timeout=self._timeout,
            keepalive=self._keepalive,
            tls_context=tls,
        ) as client:
            await client.publish(self._status, b"online", qos=1, retain=True)
            for topic in self._listen:
                await client.subscribe(topic, qos=1)
            self._client = client
            self.connects += 1
            self.last_error = None
            self._backoff.reset()
            log.info("MQTT broker %s:%d connected", endpoint.host, endpoint.port)
            try:
                await on_connect()
            except Exception:  # the state is published again on the next connect
                log.exception("publishing the MQTT state after connecting failed")
            async for message in client.messages:
                try:
                    await on_message(str(message.topic), _bytes(message.payload))
                except Exception:  # one bad message must not drop the connection
                    log.exception("handling the MQTT message on %s failed", message.topic)


def _raise_if_cancelling() -> None:
    """Re-raise a cancellation aiomqtt swallowed.

    aiomqtt awaits acknowledgements with ``asyncio.wait_for``, which on Python
    3.11 can lose a ``cancel()`` that arrives as the acknowledgement does; the
    caller's loop would then never stop. The outbox makes a message published
    just before such a cancellation go out again, never get lost.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode("utf-8")
