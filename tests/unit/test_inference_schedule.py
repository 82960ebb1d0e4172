"""The shared-detector policy: fair batches across cameras and the saturation governor."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from argus.domain.errors import ValidationError
from argus.domain.inference_schedule import BatchPolicy, InferenceRequest, SaturationGovernor

_ids = itertools.count()


def request(
    camera: str, *, images: int = 1, priority: bool = False, at: float = 0.0
) -> InferenceRequest:
    return InferenceRequest(next(_ids), camera, images, priority, at)


def cameras(batch: tuple[InferenceRequest, ...]) -> list[str]:
    return [r.camera_id for r in batch]


def test_round_robin_is_fair_across_three_cameras_with_unequal_queues() -> None:
    policy = BatchPolicy(max_batch=3, max_wait_s=100.0)
    for _ in range(12):
        policy.push(request("a"))
    for _ in range(3):
        policy.push(request("b"))
    policy.push(request("c"))
    first = policy.next_batch(0.0)
    assert cameras(first) == ["a", "b", "c"]
    served: Counter[str] = Counter(cameras(first))
    while len(policy):
        served.update(cameras(policy.next_batch(0.0)))
        if policy.pending_by_camera().keys() >= {"a", "b"}:
            # While both still have work neither is more than one request ahead.
            assert abs(served["a"] - served["b"]) <= 1
    assert served == {"a": 12, "b": 3, "c": 1}


def test_fifo_within_a_camera() -> None:
    policy = BatchPolicy(max_batch=2, max_wait_s=100.0)
    queued = [request("a", at=float(t)) for t in range(5)]
    for r in queued:
        policy.push(r)
    taken = [r for _ in range(3) for r in policy.next_batch(0.0)]
    assert taken == queued


def test_a_camera_with_many_images_does_not_crowd_out_others() -> None:
    policy = BatchPolicy(max_batch=4, max_wait_s=100.0)
    policy.push(request("busy", images=3))
    policy.push(request("busy", images=3))
    policy.push(request("quiet", images=1))
    assert cameras(policy.next_batch(0.0)) == ["busy", "quiet"]
    assert cameras(policy.next_batch(0.0)) == ["busy"]


@pytest.mark.parametrize(
    ("sizes", "max_batch"),
    [([1] * 10, 4), ([2, 3, 1, 2, 2], 4), ([5, 1, 1], 8), ([1, 1, 1], 1)],
    ids=["singles", "mixed", "roomy", "batch-of-one"],
)
def test_max_batch_is_respected(sizes: list[int], max_batch: int) -> None:
    policy = BatchPolicy(max_batch=max_batch, max_wait_s=100.0)
    for n, size in enumerate(sizes):
        policy.push(request(f"cam-{n % 3}", images=size))
    total = 0
    while len(policy):
        batch = policy.next_batch(0.0)
        assert 0 < sum(r.images for r in batch) <= max_batch
        total += sum(r.images for r in batch)
    assert total == sum(sizes)
    assert policy.pending_images == 0


def test_a_request_larger_than_max_batch_runs_alone() -> None:
    policy = BatchPolicy(max_batch=2, max_wait_s=100.0)
    policy.push(request("a", images=5))
    policy.push(request("b"))
    assert [r.images for r in policy.next_batch(0.0)] == [5]
    assert cameras(policy.next_batch(0.0)) == ["b"]


def test_priority_cameras_go_first() -> None:
    policy = BatchPolicy(max_batch=2, max_wait_s=100.0)
    policy.push(request("idle-1"))
    policy.push(request("idle-2"))
    policy.push(request("alert", priority=True))
    policy.push(request("tracks", priority=True))
    assert sorted(cameras(policy.next_batch(0.0))) == ["alert", "tracks"]
    assert sorted(cameras(policy.next_batch(0.0))) == ["idle-1", "idle-2"]


def test_a_priority_flood_cannot_starve_a_quiet_camera_beyond_max_wait() -> None:
    policy = BatchPolicy(max_batch=2, max_wait_s=1.0)
    policy.push(request("quiet", at=0.0))
    served_at = None
    for tick in range(20):
        now = tick * 0.25
        for camera in ("p1", "p2", "p3"):
            policy.push(request(camera, priority=True, at=now))
        if "quiet" in cameras(policy.next_batch(now)):
            served_at = now
            break
    # Served at the first batch after it became overdue, never later.
    assert served_at == 1.0


def test_overdue_requests_go_oldest_first_and_respect_max_batch() -> None:
    policy = BatchPolicy(max_batch=2, max_wait_s=1.0)
    policy.push(request("c", at=0.5))
    policy.push(request("a", at=0.0))
    policy.push(request("b", at=0.2))
    policy.push(request("p", priority=True, at=2.0))
    assert cameras(policy.next_batch(2.0)) == ["a", "b"]


def test_drain_returns_everything_oldest_first() -> None:
    policy = BatchPolicy(max_batch=2)
    policy.push(request("b", at=1.0))
    policy.push(request("a", at=0.0))
    assert cameras(tuple(policy.drain())) == ["a", "b"]
    assert len(policy) == 0
    assert policy.next_batch(5.0) == ()


@pytest.mark.parametrize(
    "kwargs", [{"max_batch": 0}, {"max_batch": 2, "max_wait_s": 0.0}], ids=["batch", "wait"]
)
def test_policy_rejects_bad_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        BatchPolicy(**kwargs)  # type: ignore[arg-type]


def test_requests_need_an_image() -> None:
    with pytest.raises(ValidationError, match="at least one image"):
        InferenceRequest(1, "a", 0, False, 0.0)


def governor_at(images_per_s: float, **kwargs: float) -> SaturationGovernor:
    """A governor that has measured ``images_per_s`` (utilisation 1 for round numbers)."""
    kwargs.setdefault("release_margin", 0.0)
    governor = SaturationGovernor(smoothing=1.0, utilisation=1.0, **kwargs)
    governor.record_batch(10, 10 / images_per_s)
    return governor


def test_every_camera_keeps_its_target_until_something_is_measured() -> None:
    governor = SaturationGovernor()
    governor.set_demand("a", 5.0)
    assert governor.capacity is None
    grant = governor.update(0.0)["a"]
    assert (grant.granted_fps, grant.reason) == (5.0, "ok")


def test_governor_shares_capacity_equally_when_demand_exceeds_it() -> None:
    governor = governor_at(12.0, min_fps=0.0)
    for camera in ("a", "b", "c", "d"):
        governor.set_demand(camera, 5.0)
    grants = governor.update(0.0)
    assert governor.saturated
    assert {c: g.granted_fps for c, g in grants.items()} == pytest.approx(
        {"a": 3.0, "b": 3.0, "c": 3.0, "d": 3.0}
    )
    assert {g.reason for g in grants.values()} == {"saturated"}


def test_priority_cameras_get_twice_the_share_and_everyone_keeps_a_floor() -> None:
    governor = governor_at(12.0, min_fps=1.0)
    governor.set_demand("alert", 5.0, priority=True)
    governor.set_demand("tracks", 5.0, priority=True)
    governor.set_demand("idle-1", 5.0)
    governor.set_demand("idle-2", 5.0)
    grants = governor.update(0.0)
    # Floors take 4 of 12 images/s; the other 8 go 2:2:1:1.
    assert grants["alert"].granted_fps == pytest.approx(1 + 8 / 3)
    assert grants["tracks"].granted_fps == pytest.approx(1 + 8 / 3)
    assert grants["idle-1"].granted_fps == pytest.approx(1 + 4 / 3)
    assert {g.reason for g in grants.values()} == {"saturated"}
    assert sum(g.granted_fps for g in grants.values()) == pytest.approx(12.0)


def test_a_priority_camera_at_its_target_leaves_the_rest_to_the_others() -> None:
    governor = governor_at(12.0, min_fps=0.0)
    governor.set_demand("alert", 3.0, priority=True)
    governor.set_demand("idle-1", 8.0)
    governor.set_demand("idle-2", 8.0)
    grants = governor.update(0.0)
    assert (grants["alert"].granted_fps, grants["alert"].reason) == (3.0, "ok")
    assert grants["idle-1"].granted_fps == pytest.approx(4.5)
    assert grants["idle-2"].granted_fps == pytest.approx(4.5)


def test_a_camera_without_tracks_is_not_starved_to_the_floor() -> None:
    """At a bare floor a camera could not confirm the tracks that win priority back."""
    governor = governor_at(20.0, min_fps=0.0)
    for camera in ("p1", "p2", "p3", "p4"):
        governor.set_demand(camera, 5.0, priority=True)
    for camera in ("q1", "q2", "q3", "q4"):
        governor.set_demand(camera, 5.0)
    grants = governor.update(0.0)
    assert grants["q1"].granted_fps == pytest.approx(20 / 12)
    assert grants["p1"].granted_fps == pytest.approx(40 / 12)


def test_priority_weight_is_at_least_one() -> None:
    with pytest.raises(ValidationError, match="priority_weight"):
        SaturationGovernor(priority_weight=0.5)


def test_max_min_fairness_gives_small_demands_all_they_ask() -> None:
    governor = governor_at(10.0, min_fps=0.0)
    governor.set_demand("slow", 1.0)
    governor.set_demand("fast-1", 8.0)
    governor.set_demand("fast-2", 8.0)
    grants = governor.update(0.0)
    assert grants["slow"].granted_fps == pytest.approx(1.0)
    assert grants["fast-1"].granted_fps == pytest.approx(4.5)
    assert grants["fast-2"].granted_fps == pytest.approx(4.5)


def test_regions_per_frame_count_against_capacity() -> None:
    governor = governor_at(12.0, min_fps=0.0)
    governor.set_demand("regions", 5.0, images_per_frame=2.0)
    governor.set_demand("full", 5.0)
    grants = governor.update(0.0)
    assert grants["regions"].granted_fps == pytest.approx(4.0)
    assert grants["full"].granted_fps == pytest.approx(4.0)


def saturated(governor: SaturationGovernor) -> bool:
    """Read the flag through a call, so the type checker does not narrow it between steps."""
    return governor.saturated


def test_saturation_hands_out_less_near_the_edge_and_ends_only_after_settling() -> None:
    governor = governor_at(10.0, release_margin=0.1, settle_s=5.0, min_fps=0.0)
    governor.set_demand("a", 6.0)
    governor.set_demand("b", 6.0)
    # 12 images/s asked of 10: 90 % of the demand is more than the capacity, so all of it.
    assert governor.update(0.0)["a"].granted_fps == pytest.approx(5.0)
    # Demand drops to 9.5 images/s: under capacity, but inside the margin: still lowered
    # to 90 % of the capacity.
    governor.set_demand("b", 3.5)
    grants = governor.update(1.0)
    assert grants["a"].granted_fps == pytest.approx(5.5)
    assert grants["a"].reason == "saturated"
    assert grants["b"].reason == "ok"
    # Below the margin (8.5 <= 9.0): every target fits, but the state waits settle_s.
    governor.set_demand("b", 2.5)
    assert governor.update(2.0)["a"].reason == "ok"
    assert governor.update(6.9)["a"].granted_fps == 6.0
    assert saturated(governor)
    # A blip back inside the margin lowers the grant again and restarts the settle time.
    governor.set_demand("b", 3.5)
    assert governor.update(7.0)["a"].granted_fps == pytest.approx(5.5)
    governor.set_demand("b", 2.5)
    governor.update(7.1)
    assert governor.update(12.0)["a"].granted_fps == 6.0
    assert saturated(governor)
    grants = governor.update(12.1)
    assert not saturated(governor)
    assert (grants["a"].granted_fps, grants["b"].granted_fps) == (6.0, 2.5)


def test_far_above_capacity_the_whole_capacity_is_handed_out() -> None:
    governor = governor_at(26.0, release_margin=0.1, min_fps=0.5)
    for camera in range(8):
        governor.set_demand(f"cam-{camera}", 5.0)
    grants = governor.update(0.0)
    assert sum(g.granted_fps for g in grants.values()) == pytest.approx(26.0)
    # Just above capacity (27.5 images/s asked of 26): 90 % of the demand, 24.75.
    governor.set_demand("cam-0", 0.0)
    governor.set_demand("cam-1", 0.0)
    governor.set_demand("cam-2", 2.5)
    grants = governor.update(1.0)
    assert sum(g.granted_fps for g in grants.values()) == pytest.approx(0.9 * 27.5)


def test_a_noisy_capacity_near_demand_does_not_flap() -> None:
    governor = governor_at(9.9, release_margin=0.1, settle_s=0.0, min_fps=0.0)
    governor.set_demand("a", 9.5)
    reasons = []
    for t, capacity in enumerate([9.3, 10.4, 9.6, 10.5, 9.4, 10.2]):
        governor.record_batch(10, 10 / capacity)
        reasons.append(governor.update(float(t))["a"].reason)
    assert reasons == ["saturated"] * 6


def test_capacity_is_a_moving_average_of_seconds_per_image() -> None:
    governor = SaturationGovernor(smoothing=0.5, utilisation=0.5)
    governor.record_batch(4, 0.4)  # 0.1 s per image
    governor.record_batch(2, 0.6)  # 0.3 s per image: average 0.2
    governor.record_batch(3, 0.0)  # ignored
    assert governor.capacity == pytest.approx(0.5 / 0.2)


def test_removed_cameras_free_their_share() -> None:
    governor = governor_at(10.0, min_fps=0.0, settle_s=0.0)
    governor.set_demand("a", 8.0)
    governor.set_demand("b", 8.0)
    assert governor.update(0.0)["a"].granted_fps == pytest.approx(5.0)
    governor.remove("b")
    assert governor.update(1.0)["a"].granted_fps == pytest.approx(8.0)
    assert "b" not in governor.grants()


def test_a_batch_limit_below_max_batch_leaves_the_rest_for_another_worker() -> None:
    policy = BatchPolicy(max_batch=8)
    for camera in "abcdefgh":
        policy.push(request(camera))
    first = policy.next_batch(0.0, limit=4)
    assert [r.camera_id for r in first] == ["a", "b", "c", "d"]
    assert policy.pending_images == 4
    assert len(policy.next_batch(0.0, limit=0)) == 1  # at least one image
    assert len(policy.next_batch(0.0, limit=100)) == 3  # never above max_batch
