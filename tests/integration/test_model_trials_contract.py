"""The model-trial store's contract, on memory, SQLite and PostgreSQL.

The ``store`` fixture of the repository contract (``test_repositories_contract``)
gives a fresh, migrated store of each kind.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from argus.domain.detection_agreement import AgreementTally
from argus.domain.detection_eval import ClassScores, EvaluationScores
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.model_trials import EvaluationRun, EvaluationState, ShadowPlan, ShadowReport
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _plan(camera_id: str, candidate: str = "ssd-mobilenet-v3") -> ShadowPlan:
    return ShadowPlan(camera_id, candidate, 10, 30, 0.5, T0, "user:admin")


def _report(event_id: str, camera_id: str, minutes: int, candidate: str = "ssd@1") -> ShadowReport:
    return ShadowReport(
        event_id=event_id,
        camera_id=camera_id,
        production="yolov7-tiny@1.0.1",
        candidate=candidate,
        started_at=T0 + timedelta(minutes=minutes - 1),
        ended_at=T0 + timedelta(minutes=minutes),
        tally=AgreementTally(frames=30, matched=50, class_mismatch=2, only_production=5),
        production_ms=40.5,
        candidate_ms=80.25,
    )


async def test_plans_are_replaced_listed_and_removed(store: Store) -> None:
    trials = store.db.model_trials
    await trials.put_plan(_plan("cam-2"))
    await trials.put_plan(_plan("cam-1"))
    await trials.put_plan(_plan("cam-2", "yolov7-tiny@2"))
    assert await trials.plans() == [_plan("cam-1"), _plan("cam-2", "yolov7-tiny@2")]
    assert await trials.delete_plan("cam-1") is True
    assert await trials.delete_plan("cam-1") is False
    assert [p.camera_id for p in await trials.plans()] == ["cam-2"]


async def test_reports_are_kept_once_and_listed_newest_first(store: Store) -> None:
    trials = store.db.model_trials
    assert await trials.add_report(_report("e1", "cam-1", 1)) is True
    assert await trials.add_report(_report("e1", "cam-1", 1)) is False
    await trials.add_report(_report("e2", "cam-2", 2))
    await trials.add_report(_report("e3", "cam-1", 3, candidate="other@1"))
    assert await trials.reports() == [
        _report("e3", "cam-1", 3, candidate="other@1"),
        _report("e2", "cam-2", 2),
        _report("e1", "cam-1", 1),
    ]
    assert [r.event_id for r in await trials.reports(camera_ids={"cam-1"})] == ["e3", "e1"]
    assert [r.event_id for r in await trials.reports(candidate="ssd@1")] == ["e2", "e1"]
    assert [r.event_id for r in await trials.reports(limit=1)] == ["e3"]
    assert await trials.reports(camera_ids=set()) == []


async def test_evaluations_round_trip_with_their_scores(store: Store) -> None:
    trials = store.db.model_trials
    queued = EvaluationRun("ev1", "yolov7-tiny@1", EvaluationState.QUEUED, "user:a", T0)
    await trials.add_evaluation(queued)
    await trials.add_evaluation(
        replace(queued, id="ev2", requested_at=T0 + timedelta(minutes=1), camera_ids=("c1",))
    )
    with pytest.raises(ConflictError):
        await trials.add_evaluation(queued)
    scores = EvaluationScores(
        0.8, 0.4, 0.9, 0.7, 12, (ClassScores("person", 0.8, 0.4, 0.9, 0.7, 30, 44),)
    )
    done = replace(
        queued, state=EvaluationState.DONE, finished_at=T0 + timedelta(hours=1), scores=scores
    )
    await trials.update_evaluation(done)
    assert await trials.evaluation("ev1") == done
    assert await trials.evaluation("nope") is None
    listed = await trials.evaluations()
    assert [r.id for r in listed] == ["ev2", "ev1"]
    assert listed[0].camera_ids == ("c1",)
    assert [r.id for r in await trials.evaluations(limit=1)] == ["ev2"]
    with pytest.raises(NotFoundError):
        await trials.update_evaluation(replace(queued, id="nope"))
