"""MqttSender against real Mosquitto brokers: delivery, QoS, retain, reconnection, refusals."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.adapters.notify.destinations import DestinationPolicy
from argus.adapters.notify.mqtt import MqttSender
from argus.domain.events import new_event_id
from argus.domain.notify import (
    Channel,
    DeliveryError,
    Message,
    MqttChannelSettings,
    WebhookSettings,
)
from tests.integration.mqtt_support import (
    SHARED_HOST,
    SHARED_PORT,
    Listener,
    PrivateBroker,
    free_port,
)
from tests.integration.notify_support import Certificate

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _channel(
    topic: str,
    *,
    host: str = SHARED_HOST,
    port: int = SHARED_PORT,
    retain: bool = False,
    qos: int = 1,
    username: str | None = None,
    password: str | None = None,
    tls: bool = False,
) -> Channel:
    settings = MqttChannelSettings(
        host=host,
        port=port,
        tls=tls,
        topic=topic,
        retain=retain,
        qos=qos,
        username=username,
        password=password,
    )
    return Channel(new_event_id(NOW), "mqtt", "mqtt", settings, NOW, NOW)


def _message(body: str = "", **payload: object) -> Message:
    return Message(new_event_id(NOW), "Alert", body, payload, ())


def _topic() -> str:
    return f"argus-test/{new_event_id()}/alerts"


async def test_the_body_is_published_on_the_topic() -> None:
    topic = _topic()
    sender = MqttSender(None)
    body = json.dumps({"alert": {"id": "a1", "severity": "high"}})
    try:
        async with Listener.open(topic) as listener:
            await sender.send(_channel(topic), _message(body))
            await sender.send(_channel(topic, qos=0), _message("", severity="low"))
            await listener.wait_for(lambda s: len(s.messages) == 2, "two messages")
    finally:
        await sender.close()
    assert listener.messages[0] == (topic, body.encode(), False)
    assert json.loads(listener.messages[1][1]) == {"severity": "low"}


async def test_a_retained_message_reaches_a_later_subscriber() -> None:
    topic = _topic()
    sender = MqttSender(None)
    try:
        await sender.send(_channel(topic, retain=True), _message('{"n":1}'))
    finally:
        await sender.close()
    async with Listener.open(topic) as listener:
        await listener.wait_value(topic, b'{"n":1}')
        assert listener.messages[0][2] is True  # delivered as a retained message
        await listener.client.publish(topic, b"", qos=1, retain=True)  # clean up


async def test_a_dropped_connection_is_replaced_without_a_failed_attempt(tmp_path: Path) -> None:
    broker = PrivateBroker(tmp_path)
    broker.start()
    sender = MqttSender(None)
    topic = _topic()
    channel = _channel(topic, port=broker.port)
    try:
        async with Listener.open(topic, port=broker.port) as listener:
            await sender.send(channel, _message("one"))
            await listener.wait_value(topic, b"one")
        broker.kill()
        broker.start()  # same port; the sender's cached connection is dead
        async with Listener.open(topic, port=broker.port) as listener:
            await sender.send(channel, _message("two"))
            await listener.wait_value(topic, b"two")
    finally:
        await sender.close()
        broker.kill()


async def test_a_refused_connection_is_a_temporary_failure() -> None:
    sender = MqttSender(None, timeout_s=5.0)
    with pytest.raises(DeliveryError) as caught:
        await sender.send(_channel(_topic(), port=free_port()), _message("x"))
    assert caught.value.permanent is False


async def test_a_refused_login_is_permanent(tmp_path: Path) -> None:
    broker = PrivateBroker(tmp_path, login=("argus", "right"))
    broker.start()
    sender = MqttSender(None)
    topic = _topic()
    try:
        with pytest.raises(DeliveryError) as caught:
            await sender.send(
                _channel(topic, port=broker.port, username="argus", password="wrong"),
                _message("x"),
            )
        assert caught.value.permanent is True
        good = _channel(topic, port=broker.port, username="argus", password="right")
        await sender.send(good, _message("x"))  # the right login is accepted
    finally:
        await sender.close()
        broker.kill()


async def test_destinations_are_checked() -> None:
    refusing = MqttSender(DestinationPolicy.of(""))
    with pytest.raises(DeliveryError) as caught:
        await refusing.send(_channel(_topic()), _message("x"))
    assert caught.value.permanent is True
    assert "ARGUS_NOTIFY_ALLOWED_NETWORKS" in str(caught.value)
    topic = _topic()
    allowing = MqttSender(DestinationPolicy.of("127.0.0.0/8"))
    try:
        async with Listener.open(topic) as listener:
            await allowing.send(_channel(topic), _message("allowed"))
            await listener.wait_value(topic, b"allowed")
    finally:
        await allowing.close()


async def test_another_kind_of_channel_is_refused() -> None:
    channel = Channel("c1", "hook", "webhook", WebhookSettings(url="https://x.example"), NOW, NOW)
    with pytest.raises(DeliveryError) as caught:
        await MqttSender(None).send(channel, _message("x"))
    assert caught.value.permanent is True


# paho-mqtt leaves the socket of a failed TLS handshake to the garbage collector, which
# reports it as an unclosed socket; it is collected inside this test (gc.collect below).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_tls_channel_verifies_the_broker(tmp_path: Path) -> None:
    cert = Certificate(tmp_path)
    broker = PrivateBroker(tmp_path, tls=(cert.cert, cert.key))
    broker.start()
    topic = _topic()
    channel = _channel(topic, port=broker.port, tls=True)
    trusting = MqttSender(None, tls_context=cert.client)
    try:
        async with Listener.open(topic, port=broker.port, tls=cert.client) as listener:
            await trusting.send(channel, _message("over tls"))
            await listener.wait_value(topic, b"over tls")
        with pytest.raises(DeliveryError):  # the system's CAs do not know this certificate
            await MqttSender(None).send(channel, _message("x"))
        gc.collect()
    finally:
        await trusting.close()
        broker.kill()
