"""Notification templates (built-in, custom, sandboxed), webhook signatures, snapshot links."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from argus.adapters.notify.templates import render
from argus.domain.notify import (
    Channel,
    EmailSettings,
    MqttChannelSettings,
    Notification,
    Templates,
    WebhookSettings,
)
from argus.domain.notify.signing import (
    link_key,
    open_snapshot_token,
    sign,
    snapshot_token,
    verify,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALERT: dict[str, Any] = {
    "id": "01HALERT",
    "rule_id": "r1",
    "rule_name": "Fence",
    "camera_id": "gate",
    "event_id": "e1",
    "event_type": "line.crossed",
    "event_time": "2026-03-01T12:00:00.000000Z",
    "class_name": "person",
    "track_id": 7,
    "risk_score": 0.8234,
    "severity": "high",
    "risk_components": [{"name": "night", "value": 1.0, "weight": 0.2, "reason": "22:14 local"}],
    "state": "new",
    "escalation_level": 0,
}


def _channel(settings: Any, templates: Templates | None = None) -> Channel:
    kind = {EmailSettings: "email", WebhookSettings: "webhook", MqttChannelSettings: "mqtt"}[
        type(settings)
    ]
    return Channel(
        id="c1",
        name="Ops",
        kind=kind,  # type: ignore[arg-type]
        settings=settings,
        created_at=T0,
        updated_at=T0,
        templates=templates or Templates(),
    )


def _notification(kind: str = "alert.created", level: int = 0, **payload: Any) -> Notification:
    doc = {
        "alert": ALERT,
        "camera": {"id": "gate", "name": "Main gate"},
        "links": {"alert": "https://argus.example/ui/#/alerts/01HALERT"},
        **payload,
    }
    return Notification(
        id="01HNOTE",
        dedupe_key="k",
        channel_id="c1",
        kind=kind,  # type: ignore[arg-type]
        created_at=T0,
        next_attempt_at=T0,
        payload=doc,
        recipients=("a@example.org",),
        alert_id="01HALERT",
        level=level,
    )


MAIL = EmailSettings(host="smtp.example.org")


def test_builtin_mail_names_severity_rule_camera_and_risk() -> None:
    message, error = render(_channel(MAIL), _notification(), snapshot_url="https://x/s/tok")
    assert error is None
    assert message.subject == "[Argus] HIGH Fence on Main gate (risk 0.82)"
    assert "Rule:      Fence" in message.body
    assert "Camera:    Main gate (gate)" in message.body
    assert "night: 22:14 local" in message.body
    assert "https://argus.example/ui/#/alerts/01HALERT" in message.body
    assert "Snapshot (link expires): https://x/s/tok" in message.body
    assert message.recipients == ("a@example.org",)
    assert message.snapshot_url == "https://x/s/tok"


def test_escalation_and_test_notifications_say_so() -> None:
    escalated, _ = render(_channel(MAIL), _notification("alert.escalated", level=2))
    assert escalated.subject.startswith("[Argus] ESCALATED (level 2): HIGH Fence")
    assert "escalated to level 2" in escalated.body
    test, error = render(_channel(MAIL), _notification("test", alert=None))
    assert error is None
    assert test.subject == "[Argus] Test notification from Ops"


def test_custom_mail_templates_render_without_escaping() -> None:
    templates = Templates(
        subject="{{ alert.severity }}: {{ alert.rule_name }} <{{ camera.name }}>",
        body="{{ alert.rule_name }} & {{ alert.class_name }}\n",
    )
    message, error = render(_channel(MAIL, templates), _notification())
    assert error is None
    assert message.subject == "high: Fence <Main gate>"
    assert message.body == "Fence & person\n"


def test_subject_line_breaks_are_folded_so_headers_cannot_be_injected() -> None:
    templates = Templates(subject="a\r\nBcc: victim@example.org {{ alert.rule_name }}")
    message, _ = render(_channel(MAIL, templates), _notification())
    assert "\n" not in message.subject
    assert "\r" not in message.subject


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ alert.no_such_field }}", "undefined"),
        ("{% for %}", "syntax"),
        ("{{ ''.__class__.__mro__ }}", "unsafe"),
        ("{{ alert.rule_name | format(1, 2, 3) }}", "format"),
    ],
    ids=["unknown-name", "syntax", "sandbox", "type"],
)
def test_a_failing_template_falls_back_to_the_builtin_and_says_why(
    template: str, reason: str
) -> None:
    message, error = render(_channel(MAIL, Templates(body=template)), _notification())
    assert error is not None
    assert error.startswith("body template:")
    assert "Rule:      Fence" in message.body


def test_json_webhook_builtin_carries_the_whole_alert() -> None:
    channel = _channel(WebhookSettings(url="https://hooks.example.org/x", secret="s"))
    message, error = render(channel, _notification())
    assert error is None
    doc = json.loads(message.body)
    assert doc["type"] == "alert.created"
    assert doc["notification_id"] == "01HNOTE"
    assert doc["alert"]["risk_score"] == 0.8234
    assert doc["camera"] == {"id": "gate", "name": "Main gate"}
    assert doc["summary"] == message.subject


def test_webhook_body_template_values_are_json_literals() -> None:
    hostile = {**ALERT, "rule_name": 'Fence", "admin": true, "x": "'}
    templates = Templates(body='{"text": {{ alert.rule_name }}, "risk": {{ alert.risk_score }}}')
    channel = _channel(WebhookSettings(url="https://h.example.org/"), templates)
    message, error = render(channel, _notification(alert=hostile))
    assert error is None
    assert json.loads(message.body) == {"text": hostile["rule_name"], "risk": 0.8234}


def test_webhook_body_template_that_is_not_json_falls_back() -> None:
    channel = _channel(WebhookSettings(url="https://h.example.org/"), Templates(body="hi {{ 1 }}"))
    message, error = render(channel, _notification())
    assert error is not None
    assert "JSON" in error
    assert json.loads(message.body)["type"] == "alert.created"


def test_slack_format() -> None:
    channel = _channel(WebhookSettings(url="https://hooks.slack.com/services/x", format="slack"))
    message, _ = render(channel, _notification(), snapshot_url="https://x/s/tok")
    doc = json.loads(message.body)
    assert doc["text"] == "[Argus] HIGH Fence on Main gate (risk 0.82)"
    types = [block["type"] for block in doc["blocks"]]
    assert types == ["header", "section", "actions", "image", "context"]
    assert doc["blocks"][3]["image_url"] == "https://x/s/tok"
    assert doc["blocks"][2]["elements"][0]["url"].endswith("/alerts/01HALERT")


def test_teams_format_is_a_message_with_one_adaptive_card() -> None:
    channel = _channel(WebhookSettings(url="https://example.webhook.office.com/x", format="teams"))
    message, _ = render(channel, _notification())
    doc = json.loads(message.body)
    assert doc["type"] == "message"
    (attachment,) = doc["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["body"][0]["text"] == doc["summary"]
    assert card["actions"][0]["type"] == "Action.OpenUrl"


def test_mqtt_channels_get_the_json_document() -> None:
    message, _ = render(_channel(MqttChannelSettings(host="broker.example.org")), _notification())
    assert json.loads(message.body)["alert"]["id"] == "01HALERT"


def test_an_older_payload_without_fields_still_renders_the_builtin() -> None:
    message, error = render(_channel(MAIL), _notification(alert={"id": "a", "rule_name": "R"}))
    assert error is None
    assert "R" in message.subject


# ------------------------------------------------------------------- signatures


BODY = b'{"type":"alert.created"}'


def test_signature_verifies_within_the_window() -> None:
    stamp = int(T0.timestamp())
    signature = sign("secret", stamp, BODY)
    assert signature.startswith("sha256=")
    assert len(signature) == 71
    assert verify("secret", str(stamp), BODY, signature, T0 + timedelta(seconds=299))
    assert verify("secret", stamp, BODY, signature, T0 - timedelta(seconds=299))


@pytest.mark.parametrize(
    ("secret", "body", "delta", "mangle"),
    [
        ("other", BODY, 0, False),
        ("secret", BODY + b" ", 0, False),
        ("secret", BODY, 301, False),
        ("secret", BODY, -301, False),
        ("secret", BODY, 0, True),
        ("", BODY, 0, False),
    ],
    ids=["wrong-secret", "body-changed", "replayed-late", "from-the-future", "bad-header", "empty"],
)
def test_signature_refusals(secret: str, body: bytes, delta: int, mangle: bool) -> None:
    stamp = int(T0.timestamp())
    signature = sign("secret", stamp, BODY)
    if mangle:
        signature = signature.replace("sha256=", "sha1=")
    assert not verify(secret, stamp, body, signature, T0 + timedelta(seconds=delta))


def test_a_changed_timestamp_breaks_the_signature() -> None:
    stamp = int(T0.timestamp())
    signature = sign("secret", stamp, BODY)
    assert not verify("secret", stamp + 1, BODY, signature, T0)
    assert not verify("secret", "soon", BODY, signature, T0)


def test_snapshot_tokens_open_until_they_expire_and_not_when_altered() -> None:
    key = link_key(b"installation-secret-0123456789ab")
    token = snapshot_token(key, "01HEVIDENCE", T0 + timedelta(hours=1))
    assert open_snapshot_token(key, token, T0) == "01HEVIDENCE"
    assert open_snapshot_token(key, token, T0 + timedelta(hours=1)) is None
    other = link_key(b"another-installation-secret-xyz0")
    assert open_snapshot_token(other, token, T0) is None
    evidence, expiry, mac = token.split(".")
    later = str(int(expiry) + 3600)
    assert open_snapshot_token(key, f"{evidence}.{later}.{mac}", T0) is None
    assert open_snapshot_token(key, f"01HOTHER.{expiry}.{mac}", T0) is None
    assert open_snapshot_token(key, "garbage", T0) is None
