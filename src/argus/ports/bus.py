"""The event bus port: publish envelopes, consume them durably or fan them out.

Two kinds of subscription serve two needs:

* ``subscribe(subject, durable=...)`` is a **durable, at-least-once** consumer.
  Its position survives ``close()`` and a process restart (on a broker that
  keeps state); several subscriptions with the same durable name share the
  work. Every delivery must be ``ack()``-ed; one that is not (its consumer
  crashed, or it was never acknowledged) is delivered again after the
  adapter's ack wait. Consumers therefore see duplicates and must be
  idempotent on ``event_id`` (see ``argus.services.consumers``).
* ``fan_out(subject)`` is a **live broadcast**: every open fan-out
  subscription, in every process, receives every message published after it
  was opened. Nothing is kept for it while it is closed; ``ack()`` is a no-op.
  It feeds WebSocket clients, which want what happens now.

``publish`` returns only once the broker has acknowledged the message, so a
producer that got no exception may drop its copy (for an edge outbox, this is
the moment to delete the row). Adapters raise ``BusError`` when the broker is
unreachable or refuses an operation, and after ``close()``.

Subjects are dot-separated words (``events.counts``); each adapter maps them
onto its broker (a JetStream subject under a prefix, a Redis stream key).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol, Self, runtime_checkable

from argus.domain.errors import BusError
from argus.domain.events import Envelope

__all__ = ["Delivery", "EventBus", "Subscription", "validate_name", "validate_subject"]

_SUBJECT = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def validate_subject(subject: str) -> str:
    """Return ``subject`` if it is dot-separated words of ``[A-Za-z0-9_-]``.

    Raises:
        BusError: The subject is empty or holds other characters (wildcards,
            spaces), which brokers would read differently.
    """
    if not _SUBJECT.fullmatch(subject):
        raise BusError(f"invalid subject {subject!r}: use dot-separated words of [A-Za-z0-9_-]")
    return subject


def validate_name(name: str, what: str = "durable name") -> str:
    """Return ``name`` if it is one word of ``[A-Za-z0-9_-]``.

    Raises:
        BusError: The name is empty or holds other characters.
    """
    if not _NAME.fullmatch(name):
        raise BusError(f"invalid {what} {name!r}: use [A-Za-z0-9_-]")
    return name


@runtime_checkable
class Delivery(Protocol):
    """One message handed to a consumer."""

    @property
    def subject(self) -> str:
        """The subject it was published on."""
        ...

    @property
    def envelope(self) -> Envelope:
        """The event."""
        ...

    @property
    def redelivered(self) -> bool:
        """Whether this message was handed out before (and not acknowledged)."""
        ...

    async def ack(self) -> None:
        """Tell the broker the message is done; it will not be delivered again.

        Safe to call twice. A no-op for fan-out deliveries.

        Raises:
            BusError: The broker could not be told.
        """
        ...


@runtime_checkable
class Subscription(Protocol):
    """An async iterator of deliveries; ends (``StopAsyncIteration``) after ``close()``."""

    def __aiter__(self) -> AsyncIterator[Delivery]:
        """Return the iterator (the subscription itself)."""
        ...

    async def __anext__(self) -> Delivery:
        """Wait for the next delivery.

        Raises:
            StopAsyncIteration: The subscription or its bus was closed.
            BusError: The broker failed.
        """
        ...

    async def close(self) -> None:
        """Stop receiving; unacknowledged deliveries go back to the broker. Idempotent."""
        ...

    async def __aenter__(self) -> Self:
        """Return the subscription; ``__aexit__`` closes it."""
        ...

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the subscription."""
        ...


@runtime_checkable
class EventBus(Protocol):
    """Publishes envelopes and hands them to durable or fan-out subscribers."""

    async def publish(self, subject: str, envelope: Envelope) -> None:
        """Publish ``envelope`` on ``subject`` and wait for the broker's acknowledgement.

        Raises:
            BusError: The broker is unreachable, refused the message, or the
                bus is closed.
        """
        ...

    async def subscribe(self, subject: str, *, durable: str) -> Subscription:
        """Open (or resume) the durable consumer ``durable`` on ``subject``.

        A new durable consumer starts at the oldest message the broker keeps;
        a resumed one continues after its last acknowledged message.

        Raises:
            BusError: The broker is unreachable or the names are invalid.
        """
        ...

    async def fan_out(self, subject: str) -> Subscription:
        """Open a live subscription that receives every message published from now on.

        Raises:
            BusError: The broker is unreachable or the subject is invalid.
        """
        ...

    async def close(self) -> None:
        """Close every subscription and the connection. Idempotent."""
        ...
