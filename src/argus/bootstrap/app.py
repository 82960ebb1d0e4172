"""The control plane's app: the API over services built here, run by a ``Lifecycle``.

``build_app(settings)`` is what ``argus serve`` runs. Its lifespan opens the
adapters (``open_adapters`` with the embedded edge worker unless a test hands
another opener), the evidence store and the capacity store, builds every
service once (``build_control_plane``), starts them in their declared order,
and hands the API its ``Runtime``; on shutdown, or when a start fails,
everything stops in reverse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from argus.api.app import create_app
from argus.api.deps import Runtime, RuntimeFactory
from argus.api.metrics import ApiMetrics
from argus.bootstrap.adapters import Adapters, AdaptersOpener, open_adapters, open_capacity_store
from argus.bootstrap.evidence import open_evidence_service
from argus.bootstrap.lifecycle import Lifecycle
from argus.bootstrap.services import build_control_plane
from argus.config import Settings
from argus.ports.workstations import CapacityStore
from argus.services.evidence import EvidenceService

__all__ = ["build_app", "open_with_edge_worker", "runtime_factory"]


async def open_with_edge_worker(settings: Settings) -> Adapters:
    """The adapters of ``argus serve``: the embedded edge worker runs the cameras."""
    from argus.bootstrap.edge import edge_pipelines

    return await open_adapters(settings, pipelines=edge_pipelines)


async def _close_capacity(store: CapacityStore) -> None:
    await store.close()


def runtime_factory(settings: Settings, opener: AdaptersOpener) -> RuntimeFactory:
    """The app's ``RuntimeFactory``: the control plane over the adapters ``opener`` opens.

    Args:
        settings: The settings, loaded once by the entry point.
        opener: Opens the database, bus and pipelines.
    """

    @asynccontextmanager
    async def run(metrics: ApiMetrics) -> AsyncIterator[Runtime]:
        async with Lifecycle() as lifecycle:
            adapters = await lifecycle.open("adapters", opener(settings), Adapters.close)
            evidence = await lifecycle.open(
                "evidence store",
                open_evidence_service(
                    settings,
                    adapters.database.evidence,
                    adapters.database.audit,
                    secret=adapters.secret,
                ),
                EvidenceService.close,
            )
            capacity = await lifecycle.open(
                "capacity store",
                open_capacity_store(settings, adapters.database),
                _close_capacity,
            )
            plane = build_control_plane(
                settings, adapters, metrics, evidence=evidence, capacity=capacity
            )
            lifecycle.add(*plane.steps())
            await lifecycle.start()
            yield plane.runtime

    return run


def build_app(settings: Settings, *, open_adapters: AdaptersOpener | None = None) -> FastAPI:
    """The control plane's FastAPI app; its services open when the server starts it.

    Args:
        settings: The settings, loaded once by the entry point.
        open_adapters: Opens the database, bus and pipelines; defaults to
            ``open_with_edge_worker`` (SQLite file, in-process bus, the
            embedded edge worker running the cameras).
    """
    opener = open_adapters if open_adapters is not None else open_with_edge_worker
    return create_app(settings, runtime_factory(settings, opener))
