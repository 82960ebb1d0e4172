"""Every service of the control plane, built once over open adapters, and the order they start.

``build_control_plane`` only constructs (nothing runs, nothing is opened);
``ControlPlane.steps`` declares the order its parts start in, which the app's
``Lifecycle`` follows, stopping them in reverse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from argus.adapters.crypto.seal import open_sealed
from argus.adapters.notify.destinations import DestinationPolicy
from argus.adapters.recording.erase import SegmentEraser
from argus.adapters.recording.store import FileRecordingStore
from argus.adapters.render.heatmap import heatmap_png
from argus.adapters.video._imaging import encode_jpeg
from argus.api.deps import Runtime
from argus.api.metrics import ApiMetrics
from argus.api.streams import StreamSlots
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.auth import build_auth_service
from argus.bootstrap.container import build_container
from argus.bootstrap.demo import register_demo_camera
from argus.bootstrap.first_admin import create_first_admin
from argus.bootstrap.learning import build_learning, learning_steps
from argus.bootstrap.lifecycle import Step
from argus.bootstrap.models import (
    ENROLMENT_MAX_PIXELS,
    enrolment_models,
    image_decoder,
    verification_models,
)
from argus.bootstrap.mqtt import build_mqtt_bridge
from argus.bootstrap.notify import NotifyDelivery, build_notify_delivery
from argus.bootstrap.policies import escalation_policy, hub_config, risk_policy, site_defaults
from argus.bootstrap.recording import RecordingRuntime, build_recording, hold_margin
from argus.bootstrap.retention import build_retention
from argus.bootstrap.search_items import search_erasure
from argus.bootstrap.sources import probe_opener, source_policy
from argus.config import Settings
from argus.domain.cameras import utc_now
from argus.domain.node_events import HealthLimits
from argus.ports.workstations import CapacityStore
from argus.services.alerting import AlertWorker
from argus.services.alerts import AlertService
from argus.services.analytics import AnalyticsService
from argus.services.cameras import CameraService, EventService
from argus.services.dwell_visits import DwellVisits
from argus.services.edge_evidence_intake import EdgeEvidenceIntake
from argus.services.edge_nodes import NodeService
from argus.services.edge_registry import EdgeRegistry
from argus.services.edge_sync_intake import EdgeSyncIntake
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EvidenceCapture
from argus.services.incident_evidence import IncidentEvidence
from argus.services.ingest import EventIngest
from argus.services.intake import EventIntake
from argus.services.live import LiveHub
from argus.services.local_health import LocalCameraWatch
from argus.services.mqtt_bridge import MqttBridge
from argus.services.node_watch import NodeWatch
from argus.services.notifier import Notifier
from argus.services.notify_config import NotifyConfigService
from argus.services.privacy import PrivacyService
from argus.services.ratelimit import RateLimiter
from argus.services.recording_erasure import RecordingErasure
from argus.services.recordings import RecordingService
from argus.services.recount_jobs import RecountService
from argus.services.retention import RetentionSweeper
from argus.services.risk_policy import RiskPolicyService
from argus.services.session_watch import SessionWatch
from argus.services.verify_decisions import DecisionRecorder
from argus.services.verify_hub import VerifyHub
from argus.services.workbudget import WorkBudget
from argus.services.workstations import WorkstationService

__all__ = ["ControlPlane", "build_control_plane"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ControlPlane:
    """The services of one control-plane process, built and not yet started.

    Attributes:
        settings: What they were built from.
        adapters: The open adapters they run on.
        runtime: What the API is handed.
        retention: The retention sweep of every kind of data (``POST /retention/sweep`` too).
        watch: The edge node offline watch and health retention sweep.
        local_health: Camera health events of the embedded worker's cameras.
        recording: Continuous recording: the segment index (always), the recorders and
            their retention sweep (with ``ARGUS_RECORDING``).
        mqtt: The MQTT state bridge (``ARGUS_MQTT_URL``), ``None`` when it is not set.
        notify: Notification delivery (the outbox dispatcher and its senders).
    """

    settings: Settings
    adapters: Adapters
    runtime: Runtime
    retention: RetentionSweeper
    watch: NodeWatch
    local_health: LocalCameraWatch
    recording: RecordingRuntime
    mqtt: MqttBridge | None = None
    notify: NotifyDelivery | None = None

    def steps(self) -> tuple[Step, ...]:
        """Its parts in the order they start (they stop in reverse)."""
        run, settings = self.runtime, self.settings
        demo = (Step("demo camera", start=self._register_demo),) if settings.demo else ()
        mqtt = () if self.mqtt is None else (Step("mqtt bridge", self.mqtt.start, self.mqtt.stop),)
        return (
            Step("camera metrics", start=self._bind_metrics, stop=self._unbind_metrics),
            Step("first admin", start=partial(create_first_admin, run.auth, settings)),
            Step("verify hub", start=run.verify.start, stop=run.verify.stop),
            *demo,
            *self.recording.steps(),
            Step("cameras", start=self._resume_cameras),
            Step("event ingest", start=run.ingest.start, stop=run.ingest.stop),
            *(
                ()
                if self.notify is None
                else (Step("notify dispatch", start=self.notify.start, stop=self.notify.stop),)
            ),
            Step("notifier", start=run.notifier.start, stop=run.notifier.stop),
            Step("alerting", start=run.alerting.start, stop=run.alerting.stop),
            Step("live hub", start=run.live.start, stop=run.live.stop),
            *mqtt,
            Step("session watch", start=run.sessions.start, stop=run.sessions.stop),
            Step("evidence capture", start=run.capture.start, stop=run.capture.stop),
            Step("recount jobs", start=run.recounts.start, stop=run.recounts.stop),
            *learning_steps(run.learning),
            *(
                (Step("retention sweep", start=self.retention.start, stop=self.retention.stop),)
                if settings.retention_sweep
                else ()
            ),
            *self.recording.sweep_steps(),
            Step("edge node watch", start=self.watch.start, stop=self.watch.stop),
            Step(
                "local camera health",
                start=self.local_health.start,
                stop=self.local_health.stop,
            ),
            Step("live video streams", stop=run.streams.close),
        )

    def _bind_metrics(self) -> None:
        self.runtime.metrics.pipelines = self.adapters.pipelines
        self.runtime.metrics.nodes = lambda: self.watch.snapshot
        self.runtime.metrics.workstations = self.runtime.verify.stats
        self.runtime.metrics.recording = self.recording
        # The shared inference schedulers' batch sizes, where the pipelines run them.
        self.runtime.metrics.inference = getattr(self.adapters.pipelines, "inference_stats", None)

    def _unbind_metrics(self) -> None:
        self.runtime.metrics.pipelines = None
        self.runtime.metrics.nodes = None
        self.runtime.metrics.workstations = None
        self.runtime.metrics.recording = None
        self.runtime.metrics.inference = None

    async def _register_demo(self) -> None:
        await register_demo_camera(self.adapters.database, build_container(self.settings))

    async def _resume_cameras(self) -> None:
        resumed = await self.runtime.cameras.resume()
        log.info("control plane ready: %d camera(s) resumed", resumed)


def _workstations(
    settings: Settings,
    adapters: Adapters,
    evidence: EvidenceService,
    capacity: CapacityStore,
) -> tuple[WorkstationService, VerifyHub]:
    """The workstation registry and the verify hub (``/ws/verify``).

    Models are not loaded here: each pipeline loads its own on its first frame,
    and enrolment loads the face models on its first upload.
    """
    database = adapters.database
    registry = WorkstationService(
        database,
        database.audit,
        partial(enrolment_models, settings),
        image_decoder(ENROLMENT_MAX_PIXELS),
        encode=encode_jpeg,
    )
    hub = VerifyHub(
        registry,
        database,
        capacity,
        recorder=DecisionRecorder(database, evidence, database.audit),
        models=partial(verification_models, settings),
        decode=image_decoder(settings.workstation_max_frame_pixels),
        config=hub_config(settings),
        node_id=adapters.node_id,
    )
    return registry, hub


@dataclass(frozen=True, slots=True)
class _Edge:
    """The control plane's side of edge nodes."""

    registry: EdgeRegistry
    evidence: EdgeEvidenceIntake
    sync: EdgeSyncIntake
    nodes: NodeService
    watch: NodeWatch
    local_health: LocalCameraWatch


def _edge(settings: Settings, adapters: Adapters, evidence: EvidenceService) -> _Edge:
    """Registration, configuration, sync, the offline watch and the node read side."""
    database, bus, subject = adapters.database, adapters.bus, adapters.events_subject
    registry = EdgeRegistry(
        database,
        health_interval_s=settings.edge_health_interval_s,
        pre_roll_s=settings.evidence_pre_roll_s,
        post_roll_s=settings.evidence_post_roll_s,
    )
    intake = EdgeEvidenceIntake(
        database, evidence, bus, open_sealed=open_sealed, node_id=adapters.node_id
    )
    watch = NodeWatch(
        database,
        bus,
        subject,
        interval_s=settings.edge_health_interval_s,
        retention_days=None,  # the retention sweep purges health by the editable policy
    )
    limits = HealthLimits(
        disk_low_bytes=settings.edge_disk_low_bytes,
        disk_low_ratio=settings.edge_disk_low_ratio,
        outbox_backlog_items=settings.edge_outbox_backlog_items,
        outbox_backlog_age_s=settings.edge_outbox_backlog_age_s,
        fps_low_ratio=settings.edge_fps_low_ratio,
        max_clock_skew_s=settings.edge_max_clock_skew_s,
    )
    sync = EdgeSyncIntake(
        database,
        bus,
        subject,
        registry,
        intake,
        limits=limits,
        on_report=watch.observe,
        payload_max_bytes=settings.event_payload_max_bytes,
    )
    local_health = LocalCameraWatch(
        database,
        bus,
        subject,
        adapters.pipelines.statuses,
        node_id=adapters.node_id,
        limits=limits,
        interval_s=settings.edge_health_interval_s,
    )
    return _Edge(registry, intake, sync, NodeService(database), watch, local_health)


def build_control_plane(
    settings: Settings,
    adapters: Adapters,
    metrics: ApiMetrics,
    *,
    evidence: EvidenceService,
    capacity: CapacityStore,
) -> ControlPlane:
    """Build every service of the control plane over open adapters; nothing starts yet.

    Args:
        settings: Policies, limits and timings.
        adapters: The store, bus and pipelines.
        metrics: The app's metrics, fed by the ingest and the alerting.
        evidence: The open evidence service (its blob store is open).
        capacity: The open workstation capacity store.
    """
    database, bus, subject = adapters.database, adapters.bus, adapters.events_subject
    ingest = EventIngest(
        bus,
        database.events,
        subject,
        on_stored=metrics.events_stored.inc,
        on_duplicate=metrics.event_duplicates.inc,
    )
    metrics.ingest_depth.set_function(lambda: ingest.depth)
    risk_policies = RiskPolicyService(
        database, defaults=risk_policy(settings), site_default=site_defaults(settings)
    )
    links = IncidentEvidence(database, evidence, utc_now)
    evidence.on_stored = links.on_stored
    alerts = AlertService(
        database,
        bus.publish,
        node_id=adapters.node_id,
        escalation=escalation_policy(settings),
        risk_source=risk_policies.current,
        group_window=timedelta(seconds=settings.alert_group_window_s),
        on_confirmed=links.on_confirmed,
    )
    sessions = SessionWatch(bus, adapters.node_id)
    workstations, verify = _workstations(settings, adapters, evidence, capacity)
    edge = _edge(settings, adapters, evidence)
    retention = build_retention(settings, database, evidence)
    delivery = build_notify_delivery(settings, adapters, evidence, metrics.notification_attempt)
    recording = build_recording(settings, database)
    runtime = Runtime(
        node_id=adapters.node_id,
        database=database,
        pipelines=adapters.pipelines,
        cameras=CameraService(
            database,
            recording.supervise(adapters.pipelines),
            open_probe=probe_opener(settings),
            encode_jpeg=encode_jpeg,
            check_source=source_policy(settings).check,
            remote_status=edge.nodes.camera_status,
        ),
        events=EventService(database),
        intake=EventIntake(
            database.events,
            bus,
            subject,
            cameras=database.cameras,
            payload_max_bytes=settings.event_payload_max_bytes,
            limit=RateLimiter(
                settings.ingest_events_per_s,
                settings.ingest_events_burst,
                what="events from this key",
            ),
        ),
        ingest=ingest,
        analytics=AnalyticsService(
            database.events,
            adapters.pipelines,
            heatmap_png,
            budget=WorkBudget(
                settings.analytics_queries_per_principal,
                settings.analytics_queries_total,
                what="analytics queries",
            ),
            visits=DwellVisits(database.events, database.zones),
        ),
        metrics=metrics,
        alerts=alerts,
        alerting=AlertWorker(
            alerts,
            bus,
            subject,
            escalation_tick=settings.escalation_tick_s,
            on_alert=metrics.alert_raised,
            on_raised=edge.evidence.attach,
        ),
        live=LiveHub(bus, adapters.pipelines),
        auth=build_auth_service(settings, database, adapters.secret, on_revoked=sessions.announce),
        audit=database.audit,
        user_limit=RateLimiter(
            settings.rate_limit_user_per_s,
            settings.rate_limit_user_burst,
            what="requests from this user or key",
        ),
        evidence=evidence,
        capture=EvidenceCapture(
            bus,
            adapters.pipelines,
            evidence,
            pre_s=settings.evidence_pre_roll_s,
            post_s=settings.evidence_post_roll_s,
            node_id=adapters.node_id,
            max_concurrent=settings.evidence_captures,
            max_queue=settings.evidence_queue,
        ),
        workstations=workstations,
        verify=verify,
        streams=StreamSlots(per_principal=settings.streams_per_principal, sessions=sessions),
        sessions=sessions,
        edge=edge.registry,
        edge_sync=edge.sync,
        nodes=edge.nodes,
        privacy=PrivacyService(
            database,
            evidence,
            workstations,
            search=search_erasure(database),
            recordings=RecordingErasure(
                SegmentEraser(recording.index),
                database,
                hold_margin=hold_margin(settings),
            ),
        ),
        risk_policy=risk_policies,
        notifier=Notifier(
            database,
            bus,
            node_id=adapters.node_id,
            base_url=settings.public_url,
            site=risk_policies.site,
            on_enqueued=delivery.dispatcher.wake,
        ),
        retention=retention,
        notify_config=NotifyConfigService(
            database,
            utc_now,
            check_destination=DestinationPolicy.of(settings.notify_allowed_networks).check_channel,
        ),
        dispatcher=delivery.dispatcher,
        snapshot_links=delivery.links,
        recounts=RecountService(database, utc_now),
        learning=build_learning(
            settings, adapters, evidence=evidence, alerts=alerts, risk_policies=risk_policies
        ),
        recordings=RecordingService(
            database, FileRecordingStore(recording.index), evidence, monitor=recording
        ),
        recording=recording,
    )
    return ControlPlane(
        settings,
        adapters,
        runtime,
        retention.sweeper,
        edge.watch,
        edge.local_health,
        recording,
        build_mqtt_bridge(settings, adapters),
        delivery,
    )
