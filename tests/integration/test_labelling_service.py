"""``LabellingService`` over every real store (memory, SQLite, PostgreSQL).

Claims hold one person at a time until their lease lapses (an injected clock
moves time), saves keep drafts or submit, reviews are by someone else, stale
versions are refused, camera scope hides examples, and every change leaves an
audit record with the labels before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from argus.domain.actor import Actor
from argus.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.domain.identity import Principal
from argus.ports.audit import AuditFilter
from argus.services.labelling import LabelChange, LabellingService, ReviewDecision
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

LEASE = timedelta(minutes=10)
BOX = LabelBox(10, 20, 110, 220, "person")


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _actor(name: str, *, cameras: frozenset[str] | None = None, admin: bool = False) -> Actor:
    permissions = frozenset({"view", "operate", "admin"} if admin else {"view", "operate"})
    principal = Principal(
        kind="user",
        id=f"id-{name}",
        name=name,
        permissions=permissions,  # type: ignore[arg-type]
        cameras=cameras,
        role="admin" if admin else "operator",
    )
    return Actor(principal, ip="127.0.0.1")


ANA, BEN, CAT = _actor("ana"), _actor("ben"), _actor("cat", admin=True)
_SCOPED = _actor("eve", cameras=frozenset({"cam-1"}))


def _example(example_id: str, camera_id: str = "cam-1", minutes: int = 0) -> HardExample:
    return HardExample(
        id=example_id,
        camera_id=camera_id,
        source=ExampleSource.FALSE_POSITIVE,
        captured_at=T0 + timedelta(minutes=minutes),
        created_at=T0 + timedelta(minutes=minutes),
        frame_evidence_id=f"ev-{example_id}",
        width=640,
        height=480,
        model_ref="yolov7-tiny@1",
        boxes=(LabelBox(5, 5, 50, 50, "person", 0.4),),
        source_key=example_id,
    )


Setup = tuple[LabellingService, Clock]


async def _service(store: Store, *examples: HardExample) -> Setup:
    for example in examples:
        assert await store.db.hard_examples.add(example)
    clock = Clock(T0 + timedelta(hours=1))
    return LabellingService(store.db.hard_examples, store.db.audit, clock, lease=LEASE), clock


async def _actions(store: Store, target: str) -> list[str]:
    page = await store.db.audit.list(limit=100, where=AuditFilter(target=target))
    return [r.entry.action for r in reversed(page.items)]


async def test_a_claim_holds_the_example_until_its_lease_lapses(store: Store) -> None:
    service, clock = await _service(store, _example("e1"))
    held = await service.claim(ANA, "e1")
    assert (held.assignee, held.lease_until) == ("user:ana", clock.now + LEASE)
    with pytest.raises(ConflictError, match="held by user:ana"):
        await service.claim(BEN, "e1")
    with pytest.raises(ConflictError):
        await service.save(BEN, "e1", LabelChange((BOX,)))
    renewed = await service.claim(ANA, "e1")  # the holder renews
    assert renewed.version == held.version + 1
    clock.now += LEASE + timedelta(seconds=1)
    taken = await service.claim(BEN, "e1")
    assert taken.assignee == "user:ben"
    stored = await store.db.hard_examples.get("e1")
    assert stored == taken
    assert await _actions(store, "example:e1") == ["example.claim"] * 3


async def test_release_is_the_holders_or_an_administrators(store: Store) -> None:
    service, _ = await _service(store, _example("e1"))
    with pytest.raises(ConflictError, match="nobody holds"):
        await service.release(ANA, "e1")
    await service.claim(ANA, "e1")
    with pytest.raises(PermissionDeniedError):
        await service.release(BEN, "e1")
    released = await service.release(CAT, "e1")
    assert (released.assignee, released.lease_until) == (None, None)
    await service.claim(BEN, "e1")
    assert (await service.release(BEN, "e1")).assignee is None
    records = await store.db.audit.list(limit=10, where=AuditFilter(action="example.release"))
    assert [(r.entry.actor, r.entry.details["assignee"]) for r in records.items] == [
        ("user:ben", "user:ben"),
        ("user:cat", "user:ana"),
    ]


async def test_a_draft_keeps_the_hold_and_a_submit_hands_it_to_review(store: Store) -> None:
    service, clock = await _service(store, _example("e1"))
    draft = await service.save(ANA, "e1", LabelChange((BOX,)))  # claims a free example
    assert (draft.state, draft.labels, draft.assignee) == (ExampleState.QUEUED, (BOX,), "user:ana")
    assert draft.lease_until == clock.now + LEASE
    assert not draft.labelled
    second = LabelBox(300, 100, 400, 300, "car")
    submitted = await service.save(
        ANA, "e1", LabelChange((BOX, second), submit=True, expected_version=draft.version)
    )
    assert submitted.state is ExampleState.LABELLED
    assert (submitted.labelled_by, submitted.labelled_at) == ("user:ana", clock.now)
    assert (submitted.assignee, submitted.lease_until) == (None, None)
    with pytest.raises(ConflictError, match="not open for labelling"):
        await service.claim(BEN, "e1")
    records = await store.db.audit.list(limit=10, where=AuditFilter(action="example.label"))
    last = records.items[0].entry.details
    assert last["submitted"] is True
    assert last["before"] == {
        "labels": [{"x1": 10, "y1": 20, "x2": 110, "y2": 220, "class_name": "person"}],
        "empty": False,
    }
    assert [b["class_name"] for b in last["after"]["labels"]] == ["person", "car"]


async def test_nothing_here_and_bad_boxes(store: Store) -> None:
    service, _ = await _service(store, _example("e1"))
    empty = await service.save(ANA, "e1", LabelChange((), empty=True, submit=True))
    assert (empty.empty, empty.labels, empty.state) == (True, (), ExampleState.LABELLED)
    service2, _ = await _service(store, _example("e2"))
    with pytest.raises(ValidationError):
        await service2.save(ANA, "e2", LabelChange((BOX,), empty=True))
    with pytest.raises(ValidationError, match="within the 640x480 frame"):
        await service2.save(ANA, "e2", LabelChange((LabelBox(600, 400, 700, 470, "car"),)))
    assert (await store.db.hard_examples.get("e2")).labels == ()


async def test_a_stale_version_is_refused(store: Store) -> None:
    service, _ = await _service(store, _example("e1"))
    first = await service.save(ANA, "e1", LabelChange((BOX,)))
    await service.save(ANA, "e1", LabelChange((), expected_version=first.version))
    with pytest.raises(ConflictError, match="reload"):
        await service.save(ANA, "e1", LabelChange((BOX,), expected_version=first.version))


async def test_review_is_by_someone_else_and_a_rejection_reopens_it(store: Store) -> None:
    service, clock = await _service(store, _example("e1"))
    with pytest.raises(ConflictError, match="not waiting for review"):
        await service.review(BEN, "e1", ReviewDecision(accept=True))
    labelled = await service.save(ANA, "e1", LabelChange((BOX,), submit=True))
    with pytest.raises(PermissionDeniedError, match="someone other than its labeller"):
        await service.review(ANA, "e1", ReviewDecision(accept=True))
    rejected = await service.review(
        BEN, "e1", ReviewDecision(False, "the bicycle too", expected_version=labelled.version)
    )
    assert (rejected.state, rejected.review_note) == (ExampleState.REJECTED, "the bicycle too")
    assert (rejected.reviewed_by, rejected.reviewed_at) == ("user:ben", clock.now)
    fixed = await service.save(
        ANA, "e1", LabelChange((BOX, LabelBox(1, 1, 9, 9, "bicycle")), submit=True)
    )
    assert (fixed.reviewed_by, fixed.state) == (None, ExampleState.LABELLED)
    accepted = await service.review(CAT, "e1", ReviewDecision(True))
    assert accepted.state is ExampleState.ACCEPTED
    with pytest.raises(ConflictError):
        await service.save(ANA, "e1", LabelChange(()))
    assert await _actions(store, "example:e1") == [
        "example.label",
        "example.review",
        "example.label",
        "example.review",
    ]
    review = await store.db.audit.list(limit=1, where=AuditFilter(action="example.review"))
    assert review.items[0].entry.details["accepted"] is True


async def test_claim_next_takes_the_oldest_free_one_in_scope(store: Store) -> None:
    service, _ = await _service(
        store,
        _example("old", minutes=1),
        _example("other-cam", "cam-2", minutes=0),
        _example("new", minutes=5),
        _example("newest", minutes=9),
    )
    scoped = _actor("dan", cameras=frozenset({"cam-1"}))
    await service.claim(ANA, "old")
    got = await service.claim_next(scoped)
    assert got is not None
    assert got.id == "new"
    again = await service.claim_next(scoped)  # the caller's own hold comes back first
    assert again is not None
    assert again.id == "new"
    first = await service.claim_next(BEN)
    assert first is not None
    assert first.id == "other-cam"
    assert (await service.claim_next(BEN)) == first
    await service.save(BEN, "other-cam", LabelChange((), empty=True, submit=True))
    last = await service.claim_next(BEN)
    assert last is not None
    assert last.id == "newest"
    await service.save(BEN, "newest", LabelChange((), empty=True, submit=True))
    assert await service.claim_next(BEN) is None
    with pytest.raises(PermissionDeniedError):
        await service.claim_next(scoped, "cam-2")


Call = Callable[[LabellingService], object]


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda s: s.claim(_SCOPED, "e2"), id="claim"),
        pytest.param(lambda s: s.release(_SCOPED, "e2"), id="release"),
        pytest.param(lambda s: s.save(_SCOPED, "e2", LabelChange(())), id="save"),
        pytest.param(lambda s: s.review(_SCOPED, "e2", ReviewDecision(True)), id="review"),
    ],
)
async def test_examples_of_other_cameras_do_not_exist_for_a_scoped_caller(
    store: Store, call: Call
) -> None:
    service, _ = await _service(store, _example("e2", "cam-2"))
    with pytest.raises(NotFoundError, match="no example e2"):
        await call(service)  # type: ignore[misc]
    assert await _actions(store, "example:e2") == []
