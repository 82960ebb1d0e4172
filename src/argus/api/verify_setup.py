"""Starting workstation security on the app's open adapters (``/ws/verify`` and its admin API).

Kept apart from ``app`` so that the app factory stays a list of steps: this
module maps the settings onto the hub's configuration and opens the shared
capacity store (the database, or Redis when ``workstation_redis_url`` is set).
"""

from __future__ import annotations

import contextlib
from functools import partial

from argus.bootstrap import (
    ControlPlane,
    enrolment_models,
    image_decoder,
    open_capacity_store,
    verification_models,
)
from argus.config import Settings
from argus.domain.capacity import CapacityLimits
from argus.domain.verification import VerificationPolicy
from argus.services.evidence import EvidenceService
from argus.services.verify_decisions import DecisionRecorder
from argus.services.verify_hub import HubConfig, VerifyHub
from argus.services.workstations import WorkstationService

__all__ = ["ENROLMENT_MAX_PIXELS", "hub_config", "start_workstations"]

ENROLMENT_MAX_PIXELS = 6000 * 6000
"""Largest enrolment photo in pixels (camera photos are large; frames are not)."""


def hub_config(settings: Settings) -> HubConfig:
    """The verify hub's limits, decision policy and frame limits from the settings."""
    return HubConfig(
        limits=CapacityLimits(
            max_clients_per_pipeline=settings.workstation_clients_per_pipeline,
            max_pipelines=settings.workstation_max_pipelines,
            max_queue=settings.workstation_max_queue,
            idle_seconds=settings.workstation_idle_s,
        ),
        policy=VerificationPolicy(
            no_face_seconds=settings.workstation_no_face_s,
            match_threshold=settings.workstation_match_threshold,
            wrong_user_frames=settings.workstation_wrong_user_frames,
            spoof_windows=settings.workstation_spoof_windows,
            violations_to_block=settings.workstation_violations_to_block,
            violation_seconds=settings.workstation_violation_window_s,
        ),
        frame_queue=settings.workstation_frame_queue,
        max_frame_bytes=settings.workstation_max_frame_bytes,
        lease_seconds=settings.workstation_lease_s,
        evidence_repeat_seconds=settings.workstation_evidence_repeat_s,
    )


async def start_workstations(
    settings: Settings,
    services: ControlPlane,
    evidence: EvidenceService,
    stack: contextlib.AsyncExitStack,
) -> tuple[WorkstationService, VerifyHub]:
    """The registry and the running hub; their stops go on ``stack``.

    Models are not loaded here: each pipeline loads its own on its first frame,
    and enrolment loads the face models on its first upload.
    """
    database = services.database
    registry = WorkstationService(
        database,
        database.audit,
        partial(enrolment_models, settings),
        image_decoder(ENROLMENT_MAX_PIXELS),
    )
    capacity = await open_capacity_store(settings, database)
    stack.push_async_callback(capacity.close)
    hub = VerifyHub(
        registry,
        database,
        capacity,
        recorder=DecisionRecorder(database, evidence, database.audit),
        models=partial(verification_models, settings),
        decode=image_decoder(settings.workstation_max_frame_pixels),
        config=hub_config(settings),
        node_id=services.node_id,
    )
    hub.start()
    stack.push_async_callback(hub.stop)
    return registry, hub
