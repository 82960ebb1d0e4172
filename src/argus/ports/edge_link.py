"""The edge node's link to the control plane: register, fetch its config, sync its outbox.

An adapter translates every transport failure into one of two errors, so the
syncer needs to know only these::

    ArgusError
    ├── LinkDown            no answer that counts: network error, timeout, 5xx, 429
    │                       (``retry_after`` when the server said how long to wait)
    └── LinkUnauthorized    401 / 403: the key was revoked, or the node id is
                            bound to another key. Retrying will not help until
                            an operator acts; the node keeps buffering meanwhile.

A 4xx other than these (a request the server cannot read) is a bug on one side
and raises ``ValidationError``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from argus.domain.edge import (
    EdgeConfig,
    NodeRegistration,
    RegistrationReply,
    SyncBatch,
    SyncReply,
)
from argus.domain.errors import ArgusError

__all__ = ["EdgeLink", "LinkDown", "LinkUnauthorized"]


class LinkDown(ArgusError):  # noqa: N818 - the name every edge module uses
    """The control plane could not be reached or did not answer usefully.

    Args:
        message: What failed (which URL, which error).
        retry_after: Seconds the server asked to wait (a 429 or 503 with
            ``Retry-After``), else ``None``.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LinkUnauthorized(ArgusError):  # noqa: N818 - as above
    """The control plane refused the node's key (401) or its node id (403).

    Args:
        message: What the server said.
        status: The HTTP status (401 or 403).
    """

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@runtime_checkable
class EdgeLink(Protocol):
    """Requests from a node to the control plane (one implementation per transport)."""

    async def register(self, reg: NodeRegistration) -> RegistrationReply:
        """Announce the node (idempotent); the reply carries its evidence key.

        Raises:
            LinkDown: No useful answer.
            LinkUnauthorized: The key or node id was refused.
        """
        ...

    async def fetch_config(self, node_id: str, after: str | None, wait_s: float) -> EdgeConfig:
        """The node's config; with ``after`` equal to the current revision, wait up
        to ``wait_s`` for a change (then return the current one).

        Raises:
            LinkDown: No useful answer.
            LinkUnauthorized: The key or node id was refused.
        """
        ...

    async def sync(self, batch: SyncBatch) -> SyncReply:
        """Send a batch; the reply has one result per item, in the same order.

        Raises:
            LinkDown: No useful answer (nothing is known to be stored).
            LinkUnauthorized: The key or node id was refused.
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
