"""``alerts.escalation_level``, the triage order and alert counts as SQL (``domain.alerts.triage``).

The column joins the ``alerts`` table here (``tables`` is at its size limit),
like ``tables_groups`` adds ``group_id``; every module that writes alerts
imports this one. ``severity_rank`` and ``attention_of`` are the ``CASE``
expressions of ``domain.alerts.triage``, so the stores sort in the database
exactly as the in-memory reference does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from argus.adapters.db.tables import alerts
from argus.domain.alerts import ALERT_STATES, OPEN_ALERT_STATES, SEVERITIES
from argus.domain.alerts.triage import CLOSED_ATTENTION
from argus.ports.alerts import AlertSummary

__all__ = ["attention_of", "severity_rank", "summary_of"]

if "escalation_level" not in alerts.c:
    alerts.append_column(
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
    )


def severity_rank(column: Any) -> Any:
    """``SEVERITIES.index(column)`` in SQL: low 0, medium 1, high 2."""
    return sa.case(
        *((column == severity, rank) for rank, severity in enumerate(SEVERITIES)), else_=0
    )


def attention_of(state: Any, escalation_level: Any) -> Any:
    """``triage.attention(state, escalation_level)`` in SQL."""
    return sa.case(
        (state.in_(sorted(OPEN_ALERT_STATES)), escalation_level + 1),
        (state == "acknowledged", 0),
        else_=CLOSED_ATTENTION,
    )


async def summary_of(connection: AsyncConnection, conditions: Sequence[Any]) -> AlertSummary:
    """Counts of the alerts under ``conditions``, per severity and per state (one query)."""
    query = (
        sa.select(alerts.c.severity, alerts.c.state, sa.func.count())
        .where(*conditions)
        .group_by(alerts.c.severity, alerts.c.state)
    )
    by_severity: dict[Any, int] = dict.fromkeys(SEVERITIES, 0)
    by_state: dict[Any, int] = dict.fromkeys(ALERT_STATES, 0)
    for severity, state, count in (await connection.execute(query)).all():
        by_severity[severity] = by_severity.get(severity, 0) + int(count)
        by_state[state] = by_state.get(state, 0) + int(count)
    return AlertSummary(sum(by_severity.values()), by_severity, by_state)
