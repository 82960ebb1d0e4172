"""Settings turned into the policies and configurations the services take.

Each function maps one group of settings onto one value object; none opens
anything except the evidence keys, which are read from the environment or
the data directory.
"""

from __future__ import annotations

from argus.bootstrap.adapters import installation_secret
from argus.config import Settings
from argus.domain.alerts import EscalationPolicy, RiskPolicy, Severity
from argus.domain.capacity import CapacityLimits
from argus.domain.verification import VerificationPolicy
from argus.ports.evidence import BundleSigner, EvidenceKeyring
from argus.services.verify_hub import HubConfig

__all__ = [
    "escalation_policy",
    "evidence_keyring",
    "evidence_signer",
    "hub_config",
    "risk_policy",
]


def escalation_policy(settings: Settings) -> EscalationPolicy:
    """The acknowledgement deadlines of the settings; repeats come at twice the deadline."""
    deadlines: dict[Severity, float] = {
        "high": settings.ack_deadline_high_s,
        "medium": settings.ack_deadline_medium_s,
        "low": settings.ack_deadline_low_s,
    }
    return EscalationPolicy(
        ack_deadlines=deadlines,
        repeat_seconds={severity: 2 * seconds for severity, seconds in deadlines.items()},
        max_escalations=settings.escalation_max,
    )


def risk_policy(settings: Settings) -> RiskPolicy:
    """The risk weights, with the night hours and time zone of the settings."""
    return RiskPolicy(
        night_start=settings.risk_night_start,
        night_end=settings.risk_night_end,
        timezone=settings.risk_timezone,
    )


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


def evidence_keyring(settings: Settings) -> EvidenceKeyring:
    """Master keys from ``ARGUS_EVIDENCE_MASTER_KEYS``, else ``data_dir/evidence-keys.json``.

    Raises:
        ConfigError: The keys or the key file are invalid.
    """
    from argus.adapters.evidence.crypto import load_keyring

    configured = settings.evidence_master_keys
    return load_keyring(
        configured.get_secret_value() if configured is not None else None, settings.data_dir
    )


def evidence_signer(settings: Settings, secret: bytes | None = None) -> BundleSigner:
    """The Ed25519 bundle signer derived from the installation secret.

    Args:
        settings: Where the secret comes from when ``secret`` is not given.
        secret: The installation secret (``Adapters.secret``), if at hand.
    """
    from argus.adapters.evidence.signing import Ed25519Signer

    return Ed25519Signer.from_secret(
        secret if secret is not None else installation_secret(settings)
    )
