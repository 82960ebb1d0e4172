"""Events, alerts and incidents described in words, for search.

A description names what happened and where, never when: the class of the
object, the kind of event, the camera's name, the zone or line (with the
line's direction label when the site named one), the dwell in coarse words,
the colour when the payload carries one, and the part of the day ("at
night"). Times are left to filters, so thousands of events share one
description and the search index holds only the distinct ones.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["day_part", "describe_alert", "describe_event", "describe_incident", "dwell_words"]

_KINDS: Mapping[str, str] = {
    "line.crossed": "crossing line {line}",
    "line.wrong_way": "crossing line {line} the wrong way",
    "zone.entered": "entering zone {zone}",
    "zone.exited": "leaving zone {zone}",
    "zone.loitering": "loitering in zone {zone}",
    "zone.crowding": "crowd in zone {zone}",
    "behaviour.running": "running",
}
_MAX_FREE_TEXT = 300


def day_part(local_hour: int) -> str:
    """The part of the day of a site-local hour: night 22-06, morning, afternoon, evening 18-22."""
    if 6 <= local_hour < 12:
        return "in the morning"
    if 12 <= local_hour < 18:
        return "in the afternoon"
    if 18 <= local_hour < 22:
        return "in the evening"
    return "at night"


def dwell_words(seconds: float) -> str:
    """A dwell time in coarse words (so descriptions stay few)."""
    if seconds < 10:
        return "briefly"
    if seconds < 60:
        return "for under a minute"
    if seconds < 300:
        return "for a few minutes"
    return "for a long time"


def _text(value: object) -> str:
    return str(value).strip()[:80] if isinstance(value, str | int) else ""


def describe_event(
    event_type: str,
    payload: Mapping[str, object],
    *,
    camera: str,
    local_hour: int,
    direction_labels: Mapping[tuple[str, str], str] | None = None,
) -> str:
    """One event in words, without its time.

    Args:
        event_type: The event's type (``line.crossed``).
        payload: Its payload.
        camera: The camera's name.
        local_hour: The site-local hour it happened in (0-23).
        direction_labels: ``(line, "in"|"out")`` to the site's label ("eastbound").

    Returns:
        A short sentence such as ``"person crossing line kerb eastbound at
        camera Street demo in the evening"``.
    """
    subject = _text(payload.get("class_name")) or "object"
    colour = _text(payload.get("colour") or payload.get("color"))
    if colour:
        subject = f"{colour} {subject}"
    zone = _text(payload.get("zone"))
    line = _text(payload.get("line"))
    template = _KINDS.get(event_type)
    if template is None:
        what = event_type.replace(".", " ").replace("_", " ")
        where = f" in zone {zone}" if zone else (f" at line {line}" if line else "")
        parts = [subject, what + where]
    else:
        parts = [subject, template.format(line=line, zone=zone)]
    direction = _text(payload.get("direction"))
    if line and direction:
        label = (direction_labels or {}).get((line, direction))
        parts.append(label or f"going {direction}")
    dwell = payload.get("dwell_seconds")
    if isinstance(dwell, int | float) and event_type != "zone.loitering":
        parts.append(dwell_words(float(dwell)))
    elif event_type == "zone.loitering":
        parts.append("for a long time")
    parts.append(f"at camera {camera}")
    parts.append(day_part(local_hour))
    return " ".join(p for p in parts if p)


def describe_alert(rule_name: str, event_description: str, *, state: str | None = None) -> str:
    """An alert in words: its rule's name and its event's description."""
    verdict = {"false_positive": " dismissed as false alarm", "confirmed": " confirmed"}.get(
        state or "", ""
    )
    return f"alert {rule_name.strip()[:80]}{verdict}: {event_description}"


def describe_incident(title: str, description: str | None, *, camera: str | None) -> str:
    """An incident in words: its title, its free text (cut short) and its camera."""
    text = f"incident {title.strip()[:120]}"
    if description:
        text += f": {description.strip()[:_MAX_FREE_TEXT]}"
    if camera:
        text += f" at camera {camera}"
    return text
