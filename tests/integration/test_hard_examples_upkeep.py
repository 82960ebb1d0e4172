"""Hard examples leave with their frames: privacy erasures of a camera's range, retention.

Over memory, SQLite and PostgreSQL (the repository contract's ``store``) with
the real evidence service of ``test_privacy``'s kit: each example's frame is
a sealed evidence item, and removing the example removes the item.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.cameras import Camera, Line, new_id
from argus.domain.errors import NotFoundError
from argus.domain.example_sampling import LineBook
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.ports.audit import AuditFilter
from argus.ports.hard_examples import ExampleFilter
from argus.services.hard_example_intake import ExampleIntake
from argus.services.hard_examples import CollectPolicy, HardExampleService
from tests.integration import test_privacy as privacy
from tests.integration import test_repositories_contract as contract
from tests.integration.test_privacy import ADMIN, FRAME, Kit
from tests.integration.test_repositories_contract import T0

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store
kit = privacy.kit


async def _example(
    kit: Kit, camera_id: str, at: datetime, state: ExampleState = ExampleState.QUEUED
) -> HardExample:
    frame = await kit.evidence.store(FRAME, "frame", "image/jpeg", camera_id=camera_id)
    await kit.evidence.lock(frame.id, actor=SYSTEM_ACTOR)  # as the service seals them
    example = HardExample(
        id=new_id(),
        camera_id=camera_id,
        source=ExampleSource.UNCERTAIN,
        captured_at=at,
        created_at=at,
        frame_evidence_id=frame.id,
        width=64,
        height=48,
        model_ref="yolov7-tiny@1.0.0",
        boxes=(LabelBox(1, 2, 30, 40, "person", 0.41),),
        source_key=new_id(),
        state=state,
    )
    assert await kit.store.db.hard_examples.add(example)
    return example


async def _gone(kit: Kit, example: HardExample) -> bool:
    db = kit.store.db
    try:
        await db.hard_examples.get(example.id)
    except NotFoundError:
        try:
            await db.evidence.get(example.frame_evidence_id)
        except NotFoundError:
            return True
        raise AssertionError(f"the frame of {example.id} outlived it") from None
    return False


async def test_erasing_a_camera_range_erases_its_examples_and_their_frames(kit: Kit) -> None:
    # The kit's evidence clock stands at T0 + 1 min: every frame is created inside the range.
    inside = [await _example(kit, "cam-1", T0 + timedelta(minutes=m)) for m in (1, 2)]
    later = await _example(kit, "cam-1", T0 + timedelta(hours=2))
    other = await _example(kit, "cam-2", T0 + timedelta(minutes=1))
    since, until = T0, T0 + timedelta(hours=1)

    result = await kit.privacy.erase_range(ADMIN, "cam-1", since, until, "request 9")

    assert [await _gone(kit, e) for e in (*inside, later, other)] == [True, True, False, False]
    # The example captured after the range keeps its frame: the frame is locked by its
    # example, so the evidence part of the erasure (by creation time) says why it stays.
    later_frame = await kit.store.db.evidence.get(later.frame_evidence_id)
    assert later_frame.locked
    assert [(k.kind, k.id) for k in result.kept] == [("evidence", later.frame_evidence_id)]
    assert result.evidence == 2  # the two examples' frames
    db = kit.store.db
    (record,) = (await db.audit.list(where=AuditFilter(action="privacy.erase_range"))).items
    assert record.entry.details["erased"]["examples"] == 2


async def test_retention_removes_old_examples_but_keeps_the_annotated_set(kit: Kit) -> None:
    now = T0 + timedelta(days=40)
    service = HardExampleService(
        kit.store.db,
        kit.evidence,
        policy=CollectPolicy(retention=timedelta(days=30)),
        clock=lambda: now,
    )
    old = await _example(kit, "cam-1", T0)
    old_labelled = await _example(kit, "cam-1", T0, ExampleState.LABELLED)
    accepted = await _example(kit, "cam-1", T0, ExampleState.ACCEPTED)
    recent = await _example(kit, "cam-1", now - timedelta(days=1))

    assert await service.sweep() == 2
    assert [await _gone(kit, e) for e in (old, old_labelled, accepted, recent)] == [
        True,
        True,
        False,
        False,
    ]
    actions = await kit.store.db.audit.list(where=AuditFilter(action="example.expire"))
    assert sorted(r.entry.target for r in actions.items) == sorted(
        f"example:{e.id}" for e in (old, old_labelled)
    )
    keep_all = HardExampleService(kit.store.db, kit.evidence, clock=lambda: now)
    assert await keep_all.sweep() == 0


async def test_erase_and_frames_through_the_service(kit: Kit) -> None:
    service = HardExampleService(kit.store.db, kit.evidence, clock=lambda: T0)
    example = await _example(kit, "cam-3", T0 + timedelta(minutes=5))
    assert await service.frame(example.id) == FRAME
    summary = await service.summary(SYSTEM_ACTOR)
    assert (summary.total, summary.by_camera) == (1, {"cam-3": 1})
    assert await service.erase(ADMIN, ["cam-3"], T0, T0 + timedelta(hours=1)) == 1
    assert await _gone(kit, example)
    with pytest.raises(NotFoundError):
        await service.frame(example.id)
    assert await kit.store.db.hard_examples.count(ExampleFilter()) == 0


async def test_the_intake_reads_the_lines_of_the_cameras_running_here(kit: Kit) -> None:
    db = kit.store.db
    here = Camera(id=new_id(), name="Here", stream_url="rtsp://10.0.0.5:554/s1")
    there = Camera(id=new_id(), name="There", stream_url="rtsp://10.0.0.6:554/s1")
    for camera in (here, there):
        await db.cameras.add(camera)
        await db.lines.add(
            Line(id=new_id(), camera_id=camera.id, name="door", start=(0, 10), end=(64, 10))
        )
    pipelines = MemoryPipelines()
    await pipelines.apply(here, [], [])
    book = LineBook()
    service = HardExampleService(db, kit.evidence, pipelines=pipelines)
    intake = ExampleIntake(
        service,
        MemoryEventBus(),
        events_subject="events",
        pipelines=pipelines,
        lines=book,
        database=db,
    )
    await intake.refresh_lines()
    assert book.get(here.id) == (((0, 10), (64, 10)),)
    assert book.get(there.id) == ()
