"""The catalogue of event types: every type that can reach the rules, and what clears what.

Rules match envelopes on the event subject; a rule may only name a type in
this catalogue (``check_event_types``), so a rule that could never fire is
refused instead of stored. The catalogue holds what the pipelines emit
(``argus.domain.event_payloads``), what the tamper monitor emits on a node,
and the health events the control plane derives from node reports. A type
with ``clears`` closes the open alerts of the type it names, for the same
source (``camera.online`` clears ``camera.offline``). ``GET /api/v1/event-types``
serves it.

Node-level events carry ``EventSource(node_id, camera_id=f"node:{node_id}")``.

Each type states its payload's schema (``argus.domain.payload_schema``), and
``check_event`` is what ingest runs on every posted event: a payload within
the size limit, of a catalogue type and matching its schema. Types outside
the catalogue are refused, except under ``custom.`` (``custom.door_opened``):
a site's own producers may post those with any JSON object as payload (size
limited). They are stored and listed, but no rule can name them, so they never
raise an alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

from argus.domain.errors import ValidationError
from argus.domain.event_payloads import (
    Crowding,
    HeatmapMinute,
    LineCrossed,
    Loitering,
    Running,
    TracksMinute,
    WrongWay,
    ZoneEntered,
    ZoneExited,
)
from argus.domain.heatmap_stats import HEATMAP_TYPE
from argus.domain.payload_schema import PayloadField, PayloadSchema, check_payload_size, schema_of
from argus.domain.tamper import TAMPER_KINDS

__all__ = [
    "CUSTOM_PREFIX",
    "EVENT_TYPES",
    "ORIGINS",
    "EventOrigin",
    "EventType",
    "check_event",
    "check_event_types",
    "clearing_types",
]

EventOrigin = Literal["pipeline", "node", "health"]
"""Who emits it: a camera pipeline, the node itself (tamper), or the health watch."""
ORIGINS: tuple[EventOrigin, ...] = get_args(EventOrigin)

CUSTOM_PREFIX = "custom."
"""Types under this prefix are a site's own: any JSON object payload, no rule matches them."""


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type of the catalogue.

    Attributes:
        name: The type, e.g. ``"camera.offline"``.
        description: What it means, for operators.
        origin: Who emits it.
        clears: The type whose open alerts this one clears, if any.
        payload: The schema its payload must match (``None``: not checked, for the
            types only the control plane makes).
    """

    name: str
    description: str
    origin: EventOrigin
    clears: str | None = None
    payload: PayloadSchema | None = None

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "name": self.name,
            "description": self.description,
            "origin": self.origin,
            "clears": self.clears,
            "payload": None if self.payload is None else self.payload.to_dict(),
        }


_TAMPER = PayloadSchema(
    (
        PayloadField("kind", "choice", choices=TAMPER_KINDS),
        PayloadField("score", "float", minimum=0.0, maximum=1.0),
        PayloadField("state", "choice", choices=("raised", "cleared")),
    )
)

_POINT = PayloadField("point", "point", required=False)
"""The object's foot point ``[x, y]`` in [0, 1] of the frame, which the pipeline puts on
tracked events (``argus.domain.exclusion_areas``); events written before it lack it."""


def _tracked(payload_class: type[object]) -> PayloadSchema:
    """The schema of a tracked event's payload class, with its optional ``point``."""
    schema = schema_of(payload_class)
    return PayloadSchema((*schema.fields, _POINT), schema.open)


_TYPES = (
    EventType(
        LineCrossed.type,
        "An object crossed a counting line.",
        "pipeline",
        payload=_tracked(LineCrossed),
    ),
    EventType(
        WrongWay.type,
        "An object crossed a line against its expected direction.",
        "pipeline",
        payload=_tracked(WrongWay),
    ),
    EventType(
        ZoneEntered.type, "An object entered a zone.", "pipeline", payload=_tracked(ZoneEntered)
    ),
    EventType(
        ZoneExited.type,
        "An object left a zone (with its dwell time).",
        "pipeline",
        payload=_tracked(ZoneExited),
    ),
    EventType(
        Loitering.type,
        "An object stayed in a zone longer than its loiter time.",
        "pipeline",
        payload=_tracked(Loitering),
    ),
    EventType(
        Crowding.type,
        "A zone's occupancy reached its crowd threshold.",
        "pipeline",
        payload=schema_of(Crowding),
    ),
    EventType(
        Running.type,
        "A tracked person moved at running speed.",
        "pipeline",
        payload=_tracked(Running),
    ),
    EventType(
        HEATMAP_TYPE,
        "A camera's per-minute occupancy heatmap (a summary).",
        "pipeline",
        payload=schema_of(HeatmapMinute),
    ),
    EventType(
        TracksMinute.type,
        "A camera's per-minute trajectory log: each track's anchor and height at up to "
        "5 Hz (a summary, read by re-count jobs).",
        "pipeline",
        payload=schema_of(TracksMinute),
    ),
    EventType(
        "camera.offline", "A camera's stream was lost or stopped delivering frames.", "health"
    ),
    EventType("camera.online", "A camera's stream is back.", "health", clears="camera.offline"),
    EventType("camera.fps_low", "A camera's analysed frame rate collapsed.", "health"),
    EventType(
        "camera.fps_recovered",
        "A camera's analysed frame rate recovered.",
        "health",
        clears="camera.fps_low",
    ),
    EventType(
        "camera.tamper",
        "A camera was covered, defocused, moved, frozen or shows black, white or noise "
        "frames (payload: kind, score, state).",
        "node",
        payload=_TAMPER,
    ),
    EventType(
        "camera.tamper_cleared",
        "A tampered camera's view returned to its baseline.",
        "node",
        clears="camera.tamper",
        payload=_TAMPER,
    ),
    EventType("node.offline", "An edge node sent no health report for three intervals.", "health"),
    EventType(
        "node.online", "An offline edge node reported again.", "health", clears="node.offline"
    ),
    EventType("node.disk_low", "An edge node's data disk is nearly full.", "health"),
    EventType(
        "node.disk_ok", "An edge node's data disk has room again.", "health", clears="node.disk_low"
    ),
    EventType(
        "node.outbox_backlog", "An edge node's outbox holds old or many unsent items.", "health"
    ),
    EventType(
        "node.outbox_drained",
        "An edge node's outbox backlog is gone.",
        "health",
        clears="node.outbox_backlog",
    ),
    EventType("node.clock_skew", "An edge node's clock is off from the server's.", "health"),
    EventType(
        "node.clock_ok",
        "An edge node's clock agrees with the server's again.",
        "health",
        clears="node.clock_skew",
    ),
)

EVENT_TYPES: Mapping[str, EventType] = MappingProxyType({t.name: t for t in _TYPES})
"""Every known event type by name, in catalogue order."""


def clearing_types(cleared: str) -> tuple[str, ...]:
    """The types that clear ``cleared`` (empty when none does)."""
    return tuple(t.name for t in _TYPES if t.clears == cleared)


def check_event_types(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as a tuple when every one is in the catalogue.

    Raises:
        ValidationError: Some are not; the message names them and the catalogue.
    """
    checked = tuple(names)
    unknown = sorted({name for name in checked if name not in EVENT_TYPES})
    if unknown:
        raise ValidationError(
            f"unknown event types {unknown}; known types are {sorted(EVENT_TYPES)}"
        )
    return checked


def check_event(
    type_name: str, payload: Mapping[str, object], *, max_bytes: int, where: str = "payload"
) -> None:
    """Check a posted event's payload: its size, its type, and its type's schema.

    Args:
        type_name: The event's type.
        payload: Its payload.
        max_bytes: The most bytes of compact JSON a payload may take.
        where: How messages name the payload (``events[3].payload``).

    Raises:
        ValidationError: The payload is too large, the type is neither in the
            catalogue nor under ``custom.``, or the payload breaks the schema;
            the message says which and how.
    """
    known = EVENT_TYPES.get(type_name)
    if known is None:
        if type_name.startswith(CUSTOM_PREFIX) and len(type_name) > len(CUSTOM_PREFIX):
            check_payload_size(payload, max_bytes, where)
            return
        raise ValidationError(
            f"unknown event type {type_name!r}: the catalogue (GET /api/v1/event-types) "
            f"holds {sorted(EVENT_TYPES)}; a site's own types go under {CUSTOM_PREFIX!r} "
            f"(e.g. {CUSTOM_PREFIX}door_opened)"
        )
    if known.payload is not None:
        known.payload.check(payload, where)
    check_payload_size(payload, max_bytes, where)
