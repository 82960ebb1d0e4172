"""Settings turned into the policies and configurations the services take.

Each function maps one group of settings onto one value object; none opens
anything except the evidence keys, which are read from the environment or
the data directory.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from argus.bootstrap.adapters import installation_secret
from argus.config import Settings
from argus.domain.alerts import EscalationPolicy, RiskPolicy, Severity
from argus.domain.capacity import CapacityLimits
from argus.domain.errors import ValidationError
from argus.domain.site import Site, valid_timezone
from argus.domain.verification import VerificationPolicy
from argus.ports.evidence import BundleSigner, EvidenceKeyring
from argus.services.verify_hub import HubConfig

__all__ = [
    "escalation_policy",
    "evidence_keyring",
    "evidence_signer",
    "hub_config",
    "local_timezone",
    "risk_policy",
    "site_defaults",
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
    """The default risk policy: night hours of the settings, judged in the site's zone.

    The policy stored with ``PUT /api/v1/risk-policy`` (``RiskPolicyService``)
    starts from this one and wins over it.
    """
    return RiskPolicy(
        night_start=settings.risk_night_start,
        night_end=settings.risk_night_end,
        timezone=settings.risk_timezone,
        site_timezone=site_defaults(settings).timezone,
    )


def site_defaults(settings: Settings) -> Site:
    """The site before one is stored: ``ARGUS_SITE_TIMEZONE``, else this machine's zone."""
    return Site(settings.site_timezone or local_timezone())


def local_timezone(
    environ: Mapping[str, str] | None = None,
    *,
    timezone_file: Path = Path("/etc/timezone"),
    localtime: Path = Path("/etc/localtime"),
) -> str:
    """This machine's IANA time zone name: ``TZ``, ``/etc/timezone``, the ``/etc/localtime`` link.

    Each source is used only if it names a zone ``zoneinfo`` knows; UTC when
    none does (a container without time zone configuration).
    """
    env = os.environ if environ is None else environ
    candidates: list[str] = []
    if env.get("TZ"):
        candidates.append(env["TZ"].removeprefix(":"))
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append(timezone_file.read_text(encoding="utf-8").strip())
    try:
        target = str(localtime.resolve(strict=True)) if localtime.is_symlink() else ""
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        candidates.append(target.rsplit("zoneinfo/", 1)[1].removeprefix("posix/"))
    for name in candidates:
        try:
            return valid_timezone(name, "local time zone")
        except ValidationError:
            continue
    return "UTC"


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
