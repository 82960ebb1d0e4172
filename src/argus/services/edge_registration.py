"""``Registrar``: an edge node's registration, retried until it succeeds, and cached.

A node registers at every start (its version, models and capabilities may
have changed). The reply carries the node's evidence key, which the node
needs to seal evidence; it is cached (sealed, by the adapter behind
``ConfigCache``), so a node that restarts while its control plane is
unreachable still has its key and starts at once. A node that has never
registered keeps retrying with backoff; what it produces meanwhile waits in
the outbox (its syncer starts only once the node is known to the server, so
nothing is refused for coming from an unknown node).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from argus.domain.backoff import Backoff, BackoffPolicy
from argus.domain.edge import NodeRegistration, RegistrationReply
from argus.domain.errors import ArgusError, ValidationError
from argus.ports.edge_link import EdgeLink, LinkDown, LinkUnauthorized
from argus.services.background import TaskGroup
from argus.services.edge_config import ConfigCache

__all__ = ["Registrar"]

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

_RETRY = BackoffPolicy(initial=1.0, max_delay=30.0)
_UNAUTHORIZED_DELAY_S = 60.0


class Registrar:
    """Registers the node (in the background, until it succeeds) and keeps the reply.

    Args:
        link: The link to the control plane.
        cache: Where the reply is kept between runs.
        registration: What the node announces.
        on_registered: Called with the reply once known (the cached one at
            ``load_cached``, then the server's); on the event loop.
        retry: Backoff between failed attempts.
        sleep: Waits between attempts (injected in tests).
    """

    def __init__(
        self,
        link: EdgeLink,
        cache: ConfigCache,
        registration: NodeRegistration,
        *,
        on_registered: Callable[[RegistrationReply], None],
        retry: BackoffPolicy = _RETRY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._link = link
        self._cache = cache
        self._registration = registration
        self._on_registered = on_registered
        self._backoff = Backoff(retry)
        self._sleep = sleep
        self._tasks = TaskGroup()
        self.reply: RegistrationReply | None = None
        """The latest reply (cached or fresh); ``None`` before any."""
        self.registered = False
        """Whether the server accepted the registration in this run."""
        self.last_error: str | None = None
        """Why the last attempt failed, ``None`` after a success."""

    @property
    def key(self) -> bytes | None:
        """The node's evidence key, once known."""
        return None if self.reply is None else self.reply.key_bytes()

    async def load_cached(self) -> RegistrationReply | None:
        """Take the cached reply of this node, if there is one (and tell ``on_registered``)."""
        raw = await asyncio.to_thread(self._cache.load)
        if raw is None:
            return None
        try:
            reply = RegistrationReply.from_dict(json.loads(raw))
        except (ValueError, ValidationError):
            log.warning("the cached registration does not parse; ignored")
            return None
        if reply.node_id != self._registration.node_id:
            log.warning("the cached registration is node %s's; ignored", reply.node_id)
            return None
        self._accept(reply)
        return reply

    async def register_once(self) -> RegistrationReply:
        """Register once; cache and accept the reply.

        Raises:
            LinkDown: The control plane is unreachable.
            LinkUnauthorized: The key or node id was refused.
        """
        reply = await self._link.register(self._registration)
        data = json.dumps(reply.to_dict(), separators=(",", ":")).encode()
        try:
            await asyncio.to_thread(self._cache.save, data)
        except OSError:
            log.exception("could not cache the registration")
        self.registered = True
        self.last_error = None
        self._accept(reply)
        log.info("registered as node %s", reply.node_id)
        return reply

    def _accept(self, reply: RegistrationReply) -> None:
        self.reply = reply
        self._on_registered(reply)

    async def run(self) -> None:
        """Try to register until it succeeds (then return)."""
        while True:
            try:
                await self.register_once()
                return
            except LinkUnauthorized as exc:
                self.last_error = f"unauthorized: {exc}"
                log.error(
                    "the control plane refuses this node's registration (%s): check "
                    "ARGUS_EDGE_API_KEY (a key with the 'edge' permission) and that node id "
                    "%s is not another key's",
                    exc,
                    self._registration.node_id,
                )
                await self._sleep(_UNAUTHORIZED_DELAY_S)
            except LinkDown as exc:
                self.last_error = str(exc)
                delay = self._backoff.next_delay()
                log.warning("cannot register yet (%s); retrying in %.1f s", exc, delay)
                await self._sleep(delay)
            except ArgusError as exc:
                self.last_error = str(exc)
                log.error("registration failed: %s", exc)
                await self._sleep(self._backoff.next_delay())

    def start(self) -> None:
        """Register in the background."""
        self._tasks.start(("edge-register", self.run))

    async def stop(self) -> None:
        """Stop trying."""
        await self._tasks.stop()
