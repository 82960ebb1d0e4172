"""The SQL schema as SQLAlchemy Core tables (the migrations create exactly this).

A contract test compares this metadata with a freshly migrated database, so a
change here without a migration (or the reverse) fails the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

__all__ = [
    "JSON_TYPE",
    "UtcDateTime",
    "alerts",
    "api_keys",
    "audit_log",
    "cameras",
    "capacity_state",
    "event_rollups",
    "events",
    "evidence",
    "face_embeddings",
    "face_subjects",
    "incidents",
    "lines",
    "metadata",
    "refresh_tokens",
    "revoked_sessions",
    "rules",
    "system_settings",
    "users",
    "verify_clients",
    "verify_decisions",
    "zones",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL (indexable, compact)."""


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are
    stored as naive UTC (which also keeps its text ordering chronological) and
    get their UTC zone back on load. Naive datetimes are refused.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetimes cannot be stored; use UTC-aware ones")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self,
        value: Any,
        dialect: Dialect,  # noqa: ARG002 (the TypeDecorator signature)
    ) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


cameras = sa.Table(
    "cameras",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("location", sa.String(200), nullable=False),
    sa.Column("stream_url", sa.String(2048), nullable=False),
    sa.Column("credentials", sa.LargeBinary(), nullable=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("detect_fps", sa.Float(), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # The edge node that runs it; NULL: the embedded worker (no foreign key: a camera
    # may be assigned before its node first registers).
    sa.Column("edge_node_id", sa.String(64), nullable=True),
    # A low-resolution stream for detection (a sub-stream); NULL: detect on stream_url.
    sa.Column("detect_stream_url", sa.String(2048), nullable=True),
    # Whether continuous recording covers the camera when the server records.
    sa.Column("record", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Index(None, "created_at", "id"),
    sa.Index(None, "edge_node_id"),
)

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "camera_id",
        sa.String(64),
        sa.ForeignKey("cameras.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("geometry", JSON_TYPE, nullable=False),
    sa.Column("settings", JSON_TYPE, nullable=False),
    sa.UniqueConstraint("camera_id", "name"),
)

zones = sa.Table(
    "zones",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "camera_id",
        sa.String(64),
        sa.ForeignKey("cameras.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("geometry", JSON_TYPE, nullable=False),
    sa.Column("settings", JSON_TYPE, nullable=False),
    sa.UniqueConstraint("camera_id", "name"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", sa.String(26), primary_key=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("timestamp", UtcDateTime(), nullable=False),
    # No foreign key: events outlive cameras, and edge nodes may report unknown ones.
    sa.Column("camera_id", sa.String(200), nullable=False),
    sa.Column("edge_node_id", sa.String(200), nullable=False),
    sa.Column("class_name", sa.String(200), nullable=True),
    sa.Column("track_id", sa.BigInteger(), nullable=True),
    sa.Column("payload", JSON_TYPE, nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Index(None, "timestamp", "event_id"),
    sa.Index(None, "camera_id", "timestamp"),
    sa.Index(None, "type", "timestamp"),
    sa.Index(None, "class_name", "timestamp"),
)

# Counts of line.crossed / zone.entered events per group and UTC unit (day, hour, quarter,
# minute), kept in the event insert's transaction (see adapters/db/rollups_sql.py). The group's
# names come from edge payloads of any length, so rows are keyed by a digest of the group. Only
# the primary key is indexed (queries read ranges of it): every index costs each event insert.
event_rollups = sa.Table(
    "event_rollups",
    metadata,
    sa.Column("grain", sa.String(8), primary_key=True),
    sa.Column("bucket", UtcDateTime(), primary_key=True),
    sa.Column("group_key", sa.String(64), primary_key=True),
    sa.Column("camera_id", sa.String(200), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("class_name", sa.Text(), nullable=False),
    sa.Column("total", sa.BigInteger(), nullable=False),
)

# --- alerting: rules, alerts, incidents -------------------------------------------------------
# No foreign keys here: a rule names a camera only to filter events (a rule of a deleted
# camera never matches again, like an event of an unknown camera), and alerts and incidents
# are a record that outlives their rule and camera. The service layer checks references.

rules = sa.Table(
    "rules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("definition", JSON_TYPE, nullable=False),  # Rule.to_dict()
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("rule_id", sa.String(200), nullable=False),
    sa.Column("camera_id", sa.String(200), nullable=False),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("risk_score", sa.Float(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("ack_deadline", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # Alert.to_dict()
    sa.UniqueConstraint("rule_id", "event_id"),
    sa.Index(None, "created_at", "id"),
    sa.Index(None, "camera_id", "created_at"),
    sa.Index(None, "state", "ack_deadline"),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("camera_id", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # Incident.to_dict()
    sa.Index(None, "created_at", "id"),
)

# --- security: users, tokens, API keys, settings, audit chain, evidence -----------------------
# Rows whose shape is a domain object keep it whole in ``body`` (like alerts); the columns
# beside it are what queries filter, sort or must keep unique.

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # User.to_dict()
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("family_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Index(None, "family_id"),
    sa.Index(None, "user_id"),
)

revoked_sessions = sa.Table(
    "revoked_sessions",
    metadata,
    # The revocation set every server checks on every request: one primary-key lookup.
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.Column("body", JSON_TYPE, nullable=False),  # ApiKey.to_dict()
)

system_settings = sa.Table(
    "system_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", JSON_TYPE, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(300), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("ip", sa.String(64), nullable=True),
    sa.Column("details", JSON_TYPE, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index(None, "action", "at"),
    sa.Index(None, "target"),
)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("alert_id", sa.String(200), nullable=True),
    sa.Column("incident_id", sa.String(64), nullable=True),
    sa.Column("camera_id", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("locked", sa.Boolean(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # EvidenceItem.to_dict()
    sa.Index(None, "alert_id"),
    sa.Index(None, "incident_id"),
    sa.Index(None, "created_at", "id"),
)

# An alert whose evidence could not be captured (shed, no frames, a failed store): one per alert.
evidence_gaps = sa.Table(
    "evidence_gaps",
    metadata,
    sa.Column("alert_id", sa.String(200), primary_key=True),
    sa.Column("camera_id", sa.String(200), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # EvidenceGap.to_dict()
    sa.Index(None, "camera_id"),
    sa.Index(None, "at", "alert_id"),
)

# --- workstation security: face subjects, verify clients, decisions, shared capacity ----------
# Descriptors and face JPEGs (never photos) go with their subject; decisions (no FK) stay.

face_subjects = sa.Table(
    "face_subjects",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "created_at", "id"),
)

face_embeddings = sa.Table(
    "face_embeddings",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "subject_id",
        sa.String(64),
        sa.ForeignKey("face_subjects.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("vector", sa.LargeBinary(), nullable=False),  # little-endian float32
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("thumbnail", sa.LargeBinary(), nullable=True),  # JPEG of the enrolled face
    sa.Index(None, "subject_id"),
)

verify_clients = sa.Table(
    "verify_clients",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("subjects", JSON_TYPE, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("violations", sa.Integer(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen", UtcDateTime(), nullable=True),
    sa.Index(None, "created_at", "id"),
)

verify_decisions = sa.Table(
    "verify_decisions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(64), nullable=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("reasons", JSON_TYPE, nullable=False),
    sa.Column("scores", JSON_TYPE, nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("frame_seq", sa.Integer(), nullable=False),
    sa.Column("evidence_id", sa.String(64), nullable=True),
    sa.Index(None, "client_id", "at"),
    sa.Index(None, "at", "id"),
)

capacity_state = sa.Table(
    "capacity_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("state", JSON_TYPE, nullable=False),  # CapacityManager.to_dict() and leases
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# The edge, notification and alert-group tables join ``metadata`` here: one whole schema.
import argus.adapters.db.tables_edge  # noqa: E402
import argus.adapters.db.tables_examples  # noqa: E402
import argus.adapters.db.tables_groups  # noqa: E402
import argus.adapters.db.tables_notify  # noqa: E402
import argus.adapters.db.tables_search  # noqa: E402
import argus.adapters.db.tables_trials  # noqa: E402, F401
