"""Bulk steps: acknowledge or dismiss many alerts, each by its id, in one request.

An operator selects alerts in the inbox and acknowledges or dismisses them at
once. Each alert goes through ``AlertService``'s single-alert step (its own
unit of work, audit record and announcement), exactly as if it had been taken
one by one, so a bulk step is audited like single steps and one alert that
fails (unknown, outside the caller's scope, in a state the step does not
apply to, changed meanwhile) fails alone: the outcome is reported per id, in
the order given.

Dismissing closes an alert as a false positive and needs a reason; a waiting
alert is acknowledged first (with the same note), as the single-alert "False
positive" button does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from argus.domain.actor import Actor
from argus.domain.alerts import OPEN_ALERT_STATES, Alert
from argus.domain.errors import ArgusError, StorageError, ValidationError

__all__ = ["BULK_ACTIONS", "BULK_MAX", "BulkAction", "BulkOutcome", "apply_bulk"]

BulkAction = Literal["acknowledge", "dismiss"]
BULK_ACTIONS: tuple[BulkAction, ...] = get_args(BulkAction)

BULK_MAX = 500
"""Most alerts one bulk step names."""


class SingleSteps(Protocol):
    """The single-alert steps a bulk step repeats (``AlertService`` has them)."""

    async def get_alert(self, alert_id: str, actor: Actor | None = None) -> Alert: ...

    async def acknowledge(
        self, actor: Actor, alert_id: str, note: str = "", *, via: str | None = None
    ) -> Alert: ...

    async def dismiss(self, actor: Actor, alert_id: str, note: str = "") -> Alert: ...


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What a bulk step did to one alert.

    Attributes:
        alert_id: The alert named.
        alert: The alert after the step; ``None`` when it failed.
        error: Why the step failed; ``None`` when it succeeded.
    """

    alert_id: str
    alert: Alert | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the step succeeded."""
        return self.error is None


def _check(ids: Sequence[str], action: str, note: str) -> None:
    if not ids:
        raise ValidationError("name at least one alert")
    if len(ids) > BULK_MAX:
        raise ValidationError(f"a bulk step names at most {BULK_MAX} alerts, got {len(ids)}")
    if len(set(ids)) != len(ids):
        raise ValidationError("an alert is named twice")
    if action not in BULK_ACTIONS:
        raise ValidationError(f"action must be one of {', '.join(BULK_ACTIONS)}")
    if action == "dismiss" and not note.strip():
        raise ValidationError("dismissing alerts as false positives needs a reason")


async def _one(
    steps: SingleSteps, actor: Actor, alert_id: str, action: BulkAction, note: str
) -> Alert:
    if action == "acknowledge":
        return await steps.acknowledge(actor, alert_id, note)
    alert = await steps.get_alert(alert_id, actor)
    if alert.state in OPEN_ALERT_STATES:
        await steps.acknowledge(actor, alert_id, note)
    return await steps.dismiss(actor, alert_id, note)


async def apply_bulk(
    steps: SingleSteps, actor: Actor, ids: Sequence[str], action: BulkAction, note: str = ""
) -> tuple[BulkOutcome, ...]:
    """Take ``action`` on every alert of ``ids``, each by id; the outcome per id, in order.

    Raises:
        ValidationError: No id, more than ``BULK_MAX``, an id twice, an unknown
            action, or a dismissal without a reason (nothing is changed).
        StorageError: The store failed (the alerts before it keep their step).
    """
    _check(ids, action, note)
    outcomes: list[BulkOutcome] = []
    for alert_id in ids:
        try:
            alert = await _one(steps, actor, alert_id, action, note)
        except StorageError:
            raise
        except ArgusError as exc:  # this alert's step failed; the others go on
            outcomes.append(BulkOutcome(alert_id, error=str(exc)))
        else:
            outcomes.append(BulkOutcome(alert_id, alert))
    return tuple(outcomes)
