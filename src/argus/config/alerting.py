"""Settings of evidence capture and alert handling: queues, keys, deadlines, risk."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["AlertingSettings"]


class AlertingSettings(BaseSettings):
    """Evidence capture and retention, acknowledgement deadlines and the night risk factor."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    evidence_queue: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description="Alerts waiting for evidence capture (ARGUS_EVIDENCE_QUEUE); when full, the "
        "lowest-severity waiting alert (the oldest of them) is shed and its evidence gap recorded.",
    )
    evidence_captures: int = Field(
        default=4, ge=1, le=64, description="Evidence captures in flight at once."
    )
    evidence_url: str | None = Field(
        default=None,
        description="Where evidence objects go (ARGUS_EVIDENCE_URL): a directory path or "
        "file:///path, or s3://bucket/prefix for S3-compatible storage (endpoint from "
        "ARGUS_S3_ENDPOINT_URL, credentials from the usual AWS_* variables); default: "
        "data_dir/evidence.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible server (MinIO, SeaweedFS, Ceph); unset = AWS.",
    )
    evidence_master_keys: SecretStr | None = Field(
        default=None,
        description="Evidence master keys (ARGUS_EVIDENCE_MASTER_KEYS): 'kid:base64-32-bytes' "
        "separated by commas, the last one current. When unset, keys live in "
        "data_dir/evidence-keys.json (created on first use; rotate with "
        "'argus evidence rotate-key').",
    )
    evidence_pre_roll_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of video kept before an alert's event."
    )
    evidence_post_roll_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of video kept after an alert's event."
    )
    evidence_retention_days: float = Field(
        default=30.0,
        gt=0,
        le=36_500,
        description="Days evidence is kept; locked evidence is kept until unlocked.",
    )

    ack_deadline_high_s: float = Field(
        default=60.0, gt=0, le=86_400, description="Seconds to acknowledge a high alert."
    )
    ack_deadline_medium_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Seconds to acknowledge a medium alert."
    )
    ack_deadline_low_s: float = Field(
        default=900.0, gt=0, le=86_400, description="Seconds to acknowledge a low alert."
    )
    escalation_max: int = Field(
        default=3, ge=1, le=100, description="Escalations of one alert before it stops repeating."
    )
    escalation_tick_s: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between sweeps for overdue alerts."
    )
    alert_group_window_s: float = Field(
        default=600.0,
        ge=0,
        le=86_400,
        description="Seconds within which alerts of one rule, camera and line or zone join one "
        "alert group (ARGUS_ALERT_GROUP_WINDOW_S): repeats are counted on the group and do not "
        "notify or escalate again unless their severity rises. 0 turns grouping off.",
    )
    risk_night_start: int = Field(
        default=22,
        ge=0,
        le=23,
        description="Default hour (0-23, local time of the camera) the night starts "
        "(ARGUS_RISK_NIGHT_START): an alert raised at night gets the full time-of-day risk. "
        "Equal start and end hours mean no night hours. The risk policy stored with "
        "PUT /api/v1/risk-policy wins over it.",
    )
    risk_night_end: int = Field(
        default=6,
        ge=0,
        le=23,
        description="Default hour (0-23, local time) the night ends (ARGUS_RISK_NIGHT_END).",
    )
    risk_timezone: str | None = Field(
        default=None,
        description="One IANA time zone for the night hours of every camera "
        "(ARGUS_RISK_TIMEZONE), e.g. Europe/Berlin; unset: each camera's zone, else the "
        "site's (ARGUS_SITE_TIMEZONE).",
    )
    site_timezone: str | None = Field(
        default=None,
        description="IANA time zone of the site (ARGUS_SITE_TIMEZONE): local time of night "
        "hours, schedules and quiet hours; unset: this machine's zone (TZ, /etc/timezone, "
        "/etc/localtime), UTC when it cannot be told. PUT /api/v1/site wins over it.",
    )

    @field_validator("risk_timezone", "site_timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value
