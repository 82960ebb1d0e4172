"""Workstation counters and their Prometheus exposition; the policy document and live policy.

Real objects throughout: a :class:`VerifyStats` fed analyses the way the hub
feeds it, exposed by the app's own :class:`ApiMetrics`; the sessions are real
:class:`VerifySession` objects; the live policy reads the in-memory settings
store. The clock is injected.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from argus.adapters.db.memory import MemoryDatabase
from argus.api.metrics import ApiMetrics
from argus.domain.errors import ValidationError
from argus.domain.faces import EnrolledFaces
from argus.domain.phone import PhoneRules
from argus.domain.verification import Action, Decision, Reason, VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.services.verification import Analysis
from argus.services.verify_pipeline import Frame, SessionState, VerifySession
from argus.services.verify_stats import STAGE_BUCKETS, StageHistogram, VerifyStats
from argus.services.workstation_policy import WORKSTATION_POLICY_KEY, LivePolicy, resolve_policy

DEFAULTS = (VerificationPolicy(), PhoneRules())


def _session(client_id: str, state: SessionState) -> VerifySession:
    client = VerifyClient(
        client_id, client_id, "0" * 64, ("s1",), datetime(2026, 12, 6, tzinfo=UTC)
    )
    session = VerifySession(client, EnrolledFaces.of({"s1": [[1.0, 0.0]]}), frame_queue=2)
    session.state = state
    return session


def _analysis(action: Action, *reasons: Reason, **stages: float) -> Analysis:
    return Analysis(Decision(action, reasons), None, None, None, stages=stages)


def _samples(metrics: ApiMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.render()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def test_histogram_buckets_are_cumulative_with_the_sum() -> None:
    histogram = StageHistogram()
    for seconds in (0.0005, 0.02, 0.02, 9.0, -1.0):
        histogram.observe(seconds)
    buckets = dict(histogram.cumulative())
    assert buckets["0.001"] == 2  # 0.0005 and the negative one (counted as 0)
    assert buckets["0.025"] == 4
    assert buckets[repr(STAGE_BUCKETS[-1])] == 4
    assert buckets["+Inf"] == 5
    assert histogram.total == pytest.approx(9.0405)


def test_the_exposition_names_labels_and_counts() -> None:
    sessions = [
        _session("a", SessionState.ASSIGNED),
        _session("b", SessionState.WAITING),
        _session("c", SessionState.CLOSED),
    ]
    now = [100.0]
    stats = VerifyStats(lambda: sessions, lambda: 2, clock=lambda: now[0])
    metrics = ApiMetrics()
    before = _samples(metrics)
    assert not any(name.startswith("argus_workstation_") for name, _ in before)
    metrics.workstations = stats
    stats.queue_depth = 1
    stats.registered = {"active": 3, "paused": 1, "blocked": 0}
    stats.dropped(2)

    async def decide() -> None:
        seen: list[Action] = []

        async def follow_up(_: VerifySession, __: Frame, analysis: Analysis) -> None:
            seen.append(analysis.decision.action)

        counted = stats.counting(follow_up)
        await counted(sessions[0], Frame(1, b"", 99.75), _analysis(Action.ALLOW, faces=0.02))
        lock = _analysis(Action.LOCK_SCREEN, Reason.WRONG_USER, faces=0.03, embed=0.004)
        await counted(sessions[0], Frame(2, b"", 99.5), lock)
        assert seen == [Action.ALLOW, Action.LOCK_SCREEN]

    asyncio.run(decide())
    samples = _samples(metrics)
    expected: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {
        ("argus_workstation_clients", (("state", "connected"),)): 2,
        ("argus_workstation_clients", (("state", "assigned"),)): 1,
        ("argus_workstation_clients", (("state", "waiting"),)): 1,
        ("argus_workstation_registered_clients", (("status", "active"),)): 3,
        ("argus_workstation_registered_clients", (("status", "paused"),)): 1,
        ("argus_workstation_registered_clients", (("status", "blocked"),)): 0,
        ("argus_workstation_queue_depth", ()): 1,
        ("argus_workstation_pipelines", ()): 2,
        ("argus_workstation_frames_analysed_total", ()): 2,
        ("argus_workstation_frames_dropped_total", ()): 2,
        ("argus_workstation_decisions_total", (("action", "allow"), ("reason", ""))): 1,
        (
            "argus_workstation_decisions_total",
            (("action", "lock_screen"), ("reason", "wrong_user")),
        ): 1,
        ("argus_workstation_stage_seconds_count", (("stage", "faces"),)): 2,
        ("argus_workstation_stage_seconds_sum", (("stage", "faces"),)): 0.05,
        ("argus_workstation_stage_seconds_count", (("stage", "embed"),)): 1,
        ("argus_workstation_stage_seconds_bucket", (("le", "0.005"), ("stage", "embed"))): 1,
        ("argus_workstation_decision_latency_seconds_count", ()): 2,
        ("argus_workstation_decision_latency_seconds_sum", ()): 0.75,
    }
    for key, value in expected.items():
        assert samples.get(key) == pytest.approx(value), key
    assert ("argus_workstation_stage_seconds_count", (("stage", "liveness"),)) not in samples


def test_camera_scoped_readers_see_no_workstation_series() -> None:
    metrics = ApiMetrics()
    metrics.workstations = VerifyStats(list, lambda: 0)
    body, _ = metrics.render(frozenset({"cam-1"}))
    assert b"argus_workstation_" not in body
    assert b"argus_workstation_clients" in metrics.render()[0]


# --- the stored policy document ------------------------------------------------------------


def test_a_document_sets_only_its_fields() -> None:
    policy = resolve_policy(
        {"verification": {"match_threshold": 0.5, "spoof_windows": 3.0}, "phone": {"window": 7}},
        DEFAULTS,
    )
    assert policy.verification.match_threshold == 0.5
    assert policy.verification.spoof_windows == 3
    assert isinstance(policy.verification.spoof_windows, int)
    assert policy.phone.window == 7
    assert policy.verification.no_face_seconds == DEFAULTS[0].no_face_seconds
    sources = policy.sources()
    assert sources["verification"]["match_threshold"] == "stored"
    assert sources["verification"]["liveness_threshold"] == "default"
    assert sources["phone"] == {
        "min_confidence": "default",
        "face_reach": "default",
        "window": "stored",
        "min_hits": "default",
    }
    assert resolve_policy(None, DEFAULTS).values() == resolve_policy({}, DEFAULTS).values()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"verification": {"phone_class": "remote"}}, "unknown field"),
        ({"phone": {"phone_class": "remote"}}, "unknown field"),
        ({"thresholds": {}}, "unknown policy group"),
        ({"verification": []}, "must be an object"),
        ({"verification": {"match_threshold": "0.5"}}, "must be a number"),
        ({"verification": {"match_threshold": True}}, "must be a number"),
        ({"verification": {"match_threshold": float("nan")}}, "finite"),
        ({"verification": {"wrong_user_frames": 2.5}}, "whole number"),
        ({"verification": {"liveness_threshold": 1.0}}, "liveness_threshold"),
        ({"verification": {"match_threshold": 0}}, "match threshold positive"),
        ({"phone": {"window": 2, "min_hits": 3}}, "min_hits <= window"),
    ],
    ids=[
        "unknown-verification-field",
        "class-names-not-editable",
        "unknown-group",
        "group-not-object",
        "string",
        "bool",
        "nan",
        "fractional-count",
        "liveness-out-of-range",
        "zero-threshold",
        "more-hits-than-frames",
    ],
)
def test_bad_documents_are_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        resolve_policy(document, DEFAULTS)


def test_a_live_policy_applies_changes_once_and_survives_a_broken_document(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = MemoryDatabase().settings
    applied: list[tuple[VerificationPolicy, PhoneRules]] = []
    live = LivePolicy(settings, DEFAULTS, lambda p, r: applied.append((p, r)))
    at = datetime(2026, 12, 6, tzinfo=UTC)

    async def run() -> None:
        await live.read_once()
        assert applied == []  # nothing stored: the defaults stay in force, nothing to apply
        await settings.put(WORKSTATION_POLICY_KEY, {"verification": {"spoof_windows": 4}}, at)
        await live.read_once()  # read already: not again
        assert applied == []
        await live.reload()
        await live.reload()
        assert [p.spoof_windows for p, _ in applied] == [4]
        await settings.put(WORKSTATION_POLICY_KEY, {"phone": {"min_hits": 9}}, at)
        await live.reload()
        assert live.current[0].spoof_windows == 4
        assert len(applied) == 1

    asyncio.run(run())
    assert "keeping the current one" in caplog.text
