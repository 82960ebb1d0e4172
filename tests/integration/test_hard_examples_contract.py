"""The hard-example store's contract, on memory, SQLite and PostgreSQL.

The ``store`` fixture of the repository contract (``test_repositories_contract``)
gives a fresh, migrated store of each kind.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

import pytest

from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.hard_examples import (
    ExampleSource,
    ExampleState,
    HardExample,
    LabelBox,
)
from argus.ports.hard_examples import ExampleFilter, ExampleTally, HardExampleStore
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

ALL = ExampleFilter()


def _example(
    example_id: str,
    camera_id: str = "cam-1",
    minutes: int = 0,
    source: ExampleSource = ExampleSource.UNCERTAIN,
    key: str | None = None,
    **changes: object,
) -> HardExample:
    example = HardExample(
        id=example_id,
        camera_id=camera_id,
        source=source,
        captured_at=T0 + timedelta(minutes=minutes),
        created_at=T0 + timedelta(minutes=minutes, seconds=1),
        frame_evidence_id=f"ev-{example_id}",
        width=640,
        height=480,
        model_ref="yolov7-tiny@1.0.0",
        boxes=(LabelBox(10.5, 20.25, 110.0, 220.0, "person", 0.4375),),
        source_key=f"key-{example_id}" if key is None else key,
        alert_id=None,
        note="score 0.44 in [0.30, 0.55)",
    )
    return example.bumped(**changes) if changes else example


async def _ids(
    examples: HardExampleStore, where: ExampleFilter = ALL, **kwargs: int | bool
) -> list[str]:
    page = await examples.list(where, **kwargs)  # type: ignore[arg-type]
    return [e.id for e in page.items]


async def test_examples_round_trip_with_every_field(store: Store) -> None:
    examples = store.db.hard_examples
    plain = _example("e1")
    labelled = _example(
        "e2",
        source=ExampleSource.FALSE_POSITIVE,
        alert_id="alert-9",
        state=ExampleState.LABELLED,
        assignee="user:ann",
        lease_until=T0 + timedelta(hours=1),
        labels=(LabelBox(1.0, 2.0, 3.0, 4.0, "car"), LabelBox(5.0, 6.0, 70.0, 80.0, "person")),
        labelled_by="user:ann",
        labelled_at=T0 + timedelta(minutes=30),
        reviewed_by="user:bob",
        reviewed_at=T0 + timedelta(minutes=40),
        review_note="two boxes, fine",
    )
    nothing = _example("e3", empty=True, boxes=(), labelled_by="user:ann", labelled_at=T0)
    for example in (plain, labelled, nothing):
        assert await examples.add(example) is True
    assert await examples.get("e1") == plain
    assert await examples.get("e2") == labelled
    assert await examples.get("e3") == nothing
    with pytest.raises(NotFoundError):
        await examples.get("nope")


async def test_a_source_key_is_stored_once_and_an_empty_key_never_collides(store: Store) -> None:
    examples = store.db.hard_examples
    assert await examples.add(_example("a", key="alert-1"))
    assert await examples.add(_example("b", key="alert-1")) is False
    # The same key from another source is another example.
    assert await examples.add(_example("c", key="alert-1", source=ExampleSource.CONFIRMED))
    assert await examples.add(_example("d", key=""))
    assert await examples.add(_example("e", key=""))
    assert sorted(await _ids(examples)) == ["a", "c", "d", "e"]
    assert (await examples.get("d")).source_key == ""
    with pytest.raises(ConflictError):
        await examples.add(_example("a", key="another"))


async def test_lists_filter_page_and_order_by_capture(store: Store) -> None:
    examples = store.db.hard_examples
    await examples.add(_example("e1", "cam-1", 1))
    await examples.add(_example("e2", "cam-2", 2, ExampleSource.FALSE_POSITIVE))
    await examples.add(
        _example(
            "e3",
            "cam-1",
            3,
            state=ExampleState.LABELLED,
            labelled_by="user:ann",
            labelled_at=T0,
            assignee="user:ann",
        )
    )
    await examples.add(
        _example(
            "e4",
            "cam-3",
            4,
            ExampleSource.SHORT_TRACK,
            state=ExampleState.ACCEPTED,
            labelled_by="user:bob",
            labelled_at=T0,
            model_ref="ssd@2",
        )
    )
    assert await _ids(examples) == ["e4", "e3", "e2", "e1"]
    assert await _ids(examples, oldest_first=True) == ["e1", "e2", "e3", "e4"]
    page = await examples.list(ALL, limit=2, offset=1)
    assert ([e.id for e in page.items], page.total) == (["e3", "e2"], 4)
    cases: list[tuple[ExampleFilter, list[str]]] = [
        (ExampleFilter(camera_ids={"cam-1", "cam-3"}), ["e4", "e3", "e1"]),
        (ExampleFilter(camera_ids=set()), []),
        (ExampleFilter(sources={ExampleSource.FALSE_POSITIVE}), ["e2"]),
        (ExampleFilter(sources=()), []),
        (ExampleFilter(states={ExampleState.QUEUED}), ["e2", "e1"]),
        (ExampleFilter(states={ExampleState.LABELLED, ExampleState.ACCEPTED}), ["e4", "e3"]),
        (ExampleFilter(assignee="user:ann"), ["e3"]),
        (ExampleFilter(labelled_by="user:bob"), ["e4"]),
        (ExampleFilter(not_labelled_by="user:ann"), ["e4"]),
        (ExampleFilter(since=T0 + timedelta(minutes=2)), ["e4", "e3", "e2"]),
        (ExampleFilter(until=T0 + timedelta(minutes=2)), ["e1"]),
        (ExampleFilter(model_ref="ssd@2"), ["e4"]),
        (ExampleFilter(source_key="key-e2"), ["e2"]),
        (ExampleFilter(source_key="nothing"), []),
        (ExampleFilter(camera_ids={"cam-1"}, states={ExampleState.QUEUED}), ["e1"]),
    ]
    for where, expected in cases:
        assert await _ids(examples, where) == expected, where
        assert await examples.count(where) == len(expected), where
    with pytest.raises(ValidationError):
        await examples.list(ALL, limit=0)
    with pytest.raises(ValidationError):
        await examples.list(ALL, offset=-1)


async def test_tally_counts_by_camera_source_and_state(store: Store) -> None:
    examples = store.db.hard_examples
    await examples.add(_example("e1", "cam-1", 1))
    await examples.add(_example("e2", "cam-1", 2))
    await examples.add(_example("e3", "cam-1", 3, ExampleSource.CONFIRMED))
    await examples.add(_example("e4", "cam-2", 4, state=ExampleState.ACCEPTED))
    tally = await examples.tally(ALL)
    assert sorted(tally, key=lambda t: (t.camera_id, t.source, t.state)) == [
        ExampleTally("cam-1", ExampleSource.CONFIRMED, ExampleState.QUEUED, 1),
        ExampleTally("cam-1", ExampleSource.UNCERTAIN, ExampleState.QUEUED, 2),
        ExampleTally("cam-2", ExampleSource.UNCERTAIN, ExampleState.ACCEPTED, 1),
    ]
    scoped: Collection[ExampleTally] = await examples.tally(ExampleFilter(camera_ids={"cam-2"}))
    assert list(scoped) == [
        ExampleTally("cam-2", ExampleSource.UNCERTAIN, ExampleState.ACCEPTED, 1)
    ]
    assert list(await examples.tally(ExampleFilter(camera_ids=()))) == []


async def test_update_is_compare_and_set_on_the_version(store: Store) -> None:
    examples = store.db.hard_examples
    stored = _example("e1")
    await examples.add(stored)
    held = stored.bumped(assignee="user:ann", lease_until=T0 + timedelta(minutes=10))
    await examples.update(held, expected_version=stored.version)
    assert await examples.get("e1") == held
    assert held.version == 2
    # A second writer that read version 1 loses, whatever it writes.
    late = stored.bumped(assignee="user:bob", lease_until=T0 + timedelta(minutes=10))
    with pytest.raises(ConflictError):
        await examples.update(late, expected_version=stored.version)
    assert (await examples.get("e1")).assignee == "user:ann"
    with pytest.raises(ValidationError):
        await examples.update(held, expected_version=held.version)
    with pytest.raises(NotFoundError):
        await examples.update(_example("ghost").bumped(), expected_version=1)
    labelled = held.bumped(
        state=ExampleState.LABELLED,
        labels=(LabelBox(0.0, 0.0, 640.0, 480.0, "bus"),),
        labelled_by="user:ann",
        labelled_at=T0 + timedelta(minutes=5),
        assignee=None,
        lease_until=None,
    )
    await examples.update(labelled, expected_version=2)
    assert await examples.get("e1") == labelled


async def test_delete_and_purge_remove_examples_oldest_first(store: Store) -> None:
    examples = store.db.hard_examples
    for n, camera in enumerate(["cam-1", "cam-1", "cam-2", "cam-1"]):
        await examples.add(_example(f"e{n}", camera, n))
    await examples.delete("e1")
    with pytest.raises(NotFoundError):
        await examples.delete("e1")
    gone = await examples.purge(ExampleFilter(camera_ids={"cam-1"}), limit=1)
    assert [e.id for e in gone] == ["e0"]
    assert gone[0] == _example("e0", "cam-1", 0)
    assert await _ids(examples) == ["e3", "e2"]
    gone = await examples.purge(ExampleFilter(until=T0 + timedelta(minutes=10)))
    assert [e.id for e in gone] == ["e2", "e3"]
    assert await examples.purge(ALL) == ()
    with pytest.raises(ValidationError):
        await examples.purge(ALL, limit=0)
