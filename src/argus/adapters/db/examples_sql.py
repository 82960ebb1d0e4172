"""The hard-example store on SQL (see ``ports.hard_examples``).

``add`` inserts with ``ON CONFLICT DO NOTHING`` on ``(source, source_key)``
so a replayed verdict or candidate is reported as already stored (``False``)
even when two servers race. ``update`` is one conditional ``UPDATE ...
WHERE version = :expected``; when it matches no row a second read tells an
unknown example from a lost race.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, count_rows, insert_for, transaction
from argus.adapters.db.examples_memory import check_version
from argus.adapters.db.tables_examples import hard_examples as t
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.ports.hard_examples import ExampleFilter, ExampleTally
from argus.ports.paging import Page, check_page

__all__ = ["SqlHardExampleStore"]


def _boxes_json(boxes: Sequence[LabelBox]) -> list[dict[str, Any]]:
    return [
        {
            "x1": b.x1,
            "y1": b.y1,
            "x2": b.x2,
            "y2": b.y2,
            "class_name": b.class_name,
            "score": b.score,
        }
        for b in boxes
    ]


def _boxes(data: Any) -> tuple[LabelBox, ...]:
    return tuple(
        LabelBox(
            float(b["x1"]),
            float(b["y1"]),
            float(b["x2"]),
            float(b["y2"]),
            str(b["class_name"]),
            None if b.get("score") is None else float(b["score"]),
        )
        for b in data or ()
    )


def _row(example: HardExample) -> dict[str, Any]:
    return {
        "id": example.id,
        "camera_id": example.camera_id,
        "source": example.source.value,
        "source_key": example.source_key or None,
        "captured_at": example.captured_at,
        "created_at": example.created_at,
        "frame_evidence_id": example.frame_evidence_id,
        "width": example.width,
        "height": example.height,
        "model_ref": example.model_ref,
        "boxes": _boxes_json(example.boxes),
        "alert_id": example.alert_id,
        "note": example.note,
        "state": example.state.value,
        "assignee": example.assignee,
        "lease_until": example.lease_until,
        "labels": _boxes_json(example.labels),
        "empty": example.empty,
        "labelled_by": example.labelled_by,
        "labelled_at": example.labelled_at,
        "reviewed_by": example.reviewed_by,
        "reviewed_at": example.reviewed_at,
        "review_note": example.review_note,
        "version": example.version,
    }


def _example(row: sa.Row[Any]) -> HardExample:
    return HardExample(
        id=row.id,
        camera_id=row.camera_id,
        source=ExampleSource(row.source),
        captured_at=row.captured_at,
        created_at=row.created_at,
        frame_evidence_id=row.frame_evidence_id,
        width=row.width,
        height=row.height,
        model_ref=row.model_ref,
        boxes=_boxes(row.boxes),
        source_key=row.source_key or "",
        alert_id=row.alert_id,
        note=row.note,
        state=ExampleState(row.state),
        assignee=row.assignee,
        lease_until=row.lease_until,
        labels=_boxes(row.labels),
        empty=bool(row.empty),
        labelled_by=row.labelled_by,
        labelled_at=row.labelled_at,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_note=row.review_note,
        version=row.version,
    )


def _conditions(where: ExampleFilter) -> builtins.list[Any]:
    """``where`` as SQL conditions (the same reading as ``examples_memory.matches``)."""
    conditions: builtins.list[Any] = []
    if where.camera_ids is not None:
        conditions.append(t.c.camera_id.in_(builtins.list(where.camera_ids)))
    if where.sources is not None:
        conditions.append(t.c.source.in_([s.value for s in where.sources]))
    if where.states is not None:
        conditions.append(t.c.state.in_([s.value for s in where.states]))
    if where.assignee is not None:
        conditions.append(t.c.assignee == where.assignee)
    if where.labelled_by is not None:
        conditions.append(t.c.labelled_by == where.labelled_by)
    if where.not_labelled_by is not None:
        conditions.append(t.c.labelled_by.is_not(None))
        conditions.append(t.c.labelled_by != where.not_labelled_by)
    if where.since is not None:
        conditions.append(t.c.captured_at >= where.since)
    if where.until is not None:
        conditions.append(t.c.captured_at < where.until)
    if where.model_ref is not None:
        conditions.append(t.c.model_ref == where.model_ref)
    if where.source_key is not None:
        conditions.append(t.c.source_key == (where.source_key or None))
    return conditions


class SqlHardExampleStore:
    """A ``HardExampleStore`` over the ``hard_examples`` table.

    Args:
        engine: The store's engine.
    """

    def __init__(self, engine: Bind) -> None:
        self._engine = engine
        self._insert = insert_for(engine)

    async def add(self, example: HardExample) -> bool:
        statement = (
            self._insert(t)
            .values(_row(example))
            .on_conflict_do_nothing(index_elements=[t.c.source, t.c.source_key])
            .returning(t.c.id)
        )
        async with transaction(self._engine, f"adding hard example {example.id}") as connection:
            stored = await connection.scalar(statement)
        return stored is not None

    async def get(self, example_id: str) -> HardExample:
        async with transaction(self._engine, "reading a hard example") as connection:
            row = (await connection.execute(sa.select(t).where(t.c.id == example_id))).first()
        if row is None:
            raise NotFoundError(f"no hard example {example_id}")
        return _example(row)

    async def list(
        self, where: ExampleFilter, *, limit: int = 50, offset: int = 0, oldest_first: bool = False
    ) -> Page[HardExample]:
        check_page(limit, offset)
        conditions = _conditions(where)
        order = (
            (t.c.captured_at, t.c.id) if oldest_first else (t.c.captured_at.desc(), t.c.id.desc())
        )
        query = sa.select(t).where(*conditions).order_by(*order).limit(limit).offset(offset)
        async with transaction(self._engine, "listing hard examples") as connection:
            rows = (await connection.execute(query)).all()
            total = await count_rows(connection, t, *conditions)
        return Page(tuple(_example(row) for row in rows), total)

    async def count(self, where: ExampleFilter) -> int:
        async with transaction(self._engine, "counting hard examples") as connection:
            return await count_rows(connection, t, *_conditions(where))

    async def tally(self, where: ExampleFilter) -> Sequence[ExampleTally]:
        query = (
            sa.select(t.c.camera_id, t.c.source, t.c.state, sa.func.count())
            .where(*_conditions(where))
            .group_by(t.c.camera_id, t.c.source, t.c.state)
        )
        async with transaction(self._engine, "counting hard examples") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(
            ExampleTally(row[0], ExampleSource(row[1]), ExampleState(row[2]), int(row[3]))
            for row in rows
        )

    async def update(self, example: HardExample, *, expected_version: int) -> None:
        check_version(example, expected_version)
        values = _row(example)
        del values["id"]
        async with transaction(self._engine, f"updating hard example {example.id}") as connection:
            result = await connection.execute(
                sa.update(t)
                .where(t.c.id == example.id, t.c.version == expected_version)
                .values(values)
            )
            if result.rowcount:
                return
            stored = await connection.scalar(sa.select(t.c.version).where(t.c.id == example.id))
        if stored is None:
            raise NotFoundError(f"no hard example {example.id}")
        raise ConflictError(
            f"hard example {example.id} changed meanwhile "
            f"(version {stored}, expected {expected_version})"
        )

    async def delete(self, example_id: str) -> None:
        async with transaction(self._engine, f"deleting hard example {example_id}") as connection:
            result = await connection.execute(sa.delete(t).where(t.c.id == example_id))
        if not result.rowcount:
            raise NotFoundError(f"no hard example {example_id}")

    async def purge(self, where: ExampleFilter, *, limit: int = 500) -> Sequence[HardExample]:
        check_page(limit)
        query = (
            sa.select(t).where(*_conditions(where)).order_by(t.c.captured_at, t.c.id).limit(limit)
        )
        async with transaction(self._engine, "purging hard examples") as connection:
            rows = (await connection.execute(query)).all()
            gone = tuple(_example(row) for row in rows)
            if gone:
                await connection.execute(sa.delete(t).where(t.c.id.in_([e.id for e in gone])))
        return gone
