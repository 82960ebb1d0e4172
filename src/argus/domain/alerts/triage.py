"""Triage order: the order an operator should work alerts in.

Severity first (high before medium before low); within a severity, how much
an alert asks for attention (``attention``): escalated and still waiting,
most escalations first, then waiting, then acknowledged, then closed; then
age, oldest first (the one that has waited longest), then id. Alert groups
follow the same order with their highest severity, the highest attention of
their alerts and their first alert's time.

The SQL stores compute the same key with ``CASE`` expressions; this module is
the reference the in-memory stores sort by and the contract tests check.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, get_args

from argus.domain.alerts.alert import Alert
from argus.domain.alerts.lifecycle import OPEN_ALERT_STATES, SEVERITIES, AlertState, Severity

__all__ = [
    "ALERT_ORDERS",
    "CLOSED_ATTENTION",
    "AlertOrder",
    "attention",
    "group_triage_key",
    "triage_key",
]

AlertOrder = Literal["newest", "triage"]
"""How a list of alerts or groups is sorted: newest first, or in triage order."""

ALERT_ORDERS: tuple[AlertOrder, ...] = get_args(AlertOrder)

CLOSED_ATTENTION = -1
"""The attention of a closed alert (and of a group with no unresolved alert)."""


def attention(state: AlertState, escalation_level: int) -> int:
    """How much an alert asks for an operator now: higher comes first.

    A waiting alert scores ``1 + escalation_level`` (so one escalated three
    times comes before one escalated once, and both before a waiting one that
    never escalated); an acknowledged alert 0; a closed one ``CLOSED_ATTENTION``.
    """
    if state in OPEN_ALERT_STATES:
        return 1 + escalation_level
    if state == "acknowledged":
        return 0
    return CLOSED_ATTENTION


def _rank(severity: Severity) -> int:
    return SEVERITIES.index(severity)


def triage_key(alert: Alert) -> tuple[int, int, datetime, str]:
    """The sort key of an alert in triage order (ascending)."""
    level = attention(alert.state, alert.escalation_level)
    return (-_rank(alert.severity), -level, alert.created_at, alert.id)


def group_triage_key(
    max_severity: Severity, alerts: Iterable[Alert], first_seen: datetime, group_id: str
) -> tuple[int, int, datetime, str]:
    """The sort key of an alert group in triage order, from its alerts (ascending)."""
    level = max((attention(a.state, a.escalation_level) for a in alerts), default=CLOSED_ATTENTION)
    return (-_rank(max_severity), -level, first_seen, group_id)
