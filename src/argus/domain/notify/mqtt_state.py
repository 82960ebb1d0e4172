"""What the MQTT state topics say: counts, occupancy, alert and camera state, node state.

``MqttState`` folds what happens (events, alert changes, pipeline statuses)
into the values of the retained state topics (``mqtt_topics``) and answers
each change with the ``Publish`` messages it makes, only for values that
changed. It keeps the latest payload of every retained topic (``retained``),
so the bridge can publish all of them again after the broker lost them.

* Line counts are today's, in the site's time zone: ``line.crossed`` adds one
  to its direction and to ``total``; at local midnight every count restarts at
  0 (Home Assistant reads the drop of a ``total_increasing`` sensor as a new
  cycle). An event of an earlier day is not counted; ``seed_counts`` starts
  the day from the event store.
* Zone occupancy is the number of tracks inside: ``zone.entered`` adds the
  track, ``zone.exited`` (left or lost) removes it; a camera that stops or
  restarts (its track ids start again) empties its zones.
* A camera's alert is ``on`` while it has an open alert (new, notified or
  escalated); the attributes are the latest open alert's fields.
* Camera status is the pipeline's state, or ``online``/``offline`` from the
  health events of cameras on edge nodes; node state follows
  ``node.online``/``node.offline``.

Pure: no I/O, no clock (times come with the inputs). Events are idempotent on
``event_id`` within a bounded window of recent ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from argus.domain.alerts.lifecycle import OPEN_ALERT_STATES
from argus.domain.events import Envelope
from argus.domain.notify.mqtt_topics import LineCount, MqttTopics

__all__ = ["OPEN_STATES", "MqttState", "Publish"]

OPEN_STATES: frozenset[str] = frozenset(OPEN_ALERT_STATES)
"""Alert states that keep a camera's alert ``on``: new, notified, escalated."""

MAX_TRACKS_PER_ZONE = 10_000
"""Tracks remembered inside one zone; beyond it, exits that never came are forgotten."""

SEEN_IDS = 10_000
"""Recent event ids remembered to drop replays."""

_ALERT_FIELDS = (
    "id",
    "rule_id",
    "rule_name",
    "severity",
    "risk_score",
    "state",
    "event_type",
    "class_name",
    "event_time",
    "created_at",
    "escalation_level",
    "group_id",
)
_DOWN = frozenset({"offline", "error", "disabled"})


@dataclass(frozen=True, slots=True)
class Publish:
    """One message for the broker.

    Attributes:
        topic: Where.
        payload: What (UTF-8 text or JSON).
        retain: Whether the broker keeps it for later subscribers.
    """

    topic: str
    payload: bytes
    retain: bool = True


class MqttState:
    """The values of the state topics, folded from events, alerts and statuses.

    Args:
        topics: The topic names.
        tz: The zone whose midnight restarts the line counts.
        today: The local day the counts start in.
    """

    def __init__(self, topics: MqttTopics, tz: tzinfo, today: date) -> None:
        self.topics = topics
        self._tz = tz
        self.day = today
        self.retained: dict[str, bytes] = {}
        self.lines: dict[tuple[str, str], dict[str, int]] = {}
        self.zones: dict[tuple[str, str], set[int]] = {}
        self._alerts: dict[str, dict[str, Mapping[str, object]]] = {}
        self._statuses: dict[str, str] = {}
        self._seen: dict[str, None] = {}

    # --- inputs -----------------------------------------------------------------------------

    def seed_counts(self, counts: Mapping[tuple[str, str, str], int]) -> list[Publish]:
        """Set today's counts per (camera, line, direction) from the event store."""
        for (camera_id, line, direction), count in counts.items():
            if direction in {"in", "out"}:
                self.lines.setdefault((camera_id, line), {"in": 0, "out": 0})[direction] = count
        return [p for key in list(self.lines) for p in self._line_messages(*key)]

    def declare(
        self, camera_id: str, lines: Iterable[str] = (), zones: Iterable[str] = ()
    ) -> list[Publish]:
        """Make the lines and zones of a camera known (0 until something happens)."""
        out: list[Publish] = []
        for line in lines:
            if (camera_id, line) not in self.lines:
                self.lines[(camera_id, line)] = {"in": 0, "out": 0}
                out += self._line_messages(camera_id, line)
        for zone in zones:
            if (camera_id, zone) not in self.zones:
                self.zones[(camera_id, zone)] = set()
                out += self._zone_messages(camera_id, zone)
        if camera_id not in self._alerts:
            self._alerts[camera_id] = {}
            out += self._alert_messages(camera_id)
        return out

    def roll(self, now: datetime) -> list[Publish]:
        """Restart every count at 0 once ``now`` is on a later local day."""
        today = now.astimezone(self._tz).date()
        if today <= self.day:
            return []
        self.day = today
        out: list[Publish] = []
        for key, counts in self.lines.items():
            counts.update({"in": 0, "out": 0})
            out += self._line_messages(*key)
        return out

    def on_event(self, envelope: Envelope) -> list[Publish]:
        """Fold one event (a replay of a recent one changes nothing)."""
        if envelope.event_id in self._seen:
            return []
        self._seen[envelope.event_id] = None
        if len(self._seen) > SEEN_IDS:
            del self._seen[next(iter(self._seen))]
        kind = envelope.type
        if kind == "line.crossed":
            return self._crossed(envelope)
        if kind in {"zone.entered", "zone.exited"}:
            return self._zone_event(envelope)
        if kind in {"camera.online", "camera.offline"}:
            return self.on_camera_state(envelope.source.camera_id, kind.split(".")[1])
        if kind in {"node.online", "node.offline"}:
            return self.on_node_state(envelope.source.edge_node_id, kind.split(".")[1])
        return []

    def _zone_event(self, envelope: Envelope) -> list[Publish]:
        zone, track = envelope.payload.get("zone"), envelope.payload.get("track_id")
        if not isinstance(zone, str) or not isinstance(track, int):
            return []
        camera_id = envelope.source.camera_id
        tracks = self.zones.setdefault((camera_id, zone), set())
        if envelope.type == "zone.exited":
            tracks.discard(track)
        elif len(tracks) < MAX_TRACKS_PER_ZONE:
            tracks.add(track)
        return self._zone_messages(camera_id, zone)

    def _crossed(self, envelope: Envelope) -> list[Publish]:
        line, direction = envelope.payload.get("line"), envelope.payload.get("direction")
        if not isinstance(line, str) or direction not in {"in", "out"}:
            return []
        out = self.roll(envelope.timestamp)
        if envelope.timestamp.astimezone(self._tz).date() < self.day:
            return out  # yesterday's, late: today's counts do not include it
        counts = self.lines.setdefault((envelope.source.camera_id, line), {"in": 0, "out": 0})
        counts[str(direction)] += 1
        return out + self._line_messages(envelope.source.camera_id, line)

    def on_alert(self, kind: str, alert: Mapping[str, object]) -> list[Publish]:
        """Fold an alert change of the alerts subject (``alert.created``, ``alert.updated``)."""
        alert_id, camera_id = alert.get("id"), alert.get("camera_id")
        if not isinstance(alert_id, str) or not isinstance(camera_id, str):
            return []
        open_alerts = self._alerts.setdefault(camera_id, {})
        if alert.get("state") in OPEN_STATES:
            open_alerts[alert_id] = alert
        else:
            open_alerts.pop(alert_id, None)
        out = self._alert_messages(camera_id)
        if kind == "alert.created":
            body = json.dumps(dict(alert), separators=(",", ":"), default=str)
            out.append(Publish(self.topics.alerts, body.encode("utf-8"), retain=False))
        return out

    def seed_alerts(self, alerts: Iterable[Mapping[str, object]]) -> list[Publish]:
        """Start from the open alerts in the store (oldest first)."""
        out: list[Publish] = []
        for alert in alerts:
            out += self.on_alert("alert.seeded", alert)
        return out

    def on_camera_state(self, camera_id: str, state: str) -> list[Publish]:
        """A camera's pipeline state; a stopped or restarted camera's zones empty."""
        previous = self._statuses.get(camera_id)
        if previous == state:
            return []
        self._statuses[camera_id] = state
        out = self._keep([Publish(self.topics.camera_status(camera_id), state.encode("utf-8"))])
        if state in _DOWN or state == "starting":
            for (camera, zone), tracks in self.zones.items():
                if camera == camera_id and tracks:
                    tracks.clear()
                    out += self._zone_messages(camera, zone)
        return out

    def on_node_state(self, node_id: str, state: str) -> list[Publish]:
        """An edge node's state, ``online`` or ``offline``."""
        return self._keep([Publish(self.topics.node_state(node_id), state.encode("utf-8"))])

    def forget_camera(self, camera_id: str) -> list[Publish]:
        """Drop a deleted camera: its retained topics are cleared (empty payloads)."""
        prefix = self.topics.camera(camera_id) + "/"
        self.lines = {k: v for k, v in self.lines.items() if k[0] != camera_id}
        self.zones = {k: v for k, v in self.zones.items() if k[0] != camera_id}
        self._alerts.pop(camera_id, None)
        self._statuses.pop(camera_id, None)
        gone = [topic for topic in self.retained if topic.startswith(prefix)]
        for topic in gone:
            del self.retained[topic]
        return [Publish(topic, b"") for topic in gone]

    # --- outputs ----------------------------------------------------------------------------

    def _line_messages(self, camera_id: str, line: str) -> list[Publish]:
        counts = self.lines[(camera_id, line)]
        values: tuple[tuple[LineCount, int], ...] = (
            ("in", counts["in"]),
            ("out", counts["out"]),
            ("total", counts["in"] + counts["out"]),
        )
        return self._keep(
            [
                Publish(self.topics.line(camera_id, line, name), str(value).encode("ascii"))
                for name, value in values
            ]
        )

    def _zone_messages(self, camera_id: str, zone: str) -> list[Publish]:
        count = len(self.zones.get((camera_id, zone), ()))
        topic = self.topics.zone_occupancy(camera_id, zone)
        return self._keep([Publish(topic, str(count).encode("ascii"))])

    def _alert_messages(self, camera_id: str) -> list[Publish]:
        open_alerts = self._alerts.get(camera_id, {})
        latest = max(open_alerts.values(), key=lambda a: str(a.get("created_at")), default=None)
        attributes: dict[str, object] = {}
        if latest is not None:
            attributes = {name: latest.get(name) for name in _ALERT_FIELDS if name in latest}
        attributes["open_alerts"] = len(open_alerts)
        return self._keep(
            [
                Publish(self.topics.alert(camera_id), b"on" if open_alerts else b"off"),
                Publish(
                    self.topics.alert_attributes(camera_id),
                    json.dumps(attributes, separators=(",", ":"), default=str).encode("utf-8"),
                ),
            ]
        )

    def _keep(self, messages: list[Publish]) -> list[Publish]:
        """The retained messages whose payload changed, remembered."""
        changed = []
        for message in messages:
            if self.retained.get(message.topic) != message.payload:
                self.retained[message.topic] = message.payload
                changed.append(message)
        return changed

    def everything(self) -> list[Publish]:
        """Every retained value, for a broker that lost them."""
        return [Publish(topic, payload) for topic, payload in self.retained.items()]
