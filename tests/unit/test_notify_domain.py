"""The notification values: channels (and their secrets), routes, outbox items, attempts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from argus.domain.errors import ValidationError
from argus.domain.notify import (
    Channel,
    DeliveryAttempt,
    DeliveryError,
    EmailSettings,
    MqttChannelSettings,
    Notification,
    Route,
    Schedule,
    Target,
    Templates,
    WebhookSettings,
    check_groups,
    dedupe_key,
    settings_from_dict,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _channel(settings: Any, kind: str = "email", **changes: Any) -> Channel:
    base: dict[str, Any] = {
        "id": "ch-1",
        "name": "Mail",
        "kind": kind,
        "settings": settings,
        "created_at": T0,
        "updated_at": T0,
    }
    return Channel(**{**base, **changes})


MAIL = EmailSettings(host="smtp.example.org", password="smtp-pa55", to=("a@example.org",))
HOOK = WebhookSettings(url="https://hooks.example.org/x", secret="hook-k3y", headers={"X": "a"})
MQTT = MqttChannelSettings(host="broker.local", password="mqtt-pa55", topic="site/alerts")


# --- channels ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "kind", "secret"),
    [
        pytest.param(MAIL, "email", "password", id="email"),
        pytest.param(HOOK, "webhook", "secret", id="webhook"),
        pytest.param(MQTT, "mqtt", "password", id="mqtt"),
    ],
)
def test_public_form_hides_secrets_and_full_form_round_trips(
    settings: Any, kind: str, secret: str
) -> None:
    channel = _channel(settings, kind, templates=Templates(subject="{{ alert.id }}"))
    public = channel.public_dict()
    assert public["settings"][secret] == {"set": True}  # type: ignore[index]
    hidden = getattr(settings, secret)
    assert hidden not in repr(public)
    assert hidden not in repr(channel)
    assert Channel.from_dict(channel.to_dict()) == channel
    assert channel.secrets_of() == {secret: hidden}
    bare = channel.without_secrets()
    assert bare.secrets_of() == {}
    assert bare.public_dict()["settings"][secret] == {"set": False}  # type: ignore[index]
    assert bare.with_secrets(channel.secrets_of()) == channel
    with pytest.raises(ValidationError):
        channel.with_secrets({"username": "x"})


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: EmailSettings(host="smtp.x.org", port=0), id="port-0"),
        pytest.param(lambda: EmailSettings(host="smtp.x.org", port=70000), id="port-big"),
        pytest.param(lambda: EmailSettings(host="smtp x.org"), id="host-space"),
        pytest.param(lambda: EmailSettings(host="h", sender="nobody"), id="sender"),
        pytest.param(lambda: EmailSettings(host="h", to=("a@b.org", "x")), id="to"),
        pytest.param(lambda: EmailSettings(host="h", security="ssl"), id="security"),  # type: ignore[arg-type]
        pytest.param(lambda: EmailSettings(host="h", timeout_s=0), id="timeout"),
        pytest.param(lambda: WebhookSettings(url="ftp://x.org/"), id="scheme"),
        pytest.param(lambda: WebhookSettings(url="https://u:p@x.org/"), id="credentials"),
        pytest.param(lambda: WebhookSettings(url="https:///path"), id="no-host"),
        pytest.param(
            lambda: WebhookSettings(url="https://x.org", headers={"Host": "y"}), id="host-header"
        ),
        pytest.param(
            lambda: WebhookSettings(url="https://x.org", headers={"content-length": "1"}),
            id="length-header",
        ),
        pytest.param(
            lambda: WebhookSettings(url="https://x.org", headers={"X-Argus-Delivery": "1"}),
            id="argus-header",
        ),
        pytest.param(
            lambda: WebhookSettings(url="https://x.org", headers={"X-A": "a\r\nB: c"}),
            id="header-injection",
        ),
        pytest.param(lambda: WebhookSettings(url="https://x.org", format="xml"), id="format"),  # type: ignore[arg-type]
        pytest.param(lambda: MqttChannelSettings(host="b", topic="a/#"), id="hash"),
        pytest.param(lambda: MqttChannelSettings(host="b", topic="a/+/c"), id="plus"),
        pytest.param(lambda: MqttChannelSettings(host="b", topic="$SYS/x"), id="sys"),
        pytest.param(lambda: MqttChannelSettings(host="b", qos=3), id="qos"),
    ],
)
def test_invalid_settings_are_refused(make: Any) -> None:
    with pytest.raises(ValidationError):
        make()


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"name": "x" * 101}, id="long-name"),
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"kind": "webhook"}, id="kind-mismatch"),
        pytest.param({"rate_per_minute": 0}, id="rate-0"),
        pytest.param({"rate_per_minute": 10_001}, id="rate-big"),
        pytest.param({"created_at": datetime(2026, 3, 1)}, id="naive"),
        pytest.param({"version": 0}, id="version"),
        pytest.param({"templates": "{{ x }}"}, id="template-type"),
    ],
)
def test_invalid_channels_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _channel(MAIL, **changes)


def test_settings_come_from_their_json_form_and_refuse_unknown_fields() -> None:
    assert settings_from_dict("email", {"host": "h", "to": ["a@b.org"]}) == EmailSettings(
        host="h", to=("a@b.org",)
    )
    assert settings_from_dict("webhook", {"url": "https://x.org"}) == WebhookSettings(
        url="https://x.org"
    )
    with pytest.raises(ValidationError, match="url"):
        settings_from_dict("email", {"host": "h", "url": "https://x.org"})
    with pytest.raises(ValidationError):
        settings_from_dict("sms", {})  # type: ignore[arg-type]


# --- routes -----------------------------------------------------------------------------------


def _route(**changes: Any) -> Route:
    base: dict[str, Any] = {
        "id": "rt-1",
        "name": "Night",
        "created_at": T0,
        "updated_at": T0,
        "targets": (Target("ch-1", 0, ("group:night-shift",)), Target("ch-1", 2, ("b@x.org",))),
        "schedule": Schedule(days=(4, 0, 0), start="22:00", end="06:00"),
        "quiet_hours": Schedule(start="00:00", end="24:00"),
        "timezone": "Europe/Berlin",
    }
    return Route(**{**base, **changes})


def test_routes_round_trip_and_normalise_days() -> None:
    route = _route()
    assert route.schedule is not None
    assert route.schedule.days == (0, 4)
    assert (route.schedule.start_minute, route.schedule.end_minute) == (22 * 60, 6 * 60)
    assert Route.from_dict(route.to_dict()) == route
    assert route.to_dict()["schedule"] == {"days": [0, 4], "start": "22:00", "end": "06:00"}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"targets": ()}, id="no-targets"),
        pytest.param({"min_severity": "critical"}, id="severity"),
        pytest.param({"timezone": "Mars/Olympus"}, id="zone"),
        pytest.param({"timezone": "America"}, id="zone-folder"),
        pytest.param({"rule_ids": ("",)}, id="empty-id"),
    ],
)
def test_invalid_routes_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _route(**changes)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: Target("ch", level=11), id="level"),
        pytest.param(lambda: Target("ch", to=("group:",)), id="empty-group"),
        pytest.param(lambda: Target("ch", to=("not an address",)), id="address"),
        pytest.param(lambda: Schedule(days=()), id="no-days"),
        pytest.param(lambda: Schedule(days=(7,)), id="day-7"),
        pytest.param(lambda: Schedule(start="24:00", end="06:00"), id="start-24"),
        pytest.param(lambda: Schedule(start="7:00"), id="short-clock"),
        pytest.param(lambda: Schedule(start="06:00", end="06:00"), id="empty-range"),
    ],
)
def test_invalid_targets_and_schedules_are_refused(make: Any) -> None:
    with pytest.raises(ValidationError):
        make()


def test_recipient_groups_are_checked() -> None:
    assert check_groups({"night": ["a@x.org"], "empty": []}) == {"night": ("a@x.org",), "empty": ()}
    bads: list[object] = [{"a b": []}, {"ok": ["nope"]}, {"ok": "a@x.org"}, ["a@x.org"]]
    for bad in bads:
        with pytest.raises(ValidationError):
            check_groups(bad)


# --- the outbox -------------------------------------------------------------------------------


def test_dedupe_keys_tell_alert_kind_level_route_and_channel_apart() -> None:
    keys = {
        dedupe_key("a1", "alert.created", 0, "ch", "rt"),
        dedupe_key("a1", "alert.escalated", 1, "ch", "rt"),
        dedupe_key("a1", "alert.escalated", 2, "ch", "rt"),
        dedupe_key("a1", "alert.created", 0, "ch2", "rt"),
        dedupe_key("a1", "alert.created", 0, "ch", "rt2"),
        dedupe_key("a2", "alert.created", 0, "ch", "rt"),
    }
    assert len(keys) == 6
    assert dedupe_key("a1", "alert.created", 0, "ch", "rt") in keys


def test_notifications_and_attempts_validate_and_serialise() -> None:
    item = Notification(
        id="n1",
        dedupe_key="k",
        channel_id="ch",
        kind="alert.created",
        created_at=T0,
        next_attempt_at=T0 + timedelta(seconds=1),
        payload={"alert": {"id": "a1"}},
        recipients=["a@x.org"],  # type: ignore[arg-type]
        alert_id="a1",
    )
    assert item.recipients == ("a@x.org",)
    doc = item.to_dict()
    assert (doc["state"], doc["attempts"], doc["leased_until"]) == ("pending", 0, None)
    for changes in ({"kind": "sms"}, {"state": "lost"}, {"attempts": -1}, {"level": True}):
        with pytest.raises(ValidationError):
            replace(item, **changes)
    attempt = DeliveryAttempt("n1", 1, T0, ok=False, latency_ms=3, error="x" * 5000)
    assert attempt.error is not None
    assert len(attempt.error) == 2000
    assert attempt.to_dict()["latency_ms"] == 3.0
    for bad in ({"number": 0}, {"latency_ms": -1.0}, {"at": datetime(2026, 1, 1)}):
        with pytest.raises(ValidationError):
            replace(attempt, **bad)


def test_templates_are_bounded() -> None:
    with pytest.raises(ValidationError):
        Templates(body="x" * 20_001)
    with pytest.raises(ValidationError):
        Templates(subject="x" * 1001)


def test_a_delivery_error_says_whether_retrying_can_help() -> None:
    assert DeliveryError("refused").permanent is False
    assert DeliveryError("550 no such user", permanent=True).permanent is True
    assert str(DeliveryError("timeout")) == "timeout"
