"""``Reply``: a message an entry point built in answer to a client's own request.

Live and verify sessions queue their services' typed updates for a socket
writer; the entry point's replies to the client (a ``pong``, an error about
its message) go through the same queue, so the client gets everything in the
order it happened. Services only queue replies, never read them.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Reply"]


class Reply(Protocol):
    """A message the entry point built (the services only queue it)."""

    @property
    def type(self) -> str:
        """The message's type."""
        ...
