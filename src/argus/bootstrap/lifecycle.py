"""``Lifecycle``: a running system's parts, started in a declared order and stopped in reverse.

A part is either a resource that is *opened* (the adapters, the evidence
store, the capacity store: ``open`` awaits it and keeps its ``close``) or a
component that is *started* (consumers, hubs, sweeps: ``add`` declares its
``Step``, a start and a stop, and ``start`` runs the starts in order). On exit, or when an
opening or a start fails, every part opened or started so far is stopped in
reverse order, each even if another's stop fails; the first error is raised
once all have run. How one component runs its background tasks is
``argus.services.background.TaskGroup``'s business; the order is this one's.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self, TypeVar

__all__ = ["Action", "Lifecycle", "Step"]

log = logging.getLogger(__name__)

T = TypeVar("T")

Action = Callable[[], Awaitable[None] | None]
"""Starts or stops a part: a plain or a coroutine function of no arguments."""


@dataclass(frozen=True, slots=True)
class Step:
    """One part of a running system.

    Attributes:
        name: What it is, for the log.
        start: Starts it; ``None`` when there is nothing to start (already open).
        stop: Stops or closes it; ``None`` when there is nothing to stop.
    """

    name: str
    start: Action | None = None
    stop: Action | None = None


async def _run(action: Action) -> None:
    outcome = action()
    if inspect.isawaitable(outcome):
        await outcome


class Lifecycle:
    """Opens and starts parts in order; stops those that opened or started in reverse.

    Use it as an async context manager: ``open`` resources and ``add``
    components inside the block, then ``start``; leaving the block stops
    everything (also when the block raises).
    """

    def __init__(self) -> None:
        self._declared: list[Step] = []
        self._running: list[Step] = []

    async def open(
        self, name: str, opening: Awaitable[T], close: Callable[[T], Awaitable[None] | None]
    ) -> T:
        """Await a resource's opening and keep its ``close`` for the stop.

        Args:
            name: What the resource is, for the log.
            opening: Opens it (a coroutine such as ``open_adapters(settings)``).
            close: Closes the open resource (called with it), e.g. ``Adapters.close``.

        Returns:
            The open resource.
        """
        resource = await opening
        self._running.append(Step(name, stop=functools.partial(close, resource)))
        return resource

    def add(self, *steps: Step) -> None:
        """Declare components, started by ``start()`` in order after those declared before."""
        self._declared.extend(steps)

    async def start(self) -> None:
        """Start the declared components in order (those not started yet).

        Raises:
            Exception: What a start raised; the parts already running are then
                stopped in reverse before it propagates (a failed stop is logged).
        """
        declared, self._declared = self._declared, []
        try:
            for step in declared:
                if step.start is not None:
                    await _run(step.start)
                self._running.append(step)
        except BaseException as failed:
            try:
                await self.stop()
            except BaseException:  # the failed start is the error to report
                log.exception("stopping after %r failed to start failed too", step.name)
            raise failed

    async def stop(self) -> None:
        """Stop every running part in reverse order, each even if another's stop fails.

        Raises:
            Exception: The first error a stop raised, once every stop has run.
        """
        running, self._running = self._running, []
        first: BaseException | None = None
        for step in reversed(running):
            if step.stop is None:
                continue
            try:
                await _run(step.stop)
            except BaseException as exc:  # every part is stopped; the first error is raised
                log.debug("stopping %s failed", step.name, exc_info=True)
                first = first if first is not None else exc
        if first is not None:
            raise first

    @property
    def running(self) -> tuple[str, ...]:
        """The names of the parts opened or started and not stopped, in order."""
        return tuple(step.name for step in self._running)

    async def __aenter__(self) -> Self:
        """Enter the block; nothing runs yet."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop everything running, in reverse order."""
        await self.stop()
