"""Labelling hard examples: claim, label, release, review (audited).

One person labels an example at a time. ``claim`` gives the caller a lease
(``lease`` long, renewed by every save); while it runs nobody else may claim or
save the example, and once it lapses anyone may. ``save`` stores the caller's
boxes (or "nothing here") as a draft or, with ``submit``, hands the example to
review. ``review`` accepts the label into the annotated set or sends it back
(``rejected``: claimable again, with the reviewer's note); nobody reviews their
own label. ``release`` gives up a lease (an administrator may end anyone's).

Every change is an optimistic update of the stored example
(``HardExampleStore.update`` with the version read), so two servers or two tabs
never overwrite each other silently, and every change is audited as
``example.claim``, ``example.release``, ``example.label`` (labels before and
after) or ``example.review``. Examples of cameras outside the actor's scope do
not exist for it (``NotFoundError``). People are named as the audit trail names
them (``user:<name>``, ``apikey:<id>``) in ``assignee``, ``labelled_by`` and
``reviewed_by``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argus.domain.actor import Actor
from argus.domain.errors import ConflictError, PermissionDeniedError, ValidationError
from argus.domain.hard_examples import ExampleState, HardExample, LabelBox
from argus.ports.audit import AuditLog
from argus.ports.hard_examples import ExampleFilter, HardExampleStore
from argus.services.writes import record, require_camera, require_visible

__all__ = ["LABELLABLE", "LabelChange", "LabellingService", "ReviewDecision"]

LABELLABLE = frozenset({ExampleState.QUEUED, ExampleState.REJECTED})
"""States in which an example may be claimed and labelled."""

_NEXT_BATCH = 50


@dataclass(frozen=True, slots=True)
class LabelChange:
    """A labeller's boxes for an example.

    Attributes:
        labels: The boxes (empty with ``empty``: nothing there).
        empty: The frame shows nothing to detect.
        submit: Hand the label to review (else a draft the labeller keeps).
        expected_version: The version the labeller read; ``None`` skips the check
            (the save still never overwrites a concurrent change).
    """

    labels: tuple[LabelBox, ...]
    empty: bool = False
    submit: bool = False
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """A reviewer's verdict on a label.

    Attributes:
        accept: Accept it into the annotated set; ``False`` sends it back.
        note: Why (shown to the next labeller), at most 500 characters.
        expected_version: The version the reviewer looked at, if known.
    """

    accept: bool
    note: str = ""
    expected_version: int | None = None

    def __post_init__(self) -> None:
        if len(self.note) > 500:
            raise ValidationError("a review note is at most 500 characters")


def _boxes(boxes: Sequence[LabelBox]) -> list[dict[str, Any]]:
    return [
        {"x1": b.x1, "y1": b.y1, "x2": b.x2, "y2": b.y2, "class_name": b.class_name} for b in boxes
    ]


class LabellingService:
    """Claims, labels and reviews of hard examples.

    Args:
        examples: The hard-example store.
        audit: Where changes are recorded.
        clock: The current time (UTC).
        lease: How long a claim holds an example.
    """

    def __init__(
        self,
        examples: HardExampleStore,
        audit: AuditLog,
        clock: Callable[[], datetime],
        *,
        lease: timedelta = timedelta(minutes=15),
    ) -> None:
        if lease <= timedelta(0):
            raise ValidationError("a labelling lease must be positive")
        self._examples = examples
        self._audit = audit
        self._clock = clock
        self._lease = lease

    async def _visible(self, actor: Actor, example_id: str) -> HardExample:
        example = await self._examples.get(example_id)
        require_visible(actor, example.camera_id, f"example {example_id}")
        return example

    @staticmethod
    def _check_version(example: HardExample, expected: int | None) -> None:
        if expected is not None and expected != example.version:
            raise ConflictError(
                f"example {example.id} changed since version {expected} "
                f"(now {example.version}): reload it"
            )

    def _check_free(self, actor: Actor, example: HardExample, now: datetime) -> None:
        if example.state not in LABELLABLE:
            raise ConflictError(f"example {example.id} is {example.state}, not open for labelling")
        if example.held_by_other(actor.audit_name, now):
            raise ConflictError(
                f"example {example.id} is held by {example.assignee} until "
                f"{example.lease_until.isoformat() if example.lease_until else '?'}"
            )

    async def claim(self, actor: Actor, example_id: str) -> HardExample:
        """Hold the example for labelling (or renew the caller's hold); audited.

        Raises:
            NotFoundError: No such example in the actor's scope.
            ConflictError: Someone else holds it, or it is not open for labelling.
        """
        example = await self._visible(actor, example_id)
        return await self._claim(actor, example)

    async def _claim(self, actor: Actor, example: HardExample) -> HardExample:
        now = self._clock()
        self._check_free(actor, example, now)
        claimed = example.bumped(assignee=actor.audit_name, lease_until=now + self._lease)
        await self._examples.update(claimed, expected_version=example.version)
        await record(
            self._audit,
            actor,
            "example.claim",
            f"example:{example.id}",
            at=now,
            camera_id=example.camera_id,
            lease_until=claimed.lease_until.isoformat() if claimed.lease_until else None,
            previous_assignee=example.assignee,
        )
        return claimed

    async def claim_next(self, actor: Actor, camera_id: str | None = None) -> HardExample | None:
        """Claim the oldest example open for labelling that nobody holds; ``None``: none left.

        The caller's own held example comes first, so a reload finds its work again.

        Raises:
            PermissionDeniedError: ``camera_id`` is outside the actor's scope.
        """
        if camera_id is not None:
            require_camera(actor, camera_id)
        scope = None if actor.principal is None else actor.principal.cameras
        cameras = (camera_id,) if camera_id is not None else scope
        mine = await self._examples.list(
            ExampleFilter(camera_ids=cameras, states=LABELLABLE, assignee=actor.audit_name),
            limit=1,
            oldest_first=True,
        )
        now = self._clock()
        for example in mine.items:
            if example.held_by(actor.audit_name, now):
                return example
        offset = 0
        while True:
            page = await self._examples.list(
                ExampleFilter(camera_ids=cameras, states=LABELLABLE),
                limit=_NEXT_BATCH,
                offset=offset,
                oldest_first=True,
            )
            for example in page.items:
                if example.held_by_other(actor.audit_name, now):
                    continue
                try:
                    return await self._claim(actor, example)
                except ConflictError:  # taken meanwhile: try the next one
                    continue
            if len(page.items) < _NEXT_BATCH:
                return None
            offset += _NEXT_BATCH

    async def release(self, actor: Actor, example_id: str) -> HardExample:
        """Give up the caller's hold (an administrator may end anyone's); audited.

        Raises:
            NotFoundError: No such example in the actor's scope.
            ConflictError: Nobody holds it.
            PermissionDeniedError: Someone else holds it and the actor is not an administrator.
        """
        example = await self._visible(actor, example_id)
        if example.assignee is None:
            raise ConflictError(f"nobody holds example {example_id}")
        if example.assignee != actor.audit_name and not (
            actor.principal is None or actor.principal.can("admin")
        ):
            raise PermissionDeniedError(f"example {example_id} is held by {example.assignee}")
        released = example.bumped(assignee=None, lease_until=None)
        await self._examples.update(released, expected_version=example.version)
        await record(
            self._audit,
            actor,
            "example.release",
            f"example:{example_id}",
            at=self._clock(),
            camera_id=example.camera_id,
            assignee=example.assignee,
        )
        return released

    async def save(self, actor: Actor, example_id: str, change: LabelChange) -> HardExample:
        """Store the caller's labels (a draft, or submitted for review); audited with before/after.

        A caller who does not hold the example claims it first, if it is free.

        Raises:
            NotFoundError: No such example in the actor's scope.
            ConflictError: Someone else holds it, it is not open for labelling, or it
                changed since ``change.expected_version``.
            ValidationError: A box lies outside the frame, too many boxes, or boxes
                together with "nothing here".
        """
        example = await self._visible(actor, example_id)
        self._check_version(example, change.expected_version)
        now = self._clock()
        self._check_free(actor, example, now)
        if change.empty and change.labels:
            raise ValidationError("an example marked as showing nothing has no boxes")
        fields: dict[str, object] = {"labels": change.labels, "empty": change.empty}
        if change.submit:
            fields |= {
                "state": ExampleState.LABELLED,
                "labelled_by": actor.audit_name,
                "labelled_at": now,
                "assignee": None,
                "lease_until": None,
                "reviewed_by": None,
                "reviewed_at": None,
            }
        else:
            fields |= {"assignee": actor.audit_name, "lease_until": now + self._lease}
        saved = example.bumped(**fields)
        await self._examples.update(saved, expected_version=example.version)
        await record(
            self._audit,
            actor,
            "example.label",
            f"example:{example_id}",
            at=now,
            camera_id=example.camera_id,
            submitted=change.submit,
            before={"labels": _boxes(example.labels), "empty": example.empty},
            after={"labels": _boxes(saved.labels), "empty": saved.empty},
        )
        return saved

    async def review(self, actor: Actor, example_id: str, decision: ReviewDecision) -> HardExample:
        """Accept a submitted label, or send it back with a note; audited.

        Raises:
            NotFoundError: No such example in the actor's scope.
            ConflictError: It is not waiting for review, or it changed since
                ``decision.expected_version``.
            PermissionDeniedError: The actor labelled it.
        """
        example = await self._visible(actor, example_id)
        self._check_version(example, decision.expected_version)
        if example.state is not ExampleState.LABELLED:
            raise ConflictError(f"example {example_id} is {example.state}, not waiting for review")
        if example.labelled_by == actor.audit_name:
            raise PermissionDeniedError("a label is reviewed by someone other than its labeller")
        now = self._clock()
        reviewed = example.bumped(
            state=ExampleState.ACCEPTED if decision.accept else ExampleState.REJECTED,
            reviewed_by=actor.audit_name,
            reviewed_at=now,
            review_note=decision.note,
        )
        await self._examples.update(reviewed, expected_version=example.version)
        await record(
            self._audit,
            actor,
            "example.review",
            f"example:{example_id}",
            at=now,
            camera_id=example.camera_id,
            accepted=decision.accept,
            note=decision.note,
            labelled_by=example.labelled_by,
            labels=len(example.labels),
            empty=example.empty,
        )
        return reviewed
