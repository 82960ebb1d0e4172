"""The model registry store's contract, on memory, SQLite and PostgreSQL.

The ``store`` fixture of the repository contract (``test_repositories_contract``)
gives a fresh, migrated store of each kind.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.model_registry import AssignmentAction, ModelAssignment, ModelVersion
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _version(name: str, version: str, minutes: int = 0) -> ModelVersion:
    return ModelVersion(
        name=name,
        version=version,
        kind="yolo-onnx",
        manifest={"name": name, "version": version, "files": [{"path": "m.onnx"}]},
        location=f"{name}/{version}",
        registered_at=T0 + timedelta(minutes=minutes),
        registered_by="system",
        notes="built",
    )


def _assignment(
    ident: str, camera_id: str, change: tuple[str, str], minutes: int, action: AssignmentAction
) -> ModelAssignment:
    ref, previous = change
    return ModelAssignment(
        id=ident,
        camera_id=camera_id,
        ref=ref,
        previous_ref=previous,
        action=action,
        at=T0 + timedelta(minutes=minutes),
        by="user:ops",
    )


async def test_versions_are_registered_once_and_listed_by_name_then_age(store: Store) -> None:
    registry = store.db.model_registry
    assert await registry.add_version(_version("yolov7-tiny", "1.0.2", minutes=5))
    assert await registry.add_version(_version("yolov7-tiny", "1.0.1", minutes=1))
    assert await registry.add_version(_version("custom", "abc123", minutes=9))
    assert not await registry.add_version(_version("yolov7-tiny", "1.0.1", minutes=30))
    listed = await registry.versions()
    assert [v.ref for v in listed] == ["custom@abc123", "yolov7-tiny@1.0.1", "yolov7-tiny@1.0.2"]
    assert listed[1] == _version("yolov7-tiny", "1.0.1", minutes=1)
    assert listed[1].manifest["files"] == [{"path": "m.onnx"}]
    assert [v.version for v in await registry.versions("yolov7-tiny")] == ["1.0.1", "1.0.2"]
    assert await registry.versions("none") == ()
    assert await registry.get_version("custom", "abc123") == _version("custom", "abc123", 9)
    with pytest.raises(NotFoundError):
        await registry.get_version("custom", "nope")


async def test_assignment_history_is_per_camera_newest_first(store: Store) -> None:
    registry = store.db.model_registry
    first = _assignment("a1", "cam-1", ("m@2", "m"), 1, "assign")
    second = _assignment("a2", "cam-1", ("m", "m@2"), 2, "rollback")
    other = _assignment("a3", "cam-2", ("m@2", "m"), 3, "promote")
    for item in (first, other, second):
        await registry.add_assignment(item)
    assert await registry.assignments("cam-1") == (second, first)
    assert await registry.assignments("cam-1", limit=1) == (second,)
    assert await registry.assignments("cam-2") == (other,)
    assert await registry.assignments("cam-3") == ()
    with pytest.raises(ConflictError):
        await registry.add_assignment(first)
    with pytest.raises(ValidationError):
        await registry.assignments("cam-1", limit=0)
