"""Message templates per channel: what a notification says, rendered with sandboxed Jinja2.

A channel may carry its own subject and body templates (``Channel.templates``);
an empty one means the kind's built-in. Templates are Jinja2 source rendered
in a sandbox (no attribute access to Python internals; loops, sizes and
output bounded by ``template_sandbox.BoundedEnvironment``) with
``StrictUndefined``, so a misspelt name is an error rather than an empty
string. They see:

* ``alert``: the alert's JSON form (``Alert.to_dict``: ``rule_name``,
  ``camera_id``, ``severity``, ``risk_score``, ``risk_components``,
  ``event_time``, ``escalation_level``...);
* ``camera``: ``{"id", "name"}`` of the alert's camera;
* ``kind`` (``alert.created``, ``alert.escalated``, ``group.updated``,
  ``test``), ``level``, ``links`` (``links.alert``: the alert in the
  dashboard), ``snapshot_url`` (the signed, expiring link, or ``None``),
  ``notification_id``, ``channel`` (its name) and ``payload`` (everything).

Text (mail subject and body, Slack and Teams text) is rendered without
escaping. A webhook body template renders JSON: every ``{{ expression }}`` is
written as a JSON literal (``{"text": {{ alert.rule_name }}}`` gives
``{"text": "Fence"}``), so a value cannot break out of its string; the result
must parse as JSON. A template that fails (syntax, an unknown name, a
non-JSON webhook body) falls back to the built-in, and the error is handed
back for the delivery log: a bad template never costs an alert.

Built-ins: mail ``[Argus] HIGH Fence on Gate (risk 0.82)`` with a text body;
webhook ``json`` a document with the whole payload; ``slack``
``{"text", "blocks"}``; ``teams`` a message with one Adaptive Card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError

from argus.adapters.notify.template_sandbox import BoundedEnvironment, render_bounded
from argus.domain.notify.channels import Channel, WebhookSettings
from argus.domain.notify.outbox import Message, Notification

__all__ = ["MAX_RENDERED", "context_of", "render"]

MAX_RENDERED = 256 * 1024
"""Largest rendered body, in characters; a longer one is an error (the built-in is used)."""
_MAX_SUBJECT = 300

SUBJECT = (
    "[Argus] {% if kind == 'alert.escalated' %}ESCALATED (level {{ level }}): {% endif %}"
    "{% if kind == 'test' %}Test notification from {{ channel }}{% else %}"
    "{{ alert.severity | upper }} {{ alert.rule_name }} on {{ camera.name }}"
    " (risk {{ '%.2f' | format(alert.risk_score) }}){% endif %}"
)
BODY = """\
{% if kind == 'test' -%}
This is a test notification of the channel "{{ channel }}". It reached you.
{%- else -%}
{{ alert.severity | upper }} alert{% if kind == 'alert.escalated' %}, escalated to level \
{{ level }} (not acknowledged in time){% endif %}

Rule:      {{ alert.rule_name }}
Camera:    {{ camera.name }} ({{ camera.id }})
Event:     {{ alert.event_type }} at {{ alert.event_time }}
Object:    {{ alert.class_name }}{% if alert.track_id is not none %} (track \
{{ alert.track_id }}){% endif %}
Risk:      {{ '%.2f' | format(alert.risk_score) }}
{% for c in alert.risk_components %}  - {{ c.name }}: {{ c.reason }}
{% endfor %}State:     {{ alert.state }}
{% if links.alert %}
Open the alert: {{ links.alert }}
{% endif %}{% if snapshot_url %}Snapshot (link expires): {{ snapshot_url }}
{% endif %}
Alert id {{ alert.id }}.
{%- endif %}
"""

_TEST_ALERT: Mapping[str, object] = {
    "id": "",
    "rule_id": "",
    "rule_name": "Test notification",
    "camera_id": "",
    "event_id": "",
    "event_type": "test",
    "event_time": "",
    "class_name": "",
    "track_id": None,
    "risk_score": 0.0,
    "severity": "low",
    "risk_components": [],
    "state": "new",
    "escalation_level": 0,
}


_TEMPLATE_ERRORS = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    RecursionError,
)
"""What rendering a user's template may raise (a filter given the wrong type, a bad index)."""


def _json_literal(value: object) -> str:
    if isinstance(value, str) and getattr(value, "__html__", None) is not None:
        value = str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


# Bounded work (template_sandbox): a hostile template cannot stall the event loop.
_TEXT = BoundedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_JSON = BoundedEnvironment(
    undefined=StrictUndefined, autoescape=False, finalize=_json_literal, keep_trailing_newline=True
)


def context_of(
    channel: Channel, notification: Notification, snapshot_url: str | None
) -> dict[str, Any]:
    """The names a template sees (see the module docstring)."""
    payload = dict(notification.payload)
    alert = payload.get("alert")
    # Defaults first, so that the built-ins render whatever an older payload lacks.
    alert_doc = {**_TEST_ALERT, **alert} if isinstance(alert, Mapping) else dict(_TEST_ALERT)
    camera = payload.get("camera")
    camera_id = str(alert_doc.get("camera_id", ""))
    camera_doc = dict(camera) if isinstance(camera, Mapping) else {}
    camera_doc.setdefault("id", camera_id)
    camera_doc.setdefault("name", camera_id)
    links = payload.get("links")
    return {
        "alert": alert_doc,
        "camera": camera_doc,
        "kind": notification.kind,
        "level": notification.level,
        "links": dict(links) if isinstance(links, Mapping) else {"alert": None},
        "snapshot_url": snapshot_url,
        "notification_id": notification.id,
        "channel": channel.name,
        "payload": payload,
    }


def _text(source: str, context: Mapping[str, Any]) -> str:
    rendered = render_bounded(_TEXT, source, context)
    if len(rendered) > MAX_RENDERED:
        raise TemplateError(f"the rendered text is longer than {MAX_RENDERED} characters")
    return rendered


def _one_line(subject: str) -> str:
    return " ".join(subject.split())[:_MAX_SUBJECT]


def _json_body(source: str, context: Mapping[str, Any]) -> Mapping[str, object]:
    rendered = render_bounded(_JSON, source, context)
    if len(rendered) > MAX_RENDERED:
        raise TemplateError(f"the rendered body is longer than {MAX_RENDERED} characters")
    try:
        doc = json.loads(rendered)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the webhook body template did not render JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise TemplateError("the webhook body template must render a JSON object")
    return doc


def _argus_doc(context: Mapping[str, Any], summary: str, text: str) -> dict[str, object]:
    return {
        "type": context["kind"],
        "notification_id": context["notification_id"],
        "summary": summary,
        "text": text,
        "level": context["level"],
        "alert": context["payload"].get("alert"),
        "camera": context["camera"],
        "links": context["links"],
        "snapshot_url": context["snapshot_url"],
    }


_SLACK_COLOURS = {"low": "#2eb886", "medium": "#daa038", "high": "#d40e0d"}


def _slack_doc(context: Mapping[str, Any], summary: str, text: str) -> dict[str, object]:
    alert = context["alert"]
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": summary[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{text[:2900]}```"}},
    ]
    link = context["links"].get("alert")
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": link}
                ],
            }
        )
    if context["snapshot_url"]:
        blocks.append(
            {"type": "image", "image_url": context["snapshot_url"], "alt_text": "snapshot"}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"severity *{alert.get('severity')}* · Argus"}],
        }
    )
    return {"text": summary, "blocks": blocks}


def _teams_doc(context: Mapping[str, Any], summary: str, text: str) -> dict[str, object]:
    alert = context["alert"]
    body: list[dict[str, object]] = [
        {
            "type": "TextBlock",
            "text": summary,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": "Attention" if alert.get("severity") == "high" else "Default",
        },
        {"type": "TextBlock", "text": text, "wrap": True, "fontType": "Monospace"},
    ]
    if context["snapshot_url"]:
        body.append({"type": "Image", "url": context["snapshot_url"], "altText": "snapshot"})
    card: dict[str, object] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    link = context["links"].get("alert")
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": link}]
    return {
        "type": "message",
        "summary": summary,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def _builtin_doc(channel: Channel, context: Mapping[str, Any], summary: str, text: str) -> Any:
    settings = channel.settings
    if isinstance(settings, WebhookSettings) and settings.format == "slack":
        return _slack_doc(context, summary, text)
    if isinstance(settings, WebhookSettings) and settings.format == "teams":
        return _teams_doc(context, summary, text)
    return _argus_doc(context, summary, text)


def render(
    channel: Channel,
    notification: Notification,
    *,
    snapshot: bytes | None = None,
    snapshot_url: str | None = None,
) -> tuple[Message, str | None]:
    """The message ``notification`` becomes on ``channel``, and a template error if one.

    Mail gets a subject and a text body; webhook and MQTT channels get a JSON
    body (``Message.body``, also parsed as ``Message.payload``) and the
    summary as the subject.

    Returns:
        The message, and ``None`` or why the channel's own template was not used.
    """
    context = context_of(channel, notification, snapshot_url)
    errors: list[str] = []
    builtin_summary = _one_line(_text(SUBJECT, context))
    builtin_text = _text(BODY, context).strip()
    summary, text = builtin_summary, builtin_text
    if channel.templates.subject:
        try:
            summary = _one_line(_text(channel.templates.subject, context))
        except _TEMPLATE_ERRORS as exc:
            errors.append(f"subject template: {exc}")
    doc: Any = None
    if channel.kind == "email":
        if channel.templates.body:
            try:
                text = _text(channel.templates.body, context)
            except _TEMPLATE_ERRORS as exc:
                errors.append(f"body template: {exc}")
        body = text
    else:
        if channel.templates.body:
            try:
                doc = _json_body(channel.templates.body, context)
            except _TEMPLATE_ERRORS as exc:
                errors.append(f"body template: {exc}")
        if doc is None:
            doc = _builtin_doc(channel, context, summary, text)
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)
    message = Message(
        notification_id=notification.id,
        subject=summary,
        body=body,
        payload=notification.payload,
        recipients=notification.recipients,
        snapshot=snapshot,
        snapshot_url=snapshot_url,
    )
    return message, "; ".join(errors) or None
