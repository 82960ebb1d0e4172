"""Pieces every bus adapter shares: the wire codec and the subscription lifecycle."""

from __future__ import annotations

import enum
import json
from abc import ABC, abstractmethod
from typing import Any, Self

from argus.domain.errors import BusError
from argus.domain.events import Envelope
from argus.ports.bus import Delivery

__all__ = ["BusState", "SubscriptionBase", "decode_envelope", "encode_envelope"]


class BusState(enum.Enum):
    """Lifecycle of a bus or a subscription; use after close is caught against it."""

    OPEN = "open"
    CLOSED = "closed"


def encode_envelope(envelope: Envelope) -> bytes:
    """Serialise an envelope as compact UTF-8 JSON (the wire format on every broker).

    Raises:
        BusError: The payload is not JSON-serialisable.
    """
    try:
        return json.dumps(envelope.to_dict(), separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise BusError(f"event {envelope.event_id} cannot be serialised: {exc}") from exc


def decode_envelope(data: bytes | str) -> Envelope:
    """Parse what ``encode_envelope`` wrote.

    Raises:
        BusError: The data is not a valid envelope.
    """
    try:
        raw: Any = json.loads(data)
        if not isinstance(raw, dict):
            raise TypeError(f"expected a JSON object, got {type(raw).__name__}")
        return Envelope.from_dict(raw)
    except (TypeError, ValueError, KeyError) as exc:
        raise BusError(f"malformed envelope on the bus: {exc}") from exc


class SubscriptionBase(ABC):
    """Lifecycle shared by adapter subscriptions: iteration, context manager, close."""

    def __init__(self) -> None:
        self._state = BusState.OPEN

    def is_closed(self) -> bool:
        """Whether ``close`` was called (on the subscription or its bus).

        A method, not a property: another task may close the subscription
        while this one awaits, and a type checker must not assume it unchanged.
        """
        return self._state is BusState.CLOSED

    def __aiter__(self) -> Self:
        return self

    @abstractmethod
    async def __anext__(self) -> Delivery:
        """Wait for the next delivery; ``StopAsyncIteration`` once closed."""

    async def close(self) -> None:
        """Stop receiving and release broker resources. Idempotent."""
        if self._state is BusState.CLOSED:
            return
        self._state = BusState.CLOSED
        await self._release()

    @abstractmethod
    async def _release(self) -> None:
        """Give back what the subscription holds; called once."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
