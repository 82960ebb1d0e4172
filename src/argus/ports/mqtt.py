"""The MQTT link port: one long-lived broker connection the state bridge publishes through.

``MqttLink`` is what ``services.mqtt_bridge.MqttBridge`` needs from a broker
connection; ``adapters.notify.mqtt.MqttConnection`` implements it with
aiomqtt. The link keeps itself connected (reconnecting with backoff) and
calls ``on_connect`` after every (re)connection, so the bridge can publish its
retained state again (a broker restarted without persistence has lost it),
and ``on_message`` for each message of the topics it listens to (Home
Assistant's birth message). ``publish`` raises ``DeliveryError`` while
disconnected: the bridge keeps its state and republishes on the next connect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

__all__ = ["MqttLink", "OnConnect", "OnMessage"]

OnConnect = Callable[[], Awaitable[None]]
"""Awaited after each (re)connection, before messages are received."""

OnMessage = Callable[[str, bytes], Awaitable[None]]
"""Awaited with the topic and payload of each message the link listens to."""


@runtime_checkable
class MqttLink(Protocol):
    """A self-healing connection to one MQTT broker."""

    @property
    def connected(self) -> bool:
        """Whether the broker accepted the connection and it has not dropped since."""
        ...

    def start(self, on_connect: OnConnect, on_message: OnMessage) -> None:
        """Connect in the background, now and after every loss (once)."""
        ...

    async def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False, qos: int = 1
    ) -> None:
        """Publish one message; with ``qos`` 1 or 2, wait for the broker's acknowledgement.

        Raises:
            DeliveryError: Not connected, or the broker did not take it.
        """
        ...

    def check(self) -> tuple[bool, str]:
        """Whether the link is connected, and a one-line reason."""
        ...

    async def stop(self) -> None:
        """Announce ``offline``, disconnect and stop reconnecting. Idempotent."""
        ...
