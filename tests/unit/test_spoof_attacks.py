"""The simulated attack set: kinds, shapes, seeds, and the still media really not moving.

Rendered in memory from ``../shared/eval`` (skipped without it); a test that
needs the scene before the webcam passes the identity as the sensor.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import spoof_attacks as sa
from benchmarks._spoof_kinds import (
    cutout_mask,
    monitor_replay_attack,
    phone_replay_attack,
    print_attack,
    replay_attack,
)
from benchmarks._spoof_render import FRAME_SIZE, Image

pytestmark = pytest.mark.skipif(
    not (sa.EVAL_DIR / "media" / "short_hamilton_clip.mp4").is_file(),
    reason=f"shared evaluation media absent ({sa.EVAL_DIR})",
)


def _clean(image: Image, rng: np.random.Generator) -> Image:
    """No webcam: the rendered scene itself."""
    del rng
    return image


def _same(a: Image, b: Image) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


@pytest.fixture(scope="module")
def video() -> list[Image]:
    return list(sa.bona_fide_clips(3)[0].frames[:6])


@pytest.fixture(scope="module")
def scene() -> Image:
    return sa.backgrounds()[0]


@pytest.fixture(scope="module")
def photo() -> Image:
    return dict(sa.print_sources())["obama.jpg"]


def test_attack_kinds_and_seeds_are_declared_and_disjoint() -> None:
    assert sa.ATTACK_KINDS == (
        "print",
        "print_still",
        "print_cutout",
        "replay",
        "replay_still",
        "replay_bezel",
        "replay_phone",
    )
    assert set(sa.DEV_SEEDS) == {0, 1}
    assert set(sa.HELD_OUT_SEEDS) == {2, 3, 4}
    assert not set(sa.DEV_SEEDS) & set(sa.HELD_OUT_SEEDS)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown attack kind"):
        sa.attack_clips("mask", 0)


@pytest.mark.parametrize("kind", sa.ATTACK_KINDS)
def test_every_kind_gives_webcam_frames_deterministically_per_seed(kind: str) -> None:
    clips = sa.attack_clips(kind, 0, n_frames=1)
    assert len(clips) == sa.CLIPS_PER_SEED
    width, height = FRAME_SIZE
    for clip in clips:
        assert clip.kind == kind
        assert len(clip.frames) == 1
        assert all(f.shape == (height, width, 3) and f.dtype == np.uint8 for f in clip.frames)
    again = sa.attack_clips(kind, 0, n_frames=1)
    assert [c.name for c in again] == [c.name for c in clips]
    assert all(
        _same(a, b)
        for c, d in zip(clips, again, strict=True)
        for a, b in zip(c.frames, d.frames, strict=True)
    )
    held_out = sa.attack_clips(kind, sa.HELD_OUT_SEEDS[0], n_frames=1)
    assert not _same(held_out[0].frames[0], clips[0].frames[0])


def test_webcam_clips_are_the_real_videos_under_other_webcams() -> None:
    recorded = sa.bona_fide_clips(3)
    clips = sa.webcam_clips(2)
    assert len(clips) == sa.CLIPS_PER_SEED
    assert {c.kind for c in clips} == {"bona_fide"}
    assert [c.name.split(",")[0] for c in clips[:2]] == [c.name for c in recorded]
    assert len(clips[0].frames) in {len(recorded[0].frames) - 1, len(recorded[0].frames)}
    assert all(
        _same(a.frames[3], b.frames[3]) for a, b in zip(clips, sa.webcam_clips(2), strict=True)
    )
    assert not _same(clips[0].frames[0], sa.webcam_clips(0)[0].frames[0])


def test_a_print_held_still_does_not_move(photo: Image, scene: Image) -> None:
    frames = print_attack(photo, scene, seed=3, n_frames=4, still=True, sensor=_clean)
    assert all(_same(f, frames[0]) for f in frames[1:])
    moving = print_attack(photo, scene, seed=3, n_frames=4, sensor=_clean)
    assert not _same(moving[0], moving[3])


@pytest.mark.parametrize("bezel", [False, True], ids=["close-up", "bezel"])
def test_a_monitor_on_a_stand_changes_only_with_the_played_video(
    video: list[Image], scene: Image, bezel: bool
) -> None:
    a, b = video[0], video[5]
    frames = monitor_replay_attack([a, b, a, a], scene, seed=4, bezel=bezel, sensor=_clean)
    assert _same(frames[0], frames[2])  # same picture played: not one pixel moved
    assert _same(frames[2], frames[3])
    changed = np.any(frames[0] != frames[1], axis=2)
    assert changed.any()  # the video plays
    if bezel:  # the room around the monitor, left, right and above, never changes
        ys, xs = np.nonzero(changed)
        assert xs.min() > 0
        assert xs.max() < FRAME_SIZE[0] - 1
        assert ys.min() > 0


def test_the_hand_held_media_move_with_the_same_picture(video: list[Image], scene: Image) -> None:
    same = [video[0]] * 3
    for frames in (
        replay_attack(same, scene, seed=5, sensor=_clean),
        phone_replay_attack(same, scene, seed=5, sensor=_clean),
    ):
        assert not _same(frames[0], frames[2])


def test_the_phone_is_small_with_the_real_scene_around_it(video: list[Image], scene: Image) -> None:
    [frame] = phone_replay_attack(video[:1], scene, seed=6, sensor=_clean)
    untouched = np.all(frame == scene, axis=2)
    assert untouched.mean() > 0.5  # most of the frame is the real scene
    assert not untouched[FRAME_SIZE[1] // 2 - 40 : FRAME_SIZE[1] // 2 + 40].all()


def test_a_cutout_keeps_the_head_and_drops_the_sheet_around_it(photo: Image, scene: Image) -> None:
    mask = cutout_mask(photo, np.random.default_rng(0))
    assert mask.shape == photo.shape[:2]
    assert 0.05 < mask.mean() < 0.6
    assert mask[0, 0] == 0
    assert mask[-1, -1] == 0
    cut = print_attack(photo, scene, seed=7, n_frames=1, cutout=True, sensor=_clean)[0]
    whole = print_attack(photo, scene, seed=7, n_frames=1, sensor=_clean)[0]
    near_scene = np.abs(cut.astype(int) - scene).max(axis=2) < 12
    near_scene_whole = np.abs(whole.astype(int) - scene).max(axis=2) < 12
    assert near_scene.mean() > near_scene_whole.mean() + 0.1
