"""Alerts: explainable risk, the alert lifecycle, escalation, and incidents.

Risk is a weighted mean of components in [0, 1], each kept with the alert
(``RiskComponent``: value, weight, and a one-line reason), so an operator can
see why an alert is high. A component that does not apply to the event (dwell
of a line crossing, the zone of an event outside zones) is kept with weight 0,
so it neither raises nor dilutes the score. Severity follows the score: low < 0.3 ≤ medium <
0.7 ≤ high.

The lifecycle is a state machine; ``Alert.transition`` refuses what
``ALERT_TRANSITIONS`` does not allow (``InvalidTransitionError``, a conflict)::

    new ─► notified ─► acknowledged ─► confirmed        (creates an incident)
     │        │   ▲          ▲      └─► false_positive  (closed, kept as feedback)
     │        ▼   │          │
     └────► escalated ───────┘   (repeats up to the policy's limit)

A dismissal can be undone (``false_positive`` back to ``acknowledged``) for
``DISMISSAL_UNDO_WINDOW`` after it (``lifecycle.dismissal_undo_until``).

Any of new, notified, escalated and acknowledged may also move to ``cleared``
(terminal) when a clearing event (``node.online`` after ``node.offline``, see
``argus.domain.event_types``) reports that the condition ended by itself.

An alert awaiting acknowledgement has an ``ack_deadline`` (stored, so timers
survive a restart); ``EscalationPolicy.escalate`` moves a due alert to
``escalated`` and sets the next deadline, until ``max_escalations``.

Every change bumps ``version``; stores update only the version they read
(optimistic concurrency), so two servers never both escalate one alert.
"""

from argus.domain.alerts.alert import Alert, EscalationPolicy, new_alert
from argus.domain.alerts.incident import Incident, IncidentNote
from argus.domain.alerts.lifecycle import (
    ALERT_STATES,
    ALERT_TRANSITIONS,
    CLEARABLE_ALERT_STATES,
    INCIDENT_STATUSES,
    INCIDENT_TRANSITIONS,
    OPEN_ALERT_STATES,
    SEVERITIES,
    AlertState,
    IncidentStatus,
    InvalidTransitionError,
    Severity,
    Transition,
    severity_of,
)
from argus.domain.alerts.risk import Risk, RiskComponent, RiskContext, RiskPolicy, assess_risk

__all__ = [
    "ALERT_STATES",
    "ALERT_TRANSITIONS",
    "CLEARABLE_ALERT_STATES",
    "INCIDENT_STATUSES",
    "INCIDENT_TRANSITIONS",
    "OPEN_ALERT_STATES",
    "SEVERITIES",
    "Alert",
    "AlertState",
    "EscalationPolicy",
    "Incident",
    "IncidentNote",
    "IncidentStatus",
    "InvalidTransitionError",
    "Risk",
    "RiskComponent",
    "RiskContext",
    "RiskPolicy",
    "Severity",
    "Transition",
    "assess_risk",
    "new_alert",
    "severity_of",
]
