"""Notifications: channels, routes, the durable outbox and its delivery attempts.

``channels`` holds where alerts go (e-mail, webhook, MQTT) with their secrets,
``routes`` which alerts go where and when, ``outbox`` the items waiting for
delivery, their attempts, the rendered ``Message`` and ``DeliveryError``.
Other modules of this package (matching, templates, signing, the circuit
breaker, rate limits, MQTT topics, Home Assistant discovery) build on these
values and are imported from their own modules.
"""

from argus.domain.notify.channels import (
    CHANNEL_KINDS,
    SECRET_FIELDS,
    Channel,
    ChannelKind,
    ChannelSettings,
    EmailSecurity,
    EmailSettings,
    MqttChannelSettings,
    SnapshotMode,
    Templates,
    WebhookFormat,
    WebhookSettings,
    check_address,
    settings_from_dict,
)
from argus.domain.notify.outbox import (
    NOTIFICATION_KINDS,
    NOTIFICATION_STATES,
    DeliveryAttempt,
    DeliveryError,
    Message,
    Notification,
    NotificationKind,
    NotificationState,
    dedupe_key,
)
from argus.domain.notify.routes import (
    GROUP_PREFIX,
    MAX_LEVEL,
    RECIPIENT_GROUPS_KEY,
    Route,
    Schedule,
    Target,
    check_groups,
)

__all__ = [
    "CHANNEL_KINDS",
    "GROUP_PREFIX",
    "MAX_LEVEL",
    "NOTIFICATION_KINDS",
    "NOTIFICATION_STATES",
    "RECIPIENT_GROUPS_KEY",
    "SECRET_FIELDS",
    "Channel",
    "ChannelKind",
    "ChannelSettings",
    "DeliveryAttempt",
    "DeliveryError",
    "EmailSecurity",
    "EmailSettings",
    "Message",
    "MqttChannelSettings",
    "Notification",
    "NotificationKind",
    "NotificationState",
    "Route",
    "Schedule",
    "SnapshotMode",
    "Target",
    "Templates",
    "WebhookFormat",
    "WebhookSettings",
    "check_address",
    "check_groups",
    "dedupe_key",
    "settings_from_dict",
]
